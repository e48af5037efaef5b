package billing

// Incident is a platform incident (系统故障) as risk operations record it:
// repayments on Channel failed between StartsAt and EndsAt (both included,
// microseconds UTC) because the platform failed, not the customer. It takes
// effect from the business day of RecordedAt, never before.
type Incident struct {
	IncidentID  string
	Channel     string // one of Channels
	StartsAt    int64
	EndsAt      int64
	RecordedAt  int64
	Description string
	Src         Source
}

// FailedDeduction is a failed repayment the state remembers for
// Config.IncidentMemoryDays, so that an incident recorded later can still
// excuse it.
type FailedDeduction struct {
	RepaymentID string
	Channel     string
	PaidAt      int64
	Date        Date
	// Excused is the incident that excused the failure ("" while none has).
	Excused string
}

// Accrual is one day's revolving fee and penalty on an account past a due
// date, remembered for Config.IncidentMemoryDays so that an incident can
// waive what accrued only because of it.
type Accrual struct {
	Date Date
	// FirstDue is the due date of the oldest statement past its due date
	// that day (the revolving fee's first base); OldestDue that of the
	// oldest one whose minimum was unpaid (0 when current), from which DPD
	// counts.
	FirstDue, OldestDue Date
	DPD                 int32
	Penalty, Revolving  Money
}

// inForce returns the incidents of incs recorded on or before the run's day.
func (r *run) inForce(incs []Incident) []Incident {
	loc := r.cfg.Location()
	var out []Incident
	for i := range incs {
		if LocalDate(incs[i].RecordedAt, loc) <= r.day {
			out = append(out, incs[i])
		}
	}
	return out
}

// window returns an incident's first local date and the due date it moves
// statements to: its last local date plus the grace.
func (r *run) window(inc *Incident) (start, due Date) {
	loc := r.cfg.Location()
	return LocalDate(inc.StartsAt, loc), LocalDate(inc.EndsAt, loc).AddDays(r.cfg.IncidentGraceDays)
}

// incidents applies the incidents in force (step 1b of Close, after the
// day's events): every remembered failed deduction on an incident's
// channel inside its window is excused (it no longer counts in the
// account's failed deductions), and the first night an account has one,
// the incident's grace is granted: statements due from the window's first
// date until its end plus the grace become due at the end plus the grace,
// the revolving fees and penalties that accrued on them for the moved days
// are waived (a waiver line, Flows.FeeReversal), days past due are counted
// from the new due date, and an incident_grace notice names it.
func (r *run) incidents() error {
	a := r.a
	for i := range r.incs {
		inc := &r.incs[i]
		granted, matched := false, false
		for j := range a.Failures {
			f := &a.Failures[j]
			granted = granted || f.Excused == inc.IncidentID
			if f.Excused == "" && f.Channel == inc.Channel && f.PaidAt >= inc.StartsAt && f.PaidAt <= inc.EndsAt {
				f.Excused = inc.IncidentID
				a.excuse(f.Date)
				matched = true
			}
		}
		if matched && !granted {
			if err := r.grace(inc); err != nil {
				return err
			}
		}
	}
	return nil
}

// granted reports whether the account was granted inc's grace.
func (a *Account) granted(inc *Incident) bool {
	for j := range a.Failures {
		if a.Failures[j].Excused == inc.IncidentID {
			return true
		}
	}
	return false
}

// excuse takes a failed deduction of date on out of the account's counts:
// its life's, and the cycle's it fell in (the open one, or a closed one
// still in the history).
func (a *Account) excuse(on Date) {
	a.FailedDeductions = max(a.FailedDeductions-1, 0)
	if on >= a.LastStatement {
		a.Cycle.FailedDeductions = max(a.Cycle.FailedDeductions-1, 0)
		return
	}
	for k := range a.History {
		if c := &a.History[k]; on < c.StatementDate {
			c.FailedDeductions = max(c.FailedDeductions-1, 0)
			a.HistoryChanged = true
			return
		}
	}
}

