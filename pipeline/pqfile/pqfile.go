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

// column is how one field of a row becomes values of its column: where
// the field is in the row, and the function that reads it there. The
// writer hands parquet-go whole columns of values, chunk by chunk, rather
// than rows it would take apart by reflection one nullable field at a
// time.
type column struct {
	index  int // in the file's columns
	offset uintptr
	value  func(field unsafe.Pointer) parquet.Value // the field's value, unleveled
	ptr    bool                                     // a pointer field: nil is NULL
	elem   reflect.Type                             // what a pointer field points at
	// kind is the field's kind (the pointed-at one for a pointer
	// field), with Int and Uint as Int64 and Uint32 as Int32 (same bits
	// written).
	kind reflect.Kind
}

// columnsOf checks that T is a flat row struct whose fields map onto
// schema's columns, and returns how to read each of them.
func columnsOf[T any](schema *parquet.Schema) ([]column, error) {
	typ := reflect.TypeFor[T]()
	if typ.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: %s is not a struct", ErrRowType, typ)
	}
	var cols []column
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag := f.Tag.Get("parquet")
		if tag == "-" {
			continue
		}
		opts := strings.Split(tag, ",")
		name := opts[0]
		if name == "" {
			name = f.Name
		}
		optional := false
		for _, opt := range opts[1:] {
			optional = optional || opt == "optional"
		}
		t := f.Type
		ptr := t.Kind() == reflect.Pointer
		if ptr {
			if !scalar(t.Elem().Kind()) {
				return nil, fmt.Errorf("%w: %s.%s points at a %s, not a scalar", ErrRowType, typ, f.Name, t.Elem())
			}
			if !optional {
				return nil, fmt.Errorf("%w: %s.%s is a pointer but its column is not optional", ErrRowType, typ, f.Name)
			}
			t = t.Elem()
		} else if !scalar(t.Kind()) {
			return nil, fmt.Errorf("%w: %s.%s is a %s, not a scalar", ErrRowType, typ, f.Name, t)
		} else if optional {
			return nil, fmt.Errorf("%w: %s.%s is optional but not a pointer (a nullable column is a pointer field, nil for NULL)", ErrRowType, typ, f.Name)
		}
		leaf, ok := schema.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("%w: %s.%s has no column %q", ErrRowType, typ, f.Name, name)
		}
		value, err := valueFunc(t.Kind(), leaf.Node.Type().Kind())
		if err != nil {
			return nil, fmt.Errorf("%w: %s.%s: %w", ErrRowType, typ, f.Name, err)
		}
		kind := t.Kind()
		switch {
		case kind == reflect.Int || kind == reflect.Uint || kind == reflect.Uint64:
			kind = reflect.Int64
		case kind == reflect.Uint32:
			kind = reflect.Int32
		}
		cols = append(cols, column{index: leaf.ColumnIndex, offset: f.Offset, value: value, ptr: ptr, elem: t, kind: kind})
	}
	if len(cols) != len(schema.Columns()) {
		return nil, fmt.Errorf("%w: %s has %d fields for %d columns", ErrRowType, typ, len(cols), len(schema.Columns()))
	}
	return cols, nil
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

