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

var txnKinds = [...]string{Purchase: "purchase", Refund: "refund"}

// String is the kind as the transactions dataset spells it.
func (k TxnKind) String() string { return enumName(txnKinds[:], k) }

// ParseTxnKind returns the kind spelled s ("purchase", "refund").
func ParseTxnKind(s string) (TxnKind, bool) { return enumParse[TxnKind](txnKinds[:], s) }

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

var repaymentStatuses = [...]string{Succeeded: "succeeded", Failed: "failed"}

// String is the status as the repayments dataset spells it.
func (s RepaymentStatus) String() string { return enumName(repaymentStatuses[:], s) }

// ParseRepaymentStatus returns the status spelled s ("succeeded", "failed").
func ParseRepaymentStatus(s string) (RepaymentStatus, bool) {
	return enumParse[RepaymentStatus](repaymentStatuses[:], s)
}

// Repayment channels.
const (
	ChannelAutoDebit    = "auto_debit"
	ChannelApp          = "app"
	ChannelBankTransfer = "bank_transfer"
)

// Channels are the repayment channels, as the repayments dataset spells them.
var Channels = []string{ChannelAutoDebit, ChannelApp, ChannelBankTransfer}

// ParseChannel returns the channel constant equal to s.
func ParseChannel(s string) (string, bool) { return oneOf(Channels, s) }

// Failure reasons of a failed repayment.
const (
	FailureInsufficientFunds = "insufficient_funds"
	FailureCardInvalid       = "card_invalid"
	FailureCardUnbound       = "card_unbound"
	FailureOther             = "other"
)

// FailureReasons are the failure reasons of a failed repayment.
var FailureReasons = []string{FailureInsufficientFunds, FailureCardInvalid, FailureCardUnbound, FailureOther}

// ParseFailureReason returns the failure-reason constant equal to s.
func ParseFailureReason(s string) (string, bool) { return oneOf(FailureReasons, s) }

// Repayment is a payment attempt. A failed one moves no money.
type Repayment struct {
	RepaymentID   string
	AccountID     int64
	PaidAt        int64
	Amount        Money
	Channel       string // one of Channels
	Status        RepaymentStatus
	FailureReason string // failed only: one of FailureReasons
	PayoffTxnID   string // early payoff of that installment purchase
	Src           Source
}

// RequestKind is the kind of a customer request.
type RequestKind uint8

const (
	CloseAccount RequestKind = iota + 1
	DeferPlan
	ChangeBillingDay
	// ReopenAccount asks to reopen a closed account (重新开通): billing
	// passes it on (Output.Reopens) and the policy decides it that night.
	ReopenAccount
)

var requestKinds = [...]string{CloseAccount: "close_account", DeferPlan: "defer_plan", ChangeBillingDay: "change_billing_day",
	ReopenAccount: "reopen_account"}

// String is the kind as the requests dataset spells it.
func (k RequestKind) String() string { return enumName(requestKinds[:], k) }

// ParseRequestKind returns the kind spelled s ("close_account", …).
func ParseRequestKind(s string) (RequestKind, bool) {
	return enumParse[RequestKind](requestKinds[:], s)
}

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
	// Profile is the accounts feed's row of the account tonight (nil:
	// none), applied before the other events.
	Profile *Profile
	// Incidents are the night's platform incidents (the same for every
	// account); Close applies those recorded on or before its day.
	Incidents []Incident
}

// Empty reports whether there are no events.
func (e *Events) Empty() bool {
	return len(e.Transactions) == 0 && len(e.Repayments) == 0 && len(e.Requests) == 0 && e.Profile == nil
}

// enumName is names[v], or "" outside the enum.
func enumName[T ~uint8](names []string, v T) string {
	if int(v) < len(names) {
		return names[v]
	}
	return ""
}

// enumParse returns the value whose name is s; names[0] is no value.
func enumParse[T ~uint8](names []string, s string) (T, bool) {
	for i := 1; i < len(names); i++ {
		if names[i] == s {
			return T(i), true
		}
	}
	return 0, false
}

// oneOf returns the element of names equal to s (the constant, so that the
// caller keeps no copy of its input).
func oneOf(names []string, s string) (string, bool) {
	for _, n := range names {
		if n == s {
			return n, true
		}
	}
	return "", false
}
