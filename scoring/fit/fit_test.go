package fit

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/creditrun/creditrun/scoring"
)

// synthetic draws n accounts whose log-odds of bad are a non-linear
// function of a few features (steps, a U, a missing value riskier than
// any), with a constant feature and a zero-inflated one beside them.
func synthetic(n int, seed uint64) Sample {
	r := rand.New(rand.NewPCG(seed, 7))
	s := Sample{IDs: make([]int64, n), Features: make([]scoring.Features, n), Bad: make([]bool, n)}
	for i := range n {
		f := &s.Features[i]
		s.IDs[i] = int64(1_000_000 + i)
		eta := -4.0
		// bureau_score: risk falls in steps; missing for 8%, risky.
		if r.Float64() < 0.08 {
			f.Missing[scoring.BureauScore] = true
			eta += 1.2
		} else {
			b := math.Round(650 + 80*r.NormFloat64())
			f.Values[scoring.BureauScore] = b
			switch {
			case b < 560:
				eta += 1.5
			case b < 640:
				eta += 0.7
			case b > 720:
				eta -= 0.8
			}
		}
		// utilization_avg_3: a hockey stick above 0.8.
		u := r.Float64() * 1.2
		f.Values[scoring.UtilizationAvg3] = u
		if u > 0.8 {
			eta += 4 * (u - 0.8)
		}
		// pay_pattern_3: categories with their own risks.
		k := r.IntN(6)
		f.Values[scoring.PayPattern3] = float64(k)
		eta += []float64{0.3, -0.5, -1, 0, 0.8, 1.6}[k]
		// max_dpd_6: mostly 0, a small tail that nearly always goes bad.
		if x := r.Float64(); x < 0.01 {
			f.Values[scoring.MaxDPD6] = float64(20 + r.IntN(40))
			eta += 5
		} else if x < 0.08 {
			f.Values[scoring.MaxDPD6] = float64(1 + r.IntN(7))
			eta += 0.5
		}
		// tenure_months: the same for everyone.
		f.Values[scoring.TenureMonths] = 12
		s.Bad[i] = r.Float64() < 1/(1+math.Exp(-eta))
	}
	return s
}

func syntheticOptions() Options {
	o := DefaultOptions()
	o.Features = []string{"bureau_score", "utilization_avg_3", "pay_pattern_3", "max_dpd_6", "tenure_months"}
	return o
}

func TestFitOnSyntheticBook(t *testing.T) {
	s := synthetic(30_000, 1)
	base := scoring.DefaultConfig()
	start := time.Now()
	res, err := Fit(&base, s, syntheticOptions())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fit of %d accounts: %s", len(s.IDs), time.Since(start))
	r := &res.Report
	t.Logf("AUC in sample %.4f holdout %.4f; regression %.4f / %.4f; current %.4f / %.4f",
		r.InSample.AUC, r.OnHoldout.AUC, r.RegressionInSample.AUC, r.RegressionHoldout.AUC, r.CurrentInSample.AUC, r.CurrentHoldout.AUC)
	if r.OnHoldout.AUC < r.RegressionHoldout.AUC {
		t.Errorf("holdout AUC %.4f below the plain regression's %.4f", r.OnHoldout.AUC, r.RegressionHoldout.AUC)
	}
	if r.InSample.AUC < r.RegressionInSample.AUC {
		t.Errorf("in-sample AUC %.4f below the plain regression's %.4f", r.InSample.AUC, r.RegressionInSample.AUC)
	}
	if !r.Monotone {
		t.Errorf("bad rates by grade are not monotone: %+v", r.Grades)
	}
	for _, g := range r.Grades {
		if !g.Calibrated {
			t.Errorf("grade %s: mean PD %.4f outside the bad rate's interval [%.4f, %.4f]", g.Grade, g.MeanPD, g.Lo, g.Hi)
		}
	}
	// The constant feature is dropped; the small tail stands as its own bin.
	for _, c := range r.Characteristics {
		switch c.Feature {
		case "tenure_months":
			if c.Selected {
				t.Errorf("the constant tenure_months is in the scorecard")
			}
		case "max_dpd_6":
			if last := c.Bins[len(c.Bins)-1]; last.From < 8 || last.Accounts > len(s.IDs)/50 {
				t.Errorf("max_dpd_6's riskiest bin %s holds %d accounts: the 1%% tail was diluted", last.Label, last.Accounts)
			}
		case "bureau_score":
			if miss := c.Bins[len(c.Bins)-1]; !miss.Missing || miss.WoE >= 0 {
				t.Errorf("bureau_score's missing bin %+v: want a missing bin riskier than average", miss)
			}
		}
	}
	// The fitted config scores like the report says and carries its
	// distribution as the monitoring baseline.
	if len(res.Config.Monitoring.Baseline) == 0 {
		t.Error("no monitoring baseline in the fitted config")
	}
	if res.Config.Scaling != base.Scaling {
		t.Errorf("scaling %+v, want the base's %+v", res.Config.Scaling, base.Scaling)
	}
	// Same seed, same fit; another seed, another split.
	again, err := Fit(&base, s, syntheticOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.Config.Scorecard, res.Config.Scorecard) || !reflect.DeepEqual(again.Report, res.Report) {
		t.Error("two fits with the same seed differ")
	}
	o := syntheticOptions()
	o.Seed = 2
	other, err := Fit(&base, s, o)
	if err != nil {
		t.Fatal(err)
	}
	if other.Report.Train == res.Report.Train && reflect.DeepEqual(other.Config.Scorecard, res.Config.Scorecard) {
		t.Error("seed 2 gives the same split and scorecard as seed 1")
	}
}

