package source

import (
	"context"

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
	ts:        rpPaidAt,
	decode:    decodeRepayment,
	id:        func(p *billing.Repayment) string { return p.RepaymentID },
	idText:    func(p *billing.Repayment) string { return p.RepaymentID },
	src:       func(p *billing.Repayment) *billing.Source { return &p.Src },
	byAccount: true,
	sharded:   true,
	account:   rpAccount,
	order:     func(v *billing.Repayment) (int64, int64) { return v.AccountID, v.PaidAt },
}

// ReadRepayments reads the repayments of business day day (paid_at's local
// date in rules.Zone) from files, sorted by account, paid_at and
// repayment_id, with the rows that fail the contract's row rules as
// rejects. A failed repayment's failure_reason is kept; a succeeded one's
// is ignored.
func ReadRepayments(ctx context.Context, files []File, day billing.Date, rules Rules) ([]billing.Repayment, []Reject, error) {
	return readAll(ctx, &repayments, files, day, &rules)
}

// ReadRepaymentsTo reads as ReadRepayments does, handing the rejects to
// rejects as it finds them instead of returning them.
func ReadRepaymentsTo(ctx context.Context, files []File, day billing.Date, rules Rules, rejects RejectWriter) ([]billing.Repayment, error) {
	return read(ctx, &repayments, files, day, &rules, &rejectSink{w: rejects})
}

func decodeRepayment(r *rowCtx, i int, p *billing.Repayment) (reason, detail string) {
	c := r.cols
	id, reason, detail := required(&c[rpID], i, "repayment_id", MaxIDBytes)
	if reason != "" {
		return reason, detail
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
	channel, reason, detail := required(&c[rpChannel], i, "channel", MaxIDBytes)
	if reason != "" {
		return reason, detail
	}
	status, reason, detail := required(&c[rpStatus], i, "status", MaxIDBytes)
	if reason != "" {
		return reason, detail
	}
	if amount <= 0 {
		return ReasonNonPositiveAmount, moneyDetail("amount", amount)
	}
	ch, ok := billing.ParseChannel(string(channel))
	if !ok {
		return ReasonInvalidChannel, quoted("channel", channel)
	}
	p.Channel = ch
	st, ok := billing.ParseRepaymentStatus(string(status))
	if !ok {
		return ReasonInvalidStatus, quoted("status", status)
	}
	p.Status = st
	if st == billing.Failed {
		why, ok, reason, detail := text(&c[rpFailure], i, "failure_reason", MaxIDBytes)
		switch {
		case reason != "":
			return reason, detail
		case !ok:
			return ReasonMissingFailureReason, "failure_reason"
		}
		fr, ok := billing.ParseFailureReason(string(why))
		if !ok {
			return ReasonInvalidFailureReason, quoted("failure_reason", why)
		}
		p.FailureReason = fr
	}
	ref, ok, reason, detail := text(&c[rpPayoff], i, "payoff_txn_id", MaxIDBytes)
	if reason != "" {
		return reason, detail
	}
	p.RepaymentID = string(id)
	p.AccountID = acct
	p.PaidAt = ts
	p.Amount = billing.Money(amount)
	if ok {
		p.PayoffTxnID = string(ref)
	}
	return "", ""
}
