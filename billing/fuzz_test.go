package billing

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

// FuzzClose decodes the fuzzer's bytes into one account's life over a few
// days to a few months: purchases (in full and in installments, some not
// offered), refunds (partial, full, too large, of unknown purchases),
// repayments (succeeded, failed, early payoffs), requests (deferral,
// billing-day change, closure), limit decisions and grade changes, and
// follows it with Close on every day, events or not.
//
// The events are what the pipeline hands Close: each one has passed the
// row-level checks (positive amounts, a non-negative fee rate, a timestamp
// inside the business day, unique ids, each kind sorted by timestamp then
// id); installment counts include some the policy does not offer, which
// Close rejects. Close must never panic and must never
// return an error: its only errors are ErrNotConserved and ErrUnbalanced,
// which are bugs for any such input. After every day the statements must
// balance (checkDay), and over the whole life the exposure must equal the
// sum of the day's flows.
//
// A short run:
//
//	go test -run '^$' -fuzz '^FuzzClose$' -fuzztime 30s -parallel 1 ./billing/
func FuzzClose(f *testing.F) {
	f.Add([]byte{})
	// Two purchases, a partial refund, a small payment, then silence:
	// overdue, penalties, freeze, charge-off at 180 days past due, then a
	// recovery and a refund after charge-off.
	f.Add(newLifeBytes(0, 0, 5).
		op(0, opPurchase, 0x10, 0x00, 1, 1, 1, 0x40, 0x00). // 409.70 in 3 at 0.5%
		op(0, opPurchase, 0x02, 0x00, 4, 0, 0, 0x80, 0x00). // 513.00 in full
		op(3, opRefund, 0, 0x00, 0x10, 0, 0x20, 0x00).      // 0.17 of the last purchase
		op(15, opRepayment, 0x00, 0x10, 4, 0x30, 0x00).     // 17.00, then nothing
		op(15, opSkip, 63).op(0, opSkip, 63).op(0, opSkip, 63).op(0, opSkip, 63).
		op(0, opRepayment, 0x01, 0x00, 4, 0x10, 0x00).         // a recovery
		op(0, opRefund, 1, 0x00, 0x10, 0, 0x20, 0x00).bytes()) // refund after charge-off
	// Pending, activated, an installment plan paid off early, a deferral of
	// a plan that is gone, a billing-day change, a close request, paid up.
	f.Add(newLifeBytes(1, 14, 200).
		op(0, opLimit, 0, 0x40, 0x00).                       // activate
		op(1, opPurchase, 0x20, 0x00, 4, 3, 2, 0x10, 0x00).  // in 12 at 0.75%
		op(15, opPurchase, 0x01, 0x00, 3, 2, 3, 0x10, 0x00). // in 6 at 1.2%
		op(15, opPayoff, 1, 0x30, 0x00, 5, 0x20, 0x00).
		op(2, opDeferral, 1, 2, 0x10, 0x00).
		op(2, opDeferral, 0, 1, 0x10, 0x00).
		op(0, opSkip, 63).op(0, opSkip, 63).
		op(0, opBillingDay, 5, 0x10, 0x00).
		op(1, opClosure, 0x10, 0x00).
		op(1, opRepayment, 0x7f, 0xff, 5, 0x10, 0x00).
		op(15, opSkip, 40).bytes())
	// Frozen near a leap day: grade D reminders, purchases not offered,
	// refunds of unknown purchases, failed deductions, deferrals beyond the
	// cap, limit changes, a few part payments.
	f.Add(newLifeBytes(2, 27, 57).
		op(0, opGrade, 4).
		op(0, opPurchase, 0xff, 0xff, 4, 4, 3, 0x01, 0x00). // in 24 at 1.2%
		op(0, opPurchase, 0x00, 0x01, 5, 5, 0, 0x02, 0x00). // in 2: not offered
		op(1, opRefund, 9, 0x00, 0x10, 0, 0x03, 0x00).
		op(1, opFailed, 0x00, 0x10, 4, 0x04, 0x00).
		op(1, opDeferral, 0, 1, 0x05, 0x00).
		op(9, opDeferral, 0, 3, 0x06, 0x00).
		op(0, opLimit, 2, 0x10, 0x00).op(0, opLimit, 3, 0x01, 0x00).
		op(15, opRepayment, 0x02, 0x00, 4, 0x07, 0x00).
		op(15, opRepayment, 0x02, 0x00, 4, 0x07, 0x00).
		op(15, opRepayment, 0x02, 0x00, 4, 0x07, 0x00).
		op(15, opSkip, 60).bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg := DefaultConfig()
		life := decodeLife(data)
		a := life.account
		var out Output
		var total Flows
		for d := life.from; d <= life.to; d++ {
			out.Reset()
			for _, l := range life.limits[d] {
				ApplyLimit(&cfg, a, d, l.action, l.limit, &out)
			}
			if g, ok := life.grades[d]; ok {
				a.Grade = g
			}
			ev := life.events[d]
			before := a.Exposure()
			if err := Close(&cfg, a, d, ev, &out); err != nil {
				t.Fatalf("Close(%s) = %v, want nil (conserved: %v, balanced: %v)",
					d, err, !errors.Is(err, ErrNotConserved), !errors.Is(err, ErrUnbalanced))
			}
			if got, want := a.Exposure()-before, out.Flows.Net(); got != want {
				t.Fatalf("Close(%s): exposure moved %s, flows say %s", d, got, want)
			}
			checkDay(t, a, d, &out)
			if t.Failed() {
				t.FailNow()
			}
			if err := total.Add(out.Flows); err != nil {
				t.Fatalf("Flows.Add after %s: %v", d, err)
			}
		}
		if got := a.Exposure(); got != total.Net() {
			t.Fatalf("exposure %s after %s..%s, flows sum to %s", got, life.from, life.to, total.Net())
		}
	})
}

