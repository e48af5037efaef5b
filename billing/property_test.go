package billing

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// randomDay makes one day of events for a, from its state before the day.
// kind picks the customer's habits: 0 pays in full, 1 pays the minimum,
// 2 pays late or partly, 3 stops paying.
func randomDay(rng *rand.Rand, cfg *Config, a *Account, day Date, kind int, n *int) *Events {
	ev := &Events{}
	ts := func() int64 { return at(day, 0, 0) + rng.Int64N(86400e6) }
	id := func(p string) string { *n++; return fmt.Sprintf("%s%05d", p, *n) }
	if rng.IntN(6) == 0 {
		inst := []int32{1, 1, 1, 3, 6, 12, 24}[rng.IntN(7)]
		rate := []Rate{0, 5000, 7500, 12000}[rng.IntN(4)]
		if rng.IntN(40) == 0 {
			inst = 5 // not offered: a reject
		}
		ev.Transactions = append(ev.Transactions, Transaction{TxnID: id("P"), AccountID: a.ID, PostedAt: ts(),
			Kind: Purchase, Amount: Money(100 + rng.IntN(300000)), Installments: inst, FeeRate: rate})
	}
	if len(a.Purchases) > 0 && rng.IntN(25) == 0 {
		p := a.Purchases[rng.IntN(len(a.Purchases))]
		amt := p.Amount - p.Refunded
		if rng.IntN(2) == 0 && amt > 1 {
			amt = 1 + Money(rng.Int64N(int64(amt-1)))
		}
		if rng.IntN(15) == 0 {
			amt += 100 // too large: a reject
		}
		ref := p.TxnID
		if rng.IntN(20) == 0 {
			ref = "unknown"
		}
		ev.Transactions = append(ev.Transactions, Transaction{TxnID: id("F"), AccountID: a.ID, PostedAt: ts(),
			Kind: Refund, Amount: amt, RefTxnID: ref})
	}
	// Repayments: around the due date of the latest statement.
	var latest *Statement
	if k := len(a.Statements); k > 0 {
		latest = &a.Statements[k-1]
	}
	pay := func(amt Money, payoff string) {
		if amt <= 0 {
			return
		}
		st := Succeeded
		if rng.IntN(12) == 0 {
			st = Failed
		}
		ev.Repayments = append(ev.Repayments, Repayment{RepaymentID: id("R"), AccountID: a.ID, PaidAt: ts(),
			Amount: amt, Status: st, PayoffTxnID: payoff})
	}
	if latest != nil {
		until := int(latest.DueDate - day)
		switch kind {
		case 0:
			if until == 2 {
				pay(a.Owed(), "")
			}
		case 1:
			if until == 1 {
				pay(latest.MinRemaining, "")
			}
		case 2:
			if until == -3 || (until == 4 && rng.IntN(2) == 0) {
				pay(latest.MinRemaining*Money(1+rng.IntN(3))/2, "")
			}
		case 3:
			if until == -20 && rng.IntN(4) == 0 {
				pay(latest.MinRemaining/3, "")
			}
		}
	}
	if len(a.Plans) > 0 && rng.IntN(120) == 0 {
		p := a.Plans[rng.IntN(len(a.Plans))]
		pay(p.Remaining+Money(rng.IntN(5000)), p.TxnID)
	}
	if rng.IntN(300) == 0 {
		pay(Money(rng.IntN(100000)), "missing-plan")
	}
	if rng.IntN(90) == 0 {
		q := Request{RequestID: id("Q"), AccountID: a.ID, RequestedAt: ts()}
		switch rng.IntN(3) {
		case 0:
			q.Kind = DeferPlan
			if len(a.Plans) > 0 {
				q.TxnID = a.Plans[rng.IntN(len(a.Plans))].TxnID
			}
			q.Periods = int32(1 + rng.IntN(2))
		case 1:
			q.Kind = ChangeBillingDay
			q.BillingDay = int32(1 + rng.IntN(28))
		case 2:
			if rng.IntN(4) == 0 {
				q.Kind = CloseAccount
			} else {
				q.Kind = ChangeBillingDay
				q.BillingDay = int32(1 + rng.IntN(28))
			}
		}
		ev.Requests = append(ev.Requests, q)
	}
	sortEvents(ev)
	return ev
}

