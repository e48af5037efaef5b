package pqfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strings"

	"github.com/klauspost/compress/snappy"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// A Chunk decodes the values of one column chunk of a flat file straight
// from its bytes into typed slices, without parquet-go's Value: the path
// the state takes to read back the tables this package wrote.
//
// It decodes what this package writes and nothing more: data pages v1,
// uncompressed or snappy; BOOLEAN, INT32, INT64 and BYTE_ARRAY columns,
// PLAIN or dictionary-encoded (RLE_DICTIONARY, and PLAIN pages after the
// dictionary in the same chunk); RLE/bit-packed definition levels of a
// top-level optional column. A chunk with anything else in it (another
// codec or encoding, page v2, a nested column, encryption) is
// ErrChunkUnsupported, for the caller to read another way, known at Open
// before any value is decoded; a chunk that does not add up (sizes,
// counts, checksums, dictionary indices) is an error, never a misread.
//
// The chunk is read through an io.ReaderAt in ranges of Window bytes or
// more, each holding whole pages: one read for a chunk that fits, a few
// for a larger one, so that memory is a window per open column.
type Chunk struct {
	// Window is the size of the reads: a chunk larger than Window is read
	// in ranges of about Window bytes (at least a page each). 0 reads
	// every chunk whole. A chunk whose footer does not list the encodings
	// of its pages (its encoding stats) is read whole, so that every page
	// header is checked before the first value.
	Window int

	name     string
	typ      format.Type
	optional bool
	codec    format.CompressionCodec

	r          io.ReaderAt
	start, end int64  // the chunk's bytes in the file
	buf        []byte // bytes of the file from bufAt
	bufAt      int64
	off        int64 // where the next page's header starts in the file
	values     int64 // values of the data pages opened so far
	numValues  int64 // values of the chunk, as its footer says
	left       int64 // values not read yet

	dict     bool // the chunk has a dictionary page
	dictI32  []int32
	dictI64  []int64
	dictStr  []string
	dictSize int

	// The open page.
	page   []byte // decompressed page, reused
	levels []byte // definition level of each value; nil for a required column
	vals   []byte // the values section
	idx    []int32
	n, i   int  // values in the page, values read
	pos    int  // bytes of vals read (PLAIN) or indices read (dictionary)
	bit    int  // booleans read
	byDict bool // the page holds dictionary indices

	proto   thrift.CompactProtocol
	reader  thrift.BytesReader
	decoder *thrift.Decoder
	header  format.PageHeader
}

// pageRef is a page of the chunk as its header describes it.
type pageRef struct {
	typ          format.PageType
	values       int
	encoding     format.Encoding
	at           int64 // where its header starts in the file
	body         int   // where its (compressed) body starts in buf
	size         int   // compressed size
	uncompressed int
	crc          uint32
}

// ErrChunkUnsupported is a column chunk that Chunk does not decode (a
// codec, encoding, page kind or column shape this package does not write).
var ErrChunkUnsupported = errors.New("column chunk not decoded by the direct path")

// errCorrupt is a chunk whose bytes do not add up.
var errCorrupt = errors.New("corrupt column chunk")

