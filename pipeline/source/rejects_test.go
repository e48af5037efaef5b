package source

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/creditrun/creditrun/billing"
)

// rejectCase is one row mutation and the reject it must cause ("" for none).
type rejectCase struct {
	name   string
	mutate func(r []any)
	reason string
	detail string // substring of the reject's Detail
}

// checkRejects writes, for each case, a file holding the base row and the
// mutated row, reads it with read, and checks the mutated row's fate.
func checkRejects(t *testing.T, cols []string, forms map[string]form, base []any, cases []rejectCase,
	read func(files []File) (kept int, rejects []Reject, err error)) {
	t.Helper()
	dir := t.TempDir()
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			good := append([]any(nil), base...)
			bad := append([]any(nil), base...)
			bad[0] = mutateID(bad[0])
			c.mutate(bad)
			path := filepath.Join(dir, fmt.Sprintf("case%02d.parquet", i))
			writeParquet(t, path, table{cols: cols, rows: [][]any{good, bad}}, forms, 0)
			files, err := List(path)
			if err != nil {
				t.Fatal(err)
			}
			kept, rejects, err := read(files)
			if err != nil {
				t.Fatal(err)
			}
			if c.reason == "" {
				if kept != 2 || len(rejects) != 0 {
					t.Fatalf("kept %d, rejects %+v; want both rows kept", kept, rejects)
				}
				return
			}
			if kept != 1 || len(rejects) != 1 {
				t.Fatalf("kept %d, rejects %+v; want one row kept, one rejected", kept, rejects)
			}
			r := rejects[0]
			if r.Reason != c.reason || !strings.Contains(r.Detail, c.detail) || r.Row != 1 || r.File != path {
				t.Errorf("reject = %+v, want reason %s, detail containing %q, row 1 of %s", r, c.reason, c.detail, path)
			}
		})
	}
}

// mutateID gives the mutated row an id of its own.
func mutateID(id any) any {
	switch v := id.(type) {
	case string:
		return v + "-2"
	case int64:
		return v + 1
	}
	return id
}

func set(col int, v any) func([]any) { return func(r []any) { r[col] = v } }

func sets(kv ...any) func([]any) {
	return func(r []any) {
		for i := 0; i < len(kv); i += 2 {
			r[kv[i].(int)] = kv[i+1]
		}
	}
}

var dayTS = micro(2024, 3, 1, 2, 0, 0) // 10:00 in Shanghai on testDay

func TestTransactionRejects(t *testing.T) {
	base := []any{"t1", int64(7), dayTS, "purchase", int64(12345), int64(3), int64(5000), "grocery", nil}
	forms := withForms(map[string]form{
		"installments": i64Form(),
		"account_id":   {phys: parquet.Types.Int64, lt: schema.NewIntLogicalType(64, false)},
	})
	refund := sets(txKind, "refund", txInstallments, nil, txFeeRate, nil, txRef, "t1")
	cases := []rejectCase{
		{"valid", func([]any) {}, "", ""},
		{"valid refund", refund, "", ""},
		{"refund with fee_rate 0", func(r []any) { refund(r); r[txFeeRate] = int64(0) }, "", ""},
		{"null txn_id", set(txID, nil), ReasonNullRequired, "txn_id"},
		{"empty txn_id", set(txID, ""), ReasonNullRequired, "txn_id"},
		{"null account_id", set(txAccount, nil), ReasonNullRequired, "account_id"},
		{"account_id beyond int64", set(txAccount, int64(-1)), ReasonOutOfRange, "account_id"},
		{"null posted_at", set(txPostedAt, nil), ReasonNullRequired, "posted_at"},
		{"null kind", set(txKind, nil), ReasonNullRequired, "kind"},
		{"null amount", set(txAmount, nil), ReasonNullRequired, "amount"},
		{"invalid kind", set(txKind, "chargeback"), ReasonInvalidKind, `kind="chargeback"`},
		{"zero amount", set(txAmount, int64(0)), ReasonNonPositiveAmount, "amount=0.00"},
		{"negative amount", set(txAmount, int64(-150)), ReasonNonPositiveAmount, "amount=-1.50"},
		{"installments 5", set(txInstallments, int64(5)), ReasonInvalidInstallments, "installments=5"},
		{"installments null", set(txInstallments, nil), ReasonInvalidInstallments, "installments=null"},
		{"installments beyond int32", set(txInstallments, int64(1)<<40), ReasonInvalidInstallments, "out of range"},
		{"fee_rate null", set(txFeeRate, nil), ReasonInvalidFeeRate, "fee_rate=null"},
		{"fee_rate negative", set(txFeeRate, int64(-1)), ReasonInvalidFeeRate, "fee_rate=-0.000001"},
		{"refund with installments", func(r []any) { refund(r); r[txInstallments] = int64(1) }, ReasonInvalidInstallments, "refund"},
		{"refund with fee_rate", func(r []any) { refund(r); r[txFeeRate] = int64(5000) }, ReasonInvalidFeeRate, "refund"},
		{"refund without ref", func(r []any) { refund(r); r[txRef] = nil }, ReasonMissingRef, "ref_txn_id"},
		{"refund with empty ref", func(r []any) { refund(r); r[txRef] = "" }, ReasonMissingRef, "ref_txn_id"},
		{"duplicate txn_id", set(txID, "t1"), ReasonDuplicateID, "txn_id=t1"},
	}
	checkRejects(t, txnCols, forms, base, cases, func(files []File) (int, []Reject, error) {
		got, rej, err := ReadTransactions(context.Background(), files, testDay, shanghai)
		return len(got), rej, err
	})
}