func sortEvents(ev *Events) {
	slices.SortFunc(ev.Transactions, func(x, y Transaction) int {
		return cmp.Or(cmp.Compare(x.PostedAt, y.PostedAt), cmp.Compare(x.TxnID, y.TxnID))
	})
	slices.SortFunc(ev.Repayments, func(x, y Repayment) int {
		return cmp.Or(cmp.Compare(x.PaidAt, y.PaidAt), cmp.Compare(x.RepaymentID, y.RepaymentID))
	})
	slices.SortFunc(ev.Requests, func(x, y Request) int {
		return cmp.Or(cmp.Compare(x.RequestedAt, y.RequestedAt), cmp.Compare(x.RequestID, y.RequestID))
	})
}

// TestRandomStreams follows random accounts through random event streams
// and checks every day that money is conserved (Close checks exposure
// against the flows and every statement's balance), that statements and
// their lines balance, that DPD grows by exactly one a day until money
// arrives, and that penalties are charged on non-penalty amounts only.
func TestRandomStreams(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	for seed := uint64(1); seed <= 60; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 42))
			start := NewDate(2024, 1, 1).AddDays(rng.IntN(365))
			a := &Account{ID: int64(seed), Status: Pending, OpenedOn: start, BillingDay: int32(1 + rng.IntN(28))}
			kind := int(seed % 4)
			if seed%10 == 0 {
				a.Fraud = true
			}
			var out Output
			n := 0
			var prevDPD int32
			var totals Flows
			for day := start; day < start+500; day++ {
				out.Reset()
				if day == start+3 {
					ApplyLimit(&cfg, a, day, ActionActivate, 2000000, &out)
				}
				if day%45 == 0 {
					ApplyLimit(&cfg, a, day, ActionIncrease, a.Limit+100000, &out)
				}
				if a.Fraud && day == start+100 {
					a.Fraud = false
				}
				if day == start+200 {
					a.Grade = "D"
				}
				ev := randomDay(rng, &cfg, a, day, kind, &n)
				before := *a
				before.Statements = slices.Clone(a.Statements)
				if err := Close(&cfg, a, day, ev, &out); err != nil {
					t.Fatalf("Close(%s) = %v, want nil", day, err)
				}
				checkDay(t, a, day, &out)
				totals.Add(out.Flows)

				var dpd int32
				for _, r := range out.Delinquency {
					dpd = r.DPD
					if r.Bucket != Bucket(r.DPD) {
						t.Errorf("%s: bucket %s for dpd %d", day, r.Bucket, r.DPD)
					}
					checkPenaltyBase(t, &cfg, &before, day, r)
				}
				credited := false
				for _, p := range ev.Repayments {
					credited = credited || p.Status == Succeeded
				}
				for _, x := range ev.Transactions {
					credited = credited || x.Kind == Refund
				}
				switch {
				case a.Status == Closed && a.ClosedOn == day:
				case prevDPD > 0 && !credited && dpd != prevDPD+1:
					t.Errorf("%s: dpd %d after %d with no money received, want %d", day, dpd, prevDPD, prevDPD+1)
				case prevDPD == 0 && dpd > 1:
					t.Errorf("%s: dpd jumped from 0 to %d", day, dpd)
				}
				prevDPD = dpd
				if a.Status == Closed {
					prevDPD = 0
				}
			}
			// Over the whole life, exposure is the sum of the flows.
			if got := a.Exposure(); got != totals.Net() {
				t.Errorf("exposure %s after 500 days, flows sum to %s", got, totals.Net())
			}
		})
	}
}

