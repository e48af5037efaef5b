package billing

// Overdue is an account's collections position at the close of a day.
type Overdue struct {
	// DPD is the day minus the due date of the oldest statement whose
	// minimum is unpaid and whose due date has passed; 0 when current.
	DPD int32
	// Oldest and OldestDue are that statement's date and due date (0 when
	// current).
	Oldest, OldestDue Date
	// PastDue is the unpaid minimum of the statements past their due date,
	// without penalties: min(MinRemaining of the latest past-due statement −
	// the penalties those statements still owe, what they owe besides
	// penalties). It is the penalty base.
	PastDue Money
	// Principal is the principal (installment principal and purchases)
	// still owed on statements past their due date: the revolving fee base.
	Principal Money
	// Penalties is what the past-due statements still owe in penalties.
	Penalties Money
}

// Overdue returns the account's position on day, after that day's
// payments. Statements must be oldest first, as Close keeps them.
func (a *Account) Overdue(day Date) Overdue {
	var o Overdue
	var latestMin, other Money
	for i := range a.Statements {
		s := &a.Statements[i]
		if s.DueDate >= day {
			continue
		}
		if o.DPD == 0 && s.MinRemaining > 0 {
			o.DPD = int32(day - s.DueDate)
			o.Oldest, o.OldestDue = s.Date, s.DueDate
		}
		latestMin = s.MinRemaining
		o.Penalties += s.Owed[Penalty]
		other += s.Owed.Sum() - s.Owed[Penalty]
		o.Principal += s.Owed[InstallmentPrincipal] + s.Owed[PurchasePrincipal]
	}
	if o.DPD > 0 {
		o.PastDue = max(0, min(latestMin-o.Penalties, other))
	}
	return o
}

// PastDueDays is Overdue(day).DPD alone: day minus the due date of the
// first statement (oldest first) past its due date with its minimum unpaid.
func (a *Account) PastDueDays(day Date) int32 {
	for i := range a.Statements {
		if s := &a.Statements[i]; s.DueDate < day && s.MinRemaining > 0 {
			return int32(day - s.DueDate)
		}
	}
	return 0
}

// Bucket names the delinquency bucket of dpd days past due: "" when current,
// M1 for 1–30, M2 for 31–60 … M6 for 151–180, M7+ beyond.
func Bucket(dpd int32) string {
	switch n := bucketNumber(dpd); n {
	case 0:
		return ""
	case 7:
		return "M7+"
	default:
		return bucketNames[n]
	}
}

var bucketNames = [...]string{"", "M1", "M2", "M3", "M4", "M5", "M6"}

// bucketNumber is 0 when current, 1..7 for M1..M7+.
func bucketNumber(dpd int32) int {
	if dpd <= 0 {
		return 0
	}
	return int(min((dpd+29)/30, 7))
}

// accrue computes the day's position and accrues the revolving fee and the
// penalty (step 2 of Close).
func (r *run) accrue() {
	a, cfg := r.a, r.cfg
	r.ov = a.Overdue(r.day)
	var fee, penalty Money
	defer func() { r.logAccrual(penalty, fee) }()
	if r.ov.Principal > 0 {
		fee = r.ov.Principal.MulRate(cfg.RevolvingDailyRate)
		a.Cycle.RevolvingFees += fee
		r.flows.Revolving += fee
	}
	if r.ov.DPD < 1 {
		r.recordAccrual(fee, 0)
		return
	}
	penalty = r.ov.PastDue.MulRate(cfg.PenaltyDailyRate)
	r.recordAccrual(fee, penalty)
	a.Cycle.Penalties += penalty
	r.flows.Penalties += penalty
	a.Cycle.MaxDPD = max(a.Cycle.MaxDPD, r.ov.DPD)
	a.LastPastDue = r.day
	r.out.Delinquency = append(r.out.Delinquency, DelinquencyRow{
		AccountID:     a.ID,
		AsOf:          r.day,
		DPD:           r.ov.DPD,
		Bucket:        Bucket(r.ov.DPD),
		PastDueAmount: r.ov.PastDue,
		PenaltyToday:  penalty,
		PenaltyTotal:  a.billedPenalties() + a.Cycle.Penalties,
	})
}

// billedPenalties is what every issued statement still owes in penalties.
func (a *Account) billedPenalties() Money {
	var s Money
	for i := range a.Statements {
		s += a.Statements[i].Owed[Penalty]
	}
	return s
}
