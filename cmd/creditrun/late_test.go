package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/source"
)

// The end-to-end nights of late events: one account (billing day 1) that
// buys 1000.00 on 2025-02-10, billed on the 2025-03-01 statement (due
// 2025-03-10, minimum 100.00), backfilled from 2025-02-01 with the real
// binary on dt= partitions that say when each event arrived.

const lateFrom = "2025-02-01"

// lateNoon is noon in Shanghai on day (04:00 UTC, the same date).
func lateNoon(day string) int64 {
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		panic(err)
	}
	return d.Add(4 * time.Hour).UnixMicro()
}

// arrival is an event and the dt= partition it arrives in.
type arrival struct {
	dt  string
	txn *txnRow
	rep *repaymentRow
}

func lateRepayment(id, paid, amount string) *repaymentRow {
	m, err := billing.ParseMoney(amount)
	if err != nil {
		panic(err)
	}
	return &repaymentRow{RepaymentID: id, AccountID: 1, PaidAt: lateNoon(paid), Amount: int64(m), Channel: "app", Status: "succeeded"}
}

// lateBook writes the master and the events and backfills lateFrom..to;
// it returns the output directory.
func lateBook(t *testing.T, to string, arrivals ...arrival) string {
	t.Helper()
	dir := t.TempDir()
	events, master, out := filepath.Join(dir, "events"), filepath.Join(dir, "accounts"), filepath.Join(dir, "out")
	must(t, os.MkdirAll(master, 0o755))
	must(t, parquet.WriteFile(filepath.Join(master, "part-0.parquet"), []masterRow{{AccountID: 1, CustomerID: "c1",
		OpenedOn: int32(billing.NewDate(2024, 1, 1)), Status: "active", CreditLimit: ptr(int64(1_000_000)), BillingDay: 1}}))
	one, zero := int32(1), int32(0)
	bought := txnRow{TxnID: "P1", AccountID: 1, PostedAt: lateNoon("2025-02-10"), Kind: "purchase", Amount: 100000,
		Installments: &one, FeeRate: &zero}
	txns := map[string][]txnRow{"2025-02-10": {bought}}
	reps := map[string][]repaymentRow{}
	for _, a := range arrivals {
		if a.txn != nil {
			txns[a.dt] = append(txns[a.dt], *a.txn)
		}
		if a.rep != nil {
			reps[a.dt] = append(reps[a.dt], *a.rep)
		}
	}
	first, _ := time.Parse(time.DateOnly, lateFrom)
	last, _ := time.Parse(time.DateOnly, to)
	for d := first.AddDate(0, 0, -1); !d.After(last.AddDate(0, 0, 1)); d = d.AddDate(0, 0, 1) {
		dt := d.Format(time.DateOnly)
		for _, ds := range []string{"transactions", "repayments"} {
			must(t, os.MkdirAll(filepath.Join(events, ds, "dt="+dt), 0o755))
		}
		must(t, parquet.WriteFile(filepath.Join(events, "transactions", "dt="+dt, "part-0.parquet"), txns[dt]))
		must(t, parquet.WriteFile(filepath.Join(events, "repayments", "dt="+dt, "part-0.parquet"), reps[dt]))
	}
	code, stderr := creditrun(t, nil, "backfill", "--from", lateFrom, "--to", to, "--events", events, "--out", out,
		"--state", master, "--max-reject-ratio", "1")
	if code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	return out
}

func readDay[T any](t *testing.T, out, day, table string) []T {
	t.Helper()
	rows, err := parquet.ReadFile[T](filepath.Join(out, "as_of="+day, table+".parquet"))
	must(t, err)
	return rows
}

// pastDue returns the days from..to on which the account was past due.
func pastDue(t *testing.T, out, from, to string) []string {
	t.Helper()
	var days []string
	first, _ := time.Parse(time.DateOnly, from)
	last, _ := time.Parse(time.DateOnly, to)
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		if rows := readDay[billing.DelinquencyRow](t, out, d.Format(time.DateOnly), "delinquency"); len(rows) > 0 {
			days = append(days, d.Format(time.DateOnly))
		}
	}
	return days
}

func overdueNotices(t *testing.T, out, from, to string) []string {
	t.Helper()
	var refs []string
	first, _ := time.Parse(time.DateOnly, from)
	last, _ := time.Parse(time.DateOnly, to)
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		for _, n := range readDay[billing.Notice](t, out, d.Format(time.DateOnly), "notices") {
			if n.Kind == string(billing.NoticeOverdue) {
				refs = append(refs, n.Reference)
			}
		}
	}
	return refs
}

// lines returns the kind, event date, ref and amount of each line of the
// statement the run for day issued.
func lines(t *testing.T, out, day string) []string {
	t.Helper()
	var s []string
	for _, l := range readDay[billing.LineRow](t, out, day, "statement_lines") {
		ref := ""
		if l.Ref != nil {
			ref = *l.Ref
		}
		s = append(s, l.Kind+" "+l.EventDate.String()+" "+ref+" "+l.Amount.String())
	}
	return s
}

