package billing

// Late events. The run for D applies the events the pipeline assigned to it:
// those that happened on D and late ones that happened on an earlier date,
// their value date (the local date of their timestamp). A late event is
// applied that night with its own value date; what that changes is here.

// RejectDuplicateID is an event whose id the account already applied on an
// earlier night of the late window: a re-delivery. It is refused whole.
const RejectDuplicateID = "duplicate_id"

// MaxLateWindowDays is the longest late window a policy may set.
const MaxLateWindowDays = 31

// SeenEvent is an event the account applied, remembered while a
// re-delivery of it could still be accepted: until the run for
// Date + Config.LateWindowDays.
type SeenEvent struct {
	Dataset string // DatasetTransactions, DatasetRepayments or DatasetRequests
	ID      string // txn_id, repayment_id or request_id
	Date    Date   // the event's value date
}

// LateAccrual is one statement past due on a day on which a revolving fee or a
// penalty accrued, as it stood when they accrued (after the day's events).
// The rows of one day share Date, Revolving and Penalty: the day's fees.
// They are kept for the late window, so that a repayment that arrives late
// can tell which of those fees accrued only because it was missing.
type LateAccrual struct {
	Date         Date
	Revolving    Money // the revolving fee accrued on Date
	Penalty      Money // the penalty accrued on Date
	DueDate      Date
	MinRemaining Money
	Owed         Components
}

// valueDate is the local date of an event's timestamp.
func (c *Config) valueDate(micros int64) Date { return LocalDate(micros, c.Location()) }

// seen reports whether the account already applied the event id of dataset.
func (a *Account) seen(dataset, id string) bool {
	for i := range a.Seen {
		if a.Seen[i].ID == id && a.Seen[i].Dataset == dataset {
			return true
		}
	}
	return false
}

// admit decides whether an event of the night is applied: a re-delivery of
// an event the account applied already is rejected (false); any other is
// applied on its value date (the night's date for an event of the night),
// and done remembers it once applied.
func (r *run) admit(dataset, id string, at int64, src Source) bool {
	if r.a.seen(dataset, id) {
		r.reject(dataset, id, RejectDuplicateID, src)
		return false
	}
	r.on = min(r.cfg.valueDate(at), r.day)
	r.rejects = len(r.out.Rejects)
	return true
}

// done remembers the event admit let through, unless it was rejected.
func (r *run) done(dataset, id string) {
	if len(r.out.Rejects) == r.rejects {
		r.a.Seen = append(r.a.Seen, SeenEvent{Dataset: dataset, ID: id, Date: r.on})
	}
	r.on = r.day
}

// late reports whether the event being applied happened before the night.
func (r *run) late() bool { return r.on < r.day }

// recordAccrual remembers the past-due statements of the day on which fees
// accrued (step 2), for a repayment that may yet arrive late.
func (r *run) recordAccrual(revolving, penalty Money) {
	if revolving == 0 && penalty == 0 {
		return
	}
	a := r.a
	for i := range a.Statements {
		s := &a.Statements[i]
		if s.DueDate >= r.day {
			break // statements are oldest first
		}
		a.LateAccruals = append(a.LateAccruals, LateAccrual{Date: r.day, Revolving: revolving, Penalty: penalty,
			DueDate: s.DueDate, MinRemaining: s.MinRemaining, Owed: s.Owed})
	}
}

