package main

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// The end-to-end nights of a platform incident: accounts 1 and 2 (billing
// day 3) each buy 1000.00 on 2025-03-01, billed on the statement of 03-03
// (due 03-12, minimum 100.00); the deduction of the minimum fails on the
// due date, for account 1 by auto_debit, for account 2 by bank_transfer;
// both pay the whole balance by app on 03-15. Risk operations record on
// 03-14 that auto_debit failed all of 03-12.

var shanghaiZone = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// shanghaiAt is a Shanghai wall time in March 2025, in microseconds UTC.
func shanghaiAt(d, h, m int) int64 {
	return time.Date(2025, time.March, d, h, m, 0, 0, shanghaiZone).UnixMicro()
}

const incidentTo = "2025-04-02" // the night of the statement of 04-03

func incidentBook(withIncident bool) *feedBook {
	a, b := onBook("2025-02-28"), onBook("2025-02-28")
	b.AccountID, b.CustomerID = 2, "c2"
	a.BillingDay, b.BillingDay = 3, 3
	book := newFeedBook(a, b)
	one, zero := int32(1), int32(0)
	for _, id := range []int64{1, 2} {
		book.txns["2025-03-01"] = append(book.txns["2025-03-01"], txnRow{TxnID: "P" + string(rune('0'+id)), AccountID: id,
			PostedAt: lateNoon("2025-03-01"), Kind: "purchase", Amount: 100000, Installments: &one, FeeRate: &zero})
		channel := billing.ChannelAutoDebit
		if id == 2 {
			channel = billing.ChannelBankTransfer
		}
		book.reps["2025-03-12"] = append(book.reps["2025-03-12"], repaymentRow{RepaymentID: "F" + string(rune('0'+id)), AccountID: id,
			PaidAt: shanghaiAt(12, 8, 0), Amount: 10000, Channel: channel, Status: "failed", FailureReason: ptr(billing.FailureInsufficientFunds)})
		paid := lateRepayment("R"+string(rune('0'+id)), "2025-03-15", "1000.00")
		paid.AccountID = id
		book.reps["2025-03-15"] = append(book.reps["2025-03-15"], *paid)
	}
	if withIncident {
		book.incidents = []incidentRow{{IncidentID: "inc-1", Channel: billing.ChannelAutoDebit, StartsAt: shanghaiAt(12, 0, 0),
			EndsAt: shanghaiAt(12, 23, 59), RecordedAt: shanghaiAt(14, 9, 0), Description: ptr("payment gateway outage")}}
	}
	return book
}

// delinquentDays returns the days from..to on which account id was past due.
func delinquentDays(t *testing.T, out string, id int64, from, to string) []string {
	t.Helper()
	var days []string
	first, _ := time.Parse(time.DateOnly, from)
	last, _ := time.Parse(time.DateOnly, to)
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		for _, r := range readDay[billing.DelinquencyRow](t, out, day, "delinquency") {
			if r.AccountID == id {
				days = append(days, day)
			}
		}
	}
	return days
}

// noticesOf returns account id's notices of the nights from..to.
func noticesOf(t *testing.T, out string, id int64, from, to string) []billing.Notice {
	t.Helper()
	var ns []billing.Notice
	first, _ := time.Parse(time.DateOnly, from)
	last, _ := time.Parse(time.DateOnly, to)
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		for _, n := range readDay[billing.Notice](t, out, d.Format(time.DateOnly), "notices") {
			if n.AccountID == id {
				ns = append(ns, n)
			}
		}
	}
	return ns
}

// charges sums account id's penalty, revolving fee and waiver lines of
// the statement the run for day issued.
func charges(t *testing.T, out, day string, id int64) (penalty, revolving, waiver billing.Money, waivers []billing.LineRow) {
	t.Helper()
	for _, l := range readDay[billing.LineRow](t, out, day, "statement_lines") {
		if l.AccountID != id {
			continue
		}
		switch billing.LineKind(l.Kind) {
		case billing.LinePenalty:
			penalty += l.Amount
		case billing.LineRevolvingFee:
			revolving += l.Amount
		case billing.LineWaiver:
			waiver += l.Amount
			waivers = append(waivers, l)
		}
	}
	return
}

