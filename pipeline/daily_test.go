package pipeline_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/scoring"
)

// The daily summary is the same bytes whatever the workers and the bucket
// size, and its counts agree with the night's own tables and with the
// summaries of the days before: the classes of roll_day's "to" of one day
// are the "from" of the next, and roll_month's "from" on a month end is the
// class of every account at the previous month end.
func TestDailySummaryIsExactAndDeterministic(t *testing.T) {
	events := genBook(t, 400, 62)
	from, to := bookStart, bookStart+60 // through 2025-03-02: month ends Jan 31 and Feb 28
	outA, outB := t.TempDir(), t.TempDir()
	a := firstRun(events, outA)
	a.Workers, a.BucketSize = 1, 7
	b := firstRun(events, outB)
	b.Workers, b.BucketSize = 2, 128
	for _, o := range []pipeline.Options{a, b} {
		if _, err := pipeline.Backfill(context.Background(), o, from, to, nil); err != nil {
			t.Fatal(err)
		}
	}
	var prev []daily.Row
	sawMonth, sawBacktest := false, false
	for d := from; d <= to; d++ {
		name := filepath.Join("as_of="+d.String(), pipeline.TableDailySummary+".parquet")
		ba, err := os.ReadFile(filepath.Join(outA, name))
		if err != nil {
			t.Fatal(err)
		}
		bb, err := os.ReadFile(filepath.Join(outB, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ba, bb) {
			t.Fatalf("%s: differs between 1 worker × 7 accounts and 2 workers × 128", name)
		}
		rows, err := pipeline.ReadDailySummary(outA, d)
		if err != nil {
			t.Fatal(err)
		}
		checkAgainstTables(t, outA, d, rows)
		if prev != nil {
			to := marginal(prev, daily.DimRollDay, false)
			fr := marginal(rows, daily.DimRollDay, true)
			for _, c := range daily.Classes {
				if c != daily.ClassNew && to[c] != fr[c] { // new: not on yesterday's book
					t.Errorf("%s: roll_day from %s = %d accounts, the day before ended with %d", d, c, fr[c], to[c])
				}
			}
		}
		if daily.MonthEnd(d) && d > from+31 {
			end := daily.PriorMonthEnd(d, 1)
			prevEnd, err := pipeline.ReadDailySummary(outA, end)
			if err != nil {
				t.Fatal(err)
			}
			want := marginal(prevEnd, daily.DimRollDay, false)
			got := marginal(rows, daily.DimRollMonth, true)
			for _, c := range daily.Classes {
				if c != daily.ClassNew && want[c] != got[c] {
					t.Errorf("%s: roll_month from %s = %d accounts, %s ended with %d", d, c, got[c], end, want[c])
				}
			}
			sawMonth = len(got) > 0
			checkBacktestCohort(t, outA, end, rows)
			sawBacktest = count(rows, daily.DimBacktest) > 0
		}
		prev = rows
	}
	if !sawMonth || !sawBacktest {
		t.Errorf("no roll_month (%v) or backtest (%v) rows on the month end after a published month end", sawMonth, sawBacktest)
	}
}

// marginal sums the transitions of dim by their "from" class (key) or
// their "to" class (key2).
func marginal(rows []daily.Row, dim string, from bool) map[string]int64 {
	m := map[string]int64{}
	for _, r := range rows {
		if r.Dimension == dim {
			if from {
				m[r.Key] += r.Count
			} else {
				m[r.K2()] += r.Count
			}
		}
	}
	return m
}

func count(rows []daily.Row, dim string) int64 {
	var n int64
	for _, r := range rows {
		if r.Dimension == dim {
			n += r.Count
		}
	}
	return n
}

func find(rows []daily.Row, dim, key, key2 string) (daily.Row, bool) {
	for _, r := range rows {
		if r.Dimension == dim && r.Key == key && r.K2() == key2 {
			return r, true
		}
	}
	return daily.Row{}, false
}

// checkAgainstTables checks the summary of day against the day's tables.
func checkAgainstTables(t *testing.T, out string, day billing.Date, rows []daily.Row) {
	t.Helper()
	dir := pipeline.PartitionDir(out, day)
	del, err := pqfile.ReadFile[billing.DelinquencyRow](filepath.Join(dir, pipeline.TableDelinquency+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	byBucket := map[string]int64{}
	amount := map[string]billing.Money{}
	for _, r := range del {
		byBucket[r.Bucket]++
		amount[r.Bucket] += r.PastDueAmount
	}
	for _, c := range daily.Classes[1:8] {
		r, _ := find(rows, daily.DimBucket, c, "")
		if r.Count != byBucket[c] || r.Amount == nil || *r.Amount != amount[c] {
			t.Errorf("%s: dpd_bucket %s = %d accounts %v, delinquency.parquet has %d and %s", day, c, r.Count, r.Amount, byBucket[c], amount[c])
		}
	}
	m, err := pipeline.ReadManifest(out, day)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := find(rows, daily.DimBook, "accounts", ""); r.Count != int64(m.Book.Accounts) {
		t.Errorf("%s: book accounts %d, manifest %d", day, r.Count, m.Book.Accounts)
	}
	if r, _ := find(rows, daily.DimBook, "exposure_after", ""); r.Amount == nil || r.Amount.String() != m.Book.Exposure {
		t.Errorf("%s: exposure_after %v, manifest %s", day, r.Amount, m.Book.Exposure)
	}
	if r, _ := find(rows, daily.DimConserve, "unexplained", ""); r.Amount == nil || *r.Amount != 0 || r.Value == nil || *r.Value != 1 {
		t.Errorf("%s: conservation row %+v, want 0 unexplained", day, r)
	}
	if got := count(rows, daily.DimReject); got != m.Rows[pipeline.TableRejects] {
		t.Errorf("%s: %d rejects in the summary, %d in the manifest", day, got, m.Rows[pipeline.TableRejects])
	}
	if got := count(rows, daily.DimNotice); got != m.Rows[pipeline.TableNotices] {
		t.Errorf("%s: %d notices in the summary, %d in the manifest", day, got, m.Rows[pipeline.TableNotices])
	}
	if r, _ := find(rows, daily.DimStatements, "issued", ""); r.Count != m.Rows[pipeline.TableStatements] {
		t.Errorf("%s: %d statements in the summary, %d in the manifest", day, r.Count, m.Rows[pipeline.TableStatements])
	}
	if got := count(rows, daily.DimGrade); got != m.Rows[pipeline.TableScores] {
		t.Errorf("%s: %d graded in the summary, %d scores", day, got, m.Rows[pipeline.TableScores])
	}
	for _, p := range m.PSI {
		if r, ok := find(rows, daily.DimPSI, p.Name, ""); !p.NoBaseline && (!ok || *r.Value != p.PSI) {
			t.Errorf("%s: psi of %s = %v, manifest %v", day, p.Name, r.Value, p.PSI)
		}
	}
}

// checkBacktestCohort checks the one-month back-test's cohort of a month
// end against the scores and the delinquency of the month end before.
func checkBacktestCohort(t *testing.T, out string, end billing.Date, rows []daily.Row) {
	t.Helper()
	dir := pipeline.PartitionDir(out, end)
	scores, err := pqfile.ReadFile[scoring.ScoreRow](filepath.Join(dir, pipeline.TableScores+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	del, err := pqfile.ReadFile[billing.DelinquencyRow](filepath.Join(dir, pipeline.TableDelinquency+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	bad := map[int64]bool{}
	for _, r := range del {
		bad[r.AccountID] = r.DPD >= 90
	}
	want := map[string]int64{}
	for _, r := range scores {
		if !bad[r.AccountID] {
			want[r.Grade]++
		}
	}
	got := map[string]int64{}
	for _, r := range rows {
		if r.Dimension == daily.DimBacktest && r.K2() == "1" {
			got[r.Key] = r.Count
		}
	}
	for g, n := range want {
		if got[g] != n {
			t.Errorf("back-test from %s: grade %s has %d accounts, the scores of that date %d", end, g, got[g], n)
		}
	}
}

// The report reads only published dates: a date without _SUCCESS is
// listed as missing and its files are never opened.
func TestReadReportReadsOnlyPublishedDates(t *testing.T) {
	events := genBook(t, 120, 8)
	out := t.TempDir()
	if _, err := pipeline.Backfill(context.Background(), firstRun(events, out), bookStart, bookStart+6, nil); err != nil {
		t.Fatal(err)
	}
	gap := bookStart + 3
	dir := pipeline.PartitionDir(out, gap)
	if err := os.Remove(filepath.Join(dir, pipeline.SuccessFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, pipeline.TableDailySummary+".parquet"), []byte("not parquet"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := pipeline.ReadReport(out, 0, 0)
	if err != nil {
		t.Fatalf("ReadReport with an unpublished date in the range: %v", err)
	}
	if len(b.Missing) != 1 || b.Missing[0] != gap || len(b.Days) != 6 || b.From != bookStart || b.To != bookStart+6 {
		t.Errorf("ReadReport: %d days from %s to %s, missing %v; want 6 days from %s to %s, missing %s",
			len(b.Days), b.From, b.To, b.Missing, bookStart, bookStart+6, gap)
	}
	if _, err := pipeline.ReadReport(out, 0, gap); err == nil || !strings.Contains(err.Error(), "not published") {
		t.Errorf("ReadReport to an unpublished date = %v, want an error saying so", err)
	}
	if _, err := pipeline.ReadDailySummary(out, gap); err == nil {
		t.Errorf("ReadDailySummary of an unpublished date succeeded")
	}
}
