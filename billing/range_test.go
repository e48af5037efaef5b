package billing

import (
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
	"time"
)

// TestCloseRefusesOutOfRange: amounts whose sums would pass MaxMoney fail
// the account with an *AccountError wrapping ErrOutOfRange, before any sum
// wraps; the same amounts once are fine.
func TestCloseRefusesOutOfRange(t *testing.T) {
	day := NewDate(2025, 3, 5)
	at := day.Time().Add(4 * time.Hour).UnixMicro()
	purchases := func(n int, amount Money, installments int32, rate Rate) Events {
		var ev Events
		for i := range n {
			ev.Transactions = append(ev.Transactions, Transaction{TxnID: "T" + itoa(i), AccountID: 7, PostedAt: at + int64(i),
				Kind: Purchase, Amount: amount, Installments: installments, FeeRate: rate})
		}
		return ev
	}
	repayments := func(n int, amount Money, st RepaymentStatus) Events {
		var ev Events
		for i := range n {
			ev.Repayments = append(ev.Repayments, Repayment{RepaymentID: "P" + itoa(i), AccountID: 7, PaidAt: at + int64(i),
				Amount: amount, Channel: ChannelApp, Status: st, FailureReason: FailureOther})
		}
		return ev
	}
	payments := func(n int, amount Money) Events { return repayments(n, amount, Succeeded) }
	active := func() *Account {
		return &Account{ID: 7, Status: Active, Limit: 1000000, BillingDay: 20, OpenedOn: day - 400, ActivatedOn: day - 400}
	}
	for _, tc := range []struct {
		name    string
		account func() *Account
		ev      Events
		wantErr bool
	}{
		{"one purchase of MaxMoney", active, purchases(1, MaxMoney, 1, 0), false},
		{"ten purchases of MaxMoney", active, purchases(10, MaxMoney, 1, 0), true},
		{"two purchases of MaxMoney", active, purchases(2, MaxMoney, 1, 0), true},
		{"ten installment purchases of MaxMoney", active, purchases(10, MaxMoney, 24, 0), true},
		{"installment fees beyond the range", active, purchases(1, MaxMoney/2, 24, 50000), true},
		{"fee rate of 200 a month within the range", active, purchases(1, 100_000_000_000_00, 3, 200*RateScale), false},
		{"ten repayments of MaxMoney", active, payments(10, MaxMoney), true},
		{"ten failed repayments of MaxMoney: no money moves", active, repayments(10, MaxMoney, Failed), false},
		{"a purchase beyond the range", active, purchases(1, MaxMoney+1, 1, 0), true},
		{"an account already beyond the range", func() *Account { a := active(); a.Credit = MaxMoney + 1; return a }, Events{}, true},
		{"an account whose amounts add up beyond the range", func() *Account {
			a := active()
			a.Cycle.Purchases, a.Cycle.Penalties = MaxMoney, MaxMoney
			return a
		}, Events{}, true},
		{"a wrapped balance in the state", func() *Account { a := active(); a.Credit = math.MinInt64; return a }, Events{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			a := tc.account()
			var out Output
			err := Close(&cfg, a, day, &tc.ev, &out)
			if !tc.wantErr {
				if err != nil {
					t.Fatalf("Close = %v, want nil", err)
				}
				return
			}
			var ae *AccountError
			if !errors.Is(err, ErrOutOfRange) || !errors.As(err, &ae) || ae.AccountID != 7 {
				t.Fatalf("Close = %v, want an *AccountError of account 7 wrapping ErrOutOfRange", err)
			}
			if r := ae.Redacted(); r == "" || containsDigitRun(r) {
				t.Errorf("Redacted() = %q, want no amounts", r)
			}
		})
	}
}

func containsDigitRun(s string) bool {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			if n++; n >= 3 {
				return true
			}
		} else {
			n = 0
		}
	}
	return false
}

