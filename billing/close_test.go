package billing

import (
	"errors"
	"strings"
	"testing"
)

// TestEventOrder: events apply in timestamp order across kinds; on a tie
// transactions come before repayments.
func TestEventOrder(t *testing.T) {
	cfg := DefaultConfig()
	day := mustDate(t, "2024-03-05")
	a := newTestAccount(day-30, 1, 1000000)
	ts := at(day, 9, 0)
	ev := &Events{
		Transactions: []Transaction{
			{TxnID: "P1", PostedAt: ts, Kind: Purchase, Amount: 10000, Installments: 1},
			{TxnID: "P2", PostedAt: ts + 2, Kind: Purchase, Amount: 20000, Installments: 1},
		},
		Repayments: []Repayment{
			{RepaymentID: "R0", PaidAt: ts - 1, Amount: 100, Status: Succeeded},
			{RepaymentID: "R1", PaidAt: ts, Amount: 500, Status: Succeeded},
		},
		Requests: []Request{{RequestID: "Q1", RequestedAt: ts, Kind: CloseAccount}},
	}
	var out Output
	if err := Close(&cfg, a, day, ev, &out); err != nil {
		t.Fatalf("Close(%s) = %v, want nil", day, err)
	}
	var got []string
	for _, l := range a.Pending {
		got = append(got, l.Ref)
	}
	if want := "R0 P1 R1 P2"; strings.Join(got, " ") != want {
		t.Errorf("Close(%s) applied %v, want %s", day, got, want)
	}
	if !a.CloseRequested || !strings.Contains(a.Note, "balance") {
		t.Errorf("close request: requested %v note %q, want waiting for the balance", a.CloseRequested, a.Note)
	}
}

func TestReminders(t *testing.T) {
	cfg := DefaultConfig()
	day := mustDate(t, "2024-03-03")
	tests := []struct {
		grade     string
		dueIn     int
		paid      bool
		reference string // "" for no reminder
	}{
		{grade: "B", dueIn: 5, reference: "2024-03-01/5"},
		{grade: "B", dueIn: 1, reference: "2024-03-01/1"},
		{grade: "B", dueIn: 7},
		{grade: "D", dueIn: 7, reference: "2024-03-01/7"},
		{grade: "E", dueIn: 2, reference: "2024-03-01/2"},
		{grade: "B", dueIn: 5, paid: true},
	}
	for _, tt := range tests {
		a := newTestAccount(day-100, 1, 1000000)
		a.Grade = tt.grade
		min := Money(5000)
		if tt.paid {
			min = 0
		}
		a.Statements = []Statement{{Date: mustDate(t, "2024-03-01"), DueDate: day.AddDays(tt.dueIn), MinimumDue: 5000, MinRemaining: min,
			Owed: Components{PurchasePrincipal: 50000}}}
		a.LastStatement, a.LastBalance = a.Statements[0].Date, 50000
		var out Output
		if err := Close(&cfg, a, day, nil, &out); err != nil {
			t.Fatalf("Close(%s) = %v, want nil", day, err)
		}
		ref := ""
		for _, n := range out.Notices {
			if n.Kind == string(NoticeDueReminder) {
				ref = n.Reference
				if n.Channel != "push" || n.Amount == nil || *n.Amount != min || n.NoticeID != NoticeID(a.ID, NoticeDueReminder, ref) {
					t.Errorf("reminder %+v: want push, amount %s, stable id", n, min)
				}
			}
		}
		if ref != tt.reference {
			t.Errorf("Close(%s) grade %s due in %d paid %v: reminder %q, want %q", day, tt.grade, tt.dueIn, tt.paid, ref, tt.reference)
		}
	}
}

func TestCloseWaitsForPlans(t *testing.T) {
	cfg := DefaultConfig()
	day := mustDate(t, "2024-03-05")
	a := newTestAccount(day-100, 1, 1000000)
	a.Plans = []Plan{NewPlan("I1", day-10, 30000, 3, 0)}
	a.Purchases = []PurchaseRef{{TxnID: "I1", Date: day - 10, Amount: 30000, Installments: 3}}
	ev := &Events{Requests: []Request{{RequestID: "Q1", RequestedAt: at(day, 9, 0), Kind: CloseAccount}}}
	var out Output
	if err := Close(&cfg, a, day, ev, &out); err != nil {
		t.Fatalf("Close(%s) = %v, want nil", day, err)
	}
	if a.Status != Active || !strings.Contains(a.Note, "plan") {
		t.Errorf("Close(%s) with an open plan: status %s note %q, want active, waiting for the plan", day, a.Status, a.Note)
	}
	// A full refund cancels the plan; the closure completes the same day.
	ev = &Events{Transactions: []Transaction{{TxnID: "F1", PostedAt: at(day+1, 9, 0), Kind: Refund, Amount: 30000, RefTxnID: "I1"}}}
	out.Reset()
	if err := Close(&cfg, a, day+1, ev, &out); err != nil {
		t.Fatalf("Close(%s) = %v, want nil", day+1, err)
	}
	if a.Status != Closed || len(out.Notices) != 1 || out.Notices[0].Kind != string(NoticeClosed) || len(out.Bureau) != 1 || out.Bureau[0].Status != "C" {
		t.Errorf("after the refund: status %s notices %+v bureau %+v, want closed, account_closed, C", a.Status, out.Notices, out.Bureau)
	}
}

// TestUnbalanced: a corrupted state is caught, not carried forward.
func TestUnbalanced(t *testing.T) {
	cfg := DefaultConfig()
	day := mustDate(t, "2024-03-31")
	a := newTestAccount(day-100, 1, 1000000)
	a.Cycle.Purchases = 10000
	a.LastBalance = 123 // the previous statement's balance disagrees with the state
	var out Output
	err := Close(&cfg, a, day, nil, &out)
	if !errors.Is(err, ErrUnbalanced) {
		t.Errorf("Close(%s) = %v, want ErrUnbalanced", day, err)
	}
}
