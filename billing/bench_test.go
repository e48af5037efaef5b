package billing

import (
	"testing"
	"time"
)

// benchAccount is a typical account mid-cycle: two open statements, two
// plans, a few remembered purchases.
func benchAccount() *Account {
	d := NewDate(2025, 3, 1)
	a := newTestAccount(d-200, 1, 2000000)
	a.Grade = "B"
	a.Statements = []Statement{
		{Date: d - 28, DueDate: d - 19, NewBalance: 300000, MinimumDue: 30000, Owed: Components{PurchasePrincipal: 150000}},
		{Date: d, DueDate: d + 9, NewBalance: 250000, MinimumDue: 40000, MinRemaining: 40000, Owed: Components{InstallmentFee: 600, InstallmentPrincipal: 10000, PurchasePrincipal: 90000}},
	}
	a.Plans = []Plan{NewPlan("I1", d-60, 120000, 12, 5000), NewPlan("I2", d-20, 60000, 6, 0)}
	a.Purchases = []PurchaseRef{{TxnID: "I1", Date: d - 60, Amount: 120000, Installments: 12}, {TxnID: "I2", Date: d - 20, Amount: 60000, Installments: 6}}
	a.LastStatement, a.LastBalance = d, a.Owed()
	return a
}

// BenchmarkClose measures one account-day: a quiet day, a day with a
// purchase and a repayment, and a statement day.
func BenchmarkClose(b *testing.B) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	tmpl := benchAccount()
	day := NewDate(2025, 3, 6)
	ts := at(day, 12, 0)
	events := &Events{
		Transactions: []Transaction{{TxnID: "P9", AccountID: 1, PostedAt: ts, Kind: Purchase, Amount: 5999, Installments: 1}},
		Repayments:   []Repayment{{RepaymentID: "R9", AccountID: 1, PaidAt: ts + 1, Amount: 20000, Status: Succeeded}},
	}
	cases := []struct {
		name string
		day  Date
		ev   *Events
	}{
		{"quiet", day, nil},
		{"events", day, events},
		{"statement", NewDate(2025, 3, 31), events},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var a Account
			stmts := make([]Statement, 0, 8)
			plans := make([]Plan, 0, 8)
			refs := make([]PurchaseRef, 0, 8)
			pending := make([]Line, 0, 8)
			history := make([]CycleStats, 0, 16)
			var out Output
			b.ReportAllocs()
			for b.Loop() {
				a = *tmpl
				a.Statements = append(stmts[:0], tmpl.Statements...)
				a.Plans = append(plans[:0], tmpl.Plans...)
				a.Purchases = append(refs[:0], tmpl.Purchases...)
				a.Pending = pending[:0]
				a.History = history[:0]
				out.Reset()
				if err := Close(&cfg, &a, c.day, c.ev, &out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMeasure measures the bound check Close makes twice a night of
// every account, on the benchmark's account with a year of history.
func BenchmarkMeasure(b *testing.B) {
	a := benchAccount()
	for i := range 12 {
		a.History = append(a.History, CycleStats{StatementDate: NewDate(2024, 3+time.Month(i), 1), Spend: 90000,
			Billed: 85000, Paid: 80000, Balance: 120000, Limit: 2000000, MinimumDue: 12000})
	}
	for b.Loop() {
		if _, why := a.measure(); why != "" {
			b.Fatal(why)
		}
	}
}
