package billing

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// Flows.Add, on amounts from small to int64's limits (around ±MaxMoney/2
// and ±MaxMoney most), sums every field exactly when each sum stays within
// ±MaxMoney, and otherwise fails and changes nothing.
func TestFlowsAddMatchesChecked(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	pick := func() Money {
		edges := [...]Money{0, 1, MaxMoney / 2, MaxMoney/2 + 1, MaxMoney - 1, MaxMoney, MaxMoney + 1, math.MaxInt64, math.MaxInt64 - MaxMoney/2}
		switch r.IntN(3) {
		case 0:
			m := edges[r.IntN(len(edges))] + Money(r.IntN(3)-1)
			if r.IntN(2) == 0 {
				m = -m
			}
			return m
		case 1:
			return Money(r.Int64N(2_000_000_00)) - 1_000_000_00
		}
		return Money(r.Uint64())
	}
	fields := func(f *Flows) []*Money {
		return []*Money{&f.Purchases, &f.Fees, &f.Revolving, &f.Penalties, &f.Payments, &f.Refunds,
			&f.FeeReversal, &f.ChargedOff, &f.Recoveries}
	}
	for range 200000 {
		var f, g Flows
		small := r.IntN(2) == 0
		for _, p := range append(fields(&f), fields(&g)...) {
			if small {
				*p = Money(r.Int64N(int64(MaxMoney/2)*2+1)) - MaxMoney/2
			} else if r.IntN(4) == 0 {
				*p = pick()
			}
		}
		want, ok := f, true
		for i, p := range fields(&want) {
			v, err := p.AddChecked(*fields(&g)[i])
			if err != nil {
				ok = false
			}
			*p = v
		}
		if !ok {
			want = f
		}
		got := f
		err := got.Add(g)
		if ok != (err == nil) || got != want || err != nil && !errors.Is(err, ErrOutOfRange) {
			t.Fatalf("%+v.Add(%+v) = %+v, %v; want %+v, ok %v", f, g, got, err, want, ok)
		}
	}
}
