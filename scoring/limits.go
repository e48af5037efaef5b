package scoring

import (
	"fmt"
	"slices"
	"strings"

	"github.com/creditrun/creditrun/billing"
)

// Decision is a limit decision. Reasons say, for people, why; BelowBalance
// marks a limit cut below the account's exposure (only when the policy
// allows it, and a reason says so).
type Decision struct {
	Action             billing.LimitAction
	OldLimit, NewLimit billing.Money
	Grade              string
	Reasons            []string
	BelowBalance       bool
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
func (c *Config) Decide(a *billing.Account, day billing.Date, r *Result) Decision {
	cc := c.mustCompiled()
	l := &c.Limits
	d := Decision{Action: billing.ActionKeep, OldLimit: a.Limit, NewLimit: a.Limit, Grade: r.Grade,
		Reasons: make([]string, 0, 4)}
	gi := c.GradeIndex(r.Grade)
	if gi < 0 {
		gi = len(c.Grades) - 1
	}
	gl := &l.Grades[cc.gradeLimit[gi]]
	// Reasons read as sentences, without the grade and score (they are
	// columns of their own), so that analysts can group decisions by them.
	why := func(format string, args ...any) {
		if len(args) == 0 {
			d.Reasons = append(d.Reasons, format)
			return
		}
		d.Reasons = append(d.Reasons, fmt.Sprintf(format, args...))
	}

	switch a.Status {
	case billing.Pending:
		switch {
		case a.Fraud:
			d.Action = billing.ActionDecline
			why("fraud flag")
		case gl.Decline:
			d.Action = billing.ActionDecline
			why("grade %s is declined by policy", gl.Grade)
			scoreReasons(&d, r)
		default:
			d.Action = billing.ActionActivate
			d.NewLimit = min(gl.Initial, l.MaxLimit)
			why("initial limit %s for grade %s", d.NewLimit, gl.Grade)
		}
		return d
	case billing.Active:
	case billing.Frozen:
		d.Action = billing.ActionFreeze
		why("account frozen since %s", a.FrozenOn)
		return d
	default:
		why("not scored: account %s", a.Status)
		return d
	}

	dpd := DaysPastDue(a, day)
	switch {
	case a.Fraud:
		d.Action = billing.ActionFreeze
		why("fraud flag")
		return d
	case dpd > l.FreezeDPD:
		d.Action = billing.ActionFreeze
		why("%d days past due > freeze_dpd %d", dpd, l.FreezeDPD)
		return d
	}
	since := int(day - a.LimitChangedOn)

	// Decrease.
	cut := gl.Decrease
	if gl.Decrease > 0 {
		why("grade %s cuts %s", gl.Grade, pct(gl.Decrease))
	}
	if recent := recentDPD(a, day, l.DelinquencyCycles); recent >= l.DelinquencyDPD && l.DelinquencyCut > 0 {
		why("recent delinquency: %d days past due within %d cycles, cut %s", recent, l.DelinquencyCycles, pct(l.DelinquencyCut))
		cut = max(cut, l.DelinquencyCut)
	}
	if cut > 0 {
		if since < l.DecreaseCoolingDays {
			why("cut deferred: last change %s, %d days < decrease_cooling_days %d", a.LimitChangedOn, since, l.DecreaseCoolingDays)
			return d
		}
		target := roundDown(a.Limit.MulRate(billing.RateScale-cut), l.RoundTo)
		if bal := a.Exposure(); target < bal {
			if l.CutBelowBalance {
				d.BelowBalance = true
				why("new limit %s is below the balance %s", target, bal)
			} else {
				why("cut stops at the balance %s", bal)
				target = bal
			}
		}
		if target >= a.Limit {
			why("no cut: the balance uses the whole limit")
			return d
		}
		d.Action, d.NewLimit = billing.ActionDecrease, target
		scoreReasons(&d, r)
		return d
	}

	// Increase.
	if gl.Increase == 0 {
		why("grade %s gets no increase", gl.Grade)
		return d
	}
	ok := true
	if since < l.IncreaseCoolingDays {
		ok = false
		why("no increase: last change %s, %d days < increase_cooling_days %d", a.LimitChangedOn, since, l.IncreaseCoolingDays)
	}
	if u, n := meanUtilization(a, l.UtilizationCycles); n == 0 {
		ok = false
		why("no increase: no utilization history")
	} else if u < float64(l.IncreaseMinUtilization)/billing.RateScale {
		ok = false
		why("no increase: utilization %.2f < %s over %d cycles", u, l.IncreaseMinUtilization.Decimal().String(), n)
	} else {
		why("utilization %.2f ≥ %s over %d cycles", u, l.IncreaseMinUtilization.Decimal().String(), n)
	}
	if dirty := recentDPD(a, day, l.IncreaseCleanCycles); dirty > 0 {
		ok = false
		why("no increase: %d days past due within %d cycles", dirty, l.IncreaseCleanCycles)
	}
	if !ok {
		return d
	}
	capLimit := min(gl.MaxLimit, l.MaxLimit)
	target := roundDown(a.Limit.MulRate(billing.RateScale+gl.Increase), l.RoundTo)
	note := ""
	if target > capLimit {
		target, note = capLimit, fmt.Sprintf(", capped at the limit cap %s", capLimit)
	}
	if l.MaxIncrease > 0 && target-a.Limit > l.MaxIncrease {
		target, note = roundDown(a.Limit+l.MaxIncrease, l.RoundTo), fmt.Sprintf(", capped at max_increase %s", l.MaxIncrease)
	}
	if target <= a.Limit {
		why("no increase: limit %s at the cap %s", a.Limit, capLimit)
		return d
	}
	d.Action, d.NewLimit = billing.ActionIncrease, target
	why("increase %s%s", pct(gl.Increase), note)
	return d
}

// DecideReopen decides closed account a's reopen_account request on day,
// the account scored r tonight (see Reopen). Granted, the action is
// ActionReopen with the grade's initial limit (capped by MaxLimit);
// refused, ActionReopenDeclined with every condition that failed among
// the reasons and the limit unchanged. It reads the account and never
// changes it.
func (c *Config) DecideReopen(a *billing.Account, day billing.Date, r *Result) Decision {
	cc := c.mustCompiled()
	l := &c.Limits
	ro := &l.Reopen
	d := Decision{Action: billing.ActionReopenDeclined, OldLimit: a.Limit, NewLimit: a.Limit, Grade: r.Grade,
		Reasons: make([]string, 0, 4)}
	why := func(format string, args ...any) { d.Reasons = append(d.Reasons, fmt.Sprintf(format, args...)) }
	switch a.ClosedBy {
	case billing.ClosedByCustomer, billing.ClosedByPlatform:
	case billing.ClosedByChargeOff:
		why("closed by charge-off")
	case billing.ClosedByFraud:
		why("closed for fraud")
	default:
		why("closure reason unknown")
	}
	if a.Fraud {
		why("fraud flag")
	}
	switch {
	case a.ClosedOn == 0:
		why("closure date unknown")
	case int(day-a.ClosedOn) < ro.WaitDays:
		why("closed on %s, %d days < reopen.wait_days %d", a.ClosedOn, day-a.ClosedOn, ro.WaitDays)
	}
	if a.ClosedOn != 0 && a.LastPastDue != 0 && a.LastPastDue >= a.ClosedOn.AddMonths(-ro.LookbackMonths) {
		why("past due on %s, within reopen.lookback_months %d before closing", a.LastPastDue, ro.LookbackMonths)
	}
	gi := c.GradeIndex(r.Grade)
	if gi < 0 {
		gi = len(c.Grades) - 1
	}
	gl := &l.Grades[cc.gradeLimit[gi]]
	switch {
	case !slices.Contains(ro.Grades, r.Grade):
		why("grade %s does not reopen (reopen.grades)", r.Grade)
		scoreReasons(&d, r)
	case gl.Decline || gl.Initial <= 0:
		why("grade %s grants no initial limit", r.Grade)
		scoreReasons(&d, r)
	}
	if len(d.Reasons) > 0 {
		return d
	}
	d.Action, d.NewLimit = billing.ActionReopen, min(gl.Initial, l.MaxLimit)
	why("initial limit %s for grade %s", d.NewLimit, gl.Grade)
	return d
}

// scoreReasons adds the score's reason codes to an adverse decision.
func scoreReasons(d *Decision, r *Result) {
	var b strings.Builder
	for _, code := range r.Reasons {
		if code == "" {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(code)
	}
	if b.Len() > 0 {
		d.Reasons = append(d.Reasons, "score reasons "+b.String())
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
