// Package pqfile reads and writes whole Parquet files of Go row structs with
// parquet-go: the project's own outputs and state, whose schemas it defines
// by struct tags, and the small JSON files beside them (WriteJSON). Inputs
// from other writers are read by pipeline/source instead.
//
// Files are written for every reader: data pages v1, PLAIN encoding, and
// dictionary encoding only for the columns whose tag says `dict` (codes,
// statuses, grades, reasons, kinds, versions: few distinct values), which
// is what Spark and pyarrow write by default and what Spark's vectorized
// reader before 3.4, Iceberg's and Velox read; no DELTA_* encoding. They
// are durable (fsynced before close) and deterministic: the same rows give
// the same bytes however the caller splits them into Write calls.
//
// A row type is a flat struct of booleans, integers, floats, strings and
// pointers to those. A nullable column is a pointer field tagged
// `optional` (nil is NULL); an `optional` tag on a non-pointer field is
// refused, as parquet-go's zero-as-null path can write a zero as a value
// or not depending on how the rows were batched.
package pqfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"github.com/klauspost/compress/s2"
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

// createdBy sets created_by as the Parquet spec writes it,
// "<application> version <version>" (parquet-go's own option always
// appends a build, empty or not).
type createdBy string

func (c createdBy) ConfigureWriter(cfg *parquet.WriterConfig) { cfg.CreatedBy = string(c) }

// Options every file is written with: data pages v1 and PLAIN unless a
// column's tag asks for its dictionary; snappy (cheap, and read by every
// engine); row groups small enough that readers can stream them; and
// pages of 64 KiB: a night writes some 250 columns at once and the writer
// holds a page buffer for each, so the page size is part of its memory.
func writerOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.DataPageVersion(1),
		parquet.DefaultEncoding(&parquet.Plain),
		parquet.Compression(&fastSnappy{}),
		parquet.MaxRowsPerRowGroup(maxRowsPerRowGroup),
		parquet.PageBufferSize(64 << 10),
		createdBy(CreatedBy()),
	}
}

// maxRowsPerRowGroup is a multiple of chunkRows, so row groups end where
// a chunk does.
const maxRowsPerRowGroup = 256 << 10

// chunkRows is how many rows the writer hands parquet-go at a time.
// parquet-go checks whether a page is full after every 64 rows counted
// from the start of each Write call, so where pages end depends on how
// the rows are split into calls; feeding it whole chunks of 64 from the
// start of the file makes the pages, and so the bytes, depend on the rows
// alone.
const chunkRows = 64

// fastSnappy is the SNAPPY codec with the fast block encoder: parquet-go's
// own goes through klauspost's snappy.Encode, which always takes the
// slower "better" path. The blocks are standard snappy; any reader decodes
// them.
type fastSnappy struct{ snappy.Codec }

func (*fastSnappy) Encode(dst, src []byte) ([]byte, error) { return s2.EncodeSnappy(dst, src), nil }

// ErrRowType is a row type this package does not write.
var ErrRowType = errors.New("not a row type pqfile writes")

// pointerField is a nullable column's field: its offset in the row and
// the type it points at.
type pointerField struct {
	offset uintptr
	elem   reflect.Type
}

// rowLayout checks that T is a flat row struct and returns its pointer
// fields.
func rowLayout[T any]() ([]pointerField, error) {
	typ := reflect.TypeFor[T]()
	if typ.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: %s is not a struct", ErrRowType, typ)
	}
	var ptrs []pointerField
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag := f.Tag.Get("parquet")
		if tag == "-" {
			continue
		}
		optional := false
		for _, opt := range strings.Split(tag, ",")[1:] {
			optional = optional || opt == "optional"
		}
		kind := f.Type.Kind()
		if kind == reflect.Pointer {
			if !scalar(f.Type.Elem().Kind()) {
				return nil, fmt.Errorf("%w: %s.%s points at a %s, not a scalar", ErrRowType, typ, f.Name, f.Type.Elem())
			}
			if !optional {
				return nil, fmt.Errorf("%w: %s.%s is a pointer but its column is not optional", ErrRowType, typ, f.Name)
			}
			ptrs = append(ptrs, pointerField{offset: f.Offset, elem: f.Type.Elem()})
			continue
		}
		if !scalar(kind) {
			return nil, fmt.Errorf("%w: %s.%s is a %s, not a scalar", ErrRowType, typ, f.Name, f.Type)
		}
		if optional {
			return nil, fmt.Errorf("%w: %s.%s is optional but not a pointer (a nullable column is a pointer field, nil for NULL)", ErrRowType, typ, f.Name)
		}
	}
	return ptrs, nil
}

