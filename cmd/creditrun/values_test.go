package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/source"
)

// The end-to-end tests of values at the contract's exact limits: each runs
// a real night on files written by DuckDB (pipeline/source/testdata/duckdb,
// values.js) or parquet-go, and checks the exit code, that nothing bad was
// published, and the rejects.

const valuesDay = "2024-03-01"

var valuesAt = time.Date(2024, 3, 1, 2, 0, 0, 0, time.UTC).UnixMicro() // 10:00 in Shanghai

type masterRow struct {
	AccountID     int64  `parquet:"account_id"`
	CustomerID    string `parquet:"customer_id"`
	OpenedOn      int32  `parquet:"opened_on,date"`
	Status        string `parquet:"status"`
	CreditLimit   *int64 `parquet:"credit_limit,decimal(2:18),optional"`
	BillingDay    int32  `parquet:"billing_day"`
	ExternalScore *int32 `parquet:"external_score,optional"`
	FraudFlag     *bool  `parquet:"fraud_flag,optional"`
}

type txnRow struct {
	TxnID            string  `parquet:"txn_id"`
	AccountID        int64   `parquet:"account_id"`
	PostedAt         int64   `parquet:"posted_at,timestamp(microsecond:utc)"`
	Kind             string  `parquet:"kind"`
	Amount           int64   `parquet:"amount,decimal(2:18)"`
	Installments     *int32  `parquet:"installments,optional"`
	FeeRate          *int32  `parquet:"fee_rate,decimal(6:9),optional"`
	MerchantCategory *string `parquet:"merchant_category,optional"`
	RefTxnID         *string `parquet:"ref_txn_id,optional"`
}

type repaymentRow struct {
	RepaymentID   string  `parquet:"repayment_id"`
	AccountID     int64   `parquet:"account_id"`
	PaidAt        int64   `parquet:"paid_at,timestamp(microsecond:utc)"`
	Amount        int64   `parquet:"amount,decimal(2:18)"`
	Channel       string  `parquet:"channel"`
	Status        string  `parquet:"status"`
	FailureReason *string `parquet:"failure_reason,optional"`
	PayoffTxnID   *string `parquet:"payoff_txn_id,optional"`
}

func ptr[T any](v T) *T { return &v }

func purchase(id string, amount int64, n int32, rate int32) txnRow {
	return txnRow{TxnID: id, AccountID: 1, PostedAt: valuesAt, Kind: "purchase", Amount: amount, Installments: &n, FeeRate: &rate}
}

// valuesNight is one night's inputs: the master, the transactions files
// (copied as they are) and the repayments.
type valuesNight struct {
	master     []masterRow
	txnFiles   []string
	txns       []txnRow
	repayments []repaymentRow
	policy     string // extra billing settings, YAML lines under billing:
}

func (n valuesNight) run(t *testing.T, args ...string) (code int, stderr, out string) {
	t.Helper()
	dir := t.TempDir()
	events, master := filepath.Join(dir, "events"), filepath.Join(dir, "accounts")
	out = filepath.Join(dir, "out")
	for _, d := range []string{master, filepath.Join(events, "transactions"), filepath.Join(events, "repayments")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	rows := n.master
	if rows == nil {
		rows = []masterRow{{AccountID: 1, CustomerID: "c1", OpenedOn: int32(billing.NewDate(2023, 1, 1)), Status: "active",
			CreditLimit: ptr(int64(1_000_000)), BillingDay: 15}}
	}
	must(t, parquet.WriteFile(filepath.Join(master, "part-0.parquet"), rows))
	for i, f := range n.txnFiles {
		copyFile(t, f, filepath.Join(events, "transactions", "part-"+string(rune('a'+i))+".parquet"))
	}
	if n.txns != nil || n.txnFiles == nil {
		must(t, parquet.WriteFile(filepath.Join(events, "transactions", "part-0.parquet"), n.txns))
	}
	must(t, parquet.WriteFile(filepath.Join(events, "repayments", "part-0.parquet"), n.repayments))
	argv := []string{"run", "--as-of", valuesDay, "--events", events, "--out", out, "--state", master}
	if n.policy != "" {
		p := filepath.Join(dir, "policy.yaml")
		must(t, os.WriteFile(p, []byte("extends: default\nbilling:\n"+n.policy), 0o644))
		argv = append(argv, "--policy", p)
	}
	code, stderr = creditrun(t, nil, append(argv, args...)...)
	return code, stderr, out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	must(t, err)
	defer src.Close()
	dst, err := os.Create(to)
	must(t, err)
	_, err = io.Copy(dst, src)
	must(t, err)
	must(t, dst.Close())
}

// nothingPublished fails unless the night left no partition behind.
func nothingPublished(t *testing.T, out string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(out, "as_of="+valuesDay)); !os.IsNotExist(err) {
		t.Errorf("as_of=%s exists after a failed night (%v)", valuesDay, err)
	}
}