// Separation, a feature missing everywhere, a sparse category and a tiny
// sample neither fail nor give infinite points.
func TestFitIsRobust(t *testing.T) {
	s := synthetic(3000, 3)
	for i := range s.Features {
		f := &s.Features[i]
		// installment_share_3 separates perfectly.
		if s.Bad[i] {
			f.Values[scoring.InstallmentShare3] = 0.9
		} else {
			f.Values[scoring.InstallmentShare3] = 0.1
		}
		// payment_ratio_3 is missing everywhere.
		f.Missing[scoring.PaymentRatio3] = true
		// max_dpd_12 is max_dpd_6 again, as on a young book.
		f.Values[scoring.MaxDPD12] = f.Values[scoring.MaxDPD6]
		// pay_pattern_3 "new" (0) appears twice only.
		if f.Values[scoring.PayPattern3] == 0 && i%200 != 0 {
			f.Values[scoring.PayPattern3] = 3
		}
	}
	o := syntheticOptions()
	o.Features = append(o.Features, "installment_share_3", "payment_ratio_3", "max_dpd_12")
	base := scoring.DefaultConfig()
	res, err := Fit(&base, s, o)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range res.Config.Scorecard.Characteristics {
		for _, b := range ch.Bins {
			if b.Points > 5000 || b.Points < -5000 {
				t.Errorf("%s: %d points: the separation diverged", ch.Name, b.Points)
			}
		}
		if ch.Feature == "payment_ratio_3" {
			t.Errorf("payment_ratio_3, missing everywhere, is in the scorecard")
		}
	}
	for _, c := range res.Report.Characteristics {
		if c.Feature == "max_dpd_12" && (c.Selected || c.Dropped != "same values as max_dpd_6 on the sample") {
			t.Errorf("max_dpd_12, a copy of max_dpd_6: selected %v, dropped %q", c.Selected, c.Dropped)
		}
	}
	if res.Report.InSample.AUC < 0.99 {
		t.Errorf("in-sample AUC %.3f with a separating feature: want ≈ 1", res.Report.InSample.AUC)
	}

	tiny := synthetic(40, 4)
	if _, err := Fit(&base, tiny, syntheticOptions()); err == nil {
		t.Log("a 40-account sample fits") // allowed, as long as it does not panic
	}
	none := synthetic(500, 5)
	for i := range none.Bad {
		none.Bad[i] = false
	}
	if _, err := Fit(&base, none, syntheticOptions()); err == nil {
		t.Error("a sample without bads fits: want ErrNoData")
	}
	bad := syntheticOptions()
	bad.Features = []string{"no_such_feature"}
	if _, err := Fit(&base, s, bad); err == nil {
		t.Error("an unknown feature fits: want ErrBadOptions")
	}
}

