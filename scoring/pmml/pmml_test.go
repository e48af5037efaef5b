package pmml

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/scoring"
)

func importFile(t *testing.T, path string) (scoring.Config, []string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	base := scoring.DefaultConfig()
	cfg, notes, err := Import(f, &base)
	if err != nil {
		t.Fatalf("Import(%s) error: %v", path, err)
	}
	return cfg, notes
}

// features builds a Features from name → value; nil marks a missing value,
// a string a category.
func features(t *testing.T, vals map[string]any) scoring.Features {
	t.Helper()
	var f scoring.Features
	for name, v := range vals {
		id, ok := scoring.FeatureByName(name)
		if !ok {
			t.Fatalf("unknown feature %s", name)
		}
		switch v := v.(type) {
		case nil:
			f.Missing[id] = true
		case string:
			f.Values[id] = float64(slices.Index(id.Info().Categories, v))
		case float64:
			f.Values[id] = v
		case int:
			f.Values[id] = float64(v)
		}
	}
	return f
}

// The expected scores are worked out by hand from the fixtures with
// PMML's rules (first matching attribute; three-valued logic), rounded
// where the fixture's partial scores are fractional.
func TestImportFixtures(t *testing.T) {
	tests := []struct {
		file    string
		vals    map[string]any
		score   int32
		reasons []string
	}{
		// 512.5 initial on bureau's points: 0 → 513, +25, +40.
		{"sklearn2pmml.pmml", map[string]any{"bureau_score": 650, "utilization_avg_3": 0.2, "pay_pattern_3": "transactor"}, 578, nil},
		// missing bureau −10 → 503; missing utilization replaced by 0.5 → 5; delinquent −60.
		{"sklearn2pmml.pmml", map[string]any{"bureau_score": nil, "utilization_avg_3": nil, "pay_pattern_3": "delinquent"}, 448,
			[]string{"PAYMENT", "BUREAU"}},
		// On the edges: 580 ≤ 580 → −20.25 → 492; 0.9 ≤ 0.9 → 5; revolver isNotIn → 0.
		{"sklearn2pmml.pmml", map[string]any{"bureau_score": 580, "utilization_avg_3": 0.9, "pay_pattern_3": "revolver"}, 497,
			[]string{"BUREAU"}},
		// Reason codes measure against the model's baselineScore 0 (plus the
		// initial score on bureau's): utilization's 5 and payment's 0 lose
		// nothing.
		// Above 700 the True fallback: 30.5 + 512.5 = 543; 0.95 → −35; min_payer → 0.
		{"sklearn2pmml.pmml", map[string]any{"bureau_score": 701, "utilization_avg_3": 0.95, "pay_pattern_3": "min_payer"}, 508,
			[]string{"UTILIZATION"}},
		{"sklearn2pmml.pmml", map[string]any{"bureau_score": 700, "utilization_avg_3": 0.31, "pay_pattern_3": "inactive"}, 558, nil},
		// R: basepoints 456 on the first characteristic; missing merged
		// with [-inf, 3).
		{"r-scorecard.pmml", map[string]any{"months_since_delinquency": nil, "max_dpd_6": 0}, 440, []string{"MONTHS_SINCE_DELINQUENCY"}},
		{"r-scorecard.pmml", map[string]any{"months_since_delinquency": 2, "max_dpd_6": 0}, 440, []string{"MONTHS_SINCE_DELINQUENCY"}},
		{"r-scorecard.pmml", map[string]any{"months_since_delinquency": 12, "max_dpd_6": 30}, 408, []string{"MAX_DPD_6"}},
		{"r-scorecard.pmml", map[string]any{"months_since_delinquency": 5, "max_dpd_6": 1}, 452, []string{"MAX_DPD_6", "MONTHS_SINCE_DELINQUENCY"}},
		// pointsAbove: scores negated, the characteristic furthest above
		// its baseline first.
		{"points-above.pmml", map[string]any{"failed_deductions_6": 0, "tenure_months": 3}, -40, []string{"TENURE"}},
		{"points-above.pmml", map[string]any{"failed_deductions_6": 3, "tenure_months": 12}, -55, []string{"FAILED"}},
		{"points-above.pmml", map[string]any{"failed_deductions_6": 2, "tenure_months": 5}, -55, []string{"TENURE", "FAILED"}},
	}
	for _, tt := range tests {
		cfg, notes := importFile(t, "testdata/"+tt.file)
		f := features(t, tt.vals)
		r := cfg.Score(&f)
		var reasons []string
		for _, c := range r.Reasons {
			if c != "" {
				reasons = append(reasons, c)
			}
		}
		if r.Score != tt.score || !slices.Equal(reasons, tt.reasons) {
			t.Errorf("%s %v: score %d reasons %q, want %d %q (notes %q)", tt.file, tt.vals, r.Score, reasons, tt.score, tt.reasons, notes)
		}
	}
	_, notes := importFile(t, "testdata/sklearn2pmml.pmml")
	if !slices.ContainsFunc(notes, func(n string) bool { return strings.Contains(n, "rounded") }) {
		t.Errorf("notes %q: want one about rounded partial scores", notes)
	}
}

