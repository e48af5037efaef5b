package source

import (
	"time"

	"github.com/creditrun/creditrun/billing"
)

// dater computes billing.LocalDate quickly around one day: where the zone
// keeps one offset over [lo, hi) (a week around the day), the local date is
// integer arithmetic; elsewhere it falls back to billing.LocalDate.
type dater struct {
	loc    *time.Location
	lo, hi int64 // microseconds; lo == hi when the zone changes offset near day
	off    int64 // microseconds east of UTC
}

func newDater(loc *time.Location, day billing.Date) dater {
	if loc == nil {
		loc = time.UTC
	}
	d := dater{loc: loc}
	t0, t1 := (day - 3).Time(), (day + 4).Time()
	start, end := t0.In(loc).ZoneBounds()
	if (start.IsZero() || !start.After(t0)) && (end.IsZero() || !end.Before(t1)) {
		_, off := t0.In(loc).Zone()
		d.lo, d.hi, d.off = t0.UnixMicro(), t1.UnixMicro(), int64(off)*1_000_000
	}
	return d
}

func (d *dater) date(micros int64) billing.Date {
	if micros >= d.lo && micros < d.hi {
		return billing.Date(floorDiv(micros+d.off, microsPerDay))
	}
	return billing.LocalDate(micros, d.loc)
}