// published reads the night's rejects, checking that every string in them
// is UTF-8.
func published(t *testing.T, out string) (day string, rejects []source.Reject) {
	t.Helper()
	day = filepath.Join(out, "as_of="+valuesDay)
	if _, err := os.Stat(filepath.Join(day, "_SUCCESS")); err != nil {
		t.Fatalf("night not published: %v", err)
	}
	rejects, err := parquet.ReadFile[source.Reject](filepath.Join(day, "rejects.parquet"))
	must(t, err)
	for _, r := range rejects {
		for _, s := range []string{r.Dataset, r.File, r.Key, r.Reason, r.Detail} {
			if !utf8.ValidString(s) {
				t.Errorf("published reject %+v is not UTF-8", r)
			}
		}
	}
	return day, rejects
}

type wantReject struct {
	file   string // base name
	row    int64
	key    string
	reason string
	detail string
}

func checkRejects(t *testing.T, got []source.Reject, want []wantReject) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("rejects = %+v, want %d", got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.Dataset != "transactions" || filepath.Base(g.File) != w.file || g.Row != w.row || g.Key != w.key ||
			g.Reason != w.reason || !strings.Contains(g.Detail, w.detail) {
			t.Errorf("reject %d = %+v, want transactions %s row %d key %q %s with %q", i, g, w.file, w.row, w.key, w.reason, w.detail)
		}
	}
}

func manifestOf(t *testing.T, day string) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(day, "_manifest.json"))
	must(t, err)
	var m map[string]any
	must(t, json.Unmarshal(raw, &m))
	return m
}

// TestNightMoneyBeyondDecimal18: DuckDB's DECIMAL(38,2) amounts above
// 9999999999999999.99 are rejected rows (out_of_range), never read wrapped;
// the largest amount is booked exactly.
func TestNightMoneyBeyondDecimal18(t *testing.T) {
	n := valuesNight{txnFiles: []string{"../../pipeline/source/testdata/duckdb/money38.parquet"}}
	code, stderr, out := n.run(t)
	if code != 3 {
		t.Fatalf("exit %d, want 3 (rejects beyond the ratio)\n%s", code, stderr)
	}
	nothingPublished(t, out)

	code, stderr, out = n.run(t, "--max-reject-ratio", "1")
	if code != 0 {
		t.Fatalf("exit %d, want 0\n%s", code, stderr)
	}
	day, rejects := published(t, out)
	checkRejects(t, rejects, []wantReject{
		{"part-a.parquet", 1, "m2", "out_of_range", "amount=10000000000000000.00"},
		{"part-a.parquet", 2, "m3", "out_of_range", "amount=123456789012345678901234.56"},
		{"part-a.parquet", 3, "m4", "invalid_fee_rate", "fee_rate=0.500000: above max_fee_rate 0.050000"},
	})
	if got := manifestOf(t, day)["book"].(map[string]any)["exposure"]; got != "9999999999999999.99" {
		t.Errorf("book exposure = %v, want 9999999999999999.99 (m1)", got)
	}
}

// TestNightTenMaxPurchases: ten purchases of 9999999999999999.99 on one
// account would wrap int64; the night fails, naming the problem, and
// publishes nothing.
func TestNightTenMaxPurchases(t *testing.T) {
	var txns []txnRow
	for i := range 10 {
		txns = append(txns, purchase("x"+string(rune('0'+i)), int64(billing.MaxMoney), 1, 0))
	}
	code, stderr, out := valuesNight{txns: txns}.run(t)
	if code != 1 || !strings.Contains(stderr, "amount out of range") {
		t.Fatalf("exit %d, want 1 with \"amount out of range\"\n%s", code, stderr)
	}
	if strings.Contains(stderr, "9999999999999999") {
		t.Errorf("amounts logged above debug level:\n%s", stderr)
	}
	nothingPublished(t, out)
}

// TestNightMasterLimitBeyondRange: a credit_limit beyond DECIMAL(18,2) in
// the accounts master stops the first run.
func TestNightMasterLimitBeyondRange(t *testing.T) {
	n := valuesNight{master: []masterRow{{AccountID: 1, CustomerID: "c1", OpenedOn: int32(billing.NewDate(2023, 1, 1)),
		Status: "active", CreditLimit: ptr(int64(billing.MaxMoney) + 1), BillingDay: 15}}}
	code, stderr, out := n.run(t)
	if code != 1 || !strings.Contains(stderr, "out_of_range") {
		t.Fatalf("exit %d, want 1 naming out_of_range\n%s", code, stderr)
	}
	nothingPublished(t, out)
}

