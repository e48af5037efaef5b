package pqfile

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// concatParts writes rows as len(sizes) files of those sizes, and
// returns their paths.
func concatParts(t *testing.T, dir string, rows []row, sizes []int) []string {
	t.Helper()
	var paths []string
	for i, n := range sizes {
		p := filepath.Join(dir, "part"+strconv.Itoa(i)+".parquet")
		if err := WriteFile(p, rows[:n]); err != nil {
			t.Fatal(err)
		}
		rows = rows[n:]
		paths = append(paths, p)
	}
	return paths
}

// Concatenated parts read back as the rows of every part in order, with
// the page indexes of every row group intact, whatever the parts' sizes
// (an empty part, a part of several row groups).
func TestConcatRows(t *testing.T) {
	dir := t.TempDir()
	rows := testRows(2*maxRowsPerRowGroup + 1000)
	sizes := []int{1000, 0, maxRowsPerRowGroup + 7, 3, len(rows) - 1010 - maxRowsPerRowGroup}
	parts := concatParts(t, dir, rows, sizes)
	dst := filepath.Join(dir, "all.parquet")
	if err := Concat(dst, parts); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile[row](dst)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, rows) {
		t.Fatalf("read %d rows, want %d, or they differ", len(got), len(rows))
	}
	f, err := os.Open(dst)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pf.RowGroups()); n != 5 { // 1 + 0 + 2 + 1 + 1
		t.Errorf("%d row groups, want 5", n)
	}
	if pf.Metadata().CreatedBy != CreatedBy() {
		t.Errorf("created_by %q, want %q", pf.Metadata().CreatedBy, CreatedBy())
	}
	// Every page the offset index names starts where it says: a reader
	// seeking by page index reads the right rows.
	var first int64
	for g, rg := range pf.RowGroups() {
		for c, cc := range rg.ColumnChunks() {
			oi, err := cc.OffsetIndex()
			if err != nil {
				t.Fatalf("row group %d column %d: %v", g, c, err)
			}
			if oi.NumPages() == 0 || oi.Offset(0) < 4 || oi.Offset(oi.NumPages()-1) >= st.Size() {
				t.Errorf("row group %d column %d: offset index out of the file", g, c)
			}
			ci, err := cc.ColumnIndex()
			if err != nil || ci.NumPages() != oi.NumPages() {
				t.Errorf("row group %d column %d: column index %v, %d pages", g, c, err, oi.NumPages())
			}
		}
		first += rg.NumRows()
	}
	if first != int64(len(rows)) {
		t.Errorf("row groups hold %d rows, want %d", first, len(rows))
	}
	// Concatenating the same parts again gives the same bytes.
	again := filepath.Join(dir, "again.parquet")
	if err := Concat(again, parts); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(dst)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Error("two concatenations of the same parts differ")
	}
}

// Parts of only empty files make an empty file of the schema; a file of
// another schema, or not Parquet, is refused, naming it.
func TestConcatEmptyAndRefused(t *testing.T) {
	dir := t.TempDir()
	parts := concatParts(t, dir, nil, []int{0, 0})
	dst := filepath.Join(dir, "empty.parquet")
	if err := Concat(dst, parts); err != nil {
		t.Fatal(err)
	}
	got, err := ReadFile[row](dst)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty concatenation: %d rows, %v", len(got), err)
	}
	type other struct {
		ID int64 `parquet:"id"`
	}
	odd := filepath.Join(dir, "other.parquet")
	if err := WriteFile(odd, []other{{1}}); err != nil {
		t.Fatal(err)
	}
	err = Concat(filepath.Join(dir, "bad.parquet"), []string{parts[0], odd})
	if !errors.Is(err, ErrConcat) || !strings.Contains(err.Error(), "other.parquet") {
		t.Errorf("another schema: %v, want ErrConcat naming other.parquet", err)
	}
	junk := filepath.Join(dir, "junk.parquet")
	os.WriteFile(junk, []byte("not parquet at all"), 0o644)
	if err := Concat(filepath.Join(dir, "bad2.parquet"), []string{junk}); !errors.Is(err, ErrConcat) {
		t.Errorf("not Parquet: %v, want ErrConcat", err)
	}
}

// DuckDB reads a concatenated file as the rows of its parts, in order,
// its row-group statistics included (a filter on id prunes by them).
func TestConcatDuckDB(t *testing.T) {
	modules, err := filepath.Abs("../../scripts/node_modules")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "@duckdb", "node-api")); err != nil {
		t.Skip("scripts/node_modules is not installed (make test installs it: cd scripts && npm ci)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	dir := t.TempDir()
	rows := testRows(maxRowsPerRowGroup + 5000)
	parts := concatParts(t, dir, rows, []int{5000, 0, maxRowsPerRowGroup})
	dst := filepath.Join(dir, "all.parquet")
	if err := Concat(dst, parts); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(dir, "read.cjs")
	os.WriteFile(script, []byte(`const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const q = async (sql) => (await c.runAndReadAll(sql)).getRows().map((r) => r.map(String).join(',')).join(';');
  const f = "read_parquet('" + process.argv[2] + "')";
  console.log(await q("SELECT count(*), sum(id), sum(amount), count(score), count(note), string_agg(DISTINCT kind, '|' ORDER BY kind) FROM " + f));
  console.log(await q("SELECT id, kind, amount, score, note FROM " + f + " WHERE id IN (0, 4999, 5000, " + process.argv[3] + ") ORDER BY id"));
  console.log(await q("SELECT count(*) FROM " + f + " WHERE id >= 5000"));
  console.log(await q("SELECT count(*) FROM parquet_metadata('" + process.argv[2] + "')  WHERE row_group_num_rows > 0 GROUP BY row_group_id ORDER BY row_group_id"));
})().catch((e) => { console.error(e); process.exit(1); });
`), 0o644)
	late := len(rows) - 4995 // a row of the second row group
	cmd := exec.Command("node", script, dst, strconv.Itoa(late))
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("duckdb: %v\n%s", err, out)
	}
	var sumID, sumAmount, scores, notes int64
	for _, r := range rows {
		sumID += r.ID
		sumAmount += r.Amount
		if r.Score != nil {
			scores++
		}
		if r.Note != nil {
			notes++
		}
	}
	cell := func(r row) string {
		s, n := "null", "null"
		if r.Score != nil {
			s = strconv.Itoa(int(*r.Score))
		}
		if r.Note != nil {
			n = *r.Note
		}
		return strings.Join([]string{strconv.FormatInt(r.ID, 10), r.Kind, strconv.FormatInt(r.Amount, 10), s, n}, ",")
	}
	want := []string{
		strings.Join([]string{strconv.Itoa(len(rows)), strconv.FormatInt(sumID, 10), strconv.FormatInt(sumAmount, 10),
			strconv.FormatInt(scores, 10), strconv.FormatInt(notes, 10), "fee|purchase|refund"}, ","),
		strings.Join([]string{cell(rows[0]), cell(rows[4999]), cell(rows[5000]), cell(rows[late])}, ";"),
		strconv.Itoa(len(rows) - 5000),
		"5;5", // two row groups of the five columns
	}
	got := strings.Split(strings.TrimSpace(string(out)), "\n")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("duckdb read\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
