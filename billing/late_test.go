package billing

import (
	"slices"
	"strings"
	"testing"
)

// lateBook is an account whose statement of 2025-03-01 (1000.00, minimum
// 100.00) is due 2025-03-10.
func lateBook(t *testing.T) *Account {
	t.Helper()
	s := Statement{Date: mustDate(t, "2025-03-01"), DueDate: mustDate(t, "2025-03-10"),
		NewBalance: 100000, MinimumDue: 10000, MinRemaining: 10000}
	s.Owed[PurchasePrincipal] = 100000
	return &Account{ID: 1, CustomerID: "C1", OpenedOn: mustDate(t, "2024-01-01"), Status: Active,
		ActivatedOn: mustDate(t, "2024-01-01"), Limit: 500000, BillingDay: 1,
		LastStatement: s.Date, LastBalance: s.NewBalance, Statements: []Statement{s}}
}

// nightly runs Close on a from day from to day to, with the events that
// arrive on each night, and returns everything the nights wrote.
func nightly(t *testing.T, cfg *Config, a *Account, from, to string, arrive map[string]*Events) *Output {
	t.Helper()
	var out Output
	for day := mustDate(t, from); day <= mustDate(t, to); day++ {
		if err := Close(cfg, a, day, arrive[day.String()], &out); err != nil {
			t.Fatalf("Close(%s) = %v, want nil", day, err)
		}
	}
	return &out
}

func repay(t *testing.T, id, on, amount string) Repayment {
	return Repayment{RepaymentID: id, AccountID: 1, PaidAt: at(mustDate(t, on), 15, 0),
		Amount: mustMoney(t, amount), Channel: ChannelApp, Status: Succeeded}
}

func noticeRefs(out *Output, kind NoticeKind) []string {
	var refs []string
	for _, n := range out.Notices {
		if n.Kind == string(kind) {
			refs = append(refs, n.Reference)
		}
	}
	return refs
}

func linesOf(out *Output, date Date) []string {
	var s []string
	for _, l := range out.Lines {
		if l.StatementDate == date {
			ref := ""
			if l.Ref != nil {
				ref = *l.Ref
			}
			s = append(s, l.Kind+" "+l.EventDate.String()+" "+ref+" "+l.Amount.String())
		}
	}
	return s
}