// TestNightIncident: recorded two days after its window, the incident
// excuses account 1's failed auto_debit: from that night nothing is past
// due, what accrued is waived on the next statement, one incident_grace
// notice gives the new due date (03-12 + 3 days of grace). Account 2's
// failure on bank_transfer still counts.
func TestNightIncident(t *testing.T) {
	out := incidentBook(true).backfill(t, incidentTo)

	if got, want := delinquentDays(t, out, 1, "2025-03-12", incidentTo), []string{"2025-03-13"}; !slices.Equal(got, want) {
		t.Errorf("account 1 past due on %v, want %v: only before the incident was recorded", got, want)
	}
	var grace []billing.Notice
	for _, n := range noticesOf(t, out, 1, "2025-03-13", incidentTo) {
		switch billing.NoticeKind(n.Kind) {
		case billing.NoticeIncidentGrace:
			grace = append(grace, n)
		case billing.NoticeOverdue:
			if n.AsOf >= billing.NewDate(2025, 3, 14) {
				t.Errorf("account 1 overdue notice %+v after the incident was recorded", n)
			}
		}
	}
	if len(grace) != 1 || grace[0].AsOf != billing.NewDate(2025, 3, 14) || grace[0].Reference != "inc-1" ||
		grace[0].DueDate == nil || *grace[0].DueDate != billing.NewDate(2025, 3, 15) {
		t.Errorf("account 1 incident_grace notices %+v, want one on 2025-03-14 for inc-1, due 2025-03-15", grace)
	}
	penalty, revolving, waiver, waivers := charges(t, out, incidentTo, 1)
	if waiver == 0 || penalty+revolving+waiver != 0 || len(waivers) != 1 || *waivers[0].Ref != "inc-1" {
		t.Errorf("account 1: penalty %s, revolving %s, waiver lines %+v, want one inc-1 waiver of them all", penalty, revolving, waivers)
	}
	for _, s := range readDay[billing.StatementRow](t, out, incidentTo, "statements") {
		if s.AccountID == 1 && s.NewBalance != 0 {
			t.Errorf("account 1 statement of 04-03 = %+v, want nothing owed for the outage", s)
		}
	}
	if a := account(t, out, incidentTo, 1); a.FailedDeductions != 0 || a.LastPastDue != nil {
		t.Errorf("account 1 failed deductions %d, last past due %v, want a clean history", a.FailedDeductions, a.LastPastDue)
	}

	if got, want := delinquentDays(t, out, 2, "2025-03-12", incidentTo), []string{"2025-03-13", "2025-03-14"}; !slices.Equal(got, want) {
		t.Errorf("account 2 past due on %v, want %v", got, want)
	}
	for _, n := range noticesOf(t, out, 2, "2025-03-12", incidentTo) {
		if n.Kind == string(billing.NoticeIncidentGrace) {
			t.Errorf("account 2 notice %+v, want no incident_grace for another channel", n)
		}
	}
	penalty, revolving, waiver, _ = charges(t, out, incidentTo, 2)
	if penalty == 0 || revolving == 0 || waiver != 0 {
		t.Errorf("account 2: penalty %s, revolving %s, waiver %s, want its charges billed and none waived", penalty, revolving, waiver)
	}
	if a := account(t, out, incidentTo, 2); a.FailedDeductions == 0 || a.LastPastDue == nil {
		t.Errorf("account 2 failed deductions %d, last past due %v, want the failure counted", a.FailedDeductions, a.LastPastDue)
	}
}

// TestNightIncidentNotBeforeRecorded: the nights before recorded_at, run
// or re-run with the incident file present, publish what they publish
// without it.
func TestNightIncidentNotBeforeRecorded(t *testing.T) {
	const to = "2025-03-14"
	without := incidentBook(false).backfill(t, to)
	b := incidentBook(true)
	with := b.backfill(t, to)
	for _, day := range []string{"2025-03-12", "2025-03-13"} {
		equalTrees(t, filepath.Join(without, "as_of="+day), filepath.Join(with, "as_of="+day))
	}
	events := filepath.Join(filepath.Dir(with), "events")
	if code, stderr := creditrun(t, nil, "run", "--as-of", "2025-03-13", "--events", events, "--out", with); code != 0 {
		t.Fatalf("re-run of 2025-03-13: exit %d\n%s", code, stderr)
	}
	equalTrees(t, filepath.Join(without, "as_of=2025-03-13"), filepath.Join(with, "as_of=2025-03-13"))
	if got := delinquentDays(t, with, 1, "2025-03-14", to); len(got) != 0 {
		t.Errorf("account 1 past due on %v with the incident recorded, want never: the file was read", got)
	}
}
