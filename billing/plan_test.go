package billing

import (
	"math/rand/v2"
	"testing"
)

func TestNewPlan(t *testing.T) {
	tests := []struct {
		name                         string
		principal                    string
		periods                      int32
		rate                         string
		period, fee, last, totalFees string
		nominal, effective           string
		overCap                      bool
	}{
		{name: "spec 1200 over 12 at 0.5%", principal: "1200.00", periods: 12, rate: "0.005",
			period: "100.00", fee: "6.00", last: "100.00", totalFees: "72.00",
			nominal: "0.108964", effective: "0.114574"},
		{name: "spec 1000 over 3 interest-free", principal: "1000.00", periods: 3, rate: "0",
			period: "333.33", fee: "0.00", last: "333.34", totalFees: "0.00",
			nominal: "0", effective: "0"},
		{name: "spec 1999 over 12", principal: "1999.00", periods: 12, rate: "0.005",
			period: "166.58", fee: "10.00", last: "166.62", totalFees: "120.00",
			nominal: "0.109016", effective: "0.114631"}, // fee 9.995 rounds up to 10.00
		{name: "spec 200 over 3 rounds", principal: "200.00", periods: 3, rate: "0",
			period: "66.67", fee: "0.00", last: "66.66", totalFees: "0.00", nominal: "0", effective: "0"},
		{name: "spec 2.00 over 3 rounds", principal: "2.00", periods: 3, rate: "0",
			period: "0.67", fee: "0.00", last: "0.66", totalFees: "0.00", nominal: "0", effective: "0"},
		{name: "spec 99999.99 over 24 rounds", principal: "99999.99", periods: 24, rate: "0",
			period: "4166.67", fee: "0.00", last: "4166.58", totalFees: "0.00", nominal: "0", effective: "0"},
		{name: "fee rounds half up", principal: "333.00", periods: 3, rate: "0.0075",
			period: "111.00", fee: "2.50", last: "111.00", totalFees: "7.50"},
		{name: "24 at 1.2% is over the cap", principal: "2400.00", periods: 24, rate: "0.012",
			period: "100.00", fee: "28.80", last: "100.00", totalFees: "691.20",
			nominal: "0.255873", effective: "0.288120", overCap: true},
	}
	cfg := DefaultConfig()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPlan("T", 0, mustMoney(t, tt.principal), tt.periods, mustRate(t, tt.rate))
			row := p.Row(1, cfg.APRCap)
			check := func(what string, got Money, want string) {
				t.Helper()
				if w := mustMoney(t, want); got != w {
					t.Errorf("NewPlan(%s, %d, %s) %s = %s, want %s", tt.principal, tt.periods, tt.rate, what, got, w)
				}
			}
			check("period principal", row.PeriodPrincipal, tt.period)
			check("period fee", row.PeriodFee, tt.fee)
			check("last period principal", row.LastPeriodPrincipal, tt.last)
			check("total fees", row.TotalFees, tt.totalFees)
			if tt.nominal != "" {
				if got, want := row.APRNominal, mustRate(t, tt.nominal); got == nil || *got != want {
					t.Errorf("APR nominal = %v, want %s", got, want)
				}
				if got, want := row.APREffective, mustRate(t, tt.effective); got == nil || *got != want {
					t.Errorf("APR effective = %v, want %s", got, want)
				}
			}
			if row.OverCap != tt.overCap {
				t.Errorf("over cap = %v, want %v (nominal %v)", row.OverCap, tt.overCap, row.APRNominal)
			}
			// Billing every period gives back the principal and n fees.
			var sum, fees Money
			for !p.Done() {
				_, pr, f := p.billNext()
				sum += pr
				fees += f
			}
			if sum != row.Principal || fees != row.TotalFees || p.Remaining != 0 {
				t.Errorf("billed %s principal and %s fees, want %s and %s", sum, fees, row.Principal, row.TotalFees)
			}
		})
	}
}