// TestNightFeeRates: a fee rate above max_fee_rate and an over-long id are
// rejected rows; under a policy that allows 1 a month, a plan whose APR
// DECIMAL(9,6) cannot hold (1 a month over 24 periods: an effective rate
// of thousands) is published with null rates, over the cap.
func TestNightFeeRates(t *testing.T) {
	long := strings.Repeat("L", 65)
	n := valuesNight{txns: []txnRow{
		purchase("f1", 1_000_000, 3, 200_000_000), // 200 a month
		purchase(long, 1_000_000, 3, 5000),
		purchase("f3", 1_000_000, 24, 1_000_000), // 1 a month
		purchase("f4", 1_200_00, 12, 5000),
	}}
	code, stderr, out := n.run(t, "--max-reject-ratio", "1")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	_, rejects := published(t, out)
	checkRejects(t, rejects, []wantReject{
		{"part-0.parquet", 0, "f1", "invalid_fee_rate", "fee_rate=200.000000: above max_fee_rate 0.050000"},
		{"part-0.parquet", 1, long[:64] + "…", "id_too_long", "txn_id: 65 bytes, at most 64"},
		{"part-0.parquet", 2, "f3", "invalid_fee_rate", "fee_rate=1.000000"},
	})

	n.policy = "  max_fee_rate: 1\n"
	code, stderr, out = n.run(t, "--max-reject-ratio", "1")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	day, rejects := published(t, out)
	checkRejects(t, rejects, []wantReject{
		{"part-0.parquet", 0, "f1", "invalid_fee_rate", "fee_rate=200.000000: above max_fee_rate 1.000000"},
		{"part-0.parquet", 1, long[:64] + "…", "id_too_long", "txn_id: 65 bytes, at most 64"},
	})
	plansFile := filepath.Join(day, "installment_plans.parquet")
	plans, err := parquet.ReadFile[billing.PlanRow](plansFile)
	must(t, err)
	f, err := os.Open(plansFile)
	must(t, err)
	defer f.Close()
	st, err := f.Stat()
	must(t, err)
	pf, err := parquet.OpenFile(f, st.Size())
	must(t, err)
	for _, col := range []string{"apr_nominal", "apr_effective"} {
		field, ok := pf.Schema().Lookup(col)
		if !ok || !field.Node.Optional() || field.Node.Type().LogicalType().String() != "DECIMAL(9,6)" {
			t.Errorf("installment_plans.%s: %v %v, want an optional DECIMAL(9,6)", col, field.Node, field.Node.Type().LogicalType())
		}
	}
	slices.SortFunc(plans, func(a, b billing.PlanRow) int { return strings.Compare(a.TxnID, b.TxnID) })
	if len(plans) != 2 {
		t.Fatalf("plans = %+v, want f3, f4", plans)
	}
	if p := plans[0]; p.APRNominal != nil || p.APREffective != nil || !p.OverCap { // 1 a month over 24
		t.Errorf("plan %s: APR %v / %v, over_cap %v; want null, null, true", p.TxnID, p.APRNominal, p.APREffective, p.OverCap)
	}
	if p := plans[1]; p.APRNominal == nil || *p.APRNominal != 108964 || p.APREffective == nil || *p.APREffective != 114574 || p.OverCap {
		t.Errorf("plan f4: APR %v / %v, over_cap %v; want 0.108964 / 0.114574, false", p.APRNominal, p.APREffective, p.OverCap)
	}
}

// TestNightInvalidUTF8: a GBK id in DuckDB's BLOB column is a rejected row
// (invalid_utf8) and the published rejects are UTF-8.
func TestNightInvalidUTF8(t *testing.T) {
	n := valuesNight{txnFiles: []string{"../../pipeline/source/testdata/duckdb/gbk.parquet"}}
	code, stderr, out := n.run(t, "--max-reject-ratio", "1")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	_, rejects := published(t, out)
	checkRejects(t, rejects, []wantReject{
		{"part-a.parquet", 1, "\uFFFD", "invalid_utf8", `txn_id="\xb0\xfc\xc0\xa8": not UTF-8`},
	})
	code, stderr, out = n.run(t)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, stderr)
	}
	nothingPublished(t, out)
}

// TestNightNaiveTimestamps: DuckDB's TIMESTAMP (no time zone) fails the
// night with a schema error naming the file, the column and the setting;
// with local_timestamps_zone it is read as Shanghai wall time.
func TestNightNaiveTimestamps(t *testing.T) {
	n := valuesNight{txnFiles: []string{"../../pipeline/source/testdata/duckdb/naive.parquet"}}
	code, stderr, out := n.run(t)
	if code != 1 || !strings.Contains(stderr, "part-a.parquet: column posted_at") ||
		!strings.Contains(stderr, "timestamp without time zone; set billing.local_timestamps_zone in the policy to the zone it was written in") {
		t.Fatalf("exit %d, want 1 with the schema error\n%s", code, stderr)
	}
	nothingPublished(t, out)

	n.policy = "  local_timestamps_zone: Asia/Shanghai\n"
	code, stderr, out = n.run(t)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	day, rejects := published(t, out)
	if len(rejects) != 0 {
		t.Errorf("rejects = %+v, want none", rejects)
	}
	// n1 (10:00) and n2 (23:59) are of 2024-03-01 in Shanghai; n3 of the
	// next day.
	book := manifestOf(t, day)["book"].(map[string]any)
	if got := book["exposure"]; got != "30.00" {
		t.Errorf("book exposure = %v, want 30.00 (n1 + n2)", got)
	}
}
