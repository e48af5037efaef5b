package billing

import (
	"fmt"
	"math"
	"slices"
)

// run is one account's business day in progress.
type run struct {
	cfg *Config
	a   *Account
	day Date
	// on is the value date of the event being applied: day for an event of
	// the night, its own date for a late one.
	on Date
	// rejects is the number of rejects before the event being applied.
	rejects int
	out     *Output
	flows   Flows
	ov      Overdue // the position after the day's events (step 2)
	// room is what the day's events may still add to the account's gross
	// (bounds.go).
	room uint64
	// reopen is set once the day passed on a reopen_account request.
	reopen bool
	// incs are the platform incidents in force on the day.
	incs []Incident
}

// Close runs one account's business day: it applies the day's events
// (purchases, refunds, repayments, requests), accrues revolving fees and
// penalties, issues the statement dated day+1 when day+1 is the billing day,
// moves the account through its lifecycle, and appends the resulting rows
// and notices to out. It does no I/O. It returns an error (wrapping
// ErrNotConserved) if the account's exposure does not move exactly as the
// day's flows say, (wrapping ErrUnbalanced) if a statement does not
// balance, or (wrapping ErrOutOfRange) if the account's amounts are, or
// would be, beyond ±MaxMoney (see bounds.go); the account's state is then
// unusable and the run must fail. Every error is an *AccountError.
//
// Close must run for every account on every business day, with or without
// events: fees, penalties, days past due and notices move daily.
func Close(cfg *Config, a *Account, day Date, ev *Events, out *Output) error {
	r := run{cfg: cfg, a: a, day: day, on: day, out: out}
	a.HistoryChanged = false
	gross, why := a.measure()
	if why != "" {
		return r.outOfRange("the account as of %s: %s", day-1, why)
	}
	r.room = uint64(MaxMoney) - gross
	before := a.Exposure()
	if ev != nil {
		if ev.Profile != nil {
			r.applyProfile(ev.Profile)
		}
		r.incs = r.inForce(ev.Incidents)
		if err := r.applyEvents(ev); err != nil {
			return err
		}
	}
	if a.Status == Active || a.Status == Frozen {
		if err := r.incidents(); err != nil {
			return err
		}
	}
	if a.Status != Closed {
		// The accruals the end of the day forgets go before the day's
		// are logged, so that these reuse their room: nothing from here
		// on reads them (the events and incidents did).
		a.pruneAccruals(day, cfg.IncidentMemoryDays)
		a.pruneLateAccruals(day, cfg.LateWindowDays)
		r.accrue()
	}
	if err := r.issueStatement(); err != nil {
		return fmt.Errorf("close %s: %w", day, err)
	}
	r.lifecycle()
	r.collectionNotices()
	a.dropSettled()
	a.prunePurchases(day, cfg.RefundWindowDays)
	a.pruneMemory(day, cfg.IncidentMemoryDays)
	a.pruneLate(day, cfg.LateWindowDays)

	if _, why := a.measure(); why != "" {
		return r.outOfRange("the account as of %s: %s", day, why)
	}
	if diff := a.Exposure() - before - r.flows.Net(); diff != 0 {
		return &AccountError{AccountID: a.ID, Err: ErrNotConserved, Detail: fmt.Sprintf(
			"close %s: exposure moved %s, flows explain %s (difference %s)", day, a.Exposure()-before, r.flows.Net(), diff)}
	}
	if err := out.Flows.Add(r.flows); err != nil {
		return &AccountError{AccountID: a.ID, Err: ErrOutOfRange, Detail: fmt.Sprintf("close %s: %v", day, err)}
	}
	return nil
}

