package scoring

import (
	"time"

	"github.com/creditrun/creditrun/billing"
)

var asOf = billing.NewDate(2025, time.June, 15)

// yuanM is a yuan amount in fen.
func yuanM(y float64) billing.Money { return billing.Money(y * 100) }

// cyc is one closed cycle; stmt counts back from the latest (0) in months.
type cyc struct {
	spend, inst, billed, paid, balance, limit, min float64
	dpd, failed                                    int32
}

// history builds History from cycles, oldest first, statements on the 1st.
func history(cs ...cyc) []billing.CycleStats {
	out := make([]billing.CycleStats, len(cs))
	for i, c := range cs {
		out[i] = billing.CycleStats{
			StatementDate:    billing.NewDate(2025, time.June, 1).AddMonths(i - len(cs) + 1),
			Spend:            yuanM(c.spend),
			InstallmentSpend: yuanM(c.inst),
			Billed:           yuanM(c.billed),
			Paid:             yuanM(c.paid),
			Balance:          yuanM(c.balance),
			Limit:            yuanM(c.limit),
			MinimumDue:       yuanM(c.min),
			MaxDPD:           c.dpd,
			FailedDeductions: c.failed,
		}
	}
	return out
}

func repeat(n int, c cyc) []cyc {
	out := make([]cyc, n)
	for i := range out {
		out[i] = c
	}
	return out
}

// account is an active account opened a year before asOf with a 10000.00
// limit, bureau score 720 and the given history.
func account(cs ...cyc) *billing.Account {
	return &billing.Account{
		ID: 1, CustomerID: "c1", Status: billing.Active,
		OpenedOn:       billing.NewDate(2024, time.June, 1),
		ActivatedOn:    billing.NewDate(2024, time.June, 1),
		LimitChangedOn: billing.NewDate(2024, time.June, 1),
		Limit:          yuanM(10000), BillingDay: 1,
		ExternalScore: 720, HasExternalScore: true,
		History: history(cs...),
	}
}

// Archetypes of the synthetic book.
var (
	transactorCycle = cyc{spend: 2000, billed: 2000, paid: 2000, balance: 2000, limit: 10000, min: 200}
	minPayerCycle   = cyc{spend: 1500, inst: 500, billed: 1500, paid: 800, balance: 8000, limit: 10000, min: 800}
)

func transactor() *billing.Account { return account(repeat(12, transactorCycle)...) }

func minPayer() *billing.Account {
	a := account(repeat(12, minPayerCycle)...)
	a.ExternalScore = 650
	return a
}

func latePayer() *billing.Account {
	cs := repeat(12, cyc{spend: 1500, billed: 1500, paid: 1200, balance: 5000, limit: 10000, min: 600})
	cs[8].dpd, cs[10].dpd = 12, 9
	cs[9].paid, cs[11].paid = 0, 0
	a := account(cs...)
	a.ExternalScore = 640
	return a
}

func defaulter() *billing.Account {
	cs := repeat(12, cyc{spend: 1500, billed: 1500, paid: 1200, balance: 9500, limit: 10000, min: 900})
	cs[10].dpd, cs[11].dpd = 20, 50
	cs[10].paid, cs[11].paid = 0, 0
	a := account(cs...)
	a.ExternalScore = 600
	a.Statements = []billing.Statement{{
		Date: billing.NewDate(2025, time.April, 1), DueDate: billing.NewDate(2025, time.April, 10),
		NewBalance: yuanM(9500), MinimumDue: yuanM(900), MinRemaining: yuanM(900),
		Owed: billing.Components{billing.PurchasePrincipal: yuanM(9500)},
	}}
	return a
}

// cardFailer's deductions fail twice a cycle; it pays a day or two late
// every other cycle.
func cardFailer() *billing.Account {
	c := transactorCycle
	c.failed = 2
	cs := repeat(12, c)
	for i := 1; i < 12; i += 2 {
		cs[i].dpd = 2
	}
	return account(cs...)
}

func highUtilization() *billing.Account {
	return account(repeat(12, cyc{spend: 9600, billed: 9600, paid: 9600, balance: 9800, limit: 10000, min: 980})...)
}

func lowBureau() *billing.Account {
	a := transactor()
	a.ExternalScore = 480
	return a
}

func mustDefault() *Config {
	c := DefaultConfig()
	return &c
}
