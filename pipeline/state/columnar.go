package state

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/pipeline/pqfile"
)

// The state tables are read column by column, a batch of rows at a time,
// and each column's values are stored straight into their field at its
// offset in the rows. parquet-go's GenericReader reconstructs rows through
// reflection value by value, 3.5× slower on the 34-column accounts table.
//
// A column chunk as this program writes it (pages v1, PLAIN or dictionary,
// snappy) is decoded by pqfile.Chunk from its bytes into typed slices,
// which are copied into the rows: no parquet.Value, no call per value.
// Any other chunk is read through parquet-go's pages and a setter per
// field that stores a parquet.Value. Both are resolved once per table from
// the row type's parquet tags; they handle exactly the field kinds the
// state rows use, and anything else is an error at open, not a misread.

// internMax bounds the distinct values a string column shares.
const internMax = 64

// slabValues is how many values of a nullable column one allocation holds.
const slabValues = 1024

// setter stores v into the field at its offset in the row at p.
type setter func(p unsafe.Pointer, v parquet.Value)

// field is where a column's values go: its offset, how a value is stored
// there, and the setter that stores a parquet.Value (for the chunks read
// through parquet-go's pages). kind is the field's kind for a non-null
// integer field, whose plain pages parquet-go's pages copy without going
// through parquet.Value.
type field struct {
	set      setter // nil: a column the row type does not have
	off      uintptr
	kind     reflect.Kind // reflect.Int64 or reflect.Int32 for parquet-go's direct path, else 0
	store    store
	optional bool
	name     string
}

// store is the kind of field a column's values are stored into.
type store uint8

const (
	storeInt64 store = iota
	storeInt32
	storeBool
	storeString
	storeInt32Ptr  // nullable
	storeStringPtr // nullable
)

// storeOf returns how values are stored into a field of type t, which
// setterOf accepts.
func storeOf(t reflect.Type) store {
	switch t.Kind() {
	case reflect.Int64:
		return storeInt64
	case reflect.Int32:
		return storeInt32
	case reflect.Bool:
		return storeBool
	case reflect.String:
		return storeString
	}
	if t.Elem().Kind() == reflect.Int32 {
		return storeInt32Ptr
	}
	return storeStringPtr
}

// columnSetters returns, for each leaf column of schema in order, the
// field of T with that parquet name.
func columnSetters[T any](schema *parquet.Schema) ([]field, error) {
	typ := reflect.TypeFor[T]()
	byName := map[string]reflect.StructField{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
		byName[name] = f
	}
	cols := schema.Columns()
	out := make([]field, len(cols))
	for i, path := range cols {
		if len(path) != 1 {
			return nil, fmt.Errorf("column %s: nested columns are not state columns", strings.Join(path, "."))
		}
		f, ok := byName[path[0]]
		if !ok {
			continue // a column this program does not know: ignored
		}
		s, err := setterOf(f)
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", path[0], err)
		}
		out[i] = field{set: s, off: f.Offset, store: storeOf(f.Type),
			optional: f.Type.Kind() == reflect.Pointer, name: path[0]}
		if k := f.Type.Kind(); k == reflect.Int64 || k == reflect.Int32 {
			out[i].kind = k
		}
	}
	return out, nil
}

func setterOf(f reflect.StructField) (setter, error) {
	off := f.Offset
	switch f.Type.Kind() {
	case reflect.Int64:
		return func(p unsafe.Pointer, v parquet.Value) {
			if !v.IsNull() {
				*(*int64)(unsafe.Add(p, off)) = v.Int64()
			}
		}, nil
	case reflect.Int32:
		return func(p unsafe.Pointer, v parquet.Value) {
			if !v.IsNull() {
				*(*int32)(unsafe.Add(p, off)) = v.Int32()
			}
		}, nil
	case reflect.Bool:
		return func(p unsafe.Pointer, v parquet.Value) {
			if !v.IsNull() {
				*(*bool)(unsafe.Add(p, off)) = v.Boolean()
			}
		}, nil
	case reflect.String:
		// Statuses, grades and kinds repeat a few values over millions of
		// rows: the first distinct values of a column are shared, not copied
		// again (the lookup by string(b) does not allocate).
		seen := map[string]string{}
		return func(p unsafe.Pointer, v parquet.Value) {
			if v.IsNull() {
				return
			}
			b := v.ByteArray()
			s, ok := seen[string(b)]
			if !ok {
				s = string(b)
				if len(seen) < internMax {
					seen[s] = s
				}
			}
			*(*string)(unsafe.Add(p, off)) = s
		}, nil
	case reflect.Pointer:
		// A nullable column: a non-null value is stored in a slab of its
		// column and the field points at it. A slab is never reused, so a
		// row copied out of the batch keeps its value whatever is decoded
		// next; it is freed with the last row pointing into it.
		switch f.Type.Elem().Kind() {
		case reflect.Int32:
			var slab []int32
			return func(p unsafe.Pointer, v parquet.Value) {
				if v.IsNull() {
					return
				}
				if len(slab) == 0 {
					slab = make([]int32, slabValues)
				}
				slab[0] = v.Int32()
				*(**int32)(unsafe.Add(p, off)) = &slab[0]
				slab = slab[1:]
			}, nil
		case reflect.String:
			str, _ := setterOf(reflect.StructField{Name: f.Name, Type: reflect.TypeFor[string]()})
			var slab []string
			return func(p unsafe.Pointer, v parquet.Value) {
				if v.IsNull() {
					return
				}
				if len(slab) == 0 {
					slab = make([]string, slabValues)
				}
				str(unsafe.Pointer(&slab[0]), v)
				*(**string)(unsafe.Add(p, off)) = &slab[0]
				slab = slab[1:]
			}, nil
		}
	}
	return nil, fmt.Errorf("field %s of kind %s is not a state field kind", f.Name, f.Type)
}

