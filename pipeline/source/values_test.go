package source

import (
	"context"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/creditrun/creditrun/billing"
)

// bigBytes is v (a decimal string of an unscaled integer) as n bytes of
// big-endian two's complement.
func bigBytes(t testing.TB, v string, n int) []byte {
	t.Helper()
	x, ok := new(big.Int).SetString(v, 10)
	if !ok {
		t.Fatalf("bad integer %q", v)
	}
	if x.Sign() < 0 {
		x.Add(x, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	b := x.Bytes()
	if len(b) > n {
		t.Fatalf("%s does not fit %d bytes", v, n)
	}
	return append(make([]byte, n-len(b)), b...)
}

func readTxns(rules Rules) func(files []File) (int, []Reject, error) {
	return func(files []File) (int, []Reject, error) {
		got, rej, err := ReadTransactions(context.Background(), files, testDay, rules)
		return len(got), rej, err
	}
}

// TestMoneyLimits: money beyond DECIMAL(18,2) is out_of_range whatever the
// physical type, the declared precision and the scale; the largest value
// is kept.
func TestMoneyLimits(t *testing.T) {
	base := []any{"t1", int64(7), dayTS, "purchase", int64(12345), int64(3), int64(5000), "grocery", nil}
	max := int64(billing.MaxMoney)
	for _, tc := range []struct {
		name  string
		form  form
		cases []rejectCase
	}{
		{"INT64 DECIMAL(18,2)", decForm(parquet.Types.Int64, 18, 2, 0, 1), []rejectCase{
			{"largest", set(txAmount, max), "", ""},
			{"one fen more", set(txAmount, max+1), ReasonOutOfRange, "amount=10000000000000000.00"},
			{"most negative", set(txAmount, -max-1), ReasonOutOfRange, "amount=-10000000000000000.00"},
		}},
		{"INT64 DECIMAL(18,0) scaled ×100", decForm(parquet.Types.Int64, 18, 0, 0, 100), []rejectCase{
			{"largest", set(txAmount, int64(9999999999999999_00)), "", ""},
			{"×100 beyond DECIMAL(18,2)", set(txAmount, int64(10000000000000000_00)), ReasonOutOfRange, "amount=10000000000000000"},
			{"×100 beyond int64", set(txAmount, int64(900000000000000000)*10), ReasonOutOfRange, "amount=90000000000000000"},
		}},
		{"FIXED_LEN_BYTE_ARRAY(16) DECIMAL(38,2)", decForm(parquet.Types.FixedLenByteArray, 38, 2, 16, 1), []rejectCase{
			{"largest", set(txAmount, bigBytes(t, "999999999999999999", 16)), "", ""},
			{"above 9999999999999999.99", set(txAmount, bigBytes(t, "1000000000000000000", 16)), ReasonOutOfRange, "amount=10000000000000000.00"},
			{"beyond int64", set(txAmount, bigBytes(t, "12345678901234567890123456", 16)), ReasonOutOfRange, "amount=123456789012345678901234.56"},
			{"negative beyond int64", set(txAmount, bigBytes(t, "-12345678901234567890123456", 16)), ReasonOutOfRange, "amount=-123456789012345678901234.56"},
		}},
		{"BYTE_ARRAY DECIMAL(38,2)", decForm(parquet.Types.ByteArray, 38, 2, 0, 1), []rejectCase{
			{"largest", set(txAmount, bigBytes(t, "999999999999999999", 8)), "", ""},
			{"above 9999999999999999.99", set(txAmount, bigBytes(t, "1000000000000000000", 8)), ReasonOutOfRange, "amount=10000000000000000.00"},
			{"beyond int64", set(txAmount, bigBytes(t, "99999999999999999999999", 12)), ReasonOutOfRange, "amount=999999999999999999999.99"},
		}},
		{"INT32 DECIMAL(9,0) scaled ×100", decForm(parquet.Types.Int32, 9, 0, 0, 100), []rejectCase{
			{"largest INT32", set(txAmount, int64(2147483647)*100), "", ""},
		}},
		{"rate INT64 DECIMAL(18,6)", decForm(parquet.Types.Int64, 18, 6, 0, 1), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forms := withForms(map[string]form{"installments": i64Form(), "amount": tc.form})
			if strings.HasPrefix(tc.name, "rate") {
				forms = withForms(map[string]form{"installments": i64Form(), "fee_rate": tc.form})
				tc.cases = []rejectCase{
					{"999.999999 is DECIMAL(9,6)'s largest", set(txFeeRate, int64(999_999_999)), ReasonInvalidFeeRate, "above max_fee_rate"},
					{"beyond DECIMAL(9,6), beyond int32", set(txFeeRate, int64(5_000_000_000)), ReasonInvalidFeeRate, "fee_rate=5000.000000: out of range"},
				}
			}
			checkRejects(t, txnCols, forms, base, tc.cases, readTxns(shanghai))
		})
	}
}

// TestPolicyRules: installment counts and the highest fee rate come from
// the policy.
func TestPolicyRules(t *testing.T) {
	base := []any{"t1", int64(7), dayTS, "purchase", int64(12345), int64(3), int64(5000), "grocery", nil}
	forms := withForms(map[string]form{"installments": i64Form()})
	rules := shanghai
	rules.Installments = []int32{1, 3, 36}
	rules.MaxFeeRate = 80000
	checkRejects(t, txnCols, forms, base, []rejectCase{
		{"36 periods offered", set(txInstallments, int64(36)), "", ""},
		{"6 periods not offered", set(txInstallments, int64(6)), ReasonInvalidInstallments, "installments=6: not offered"},
		{"fee rate at the maximum", set(txFeeRate, int64(80000)), "", ""},
		{"fee rate above the maximum", set(txFeeRate, int64(80001)), ReasonInvalidFeeRate, "fee_rate=0.080001: above max_fee_rate 0.080000"},
	}, readTxns(rules))
	checkRejects(t, txnCols, forms, base, []rejectCase{
		{"default maximum 0.05", set(txFeeRate, int64(50000)), "", ""},
		{"200 a month", set(txFeeRate, int64(200_000_000)), ReasonInvalidFeeRate, "fee_rate=200.000000: above max_fee_rate 0.050000"},
		{"24 periods by default", set(txInstallments, int64(24)), "", ""},
		{"36 periods not by default", set(txInstallments, int64(36)), ReasonInvalidInstallments, "installments=36"},
	}, readTxns(shanghai))
}

// TestStrings: ids that are not UTF-8 or too long are rejected rows; the
// reject's key and detail are UTF-8.
func TestStrings(t *testing.T) {
	gbk := "\xb0\xfc\xc0\xa8" // 包括 in GBK
	long := strings.Repeat("x", MaxIDBytes+1)
	base := []any{"t1", int64(7), dayTS, "purchase", int64(12345), int64(3), int64(5000), "grocery", nil}
	forms := withForms(map[string]form{"installments": i64Form(), "txn_id": rawForm(), "merchant_category": rawForm(), "ref_txn_id": rawForm()})
	refund := sets(txKind, "refund", txInstallments, nil, txFeeRate, nil, txRef, "t1")
	cases := []rejectCase{
		{"UTF-8 id", set(txID, "交易-1"), "", ""},
		{"GBK txn_id", set(txID, gbk), ReasonInvalidUTF8, `txn_id="\xb0\xfc\xc0\xa8": not UTF-8`},
		{"GBK merchant_category", set(txMerchant, gbk), ReasonInvalidUTF8, "merchant_category"},
		{"GBK ref_txn_id", func(r []any) { refund(r); r[txRef] = gbk }, ReasonInvalidUTF8, "ref_txn_id"},
		{"GBK kind", set(txKind, gbk), ReasonInvalidUTF8, "kind"},
		{"64-byte id", set(txID, strings.Repeat("x", MaxIDBytes)), "", ""},
		{"65-byte id", set(txID, long), ReasonIDTooLong, "txn_id: 65 bytes, at most 64"},
		{"65-byte ref", func(r []any) { refund(r); r[txRef] = long }, ReasonIDTooLong, "ref_txn_id: 65 bytes"},
		{"128-byte category", set(txMerchant, strings.Repeat("c", MaxCategoryBytes)), "", ""},
		{"129-byte category", set(txMerchant, strings.Repeat("c", MaxCategoryBytes+1)), ReasonIDTooLong, "merchant_category: 129 bytes, at most 128"},
	}
	var all []Reject
	checkRejects(t, txnCols, forms, base, cases, func(files []File) (int, []Reject, error) {
		n, rej, err := readTxns(shanghai)(files)
		all = append(all, rej...)
		return n, rej, err
	})
	for _, r := range all {
		if !utf8.ValidString(r.Key) || !utf8.ValidString(r.Detail) || len(r.Key) > MaxIDBytes+len("…") {
			t.Errorf("reject %+v: key or detail not UTF-8, or key too long", r)
		}
	}

	repBase := []any{"p1", int64(7), dayTS, int64(5000), "app", "failed", "other", nil}
	repForms := map[string]form{"repayment_id": rawForm(), "account_id": i64Form(), "paid_at": tsForm(micros),
		"amount": decForm(parquet.Types.Int64, 18, 2, 0, 1), "channel": rawForm(), "status": strForm(), "failure_reason": rawForm(), "payoff_txn_id": rawForm()}
	checkRejects(t, []string{"repayment_id", "account_id", "paid_at", "amount", "channel", "status", "failure_reason", "payoff_txn_id"},
		repForms, repBase, []rejectCase{
			{"GBK repayment_id", set(rpID, gbk), ReasonInvalidUTF8, "repayment_id"},
			{"GBK channel", set(rpChannel, gbk), ReasonInvalidUTF8, "channel"},
			{"GBK failure_reason", set(rpFailure, gbk), ReasonInvalidUTF8, "failure_reason"},
			{"long payoff_txn_id", set(rpPayoff, long), ReasonIDTooLong, "payoff_txn_id: 65 bytes"},
			{"amount beyond DECIMAL(18,2)", set(rpAmount, int64(billing.MaxMoney)+1), ReasonOutOfRange, "amount=10000000000000000.00"},
		}, func(files []File) (int, []Reject, error) {
			got, rej, err := ReadRepayments(context.Background(), files, testDay, shanghai)
			return len(got), rej, err
		})

	reqBase := []any{"q1", int64(7), dayTS, "defer_plan", "t1", int64(1), nil}
	reqForms := map[string]form{"request_id": rawForm(), "account_id": i64Form(), "requested_at": tsForm(micros), "kind": strForm(),
		"txn_id": rawForm(), "periods": i32Form(), "billing_day": i32Form()}
	checkRejects(t, []string{"request_id", "account_id", "requested_at", "kind", "txn_id", "periods", "billing_day"},
		reqForms, reqBase, []rejectCase{
			{"GBK request_id", set(rqID, gbk), ReasonInvalidUTF8, "request_id"},
			{"long request_id", set(rqID, long), ReasonIDTooLong, "request_id: 65 bytes"},
			{"GBK txn_id", set(rqTxn, gbk), ReasonInvalidUTF8, "txn_id"},
		}, func(files []File) (int, []Reject, error) {
			got, rej, err := ReadRequests(context.Background(), files, testDay, shanghai)
			return len(got), rej, err
		})

	acBase := []any{int64(1), "c1", int64(19000), "active", int64(500000), int64(5), nil, nil}
	acForms := map[string]form{"account_id": i64Form(), "customer_id": rawForm(), "opened_on": dateForm(), "status": strForm(),
		"credit_limit": decForm(parquet.Types.FixedLenByteArray, 38, 2, 16, 1), "billing_day": i32Form(), "external_score": i32Form(), "fraud_flag": boolForm()}
	checkRejects(t, []string{"account_id", "customer_id", "opened_on", "status", "credit_limit", "billing_day", "external_score", "fraud_flag"},
		acForms, acBase, []rejectCase{
			{"GBK customer_id", set(acCustomer, gbk), ReasonInvalidUTF8, "customer_id"},
			{"long customer_id", set(acCustomer, long), ReasonIDTooLong, "customer_id: 65 bytes"},
			{"credit_limit beyond DECIMAL(18,2)", set(acLimit, bigBytes(t, "1000000000000000000", 16)), ReasonOutOfRange, "credit_limit=10000000000000000.00"},
			{"declined is not a master status", set(acStatus, "declined"), ReasonInvalidStatus, `status="declined"`},
		}, func(files []File) (int, []Reject, error) {
			got, rej, err := ReadAccounts(context.Background(), files)
			return len(got), rej, err
		})
}

// TestLocalTimestamps: a timestamp without time zone is a schema error
// unless the rules name the zone; then it is that zone's wall time.
func TestLocalTimestamps(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/naive.parquet"
	wall := func(y int, m time.Month, d, h, mi int) int64 {
		return time.Date(y, m, d, h, mi, 0, 0, time.UTC).UnixMicro()
	}
	tb := table{cols: txnCols, rows: [][]any{
		{"n1", int64(7), wall(2024, 3, 1, 10, 0), "purchase", int64(1000), int64(1), int64(0), nil, nil},
		{"n2", int64(7), wall(2024, 3, 1, 23, 59), "purchase", int64(2000), int64(1), int64(0), nil, nil},
		{"n3", int64(7), wall(2024, 3, 2, 0, 0), "purchase", int64(3000), int64(1), int64(0), nil, nil},
	}}
	for _, unit := range []schema.TimeUnitType{schema.TimeUnitMillis, schema.TimeUnitMicros, schema.TimeUnitNanos} {
		f := form{phys: parquet.Types.Int64, lt: schema.NewTimestampLogicalType(false, unit), isTS: true,
			ts: map[schema.TimeUnitType]tsUnit{schema.TimeUnitMillis: millis, schema.TimeUnitMicros: micros, schema.TimeUnitNanos: nanos}[unit]}
		writeParquet(t, path, tb, withForms(map[string]form{"installments": i64Form(), "posted_at": f}), 0)
		files, err := List(path)
		if err != nil {
			t.Fatal(err)
		}
		checkLocal(t, files, time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC).UnixMicro())
	}
	// DuckDB's TIMESTAMP, written in Shanghai.
	files, err := List("testdata/duckdb/naive.parquet")
	if err != nil {
		t.Fatal(err)
	}
	checkLocal(t, files, time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC).UnixMicro())
}