// Open opens column chunk cc of the file behind r and checks what it
// holds; optional says whether the column is a top-level optional one
// (definition level 1) rather than required. c's buffers are reused. It
// returns an error wrapping ErrChunkUnsupported for a chunk it does not
// decode, leaving c unusable until the next Open.
func (c *Chunk) Open(r io.ReaderAt, cc *format.ColumnChunk, optional bool) (err error) {
	md := &cc.MetaData
	c.name = strings.Join(md.PathInSchema, ".")
	c.typ, c.optional, c.codec, c.r = md.Type, optional, md.Codec, r
	c.n, c.i, c.values, c.left, c.numValues = 0, 0, 0, 0, md.NumValues
	c.dict, c.dictSize = false, 0
	switch {
	case cc.FilePath != "":
		return fmt.Errorf("column %s: in another file: %w", c.name, ErrChunkUnsupported)
	case cc.CryptoMetadata.Value != nil || len(cc.EncryptedColumnMetadata) > 0:
		return fmt.Errorf("column %s: encrypted: %w", c.name, ErrChunkUnsupported)
	case len(md.PathInSchema) != 1:
		return fmt.Errorf("column %s: nested: %w", c.name, ErrChunkUnsupported)
	case md.Codec != format.Uncompressed && md.Codec != format.Snappy:
		return fmt.Errorf("column %s: codec %s: %w", c.name, md.Codec, ErrChunkUnsupported)
	}
	switch md.Type {
	case format.Boolean, format.Int32, format.Int64, format.ByteArray:
	default:
		return fmt.Errorf("column %s: type %s: %w", c.name, md.Type, ErrChunkUnsupported)
	}
	start := md.DataPageOffset
	if md.DictionaryPageOffset > 0 && md.DictionaryPageOffset < start {
		start = md.DictionaryPageOffset
	}
	size := md.TotalCompressedSize
	if start < 0 || size < 0 || size > 1<<31 || md.NumValues < 0 {
		return fmt.Errorf("column %s: offset %d, size %d, %d values: %w", c.name, start, size, md.NumValues, errCorrupt)
	}
	c.start, c.end, c.off = start, start+size, start
	c.bufAt, c.buf = start, c.buf[:0]
	if c.decoder == nil {
		c.reader = c.proto.NewReaderFromBytes(nil)
		c.decoder = thrift.NewDecoder(c.reader)
	}
	if c.Window <= 0 || size <= int64(c.Window) || len(md.EncodingStats) == 0 {
		// Whole: every page header is checked before the first value.
		if err := c.fill(start, int(size)); err != nil {
			return err
		}
		if err := c.scan(); err != nil {
			return err
		}
	} else if err := c.checkStats(md.EncodingStats); err != nil {
		return err
	}
	c.left = md.NumValues
	if c.dict {
		return c.readDictionary()
	}
	return nil
}

// fill reads n bytes of the file at off (as many as the chunk has left
// from there) into buf.
func (c *Chunk) fill(off int64, n int) error {
	n = int(min(int64(n), c.end-off))
	c.buf = grow(c.buf, n)
	c.bufAt = off
	if got, err := c.r.ReadAt(c.buf, off); got < n {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return fmt.Errorf("column %s: read %d bytes at %d: %w", c.name, n, off, err)
	}
	return nil
}

// scan checks every page header of a chunk read whole, and whether it
// starts with a dictionary.
func (c *Chunk) scan() error {
	var values int64
	for c.off < c.end {
		p, err := c.nextPage(true)
		if err != nil {
			return err
		}
		if p.typ == format.DataPage {
			values += int64(p.values)
		}
	}
	if values != c.numValues {
		return fmt.Errorf("column %s: pages hold %d values, the footer says %d: %w", c.name, values, c.numValues, errCorrupt)
	}
	c.off = c.start
	return nil
}

// checkStats checks, from the footer's encoding stats, that the pages of
// a chunk read in windows are ones Chunk decodes, and whether it starts
// with a dictionary; nextPage checks each page again as it comes.
func (c *Chunk) checkStats(stats []format.PageEncodingStats) error {
	for _, s := range stats {
		switch {
		case s.PageType == format.DictionaryPage && (s.Encoding == format.Plain || s.Encoding == plainDictionary) && c.typ != format.Boolean:
			c.dict = true
		case s.PageType == format.DataPage && s.Encoding == format.Plain:
		case s.PageType == format.DataPage && (s.Encoding == format.RLEDictionary || s.Encoding == plainDictionary):
		default:
			return fmt.Errorf("column %s: %s pages of %s: %w", c.name, s.PageType, s.Encoding, ErrChunkUnsupported)
		}
	}
	return nil
}