// life is a decoded fuzz input: an account and what happens to it each day.
type life struct {
	account  *Account
	from, to Date
	events   map[Date]*Events
	limits   map[Date][]limitDecision
	grades   map[Date]string
}

type limitDecision struct {
	action LimitAction
	limit  Money
}

// byteReader hands out the input's bytes, then zeros.
type byteReader struct{ b []byte }

func (r *byteReader) next() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *byteReader) u16() int { return int(r.next())<<8 | int(r.next()) }

// maxLifeDays bounds the days an input can span, so that one input stays
// fast; 400 days reach charge-off and some months after it.
const maxLifeDays = 400

// Operations of a fuzz input. Each is one byte: the low nibble (mod 12) is
// the operation, the high nibble the days to wait before it (0..15), so that
// any bytes make a life of several days. Its arguments follow:
//
//	opPurchase    amount(3) installments(1) fee_rate(1) time(2)
//	opRefund      purchase(1) amount(3) time(2)
//	opRepayment   amount(3) time(2)
//	opFailed      amount(3) time(2)
//	opPayoff      plan(1) amount(3) time(2)
//	opDeferral    plan(1) periods(1) time(2)
//	opBillingDay  day(1) time(2)
//	opClosure     time(2)
//	opWait        (none: only the wait)
//	opSkip        days(1): 1..64 more days
//	opLimit       action(1) limit(2): applied before the day's Close
//	opGrade       grade(1): set before the day's Close
//
// amount is a 16-bit count and a scale (see decodeLife); a purchase or plan
// argument counts back from the latest (0 the latest; past the end, an
// unknown id); time is seconds into the business day.
const (
	opPurchase = iota
	opRefund
	opRepayment
	opFailed
	opPayoff
	opDeferral
	opBillingDay
	opClosure
	opWait
	opSkip
	opLimit
	opGrade
	numOps
)

// lifeBytes builds fuzz inputs for the seeds.
type lifeBytes struct{ b []byte }

