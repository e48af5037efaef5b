package fit

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/creditrun/creditrun/scoring"
)

// Options tune a fit. DefaultOptions gives the usual values.
type Options struct {
	// Features are the candidate characteristics, by feature name; empty
	// means the features of the base scorecard.
	Features []string
	// StartBins starts each characteristic the base scorecard has from its
	// bins instead of quantile fine classes.
	StartBins bool
	// FineBins is the number of quantile fine classes; MaxBins caps the
	// coarse classes of a characteristic (the missing bin aside).
	FineBins, MaxBins int
	// MinBinShare is the share of the fitting sample a coarse class needs.
	MinBinShare float64
	// MinIV drops a characteristic whose information value is below it.
	MinIV float64
	// Method is how the points are fitted: MethodAdditive (the default)
	// fits each bin's log-odds given the other characteristics; MethodWoE
	// regresses on each characteristic's weight of evidence.
	Method string
	// Ridge is MethodAdditive's penalty on each fine class's log-odds (the
	// information of about Ridge bads, drawing a sparse class towards 0);
	// Rounds its backfitting rounds.
	Ridge  float64
	Rounds int
	// PriorL2 and PriorFolds tune the WoE regression MethodAdditive starts
	// from and draws towards: its ridge penalty, and the folds of its
	// out-of-fold WoE (1: in-sample WoE).
	PriorL2    float64
	PriorFolds int
	// L2 is MethodWoE's ridge penalty of the regression (on the
	// log-likelihood of the whole sample); the plain regression the report
	// compares with always has 1.
	L2 float64
	// Holdout is the share of accounts kept out of the fit to measure it;
	// accounts are split by a hash of their id and Seed.
	Holdout float64
	Seed    uint64
	// MinGradeShare is the share of the sample the smallest grade may have.
	MinGradeShare float64
	// Name names the fitted scorecard.
	Name string
}

// Methods of fitting the points.
const (
	MethodAdditive = "additive"
	MethodWoE      = "woe"
)

// DefaultOptions returns the additive method (ridge 5, 20 rounds, drawn
// towards a WoE regression of L2 10 on 5-fold out-of-fold WoE), 20 fine
// classes, at most 20 coarse ones of 2% or more each, every non-constant
// candidate (MinIV 0), L2 1 for the WoE method, a 30% holdout, grades of 2%
// or more.
func DefaultOptions() Options {
	return Options{Method: MethodAdditive, Ridge: 5, Rounds: 20, PriorL2: 10, PriorFolds: 5, FineBins: 20, MaxBins: 20, MinBinShare: 0.02,
		MinIV: 0, L2: 1, Holdout: 0.3, Seed: 1, MinGradeShare: 0.02, Name: "fitted"}
}

func (o *Options) check() error {
	var bad []string
	if o.FineBins < 2 || o.FineBins > 1000 {
		bad = append(bad, fmt.Sprintf("fine bins %d: want 2..1000", o.FineBins))
	}
	if o.MaxBins < 1 {
		bad = append(bad, fmt.Sprintf("max bins %d: want ≥ 1", o.MaxBins))
	}
	if !(o.MinBinShare >= 0 && o.MinBinShare < 0.5) {
		bad = append(bad, fmt.Sprintf("min bin share %v: want 0 ≤ share < 0.5", o.MinBinShare))
	}
	if !(o.MinIV >= 0) || math.IsInf(o.MinIV, 0) {
		bad = append(bad, fmt.Sprintf("min IV %v: want ≥ 0", o.MinIV))
	}
	if o.Method != MethodAdditive && o.Method != MethodWoE {
		bad = append(bad, fmt.Sprintf("method %q: want %s or %s", o.Method, MethodAdditive, MethodWoE))
	}
	if !(o.Ridge > 0) || math.IsInf(o.Ridge, 0) {
		bad = append(bad, fmt.Sprintf("ridge %v: want > 0", o.Ridge))
	}
	if !(o.PriorL2 > 0) || math.IsInf(o.PriorL2, 0) {
		bad = append(bad, fmt.Sprintf("prior L2 %v: want > 0", o.PriorL2))
	}
	if o.PriorFolds < 1 || o.PriorFolds > 20 {
		bad = append(bad, fmt.Sprintf("prior folds %d: want 1..20", o.PriorFolds))
	}
	if o.Rounds < 1 || o.Rounds > 1000 {
		bad = append(bad, fmt.Sprintf("rounds %d: want 1..1000", o.Rounds))
	}
	if !(o.L2 > 0) || math.IsInf(o.L2, 0) {
		bad = append(bad, fmt.Sprintf("L2 %v: want > 0", o.L2))
	}
	if !(o.Holdout >= 0 && o.Holdout < 0.9) {
		bad = append(bad, fmt.Sprintf("holdout %v: want 0 ≤ share < 0.9", o.Holdout))
	}
	if !(o.MinGradeShare >= 0 && o.MinGradeShare < 0.2) {
		bad = append(bad, fmt.Sprintf("min grade share %v: want 0 ≤ share < 0.2", o.MinGradeShare))
	}
	for _, f := range o.Features {
		if _, ok := scoring.FeatureByName(f); !ok {
			bad = append(bad, fmt.Sprintf("unknown feature %q", f))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrBadOptions, strings.Join(bad, "; "))
	}
	return nil
}

