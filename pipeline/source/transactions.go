package source

import (
	"context"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// Columns of the transactions dataset, in contract order.
const (
	txID = iota
	txAccount
	txPostedAt
	txKind
	txAmount
	txInstallments
	txFeeRate
	txMerchant
	txRef
)

var transactions = dataset[billing.Transaction, string]{
	name: Transactions,
	cols: []column{
		{"txn_id", kString}, {"account_id", kInt64}, {"posted_at", kTimestamp}, {"kind", kString},
		{"amount", kMoney}, {"installments", kInt32}, {"fee_rate", kRate},
		{"merchant_category", kString}, {"ref_txn_id", kString},
	},
	ts:     txPostedAt,
	decode: decodeTransaction,
	id:     func(t *billing.Transaction) string { return t.TxnID },
	idText: func(t *billing.Transaction) string { return t.TxnID },
	src:    func(t *billing.Transaction) *billing.Source { return &t.Src },
	order:  func(v *billing.Transaction) (int64, int64) { return v.AccountID, v.PostedAt },
}

// ReadTransactions reads the transactions of business day day (posted_at's
// local date in loc) from files, sorted by account, posted_at and txn_id.
// Rows of other days are skipped; rows that fail the contract's row rules
// are returned as rejects. Unknown accounts and refunds of unknown purchases
// are left to the caller, which knows the state.
func ReadTransactions(ctx context.Context, files []File, day billing.Date, loc *time.Location) ([]billing.Transaction, []Reject, error) {
	return read(ctx, &transactions, files, day, loc)
}

// validInstallments reports whether n is one of the contract's numbers of
// periods of a purchase.
func validInstallments(n int64) bool {
	switch n {
	case 1, 3, 6, 12, 24:
		return true
	}
	return false
}

func decodeTransaction(r *rowCtx, i int, t *billing.Transaction) (reason, detail string) {
	c := r.cols
	id, ok := c[txID].bytes(i)
	if !ok {
		return ReasonNullRequired, "txn_id"
	}
	acct, reason, detail := need(&c[txAccount], i, "account_id")
	if reason != "" {
		return reason, detail
	}
	ts, _ := c[txPostedAt].num(i)
	kind, ok := c[txKind].bytes(i)
	if !ok {
		return ReasonNullRequired, "kind"
	}
	amount, reason, detail := need(&c[txAmount], i, "amount")
	if reason != "" {
		return reason, detail
	}
	switch string(kind) {
	case "purchase":
		t.Kind = billing.Purchase
	case "refund":
		t.Kind = billing.Refund
	default:
		return ReasonInvalidKind, quoted("kind", kind)
	}
	if amount <= 0 {
		return ReasonNonPositiveAmount, moneyDetail("amount", amount)
	}
	n, hasN := c[txInstallments].num(i)
	rate, hasRate := c[txFeeRate].num(i)
	if t.Kind == billing.Purchase {
		switch {
		case hasN == absent:
			return ReasonInvalidInstallments, "installments=null"
		case hasN == invalid:
			return ReasonInvalidInstallments, "installments: value out of range"
		case !validInstallments(n):
			return ReasonInvalidInstallments, intDetail("installments", n)
		case hasRate == absent:
			return ReasonInvalidFeeRate, "fee_rate=null"
		case hasRate == invalid:
			return ReasonInvalidFeeRate, "fee_rate: value out of range"
		case rate < 0:
			return ReasonInvalidFeeRate, "fee_rate=" + billing.Rate(rate).String()
		}
		t.Installments = int32(n)
		t.FeeRate = billing.Rate(rate)
	} else {
		switch {
		case hasN != absent:
			return ReasonInvalidInstallments, "refund with installments"
		case hasRate == invalid || hasRate == present && rate != 0:
			return ReasonInvalidFeeRate, "refund with fee_rate"
		}
		ref, ok := c[txRef].bytes(i)
		if !ok {
			return ReasonMissingRef, "ref_txn_id"
		}
		t.RefTxnID = string(ref)
	}
	t.TxnID = string(id)
	t.AccountID = acct
	t.PostedAt = ts
	t.Amount = billing.Money(amount)
	t.MerchantCategory = r.internStr(txMerchant, i)
	return "", ""
}
