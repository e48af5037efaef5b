package billing

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

// april is a Shanghai wall time in April 2025, in microseconds UTC.
func april(d, h, min int) int64 { return at(NewDate(2025, time.April, d), h, min) }

// incidentAccount owes 1000.00 from the statement of 2025-04-01, due
// 2025-04-10, minimum 100.00.
func incidentAccount() Account {
	due := NewDate(2025, time.April, 10)
	return Account{ID: 1, Status: Active, BillingDay: 1, Limit: 500_000, ActivatedOn: NewDate(2024, time.January, 1),
		LastStatement: NewDate(2025, time.April, 1), LastBalance: 100_000,
		Statements: []Statement{{Date: NewDate(2025, time.April, 1), DueDate: due, NewBalance: 100_000,
			MinimumDue: 10_000, MinRemaining: 10_000, Owed: Components{PurchasePrincipal: 100_000}}}}
}

// The outage of 2025-04-10 on auto_debit, recorded two days later.
var outage = Incident{IncidentID: "inc-1", Channel: ChannelAutoDebit,
	StartsAt: april(10, 0, 0), EndsAt: april(10, 23, 59), RecordedAt: april(12, 9, 0)}

// book is one account's nights, with what they produced.
type book struct {
	cfg Config
	a   Account
	out []Output // per night
}

func (b *book) night(t *testing.T, day Date, ev Events) *Output {
	t.Helper()
	ev.Incidents = []Incident{outage}
	var out Output
	if err := Close(&b.cfg, &b.a, day, &ev, &out); err != nil {
		t.Fatalf("Close %s: %v", day, err)
	}
	b.out = append(b.out, out)
	return &b.out[len(b.out)-1]
}

// runIncident runs 2025-04-10 to 2025-04-30 (the statement of 05-01) for
// an account whose deduction of 100.00 on the due date fails (on channel,
// at paidAt) and who pays the whole balance by app on 04-13.
func runIncident(t *testing.T, channel string, paidAt int64) *book {
	b := &book{cfg: DefaultConfig(), a: incidentAccount()}
	if err := b.cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	failed := Repayment{RepaymentID: "p-fail", AccountID: 1, PaidAt: paidAt, Amount: 10_000, Channel: channel,
		Status: Failed, FailureReason: FailureInsufficientFunds}
	paid := Repayment{RepaymentID: "p-ok", AccountID: 1, PaidAt: april(13, 20, 0), Amount: 100_000,
		Channel: ChannelApp, Status: Succeeded}
	for day := NewDate(2025, time.April, 9); day <= NewDate(2025, time.April, 30); day++ {
		var ev Events
		if LocalDate(paidAt, shanghai) == day {
			ev.Repayments = append(ev.Repayments, failed)
		}
		if day == NewDate(2025, time.April, 13) {
			ev.Repayments = append(ev.Repayments, paid)
		}
		b.night(t, day, ev)
	}
	return b
}

func (b *book) all() Output {
	var o Output
	for i := range b.out {
		x := &b.out[i]
		o.Statements = append(o.Statements, x.Statements...)
		o.Lines = append(o.Lines, x.Lines...)
		o.Delinquency = append(o.Delinquency, x.Delinquency...)
		o.Notices = append(o.Notices, x.Notices...)
		o.Bureau = append(o.Bureau, x.Bureau...)
	}
	return o
}

func count[T any](s []T, f func(*T) bool) int {
	n := 0
	for i := range s {
		if f(&s[i]) {
			n++
		}
	}
	return n
}

func TestIncidentRecordedLate(t *testing.T) {
	b := runIncident(t, ChannelAutoDebit, april(10, 8, 0))
	o := b.all()
	recorded := NewDate(2025, time.April, 12)
	newDue := NewDate(2025, time.April, 13)

	// The night of 04-11 did not know of the incident: it was past due.
	if n := count(b.out[2].Delinquency, func(*DelinquencyRow) bool { return true }); n != 1 {
		t.Errorf("delinquency on 04-11: %d rows, want 1 (the incident is not known yet)", n)
	}
	// From the night it is recorded, nothing is past due.
	if n := count(o.Delinquency, func(d *DelinquencyRow) bool { return d.AsOf >= recorded }); n != 0 {
		t.Errorf("%d delinquency rows from %s on, want none", n, recorded)
	}
	grace := slices.IndexFunc(o.Notices, func(n Notice) bool { return n.Kind == string(NoticeIncidentGrace) })
	if n := count(o.Notices, func(n *Notice) bool { return n.Kind == string(NoticeIncidentGrace) }); n != 1 || grace < 0 ||
		*o.Notices[grace].DueDate != newDue || o.Notices[grace].AsOf != recorded || o.Notices[grace].Reference != "inc-1" {
		t.Fatalf("notices %+v, want one incident_grace on %s with due date %s", o.Notices, recorded, newDue)
	}
	if n := count(o.Notices, func(n *Notice) bool { return n.Kind == string(NoticeOverdue) && n.AsOf >= recorded }); n != 0 {
		t.Errorf("%d overdue notices from %s on, want none", n, recorded)
	}
	// The statement of 05-01: what accrued on 04-11 is billed and waived.
	if len(o.Statements) != 1 {
		t.Fatalf("statements %+v, want the one of 05-01", o.Statements)
	}
	s := o.Statements[0]
	var penalty, revolving, waiver Money
	for _, l := range o.Lines {
		switch LineKind(l.Kind) {
		case LinePenalty:
			penalty += l.Amount
		case LineRevolvingFee:
			revolving += l.Amount
		case LineWaiver:
			waiver += l.Amount
			if *l.Ref != "inc-1" || l.EventDate != recorded {
				t.Errorf("waiver line %+v, want inc-1 of %s", l, recorded)
			}
		}
	}
	if penalty == 0 || penalty+revolving+waiver != 0 || s.Penalties != penalty {
		t.Errorf("penalty %s + revolving %s + waiver %s, want a waiver of both", penalty, revolving, waiver)
	}
	if want := Money(0); s.NewBalance != want {
		t.Errorf("new balance %s, want %s: the customer owes nothing for the outage", s.NewBalance, want)
	}
	if code := o.Bureau[len(o.Bureau)-1].Status; code != "N" && code != "*" {
		t.Errorf("bureau %s, want N or *", code)
	}
	// The failed deduction no longer counts; the history is clean.
	h := b.a.History[len(b.a.History)-1]
	if h.FailedDeductions != 0 || h.MaxDPD != 0 || b.a.FailedDeductions != 0 || b.a.LastPastDue != 0 {
		t.Errorf("history %+v, failed %d, last past due %s, want clean", h, b.a.FailedDeductions, b.a.LastPastDue)
	}
}

