package billing

import (
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// This file holds the test harness: a scripted account followed day by day
// through Close, printing what happens in a readable log.

func mustDate(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustMoney(t testing.TB, s string) Money {
	t.Helper()
	m, err := ParseMoney(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func mustRate(t testing.TB, s string) Rate {
	t.Helper()
	r, err := ParseRate(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var shanghai = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return loc
}()

// at returns the UTC micros of local time hh:mm on d in Shanghai.
func at(d Date, hh, mm int) int64 {
	y, m, day := d.YMD()
	return time.Date(y, m, day, hh, mm, 0, 0, shanghai).UnixMicro()
}

// script builds the events of a scenario; each event happens at 10:00
// local time plus a sequence number of minutes, so the order is the script's.
type script struct {
	t   testing.TB
	seq int
	ev  map[Date]*Events
}

func newScript(t testing.TB) *script { return &script{t: t, ev: map[Date]*Events{}} }

func (s *script) when(day string) (Date, int64) {
	d := mustDate(s.t, day)
	s.seq++
	return d, at(d, 10, 0) + int64(s.seq)*60e6
}

func (s *script) events(d Date) *Events {
	e := s.ev[d]
	if e == nil {
		e = &Events{}
		s.ev[d] = e
	}
	return e
}

func (s *script) buy(day, id, amount string, n int32, rate string) *script {
	d, ts := s.when(day)
	e := s.events(d)
	e.Transactions = append(e.Transactions, Transaction{
		TxnID: id, AccountID: 1, PostedAt: ts, Kind: Purchase, Amount: mustMoney(s.t, amount),
		Installments: n, FeeRate: mustRate(s.t, rate),
	})
	return s
}

func (s *script) refund(day, id, ref, amount string) *script {
	d, ts := s.when(day)
	e := s.events(d)
	e.Transactions = append(e.Transactions, Transaction{
		TxnID: id, AccountID: 1, PostedAt: ts, Kind: Refund, Amount: mustMoney(s.t, amount), RefTxnID: ref,
	})
	return s
}

func (s *script) pay(day, id, amount string) *script { return s.repay(day, id, amount, Succeeded, "") }

func (s *script) payoff(day, id, amount, txn string) *script {
	return s.repay(day, id, amount, Succeeded, txn)
}

func (s *script) fail(day, id, amount string) *script { return s.repay(day, id, amount, Failed, "") }

func (s *script) repay(day, id, amount string, st RepaymentStatus, payoff string) *script {
	d, ts := s.when(day)
	e := s.events(d)
	r := Repayment{RepaymentID: id, AccountID: 1, PaidAt: ts, Amount: mustMoney(s.t, amount),
		Channel: "app", Status: st, PayoffTxnID: payoff}
	if st == Failed {
		r.FailureReason = "insufficient_funds"
	}
	e.Repayments = append(e.Repayments, r)
	return s
}

func (s *script) request(day string, q Request) *script {
	d, ts := s.when(day)
	e := s.events(d)
	q.AccountID, q.RequestedAt = 1, ts
	e.Requests = append(e.Requests, q)
	return s
}

// newTestAccount is an active account with billing day 1, activated on on.
func newTestAccount(on Date, billingDay int32, limit Money) *Account {
	return &Account{ID: 1, CustomerID: "C1", OpenedOn: on, ActivatedOn: on, LimitChangedOn: on,
		Status: Active, Limit: limit, BillingDay: billingDay}
}

// follow runs Close for every day from..to, writing a log of everything the
// days produce to w (nil for none). It fails the test on any error.
func follow(t testing.TB, cfg *Config, a *Account, from, to Date, s *script, w io.Writer) {
	t.Helper()
	var out Output
	for d := from; d <= to; d++ {
		out.Reset()
		var ev *Events
		if s != nil {
			ev = s.ev[d]
		}
		before := a.Exposure()
		if err := Close(cfg, a, d, ev, &out); err != nil {
			t.Fatalf("Close(%s) = %v, want nil", d, err)
		}
		checkDay(t, a, d, &out)
		if w != nil {
			logDay(w, a, d, ev, &out, before)
		}
	}
}

// checkDay checks what must hold after every day.
func checkDay(t testing.TB, a *Account, d Date, out *Output) {
	t.Helper()
	for _, s := range out.Statements {
		sum := s.PreviousBalance + s.Purchases + s.InstallmentPrincipal + s.InstallmentFees +
			s.RevolvingFees + s.Penalties - s.Payments - s.Refunds
		if sum != s.NewBalance {
			t.Errorf("%s: statement %s: balance equation gives %s, new balance %s", d, s.StatementDate, sum, s.NewBalance)
		}
		if s.MinimumDue < 0 || (s.NewBalance > 0 && s.MinimumDue > s.NewBalance) {
			t.Errorf("%s: statement %s: minimum %s outside 0..%s", d, s.StatementDate, s.MinimumDue, s.NewBalance)
		}
		var lines Money
		for _, l := range out.Lines {
			if l.StatementDate == s.StatementDate {
				lines += l.Amount
			}
		}
		if lines != s.NewBalance-s.PreviousBalance {
			t.Errorf("%s: statement %s: lines sum to %s, balance moved %s", d, s.StatementDate, lines, s.NewBalance-s.PreviousBalance)
		}
	}
	for i := range a.Statements {
		st := &a.Statements[i]
		for k, v := range st.Owed {
			if v < 0 {
				t.Errorf("%s: statement %s owes %s of %s", d, st.Date, v, Component(k))
			}
		}
		if i > 0 && a.Statements[i-1].MinRemaining > st.MinRemaining {
			t.Errorf("%s: statement %s min remaining %s below older %s", d, st.Date, st.MinRemaining, a.Statements[i-1].MinRemaining)
		}
	}
	if a.Credit < 0 {
		t.Errorf("%s: credit %s < 0", d, a.Credit)
	}
	if a.Credit > 0 {
		for i := range a.Statements {
			if a.Statements[i].Owed.Sum() != 0 {
				t.Errorf("%s: credit %s while statement %s owes %s", d, a.Credit, a.Statements[i].Date, a.Statements[i].Owed.Sum())
			}
		}
	}
	for _, p := range a.Plans {
		if p.Remaining < 0 || p.Billed > p.Periods {
			t.Errorf("%s: plan %s: remaining %s, billed %d of %d", d, p.TxnID, p.Remaining, p.Billed, p.Periods)
		}
	}
}

// logDay writes one day of a scenario: its events, then each row produced.
func logDay(w io.Writer, a *Account, d Date, ev *Events, out *Output, before Money) {
	var b strings.Builder
	if ev != nil {
		for _, t := range ev.Transactions {
			switch t.Kind {
			case Purchase:
				fmt.Fprintf(&b, "  event purchase %s %s in %d at %s\n", t.TxnID, t.Amount, t.Installments, t.FeeRate)
			case Refund:
				fmt.Fprintf(&b, "  event refund %s of %s %s\n", t.TxnID, t.RefTxnID, t.Amount)
			}
		}
		for _, p := range ev.Repayments {
			st := "succeeded"
			if p.Status == Failed {
				st = "failed"
			}
			fmt.Fprintf(&b, "  event repayment %s %s %s", p.RepaymentID, p.Amount, st)
			if p.PayoffTxnID != "" {
				fmt.Fprintf(&b, " payoff %s", p.PayoffTxnID)
			}
			b.WriteString("\n")
		}
		for _, q := range ev.Requests {
			fmt.Fprintf(&b, "  event request %s kind=%d txn=%s periods=%d billing_day=%d\n", q.RequestID, q.Kind, q.TxnID, q.Periods, q.BillingDay)
		}
	}
	for _, r := range out.Rejects {
		fmt.Fprintf(&b, "  reject %s %s %s\n", r.Dataset, r.Key, r.Reason)
	}
	for _, p := range out.Plans {
		fmt.Fprintf(&b, "  plan %s principal %s over %d: %s + fee %s, last %s, fees %s, apr %s nominal %s effective over_cap=%v\n",
			p.TxnID, p.Principal, p.Periods, p.PeriodPrincipal, p.PeriodFee, p.LastPeriodPrincipal, p.TotalFees, p.APRNominal, p.APREffective, p.OverCap)
	}
	for _, s := range out.Statements {
		fmt.Fprintf(&b, "  STATEMENT %s due %s\n", s.StatementDate, s.DueDate)
		fmt.Fprintf(&b, "    previous balance      %10s\n", s.PreviousBalance)
		fmt.Fprintf(&b, "    payments              %10s\n", -s.Payments)
		fmt.Fprintf(&b, "    refunds               %10s\n", -s.Refunds)
		fmt.Fprintf(&b, "    purchases             %10s\n", s.Purchases)
		fmt.Fprintf(&b, "    installment principal %10s\n", s.InstallmentPrincipal)
		fmt.Fprintf(&b, "    installment fees      %10s\n", s.InstallmentFees)
		fmt.Fprintf(&b, "    revolving fees        %10s\n", s.RevolvingFees)
		fmt.Fprintf(&b, "    penalties             %10s\n", s.Penalties)
		fmt.Fprintf(&b, "    new balance           %10s\n", s.NewBalance)
		fmt.Fprintf(&b, "    minimum due           %10s\n", s.MinimumDue)
		for _, l := range out.Lines {
			if l.StatementDate != s.StatementDate {
				continue
			}
			ref := ""
			if l.Ref != nil {
				ref = *l.Ref
			}
			if l.Period != nil {
				ref += fmt.Sprintf("#%d", *l.Period)
			}
			fmt.Fprintf(&b, "    line %2d %s %-21s %-12s %10s\n", l.Seq, l.EventDate, l.Kind, ref, l.Amount)
		}
	}
	for _, r := range out.Bureau {
		fmt.Fprintf(&b, "  bureau %s %s\n", r.Period, r.Status)
	}
	for _, r := range out.Delinquency {
		fmt.Fprintf(&b, "  delinquency dpd %d %s past due %s penalty today %s total %s\n", r.DPD, r.Bucket, r.PastDueAmount, r.PenaltyToday, r.PenaltyTotal)
	}
	for _, n := range out.Notices {
		amount := "none"
		if n.Amount != nil {
			amount = n.Amount.String()
		}
		fmt.Fprintf(&b, "  notice %s %s via %s ref %s amount %s", n.NoticeID[:8], n.Kind, n.Channel, n.Reference, amount)
		if n.DueDate != nil {
			fmt.Fprintf(&b, " due %s", *n.DueDate)
		}
		b.WriteString("\n")
	}
	f := out.Flows
	switch {
	case b.Len() == 0 && f == (Flows{}):
		// a quiet day
	case b.Len() == 0 && f == (Flows{Revolving: f.Revolving, Penalties: f.Penalties}):
		fmt.Fprintf(w, "%s %s accrued revolving %s penalty %s, exposure %s -> %s\n", d, a.Status, f.Revolving, f.Penalties, before, a.Exposure())
	default:
		fmt.Fprintf(w, "%s %s\n%s", d, a.Status, b.String())
		if f != (Flows{}) {
			fmt.Fprintf(w, "  flows purchases %s fees %s revolving %s penalties %s payments %s refunds %s fee_reversal %s charged_off %s recoveries %s\n",
				f.Purchases, f.Fees, f.Revolving, f.Penalties, f.Payments, f.Refunds, f.FeeReversal, f.ChargedOff, f.Recoveries)
		}
		fmt.Fprintf(w, "  exposure %s -> %s, owed %s, credit %s, plans %s, open statements %s%s\n",
			before, a.Exposure(), a.Owed(), a.Credit, planSummary(a), stmtSummary(a), noteSummary(a))
	}
}

func planSummary(a *Account) string {
	if len(a.Plans) == 0 {
		return "none"
	}
	var parts []string
	for _, p := range a.Plans {
		s := fmt.Sprintf("%s %d/%d left %s", p.TxnID, p.Billed, p.Periods, p.Remaining)
		if p.Skip > 0 {
			s += fmt.Sprintf(" skip %d", p.Skip)
		}
		parts = append(parts, s)
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func stmtSummary(a *Account) string {
	if len(a.Statements) == 0 {
		return "none"
	}
	var parts []string
	for _, s := range a.Statements {
		parts = append(parts, fmt.Sprintf("%s owes %s min left %s", s.Date, s.Owed.Sum(), s.MinRemaining))
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func noteSummary(a *Account) string {
	if a.Note == "" {
		return ""
	}
	return "\n  note: " + a.Note
}

func timeParse(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0, err
	}
	return t.UnixMicro(), nil
}
