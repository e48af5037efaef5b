package billing

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Money is an amount of CNY in fen (1/100 yuan). On disk it is a DECIMAL(18,2)
// stored as INT64, so the value is exactly the unscaled integer.
type Money int64

// Rate is a fraction in millionths: DECIMAL(9,6) unscaled, which the
// Parquet spec stores as INT32 (precision ≤ 9), so ±2147.483647 at most. 0.005 (0.5% a month)
// is Rate(5000); 0.0005 (0.05% a day) is Rate(500).
type Rate int32

// RateScale is the number of millionths in 1.
const RateScale = 1_000_000

// String formats m as yuan with two decimals, e.g. "-12.30".
func (m Money) String() string {
	sign := ""
	u := uint64(m)
	if m < 0 {
		sign = "-"
		u = uint64(-m)
	}
	return fmt.Sprintf("%s%d.%02d", sign, u/100, u%100)
}

// Decimal returns m in yuan as an exact decimal.
func (m Money) Decimal() decimal.Decimal { return decimal.New(int64(m), -2) }

// ParseMoney parses a yuan amount with at most two decimals ("1200", "1200.5", "-3.07").
func ParseMoney(s string) (Money, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("parse money %q: %w", s, err)
	}
	if d.Exponent() < -2 && !d.Equal(d.Truncate(2)) {
		return 0, fmt.Errorf("parse money %q: more than 2 decimals", s)
	}
	f := d.Shift(2)
	if !f.IsInteger() || f.Abs().GreaterThan(decimal.New(1, 17)) {
		return 0, fmt.Errorf("parse money %q: out of range", s)
	}
	return Money(f.IntPart()), nil
}

// MulRate returns m × r rounded to the fen, half away from zero (ROUND_HALF_UP
// on the magnitude), the rounding used for every fee, penalty and rate product.
// It is exact: the product is formed in 128 bits.
func (m Money) MulRate(r Rate) Money {
	neg := (m < 0) != (r < 0)
	a, b := uint64(abs64(int64(m))), uint64(abs64(int64(r)))
	hi, lo := bits.Mul64(a, b)
	q, rem := bits.Div64(hi, lo, RateScale) // panics only if the quotient overflows 64 bits
	if rem*2 >= RateScale {
		q++
	}
	if neg {
		return -Money(q)
	}
	return Money(q)
}

// MulRatio returns m × num / den rounded half away from zero (den > 0).
func (m Money) MulRatio(num, den int64) Money {
	neg := (m < 0) != (num < 0)
	a, b := uint64(abs64(int64(m))), uint64(abs64(num))
	hi, lo := bits.Mul64(a, b)
	q, rem := bits.Div64(hi, lo, uint64(den))
	if rem*2 >= uint64(den) {
		q++
	}
	if neg {
		return -Money(q)
	}
	return Money(q)
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// String formats r as a fraction with six decimals, e.g. "0.005000".
func (r Rate) String() string { return r.Decimal().StringFixed(6) }

// Decimal returns r as an exact decimal fraction.
func (r Rate) Decimal() decimal.Decimal { return decimal.New(int64(r), -6) }

// ParseRate parses a fraction with at most six decimals ("0.005", "0.0005").
func ParseRate(s string) (Rate, error) {
	d, err := decimal.NewFromString(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("parse rate %q: %w", s, err)
	}
	return RateFromDecimal(d)
}

// RateFromDecimal converts an exact decimal fraction to a Rate; more than six
// decimals is an error, never a silent rounding.
func RateFromDecimal(d decimal.Decimal) (Rate, error) {
	f := d.Shift(6)
	if !f.IsInteger() {
		return 0, fmt.Errorf("rate %s has more than 6 decimals", d)
	}
	if f.Abs().GreaterThan(decimal.New(999_999_999, 0)) {
		return 0, fmt.Errorf("rate %s out of range: DECIMAL(9,6) holds at most 999.999999", d)
	}
	return Rate(f.IntPart()), nil
}

// Date is a business date: the number of days since 1970-01-01. On disk it is
// a Parquet DATE (INT32 days since the Unix epoch), the same integer.
type Date int32

// NewDate returns the date y-m-d (normalised like time.Date).
func NewDate(y int, m time.Month, d int) Date {
	return Date(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// ParseDate parses YYYY-MM-DD.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, fmt.Errorf("parse date %q: want YYYY-MM-DD", s)
	}
	return Date(t.Unix() / 86400), nil
}

// LocalDate returns the business date, in loc, of an instant given in
// microseconds since the Unix epoch (UTC).
func LocalDate(micros int64, loc *time.Location) Date {
	t := time.UnixMicro(micros).In(loc)
	return NewDate(t.Date())
}

// Time returns midnight UTC of d.
func (d Date) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// YMD returns the year, month and day of d.
func (d Date) YMD() (int, time.Month, int) { return d.Time().Date() }

// Day returns d's day of the month, 1..31.
func (d Date) Day() int { return d.Time().Day() }

// AddDays returns d + n days.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// AddMonths returns the same day of the month n months later; the day is
// clamped to the month's last day.
func (d Date) AddMonths(n int) Date {
	y, m, day := d.YMD()
	first := time.Date(y, m+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	if day > last {
		day = last
	}
	return NewDate(first.Year(), first.Month(), day)
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return d.Time().Format(time.DateOnly) }

// Itoa is strconv.Itoa, kept here so reference strings are built one way.
func itoa(n int) string { return strconv.Itoa(n) }
