package scoring

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"

	"github.com/creditrun/creditrun/billing"
)

// Limits on a scorecard's size, so that scoring runs on fixed-size arrays.
const (
	MaxCharacteristics = 64
	MaxReasonCodes     = 64
	maxCategories      = 16
)

// Config is the scoring part of the policy: the scorecard, its scaling, the
// grade cut-offs, the limit rules and the monitoring settings. Validate must
// be called (and succeed) after any change and before Score, Decide or
// NewDistribution; DefaultConfig returns a validated Config.
type Config struct {
	Scorecard  Scorecard
	Scaling    Scaling
	Grades     []Grade
	Limits     Limits
	Monitoring Monitoring

	cc *compiled // set by Validate
}

// Scorecard maps features to points: score = Σ points of each
// characteristic's bin.
type Scorecard struct {
	// Name identifies the scorecard for people ("bnpl-behaviour-v1").
	Name            string
	Characteristics []Characteristic
}

// Characteristic is one line of the scorecard: a feature cut into bins.
type Characteristic struct {
	// Name is unique in the scorecard; it names the characteristic in the
	// monitoring output. Usually the feature's name.
	Name string
	// Feature is the feature's name (see FeatureByName).
	Feature string
	// Reason is the reason code reported when the characteristic loses
	// points; several characteristics may share one.
	Reason string
	// Baseline is the points the reason codes measure a loss against
	// (baseline − points); usually the best bin's points.
	Baseline int32
	// Bins are, for a numeric feature, ranges [From, To) in ascending order
	// that together cover every number; for a categorical feature, sets of
	// categories covering each category once. A bin with Missing set takes
	// a missing value; a feature that can be missing needs one.
	Bins []Bin
}

// Bin is a range, a set of categories, or the missing bin, with its points.
type Bin struct {
	From, To   float64  // [From, To); ±Inf for open ends
	Categories []string // categorical bins only
	Missing    bool     // the missing bin
	Points     int32
}

// Scaling relates score to odds (good:bad): PDO points double the odds, and
// BaseScore has odds BaseOdds. factor = PDO/ln 2, offset = BaseScore −
// factor·ln(BaseOdds), ln(odds) = (score − offset)/factor, PD = 1/(1+odds).
type Scaling struct {
	PDO       float64
	BaseScore float64
	BaseOdds  float64
}

// Grade is a score cut-off. Grades run best first: a score gets the first
// grade whose MinScore it reaches; the last grade takes every lower score
// (its MinScore is not used).
type Grade struct {
	Name     string
	MinScore int32
}

// Limits are the limit-management rules.
type Limits struct {
	// MaxLimit caps every limit; MaxIncrease caps one increase.
	MaxLimit    billing.Money
	MaxIncrease billing.Money
	// RoundTo: computed limits are rounded down to a multiple of it.
	RoundTo billing.Money
	// IncreaseCoolingDays and DecreaseCoolingDays must pass since the last
	// limit change (activation counts) before an increase or a decrease.
	IncreaseCoolingDays int
	DecreaseCoolingDays int
	// An increase needs the mean utilization of the last UtilizationCycles
	// closed cycles at or above IncreaseMinUtilization, and no days past due
	// in the last IncreaseCleanCycles cycles nor now.
	IncreaseMinUtilization billing.Rate
	UtilizationCycles      int
	IncreaseCleanCycles    int
	// Recent delinquency (at least DelinquencyDPD days past due in the last
	// DelinquencyCycles cycles, the open cycle or now) cuts the limit by
	// DelinquencyCut.
	DelinquencyCycles int
	DelinquencyDPD    int32
	DelinquencyCut    billing.Rate
	// CutBelowBalance lets a cut go below the account's exposure (the
	// decision then says so); when false the cut stops at the exposure.
	CutBelowBalance bool
	// FreezeDPD freezes an account whose days past due exceed it (the
	// policy's collections.freeze_dpd).
	FreezeDPD int32
	// Grades holds one rule per grade.
	Grades []GradeLimit
	// Reopen are the conditions under which a closed account is reopened.
	Reopen Reopen
}

// Reopen are the conditions of reopening a closed account (a
// reopen_account request, decided by DecideReopen): closed by the customer
// or the platform (never by charge-off nor for fraud), at least WaitDays
// ago, with no day past due in the LookbackMonths before closing, and a
// score tonight whose grade is one of Grades and whose limit rule grants
// an initial limit (a declining grade never reopens, listed or not); the
// account then gets that initial limit.
type Reopen struct {
	WaitDays       int
	LookbackMonths int
	Grades         []string
}

