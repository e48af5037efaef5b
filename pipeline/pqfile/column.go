package pqfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

const (
	// pageBytes is the size of values at which a page ends, and
	// maxPageRows the most rows a page holds (a column of NULLs has no
	// values): a night writes some 250 columns at once and each holds one
	// page uncompressed, so these bound the writer's memory (a scores file
	// is 3% larger than with pages of 64 KiB, 1% larger than parquet-go's
	// row writer writes it).
	pageBytes   = 32 << 10
	maxPageRows = 8 << 10
	// maxDictBytes and maxDictEntries bound a column chunk's dictionary
	// (its values PLAIN-encoded, and their number): past either the rest
	// of the chunk is written PLAIN, as Arrow and parquet-mr bound theirs.
	// The entries bound holds the hash table of a fixed-width column to
	// 1.5 MiB; at 64Ki entries an index still takes 16 bits or fewer.
	maxDictBytes   = 1 << 20
	maxDictEntries = 64 << 10
)

// column is the encoder of one column: the page being filled, and the
// pages, dictionary and statistics of the current row group's chunk.
type column struct {
	columnSpec

	// The page being filled.
	defs       []byte  // definition level of every row (optional columns)
	values     []byte  // values PLAIN-encoded (PLAIN pages)
	idx        []int32 // dictionary indexes (dictionary pages)
	pageRows   int
	nulls      int // NULLs in the page
	bits       int // booleans in values
	plainBytes int // the strings of a dictionary page, as PLAIN would take them

	// The chunk.
	fixedDict   *fixedTable      // a fixed-width value's bits → its index (nil until the first)
	stringDict  map[string]int32 // nil while the dictionary has at most smallStrings entries
	dictStrings []string         // the dictionary's strings, by index
	dictValues  []byte           // the dictionary, PLAIN-encoded
	dictLen     int
	// lastDictLen is the entries of the previous chunk's dictionary (or
	// of its first page's, when the chunk went PLAIN) that were hashed, by
	// which the next one's table or map is sized.
	lastDictLen int
	// The last value looked up and its index (lastID -1 for none): a run
	// of equal values is looked up once.
	lastKey uint64
	lastStr string
	lastID  int32
	// probing: the chunk's first page decides whether the chunk has a
	// dictionary (see probe); plain: it has none, or it outgrew its
	// bounds, and the pages are PLAIN to the chunk's end.
	probing, plain bool
	pages          chunkBuffer // the chunk's data pages, headers and snappy bodies
	numValues      int64
	nullCount      int64
	sizes          pageSizes
	plainPages     int32
	dictPages      int32
	// Bounds of the page (plo, phi) and of the chunk (lo, hi): fixed-width
	// values as their native bytes (the value stored at &lo), strings in
	// slo and shi, booleans as seen.
	pageHasBounds, hasBounds bool
	plo, phi, lo, hi         uint64
	slo, shi                 string
	pageFalse, pageTrue      bool
	anyFalse, anyTrue        bool
	mergeBounds              func(*column) // widens the chunk's bounds to the page's
	// The chunk's page index: the column index and the offset index,
	// its page offsets relative to the first data page.
	index     format.ColumnIndex
	offsets   format.OffsetIndex
	unindexed bool   // a page has values but no bounds (only NaNs)
	seen      []bool // dictionary entries of the page, while flushing it
}

// pageSizes are a chunk's bytes, headers included, before and after
// compression.
type pageSizes struct{ uncompressed, compressed int64 }

// pageEncoder holds the buffers every column of a file shares to encode
// a page: its body, the body compressed, and the header.
type pageEncoder struct {
	body   []byte
	z      []byte
	header bytes.Buffer
	enc    *thrift.Encoder
}

func newPageEncoder() *pageEncoder {
	pe := &pageEncoder{}
	pe.enc = thrift.NewEncoder((&thrift.CompactProtocol{}).NewWriter(&pe.header))
	return pe
}

// encodePage compresses body and returns the page's header and
// compressed body, valid until the next call.
func (pe *pageEncoder) encodePage(h *format.PageHeader, body []byte) (header, data []byte, err error) {
	if len(body) > math.MaxInt32 {
		return nil, nil, fmt.Errorf("%w: a page of %d bytes", ErrValueTooLarge, len(body))
	}
	pe.z = s2.EncodeSnappy(pe.z[:0], body)
	h.UncompressedPageSize = int32(len(body))
	h.CompressedPageSize = int32(len(pe.z))
	// The page checksum (CRC-32 of the compressed page, as the format
	// defines it): a reader that checks it refuses a damaged page instead
	// of decoding garbage.
	h.CRC = int32(crc32.ChecksumIEEE(pe.z))
	pe.header.Reset()
	if err := pe.enc.Encode(h); err != nil {
		return nil, nil, err
	}
	return pe.header.Bytes(), pe.z, nil
}

// width is the size of a fixed-width value, PLAIN-encoded.
func (c *column) width() int {
	if c.physical == format.Int32 || c.physical == format.Float {
		return 4
	}
	return 8
}

// probeDue reports whether the page being filled, the chunk's first, is
// as long as a PLAIN page of its values would be: the point at which
// probe decides.
func (c *column) probeDue() bool {
	if c.pageRows >= maxPageRows {
		return true
	}
	if c.kind == kindString {
		return c.plainBytes >= pageBytes
	}
	return (c.pageRows-c.nulls)*c.width() >= pageBytes
}