// nextPage reads the header of the page at c.off, makes sure its body is
// in buf (reading the next window when it is not) and moves past it.
// scanning says whether it is a scan of a chunk read whole, where a page
// Chunk does not decode is ErrChunkUnsupported; later it is an error.
func (c *Chunk) nextPage(scanning bool) (p pageRef, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("column %s: page header at %d: %v: %w", c.name, c.off, r, errCorrupt)
		}
	}()
	// A header is a few dozen bytes; one that does not decode from what is
	// left of the window is read again with the rest of the chunk.
	const headerRoom = 1 << 10
	bufEnd := c.bufAt + int64(len(c.buf))
	if bufEnd < c.end && bufEnd-c.off < headerRoom {
		if err := c.fill(c.off, max(c.Window, headerRoom)); err != nil {
			return p, err
		}
	}
	n, err := c.decodeHeader()
	if err != nil && c.bufAt+int64(len(c.buf)) < c.end {
		if err := c.fill(c.off, int(c.end-c.off)); err != nil {
			return p, err
		}
		n, err = c.decodeHeader()
	}
	if err != nil {
		return p, fmt.Errorf("column %s: page header at %d: %w: %w", c.name, c.off, errCorrupt, err)
	}
	h := &c.header
	if h.CompressedPageSize < 0 || h.UncompressedPageSize < 0 || int64(h.CompressedPageSize) > c.end-c.off-int64(n) {
		return p, fmt.Errorf("column %s: page at %d: %d bytes of %d left: %w", c.name, c.off, h.CompressedPageSize, c.end-c.off-int64(n), errCorrupt)
	}
	p = pageRef{typ: h.Type, at: c.off, size: int(h.CompressedPageSize), uncompressed: int(h.UncompressedPageSize), crc: uint32(h.CRC)}
	if err := c.checkPage(&p, scanning); err != nil {
		return p, err
	}
	if next := c.off + int64(n) + int64(p.size); next > c.bufAt+int64(len(c.buf)) {
		if err := c.fill(c.off, max(c.Window, n+p.size)); err != nil {
			return p, err
		}
	}
	p.body = int(c.off-c.bufAt) + n
	c.off += int64(n) + int64(p.size)
	return p, nil
}

func (c *Chunk) decodeHeader() (int, error) {
	c.header = format.PageHeader{}
	c.reader.ResetBytes(c.buf[c.off-c.bufAt:])
	if err := c.decoder.Decode(&c.header); err != nil {
		return 0, err
	}
	return c.reader.BytesRead(), nil
}

// checkPage checks that the page whose header c.header holds is one Chunk
// decodes and sets p's values and encoding.
func (c *Chunk) checkPage(p *pageRef, scanning bool) error {
	h := &c.header
	unsupported := func(what string) error {
		if scanning {
			return fmt.Errorf("column %s: %s at %d: %w", c.name, what, p.at, ErrChunkUnsupported)
		}
		return fmt.Errorf("column %s: %s at %d, not in the footer's encoding stats: %w", c.name, what, p.at, errCorrupt)
	}
	if c.codec == format.Uncompressed && p.size != p.uncompressed {
		return fmt.Errorf("column %s: uncompressed page at %d of %d bytes says %d: %w", c.name, p.at, p.size, p.uncompressed, errCorrupt)
	}
	first := p.at == c.start
	switch {
	case h.Type == format.DictionaryPage && h.DictionaryPageHeader.Valid && first:
		d := &h.DictionaryPageHeader.V
		if d.Encoding != format.Plain && d.Encoding != plainDictionary || c.typ == format.Boolean {
			return unsupported(fmt.Sprintf("dictionary of %s %s", c.typ, d.Encoding))
		}
		if d.NumValues < 0 {
			return fmt.Errorf("column %s: dictionary of %d values: %w", c.name, d.NumValues, errCorrupt)
		}
		if !scanning && !c.dict {
			return unsupported("dictionary page")
		}
		p.values, p.encoding, c.dict = int(d.NumValues), format.Plain, true
	case h.Type == format.DataPage && h.DataPageHeader.Valid:
		d := &h.DataPageHeader.V
		switch d.Encoding {
		case format.Plain:
		case format.RLEDictionary, plainDictionary:
			if !c.dict {
				return fmt.Errorf("column %s: dictionary page missing before data page at %d: %w", c.name, p.at, errCorrupt)
			}
		default:
			return unsupported(fmt.Sprintf("%s page", d.Encoding))
		}
		if c.optional && d.DefinitionLevelEncoding != format.RLE {
			return unsupported(fmt.Sprintf("definition levels %s", d.DefinitionLevelEncoding))
		}
		if d.NumValues < 0 {
			return fmt.Errorf("column %s: page at %d of %d values: %w", c.name, p.at, d.NumValues, errCorrupt)
		}
		p.values, p.encoding = int(d.NumValues), d.Encoding
	default:
		return unsupported(fmt.Sprintf("%s page", h.Type))
	}
	return nil
}

