package policy

import (
	"bytes"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// roundTrip writes p, parses it back and checks that every setting came
// back and that writing again gives the same bytes.
func roundTrip(t *testing.T, p *Policy) *Policy {
	t.Helper()
	data := Marshal(p, "a fitted policy\n\nsecond paragraph")
	q, err := Parse("written.yaml", data)
	if err != nil {
		t.Fatalf("Parse(Marshal(p)) error:\n%v\n%s", err, data)
	}
	if !reflect.DeepEqual(q.Scoring, p.Scoring) {
		t.Errorf("scoring settings changed through Write/Parse:\n got %+v\nwant %+v", q.Scoring, p.Scoring)
	}
	if !reflect.DeepEqual(q.Billing, p.Billing) {
		t.Errorf("billing settings changed through Write/Parse:\n got %+v\nwant %+v", q.Billing, p.Billing)
	}
	if again := Marshal(q, "a fitted policy\n\nsecond paragraph"); !bytes.Equal(again, data) {
		t.Errorf("Marshal is not stable:\n%s\n---\n%s", data, again)
	}
	return q
}

func TestWriteRoundTripsTheDefault(t *testing.T) {
	p := Default()
	q := roundTrip(t, p)
	if !strings.HasPrefix(string(Marshal(q, "x")), "# x\n\n") {
		t.Error("the comment does not head the file")
	}
}

// Settings the default does not exercise: odd names that need quoting,
// numbers with many digits, open bins, negative points, a monitoring
// baseline, an empty map.
func TestWriteRoundTripsEdgeCases(t *testing.T) {
	p := Default()
	s := &p.Scoring
	s.Scaling = scoring.Scaling{PDO: 20.5, BaseScore: 1e6, BaseOdds: 1.0 / 3}
	s.Scorecard.Name = "risk: v2 \"beta\""
	ch := &s.Scorecard.Characteristics[0]
	ch.Name = "yes"
	ch.Reason = "#1 reason"
	ch.Bins = []scoring.Bin{
		{From: math.Inf(-1), To: 0.1 + 0.2, Points: -40},
		{From: 0.1 + 0.2, To: 1e21, Points: 7},
		{From: 1e21, To: math.Inf(1), Points: math.MaxInt32},
	}
	ch.Baseline = math.MaxInt32
	p.Billing.ReminderDaysByGrade = map[string][]int{}
	p.Billing.APRCap = 1
	p.Billing.Offers.Pricing = []billing.GradePricing{{Grade: "A", InterestFree: []int32{3}}, {Grade: "E"}} // no fee under a cap of 0.000001
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	dist := s.NewDistribution()
	for _, f := range []scoring.Features{{}, {Values: [scoring.NumFeatures]float64{1, 2, 700}}} {
		r := s.Score(&f)
		dist.Add(&f, &r)
	}
	s.Monitoring.Baseline = dist.Rows()
	if err := s.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := p.Billing.Validate(); err != nil {
		t.Fatal(err)
	}
	q := roundTrip(t, p)
	if q.Billing.APRCap != billing.Rate(1) {
		t.Errorf("apr_cap = %v, want 0.000001", q.Billing.APRCap)
	}
}