func checkLocal(t *testing.T, files []File, first int64) {
	t.Helper()
	_, _, err := ReadTransactions(context.Background(), files, testDay, shanghai)
	var se *SchemaError
	if !errors.As(err, &se) || se.Column != "posted_at" || !strings.Contains(err.Error(), files[0].Path) ||
		!strings.Contains(err.Error(), "timestamp without time zone; set billing.local_timestamps_zone in the policy to the zone it was written in") {
		t.Fatalf("ReadTransactions(naive timestamps, no zone) error = %v, want a *SchemaError naming the file, posted_at and the setting", err)
	}
	rules := shanghai
	rules.LocalTimestamps = shanghaiZone
	got, rejects, err := ReadTransactions(context.Background(), files, testDay, rules)
	if err != nil || len(rejects) != 0 || len(got) != 2 {
		t.Fatalf("ReadTransactions(naive in Shanghai) = %d rows, %v, %v; want n1 and n2 of 2024-03-01", len(got), rejects, err)
	}
	if got[0].TxnID != "n1" || got[0].PostedAt != first || got[1].TxnID != "n2" {
		t.Errorf("got %s at %s, %s; want n1 at %s (10:00 in Shanghai), n2",
			got[0].TxnID, time.UnixMicro(got[0].PostedAt).UTC(), got[1].TxnID, time.UnixMicro(first).UTC())
	}
}

