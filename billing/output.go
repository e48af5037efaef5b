package billing

import "fmt"

// The row types below are the contract's output tables. Their parquet tags
// are plain struct tags (billing imports no storage): the pipeline writes the
// rows as they are. Money is DECIMAL(18,2) on INT64, rates DECIMAL(9,6),
// dates DATE. A column that can be "none" is nullable (a pointer field,
// nil for NULL), never a sentinel (1970-01-01, an empty string, period 0);
// each type says when. Codes, kinds, channels and statuses carry few
// distinct values and are dictionary-encoded (`dict`).

// StatementRow is one statement issued by the run (dated as_of+1).
// previous_balance + purchases + installment_principal + installment_fees +
// revolving_fees + penalties − payments − refunds = new_balance.
type StatementRow struct {
	AccountID            int64  `parquet:"account_id"`
	Currency             string `parquet:"currency,dict"` // of every amount (billing.currency)
	StatementDate        Date   `parquet:"statement_date,date"`
	DueDate              Date   `parquet:"due_date,date"`
	PreviousBalance      Money  `parquet:"previous_balance,decimal(2:18)"`
	Payments             Money  `parquet:"payments,decimal(2:18)"`
	Refunds              Money  `parquet:"refunds,decimal(2:18)"`
	Purchases            Money  `parquet:"purchases,decimal(2:18)"`
	InstallmentPrincipal Money  `parquet:"installment_principal,decimal(2:18)"`
	InstallmentFees      Money  `parquet:"installment_fees,decimal(2:18)"`
	RevolvingFees        Money  `parquet:"revolving_fees,decimal(2:18)"`
	Penalties            Money  `parquet:"penalties,decimal(2:18)"`
	NewBalance           Money  `parquet:"new_balance,decimal(2:18)"`
	MinimumDue           Money  `parquet:"minimum_due,decimal(2:18)"`
}

// LineRow is one line of a statement. ref is the txn_id, repayment_id or
// the plan's txn_id, NULL for a line of no event or plan (the cycle's
// revolving fee, its penalty); period is the plan's period, NULL unless
// the line is a plan's.
type LineRow struct {
	AccountID     int64   `parquet:"account_id"`
	StatementDate Date    `parquet:"statement_date,date"`
	Seq           int32   `parquet:"line_no"`
	Kind          string  `parquet:"kind,dict"`
	EventDate     Date    `parquet:"event_date,date"`
	Ref           *string `parquet:"ref,optional"`
	Period        *int32  `parquet:"period,optional"`
	Amount        Money   `parquet:"amount,decimal(2:18)"`
}

// PlanRow is an installment plan opened by the run, with its disclosure.
type PlanRow struct {
	TxnID               string `parquet:"txn_id"`
	AccountID           int64  `parquet:"account_id"`
	OpenedOn            Date   `parquet:"opened_on,date"`
	Periods             int32  `parquet:"periods"`
	Principal           Money  `parquet:"principal,decimal(2:18)"`
	FeeRate             Rate   `parquet:"fee_rate,decimal(6:9)"`
	PeriodPrincipal     Money  `parquet:"period_principal,decimal(2:18)"`
	PeriodFee           Money  `parquet:"period_fee,decimal(2:18)"`
	LastPeriodPrincipal Money  `parquet:"last_period_principal,decimal(2:18)"`
	TotalFees           Money  `parquet:"total_fees,decimal(2:18)"`
	APRNominal          *Rate  `parquet:"apr_nominal,decimal(6:9),optional"`   // null when DECIMAL(9,6) cannot hold it (then OverCap)
	APREffective        *Rate  `parquet:"apr_effective,decimal(6:9),optional"` // likewise
	OverCap             bool   `parquet:"over_cap"`
}

// DelinquencyRow is an account past due on the run's date.
type DelinquencyRow struct {
	AccountID     int64  `parquet:"account_id"`
	AsOf          Date   `parquet:"as_of,date"`
	DPD           int32  `parquet:"dpd"`
	Bucket        string `parquet:"bucket,dict"` // M1 … M7+
	PastDueAmount Money  `parquet:"past_due_amount,decimal(2:18)"`
	PenaltyToday  Money  `parquet:"penalty_today,decimal(2:18)"`
	PenaltyTotal  Money  `parquet:"penalty_total,decimal(2:18)"` // billed unpaid + accrued unbilled
}

