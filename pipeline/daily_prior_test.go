package pipeline

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/scoring"
)

// writePrior writes a month end's delinquency and scores tables into dir:
// the scored accounts in the order given, graded by grade(i).
func writePrior(t *testing.T, dir string, scored []int64, grade func(i int) string, late map[int64]int32) {
	t.Helper()
	var del []billing.DelinquencyRow
	for _, id := range scored {
		if dpd, ok := late[id]; ok {
			del = append(del, billing.DelinquencyRow{AccountID: id, DPD: dpd, Bucket: "M1"})
		}
	}
	rows := make([]scoring.ScoreRow, len(scored))
	for i, id := range scored {
		rows[i] = scoring.ScoreRow{AccountID: id, Grade: grade(i)}
	}
	if err := pqfile.WriteFile(filepath.Join(dir, TableDelinquency+".parquet"), del); err != nil {
		t.Fatal(err)
	}
	if err := pqfile.WriteFile(filepath.Join(dir, TableScores+".parquet"), rows); err != nil {
		t.Fatal(err)
	}
}

// TestReadPrior reads a month end of more than one row group, its accounts
// out of order as a sharded night writes them: every account's grade and
// days past due come back, sorted by account, each grade one byte.
func TestReadPrior(t *testing.T) {
	dir := t.TempDir()
	const n = 150_000 // three row groups of the scores table
	var scored []int64
	for s := range 3 { // three shards' rows, one after the other
		for i := s; i < n; i += 3 {
			scored = append(scored, int64(10_000_000+i))
		}
	}
	grades := []string{"A", "B", "C", "D", "E"}
	gradeOf := func(id int64) string { return grades[(id*7)%5] }
	late := map[int64]int32{10_000_004: 12, 10_000_100: 95, 10_149_999: 1}
	writePrior(t, dir, scored, func(i int) string { return gradeOf(scored[i]) }, late)

	end := billing.NewDate(2025, 11, 30)
	p, err := readPrior(dir, end)
	if err != nil {
		t.Fatal(err)
	}
	if p.End != end || !p.Scored() || len(p.GradeNames) != len(grades) {
		t.Fatalf("read grades %v (scored: %v), want %d", p.GradeNames, p.Scored(), len(grades))
	}
	if p.ScoredIDs != nil || p.GradeOf != nil {
		t.Fatalf("a book numbered in sequence kept %d ids and %d grades, want them a byte an account", len(p.ScoredIDs), len(p.GradeOf))
	}
	for id := int64(10_000_000 - 2); id < 10_000_000+n+2; id++ {
		g, ok := p.Grade(id)
		want := id >= 10_000_000 && id < 10_000_000+n
		if ok != want || want && g != gradeOf(id) {
			t.Fatalf("account %d: graded %q (%v), want %q (%v)", id, g, ok, gradeOf(id), want)
		}
	}
	if !slices.Equal(p.DelinquentIDs, []int64{10_000_004, 10_000_100, 10_149_999}) || !slices.Equal(p.DPD, []int32{12, 95, 1}) {
		t.Fatalf("delinquency %v %v", p.DelinquentIDs, p.DPD)
	}
}

// TestReadPriorRefuses: a month end with more grades than a prior holds,
// or an account twice, is bad input naming the file, never a wrong count.
func TestReadPriorRefuses(t *testing.T) {
	t.Run("too many grades", func(t *testing.T) {
		dir := t.TempDir()
		scored := make([]int64, 300)
		for i := range scored {
			scored[i] = int64(i + 1)
		}
		writePrior(t, dir, scored, func(i int) string { return fmt.Sprintf("G%03d", i) }, nil)
		_, err := readPrior(dir, billing.NewDate(2025, 11, 30))
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "scores.parquet") || !strings.Contains(err.Error(), "distinct grades") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("account twice", func(t *testing.T) {
		dir := t.TempDir()
		writePrior(t, dir, []int64{1, 2, 2, 3}, func(int) string { return "A" }, nil)
		_, err := readPrior(dir, billing.NewDate(2025, 11, 30))
		if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), "account_id 2 is not after 2") {
			t.Fatalf("err = %v", err)
		}
	})
}