// probe decides whether the chunk is dictionary encoded, from its first
// page, whose values are all in the dictionary so far: unless its
// dictionary and indexes take at most half the bytes of its values PLAIN
// (not so for a unique key or a measure of continuous values), the page
// and the rest of the chunk are PLAIN, and the chunk has no dictionary. A
// dictionary that saves less than half costs more CPU in lookups (of a
// table too large for the cache) than the bytes it saves cost snappy and
// the disk. The decision depends on the values alone.
func (c *column) probe() {
	c.probing = false
	if len(c.idx) == 0 {
		return
	}
	plain := c.plainBytes
	if c.kind != kindString {
		plain = len(c.idx) * c.width()
	}
	if 2*(len(c.dictValues)+(len(c.idx)*indexWidth(c.dictLen)+7)/8) <= plain {
		return
	}
	c.plainValues()
	vals := c.values[:0]
	if c.kind == kindString {
		for _, id := range c.idx {
			s := c.dictStrings[id]
			vals = binary.LittleEndian.AppendUint32(vals, uint32(len(s)))
			vals = append(vals, s...)
		}
	} else {
		w := c.width()
		for _, id := range c.idx {
			vals = append(vals, c.dictValues[int(id)*w:int(id+1)*w]...)
		}
	}
	c.values = vals
	c.goPlain()
}

// goPlain makes the chunk PLAIN from its first page, which holds its
// values PLAIN: the chunk has no dictionary, and its table and the page
// buffer of indexes go back to their pools.
func (c *column) goPlain() {
	c.plain = true
	c.lastDictLen = c.hashedEntries() // the next chunk's first page likely as varied
	c.clearDictionary()
	c.releaseTable()
	c.releaseIndexes()
}

// releaseIndexes gives the page buffer of indexes back to its pool.
func (c *column) releaseIndexes() {
	putIndexes(c.idx)
	c.idx = nil
}

// plainValues readies the page buffer of PLAIN values, allocated when a
// chunk of the column first goes PLAIN and kept for the next chunks.
func (c *column) plainValues() {
	if cap(c.values) == 0 {
		c.values = make([]byte, 0, pageBytes+8)
	}
}

// indexWidth is the bit width of the indexes of a dictionary of n entries.
func indexWidth(n int) int {
	if n <= 1 {
		return 1
	}
	return bits.Len32(uint32(n - 1))
}

// addFixed adds the fixed-width value whose bits are key, not in the
// dictionary, to its values, and returns its index.
func (c *column) addFixed(key uint64, width int) int32 {
	id := int32(c.dictLen)
	c.dictLen++
	if width == 4 {
		c.dictValues = binary.LittleEndian.AppendUint32(c.dictValues, uint32(key))
	} else {
		c.dictValues = binary.LittleEndian.AppendUint64(c.dictValues, key)
	}
	return id
}

// lookup returns the dictionary index of the fixed-width value whose bits
// are key, adding it if it is new: an integer near the chunk's first value
// through the table's window, any other through its hash table. Indexes
// are given in the order values are first seen either way, so the chunk's
// bytes do not depend on which way a value went.
func (c *column) lookup(key uint64, width int) int32 {
	t := c.fixedDict
	if t.window != nil {
		if t.ascending {
			c.follow(key)
		}
		if d := key - t.base; d < windowSize {
			id := t.window[d]
			if id == 0 {
				id = c.addFixed(key, width) + 1
				t.window[d] = id
			}
			return id - 1
		}
	}
	id, found := t.find(key)
	if !found {
		id = c.addFixed(key, width)
		t.insert(key, id)
	}
	return id
}

// follow moves the window of a chunk whose keys have so far come in
// ascending order (sorted ids, in runs or not) on to key when key is past
// it: the values behind it never come again while the order holds, so
// they need neither the window nor the hash table. The first key out of
// order puts them in the hash table, and from then on the window stays
// where it is.
func (c *column) follow(key uint64) {
	t := c.fixedDict
	switch {
	case key < t.last:
		t.ascending = false
		for id := range t.out {
			t.insert(c.dictKey(id), id)
		}
		t.out = 0
	case key-t.base >= windowSize && key <= math.MaxUint64-windowSize: // a window that does not wrap
		clear(t.window[:])
		t.base, t.out = key, int32(c.dictLen)
	}
	t.last = key
}

// dictKey is the key of the dictionary's entry id.
func (c *column) dictKey(id int32) uint64 {
	if c.physical == format.Int32 {
		return uint64(binary.LittleEndian.Uint32(c.dictValues[4*id:]))
	}
	return binary.LittleEndian.Uint64(c.dictValues[8*id:])
}

// hashedEntries is how many of the dictionary's entries are hashed: those
// of a fixed-width column's table outside its window, every string.
func (c *column) hashedEntries() int {
	if c.fixedDict != nil {
		return c.fixedDict.n
	}
	return c.dictLen
}

// startDictionary readies the chunk's table for its first value, key.
func (c *column) startDictionary(key uint64) {
	if c.fixedDict == nil {
		c.acquireTable(key)
	} else {
		c.placeWindow(key)
	}
}

// acquireTable gives the column a table for its chunk's dictionary, from
// the pool, sized for as many entries as the previous chunk's had; an
// integer column's table has a window, placed around key, the chunk's
// first value.
func (c *column) acquireTable(key uint64) {
	t := fixedTables.Get().(*fixedTable)
	c.fixedDict = t
	c.dictValues, t.values = t.values[:0], nil
	t.reserve(c.lastDictLen)
	c.placeWindow(key)
}

