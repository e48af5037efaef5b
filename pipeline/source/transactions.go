package source

import (
	"context"
	"slices"

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
	ts:        txPostedAt,
	decode:    decodeTransaction,
	id:        func(t *billing.Transaction) string { return t.TxnID },
	idText:    func(t *billing.Transaction) string { return t.TxnID },
	src:       func(t *billing.Transaction) *billing.Source { return &t.Src },
	byAccount: true,
	sharded:   true,
	account:   txAccount,
	order:     func(v *billing.Transaction) (int64, int64) { return v.AccountID, v.PostedAt },
}

// ReadTransactions reads the transactions of business day day (posted_at's
// local date in rules.Zone) from files, sorted by account, posted_at and
// txn_id. Rows of other days are skipped; rows that fail the contract's row
// rules, or the policy's (installment counts, the highest fee rate), are
// returned as rejects. Unknown accounts and refunds of unknown purchases are
// left to the caller, which knows the state.
func ReadTransactions(ctx context.Context, files []File, day billing.Date, rules Rules) ([]billing.Transaction, []Reject, error) {
	return readAll(ctx, &transactions, files, day, &rules)
}

// ReadTransactionsTo reads as ReadTransactions does, handing the rejects to
// rejects as it finds them instead of returning them.
func ReadTransactionsTo(ctx context.Context, files []File, day billing.Date, rules Rules, rejects RejectWriter) ([]billing.Transaction, error) {
	return read(ctx, &transactions, files, day, &rules, &rejectSink{w: rejects})
}

func decodeTransaction(r *rowCtx, i int, t *billing.Transaction) (reason, detail string) {
	c := r.cols
	id, reason, detail := required(&c[txID], i, "txn_id", MaxIDBytes)
	if reason != "" {
		return reason, detail
	}
	acct, reason, detail := need(&c[txAccount], i, "account_id")
	if reason != "" {
		return reason, detail
	}
	ts, _ := c[txPostedAt].num(i)
	kind, reason, detail := required(&c[txKind], i, "kind", MaxIDBytes)
	if reason != "" {
		return reason, detail
	}
	amount, reason, detail := need(&c[txAmount], i, "amount")
	if reason != "" {
		return reason, detail
	}
	k, ok := billing.ParseTxnKind(string(kind))
	if !ok {
		return ReasonInvalidKind, quoted("kind", kind)
	}
	t.Kind = k
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
			return ReasonInvalidInstallments, rangeDetail(&c[txInstallments], i, "installments")
		case !slices.Contains(r.rules.Installments, int32(n)):
			return ReasonInvalidInstallments, intDetail("installments", n) + ": not offered by the policy"
		case hasRate == absent:
			return ReasonInvalidFeeRate, "fee_rate=null"
		case hasRate == invalid:
			return ReasonInvalidFeeRate, rangeDetail(&c[txFeeRate], i, "fee_rate")
		case rate < 0:
			return ReasonInvalidFeeRate, "fee_rate=" + billing.Rate(rate).String()
		case rate > int64(r.rules.MaxFeeRate):
			return ReasonInvalidFeeRate, "fee_rate=" + billing.Rate(rate).String() + ": above max_fee_rate " + r.rules.MaxFeeRate.String()
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
		ref, ok, reason, detail := text(&c[txRef], i, "ref_txn_id", MaxIDBytes)
		switch {
		case reason != "":
			return reason, detail
		case !ok:
			return ReasonMissingRef, "ref_txn_id"
		}
		t.RefTxnID = string(ref)
	}
	if _, _, reason, detail := text(&c[txMerchant], i, "merchant_category", MaxCategoryBytes); reason != "" {
		return reason, detail
	}
	t.TxnID = string(id)
	t.AccountID = acct
	t.PostedAt = ts
	t.Amount = billing.Money(amount)
	t.MerchantCategory = r.internStr(txMerchant, i)
	return "", ""
}