// A failure on another channel, or outside the window, still counts.
func TestIncidentUnaffected(t *testing.T) {
	for name, tt := range map[string]struct {
		channel string
		paidAt  int64
	}{
		"other channel":     {ChannelBankTransfer, april(10, 8, 0)},
		"before the window": {ChannelAutoDebit, april(9, 23, 0)},
	} {
		t.Run(name, func(t *testing.T) {
			b := runIncident(t, tt.channel, tt.paidAt)
			o := b.all()
			if n := count(o.Delinquency, func(*DelinquencyRow) bool { return true }); n != 2 {
				t.Errorf("%d delinquency rows, want 2 (04-11 and 04-12)", n)
			}
			if n := count(o.Notices, func(n *Notice) bool { return n.Kind == string(NoticeIncidentGrace) }); n != 0 {
				t.Errorf("%d incident_grace notices, want none", n)
			}
			if n := count(o.Lines, func(l *LineRow) bool { return l.Kind == string(LineWaiver) }); n != 0 {
				t.Errorf("%d waiver lines, want none", n)
			}
			h := b.a.History[len(b.a.History)-1]
			if h.FailedDeductions != 1 || h.MaxDPD != 2 || b.a.LastPastDue != NewDate(2025, time.April, 12) || h.Billed == 0 {
				t.Errorf("history %+v, last past due %s, want the failure, 2 days past due and their charges", h, b.a.LastPastDue)
			}
		})
	}
}

// Before the night of recorded_at the incident changes nothing.
func TestIncidentNotBeforeRecorded(t *testing.T) {
	with := runIncident(t, ChannelAutoDebit, april(10, 8, 0))
	cfg := DefaultConfig()
	a := incidentAccount()
	for i, day := 0, NewDate(2025, time.April, 9); day < NewDate(2025, time.April, 12); i, day = i+1, day+1 {
		var ev Events
		if day == NewDate(2025, time.April, 10) {
			ev.Repayments = []Repayment{{RepaymentID: "p-fail", AccountID: 1, PaidAt: april(10, 8, 0), Amount: 10_000,
				Channel: ChannelAutoDebit, Status: Failed, FailureReason: FailureInsufficientFunds}}
		}
		var out Output
		if err := Close(&cfg, &a, day, &ev, &out); err != nil {
			t.Fatal(err)
		}
		if got := with.out[i]; !reflect.DeepEqual(got, out) {
			t.Errorf("%s with the incident recorded later: %+v, without: %+v", day, got, out)
		}
	}
}

// An incident recorded after the statement that closed the cycle of its
// failed deduction corrects that cycle in the history: the night it is
// recorded, Close reports the history changed (the window features the
// scores read from it moved); the nights before it only on the statement.
func TestIncidentCorrectingHistoryChangesIt(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a := incidentAccount()
	late := outage
	late.RecordedAt = at(NewDate(2025, time.May, 3), 9, 0)
	failed := Repayment{RepaymentID: "p-fail", AccountID: 1, PaidAt: april(10, 8, 0), Amount: 10_000, Channel: ChannelAutoDebit,
		Status: Failed, FailureReason: FailureInsufficientFunds}
	var changed []Date
	for day := NewDate(2025, time.April, 9); day <= NewDate(2025, time.May, 4); day++ {
		ev := Events{Incidents: []Incident{late}}
		if day == NewDate(2025, time.April, 10) {
			ev.Repayments = []Repayment{failed}
		}
		var out Output
		if err := Close(&cfg, &a, day, &ev, &out); err != nil {
			t.Fatalf("Close %s: %v", day, err)
		}
		if a.HistoryChanged {
			changed = append(changed, day)
		}
	}
	want := []Date{NewDate(2025, time.April, 30), NewDate(2025, time.May, 3)} // the statement of 05-01; the correction
	if !slices.Equal(changed, want) {
		t.Errorf("history changed on %v, want %v", changed, want)
	}
	if h := a.History[len(a.History)-1]; h.FailedDeductions != 0 {
		t.Errorf("the closed cycle's failed deductions %d after the incident, want 0", h.FailedDeductions)
	}
}
