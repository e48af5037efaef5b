package policy

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse. Parse must never panic; it
// returns either a policy whose configs validate, or a *ProblemsError whose
// every problem has a message and a line that is 0 (a default or the whole
// file) or within the file. Parsing is deterministic: the same bytes give
// the same policy or the same problems.
//
// The package has no serializer, so there is no round trip to check.
//
// Seeds live in testdata/fuzz/FuzzParse; the shipped default.yaml is added
// here so that it always matches the embedded file. A short run:
//
//	go test -run '^$' -fuzz '^FuzzParse$' -fuzztime 30s -parallel 1 ./policy/
func FuzzParse(f *testing.F) {
	f.Add(DefaultYAML())
	f.Fuzz(func(t *testing.T, data []byte) {
		pol, err := Parse("fuzz.yaml", data)
		if (pol == nil) == (err == nil) {
			t.Fatalf("Parse = %v, %v: want exactly one of a policy and an error", pol, err)
		}
		if err != nil {
			checkProblems(t, data, err)
		} else {
			if verr := pol.Billing.Validate(); verr != nil {
				t.Fatalf("Parse returned a policy whose Billing.Validate() = %v", verr)
			}
			if verr := pol.Scoring.Validate(); verr != nil {
				t.Fatalf("Parse returned a policy whose Scoring.Validate() = %v", verr)
			}
			if pol.Version != version(data) || pol.Source != "fuzz.yaml" {
				t.Fatalf("Parse: Version %q Source %q, want %q fuzz.yaml", pol.Version, pol.Source, version(data))
			}
			if pol.Scoring.Limits.FreezeDPD != pol.Billing.FreezeDPD {
				t.Fatalf("Parse: limits FreezeDPD %d, want collections.freeze_dpd %d", pol.Scoring.Limits.FreezeDPD, pol.Billing.FreezeDPD)
			}
		}

		pol2, err2 := Parse("fuzz.yaml", data)
		switch {
		case (err == nil) != (err2 == nil):
			t.Fatalf("Parse twice: errors %v then %v", err, err2)
		case err != nil && err.Error() != err2.Error():
			t.Fatalf("Parse twice: problems differ:\n%v\nthen\n%v", err, err2)
		case err == nil && !reflect.DeepEqual(pol, pol2):
			t.Fatalf("Parse twice: policies differ:\n%+v\nthen\n%+v", pol, pol2)
		}
	})
}

// checkProblems checks that err is a non-empty *ProblemsError whose
// problems carry a message and a line inside data (or 0).
func checkProblems(t *testing.T, data []byte, err error) {
	t.Helper()
	var pe *ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse error %T %v: want a *ProblemsError", err, err)
	}
	if len(pe.Problems) == 0 {
		t.Fatalf("Parse returned a *ProblemsError with no problems")
	}
	if pe.Name != "fuzz.yaml" {
		t.Fatalf("ProblemsError.Name = %q, want fuzz.yaml", pe.Name)
	}
	// yaml breaks lines on \n, \r, NEL, LS and PS, counts a final line
	// without a newline, and may point just past the last line for an error
	// at the end of the input: this bounds the line from above.
	lines := 2
	for _, br := range []string{"\n", "\r", "\u0085", "\u2028", "\u2029"} {
		lines += bytes.Count(data, []byte(br))
	}
	for _, p := range pe.Problems {
		if p.Msg == "" {
			t.Fatalf("Parse: problem with no message in %v", err)
		}
		if p.Line < 0 || p.Line > lines {
			t.Fatalf("Parse: problem %q on line %d of a %d-line file", p.Msg, p.Line, lines-1)
		}
	}
}

// TestParseAliasExpansion: anchors that refer to each other can stand for
// billions of nodes in a few hundred bytes; Parse refuses the file at once
// instead of walking them (found while fuzzing: a 1 KB file took minutes
// and gigabytes).
func TestParseAliasExpansion(t *testing.T) {
	var b strings.Builder
	k := 200
	b.WriteString("x:\n  s: &s [" + strings.Repeat("q,", k-1) + "q]\n")
	b.WriteString("  b: &b {categories: *s, points: 1}\n")
	b.WriteString("  bs: &bs [" + strings.Repeat("*b, ", k-1) + "*b]\n")
	b.WriteString("  c: &c {feature: pay_pattern_3, reason: R, bins: *bs}\n")
	b.WriteString("scorecard:\n  characteristics: [" + strings.Repeat("*c, ", k-1) + "*c]\n")
	for _, tt := range []struct{ name, data string }{
		{"bomb", b.String()},
		{"cycle", "notices:\n  reminder_days: &r [1, *r]\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", []byte(tt.data))
			var pe *ProblemsError
			if !errors.As(err, &pe) || len(pe.Problems) != 1 || !strings.Contains(pe.Problems[0].Msg, "aliases are expanded") {
				t.Fatalf("Parse(%s) = %v, want one problem: too many nodes once aliases are expanded", tt.name, err)
			}
		})
	}
}