// GradeLimit is the limit rule of one grade.
type GradeLimit struct {
	Grade string
	// Decline refuses pending accounts of the grade; otherwise they are
	// activated with Initial.
	Decline bool
	Initial billing.Money
	// Increase is the fractional increase of an eligible account (0: none),
	// up to MaxLimit.
	Increase billing.Rate
	MaxLimit billing.Money
	// Decrease cuts every account of the grade by this fraction (0: none).
	Decrease billing.Rate
}

// Monitoring configures the population stability index.
type Monitoring struct {
	// ScoreBands are ascending score edges; the score's distribution is
	// counted over [−inf, e0), [e0, e1) … [en, inf).
	ScoreBands []int32
	// PSIWarn flags a PSI above it.
	PSIWarn float64
	// Baseline, when set, is the reference distribution; otherwise the
	// previous run's distribution is.
	Baseline []DistributionRow
}

// compiled is the validated config in the form Score uses.
type compiled struct {
	chars      []compiledChar
	reasons    []string // in order of first appearance
	gradeLimit []int    // grade index → Limits.Grades index
	labels     [][]string

	// pd[k] is the PD of the score pdMin+k under scaling, for every score
	// the scorecard can sum to (none when that span is too wide to keep).
	scaling Scaling
	pdMin   int32
	pd      []float64

	// binsPrint fingerprints how features fall into bins (Result.bins);
	// 0 when some characteristic has more bins than a uint8 numbers.
	binsPrint uint64
}

// fingerprintBins sets cc.binsPrint from everything bin reads.
func (cc *compiled) fingerprintBins() {
	h := fnv.New64a()
	var b []byte
	for i := range cc.chars {
		ch := &cc.chars[i]
		if len(ch.points) > 256 {
			return
		}
		b = binary.AppendUvarint(b[:0], uint64(ch.feature))
		b = binary.AppendUvarint(b, uint64(len(ch.points)))
		b = binary.AppendVarint(b, int64(ch.missing))
		b = binary.AppendVarint(b, int64(ch.worst))
		if ch.categorical {
			b = append(b, 1)
			for _, k := range ch.cats {
				b = binary.AppendVarint(b, int64(k))
			}
		} else {
			b = append(b, 0)
			b = binary.AppendUvarint(b, uint64(len(ch.numeric)))
			for _, k := range ch.numeric {
				b = binary.AppendVarint(b, int64(k))
				b = binary.LittleEndian.AppendUint64(b, math.Float64bits(ch.to[k]))
			}
		}
		h.Write(b)
	}
	cc.binsPrint = max(h.Sum64(), 1)
}

// maxPDTable is the widest span of scores whose PDs Validate tabulates.
const maxPDTable = 1 << 14

// tabulatePD fills cc.pd for the scores the characteristics can sum to.
func (cc *compiled) tabulatePD(s Scaling) {
	var lo, hi int64
	for i := range cc.chars {
		ps := cc.chars[i].points
		if len(ps) == 0 {
			return
		}
		lo += int64(slices.Min(ps))
		hi += int64(slices.Max(ps))
	}
	if hi-lo >= maxPDTable || lo < math.MinInt32 || hi > math.MaxInt32 {
		return
	}
	cc.scaling, cc.pdMin = s, int32(lo)
	cc.pd = make([]float64, hi-lo+1)
	for k := range cc.pd {
		cc.pd[k] = s.PD(float64(lo + int64(k)))
	}
}

// pdOf returns s.PD of score, from the table when it holds the score.
func (cc *compiled) pdOf(s Scaling, score int32) float64 {
	if k := int64(score) - int64(cc.pdMin); s == cc.scaling && k >= 0 && k < int64(len(cc.pd)) {
		return cc.pd[k]
	}
	return s.PD(float64(score))
}

type compiledChar struct {
	feature     FeatureID
	reason      int
	baseline    int32
	categorical bool
	points      []int32   // by bin
	to          []float64 // by bin
	numeric     []int     // range bins, ascending
	missing     int       // the missing bin, or -1
	worst       int       // the fallback bin
	cats        [maxCategories]int
}

// A ConfigError is one problem Validate found. Path names the setting the
// way the policy file does, e.g. "scorecard.characteristics[2].bins[1]".
type ConfigError struct {
	Path string
	Msg  string
}

func (e *ConfigError) Error() string { return e.Path + ": " + e.Msg }

