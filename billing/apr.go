package billing

import "math"

// APR returns the plan's annualized rate on the money actually used, as PBOC
// Announcement [2021] No. 3 requires: the monthly IRR r solving
// P = Σ A_k / (1+r)^k over the plan's original schedule (A_k = period
// principal + period fee, first payment one month after the purchase), then
// nominal = 12·r and effective = (1+r)^12 − 1, each rounded to six decimals
// (half away from zero). An interest-free plan has 0. ok is false when
// either rate cannot be represented in the disclosure's DECIMAL(9,6)
// (beyond 999.999999, a fee rate far above any price): the plan's row then
// carries null rates and is flagged over the cap.
//
// The root is found by bisection in float64: a rate, never money, and the
// 60 halvings bound the error far below the sixth decimal of the result.
func (p *Plan) APR() (nominal, effective Rate, ok bool) {
	if p.PeriodFee <= 0 || p.Principal <= 0 || p.Periods < 1 {
		return 0, 0, true
	}
	n := int(p.Periods)
	regular := float64(p.PeriodPrincipal + p.PeriodFee)
	last := float64(p.Principal - p.PeriodPrincipal*Money(n-1) + p.PeriodFee)
	principal := float64(p.Principal)
	// pv is the present value of the schedule at monthly rate r.
	pv := func(r float64) float64 {
		v, disc := 0.0, 1.0
		for k := 1; k <= n; k++ {
			disc /= 1 + r
			if k == n {
				v += last * disc
			} else {
				v += regular * disc
			}
		}
		return v
	}
	lo, hi := 0.0, 1.0 // 0 .. 100% a month; pv falls as r rises
	for pv(hi) > principal && hi < 1e6 {
		hi *= 2
	}
	for range 200 {
		mid := (lo + hi) / 2
		if pv(mid) > principal {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-15 {
			break
		}
	}
	r := (lo + hi) / 2
	nominal, ok1 := rateOf(12 * r)
	effective, ok2 := rateOf(math.Pow(1+r, 12) - 1)
	if !ok1 || !ok2 {
		return 0, 0, false
	}
	return nominal, effective, true
}

// MaxDisclosedRate is the largest rate of DECIMAL(9,6): 999.999999.
const MaxDisclosedRate Rate = 999_999_999

// rateOf rounds a fraction to millionths; false when the result is not
// finite or beyond ±MaxDisclosedRate.
func rateOf(f float64) (Rate, bool) {
	v := math.Round(f * RateScale)
	if math.IsNaN(v) || v > float64(MaxDisclosedRate) || v < -float64(MaxDisclosedRate) {
		return 0, false
	}
	return Rate(v), true
}