// body returns page p decompressed and its checksum verified.
func (c *Chunk) body(p *pageRef) ([]byte, error) {
	raw := c.buf[p.body : p.body+p.size]
	if p.crc != 0 && crc32.ChecksumIEEE(raw) != p.crc {
		return nil, fmt.Errorf("column %s: page at %d: checksum mismatch: %w", c.name, p.at, errCorrupt)
	}
	if c.codec == format.Uncompressed {
		return raw, nil
	}
	if n, err := snappy.DecodedLen(raw); err != nil || n != p.uncompressed {
		return nil, fmt.Errorf("column %s: page at %d: snappy length %d, header says %d: %w", c.name, p.at, n, p.uncompressed, errCorrupt)
	}
	if cap(c.page) < p.uncompressed {
		c.page = make([]byte, p.uncompressed)
	}
	out, err := snappy.Decode(c.page[:p.uncompressed], raw)
	if err != nil {
		return nil, fmt.Errorf("column %s: page at %d: %w: %w", c.name, p.at, errCorrupt, err)
	}
	return out, nil
}

func (c *Chunk) readDictionary() error {
	p, err := c.nextPage(false)
	if err != nil {
		return err
	}
	if p.typ != format.DictionaryPage {
		return fmt.Errorf("column %s: the footer says a dictionary, the first page is %s: %w", c.name, p.typ, errCorrupt)
	}
	b, err := c.body(&p)
	if err != nil {
		return err
	}
	n := p.values
	switch c.typ {
	case format.Int32, format.Int64:
		if len(b) != c.width()*n {
			return c.sizeError("dictionary", len(b), n)
		}
		if c.typ == format.Int32 {
			c.dictI32 = grow(c.dictI32, n)
			decodePlain(c.dictI32, b)
		} else {
			c.dictI64 = grow(c.dictI64, n)
			decodePlain(c.dictI64, b)
		}
	case format.ByteArray:
		if err := checkByteArrays(b, n); err != nil {
			return fmt.Errorf("column %s: dictionary: %w", c.name, err)
		}
		// The entries become strings once per chunk: every row holding
		// one shares it.
		clear(c.dictStr)
		c.dictStr = grow(c.dictStr, n)
		for i, pos := 0, 0; i < n; i++ {
			l := int(binary.LittleEndian.Uint32(b[pos:]))
			c.dictStr[i] = string(b[pos+4 : pos+4+l])
			pos += 4 + l
		}
	}
	c.dictSize = n
	return nil
}

func (c *Chunk) sizeError(what string, size, values int) error {
	return fmt.Errorf("column %s: %s of %d values in %d bytes: %w", c.name, what, values, size, errCorrupt)
}

