package state

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// The state tables are read column by column: each column's pages are
// decoded into values and each value is stored straight into its field.
// parquet-go's GenericReader reconstructs rows through reflection value by
// value, which made it the largest cost of a night (3.5× slower on the
// 34-column accounts table). The setters are resolved once per table from
// the row type's parquet tags; they handle exactly the field kinds the
// state rows use, and anything else is an error at open, not a misread.

// internMax bounds the distinct values a string column shares.
const internMax = 64

// slabValues is how many values of a nullable column one allocation holds.
const slabValues = 1024

// setter stores v into the field at its offset in the row at p.
type setter func(p unsafe.Pointer, v parquet.Value)

// field is where a column's values go: its setter, and for a non-null
// integer field its offset and kind, which let a plain page's values be
// copied straight into the rows without going through parquet.Value.
type field struct {
	set  setter // nil: a column the row type does not have
	off  uintptr
	kind reflect.Kind // reflect.Int64 or reflect.Int32 for the direct path, else 0
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
		out[i] = field{set: s, off: f.Offset}
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

// column streams one column chunk's values across its pages.
type column struct {
	field
	pages parquet.Pages
	page  parquet.Page
	vr    parquet.ValueReader
	i64   parquet.Int64Reader // the page's, on the direct path
	i32   parquet.Int32Reader
}

// openColumns opens every column chunk of rg.
func openColumns(rg parquet.RowGroup, fields []field) []column {
	ccs := rg.ColumnChunks()
	cols := make([]column, len(ccs))
	for i, cc := range ccs {
		cols[i] = column{pages: cc.Pages(), field: fields[i]}
	}
	return cols
}

// scratch holds a batch's values on their way into the rows.
type scratch struct {
	vals []parquet.Value
	i64  []int64
	i32  []int32
}

func newScratch() *scratch {
	return &scratch{vals: make([]parquet.Value, 1024), i64: make([]int64, 1024), i32: make([]int32, 1024)}
}

func closeColumns(cols []column) {
	for i := range cols {
		if cols[i].page != nil {
			parquet.Release(cols[i].page)
		}
		cols[i].pages.Close()
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
