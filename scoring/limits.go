package scoring

import (
	"math"
	"slices"

	"github.com/creditrun/creditrun/billing"
)

// Decision is a limit decision. Reason is the one that settled the action
// and Reasons every reason, in the order Decide tested them (Reason among
// them, zero after the last); Figures hold the numbers and dates their
// sentences read (ReasonText). BelowBalance marks a limit cut below the
// account's exposure (only when the policy allows it, and a reason says
// so).
type Decision struct {
	Action             billing.LimitAction
	OldLimit, NewLimit billing.Money
	Grade              string
	AsOf               billing.Date
	Reason             LimitReason
	Reasons            [MaxLimitReasons]LimitReason
	Figures            Figures
	BelowBalance       bool
}

// add appends reason r to d's reasons.
func (d *Decision) add(r LimitReason) {
	for i := range d.Reasons {
		if d.Reasons[i] == 0 {
			d.Reasons[i] = r
			return
		}
	}
	panic("scoring: more than MaxLimitReasons reasons")
}

// settle appends reason r to d's reasons and makes it the one that
// settled the action.
func (d *Decision) settle(r LimitReason) {
	d.add(r)
	d.Reason = r
}

// Decide takes the limit decision for an account scored r on day. It reads
// the account and never changes it.
//
//   - pending: activate with the grade's initial limit, or decline (a
//     declining grade, or a fraud flag);
//   - frozen, a fraud flag, or days past due above FreezeDPD: freeze, limit
//     unchanged;
//   - active with a cut due (the grade's Decrease, or DelinquencyCut after
//     DelinquencyDPD or more days past due recently): decrease, once DecreaseCoolingDays have passed
//     since the last change, never below the exposure unless CutBelowBalance;
//   - active and eligible (the grade's Increase, IncreaseCoolingDays passed,
//     mean utilization high enough, no days past due in the last
//     IncreaseCleanCycles cycles): increase, capped by the grade's and the
//     overall MaxLimit and by MaxIncrease;
//   - otherwise keep.
//
// The reasons never repeat the grade and score (they are columns of their
// own) nor other figures in their codes, so that decisions group by them.
func (c *Config) Decide(a *billing.Account, day billing.Date, r *Result) Decision {
	var d Decision
	c.decide(a, day, r, &d)
	return d
}

