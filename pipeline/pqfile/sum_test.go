package pqfile_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditrun/creditrun/pipeline/pqfile"
)

// TestSumIsTheFileAsWritten: a CreateSummed writer's size and SHA-256 are
// those of the file on disk, whatever the rows (none, one row group,
// several); Sum refuses before Close and on a writer that did not sum.
func TestSumIsTheFileAsWritten(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 70_000, 150_000} {
		path := filepath.Join(dir, "scores.parquet")
		w, err := pqfile.CreateSummed[wideRow](path)
		if err != nil {
			t.Fatal(err)
		}
		rows := scoreRows(n)
		for len(rows) > 0 {
			k := min(len(rows), 3000)
			if err := w.Write(rows[:k]); err != nil {
				t.Fatal(err)
			}
			rows = rows[k:]
		}
		if _, _, err := w.Sum(); !errors.Is(err, pqfile.ErrNotSummed) {
			t.Errorf("%d rows: Sum before Close = %v, want ErrNotSummed", n, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		size, sha, err := w.Sum()
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := sha256.Sum256(raw)
		if size != int64(len(raw)) || sha != hex.EncodeToString(want[:]) {
			t.Errorf("%d rows: Sum = %d bytes, %s; the file is %d bytes, %x", n, size, sha, len(raw), want)
		}
	}
	w, err := pqfile.Create[wideRow](filepath.Join(dir, "plain.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.Sum(); !errors.Is(err, pqfile.ErrNotSummed) {
		t.Errorf("Sum of a writer made by Create = %v, want ErrNotSummed", err)
	}
}