// TestDeferralNeverWraps: a deferral of 2^31−1 periods is declined, not
// added to the periods used (which would wrap to a negative count).
func TestDeferralNeverWraps(t *testing.T) {
	day := NewDate(2025, 3, 5)
	at := day.Time().Add(4 * time.Hour).UnixMicro()
	a := &Account{ID: 7, Status: Active, Limit: 1000000, BillingDay: 20, OpenedOn: day - 400, ActivatedOn: day - 400,
		DeferralsUsed: 1, Plans: []Plan{NewPlan("T1", day-10, 30000, 3, 0)}}
	cfg := DefaultConfig()
	var out Output
	ev := Events{Requests: []Request{{RequestID: "Q1", AccountID: 7, RequestedAt: at, Kind: DeferPlan, TxnID: "T1", Periods: math.MaxInt32}}}
	if err := Close(&cfg, a, day, &ev, &out); err != nil {
		t.Fatal(err)
	}
	if a.Plans[0].Skip != 0 || a.DeferralsUsed != 1 {
		t.Errorf("deferral by 2^31−1: skip %d, deferrals used %d; want it declined (0, 1)", a.Plans[0].Skip, a.DeferralsUsed)
	}
}

func TestMulRateChecked(t *testing.T) {
	for _, tc := range []struct {
		m    Money
		r    Rate
		want Money
		ok   bool
	}{
		{14500, 5000, 73, true},
		{-14500, 5000, -73, true},
		{MaxMoney, RateScale, MaxMoney, true},
		{MaxMoney, RateScale + 1, 0, false},
		{MaxMoney, 200 * RateScale, 0, false},
		{math.MaxInt64, math.MaxInt32, 0, false},
		{math.MinInt64, math.MinInt32, 0, false},
		{math.MinInt64, 1, 0, true}, // rounds to 0 fen? no: −9223372036854.775808 → −9223372036855
	} {
		got, err := tc.m.MulRateChecked(tc.r)
		if tc.m == math.MinInt64 && tc.r == 1 {
			tc.want = -9223372036855
		}
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) || (!tc.ok && !errors.Is(err, ErrOutOfRange)) {
			t.Errorf("%d.MulRateChecked(%d) = %d, %v; want %d, ok %v", tc.m, tc.r, got, err, tc.want, tc.ok)
		}
	}
	func() {
		defer func() {
			if r, _ := recover().(error); !errors.Is(r, ErrOutOfRange) {
				t.Errorf("MulRate beyond int64 recovered %v, want a panic with ErrOutOfRange", r)
			}
		}()
		_ = Money(math.MaxInt64).MulRate(math.MaxInt32)
	}()
}

// TestMulRateExact compares MulRate with big-integer arithmetic on extreme
// operands: exact, rounded half away from zero, never wrapped.
func TestMulRateExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 7))
	extremes := []int64{0, 1, -1, 499_999, 500_000, math.MaxInt64, math.MinInt64, int64(MaxMoney), -int64(MaxMoney)}
	for i := range 20000 {
		m := rng.Int64() >> rng.IntN(64)
		if rng.IntN(2) == 0 {
			m = -m
		}
		if i < len(extremes)*len(extremes) {
			m = extremes[i%len(extremes)]
		}
		r := Rate(rng.Int32() >> rng.IntN(32))
		if rng.IntN(2) == 0 {
			r = -r
		}
		want := new(big.Int).Mul(big.NewInt(m), big.NewInt(int64(r)))
		neg := want.Sign() < 0
		want.Abs(want)
		q, rem := new(big.Int).QuoRem(want, big.NewInt(RateScale), new(big.Int))
		if rem.Mul(rem, big.NewInt(2)).Cmp(big.NewInt(RateScale)) >= 0 {
			q.Add(q, big.NewInt(1))
		}
		if neg {
			q.Neg(q)
		}
		got, ok := mulDiv(Money(m), int64(r), RateScale)
		if fits := q.IsInt64(); ok != fits || (ok && int64(got) != q.Int64()) {
			t.Fatalf("mulDiv(%d, %d) = %d, %v; want %s (fits int64: %v)", m, r, got, ok, q, fits)
		}
	}
}

