package source

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// This file writes test datasets the way other writers do. A table holds
// logical rows in the domain's units (fen, millionths, microseconds, days);
// a form says how one column is stored physically.

// table is a dataset's logical rows: each cell is nil (null), int64, string
// or bool.
type table struct {
	cols []string
	rows [][]any
}

// tsUnit is a timestamp's stored unit.
type tsUnit uint8

const (
	micros tsUnit = iota
	millis
	nanos
	int96
)

// form is how a test file stores a column.
type form struct {
	phys     parquet.Type
	lt       schema.LogicalType
	flen     int
	div      int64 // stored = logical / div (decimals with a smaller scale)
	ts       tsUnit
	isTS     bool
	required bool
}

func strForm() form  { return form{phys: parquet.Types.ByteArray, lt: schema.StringLogicalType{}} }
func rawForm() form  { return form{phys: parquet.Types.ByteArray} }
func enumForm() form { return form{phys: parquet.Types.ByteArray, lt: schema.EnumLogicalType{}} }
func i64Form() form  { return form{phys: parquet.Types.Int64} }
func i32Form() form  { return form{phys: parquet.Types.Int32} }
func boolForm() form { return form{phys: parquet.Types.Boolean} }
func dateForm() form { return form{phys: parquet.Types.Int32, lt: schema.DateLogicalType{}} }
func tsForm(u tsUnit) form {
	if u == int96 {
		return form{phys: parquet.Types.Int96, ts: int96, isTS: true}
	}
	unit := map[tsUnit]schema.TimeUnitType{micros: schema.TimeUnitMicros, millis: schema.TimeUnitMillis, nanos: schema.TimeUnitNanos}[u]
	return form{phys: parquet.Types.Int64, lt: schema.NewTimestampLogicalType(true, unit), ts: u, isTS: true}
}

// decForm stores a decimal of the given precision and scale; div converts
// the logical unscaled value (at the contract's scale) to the stored one.
func decForm(phys parquet.Type, precision, scale int32, flen int, div int64) form {
	return form{phys: phys, lt: schema.NewDecimalLogicalType(precision, scale), flen: flen, div: div}
}

func (f form) node(t testing.TB, name string) schema.Node {
	t.Helper()
	rep := parquet.Repetitions.Optional
	if f.required {
		rep = parquet.Repetitions.Required
	}
	lt := f.lt
	if lt == nil {
		lt = schema.NoLogicalType{}
	}
	flen := -1
	if f.phys == parquet.Types.FixedLenByteArray {
		flen = f.flen
	}
	n, err := schema.NewPrimitiveNodeLogical(name, rep, lt, f.phys, flen, -1)
	if err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	return n
}

