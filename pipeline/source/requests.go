package source

import (
	"context"

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
	ts:        rqRequestedAt,
	decode:    decodeRequest,
	id:        func(q *billing.Request) string { return q.RequestID },
	idText:    func(q *billing.Request) string { return q.RequestID },
	src:       func(q *billing.Request) *billing.Source { return &q.Src },
	byAccount: true,
	sharded:   true,
	account:   rqAccount,
	order:     func(v *billing.Request) (int64, int64) { return v.AccountID, v.RequestedAt },
}

// ReadRequests reads the customer requests of business day day
// (requested_at's local date in rules.Zone), sorted by account,
// requested_at and request_id, with the rows that fail the contract's row
// rules as rejects. The dataset is optional: no files read nothing. Columns
// that a request's kind does not use are ignored. Whether the rules grant a
// request is for the caller to decide.
func ReadRequests(ctx context.Context, files []File, day billing.Date, rules Rules) ([]billing.Request, []Reject, error) {
	return readAll(ctx, &requests, files, day, &rules)
}

// ReadRequestsTo reads as ReadRequests does, handing the rejects to
// rejects as it finds them instead of returning them.
func ReadRequestsTo(ctx context.Context, files []File, day billing.Date, rules Rules, rejects RejectWriter) ([]billing.Request, error) {
	return read(ctx, &requests, files, day, &rules, &rejectSink{w: rejects})
}

func decodeRequest(r *rowCtx, i int, q *billing.Request) (reason, detail string) {
	c := r.cols
	id, reason, detail := required(&c[rqID], i, "request_id", MaxIDBytes)
	if reason != "" {
		return reason, detail
	}
	acct, reason, detail := need(&c[rqAccount], i, "account_id")
	if reason != "" {
		return reason, detail
	}
	ts, _ := c[rqRequestedAt].num(i)
	kind, reason, detail := required(&c[rqKind], i, "kind", MaxIDBytes)
	if reason != "" {
		return reason, detail
	}
	k, ok := billing.ParseRequestKind(string(kind))
	if !ok {
		return ReasonInvalidKind, quoted("kind", kind)
	}
	q.Kind = k
	switch k {
	case billing.DeferPlan:
		txn, ok, reason, detail := text(&c[rqTxn], i, "txn_id", MaxIDBytes)
		switch {
		case reason != "":
			return reason, detail
		case !ok:
			return ReasonMissingRef, "txn_id"
		}
		n, st := c[rqPeriods].num(i)
		switch {
		case st == absent:
			return ReasonInvalidPeriods, "periods=null"
		case st == invalid:
			return ReasonInvalidPeriods, rangeDetail(&c[rqPeriods], i, "periods")
		case n <= 0:
			return ReasonInvalidPeriods, intDetail("periods", n)
		}
		q.TxnID = string(txn)
		q.Periods = int32(n)
	case billing.ChangeBillingDay:
		d, st := c[rqBillingDay].num(i)
		switch {
		case st == absent:
			return ReasonInvalidBillingDay, "billing_day=null"
		case st == invalid:
			return ReasonInvalidBillingDay, rangeDetail(&c[rqBillingDay], i, "billing_day")
		case d < 1 || d > 28:
			return ReasonInvalidBillingDay, intDetail("billing_day", d)
		}
		q.BillingDay = int32(d)
	}
	q.RequestID = string(id)
	q.AccountID = acct
	q.RequestedAt = ts
	return "", ""
}
