package source

import (
	"context"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// Columns of the repayments dataset, in contract order.
const (
	rpID = iota
	rpAccount
	rpPaidAt
	rpAmount
	rpChannel
	rpStatus
	rpFailure
	rpPayoff
)

var repayments = dataset[billing.Repayment, string]{
	name: Repayments,
	cols: []column{
		{"repayment_id", kString}, {"account_id", kInt64}, {"paid_at", kTimestamp}, {"amount", kMoney},
		{"channel", kString}, {"status", kString}, {"failure_reason", kString}, {"payoff_txn_id", kString},
	},
	ts:     rpPaidAt,
	decode: decodeRepayment,
	id:     func(p *billing.Repayment) string { return p.RepaymentID },
	idText: func(p *billing.Repayment) string { return p.RepaymentID },
	src:    func(p *billing.Repayment) *billing.Source { return &p.Src },
	order:  func(v *billing.Repayment) (int64, int64) { return v.AccountID, v.PaidAt },
}

// ReadRepayments reads the repayments of business day day (paid_at's local
// date in loc) from files, sorted by account, paid_at and repayment_id, with
// the rows that fail the contract's row rules as rejects. A failed
// repayment's failure_reason is kept; a succeeded one's is ignored.
func ReadRepayments(ctx context.Context, files []File, day billing.Date, loc *time.Location) ([]billing.Repayment, []Reject, error) {
	return read(ctx, &repayments, files, day, loc)
}

func decodeRepayment(r *rowCtx, i int, p *billing.Repayment) (reason, detail string) {
	c := r.cols
	id, ok := c[rpID].bytes(i)
	if !ok {
		return ReasonNullRequired, "repayment_id"
	}
	acct, reason, detail := need(&c[rpAccount], i, "account_id")
	if reason != "" {
		return reason, detail
	}
	ts, _ := c[rpPaidAt].num(i)
	amount, reason, detail := need(&c[rpAmount], i, "amount")
	if reason != "" {
		return reason, detail
	}
	channel, ok := c[rpChannel].bytes(i)
	if !ok {
		return ReasonNullRequired, "channel"
	}
	status, ok := c[rpStatus].bytes(i)
	if !ok {
		return ReasonNullRequired, "status"
	}
	if amount <= 0 {
		return ReasonNonPositiveAmount, moneyDetail("amount", amount)
	}
	switch string(channel) {
	case "auto_debit":
		p.Channel = "auto_debit"
	case "app":
		p.Channel = "app"
	case "bank_transfer":
		p.Channel = "bank_transfer"
	default:
		return ReasonInvalidChannel, quoted("channel", channel)
	}
	switch string(status) {
	case "succeeded":
		p.Status = billing.Succeeded
	case "failed":
		p.Status = billing.Failed
		why, ok := c[rpFailure].bytes(i)
		if !ok {
			return ReasonMissingFailureReason, "failure_reason"
		}
		switch string(why) {
		case "insufficient_funds":
			p.FailureReason = "insufficient_funds"
		case "card_invalid":
			p.FailureReason = "card_invalid"
		case "card_unbound":
			p.FailureReason = "card_unbound"
		case "other":
			p.FailureReason = "other"
		default:
			return ReasonInvalidFailureReason, quoted("failure_reason", why)
		}
	default:
		return ReasonInvalidStatus, quoted("status", status)
	}
	p.RepaymentID = string(id)
	p.AccountID = acct
	p.PaidAt = ts
	p.Amount = billing.Money(amount)
	if ref, ok := c[rpPayoff].bytes(i); ok {
		p.PayoffTxnID = string(ref)
	}
	return "", ""
}
