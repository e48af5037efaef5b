package billing

import (
	"fmt"
	"math/bits"
)

// The range of the daily step. Close keeps every amount of an account
// within ±MaxMoney by a bound checked up front and kept through the day:
//
//   - at the start and the end of the day, every amount the account holds
//     lies within ±MaxMoney, and its gross — the magnitudes of everything it
//     owes or is owed, billed or not (statement components, unbilled
//     charges, unbilled plan principal and the fees of the periods left,
//     the credit balance) — is at most MaxMoney;
//   - during the day, the gross at the start plus the magnitude of every
//     event's amount (and the fees of every plan opened) stays within
//     MaxMoney: the event that would pass it fails the account.
//
// Every sum the step forms is then a sum of at most a few terms each within
// a small multiple of MaxMoney, far from int64's limits (2^63 ≈ 9.2 ×
// MaxMoney), and the rows it writes are checked against ±MaxMoney before
// they leave. An account beyond the range is refused whole (ErrOutOfRange):
// its amounts are beyond any real credit line (10^16 yuan), so the night
// fails rather than publish a wrapped balance.

// gauge adds magnitudes of amounts and remembers the first that passes
// MaxMoney, alone or added up.
type gauge struct {
	gross uint64 // ≤ MaxMoney while err is ""
	err   string
}

// add counts m in the gross. Only an amount that fails calls out (beyond,
// outside keep the first failure), so that one inlines and neither tests
// err for every amount.
func (g *gauge) add(name string, m Money) {
	g.gross += absU64(int64(m)) // gross ≤ MaxMoney < 2^60 before, while err is "", and |m| ≤ 2^63: no overflow
	if g.gross > uint64(MaxMoney) {
		g.beyond(name, m)
	}
}

// one checks that m alone is within ±MaxMoney.
func (g *gauge) one(name string, m Money) {
	if !m.InRange() {
		g.outside(name, m)
	}
}

// beyond and outside record a failure unless an earlier one is; they stay
// out of line, so that add and one inline.
//
//go:noinline
func (g *gauge) beyond(name string, m Money) {
	if g.err == "" {
		g.err = fmt.Sprintf("the amounts held add up beyond %s at %s %s", MaxMoney, name, m)
	}
}

//go:noinline
func (g *gauge) outside(name string, m Money) {
	if g.err == "" {
		g.err = fmt.Sprintf("%s %s beyond ±%s", name, m, MaxMoney)
	}
}

// measure checks the bound of the account (see above): it returns the
// account's gross and "" when it holds, else what breaks it.
func (a *Account) measure() (gross uint64, err string) {
	if gross, ok := a.gross(); ok {
		return gross, ""
	}
	return a.measureNamed()
}

// gross is measure's pass for an account within the bound, which nearly
// every one is: the same amounts, without naming them, and false whenever
// the bound might not hold (measureNamed then says where it breaks). An
// amount checked alone is folded into bits instead of compared: fold(v)
// is |v| or |v|−1, so bits below foldBound proves every one within the
// bound (one from 2^59 to MaxMoney takes measureNamed's exact pass). A
// term of the gross needs no check of its own, being at most the gross,
// which is compared with MaxMoney after every few terms, each capped at
// 2^60 so that the sum cannot wrap.
func (a *Account) gross() (uint64, bool) {
	fold := func(m Money) uint64 { return uint64(int64(m) ^ int64(m)>>63) }
	mag := func(m Money) uint64 { return min(absU64(int64(m)), 1<<60) }
	bits := fold(a.Limit) | fold(a.LastBalance) | fold(a.ChargedOff) | fold(a.Recovered)
	gross := mag(a.Credit)
	for i := range a.Statements {
		s := &a.Statements[i]
		bits |= fold(s.NewBalance) | fold(s.MinimumDue) | fold(s.MinRemaining)
		for _, v := range s.Owed {
			gross += mag(v)
		}
		if gross > uint64(MaxMoney) {
			return 0, false
		}
	}
	c := &a.Cycle
	gross += mag(c.Purchases) + mag(c.RevolvingFees) + mag(c.Penalties) + mag(c.AcceleratedPrincipal) + mag(c.AcceleratedFees)
	bits |= fold(c.InstallmentSpend) | fold(c.Payments) | fold(c.Refunds)
	if gross > uint64(MaxMoney) {
		return 0, false
	}
	for i := range a.Pending {
		bits |= fold(a.Pending[i].Amount)
	}
	for i := range a.Plans {
		p := &a.Plans[i]
		bits |= fold(p.Principal) | fold(p.PeriodPrincipal) | fold(p.LastPeriodPrincipal) | fold(p.BilledPrincipal) |
			fold(p.BilledFees) | fold(p.PeriodFee)
		if p.Periods < 0 || p.Periods > maxPeriods || p.Billed < 0 || bits >= foldBound {
			return 0, false // planFees below needs the period fee within the bound
		}
		if fees, ok := planFees(p.PeriodFee, p.Periods); !ok || !fees.InRange() {
			return 0, false
		}
		gross += mag(p.Remaining)
		if left := p.Periods - p.Billed; left > 0 {
			fees, _ := planFees(p.PeriodFee, left)
			gross += mag(fees)
		}
		if gross > uint64(MaxMoney) {
			return 0, false
		}
	}
	for i := range a.Purchases {
		bits |= fold(a.Purchases[i].Amount) | fold(a.Purchases[i].Refunded)
	}
	for i := range a.LateAccruals {
		x := &a.LateAccruals[i]
		bits |= fold(x.Revolving) | fold(x.Penalty) | fold(x.MinRemaining)
		for _, v := range x.Owed {
			bits |= fold(v)
		}
	}
	for i := range a.History {
		h := &a.History[i]
		bits |= fold(h.Spend) | fold(h.InstallmentSpend) | fold(h.Billed) | fold(h.Paid) | fold(h.Balance) |
			fold(h.Limit) | fold(h.MinimumDue)
	}
	return gross, bits < foldBound
}

