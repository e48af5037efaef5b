package scoring

import (
	"math"
	"reflect"
	"testing"

	"github.com/creditrun/creditrun/billing"
)

func book(c *Config, accts ...func() *billing.Account) *Distribution {
	d := c.NewDistribution()
	for _, a := range accts {
		f := ComputeFeatures(a(), asOf)
		r := c.Score(&f)
		d.Add(&f, &r)
	}
	return d
}

func TestDistribution(t *testing.T) {
	c := mustDefault()
	d := book(c, transactor, transactor, minPayer, latePayer)
	if got := d.Total(ScoreName); got != 4 {
		t.Errorf("Total(score) = %d, want 4", got)
	}
	if len(d.Names) != 1+len(c.Scorecard.Characteristics) {
		t.Errorf("Names = %q", d.Names)
	}
	// Score 725, 725, 560, 510: bands [700, inf), [550, 600), [500, 550).
	want := map[string]int64{"[700, inf)": 2, "[550, 600)": 1, "[500, 550)": 1}
	for j, bin := range d.Bins[0] {
		if d.Counts[0][j] != want[bin] {
			t.Errorf("score bin %s = %d, want %d", bin, d.Counts[0][j], want[bin])
		}
	}

	back := DistributionFromRows(d.Rows())
	if !reflect.DeepEqual(back.Names, d.Names) || !reflect.DeepEqual(back.Bins, d.Bins) || !reflect.DeepEqual(back.Counts, d.Counts) {
		t.Errorf("DistributionFromRows(Rows()) differs:\n%+v\n%+v", back, d)
	}

	e := book(c, defaulter)
	e.Merge(d)
	if got := e.Total("bureau_score"); got != 5 {
		t.Errorf("merged Total = %d, want 5", got)
	}
	back.Merge(book(c, defaulter)) // by label
	if !reflect.DeepEqual(back.Counts, e.Counts) {
		t.Errorf("Merge by label = %v, want %v", back.Counts, e.Counts)
	}
}

func TestPSI(t *testing.T) {
	c := mustDefault()
	base := book(c, transactor, transactor, minPayer, latePayer, lowBureau, cardFailer)
	for _, r := range PSI(base, base) {
		if r.PSI != 0 || r.Warn || r.NoBaseline {
			t.Errorf("PSI(%s) against itself = %+v, want 0", r.Name, r)
		}
	}
	// Same shares, different size: still 0.
	double := book(c, transactor, transactor, minPayer, latePayer, lowBureau, cardFailer)
	double.Merge(base)
	for _, r := range PSI(double, base) {
		if math.Abs(r.PSI) > 1e-12 {
			t.Errorf("PSI(%s) of a doubled book = %v, want 0", r.Name, r.PSI)
		}
	}
	shifted := book(c, defaulter, defaulter, latePayer, minPayer)
	res := PSI(shifted, base)
	if res[0].Name != ScoreName || !res[0].Warn || res[0].PSI <= PSIWarn {
		t.Errorf("PSI(score) of a shifted book = %+v, want a warning above %v", res[0], PSIWarn)
	}
	// A known value: shares (0.5, 0.5) against (0.9, 0.1).
	a := DistributionFromRows([]DistributionRow{{"x", "lo", 5}, {"x", "hi", 5}})
	b := DistributionFromRows([]DistributionRow{{"x", "lo", 9}, {"x", "hi", 1}})
	want := (0.5-0.9)*math.Log(0.5/0.9) + (0.5-0.1)*math.Log(0.5/0.1)
	if got := PSI(a, b)[0]; math.Abs(got.PSI-want) > 1e-12 || !got.Warn {
		t.Errorf("PSI = %+v, want %v with a warning", got, want)
	}
	if got := PSI(a, nil)[0]; !got.NoBaseline {
		t.Errorf("PSI without baseline = %+v, want NoBaseline", got)
	}
}