// NoticeKind names a notice.
type NoticeKind string

const (
	NoticeStatement       NoticeKind = "statement_issued"
	NoticeDueReminder     NoticeKind = "due_reminder"
	NoticePaymentMissed   NoticeKind = "payment_missed"
	NoticeOverdue         NoticeKind = "overdue"
	NoticeDeductFailed    NoticeKind = "deduction_failed"
	NoticeLimitChanged    NoticeKind = "limit_changed"
	NoticeActivated       NoticeKind = "account_activated"
	NoticeDeclined        NoticeKind = "application_declined"
	NoticeFrozen          NoticeKind = "account_frozen"
	NoticeUnfrozen        NoticeKind = "account_unfrozen"
	NoticeClosed          NoticeKind = "account_closed"
	NoticeChargedOff      NoticeKind = "charged_off"
	NoticeRequestDeclined NoticeKind = "request_declined"
	NoticeReopened        NoticeKind = "account_reopened"
	NoticeIncidentGrace   NoticeKind = "incident_grace"
)

// HasAmount reports whether a notice of kind names an amount (its amount
// column is NULL otherwise).
func (k NoticeKind) HasAmount() bool {
	switch k {
	case NoticeFrozen, NoticeUnfrozen, NoticeDeclined, NoticeRequestDeclined:
		return false
	}
	return true
}

// Notice is a message for the downstream messaging system. NoticeID is a
// pure function of (account, kind, reference), so a re-run or a backfill
// never creates a second notice. amount is NULL for a notice that names
// none (account frozen or unfrozen, application or request declined);
// due_date is NULL for a notice about no statement (frozen, closed, a
// limit change…).
type Notice struct {
	NoticeID  string `parquet:"notice_id"`
	AccountID int64  `parquet:"account_id"`
	AsOf      Date   `parquet:"as_of,date"`
	Kind      string `parquet:"kind,dict"`
	Channel   string `parquet:"channel,dict"`
	Reference string `parquet:"reference"`
	Amount    *Money `parquet:"amount,decimal(2:18),optional"`
	DueDate   *Date  `parquet:"due_date,date,optional"`
}

// BureauRow is the monthly credit-bureau status on a statement date.
type BureauRow struct {
	AccountID int64  `parquet:"account_id"`
	Period    Date   `parquet:"period,date"` // the statement date
	Status    string `parquet:"status,dict"` // N, 1..7, C, *
}

// Reject reasons found by the domain step (the pipeline adds its own).
const (
	RejectUnknownPurchase = "refund_of_unknown_purchase"
	RejectRefundTooLarge  = "refund_exceeds_purchase"
	RejectAccountClosed   = "account_closed"
	RejectNotActive       = "account_not_active"
	RejectUnknownPlan     = "payoff_of_unknown_plan"
	// RejectInstallments is a purchase whose number of periods the policy
	// does not offer (Config.InstallmentOptions).
	RejectInstallments = "installments_not_offered"
)

// EventReject is an event the domain step refused, with the source row.
type EventReject struct {
	Dataset string // transactions, repayments, requests, accounts
	Key     string // the event's id (the account_id for accounts)
	Reason  string
	Detail  string // the column and value at fault, when it helps
	Src     Source
}

// Flows are the money movements of one account's day, or of many, by
// kind; Close checks that they explain the change of the account's Exposure
// exactly. Every field lies within ±MaxMoney (Add keeps it so), so Net
// never wraps.
type Flows struct {
	Purchases   Money // all purchases, paid in full and in installments
	Fees        Money // installment fees billed, accelerated fees
	Revolving   Money // revolving fees accrued
	Penalties   Money // penalties accrued
	Payments    Money // successful repayments
	Refunds     Money // refund effect: credited plus plan principal removed
	FeeReversal Money // fees credited back by a full refund or waived
	ChargedOff  Money // written off
	// Recoveries is money received on a charged-off account (payments and
	// refunds). The exposure was written off already, so it is outside Net.
	Recoveries Money
}

// Net is the change of exposure the flows explain.
func (f *Flows) Net() Money {
	return f.Purchases + f.Fees + f.Revolving + f.Penalties - f.Payments - f.Refunds - f.FeeReversal - f.ChargedOff
}