// Sample is what a scorecard is fitted or back-tested on: one account per
// index, its id, its features as of the observation date and whether it
// went bad afterwards.
type Sample struct {
	IDs      []int64
	Features []scoring.Features
	Bad      []bool
}

// Result is a fit: the fitted config and its report.
type Result struct {
	// Config is the base config with the fitted scorecard, grade cut-offs
	// and monitoring baseline (the fitted scorecard's distribution on the
	// sample), validated.
	Config scoring.Config
	Report Report
	// Baseline is the plain regression the report compares with.
	Baseline *Baseline
}

// Report is everything a fit measured.
type Report struct {
	Accounts int    `json:"accounts"`
	Bads     int    `json:"bads"`
	Train    int    `json:"train_accounts"`
	Holdout  int    `json:"holdout_accounts"`
	Seed     uint64 `json:"seed"`

	Characteristics []CharacteristicReport `json:"characteristics"`
	Intercept       float64                `json:"intercept"`
	// Recalibration is the intercept and slope of the logistic regression
	// of the outcome on the model's log-odds, folded into the points.
	Recalibration [2]float64 `json:"recalibration"`

	InSample  Metrics `json:"in_sample"`
	OnHoldout Metrics `json:"holdout"`
	// Regression is a plain logistic regression on the candidate features'
	// raw values (standardised, missing as a flag), fitted on the same
	// accounts: the baseline the scorecard should at least match.
	RegressionInSample Metrics `json:"regression_in_sample"`
	RegressionHoldout  Metrics `json:"regression_holdout"`
	// OutOfTime and RegressionOutOfTime are the scorecard and the plain
	// regression on another sample (see Result.OutOfTime); empty without.
	OutOfTime           Metrics `json:"out_of_time"`
	RegressionOutOfTime Metrics `json:"regression_out_of_time"`
	// Current is the base policy's scorecard on the same accounts.
	CurrentInSample Metrics `json:"current_in_sample"`
	CurrentHoldout  Metrics `json:"current_holdout"`

	// Calibration is mean PD against the bad rate by score decile on the
	// fitting accounts.
	Calibration []GradeRow `json:"calibration"`
	// Grades on the fitting accounts, the holdout and the whole sample.
	Grades        []GradeRow `json:"grades"`
	HoldoutGrades []GradeRow `json:"holdout_grades"`
	AllGrades     []GradeRow `json:"all_grades"`
	Monotone      bool       `json:"monotone"`
	Calibrated    bool       `json:"calibrated"`
	Migration     Migration  `json:"migration"`
}

// CharacteristicReport is one candidate characteristic.
type CharacteristicReport struct {
	Binning
	Selected bool `json:"selected"`
	// Dropped says why a candidate is not in the scorecard.
	Dropped string `json:"dropped,omitempty"`
	// Coefficient is the WoE method's regression coefficient (0 with the
	// additive method, whose bins carry their log-odds).
	Coefficient float64 `json:"coefficient"`
	Reason      string  `json:"reason"`
}