// newLifeBytes starts an input: status (0 active, 1 pending, 2 frozen),
// billing day − 1, and the start date as days after 2024-01-01.
func newLifeBytes(status, billingDay, start byte) *lifeBytes {
	return &lifeBytes{b: []byte{status, billingDay, start}}
}

func (l *lifeBytes) op(wait, op byte, args ...byte) *lifeBytes {
	l.b = append(append(l.b, wait<<4|op), args...)
	return l
}

func (l *lifeBytes) bytes() []byte { return l.b }

// decodeLife turns bytes into a life. The first three bytes pick the start:
// the account's status, its billing day and the first date; operations
// follow (see opPurchase).
func decodeLife(data []byte) *life {
	r := &byteReader{b: data}
	statuses := []Status{Active, Pending, Frozen, Active}
	status := statuses[int(r.next())%len(statuses)]
	billingDay := int32(1 + int(r.next())%28)
	from := NewDate(2024, 1, 1).AddDays(int(r.next()))
	a := &Account{ID: 7, CustomerID: "C7", OpenedOn: from - 120, Status: status, BillingDay: billingDay}
	if status != Pending {
		a.ActivatedOn, a.LimitChangedOn, a.Limit = from-120, from-120, 2000000
	}
	if status == Frozen {
		a.FrozenOn = from - 10
	}
	l := &life{account: a, from: from, to: from,
		events: map[Date]*Events{}, limits: map[Date][]limitDecision{}, grades: map[Date]string{}}

	day := from
	seq := 0
	var purchases, payoffs []string // ids made so far, accepted or not
	id := func(prefix string) string { seq++; return fmt.Sprintf("%s%06d", prefix, seq) }
	// ts is a time inside the business day (Shanghai), second resolution.
	ts := func() int64 { return at(day, 0, 0) + int64(r.u16()%86400)*1e6 }
	ev := func() *Events {
		e := l.events[day]
		if e == nil {
			e = &Events{}
			l.events[day] = e
		}
		return e
	}
	// amount is a positive amount: up to 655.36 yuan times 1, 10, 100 or
	// 1000, now and then a very large one.
	amount := func() Money {
		v := Money(1 + r.u16())
		switch r.next() % 8 {
		case 0:
			return v
		case 1, 2, 3:
			return v * 10
		case 4, 5:
			return v * 100
		case 6:
			return v * 1000
		default:
			return v * 1_000_000 // up to 655 million yuan
		}
	}
	pick := func(ids []string) string {
		i := int(r.next())
		if i >= len(ids) {
			return fmt.Sprintf("X%06d", i) // unknown
		}
		return ids[len(ids)-1-i]
	}

	for len(r.b) > 0 && day-from < maxLifeDays {
		b := r.next()
		day += Date(b >> 4)
		switch b & 0x0f % numOps {
		case opPurchase:
			amt := amount()
			inst := []int32{1, 3, 6, 12, 24, 2, 36, 1}[r.next()%8]
			rate := []Rate{0, 5000, 7500, 12000, 20000, 100000, 2147483647, 1}[r.next()%8]
			t := Transaction{TxnID: id("P"), AccountID: a.ID, PostedAt: ts(), Kind: Purchase,
				Amount: amt, Installments: inst, FeeRate: rate}
			purchases = append(purchases, t.TxnID)
			if inst > 1 {
				payoffs = append(payoffs, t.TxnID)
			}
			ev().Transactions = append(ev().Transactions, t)
		case opRefund:
			ref := pick(purchases)
			amt := amount()
			ev().Transactions = append(ev().Transactions, Transaction{TxnID: id("F"), AccountID: a.ID,
				PostedAt: ts(), Kind: Refund, Amount: amt, RefTxnID: ref})
		case opRepayment, opFailed:
			st := Succeeded
			if b&0x0f%numOps == opFailed {
				st = Failed
			}
			amt := amount()
			ev().Repayments = append(ev().Repayments, Repayment{RepaymentID: id("R"), AccountID: a.ID,
				PaidAt: ts(), Amount: amt, Status: st})
		case opPayoff:
			ref := pick(payoffs)
			amt := amount()
			ev().Repayments = append(ev().Repayments, Repayment{RepaymentID: id("R"), AccountID: a.ID,
				PaidAt: ts(), Amount: amt, Status: Succeeded, PayoffTxnID: ref})
		case opDeferral:
			ref := pick(payoffs)
			periods := int32(int8(r.next()))
			ev().Requests = append(ev().Requests, Request{RequestID: id("Q"), AccountID: a.ID,
				RequestedAt: ts(), Kind: DeferPlan, TxnID: ref, Periods: periods})
		case opBillingDay:
			bd := int32(r.next() % 32)
			ev().Requests = append(ev().Requests, Request{RequestID: id("Q"), AccountID: a.ID,
				RequestedAt: ts(), Kind: ChangeBillingDay, BillingDay: bd})
		case opClosure:
			ev().Requests = append(ev().Requests, Request{RequestID: id("Q"), AccountID: a.ID,
				RequestedAt: ts(), Kind: CloseAccount})
		case opWait:
		case opSkip:
			day += Date(1 + r.next()%64)
		case opLimit:
			actions := []LimitAction{ActionActivate, ActionDecline, ActionIncrease, ActionDecrease, ActionKeep, ActionFreeze}
			act := actions[int(r.next())%len(actions)]
			limit := Money(r.u16()) * 100
			l.limits[day] = append(l.limits[day], limitDecision{act, limit})
		case opGrade:
			l.grades[day] = []string{"", "A", "B", "C", "D", "E"}[r.next()%6]
		}
	}
	l.to = min(day, from+maxLifeDays)
	// The pipeline hands each kind sorted by timestamp, then id.
	for d, e := range l.events {
		if d > l.to {
			delete(l.events, d)
			continue
		}
		sortEvents(e)
	}
	return l
}

