package scoring

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/billing"
)

func TestScalingRoundTrip(t *testing.T) {
	for _, s := range []Scaling{{PDO: 40, BaseScore: 600, BaseOdds: 30}, {PDO: 20, BaseScore: 660, BaseOdds: 72}, {PDO: 50, BaseScore: 500, BaseOdds: 1}} {
		for score := 200.0; score <= 900; score += 17 {
			pd := s.PD(score)
			if pd <= 0 || pd >= 1 {
				t.Fatalf("%+v: PD(%v) = %v, want in (0, 1)", s, score, pd)
			}
			if back := s.ScoreOf(pd); math.Abs(back-score) > 1e-6 {
				t.Errorf("%+v: ScoreOf(PD(%v)) = %v, want %v", s, score, back, score)
			}
		}
		if got, want := s.PD(s.BaseScore), 1/(1+s.BaseOdds); math.Abs(got-want) > 1e-12 {
			t.Errorf("%+v: PD(base score) = %v, want %v", s, got, want)
		}
		if got := s.Odds(s.BaseScore+s.PDO) / s.Odds(s.BaseScore); math.Abs(got-2) > 1e-9 {
			t.Errorf("%+v: odds ratio over PDO = %v, want 2", s, got)
		}
	}
}

// oneChar returns a validated config whose scorecard is the characteristics.
func oneChar(t *testing.T, chars ...Characteristic) *Config {
	t.Helper()
	c := DefaultConfig()
	c.Scorecard.Characteristics = chars
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return &c
}

func TestBins(t *testing.T) {
	inf := math.Inf(1)
	c := oneChar(t, Characteristic{Name: "pr", Feature: "payment_ratio_3", Reason: "PR", Baseline: 40, Bins: []Bin{
		{From: -inf, To: 0.1, Points: 10},
		{From: 0.1, To: 0.5, Points: 20},
		{From: 0.5, To: inf, Points: 40},
		{Missing: true, Points: 5},
	}})
	tests := []struct {
		name    string
		v       float64
		missing bool
		want    int32
	}{
		{"below", 0.05, false, 10},
		{"on the edge 0.1 goes up", 0.1, false, 20},
		{"just below the edge", math.Nextafter(0.1, 0), false, 10},
		{"on the edge 0.5 goes up", 0.5, false, 40},
		{"large", 1e9, false, 40},
		{"negative", -3, false, 10},
		{"missing", 0, true, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f Features
			f.Values[PaymentRatio3], f.Missing[PaymentRatio3] = tt.v, tt.missing
			if got := c.Score(&f).Score; got != tt.want {
				t.Errorf("Score(payment_ratio_3=%v, missing=%v) = %d, want %d", tt.v, tt.missing, got, tt.want)
			}
		})
	}

	// An edge written as a decimal equals the feature computed from money:
	// paid 10.00 against billed 100.00 is exactly 0.1.
	a := account(cyc{billed: 100, limit: 10000}, cyc{paid: 10, limit: 10000})
	f := ComputeFeatures(a, asOf)
	if got := c.Score(&f).Score; got != 20 {
		t.Errorf("Score(payment ratio 10/100) = %d, want 20 (the upper bin)", got)
	}
}

func TestCategoricalBins(t *testing.T) {
	c := oneChar(t, Characteristic{Name: "pp", Feature: "pay_pattern_3", Reason: "PP", Baseline: 9, Bins: []Bin{
		{Categories: []string{PatternTransactor}, Points: 9},
		{Categories: []string{PatternNew, PatternInactive, PatternRevolver}, Points: 5},
		{Categories: []string{PatternMinPayer, PatternDelinquent}, Points: 1},
	}})
	for i, cat := range payPatterns {
		var f Features
		f.Values[PayPattern3] = float64(i)
		want := map[string]int32{PatternTransactor: 9, PatternMinPayer: 1, PatternDelinquent: 1}[cat]
		if want == 0 {
			want = 5
		}
		if got := c.Score(&f).Score; got != want {
			t.Errorf("Score(pay_pattern_3=%s) = %d, want %d", cat, got, want)
		}
	}
}

