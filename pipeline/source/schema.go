package source

import (
	"fmt"
	"time"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// kind is a contract column type.
type kind uint8

const (
	kString    kind = iota // STRING
	kInt64                 // INT64
	kInt32                 // INT32
	kBool                  // BOOLEAN
	kDate                  // DATE
	kMoney                 // DECIMAL(18,2), read as fen
	kRate                  // DECIMAL(9,6), read as millionths
	kTimestamp             // TIMESTAMP(MICROS, UTC), read as microseconds
)

func (k kind) String() string {
	return [...]string{"STRING", "INT64", "INT32", "BOOLEAN", "DATE", "DECIMAL(18,2)", "DECIMAL(9,6)", "TIMESTAMP(MICROS, UTC)"}[k]
}

// targetScale is the decimal scale a numeric kind is converted to.
func (k kind) targetScale() int32 {
	switch k {
	case kMoney:
		return 2
	case kRate:
		return 6
	}
	return 0
}

// column is a contract column of a dataset.
type column struct {
	name string
	kind kind
}

// binding says how to read one contract column from one file.
type binding struct {
	leaf     int // leaf column index in the file
	maxDef   int16
	phys     parquet.Type
	kind     kind
	mul      int64 // decimals: 10^(target scale − file scale); timestamps: to micros (1000 for millis)
	div      int64 // timestamps in nanoseconds: 1000
	unsigned bool  // integers annotated as unsigned
	local    bool  // a timestamp without time zone (isAdjustedToUTC=false)
	scale    int32 // decimals: the file's scale
	// zone is, for a timestamp without time zone, the zone its wall times
	// were written in (Rules.LocalTimestamps); nil for instants.
	zone *time.Location
}

// bind checks a file's schema against the dataset's columns and returns how
// to read each of them.
func bind(path string, sch *schema.Schema, cols []column, naive *time.Location) ([]binding, error) {
	root := sch.Root()
	out := make([]binding, len(cols))
	for i, c := range cols {
		idx := root.FieldIndexByName(c.name)
		if idx < 0 {
			return nil, &SchemaError{File: path, Column: c.name, Expected: c.kind.String(), Found: "missing"}
		}
		node := root.Field(idx)
		b, found, ok := bindNode(node, c.kind)
		if !ok {
			return nil, &SchemaError{File: path, Column: c.name, Expected: c.kind.String(), Found: found}
		}
		if b.local {
			if naive == nil {
				return nil, &SchemaError{File: path, Column: c.name, Expected: c.kind.String(), Found: found,
					Hint: "timestamp without time zone; set billing.local_timestamps_zone in the policy to the zone it was written in"}
			}
			b.zone = naive
		}
		b.leaf = sch.ColumnIndexByNode(node)
		if b.leaf < 0 {
			return nil, &SchemaError{File: path, Column: c.name, Expected: c.kind.String(), Found: found}
		}
		b.maxDef = sch.Column(b.leaf).MaxDefinitionLevel()
		out[i] = b
	}
	return out, nil
}

// bindNode decides whether node can represent kind k; found describes the
// node's type for an error message.
func bindNode(node schema.Node, k kind) (b binding, found string, ok bool) {
	p, isPrim := node.(*schema.PrimitiveNode)
	if !isPrim {
		found = "group"
		if lt := node.LogicalType(); lt != nil && lt.IsValid() && !lt.IsNone() {
			found = "group " + lt.String()
		}
		return b, found, false
	}
	phys := p.PhysicalType()
	lt := p.LogicalType()
	found = describe(p)
	if p.RepetitionType() == parquet.Repetitions.Repeated {
		return b, "repeated " + found, false
	}
	b = binding{phys: phys, kind: k, mul: 1, div: 1}
	none := lt == nil || lt.IsNone()
	switch k {
	case kString:
		if phys != parquet.Types.ByteArray {
			return b, found, false
		}
		switch lt.(type) {
		case nil, schema.NoLogicalType, schema.StringLogicalType, schema.EnumLogicalType:
			return b, found, true
		}
		return b, found, false
	case kBool:
		return b, found, phys == parquet.Types.Boolean && none
	case kDate:
		_, isDate := lt.(schema.DateLogicalType)
		return b, found, phys == parquet.Types.Int32 && isDate
	case kTimestamp:
		if phys == parquet.Types.Int96 {
			return b, found, none
		}
		ts, isTS := lt.(schema.TimestampLogicalType)
		if phys != parquet.Types.Int64 || !isTS {
			return b, found, false
		}
		b.local = !ts.IsAdjustedToUTC()
		switch ts.TimeUnit() {
		case schema.TimeUnitMillis:
			b.mul = 1000
		case schema.TimeUnitMicros:
		case schema.TimeUnitNanos:
			b.div = 1000
		default:
			return b, found, false
		}
		return b, found, true
	case kInt32, kInt64, kMoney, kRate:
		if dec, isDec := lt.(schema.DecimalLogicalType); isDec {
			switch phys {
			case parquet.Types.Int32, parquet.Types.Int64, parquet.Types.FixedLenByteArray, parquet.Types.ByteArray:
			default:
				return b, found, false
			}
			scale := dec.Scale()
			if scale < 0 || scale > k.targetScale() {
				return b, found, false
			}
			b.mul = pow10[k.targetScale()-scale]
			b.scale = scale
			return b, found, true
		}
		if k == kMoney || k == kRate {
			return b, found, false
		}
		if phys != parquet.Types.Int32 && phys != parquet.Types.Int64 {
			return b, found, false
		}
		switch t := lt.(type) {
		case nil, schema.NoLogicalType:
		case schema.IntLogicalType:
			b.unsigned = !t.IsSigned()
		default:
			return b, found, false
		}
		return b, found, true
	}
	return b, found, false
}

var pow10 = [...]int64{1, 10, 100, 1000, 10000, 100000, 1000000}

// describe names a primitive node's type the way the contract does.
func describe(p *schema.PrimitiveNode) string {
	s := p.PhysicalType().String()
	if p.PhysicalType() == parquet.Types.FixedLenByteArray {
		s = fmt.Sprintf("FIXED_LEN_BYTE_ARRAY(%d)", p.TypeLength())
	}
	switch lt := p.LogicalType().(type) {
	case nil, schema.NoLogicalType:
	case schema.DecimalLogicalType:
		s += fmt.Sprintf(" DECIMAL(%d,%d)", lt.Precision(), lt.Scale())
	case schema.StringLogicalType:
		s += " STRING"
	case schema.DateLogicalType:
		s += " DATE"
	case schema.TimestampLogicalType:
		unit := map[schema.TimeUnitType]string{schema.TimeUnitMillis: "MILLIS", schema.TimeUnitMicros: "MICROS", schema.TimeUnitNanos: "NANOS"}[lt.TimeUnit()]
		zone := "local"
		if lt.IsAdjustedToUTC() {
			zone = "UTC"
		}
		s += fmt.Sprintf(" TIMESTAMP(%s, %s)", unit, zone)
	case schema.IntLogicalType:
		sign := "unsigned"
		if lt.IsSigned() {
			sign = "signed"
		}
		s += fmt.Sprintf(" INT(%d, %s)", lt.BitWidth(), sign)
	default:
		s += " " + lt.String()
	}
	return s
}
