package pqfile

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// windowRow has integer columns of narrow and wide ranges, and a string
// column of more distinct values than a dictionary holds without a map.
type windowRow struct {
	Day    int32   `parquet:"day"`            // dates: a year from its first
	Delta  *int64  `parquet:"delta,optional"` // around zero, both signs
	Amount int64   `parquet:"amount"`         // a thousand values a million apart
	Mixed  int64   `parquet:"mixed"`          // mostly small, some wide
	Count  int8    `parquet:"count"`          // a handful
	Code   string  `parquet:"code"`           // twenty codes
	Kind   *string `parquet:"kind,optional"`  // three kinds
	ID     int64   `parquet:"id"`             // ascending in runs of eight, past a window in a chunk
	Back   int64   `parquet:"back"`           // ascending in runs of eight, back to 0 every 30,000 rows
	Neg    int64   `parquet:"neg"`            // ascending in runs of eight, through -1 to 0 in the last chunk
}

func windowRows(n int) []windowRow {
	rows := make([]windowRow, n)
	deltas := make([]int64, n)
	kinds := []string{"purchase", "refund", "fee"}
	for i := range rows {
		r := &rows[i]
		*r = windowRow{
			Day: int32(20089 + i*7%365), Amount: int64(i*7919%1000) * 1_000_003,
			Mixed: int64(i % 10), Count: int8(i % 5), Code: "code-" + strconv.Itoa(i*13%20),
			ID: 1_000_000 + int64(i/8), Back: int64(i%30_000/8) * 2, Neg: int64(i/8) - 35_000,
		}
		if i%17 == 0 {
			r.Mixed = int64(i%50+1) * 987_654_321
		}
		if i%3 != 0 {
			deltas[i] = int64(i*31%200) - 100
			r.Delta = &deltas[i]
		}
		if i%4 != 0 {
			r.Kind = &kinds[i%3]
		}
	}
	return rows
}

// tableState is what a column's dictionary holds: its entries, those in
// its table's window and its hash table, its strings' map.
type tableState struct {
	plain                           bool
	entries, window, hashed, mapped int
	out                             int // left behind the window
	hasMap                          bool
}

