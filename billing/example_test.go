package billing_test

import (
	"fmt"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// A purchase on 2024-03-05 lands on the statement dated 2024-04-01 (billing
// day 1), issued by the run for 2024-03-31 and due 2024-04-10.
func ExampleClose() {
	cfg := billing.DefaultConfig()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	a := &billing.Account{ID: 7, Status: billing.Active, Limit: 500000, BillingDay: 1}
	bought := time.Date(2024, 3, 5, 12, 0, 0, 0, cfg.Location()).UnixMicro()
	day := billing.LocalDate(bought, cfg.Location())
	ev := &billing.Events{Transactions: []billing.Transaction{
		{TxnID: "T1", AccountID: 7, PostedAt: bought, Kind: billing.Purchase, Amount: 129900, Installments: 1},
	}}
	var out billing.Output
	for d := day; d <= billing.NewDate(2024, 3, 31); d++ {
		var e *billing.Events
		if d == day {
			e = ev
		}
		if err := billing.Close(&cfg, a, d, e, &out); err != nil {
			panic(err)
		}
	}
	s := out.Statements[0]
	fmt.Println("statement", s.StatementDate, "due", s.DueDate)
	fmt.Println("new balance", s.NewBalance, "minimum", s.MinimumDue)
	for _, n := range out.Notices {
		fmt.Println("notice", n.Kind, n.Reference, n.Channel)
	}
	// Output:
	// statement 2024-04-01 due 2024-04-10
	// new balance 1299.00 minimum 129.90
	// notice statement_issued 2024-04-01 push
}

// 1200.00 over 12 periods at 0.5% a month: 106.00 a period, 72.00 of fees,
// and an annualized rate (IRR) of 10.8964%, not the naive 6%.
func ExampleNewPlan() {
	p := billing.NewPlan("T1", billing.NewDate(2024, 3, 5), 120000, 12, 5000)
	row := p.Row(7, billing.DefaultConfig().APRCap)
	fmt.Println("period", row.PeriodPrincipal, "+", row.PeriodFee, "last", row.LastPeriodPrincipal)
	fmt.Println("fees", row.TotalFees)
	fmt.Println("apr", row.APRNominal, "effective", row.APREffective, "over cap", row.OverCap)

	q := billing.NewPlan("T2", billing.NewDate(2024, 3, 5), 100000, 3, 0)
	fmt.Println("1000.00 over 3:", q.PeriodPrincipal, q.PeriodPrincipal, q.LastPeriodPrincipal)
	// Output:
	// period 100.00 + 6.00 last 100.00
	// fees 72.00
	// apr 0.108964 effective 0.114574 over cap false
	// 1000.00 over 3: 333.33 333.33 333.34
}

// A payment pays penalties first, then revolving fees, installment fees,
// installment principal and purchases; what is left over becomes a credit.
func ExampleAllocate() {
	owed := billing.Components{
		billing.Penalty:              350,
		billing.RevolvingFee:         1200,
		billing.InstallmentFee:       600,
		billing.InstallmentPrincipal: 10000,
		billing.PurchasePrincipal:    50000,
	}
	paid, left := billing.Allocate(&owed, 20000, billing.DefaultConfig().Waterfall)
	for k := billing.Component(0); k < billing.NumComponents; k++ {
		fmt.Printf("%-22s paid %7s still owed %7s\n", k, paid[k], owed[k])
	}
	fmt.Println("left over", left)
	// Output:
	// penalty                paid    3.50 still owed    0.00
	// revolving_fee          paid   12.00 still owed    0.00
	// installment_fee        paid    6.00 still owed    0.00
	// installment_principal  paid  100.00 still owed    0.00
	// purchase               paid   78.50 still owed  421.50
	// left over 0.00
}