// valueFunc returns the function that reads a Go value of kind k as a
// value of a column of the physical type p: the value parquet-go's
// reflection writes for it.
func valueFunc(k reflect.Kind, p parquet.Kind) (func(unsafe.Pointer) parquet.Value, error) {
	var want parquet.Kind
	var value func(unsafe.Pointer) parquet.Value
	switch k {
	case reflect.Bool:
		want, value = parquet.Boolean, func(v unsafe.Pointer) parquet.Value { return parquet.BooleanValue(*(*bool)(v)) }
	case reflect.Int8:
		want, value = parquet.Int32, func(v unsafe.Pointer) parquet.Value { return parquet.Int32Value(int32(*(*int8)(v))) }
	case reflect.Int16:
		want, value = parquet.Int32, func(v unsafe.Pointer) parquet.Value { return parquet.Int32Value(int32(*(*int16)(v))) }
	case reflect.Int32:
		want, value = parquet.Int32, func(v unsafe.Pointer) parquet.Value { return parquet.Int32Value(*(*int32)(v)) }
	case reflect.Uint8:
		want, value = parquet.Int32, func(v unsafe.Pointer) parquet.Value { return parquet.Int32Value(int32(*(*uint8)(v))) }
	case reflect.Uint16:
		want, value = parquet.Int32, func(v unsafe.Pointer) parquet.Value { return parquet.Int32Value(int32(*(*uint16)(v))) }
	case reflect.Uint32:
		want, value = parquet.Int32, func(v unsafe.Pointer) parquet.Value { return parquet.Int32Value(int32(*(*uint32)(v))) }
	case reflect.Int64, reflect.Int:
		want, value = parquet.Int64, func(v unsafe.Pointer) parquet.Value { return parquet.Int64Value(*(*int64)(v)) }
	case reflect.Uint64, reflect.Uint:
		want, value = parquet.Int64, func(v unsafe.Pointer) parquet.Value { return parquet.Int64Value(int64(*(*uint64)(v))) }
	case reflect.Float32:
		want, value = parquet.Float, func(v unsafe.Pointer) parquet.Value { return parquet.FloatValue(*(*float32)(v)) }
	case reflect.Float64:
		want, value = parquet.Double, func(v unsafe.Pointer) parquet.Value { return parquet.DoubleValue(*(*float64)(v)) }
	case reflect.String:
		want, value = parquet.ByteArray, func(v unsafe.Pointer) parquet.Value {
			s := *(*string)(v)
			return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
		}
	}
	if p != want {
		return nil, fmt.Errorf("a %s cannot be written to a %s column", k, p)
	}
	return value, nil
}

// Writer streams rows of T into one file.
type Writer[T any] struct {
	f    *os.File
	w    *parquet.GenericWriter[T]
	cols []column
	rows int64 // rows handed to parquet-go
	// group is how many of them are in the row group being written.
	group int
	// halves are cols in two groups encoded side by side.
	halves [2][]column
	// values and values2 are one column's values of a chunk, reused
	// column after column, one for each half.
	values, values2 []parquet.Value
	// buf holds the rows of an incomplete chunk, which the caller may
	// reuse once Write returns: what their pointer fields point at is
	// copied into slots, one array of chunkRows values per pointer field.
	buf   []T
	ptrs  []column
	slots []unsafe.Pointer
}

