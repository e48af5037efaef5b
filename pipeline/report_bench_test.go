package pipeline_test

import (
	"encoding/json"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/policy"
	"github.com/creditrun/creditrun/report"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/scoring"
)

// summaryBook publishes days dates of summaries only, each as a book of
// about a million accounts would have it: a summary's size grows with its
// dimensions (ten years of vintages, every grade, bucket, notice kind,
// reject reason, limit reason code, characteristic bin and back-test
// horizon), not with the accounts, so each night's summary comes from a
// few thousand synthetic accounts spread over every dimension, their
// counts scaled to a million.
func summaryBook(b *testing.B, days int) (string, billing.Date, billing.Date) {
	b.Helper()
	out := b.TempDir()
	pol := policy.Default()
	var grades []string
	for _, g := range pol.Scoring.Grades {
		grades = append(grades, g.Name)
	}
	from := billing.NewDate(2025, 1, 1)
	to := from + billing.Date(days-1)
	rng := rand.New(rand.NewPCG(1, 2))
	const sample, scale = 4000, 250 // 4,000 accounts standing for 1,000,000
	kinds := []string{"statement_issued", "due_reminder", "payment_missed", "overdue", "deduction_failed", "limit_changed", "account_frozen", "charged_off"}
	for d := from; d <= to; d++ {
		night := &daily.Night{Day: d, Grades: grades}
		if daily.MonthEnd(d) {
			for _, h := range daily.Horizons {
				p := &daily.Prior{Months: h, End: daily.PriorMonthEnd(d, h)}
				for i := range sample {
					if err := p.AddScored(int64(i+1), []byte(grades[i%len(grades)])); err != nil {
						b.Fatal(err)
					}
				}
				night.Priors = append(night.Priors, p)
			}
		}
		s := daily.New(night)
		for i := range sample {
			a := billing.Account{ID: int64(i + 1), Status: billing.Active, ActivatedOn: 1,
				OpenedOn: from - billing.Date(rng.IntN(3650)), Credit: -billing.Money(rng.IntN(1_000_000))}
			var del *billing.DelinquencyRow
			if i%10 == 0 {
				del = &billing.DelinquencyRow{AccountID: a.ID, DPD: int32(1 + rng.IntN(200)), PastDueAmount: billing.Money(rng.IntN(500_000))}
			}
			r := &scoring.Result{Grade: grades[i%len(grades)], Score: int32(400 + rng.IntN(400)), PD: rng.Float64() / 5}
			s.Add(&a, a.Exposure(), int8(rng.IntN(8)), del, r)
		}
		o := &billing.Output{}
		for i := range 200 {
			o.Statements = append(o.Statements, billing.StatementRow{MinimumDue: billing.Money(rng.IntN(100_000))})
			o.Plans = append(o.Plans, billing.PlanRow{Principal: billing.Money(rng.IntN(1_000_000)), APRNominal: new(billing.Rate(rng.IntN(500_000))), OverCap: i%50 == 0})
			o.Notices = append(o.Notices, billing.Notice{Kind: kinds[i%len(kinds)], Channel: []string{"push", "sms", "email"}[i%3]})
		}
		var decisions []scoring.DecisionRow
		codes := scoring.LimitReasons()
		for i := range 400 {
			decisions = append(decisions, scoring.DecisionRow{Action: []string{"keep", "increase", "decrease", "freeze"}[i%4],
				Reasons: "LOW_UTILIZATION;" + codes[i%len(codes)].String()})
		}
		s.AddOutput(o, decisions)
		for i := range 400 {
			s.AddReject([]string{"transactions", "repayments", "requests"}[i%3], "reason_"+string(rune('a'+i%20)))
		}
		actual, base := pol.Scoring.NewDistribution(), pol.Scoring.NewDistribution()
		for i := range actual.Counts {
			for j := range actual.Counts[i] {
				actual.Counts[i][j], base.Counts[i][j] = int64(1+rng.IntN(100_000)), int64(1+rng.IntN(100_000))
			}
		}
		s.SetFlows(1_000_000_000_00, 1_000_000_000_00, billing.Flows{})
		s.SetPSI(pol.Scoring.PSI(actual, base), actual, base)
		rows := s.Rows()
		for i := range rows {
			rows[i].Count *= scale
		}
		dir := pipeline.PartitionDir(out, d)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := pqfile.WriteFile(filepath.Join(dir, pipeline.TableDailySummary+".parquet"), rows); err != nil {
			b.Fatal(err)
		}
		if err := pqfile.WriteFile(filepath.Join(dir, pipeline.TableRejects+".parquet"), []source.Reject{{Dataset: "transactions", File: "x.parquet", Row: 1, Reason: "reason_a"}}); err != nil {
			b.Fatal(err)
		}
		m, _ := json.Marshal(pipeline.Manifest{AsOf: d.String(), PolicyVersion: pol.Version, RowsRead: 30_000_000})
		if err := os.WriteFile(filepath.Join(dir, pipeline.ManifestFile), m, 0o644); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, pipeline.SuccessFile), nil, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return out, from, to
}

// BenchmarkReportYear times the report over 365 published dates of a
// book the size of a million accounts: read every daily summary and
// manifest, and render the page.
func BenchmarkReportYear(b *testing.B) {
	out, from, to := summaryBook(b, 365)
	var size int64
	for d := from; d <= to; d++ {
		st, err := os.Stat(filepath.Join(pipeline.PartitionDir(out, d), pipeline.TableDailySummary+".parquet"))
		if err != nil {
			b.Fatal(err)
		}
		size += st.Size()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		bk, err := pipeline.ReadReport(out, 0, 0)
		if err != nil {
			b.Fatal(err)
		}
		read := time.Since(t0)
		if err := report.Render(io.Discard, bk); err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(read.Seconds(), "read-s")
	}
	b.ReportMetric(float64(size)/(1<<20), "summary-MiB")
}