// TestDuckDBValues reads DuckDB's own files (testdata/duckdb/values.js):
// DECIMAL(38,2) money at and beyond the limit, a GBK id in a BLOB column.
func TestDuckDBValues(t *testing.T) {
	read := func(path string) ([]billing.Transaction, []Reject) {
		files, err := List(path)
		if err != nil {
			t.Fatal(err)
		}
		got, rejects, err := ReadTransactions(context.Background(), files, testDay, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return got, rejects
	}
	got, rejects := read("testdata/duckdb/money38.parquet")
	if len(got) != 1 || got[0].TxnID != "m1" || got[0].Amount != billing.MaxMoney {
		t.Errorf("money38: kept %+v, want m1 of 9999999999999999.99", got)
	}
	want := []struct{ key, reason, detail string }{
		{"m2", ReasonOutOfRange, "amount=10000000000000000.00"},
		{"m3", ReasonOutOfRange, "amount=123456789012345678901234.56"},
		{"m4", ReasonInvalidFeeRate, "fee_rate=0.500000: above max_fee_rate 0.050000"},
	}
	if len(rejects) != len(want) {
		t.Fatalf("money38 rejects = %+v, want %d", rejects, len(want))
	}
	for i, w := range want {
		if r := rejects[i]; r.Key != w.key || r.Reason != w.reason || !strings.Contains(r.Detail, w.detail) {
			t.Errorf("money38 reject %d = %+v, want %s %s %q", i, r, w.key, w.reason, w.detail)
		}
	}
	got, rejects = read("testdata/duckdb/gbk.parquet")
	if len(got) != 1 || len(rejects) != 1 || rejects[0].Reason != ReasonInvalidUTF8 || rejects[0].Row != 1 ||
		!utf8.ValidString(rejects[0].Key) || !strings.Contains(rejects[0].Detail, `txn_id="\xb0\xfc\xc0\xa8"`) {
		t.Errorf("gbk: kept %d, rejects %+v; want g1 kept, row 1 invalid_utf8", len(got), rejects)
	}
}
