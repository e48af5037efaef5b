package pqfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// valueKind is how a column's values are read from a row: the Go type of
// its field (or of what the field points at).
type valueKind uint8

const (
	kindBool valueKind = iota
	kindInt8
	kindInt16
	kindInt32
	kindInt64
	kindInt
	kindUint8
	kindUint16
	kindUint32
	kindUint64
	kindUint
	kindFloat32
	kindFloat64
	kindString
)

// kinds maps a Go kind to its valueKind and the physical type parquet-go
// gives it.
var kinds = map[reflect.Kind]struct {
	kind     valueKind
	physical format.Type
}{
	reflect.Bool:    {kindBool, format.Boolean},
	reflect.Int8:    {kindInt8, format.Int32},
	reflect.Int16:   {kindInt16, format.Int32},
	reflect.Int32:   {kindInt32, format.Int32},
	reflect.Int64:   {kindInt64, format.Int64},
	reflect.Int:     {kindInt, format.Int64},
	reflect.Uint8:   {kindUint8, format.Int32},
	reflect.Uint16:  {kindUint16, format.Int32},
	reflect.Uint32:  {kindUint32, format.Int32},
	reflect.Uint64:  {kindUint64, format.Int64},
	reflect.Uint:    {kindUint, format.Int64},
	reflect.Float32: {kindFloat32, format.Float},
	reflect.Float64: {kindFloat64, format.Double},
	reflect.String:  {kindString, format.ByteArray},
}

// columnSpec is one column of a row type: where its value is in the row
// and how it is written.
type columnSpec struct {
	name     string
	offset   uintptr
	kind     valueKind
	physical format.Type
	optional bool // the field is a pointer, nil for NULL
	dict     bool // tagged `dict`: few distinct values, dictionary encoded without the first page's test
}

// rowLayout is what a row type writes: its columns in schema order and
// the footer fields every file of it shares (schema, column orders,
// key-value metadata), as parquet-go writes them for the same struct.
type rowLayout struct {
	columns  []columnSpec
	schema   []format.SchemaElement
	orders   []format.ColumnOrder
	metadata []format.KeyValue
}

// layouts caches the rowLayout of every row type, by reflect.Type.
var layouts sync.Map

// layoutOf returns the layout of T, resolving it on first use.
func layoutOf[T any]() (*rowLayout, error) {
	typ := reflect.TypeFor[T]()
	if l, ok := layouts.Load(typ); ok {
		return l.(*rowLayout), nil
	}
	l, err := resolveLayout[T](typ)
	if err != nil {
		return nil, err
	}
	actual, _ := layouts.LoadOrStore(typ, l)
	return actual.(*rowLayout), nil
}

// resolveLayout checks that T is a flat row struct and finds its columns.
// The schema is the one parquet-go derives from the struct and its tags:
// the footer of a file of no rows that parquet-go writes for T, so names,
// physical and logical types and repetition are what its writer gives
// them.
func resolveLayout[T any](typ reflect.Type) (*rowLayout, error) {
	if typ.Kind() != reflect.Struct {
		return nil, fmt.Errorf("%w: %s is not a struct", ErrRowType, typ)
	}
	fields := map[string]reflect.StructField{}
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag := f.Tag.Get("parquet")
		if tag == "-" || !f.IsExported() {
			continue
		}
		opts := strings.Split(tag, ",")
		optional := false
		for _, opt := range opts[1:] {
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
		} else if !scalar(kind) {
			return nil, fmt.Errorf("%w: %s.%s is a %s, not a scalar", ErrRowType, typ, f.Name, f.Type)
		} else if optional {
			return nil, fmt.Errorf("%w: %s.%s is optional but not a pointer (a nullable column is a pointer field, nil for NULL)", ErrRowType, typ, f.Name)
		}
		name := opts[0]
		if name == "" {
			name = f.Name
		}
		fields[name] = f
	}

	md, err := emptyFooter[T]()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrRowType, typ, err)
	}
	dict := map[string]bool{}
	for _, f := range parquet.SchemaOf(reflect.Zero(typ).Interface()).Fields() {
		if enc := f.Encoding(); enc != nil && enc.Encoding() == format.RLEDictionary {
			dict[f.Name()] = true
		}
	}
	l := &rowLayout{schema: md.Schema, orders: md.ColumnOrders, metadata: md.KeyValueMetadata}
	if len(md.Schema) == 0 || md.Schema[0].NumChildren.V != int32(len(md.Schema)-1) {
		return nil, fmt.Errorf("%w: %s is not a flat struct", ErrRowType, typ)
	}
	for _, el := range md.Schema[1:] {
		f, ok := fields[el.Name]
		if !ok || el.NumChildren.Valid {
			return nil, fmt.Errorf("%w: %s: column %q is not one of its scalar fields", ErrRowType, typ, el.Name)
		}
		t := f.Type
		optional := t.Kind() == reflect.Pointer
		if optional {
			t = t.Elem()
		}
		k := kinds[t.Kind()]
		if !el.Type.Valid || el.Type.V != k.physical {
			return nil, fmt.Errorf("%w: %s.%s: a %s written as %s, not %s", ErrRowType, typ, f.Name, t, el.Type.V, k.physical)
		}
		if optional != (el.RepetitionType.V == format.Optional) {
			return nil, fmt.Errorf("%w: %s.%s: repetition %s", ErrRowType, typ, f.Name, el.RepetitionType.V)
		}
		l.columns = append(l.columns, columnSpec{
			name: el.Name, offset: f.Offset, kind: k.kind, physical: k.physical, optional: optional,
			dict: dict[el.Name] && k.kind != kindBool,
		})
	}
	return l, nil
}

// emptyFooter returns the footer parquet-go writes for a file of T with
// no rows.
func emptyFooter[T any]() (md *format.FileMetaData, err error) {
	defer func() {
		if r := recover(); r != nil { // parquet-go panics on types it has no schema for
			err = fmt.Errorf("parquet-go: %v", r)
		}
	}()
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[T](&buf)
	if err := w.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	if len(b) < 12 {
		return nil, fmt.Errorf("parquet-go wrote a file of %d bytes", len(b))
	}
	n := int(binary.LittleEndian.Uint32(b[len(b)-8:]))
	if n > len(b)-12 {
		return nil, fmt.Errorf("parquet-go wrote a footer of %d bytes in a file of %d", n, len(b))
	}
	md = new(format.FileMetaData)
	if err := thrift.Unmarshal(&thrift.CompactProtocol{}, b[len(b)-8-n:len(b)-8], md); err != nil {
		return nil, err
	}
	return md, nil
}

func scalar(k reflect.Kind) bool {
	_, ok := kinds[k]
	return ok
}
