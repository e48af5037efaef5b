package source

import (
	"context"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// Columns of the requests dataset, in contract order.
const (
	rqID = iota
	rqAccount
	rqRequestedAt
	rqKind
	rqTxn
	rqPeriods
	rqBillingDay
)

var requests = dataset[billing.Request, string]{
	name: Requests,
	cols: []column{
		{"request_id", kString}, {"account_id", kInt64}, {"requested_at", kTimestamp}, {"kind", kString},
		{"txn_id", kString}, {"periods", kInt32}, {"billing_day", kInt32},
	},
	ts:     rqRequestedAt,
	decode: decodeRequest,
	id:     func(q *billing.Request) string { return q.RequestID },
	idText: func(q *billing.Request) string { return q.RequestID },
	src:    func(q *billing.Request) *billing.Source { return &q.Src },
	order:  func(v *billing.Request) (int64, int64) { return v.AccountID, v.RequestedAt },
}

// ReadRequests reads the customer requests of business day day
// (requested_at's local date in loc), sorted by account, requested_at and
// request_id, with the rows that fail the contract's row rules as rejects.
// The dataset is optional: no files read nothing. Columns that a request's
// kind does not use are ignored. Whether the rules grant a request is for
// the caller to decide.
func ReadRequests(ctx context.Context, files []File, day billing.Date, loc *time.Location) ([]billing.Request, []Reject, error) {
	return read(ctx, &requests, files, day, loc)
}

func decodeRequest(r *rowCtx, i int, q *billing.Request) (reason, detail string) {
	c := r.cols
	id, ok := c[rqID].bytes(i)
	if !ok {
		return ReasonNullRequired, "request_id"
	}
	acct, reason, detail := need(&c[rqAccount], i, "account_id")
	if reason != "" {
		return reason, detail
	}
	ts, _ := c[rqRequestedAt].num(i)
	kind, ok := c[rqKind].bytes(i)
	if !ok {
		return ReasonNullRequired, "kind"
	}
	switch string(kind) {
	case "close_account":
		q.Kind = billing.CloseAccount
	case "defer_plan":
		q.Kind = billing.DeferPlan
		txn, ok := c[rqTxn].bytes(i)
		if !ok {
			return ReasonMissingRef, "txn_id"
		}
		n, st := c[rqPeriods].num(i)
		switch {
		case st == absent:
			return ReasonInvalidPeriods, "periods=null"
		case st == invalid:
			return ReasonInvalidPeriods, "periods: value out of range"
		case n <= 0:
			return ReasonInvalidPeriods, intDetail("periods", n)
		}
		q.TxnID = string(txn)
		q.Periods = int32(n)
	case "change_billing_day":
		q.Kind = billing.ChangeBillingDay
		d, st := c[rqBillingDay].num(i)
		switch {
		case st == absent:
			return ReasonInvalidBillingDay, "billing_day=null"
		case st == invalid || d < 1 || d > 28:
			return ReasonInvalidBillingDay, intDetail("billing_day", d)
		}
		q.BillingDay = int32(d)
	default:
		return ReasonInvalidKind, quoted("kind", kind)
	}
	q.RequestID = string(id)
	q.AccountID = acct
	q.RequestedAt = ts
	return "", ""
}