// TestDecodeLife checks that the decoder makes what the pipeline would hand
// Close: positive amounts, timestamps inside the day, unique ids.
func TestDecodeLife(t *testing.T) {
	data := newLifeBytes(0, 3, 9).
		op(0, opPurchase, 0x01, 0x00, 4, 1, 1, 0xff, 0xff). // at the last second of the day
		op(2, opRefund, 0, 0x00, 0x10, 0, 0, 0).            // at its first second
		op(1, opRepayment, 0x00, 0x10, 4, 0x10, 0x00).
		op(0, opClosure, 0x20, 0x00).
		op(15, opSkip, 10).bytes()
	l := decodeLife(data)
	if want := l.from + 2 + 1 + 15 + 11; l.to != want {
		t.Errorf("decodeLife: life ends %s, want %s", l.to, want)
	}
	ids := map[string]bool{}
	for d, e := range l.events {
		check := func(id string, ts int64, amt Money) {
			if ids[id] {
				t.Errorf("decodeLife: id %s twice", id)
			}
			ids[id] = true
			if ts < at(d, 0, 0) || ts >= at(d+1, 0, 0) {
				t.Errorf("decodeLife: %s at %d outside %s", id, ts, d)
			}
			if amt < 0 {
				t.Errorf("decodeLife: %s amount %s", id, amt)
			}
		}
		for _, x := range e.Transactions {
			check(x.TxnID, x.PostedAt, x.Amount)
		}
		for _, x := range e.Repayments {
			check(x.RepaymentID, x.PaidAt, x.Amount)
		}
		for _, x := range e.Requests {
			check(x.RequestID, x.RequestedAt, 0)
		}
	}
	if len(ids) == 0 || l.to < l.from || !slices.Contains([]Status{Active, Pending, Frozen}, l.account.Status) {
		t.Errorf("decodeLife(%v) = %d events over %s..%s, status %s", data, len(ids), l.from, l.to, l.account.Status)
	}
}
