package policy

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

func TestDefault(t *testing.T) {
	p := Default()
	if want := scoring.DefaultConfig(); !reflect.DeepEqual(p.Scoring, want) {
		t.Errorf("Default().Scoring differs from scoring.DefaultConfig():\n got %+v\nwant %+v", p.Scoring, want)
	}
	want := billing.DefaultConfig()
	if err := want.Validate(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Billing, want) {
		t.Errorf("Default().Billing differs from billing.DefaultConfig():\n got %+v\nwant %+v", p.Billing, want)
	}
	if p.Scoring.Limits.FreezeDPD != p.Billing.FreezeDPD {
		t.Errorf("limits FreezeDPD %d, want collections.freeze_dpd %d", p.Scoring.Limits.FreezeDPD, p.Billing.FreezeDPD)
	}
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(p.Version) || p.Source != BuiltIn {
		t.Errorf("Version %q Source %q", p.Version, p.Source)
	}
	if err := p.Scoring.Validate(); err != nil {
		t.Errorf("Default().Scoring.Validate() = %v", err)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(path, DefaultYAML(), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Version != Default().Version || p.Source != path {
		t.Errorf("Load: version %s source %s, want %s %s", p.Version, p.Source, Default().Version, path)
	}
	if _, err := Load(path + ".missing"); err == nil {
		t.Error("Load(missing file) = nil error")
	}
	other, err := Parse("x", append(DefaultYAML(), "\n# a comment\n"...))
	if err != nil {
		t.Fatal(err)
	}
	if other.Version == p.Version {
		t.Error("a changed file kept its version")
	}
}

func TestParseValues(t *testing.T) {
	p, err := Parse("p.yaml", partial(`
billing:
  apr_cap: 0.1
  minimum_floor: 12.5
  revolving_daily_rate: 0.000701
  waterfall: [purchase, penalty, revolving_fee, installment_fee, installment_principal]
collections:
  freeze_dpd: 45
limits:
  delinquency_cut: 0.15
offers:
  pricing:
    - {grade: A, fee_rates: {12: 0.0045}, interest_free: [3, 6]}
    - {grade: B, interest_free: [3]}
grades:
  - {grade: A, min_score: 700}
  - {grade: B, min_score: 650}
  - {grade: C, min_score: 600}
  - {grade: D, min_score: 540}
  - {grade: E}
`))
	if err != nil {
		t.Fatal(err)
	}
	b := p.Billing
	if b.APRCap != 100_000 || b.MinimumFloor != 1250 || b.RevolvingDailyRate != 701 || b.Waterfall[0] != billing.PurchasePrincipal {
		t.Errorf("billing = %+v", b)
	}
	if len(b.Offers.Pricing) != 2 || b.Offers.Pricing[0].FeeRates[12] != 4500 || len(b.Offers.Pricing[1].FeeRates) != 0 {
		t.Errorf("offers = %+v", b.Offers)
	}
	if b.FreezeDPD != 45 || p.Scoring.Limits.FreezeDPD != 45 {
		t.Errorf("freeze_dpd: billing %d, limits %d, want 45", b.FreezeDPD, p.Scoring.Limits.FreezeDPD)
	}
	if p.Scoring.Limits.DelinquencyCut != 150_000 || p.Scoring.Grades[0].MinScore != 700 {
		t.Errorf("scoring = %+v", p.Scoring)
	}
	// What the file leaves out keeps its default.
	if b.DueDays != 9 || p.Scoring.Scaling.PDO != 40 || len(p.Scoring.Scorecard.Characteristics) != 8 {
		t.Errorf("defaults lost: due_days %d, pdo %v", b.DueDays, p.Scoring.Scaling.PDO)
	}
}

// A scorecard with one characteristic, starting at line 1; "bins:" is
// line 5, the first bin line 6.
const oneCharHead = `scorecard:
  characteristics:
    - feature: payment_ratio_3
      reason: PAY
      bins:
`

func TestParseProblems(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		line int
		want string
	}{
		{"unknown top-level key", "billing:\n  due_days: 9\nscoreboard: {}\n", 3, `unknown key "scoreboard"`},
		{"unknown key with suggestion", "collections:\n  freze_dpd: 30\n", 2, `did you mean "freeze_dpd"`},
		{"wrong type: text for a number", "billing:\n  due_days: nine\n", 2, `billing.due_days: want a whole number, got the text "nine"`},
		{"wrong type: number for a boolean", "billing:\n  payoff_charges_fees: 1\n", 2, "want true or false"},
		{"wrong type: list for a mapping", "limits: [1, 2]\n", 1, "limits: want a mapping"},
		{"rate with too many decimals", "billing:\n  apr_cap: 0.1234567\n", 2, "at most 6 decimals"},
		{"offer above the APR cap", "offers:\n  pricing:\n    - grade: A\n      fee_rates: {24: 0.012}\n", 3, "offers.pricing.A: 24 installments at 0.012000 a month disclose an APR of 0.255873, above apr_cap 0.240000"},
		{"offer of a count not offered", "billing:\n  installment_options: [1, 3]\noffers:\n  pricing:\n    - {grade: A, interest_free: [6]}\n", 5, "offers.pricing.A: 6 installments: not both"},
		{"offer of an unknown grade", "offers:\n  pricing:\n    - {grade: Z, interest_free: [3]}\n", 3, "offers.pricing.Z: unknown grade"},
		{"money with 3 decimals", "billing:\n  minimum_floor: 10.005\n", 2, "at most 2 decimals"},
		{"rate out of range (billing)", "billing:\n  due_days: 9\n  revolving_daily_rate: 0.5\n", 3, "billing.revolving_daily_rate: 0.500000: want 0..0.010000"},
		{"rate out of range (limits)", "limits:\n  delinquency_cut: 1.5\n", 2, "limits.delinquency_cut: 1.500000: rate out of range"},
		{"rate out of range (grade rule)", `limits:
  grades:
    - {grade: A, initial: 8000, increase: 0.2, max_limit: 50000}
    - {grade: B, initial: 5000, increase: 2, max_limit: 30000}
    - {grade: C, initial: 3000, max_limit: 15000}
    - {grade: D, initial: 1000, max_limit: 5000}
    - {grade: E, decline: true}
`, 4, "limits.grades[1].increase: 2.000000: rate out of range"},
		{"overlapping bins", oneCharHead + `        - {to: 0.5, points: 1}
        - {from: 0.4, points: 2}
        - {missing: true, points: 0}
`, 7, "overlapping bins"},
		{"gapped bins", oneCharHead + `        - {to: 0.5, points: 1}
        - {from: 0.6, points: 2}
        - {missing: true, points: 0}
`, 7, "gap: values in [0.5, 0.6) fall in no bin"},
		{"bins without an open end", oneCharHead + `        - {to: 0.5, points: 1}
        - {from: 0.5, to: 2, points: 2}
        - {missing: true, points: 0}
`, 7, "values from 2 up fall in no bin"},
		{"no missing bin", oneCharHead + `        - {to: 0.5, points: 1}
        - {from: 0.5, points: 2}
`, 5, "can be missing: add a missing bin"},
		{"range and categories in one bin", oneCharHead + `        - {to: 0.5, categories: [a], points: 1}
`, 6, "not several"},
		{"bin without points", oneCharHead + `        - {to: 0.5}
`, 6, "points is required"},
		{"unknown feature", "scorecard:\n  characteristics:\n    - feature: nope\n      reason: X\n      bins: [{points: 1}]\n", 3, `unknown feature "nope"`},
		{"cut-offs out of order", `grades:
  - {grade: A, min_score: 680}
  - {grade: B, min_score: 690}
  - {grade: C, min_score: 580}
  - {grade: D, min_score: 520}
  - {grade: E}
`, 3, "cut-offs out of order"},
		{"last grade with a cut-off", `grades:
  - {grade: A, min_score: 680}
  - {grade: B, min_score: 630}
  - {grade: C, min_score: 580}
  - {grade: D, min_score: 520}
  - {grade: E, min_score: 400}
`, 6, "leave its min_score out"},
		{"grade without a cut-off", "grades:\n  - {grade: A}\n  - {grade: E}\n", 2, "min_score is required"},
		{"grade without a limit rule", `grades:
  - {grade: A, min_score: 680}
  - {grade: B, min_score: 630}
  - {grade: C, min_score: 580}
  - {grade: D, min_score: 520}
  - {grade: X, min_score: 500}
  - {grade: E}
`, 0, `grade "X" has no limit rule`},
		{"unknown grade in collections", "collections:\n  no_unfreeze_grades: [E, Z]\n", 2, `unknown grade "Z"`},
		{"unknown channel", "notices:\n  channels:\n    overdue: pigeon\n", 3, `unknown channel "pigeon"`},
		{"unknown notice kind", "notices:\n  channels:\n    owerdue: sms\n", 3, `unknown notice kind "owerdue"`},
		{"unknown waterfall component", "billing:\n  waterfall: [penalty, interest]\n", 2, `unknown component "interest"`},
		{"history too short for the scorecard", "billing:\n  history_cycles: 4\n", 2, "shorter than the 6 cycles"},
		{"late window beyond a month", "billing:\n  late_window_days: 45\n", 2, "billing.late_window_days: 45: want 1..31"},
		{"late window of no day", "billing:\n  late_window_days: 0\n", 2, "billing.late_window_days: 0: want 1..31"},
		{"duplicate key", "billing:\n  due_days: 9\n  due_days: 10\n", 3, "duplicate key (first at line 2)"},
		{"invalid YAML", "billing:\n  due_days: 9\n   x: 1\n", 3, "invalid YAML: mapping values are not allowed"},
		{"empty file", "", 0, "empty policy file"},
		{"unknown time zone", "billing:\n  time_zone: Mars/Olympus\n", 2, "unknown zone"},
		{"charge-off before freeze", "collections:\n  freeze_dpd: 200\n", 1, "collections.charge_off_dpd: 180: want above freeze_dpd 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yaml", partial(tt.yaml))
			var pe *ProblemsError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, want a *ProblemsError", err)
			}
			found := false
			for _, p := range pe.Problems {
				found = found || (p.Line == tt.line && strings.Contains(p.Msg, tt.want))
			}
			if !found {
				t.Errorf("Parse problems:\n%v\nwant line %d: …%s…", err, tt.line, tt.want)
			}
			prefix := "p.yaml: "
			if tt.line > 0 {
				prefix = "p.yaml:" + strconv.Itoa(tt.line) + ": "
			}
			if !strings.Contains(err.Error(), prefix) {
				t.Errorf("Error() = %q, want a line starting %q", err, prefix)
			}
		})
	}
}