// placeWindow readies the window of the chunk's table, around key, the
// chunk's first value, if the column's values are integers.
func (c *column) placeWindow(key uint64) {
	t := c.fixedDict
	switch {
	case windowed && (c.physical == format.Int32 || c.physical == format.Int64):
		if t.window == nil {
			if w, ok := windows.Get().(*[windowSize]int32); ok {
				t.window = w
			} else {
				t.window = new([windowSize]int32)
			}
		}
		t.base = key - windowSize/2
		t.ascending, t.last, t.out = true, key, 0
	default:
		if t.window != nil {
			windows.Put(t.window)
			t.window = nil
		}
	}
}

// releaseTable gives the chunk's table, and the buffer of its dictionary's
// values, back to the pool.
func (c *column) releaseTable() {
	if c.fixedDict == nil {
		return
	}
	t := c.fixedDict
	t.reset()
	t.values, c.dictValues = c.dictValues[:0], nil
	fixedTables.Put(t)
	c.fixedDict = nil
}

// clearDictionary empties the chunk's dictionary.
func (c *column) clearDictionary() {
	if c.fixedDict != nil {
		c.fixedDict.reset()
	}
	c.stringDict = nil
	clear(c.dictStrings)
	c.dictStrings = c.dictStrings[:0]
	c.dictValues = c.dictValues[:0]
	c.dictLen, c.lastKey, c.lastStr, c.lastID = 0, 0, "", -1
}

// pageFull reports whether the page being filled is complete: of
// maxPageRows rows, or of pageBytes of PLAIN values (booleans, strings,
// and fixed-width values while the chunk is PLAIN or probed; a
// fixed-width column's dictionary page ends by its rows). It depends on
// the values alone, so pages end at the same rows however the rows were
// split into Write calls.
func (c *column) pageFull() bool {
	return c.pageRows >= maxPageRows || len(c.values) >= pageBytes
}

// fixed is the Go types of fixed-width values and their physical types.
type fixed interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~int | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uint | ~float32 | ~float64
}

// physical is the Go types of INT32, INT64, FLOAT and DOUBLE values (INT32
// and INT64 unsigned when the field is, for their ordering).
type physical interface {
	int32 | int64 | uint32 | uint64 | float32 | float64
}

// appendPlain appends v as PLAIN encodes it: little-endian, 4 or 8 bytes.
func appendPlain[P physical](dst []byte, v P) []byte {
	if unsafe.Sizeof(v) == 4 {
		return binary.LittleEndian.AppendUint32(dst, *(*uint32)(unsafe.Pointer(&v)))
	}
	return binary.LittleEndian.AppendUint64(dst, *(*uint64)(unsafe.Pointer(&v)))
}

// putPlain writes v as PLAIN encodes it at the start of dst.
func putPlain[P physical](dst []byte, v P) {
	if unsafe.Sizeof(v) == 4 {
		binary.LittleEndian.PutUint32(dst, *(*uint32)(unsafe.Pointer(&v)))
	} else {
		binary.LittleEndian.PutUint64(dst, *(*uint64)(unsafe.Pointer(&v)))
	}
}

// rowsLeft is how many more rows of values width bytes each the page
// takes before it can be full or be probed: the rows up to then need no
// check.
func (c *column) rowsLeft(width int) int {
	k := maxPageRows - c.pageRows
	switch {
	case c.plain:
		k = min(k, (pageBytes-len(c.values)+width-1)/width)
	case c.probing:
		k = min(k, (pageBytes-(c.pageRows-c.nulls)*width+width-1)/width)
		if earlyProbe {
			k = min(k, doomedEntries(width)-c.dictLen)
		}
	}
	return max(1, k)
}

// doomedEntries is the number of entries at which the dictionary of a
// fixed-width column's first page can no longer pay: their values alone
// take more than half of pageBytes, the most its values PLAIN can take, so
// the probe would find the page PLAIN however it goes on. rowsLeft stops
// there (a row adds at most one entry), and the probe is made at once,
// sparing the rest of the page its lookups; the bytes are those the probe
// at the page's end would give.
func doomedEntries(width int) int { return pageBytes/(2*width) + 1 }

// probeDoomed reports whether the first page's dictionary of a
// fixed-width column can no longer pay (see doomedEntries).
func (c *column) probeDoomed(width int) bool {
	return earlyProbe && c.dictLen >= doomedEntries(width)
}

// earlyProbe is whether a doomed first page is probed at once; without it
// every first page is probed at its end, and the files are the same bytes
// (as a test checks).
var earlyProbe = true

// bitsOf returns the bits of v, the key of its dictionary entry.
func bitsOf[P physical](v P) uint64 {
	if unsafe.Sizeof(v) == 4 {
		return uint64(*(*uint32)(unsafe.Pointer(&v)))
	}
	return *(*uint64)(unsafe.Pointer(&v))
}

// writeFixed appends the column's values of n rows, the first at base and
// each stride bytes after the last, reading each field as a G and writing
// it as a P: PLAIN into the page's values, or, while the chunk has a
// dictionary, each value looked up (a run of equal values once) into the
// page's indexes.
func writeFixed[G fixed, P physical](c *column, pe *pageEncoder, base unsafe.Pointer, stride uintptr, n int) error {
	width := int(unsafe.Sizeof(P(0)))
	for i := 0; i < n; {
		k := min(n-i, c.rowsLeft(width))
		rows := unsafe.Add(base, uintptr(i)*stride)
		if c.plain {
			appendFixed[G, P](c, rows, stride, k)
		} else {
			indexFixed[G, P](c, rows, stride, k)
		}
		c.pageRows += k
		i += k
		if c.probing && (c.probeDue() || c.probeDoomed(width)) {
			c.probe()
		}
		if c.pageFull() {
			if err := c.flushPage(pe); err != nil {
				return err
			}
		}
	}
	return nil
}

