package scoring

import (
	"math"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
)

func TestComputeFeatures(t *testing.T) {
	type want struct {
		id      FeatureID
		v       float64
		missing bool
	}
	tests := []struct {
		name string
		acct func() *billing.Account
		want []want
	}{
		{"transactor", transactor, []want{
			{TenureMonths, 12, false}, {CyclesOnBook, 12, false}, {BureauScore, 720, false},
			{Spend1, 2000, false}, {Spend3, 6000, false}, {Spend12, 24000, false},
			{Billed6, 12000, false}, {Paid6, 12000, false},
			{PaymentRatio3, 1, false}, {UtilizationAvg3, 0.2, false}, {MaxDPD12, 0, false},
			{InstallmentShare3, 0, false}, {MinPayCycles12, 0, false},
			{MonthsSinceDelinquency, 0, true}, {Utilization, 0, false}, {CurrentDPD, 0, false},
			{PayPattern3, patTransactor, false},
		}},
		{"minimum payer", minPayer, []want{
			{MinPayCycles3, 3, false}, {MinPayCycles12, 11, false}, // the first cycle has no statement before it
			{PayPattern3, patMinPayer, false}, {InstallmentShare6, 1.0 / 3, false},
			{PaymentRatio6, 800.0 / 1500, false}, {UtilizationAvg12, 0.8, false},
		}},
		{"late payer", latePayer, []want{
			{MaxDPD1, 0, false}, {MaxDPD3, 9, false}, {MaxDPD6, 12, false},
			{OverdueEpisodes3, 1, false}, {OverdueEpisodes6, 2, false}, {OverdueEpisodes1, 0, false},
			{PayPattern3, patDelinquent, false},
			// The last past-due cycle's statement is 2025-05-01: delinquent
			// until 04-30, 1 whole month before 06-15.
			{MonthsSinceDelinquency, 1, false},
		}},
		{"defaulter", defaulter, []want{
			{CurrentDPD, 66, false}, {MonthsSinceDelinquency, 0, false}, {Utilization, 0.95, false},
			{OverdueEpisodes12, 1, false},
		}},
		{"new pending applicant", func() *billing.Account {
			return &billing.Account{Status: billing.Pending, OpenedOn: asOf - 3}
		}, []want{
			{TenureMonths, 0, false}, {CyclesOnBook, 0, false}, {BureauScore, 0, true}, {Utilization, 0, true},
			{PaymentRatio12, 0, true}, {UtilizationAvg1, 0, true}, {InstallmentShare3, 0, true},
			{Spend12, 0, false}, {MaxDPD12, 0, false}, {MonthsSinceDelinquency, 0, true},
			{PayPattern3, patNew, false},
		}},
		{"inactive", func() *billing.Account {
			return account(repeat(4, cyc{limit: 10000})...)
		}, []want{{PayPattern3, patInactive, false}, {InstallmentShare3, 0, true}, {UtilizationAvg3, 0, false}}},
		{"revolver", func() *billing.Account {
			return account(repeat(4, cyc{spend: 1000, billed: 1000, paid: 1000, balance: 4000, limit: 10000, min: 400})...)
		}, []want{{PayPattern3, patRevolver, false}}},
		{"last past due from the account", func() *billing.Account {
			a := transactor()
			a.LastPastDue = billing.NewDate(2024, time.December, 20)
			return a
		}, []want{{MonthsSinceDelinquency, 5, false}}},
		{"failed deductions in the window", func() *billing.Account {
			a := cardFailer()
			a.History[0].FailedDeductions = 7 // outside 6 cycles
			return a
		}, []want{{FailedDeductions1, 2, false}, {FailedDeductions6, 12, false}, {FailedDeductions12, 29, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.acct()
			f := ComputeFeatures(a, asOf)
			for _, w := range tt.want {
				got, miss := f.Values[w.id], f.Missing[w.id]
				if miss != w.missing || math.Abs(got-w.v) > 1e-12 {
					t.Errorf("%s = %v (missing %v), want %v (missing %v)", w.id, got, miss, w.v, w.missing)
				}
			}
		})
	}
}

func TestFeatureNames(t *testing.T) {
	seen := map[string]bool{}
	for id := range NumFeatures {
		info := id.Info()
		if info.Name == "" || info.Doc == "" || seen[info.Name] {
			t.Errorf("feature %d: name %q doc %q (duplicate %v)", id, info.Name, info.Doc, seen[info.Name])
		}
		seen[info.Name] = true
		if got, ok := FeatureByName(info.Name); !ok || got != id {
			t.Errorf("FeatureByName(%q) = %d, %v, want %d", info.Name, got, ok, id)
		}
	}
	for _, tt := range []struct {
		id   FeatureID
		name string
	}{{Spend1, "spend_1"}, {PaymentRatio6, "payment_ratio_6"}, {MaxDPD12, "max_dpd_12"}, {MinPayCycles12, "min_pay_cycles_12"}} {
		if tt.id.String() != tt.name {
			t.Errorf("%d.String() = %s, want %s", tt.id, tt.id, tt.name)
		}
	}
}

func TestMonthsBetween(t *testing.T) {
	d := billing.NewDate
	tests := []struct {
		a, b billing.Date
		want int
	}{
		{d(2024, 1, 31), d(2024, 2, 29), 0},
		{d(2024, 1, 31), d(2024, 3, 1), 1},
		{d(2024, 1, 15), d(2025, 1, 15), 12},
		{d(2024, 1, 15), d(2025, 1, 14), 11},
		{d(2025, 1, 15), d(2024, 1, 15), 0},
	}
	for _, tt := range tests {
		if got := monthsBetween(tt.a, tt.b); got != tt.want {
			t.Errorf("monthsBetween(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestNewScoreRow(t *testing.T) {
	c := mustDefault()
	a := &billing.Account{ID: 7, Status: billing.Pending, OpenedOn: asOf}
	f := ComputeFeatures(a, asOf)
	r := c.Score(&f)
	nulls := new(Nullables)
	row := NewScoreRow(a, asOf, &f, &r, "v1", nulls)
	cf := NewCycleFeaturesRow(a.ID, asOf, &f, nulls)
	if row.AccountID != 7 || row.AsOf != asOf || row.Score != r.Score || row.Grade != r.Grade || row.ScorecardVersion != "v1" {
		t.Errorf("NewScoreRow = %+v", row)
	}
	if row.BureauScore != nil || row.Utilization != nil || cf.PaymentRatio3 != nil || row.MonthsSinceDelinquency != nil {
		t.Errorf("missing features not null: %+v", row)
	}
	if row.PayPattern3 != PatternNew {
		t.Errorf("PayPattern3 = %q, want %q", row.PayPattern3, PatternNew)
	}

	a = minPayer()
	f = ComputeFeatures(a, asOf)
	r = c.Score(&f)
	a.FeaturesOn = asOf - 3
	row = NewScoreRow(a, asOf, &f, &r, "v1", nulls)
	cf = NewCycleFeaturesRow(a.ID, asOf, &f, nulls)
	if row.FeaturesOn != asOf-3 || cf.AccountID != a.ID || cf.AsOf != asOf {
		t.Errorf("FeaturesOn %s, cycle features of %d on %s; want %s, %d on %s", row.FeaturesOn, cf.AccountID, cf.AsOf, asOf-3, a.ID, asOf)
	}
	if row.BureauScore == nil || *row.BureauScore != 650 {
		t.Errorf("BureauScore = %v, want 650", row.BureauScore)
	}
	if cf.Spend3 != yuanM(4500) || cf.Paid12 != yuanM(9600) {
		t.Errorf("Spend3, Paid12 = %s, %s, want 4500.00, 9600.00", cf.Spend3, cf.Paid12)
	}
	if cf.UtilizationAvg3 == nil || math.Abs(*cf.UtilizationAvg3-0.8) > 1e-12 {
		t.Errorf("UtilizationAvg3 = %v, want 0.8", cf.UtilizationAvg3)
	}
	if row.Reason1 == nil || *row.Reason1 != r.Reasons[0] || *row.Reason1 == "" {
		t.Errorf("Reason1 = %v, want %q", row.Reason1, r.Reasons[0])
	}
	// A reason the score does not have is NULL, not an empty string.
	r.Reasons[3] = ""
	row = NewScoreRow(a, asOf, &f, &r, "v1", new(Nullables))
	if row.Reason4 != nil {
		t.Errorf("Reason4 = %q for a score with three reasons, want NULL (nil)", *row.Reason4)
	}
}