// Validate checks every setting, prepares the config for scoring and returns
// all problems joined (each a *ConfigError).
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, a ...any) {
		errs = append(errs, &ConfigError{Path: path, Msg: fmt.Sprintf(format, a...)})
	}
	cc := &compiled{}

	// Scaling.
	s := c.Scaling
	if !(s.PDO > 0) || math.IsInf(s.PDO, 0) {
		bad("scaling.pdo", "%v: want a positive number", s.PDO)
	}
	if !(s.BaseOdds > 0) || math.IsInf(s.BaseOdds, 0) {
		bad("scaling.base_odds", "%v: want a positive number", s.BaseOdds)
	}
	if math.IsNaN(s.BaseScore) || math.IsInf(s.BaseScore, 0) {
		bad("scaling.base_score", "%v: want a number", s.BaseScore)
	}

	// Grades.
	if len(c.Grades) == 0 {
		bad("grades", "want at least one grade")
	}
	for i, g := range c.Grades {
		p := "grades[" + strconv.Itoa(i) + "]"
		if g.Name == "" {
			bad(p+".grade", "want a name")
		}
		if j := slices.IndexFunc(c.Grades[:i], func(h Grade) bool { return h.Name == g.Name }); j >= 0 && g.Name != "" {
			bad(p+".grade", "%q is defined twice (also grades[%d])", g.Name, j)
		}
		if i > 0 && i < len(c.Grades)-1 && g.MinScore >= c.Grades[i-1].MinScore {
			bad(p+".min_score", "cut-offs out of order: %s's min_score %d must be below %s's %d",
				g.Name, g.MinScore, c.Grades[i-1].Name, c.Grades[i-1].MinScore)
		}
	}

	// Scorecard.
	chars := c.Scorecard.Characteristics
	if len(chars) == 0 {
		bad("scorecard.characteristics", "want at least one characteristic")
	}
	if len(chars) > MaxCharacteristics {
		bad("scorecard.characteristics", "%d characteristics: at most %d", len(chars), MaxCharacteristics)
		chars = chars[:MaxCharacteristics]
	}
	for i := range chars {
		ch := &chars[i]
		p := "scorecard.characteristics[" + strconv.Itoa(i) + "]"
		if ch.Name == "" {
			bad(p+".name", "want a name")
		} else if j := slices.IndexFunc(chars[:i], func(d Characteristic) bool { return d.Name == ch.Name }); j >= 0 {
			bad(p+".name", "%q is used twice (also characteristics[%d])", ch.Name, j)
		} else if ch.Name == ScoreName {
			bad(p+".name", "%q is reserved for the score's distribution", ch.Name)
		}
		if ch.Reason == "" {
			bad(p+".reason", "want a reason code")
		}
		ri := slices.Index(cc.reasons, ch.Reason)
		if ri < 0 {
			if len(cc.reasons) == MaxReasonCodes {
				bad(p+".reason", "more than %d reason codes", MaxReasonCodes)
				ri = 0
			} else {
				ri = len(cc.reasons)
				cc.reasons = append(cc.reasons, ch.Reason)
			}
		}
		id, ok := FeatureByName(ch.Feature)
		if !ok {
			bad(p+".feature", "unknown feature %q", ch.Feature)
		}
		cc.chars = append(cc.chars, compileChar(ch, id, ok, ri, p, bad))
	}

	// Limits.
	l := &c.Limits
	money := func(path string, m billing.Money, positive bool) {
		if m < 0 || (positive && m == 0) {
			want := "≥ 0"
			if positive {
				want = "> 0"
			}
			bad(path, "%s: want %s", m, want)
		}
	}
	rate := func(path string, r, max billing.Rate) {
		if r < 0 || r > max {
			bad(path, "%s: rate out of range, want 0..%s", r, max)
		}
	}
	days := func(path string, n, lo, hi int) {
		if n < lo || n > hi {
			bad(path, "%d: want %d..%d", n, lo, hi)
		}
	}
	money("limits.max_limit", l.MaxLimit, true)
	money("limits.max_increase", l.MaxIncrease, false)
	money("limits.round_to", l.RoundTo, true)
	days("limits.increase_cooling_days", l.IncreaseCoolingDays, 0, 3660)
	days("limits.decrease_cooling_days", l.DecreaseCoolingDays, 0, 3660)
	rate("limits.increase_min_utilization", l.IncreaseMinUtilization, 2*billing.RateScale)
	days("limits.utilization_cycles", l.UtilizationCycles, 1, 36)
	days("limits.increase_clean_cycles", l.IncreaseCleanCycles, 1, 36)
	days("limits.delinquency_cycles", l.DelinquencyCycles, 1, 36)
	days("limits.delinquency_dpd", int(l.DelinquencyDPD), 1, 3660)
	rate("limits.delinquency_cut", l.DelinquencyCut, billing.RateScale)
	if l.FreezeDPD < 1 {
		bad("collections.freeze_dpd", "%d: want ≥ 1", l.FreezeDPD)
	}
	days("reopen.wait_days", l.Reopen.WaitDays, 0, 3660)
	days("reopen.lookback_months", l.Reopen.LookbackMonths, 0, 120)
	for i, g := range l.Reopen.Grades {
		p := "reopen.grades[" + strconv.Itoa(i) + "]"
		switch {
		case !slices.ContainsFunc(c.Grades, func(h Grade) bool { return h.Name == g }):
			bad(p, "unknown grade %q (not in grades)", g)
		case slices.Contains(l.Reopen.Grades[:i], g):
			bad(p, "grade %q listed twice", g)
		}
	}
	for i, gl := range l.Grades {
		p := "limits.grades[" + strconv.Itoa(i) + "]"
		if !slices.ContainsFunc(c.Grades, func(g Grade) bool { return g.Name == gl.Grade }) {
			bad(p+".grade", "unknown grade %q (not in grades)", gl.Grade)
		}
		if j := slices.IndexFunc(l.Grades[:i], func(h GradeLimit) bool { return h.Grade == gl.Grade }); j >= 0 {
			bad(p+".grade", "grade %q has two limit rules (also limits.grades[%d])", gl.Grade, j)
		}
		if gl.Decline && gl.Initial != 0 {
			bad(p+".initial", "a declined grade grants no initial limit")
		}
		if !gl.Decline && gl.Initial <= 0 {
			bad(p+".initial", "%s: want > 0 (or decline: true)", gl.Initial)
		}
		money(p+".max_limit", gl.MaxLimit, false)
		if !gl.Decline && gl.MaxLimit < gl.Initial {
			bad(p+".max_limit", "%s is below the initial limit %s", gl.MaxLimit, gl.Initial)
		}
		if gl.Initial > l.MaxLimit && l.MaxLimit > 0 {
			bad(p+".initial", "%s is above limits.max_limit %s", gl.Initial, l.MaxLimit)
		}
		rate(p+".increase", gl.Increase, billing.RateScale)
		rate(p+".decrease", gl.Decrease, billing.RateScale)
	}
	for _, g := range c.Grades {
		i := slices.IndexFunc(l.Grades, func(gl GradeLimit) bool { return gl.Grade == g.Name })
		if i < 0 {
			bad("limits.grades", "grade %q has no limit rule", g.Name)
			i = 0
		}
		cc.gradeLimit = append(cc.gradeLimit, i)
	}

	// Monitoring.
	m := &c.Monitoring
	for i := 1; i < len(m.ScoreBands); i++ {
		if m.ScoreBands[i] <= m.ScoreBands[i-1] {
			bad("monitoring.score_bands", "edges out of order: %d after %d", m.ScoreBands[i], m.ScoreBands[i-1])
			break
		}
	}
	if !(m.PSIWarn > 0) || math.IsInf(m.PSIWarn, 0) {
		bad("monitoring.psi_warn", "%v: want a positive number", m.PSIWarn)
	}

	if len(errs) > 0 {
		c.cc = nil
		return errors.Join(errs...)
	}
	cc.labels = c.labels()
	for i, r := range m.Baseline {
		p := "monitoring.baseline[" + strconv.Itoa(i) + "]"
		k := slices.IndexFunc(c.distNames(), func(s string) bool { return s == r.Name })
		if k < 0 {
			bad(p, "unknown distribution %q (want %q or a characteristic's name)", r.Name, ScoreName)
			continue
		}
		if !slices.Contains(cc.labels[k], r.Bin) {
			bad(p, "%s has no bin %q (bins: %q)", r.Name, r.Bin, cc.labels[k])
		}
		if r.Count < 0 {
			bad(p, "count %d: want ≥ 0", r.Count)
		}
	}
	if len(errs) > 0 {
		c.cc = nil
		return errors.Join(errs...)
	}
	cc.tabulatePD(c.Scaling)
	cc.fingerprintBins()
	c.cc = cc
	return nil
}