func TestReasonCodes(t *testing.T) {
	inf := math.Inf(1)
	// Each characteristic has two bins on its own feature: value 0 scores
	// Points, value 1 scores the baseline.
	char := func(feature, reason string, loss int32) Characteristic {
		return Characteristic{Name: feature, Feature: feature, Reason: reason, Baseline: 50, Bins: []Bin{
			{From: -inf, To: 1, Points: 50 - loss}, {From: 1, To: inf, Points: 50},
		}}
	}
	tests := []struct {
		name  string
		chars []Characteristic
		want  [NumReasons]string
	}{
		{"ranked by loss", []Characteristic{
			char("tenure_months", "T", 5), char("current_dpd", "D", 30), char("cycles_on_book", "C", 10),
		}, [NumReasons]string{"D", "C", "T"}},
		{"ties in file order", []Characteristic{
			char("tenure_months", "T", 10), char("current_dpd", "D", 10), char("cycles_on_book", "C", 10),
			char("max_dpd_1", "M", 20),
		}, [NumReasons]string{"M", "T", "D", "C"}},
		{"summed per code", []Characteristic{
			char("tenure_months", "X", 15), char("current_dpd", "Y", 20), char("cycles_on_book", "X", 15),
		}, [NumReasons]string{"X", "Y"}},
		{"top four only", []Characteristic{
			char("tenure_months", "A", 1), char("current_dpd", "B", 2), char("cycles_on_book", "C", 3),
			char("max_dpd_1", "D", 4), char("max_dpd_3", "E", 5),
		}, [NumReasons]string{"E", "D", "C", "B"}},
		{"no loss, no reason", []Characteristic{
			char("tenure_months", "A", 0), char("current_dpd", "B", -5),
		}, [NumReasons]string{}},
		{"a gain offsets a loss of the same code", []Characteristic{
			char("tenure_months", "A", 10), char("current_dpd", "A", -10), char("cycles_on_book", "B", 1),
		}, [NumReasons]string{"B"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := oneChar(t, tt.chars...)
			var f Features // every value 0: the first bin
			if got := c.Score(&f).Reasons; got != tt.want {
				t.Errorf("Reasons = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGrades(t *testing.T) {
	c := mustDefault()
	tests := []struct {
		score int32
		want  string
	}{{900, "A"}, {680, "A"}, {679, "B"}, {630, "B"}, {629, "C"}, {580, "C"}, {520, "D"}, {519, "E"}, {-50, "E"}}
	for _, tt := range tests {
		if got := c.Grades[c.gradeOf(tt.score)].Name; got != tt.want {
			t.Errorf("grade(%d) = %s, want %s", tt.score, got, tt.want)
		}
	}
}

func TestValidate(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name   string
		change func(c *Config)
		path   string
		want   string
	}{
		{"overlapping bins", func(c *Config) {
			c.Scorecard.Characteristics[0].Bins[1].From = 0.5
		}, "scorecard.characteristics[0].bins[1]", "overlapping bins"},
		{"gap between bins", func(c *Config) {
			c.Scorecard.Characteristics[0].Bins[1].From = 2
		}, "scorecard.characteristics[0].bins[1]", "gap"},
		{"open low end required", func(c *Config) {
			c.Scorecard.Characteristics[0].Bins[0].From = 0
		}, "scorecard.characteristics[0].bins[0]", "gap"},
		{"open high end required", func(c *Config) {
			bins := c.Scorecard.Characteristics[0].Bins
			bins[len(bins)-1].To = 1000
		}, "scorecard.characteristics[0].bins[6]", "gap"},
		{"missing bin required", func(c *Config) {
			ch := &c.Scorecard.Characteristics[1] // months_since_delinquency
			ch.Bins = ch.Bins[:len(ch.Bins)-1]
		}, "scorecard.characteristics[1].bins", "add a missing bin"},
		{"category in two bins", func(c *Config) {
			c.Scorecard.Characteristics[2].Bins[1].Categories = []string{PatternRevolver, PatternTransactor}
		}, "scorecard.characteristics[2].bins[1]", "overlapping bins"},
		{"category in no bin", func(c *Config) {
			c.Scorecard.Characteristics[2].Bins = c.Scorecard.Characteristics[2].Bins[1:]
		}, "scorecard.characteristics[2].bins", `category "transactor"`},
		{"unknown feature", func(c *Config) {
			c.Scorecard.Characteristics[0].Feature = "max_dpd_24"
		}, "scorecard.characteristics[0].feature", "unknown feature"},
		{"range on a categorical feature", func(c *Config) {
			c.Scorecard.Characteristics[2].Bins[0] = Bin{From: -inf, To: inf}
		}, "scorecard.characteristics[2].bins[0]", "categorical"},
		{"cut-offs out of order", func(c *Config) {
			c.Grades[2].MinScore = 640
		}, "grades[2].min_score", "out of order"},
		{"rate out of range", func(c *Config) {
			c.Limits.Grades[0].Increase = 1_500_000
		}, "limits.grades[0].increase", "out of range"},
		{"grade without limit rule", func(c *Config) {
			c.Limits.Grades = c.Limits.Grades[:4]
		}, "limits.grades", `grade "E" has no limit rule`},
		{"bad scaling", func(c *Config) {
			c.Scaling.PDO = 0
		}, "scaling.pdo", "positive"},
		{"score bands out of order", func(c *Config) {
			c.Monitoring.ScoreBands = []int32{500, 400}
		}, "monitoring.score_bands", "out of order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultConfig()
			tt.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("Validate() = nil, want an error")
			}
			found := false
			for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
				var ce *ConfigError
				if errors.As(e, &ce) && ce.Path == tt.path && strings.Contains(ce.Msg, tt.want) {
					found = true
				}
			}
			if !found {
				t.Errorf("Validate() = %v\nwant %s: …%s…", err, tt.path, tt.want)
			}
		})
	}
}

func TestScoreBeforeValidatePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Score on an unvalidated Config did not panic")
		}
	}()
	var c Config
	var f Features
	c.Score(&f)
}