func rejectsOf(t *testing.T, out, day string) []string {
	t.Helper()
	var s []string
	for _, r := range readDay[source.Reject](t, out, day, "rejects") {
		s = append(s, r.Dataset+" "+r.Key+" "+r.Reason)
	}
	return s
}

// TestNightLateRepayment: paid on the due date, reported three days late:
// applied the night it arrives, the account is current from then on, no
// overdue notice at DPD 3, and the fees of the two days past due are waived
// on the next statement, which then owes nothing.
func TestNightLateRepayment(t *testing.T) {
	out := lateBook(t, "2025-03-31", arrival{dt: "2025-03-13", rep: lateRepayment("R1", "2025-03-10", "1000.00")})
	if got, want := pastDue(t, out, "2025-03-09", "2025-03-31"), []string{"2025-03-11", "2025-03-12"}; !slices.Equal(got, want) {
		t.Errorf("past due on %v, want %v", got, want)
	}
	if got, want := overdueNotices(t, out, "2025-03-11", "2025-03-31"), []string{"2025-03-01/dpd1"}; !slices.Equal(got, want) {
		t.Errorf("overdue notices %v, want %v", got, want)
	}
	want := []string{"payment 2025-03-10 R1 -1000.00", "waiver 2025-03-13 R1 -1.10", "revolving_fee 2025-04-01  1.00", "penalty 2025-04-01  0.10"}
	if got := lines(t, out, "2025-03-31"); !slices.Equal(got, want) {
		t.Errorf("statement 2025-04-01 lines %q, want %q", got, want)
	}
	st := readDay[billing.StatementRow](t, out, "2025-03-31", "statements")
	if len(st) != 1 || st[0].NewBalance != 0 {
		t.Errorf("statement 2025-04-01 = %+v, want a new balance of 0.00", st)
	}
	if r := rejectsOf(t, out, "2025-03-13"); len(r) != 0 {
		t.Errorf("rejects of 2025-03-13 = %v, want none", r)
	}
}

// TestNightTooLate: a repayment that arrives beyond the late window is a
// rejected row of the night it arrives, and the account stays past due.
func TestNightTooLate(t *testing.T) {
	out := lateBook(t, "2025-03-14", arrival{dt: "2025-03-13", rep: lateRepayment("R1", "2025-03-05", "1000.00")})
	if got, want := rejectsOf(t, out, "2025-03-13"), []string{"repayments R1 too_late"}; !slices.Equal(got, want) {
		t.Errorf("rejects of 2025-03-13 = %v, want %v", got, want)
	}
	if got := pastDue(t, out, "2025-03-13", "2025-03-14"); len(got) != 2 {
		t.Errorf("past due on %v, want 2025-03-13 and 2025-03-14", got)
	}
}

// TestNightRedelivery: the same repayment delivered on two nights is
// applied once; the second delivery is a rejected row.
func TestNightRedelivery(t *testing.T) {
	r := lateRepayment("R1", "2025-03-10", "1000.00")
	out := lateBook(t, "2025-03-31", arrival{dt: "2025-03-10", rep: r}, arrival{dt: "2025-03-13", rep: r})
	if got, want := rejectsOf(t, out, "2025-03-13"), []string{"repayments R1 duplicate_id"}; !slices.Equal(got, want) {
		t.Errorf("rejects of 2025-03-13 = %v, want %v", got, want)
	}
	if got := pastDue(t, out, "2025-03-09", "2025-03-31"); len(got) != 0 {
		t.Errorf("past due on %v, want never", got)
	}
	st := readDay[billing.StatementRow](t, out, "2025-03-31", "statements")
	if len(st) != 1 || st[0].Payments != 100000 || st[0].NewBalance != 0 {
		t.Errorf("statement 2025-04-01 = %+v, want 1000.00 paid once, nothing owed", st)
	}
}

// TestNightLatePurchase: a purchase of 2025-02-28, the last day of the
// cycle billed on 2025-03-01, that arrives on 2025-03-02 is billed on the
// next statement with its own date.
func TestNightLatePurchase(t *testing.T) {
	one, zero := int32(1), int32(0)
	late := &txnRow{TxnID: "P2", AccountID: 1, PostedAt: lateNoon("2025-02-28"), Kind: "purchase", Amount: 12000,
		Installments: &one, FeeRate: &zero}
	out := lateBook(t, "2025-03-31", arrival{dt: "2025-03-02", txn: late},
		arrival{dt: "2025-03-05", rep: lateRepayment("R1", "2025-03-05", "1000.00")})
	if got, want := lines(t, out, "2025-02-28"), []string{"purchase 2025-02-10 P1 1000.00"}; !slices.Equal(got, want) {
		t.Errorf("statement 2025-03-01 lines %q, want %q", got, want)
	}
	want := []string{"purchase 2025-02-28 P2 120.00", "payment 2025-03-05 R1 -1000.00"}
	if got := lines(t, out, "2025-03-31"); !slices.Equal(got, want) {
		t.Errorf("statement 2025-04-01 lines %q, want %q", got, want)
	}
	if r := rejectsOf(t, out, "2025-03-02"); len(r) != 0 {
		t.Errorf("rejects of 2025-03-02 = %v, want none", r)
	}
}
