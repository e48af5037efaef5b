// Package pqfile reads and writes whole Parquet files of Go row structs:
// the project's own outputs and state, whose schemas it defines by struct
// tags, and the small JSON files beside them (WriteJSON). Inputs from
// other writers are read by pipeline/source instead.
//
// Files are read with parquet-go and written by the package's own column
// encoder, for every reader: data pages v1, PLAIN and dictionary encoding
// (RLE_DICTIONARY), which Spark, pyarrow, DuckDB and parquet-go write by
// default and Spark's vectorized reader before 3.4, Iceberg's and Velox
// read; no DELTA_* encoding. Every column but booleans (bit-packed, a bit
// each) starts a chunk with a dictionary, its values looked up as they
// are written (a run of equal values once): an integer near the chunk's
// first value by its offset in a small window, any other fixed-width
// value in an open-addressing table, a string among a few by its bytes
// and in a map past them. Its data pages are the indexes RLE/bit-packed,
// so that a constant column is a dictionary of one value and pages of a
// few bytes. The chunk's first page decides whether
// the dictionary pays: unless its dictionary and indexes take at most half
// the bytes of its values PLAIN (not so for a unique key or a continuous
// measure) the chunk is PLAIN and has no dictionary page; a fixed-width
// column is found so as soon as its dictionary's values alone take more
// than half a page, before the page's end. Columns tagged `dict` (codes,
// statuses, grades: few distinct values) keep their dictionary without
// that test. A chunk whose dictionary outgrows 1 MiB or 64Ki entries is
// PLAIN from there to its end, as other writers do. Each chunk's metadata
// counts its pages by type and encoding (encoding_stats). Pages are
// snappy-compressed and carry their CRC-32; row groups hold 64Ki rows;
// each column chunk has its NULL count and bounds (NaN is never one), and
// its pages are in the page index (column and offset indexes). No bloom
// filter is written.
//
// The schema of a row type is the one parquet-go derives from the struct
// and its tags (names, physical and logical types: DECIMAL, DATE,
// TIMESTAMP, STRING; repetition), resolved once per type. A Writer copies
// each row's fields through their offsets into one page buffer per column
// and encodes a page when it is full, by its own values (8Ki rows, or 32
// KiB of PLAIN values), so files are deterministic: the same rows give the same
// bytes however the caller splits them into Write calls. Only the current
// row group's compressed pages, its chunks' dictionaries and one page per
// column (its indexes, or its values PLAIN) are held in memory, the page
// buffers grown as a column's values need them and the dictionaries'
// tables pooled between chunks. Files are durable (fsynced before close);
// a file of no rows is a valid file with no row group.
//
// A row type is a flat struct of booleans, integers, floats, strings and
// pointers to those. A nullable column is a pointer field tagged
// `optional` (nil is NULL); an `optional` tag on a non-pointer field is
// refused, as a zero would have to be written as a value or as NULL.
package pqfile

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sync/atomic"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// version is the program version files record in created_by.
var version atomic.Pointer[string]

// SetVersion sets the program version every file written afterwards
// records in its created_by field ("creditrun version v"). It is
// process-wide: the command calls it once at start, before any file is
// written; until then files say "creditrun version dev".
func SetVersion(v string) { version.Store(&v) }

// CreatedBy returns the created_by field files are written with.
func CreatedBy() string {
	v := "dev"
	if p := version.Load(); p != nil && *p != "" {
		v = *p
	}
	return "creditrun version " + v
}

// maxRowsPerRowGroup is how many rows a row group holds: small enough
// that readers can stream them, and the unit Concat copies. A writer holds
// its current row group's pages and each column's dictionary table, so
// this bounds a writer's memory: a backfill's dates in flight each have
// their tables' writers open (64Ki rows against 256Ki: a 35-day backfill
// of 300k accounts peaks at 0.65× the RSS, in the same CPU).
const maxRowsPerRowGroup = 64 << 10

// blockBytes is the size of the blocks of rows Write transposes at a time.
const blockBytes = 32 << 10