// checkByteArrays checks that b is exactly n PLAIN byte arrays.
func checkByteArrays(b []byte, n int) error {
	pos := 0
	for i := 0; i < n; i++ {
		if len(b)-pos < 4 {
			return fmt.Errorf("value %d of %d: length cut short: %w", i, n, errCorrupt)
		}
		l := uint64(binary.LittleEndian.Uint32(b[pos:]))
		if l > uint64(len(b)-pos-4) {
			return fmt.Errorf("value %d of %d: %d bytes of %d left: %w", i, n, l, len(b)-pos-4, errCorrupt)
		}
		pos += 4 + int(l)
	}
	if pos != len(b) {
		return fmt.Errorf("%d values end at byte %d of %d: %w", n, pos, len(b), errCorrupt)
	}
	return nil
}

// openPage opens the next data page.
func (c *Chunk) openPage() error {
	if c.off >= c.end {
		if c.values != c.numValues {
			return fmt.Errorf("column %s: pages hold %d values, the footer says %d: %w", c.name, c.values, c.numValues, errCorrupt)
		}
		return io.EOF
	}
	p, err := c.nextPage(false)
	if err != nil {
		return err
	}
	if p.typ != format.DataPage {
		return fmt.Errorf("column %s: %s page at %d after the first: %w", c.name, p.typ, p.at, errCorrupt)
	}
	if c.values += int64(p.values); c.values > c.numValues {
		return fmt.Errorf("column %s: pages hold more than the footer's %d values: %w", c.name, c.numValues, errCorrupt)
	}
	b, err := c.body(&p)
	if err != nil {
		return err
	}
	c.n, c.i, c.pos, c.bit, c.levels = p.values, 0, 0, 0, nil
	nonNull := p.values
	if c.optional {
		if len(b) < 4 {
			return fmt.Errorf("column %s: page at %d: no definition levels: %w", c.name, p.at, errCorrupt)
		}
		l := uint64(binary.LittleEndian.Uint32(b))
		if l > uint64(len(b)-4) {
			return fmt.Errorf("column %s: page at %d: definition levels of %d bytes in %d: %w", c.name, p.at, l, len(b)-4, errCorrupt)
		}
		c.levels = grow(c.levels[:cap(c.levels)], p.values)
		if err := decodeHybrid(b[4:4+l], 1, c.levels, nil); err != nil {
			return fmt.Errorf("column %s: page at %d: definition levels: %w", c.name, p.at, err)
		}
		nonNull = 0
		for _, d := range c.levels {
			nonNull += int(d)
		}
		b = b[4+l:]
	}
	c.vals, c.byDict = b, p.encoding != format.Plain
	if c.byDict {
		if len(b) < 1 || b[0] > 32 {
			return fmt.Errorf("column %s: page at %d: no index bit width: %w", c.name, p.at, errCorrupt)
		}
		c.idx = grow(c.idx, nonNull)
		if err := decodeHybrid(b[1:], uint(b[0]), nil, c.idx); err != nil {
			return fmt.Errorf("column %s: page at %d: dictionary indices: %w", c.name, p.at, err)
		}
		for _, x := range c.idx {
			if uint32(x) >= uint32(c.dictSize) {
				return fmt.Errorf("column %s: page at %d: index %d of a dictionary of %d: %w", c.name, p.at, uint32(x), c.dictSize, errCorrupt)
			}
		}
		return nil
	}
	var ok bool
	switch c.typ {
	case format.Boolean:
		ok = len(b) == (nonNull+7)/8
	case format.Int32, format.Int64:
		ok = len(b) == c.width()*nonNull
	case format.ByteArray:
		if err := checkByteArrays(b, nonNull); err != nil {
			return fmt.Errorf("column %s: page at %d: %w", c.name, p.at, err)
		}
		ok = true
	}
	if !ok {
		return c.sizeError(fmt.Sprintf("page at %d", p.at), len(b), nonNull)
	}
	return nil
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// span takes the next values of a column of type typ, at most want and
// at most to the end of the open page (opening the next page when the
// open one is read), and returns how many; 0 and io.EOF at the chunk's
// end. It sets valid (when not nil) from their definition levels; their
// values are still to be decoded from c.vals or c.idx.
func (c *Chunk) span(want int, typ format.Type, valid []bool) (int, error) {
	if typ != c.typ {
		return 0, fmt.Errorf("column %s: %s read as %s", c.name, c.typ, typ)
	}
	if c.optional && valid == nil {
		return 0, fmt.Errorf("column %s: optional column read as required", c.name)
	}
	for c.i == c.n {
		if err := c.openPage(); err != nil {
			return 0, err
		}
	}
	k := min(want, c.n-c.i)
	switch {
	case valid == nil:
	case c.levels == nil: // a required column: every value is there
		for i := range valid[:k] {
			valid[i] = true
		}
	default:
		for i, d := range c.levels[c.i : c.i+k] {
			valid[i] = d != 0
		}
	}
	c.i += k
	c.left -= int64(k)
	return k, nil
}

// ReadInt64s reads the next values of an INT64 column into dst, at most
// to the end of the open page, and returns how many it read; 0 and io.EOF
// once the chunk is read. valid (as long as dst; nil for a required
// column) tells which are non-null; a null's dst is 0.
func (c *Chunk) ReadInt64s(dst []int64, valid []bool) (int, error) {
	return readFixed(c, dst, valid, format.Int64, c.dictI64)
}

// ReadInt32s is ReadInt64s for an INT32 column.
func (c *Chunk) ReadInt32s(dst []int32, valid []bool) (int, error) {
	return readFixed(c, dst, valid, format.Int32, c.dictI32)
}

// width is the size of a PLAIN value of an INT32 or INT64 column.
func (c *Chunk) width() int {
	if c.typ == format.Int64 {
		return 8
	}
	return 4
}

// decodePlain decodes into dst the PLAIN (little-endian) values b holds,
// len(dst) of them.
func decodePlain[T int32 | int64](dst []T, b []byte) {
	switch d := any(dst).(type) {
	case []int64:
		for i := range d {
			d[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case []int32:
		for i := range d {
			d[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	}
}

func readFixed[T int32 | int64](c *Chunk, dst []T, valid []bool, typ format.Type, dict []T) (int, error) {
	k, err := c.span(len(dst), typ, valid)
	if err != nil {
		return 0, err
	}
	levels, width := c.levels, c.width()
	dst = dst[:k]
	switch {
	case levels == nil && !c.byDict:
		// The common case, a required PLAIN column: a copy of the page.
		decodePlain(dst, c.vals[c.pos:c.pos+k*width])
		c.pos += k * width
	case levels == nil:
		for i, x := range c.idx[c.pos : c.pos+k] {
			dst[i] = dict[x]
		}
		c.pos += k
	default:
		// The non-null values, decoded to the front of dst, then moved
		// back to their rows (a row is never before its value).
		nn := 0
		for _, v := range valid[:k] {
			if v {
				nn++
			}
		}
		if c.byDict {
			for i, x := range c.idx[c.pos : c.pos+nn] {
				dst[i] = dict[x]
			}
			c.pos += nn
		} else {
			decodePlain(dst[:nn], c.vals[c.pos:c.pos+nn*width])
			c.pos += nn * width
		}
		for i := k - 1; i >= 0; i-- {
			if valid[i] {
				nn--
				dst[i] = dst[nn]
			} else {
				dst[i] = 0
			}
		}
	}
	return k, nil
}

// ReadBooleans is ReadInt64s for a BOOLEAN column.
func (c *Chunk) ReadBooleans(dst []bool, valid []bool) (int, error) {
	k, err := c.span(len(dst), format.Boolean, valid)
	if err != nil {
		return 0, err
	}
	for i := range dst[:k] {
		if valid != nil && !valid[i] {
			dst[i] = false
			continue
		}
		dst[i] = c.vals[c.bit>>3]>>(c.bit&7)&1 != 0
		c.bit++
	}
	return k, nil
}

// ReadStrings is ReadInt64s for a BYTE_ARRAY column, as strings: a
// dictionary's entries are shared by every value that refers to them; the
// PLAIN values of one call share one allocation. A null's dst is "".
func (c *Chunk) ReadStrings(dst []string, valid []bool) (int, error) {
	k, err := c.span(len(dst), format.ByteArray, valid)
	if err != nil {
		return 0, err
	}
	dst = dst[:k]
	if c.byDict {
		for i := range dst {
			if valid != nil && !valid[i] {
				dst[i] = ""
				continue
			}
			dst[i] = c.dictStr[c.idx[c.pos]]
			c.pos++
		}
		return k, nil
	}
	// The values of the call lie one after the other in the page (their
	// length prefixes between them): one string holds them all.
	end := c.pos
	for i := range dst {
		if valid == nil || valid[i] {
			end += 4 + int(binary.LittleEndian.Uint32(c.vals[end:]))
		}
	}
	all := string(c.vals[c.pos:end])
	pos := 0
	for i := range dst {
		if valid != nil && !valid[i] {
			dst[i] = ""
			continue
		}
		l := int(binary.LittleEndian.Uint32(c.vals[c.pos+pos:]))
		dst[i] = all[pos+4 : pos+4+l]
		pos += 4 + l
	}
	c.pos = end
	return k, nil
}

// Left returns how many values of the chunk are not read yet.
func (c *Chunk) Left() int64 { return c.left }

// decodeHybrid decodes the RLE/bit-packed hybrid encoding of values of
// width bits from b into levels (one byte each) or indices, whichever is
// not nil, filling it exactly; b must hold at least that many values.
func decodeHybrid(b []byte, width uint, levels []byte, indices []int32) error {
	n := len(levels) + len(indices)
	put := func(i int, v uint32) {
		if levels != nil {
			levels[i] = byte(v)
		} else {
			indices[i] = int32(v)
		}
	}
	vbytes := int(width+7) / 8
	mask := uint64(1)<<width - 1
	for i := 0; i < n; {
		h, k := binary.Uvarint(b)
		if k <= 0 {
			return fmt.Errorf("run header at value %d of %d: %w", i, n, errCorrupt)
		}
		b = b[k:]
		if h&1 == 0 { // a run of one value
			count := h >> 1
			if len(b) < vbytes {
				return fmt.Errorf("run value at value %d of %d: %w", i, n, errCorrupt)
			}
			var v uint64
			for j := vbytes - 1; j >= 0; j-- {
				v = v<<8 | uint64(b[j])
			}
			b = b[vbytes:]
			if v > mask {
				return fmt.Errorf("run value %d wider than %d bits: %w", v, width, errCorrupt)
			}
			if count == 0 || count > uint64(n-i) {
				return fmt.Errorf("run of %d at value %d of %d: %w", count, i, n, errCorrupt)
			}
			for end := i + int(count); i < end; i++ {
				put(i, uint32(v))
			}
			continue
		}
		// Groups of 8 values bit-packed, least significant bit first; the
		// last group may be padded past the page's values.
		groups := h >> 1
		if groups == 0 || groups > uint64(len(b))/max(uint64(width), 1)+1 {
			return fmt.Errorf("bit-packed run of %d groups at value %d of %d: %w", groups, i, n, errCorrupt)
		}
		count := min(int(groups)*8, n-i)
		need := (count*int(width) + 7) / 8
		if len(b) < need {
			return fmt.Errorf("bit-packed run of %d values in %d bytes: %w", count, len(b), errCorrupt)
		}
		var acc uint64
		var have uint
		pos := 0
		for end := i + count; i < end; i++ {
			for have < width {
				acc |= uint64(b[pos]) << have
				pos++
				have += 8
			}
			put(i, uint32(acc&mask))
			acc >>= width
			have -= width
		}
		b = b[min(len(b), int(groups)*int(width)):]
	}
	return nil
}

// plainDictionary is PLAIN_DICTIONARY, the deprecated name that older
// writers (parquet-go among them) still give dictionary pages and their
// indexes: read, never written.
//
//lint:ignore SA1019 files written with it are read
const plainDictionary = format.PlainDictionary