func TestTotal(t *testing.T) {
	var tot Total
	want := new(big.Int)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 5000 {
		m := Money(rng.Int64())
		if i%3 == 0 {
			m = math.MinInt64 + Money(rng.Int64N(10))
		}
		if i%2 == 0 {
			tot.Add(m)
			want.Add(want, big.NewInt(int64(m)))
		} else {
			tot.Sub(m)
			want.Sub(want, big.NewInt(int64(m)))
		}
		if got := tot.String(); got != bigYuan(want) {
			t.Fatalf("after %d: Total = %s, want %s", i, got, bigYuan(want))
		}
	}
	var ten Total
	for range 10 {
		ten.Add(MaxMoney)
	}
	if got, want := ten.String(), "99999999999999999.90"; got != want {
		t.Errorf("10 × MaxMoney = %s, want %s", got, want)
	}
	if _, ok := ten.Money(); ok {
		t.Errorf("10 × MaxMoney fits Money, want not")
	}
	if m, ok := TotalOf(-1234).Money(); !ok || m != -1234 {
		t.Errorf("TotalOf(-12.34).Money() = %s, %v", m, ok)
	}
	neg := Total{}.Minus(ten)
	if neg.Cmp(ten) != -1 || ten.Cmp(neg) != 1 || ten.Cmp(ten) != 0 || !ten.Equal(ten) || neg.Sign() != -1 {
		t.Errorf("Cmp of ±10 × MaxMoney wrong")
	}
	if got, want := neg.String(), "-99999999999999999.90"; got != want {
		t.Errorf("−10 × MaxMoney = %s, want %s", got, want)
	}
	var sum Total
	sum.AddTotal(ten)
	sum.AddTotal(neg)
	if !sum.Equal(Total{}) {
		t.Errorf("10 × MaxMoney − 10 × MaxMoney = %s, want 0", sum)
	}
}

func bigYuan(v *big.Int) string {
	a := new(big.Int).Abs(v)
	y, f := new(big.Int).QuoRem(a, big.NewInt(100), new(big.Int))
	s := y.String() + "." + string(rune('0'+f.Int64()/10)) + string(rune('0'+f.Int64()%10))
	if v.Sign() < 0 {
		return "-" + s
	}
	return s
}

func TestFlowsAddChecked(t *testing.T) {
	f := Flows{Purchases: MaxMoney - 1, Payments: 5}
	if err := f.Add(Flows{Purchases: 1, Payments: 5}); err != nil || f.Purchases != MaxMoney || f.Payments != 10 {
		t.Fatalf("Add up to MaxMoney = %v, %+v", err, f)
	}
	before := f
	if err := f.Add(Flows{Payments: 1, Purchases: 1}); !errors.Is(err, ErrOutOfRange) || f != before {
		t.Errorf("Add beyond MaxMoney = %v, flows %+v; want ErrOutOfRange and no change", err, f)
	}
	g := Flows{ChargedOff: math.MinInt64}
	if err := g.Add(Flows{ChargedOff: -1}); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("Add wrapping below MinInt64 = %v, want ErrOutOfRange", err)
	}
}

// TestAPRBeyondDecimal96: a fee rate whose APR DECIMAL(9,6) cannot hold
// gives a row with null rates, flagged over the cap (not −2147.483648).
func TestAPRBeyondDecimal96(t *testing.T) {
	p := NewPlan("T", 0, 100000, 3, 200*RateScale)
	row := p.Row(1, DefaultConfig().APRCap)
	if row.APRNominal != nil || row.APREffective != nil || !row.OverCap {
		t.Errorf("fee rate 200 a month: APR %v %v, over cap %v; want null, null, true", row.APRNominal, row.APREffective, row.OverCap)
	}
	p = NewPlan("T", 0, 100000, 12, 50000) // 5% a month: effective 0.795856…, nominal 0.6 …
	row = p.Row(1, DefaultConfig().APRCap)
	if row.APRNominal == nil || row.APREffective == nil || !row.OverCap || *row.APRNominal <= 0 {
		t.Errorf("fee rate 0.05 a month: APR %v %v, over cap %v; want rates, flagged", row.APRNominal, row.APREffective, row.OverCap)
	}
}