// writeWindowRows writes rows to path in buckets of 4096 and returns what
// each column's dictionary holds before Close: the last chunk's.
func writeWindowRows(t *testing.T, path string, rows []windowRow) map[string]tableState {
	t.Helper()
	w, err := Create[windowRow](path)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(rows); i += 4096 {
		if err := w.Write(rows[i:min(i+4096, len(rows))]); err != nil {
			t.Fatal(err)
		}
	}
	states := map[string]tableState{}
	for _, c := range w.columns {
		st := tableState{plain: c.plain, entries: c.dictLen, mapped: len(c.stringDict), hasMap: c.stringDict != nil}
		if tb := c.fixedDict; tb != nil {
			st.hashed, st.out = tb.n, int(tb.out)
			if tb.window != nil {
				for _, id := range tb.window {
					if id != 0 {
						st.window++
					}
				}
			}
		}
		states[c.name] = st
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return states
}

// An integer column whose values stay near its chunk's first is looked up
// through the window alone, one of wide range through the hash table (but
// for that first value), a mixed one through both; one of ascending values
// through the window as it follows them, the values it left behind in
// neither, until a value comes out of order: those then go to the hash
// table. The file is the same bytes as with every value hashed, and reads
// back as written.
func TestDictionaryWindow(t *testing.T) {
	rows := windowRows(300_000) // a row group and a part: the window is placed again
	dir := t.TempDir()
	got, want := filepath.Join(dir, "window.parquet"), filepath.Join(dir, "hashed.parquet")
	states := writeWindowRows(t, got, rows)
	for _, tc := range []struct {
		name           string
		window, hashed bool
	}{
		{"day", true, false},
		{"delta", true, false},
		{"count", true, false},
		{"amount", false, true},
		{"mixed", true, true},
	} {
		st := states[tc.name]
		if st.plain || st.entries == 0 {
			t.Errorf("%s: no dictionary in the last chunk (plain %v), want one", tc.name, st.plain)
			continue
		}
		if st.window+st.hashed+st.out != st.entries {
			t.Errorf("%s: %d entries in the window and %d hashed, want the dictionary's %d", tc.name, st.window, st.hashed, st.entries)
		}
		// The chunk's first value is in the window, wherever the others are.
		if (st.window > 1) != tc.window || st.window < 1 || (st.hashed > 0) != tc.hashed {
			t.Errorf("%s: %d entries in the window and %d hashed, want more than the first in the window %v, any hashed %v", tc.name, st.window, st.hashed, tc.window, tc.hashed)
		}
	}
	// The last chunk holds rows 262,144 to 299,999: id ascends through
	// it; back ascends to its 270,000th row, and its values come again.
	if st := states["id"]; st.out == 0 || st.hashed != 0 || st.window == 0 || st.window+st.out != st.entries {
		t.Errorf("id: %d entries left behind, %d in the window, %d hashed of %d, want the window to have followed them, none hashed",
			st.out, st.window, st.hashed, st.entries)
	}
	if st := states["back"]; st.out != 0 || st.hashed == 0 || st.entries != 3750 {
		t.Errorf("back: %d entries left behind, %d hashed of %d, want those left behind hashed once out of order, and 3,750 entries",
			st.out, st.hashed, st.entries)
	}
	if st := states["neg"]; st.entries != 4732 || st.window+st.hashed+st.out != st.entries {
		t.Errorf("neg: %d entries (%d in the window, %d hashed, %d left behind), want 4,732", st.entries, st.window, st.hashed, st.out)
	}
	if st := states["code"]; !st.hasMap || st.mapped != 20 {
		t.Errorf("code: %d strings in the map, want all 20", st.mapped)
	}
	if st := states["kind"]; st.hasMap || st.entries != 3 {
		t.Errorf("kind: a map of %d, a dictionary of %d, want no map and 3", st.mapped, st.entries)
	}

	windowed = false
	defer func() { windowed = true }()
	for name, st := range writeWindowRows(t, want, rows) {
		if st.window > 0 || st.hashed != states[name].hashed+states[name].window+states[name].out {
			t.Fatalf("%s: %d entries in the window and %d hashed with the window off, want all %d hashed", name, st.window, st.hashed, st.entries)
		}
	}
	a, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Errorf("with the window: %d bytes, differ from every value hashed (%d bytes)", len(a), len(b))
	}
	back, err := ReadFile[windowRow](got)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rows) {
		t.Fatal("rows read back differ from those written")
	}
}

// A table reserved for n keys takes them without growing, and keeps the
// keys it holds when it is reserved for more.
func TestTableReserve(t *testing.T) {
	tb := &fixedTable{gen: 1}
	for _, n := range []int{0, 1, 192, 193, 1000, 5000} {
		tb.reset()
		tb.reserve(n)
		size := len(tb.slots)
		if n > 0 && (4*n > 3*size || size&(size-1) != 0) {
			t.Fatalf("reserve(%d): %d slots, want a power of two at most three quarters full", n, size)
		}
		for k := range n {
			if _, found := tb.insert(uint64(k)*1_000_003, int32(k)); found {
				t.Fatalf("reserve(%d): key %d found before it was inserted", n, k)
			}
		}
		if len(tb.slots) != size {
			t.Errorf("reserve(%d): grew from %d to %d slots", n, size, len(tb.slots))
		}
		tb.reserve(4 * n)
		for k := range n {
			if id, found := tb.find(uint64(k) * 1_000_003); !found || id != int32(k) {
				t.Fatalf("reserve(%d), then for %d: key %d is %d (found %v), want %d", n, 4*n, k, id, found, k)
			}
		}
	}
}

// sameBytesRow has a dictionary string column whose values are often the
// very bytes of the row before (one constant handed to every row).
type sameBytesRow struct {
	Version string  `parquet:"version,dict"`
	Reason  *string `parquet:"reason,optional,dict"`
}