// randomFeatures draws every feature, missing where it can be.
func randomFeatures(r *rand.Rand) scoring.Features {
	var f scoring.Features
	for id := range scoring.NumFeatures {
		info := id.Info()
		switch {
		case info.CanBeMissing && r.IntN(6) == 0:
			f.Missing[id] = true
		case info.Kind == scoring.KindCategory:
			f.Values[id] = float64(r.IntN(len(info.Categories)))
		case info.Kind == scoring.KindRatio:
			f.Values[id] = []float64{0, 0.3, 0.5, 0.7, 0.9, 1, r.Float64() * 1.3}[r.IntN(7)]
		case info.Kind == scoring.KindScore:
			f.Values[id] = float64(350 + r.IntN(600))
		case info.Kind == scoring.KindMoney:
			f.Values[id] = float64(r.IntN(2_000_000)) / 100
		default:
			f.Values[id] = float64(r.IntN(100))
		}
	}
	return f
}

// policy → PMML → policy gives the same scorecard and the same result for
// every account.
func TestRoundTrip(t *testing.T) {
	def := scoring.DefaultConfig()
	odd := scoring.DefaultConfig()
	odd.Scorecard.Name = `odd <"name">`
	odd.Scorecard.Characteristics = append(odd.Scorecard.Characteristics, scoring.Characteristic{
		Name: "util_whole", Feature: "utilization", Reason: "HIGH_UTILIZATION", Baseline: 3,
		Bins: []scoring.Bin{{From: math.Inf(-1), To: math.Inf(1), Points: 3}, {Missing: true, Points: -7}},
	}, scoring.Characteristic{
		Name: "util_again", Feature: "utilization", Reason: "UTIL & MORE", Baseline: 9,
		Bins: []scoring.Bin{{From: math.Inf(-1), To: 0.1 + 0.2, Points: 9}, {From: 0.1 + 0.2, To: math.Inf(1), Points: -2}, {Missing: true, Points: 0}},
	})
	if err := odd.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]*scoring.Config{"default": &def, "odd": &odd} {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Export(&b, cfg); err != nil {
				t.Fatal(err)
			}
			back, notes, err := Import(&b, cfg)
			if err != nil {
				t.Fatalf("Import(Export(cfg)) error: %v\n%s", err, b.String())
			}
			if len(notes) > 0 {
				t.Errorf("notes %q, want none", notes)
			}
			if !reflect.DeepEqual(back.Scorecard, cfg.Scorecard) {
				t.Errorf("scorecard changed through PMML:\n got %+v\nwant %+v", back.Scorecard, cfg.Scorecard)
			}
			r := rand.New(rand.NewPCG(1, 2))
			for range 20_000 {
				f := randomFeatures(r)
				if got, want := back.Score(&f), cfg.Score(&f); got != want {
					t.Fatalf("Score after the round trip = %+v, want %+v (features %+v)", got, want, f)
				}
			}
		})
	}
}

func TestImportErrors(t *testing.T) {
	base := scoring.DefaultConfig()
	doc := func(chars string) string {
		return `<PMML version="4.4"><DataDictionary/><Scorecard functionName="regression"><MiningSchema/><Characteristics>` +
			chars + `</Characteristics></Scorecard></PMML>`
	}
	tests := []struct{ name, xml, want string }{
		{"not xml", "<PMML", "invalid PMML"},
		{"no scorecard", `<PMML version="4.4"><DataDictionary/><RegressionModel/></PMML>`, "no Scorecard"},
		{"unknown field", doc(`<Characteristic name="x"><Attribute partialScore="1"><SimplePredicate field="income" operator="lessThan" value="1"/></Attribute><Attribute partialScore="2"><True/></Attribute></Characteristic>`),
			`"income" is not a creditrun feature`},
		{"two fields", doc(`<Characteristic name="x"><Attribute partialScore="1"><CompoundPredicate booleanOperator="and"><SimplePredicate field="max_dpd_6" operator="lessThan" value="1"/><SimplePredicate field="tenure_months" operator="lessThan" value="1"/></CompoundPredicate></Attribute></Characteristic>`),
			"one feature each"},
		{"gap", doc(`<Characteristic name="x"><Attribute partialScore="1"><SimplePredicate field="max_dpd_6" operator="lessThan" value="1"/></Attribute></Characteristic>`),
			"values of max_dpd_6 in [1, 2) match no attribute"},
		{"missing not taken", doc(`<Characteristic name="x"><Attribute partialScore="1"><SimplePredicate field="bureau_score" operator="lessThan" value="600"/></Attribute><Attribute partialScore="2"><SimplePredicate field="bureau_score" operator="greaterOrEqual" value="600"/></Attribute></Characteristic>`),
			"can be missing"},
		{"bad score", doc(`<Characteristic name="x"><Attribute partialScore="lots"><True/><!-- --></Attribute></Characteristic>`),
			"partialScore"},
		{"category unmatched", doc(`<Characteristic name="x"><Attribute partialScore="1"><SimplePredicate field="pay_pattern_3" operator="equal" value="new"/></Attribute></Characteristic>`),
			`category "inactive"`},
		{"reason codes differ", doc(`<Characteristic name="x"><Attribute partialScore="1" reasonCode="A"><SimplePredicate field="max_dpd_6" operator="lessThan" value="1"/></Attribute><Attribute partialScore="1" reasonCode="B"><True/></Attribute></Characteristic>`),
			"one reason code per characteristic"},
		{"complex score", doc(`<Characteristic name="x"><Attribute><True/><ComplexPartialScore/></Attribute></Characteristic>`),
			"ComplexPartialScore"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := Import(strings.NewReader(tt.xml), &base)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Import error %v, want one containing %q", err, tt.want)
			}
		})
	}
}