// checkPenaltyBase checks that a penalty is the daily rate on the past-due
// amount, and that the amount excludes penalties: it never exceeds what
// the past-due statements owe besides penalties, nor their unpaid minimum
// less the penalties they owe.
func checkPenaltyBase(t *testing.T, cfg *Config, before *Account, day Date, r DelinquencyRow) {
	t.Helper()
	if r.PenaltyToday != r.PastDueAmount.MulRate(cfg.PenaltyDailyRate) {
		t.Errorf("%s: penalty %s on past due %s, want rate %s", day, r.PenaltyToday, r.PastDueAmount, cfg.PenaltyDailyRate)
	}
	if r.PastDueAmount < 0 {
		t.Errorf("%s: past due %s < 0", day, r.PastDueAmount)
	}
	// The events of the day only reduce what is owed, so the state before
	// them bounds the base from above.
	var nonPenalty Money
	for _, s := range before.Statements {
		if s.DueDate < day {
			nonPenalty += s.Owed.Sum() - s.Owed[Penalty]
		}
	}
	if r.PastDueAmount > nonPenalty {
		t.Errorf("%s: past due %s exceeds the non-penalty %s owed on past-due statements", day, r.PastDueAmount, nonPenalty)
	}
}

func TestPlanProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 5000 {
		principal := Money(1 + rng.Int64N(10_000_000))
		periods := []int32{1, 3, 6, 12, 24}[rng.IntN(5)]
		rate := Rate(rng.IntN(20000))
		p := NewPlan("T", 0, principal, periods, rate)
		var sum, fees Money
		for i := int32(0); !p.Done(); i++ {
			_, pr, f := p.billNext()
			if pr < 0 {
				t.Fatalf("NewPlan(%s, %d, %s) period %d principal %s < 0", principal, periods, rate, i+1, pr)
			}
			// A partial refund now and then: the rest re-splits.
			if !p.Done() && rng.IntN(8) == 0 && p.Remaining > 1 {
				cut := 1 + Money(rng.Int64N(int64(p.Remaining-1)))
				p.Remaining -= cut
				principal -= cut
				p.split()
			}
			sum += pr
			fees += f
		}
		if sum != principal || fees != Money(periods)*p.PeriodFee || p.Remaining != 0 {
			t.Fatalf("NewPlan(%s, %d, %s): periods sum to %s, fees %s; want %s and %d × %s", principal, periods, rate, sum, fees, principal, periods, p.PeriodFee)
		}
		n, e, ok := p.APR()
		if !ok || (rate == 0 || p.PeriodFee == 0) != (n == 0) || e < n {
			t.Fatalf("NewPlan(%s, %d, %s).APR() = %s, %s", principal, periods, rate, n, e)
		}
	}
}

func TestAllocateProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	order := DefaultConfig().Waterfall
	for range 10000 {
		var owed Components
		for k := range owed {
			if rng.IntN(3) > 0 {
				owed[k] = Money(rng.Int64N(100000))
			}
		}
		amount := Money(rng.Int64N(400000)) - 1000
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		before := owed
		paid, left := Allocate(&owed, amount, order)
		for k := range owed {
			if paid[k] < 0 || paid[k] > before[k] || owed[k] != before[k]-paid[k] {
				t.Fatalf("Allocate(%v, %s, %v) paid %v: component %s over- or under-paid", before, amount, order, paid, Component(k))
			}
		}
		if amount > 0 && paid.Sum()+left != amount {
			t.Fatalf("Allocate(%v, %s) = %v, %s: does not add up", before, amount, paid, left)
		}
		if left > 0 && owed.Sum() != 0 {
			t.Fatalf("Allocate(%v, %s) left %s while %s still owed", before, amount, left, owed.Sum())
		}
	}
}

// TestBucketExactlyOne: every past-due DPD falls in exactly one bucket.
func TestBucketExactlyOne(t *testing.T) {
	ranges := []struct {
		name   string
		lo, hi int32
	}{{"M1", 1, 30}, {"M2", 31, 60}, {"M3", 61, 90}, {"M4", 91, 120}, {"M5", 121, 150}, {"M6", 151, 180}, {"M7+", 181, 1 << 30}}
	for dpd := int32(1); dpd <= 1000; dpd++ {
		in := 0
		for _, r := range ranges {
			if dpd >= r.lo && dpd <= r.hi {
				in++
				if got := Bucket(dpd); got != r.name {
					t.Errorf("Bucket(%d) = %s, want %s", dpd, got, r.name)
				}
			}
		}
		if in != 1 {
			t.Errorf("dpd %d is in %d buckets", dpd, in)
		}
	}
}
