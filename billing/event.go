package billing

// Source locates an input row, so that a rejected event can name its file and
// row. File indexes the run's list of input files.
type Source struct {
	File int32
	Row  int64
}

// TxnKind is a transaction's kind.
type TxnKind uint8

const (
	Purchase TxnKind = iota + 1
	Refund
)

// Transaction is a purchase or a refund, as the transactions dataset has it.
// PostedAt is microseconds since the Unix epoch, UTC.
type Transaction struct {
	TxnID            string
	AccountID        int64
	PostedAt         int64
	Kind             TxnKind
	Amount           Money
	Installments     int32 // purchases: 1, 3, 6, 12 or 24; refunds: 0
	FeeRate          Rate  // monthly, on the original principal; refunds: 0
	MerchantCategory string
	RefTxnID         string // refunds: the purchase refunded
	Src              Source
}

// RepaymentStatus is the outcome of a repayment.
type RepaymentStatus uint8

const (
	Succeeded RepaymentStatus = iota + 1
	Failed
)

// Repayment is a payment attempt. A failed one moves no money.
type Repayment struct {
	RepaymentID   string
	AccountID     int64
	PaidAt        int64
	Amount        Money
	Channel       string // auto_debit, app, bank_transfer
	Status        RepaymentStatus
	FailureReason string // failed only
	PayoffTxnID   string // early payoff of that installment purchase
	Src           Source
}

// RequestKind is the kind of a customer request.
type RequestKind uint8

const (
	CloseAccount RequestKind = iota + 1
	DeferPlan
	ChangeBillingDay
)

// Request is a customer request that moves no money.
type Request struct {
	RequestID   string
	AccountID   int64
	RequestedAt int64
	Kind        RequestKind
	TxnID       string // defer_plan
	Periods     int32  // defer_plan
	BillingDay  int32  // change_billing_day
	Src         Source
}

// Events are one account's events of one business day, each slice sorted by
// timestamp then id. The pipeline has already checked what a row alone can
// tell (nulls, ranges, enums, duplicates); what needs the account's state
// (unknown refund reference, closed account) is checked by Close.
type Events struct {
	Transactions []Transaction
	Repayments   []Repayment
	Requests     []Request
}

// Empty reports whether there are no events.
func (e *Events) Empty() bool {
	return len(e.Transactions) == 0 && len(e.Repayments) == 0 && len(e.Requests) == 0
}