// TestStringsOfTheSameBytes writes rows whose strings share their bytes
// with the row before, equal strings at other addresses, other strings of
// the same length, NULLs between, across pages and row groups, and a
// caller's buffer rewritten in place between two Write calls (the same
// address holding another value): every value reads back as written.
func TestStringsOfTheSameBytes(t *testing.T) {
	buf := []byte("AAAA")
	// The caller's bytes, as a decoder's view of its page.
	mutable := unsafe.String(&buf[0], len(buf))
	consts := []string{"v1", "CODE_A", "CODE_B", "LOW_UTILIZATION"} // two of one length
	var rows []sameBytesRow
	var want []sameBytesRow
	add := func(v string, r *string) {
		rows = append(rows, sameBytesRow{Version: v, Reason: r})
		row := sameBytesRow{Version: strings.Clone(v)}
		if r != nil {
			c := strings.Clone(*r)
			row.Reason = &c
		}
		want = append(want, row)
	}
	n := 3*(64<<10) + 123 // more than two row groups
	for i := range n {
		var r *string
		switch {
		case i%7 == 0: // NULL
		case i%5 == 0:
			s := strings.Clone(consts[i%4]) // equal, elsewhere
			r = &s
		default:
			r = &consts[(i/100+i/3)%4] // runs of the same bytes
		}
		add(consts[0], r)
	}
	path := filepath.Join(t.TempDir(), "same.parquet")
	w, err := Create[sameBytesRow](path)
	if err != nil {
		t.Fatal(err)
	}
	for j := 0; j < len(rows); j += 1000 {
		if err := w.Write(rows[j:min(j+1000, len(rows))]); err != nil {
			t.Fatal(err)
		}
	}
	// The same address, another value in each call.
	for _, v := range []string{"AAAA", "BBBB", "CCCC"} {
		copy(buf, v)
		batch := []sameBytesRow{{Version: mutable, Reason: &mutable}, {Version: mutable, Reason: &mutable}}
		if err := w.Write(batch); err != nil {
			t.Fatal(err)
		}
		for range batch {
			c, d := strings.Clone(v), strings.Clone(v)
			want = append(want, sameBytesRow{Version: c, Reason: &d})
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile[sameBytesRow](path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows read, %d written", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("row %d: read %+v (reason %v), wrote %+v (reason %v)", i, got[i], deref(got[i].Reason), want[i], deref(want[i].Reason))
		}
	}
}

func deref(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

type probeRow struct {
	V int64  `parquet:"v"`
	W int32  `parquet:"w"`
	P *int64 `parquet:"p,optional"`
}

// A fixed-width column whose first page's dictionary can no longer pay is
// made PLAIN as soon as that is certain, before the page's end: the files
// are the same bytes as with every first page probed at its end, whatever
// the number of distinct values (those around the bounds where a first
// page's dictionary stops paying included), and they read back as written.
func TestProbeDoomedSameBytes(t *testing.T) {
	for _, d := range []int{1, 700, 1024, 1025, 1300, 1344, 1345, 1500, 2048, 2049, 2050, 2600, 4096, 4097, 70_000} {
		rows := make([]probeRow, 70_000) // a row group and a part
		for i := range rows {
			x := uint32(i%d) * 2_654_435_761 // d distinct values in no order: hashed
			x ^= x >> 15
			k := int64(x)
			rows[i] = probeRow{V: k * 7_919, W: int32(x)}
			if i%3 != 0 {
				v := k * 1_000_003
				rows[i].P = &v
			}
		}
		write := func(early bool) ([]byte, map[string]int) {
			earlyProbe = early
			defer func() { earlyProbe = true }()
			path := filepath.Join(t.TempDir(), "probe.parquet")
			w, err := Create[probeRow](path)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(rows); i += 5000 {
				if err := w.Write(rows[i:min(i+5000, len(rows))]); err != nil {
					t.Fatal(err)
				}
			}
			probed := map[string]int{}
			for _, c := range w.columns {
				probed[c.name] = c.lastDictLen
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			return b, probed
		}
		early, probed := write(true)
		late, _ := write(false)
		if !bytes.Equal(early, late) {
			t.Errorf("%d distinct values: %d bytes probing early, %d probing at the page's end, want the same bytes", d, len(early), len(late))
		}
		// A unique column's first page stops at the bound, not at its end
		// (its first entry is in the window, the others hashed).
		if d == 70_000 && (probed["v"] != doomedEntries(8)-1 || probed["w"] != doomedEntries(4)-1) {
			t.Errorf("unique values: the first pages probed after %d and %d hashed entries, want %d and %d",
				probed["v"], probed["w"], doomedEntries(8)-1, doomedEntries(4)-1)
		}
		back, err := ReadFile[probeRow](writeTemp(t, early))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(back, rows) {
			t.Fatalf("%d distinct values: rows read back differ from those written", d)
		}
	}
}

func writeTemp(t *testing.T, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "f.parquet")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}
