package billing

import "math"

// APR returns the plan's annualized rate on the money actually used, as PBOC
// Announcement [2021] No. 3 requires: the monthly IRR r solving
// P = Σ A_k / (1+r)^k over the plan's original schedule (A_k = period
// principal + period fee, first payment one month after the purchase), then
// nominal = 12·r and effective = (1+r)^12 − 1, each rounded to six decimals
// (half away from zero). An interest-free plan has 0.
//
// The root is found by bisection in float64: a rate, never money, and the
// 60 halvings bound the error far below the sixth decimal of the result.
func (p *Plan) APR() (nominal, effective Rate) {
	if p.PeriodFee <= 0 || p.Principal <= 0 || p.Periods < 1 {
		return 0, 0
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
	return rateOf(12 * r), rateOf(math.Pow(1+r, 12) - 1)
}

func rateOf(f float64) Rate { return Rate(math.Round(f * RateScale)) }