// growDefs returns the page's definition levels with room for k more,
// and where they go.
func (c *column) growDefs(k int) []byte {
	n := len(c.defs)
	c.defs = slices.Grow(c.defs, k)[:n+k]
	return c.defs[n:]
}

// appendFixed appends k rows' values PLAIN to the page (see writeFixed),
// and widens its bounds.
func appendFixed[G fixed, P physical](c *column, rows unsafe.Pointer, stride uintptr, k int) {
	lo, hi := *(*P)(unsafe.Pointer(&c.plo)), *(*P)(unsafe.Pointer(&c.phi))
	have, off := c.pageHasBounds, c.offset
	width := int(unsafe.Sizeof(lo))
	start := len(c.values)
	vals := slices.Grow(c.values, k*width)[:start+k*width]
	m := start
	if !c.optional {
		for j := range k {
			v := P(*(*G)(unsafe.Add(rows, uintptr(j)*stride+off)))
			lo, hi, have = widen(v, lo, hi, have)
			putPlain(vals[m:], v)
			m += width
		}
	} else {
		defs := c.growDefs(k)
		for j := range k {
			p := *(*unsafe.Pointer)(unsafe.Add(rows, uintptr(j)*stride+off))
			if p == nil {
				defs[j] = 0
				continue
			}
			defs[j] = 1
			v := P(*(*G)(p))
			lo, hi, have = widen(v, lo, hi, have)
			putPlain(vals[m:], v)
			m += width
		}
		c.nulls += k - (m-start)/width
	}
	c.values = vals[:m]
	*(*P)(unsafe.Pointer(&c.plo)), *(*P)(unsafe.Pointer(&c.phi)), c.pageHasBounds = lo, hi, have
}

// indexFixed appends k rows' values to the page as dictionary indexes
// (see writeFixed), and widens its bounds.
func indexFixed[G fixed, P physical](c *column, rows unsafe.Pointer, stride uintptr, k int) {
	lo, hi := *(*P)(unsafe.Pointer(&c.plo)), *(*P)(unsafe.Pointer(&c.phi))
	have, off := c.pageHasBounds, c.offset
	width := int(unsafe.Sizeof(lo))
	start := len(c.idx)
	if cap(c.idx) == 0 {
		c.idx = getIndexes()
	}
	idx := slices.Grow(c.idx, k)[:start+k]
	lastKey, lastID := c.lastKey, c.lastID
	m := start
	if !c.optional {
		for j := range k {
			v := P(*(*G)(unsafe.Add(rows, uintptr(j)*stride+off)))
			lo, hi, have = widen(v, lo, hi, have)
			if key := bitsOf(v); key != lastKey || lastID < 0 {
				if c.dictLen == 0 {
					c.startDictionary(key)
				}
				lastID, lastKey = c.lookup(key, width), key
			}
			idx[m] = lastID
			m++
		}
	} else {
		defs := c.growDefs(k)
		for j := range k {
			p := *(*unsafe.Pointer)(unsafe.Add(rows, uintptr(j)*stride+off))
			if p == nil {
				defs[j] = 0
				continue
			}
			defs[j] = 1
			v := P(*(*G)(p))
			lo, hi, have = widen(v, lo, hi, have)
			if key := bitsOf(v); key != lastKey || lastID < 0 {
				if c.dictLen == 0 {
					c.startDictionary(key)
				}
				lastID, lastKey = c.lookup(key, width), key
			}
			idx[m] = lastID
			m++
		}
		c.nulls += k - (m - start)
	}
	c.idx, c.lastKey, c.lastID = idx[:m], lastKey, lastID
	*(*P)(unsafe.Pointer(&c.plo)), *(*P)(unsafe.Pointer(&c.phi)), c.pageHasBounds = lo, hi, have
}

// dictionaryFull reports whether the chunk's dictionary outgrew its
// bounds: the page being flushed keeps it, and the pages after it are
// PLAIN.
func (c *column) dictionaryFull() bool {
	return len(c.dictValues) > maxDictBytes || c.dictLen >= maxDictEntries
}

// widen returns the bounds lo and hi (none if not have) widened to v.
func widen[P physical](v, lo, hi P, have bool) (P, P, bool) {
	switch {
	case v != v: // NaN is never a bound
	case !have:
		return v, v, true
	case v < lo:
		lo = v
	case v > hi:
		hi = v
	}
	return lo, hi, have
}

// mergeFixed widens the chunk's bounds to the page's.
func mergeFixed[P physical](c *column) {
	if !c.pageHasBounds {
		return
	}
	plo, phi := *(*P)(unsafe.Pointer(&c.plo)), *(*P)(unsafe.Pointer(&c.phi))
	lo, hi := (*P)(unsafe.Pointer(&c.lo)), (*P)(unsafe.Pointer(&c.hi))
	if !c.hasBounds || plo < *lo {
		*lo = plo
	}
	if !c.hasBounds || phi > *hi {
		*hi = phi
	}
	c.hasBounds = true
}

// value records the definition level of the row at row and returns
// where its value is, nil for NULL.
func (c *column) value(row unsafe.Pointer) unsafe.Pointer {
	p := unsafe.Add(row, c.offset)
	if !c.optional {
		return p
	}
	if p = *(*unsafe.Pointer)(p); p == nil {
		c.defs = append(c.defs, 0)
		c.nulls++
		return nil
	}
	c.defs = append(c.defs, 1)
	return p
}

// endRow counts a row in the page and flushes the page if it is full.
func (c *column) endRow(pe *pageEncoder) error {
	c.pageRows++
	if !c.pageFull() {
		return nil
	}
	return c.flushPage(pe)
}