func TestParseListsEveryProblem(t *testing.T) {
	src := `billing:
  due_days: nine
  apr_cap: 0.1234567
collections:
  freze_dpd: 30
grades:
  - {grade: A, min_score: 600}
  - {grade: B, min_score: 650}
  - {grade: C, min_score: 580}
  - {grade: D, min_score: 520}
  - {grade: E}
`
	_, err := Parse("bad.yaml", partial(src))
	var pe *ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse = %v, want a *ProblemsError", err)
	}
	// Decoding and validation problems alike, in line order.
	lines := []int{}
	for _, p := range pe.Problems {
		lines = append(lines, p.Line)
	}
	if want := []int{2, 3, 5, 8}; !reflect.DeepEqual(lines, want) {
		t.Errorf("problem lines = %v, want %v:\n%v", lines, want, err)
	}
	if got := strings.Count(err.Error(), "\n") + 1; got != len(pe.Problems) {
		t.Errorf("Error() has %d lines for %d problems", got, len(pe.Problems))
	}

	// Validation problems alone.
	src = strings.NewReplacer("nine", "9", "0.1234567", "12", "freze", "freeze").Replace(src)
	_, err = Parse("bad.yaml", partial(src))
	if !errors.As(err, &pe) || len(pe.Problems) != 2 {
		t.Fatalf("Parse = %v, want 2 problems (apr_cap and the cut-off)", err)
	}
	if pe.Problems[0].Line != 3 || pe.Problems[1].Line != 8 {
		t.Errorf("problems = %+v, want lines 3 and 8", pe.Problems)
	}
}

