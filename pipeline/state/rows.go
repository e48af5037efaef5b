package state

import "github.com/creditrun/creditrun/billing"

// The state is a set of flat Parquet tables, each sorted by account_id (then
// by its own sequence), so that a run reads it in one pass and a person can
// open it in DuckDB. Every field of billing.Account lands in exactly one of
// them; the round-trip test fails if a field is forgotten.
//
// A column that can be "none" is nullable (a pointer field, nil for NULL),
// never a sentinel such as 1970-01-01, an empty string or period 0; each
// says below when it is NULL. Codes, statuses, grades and kinds are
// dictionary-encoded (`dict`): a few distinct values over every row.

// AccountRow is the scalar part of billing.Account. activated_on is NULL
// for an account never activated, last_statement_date before its first
// statement, frozen_on unless frozen, last_past_due if it never was,
// limit_changed_on if its limit never changed, closed_on unless closed,
// closed_by unless closed or closing (or when the reason is unknown);
// note is NULL when the account carries no note, grade and score before
// it is first scored.
type AccountRow struct {
	AccountID        int64         `parquet:"account_id"`
	CustomerID       string        `parquet:"customer_id"`
	OpenedOn         billing.Date  `parquet:"opened_on,date"`
	Status           string        `parquet:"status,dict"`
	ActivatedOn      *billing.Date `parquet:"activated_on,date,optional"`
	Limit            billing.Money `parquet:"credit_limit,decimal(2:18)"`
	BillingDay       int32         `parquet:"billing_day"`
	ExternalScore    *int32        `parquet:"external_score,optional"`
	Fraud            bool          `parquet:"fraud_flag"`
	Credit           billing.Money `parquet:"credit_balance,decimal(2:18)"`
	LastStatement    *billing.Date `parquet:"last_statement_date,date,optional"`
	LastBalance      billing.Money `parquet:"last_balance,decimal(2:18)"`
	FrozenOn         *billing.Date `parquet:"frozen_on,date,optional"`
	LastPastDue      *billing.Date `parquet:"last_past_due,date,optional"`
	LimitChangedOn   *billing.Date `parquet:"limit_changed_on,date,optional"`
	ClosedOn         *billing.Date `parquet:"closed_on,date,optional"`
	ClosedBy         *string       `parquet:"closed_by,optional,dict"`
	ChargedOff       billing.Money `parquet:"charged_off,decimal(2:18)"`
	Recovered        billing.Money `parquet:"recovered,decimal(2:18)"`
	CloseRequested   bool          `parquet:"close_requested"`
	DeferralsUsed    int32         `parquet:"deferrals_used"`
	Note             *string       `parquet:"note,optional,dict"`
	FailedDeductions int32         `parquet:"failed_deductions"`
	Grade            *string       `parquet:"grade,optional,dict"`
	Score            *int32        `parquet:"score,optional"`

	CyclePurchases        billing.Money `parquet:"cycle_purchases,decimal(2:18)"`
	CycleInstallmentSpend billing.Money `parquet:"cycle_installment_spend,decimal(2:18)"`
	CyclePayments         billing.Money `parquet:"cycle_payments,decimal(2:18)"`
	CycleRefunds          billing.Money `parquet:"cycle_refunds,decimal(2:18)"`
	CycleRevolvingFees    billing.Money `parquet:"cycle_revolving_fees,decimal(2:18)"`
	CyclePenalties        billing.Money `parquet:"cycle_penalties,decimal(2:18)"`
	CycleAccelPrincipal   billing.Money `parquet:"cycle_accelerated_principal,decimal(2:18)"`
	CycleAccelFees        billing.Money `parquet:"cycle_accelerated_fees,decimal(2:18)"`
	CycleFailed           int32         `parquet:"cycle_failed_deductions"`
	CycleMaxDPD           int32         `parquet:"cycle_max_dpd"`

	// FeaturesOn is the night of the cycle_features row that holds the
	// account's window features (NULL: none known, and the next night
	// that scores the account writes one). A snapshot written before the
	// column has none: read as NULL (see addedLater).
	FeaturesOn *billing.Date `parquet:"features_on,date,optional"`
}

// StatementRow is an open statement.
type StatementRow struct {
	AccountID                int64         `parquet:"account_id"`
	StatementDate            billing.Date  `parquet:"statement_date,date"`
	DueDate                  billing.Date  `parquet:"due_date,date"`
	NewBalance               billing.Money `parquet:"new_balance,decimal(2:18)"`
	MinimumDue               billing.Money `parquet:"minimum_due,decimal(2:18)"`
	MinRemaining             billing.Money `parquet:"minimum_remaining,decimal(2:18)"`
	OwedPenalty              billing.Money `parquet:"owed_penalty,decimal(2:18)"`
	OwedRevolvingFee         billing.Money `parquet:"owed_revolving_fee,decimal(2:18)"`
	OwedInstallmentFee       billing.Money `parquet:"owed_installment_fee,decimal(2:18)"`
	OwedInstallmentPrincipal billing.Money `parquet:"owed_installment_principal,decimal(2:18)"`
	OwedPurchase             billing.Money `parquet:"owed_purchase,decimal(2:18)"`
}