// Migration counts accounts by their grade under the current policy (From)
// and under the fitted one (To).
type Migration struct {
	From   []string `json:"from"`
	To     []string `json:"to"`
	Counts [][]int  `json:"counts"`
}

// Fit fits a points scorecard to the sample and returns base with it. The
// steps: split off the holdout; class every candidate characteristic and
// compute its WoE and IV on the fitting accounts; regress the outcome on
// the WoE (out of fold for the additive method), dropping, one at a time,
// any characteristic whose coefficient has the wrong sign; with
// MethodAdditive, fit every non-constant characteristic's bins given the
// others, drawn towards that regression; recalibrate the log-odds; scale
// them to points with base's PDO, base score and base odds; choose grade
// cut-offs with strictly rising bad rates; and measure it all.
func Fit(base *scoring.Config, s Sample, o Options) (*Result, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	n := len(s.Features)
	if n == 0 || len(s.Bad) != n || len(s.IDs) != n {
		return nil, fmt.Errorf("%w: %d accounts, %d outcomes, %d ids", ErrNoData, n, len(s.Bad), len(s.IDs))
	}
	names := o.Features
	if len(names) == 0 {
		for _, ch := range base.Scorecard.Characteristics {
			if !slices.Contains(names, ch.Feature) {
				names = append(names, ch.Feature)
			}
		}
	}
	var train, hold []int
	for i, id := range s.IDs {
		if o.Holdout > 0 && unit(uint64(id), o.Seed) < o.Holdout {
			hold = append(hold, i)
		} else {
			train = append(train, i)
		}
	}
	rep := Report{Accounts: n, Train: len(train), Holdout: len(hold), Seed: o.Seed}
	trainBads := 0
	for _, i := range train {
		if s.Bad[i] {
			trainBads++
		}
	}
	for _, b := range s.Bad {
		if b {
			rep.Bads++
		}
	}
	if trainBads < 2 || trainBads > len(train)-2 {
		return nil, fmt.Errorf("%w: %d bads among %d fitting accounts; want at least 2 bads and 2 goods", ErrNoData, trainBads, len(train))
	}

	// Classing.
	bo := binOptions{fine: o.FineBins, maxBins: o.MaxBins, minCount: max(1, int(math.Ceil(o.MinBinShare*float64(len(train)))))}
	chars := make([]CharacteristicReport, len(names))
	for k, name := range names {
		id, _ := scoring.FeatureByName(name)
		opt := bo
		if o.StartBins {
			if j := slices.IndexFunc(base.Scorecard.Characteristics, func(c scoring.Characteristic) bool { return c.Feature == name }); j >= 0 {
				opt.start = &base.Scorecard.Characteristics[j]
			}
		}
		chars[k] = CharacteristicReport{Binning: *binFeature(id, s.Features, s.Bad, train, opt), Reason: reasonFor(base, name)}
		c := &chars[k]
		dup := slices.IndexFunc(chars[:k], func(d CharacteristicReport) bool {
			return d.Selected && sameValues(d.id, id, s.Features, train)
		})
		switch {
		case c.constant():
			c.Dropped = "constant on the sample"
		case dup >= 0:
			// Young books have the same history in every window: one of
			// them is enough.
			c.Dropped = "same values as " + chars[dup].Feature + " on the sample"
		case o.Method == MethodWoE && (len(c.Bins) < 2 || c.IV == 0):
			c.Dropped = "no information on its own"
		case c.IV < o.MinIV && o.MinIV > 0:
			c.Dropped = fmt.Sprintf("IV %.4f below %.4f", c.IV, o.MinIV)
		default:
			c.Selected = true
		}
	}

	var intercept float64
	if o.Method == MethodWoE {
		m, err := fitWoE(chars, s, train, o.L2, 0, 0)
		if err != nil {
			return nil, err
		}
		intercept = m.Intercept
	} else {
		// Every characteristic with something to say enters the backfitting;
		// one whose effect pools into a single block is left out.
		cand := selected(chars)
		if len(cand) == 0 {
			return nil, fmt.Errorf("%w: every candidate is constant or below the minimum IV", ErrNoCharacteristic)
		}
		// The prior: the WoE regression on those with information alone.
		prior := slices.Clone(chars)
		for k := range prior {
			prior[k].Bins = slices.Clone(prior[k].Bins)
			prior[k].Selected = prior[k].Selected && len(prior[k].Bins) >= 2 && prior[k].IV > 0
		}
		var woeModel *Logistic
		if len(selected(prior)) > 0 {
			var err error
			if woeModel, err = fitWoE(prior, s, train, o.PriorL2, o.PriorFolds, o.Seed+1); err != nil && !errors.Is(err, ErrNoCharacteristic) {
				return nil, err
			}
		}
		bf := backfitOptions{minCount: bo.minCount, maxBins: o.MaxBins, ridge: o.Ridge, rounds: o.Rounds}
		var start func(k int, f *scoring.Features) float64
		if woeModel != nil {
			bf.intercept = woeModel.Intercept
			start = func(k int, f *scoring.Features) float64 {
				if !prior[k].Selected {
					return 0
				}
				return prior[k].Bins[prior[k].index(f)].Effect
			}
		}
		m := fitAdditive(chars, cand, s.Features, s.Bad, train, bf, start)
		intercept = m.intercept
		for _, t := range m.terms {
			t.apply(&chars[t.char], s.Features, s.Bad, train)
		}
	}
	rep.Intercept = intercept
	sel := selected(chars)
	if len(sel) == 0 {
		return nil, fmt.Errorf("%w: no characteristic adds to the others", ErrNoCharacteristic)
	}
	if len(sel) > scoring.MaxCharacteristics {
		return nil, fmt.Errorf("%w: %d characteristics selected, a scorecard holds at most %d", ErrBadOptions, len(sel), scoring.MaxCharacteristics)
	}

	// Recalibration of the log-odds on the fitting accounts.
	eta := make([][]float64, len(train))
	for r, i := range train {
		eta[r] = []float64{intercept + effects(chars, sel, &s.Features[i])}
	}
	cal, err := FitLogistic(eta, pick(s.Bad, train), 1e-6)
	if err != nil {
		return nil, err
	}
	a, b := cal.Intercept, cal.Coef[0]
	rep.Recalibration = [2]float64{a, b}

	// Points: score = offset − factor · (a + b · (β0 + Σ effect)).
	sc := base.Scaling
	factor := sc.Factor()
	constant := int64(math.Round(sc.Offset() - factor*(a+b*intercept)))
	card := scoring.Scorecard{Name: o.Name}
	k := int64(len(sel))
	q, r := floorDiv(constant, k)
	for j, ci := range sel {
		c := &chars[ci]
		share := q
		if int64(j) < r {
			share++
		}
		ch := scoring.Characteristic{Name: c.Feature, Feature: c.Feature, Reason: c.Reason}
		best := int32(math.MinInt32)
		for bi := range c.Bins {
			bs := &c.Bins[bi]
			bs.Points = int32(math.Round(-factor*b*bs.Effect) + float64(share))
		}
		c.mergeEqualPoints(len(train)-trainBads, trainBads)
		for bi := range c.Bins {
			bs := &c.Bins[bi]
			best = max(best, bs.Points)
			bin := scoring.Bin{Points: bs.Points}
			switch {
			case bs.Missing:
				bin.Missing = true
			case c.Categorical:
				bin.Categories = slices.Clone(bs.Categories)
			default:
				bin.From, bin.To = bs.From, bs.To
			}
			ch.Bins = append(ch.Bins, bin)
		}
		ch.Baseline = best
		card.Characteristics = append(card.Characteristics, ch)
	}
	rep.Characteristics = chars

	cfg := *base
	cfg.Scorecard = card
	cfg.Monitoring.Baseline = nil
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("fitted scorecard: %w", err)
	}

	// Grades: cut-offs on the fitting accounts' scores, aimed at the shares
	// the current grades have there.
	curGrade := make([]int, n)
	curScore := make([]float64, n)
	score := make([]int32, n)
	scorePD := make([]float64, n)
	for i := range s.Features {
		cr := base.Score(&s.Features[i])
		curGrade[i] = base.GradeIndex(cr.Grade)
		curScore[i] = float64(cr.Score)
		fr := cfg.Score(&s.Features[i])
		score[i], scorePD[i] = fr.Score, fr.PD
	}
	target := make([]float64, len(base.Grades))
	for _, i := range train {
		target[curGrade[i]]++
	}
	for g := range target {
		target[g] = max(target[g]/float64(len(train)), 0.05)
	}
	cuts, ok := cutOffs(pick(score, train), pick(scorePD, train), pick(s.Bad, train), target, o.MinGradeShare)
	rep.Monotone = ok
	cfg.Grades = slices.Clone(base.Grades)
	for g := range cuts {
		cfg.Grades[g].MinScore = cuts[g]
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("fitted grades: %w", err)
	}

	// Measure.
	pd := make([]float64, n)
	grade := make([]int, n)
	fscore := make([]float64, n)
	dist := cfg.NewDistribution()
	for i := range s.Features {
		res := cfg.Score(&s.Features[i])
		pd[i], grade[i], fscore[i] = res.PD, cfg.GradeIndex(res.Grade), float64(res.Score)
		dist.Add(&s.Features[i], &res)
	}
	cfg.Monitoring.Baseline = dist.Rows()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("fitted monitoring baseline: %w", err)
	}
	gnames := make([]string, len(cfg.Grades))
	for g := range cfg.Grades {
		gnames[g] = cfg.Grades[g].Name
	}
	rep.InSample = Discrimination(pick(fscore, train), pick(s.Bad, train))
	rep.OnHoldout = Discrimination(pick(fscore, hold), pick(s.Bad, hold))
	rep.CurrentInSample = Discrimination(pick(curScore, train), pick(s.Bad, train))
	rep.CurrentHoldout = Discrimination(pick(curScore, hold), pick(s.Bad, hold))
	rep.Grades = gradeTable(gnames, cuts, pick(grade, train), pick(pd, train), pick(s.Bad, train))
	rep.HoldoutGrades = gradeTable(gnames, cuts, pick(grade, hold), pick(pd, hold), pick(s.Bad, hold))
	rep.AllGrades = gradeTable(gnames, cuts, grade, pd, s.Bad)
	rep.Monotone = Monotone(rep.Grades)
	rep.Calibrated = true
	for _, g := range rep.Grades {
		rep.Calibrated = rep.Calibrated && (g.Calibrated || g.Accounts == 0)
	}
	rep.Calibration = Deciles(pick(fscore, train), pick(pd, train), pick(s.Bad, train))
	rep.Migration = Migration{From: gnames, To: gnames, Counts: make([][]int, len(gnames))}
	for g := range gnames {
		rep.Migration.Counts[g] = make([]int, len(gnames))
	}
	for i := range grade {
		rep.Migration.Counts[curGrade[i]][grade[i]]++
	}
	bl, regIn, regOut, err := regressionBaseline(names, s, train, hold, 1)
	if err != nil {
		return nil, err
	}
	rep.RegressionInSample, rep.RegressionHoldout = regIn, regOut
	return &Result{Config: cfg, Report: rep, Baseline: bl}, nil
}