func TestParseBaseline(t *testing.T) {
	p, err := Parse("p.yaml", partial(`monitoring:
  baseline:
    score: {"[-inf, 400)": 10, "[600, 650)": 30}
    tenure_months: {"[-inf, 3)": 5}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []scoring.DistributionRow{{Name: "score", Bin: "[-inf, 400)", Count: 10}, {Name: "score", Bin: "[600, 650)", Count: 30}, {Name: "tenure_months", Bin: "[-inf, 3)", Count: 5}}
	if !reflect.DeepEqual(p.Scoring.Monitoring.Baseline, want) {
		t.Errorf("baseline = %+v, want %+v", p.Scoring.Monitoring.Baseline, want)
	}
	_, err = Parse("p.yaml", partial("monitoring:\n  baseline:\n    score: {\"[1, 2)\": 3}\n"))
	if err == nil || !strings.Contains(err.Error(), `p.yaml:3: monitoring.baseline[0]: score has no bin "[1, 2)"`) {
		t.Errorf("Parse(unknown baseline bin) = %v", err)
	}
}

func TestSettingCheckedTwiceIsReportedOnce(t *testing.T) {
	_, err := Parse("p.yaml", partial("collections:\n  freeze_dpd: -1\n"))
	var perr *ProblemsError
	if !errors.As(err, &perr) {
		t.Fatalf("Parse = %v, want *ProblemsError", err)
	}
	n := 0
	for _, p := range perr.Problems {
		if p.Line == 2 {
			n++
		}
	}
	if n != 1 {
		t.Errorf("problems on line 2 = %d, want 1: %v", n, perr)
	}
}

// partial makes src a partial policy: it extends the default (at its end,
// so that the lines the tests expect stay where they are); an empty file
// stays empty.
func partial(src string) []byte {
	if strings.TrimSpace(src) == "" {
		return []byte(src)
	}
	return []byte(src + "\nextends: default\n")
}

// A file cut short, a partial file that does not say it extends the
// default, and one above the size cap are refused; `extends: default`
// is the explicit way to a partial policy.
func TestFullOrExtendsAndBounded(t *testing.T) {
	full := DefaultYAML()
	cut := full[:bytes.Index(full, []byte("\nmonitoring:"))+1]
	if _, err := Parse("cut.yaml", cut); err == nil || !strings.Contains(err.Error(), "missing monitoring") {
		t.Errorf("Parse(a default cut before monitoring) = %v, want an error naming the missing section", err)
	}
	mid := full[:bytes.Index(full, []byte("\n  score_bands:"))+1]
	if _, err := Parse("mid.yaml", mid); err == nil || !strings.Contains(err.Error(), "monitoring: missing score_bands") {
		t.Errorf("Parse(a default cut inside monitoring) = %v, want an error naming score_bands", err)
	}
	if _, err := Parse("p.yaml", []byte("collections:\n  freeze_dpd: 20\n")); err == nil || !strings.Contains(err.Error(), "extends: default") {
		t.Errorf("Parse(partial without extends) = %v, want an error saying how to extend the default", err)
	}
	p, err := Parse("p.yaml", []byte("extends: default\ncollections:\n  freeze_dpd: 20\n"))
	if err != nil || p.Billing.FreezeDPD != 20 || p.Billing.DueDays != 9 {
		t.Fatalf("Parse(extends: default) = %v, %v", p, err)
	}
	if _, err := Parse("p.yaml", []byte("extends: other\ncollections:\n  freeze_dpd: 20\n")); err == nil {
		t.Error("Parse(extends: other) = nil error")
	}
	big := append(DefaultYAML(), bytes.Repeat([]byte("# padding\n"), MaxBytes/10)...)
	_, err = Parse("big.yaml", big)
	if err == nil || !strings.Contains(err.Error(), strconv.Itoa(MaxBytes)) {
		t.Errorf("Parse(%d bytes) = %v, want a refusal naming the cap", len(big), err)
	}
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err == nil || !strings.Contains(err.Error(), strconv.Itoa(MaxBytes)) {
		t.Errorf("Load(%d bytes) = %v, want a refusal naming the cap", len(big), err)
	}
}
