package report

import (
	"bytes"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/scoring"
)

// book builds a small book of n dates whose summaries come from daily's
// accumulator over literal accounts, the last date a month end.
func book(t testing.TB, n int) *Book {
	end := billing.NewDate(2025, 3, 31)
	b := &Book{Out: "out", From: end - billing.Date(n-1), To: end}
	for d := b.From; d <= end; d++ {
		night := &daily.Night{Day: d, Grades: []string{"A", "B", "C"}}
		if daily.MonthEnd(d) {
			p := &daily.Prior{Months: 1, End: daily.PriorMonthEnd(d, 1), DelinquentIDs: []int64{1, 6}, DPD: []int32{10, 95}}
			for i := range 30 {
				if err := p.AddScored(int64(i+1), []byte([]string{"A", "B", "C"}[i%3])); err != nil {
					t.Fatal(err)
				}
			}
			night.Priors = append(night.Priors, p)
		}
		s := daily.New(night)
		for i := range 30 {
			a := billing.Account{ID: int64(i + 1), Status: billing.Active, ActivatedOn: 1, OpenedOn: billing.NewDate(2024, time.Month(10+i%3), 5)}
			var del *billing.DelinquencyRow
			if i%5 == 0 {
				del = &billing.DelinquencyRow{AccountID: a.ID, DPD: int32(i*4) + int32(d-b.From), PastDueAmount: billing.Money(100 * i)}
			}
			g := []string{"A", "B", "C"}[i%3]
			s.Add(&a, a.Exposure(), 0, del, &scoring.Result{Grade: g, Score: int32(700 - 50*(i%3)), PD: 0.01 * float64(1+i%3)})
		}
		o := &billing.Output{
			Statements: []billing.StatementRow{{AccountID: 1, MinimumDue: 5000, NewBalance: 100000}},
			Plans:      []billing.PlanRow{{AccountID: 2, Principal: 300000, APRNominal: new(billing.Rate(150000))}, {AccountID: 3, Principal: 100, APRNominal: new(billing.Rate(400000)), OverCap: true}},
			Notices:    []billing.Notice{{Kind: "due_reminder", Channel: "push"}, {Kind: "overdue", Channel: "sms"}},
		}
		s.AddOutput(o, []scoring.DecisionRow{{Action: "keep", ReasonCode: "LOW_UTILIZATION", Reasons: "LOW_UTILIZATION"}, {Action: "decrease", OldLimit: 500000, NewLimit: 400000, ReasonCode: "GRADE_CUT", Reasons: "GRADE_CUT;SCORE_REASONS"}})
		s.AddReject("transactions", "unknown_account")
		s.SetFlows(1000000, 1000000+30000-20000, billing.Flows{Purchases: 30000, Payments: 20000})
		s.SetPSI([]scoring.PSIResult{{Name: "score", PSI: 0.02 * float64(d-b.From+1)}, {Name: "utilization", PSI: 0.3}}, nil, nil)
		b.Days = append(b.Days, Day{AsOf: d, Rows: s.Rows(), PolicyVersion: "v1", RowsRead: 100, RejectRatio: 0.01})
	}
	b.Examples = []Reject{{Dataset: "transactions", File: "part-0.parquet", Row: 7, Key: "t7", Reason: "unknown_account", Detail: "account 99 <is not> in the book"}}
	return b
}

func render(t *testing.T, b *Book) string {
	t.Helper()
	var buf bytes.Buffer
	if err := Render(&buf, b); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestRenderIsSelfContained(t *testing.T) {
	html := render(t, book(t, 40))
	for _, bad := range []string{"<script", "http://", "https://", "src=", "@import", "url(", "<link", "@font-face"} {
		if strings.Contains(html, bad) {
			t.Errorf("the report contains %q: it must open offline with nothing to fetch", bad)
		}
	}
	if !strings.Contains(html, "account 99 &lt;is not&gt; in the book") {
		t.Errorf("the example reject's detail is not in the report, escaped")
	}
	svgs := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindAllString(html, -1)
	if len(svgs) < 15 {
		t.Fatalf("%d charts, want the night's and the range's (15 or more)", len(svgs))
	}
	for i, svg := range svgs {
		title := regexp.MustCompile(`<text[^>]*class="title"[^>]*>([^<]+)<`).FindStringSubmatch(svg)
		if title == nil {
			t.Errorf("chart %d has no title", i+1)
			continue
		}
		if !strings.Contains(svg, `class="axis"`) {
			t.Errorf("chart %q has no axis label", title[1])
		}
		if !regexp.MustCompile(`class="mark"[^>]*>(<title>[^<]+</title>)`).MatchString(svg) {
			t.Errorf("chart %q has no mark with a tooltip", title[1])
		}
	}
	for _, want := range []string{"Roll rates month over month", "Share 30+ days past due by months on book", "PSI by night",
		"Bad rate 1 month after 2025-02-28 by grade then", "0.25 shifted", "Money flows of the night", "holds"} {
		if !strings.Contains(html, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if again := render(t, book(t, 40)); again != html {
		t.Errorf("two renders of the same book differ")
	}
}

func TestRenderOneNight(t *testing.T) {
	html := render(t, book(t, 1))
	if strings.Contains(html, "Roll rates") || strings.Contains(html, "Vintage curves") {
		t.Errorf("a one-night report shows range views")
	}
	if !strings.Contains(html, "Accounts past due by bucket") {
		t.Errorf("a one-night report lacks the night's delinquency")
	}
}

func TestRenderRefusesNoData(t *testing.T) {
	err := Render(&bytes.Buffer{}, &Book{From: 1, To: 2})
	if !errors.Is(err, ErrNoData) {
		t.Errorf("Render(no days) = %v, want ErrNoData", err)
	}
}

func TestWilson(t *testing.T) {
	tests := []struct {
		k, n   int64
		lo, hi float64
	}{
		{0, 10, 0, 0.2775}, {5, 10, 0.2366, 0.7634}, {10, 10, 0.7225, 1}, {1, 1000, 0.000177, 0.00565},
	}
	for _, tt := range tests {
		lo, hi := Wilson(tt.k, tt.n)
		if math.Abs(lo-tt.lo) > 5e-5 || math.Abs(hi-tt.hi) > 5e-5 {
			t.Errorf("Wilson(%d, %d) = %.5f, %.5f, want %.5f, %.5f", tt.k, tt.n, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestMoney(t *testing.T) {
	for m, want := range map[billing.Money]string{0: "0.00", 123456789: "1,234,567.89", -100050: "−1,000.50", 99: "0.99"} {
		if got := money(m); got != want {
			t.Errorf("money(%d) = %q, want %q", m, got, want)
		}
	}
}