// decide sets d to Decide(a, day, r), in place.
func (c *Config) decide(a *billing.Account, day billing.Date, r *Result, d *Decision) {
	cc := c.mustCompiled()
	l := &c.Limits
	*d = Decision{Action: billing.ActionKeep, OldLimit: a.Limit, NewLimit: a.Limit, Grade: r.Grade, AsOf: day}
	f := &d.Figures
	gi := c.GradeIndex(r.Grade)
	if gi < 0 {
		gi = len(c.Grades) - 1
	}
	gl := &l.Grades[cc.gradeLimit[gi]]

	switch a.Status {
	case billing.Pending:
		switch {
		case a.Fraud:
			d.Action = billing.ActionDecline
			d.settle(ReasonFraudFlag)
		case gl.Decline:
			d.Action = billing.ActionDecline
			d.settle(ReasonGradeDeclined)
			scoreReasons(d, r)
		default:
			d.Action = billing.ActionActivate
			d.NewLimit = min(gl.Initial, l.MaxLimit)
			d.settle(ReasonInitialLimit)
		}
		return
	case billing.Active:
	case billing.Frozen:
		d.Action = billing.ActionFreeze
		f.Since = a.FrozenOn
		d.settle(ReasonFrozen)
		return
	default:
		d.settle(ReasonNotLive)
		return
	}

	dpd := DaysPastDue(a, day)
	switch {
	case a.Fraud:
		d.Action = billing.ActionFreeze
		d.settle(ReasonFraudFlag)
		return
	case dpd > l.FreezeDPD:
		d.Action = billing.ActionFreeze
		f.DaysPastDue, f.Threshold = dpd, l.FreezeDPD
		d.settle(ReasonPastFreezeDPD)
		return
	}
	since := int(day - a.LimitChangedOn)

	// Decrease: the larger of the grade's cut and the delinquency cut
	// settles it.
	cut := gl.Decrease
	if gl.Decrease > 0 {
		f.Rate = gl.Decrease
		d.settle(ReasonGradeCut)
	}
	if recent := recentDPD(a, day, l.DelinquencyCycles); recent >= l.DelinquencyDPD && l.DelinquencyCut > 0 {
		f.DaysPastDue, f.Lookback, f.DelinquencyCut = recent, int32(l.DelinquencyCycles), l.DelinquencyCut
		d.add(ReasonRecentDelinquency)
		if l.DelinquencyCut > cut {
			d.Reason = ReasonRecentDelinquency
		}
		cut = max(cut, l.DelinquencyCut)
	}
	if cut > 0 {
		if since < l.DecreaseCoolingDays {
			f.Since, f.Threshold = a.LimitChangedOn, int32(l.DecreaseCoolingDays)
			d.settle(ReasonCutCooling)
			return
		}
		target := roundDown(a.Limit.MulRate(billing.RateScale-cut), l.RoundTo)
		if bal := a.Exposure(); target < bal {
			f.Balance = bal
			if l.CutBelowBalance {
				d.BelowBalance = true
				d.add(ReasonCutBelowBalance)
			} else {
				d.add(ReasonCutAtBalance)
				target = bal
			}
		}
		if target >= a.Limit {
			d.settle(ReasonNoCutFullBalance)
			return
		}
		d.Action, d.NewLimit = billing.ActionDecrease, target
		scoreReasons(d, r)
		return
	}

	// Increase: the first condition that fails settles a keep.
	if gl.Increase == 0 {
		d.settle(ReasonGradeNoIncrease)
		return
	}
	fail := func(why LimitReason) {
		d.add(why)
		if d.Reason == 0 {
			d.Reason = why
		}
	}
	if since < l.IncreaseCoolingDays {
		f.Since, f.Threshold = a.LimitChangedOn, int32(l.IncreaseCoolingDays)
		fail(ReasonIncreaseCooling)
	}
	if u, n := meanUtilization(a, l.UtilizationCycles); n == 0 {
		fail(ReasonNoUtilizationHistory)
	} else {
		// The figure is the mean to two decimals, as the sentence shows
		// it (few distinct values); the test uses the exact mean.
		f.Utilization, f.UtilizationCycles, f.MinUtilization = math.Round(u*100)/100, int32(n), l.IncreaseMinUtilization
		if u < float64(l.IncreaseMinUtilization)/billing.RateScale {
			fail(ReasonLowUtilization)
		} else {
			d.add(ReasonUtilizationMet)
		}
	}
	if dirty := recentDPD(a, day, l.IncreaseCleanCycles); dirty > 0 {
		f.DaysPastDue, f.Lookback = dirty, int32(l.IncreaseCleanCycles)
		fail(ReasonRecentPastDue)
	}
	if d.Reason != 0 {
		return
	}
	capLimit := min(gl.MaxLimit, l.MaxLimit)
	target := roundDown(a.Limit.MulRate(billing.RateScale+gl.Increase), l.RoundTo)
	why := ReasonIncrease
	if target > capLimit {
		target, why, f.Cap = capLimit, ReasonIncreaseLimitCapped, capLimit
	}
	if l.MaxIncrease > 0 && target-a.Limit > l.MaxIncrease {
		target, why, f.Cap = roundDown(a.Limit+l.MaxIncrease, l.RoundTo), ReasonIncreaseMaxCapped, l.MaxIncrease
	}
	if target <= a.Limit {
		f.Cap = capLimit
		d.settle(ReasonAtLimitCap)
		return
	}
	d.Action, d.NewLimit = billing.ActionIncrease, target
	f.Rate = gl.Increase
	d.settle(why)
}