var repCols = []string{"repayment_id", "account_id", "paid_at", "amount", "channel", "status", "failure_reason", "payoff_txn_id"}

func repForms() map[string]form {
	return map[string]form{
		"repayment_id": strForm(), "account_id": i64Form(), "paid_at": tsForm(micros),
		"amount": decForm(parquet.Types.Int64, 18, 2, 0, 1), "channel": strForm(), "status": strForm(),
		"failure_reason": strForm(), "payoff_txn_id": strForm(),
	}
}

func TestRepaymentRejects(t *testing.T) {
	base := []any{"p1", int64(7), dayTS, int64(5000), "app", "succeeded", nil, nil}
	failed := sets(rpStatus, "failed", rpFailure, "insufficient_funds")
	cases := []rejectCase{
		{"valid", func([]any) {}, "", ""},
		{"valid failed", failed, "", ""},
		{"valid payoff", set(rpPayoff, "t1"), "", ""},
		{"succeeded with failure_reason", set(rpFailure, "other"), "", ""},
		{"null repayment_id", set(rpID, nil), ReasonNullRequired, "repayment_id"},
		{"null account_id", set(rpAccount, nil), ReasonNullRequired, "account_id"},
		{"null paid_at", set(rpPaidAt, nil), ReasonNullRequired, "paid_at"},
		{"null amount", set(rpAmount, nil), ReasonNullRequired, "amount"},
		{"null channel", set(rpChannel, nil), ReasonNullRequired, "channel"},
		{"null status", set(rpStatus, nil), ReasonNullRequired, "status"},
		{"zero amount", set(rpAmount, int64(0)), ReasonNonPositiveAmount, "amount=0.00"},
		{"invalid channel", set(rpChannel, "cash"), ReasonInvalidChannel, `channel="cash"`},
		{"invalid status", set(rpStatus, "pending"), ReasonInvalidStatus, `status="pending"`},
		{"failed without reason", func(r []any) { failed(r); r[rpFailure] = nil }, ReasonMissingFailureReason, "failure_reason"},
		{"failed with unknown reason", func(r []any) { failed(r); r[rpFailure] = "fraud" }, ReasonInvalidFailureReason, `failure_reason="fraud"`},
		{"duplicate repayment_id", set(rpID, "p1"), ReasonDuplicateID, "repayment_id=p1"},
	}
	checkRejects(t, repCols, repForms(), base, cases, func(files []File) (int, []Reject, error) {
		got, rej, err := ReadRepayments(context.Background(), files, testDay, shanghai)
		return len(got), rej, err
	})
}

var reqCols = []string{"request_id", "account_id", "requested_at", "kind", "txn_id", "periods", "billing_day"}

func reqForms() map[string]form {
	return map[string]form{
		"request_id": strForm(), "account_id": i64Form(), "requested_at": tsForm(micros), "kind": strForm(),
		"txn_id": strForm(), "periods": i64Form(), "billing_day": i32Form(),
	}
}