// StartBins begins from the base scorecard's bins: the fitted bins' edges
// are a subset of the shipped ones.
func TestFitFromPolicyBins(t *testing.T) {
	s := synthetic(20_000, 6)
	base := scoring.DefaultConfig()
	o := syntheticOptions()
	o.StartBins = true
	res, err := Fit(&base, s, o)
	if err != nil {
		t.Fatal(err)
	}
	shipped := map[string]map[float64]bool{}
	for _, ch := range base.Scorecard.Characteristics {
		shipped[ch.Feature] = map[float64]bool{}
		for _, b := range ch.Bins {
			shipped[ch.Feature][b.From] = true
		}
	}
	for _, ch := range res.Config.Scorecard.Characteristics {
		for _, b := range ch.Bins {
			if !b.Missing && len(b.Categories) == 0 && !math.IsInf(b.From, -1) && !shipped[ch.Feature][b.From] {
				t.Errorf("%s: edge %v is not one of the shipped bins'", ch.Feature, b.From)
			}
		}
	}
}

func TestFitLogisticRecoversCoefficients(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	n := 40_000
	x := make([][]float64, n)
	y := make([]bool, n)
	for i := range x {
		a, b := r.NormFloat64(), r.NormFloat64()
		x[i] = []float64{a, b, 3} // the constant column is absorbed by the penalty
		y[i] = r.Float64() < 1/(1+math.Exp(-(-1+0.8*a-0.5*b)))
	}
	m, err := FitLogistic(x, y, 1)
	if err != nil {
		t.Fatal(err)
	}
	eta := m.Intercept + 3*m.Coef[2]
	if math.Abs(eta+1) > 0.05 || math.Abs(m.Coef[0]-0.8) > 0.05 || math.Abs(m.Coef[1]+0.5) > 0.05 {
		t.Errorf("FitLogistic = %+v (intercept with the constant %.3f), want ≈ −1, 0.8, −0.5", m, eta)
	}
}

func TestDiscrimination(t *testing.T) {
	tests := []struct {
		name    string
		score   []float64
		bad     []bool
		auc, ks float64
	}{
		{"perfect", []float64{1, 2, 3, 4}, []bool{true, true, false, false}, 1, 1},
		{"reversed", []float64{1, 2, 3, 4}, []bool{false, false, true, true}, 0, 1},
		{"all tied", []float64{5, 5, 5, 5}, []bool{true, false, true, false}, 0.5, 0},
		// goods 2, 3; bads 1, 3: pairs (2>1) (3>1) (2<3) (3=3 ½) = 2.5/4.
		{"a tie", []float64{2, 3, 1, 3}, []bool{false, false, true, true}, 0.625, 0.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := Discrimination(tt.score, tt.bad)
			if math.Abs(m.AUC-tt.auc) > 1e-12 || math.Abs(m.KS-tt.ks) > 1e-12 || math.Abs(m.Gini-(2*tt.auc-1)) > 1e-12 {
				t.Errorf("Discrimination(%v, %v) = %+v, want AUC %v KS %v", tt.score, tt.bad, m, tt.auc, tt.ks)
			}
		})
	}
}

func TestWilson(t *testing.T) {
	// Reference values (R: prop.test(…, correct = FALSE)$conf.int, which
	// is the Wilson interval).
	lo, hi := Wilson(10, 100)
	if math.Abs(lo-0.05522914) > 1e-6 || math.Abs(hi-0.17436566) > 1e-6 {
		t.Errorf("Wilson(10, 100) = [%.8f, %.8f], want [0.05522914, 0.17436566]", lo, hi)
	}
	if lo, hi := Wilson(0, 50); lo != 0 || math.Abs(hi-0.07134759) > 1e-6 {
		t.Errorf("Wilson(0, 50) = [%v, %v], want [0, 0.07134759]", lo, hi)
	}
}

