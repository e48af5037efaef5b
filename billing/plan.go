package billing

// NewPlan opens an installment plan of principal over periods monthly
// periods at the monthly flat feeRate. Each period's fee is
// principal × feeRate rounded to the fen (half away from zero) and does not
// decline; each period's principal is principal / periods rounded to the fen
// (half away from zero), with the rounding residual in the last period:
// 1000.00 over 3 is 333.33, 333.33, 333.34; 200.00 over 3 is 66.67, 66.67,
// 66.66; 99999.99 over 24 is 4166.67 × 23 and 4166.58 last. A purchase whose
// last period would not be positive is refused its installments before a
// plan is opened (Splits).
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

// split spreads Remaining over the periods not billed yet: equal rounded
// parts, the residual in the last. After a partial refund leaves too little
// for rounded parts to leave a last period above zero, the parts are
// truncated instead, so that no period is ever negative.
func (p *Plan) split() {
	left := Money(p.Periods - p.Billed)
	if left <= 0 {
		p.PeriodPrincipal, p.LastPeriodPrincipal = 0, 0
		return
	}
	p.PeriodPrincipal, p.LastPeriodPrincipal = splitPrincipal(p.Remaining, left)
	if p.LastPeriodPrincipal < 0 {
		p.PeriodPrincipal = p.Remaining / left
		p.LastPeriodPrincipal = p.Remaining - p.PeriodPrincipal*(left-1)
	}
}

// splitPrincipal is principal / n rounded to the fen, half away from zero,
// and the last period's principal, which takes the residual. principal is
// not negative and n is at least 1; no product can wrap for amounts in
// range (|principal| ≤ MaxMoney, n ≤ 60).
func splitPrincipal(principal, n Money) (each, last Money) {
	each = (2*principal + n) / (2 * n)
	return each, principal - each*(n-1)
}

// Splits reports whether amount can be paid in n installments: the rounded
// periods leave a last period above zero (0.15 over 24 cannot: 0.01 × 23
// leaves −0.08).
func Splits(amount Money, n int32) bool {
	if n <= 1 {
		return true
	}
	_, last := splitPrincipal(amount, Money(n))
	return last > 0
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
	a.Purchases = keepFrom(a.Purchases, func(p *PurchaseRef) bool {
		return int(day-p.Date) <= windowDays && p.Refunded < p.Amount
	})
}