func TestAllocate(t *testing.T) {
	order := DefaultConfig().Waterfall
	tests := []struct {
		name   string
		owed   Components
		amount Money
		paid   Components
		left   Money
	}{
		{name: "penalties first", owed: Components{500, 300, 600, 10000, 20000}, amount: 1000,
			paid: Components{500, 300, 200, 0, 0}, left: 0},
		{name: "pays everything, rest left", owed: Components{0, 0, 600, 10000, 0}, amount: 20000,
			paid: Components{0, 0, 600, 10000, 0}, left: 9400},
		{name: "nothing owed", owed: Components{}, amount: 100, left: 100},
		{name: "zero amount", owed: Components{1, 2, 3, 4, 5}, amount: 0, left: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			owed := tt.owed
			paid, left := Allocate(&owed, tt.amount, order)
			if paid != tt.paid || left != tt.left {
				t.Errorf("Allocate(%v, %s) = %v, %s, want %v, %s", tt.owed, tt.amount, paid, left, tt.paid, tt.left)
			}
			for k := range owed {
				if owed[k] != tt.owed[k]-paid[k] {
					t.Errorf("owed[%s] = %s, want %s", Component(k), owed[k], tt.owed[k]-paid[k])
				}
			}
		})
	}
}

func TestLocalDate(t *testing.T) {
	tests := []struct {
		utc  string
		want string
	}{
		{"2024-02-29T16:30:00Z", "2024-03-01"},
		{"2024-02-29T15:59:59Z", "2024-02-29"},
		{"2024-03-01T00:00:00Z", "2024-03-01"},
		{"2023-12-31T16:00:00Z", "2024-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.utc, func(t *testing.T) {
			ts, err := timeParse(tt.utc)
			if err != nil {
				t.Fatal(err)
			}
			if got := LocalDate(ts, shanghai); got.String() != tt.want {
				t.Errorf("LocalDate(%s) = %s, want %s", tt.utc, got, tt.want)
			}
		})
	}
}

// TestStatementDate checks the spec's billing-day examples: with billing day
// 1, a purchase on 2024-03-01 lands on the 2024-04-01 statement and one on
// 2024-02-29 on the 2024-03-01 one, due 9 days later.
func TestStatementDate(t *testing.T) {
	tests := []struct {
		name           string
		postedUTC      string
		statement, due string
	}{
		{"purchase on 03-01", "2024-03-01T02:00:00Z", "2024-04-01", "2024-04-10"},
		{"purchase on 02-29", "2024-02-29T02:00:00Z", "2024-03-01", "2024-03-10"},
		{"02-29T16:30Z is 03-01 local", "2024-02-29T16:30:00Z", "2024-04-01", "2024-04-10"},
	}
	cfg := DefaultConfig()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := timeParse(tt.postedUTC)
			if err != nil {
				t.Fatal(err)
			}
			day := LocalDate(ts, cfg.Location())
			a := newTestAccount(mustDate(t, "2024-01-01"), 1, 1000000)
			ev := &Events{Transactions: []Transaction{{TxnID: "P", AccountID: 1, PostedAt: ts, Kind: Purchase, Amount: 10000, Installments: 1}}}
			var out Output
			var got StatementRow
			for d := day; d < day+40 && got.StatementDate == 0; d++ {
				var e *Events
				if d == day {
					e = ev
				}
				if err := Close(&cfg, a, d, e, &out); err != nil {
					t.Fatalf("Close(%s) = %v, want nil", d, err)
				}
				for _, s := range out.Statements {
					if s.Purchases > 0 {
						got = s
					}
				}
			}
			if got.StatementDate.String() != tt.statement || got.DueDate.String() != tt.due {
				t.Errorf("purchase at %s: statement %s due %s, want %s due %s", tt.postedUTC, got.StatementDate, got.DueDate, tt.statement, tt.due)
			}
		})
	}
}