// writeBools appends the column's values of n rows (see writeFixed),
// bit-packed.
func writeBools(c *column, pe *pageEncoder, base unsafe.Pointer, stride uintptr, n int) error {
	for i := range n {
		if p := c.value(unsafe.Add(base, uintptr(i)*stride)); p != nil {
			if c.bits%8 == 0 {
				c.values = append(c.values, 0)
			}
			if *(*bool)(p) {
				c.values[len(c.values)-1] |= 1 << (c.bits % 8)
				c.pageTrue = true
			} else {
				c.pageFalse = true
			}
			c.bits++
		}
		if err := c.endRow(pe); err != nil {
			return err
		}
	}
	return nil
}

// smallStrings is the most entries a string dictionary has without a
// map: a string is looked up among them by its bytes, which for so few
// costs less than hashing it.
const smallStrings = 8

// writeStrings appends the column's values of n rows (see writeFixed).
// A value whose bytes are the previous row's, the same string of the
// caller's (a policy version, a code), is known to be equal without
// reading them: the rows do not change while Write runs, so within one
// call the same bytes hold the same value (a caller may reuse them for
// another value in its next Write).
func writeStrings(c *column, pe *pageEncoder, base unsafe.Pointer, stride uintptr, n int) error {
	var prev *byte // the previous row's bytes in this call, while they are lastStr's value
	prevLen := -1
	for i := range n {
		p := unsafe.Add(base, uintptr(i)*stride+c.offset)
		if c.optional {
			if p = *(*unsafe.Pointer)(p); p == nil {
				c.defs = append(c.defs, 0)
				c.nulls++
			} else {
				c.defs = append(c.defs, 1)
			}
		}
		overflow := false
		if p != nil {
			s := *(*string)(p)
			if len(s) > math.MaxInt32-4 {
				return fmt.Errorf("%w: column %s: a string of %d bytes", ErrValueTooLarge, c.name, len(s))
			}
			if !c.plain {
				c.plainBytes += 4 + len(s)
				// (prev is nil at a chunk's first value: a chunk starts in
				// a call of its own, so lastID is set when prev is.)
				id := c.lastID
				if len(s) != prevLen || unsafe.StringData(s) != prev {
					if id < 0 || s != c.lastStr {
						if id = c.findString(s); id < 0 {
							id = c.addString(s)
							overflow = c.dictionaryFull()
						}
						c.lastStr, c.lastID = c.dictStrings[id], id
					}
					prev, prevLen = unsafe.StringData(s), len(s)
				}
				if cap(c.idx) == 0 {
					c.idx = getIndexes()
				}
				c.idx = append(c.idx, id)
			} else {
				c.values = binary.LittleEndian.AppendUint32(c.values, uint32(len(s)))
				c.values = append(c.values, s...)
			}
		}
		c.pageRows++
		if c.probing && c.probeDue() {
			c.probe()
		}
		if overflow {
			c.plain = true
			c.plainValues()
		}
		if overflow || c.pageFull() {
			if err := c.flushPage(pe); err != nil {
				return err
			}
		}
	}
	return nil
}

// findString returns the dictionary index of s, -1 if it has none.
func (c *column) findString(s string) int32 {
	if c.stringDict != nil {
		if id, ok := c.stringDict[s]; ok {
			return id
		}
		return -1
	}
	for i, d := range c.dictStrings {
		if len(d) == len(s) && d == s {
			return int32(i)
		}
	}
	return -1
}

// addString adds s, not in the dictionary, to it and returns its index;
// past smallStrings entries the dictionary has a map of its strings.
func (c *column) addString(s string) int32 {
	s = strings.Clone(s)
	id := int32(c.dictLen)
	c.dictStrings = append(c.dictStrings, s)
	c.dictLen++
	if c.stringDict != nil {
		c.stringDict[s] = id
	} else if c.dictLen > smallStrings {
		c.stringDict = make(map[string]int32, max(2*c.dictLen, c.lastDictLen))
		for i, d := range c.dictStrings {
			c.stringDict[d] = int32(i)
		}
	}
	c.dictValues = binary.LittleEndian.AppendUint32(c.dictValues, uint32(len(s)))
	c.dictValues = append(c.dictValues, s...)
	return id
}

// stringPageBounds returns the bounds of the strings of the page being
// flushed, pointing into the page or the dictionary.
func (c *column) stringPageBounds() (lo, hi string, ok bool) {
	widen := func(v string) {
		switch {
		case !ok:
			lo, hi, ok = v, v, true
		case v < lo:
			lo = v
		case v > hi:
			hi = v
		}
	}
	if len(c.idx) > 0 {
		c.seen = append(c.seen[:0], make([]bool, c.dictLen)...)
		for _, id := range c.idx {
			if !c.seen[id] {
				c.seen[id] = true
				widen(c.dictStrings[id])
			}
		}
		return lo, hi, ok
	}
	for b := c.values; len(b) > 0; {
		n := binary.LittleEndian.Uint32(b)
		widen(unsafe.String(unsafe.SliceData(b[4:]), n))
		b = b[4+n:]
	}
	return lo, hi, ok
}

