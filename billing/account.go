package billing

// Status is an account's lifecycle status.
type Status string

const (
	Pending  Status = "pending"
	Active   Status = "active"
	Frozen   Status = "frozen"
	Closed   Status = "closed"
	Declined Status = "declined"
)

// MasterStatuses are the statuses an account may have in the accounts
// master and feed; declined is the run's own outcome of an application.
var MasterStatuses = []Status{Pending, Active, Frozen, Closed}

// ParseMasterStatus returns the master status spelled s.
func ParseMasterStatus(s string) (Status, bool) {
	for _, st := range MasterStatuses {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}

// Why an account was closed (Account.ClosedBy). Only an account closed by
// the customer or the platform may be reopened.
const (
	ClosedByCustomer  = "customer"   // a close_account request
	ClosedByPlatform  = "platform"   // the accounts feed's status closed
	ClosedByChargeOff = "charge_off" // written off at charge_off_dpd
	ClosedByFraud     = "fraud"      // closed while flagged for fraud
)

// Component is a part of what a statement asks for, in allocation order
// (the default waterfall: penalties first, purchases paid in full last).
type Component uint8

const (
	Penalty Component = iota
	RevolvingFee
	InstallmentFee
	InstallmentPrincipal
	PurchasePrincipal
	NumComponents
)

var componentNames = [NumComponents]string{"penalty", "revolving_fee", "installment_fee", "installment_principal", "purchase"}

func (c Component) String() string { return componentNames[c] }

// Components holds one amount per Component.
type Components [NumComponents]Money

// Sum returns the total of all components.
func (c *Components) Sum() Money {
	var s Money
	for _, v := range c {
		s += v
	}
	return s
}

// Account is the state of one account as of the end of a business day: what
// the run for D reads (as of D−1) and writes (as of D). It holds everything
// the daily step needs, so a night costs O(accounts + that day's events).
type Account struct {
	ID         int64
	CustomerID string
	OpenedOn   Date
	Status     Status
	// ActivatedOn is the date the account became active (0 while pending).
	ActivatedOn Date
	Limit       Money // 0 while pending
	BillingDay  int32 // 1..28
	// ExternalScore is the bureau score; HasExternalScore is false when missing.
	ExternalScore    int32
	HasExternalScore bool
	Fraud            bool

	// Credit is money paid beyond everything owed, used by later statements.
	Credit Money
	// LastStatement is the date of the last statement issued (0 if none) and
	// LastBalance its new balance: the next statement's previous balance.
	LastStatement Date
	LastBalance   Money
	// Statements are issued statements with something still owed or a
	// minimum still unpaid, oldest first.
	Statements []Statement
	// Cycle is the activity since the last statement, not yet billed.
	Cycle Cycle
	// Pending are the lines the next statement will print, in event order.
	Pending []Line
	// Plans are the open installment plans, oldest first.
	Plans []Plan
	// Purchases are recent purchases, kept for a refund window so that a
	// refund can be matched to its purchase.
	Purchases []PurchaseRef
	// History is the per-cycle record that scoring reads, oldest first,
	// at most HistoryCycles long.
	History []CycleStats
	// Seen are the events applied whose re-delivery the late window could
	// still bring, in the order applied (late.go).
	Seen []SeenEvent
	// LateAccruals are the past-due statements of the days of the late window
	// on which fees accrued, oldest day first (late.go).
	LateAccruals []LateAccrual

	// Collections and lifecycle.
	FrozenOn       Date // when frozen (0 if not)
	LastPastDue    Date // last day the account was past due (0 never)
	LimitChangedOn Date // last limit change (activation counts)
	ClosedOn       Date // when closed (0 if open)
	// ClosedBy says why a closed account was closed (one of the ClosedBy
	// constants; "" when unknown, as for a master's closed account). A
	// pending closure carries who asked for it.
	ClosedBy       string
	ChargedOff     Money  // balance written off at charge-off
	Recovered      Money  // received after charge-off (Flows.Recoveries)
	CloseRequested bool   // a close_account request waits for the balance to clear
	DeferralsUsed  int32  // cycles of deferral granted over the account's life
	Note           string // why a request waits or was declined, for people
	// FailedDeductions counts failed repayments over the account's life,
	// less those a platform incident excused.
	FailedDeductions int32
	// Failures are the failed repayments and Accruals the days of revolving
	// fee and penalty of the last IncidentMemoryDays, oldest first: what a
	// platform incident recorded late needs to correct the account.
	Failures []FailedDeduction
	Accruals []Accrual
	// Grade is the grade of the last scoring ("" before the first), used for
	// the reminder schedule.
	Grade string
	// Score of the last scoring (0 before the first).
	Score int32
	// FeaturesOn is the night whose cycle_features row holds the window
	// features of History as it is (0 when no row is known to: before the
	// first scoring, or after History changed on a night the account was
	// not scored). The pipeline keeps it; billing only reads it.
	FeaturesOn Date

	// HistoryChanged reports that the last Close changed History (a cycle
	// closed, or an incident corrected a closed cycle): the window features
	// may have moved. It is not state: Close clears it first.
	HistoryChanged bool
}

// Statement is an issued statement that is not settled yet.
type Statement struct {
	Date       Date
	DueDate    Date
	NewBalance Money
	MinimumDue Money
	// MinRemaining is the part of the minimum not yet paid: every payment or
	// refund credited after the statement was issued reduces it.
	MinRemaining Money
	// Owed is what is still owed of the statement's own charges, by component.
	Owed Components
}

// Cycle is the unbilled activity of the current cycle.
type Cycle struct {
	Purchases        Money // purchases paid in full (installments 1)
	InstallmentSpend Money // principal of installment purchases opened
	Payments         Money // successful repayments
	Refunds          Money // refunds credited
	RevolvingFees    Money // revolving fees accrued, billed next statement
	Penalties        Money // penalties accrued, billed next statement
	// Accelerated is plan principal (and fees, if the policy charges them)
	// made due at once by early payoff, billed on the next statement.
	AcceleratedPrincipal Money
	AcceleratedFees      Money
	FailedDeductions     int32
	MaxDPD               int32
}

// LineKind is the kind of a statement line.
type LineKind string

const (
	LinePurchase             LineKind = "purchase"
	LineRefund               LineKind = "refund"
	LinePayment              LineKind = "payment"
	LineInstallmentPrincipal LineKind = "installment_principal"
	LineInstallmentFee       LineKind = "installment_fee"
	LineRevolvingFee         LineKind = "revolving_fee"
	LinePenalty              LineKind = "penalty"
	LinePayoff               LineKind = "payoff"
	LineWaiver               LineKind = "waiver"
)

// Line is one line of a statement. Ref is the txn_id, repayment_id or the
// plan's txn_id; Period is the plan period (0 otherwise). Amount is signed:
// charges positive, payments, refunds and waivers negative, so a
// statement's lines sum to new balance − previous balance.
type Line struct {
	Kind   LineKind
	Date   Date
	Ref    string
	Period int32
	Amount Money
}

// Plan is an open installment plan.
type Plan struct {
	TxnID               string
	OpenedOn            Date
	Principal           Money
	Periods             int32
	FeeRate             Rate
	PeriodPrincipal     Money
	PeriodFee           Money
	LastPeriodPrincipal Money
	Billed              int32 // periods billed so far
	Skip                int32 // statements to skip before the next period (deferral)
	Remaining           Money // principal not yet billed
	BilledPrincipal     Money
	BilledFees          Money
}

// PurchaseRef remembers a purchase for refund matching.
type PurchaseRef struct {
	TxnID        string
	Date         Date
	Amount       Money
	Refunded     Money
	Installments int32
}

// CycleStats is one closed cycle in the account's history, for scoring.
type CycleStats struct {
	StatementDate    Date
	Spend            Money // all purchases of the cycle
	InstallmentSpend Money // of which in installments
	Billed           Money // the statement's new charges
	Paid             Money // payments received in the cycle
	Balance          Money // the statement's new balance
	Limit            Money
	MinimumDue       Money
	MaxDPD           int32
	FailedDeductions int32
}

// Owed returns everything the account owes now, billed or not, net of its
// credit balance: the amount a full payoff would take, less unbilled plan
// principal.
func (a *Account) Owed() Money {
	var s Money
	for i := range a.Statements {
		s += a.Statements[i].Owed.Sum()
	}
	c := &a.Cycle
	return s + c.Purchases + c.RevolvingFees + c.Penalties + c.AcceleratedPrincipal + c.AcceleratedFees - a.Credit
}

// Exposure is everything the customer owes including unbilled plan
// principal: the balance that must reconcile with the day's events.
func (a *Account) Exposure() Money {
	e := a.Owed()
	for i := range a.Plans {
		e += a.Plans[i].Remaining
	}
	return e
}
