package billing

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The integer calendar agrees with package time on every day it covers,
// at its edges and beyond them (where time computes it).
func TestDateCalendarMatchesTime(t *testing.T) {
	check := func(d Date) {
		t.Helper()
		tm := time.Unix(int64(d)*86400, 0).UTC()
		y, m, day := d.YMD()
		if wy, wm, wd := tm.Date(); y != wy || m != wm || day != wd {
			t.Fatalf("date %d: YMD %d-%d-%d, want %d-%d-%d", d, y, m, day, wy, wm, wd)
		}
		if got, want := d.String(), tm.Format(time.DateOnly); got != want {
			t.Fatalf("date %d: String %q, want %q", d, got, want)
		}
		if got := NewDate(y, m, day); got != d {
			t.Fatalf("NewDate(%d, %d, %d) = %d, want %d", y, m, day, got, d)
		}
		if got := d.Day(); got != day {
			t.Fatalf("date %d: Day %d, want %d", d, got, day)
		}
	}
	for d := NewDate(1890, 1, 1); d < NewDate(2410, 1, 1); d++ {
		check(d)
	}
	for _, edge := range []Date{civilMinDate, civilMaxDate} {
		for d := edge - 800; d <= edge+800; d++ {
			check(d)
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200000 {
		check(civilMinDate + Date(r.IntN(int(civilMaxDate-civilMinDate)+1)))
		check(Date(r.Int32()))
	}
}

// NewDate normalises months and days out of range as time.Date does, and
// AddMonths clamps to the month's last day.
func TestNewDateNormalises(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		y, m, d := r.IntN(10400)-200, time.Month(r.IntN(80)-40), r.IntN(2000)-1000
		if r.IntN(50) == 0 {
			d = r.IntN(1<<22) - 1<<21
		}
		want := Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
		if got := NewDate(y, m, d); got != want {
			t.Fatalf("NewDate(%d, %d, %d) = %d, want %d", y, m, d, got, want)
		}
	}
	for range 100000 {
		d, n := Date(r.IntN(2_000_000)-300_000), r.IntN(400)-200
		y, m, day := d.YMD()
		first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
		if last := first.AddDate(0, 1, -1).Day(); day > last {
			day = last
		}
		want := Date(time.Date(first.Year(), first.Month(), day, 0, 0, 0, 0, time.UTC).Unix() / 86400)
		if got := d.AddMonths(n); got != want {
			t.Fatalf("%s.AddMonths(%d) = %s, want %s", d, n, got, want)
		}
	}
}
