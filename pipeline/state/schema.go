package state

import (
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// leaf is one column of a schema as the state reader depends on it.
type leaf struct {
	name     string
	physical string
	logical  string
	optional bool
}

func (l leaf) String() string {
	s := l.physical
	if l.logical != "" {
		s += " " + l.logical
	}
	if l.optional {
		s += " optional"
	}
	return s
}

func leaves(s *parquet.Schema) []leaf {
	var out []leaf
	for _, path := range s.Columns() {
		n, _ := s.Lookup(path...)
		l := leaf{name: strings.Join(path, "."), physical: n.Node.Type().Kind().String(), optional: n.Node.Optional()}
		if lt := n.Node.Type().LogicalType(); lt != nil {
			l.logical = lt.String()
		}
		out = append(out, l)
	}
	return out
}

// addedLater are the state columns added since the first snapshots, each
// nullable and after every column before it: a snapshot written before
// one lacks it at its end, and reads it as NULL.
var addedLater = map[string]bool{"features_on": true}

// checkSchema requires that a state table has exactly the columns of the
// row type T, in order, each with its physical type, logical type and
// nullability: a missing, renamed, retyped or extra column is an error,
// never a column of zeros.
func checkSchema[T any](got *parquet.Schema) error {
	want := leaves(parquet.SchemaOf(new(T)))
	have := leaves(got)
	byName := map[string]leaf{}
	for _, l := range have {
		byName[l.name] = l
	}
	for i, w := range want {
		h, ok := byName[w.name]
		switch {
		case !ok && addedLater[w.name] && i >= len(have):
			continue // a snapshot from before the column: NULL
		case !ok:
			return fmt.Errorf("column %s: expected %s, found missing", w.name, w)
		case h != w:
			return fmt.Errorf("column %s: expected %s, found %s", w.name, w, h)
		case i >= len(have) || have[i].name != w.name:
			return fmt.Errorf("column %s: expected at position %d", w.name, i+1)
		}
	}
	if len(have) > len(want) {
		return fmt.Errorf("column %s: not a state column", have[len(want)].name)
	}
	return nil
}

// schemaText is a table's schema as _state.json records it.
func schemaText(s *parquet.Schema) string {
	var b strings.Builder
	for i, l := range leaves(s) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(l.name + " " + l.String())
	}
	return b.String()
}
