package billing

// NewPlan opens an installment plan of principal over periods monthly
// periods at the monthly flat feeRate. Each period's fee is
// principal × feeRate rounded to the fen (half up) and does not decline; each
// period's principal is principal / periods truncated to the fen, with the
// rounding residual in the last period: 1000.00 over 3 is 333.33, 333.33,
// 333.34.
func NewPlan(txnID string, openedOn Date, principal Money, periods int32, feeRate Rate) Plan {
	if periods < 1 {
		periods = 1
	}
	p := Plan{
		TxnID:     txnID,
		OpenedOn:  openedOn,
		Principal: principal,
		Periods:   periods,
		FeeRate:   feeRate,
		PeriodFee: principal.MulRate(feeRate),
		Remaining: principal,
	}
	p.split()
	return p
}

// split spreads Remaining over the periods not billed yet: equal truncated
// parts, the residual in the last.
func (p *Plan) split() {
	left := Money(p.Periods - p.Billed)
	if left <= 0 {
		p.PeriodPrincipal, p.LastPeriodPrincipal = 0, 0
		return
	}
	p.PeriodPrincipal = p.Remaining / left
	p.LastPeriodPrincipal = p.Remaining - p.PeriodPrincipal*(left-1)
}

// PeriodsLeft is the number of periods not billed yet.
func (p *Plan) PeriodsLeft() int32 { return p.Periods - p.Billed }

// FeesLeft is the fees of the periods not billed yet.
func (p *Plan) FeesLeft() Money { return p.PeriodFee * Money(p.PeriodsLeft()) }

// TotalFees is the fee of every period: periods × period fee.
func (p *Plan) TotalFees() Money { return p.PeriodFee * Money(p.Periods) }

// billNext bills the next period: it returns the period number and its
// principal and fee, and moves the principal out of Remaining. The last
// period takes whatever principal remains.
func (p *Plan) billNext() (period int32, principal, fee Money) {
	p.Billed++
	principal = p.PeriodPrincipal
	if p.Billed >= p.Periods || principal > p.Remaining {
		principal = p.Remaining
	}
	p.Remaining -= principal
	p.BilledPrincipal += principal
	p.BilledFees += p.PeriodFee
	return p.Billed, principal, p.PeriodFee
}

// Done reports whether every period is billed.
func (p *Plan) Done() bool { return p.Billed >= p.Periods }

// Row returns the plan's disclosure row: its schedule and its annualized rate
// by IRR, flagged when the nominal rate exceeds aprCap. A rate that
// DECIMAL(9,6) cannot hold is null, and the plan flagged.
func (p *Plan) Row(accountID int64, aprCap Rate) PlanRow {
	nominal, effective, ok := p.APR()
	row := PlanRow{
		TxnID:               p.TxnID,
		AccountID:           accountID,
		OpenedOn:            p.OpenedOn,
		Periods:             p.Periods,
		Principal:           p.Principal,
		FeeRate:             p.FeeRate,
		PeriodPrincipal:     p.PeriodPrincipal,
		PeriodFee:           p.PeriodFee,
		LastPeriodPrincipal: p.LastPeriodPrincipal,
		TotalFees:           p.TotalFees(),
		OverCap:             !ok || nominal > aprCap,
	}
	if ok {
		row.APRNominal, row.APREffective = &nominal, &effective
	}
	return row
}

func (a *Account) plan(txnID string) int {
	for i := range a.Plans {
		if a.Plans[i].TxnID == txnID {
			return i
		}
	}
	return -1
}

func (a *Account) removePlan(i int) {
	a.Plans = append(a.Plans[:i], a.Plans[i+1:]...)
}

func (a *Account) purchase(txnID string) *PurchaseRef {
	for i := range a.Purchases {
		if a.Purchases[i].TxnID == txnID {
			return &a.Purchases[i]
		}
	}
	return nil
}

// prunePurchases forgets purchases older than the refund window and those
// refunded in full.
func (a *Account) prunePurchases(day Date, windowDays int) {
	keep := a.Purchases[:0]
	for _, p := range a.Purchases {
		if int(day-p.Date) <= windowDays && p.Refunded < p.Amount {
			keep = append(keep, p)
		}
	}
	clear(a.Purchases[len(keep):])
	a.Purchases = keep
}
