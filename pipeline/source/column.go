package source

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"time"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/creditrun/creditrun/billing"
)

// colData is one column of one row group, decoded to the contract's domain:
// integers, dates, fen, millionths and microseconds in i64, booleans in b,
// strings as data[off[i]:off[i+1]].
type colData struct {
	n    int
	null []bool // nil when no row is null
	bad  []bool // nil when every value converted; true where it did not fit
	// raw holds, for the rows in bad, the value as the file has it, for
	// the reject's detail.
	raw  map[int]string
	i64  []int64
	b    []bool
	off  []int32
	data []byte
}

// state is what a row holds in a column.
type state uint8

const (
	present state = iota
	absent        // null
	invalid       // present but out of the contract type's range
)

// isNull reports whether row i is null: null holds a flag for the rows up to
// the last batch that had a null, rows beyond it are not null (bad alike).
func (c *colData) isNull(i int) bool { return i < len(c.null) && c.null[i] }

// num returns row i of a numeric column.
func (c *colData) num(i int) (int64, state) {
	switch {
	case c.isNull(i):
		return 0, absent
	case i < len(c.bad) && c.bad[i]:
		return 0, invalid
	}
	return c.i64[i], present
}

// bytes returns row i of a string column; an empty string counts as null.
func (c *colData) bytes(i int) ([]byte, bool) {
	if c.isNull(i) {
		return nil, false
	}
	s := c.data[c.off[i]:c.off[i+1]]
	return s, len(s) > 0
}

func (c *colData) reset(k kind, hint int) {
	c.n = 0
	c.null = c.null[:0]
	c.bad = nil
	c.raw = nil
	hint = min(hint, chunkRows) // the row count comes from the footer: do not trust it for allocation
	switch k {
	case kString:
		c.off = append(c.off[:0], 0)
		c.data = c.data[:0]
	case kBool:
		c.b = slicesGrow(c.b[:0], hint)
	default:
		c.i64 = slicesGrow(c.i64[:0], hint)
	}
}

func slicesGrow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s
}

func (c *colData) markBad(i int, raw string) {
	if len(c.bad) <= i {
		c.bad = append(c.bad, make([]bool, i+1-len(c.bad))...)
	}
	c.bad[i] = true
	if c.raw == nil {
		c.raw = map[int]string{}
	}
	c.raw[i] = raw
}

// rawText is the value of row i that did not convert, as the file has it.
func (c *colData) rawText(i int) string { return c.raw[i] }

const batchSize = 4096

// scratch holds one reader's batch buffers.
type scratch struct {
	defs  []int16
	i32   []int32
	i64   []int64
	i96   []parquet.Int96
	bools []bool
	ba    []parquet.ByteArray
	flba  []parquet.FixedLenByteArray
}

func newScratch() *scratch {
	return &scratch{
		defs:  make([]int16, batchSize),
		i32:   make([]int32, batchSize),
		i64:   make([]int64, batchSize),
		i96:   make([]parquet.Int96, batchSize),
		bools: make([]bool, batchSize),
		ba:    make([]parquet.ByteArray, batchSize),
		flba:  make([]parquet.FixedLenByteArray, batchSize),
	}
}

// readColumn decodes the next nrows rows of cr, column b, into c.
func readColumn(cr file.ColumnChunkReader, b *binding, nrows int64, c *colData, s *scratch) (err error) {
	c.reset(b.kind, int(nrows))
	var defs []int16
	if b.maxDef > 0 {
		defs = s.defs
	}
	for int64(c.n) < nrows {
		want := min(batchSize, nrows-int64(c.n))
		var (
			total int64
			nv    int
		)
		switch r := cr.(type) {
		case *file.BooleanColumnChunkReader:
			total, nv, err = r.ReadBatch(want, s.bools, defs, nil)
		case *file.Int32ColumnChunkReader:
			total, nv, err = r.ReadBatch(want, s.i32, defs, nil)
		case *file.Int64ColumnChunkReader:
			total, nv, err = r.ReadBatch(want, s.i64, defs, nil)
		case *file.Int96ColumnChunkReader:
			total, nv, err = r.ReadBatch(want, s.i96, defs, nil)
		case *file.ByteArrayColumnChunkReader:
			total, nv, err = r.ReadBatchInPage(want, s.ba, defs, nil)
		case *file.FixedLenByteArrayColumnChunkReader:
			total, nv, err = r.ReadBatchInPage(want, s.flba, defs, nil)
		default:
			return fmt.Errorf("%w: unexpected %s column reader", ErrCorrupt, cr.Type())
		}
		if err != nil {
			return err
		}
		if total <= 0 || total > want || nv < 0 || int64(nv) > total {
			return fmt.Errorf("%w: column %s ends after %d of %d rows", ErrCorrupt, cr.Descriptor().Name(), c.n, nrows)
		}
		start := c.n
		if err := c.levels(defs, b.maxDef, int(total), nv); err != nil {
			return fmt.Errorf("column %s: %w", cr.Descriptor().Name(), err)
		}
		c.fill(b, s, start)
	}
	return nil
}

