package billing

import (
	"slices"
	"strconv"
)

// lifecycle moves the account through its statuses at the close of the day
// (step 4 of Close): charge-off, freeze, unfreeze, closure.
func (r *run) lifecycle() {
	a, cfg, day := r.a, r.cfg, r.day
	switch a.Status {
	case Closed, Declined:
		return
	case Active, Frozen:
		if r.ov.DPD >= cfg.ChargeOffDPD {
			r.chargeOff()
			return
		}
	}
	switch {
	case a.Status == Active && (r.ov.DPD > cfg.FreezeDPD || a.Fraud):
		a.Status, a.FrozenOn = Frozen, day
		r.notify(NoticeFrozen, day.String(), 0, 0)
	case a.Status == Frozen && r.canUnfreeze():
		a.Status, a.FrozenOn = Active, 0
		r.notify(NoticeUnfrozen, day.String(), 0, 0)
	}
	if a.CloseRequested {
		if why := a.closeBlocker(); why != "" {
			a.Note = "close requested: waiting for " + why
			return
		}
		a.Status, a.ClosedOn, a.CloseRequested, a.Note = Closed, day, false, ""
		a.FrozenOn = 0
		switch {
		case a.Fraud:
			a.ClosedBy = ClosedByFraud
		case a.ClosedBy == "":
			a.ClosedBy = ClosedByCustomer
		}
		r.notify(NoticeClosed, day.String(), a.Credit, 0)
		r.out.Bureau = append(r.out.Bureau, BureauRow{AccountID: a.ID, Period: day, Status: "C"})
	}
}

// canUnfreeze: not flagged for fraud, nothing past due for
// UnfreezeCleanDays since the later of the last past-due day and the
// freeze, and a grade that may thaw.
func (r *run) canUnfreeze() bool {
	a, cfg := r.a, r.cfg
	if a.Fraud || r.ov.DPD > 0 || slices.Contains(cfg.NoUnfreezeGrades, a.Grade) {
		return false
	}
	since := max(a.LastPastDue, a.FrozenOn)
	return int(r.day-since) >= cfg.UnfreezeCleanDays
}

// closeBlocker says what keeps a requested closure from completing, or "".
// Closure needs nothing owed (billed or not), no open plan and nothing
// unbilled waiting for the next statement; a credit balance does not block
// it: it stays on the closed account for the payout process.
func (a *Account) closeBlocker() string {
	c := &a.Cycle
	switch {
	case len(a.Plans) > 0:
		return strconv.Itoa(len(a.Plans)) + " open installment plan(s)"
	case a.Exposure() > 0:
		return "balance " + a.Exposure().String() + " to be repaid"
	case c.Purchases+c.RevolvingFees+c.Penalties+c.AcceleratedPrincipal+c.AcceleratedFees != 0:
		return "unbilled charges to be billed on the next statement"
	}
	for i := range a.Statements {
		if a.Statements[i].Owed.Sum() != 0 {
			return "statement " + a.Statements[i].Date.String() + " to be settled"
		}
	}
	return ""
}

// chargeOff writes off everything the account owes, billed or not, and
// closes it.
func (r *run) chargeOff() {
	a, day := r.a, r.day
	e := a.Exposure()
	r.flows.ChargedOff += e
	a.ChargedOff += e
	clear(a.Statements)
	a.Statements = a.Statements[:0]
	clear(a.Plans)
	a.Plans = a.Plans[:0]
	clear(a.Pending)
	a.Pending = a.Pending[:0]
	stats := a.Cycle
	a.Cycle = Cycle{FailedDeductions: stats.FailedDeductions, MaxDPD: stats.MaxDPD}
	a.Credit = 0
	a.Status, a.ClosedOn, a.CloseRequested, a.ClosedBy = Closed, day, false, ClosedByChargeOff
	a.Note = "charged off at " + strconv.Itoa(int(r.ov.DPD)) + " days past due"
	r.notify(NoticeChargedOff, day.String(), e, 0)
}

// ApplyLimit applies a limit decision taken by scoring on day: it activates
// or declines a pending account, changes the limit, and appends the notice a
// change calls for. Keep and freeze change nothing here: Close freezes.
func ApplyLimit(cfg *Config, a *Account, day Date, action LimitAction, newLimit Money, out *Output) {
	switch action {
	case ActionActivate:
		if a.Status != Pending {
			return
		}
		a.Status, a.Limit, a.ActivatedOn, a.LimitChangedOn = Active, newLimit, day, day
		notify(cfg, out, a, day, NoticeActivated, day.String(), newLimit, 0)
	case ActionDecline:
		if a.Status != Pending {
			return
		}
		a.Status, a.Limit = Declined, 0
		notify(cfg, out, a, day, NoticeDeclined, day.String(), 0, 0)
	case ActionIncrease, ActionDecrease:
		if (a.Status != Active && a.Status != Frozen) || newLimit == a.Limit || newLimit < 0 {
			return
		}
		a.Limit, a.LimitChangedOn = newLimit, day
		notify(cfg, out, a, day, NoticeLimitChanged, day.String()+"/"+newLimit.String(), newLimit, 0)
	}
}

// Reopen reopens closed account a on day with limit (a reopen_account
// request the policy granted): it becomes active, its limit counts as
// changed on day, and account_reopened names the limit.
func Reopen(cfg *Config, a *Account, day Date, limit Money, out *Output) {
	if a.Status != Closed || limit < 0 {
		return
	}
	a.Status, a.Limit, a.LimitChangedOn = Active, limit, day
	a.ClosedOn, a.ClosedBy, a.FrozenOn = 0, "", 0
	if a.ActivatedOn == 0 {
		a.ActivatedOn = day
	}
	a.Note = "reopened on " + day.String()
	notify(cfg, out, a, day, NoticeReopened, day.String(), limit, 0)
}

// DeclineReopen refuses closed account a's reopen_account request
// requestID on day: the account stays closed, its note says why and a
// request_declined notice goes out.
func DeclineReopen(cfg *Config, a *Account, day Date, requestID, why string, out *Output) {
	a.Note = "reopen " + requestID + " declined: " + why
	notify(cfg, out, a, day, NoticeRequestDeclined, requestID, 0, 0)
}