// TestDPD follows a statement due 2025-03-10 that is never paid: DPD 1 on
// 03-11, 30 on 04-09 (M1), charge-off at 180 on 09-06.
func TestDPD(t *testing.T) {
	cfg := DefaultConfig()
	a := newTestAccount(mustDate(t, "2025-01-01"), 1, 1000000)
	a.Statements = []Statement{{Date: mustDate(t, "2025-03-01"), DueDate: mustDate(t, "2025-03-10"),
		NewBalance: 100000, MinimumDue: 10000, MinRemaining: 10000, Owed: Components{PurchasePrincipal: 100000}}}
	a.LastStatement, a.LastBalance = mustDate(t, "2025-03-01"), 100000
	want := map[string]struct {
		dpd    int32
		bucket string
	}{
		"2025-03-10": {0, ""}, "2025-03-11": {1, "M1"}, "2025-04-09": {30, "M1"}, "2025-04-10": {31, "M2"},
		"2025-09-06": {180, "M6"},
	}
	var out Output
	last := int32(0)
	for d := mustDate(t, "2025-03-02"); d <= mustDate(t, "2025-09-06"); d++ {
		out.Reset()
		if err := Close(&cfg, a, d, nil, &out); err != nil {
			t.Fatalf("Close(%s) = %v, want nil", d, err)
		}
		var dpd int32
		var bucket string
		for _, r := range out.Delinquency {
			dpd, bucket = r.DPD, r.Bucket
		}
		if dpd != 0 && dpd != last+1 {
			t.Errorf("Close(%s) dpd = %d, want %d (one more than yesterday)", d, dpd, last+1)
		}
		last = dpd
		if w, ok := want[d.String()]; ok && (dpd != w.dpd || bucket != w.bucket) {
			t.Errorf("Close(%s) dpd = %d %q, want %d %q", d, dpd, bucket, w.dpd, w.bucket)
		}
	}
	if a.Status != Closed || a.ChargedOff <= 0 || a.ClosedOn.String() != "2025-09-06" {
		t.Errorf("after 2025-09-06: status %s, charged off %s on %s, want closed, > 0 on 2025-09-06", a.Status, a.ChargedOff, a.ClosedOn)
	}
	if a.Exposure() != 0 {
		t.Errorf("after charge-off exposure = %s, want 0", a.Exposure())
	}
}

// PastDueDays is Overdue's DPD, whatever the statements' due dates (a
// grace moves some) and unpaid minimums.
func TestPastDueDays(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 14))
	day := NewDate(2025, 6, 15)
	for range 5000 {
		var a Account
		for range rng.IntN(5) {
			a.Statements = append(a.Statements, Statement{DueDate: day - 40 + Date(rng.IntN(60)), MinRemaining: Money(rng.IntN(3)) * 100})
		}
		for _, d := range []Date{day - 30, day, day + 20} {
			if got, want := a.PastDueDays(d), a.Overdue(d).DPD; got != want {
				t.Fatalf("PastDueDays(%s) = %d, want Overdue's %d (statements %+v)", d, got, want, a.Statements)
			}
		}
	}
}

// TestPenalty: 1000.00 past due for 5 days at 0.07% a day is 3.50.
func TestPenalty(t *testing.T) {
	cfg := DefaultConfig()
	cfg.PenaltyDailyRate = mustRate(t, "0.0007")
	a := newTestAccount(mustDate(t, "2025-01-01"), 1, 1000000)
	a.Statements = []Statement{{Date: mustDate(t, "2025-03-01"), DueDate: mustDate(t, "2025-03-10"),
		NewBalance: 200000, MinimumDue: 100000, MinRemaining: 100000, Owed: Components{PurchasePrincipal: 200000}}}
	a.LastStatement, a.LastBalance = mustDate(t, "2025-03-01"), 200000
	var out Output
	for d := mustDate(t, "2025-03-11"); d <= mustDate(t, "2025-03-15"); d++ {
		if err := Close(&cfg, a, d, nil, &out); err != nil {
			t.Fatalf("Close(%s) = %v, want nil", d, err)
		}
	}
	if got, want := a.Cycle.Penalties, mustMoney(t, "3.50"); got != want {
		t.Errorf("penalties after 5 days = %s, want %s", got, want)
	}
	if got, want := out.Flows.Penalties, mustMoney(t, "3.50"); got != want {
		t.Errorf("flows penalties = %s, want %s", got, want)
	}
	if n := len(out.Delinquency); n != 5 || out.Delinquency[4].PastDueAmount != 100000 || out.Delinquency[4].PenaltyTotal != 350 {
		t.Errorf("delinquency rows = %+v, want 5 with past due 1000.00 and penalty total 3.50", out.Delinquency)
	}
}