// OutOfTime measures the fitted scorecard and the plain regression on
// another sample, such as the accounts of a later observation date, and
// records both in the report.
func (r *Result) OutOfTime(s Sample) {
	card := make([]float64, len(s.Features))
	reg := make([]float64, len(s.Features))
	for i := range s.Features {
		card[i] = float64(r.Config.Score(&s.Features[i]).Score)
		reg[i] = r.Baseline.Score(&s.Features[i])
	}
	r.Report.OutOfTime = Discrimination(card, s.Bad)
	r.Report.RegressionOutOfTime = Discrimination(reg, s.Bad)
}

// Deciles returns mean PD against the bad rate in ten bands of equal size
// by score (best first).
func Deciles(score, pd []float64, bad []bool) []GradeRow {
	idx := make([]int, len(score))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmpFloat(score[b], score[a]) })
	names := make([]string, 10)
	band := make([]int, len(score))
	for k := range names {
		names[k] = fmt.Sprintf("decile %d", k+1)
	}
	for r, i := range idx {
		band[i] = r * 10 / max(len(idx), 1)
	}
	rows := gradeTable(names, nil, band, pd, bad)
	return rows
}

func selected(chars []CharacteristicReport) []int {
	var sel []int
	for k := range chars {
		if chars[k].Selected {
			sel = append(sel, k)
		}
	}
	return sel
}

