package pqfile

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// DumpFile writes the content of the Parquet file at path as text; see Dump.
func DumpFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	if err := Dump(w, pf); err != nil {
		return fmt.Errorf("dump %s: %w", path, err)
	}
	return nil
}

// Dump writes every row of f as text, read through the file's own schema
// (not a Go row type), so that the text changes whenever a column is added,
// dropped, renamed, retyped or made nullable, or a value changes.
//
// The first line is the header: one tab-separated cell per leaf column, its
// dotted path and its type: the logical type when there is one (DECIMAL
// with its physical type, as "DECIMAL(18,2) INT64"), the physical type
// otherwise, followed by "nullable" or "repeated" when the column is. Then
// one line per row, in file order, tab-separated, each value formatted by
// its logical type:
//
//	DECIMAL      exact, with its scale: -1234.50
//	DATE         2025-01-31
//	TIMESTAMP    RFC 3339 in UTC: 2025-01-31T04:00:00.000001Z (no Z when
//	             the column is not adjusted to UTC)
//	TIME         15:04:05.000001
//	STRING       Go-quoted: "a\tb"
//	INT, BOOLEAN decimal, true/false
//	FLOAT/DOUBLE shortest representation that reads back exactly
//	BYTE_ARRAY   0x and hex
//	null         NULL
//
// A repeated column's cell lists the row's values in brackets; an entry
// without a value shows its definition level, as NULL(def=N).
func Dump(w io.Writer, f *parquet.File) error {
	schema := f.Schema()
	var cols []dumpColumn
	for _, path := range schema.Columns() {
		leaf, ok := schema.Lookup(path...)
		if !ok {
			return fmt.Errorf("column %s is not in the schema", strings.Join(path, "."))
		}
		cols = append(cols, newDumpColumn(path, leaf))
	}
	bw := bufio.NewWriter(w)
	for i, c := range cols {
		if i > 0 {
			bw.WriteByte('\t')
		}
		bw.WriteString(c.header)
	}
	bw.WriteByte('\n')

	cells := make([][]parquet.Value, len(cols))
	buf := make([]parquet.Row, 64)
	var line []byte
	for _, rg := range f.RowGroups() {
		rows := rg.Rows()
		for {
			n, err := rows.ReadRows(buf)
			for _, row := range buf[:n] {
				for i := range cells {
					cells[i] = cells[i][:0]
				}
				for _, v := range row {
					if c := v.Column(); c >= 0 && c < len(cells) {
						cells[c] = append(cells[c], v)
					}
				}
				line = line[:0]
				for i, c := range cols {
					if i > 0 {
						line = append(line, '\t')
					}
					line = c.appendCell(line, cells[i])
				}
				line = append(line, '\n')
				if _, err := bw.Write(line); err != nil {
					rows.Close()
					return err
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				rows.Close()
				return fmt.Errorf("read rows: %w", err)
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// dumpColumn knows how to print the values of one leaf column.
type dumpColumn struct {
	header string
	maxRep int
	maxDef int
	format func(b []byte, v parquet.Value) []byte
}

func newDumpColumn(path []string, leaf parquet.LeafColumn) dumpColumn {
	c := dumpColumn{maxRep: leaf.MaxRepetitionLevel, maxDef: leaf.MaxDefinitionLevel}
	name, format := typeFormat(leaf.Node.Type())
	c.header = strings.Join(path, ".") + " " + name
	switch {
	case c.maxRep > 0:
		c.header += " repeated"
	case c.maxDef > 0:
		c.header += " nullable"
	}
	c.format = format
	return c
}

// appendCell appends the text of one row's values of the column.
func (c *dumpColumn) appendCell(b []byte, vs []parquet.Value) []byte {
	if c.maxRep == 0 {
		if len(vs) != 1 || vs[0].DefinitionLevel() < c.maxDef || vs[0].IsNull() {
			return append(b, "NULL"...)
		}
		return c.format(b, vs[0])
	}
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ", "...)
		}
		if v.DefinitionLevel() < c.maxDef || v.IsNull() {
			b = append(b, "NULL(def="...)
			b = strconv.AppendInt(b, int64(v.DefinitionLevel()), 10)
			b = append(b, ')')
			continue
		}
		b = c.format(b, v)
	}
	return append(b, ']')
}

// typeFormat returns the header name of a leaf type and its formatter.
func typeFormat(t parquet.Type) (string, func([]byte, parquet.Value) []byte) {
	kind := t.Kind()
	var logical format.LogicalTypeValue
	if lt := t.LogicalType(); lt != nil {
		logical = lt.Value
	}
	switch lt := logical.(type) {
	case *format.StringType, *format.EnumType, *format.JsonType:
		return strings.ToUpper(lt.String()), appendQuoted
	case *format.DecimalType:
		name := fmt.Sprintf("DECIMAL(%d,%d) %s", lt.Precision, lt.Scale, kind)
		scale := int(lt.Scale)
		return name, func(b []byte, v parquet.Value) []byte { return appendDecimal(b, unscaled(v), scale) }
	case *format.DateType:
		return "DATE", func(b []byte, v parquet.Value) []byte {
			return time.Unix(int64(v.Int32())*86400, 0).UTC().AppendFormat(b, time.DateOnly)
		}
	case *format.TimestampType:
		unit, zone := lt.Unit.Value, "UTC"
		layout := time.RFC3339Nano
		if !lt.IsAdjustedToUTC {
			zone, layout = "LOCAL", "2006-01-02T15:04:05.999999999"
		}
		return fmt.Sprintf("TIMESTAMP(%s,%s)", &lt.Unit, zone), func(b []byte, v parquet.Value) []byte {
			return instant(v.Int64(), unit).AppendFormat(b, layout)
		}
	case *format.TimeType:
		unit, zone := lt.Unit.Value, "UTC"
		if !lt.IsAdjustedToUTC {
			zone = "LOCAL"
		}
		return fmt.Sprintf("TIME(%s,%s)", &lt.Unit, zone), func(b []byte, v parquet.Value) []byte {
			var d int64
			if kind == parquet.Int32 {
				d = int64(v.Int32())
			} else {
				d = v.Int64()
			}
			return instant(d, unit).AppendFormat(b, "15:04:05.999999999")
		}
	case *format.IntType:
		name := fmt.Sprintf("INT%d", lt.BitWidth)
		if !lt.IsSigned {
			name = "U" + name
		}
		return name, func(b []byte, v parquet.Value) []byte {
			switch {
			case kind == parquet.Int32 && lt.IsSigned:
				return strconv.AppendInt(b, int64(v.Int32()), 10)
			case kind == parquet.Int32:
				return strconv.AppendUint(b, uint64(v.Uint32()), 10)
			case lt.IsSigned:
				return strconv.AppendInt(b, v.Int64(), 10)
			default:
				return strconv.AppendUint(b, v.Uint64(), 10)
			}
		}
	case *format.UUIDType:
		return "UUID", func(b []byte, v parquet.Value) []byte {
			x := hex.EncodeToString(v.ByteArray())
			if len(x) != 32 {
				return append(b, "0x"+x...)
			}
			return append(b, x[0:8]+"-"+x[8:12]+"-"+x[12:16]+"-"+x[16:20]+"-"+x[20:]...)
		}
	case nil:
	default:
		return lt.String() + " " + kind.String(), appendPhysical
	}
	if kind == parquet.FixedLenByteArray {
		return fmt.Sprintf("%s(%d)", kind, t.Length()), appendPhysical
	}
	return kind.String(), appendPhysical
}

// appendPhysical formats a value by its physical type alone.
func appendPhysical(b []byte, v parquet.Value) []byte {
	switch v.Kind() {
	case parquet.Boolean:
		return strconv.AppendBool(b, v.Boolean())
	case parquet.Int32:
		return strconv.AppendInt(b, int64(v.Int32()), 10)
	case parquet.Int64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case parquet.Float:
		return strconv.AppendFloat(b, float64(v.Float()), 'g', -1, 32)
	case parquet.Double:
		return strconv.AppendFloat(b, v.Double(), 'g', -1, 64)
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return append(append(b, "0x"...), hex.EncodeToString(v.ByteArray())...)
	default:
		return append(b, v.String()...)
	}
}

func appendQuoted(b []byte, v parquet.Value) []byte {
	return strconv.AppendQuote(b, string(v.ByteArray()))
}

// instant returns the UTC time v units after the epoch (or midnight).
func instant(v int64, unit format.TimeUnitValue) time.Time {
	switch unit.(type) {
	case *format.MilliSeconds:
		return time.UnixMilli(v).UTC()
	case *format.NanoSeconds:
		return time.Unix(0, v).UTC()
	default:
		return time.UnixMicro(v).UTC()
	}
}

// unscaled returns a DECIMAL value's unscaled integer: INT32 and INT64 as
// they are, byte arrays as big-endian two's complement.
func unscaled(v parquet.Value) *big.Int {
	switch v.Kind() {
	case parquet.Int32:
		return big.NewInt(int64(v.Int32()))
	case parquet.Int64:
		return big.NewInt(v.Int64())
	}
	raw := v.ByteArray()
	n := new(big.Int).SetBytes(raw)
	if len(raw) > 0 && raw[0]&0x80 != 0 {
		n.Sub(n, new(big.Int).Lsh(big.NewInt(1), uint(8*len(raw))))
	}
	return n
}

// appendDecimal writes n × 10^−scale exactly, with scale digits after the
// point: 12345 at scale 2 is 123.45, −5 is −0.05.
func appendDecimal(b []byte, n *big.Int, scale int) []byte {
	digits := new(big.Int).Abs(n).String()
	if n.Sign() < 0 {
		b = append(b, '-')
	}
	if scale <= 0 {
		b = append(b, digits...)
		for range -scale {
			b = append(b, '0')
		}
		return b
	}
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	cut := len(digits) - scale
	b = append(b, digits[:cut]...)
	b = append(b, '.')
	return append(b, digits[cut:]...)
}