// column streams one column chunk's values across its pages: through a
// pqfile.Chunk, straight from the chunk's bytes, when the chunk is one it
// decodes (every chunk this program writes), else through parquet-go's
// pages.
type column struct {
	field
	chunk  pqfile.Chunk
	direct bool // the open chunk is read through chunk
	pages  parquet.Pages
	page   parquet.Page
	vr     parquet.ValueReader
	i64    parquet.Int64Reader // the page's, on the direct path of parquet-go's pages
	i32    parquet.Int32Reader
	// Slabs of the nullable values read through chunk (see setterOf).
	slab32  []int32
	slabStr []string
}

// directPath enables the direct decoding of column chunks; the tests turn
// it off to compare with parquet-go's.
var directPath = true

// The chunks of a table are read in windows of tableWindow bytes shared
// among its columns, and of at least columnWindow each: a few reads per
// chunk of a large row group, one for a small chunk, and a memory bound
// per open table of about the window and a page per column, as when
// parquet-go reads page by page.
const (
	tableWindow  = 256 << 10
	columnWindow = 32 << 10
)

// openColumns opens every column chunk of row group g of pf, whose bytes
// are read from r, into cols. It counts in chunks how many are read
// directly and how many through parquet-go.
func openColumns(pf *parquet.File, r io.ReaderAt, g int, cols []column, chunks *chunkCount) error {
	rg := pf.RowGroups()[g]
	md := &pf.Metadata().RowGroups[g]
	ccs := rg.ColumnChunks()
	if len(ccs) != len(cols) || len(md.Columns) != len(cols) {
		return fmt.Errorf("row group %d has %d columns, the schema %d", g, len(ccs), len(cols))
	}
	read := 0
	for i := range cols {
		if cols[i].set != nil {
			read++
		}
	}
	for i := range cols {
		c := &cols[i]
		c.direct, c.pages = false, nil
		if c.set == nil {
			continue // a column the row type does not have: not read
		}
		c.chunk.Window = max(columnWindow, tableWindow/read)
		cc := &md.Columns[i]
		if cc.MetaData.NumValues != rg.NumRows() {
			return fmt.Errorf("row group %d: column %s has %d values in %d rows", g, strings.Join(cc.MetaData.PathInSchema, "."), cc.MetaData.NumValues, rg.NumRows())
		}
		if directPath {
			err := c.chunk.Open(r, cc, c.optional)
			if err == nil {
				c.direct = true
				chunks.direct++
				continue
			}
			if !errors.Is(err, pqfile.ErrChunkUnsupported) {
				return fmt.Errorf("row group %d: %w", g, err)
			}
		}
		chunks.parquet++
		c.pages = ccs[i].Pages()
	}
	return nil
}

// chunkCount counts the column chunks a cursor read each way.
type chunkCount struct{ direct, parquet int }

// scratch holds a batch's values on their way into the rows.
type scratch struct {
	vals  []parquet.Value
	i64   []int64
	i32   []int32
	bools []bool
	strs  []string
	valid []bool
}

func newScratch() *scratch {
	return &scratch{vals: make([]parquet.Value, 1024), i64: make([]int64, 1024), i32: make([]int32, 1024),
		bools: make([]bool, 1024), strs: make([]string, 1024), valid: make([]bool, 1024)}
}

func closeColumns(cols []column) {
	for i := range cols {
		c := &cols[i]
		if c.page != nil {
			parquet.Release(c.page)
		}
		if c.pages != nil {
			c.pages.Close()
		}
		c.page, c.pages, c.vr, c.i64, c.i32 = nil, nil, nil, nil, nil
	}
}