// FuzzCloseExtreme runs one account through days of extreme amounts and
// fee rates: Close never panics, and when it succeeds every amount of the
// account and of its rows lies within ±MaxMoney; when it fails, it is with
// ErrOutOfRange.
//
//	go test -run '^$' -fuzz '^FuzzCloseExtreme$' -fuzztime 30s -parallel 1 ./billing/
func FuzzCloseExtreme(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{1, 0x7f, 2, 0x80, 3, 0x01, 4, 0xfe, 5, 0x40, 6, 0x20, 7, 0x10})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &byteReader{b: data}
		cfg := DefaultConfig()
		start := NewDate(2025, 1, 1)
		a := &Account{ID: 9, Status: Active, Limit: 1000000, BillingDay: int32(1 + r.next()%28), OpenedOn: start - 400, ActivatedOn: start - 400}
		amounts := []Money{1, 100, MaxMoney, MaxMoney / 2, MaxMoney/3 + 1, MaxMoney - 1, 10_000_000_000_000_00}
		rates := []Rate{0, 5000, 50000, RateScale, 200 * RateScale, math.MaxInt32}
		periods := []int32{1, 3, 6, 12, 24}
		n := 0
		for d := start; d < start+60 && len(r.b) > 0; d++ {
			var ev Events
			at := d.Time().Add(4 * time.Hour).UnixMicro()
			for k := int(r.next() % 4); k > 0; k-- {
				n++
				id := "E" + itoa(n)
				amount := amounts[int(r.next())%len(amounts)]
				switch op := r.next() % 4; op {
				case 0, 1:
					ev.Transactions = append(ev.Transactions, Transaction{TxnID: id, AccountID: 9, PostedAt: at, Kind: Purchase,
						Amount: amount, Installments: periods[int(r.next())%len(periods)], FeeRate: rates[int(r.next())%len(rates)]})
				case 2:
					ev.Repayments = append(ev.Repayments, Repayment{RepaymentID: id, AccountID: 9, PaidAt: at, Amount: amount,
						Channel: ChannelApp, Status: Succeeded})
				case 3:
					ev.Repayments = append(ev.Repayments, Repayment{RepaymentID: id, AccountID: 9, PaidAt: at, Amount: amount,
						Channel: ChannelApp, Status: Failed, FailureReason: FailureOther})
				}
			}
			var out Output
			err := Close(&cfg, a, d, &ev, &out)
			if err != nil {
				var ae *AccountError
				if !errors.Is(err, ErrOutOfRange) || !errors.As(err, &ae) {
					t.Fatalf("Close(%s) = %v, want nil or an *AccountError wrapping ErrOutOfRange", d, err)
				}
				return
			}
			if _, why := a.measure(); why != "" {
				t.Fatalf("after %s the account is out of range: %s", d, why)
			}
			if !a.Exposure().InRange() || !a.Owed().InRange() {
				t.Fatalf("after %s exposure %s, owed %s", d, a.Exposure(), a.Owed())
			}
			for _, s := range out.Statements {
				for _, v := range []Money{s.PreviousBalance, s.Payments, s.Refunds, s.Purchases, s.InstallmentPrincipal,
					s.InstallmentFees, s.RevolvingFees, s.Penalties, s.NewBalance, s.MinimumDue} {
					if !v.InRange() {
						t.Fatalf("statement %+v out of range", s)
					}
				}
			}
			for _, l := range out.Lines {
				if !l.Amount.InRange() {
					t.Fatalf("line %+v out of range", l)
				}
			}
			for _, p := range out.Plans {
				if !p.Principal.InRange() || !p.PeriodFee.InRange() || !p.TotalFees.InRange() {
					t.Fatalf("plan %+v out of range", p)
				}
				if (p.APRNominal == nil) != (p.APREffective == nil) || p.APRNominal == nil && !p.OverCap ||
					p.APRNominal != nil && (*p.APRNominal > MaxDisclosedRate || *p.APRNominal < 0 || *p.APREffective > MaxDisclosedRate) {
					t.Fatalf("plan %+v: APR not representable or unflagged", p)
				}
			}
			for _, x := range out.Notices {
				if x.Amount != nil && !x.Amount.InRange() {
					t.Fatalf("notice %+v out of range", x)
				}
			}
		}
	})
}