// Writer streams rows of T into one file.
type Writer[T any] struct {
	f       *os.File
	buf     *bufio.Writer
	out     *countWriter
	layout  *rowLayout
	columns []*column
	// groupRows are the rows of the row group being filled, rows those
	// of the row groups before it.
	groupRows int
	rows      int64
	rowGroups []format.RowGroup
	indexes   [][]pageIndex // by row group, by column
	createdBy string
	err       error // the first error, returned by every later call
	closed    bool  // Close succeeded
}

// CreateSummed is Create for a file whose size and SHA-256 the writer
// computes as it writes, for Sum: what a reader of the file must find,
// known without reading the file back.
func CreateSummed[T any](path string) (*Writer[T], error) {
	w, err := Create[T](path)
	if err == nil {
		w.out.h = sha256.New()
		w.out.h.Write(magic)
	}
	return w, err
}

// Sum returns the size and the SHA-256 (hex) of the file a CreateSummed
// writer wrote, once Close has succeeded.
func (w *Writer[T]) Sum() (size int64, sha string, err error) {
	if w.out.h == nil || !w.closed {
		return 0, "", fmt.Errorf("sum %s: %w", w.f.Name(), ErrNotSummed)
	}
	return w.out.n, hex.EncodeToString(w.out.h.Sum(nil)), nil
}

// Create creates path and returns a writer for rows of T.
func Create[T any](path string) (*Writer[T], error) {
	l, err := layoutOf[T]()
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := &Writer[T]{f: f, buf: bufio.NewWriterSize(f, 64<<10), layout: l, createdBy: CreatedBy()}
	w.out = &countWriter{w: w.buf}
	for _, spec := range l.columns {
		w.columns = append(w.columns, newColumn(spec))
	}
	if _, err := w.out.Write(magic); err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

// Write appends rows. The writer keeps no reference to rows or to what
// they point at once it returns.
func (w *Writer[T]) Write(rows []T) error {
	if w.err != nil {
		return w.err
	}
	stride := unsafe.Sizeof(*new(T))
	pe := pageEncoders.Get().(*pageEncoder)
	defer pageEncoders.Put(pe)
	for len(rows) > 0 {
		// A block of rows small enough to stay in the CPU's cache while
		// each column takes its values from it.
		n := min(len(rows), maxRowsPerRowGroup-w.groupRows, max(1, blockBytes/int(stride)))
		base := unsafe.Pointer(unsafe.SliceData(rows))
		for _, c := range w.columns {
			if err := c.write(pe, base, stride, n); err != nil {
				return w.fail("write", err)
			}
		}
		w.groupRows += n
		rows = rows[n:]
		if w.groupRows == maxRowsPerRowGroup {
			if err := w.flushRowGroup(pe); err != nil {
				return w.fail("write", err)
			}
		}
	}
	return nil
}

func (w *Writer[T]) fail(op string, err error) error {
	w.err = fmt.Errorf("%s %s: %w", op, w.f.Name(), err)
	return w.err
}

// flushRowGroup writes the row group being filled, column chunk after
// column chunk.
func (w *Writer[T]) flushRowGroup(pe *pageEncoder) error {
	rg := format.RowGroup{NumRows: int64(w.groupRows), FileOffset: w.out.n, Ordinal: int16(len(w.rowGroups))}
	if len(w.rowGroups) == math.MaxInt16 {
		return fmt.Errorf("more than %d row groups", math.MaxInt16)
	}
	indexes := make([]pageIndex, 0, len(w.columns))
	for _, c := range w.columns {
		cc, idx, err := c.writeChunk(pe, w.out)
		if err != nil {
			return err
		}
		indexes = append(indexes, idx)
		rg.TotalByteSize += cc.MetaData.TotalUncompressedSize
		rg.TotalCompressedSize += cc.MetaData.TotalCompressedSize
		rg.Columns = append(rg.Columns, cc)
	}
	w.rowGroups = append(w.rowGroups, rg)
	w.indexes = append(w.indexes, indexes)
	w.rows += int64(w.groupRows)
	w.groupRows = 0
	return nil
}

// Rows returns how many rows were written.
func (w *Writer[T]) Rows() int64 { return w.rows + int64(w.groupRows) }

// Close flushes the last rows and the footer, fsyncs and closes the file.
func (w *Writer[T]) Close() error {
	err := w.err
	if err == nil && w.groupRows > 0 {
		pe := pageEncoders.Get().(*pageEncoder)
		err = w.flushRowGroup(pe)
		pageEncoders.Put(pe)
		if err != nil {
			err = fmt.Errorf("close %s: %w", w.f.Name(), err)
		}
	}
	if err == nil {
		err = w.writeFooter()
	}
	w.release()
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", w.f.Name(), cerr)
	}
	w.err = err
	if err == nil {
		w.err = fmt.Errorf("write %s: %w", w.f.Name(), os.ErrClosed)
		w.closed = true
	}
	return err
}

