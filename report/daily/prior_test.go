package daily

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// priorOf returns a prior of the accounts ids (ascending), graded
// grades[i%len(grades)], not compacted.
func priorOf(ids []int64, grades []string) *Prior {
	p := &Prior{Months: 1}
	for i, id := range ids {
		if err := p.AddScored(id, []byte(grades[i%len(grades)])); err != nil {
			panic(err)
		}
	}
	return p
}

// Compact keeps every account's grade, and no account it did not have,
// whatever the ids' range: a book numbered in sequence with gaps, ids
// across zero and at the ends of int64, and a sparse book, which stays as
// it was.
func TestPriorCompact(t *testing.T) {
	grades := []string{"A", "B", "C", "D"}
	cases := map[string]struct {
		ids     []int64
		compact bool
	}{
		"in sequence":    {ids: seq(1_000, 5_000, 1), compact: true},
		"with gaps":      {ids: seq(-3_000, 3_000, 3), compact: true},
		"one account":    {ids: []int64{42}, compact: true},
		"sparse":         {ids: seq(0, 10_000_000, 10_000), compact: false},
		"ends of int64":  {ids: []int64{math.MinInt64, math.MaxInt64}, compact: false},
		"near max int64": {ids: []int64{math.MaxInt64 - 5, math.MaxInt64 - 2, math.MaxInt64}, compact: true},
		"near min int64": {ids: []int64{math.MinInt64, math.MinInt64 + 1, math.MinInt64 + 7}, compact: true},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			want := priorOf(c.ids, grades)
			got := priorOf(c.ids, grades)
			got.Compact()
			if !got.Scored() || (got.gradeAt != nil) != c.compact {
				t.Fatalf("compact %v, want %v", got.gradeAt != nil, c.compact)
			}
			probe := func(id int64) {
				g, ok := got.Grade(id)
				wg, wok := want.Grade(id)
				if g != wg || ok != wok {
					t.Fatalf("account %d: %q %v, want %q %v", id, g, ok, wg, wok)
				}
			}
			for _, id := range c.ids {
				for _, d := range []int64{-2, -1, 0, 1, 2} {
					if (d < 0 && id < math.MinInt64-d) || (d > 0 && id > math.MaxInt64-d) {
						continue
					}
					probe(id + d)
				}
			}
			for _, id := range []int64{math.MinInt64, -1, 0, 1, math.MaxInt64} {
				probe(id)
			}
		})
	}
	empty := &Prior{}
	empty.Compact()
	if empty.Scored() {
		t.Error("a prior of no scores table says it has one")
	}
}

func seq(lo, hi, step int64) []int64 {
	var s []int64
	for id := lo; id < hi; id += step {
		s = append(s, id)
	}
	return s
}

// A night's summary is the same whether its month ends are compacted or
// not.
func TestPriorCompactSameSummary(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	day := billing.NewDate(2025, 6, 30)
	var accounts []billing.Account
	for i := range 3_000 {
		accounts = append(accounts, billing.Account{ID: int64(10_000 + i), Status: billing.Active, ActivatedOn: 1,
			OpenedOn: billing.NewDate(2024, time.Month(1+i%12), 3), Credit: billing.Money(-r.IntN(50_000))})
	}
	night := func(compact bool) *Night {
		r := rand.New(rand.NewPCG(3, 4)) // the same month ends either way
		n := &Night{Day: day, Grades: []string{"A", "B", "C"}}
		for _, h := range []int{1, 2, 3} {
			var ids []int64
			for i := range accounts {
				if r.IntN(4) > 0 { // three in four scored at that month end
					ids = append(ids, accounts[i].ID)
				}
			}
			p := priorOf(ids, []string{"C", "A", "B", "A"})
			p.Months, p.End = h, PriorMonthEnd(day, h)
			for i := 0; i < len(ids); i += 7 {
				p.DelinquentIDs = append(p.DelinquentIDs, ids[i])
				p.DPD = append(p.DPD, int32(r.IntN(120)))
			}
			if compact {
				p.Compact()
			}
			n.Priors = append(n.Priors, p)
		}
		return n
	}
	summary := func(n *Night) []Row {
		s := New(n)
		for i := range accounts {
			var res *scoring.Result
			if i%3 > 0 {
				res = &scoring.Result{Score: 600, Grade: n.Grades[i%3], PD: 0.02}
			}
			s.Add(&accounts[i], accounts[i].Exposure(), int8(i%8), nil, res)
		}
		return s.Rows()
	}
	plain, compacted := summary(night(false)), summary(night(true))
	if len(plain) != len(compacted) {
		t.Fatalf("compacted month ends: %d rows, want %d", len(compacted), len(plain))
	}
	backtest := 0
	for i := range plain {
		if !reflect.DeepEqual(plain[i], compacted[i]) {
			t.Fatalf("row %d with compacted month ends: %+v, want %+v", i, compacted[i], plain[i])
		}
		if plain[i].Dimension == DimBacktest {
			backtest += int(plain[i].Count)
		}
	}
	if backtest == 0 {
		t.Fatal("no back-test rows: the month ends' grades were not read")
	}
}