func scalar(k reflect.Kind) bool {
	switch k {
	case reflect.Bool, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint,
		reflect.Float32, reflect.Float64, reflect.String:
		return true
	}
	return false
}

// Writer streams rows of T into one file.
type Writer[T any] struct {
	f    *os.File
	w    *parquet.GenericWriter[T]
	rows int64
	// buf holds the rows of an incomplete chunk, which the caller may
	// reuse once Write returns: what their pointer fields point at is
	// copied into slots, one array of chunkRows values per pointer field.
	buf   []T
	ptrs  []pointerField
	slots []unsafe.Pointer
}

// Create creates path and returns a writer for rows of T.
func Create[T any](path string) (*Writer[T], error) {
	ptrs, err := rowLayout[T]()
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := &Writer[T]{f: f, w: parquet.NewGenericWriter[T](f, writerOptions()...), ptrs: ptrs,
		buf: make([]T, 0, chunkRows)}
	for _, p := range ptrs {
		w.slots = append(w.slots, reflect.New(reflect.ArrayOf(chunkRows, p.elem)).UnsafePointer())
	}
	return w, nil
}

// Write appends rows. The writer keeps no reference to rows or to what
// they point at once it returns.
func (w *Writer[T]) Write(rows []T) error {
	for len(rows) > 0 {
		if len(w.buf) == 0 && len(rows) >= chunkRows {
			n := len(rows) / chunkRows * chunkRows
			if err := w.flush(rows[:n]); err != nil {
				return err
			}
			rows = rows[n:]
			continue
		}
		k := min(chunkRows-len(w.buf), len(rows))
		for i := range rows[:k] {
			w.buf = append(w.buf, rows[i])
			w.detach(len(w.buf) - 1)
		}
		rows = rows[k:]
		if len(w.buf) == chunkRows {
			if err := w.flush(w.buf); err != nil {
				return err
			}
			w.buf = w.buf[:0]
		}
	}
	return nil
}

// detach points the pointer fields of buffered row i at the writer's own
// copies of their values.
func (w *Writer[T]) detach(i int) {
	row := unsafe.Pointer(&w.buf[i])
	for k, p := range w.ptrs {
		field := (*unsafe.Pointer)(unsafe.Add(row, p.offset))
		if *field == nil {
			continue
		}
		slot := unsafe.Add(w.slots[k], uintptr(i)*p.elem.Size())
		reflect.NewAt(p.elem, slot).Elem().Set(reflect.NewAt(p.elem, *field).Elem())
		*field = slot
	}
}

func (w *Writer[T]) flush(rows []T) error {
	n, err := w.w.Write(rows)
	w.rows += int64(n)
	if err != nil {
		return fmt.Errorf("write %s: %w", w.f.Name(), err)
	}
	return nil
}

// Rows returns how many rows were written.
func (w *Writer[T]) Rows() int64 { return w.rows + int64(len(w.buf)) }

// Close flushes the last rows and the footer, fsyncs and closes the file.
func (w *Writer[T]) Close() error {
	var err error
	if len(w.buf) > 0 {
		err = w.flush(w.buf)
		clear(w.buf)
		w.buf = w.buf[:0]
	}
	if err == nil {
		err = w.w.Close()
	}
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close %s: %w", w.f.Name(), err)
	}
	return nil
}

// Abort closes the file without caring for its content (the caller removes
// the temporary directory it is in). It is safe on a nil writer.
func (w *Writer[T]) Abort() {
	if w != nil {
		w.f.Close()
	}
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
