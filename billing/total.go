package billing

import (
	"math/big"
	"math/bits"
)

// Total is a sum of amounts over a whole book, exact in 128-bit two's
// complement: it cannot wrap for fewer than 2^64 additions of any Money,
// so a book's exposure or a day's flows add up exactly however large the
// book. The zero value is 0.
type Total struct {
	hi uint64 // high word, two's complement
	lo uint64
}

// TotalOf returns m as a Total.
func TotalOf(m Money) Total {
	t := Total{lo: uint64(m)}
	if m < 0 {
		t.hi = ^uint64(0)
	}
	return t
}

// Add adds m to t.
func (t *Total) Add(m Money) { t.AddTotal(TotalOf(m)) }

// Sub subtracts m from t.
func (t *Total) Sub(m Money) { *t = t.Minus(TotalOf(m)) }

// AddTotal adds u to t.
func (t *Total) AddTotal(u Total) {
	lo, carry := bits.Add64(t.lo, u.lo, 0)
	hi, _ := bits.Add64(t.hi, u.hi, carry)
	t.hi, t.lo = hi, lo
}

// Minus returns t − u.
func (t Total) Minus(u Total) Total {
	lo, borrow := bits.Sub64(t.lo, u.lo, 0)
	hi, _ := bits.Sub64(t.hi, u.hi, borrow)
	return Total{hi: hi, lo: lo}
}

// Cmp compares t and u: −1 when t < u, 0 when equal, +1 when t > u.
func (t Total) Cmp(u Total) int {
	th, uh := int64(t.hi), int64(u.hi)
	switch {
	case th < uh:
		return -1
	case th > uh:
		return 1
	case t.lo < u.lo:
		return -1
	case t.lo > u.lo:
		return 1
	}
	return 0
}

// Equal reports whether t and u are the same amount.
func (t Total) Equal(u Total) bool { return t == u }

// Sign returns −1, 0 or +1.
func (t Total) Sign() int { return t.Cmp(Total{}) }

// Money returns t as a Money, and whether it lies within ±MaxMoney (the
// result is 0 when it does not).
func (t Total) Money() (Money, bool) {
	m := Money(t.lo)
	if t != TotalOf(m) || !m.InRange() {
		return 0, false
	}
	return m, true
}

// String formats t as yuan with two decimals, exact to the fen, e.g.
// "-12345678901234567890.12".
func (t Total) String() string {
	if m, ok := t.Money(); ok {
		return m.String()
	}
	neg := int64(t.hi) < 0
	u := t
	if neg {
		u = Total{}.Minus(t)
	}
	v := new(big.Int).SetUint64(u.hi)
	v.Lsh(v, 64).Or(v, new(big.Int).SetUint64(u.lo))
	fen := new(big.Int)
	yuan, _ := v.QuoRem(v, big.NewInt(100), fen)
	s := yuan.String() + "." + string(rune('0'+fen.Int64()/10)) + string(rune('0'+fen.Int64()%10))
	if neg {
		return "-" + s
	}
	return s
}
