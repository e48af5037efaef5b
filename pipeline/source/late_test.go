package source

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/creditrun/creditrun/billing"
)

// TestLateAssignment: every event of a dt= partition is taken by exactly
// one run. An event whose local date is within a day of its partition's is
// taken by the run for its own date; an earlier one arrived late and is
// taken by the run for its partition's date, if it arrived within the late
// window; beyond it that run rejects it (too_late). No run before the
// partition's date takes a late event: re-running an earlier date never
// sees what arrived after it.
func TestLateAssignment(t *testing.T) {
	dir := t.TempDir()
	// Noon in Shanghai is 04:00 UTC, the same date.
	noon := func(d int) int64 { return micro(2024, 3, d, 4, 0, 0) }
	row := func(id string, d int) []any {
		return []any{id, int64(1), noon(d), "purchase", int64(100), int64(1), int64(0), nil, nil}
	}
	writeParquet(t, filepath.Join(dir, "dt=2024-03-10", "p.parquet"), table{cols: txnCols, rows: [][]any{
		row("on-time", 10),
		row("day-before", 9), // kept by the run for 03-09, which reads dt=03-10
		row("late-2", 8),
		row("late-3", 7),
		row("late-7", 3), // the window's last day
		row("late-8", 2), // beyond it
		row("future", 12),
	}}, canonicalTxnForms(), 0)
	files, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[billing.Date][]string{
		billing.NewDate(2024, 3, 9):  {"day-before"},
		billing.NewDate(2024, 3, 10): {"late-7", "late-3", "late-2", "on-time"},
	}
	for day := billing.NewDate(2024, 3, 1); day <= billing.NewDate(2024, 3, 13); day++ {
		got, rejects, err := ReadTransactions(context.Background(), ForDay(files, day), day, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, tx := range got {
			ids = append(ids, tx.TxnID)
		}
		if !slices.Equal(ids, want[day]) {
			t.Errorf("ReadTransactions(%s) = %v, want %v", day, ids, want[day])
		}
		var reasons []string
		for _, r := range rejects {
			reasons = append(reasons, r.Key+" "+r.Reason)
		}
		var wantRejects []string
		if day == billing.NewDate(2024, 3, 10) {
			wantRejects = []string{"late-8 too_late", "future outside_partition"}
		}
		if !slices.Equal(reasons, wantRejects) {
			t.Errorf("ReadTransactions(%s) rejects %v, want %v", day, reasons, wantRejects)
		}
	}
}

// TestLateWindowSetting: the window is the policy's; at 1 no late event
// is taken.
func TestLateWindowSetting(t *testing.T) {
	dir := t.TempDir()
	writeParquet(t, filepath.Join(dir, "dt=2024-03-10", "p.parquet"), table{cols: txnCols, rows: [][]any{
		{"late-3", int64(1), micro(2024, 3, 7, 4, 0, 0), "repayment", int64(100), int64(1), int64(0), nil, nil},
		{"late-2", int64(1), micro(2024, 3, 8, 4, 0, 0), "purchase", int64(100), int64(1), int64(0), nil, nil},
	}}, canonicalTxnForms(), 0)
	files, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	day := billing.NewDate(2024, 3, 10)
	for _, tt := range []struct {
		window  int
		kept    int
		reasons []string
	}{
		{window: 1, reasons: []string{"too_late", "too_late"}},
		{window: 2, kept: 1, reasons: []string{"too_late"}},
		{window: 3, reasons: []string{ReasonInvalidKind}, kept: 1},
	} {
		rules := shanghai
		rules.LateWindowDays = tt.window
		got, rejects, err := ReadTransactions(context.Background(), ForDay(files, day), day, rules)
		if err != nil {
			t.Fatal(err)
		}
		var reasons []string
		for _, r := range rejects {
			reasons = append(reasons, r.Reason)
		}
		if len(got) != tt.kept || !slices.Equal(reasons, tt.reasons) {
			t.Errorf("window %d: kept %d, rejects %v; want %d, %v", tt.window, len(got), reasons, tt.kept, tt.reasons)
		}
	}
}