// write appends the column's values of n rows, the first at base and each
// stride bytes after the last.
func (c *column) write(pe *pageEncoder, base unsafe.Pointer, stride uintptr, n int) error {
	switch c.kind {
	case kindBool:
		return writeBools(c, pe, base, stride, n)
	case kindInt8:
		return writeFixed[int8, int32](c, pe, base, stride, n)
	case kindInt16:
		return writeFixed[int16, int32](c, pe, base, stride, n)
	case kindInt32:
		return writeFixed[int32, int32](c, pe, base, stride, n)
	case kindInt64:
		return writeFixed[int64, int64](c, pe, base, stride, n)
	case kindInt:
		return writeFixed[int, int64](c, pe, base, stride, n)
	case kindUint8:
		return writeFixed[uint8, uint32](c, pe, base, stride, n)
	case kindUint16:
		return writeFixed[uint16, uint32](c, pe, base, stride, n)
	case kindUint32:
		return writeFixed[uint32, uint32](c, pe, base, stride, n)
	case kindUint64:
		return writeFixed[uint64, uint64](c, pe, base, stride, n)
	case kindUint:
		return writeFixed[uint, uint64](c, pe, base, stride, n)
	case kindFloat32:
		return writeFixed[float32, float32](c, pe, base, stride, n)
	case kindFloat64:
		return writeFixed[float64, float64](c, pe, base, stride, n)
	case kindString:
		return writeStrings(c, pe, base, stride, n)
	}
	return fmt.Errorf("%w: column %s of kind %d", ErrRowType, c.name, c.kind)
}

// flushPage encodes the page being filled, if it has rows, onto the
// chunk's pages: data page v1, its definition levels RLE with a 4-byte
// length, its values PLAIN or, when it has dictionary indexes,
// RLE_DICTIONARY (their bit width, then RLE/bit-packed). Its NULLs and
// bounds go to the chunk's statistics and column index, its place to the
// offset index.
func (c *column) flushPage(pe *pageEncoder) error {
	if c.pageRows == 0 {
		return nil
	}
	overflow := c.kind != kindString && c.kind != kindBool && !c.plain && c.dictionaryFull()
	if c.probing {
		c.probe()
	}
	body := pe.body[:0]
	if c.optional {
		body = append(body, 0, 0, 0, 0)
		body = appendHybrid(body, c.defs, 1)
		binary.LittleEndian.PutUint32(body, uint32(len(body)-4))
	}
	encoding := format.Plain
	if len(c.idx) > 0 {
		encoding = format.RLEDictionary
		width := indexWidth(c.dictLen)
		body = append(body, byte(width))
		body = appendHybrid(body, c.idx, uint(width))
	} else {
		body = append(body, c.values...)
	}
	pe.body = body
	h := format.PageHeader{Type: format.DataPage, DataPageHeader: thrift.New(format.DataPageHeader{
		NumValues:               int32(c.pageRows),
		Encoding:                encoding,
		DefinitionLevelEncoding: format.RLE,
		RepetitionLevelEncoding: format.RLE,
		Statistics:              format.Statistics{NullCount: int64(c.nulls)},
	})}
	header, data, err := pe.encodePage(&h, body)
	if err != nil {
		return fmt.Errorf("column %s: %w", c.name, err)
	}
	c.indexPage(len(header) + len(data))
	c.pages.Write(header)
	c.pages.Write(data)
	c.sizes.uncompressed += int64(len(header) + len(body))
	c.sizes.compressed += int64(len(header) + len(data))
	if encoding == format.Plain {
		c.plainPages++
	} else {
		c.dictPages++
	}
	c.numValues += int64(c.pageRows)
	c.nullCount += int64(c.nulls)
	c.defs, c.values, c.idx = c.defs[:0], c.values[:0], c.idx[:0]
	c.pageRows, c.nulls, c.bits, c.plainBytes = 0, 0, 0, 0
	if overflow {
		c.plain = true
		c.plainValues()
	}
	if c.plain && c.idx != nil {
		c.releaseIndexes()
	}
	c.pageHasBounds, c.pageFalse, c.pageTrue = false, false, false
	return nil
}

// indexPage adds the page being flushed, of size bytes with its header,
// to the page index, and widens the chunk's bounds to its own.
func (c *column) indexPage(size int) {
	c.offsets.PageLocations = append(c.offsets.PageLocations, format.PageLocation{
		Offset: int64(c.pages.Len()), CompressedPageSize: int32(size), FirstRowIndex: c.numValues,
	})
	var lo, hi []byte
	bounded := false
	switch c.kind {
	case kindBool:
		if bounded = c.pageFalse || c.pageTrue; bounded {
			lo, hi = []byte{boolByte(!c.pageFalse)}, []byte{boolByte(c.pageTrue)}
			c.anyFalse, c.anyTrue = c.anyFalse || c.pageFalse, c.anyTrue || c.pageTrue
		}
	case kindString:
		var slo, shi string
		if slo, shi, bounded = c.stringPageBounds(); bounded {
			lo, hi = []byte(slo), []byte(shi)
			if !c.hasBounds || slo < c.slo {
				c.slo = strings.Clone(slo)
			}
			if !c.hasBounds || shi > c.shi {
				c.shi = strings.Clone(shi)
			}
			c.hasBounds = true
		}
	default:
		if bounded = c.pageHasBounds; bounded {
			lo, hi = c.boundBytes(c.plo, c.phi)
			c.mergeBounds(c)
		}
	}
	nullPage := c.nulls == c.pageRows
	if !bounded && !nullPage { // only NaNs: no bounds, so no column index
		c.unindexed = true
	}
	if lo == nil {
		lo, hi = []byte{}, []byte{}
	}
	c.index.NullPages = append(c.index.NullPages, nullPage)
	c.index.MinValues = append(c.index.MinValues, lo)
	c.index.MaxValues = append(c.index.MaxValues, hi)
	c.index.NullCounts = append(c.index.NullCounts, int64(c.nulls))
}