// TestGrossAgreesWithMeasureNamed: measure's unnamed pass accepts only
// accounts its named pass accepts, with the same gross, and refuses one
// that the named pass accepts only when it holds an amount of 2^59 or
// more (which the unnamed pass leaves to the named one), over accounts
// whose amounts are drawn around the bound (and beyond it, and at int64's
// ends) in every place measure looks; measure says what the named pass
// says.
func TestGrossAgreesWithMeasureNamed(t *testing.T) {
	vals := []Money{0, 1, -1, 12345, -99999, MaxMoney / 9, MaxMoney / 4, MaxMoney / 2, MaxMoney - 1, MaxMoney, -MaxMoney,
		MaxMoney + 1, -MaxMoney - 1, math.MaxInt64, math.MinInt64}
	rng := rand.New(rand.NewPCG(3, 11))
	r := struct{ next func() uint64 }{rng.Uint64}
	var odds uint64 // one amount in odds is drawn from vals, the others small
	var large bool  // an amount of the account is foldBound (2^59) or more
	m := func() Money {
		if r.next()%odds != 0 {
			return Money(r.next()%2000000) - 1000000
		}
		v := vals[int(r.next()%uint64(len(vals)))]
		large = large || absU64(int64(v)) >= foldBound
		return v
	}
	var accepted, refused, left int
	for range 20000 {
		odds, large = 8<<(r.next()%6), false
		a := &Account{Limit: m(), LastBalance: m(), ChargedOff: m(), Recovered: m(), Credit: m()}
		for range r.next() % 4 {
			var s Statement
			s.NewBalance, s.MinimumDue, s.MinRemaining = m(), m(), m()
			for k := range s.Owed {
				s.Owed[k] = m()
			}
			a.Statements = append(a.Statements, s)
		}
		c := &a.Cycle
		c.Purchases, c.RevolvingFees, c.Penalties, c.AcceleratedPrincipal, c.AcceleratedFees = m(), m(), m(), m(), m()
		c.InstallmentSpend, c.Payments, c.Refunds = m(), m(), m()
		for range r.next() % 3 {
			a.Pending = append(a.Pending, Line{Amount: m()})
		}
		for range r.next() % 4 {
			a.Plans = append(a.Plans, Plan{Principal: m(), PeriodPrincipal: m(), LastPeriodPrincipal: m(), BilledPrincipal: m(),
				BilledFees: m(), PeriodFee: m() / Money(1+r.next()%1000), Remaining: m(),
				Periods: int32(r.next()%70) - 3, Billed: int32(r.next()%30) - 1})
		}
		for range r.next() % 4 {
			a.Purchases = append(a.Purchases, PurchaseRef{Amount: m(), Refunded: m()})
		}
		for range r.next() % 3 {
			x := LateAccrual{Revolving: m(), Penalty: m(), MinRemaining: m()}
			for k := range x.Owed {
				x.Owed[k] = m()
			}
			a.LateAccruals = append(a.LateAccruals, x)
		}
		for range r.next() % 13 {
			a.History = append(a.History, CycleStats{Spend: m(), InstallmentSpend: m(), Billed: m(), Paid: m(), Balance: m(),
				Limit: m(), MinimumDue: m()})
		}
		fast, ok := a.gross()
		named, why := a.measureNamed()
		if ok && (why != "" || fast != named) || !ok && why == "" && !large {
			t.Fatalf("gross() = %d, %v; measureNamed() = %d, %q for %+v", fast, ok, named, why, a)
		}
		if g, w := a.measure(); w != why || w == "" && g != named {
			t.Fatalf("measure() = %d, %q; measureNamed() = %d, %q", g, w, named, why)
		}
		switch {
		case ok:
			accepted++
		case why == "":
			left++ // to the named pass
		default:
			refused++
		}
	}
	if accepted < 1000 || refused < 1000 || left < 100 {
		t.Fatalf("accepted %d, refused %d, left to the named pass %d: the draw should test each", accepted, refused, left)
	}
}