// TestRankOrdering checks that the default policy's grades rank-order the
// synthetic book's risky behaviours below a clean transactor.
func TestRankOrdering(t *testing.T) {
	c := mustDefault()
	score := func(a func() *billing.Account) Result {
		f := ComputeFeatures(a(), asOf)
		return c.Score(&f)
	}
	clean := score(transactor)
	if clean.Grade != "A" {
		t.Errorf("transactor graded %s (score %d), want A", clean.Grade, clean.Score)
	}
	tests := []struct {
		name      string
		acct      func() *billing.Account
		worstThan string // the best grade it may get
		reason    string // a reason code it must carry
	}{
		{"minimum payer", minPayer, "D", "PAYMENT_BEHAVIOUR"},
		{"late payer", latePayer, "D", "DELINQUENCY"},
		{"defaulter", defaulter, "E", "DELINQUENCY"},
		{"card failures", cardFailer, "B", "FAILED_DEDUCTIONS"},
		{"high utilization", highUtilization, "B", "HIGH_UTILIZATION"},
		{"low bureau score", lowBureau, "B", "BUREAU_SCORE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := score(tt.acct)
			if r.Score >= clean.Score {
				t.Errorf("score %d, want below the transactor's %d", r.Score, clean.Score)
			}
			if c.GradeIndex(r.Grade) < c.GradeIndex(tt.worstThan) {
				t.Errorf("grade %s (score %d), want %s or worse", r.Grade, r.Score, tt.worstThan)
			}
			found := false
			for _, code := range r.Reasons {
				found = found || code == tt.reason
			}
			if !found {
				t.Errorf("reasons %q, want %s among them", r.Reasons, tt.reason)
			}
		})
	}
}

func TestScoreDoesNotAllocate(t *testing.T) {
	c := mustDefault()
	a := latePayer()
	allocs := testing.AllocsPerRun(100, func() {
		f := ComputeFeatures(a, asOf)
		r := c.Score(&f)
		_ = r
	})
	if allocs != 0 {
		t.Errorf("ComputeFeatures+Score allocate %v times, want 0", allocs)
	}
}

func BenchmarkScore(b *testing.B) {
	c := mustDefault()
	a := latePayer()
	b.ReportAllocs()
	for b.Loop() {
		f := ComputeFeatures(a, asOf)
		r := c.Score(&f)
		_ = r
	}
}

// population returns n random accounts with varied behaviour.
func population(n int, seed uint64) []*billing.Account {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]*billing.Account, n)
	for i := range out {
		cycles := rng.IntN(13)
		cs := make([]cyc, cycles)
		limit := float64(1000 * (1 + rng.IntN(20)))
		for k := range cs {
			bal := limit * rng.Float64() * 1.1
			billed := bal * rng.Float64()
			cs[k] = cyc{
				spend: billed, inst: billed * rng.Float64(), billed: billed,
				paid: bal * rng.Float64() * 1.2, balance: bal, limit: limit, min: bal / 10,
			}
			if rng.IntN(6) == 0 {
				cs[k].dpd = int32(rng.IntN(90))
			}
			if rng.IntN(5) == 0 {
				cs[k].failed = int32(rng.IntN(4))
			}
		}
		a := account(cs...)
		a.ID = int64(i)
		a.Limit = yuanM(limit)
		a.OpenedOn = asOf - billing.Date(30*cycles+rng.IntN(30))
		a.HasExternalScore = rng.IntN(5) > 0
		a.ExternalScore = int32(350 + rng.IntN(600))
		if cycles == 0 {
			a.Status, a.Limit = billing.Pending, 0
		}
		out[i] = a
	}
	return out
}

func TestStricterCutOffOnlyDowngrades(t *testing.T) {
	old := mustDefault()
	strict := DefaultConfig()
	strict.Grades[1].MinScore += 25 // B
	strict.Grades[3].MinScore += 10 // D
	if err := strict.Validate(); err != nil {
		t.Fatal(err)
	}
	moved := 0
	for _, a := range population(2000, 7) {
		f := ComputeFeatures(a, asOf)
		ro, rs := old.Score(&f), strict.Score(&f)
		if ro.Score != rs.Score {
			t.Fatalf("account %d: scores %d and %d differ", a.ID, ro.Score, rs.Score)
		}
		gi, gs := old.GradeIndex(ro.Grade), strict.GradeIndex(rs.Grade)
		if gs < gi {
			t.Errorf("account %d: score %d moved up from %s to %s", a.ID, ro.Score, ro.Grade, rs.Grade)
		}
		if gs != gi {
			moved++
		}
	}
	if moved == 0 {
		t.Error("no account moved: the test population does not reach the changed cut-offs")
	}
}
