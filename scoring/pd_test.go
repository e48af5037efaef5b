package scoring

import (
	"math"
	"testing"
)

// Every score the scorecard can sum to gets from the table exactly the PD
// the scaling computes, and a scaling changed after Validate is honoured.
func TestPDTableMatchesScaling(t *testing.T) {
	c := DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	cc := c.mustCompiled()
	if len(cc.pd) == 0 {
		t.Fatal("the default scorecard's PDs are not tabulated")
	}
	lo, hi := int64(cc.pdMin), int64(cc.pdMin)+int64(len(cc.pd))-1
	for s := lo - 50; s <= hi+50; s++ {
		got, want := cc.pdOf(c.Scaling, int32(s)), c.Scaling.PD(float64(s))
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("score %d: PD %v, want %v", s, got, want)
		}
	}
	other := c.Scaling
	other.PDO *= 2
	if got, want := cc.pdOf(other, int32(lo)), other.PD(float64(lo)); got != want {
		t.Fatalf("another scaling: PD %v, want %v", got, want)
	}
	c.Scaling = other
	var f Features
	r := c.Score(&f)
	if want := other.PD(float64(r.Score)); r.PD != want {
		t.Fatalf("Score after a scaling change: PD %v, want %v", r.PD, want)
	}
}