// fitWoE regresses the outcome on the WoE of the selected characteristics,
// dropping, one at a time, any whose coefficient has the wrong sign, and
// sets each bin's effect to coefficient × WoE.
//
// With folds > 1 the regression is on out-of-fold WoE (see oofMatrix).
func fitWoE(chars []CharacteristicReport, s Sample, train []int, l2 float64, folds int, seed uint64) (*Logistic, error) {
	for {
		sel := selected(chars)
		if len(sel) == 0 {
			return nil, fmt.Errorf("%w: every candidate is constant, below the minimum IV or of the wrong sign", ErrNoCharacteristic)
		}
		if len(sel) > scoring.MaxCharacteristics {
			return nil, fmt.Errorf("%w: %d characteristics selected, a scorecard holds at most %d", ErrBadOptions, len(sel), scoring.MaxCharacteristics)
		}
		var x [][]float64
		if folds > 1 {
			x = oofMatrix(chars, sel, s, train, folds, seed)
		} else {
			x = woeMatrix(chars, sel, s.Features, train)
		}
		model, err := FitLogistic(x, pick(s.Bad, train), l2)
		if err != nil {
			return nil, err
		}
		// WoE grows with the good share: a coefficient on P(bad) must be
		// negative, or the points would reward risk.
		worst := -1
		for j, c := range model.Coef {
			if c >= 0 && (worst < 0 || c > model.Coef[worst]) {
				worst = j
			}
		}
		if worst < 0 {
			for j, k := range sel {
				chars[k].Coefficient = model.Coef[j]
				for bi := range chars[k].Bins {
					chars[k].Bins[bi].Effect = model.Coef[j] * chars[k].Bins[bi].WoE
				}
			}
			return model, nil
		}
		chars[sel[worst]].Selected = false
		chars[sel[worst]].Dropped = fmt.Sprintf("coefficient %.3f has the wrong sign next to the others", model.Coef[worst])
	}
}