// levels appends total rows to c, marking the nulls that defs say.
func (c *colData) levels(defs []int16, maxDef int16, total, nv int) error {
	if maxDef > 0 && nv < total {
		if len(c.null) < c.n {
			c.null = append(c.null, make([]bool, c.n-len(c.null))...)
		}
		k := 0
		for _, d := range defs[:total] {
			null := d < maxDef
			if !null {
				k++
			}
			c.null = append(c.null, null)
		}
		if k != nv {
			return fmt.Errorf("%w: %d values for %d defined levels", ErrCorrupt, nv, k)
		}
	} else {
		if nv != total {
			return fmt.Errorf("%w: %d values for %d rows", ErrCorrupt, nv, total)
		}
	}
	c.n += total
	return nil
}

// fill converts the values of the last batch into the rows from start.
func (c *colData) fill(b *binding, s *scratch, start int) {
	k := 0
	for i := start; i < c.n; i++ {
		if c.isNull(i) {
			switch b.kind {
			case kString:
				c.off = append(c.off, int32(len(c.data)))
			case kBool:
				c.b = append(c.b, false)
			default:
				c.i64 = append(c.i64, 0)
			}
			continue
		}
		if b.kind == kString {
			c.data = append(c.data, s.ba[k]...)
			c.off = append(c.off, int32(len(c.data)))
			k++
			continue
		}
		if b.kind == kBool {
			c.b = append(c.b, s.bools[k])
			k++
			continue
		}
		v, ok := convert(b, s, k)
		if !ok {
			c.markBad(i, rawValue(b, s, k))
			v = 0
		}
		k++
		c.i64 = append(c.i64, v)
	}
}

// convert returns value k of the batch in the contract's unit; false when
// it does not fit.
func convert(b *binding, s *scratch, k int) (int64, bool) {
	var v int64
	switch b.phys {
	case parquet.Types.Int32:
		v = int64(s.i32[k])
		if b.unsigned {
			v = int64(uint32(s.i32[k]))
		}
	case parquet.Types.Int64:
		v = s.i64[k]
		if b.unsigned && v < 0 {
			return 0, false
		}
	case parquet.Types.Int96:
		return int96Micros(s.i96[k])
	case parquet.Types.FixedLenByteArray:
		var ok bool
		if v, ok = bigEndian(s.flba[k]); !ok {
			return 0, false
		}
	case parquet.Types.ByteArray:
		var ok bool
		if v, ok = bigEndian(s.ba[k]); !ok {
			return 0, false
		}
	default:
		return 0, false
	}
	if b.div > 1 {
		v = floorDiv(v, b.div)
	}
	if b.mul > 1 {
		if v > math.MaxInt64/b.mul || v < math.MinInt64/b.mul {
			return 0, false
		}
		v *= b.mul
	}
	switch b.kind {
	case kInt32:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return 0, false
		}
	case kMoney:
		if v < -maxFen || v > maxFen {
			return 0, false
		}
	case kRate:
		if v < -maxMillionths || v > maxMillionths {
			return 0, false
		}
	case kTimestamp:
		if b.zone != nil {
			return wallToUTC(v, b.zone)
		}
	}
	return v, true
}