// writeFooter writes the page index (every chunk's column index, then
// every chunk's offset index), the file's metadata, its length and the
// magic, and fsyncs the file.
func (w *Writer[T]) writeFooter() error {
	if err := w.writePageIndex(); err != nil {
		return fmt.Errorf("close %s: %w", w.f.Name(), err)
	}
	md := format.FileMetaData{
		Version:          2,
		Schema:           w.layout.schema,
		NumRows:          w.rows,
		RowGroups:        w.rowGroups,
		KeyValueMetadata: w.layout.metadata,
		CreatedBy:        w.createdBy,
		ColumnOrders:     w.layout.orders,
	}
	footer, err := thrift.Marshal(&thrift.CompactProtocol{}, &md)
	if err == nil {
		_, err = w.out.Write(binary.LittleEndian.AppendUint32(footer, uint32(len(footer))))
	}
	if err == nil {
		_, err = w.out.Write(magic)
	}
	if err == nil {
		err = w.buf.Flush()
	}
	if err == nil {
		err = w.f.Sync()
	}
	if err != nil {
		return fmt.Errorf("close %s: %w", w.f.Name(), err)
	}
	return nil
}

func (w *Writer[T]) writePageIndex() error {
	for g, indexes := range w.indexes {
		for i, idx := range indexes {
			if idx.column == nil {
				continue
			}
			cc := &w.rowGroups[g].Columns[i]
			if err := w.writeThrift(idx.column, &cc.ColumnIndexOffset, &cc.ColumnIndexLength); err != nil {
				return err
			}
		}
	}
	for g, indexes := range w.indexes {
		for i := range indexes {
			cc := &w.rowGroups[g].Columns[i]
			if err := w.writeThrift(&indexes[i].offset, &cc.OffsetIndexOffset, &cc.OffsetIndexLength); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeThrift writes v in the compact protocol and sets where it is.
func (w *Writer[T]) writeThrift(v any, offset *int64, length *int32) error {
	b, err := thrift.Marshal(&thrift.CompactProtocol{}, v)
	if err != nil {
		return err
	}
	*offset, *length = w.out.n, int32(len(b))
	_, err = w.out.Write(b)
	return err
}

// Abort closes the file without caring for its content (the caller removes
// the temporary directory it is in). It is safe on a nil writer.
func (w *Writer[T]) Abort() {
	if w != nil {
		w.release()
		w.f.Close()
	}
}

// release gives the columns' buffers back to their pools.
func (w *Writer[T]) release() {
	for _, c := range w.columns {
		c.release()
	}
	w.columns = nil
}

// WriteFile writes rows to path in one go.
func WriteFile[T any](path string, rows []T) error {
	w, err := Create[T](path)
	if err != nil {
		return err
	}
	if err := w.Write(rows); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// ReadFile reads every row of path into a slice of T. The file must have
// been written by this package (or have the same schema).
func ReadFile[T any](path string) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r := parquet.NewGenericReader[T](pf)
	defer r.Close()
	rows := make([]T, pf.NumRows())
	n := 0
	for n < len(rows) {
		k, err := r.Read(rows[n:])
		n += k
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	if n != len(rows) {
		return nil, fmt.Errorf("read %s: got %d rows, footer says %d", path, n, len(rows))
	}
	return rows, nil
}
