package policy

import (
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// TestNightCycleFeatures: a scored account's window features are written
// (as.CycleFeatures, FeaturesOn tonight) on its first scoring, on a night
// its history changes, and when the row holding them is
// scoring.CycleFeaturesMaxAge nights old; not otherwise, nor for an account
// not scored, whose FeaturesOn a history change clears instead.
func TestNightCycleFeatures(t *testing.T) {
	p := Default()
	day := billing.NewDate(2025, time.June, 10) // billing day 1: no statement tonight
	active := func() billing.Account {
		return billing.Account{ID: 3, CustomerID: "c3", OpenedOn: day - 400, ActivatedOn: day - 400, LimitChangedOn: day - 400,
			Status: billing.Active, Limit: 500_000, BillingDay: 1, LastStatement: billing.NewDate(2025, time.June, 1),
			History: []billing.CycleStats{{StatementDate: billing.NewDate(2025, time.June, 1), Limit: 500_000}}}
	}
	for _, tt := range []struct {
		name       string
		featuresOn billing.Date
		night      billing.Date
		status     billing.Status
		write      bool
		after      billing.Date // FeaturesOn after the night
	}{
		{"first scoring", 0, day, billing.Active, true, day},
		{"written yesterday", day - 1, day, billing.Active, false, day - 1},
		{"one night short of the age", day - scoring.CycleFeaturesMaxAge + 1, day, billing.Active, false, day - scoring.CycleFeaturesMaxAge + 1},
		{"at the age", day - scoring.CycleFeaturesMaxAge, day, billing.Active, true, day},
		{"a statement tonight", day - 3, billing.NewDate(2025, time.June, 30), billing.Active, true, billing.NewDate(2025, time.June, 30)},
		{"closed: not scored", day - 40, day, billing.Closed, false, day - 40},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := active()
			a.FeaturesOn, a.Status = tt.featuresOn, tt.status
			if tt.status == billing.Closed {
				a.ClosedOn, a.ClosedBy, a.Limit = day-50, billing.ClosedByCustomer, 0
			}
			var out billing.Output
			var as Assessment
			assessed, err := p.Night(&a, tt.night, &billing.Events{}, &out, &as)
			if err != nil {
				t.Fatal(err)
			}
			if assessed != (tt.status != billing.Closed) || as.CycleFeatures != tt.write || a.FeaturesOn != tt.after {
				t.Errorf("assessed %v, CycleFeatures %v, FeaturesOn %s; want %v, %v, %s",
					assessed, as.CycleFeatures, a.FeaturesOn, tt.status != billing.Closed, tt.write, tt.after)
			}
			if a.HistoryChanged {
				t.Error("HistoryChanged left set after the night")
			}
		})
	}
}
