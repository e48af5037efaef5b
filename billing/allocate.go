package billing

// Allocate pays amount against owed in the given component order (the
// waterfall) and returns what each component received and what is left over.
// It never pays a component more than it owes: owed falls by paid, and
// paid.Sum() + left == amount. A non-positive amount pays nothing.
func Allocate(owed *Components, amount Money, order []Component) (paid Components, left Money) {
	left = amount
	for _, k := range order {
		if left <= 0 {
			break
		}
		p := min(owed[k], left)
		if p <= 0 {
			continue
		}
		owed[k] -= p
		paid[k] = p
		left -= p
	}
	return paid, left
}

// receive books money received by the account (a successful repayment or a
// refund credited): it pays the issued statements oldest first, each in
// waterfall order, and what exceeds everything they owe becomes the credit
// balance, used by the next statement. Every issued statement's
// MinRemaining falls by the whole amount (floored at 0): minimums are
// cumulative, so catching up clears the oldest minimum first.
func (a *Account) receive(amount Money, order []Component) {
	left := amount
	for i := range a.Statements {
		s := &a.Statements[i]
		if left > 0 {
			_, left = Allocate(&s.Owed, left, order)
		}
		s.MinRemaining = max(0, s.MinRemaining-amount)
	}
	a.Credit += left
}

// dropSettled forgets statements that owe nothing and whose minimum is paid.
func (a *Account) dropSettled() {
	keep := a.Statements[:0]
	for _, s := range a.Statements {
		if s.MinRemaining > 0 || s.Owed.Sum() != 0 {
			keep = append(keep, s)
		}
	}
	clear(a.Statements[len(keep):])
	a.Statements = keep
}