// boundBytes returns the PLAIN encoding of fixed-width bounds held as
// native bytes, a float zero as -0 when it is the lower bound and +0 when
// it is the upper, as the format orders them.
func (c *column) boundBytes(lo, hi uint64) (min, max []byte) {
	switch c.physical {
	case format.Float:
		l, h := *(*float32)(unsafe.Pointer(&lo)), *(*float32)(unsafe.Pointer(&hi))
		if l == 0 {
			l = float32(math.Copysign(0, -1))
		}
		if h == 0 {
			h = 0
		}
		return appendPlain(nil, l), appendPlain(nil, h)
	case format.Double:
		l, h := *(*float64)(unsafe.Pointer(&lo)), *(*float64)(unsafe.Pointer(&hi))
		if l == 0 {
			l = math.Copysign(0, -1)
		}
		if h == 0 {
			h = 0
		}
		return appendPlain(nil, l), appendPlain(nil, h)
	case format.Int32:
		return appendPlain(nil, *(*uint32)(unsafe.Pointer(&lo))), appendPlain(nil, *(*uint32)(unsafe.Pointer(&hi)))
	}
	return appendPlain(nil, lo), appendPlain(nil, hi)
}

// pageIndex is a column chunk's page index; column is nil when the chunk
// has none.
type pageIndex struct {
	column *format.ColumnIndex
	offset format.OffsetIndex
}

// writeChunk flushes the last page and writes the chunk to out: the
// dictionary page if any page uses it, then the data pages. It returns the
// chunk's metadata and page index, and readies the column for the next
// row group.
func (c *column) writeChunk(pe *pageEncoder, out *countWriter) (format.ColumnChunk, pageIndex, error) {
	if err := c.flushPage(pe); err != nil {
		return format.ColumnChunk{}, pageIndex{}, err
	}
	start := out.n
	md := format.ColumnMetaData{
		Type:         c.physical,
		PathInSchema: []string{c.name},
		Codec:        format.Snappy,
		NumValues:    c.numValues,
		Statistics:   c.statistics(),
	}
	sizes := c.sizes
	if c.dictPages > 0 {
		h := format.PageHeader{Type: format.DictionaryPage, DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{
			NumValues: int32(c.dictLen),
			Encoding:  format.Plain,
		})}
		header, data, err := pe.encodePage(&h, c.dictValues)
		if err != nil {
			return format.ColumnChunk{}, pageIndex{}, fmt.Errorf("column %s: dictionary: %w", c.name, err)
		}
		md.DictionaryPageOffset = start
		if _, err := out.Write(header); err != nil {
			return format.ColumnChunk{}, pageIndex{}, err
		}
		if _, err := out.Write(data); err != nil {
			return format.ColumnChunk{}, pageIndex{}, err
		}
		sizes.uncompressed += int64(len(header) + len(c.dictValues))
		sizes.compressed += int64(len(header) + len(data))
		md.EncodingStats = append(md.EncodingStats, format.PageEncodingStats{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1})
		md.EncodingStats = append(md.EncodingStats, format.PageEncodingStats{PageType: format.DataPage, Encoding: format.RLEDictionary, Count: c.dictPages})
		md.Encoding = append(md.Encoding, format.Plain, format.RLEDictionary)
	}
	if c.plainPages > 0 {
		md.EncodingStats = append(md.EncodingStats, format.PageEncodingStats{PageType: format.DataPage, Encoding: format.Plain, Count: c.plainPages})
		md.Encoding = append(md.Encoding, format.Plain)
	}
	if c.optional {
		md.Encoding = append(md.Encoding, format.RLE)
	}
	slices.Sort(md.Encoding)
	md.Encoding = slices.Compact(md.Encoding)
	slices.SortFunc(md.EncodingStats, func(a, b format.PageEncodingStats) int {
		if a.PageType != b.PageType {
			return int(a.PageType) - int(b.PageType)
		}
		return int(a.Encoding) - int(b.Encoding)
	})
	md.DataPageOffset = out.n
	if _, err := c.pages.WriteTo(out); err != nil {
		return format.ColumnChunk{}, pageIndex{}, err
	}
	md.TotalUncompressedSize, md.TotalCompressedSize = sizes.uncompressed, sizes.compressed
	idx := pageIndex{offset: c.offsets}
	for i := range idx.offset.PageLocations {
		idx.offset.PageLocations[i].Offset += md.DataPageOffset
	}
	if !c.unindexed {
		ci := c.index
		idx.column = &ci
	}
	c.reset()
	return format.ColumnChunk{FileOffset: start, MetaData: md}, idx, nil
}