// grace grants inc's grace to the account (see incidents).
func (r *run) grace(inc *Incident) error {
	a, cfg := r.a, r.cfg
	start, due := r.window(inc)
	var asked Money
	for i := range a.Statements {
		s := &a.Statements[i]
		if s.DueDate >= start && s.DueDate < due {
			s.DueDate = due
			asked += s.MinRemaining
		}
	}
	moved := func(d Date) bool { return d >= start && d <= due }
	var waived Money
	changed := false
	for i := range a.Accruals {
		e := &a.Accruals[i]
		switch {
		case e.Date <= due && e.FirstDue != 0 && moved(e.FirstDue):
			// Every statement past its due date that day is one that moved.
			waived += e.Penalty + e.Revolving
			e.Penalty, e.Revolving, e.DPD, e.FirstDue, e.OldestDue = 0, 0, 0, 0, 0
			changed = true
		case e.Date > due && e.OldestDue != 0 && moved(e.OldestDue):
			e.DPD, e.OldestDue = int32(e.Date-due), due
			changed = true
		}
	}
	if changed {
		a.recountDPD(r.day-Date(cfg.IncidentMemoryDays), r.day)
	}
	if waived > 0 {
		if err := r.spend("waiver", inc.IncidentID, waived, 0); err != nil {
			return err
		}
		r.flows.FeeReversal += waived
		a.Cycle.Refunds += waived
		a.receive(waived, cfg.Waterfall)
		r.pending(LineWaiver, inc.IncidentID, 0, -waived)
	}
	r.notify(NoticeIncidentGrace, inc.IncidentID, asked, due)
	return nil
}

// recountDPD recomputes the days past due that the accrual log, corrected
// by a grace, covers: the open cycle's and every closed cycle's greatest
// DPD when the log (which starts on from) covers the whole cycle, and the
// last day past due.
func (a *Account) recountDPD(from, day Date) {
	maxIn := func(lo, hi Date) int32 { // over days in [lo, hi)
		var m int32
		for i := range a.Accruals {
			if e := &a.Accruals[i]; e.Date >= lo && e.Date < hi {
				m = max(m, e.DPD)
			}
		}
		return m
	}
	begin := a.LastStatement
	if begin == 0 {
		begin = a.ActivatedOn
	}
	if begin >= from {
		a.Cycle.MaxDPD = maxIn(begin, day+1)
	}
	for k := len(a.History) - 1; k >= 0; k-- {
		lo := a.ActivatedOn
		if k > 0 {
			lo = a.History[k-1].StatementDate
		}
		if lo < from {
			break
		}
		a.History[k].MaxDPD = maxIn(lo, a.History[k].StatementDate)
		a.HistoryChanged = true
	}
	var last Date
	for i := range a.Accruals {
		if e := &a.Accruals[i]; e.DPD > 0 {
			last = max(last, e.Date)
		}
	}
	if last == 0 && a.LastPastDue >= from {
		// Past due before the log: the end of the last such cycle.
		for k := len(a.History) - 1; k >= 0; k-- {
			if c := &a.History[k]; c.MaxDPD > 0 && c.StatementDate-1 < from {
				last = c.StatementDate - 1
				break
			}
		}
	}
	if last != 0 || a.LastPastDue >= from {
		a.LastPastDue = last
	}
}

// graceDue returns the due date of a statement due on due issued tonight:
// moved to the end of the window plus the grace when an incident whose
// grace the account was granted covers it.
func (r *run) graceDue(due Date) Date {
	for i := range r.incs {
		inc := &r.incs[i]
		if start, to := r.window(inc); due >= start && due < to && r.a.granted(inc) {
			due = to
		}
	}
	return due
}

// logAccrual remembers the day's accrual (step 2 of Close) when the
// account is past a due date.
func (r *run) logAccrual(penalty, revolving Money) {
	if r.cfg.IncidentMemoryDays <= 0 || (r.ov.Principal == 0 && r.ov.DPD == 0) {
		return
	}
	e := Accrual{Date: r.day, OldestDue: r.ov.OldestDue, DPD: r.ov.DPD, Penalty: penalty, Revolving: revolving}
	for i := range r.a.Statements {
		if s := &r.a.Statements[i]; s.DueDate < r.day {
			e.FirstDue = s.DueDate
			break
		}
	}
	r.a.Accruals = append(r.a.Accruals, e)
}

// pruneMemory forgets the failed deductions and accruals older than
// IncidentMemoryDays.
func (a *Account) pruneMemory(day Date, days int) {
	from := day - Date(days) // kept: after from
	a.Failures = pruneBefore(a.Failures, func(f *FailedDeduction) bool { return f.Date <= from })
	a.pruneAccruals(day, days)
}

// pruneAccruals is pruneMemory's part for the accruals.
func (a *Account) pruneAccruals(day Date, days int) {
	from := day - Date(days) // kept: after from
	a.Accruals = pruneBefore(a.Accruals, func(e *Accrual) bool { return e.Date <= from })
}

// pruneBefore drops the leading elements old reports (the slices are in
// date order), in place.
func pruneBefore[T any](s []T, old func(*T) bool) []T {
	n := 0
	for n < len(s) && old(&s[n]) {
		n++
	}
	if n == 0 {
		return s
	}
	k := copy(s, s[n:])
	clear(s[k:])
	return s[:k]
}