// foldBound is the power of two below MaxMoney that gross holds its folded
// amounts under.
const foldBound = 1 << 59

var _ = [1]int{}[foldBound/uint64(MaxMoney)] // compiles only while foldBound ≤ MaxMoney

// measureNamed is measure's pass that names the first amount that breaks
// the bound.
func (a *Account) measureNamed() (gross uint64, err string) {
	var g gauge
	g.one("limit", a.Limit)
	g.one("last balance", a.LastBalance)
	g.one("charged off", a.ChargedOff)
	g.one("recovered", a.Recovered)
	g.add("credit", a.Credit)
	for i := range a.Statements {
		s := &a.Statements[i]
		g.one("statement new balance", s.NewBalance)
		g.one("statement minimum", s.MinimumDue)
		g.one("statement minimum remaining", s.MinRemaining)
		for k, v := range s.Owed { // named by component in an error
			g.add(componentNames[k], v)
		}
	}
	c := &a.Cycle
	g.add("unbilled purchases", c.Purchases)
	g.add("unbilled revolving fees", c.RevolvingFees)
	g.add("unbilled penalties", c.Penalties)
	g.add("accelerated principal", c.AcceleratedPrincipal)
	g.add("accelerated fees", c.AcceleratedFees)
	g.one("cycle installment spend", c.InstallmentSpend)
	g.one("cycle payments", c.Payments)
	g.one("cycle refunds", c.Refunds)
	for i := range a.Pending {
		g.one("pending line", a.Pending[i].Amount)
	}
	for i := range a.Plans {
		p := &a.Plans[i]
		g.one("plan principal", p.Principal)
		g.one("plan period principal", p.PeriodPrincipal)
		g.one("plan last period principal", p.LastPeriodPrincipal)
		g.one("plan billed principal", p.BilledPrincipal)
		g.one("plan billed fees", p.BilledFees)
		g.one("plan period fee", p.PeriodFee)
		if p.Periods < 0 || p.Periods > maxPeriods || p.Billed < 0 {
			g.one("plan periods", MaxMoney+1)
		}
		g.add("plan unbilled principal", p.Remaining)
		if fees, ok := planFees(p.PeriodFee, p.Periods); !ok || !fees.InRange() {
			g.one("plan total fees", MaxMoney+1)
		}
		if left := p.Periods - p.Billed; left > 0 && g.err == "" {
			fees, _ := planFees(p.PeriodFee, left)
			g.add("plan fees left", fees)
		}
	}
	for i := range a.Purchases {
		g.one("purchase amount", a.Purchases[i].Amount)
		g.one("purchase refunded", a.Purchases[i].Refunded)
	}
	for i := range a.LateAccruals {
		x := &a.LateAccruals[i]
		g.one("accrued revolving fee", x.Revolving)
		g.one("accrued penalty", x.Penalty)
		g.one("accrual minimum remaining", x.MinRemaining)
		for _, v := range x.Owed {
			g.one("accrual owed", v)
		}
	}
	for i := range a.History {
		h := &a.History[i]
		for _, v := range [...]Money{h.Spend, h.InstallmentSpend, h.Billed, h.Paid, h.Balance, h.Limit, h.MinimumDue} {
			g.one("history amount", v)
		}
	}
	return g.gross, g.err
}

// maxPeriods is the most periods a plan may have (Config.Validate allows
// installment options up to it).
const maxPeriods = 60

// planFees is fee × periods, false when it does not fit int64.
func planFees(fee Money, periods int32) (Money, bool) {
	if periods < 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(absU64(int64(fee)), uint64(periods))
	if hi != 0 || lo > 1<<62 {
		return 0, false
	}
	if fee < 0 {
		return -Money(lo), true
	}
	return Money(lo), true
}

// outOfRange is the error of an account beyond the range.
func (r *run) outOfRange(format string, a ...any) error {
	return &AccountError{AccountID: r.a.ID, Err: ErrOutOfRange,
		Detail: fmt.Sprintf("close %s: ", r.day) + fmt.Sprintf(format, a...)}
}

// spend takes an event's amount, and the fees of the plan it opens, from
// the day's room; an error when the room is exhausted.
func (r *run) spend(what, id string, amount, fees Money) error {
	need := absU64(int64(amount))
	need2 := absU64(int64(fees))
	if need > r.room || need2 > r.room-need {
		return r.outOfRange("%s %s of %s (fees %s) would take the account's amounts beyond %s",
			what, id, amount, fees, MaxMoney)
	}
	r.room -= need + need2
	return nil
}

// checkRow checks a statement row's amounts against ±MaxMoney.
func (r *run) checkRow(row *StatementRow) error {
	for _, f := range [...]struct {
		name string
		v    Money
	}{
		{"previous_balance", row.PreviousBalance}, {"payments", row.Payments}, {"refunds", row.Refunds},
		{"purchases", row.Purchases}, {"installment_principal", row.InstallmentPrincipal},
		{"installment_fees", row.InstallmentFees}, {"revolving_fees", row.RevolvingFees},
		{"penalties", row.Penalties}, {"new_balance", row.NewBalance}, {"minimum_due", row.MinimumDue},
	} {
		if !f.v.InRange() {
			return &AccountError{AccountID: r.a.ID, Err: ErrOutOfRange, Detail: fmt.Sprintf(
				"statement %s: %s %s beyond ±%s", row.StatementDate, f.name, f.v, MaxMoney)}
		}
	}
	return nil
}