// statistics returns the chunk's statistics: its NULLs, and its bounds
// by the column's ordering (signed or unsigned integers, floats without
// NaN, bytes unsigned, false before true), PLAIN-encoded.
func (c *column) statistics() format.Statistics {
	st := format.Statistics{NullCount: c.nullCount}
	switch {
	case c.kind == kindBool:
		if c.anyFalse || c.anyTrue {
			st.MinValue, st.MaxValue = []byte{boolByte(!c.anyFalse)}, []byte{boolByte(c.anyTrue)}
		}
	case !c.hasBounds:
	case c.kind == kindString:
		st.MinValue, st.MaxValue = append([]byte{}, c.slo...), append([]byte{}, c.shi...)
	default:
		st.MinValue, st.MaxValue = c.boundBytes(c.lo, c.hi)
	}
	return st
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// reset readies the column for a new chunk, keeping its page buffers
// and its dictionary's table, emptied; a chunk that had none gives its
// table back to the pool (see goPlain).
func (c *column) reset() {
	if c.dictLen > 0 {
		c.lastDictLen = c.hashedEntries()
	}
	c.clearDictionary()
	c.plain, c.probing = false, c.kind != kindBool && !c.dict
	c.numValues, c.nullCount, c.sizes = 0, 0, pageSizes{}
	c.plainPages, c.dictPages = 0, 0
	c.hasBounds, c.lo, c.hi, c.slo, c.shi, c.anyFalse, c.anyTrue = false, 0, 0, "", "", false, false
	c.index = format.ColumnIndex{}
	c.offsets = format.OffsetIndex{}
	c.unindexed = false
}

// newColumn returns the encoder of a column. Its page buffers are
// allocated as its values need them (a table of a few rows holds a few
// bytes), the buffer of dictionary indexes from a pool.
func newColumn(spec columnSpec) *column {
	c := &column{columnSpec: spec, lastID: -1, probing: spec.kind != kindBool && !spec.dict}
	switch spec.kind {
	case kindInt8, kindInt16, kindInt32:
		c.mergeBounds = mergeFixed[int32]
	case kindUint8, kindUint16, kindUint32:
		c.mergeBounds = mergeFixed[uint32]
	case kindInt64, kindInt:
		c.mergeBounds = mergeFixed[int64]
	case kindUint64, kindUint:
		c.mergeBounds = mergeFixed[uint64]
	case kindFloat32:
		c.mergeBounds = mergeFixed[float32]
	case kindFloat64:
		c.mergeBounds = mergeFixed[float64]
	}
	return c
}

// release gives the column's blocks, table and buffer of indexes back to
// their pools.
func (c *column) release() {
	c.pages.release()
	c.releaseTable()
	c.releaseIndexes()
}

// indexBuffers pools the page buffers of dictionary indexes, each of
// maxPageRows.
var indexBuffers sync.Pool

// getIndexes returns an empty buffer of maxPageRows indexes.
func getIndexes() []int32 {
	if b, ok := indexBuffers.Get().(*[]int32); ok {
		return (*b)[:0]
	}
	return make([]int32, 0, maxPageRows)
}

// putIndexes gives b to the pool if it is of maxPageRows.
func putIndexes(b []int32) {
	if cap(b) == maxPageRows {
		indexBuffers.Put(&b)
	}
}

// fixedTable maps the bits of fixed-width values to their dictionary
// indexes without allocating per value: open addressing with linear
// probing over a power-of-two number of slots, at most three quarters
// full, the slot chosen by the high bits of a Fibonacci hash. A slot is
// in use when its generation is the table's, so that emptying the table
// for the next chunk touches no slot; tables are pooled between writers.
//
// An integer column's table has a window besides: windowSize indexes
// (plus one, 0 for none) of the values from base on, set by the chunk's
// first value, so that dates, days, counts and scores near it are looked
// up by their offset without hashing; while the chunk's values ascend (a
// child table's account ids), the window follows them (column.follow).
type fixedTable struct {
	slots  []slot
	shift  uint   // 64 - log2(len(slots))
	gen    uint32 // the generation of the slots in use, never 0
	n      int
	window *[windowSize]int32 // nil for floats
	base   uint64
	// While the chunk's keys come in ascending order (ascending, last
	// the latest), the window follows them, and the entries below out
	// were left behind it, in neither the window nor the slots.
	ascending bool
	last      uint64
	out       int32
	// values is the buffer of the dictionary's values while the table is
	// in the pool.
	values []byte
}

type slot struct {
	key uint64
	id  int32
	gen uint32
}

// windowSize is the number of values a table's window covers.
const windowSize = 2048

// windowed is whether integer columns' tables have a window; without it
// every value goes through the hash table, and the files are the same
// bytes (as a test checks).
var windowed = true

var fixedTables = sync.Pool{New: func() any { return &fixedTable{gen: 1} }}

// windows pools the windows (empty) of tables given to float columns.
var windows sync.Pool

// find returns the index of key, if the table has it.
func (t *fixedTable) find(key uint64) (int32, bool) {
	mask := len(t.slots) - 1
	for i := int((key * 0x9e3779b97f4a7c15) >> t.shift); mask >= 0; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.gen != t.gen {
			break
		}
		if s.key == key {
			return s.id, true
		}
	}
	return 0, false
}

// insert returns the index of key, adding it as id if it is not there,
// and whether it was.
func (t *fixedTable) insert(key uint64, id int32) (int32, bool) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	mask := len(t.slots) - 1
	for i := int((key * 0x9e3779b97f4a7c15) >> t.shift); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.gen != t.gen {
			*s = slot{key: key, id: id, gen: t.gen}
			t.n++
			return id, false
		}
		if s.key == key {
			return s.id, true
		}
	}
}

// grow doubles the slots (256 at first) and places the keys again.
func (t *fixedTable) grow() { t.resize(max(256, 2*len(t.slots))) }

// reserve sizes the slots for n keys, if they are fewer.
func (t *fixedTable) reserve(n int) {
	size := max(256, len(t.slots))
	for 4*n > 3*size {
		size *= 2
	}
	if size > len(t.slots) && n > 0 {
		t.resize(size)
	}
}

// resize makes size slots, a power of two, and places the keys again.
func (t *fixedTable) resize(size int) {
	old, gen := t.slots, t.gen
	t.slots, t.gen = make([]slot, size), 1
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	mask := size - 1
	for _, s := range old {
		if s.gen != gen {
			continue
		}
		i := int((s.key * 0x9e3779b97f4a7c15) >> t.shift)
		for t.slots[i].gen == t.gen {
			i = (i + 1) & mask
		}
		t.slots[i] = slot{key: s.key, id: s.id, gen: t.gen}
	}
}

// reset empties the table, keeping its slots.
func (t *fixedTable) reset() {
	t.n = 0
	if t.window != nil {
		clear(t.window[:])
	}
	if t.gen++; t.gen == 0 { // the generations wrapped: every slot is stale again
		clear(t.slots)
		t.gen = 1
	}
}