// mergeEqualPoints merges bins that score the same: neighbouring ranges,
// or categories, with equal points (the missing bin stays apart). G and B
// are the goods and bads of the fitting accounts, for the merged WoE.
func (c *CharacteristicReport) mergeEqualPoints(G, B int) {
	var out []BinStats
	for _, bs := range c.Bins {
		j := -1
		for k := range out {
			o := &out[k]
			if o.Missing || bs.Missing || o.Points != bs.Points {
				continue
			}
			if c.Categorical || (k == len(out)-1 && o.To == bs.From) {
				j = k
				break
			}
		}
		if j < 0 {
			out = append(out, bs)
			continue
		}
		o := &out[j]
		if n := o.Accounts + bs.Accounts; n > 0 {
			o.Effect = (o.Effect*float64(o.Accounts) + bs.Effect*float64(bs.Accounts)) / float64(n)
		}
		o.Accounts += bs.Accounts
		o.Bads += bs.Bads
		o.WoE = woe(o.Accounts-o.Bads, o.Bads, G, B, 0)
		if c.Categorical {
			o.Categories = append(o.Categories, bs.Categories...)
			slices.Sort(o.Categories)
			o.Label = "{" + joinComma(o.Categories) + "}"
		} else {
			o.To = bs.To
			o.Label = scoring.RangeLabel(o.From, o.To)
		}
	}
	c.Bins = out
	c.IV = 0
	for _, o := range out {
		c.IV += (float64(o.Accounts-o.Bads)/float64(G) - float64(o.Bads)/float64(B)) * o.WoE
	}
}

// sameValues reports whether features a and b have the same value, or are
// both missing, on every row.
func sameValues(a, b scoring.FeatureID, feats []scoring.Features, rows []int) bool {
	if a.Info().Kind != b.Info().Kind {
		return false
	}
	for _, i := range rows {
		f := &feats[i]
		if f.Missing[a] != f.Missing[b] || f.Values[a] != f.Values[b] {
			return false
		}
	}
	return true
}