// applyEvents applies the day's events in timestamp order across the three
// kinds; on equal timestamps transactions go first, then repayments, then
// requests, and within a kind the id decides.
func (r *run) applyEvents(ev *Events) error {
	ts, ps, qs := ev.Transactions, ev.Repayments, ev.Requests
	i, j, k := 0, 0, 0
	for i < len(ts) || j < len(ps) || k < len(qs) {
		// Pick the kind whose next event comes first.
		kind, at := 0, int64(0)
		if i < len(ts) {
			kind, at = 1, ts[i].PostedAt
		}
		if j < len(ps) && (kind == 0 || ps[j].PaidAt < at) {
			kind, at = 2, ps[j].PaidAt
		}
		if k < len(qs) && (kind == 0 || qs[k].RequestedAt < at) {
			kind = 3
		}
		var err error
		switch kind {
		case 1:
			if t := &ts[i]; r.admit(DatasetTransactions, t.TxnID, t.PostedAt, t.Src) {
				err = r.transaction(t)
				r.done(DatasetTransactions, t.TxnID)
			}
			i++
		case 2:
			if p := &ps[j]; r.admit(DatasetRepayments, p.RepaymentID, p.PaidAt, p.Src) {
				err = r.repayment(p)
				r.done(DatasetRepayments, p.RepaymentID)
			}
			j++
		case 3:
			if q := &qs[k]; r.admit(DatasetRequests, q.RequestID, q.RequestedAt, q.Src) {
				r.request(q)
				r.done(DatasetRequests, q.RequestID)
			}
			k++
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (r *run) reject(dataset, key, reason string, src Source) {
	r.out.Rejects = append(r.out.Rejects, EventReject{Dataset: dataset, Key: key, Reason: reason, Src: src})
}

func (r *run) pending(kind LineKind, ref string, period int32, amount Money) {
	r.a.Pending = append(r.a.Pending, Line{Kind: kind, Date: r.on, Ref: ref, Period: period, Amount: amount})
}

// chargedOff reports whether the account was written off: money it
// receives then is a recovery, outside its exposure.
func (a *Account) chargedOff() bool { return a.Status == Closed && a.ChargedOff > 0 }

func (r *run) transaction(t *Transaction) error {
	switch t.Kind {
	case Purchase:
		return r.purchase(t)
	case Refund:
		return r.refund(t)
	}
	return nil
}

// purchase books a purchase: paid in full on the next statement, or a new
// installment plan. A frozen account still books it: upstream authorization
// decided.
func (r *run) purchase(t *Transaction) error {
	a, cfg := r.a, r.cfg
	switch a.Status {
	case Closed:
		r.reject(DatasetTransactions, t.TxnID, RejectAccountClosed, t.Src)
		return nil
	case Pending, Declined:
		r.reject(DatasetTransactions, t.TxnID, RejectNotActive, t.Src)
		return nil
	}
	if !slices.Contains(cfg.InstallmentOptions, t.Installments) ||
		t.Installments > 1 && (t.Amount < cfg.MinInstallmentAmount || !Splits(t.Amount, t.Installments)) {
		r.reject(DatasetTransactions, t.TxnID, RejectInstallments, t.Src)
		return nil
	}
	var fees Money
	if t.Installments > 1 {
		fee, err := t.Amount.MulRateChecked(t.FeeRate)
		total, ok := planFees(fee, t.Installments)
		if err != nil || !ok || !total.InRange() {
			return r.outOfRange("purchase %s: %s at fee rate %s over %d periods: fees beyond %s",
				t.TxnID, t.Amount, t.FeeRate, t.Installments, MaxMoney)
		}
		fees = total
	}
	if err := r.spend("purchase", t.TxnID, t.Amount, fees); err != nil {
		return err
	}
	r.flows.Purchases += t.Amount
	a.Purchases = append(a.Purchases, PurchaseRef{
		TxnID: t.TxnID, Date: r.on, Amount: t.Amount, Installments: t.Installments,
	})
	if t.Installments <= 1 {
		a.Cycle.Purchases += t.Amount
		r.pending(LinePurchase, t.TxnID, 0, t.Amount)
		return nil
	}
	a.Plans = append(a.Plans, NewPlan(t.TxnID, r.on, t.Amount, t.Installments, t.FeeRate))
	a.Cycle.InstallmentSpend += t.Amount
	r.out.Plans = append(r.out.Plans, a.Plans[len(a.Plans)-1].Row(a.ID, cfg.APRCap))
	return nil
}

// refund credits a refund of a remembered purchase.
//
// A purchase paid in full: the refund is credited like a payment. An
// installment purchase with its plan open: a full refund (the refunds reach
// the principal) cancels the plan, removing the unbilled principal and
// crediting the billed principal and fees; a partial refund reduces the
// unbilled principal, re-split over the periods left (the flat fee does not
// change), and any part beyond the unbilled principal is credited, which
// closes the plan with its remaining fees waived. Once the plan is closed a
// refund is credited as principal.
func (r *run) refund(t *Transaction) error {
	a := r.a
	p := a.purchase(t.RefTxnID)
	if p == nil {
		r.reject(DatasetTransactions, t.TxnID, RejectUnknownPurchase, t.Src)
		return nil
	}
	if p.Refunded+t.Amount > p.Amount {
		r.reject(DatasetTransactions, t.TxnID, RejectRefundTooLarge, t.Src)
		return nil
	}
	i := -1
	if p.Installments > 1 && !a.chargedOff() {
		i = a.plan(p.TxnID)
	}
	var back Money // billed fees a full refund credits back
	if i >= 0 && p.Refunded+t.Amount == p.Amount {
		back = a.Plans[i].BilledFees
	}
	if err := r.spend("refund", t.TxnID, t.Amount, back); err != nil {
		return err
	}
	p.Refunded += t.Amount
	if a.chargedOff() {
		r.recover(t.Amount)
		return nil
	}
	r.flows.Refunds += t.Amount
	credited, fees := t.Amount, Money(0)
	if i >= 0 {
		plan := &a.Plans[i]
		removed := min(plan.Remaining, t.Amount)
		plan.Remaining -= removed
		credited = t.Amount - removed
		switch {
		case p.Refunded == p.Amount:
			fees = plan.BilledFees
			a.removePlan(i)
		case plan.Remaining == 0:
			a.removePlan(i)
		default:
			plan.split()
		}
	}
	if credited > 0 {
		a.Cycle.Refunds += credited
		a.receive(credited, r.cfg.Waterfall)
		r.pending(LineRefund, t.TxnID, 0, -credited)
	}
	if fees > 0 {
		r.flows.FeeReversal += fees
		a.Cycle.Refunds += fees
		a.receive(fees, r.cfg.Waterfall)
		r.pending(LineWaiver, t.TxnID, 0, -fees)
	}
	return nil
}

// repayment books a repayment. A failed one moves no money: it counts and
// sends a notice. A successful one with PayoffTxnID first accelerates that
// plan's remaining principal (fees waived unless the policy charges them),
// then pays like any repayment.
func (r *run) repayment(p *Repayment) error {
	a, cfg := r.a, r.cfg
	i := -1
	if p.Status == Succeeded && !a.chargedOff() && p.PayoffTxnID != "" {
		if i = a.plan(p.PayoffTxnID); i < 0 {
			r.reject(DatasetRepayments, p.RepaymentID, RejectUnknownPlan, p.Src)
			return nil
		}
	}
	if p.Status != Succeeded { // moves no money: its amount is only a notice's
		if !p.Amount.InRange() {
			return r.outOfRange("failed repayment %s of %s beyond ±%s", p.RepaymentID, p.Amount, MaxMoney)
		}
		a.FailedDeductions = satInc(a.FailedDeductions)
		a.Cycle.FailedDeductions = satInc(a.Cycle.FailedDeductions)
		if cfg.IncidentMemoryDays > 0 {
			a.Failures = append(a.Failures, FailedDeduction{RepaymentID: p.RepaymentID, Channel: p.Channel, PaidAt: p.PaidAt, Date: r.day})
		}
		r.notify(NoticeDeductFailed, p.RepaymentID, p.Amount, 0)
		return nil
	}
	if err := r.spend("repayment", p.RepaymentID, p.Amount, 0); err != nil {
		return err
	}
	if a.chargedOff() {
		r.recover(p.Amount)
		return nil
	}
	if i >= 0 {
		plan := &a.Plans[i]
		a.Cycle.AcceleratedPrincipal += plan.Remaining
		r.pending(LinePayoff, plan.TxnID, 0, plan.Remaining)
		if fees := plan.FeesLeft(); cfg.PayoffChargesFees && fees > 0 {
			a.Cycle.AcceleratedFees += fees
			r.flows.Fees += fees
			r.pending(LineInstallmentFee, plan.TxnID, 0, fees)
		}
		a.removePlan(i)
	}
	r.flows.Payments += p.Amount
	a.Cycle.Payments += p.Amount
	a.receive(p.Amount, cfg.Waterfall)
	r.pending(LinePayment, p.RepaymentID, 0, -p.Amount)
	if r.late() {
		return r.waiveLate(p)
	}
	return nil
}

// satInc is n+1, saturating at the largest int32: a counter never wraps.
func satInc(n int32) int32 {
	if n == math.MaxInt32 {
		return n
	}
	return n + 1
}

// recover books money received after charge-off.
func (r *run) recover(amount Money) {
	r.a.Recovered += amount
	r.flows.Recoveries += amount
}

// request handles a customer request. A refused request is not a reject:
// the account's Note says why and a request_declined notice goes out.
func (r *run) request(q *Request) {
	a, cfg := r.a, r.cfg
	decline := func(why string) {
		a.Note = why
		r.notify(NoticeRequestDeclined, q.RequestID, 0, 0)
	}
	if q.Kind == ReopenAccount {
		switch {
		case a.Status != Closed:
			decline("reopen " + q.RequestID + " declined: account " + string(a.Status) + ", not closed")
		case r.reopen:
			decline("reopen " + q.RequestID + " declined: a reopen was already requested today")
		default:
			r.reopen = true
			r.out.Reopens = append(r.out.Reopens, ReopenRequest{AccountID: a.ID, RequestID: q.RequestID})
		}
		return
	}
	if !a.Status.Live() {
		decline("request " + q.RequestID + " declined: account " + string(a.Status))
		return
	}
	switch q.Kind {
	case CloseAccount:
		a.CloseRequested = true
		a.ClosedBy = ClosedByCustomer
		a.Note = "close requested"
	case DeferPlan:
		i := a.plan(q.TxnID)
		switch {
		case i < 0:
			decline("defer " + q.TxnID + " declined: no open plan")
		case q.Periods < 1:
			decline("defer " + q.TxnID + " declined: periods must be at least 1")
		case q.Periods > cfg.MaxDeferralCycles-a.DeferralsUsed: // never a sum that could wrap
			decline(fmt.Sprintf("defer %s by %d declined: %d of %d deferral cycles used",
				q.TxnID, q.Periods, a.DeferralsUsed, cfg.MaxDeferralCycles))
		default:
			a.Plans[i].Skip += q.Periods
			a.DeferralsUsed += q.Periods
			a.Note = fmt.Sprintf("plan %s deferred by %d cycle(s) on %s", q.TxnID, q.Periods, r.day)
		}
	case ChangeBillingDay:
		switch {
		case q.BillingDay < 1 || q.BillingDay > 28:
			decline(fmt.Sprintf("billing day %d declined: want 1..28", q.BillingDay))
		case a.ActivatedOn == 0 || r.day < a.ActivatedOn.AddMonths(cfg.BillingDayChangeAfterMonths):
			decline(fmt.Sprintf("billing day %d declined: allowed %d months after activation",
				q.BillingDay, cfg.BillingDayChangeAfterMonths))
		case a.Overdue(r.day).DPD > 0:
			decline(fmt.Sprintf("billing day %d declined: account past due", q.BillingDay))
		default:
			a.BillingDay = q.BillingDay
			a.Note = fmt.Sprintf("billing day changed to %d on %s", q.BillingDay, r.day)
		}
	}
}
