package billing

import (
	"fmt"
	"math"
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

// MaxMoney is the largest amount of the contract's DECIMAL(18,2): 18 digits,
// 9 999 999 999 999 999.99 yuan. Every amount the daily step reads, keeps or
// writes lies within ±MaxMoney; Close refuses an account that would leave
// the range (ErrOutOfRange). Its sums need at most 8 × MaxMoney < 2^63, so
// int64 arithmetic on amounts that are in range never wraps.
const MaxMoney Money = 999_999_999_999_999_999

// InRange reports whether m lies within ±MaxMoney.
func (m Money) InRange() bool { return m >= -MaxMoney && m <= MaxMoney }

// AddChecked returns m + n, or an error wrapping ErrOutOfRange when the sum
// leaves ±MaxMoney (m and n themselves may be anything).
func (m Money) AddChecked(n Money) (Money, error) {
	sum := m + n
	// Signed overflow: both operands of one sign and a sum of the other.
	if (m >= 0) == (n >= 0) && (sum >= 0) != (m >= 0) || !sum.InRange() {
		return 0, errAddRange
	}
	return sum, nil
}

var errAddRange = fmt.Errorf("sum beyond ±%s: %w", MaxMoney, ErrOutOfRange)

// MulRate returns m × r rounded to the fen, half away from zero (ROUND_HALF_UP
// on the magnitude), the rounding used for every fee, penalty and rate product.
// It is exact: the product is formed in 128 bits. A product beyond int64
// never wraps: MulRate panics with ErrOutOfRange. Close bounds its amounts
// so that it never does; callers multiplying amounts they have not bounded
// use MulRateChecked.
func (m Money) MulRate(r Rate) Money {
	v, ok := mulDiv(m, int64(r), RateScale)
	if !ok {
		panic(fmt.Errorf("%s × %s: %w", m, r, ErrOutOfRange))
	}
	return v
}

// MulRateChecked is MulRate returning an error wrapping ErrOutOfRange,
// instead of a product, when the product lies beyond ±MaxMoney.
func (m Money) MulRateChecked(r Rate) (Money, error) {
	v, ok := mulDiv(m, int64(r), RateScale)
	if !ok || !v.InRange() {
		return 0, fmt.Errorf("%s × %s: %w", m, r, ErrOutOfRange)
	}
	return v, nil
}

// MulRatio returns m × num / den rounded half away from zero (den > 0). It
// panics with ErrOutOfRange, never wraps, when den ≤ 0 or the result does
// not fit int64.
func (m Money) MulRatio(num, den int64) Money {
	if den <= 0 {
		panic(fmt.Errorf("%s × %d / %d: %w", m, num, den, ErrOutOfRange))
	}
	v, ok := mulDiv(m, num, uint64(den))
	if !ok {
		panic(fmt.Errorf("%s × %d / %d: %w", m, num, den, ErrOutOfRange))
	}
	return v
}

// mulDiv returns m × num / den rounded half away from zero, exact in 128
// bits; false when the result does not fit int64.
func mulDiv(m Money, num int64, den uint64) (Money, bool) {
	neg := (m < 0) != (num < 0)
	a, b := absU64(int64(m)), absU64(num)
	hi, lo := bits.Mul64(a, b)
	if hi >= den { // the quotient would not fit 64 bits
		return 0, false
	}
	q, rem := bits.Div64(hi, lo, den)
	if rem >= den-rem { // rem*2 >= den without overflow
		if q == math.MaxUint64 {
			return 0, false
		}
		q++
	}
	if neg {
		if q > 1<<63 {
			return 0, false
		}
		return Money(-int64(q-1) - 1), true
	}
	if q > math.MaxInt64 {
		return 0, false
	}
	return Money(q), true
}

// absU64 is |v| as an unsigned integer (exact for math.MinInt64).
func absU64(v int64) uint64 {
	if v < 0 {
		return uint64(^v) + 1
	}
	return uint64(v)
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
	// Normalise the month into the year as time.Date does; the day then
	// counts on from the month's first.
	mi := int(m) - 1
	y += mi / 12
	if mi %= 12; mi < 0 {
		mi += 12
		y--
	}
	if y < civilMinYear || y > civilMaxYear || d < -civilDaySlack || d > civilDaySlack {
		return Date(time.Date(y, time.Month(mi+1), d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
	}
	return Date(daysFromCivil(y, mi+1) + d - 1)
}

// The civil calendar is computed with integers (the proleptic Gregorian
// calendar, as package time) for years 0 to 9999 and days of the month
// within ±civilDaySlack; time.Date covers the rest.
const (
	civilMinYear  = 0
	civilMaxYear  = 9999
	civilDaySlack = 1 << 20
	civilMinDate  = Date(-719528) // 0000-01-01
	civilMaxDate  = Date(2932896) // 9999-12-31
)

// daysFromCivil returns the days from 1970-01-01 to the first of month m
// (1..12) of year y (0..9999).
func daysFromCivil(y, m int) int {
	if m <= 2 {
		y--
	}
	era := (y + 400) / 400 // y ≥ -1: shifted so the division floors
	era--
	yoe := y - era*400                     // [0, 399]
	mp := (m + 9) % 12                     // March is 0
	doy := (153*mp + 2) / 5                // day of the year of the 1st
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468
}

// civil returns the year, month and day of d, which is within
// [civilMinDate, civilMaxDate].
func civil(d Date) (int, time.Month, int) {
	z := int(d) + 719468 + 400*146097 // shifted so the division floors
	era := z / 146097
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	y := yoe + (era-400)*400
	doy := doe - (365*yoe + yoe/4 - yoe/100) // [0, 365]
	mp := (5*doy + 2) / 153                  // March is 0
	day := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, time.Month(m), day
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
func (d Date) YMD() (int, time.Month, int) {
	if d < civilMinDate || d > civilMaxDate {
		return d.Time().Date()
	}
	return civil(d)
}

// Day returns d's day of the month, 1..31.
func (d Date) Day() int {
	_, _, day := d.YMD()
	return day
}

// AddDays returns d + n days.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// AddMonths returns the same day of the month n months later; the day is
// clamped to the month's last day.
func (d Date) AddMonths(n int) Date {
	y, m, day := d.YMD()
	first := NewDate(y, m+time.Month(n), 1)
	last := int(NewDate(y, m+time.Month(n)+1, 1) - first)
	if day > last {
		day = last
	}
	return first + Date(day-1)
}

// String formats d as YYYY-MM-DD.
func (d Date) String() string {
	if d < civilMinDate || d > civilMaxDate {
		return d.Time().Format(time.DateOnly)
	}
	y, m, day := civil(d)
	b := [10]byte{
		byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + int(m)/10), byte('0' + int(m)%10), '-', byte('0' + day/10), byte('0' + day%10),
	}
	return string(b[:])
}

// Itoa is strconv.Itoa, kept here so reference strings are built one way.
func itoa(n int) string { return strconv.Itoa(n) }
