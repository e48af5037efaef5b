package pipeline

import (
	"slices"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/billing"
)

// The month ends a run on object storage fetches: those before its first
// date that its dates' daily summaries look back to (1–6, 9 and 12
// months), and none it publishes itself.
func TestMonthEndsBefore(t *testing.T) {
	for _, tc := range []struct{ from, to, want string }{
		{"2025-03-10", "2025-03-10", "2024-03-31 2024-06-30 2024-09-30 2024-10-31 2024-11-30 2024-12-31 2025-01-31 2025-02-28"},
		{"2025-03-01", "2025-03-31", "2024-03-31 2024-06-30 2024-09-30 2024-10-31 2024-11-30 2024-12-31 2025-01-31 2025-02-28"},
		// Across a month end: February's dates look back from January,
		// March's from February, which the run publishes.
		{"2025-02-27", "2025-03-02", "2024-02-29 2024-03-31 2024-05-31 2024-06-30 2024-08-31 2024-09-30 2024-10-31 2024-11-30 2024-12-31 2025-01-31"},
	} {
		from, err := billing.ParseDate(tc.from)
		if err != nil {
			t.Fatal(err)
		}
		to, err := billing.ParseDate(tc.to)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range monthEndsBefore(from, to) {
			got = append(got, d.String())
		}
		if !slices.IsSorted(got) || strings.Join(got, " ") != tc.want {
			t.Errorf("%s..%s: %v, want %s", tc.from, tc.to, got, tc.want)
		}
	}
}

// A shard fetches the parts of a sharded state its range meets, and every
// other file of a state.
func TestShardReadsPart(t *testing.T) {
	s := Shard{K: 1, N: 2} // the upper half of the hash space
	for name, want := range map[string]bool{
		"state/accounts.parquet":              true,
		"state/_state.json":                   true,
		"state/part=0-of-2/accounts.parquet":  false,
		"state/part=1-of-2/accounts.parquet":  true,
		"state/part=1-of-4/_state.json":       false,
		"state/part=2-of-4/_state.json":       true,
		"state/part=3-of-4/plans.parquet":     true,
		"state/part=0-of-1/accounts.parquet":  true,
		"state/part=9-of-4/accounts.parquet":  true, // not a part name: kept
		"state/part=01-of-2/accounts.parquet": true,
	} {
		if got := s.readsPart(name); got != want {
			t.Errorf("shard 1 of 2 reads %s: %v, want %v", name, got, want)
		}
	}
	if !(Shard{}).readsPart("state/part=0-of-2/accounts.parquet") {
		t.Error("the whole book does not read every part")
	}
}
