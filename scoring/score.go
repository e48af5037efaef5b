package scoring

import (
	"math"

	"github.com/creditrun/creditrun/billing"
)

// NumReasons is the number of reason codes a result carries.
const NumReasons = 4

// Result is an account's score.
type Result struct {
	Score int32
	// PD is the probability of default the scaling gives the score.
	PD    float64
	Grade string
	// Reasons are the reason codes that lost the most points against their
	// baselines, most first; "" where fewer than NumReasons lost any.
	Reasons [NumReasons]string

	// bins[i] is the bin of characteristic i under the scorecard whose
	// bins fingerprint binnedBy is (0 when the bins were not kept), so that
	// the distribution counts the account without binning it again. Two
	// configs with the same bins score the same features to equal Results.
	bins     [MaxCharacteristics]uint8
	binnedBy uint64
}

// Factor returns PDO / ln 2, the points per unit of ln(odds).
func (s Scaling) Factor() float64 { return s.PDO / math.Ln2 }

// Offset returns BaseScore − Factor · ln(BaseOdds), the score at odds 1:1.
func (s Scaling) Offset() float64 { return s.BaseScore - s.Factor()*math.Log(s.BaseOdds) }

// Odds returns the good:bad odds of a score: exp((score − offset) / factor).
func (s Scaling) Odds(score float64) float64 { return math.Exp((score - s.Offset()) / s.Factor()) }

// PD returns the probability of default of a score: 1 / (1 + odds).
func (s Scaling) PD(score float64) float64 { return 1 / (1 + s.Odds(score)) }

// ScoreOf returns the score whose PD is pd (0 < pd < 1), the inverse of PD.
func (s Scaling) ScoreOf(pd float64) float64 {
	return s.Offset() + s.Factor()*math.Log((1-pd)/pd)
}

// Score scores the features: the sum of each characteristic's bin points,
// the PD from the scaling, the grade from the cut-offs, and the reason codes.
// A reason code's loss is Σ (baseline − points) over the characteristics
// that carry it; the codes with a positive loss are ranked by it, ties going
// to the code that comes first in the scorecard, and the top NumReasons are
// reported. Score does not allocate.
func (c *Config) Score(f *Features) Result {
	var r Result
	c.score(f, &r)
	return r
}

// Assess derives account a's features as of day, scores them and takes
// its limit decision, into f, r and d: ComputeFeatures, Score and Decide
// in one, as a night does for every live account, with nothing copied.
func (c *Config) Assess(a *billing.Account, day billing.Date, f *Features, r *Result, d *Decision) {
	f.compute(a, day)
	c.score(f, r)
	c.decide(a, day, r, d)
}

// score sets r to Score(f), in place.
func (c *Config) score(f *Features, r *Result) {
	cc := c.mustCompiled()
	var total int32
	var loss [MaxReasonCodes]int32
	*r = Result{}
	for i := range cc.chars {
		ch := &cc.chars[i]
		b := ch.bin(f)
		r.bins[i] = uint8(b)
		p := ch.points[b]
		total += p
		loss[ch.reason] += ch.baseline - p
	}
	r.binnedBy = cc.binsPrint
	r.Score, r.PD, r.Grade = total, cc.pdOf(c.Scaling, total), c.Grades[c.gradeOf(total)].Name
	var used [MaxReasonCodes]bool
	for k := range NumReasons {
		best := -1
		for j := range cc.reasons {
			if !used[j] && loss[j] > 0 && (best < 0 || loss[j] > loss[best]) {
				best = j
			}
		}
		if best < 0 {
			break
		}
		used[best] = true
		r.Reasons[k] = cc.reasons[best]
	}
}

// gradeOf returns the index of the grade of score.
func (c *Config) gradeOf(score int32) int {
	last := len(c.Grades) - 1
	for i := range last {
		if score >= c.Grades[i].MinScore {
			return i
		}
	}
	return last
}

// bin returns the index of the bin the feature's value falls in. A value on
// a bin's edge belongs to the bin it starts ([from, to)).
func (ch *compiledChar) bin(f *Features) int {
	if f.Missing[ch.feature] {
		if ch.missing >= 0 {
			return ch.missing
		}
		return ch.worst
	}
	v := f.Values[ch.feature]
	if ch.categorical {
		if k := int(v); k >= 0 && k < maxCategories && ch.cats[k] >= 0 {
			return ch.cats[k]
		}
		return ch.worst
	}
	for _, b := range ch.numeric {
		if v < ch.to[b] {
			return b
		}
	}
	if len(ch.numeric) == 0 {
		return ch.worst
	}
	return ch.numeric[len(ch.numeric)-1]
}
