package policy

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// closedAccount is an account the customer closed on 2025-05-01 after a
// clean year, with a good bureau score.
func closedAccount() billing.Account {
	return billing.Account{
		ID: 7, CustomerID: "c7", OpenedOn: billing.NewDate(2023, time.January, 10), Status: billing.Closed,
		ActivatedOn: billing.NewDate(2023, time.January, 10), Limit: 500_000, BillingDay: 1,
		ExternalScore: 760, HasExternalScore: true,
		ClosedOn: billing.NewDate(2025, time.May, 1), ClosedBy: billing.ClosedByCustomer,
		LastPastDue: billing.NewDate(2024, time.March, 3),
	}
}

func TestNightReopen(t *testing.T) {
	day := billing.NewDate(2025, time.June, 15)
	tests := []struct {
		name    string
		edit    func(a *billing.Account)
		granted bool
		reason  string                // part of a reason of a refusal
		limits  func(*scoring.Limits) // edits the default policy's
	}{
		{name: "granted", granted: true},
		{name: "closed by the platform", edit: func(a *billing.Account) { a.ClosedBy = billing.ClosedByPlatform }, granted: true},
		{name: "charged off", edit: func(a *billing.Account) { a.ClosedBy, a.ChargedOff = billing.ClosedByChargeOff, 100_00 },
			reason: "closed by charge-off"},
		{name: "closed for fraud", edit: func(a *billing.Account) { a.ClosedBy = billing.ClosedByFraud }, reason: "closed for fraud"},
		{name: "fraud flag", edit: func(a *billing.Account) { a.Fraud = true }, reason: "fraud flag"},
		{name: "closure reason unknown", edit: func(a *billing.Account) { a.ClosedBy = "" }, reason: "closure reason unknown"},
		{name: "waiting period", edit: func(a *billing.Account) { a.ClosedOn = day - 29 },
			reason: "29 days < reopen.wait_days 30"},
		{name: "waiting period just over", edit: func(a *billing.Account) { a.ClosedOn = day - 30 }, granted: true},
		{name: "delinquent within the look-back", edit: func(a *billing.Account) { a.LastPastDue = billing.NewDate(2024, time.May, 1) },
			reason: "past due on 2024-05-01, within reopen.lookback_months 12"},
		{name: "delinquent just before the look-back", edit: func(a *billing.Account) { a.LastPastDue = billing.NewDate(2024, time.April, 30) },
			granted: true},
		{name: "grade that does not reopen", limits: func(l *scoring.Limits) { l.Reopen.Grades = []string{"B", "C"} },
			reason: "grade A does not reopen (reopen.grades)"},
		{name: "grade without an initial limit", limits: func(l *scoring.Limits) {
			l.Grades = slices.Clone(l.Grades)
			l.Grades[0].Decline, l.Grades[0].Initial = true, 0
		}, reason: "grade A grants no initial limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := *Default()
			if tt.limits != nil {
				tt.limits(&p.Scoring.Limits)
			}
			a := closedAccount()
			if tt.edit != nil {
				tt.edit(&a)
			}
			ev := billing.Events{Requests: []billing.Request{{RequestID: "rq1", AccountID: a.ID,
				RequestedAt: day.Time().Add(2 * time.Hour).UnixMicro(), Kind: billing.ReopenAccount}}}
			var out billing.Output
			var as Assessment
			assessed, err := p.Night(&a, day, &ev, &out, &as)
			if err != nil || !assessed {
				t.Fatalf("Night = %v, %v, want an assessment", assessed, err)
			}
			d := as.Decision
			kinds := kindsOf(&out)
			if tt.granted {
				if d.Action != billing.ActionReopen || a.Status != billing.Active || a.Limit != d.NewLimit || d.NewLimit <= 0 {
					t.Fatalf("decision %+v, account %s limit %s, want reopened", d, a.Status, a.Limit)
				}
				gl := p.Scoring.Limits.Grades[slices.IndexFunc(p.Scoring.Limits.Grades, func(g scoring.GradeLimit) bool { return g.Grade == d.Grade })]
				if d.NewLimit != gl.Initial {
					t.Errorf("limit %s, want grade %s's initial %s", d.NewLimit, d.Grade, gl.Initial)
				}
				if a.ClosedOn != 0 || a.ClosedBy != "" || a.LimitChangedOn != day {
					t.Errorf("closed_on %s closed_by %q limit_changed_on %s after reopening", a.ClosedOn, a.ClosedBy, a.LimitChangedOn)
				}
				if !slices.Equal(kinds, []string{string(billing.NoticeReopened)}) || *out.Notices[0].Amount != d.NewLimit {
					t.Errorf("notices %+v, want one account_reopened naming the limit", out.Notices)
				}
				return
			}
			if d.Action != billing.ActionReopenDeclined || a.Status != billing.Closed || d.NewLimit != d.OldLimit {
				t.Fatalf("decision %+v, account %s, want reopen_declined and still closed", d, a.Status)
			}
			if !strings.Contains(d.Text(), tt.reason) || !strings.Contains(a.Note, tt.reason) {
				t.Errorf("reasons %q, note %q, want %q", d.Text(), a.Note, tt.reason)
			}
			if !slices.Equal(kinds, []string{string(billing.NoticeRequestDeclined)}) || out.Notices[0].Reference != "rq1" {
				t.Errorf("notices %+v, want one request_declined for rq1", out.Notices)
			}
		})
	}
}

// A reopen request of an account that is not closed is declined by
// billing at once, and the night goes on as usual.
func TestNightReopenNotClosed(t *testing.T) {
	day := billing.NewDate(2025, time.June, 15)
	a := closedAccount()
	a.Status, a.ClosedOn, a.ClosedBy = billing.Active, 0, ""
	ev := billing.Events{Requests: []billing.Request{{RequestID: "rq2", AccountID: a.ID,
		RequestedAt: day.Time().UnixMicro(), Kind: billing.ReopenAccount}}}
	var out billing.Output
	var as Assessment
	if _, err := Default().Night(&a, day, &ev, &out, &as); err != nil {
		t.Fatal(err)
	}
	if as.Decision.Action == billing.ActionReopen || as.Decision.Action == billing.ActionReopenDeclined || len(out.Reopens) != 0 {
		t.Errorf("decision %+v, reopens %v: an active account is decided as usual", as.Decision, out.Reopens)
	}
	if !strings.Contains(a.Note, "not closed") || !slices.Contains(kindsOf(&out), string(billing.NoticeRequestDeclined)) {
		t.Errorf("note %q, notices %v, want the request declined", a.Note, kindsOf(&out))
	}
}

func kindsOf(out *billing.Output) []string {
	var k []string
	for _, n := range out.Notices {
		k = append(k, n.Kind)
	}
	return k
}