func TestRequestRejects(t *testing.T) {
	base := []any{"q1", int64(7), dayTS, "close_account", nil, nil, nil}
	deferPlan := sets(rqKind, "defer_plan", rqTxn, "t1", rqPeriods, int64(2))
	change := sets(rqKind, "change_billing_day", rqBillingDay, int64(15))
	cases := []rejectCase{
		{"valid close", func([]any) {}, "", ""},
		{"valid defer", deferPlan, "", ""},
		{"valid change", change, "", ""},
		{"null request_id", set(rqID, nil), ReasonNullRequired, "request_id"},
		{"null account_id", set(rqAccount, nil), ReasonNullRequired, "account_id"},
		{"null requested_at", set(rqRequestedAt, nil), ReasonNullRequired, "requested_at"},
		{"null kind", set(rqKind, nil), ReasonNullRequired, "kind"},
		{"invalid kind", set(rqKind, "raise_limit"), ReasonInvalidKind, `kind="raise_limit"`},
		{"defer without txn_id", func(r []any) { deferPlan(r); r[rqTxn] = nil }, ReasonMissingRef, "txn_id"},
		{"defer without periods", func(r []any) { deferPlan(r); r[rqPeriods] = nil }, ReasonInvalidPeriods, "periods=null"},
		{"defer 0 periods", func(r []any) { deferPlan(r); r[rqPeriods] = int64(0) }, ReasonInvalidPeriods, "periods=0"},
		{"defer periods beyond int32", func(r []any) { deferPlan(r); r[rqPeriods] = int64(math.MaxInt32) + 1 }, ReasonInvalidPeriods, "out of range"},
		{"change to day 29", func(r []any) { change(r); r[rqBillingDay] = int64(29) }, ReasonInvalidBillingDay, "billing_day=29"},
		{"change without day", func(r []any) { change(r); r[rqBillingDay] = nil }, ReasonInvalidBillingDay, "billing_day=null"},
		{"duplicate request_id", set(rqID, "q1"), ReasonDuplicateID, "request_id=q1"},
	}
	checkRejects(t, reqCols, reqForms(), base, cases, func(files []File) (int, []Reject, error) {
		got, rej, err := ReadRequests(context.Background(), files, testDay, shanghai)
		return len(got), rej, err
	})
}

var acctCols = []string{"account_id", "customer_id", "opened_on", "status", "credit_limit", "billing_day", "external_score", "fraud_flag"}

func acctForms() map[string]form {
	return map[string]form{
		"account_id": i64Form(), "customer_id": strForm(), "opened_on": dateForm(), "status": strForm(),
		"credit_limit": decForm(parquet.Types.Int64, 18, 2, 0, 1), "billing_day": i32Form(),
		"external_score": i64Form(), "fraud_flag": boolForm(),
	}
}

func TestAccountRejects(t *testing.T) {
	opened := int64(billing.NewDate(2023, 5, 4))
	base := []any{int64(1), "c1", opened, "active", int64(500000), int64(5), int64(640), false}
	cases := []rejectCase{
		{"valid", func([]any) {}, "", ""},
		{"pending without limit", sets(acStatus, "pending", acLimit, nil), "", ""},
		{"no score, no fraud flag", sets(acScore, nil, acFraud, nil), "", ""},
		{"null account_id", set(acID, nil), ReasonNullRequired, "account_id"},
		{"null customer_id", set(acCustomer, nil), ReasonNullRequired, "customer_id"},
		{"null opened_on", set(acOpenedOn, nil), ReasonNullRequired, "opened_on"},
		{"null status", set(acStatus, nil), ReasonNullRequired, "status"},
		{"null billing_day", set(acBillingDay, nil), ReasonNullRequired, "billing_day"},
		{"invalid status", set(acStatus, "declined"), ReasonInvalidStatus, `status="declined"`},
		{"active without limit", set(acLimit, nil), ReasonNullRequired, "credit_limit"},
		{"negative limit", set(acLimit, int64(-1)), ReasonNegativeLimit, "credit_limit=-0.01"},
		{"billing_day 0", set(acBillingDay, int64(0)), ReasonInvalidBillingDay, "billing_day=0"},
		{"billing_day 29", set(acBillingDay, int64(29)), ReasonInvalidBillingDay, "billing_day=29"},
		{"external_score beyond int32", set(acScore, int64(1)<<33), ReasonOutOfRange, "external_score"},
		{"duplicate account_id", set(acID, int64(1)), ReasonDuplicateID, "account_id=1"},
	}
	checkRejects(t, acctCols, acctForms(), base, cases, func(files []File) (int, []Reject, error) {
		got, rej, err := ReadAccounts(context.Background(), files)
		return len(got), rej, err
	})
}

