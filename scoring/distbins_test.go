package scoring

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The bins Score keeps count exactly as binning the features again does,
// and a result of another compilation of the config is binned again.
func TestDistributionCountsScoredBins(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	kept, binned := c.NewDistribution(), c.NewDistribution()
	rng := rand.New(rand.NewPCG(5, 6))
	var stale []Result
	for i := range 5000 {
		var f Features
		for id := range NumFeatures {
			switch rng.IntN(4) {
			case 0:
				f.Missing[id] = true
			case 1:
				f.Values[id] = float64(rng.IntN(6))
			default:
				f.Values[id] = rng.NormFloat64() * 500
			}
		}
		r := c.Score(&f)
		if r.binnedBy == 0 {
			t.Fatal("Score kept no bins")
		}
		kept.Add(&f, &r)
		plain := Result{Score: r.Score, PD: r.PD, Grade: r.Grade, Reasons: r.Reasons}
		binned.Add(&f, &plain)
		if i < 50 {
			stale = append(stale, r)
		}
	}
	for i := range kept.Counts {
		if !slices.Equal(kept.Counts[i], binned.Counts[i]) {
			t.Fatalf("%s: kept bins count %v, binning again %v", kept.Names[i], kept.Counts[i], binned.Counts[i])
		}
	}
	// Another scorecard (one range bin's edge moved) bins the features
	// again; an identical one, compiled anew, has the same fingerprint.
	moved := DefaultConfig()
	for i := range moved.Scorecard.Characteristics {
		bins := moved.Scorecard.Characteristics[i].Bins
		if k := slices.IndexFunc(bins, func(b Bin) bool { return !b.Missing && b.Categories == nil && !math.IsInf(b.To, 0) }); k >= 0 && k+1 < len(bins) {
			bins[k].To += 1e-3
			bins[k+1].From = bins[k].To
			break
		}
	}
	same := DefaultConfig()
	for _, o := range []*Config{&moved, &same} {
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	if moved.cc.binsPrint == c.cc.binsPrint || same.cc.binsPrint != c.cc.binsPrint {
		t.Fatalf("fingerprints: %x, moved %x, same %x", c.cc.binsPrint, moved.cc.binsPrint, same.cc.binsPrint)
	}
	var zero Features
	d, want := moved.NewDistribution(), moved.NewDistribution()
	for i := range stale {
		d.Add(&zero, &stale[i])
		r := moved.Score(&zero)
		r.Score = stale[i].Score
		want.Add(&zero, &r)
	}
	for i := range d.Counts {
		if !slices.Equal(d.Counts[i], want.Counts[i]) {
			t.Fatalf("%s: a result of another scorecard counts %v, want %v", d.Names[i], d.Counts[i], want.Counts[i])
		}
	}
}
