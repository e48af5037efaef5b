package scoring

import (
	"testing"

	"github.com/creditrun/creditrun/billing"
)

// A scores row and its cycle_features row give back exactly the features
// they were written from, for every archetype (missing values included),
// and score the same; a scores row without the cycle_features row it
// names is an error.
func TestScoreRowFeaturesRoundTrip(t *testing.T) {
	cfg := DefaultConfig()
	for name, acct := range map[string]func() *billing.Account{
		"transactor": transactor, "minimum payer": minPayer, "late payer": latePayer,
		"defaulter": defaulter, "card failer": cardFailer, "high utilization": highUtilization,
		"low bureau": lowBureau,
		"pending":    func() *billing.Account { return &billing.Account{Status: billing.Pending, OpenedOn: asOf - 3} },
	} {
		t.Run(name, func(t *testing.T) {
			a := acct()
			f := ComputeFeatures(a, asOf)
			r := cfg.Score(&f)
			var nulls Nullables
			a.ID, a.FeaturesOn = 5, asOf
			row := NewScoreRow(a, asOf, &f, &r, "v", &nulls)
			cf := NewCycleFeaturesRow(a.ID, asOf, &f, &nulls)
			got, err := row.Features(&cf)
			if err != nil {
				t.Fatalf("Features() error %v", err)
			}
			for id := range NumFeatures {
				if got.Values[id] != f.Values[id] || got.Missing[id] != f.Missing[id] {
					t.Errorf("%s = %v (missing %v), want %v (missing %v)", id, got.Values[id], got.Missing[id], f.Values[id], f.Missing[id])
				}
			}
			if got.Spend != f.Spend || got.Billed != f.Billed || got.Paid != f.Paid {
				t.Errorf("money windows = %v %v %v, want %v %v %v", got.Spend, got.Billed, got.Paid, f.Spend, f.Billed, f.Paid)
			}
			if gr := cfg.Score(&got); gr != r {
				t.Errorf("Score(row features) = %+v, want %+v", gr, r)
			}
		})
	}
	bad := ScoreRow{PayPattern3: "sometimes"}
	if _, err := bad.Features(&CycleFeaturesRow{}); err == nil {
		t.Error("Features() of an unknown pay pattern: no error")
	}
	row := ScoreRow{AccountID: 5, AsOf: asOf, FeaturesOn: asOf - 1, PayPattern3: PatternNew}
	for _, c := range []*CycleFeaturesRow{nil, {AccountID: 6, AsOf: asOf - 1}, {AccountID: 5, AsOf: asOf}} {
		if _, err := row.Features(c); err == nil {
			t.Errorf("Features(%+v) of a row naming account 5 on %s: no error", c, asOf-1)
		}
	}
	if _, err := row.Features(&CycleFeaturesRow{AccountID: 5, AsOf: asOf - 1}); err != nil {
		t.Errorf("Features(its own cycle features) = %v", err)
	}
}