func TestBucket(t *testing.T) {
	tests := []struct {
		dpd  int32
		want string
	}{{0, ""}, {1, "M1"}, {30, "M1"}, {31, "M2"}, {60, "M2"}, {61, "M3"}, {150, "M5"}, {151, "M6"}, {180, "M6"}, {181, "M7+"}, {900, "M7+"}}
	for _, tt := range tests {
		if got := Bucket(tt.dpd); got != tt.want {
			t.Errorf("Bucket(%d) = %q, want %q", tt.dpd, got, tt.want)
		}
	}
}

func TestNoticeID(t *testing.T) {
	a := NoticeID(7, NoticeOverdue, "2025-03-01/dpd1")
	if len(a) != 32 || a != NoticeID(7, NoticeOverdue, "2025-03-01/dpd1") {
		t.Errorf("NoticeID = %q, want 32 stable hex digits", a)
	}
	if a == NoticeID(7, NoticeOverdue, "2025-03-01/dpd3") || a == NoticeID(8, NoticeOverdue, "2025-03-01/dpd1") {
		t.Errorf("NoticeID collides across references or accounts")
	}
}

func TestApplyLimit(t *testing.T) {
	cfg := DefaultConfig()
	day := mustDate(t, "2025-01-05")
	tests := []struct {
		name     string
		status   Status
		action   LimitAction
		limit    Money
		want     Status
		wantLim  Money
		wantKind string
	}{
		{"activate", Pending, ActionActivate, 500000, Active, 500000, string(NoticeActivated)},
		{"decline", Pending, ActionDecline, 0, Declined, 0, string(NoticeDeclined)},
		{"increase", Active, ActionIncrease, 800000, Active, 800000, string(NoticeLimitChanged)},
		{"decrease frozen", Frozen, ActionDecrease, 100000, Frozen, 100000, string(NoticeLimitChanged)},
		{"keep", Active, ActionKeep, 300000, Active, 300000, ""},
		{"freeze is the lifecycle's", Active, ActionFreeze, 300000, Active, 300000, ""},
		{"closed ignored", Closed, ActionIncrease, 900000, Closed, 300000, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &Account{ID: 3, Status: tt.status}
			if tt.status != Pending {
				a.Limit = 300000
			}
			var out Output
			ApplyLimit(&cfg, a, day, tt.action, tt.limit, &out)
			kind := ""
			if len(out.Notices) == 1 {
				kind = out.Notices[0].Kind
			}
			if a.Status != tt.want || a.Limit != tt.wantLim || kind != tt.wantKind || len(out.Notices) > 1 {
				t.Errorf("ApplyLimit(%s, %s) = %s %s %q, want %s %s %q", tt.status, tt.action, a.Status, a.Limit, kind, tt.want, tt.wantLim, tt.wantKind)
			}
			if tt.action == ActionActivate && (a.ActivatedOn != day || a.LimitChangedOn != day) {
				t.Errorf("activated on %s, limit changed on %s, want %s", a.ActivatedOn, a.LimitChangedOn, day)
			}
		})
	}
}

func TestSplits(t *testing.T) {
	for _, tc := range []struct {
		amount string
		n      int32
		want   bool
	}{
		{"0.15", 24, false}, // 0.01 × 23 leaves −0.08
		{"0.24", 24, true},  // 0.01 × 24
		{"0.23", 24, false}, // 0.01 × 23 leaves 0.00
		{"2.00", 3, true},
		{"0.01", 1, true},
		{"99999.99", 24, true},
	} {
		if got := Splits(mustMoney(t, tc.amount), tc.n); got != tc.want {
			t.Errorf("Splits(%s, %d) = %v, want %v", tc.amount, tc.n, got, tc.want)
		}
	}
}
