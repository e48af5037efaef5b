package scoring

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
)

func TestDecide(t *testing.T) {
	longAgo := billing.NewDate(2024, time.June, 1)
	recent := asOf - 10
	busy := cyc{spend: 6000, billed: 6000, paid: 6000, balance: 6000, limit: 10000, min: 600}
	owing := func(a *billing.Account, owed float64) *billing.Account {
		a.Statements = []billing.Statement{{
			Date: asOf - 14, DueDate: asOf - 5, NewBalance: yuanM(owed), MinimumDue: yuanM(owed / 10),
			Owed: billing.Components{billing.PurchasePrincipal: yuanM(owed)},
		}}
		return a
	}
	tests := []struct {
		name       string
		acct       func() *billing.Account
		grade      string
		action     billing.LimitAction
		newLimit   float64
		below      bool
		reasonPart string
	}{
		{"pending activated", func() *billing.Account {
			return &billing.Account{Status: billing.Pending}
		}, "B", billing.ActionActivate, 5000, false, "initial limit 5000.00"},
		{"pending declined by grade", func() *billing.Account {
			return &billing.Account{Status: billing.Pending}
		}, "E", billing.ActionDecline, 0, false, "declined by policy"},
		{"pending fraud declined", func() *billing.Account {
			return &billing.Account{Status: billing.Pending, Fraud: true}
		}, "A", billing.ActionDecline, 0, false, "fraud"},
		{"frozen stays frozen", func() *billing.Account {
			a := transactor()
			a.Status, a.FrozenOn = billing.Frozen, recent
			return a
		}, "A", billing.ActionFreeze, 10000, false, "frozen since"},
		{"past freeze_dpd", defaulter, "E", billing.ActionFreeze, 10000, false, "days past due > freeze_dpd 30"},
		{"fraud flag freezes", func() *billing.Account {
			a := transactor()
			a.Fraud = true
			return a
		}, "A", billing.ActionFreeze, 10000, false, "fraud"},
		{"grade E cut", transactor, "E", billing.ActionDecrease, 7000, false, "grade E cuts 30%"},
		{"recent delinquency cut", latePayer, "C", billing.ActionDecrease, 8000, false, "recent delinquency"},
		{"cut deferred by cooling", func() *billing.Account {
			a := transactor()
			a.LimitChangedOn = recent
			return a
		}, "E", billing.ActionKeep, 10000, false, "cut deferred"},
		{"cut stops at the balance", func() *billing.Account {
			return owing(transactor(), 8000.55)
		}, "E", billing.ActionDecrease, 8000.55, false, "cut stops at the balance 8000.55"},
		{"no cut when the balance fills the limit", func() *billing.Account {
			return owing(transactor(), 10000)
		}, "E", billing.ActionKeep, 10000, false, "no cut"},
		{"increase", func() *billing.Account {
			return account(repeat(12, busy)...)
		}, "A", billing.ActionIncrease, 12000, false, "increase 20%"},
		{"increase capped by max_limit", func() *billing.Account {
			a := account(repeat(12, busy)...)
			a.Limit = yuanM(45000)
			return a
		}, "A", billing.ActionIncrease, 50000, false, "capped at the limit cap 50000.00"},
		{"increase capped by the grade", func() *billing.Account {
			a := account(repeat(12, busy)...)
			a.Limit = yuanM(14000)
			return a
		}, "C", billing.ActionIncrease, 15000, false, "capped"},
		{"at the cap", func() *billing.Account {
			a := account(repeat(12, busy)...)
			a.Limit = yuanM(15000)
			return a
		}, "C", billing.ActionKeep, 15000, false, "at the cap"},
		{"no increase in cooling period", func() *billing.Account {
			a := account(repeat(12, busy)...)
			a.LimitChangedOn = recent
			return a
		}, "A", billing.ActionKeep, 10000, false, "increase_cooling_days"},
		{"no increase at low utilization", transactor, "A", billing.ActionKeep, 10000, false, "utilization 0.20 <"},
		{"no increase after dpd in 6 cycles", func() *billing.Account {
			cs := repeat(12, busy)
			cs[7].dpd = 3
			return account(cs...)
		}, "A", billing.ActionKeep, 10000, false, "days past due within 6 cycles"},
		{"grade without increase", func() *billing.Account {
			return account(repeat(12, busy)...)
		}, "D", billing.ActionKeep, 10000, false, "no increase"},
	}
	c := mustDefault()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.acct()
			a.LimitChangedOn = max(a.LimitChangedOn, 0)
			if a.LimitChangedOn == 0 && a.Status != billing.Pending {
				a.LimitChangedOn = longAgo
			}
			before := cloneAccount(a)
			r := Result{Score: 600, Grade: tt.grade, Reasons: [NumReasons]string{"X"}}
			d := c.Decide(a, asOf, &r)
			if d.Action != tt.action || d.NewLimit != yuanM(tt.newLimit) || d.BelowBalance != tt.below {
				t.Errorf("Decide = %s %s→%s below=%v, want %s %s below=%v\nreasons: %q",
					d.Action, d.OldLimit, d.NewLimit, d.BelowBalance, tt.action, yuanM(tt.newLimit), tt.below, d.Text())
			}
			if d.OldLimit != a.Limit || d.Grade != tt.grade {
				t.Errorf("Decide: OldLimit %s grade %s, want %s %s", d.OldLimit, d.Grade, a.Limit, tt.grade)
			}
			if !strings.Contains(d.Text(), tt.reasonPart) {
				t.Errorf("Decide reasons %q, want one containing %q", d.Text(), tt.reasonPart)
			}
			if !reflect.DeepEqual(a, before) {
				t.Error("Decide changed the account")
			}
		})
	}
}