// Cut-offs give strictly rising bad rates on any score that ranks risk,
// and every grade its minimum share.
func TestCutOffsAreMonotone(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for trial := range 20 {
		n := 2000 + r.IntN(20000)
		score := make([]int32, n)
		bad := make([]bool, n)
		for i := range score {
			score[i] = int32(400 + r.IntN(400))
			pd := 1 / (1 + math.Exp((float64(score[i])-500)/40))
			bad[i] = r.Float64() < pd
		}
		target := []float64{0.3, 0.25, 0.2, 0.15, 0.1}
		pd := make([]float64, n)
		for i, s := range score {
			pd[i] = 1 / (1 + math.Exp((float64(s)-500)/40))
		}
		cuts, ok := cutOffs(score, pd, bad, target, 0.02)
		if !ok {
			t.Errorf("trial %d: no monotone grading found", trial)
			continue
		}
		grade := make([]int, n)
		for i, s := range score {
			for grade[i] = 0; grade[i] < len(cuts) && s < cuts[grade[i]]; grade[i]++ {
			}
		}
		rows := gradeTable([]string{"A", "B", "C", "D", "E"}, cuts, grade, make([]float64, n), bad)
		if !Monotone(rows) {
			t.Errorf("trial %d: cut-offs %v give bad rates %+v", trial, cuts, rows)
		}
		for _, g := range rows {
			if g.Accounts < n/50 {
				t.Errorf("trial %d: grade %s has %d of %d accounts, below 2%%", trial, g.Grade, g.Accounts, n)
			}
		}
	}
}

// A characteristic that says nothing alone but much next to another (a
// suppressor: bureau_score is the risk plus noise, utilization_avg_6 the
// noise alone) is in the additive scorecard; the WoE regression, which
// classes each characteristic on its own, cannot use it. The risk here is
// linear in both values, the regression's own shape: the scorecard's steps,
// drawn towards the WoE regression, come within 0.02 of it (0.767 against
// 0.785 when measured; the WoE regression 0.705).
func TestFitUsesASuppressor(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 21))
	n := 20_000
	s := Sample{IDs: make([]int64, n), Features: make([]scoring.Features, n), Bad: make([]bool, n)}
	for i := range n {
		a, e := r.NormFloat64(), r.NormFloat64()
		s.IDs[i] = int64(i + 1)
		s.Features[i].Values[scoring.BureauScore] = math.Round(600 + 50*(a+e))
		s.Features[i].Values[scoring.UtilizationAvg6] = 0.5 + 0.2*e
		s.Bad[i] = r.Float64() < 1/(1+math.Exp(2.2+1.2*a))
	}
	base := scoring.DefaultConfig()
	o := DefaultOptions()
	o.Features = []string{"bureau_score", "utilization_avg_6"}
	add, err := Fit(&base, s, o)
	if err != nil {
		t.Fatal(err)
	}
	o.Method = MethodWoE
	woe, err := Fit(&base, s, o)
	if err != nil {
		t.Fatal(err)
	}
	ra, rw := &add.Report, &woe.Report
	t.Logf("holdout AUC: additive %.4f, WoE %.4f, regression %.4f", ra.OnHoldout.AUC, rw.OnHoldout.AUC, ra.RegressionHoldout.AUC)
	for _, c := range ra.Characteristics {
		if c.Feature == "utilization_avg_6" && !c.Selected {
			t.Errorf("utilization_avg_6 left out of the additive scorecard: %s", c.Dropped)
		}
	}
	if ra.OnHoldout.AUC < ra.RegressionHoldout.AUC-0.02 {
		t.Errorf("additive holdout AUC %.4f, regression %.4f", ra.OnHoldout.AUC, ra.RegressionHoldout.AUC)
	}
	if ra.OnHoldout.AUC < rw.OnHoldout.AUC+0.02 {
		t.Errorf("additive holdout AUC %.4f not above the WoE regression's %.4f", ra.OnHoldout.AUC, rw.OnHoldout.AUC)
	}
}

func TestReasonFor(t *testing.T) {
	base := scoring.DefaultConfig()
	tests := []struct{ feature, want string }{
		{"max_dpd_6", "DELINQUENCY"},               // the base's own
		{"max_dpd_1", "DELINQUENCY"},               // another window of it
		{"utilization_avg_12", "HIGH_UTILIZATION"}, // likewise
		{"paid_3", "PAID"},                         // a windowed feature the base lacks
		{"current_dpd", "CURRENT_DPD"},             // a point-in-time one
	}
	for _, tt := range tests {
		if got := reasonFor(&base, tt.feature); got != tt.want {
			t.Errorf("reasonFor(%q) = %q, want %q", tt.feature, got, tt.want)
		}
	}
}