// TestLateRepayment: a repayment made on or before its due date that the
// bank reports days later counts toward the due date; the fees its absence
// caused are waived on the next statement, and the account is current from
// the night it arrives.
func TestLateRepayment(t *testing.T) {
	tests := []struct {
		name      string
		paid      string // value date of the repayment
		amount    string
		arrives   string // the night it is applied
		waived    string // the waiver line, "" for none
		dpd       []int32
		overdue   []string // overdue notices, every night
		balance   string   // new balance of the 2025-04-01 statement
		endsDPD   int32    // on the arrival night
		minimumOK bool     // the 2025-03-01 minimum counted as paid
	}{
		{
			name: "paid on the due date, three days late", paid: "2025-03-10", amount: "1000.00", arrives: "2025-03-13",
			// 03-11 and 03-12: revolving 0.50 + penalty 0.05 a day.
			waived: "-1.10", dpd: []int32{1, 2}, overdue: []string{"2025-03-01/dpd1"},
			balance: "0.00", minimumOK: true,
		},
		{
			name: "paid before the due date, lands after it", paid: "2025-03-08", amount: "1000.00", arrives: "2025-03-12",
			waived: "-0.55", dpd: []int32{1}, overdue: []string{"2025-03-01/dpd1"},
			balance: "0.00", minimumOK: true,
		},
		{
			name: "the minimum only: the revolving fee on the rest stays", paid: "2025-03-10", amount: "100.00", arrives: "2025-03-13",
			// Past due 0 instead of 100.00; principal 900.00 instead of 1000.00:
			// 0.05 + 0.05 a day.
			waived: "-0.20", dpd: []int32{1, 2}, overdue: []string{"2025-03-01/dpd1"},
			// 900.00 + 0.45 a day of revolving fee, 03-11..03-31.
			balance: "909.45", minimumOK: true,
		},
		{
			name: "half the minimum: still past due, with less penalty", paid: "2025-03-10", amount: "50.00", arrives: "2025-03-13",
			// Past due 50.00 (penalty 0.03 instead of 0.05), principal
			// 950.00 (0.48 instead of 0.50): 0.04 a day.
			waived: "-0.08", dpd: []int32{1, 2, 3, 4}, overdue: []string{"2025-03-01/dpd1", "2025-03-01/dpd3", "2025-03-01/dpd7", "2025-03-01/dpd15"},
			endsDPD: 3,
		},
		{
			name: "on time: nothing to waive", paid: "2025-03-10", amount: "1000.00", arrives: "2025-03-10",
			balance: "0.00", minimumOK: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			a := lateBook(t)
			r := repay(t, "R1", tt.paid, tt.amount)
			out := nightly(t, &cfg, a, "2025-03-09", "2025-03-31", map[string]*Events{tt.arrives: {Repayments: []Repayment{r}}})

			var dpd []int32
			var arrival int32
			for _, d := range out.Delinquency {
				if d.AsOf == mustDate(t, tt.arrives) {
					arrival = d.DPD
				}
				if d.AsOf <= mustDate(t, "2025-03-14") {
					dpd = append(dpd, d.DPD)
				}
			}
			if tt.endsDPD != arrival {
				t.Errorf("DPD on %s = %d, want %d", tt.arrives, arrival, tt.endsDPD)
			}
			if !slices.Equal(dpd, tt.dpd) {
				t.Errorf("DPD 03-09..03-14 = %v, want %v", dpd, tt.dpd)
			}
			if got := noticeRefs(out, NoticeOverdue); !slices.Equal(got, tt.overdue) {
				t.Errorf("overdue notices = %v, want %v", got, tt.overdue)
			}
			lines := linesOf(out, mustDate(t, "2025-04-01"))
			wantPayment := "payment " + tt.paid + " R1 -" + tt.amount
			if !slices.Contains(lines, wantPayment) {
				t.Errorf("statement 2025-04-01 lines %q, want %q", lines, wantPayment)
			}
			var waivers []string
			for _, l := range lines {
				if strings.HasPrefix(l, "waiver ") {
					waivers = append(waivers, l)
				}
			}
			var want []string
			if tt.waived != "" {
				want = []string{"waiver " + tt.arrives + " R1 " + tt.waived}
			}
			if !slices.Equal(waivers, want) {
				t.Errorf("waiver lines %q, want %q", waivers, want)
			}
			if tt.balance != "" {
				var got string
				for _, s := range out.Statements {
					if s.StatementDate == mustDate(t, "2025-04-01") {
						got = s.NewBalance.String()
					}
				}
				if got != tt.balance {
					t.Errorf("2025-04-01 new balance = %s, want %s", got, tt.balance)
				}
			}
			if d := slices.Contains(noticeRefs(out, NoticeOverdue), "2025-03-01/dpd3"); tt.minimumOK && d {
				t.Errorf("overdue at dpd 3 sent for a minimum the late repayment paid")
			}
		})
	}
}

// TestLateRepaymentTwice: two late repayments of different nights are each
// measured against the book the first corrected: together they waive what
// one repayment of their sum would, never more than accrued.
func TestLateRepaymentTwice(t *testing.T) {
	cfg := DefaultConfig()
	a := lateBook(t)
	out := nightly(t, &cfg, a, "2025-03-09", "2025-03-31", map[string]*Events{
		"2025-03-13": {Repayments: []Repayment{repay(t, "R1", "2025-03-10", "50.00")}},
		"2025-03-14": {Repayments: []Repayment{repay(t, "R2", "2025-03-10", "950.00")}},
	})
	var waived Money
	for _, l := range out.Lines {
		if l.Kind == string(LineWaiver) {
			waived -= l.Amount
		}
	}
	// 03-11 and 03-12: 0.55 a day; 03-13, after the first: 0.48 + 0.03.
	// All of it is waived.
	if waived != 161 {
		t.Errorf("waived %s, want 1.61", waived)
	}
	for _, d := range out.Delinquency {
		if d.AsOf >= mustDate(t, "2025-03-14") {
			t.Errorf("past due on %s after both repayments", d.AsOf)
		}
	}
}