// Add adds g to f, field by field. When a sum would leave ±MaxMoney it
// changes nothing and returns an error wrapping ErrOutOfRange that names
// the flow: a day whose flows pass 10^16 yuan is refused, never wrapped.
func (f *Flows) Add(g Flows) error {
	if f.small() && g.small() { // no sum can leave ±MaxMoney
		f.Purchases += g.Purchases
		f.Fees += g.Fees
		f.Revolving += g.Revolving
		f.Penalties += g.Penalties
		f.Payments += g.Payments
		f.Refunds += g.Refunds
		f.FeeReversal += g.FeeReversal
		f.ChargedOff += g.ChargedOff
		f.Recoveries += g.Recoveries
		return nil
	}
	var sum Flows
	var bad string
	add := func(name string, a, b Money) Money {
		v, err := a.AddChecked(b)
		if err != nil && bad == "" {
			bad = name + " " + a.String() + " + " + b.String()
		}
		return v
	}
	sum.Purchases = add("purchases", f.Purchases, g.Purchases)
	sum.Fees = add("fees", f.Fees, g.Fees)
	sum.Revolving = add("revolving_fees", f.Revolving, g.Revolving)
	sum.Penalties = add("penalties", f.Penalties, g.Penalties)
	sum.Payments = add("payments", f.Payments, g.Payments)
	sum.Refunds = add("refunds", f.Refunds, g.Refunds)
	sum.FeeReversal = add("fee_reversals", f.FeeReversal, g.FeeReversal)
	sum.ChargedOff = add("charged_off", f.ChargedOff, g.ChargedOff)
	sum.Recoveries = add("recoveries", f.Recoveries, g.Recoveries)
	if bad != "" {
		return fmt.Errorf("flows: %s beyond ±%s: %w", bad, MaxMoney, ErrOutOfRange)
	}
	*f = sum
	return nil
}

// small reports whether every flow is within ±MaxMoney/2, so that the sum
// of two such flows is within ±MaxMoney.
func (f *Flows) small() bool {
	const half = MaxMoney / 2
	// -half ≤ m ≤ half; an m near int64's limits wraps m+half to a
	// negative number, which is outside too.
	in := func(m Money) bool { return uint64(m+half) <= uint64(2*half) }
	return in(f.Purchases) && in(f.Fees) && in(f.Revolving) && in(f.Penalties) && in(f.Payments) &&
		in(f.Refunds) && in(f.FeeReversal) && in(f.ChargedOff) && in(f.Recoveries)
}

// Output collects the rows one or more accounts' days produce. Close and
// ApplyLimit append to it; the pipeline drains it in account order.
type Output struct {
	Statements  []StatementRow
	Lines       []LineRow
	Plans       []PlanRow
	Delinquency []DelinquencyRow
	Notices     []Notice
	Bureau      []BureauRow
	Rejects     []EventReject
	// Reopens are the reopen_account requests of closed accounts, for the
	// policy to decide the same night (policy.Night).
	Reopens []ReopenRequest
	Flows   Flows
}

// ReopenRequest is a closed account's reopen_account request.
type ReopenRequest struct {
	AccountID int64
	RequestID string
}

// Reset empties o, keeping its capacity.
func (o *Output) Reset() {
	*o = Output{
		Statements: o.Statements[:0], Lines: o.Lines[:0], Plans: o.Plans[:0],
		Delinquency: o.Delinquency[:0], Notices: o.Notices[:0], Bureau: o.Bureau[:0],
		Rejects: o.Rejects[:0], Reopens: o.Reopens[:0],
	}
}

// LimitAction is a limit decision's action.
type LimitAction string

const (
	ActionActivate LimitAction = "activate"
	ActionDecline  LimitAction = "decline"
	ActionIncrease LimitAction = "increase"
	ActionDecrease LimitAction = "decrease"
	ActionKeep     LimitAction = "keep"
	ActionFreeze   LimitAction = "freeze"
	// ActionReopen reopens a closed account with its grade's initial
	// limit; ActionReopenDeclined leaves it closed, its reasons saying why.
	ActionReopen         LimitAction = "reopen"
	ActionReopenDeclined LimitAction = "reopen_declined"
)