// The contract's exact limits: DECIMAL(18,2) holds 18 digits of fen,
// DECIMAL(9,6) 9 digits of millionths. A value beyond them is out of range
// whatever the file's physical type or declared precision.
const (
	maxFen        = int64(billing.MaxMoney)         // 9 999 999 999 999 999.99
	maxMillionths = int64(billing.MaxDisclosedRate) // 999.999999
)

// wallToUTC converts a wall-clock time in zone (microseconds since the
// epoch of that wall clock, as a timestamp without time zone stores it) to
// the instant, in microseconds since the epoch. A wall time that a
// daylight-saving change skips or repeats is resolved as time.Date does.
func wallToUTC(wall int64, zone *time.Location) (int64, bool) {
	const maxWall = 253402300799_000000 // 9999-12-31T23:59:59Z: beyond, the calendar is out of range
	if wall < -maxWall || wall > maxWall {
		return 0, false
	}
	t := time.UnixMicro(wall).UTC()
	y, mo, d := t.Date()
	h, mi, sec := t.Clock()
	return time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), zone).UnixMicro(), true
}

// rawValue formats value k of the batch as the file stores it: the
// unscaled integer with the file's decimal scale, or the integer.
func rawValue(b *binding, s *scratch, k int) string {
	v := new(big.Int)
	switch b.phys {
	case parquet.Types.Int32:
		v.SetInt64(int64(s.i32[k]))
		if b.unsigned {
			v.SetUint64(uint64(uint32(s.i32[k])))
		}
	case parquet.Types.Int64:
		v.SetInt64(s.i64[k])
		if b.unsigned {
			v.SetUint64(uint64(s.i64[k]))
		}
	case parquet.Types.Int96:
		return fmt.Sprintf("INT96 %x", s.i96[k][:])
	case parquet.Types.FixedLenByteArray:
		twos(v, s.flba[k])
	case parquet.Types.ByteArray:
		if len(s.ba[k]) == 0 {
			return "empty decimal"
		}
		if len(s.ba[k]) > 64 {
			return fmt.Sprintf("a %d-byte decimal", len(s.ba[k]))
		}
		twos(v, s.ba[k])
	default:
		return "?"
	}
	if b.scale <= 0 {
		return v.String()
	}
	neg := v.Sign() < 0
	digits := new(big.Int).Abs(v).String()
	for len(digits) <= int(b.scale) {
		digits = "0" + digits
	}
	out := digits[:len(digits)-int(b.scale)] + "." + digits[len(digits)-int(b.scale):]
	if neg {
		out = "-" + out
	}
	return out
}

// twos sets v to the big-endian two's complement integer p.
func twos(v *big.Int, p []byte) {
	v.SetBytes(p)
	if len(p) > 0 && p[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(p))))
	}
}

// bigEndian decodes a big-endian two's complement integer (a Parquet
// decimal's unscaled value); false when it is empty or exceeds int64.
func bigEndian(p []byte) (int64, bool) {
	if len(p) == 0 {
		return 0, false
	}
	if len(p) > 8 {
		ext := byte(0)
		if p[len(p)-8]&0x80 != 0 {
			ext = 0xff
		}
		for _, x := range p[:len(p)-8] {
			if x != ext {
				return 0, false
			}
		}
		p = p[len(p)-8:]
	}
	v := int64(int8(p[0]))
	for _, x := range p[1:] {
		v = v<<8 | int64(x)
	}
	return v, true
}

const (
	julianUnixEpoch = 2_440_588
	microsPerDay    = 86_400_000_000
	nanosPerDay     = 86_400_000_000_000
)

// int96Micros converts a legacy INT96 timestamp (nanoseconds of the day,
// then the Julian day, little-endian) to microseconds since the epoch.
func int96Micros(v parquet.Int96) (int64, bool) {
	nanos := binary.LittleEndian.Uint64(v[:8])
	days := int64(binary.LittleEndian.Uint32(v[8:])) - julianUnixEpoch
	if nanos >= nanosPerDay || days > math.MaxInt64/microsPerDay-1 || days < math.MinInt64/microsPerDay+1 {
		return 0, false
	}
	return days*microsPerDay + int64(nanos/1000), true
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