// Create creates path and returns a writer for rows of T.
func Create[T any](path string) (*Writer[T], error) {
	cols, err := columnsOf[T](parquet.SchemaOf(*new(T)))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	w := &Writer[T]{f: f, w: parquet.NewGenericWriter[T](f, writerOptions()...), cols: cols,
		halves: halve(cols), values: make([]parquet.Value, chunkRows), values2: make([]parquet.Value, chunkRows),
		buf: make([]T, 0, chunkRows)}
	for _, c := range cols {
		if c.ptr {
			w.ptrs = append(w.ptrs, c)
			w.slots = append(w.slots, reflect.New(reflect.ArrayOf(chunkRows, c.elem)).UnsafePointer())
		}
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

// flush hands rows to parquet-go, starting a new row group every
// maxRowsPerRowGroup rows.
func (w *Writer[T]) flush(rows []T) error {
	for len(rows) > 0 {
		if w.group == maxRowsPerRowGroup {
			if err := w.w.Flush(); err != nil {
				return fmt.Errorf("write %s: %w", w.f.Name(), err)
			}
			w.group = 0
		}
		n := min(len(rows), maxRowsPerRowGroup-w.group)
		if err := w.writeColumns(rows[:n]); err != nil {
			return fmt.Errorf("write %s: %w", w.f.Name(), err)
		}
		w.rows += int64(n)
		w.group += n
		rows = rows[n:]
	}
	return nil
}

// writeColumns writes rows, all in the current row group. A batch of
// many rows of many columns is encoded on two goroutines, each with half
// of the columns (a column's writer is its own: its buffer, pages and
// statistics); the file's bytes do not depend on it, as each column's
// pages are the same whoever encodes them.
func (w *Writer[T]) writeColumns(rows []T) error {
	columns := w.w.ColumnWriters()
	if len(rows) < parallelRows || len(w.halves[1]) == 0 {
		return writeColumns(columns, w.cols, rows, w.values)
	}
	var err1 error
	done := make(chan struct{})
	go func() {
		defer close(done)
		err1 = writeColumns(columns, w.halves[1], rows, w.values2)
	}()
	err0 := writeColumns(columns, w.halves[0], rows, w.values)
	<-done
	return errors.Join(err0, err1)
}

// parallelRows is the fewest rows writeColumns shares between two
// goroutines: a night's buckets are thousands of rows, a leftover chunk
// is not worth a goroutine.
const parallelRows = 1024

// halve splits cols into two groups of about the same encoding cost (a
// nullable or string column costs about twice a plain one), or returns
// them as one group when there are too few to share.
func halve(cols []column) [2][]column {
	if len(cols) < 8 {
		return [2][]column{cols, nil}
	}
	var halves [2][]column
	var cost [2]int
	for _, c := range cols {
		k := 0
		if cost[1] < cost[0] {
			k = 1
		}
		halves[k] = append(halves[k], c)
		cost[k]++
		if c.ptr || c.kind == reflect.String {
			cost[k]++
		}
	}
	return halves
}

// writeColumns writes rows to the writers of cols in chunks of
// chunkRows, column by column within a chunk (whose rows stay in cache):
// a column's writer checks whether its page is full after each chunk, as
// parquet-go's row writer does after each 64 rows, so pages end where
// they would. values is scratch space for a chunk.
func writeColumns[T any](columns []*parquet.ColumnWriter, cols []column, rows []T, values []parquet.Value) error {
	defer clear(values)
	for i := 0; i < len(rows); i += chunkRows {
		chunk := rows[i:min(i+chunkRows, len(rows))]
		values := values[:len(chunk)]
		base := unsafe.Pointer(unsafe.SliceData(chunk))
		for _, c := range cols {
			c.fill(values, unsafe.Add(base, c.offset), unsafe.Sizeof(chunk[0]))
			if _, err := columns[c.index].WriteRowValues(values); err != nil {
				return err
			}
		}
	}
	return nil
}

// fillNullable is fill for a pointer field: a nil pointer is a NULL
// (definition level 0), any other the value it points at (level 1).
func (c *column) fillNullable(values []parquet.Value, field unsafe.Pointer, stride uintptr) {
	for j := range values {
		p := *(*unsafe.Pointer)(field)
		field = unsafe.Add(field, stride)
		if p == nil {
			values[j] = parquet.Value{}
			continue
		}
		switch c.kind {
		case reflect.Int32:
			values[j] = parquet.Int32Value(*(*int32)(p))
		case reflect.Int64:
			values[j] = parquet.Int64Value(*(*int64)(p))
		case reflect.Float64:
			values[j] = parquet.DoubleValue(*(*float64)(p))
		case reflect.String:
			s := *(*string)(p)
			values[j] = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
		default:
			values[j] = c.value(p)
		}
		values[j].SetDefinitionLevel(1)
	}
}

// fill sets values to the column's values in the rows from field, the
// column's field in the first row, on, stride bytes apart. The loops are
// spelled out by kind for the common kinds: a call per value costs more
// than the value.
func (c *column) fill(values []parquet.Value, field unsafe.Pointer, stride uintptr) {
	if c.ptr {
		c.fillNullable(values, field, stride)
		return
	}
	switch c.kind {
	case reflect.Int32:
		for j := range values {
			values[j] = parquet.Int32Value(*(*int32)(field))
			field = unsafe.Add(field, stride)
		}
	case reflect.Int64:
		for j := range values {
			values[j] = parquet.Int64Value(*(*int64)(field))
			field = unsafe.Add(field, stride)
		}
	case reflect.Float64:
		for j := range values {
			values[j] = parquet.DoubleValue(*(*float64)(field))
			field = unsafe.Add(field, stride)
		}
	case reflect.String:
		for j := range values {
			s := *(*string)(field)
			values[j] = parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
			field = unsafe.Add(field, stride)
		}
	case reflect.Bool:
		for j := range values {
			values[j] = parquet.BooleanValue(*(*bool)(field))
			field = unsafe.Add(field, stride)
		}
	default:
		for j := range values {
			values[j] = c.value(field)
			field = unsafe.Add(field, stride)
		}
	}
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