func TestDecideCutBelowBalance(t *testing.T) {
	c := DefaultConfig()
	c.Limits.CutBelowBalance = true
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	a := transactor()
	a.Statements = []billing.Statement{{Owed: billing.Components{billing.PurchasePrincipal: yuanM(9000)}}}
	r := Result{Grade: "E"}
	d := c.Decide(a, asOf, &r)
	if d.Action != billing.ActionDecrease || d.NewLimit != yuanM(7000) || !d.BelowBalance {
		t.Fatalf("Decide = %+v, want decrease to 7000.00 below the balance", d)
	}
	if !strings.Contains(d.Text(), "below the balance 9000.00") {
		t.Errorf("reasons %q do not say the limit is below the balance", d.Text())
	}
	row := NewDecisionRow(a, asOf, &d, "abc", new(Nullables))
	if !row.BelowBalance || row.PolicyVersion != "abc" || row.Action != "decrease" || row.Reasons != "GRADE_CUT;CUT_BELOW_BALANCE" || row.ReasonCode != "GRADE_CUT" {
		t.Errorf("NewDecisionRow = %+v", row)
	}
}

func cloneAccount(a *billing.Account) *billing.Account {
	b := *a
	b.Statements = append([]billing.Statement(nil), a.Statements...)
	b.History = append([]billing.CycleStats(nil), a.History...)
	return &b
}

func TestDecideMaxIncrease(t *testing.T) {
	c := DefaultConfig()
	c.Limits.MaxIncrease = yuanM(1050)
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	a := account(repeat(12, cyc{spend: 6000, billed: 6000, paid: 6000, balance: 6000, limit: 10000, min: 600})...)
	r := Result{Grade: "A"}
	d := c.Decide(a, asOf, &r)
	// 10000 + 1050, rounded down to 100.
	if d.Action != billing.ActionIncrease || d.NewLimit != yuanM(11000) {
		t.Errorf("Decide = %s %s, want increase to 11000.00 (reasons %q)", d.Action, d.NewLimit, d.Text())
	}
}
