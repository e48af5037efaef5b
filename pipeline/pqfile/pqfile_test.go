package pqfile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

type row struct {
	ID     int64   `parquet:"id"`
	Kind   string  `parquet:"kind,dict"`
	Amount int64   `parquet:"amount"`
	Score  *int32  `parquet:"score,optional"`
	Note   *string `parquet:"note,optional"`
}

func testRows(n int) []row {
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{ID: int64(i), Kind: []string{"purchase", "refund", "fee"}[i%3], Amount: int64(i * 7919 % 100003)}
		if i%3 != 1 {
			s := int32(i % 1000)
			rows[i].Score = &s
		}
		if i%5 == 0 {
			s := "note " + string(rune('a'+i%26))
			rows[i].Note = &s
		}
	}
	return rows
}

// writeSplit writes rows in calls of the given sizes (cycled), from a
// buffer the caller overwrites after each call, as the pipeline recycles
// its buckets' rows and what their nullable columns point at.
func writeSplit(t *testing.T, path string, rows []row, sizes []int) {
	t.Helper()
	w, err := Create[row](path)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]row, 0, 5000)
	ints := make([]int32, 5000)
	strs := make([]string, 5000)
	for i, k := 0, 0; i < len(rows); k++ {
		n := min(sizes[k%len(sizes)], len(rows)-i)
		buf = buf[:0]
		for j, r := range rows[i : i+n] {
			if r.Score != nil {
				ints[j] = *r.Score
				r.Score = &ints[j]
			}
			if r.Note != nil {
				strs[j] = *r.Note
				r.Note = &strs[j]
			}
			buf = append(buf, r)
		}
		if err := w.Write(buf); err != nil {
			t.Fatal(err)
		}
		for j := range ints { // the caller reuses its buffers at once
			ints[j], strs[j] = -1, "reused"
		}
		i += n
	}
	if got := w.Rows(); got != int64(len(rows)) {
		t.Errorf("Rows() = %d, want %d", got, len(rows))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// The bytes of a file depend on its rows alone, not on how the caller
// splits them into Write calls (pages are cut at the same rows), and
// nullable values survive the caller's reuse of its buffers.
func TestSameRowsSameBytesWhateverTheSplit(t *testing.T) {
	rows := testRows(40000) // several 64 KiB pages per column
	dir := t.TempDir()
	var ref []byte
	for i, sizes := range [][]int{{4096}, {1}, {97}, {63, 65, 1, 4000}, {5000, 128}} {
		path := filepath.Join(dir, "t.parquet")
		writeSplit(t, path, rows, sizes)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile[row](path)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, rows) {
			for j := range rows {
				if !reflect.DeepEqual(got[j], rows[j]) {
					t.Fatalf("writes of %v: row %d read back as %+v, want %+v", sizes, j, got[j], rows[j])
				}
			}
		}
		if i == 0 {
			ref = b
		} else if !bytes.Equal(b, ref) {
			t.Errorf("writes of %v: %d bytes, differ from writes of 4096 (%d bytes)", sizes, len(b), len(ref))
		}
	}
}

// A nullable column is a pointer field: parquet-go's zero-as-null path
// for an optional non-pointer field writes a zero as NULL or as a value
// depending on the batches, so such a row type is refused.
func TestCreateRefusesOptionalNonPointer(t *testing.T) {
	type zeroAsNull struct {
		ID  int64 `parquet:"id"`
		Due int32 `parquet:"due_date,date,optional"`
	}
	_, err := Create[zeroAsNull](filepath.Join(t.TempDir(), "t.parquet"))
	if !errors.Is(err, ErrRowType) {
		t.Fatalf("Create of an optional non-pointer field: err = %v, want ErrRowType", err)
	}
	type pointerRequired struct {
		Due *int32 `parquet:"due_date,date"`
	}
	if _, err := Create[pointerRequired](filepath.Join(t.TempDir(), "t.parquet")); !errors.Is(err, ErrRowType) {
		t.Fatalf("Create of a required pointer field: err = %v, want ErrRowType", err)
	}
}

func TestCreatedByCarriesVersion(t *testing.T) {
	defer SetVersion("")
	SetVersion("v1.2.3")
	if got, want := CreatedBy(), "creditrun version v1.2.3"; got != want {
		t.Errorf("CreatedBy() = %q, want %q", got, want)
	}
}