// PlanRow is an open installment plan.
type PlanRow struct {
	AccountID           int64         `parquet:"account_id"`
	TxnID               string        `parquet:"txn_id"`
	OpenedOn            billing.Date  `parquet:"opened_on,date"`
	Principal           billing.Money `parquet:"principal,decimal(2:18)"`
	Periods             int32         `parquet:"periods"`
	FeeRate             billing.Rate  `parquet:"fee_rate,decimal(6:9)"`
	PeriodPrincipal     billing.Money `parquet:"period_principal,decimal(2:18)"`
	PeriodFee           billing.Money `parquet:"period_fee,decimal(2:18)"`
	LastPeriodPrincipal billing.Money `parquet:"last_period_principal,decimal(2:18)"`
	Billed              int32         `parquet:"periods_billed"`
	Skip                int32         `parquet:"periods_deferred"`
	Remaining           billing.Money `parquet:"remaining_principal,decimal(2:18)"`
	BilledPrincipal     billing.Money `parquet:"billed_principal,decimal(2:18)"`
	BilledFees          billing.Money `parquet:"billed_fees,decimal(2:18)"`
}

// PurchaseRow is a purchase remembered for refund matching.
type PurchaseRow struct {
	AccountID    int64         `parquet:"account_id"`
	TxnID        string        `parquet:"txn_id"`
	Date         billing.Date  `parquet:"purchase_date,date"`
	Amount       billing.Money `parquet:"amount,decimal(2:18)"`
	Refunded     billing.Money `parquet:"refunded,decimal(2:18)"`
	Installments int32         `parquet:"installments"`
}

// LineRow is a line waiting for the next statement. ref is NULL for a
// line of no event or plan (a fee or a penalty), period unless the line
// is a plan's.
type LineRow struct {
	AccountID int64         `parquet:"account_id"`
	Seq       int32         `parquet:"seq"`
	Kind      string        `parquet:"kind,dict"`
	Date      billing.Date  `parquet:"event_date,date"`
	Ref       *string       `parquet:"ref,optional"`
	Period    *int32        `parquet:"period,optional"`
	Amount    billing.Money `parquet:"amount,decimal(2:18)"`
}

// CycleRow is one closed cycle of an account's history.
type CycleRow struct {
	AccountID        int64         `parquet:"account_id"`
	StatementDate    billing.Date  `parquet:"statement_date,date"`
	Spend            billing.Money `parquet:"spend,decimal(2:18)"`
	InstallmentSpend billing.Money `parquet:"installment_spend,decimal(2:18)"`
	Billed           billing.Money `parquet:"billed,decimal(2:18)"`
	Paid             billing.Money `parquet:"paid,decimal(2:18)"`
	Balance          billing.Money `parquet:"balance,decimal(2:18)"`
	Limit            billing.Money `parquet:"credit_limit,decimal(2:18)"`
	MinimumDue       billing.Money `parquet:"minimum_due,decimal(2:18)"`
	MaxDPD           int32         `parquet:"max_dpd"`
	FailedDeductions int32         `parquet:"failed_deductions"`
}

// FailureRow is a failed repayment remembered for platform incidents
// (incidents.memory_days). excused_by is NULL until an incident excuses it.
type FailureRow struct {
	AccountID   int64        `parquet:"account_id"`
	RepaymentID string       `parquet:"repayment_id"`
	Channel     string       `parquet:"channel,dict"`
	PaidAt      int64        `parquet:"paid_at,timestamp(microsecond)"`
	Date        billing.Date `parquet:"failed_on,date"`
	Excused     *string      `parquet:"excused_by,optional,dict"`
}

// AccrualRow is one day's revolving fee and penalty of an account past a
// due date, remembered for platform incidents (incidents.memory_days).
// first_due is NULL when no statement was past its due date that day (or
// a grace cleared it), oldest_due when nothing was past due.
type AccrualRow struct {
	AccountID int64         `parquet:"account_id"`
	Date      billing.Date  `parquet:"accrual_date,date"`
	FirstDue  *billing.Date `parquet:"first_due,date,optional"`
	OldestDue *billing.Date `parquet:"oldest_due,date,optional"`
	DPD       int32         `parquet:"dpd"`
	Penalty   billing.Money `parquet:"penalty,decimal(2:18)"`
	Revolving billing.Money `parquet:"revolving_fee,decimal(2:18)"`
}

// SeenRow is the id of an event the account applied within the late window
// (billing.SeenEvent): a re-delivery of it is a rejected row. seq keeps the
// order applied.
type SeenRow struct {
	AccountID int64        `parquet:"account_id"`
	Seq       int32        `parquet:"seq"`
	Dataset   string       `parquet:"dataset,dict"`
	EventID   string       `parquet:"event_id"`
	ValueDate billing.Date `parquet:"value_date,date"`
}

// LateAccrualRow is a statement past due on a day of the late window on which
// fees accrued, as it stood then (billing.LateAccrual); revolving_fee and
// penalty are the day's, on each of its rows.
type LateAccrualRow struct {
	AccountID                int64         `parquet:"account_id"`
	Seq                      int32         `parquet:"seq"`
	Date                     billing.Date  `parquet:"accrual_date,date"`
	RevolvingFee             billing.Money `parquet:"revolving_fee,decimal(2:18)"`
	Penalty                  billing.Money `parquet:"penalty,decimal(2:18)"`
	DueDate                  billing.Date  `parquet:"due_date,date"`
	MinRemaining             billing.Money `parquet:"minimum_remaining,decimal(2:18)"`
	OwedPenalty              billing.Money `parquet:"owed_penalty,decimal(2:18)"`
	OwedRevolvingFee         billing.Money `parquet:"owed_revolving_fee,decimal(2:18)"`
	OwedInstallmentFee       billing.Money `parquet:"owed_installment_fee,decimal(2:18)"`
	OwedInstallmentPrincipal billing.Money `parquet:"owed_installment_principal,decimal(2:18)"`
	OwedPurchase             billing.Money `parquet:"owed_purchase,decimal(2:18)"`
}
