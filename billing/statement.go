package billing

import "fmt"

// issueStatement issues the statement dated day+1 when that is the
// account's billing day (step 3 of Close).
func (r *run) issueStatement() error {
	a, cfg := r.a, r.cfg
	date := r.day + 1
	if a.BillingDay < 1 || date.Day() != int(a.BillingDay) || a.LastStatement >= date {
		return nil
	}
	if a.Status != Active && a.Status != Frozen {
		return nil
	}
	due := r.graceDue(date.AddDays(cfg.DueDays))
	c := &a.Cycle

	// What the older statements carry, before the new one joins them.
	var carried, oldMin Money
	for i := range a.Statements {
		carried += a.Statements[i].Owed.Sum()
	}
	if n := len(a.Statements); n > 0 {
		oldMin = min(a.Statements[n-1].MinRemaining, max(carried, 0))
	}

	// The new statement's charges.
	s := Statement{Date: date, DueDate: due}
	s.Owed[Penalty] = c.Penalties
	s.Owed[RevolvingFee] = c.RevolvingFees
	s.Owed[InstallmentFee] = c.AcceleratedFees
	s.Owed[InstallmentPrincipal] = c.AcceleratedPrincipal
	s.Owed[PurchasePrincipal] = c.Purchases

	seq := int32(0)
	line := func(kind LineKind, on Date, ref string, period int32, amount Money) {
		seq++
		l := LineRow{AccountID: a.ID, StatementDate: date, Seq: seq, Kind: string(kind), EventDate: on, Amount: amount}
		if ref != "" {
			l.Ref = &ref
		}
		if period != 0 {
			l.Period = &period
		}
		r.out.Lines = append(r.out.Lines, l)
	}
	for _, l := range a.Pending {
		line(l.Kind, l.Date, l.Ref, l.Period, l.Amount)
	}
	// This period of every open plan, oldest plan first; a deferred plan
	// skips this statement and its fee moves with it.
	for i := 0; i < len(a.Plans); {
		p := &a.Plans[i]
		if p.Skip > 0 {
			p.Skip--
			i++
			continue
		}
		period, principal, fee := p.billNext()
		s.Owed[InstallmentPrincipal] += principal
		s.Owed[InstallmentFee] += fee
		r.flows.Fees += fee
		line(LineInstallmentPrincipal, date, p.TxnID, period, principal)
		if fee != 0 {
			line(LineInstallmentFee, date, p.TxnID, period, fee)
		}
		if p.Done() {
			a.removePlan(i)
			continue
		}
		i++
	}
	if c.RevolvingFees != 0 {
		line(LineRevolvingFee, date, "", 0, c.RevolvingFees)
	}
	if c.Penalties != 0 {
		line(LinePenalty, date, "", 0, c.Penalties)
	}

	row := StatementRow{
		AccountID:            a.ID,
		Currency:             cfg.Currency,
		StatementDate:        date,
		DueDate:              due,
		PreviousBalance:      a.LastBalance,
		Payments:             c.Payments,
		Refunds:              c.Refunds,
		Purchases:            c.Purchases,
		InstallmentPrincipal: s.Owed[InstallmentPrincipal],
		InstallmentFees:      s.Owed[InstallmentFee],
		RevolvingFees:        c.RevolvingFees,
		Penalties:            c.Penalties,
	}
	charges := s.Owed.Sum()
	row.NewBalance = row.PreviousBalance + charges - row.Payments - row.Refunds

	// A credit balance pays the new charges at once, in waterfall order.
	if a.Credit > 0 {
		_, a.Credit = Allocate(&s.Owed, a.Credit, cfg.Waterfall)
	}

	// Minimum: the unpaid minimum carried from older statements (it includes
	// their penalties and fees), this statement's penalties, revolving fees
	// and installments, and MinimumRate of the other principal (new
	// purchases and the balance carried beyond the old minimum); at least the
	// floor, never above the new balance. Amounts are after the credit.
	o := &s.Owed
	other := o[PurchasePrincipal] + max(carried-oldMin, 0)
	minimum := oldMin + o[Penalty] + o[RevolvingFee] + o[InstallmentFee] + o[InstallmentPrincipal] +
		other.MulRate(cfg.MinimumRate)
	minimum = max(minimum, cfg.MinimumFloor)
	minimum = min(minimum, row.NewBalance)
	if row.NewBalance <= 0 {
		minimum = 0
	}
	row.MinimumDue = minimum
	if err := r.checkRow(&row); err != nil {
		return err
	}
	s.NewBalance, s.MinimumDue, s.MinRemaining = row.NewBalance, minimum, minimum

	activity := charges != 0 || c.Payments != 0 || c.Refunds != 0 || c.InstallmentSpend != 0
	a.HistoryChanged = true
	a.History = append(a.History, CycleStats{
		StatementDate:    date,
		Spend:            c.Purchases + c.InstallmentSpend,
		InstallmentSpend: c.InstallmentSpend,
		Billed:           charges,
		Paid:             c.Payments,
		Balance:          row.NewBalance,
		Limit:            a.Limit,
		MinimumDue:       minimum,
		MaxDPD:           c.MaxDPD,
		FailedDeductions: c.FailedDeductions,
	})
	if n := cfg.HistoryCycles; n > 0 && len(a.History) > n {
		k := copy(a.History, a.History[len(a.History)-n:])
		clear(a.History[k:])
		a.History = a.History[:k]
	}
	a.Cycle = Cycle{}
	clear(a.Pending)
	a.Pending = a.Pending[:0]
	a.Statements = append(a.Statements, s)
	a.LastStatement, a.LastBalance = date, row.NewBalance
	if !a.CloseRequested {
		a.Note = "" // a request's outcome is news until the next statement
	}

	if owed := a.Owed(); owed != row.NewBalance {
		return &AccountError{AccountID: a.ID, Err: ErrUnbalanced, Detail: fmt.Sprintf(
			"statement %s: new balance %s, account owes %s (difference %s)", date, row.NewBalance, owed, row.NewBalance-owed)}
	}
	r.out.Statements = append(r.out.Statements, row)

	code := r.bureauCode(row.NewBalance, activity)
	r.out.Bureau = append(r.out.Bureau, BureauRow{AccountID: a.ID, Period: date, Status: code})
	if code != "*" {
		r.notify(NoticeStatement, date.String(), row.NewBalance, due)
	}
	return nil
}

// bureauCode is the PBOC-style monthly status on a statement date: C when
// the account settles and closes (a close request with nothing owed and no
// plan), 1..7 by delinquency bucket on the run's date, N current with a
// balance or activity, * nothing due.
func (r *run) bureauCode(newBalance Money, activity bool) string {
	a := r.a
	switch {
	case a.Status == Closed || (a.CloseRequested && newBalance <= 0 && len(a.Plans) == 0):
		return "C"
	case r.ov.DPD > 0:
		return bureauDigits[bucketNumber(r.ov.DPD)]
	case newBalance > 0 || activity:
		return "N"
	default:
		return "*"
	}
}

var bureauDigits = [...]string{"N", "1", "2", "3", "4", "5", "6", "7"}