// readBatch decodes the next len(rows) values of every column into rows,
// a small batch, so that the rows stay in cache while each column is set.
func readBatch[T any](cols []column, rows []T, sc *scratch) error {
	size := unsafe.Sizeof(rows[0])
	base := unsafe.Pointer(unsafe.SliceData(rows))
	for ci := range cols {
		c := &cols[ci]
		if c.set == nil {
			continue
		}
		if c.direct {
			if err := c.readDirect(base, size, len(rows), sc); err != nil {
				return err
			}
			continue
		}
		got := 0
		for got < len(rows) {
			if c.vr == nil {
				p, err := c.pages.ReadPage()
				if errors.Is(err, io.EOF) {
					return fmt.Errorf("column %d ends after %d of %d rows", ci, got, len(rows))
				}
				if err != nil {
					return err
				}
				c.page, c.vr = p, p.Values()
				// A non-null integer column of plain pages is copied
				// as it is; any other page goes value by value.
				c.i64, c.i32 = nil, nil
				if p.NumNulls() == 0 {
					switch c.kind {
					case reflect.Int64:
						c.i64, _ = c.vr.(parquet.Int64Reader)
					case reflect.Int32:
						c.i32, _ = c.vr.(parquet.Int32Reader)
					}
				}
			}
			want := len(rows) - got
			var n int
			var err error
			switch {
			case c.i64 != nil:
				n, err = c.i64.ReadInt64s(sc.i64[:min(len(sc.i64), want)])
				p := unsafe.Add(base, uintptr(got)*size+c.off)
				for _, x := range sc.i64[:n] {
					*(*int64)(p) = x
					p = unsafe.Add(p, size)
				}
				got += n
			case c.i32 != nil:
				n, err = c.i32.ReadInt32s(sc.i32[:min(len(sc.i32), want)])
				p := unsafe.Add(base, uintptr(got)*size+c.off)
				for _, x := range sc.i32[:n] {
					*(*int32)(p) = x
					p = unsafe.Add(p, size)
				}
				got += n
			default:
				n, err = c.vr.ReadValues(sc.vals[:min(len(sc.vals), want)])
				for _, v := range sc.vals[:n] {
					c.set(unsafe.Add(base, uintptr(got)*size), v)
					got++
				}
			}
			if errors.Is(err, io.EOF) {
				parquet.Release(c.page)
				c.page, c.vr, c.i64, c.i32 = nil, nil, nil, nil
			} else if err != nil {
				return err
			} else if n == 0 {
				return fmt.Errorf("column %d: a page gave no value", ci)
			}
		}
	}
	return nil
}

// readDirect stores the next n values of a column read through its chunk
// into the n rows at base, each size bytes.
func (c *column) readDirect(base unsafe.Pointer, size uintptr, n int, sc *scratch) error {
	for got := 0; got < n; {
		want := min(n-got, len(sc.valid))
		p := unsafe.Add(base, uintptr(got)*size+c.off)
		var k int
		var err error
		switch c.store {
		case storeInt64:
			k, err = c.chunk.ReadInt64s(sc.i64[:want], nil)
			scatter(p, size, sc.i64[:k])
		case storeInt32:
			k, err = c.chunk.ReadInt32s(sc.i32[:want], nil)
			scatter(p, size, sc.i32[:k])
		case storeBool:
			k, err = c.chunk.ReadBooleans(sc.bools[:want], nil)
			scatter(p, size, sc.bools[:k])
		case storeString:
			k, err = c.chunk.ReadStrings(sc.strs[:want], nil)
			scatter(p, size, sc.strs[:k])
		case storeInt32Ptr:
			k, err = c.chunk.ReadInt32s(sc.i32[:want], sc.valid[:want])
			scatterPtr(p, size, sc.i32[:k], sc.valid[:k], &c.slab32)
		case storeStringPtr:
			k, err = c.chunk.ReadStrings(sc.strs[:want], sc.valid[:want])
			scatterPtr(p, size, sc.strs[:k], sc.valid[:k], &c.slabStr)
		}
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("column %s ends after %d of %d rows", c.name, got, n)
		}
		if err != nil {
			return err
		}
		got += k
	}
	return nil
}

// scatter stores vals into the field at p of consecutive rows size bytes
// apart.
func scatter[V any](p unsafe.Pointer, size uintptr, vals []V) {
	for _, v := range vals {
		*(*V)(p) = v
		p = unsafe.Add(p, size)
	}
}

// scatterPtr points the nullable field at p of consecutive rows size
// bytes apart at the valid ones of vals, copied into the column's slab
// (see setterOf); a null's field is left nil.
func scatterPtr[V any](p unsafe.Pointer, size uintptr, vals []V, valid []bool, slab *[]V) {
	for i, v := range vals {
		if valid[i] {
			if len(*slab) == 0 {
				*slab = make([]V, slabValues)
			}
			s := *slab
			s[0] = v
			*(**V)(p) = &s[0]
			*slab = s[1:]
		}
		p = unsafe.Add(p, size)
	}
}