// waiveLate reverses what a late repayment's absence cost: for every day
// from its value date to the night before on which fees accrued, the fees
// are recomputed on that day's past-due statements as if the repayment had
// been received on its value date (in the waterfall, oldest statement
// first, its amount off every minimum), and what accrued beyond them is
// waived. The recorded days are corrected in turn, so that a second late
// repayment is measured against the corrected book. The waiver is a flow
// (Flows.FeeReversal) credited like a refund and printed as a waiver line
// dated the night on the next statement; it does not count toward any
// minimum.
func (r *run) waiveLate(p *Repayment) error {
	a, cfg := r.a, r.cfg
	var waived Money
	for i := 0; i < len(a.LateAccruals); {
		j := i
		for j < len(a.LateAccruals) && a.LateAccruals[j].Date == a.LateAccruals[i].Date {
			j++
		}
		day := a.LateAccruals[i:j]
		if day[0].Date >= r.on {
			w, err := r.rework(day, p.Amount, cfg)
			if err != nil {
				return err
			}
			if waived, err = waived.AddChecked(w); err != nil {
				return r.outOfRange("waiver for repayment %s beyond ±%s", p.RepaymentID, MaxMoney)
			}
		}
		i = j
	}
	if waived <= 0 {
		return nil
	}
	if err := r.spend("waiver", p.RepaymentID, waived, 0); err != nil {
		return err
	}
	r.flows.FeeReversal += waived
	a.Cycle.Refunds += waived
	// Fees not billed yet are offset on the statement that bills them (the
	// credit balance pays its charges first); billed ones are paid down.
	unbilled := min(waived, max(a.Cycle.RevolvingFees+a.Cycle.Penalties, 0))
	a.Credit += unbilled
	a.credit(waived-unbilled, cfg.Waterfall)
	a.Pending = append(a.Pending, Line{Kind: LineWaiver, Date: r.day, Ref: p.RepaymentID, Amount: -waived})
	return nil
}

// rework recomputes one recorded day with amount received before it and
// returns the fees to waive; the day's rows are corrected in place.
func (r *run) rework(day []LateAccrual, amount Money, cfg *Config) (Money, error) {
	stmts := make([]Statement, len(day))
	for k := range day {
		stmts[k] = Statement{DueDate: day[k].DueDate, MinRemaining: day[k].MinRemaining, Owed: day[k].Owed}
	}
	cf := Account{Statements: stmts}
	cf.receive(amount, cfg.Waterfall)
	ov := cf.Overdue(day[0].Date)
	var revolving, penalty Money
	if ov.Principal > 0 {
		revolving = ov.Principal.MulRate(cfg.RevolvingDailyRate)
	}
	if ov.DPD >= 1 {
		penalty = ov.PastDue.MulRate(cfg.PenaltyDailyRate)
	}
	revolving, penalty = min(revolving, day[0].Revolving), min(penalty, day[0].Penalty)
	w := max(day[0].Revolving-revolving, 0) + max(day[0].Penalty-penalty, 0)
	for k := range day {
		day[k].Revolving, day[k].Penalty = revolving, penalty
		day[k].MinRemaining, day[k].Owed = stmts[k].MinRemaining, stmts[k].Owed
	}
	if !w.InRange() {
		return 0, r.outOfRange("waiver of %s beyond ±%s", day[0].Date, MaxMoney)
	}
	return w, nil
}

// credit books money the account no longer owes (a waiver): it pays the
// issued statements oldest first, each in waterfall order, and what exceeds
// them becomes the credit balance. Unlike a payment it counts toward no
// minimum.
func (a *Account) credit(amount Money, order []Component) {
	left := amount
	for i := range a.Statements {
		if left <= 0 {
			break
		}
		_, left = Allocate(&a.Statements[i].Owed, left, order)
	}
	a.Credit += left
}

// pruneLate forgets the ids and accruals that no later run of the late
// window can need: a run for D' accepts events of value dates from
// D' − LateWindowDays on.
func (a *Account) pruneLate(day Date, windowDays int) {
	from := day + 1 - Date(windowDays)
	a.Seen = keepFrom(a.Seen, func(s *SeenEvent) bool { return s.Date >= from })
	a.pruneLateAccruals(day, windowDays)
}

// pruneLateAccruals is pruneLate's part for the accruals.
func (a *Account) pruneLateAccruals(day Date, windowDays int) {
	from := day + 1 - Date(windowDays)
	a.LateAccruals = keepFrom(a.LateAccruals, func(x *LateAccrual) bool { return x.Date >= from })
}

// keepFrom keeps the elements of s that keep reports, in order and in
// place; it moves nothing when it keeps them all.
func keepFrom[T any](s []T, keep func(*T) bool) []T {
	n := 0
	for n < len(s) && keep(&s[n]) {
		n++
	}
	if n == len(s) {
		return s
	}
	for i := n + 1; i < len(s); i++ {
		if keep(&s[i]) {
			s[n] = s[i]
			n++
		}
	}
	clear(s[n:])
	return s[:n]
}