// DecideReopen decides closed account a's reopen_account request on day,
// the account scored r tonight (see Reopen). Granted, the action is
// ActionReopen with the grade's initial limit (capped by MaxLimit);
// refused, ActionReopenDeclined with every condition that failed among
// the reasons (the first settles it) and the limit unchanged. It reads
// the account and never changes it.
func (c *Config) DecideReopen(a *billing.Account, day billing.Date, r *Result) Decision {
	cc := c.mustCompiled()
	l := &c.Limits
	ro := &l.Reopen
	d := Decision{Action: billing.ActionReopenDeclined, OldLimit: a.Limit, NewLimit: a.Limit, Grade: r.Grade, AsOf: day}
	f := &d.Figures
	fail := func(why LimitReason) {
		d.add(why)
		if d.Reason == 0 {
			d.Reason = why
		}
	}
	switch a.ClosedBy {
	case billing.ClosedByCustomer, billing.ClosedByPlatform:
	case billing.ClosedByChargeOff:
		fail(ReasonClosedByChargeOff)
	case billing.ClosedByFraud:
		fail(ReasonClosedForFraud)
	default:
		fail(ReasonClosureReasonUnknown)
	}
	if a.Fraud {
		fail(ReasonFraudFlag)
	}
	switch {
	case a.ClosedOn == 0:
		fail(ReasonClosureDateUnknown)
	case int(day-a.ClosedOn) < ro.WaitDays:
		f.Since, f.Threshold = a.ClosedOn, int32(ro.WaitDays)
		fail(ReasonReopenWait)
	}
	if a.ClosedOn != 0 && a.LastPastDue != 0 && a.LastPastDue >= a.ClosedOn.AddMonths(-ro.LookbackMonths) {
		f.PastDueOn, f.Lookback = a.LastPastDue, int32(ro.LookbackMonths)
		fail(ReasonReopenPastDue)
	}
	gi := c.GradeIndex(r.Grade)
	if gi < 0 {
		gi = len(c.Grades) - 1
	}
	gl := &l.Grades[cc.gradeLimit[gi]]
	switch {
	case !slices.Contains(ro.Grades, r.Grade):
		fail(ReasonGradeNotReopened)
		scoreReasons(&d, r)
	case gl.Decline || gl.Initial <= 0:
		fail(ReasonGradeNoInitialLimit)
		scoreReasons(&d, r)
	}
	if d.Reason != 0 {
		return d
	}
	d.Action, d.NewLimit = billing.ActionReopen, min(gl.Initial, l.MaxLimit)
	d.settle(ReasonInitialLimit)
	return d
}

// scoreReasons adds the score's reason codes to an adverse decision.
func scoreReasons(d *Decision, r *Result) {
	if r.Reasons[0] != "" {
		d.Figures.ScoreReasons = r.Reasons
		d.add(ReasonScoreReasons)
	}
}

// recentDPD returns the most days past due within the last n closed cycles,
// the open cycle, and on day.
func recentDPD(a *billing.Account, day billing.Date, n int) int32 {
	dpd := max(DaysPastDue(a, day), a.Cycle.MaxDPD)
	h := a.History
	for i := max(0, len(h)-n); i < len(h); i++ {
		dpd = max(dpd, h[i].MaxDPD)
	}
	return dpd
}

// meanUtilization returns the mean statement balance / limit of the last n
// closed cycles that had a limit, and how many there were.
func meanUtilization(a *billing.Account, n int) (float64, int) {
	h := a.History
	var sum float64
	var k int
	for i := max(0, len(h)-n); i < len(h); i++ {
		if h[i].Limit > 0 {
			sum += float64(max(h[i].Balance, 0)) / float64(h[i].Limit)
			k++
		}
	}
	if k == 0 {
		return 0, 0
	}
	return sum / float64(k), k
}

// roundDown rounds m ≥ 0 down to a multiple of unit.
func roundDown(m, unit billing.Money) billing.Money {
	if unit <= 0 || m <= 0 {
		return max(m, 0)
	}
	return m - m%unit
}

// pct formats a rate as a percentage, e.g. "20%" or "12.5%".
func pct(r billing.Rate) string {
	return r.Decimal().Shift(2).String() + "%"
}