// effects returns the sum of the selected characteristics' bin effects.
func effects(chars []CharacteristicReport, sel []int, f *scoring.Features) float64 {
	e := 0.0
	for _, k := range sel {
		e += chars[k].Bins[chars[k].index(f)].Effect
	}
	return e
}

// oofMatrix is the WoE design of the rows with each row's WoE computed
// from the counts of the other folds (rows split by a hash of the account
// id and seed): the regression then weighs a characteristic by how well its
// WoE predicts accounts it was not computed on, not by how well it fits
// its own.
func oofMatrix(chars []CharacteristicReport, sel []int, s Sample, rows []int, folds int, seed uint64) [][]float64 {
	x := make([][]float64, len(rows))
	fold := make([]int, len(rows))
	for r, i := range rows {
		fold[r] = int(unit(uint64(s.IDs[i]), seed) * float64(folds))
		x[r] = make([]float64, len(sel))
	}
	for j, k := range sel {
		c := &chars[k]
		nb := len(c.Bins)
		n := make([][]int, folds)
		b := make([][]int, folds)
		for f := range n {
			n[f], b[f] = make([]int, nb), make([]int, nb)
		}
		idx := make([]int, len(rows))
		for r, i := range rows {
			idx[r] = c.index(&s.Features[i])
			n[fold[r]][idx[r]]++
			if s.Bad[i] {
				b[fold[r]][idx[r]]++
			}
		}
		for f := range folds {
			var G, B int
			gn, bn := make([]int, nb), make([]int, nb)
			for g := range folds {
				if g == f {
					continue
				}
				for q := range nb {
					gn[q] += n[g][q] - b[g][q]
					bn[q] += b[g][q]
					G += n[g][q] - b[g][q]
					B += b[g][q]
				}
			}
			for r := range rows {
				if fold[r] == f {
					x[r][j] = woe(gn[idx[r]], bn[idx[r]], G, B, 0)
				}
			}
		}
	}
	return x
}

func woeMatrix(chars []CharacteristicReport, sel []int, feats []scoring.Features, rows []int) [][]float64 {
	x := make([][]float64, len(rows))
	flat := make([]float64, len(rows)*len(sel))
	for r, i := range rows {
		x[r] = flat[r*len(sel) : (r+1)*len(sel)]
		for j, k := range sel {
			x[r][j] = chars[k].Bins[chars[k].index(&feats[i])].WoE
		}
	}
	return x
}

func pick[T any](v []T, rows []int) []T {
	out := make([]T, len(rows))
	for r, i := range rows {
		out[r] = v[i]
	}
	return out
}

// reasonFor returns the base scorecard's reason code for the feature; for
// a windowed feature the base does not have, that of the same feature over
// another window (max_dpd_1 takes max_dpd_6's); else the feature's name in
// capitals, without the window.
func reasonFor(base *scoring.Config, feature string) string {
	for _, ch := range base.Scorecard.Characteristics {
		if ch.Feature == feature {
			return ch.Reason
		}
	}
	group := windowGroup(feature)
	for _, ch := range base.Scorecard.Characteristics {
		if group != "" && windowGroup(ch.Feature) == group {
			return ch.Reason
		}
	}
	if group != "" {
		return strings.ToUpper(group)
	}
	return strings.ToUpper(feature)
}

// windowGroup returns a windowed feature's name without its window
// ("max_dpd" for max_dpd_6), or "" for a point-in-time feature.
func windowGroup(feature string) string {
	id, ok := scoring.FeatureByName(feature)
	if !ok || id.Info().Window == 0 || id.Info().Kind == scoring.KindCategory {
		return ""
	}
	if i := strings.LastIndexByte(feature, '_'); i > 0 {
		return feature[:i]
	}
	return ""
}

// unit maps an account id and a seed to [0, 1) (splitmix64).
func unit(id, seed uint64) float64 {
	z := id ^ (seed * 0x9e3779b97f4a7c15)
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

func floorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q, r = q-1, r+b
	}
	return q, r
}