// compileChar checks one characteristic's bins and prepares them.
func compileChar(ch *Characteristic, id FeatureID, known bool, reason int, p string, bad func(string, string, ...any)) compiledChar {
	out := compiledChar{feature: id, reason: reason, baseline: ch.Baseline, missing: -1}
	for i := range out.cats {
		out.cats[i] = -1
	}
	if len(ch.Bins) == 0 {
		bad(p+".bins", "want at least one bin")
		return out
	}
	info := id.Info()
	out.categorical = known && info.Kind == KindCategory
	out.points = make([]int32, len(ch.Bins))
	out.to = make([]float64, len(ch.Bins))
	worstPts := int32(math.MaxInt32)
	prev := -1 // previous range bin
	for i, b := range ch.Bins {
		bp := p + ".bins[" + strconv.Itoa(i) + "]"
		out.points[i] = b.Points
		out.to[i] = b.To
		if b.Points < worstPts {
			worstPts, out.worst = b.Points, i
		}
		switch {
		case b.Missing:
			if len(b.Categories) > 0 {
				bad(bp, "a missing bin has no categories")
			}
			if out.missing >= 0 {
				bad(bp, "a second missing bin (the first is bins[%d])", out.missing)
			}
			out.missing = i
		case len(b.Categories) > 0:
			if known && !out.categorical {
				bad(bp, "feature %s is numeric: want from/to, not categories", ch.Feature)
				continue
			}
			for _, cat := range b.Categories {
				k := slices.Index(info.Categories, cat)
				if known && k < 0 {
					bad(bp, "unknown category %q of %s (want one of %q)", cat, ch.Feature, info.Categories)
					continue
				}
				if k < 0 {
					continue
				}
				if out.cats[k] >= 0 {
					bad(bp, "overlapping bins: category %q is also in bins[%d]", cat, out.cats[k])
					continue
				}
				out.cats[k] = i
			}
		default:
			if out.categorical {
				bad(bp, "feature %s is categorical: want categories, not a range", ch.Feature)
				continue
			}
			if math.IsNaN(b.From) || math.IsNaN(b.To) || !(b.From < b.To) {
				bad(bp, "empty range [%s, %s): from must be below to", FormatEdge(b.From), FormatEdge(b.To))
				continue
			}
			switch {
			case prev < 0 && !math.IsInf(b.From, -1):
				bad(bp, "gap: values below %s fall in no bin (leave out the first bin's from)", FormatEdge(b.From))
			case prev >= 0 && b.From < ch.Bins[prev].To:
				bad(bp, "overlapping bins: [%s, %s) overlaps bins[%d] [%s, %s) (bins go in ascending order)",
					FormatEdge(b.From), FormatEdge(b.To), prev, FormatEdge(ch.Bins[prev].From), FormatEdge(ch.Bins[prev].To))
			case prev >= 0 && b.From > ch.Bins[prev].To:
				bad(bp, "gap: values in [%s, %s) fall in no bin (after bins[%d])", FormatEdge(ch.Bins[prev].To), FormatEdge(b.From), prev)
			}
			prev = i
			out.numeric = append(out.numeric, i)
		}
	}
	if known && !out.categorical && prev >= 0 && !math.IsInf(ch.Bins[prev].To, 1) {
		bad(p+".bins["+strconv.Itoa(prev)+"]", "gap: values from %s up fall in no bin (leave out the last bin's to)", FormatEdge(ch.Bins[prev].To))
	}
	if known && !out.categorical && len(out.numeric) == 0 {
		bad(p+".bins", "feature %s is numeric: want at least one range bin", ch.Feature)
	}
	if out.categorical {
		for k, cat := range info.Categories {
			if out.cats[k] < 0 {
				bad(p+".bins", "gap: category %q of %s is in no bin", cat, ch.Feature)
			}
		}
	}
	if known && info.CanBeMissing && out.missing < 0 {
		bad(p+".bins", "feature %s can be missing: add a missing bin", ch.Feature)
	}
	return out
}

// FormatEdge formats a bin edge as a policy file spells it: the shortest
// decimal that reads back as v, or -inf and inf.
func FormatEdge(v float64) string {
	switch {
	case math.IsInf(v, -1):
		return "-inf"
	case math.IsInf(v, 1):
		return "inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func (c *Config) mustCompiled() *compiled {
	if c.cc == nil {
		panic("scoring: Config used before a successful Validate")
	}
	return c.cc
}

// GradeIndex returns the position of the named grade in Grades (0 is the
// best), or -1.
func (c *Config) GradeIndex(name string) int {
	return slices.IndexFunc(c.Grades, func(g Grade) bool { return g.Name == name })
}

// ReasonCodes returns the scorecard's reason codes in order of first
// appearance (the order that breaks ties).
func (c *Config) ReasonCodes() []string { return slices.Clone(c.mustCompiled().reasons) }