// TestRedelivery: an event applied once is a rejected row when it is
// delivered again on a later night of the late window, whether the first
// delivery was on time or late.
func TestRedelivery(t *testing.T) {
	cfg := DefaultConfig()
	a := lateBook(t)
	r := repay(t, "R1", "2025-03-05", "200.00")
	p := Transaction{TxnID: "P1", AccountID: 1, PostedAt: at(mustDate(t, "2025-03-04"), 9, 0), Kind: Purchase, Amount: 5000, Installments: 1}
	out := nightly(t, &cfg, a, "2025-03-04", "2025-03-20", map[string]*Events{
		"2025-03-04": {Transactions: []Transaction{p}},
		"2025-03-05": {Repayments: []Repayment{r}},
		"2025-03-08": {Repayments: []Repayment{r}, Transactions: []Transaction{p}},
		"2025-03-11": {Repayments: []Repayment{r}},
	})
	var got []string
	for _, rj := range out.Rejects {
		got = append(got, rj.Dataset+" "+rj.Key+" "+rj.Reason)
	}
	want := []string{"transactions P1 duplicate_id", "repayments R1 duplicate_id", "repayments R1 duplicate_id"}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("rejects %v, want %v", got, want)
	}
	if out.Flows.Payments != 20000 || out.Flows.Purchases != 5000 {
		t.Errorf("payments %s purchases %s, want 200.00 and 50.00 once", out.Flows.Payments, out.Flows.Purchases)
	}
	// After the window the ids are forgotten: the pipeline rejects such
	// an event too_late before it reaches the account.
	for _, s := range a.Seen {
		if s.Date < mustDate(t, "2025-03-20")+1-Date(cfg.LateWindowDays) {
			t.Errorf("seen %v kept past the window", s)
		}
	}
	for _, x := range a.LateAccruals {
		if x.Date < mustDate(t, "2025-03-20")+1-Date(cfg.LateWindowDays) {
			t.Errorf("accrual %v kept past the window", x)
		}
	}
}

// TestLatePurchase: a purchase whose cycle closed before it arrived is
// billed on the next statement, dated when it happened; an installment
// purchase opens its plan on its own date, its first period on the next
// statement.
func TestLatePurchase(t *testing.T) {
	cfg := DefaultConfig()
	a := lateBook(t)
	bought := mustDate(t, "2025-03-31") // the last day of the cycle billed 04-01
	p := Transaction{TxnID: "P1", AccountID: 1, PostedAt: at(bought, 20, 0), Kind: Purchase, Amount: 12000, Installments: 1}
	q := Transaction{TxnID: "P3", AccountID: 1, PostedAt: at(bought, 21, 0), Kind: Purchase, Amount: 30000, Installments: 3}
	out := nightly(t, &cfg, a, "2025-03-09", "2025-04-30", map[string]*Events{
		"2025-03-09": {Repayments: []Repayment{repay(t, "R1", "2025-03-09", "1000.00")}},
		"2025-04-02": {Transactions: []Transaction{p, q}},
	})
	if l := linesOf(out, mustDate(t, "2025-04-01")); len(l) != 1 || !strings.HasPrefix(l[0], "payment ") {
		t.Errorf("statement 2025-04-01 lines %q, want the payment only", l)
	}
	want := []string{
		"purchase 2025-03-31 P1 120.00",
		"installment_principal 2025-05-01 P3 100.00",
	}
	if got := linesOf(out, mustDate(t, "2025-05-01")); !slices.Equal(got, want) {
		t.Errorf("statement 2025-05-01 lines %q, want %q", got, want)
	}
	if len(out.Plans) != 1 || out.Plans[0].OpenedOn != bought {
		t.Errorf("plans %+v, want P3 opened on %s", out.Plans, bought)
	}
}