func TestReadAccounts(t *testing.T) {
	opened := billing.NewDate(2023, 5, 4)
	tb := table{cols: acctCols, rows: [][]any{
		{int64(3), "c3", int64(opened), "frozen", int64(100), int64(28), nil, true},
		{int64(1), "c1", int64(opened), "active", int64(500000), int64(5), int64(640), false},
		{int64(2), "c2", int64(opened), "pending", int64(9900), int64(1), nil, nil},
		{int64(4), "c4", int64(opened), "closed", int64(0), int64(12), int64(700), nil},
	}}
	path := filepath.Join(t.TempDir(), "accounts.parquet")
	writeArrow(t, path, tb, accounts.cols, 2, nil)
	files, err := List(path)
	if err != nil {
		t.Fatal(err)
	}
	master, rejects, err := ReadAccounts(context.Background(), files)
	if err != nil || len(rejects) != 0 {
		t.Fatalf("ReadAccounts: %v, rejects %+v", err, rejects)
	}
	var got []billing.Account
	for i := range master {
		got = append(got, master[i].Account())
	}
	want := []billing.Account{
		{ID: 1, CustomerID: "c1", OpenedOn: opened, Status: billing.Active, ActivatedOn: opened, LimitChangedOn: opened, Limit: 500000, BillingDay: 5, ExternalScore: 640, HasExternalScore: true},
		{ID: 2, CustomerID: "c2", OpenedOn: opened, Status: billing.Pending, BillingDay: 1},
		{ID: 3, CustomerID: "c3", OpenedOn: opened, Status: billing.Frozen, ActivatedOn: opened, LimitChangedOn: opened, Limit: 100, BillingDay: 28, Fraud: true},
		{ID: 4, CustomerID: "c4", OpenedOn: opened, Status: billing.Closed, BillingDay: 12, ExternalScore: 700, HasExternalScore: true},
	}
	if len(got) != len(want) {
		t.Fatalf("ReadAccounts = %d accounts, want %d", len(got), len(want))
	}
	for i := range want {
		if fmt.Sprintf("%+v", got[i]) != fmt.Sprintf("%+v", want[i]) {
			t.Errorf("account %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestReadRepaymentsAndRequests(t *testing.T) {
	dir := t.TempDir()
	rp := filepath.Join(dir, "repayments.parquet")
	writeParquet(t, rp, table{cols: repCols, rows: [][]any{
		{"p2", int64(9), dayTS + 5, int64(100), "bank_transfer", "failed", "card_unbound", nil},
		{"p1", int64(9), dayTS, int64(700), "auto_debit", "succeeded", nil, "t9"},
		{"p0", int64(8), dayTS + 9, int64(1), "app", "succeeded", "", ""},
	}}, repForms(), 2)
	files, err := List(rp)
	if err != nil {
		t.Fatal(err)
	}
	reps, rejects, err := ReadRepayments(context.Background(), files, testDay, shanghai)
	if err != nil || len(rejects) != 0 {
		t.Fatalf("ReadRepayments: %v %+v", err, rejects)
	}
	want := []billing.Repayment{
		{RepaymentID: "p0", AccountID: 8, PaidAt: dayTS + 9, Amount: 1, Channel: "app", Status: billing.Succeeded, Src: billing.Source{Row: 2}},
		{RepaymentID: "p1", AccountID: 9, PaidAt: dayTS, Amount: 700, Channel: "auto_debit", Status: billing.Succeeded, PayoffTxnID: "t9", Src: billing.Source{Row: 1}},
		{RepaymentID: "p2", AccountID: 9, PaidAt: dayTS + 5, Amount: 100, Channel: "bank_transfer", Status: billing.Failed, FailureReason: "card_unbound"},
	}
	if fmt.Sprint(reps) != fmt.Sprint(want) {
		t.Errorf("ReadRepayments =\n%+v\nwant\n%+v", reps, want)
	}

	rq := filepath.Join(dir, "requests.parquet")
	writeParquet(t, rq, table{cols: reqCols, rows: [][]any{
		{"q1", int64(9), dayTS, "defer_plan", "t9", int64(2), int64(3)},
		{"q0", int64(9), dayTS, "change_billing_day", "t9", nil, int64(20)},
	}}, reqForms(), 0)
	files, err = List(rq)
	if err != nil {
		t.Fatal(err)
	}
	reqs, rejects, err := ReadRequests(context.Background(), files, testDay, shanghai)
	if err != nil || len(rejects) != 0 {
		t.Fatalf("ReadRequests: %v %+v", err, rejects)
	}
	wantReq := []billing.Request{
		{RequestID: "q0", AccountID: 9, RequestedAt: dayTS, Kind: billing.ChangeBillingDay, BillingDay: 20, Src: billing.Source{Row: 1}},
		{RequestID: "q1", AccountID: 9, RequestedAt: dayTS, Kind: billing.DeferPlan, TxnID: "t9", Periods: 2},
	}
	if fmt.Sprint(reqs) != fmt.Sprint(wantReq) {
		t.Errorf("ReadRequests =\n%+v\nwant\n%+v", reqs, wantReq)
	}
	// The requests dataset is optional.
	if reqs, rejects, err := ReadRequests(context.Background(), nil, testDay, shanghai); reqs != nil || rejects != nil || err != nil {
		t.Errorf("ReadRequests(nil) = %v, %v, %v", reqs, rejects, err)
	}
}