// writeParquet writes tb to path with arrow-go's low-level writer, one form
// per column, rowGroup rows per row group.
func writeParquet(t testing.TB, path string, tb table, forms map[string]form, rowGroup int, opts ...parquet.WriterProperty) {
	t.Helper()
	fields := make(schema.FieldList, len(tb.cols))
	for i, c := range tb.cols {
		fields[i] = forms[c].node(t, c)
	}
	root, err := schema.NewGroupNode("schema", parquet.Repetitions.Required, fields, -1)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	w := file.NewParquetWriter(out, root, file.WithWriterProps(parquet.NewWriterProperties(opts...)))
	if rowGroup <= 0 {
		rowGroup = max(len(tb.rows), 1)
	}
	for start := 0; start < len(tb.rows) || start == 0; start += rowGroup {
		rows := tb.rows[start:min(start+rowGroup, len(tb.rows))]
		rg, err := w.AppendRowGroupChecked()
		if err != nil {
			t.Fatal(err)
		}
		for c, name := range tb.cols {
			cw, err := rg.NextColumn()
			if err != nil {
				t.Fatal(err)
			}
			writeColumn(t, cw, forms[name], rows, c)
			if err := cw.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := rg.Close(); err != nil {
			t.Fatal(err)
		}
		if len(tb.rows) == 0 {
			break
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeColumn(t testing.TB, cw file.ColumnChunkWriter, f form, rows [][]any, c int) {
	t.Helper()
	var defs []int16
	var present []any
	for _, r := range rows {
		if r[c] == nil {
			if f.required {
				t.Fatalf("null in required column %d", c)
			}
			defs = append(defs, 0)
			continue
		}
		defs = append(defs, 1)
		present = append(present, r[c])
	}
	if f.required {
		defs = nil
	}
	var err error
	switch w := cw.(type) {
	case *file.BooleanColumnChunkWriter:
		v := make([]bool, len(present))
		for i, x := range present {
			v[i] = x.(bool)
		}
		_, err = w.WriteBatch(v, defs, nil)
	case *file.Int32ColumnChunkWriter:
		v := make([]int32, len(present))
		for i, x := range present {
			v[i] = int32(f.stored(x.(int64)))
		}
		_, err = w.WriteBatch(v, defs, nil)
	case *file.Int64ColumnChunkWriter:
		v := make([]int64, len(present))
		for i, x := range present {
			v[i] = f.stored(x.(int64))
		}
		_, err = w.WriteBatch(v, defs, nil)
	case *file.Int96ColumnChunkWriter:
		v := make([]parquet.Int96, len(present))
		for i, x := range present {
			v[i] = toInt96(x.(int64))
		}
		_, err = w.WriteBatch(v, defs, nil)
	case *file.ByteArrayColumnChunkWriter:
		v := make([]parquet.ByteArray, len(present))
		for i, x := range present {
			if s, ok := x.(string); ok {
				v[i] = parquet.ByteArray(s)
			} else if b, ok := x.([]byte); ok { // a decimal's raw bytes
				v[i] = b
			} else {
				v[i] = twosComplement(f.stored(x.(int64)), 0)
			}
		}
		_, err = w.WriteBatch(v, defs, nil)
	case *file.FixedLenByteArrayColumnChunkWriter:
		v := make([]parquet.FixedLenByteArray, len(present))
		for i, x := range present {
			if b, ok := x.([]byte); ok { // a decimal's raw bytes
				v[i] = b
				continue
			}
			v[i] = twosComplement(f.stored(x.(int64)), f.flen)
		}
		_, err = w.WriteBatch(v, defs, nil)
	default:
		t.Fatalf("unexpected writer %T", cw)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// stored converts a logical value to what the form stores.
func (f form) stored(v int64) int64 {
	if f.isTS {
		switch f.ts {
		case millis:
			return v / 1000
		case nanos:
			return v * 1000
		}
		return v
	}
	if f.div > 1 {
		return v / f.div
	}
	return v
}

// twosComplement encodes v big-endian in n bytes (0: as few as possible).
func twosComplement(v int64, n int) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	if n == 0 {
		n = 8
		for n > 1 && (b[8-n] == 0 && b[9-n]&0x80 == 0 || b[8-n] == 0xff && b[9-n]&0x80 != 0) {
			n--
		}
		return append([]byte(nil), b[8-n:]...)
	}
	out := make([]byte, n)
	ext := byte(0)
	if v < 0 {
		ext = 0xff
	}
	for i := range out {
		out[i] = ext
	}
	copy(out[max(n-8, 0):], b[max(8-n, 0):])
	return out
}

func toInt96(us int64) parquet.Int96 {
	days := floorDiv(us, microsPerDay)
	nanosOfDay := (us - days*microsPerDay) * 1000
	var v parquet.Int96
	binary.LittleEndian.PutUint64(v[:8], uint64(nanosOfDay))
	binary.LittleEndian.PutUint32(v[8:], uint32(days+julianUnixEpoch))
	return v
}

// arrowKind is the Arrow type pqarrow is given for a contract column.
func arrowType(k kind) arrow.DataType {
	switch k {
	case kString:
		return arrow.BinaryTypes.String
	case kInt64:
		return arrow.PrimitiveTypes.Int64
	case kInt32:
		return arrow.PrimitiveTypes.Int32
	case kBool:
		return arrow.FixedWidthTypes.Boolean
	case kDate:
		return arrow.FixedWidthTypes.Date32
	case kMoney:
		return &arrow.Decimal128Type{Precision: 18, Scale: 2}
	case kRate:
		return &arrow.Decimal128Type{Precision: 9, Scale: 6}
	case kTimestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}
	}
	panic("unknown kind")
}

// writeArrow writes tb to path through pqarrow, the way an Arrow-based
// writer (pyarrow, arrow-go) does, chunk rows per row group.
func writeArrow(t testing.TB, path string, tb table, cols []column, chunk int64, props []parquet.WriterProperty, aprops ...pqarrow.WriterOption) {
	t.Helper()
	kinds := map[string]kind{}
	for _, c := range cols {
		kinds[c.name] = c.kind
	}
	fields := make([]arrow.Field, len(tb.cols))
	for i, c := range tb.cols {
		fields[i] = arrow.Field{Name: c, Type: arrowType(kinds[c]), Nullable: true}
	}
	sc := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for _, r := range tb.rows {
		for i, x := range r {
			fb := b.Field(i)
			if x == nil {
				fb.AppendNull()
				continue
			}
			switch fb := fb.(type) {
			case *array.StringBuilder:
				fb.Append(x.(string))
			case *array.Int64Builder:
				fb.Append(x.(int64))
			case *array.Int32Builder:
				fb.Append(int32(x.(int64)))
			case *array.BooleanBuilder:
				fb.Append(x.(bool))
			case *array.Date32Builder:
				fb.Append(arrow.Date32(x.(int64)))
			case *array.Decimal128Builder:
				fb.Append(decimal128.FromI64(x.(int64)))
			case *array.TimestampBuilder:
				fb.Append(arrow.Timestamp(x.(int64)))
			default:
				t.Fatalf("builder %T", fb)
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	tbl := array.NewTableFromRecords(sc, []arrow.RecordBatch{rec})
	defer tbl.Release()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if err := pqarrow.WriteTable(tbl, out, chunk, parquet.NewWriterProperties(props...), pqarrow.NewArrowWriterProperties(aprops...)); err != nil {
		t.Fatal(err)
	}
}

// micro returns the instant y-m-d h:mi:s UTC in microseconds.
func micro(y int, m time.Month, d, h, mi, s int) int64 {
	return time.Date(y, m, d, h, mi, s, 0, time.UTC).UnixMicro()
}
