package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/fixtures"
	"github.com/creditrun/creditrun/pipeline/pqfile"
)

// TestFitLifecycle fits a scorecard on a generated book of 5,000 accounts
// over 200 days, evaluates it out of time and on held-out accounts, runs a
// night with it, compares it with the default, and moves it through PMML.
func TestFitLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 200-day book (about 15 s)")
	}
	events := t.TempDir()
	if code, stderr := creditrun(t, nil, "gen", "--accounts", "5000", "--days", "201", "--start", "2025-01-01", "--seed", "11", "--out", events); code != 0 {
		t.Fatalf("gen: exit %d\n%s", code, stderr)
	}
	out := t.TempDir()
	if code, stderr := creditrun(t, nil, "backfill", "--from", "2025-01-01", "--to", "2025-07-19", "--events", events, "--out", out,
		"--state", filepath.Join(events, "accounts"), "--log-level", "warn"); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	dir := t.TempDir()
	fitted := filepath.Join(dir, "fitted.yaml")
	cmd := exec.Command(bin, "fit", "--out", out, "--date", "2025-04-01", "--window", "100", "--bad-dpd", "30",
		"--write", fitted, "--report-json", filepath.Join(dir, "fit.json"), "--oot-date", "2025-04-15", "--oot-window", "95")
	text, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("fit: %v\n%s", err, text)
	}
	t.Logf("fit report:\n%s", text)
	var fr struct {
		Report struct {
			InSample            struct{ AUC float64 } `json:"in_sample"`
			RegressionInSample  struct{ AUC float64 } `json:"regression_in_sample"`
			Holdout             struct{ AUC float64 } `json:"holdout"`
			RegressionHoldout   struct{ AUC float64 } `json:"regression_holdout"`
			OutOfTime           struct{ AUC float64 } `json:"out_of_time"`
			RegressionOutOfTime struct{ AUC float64 } `json:"regression_out_of_time"`
			CurrentHoldout      struct{ AUC float64 } `json:"current_holdout"`
			Grades              []struct{ Calibrated bool }
			Monotone            bool
			Calibrated          bool
		}
	}
	readJSON(t, filepath.Join(dir, "fit.json"), &fr)
	r := fr.Report
	if !r.Monotone || !r.Calibrated || len(r.Grades) != 5 {
		t.Errorf("fit: monotone %v, calibrated %v, %d grades; want monotone and calibrated A..E", r.Monotone, r.Calibrated, len(r.Grades))
	}
	// The fitted scorecard ranks at least as well as a plain logistic
	// regression on the same candidates (every feature) in sample, on the
	// holdout and out of time (fitted on 2025-04-01, both measured on the
	// accounts of 2025-04-15).
	if r.InSample.AUC < r.RegressionInSample.AUC {
		t.Errorf("in-sample AUC %.4f below the regression's %.4f", r.InSample.AUC, r.RegressionInSample.AUC)
	}
	if r.OutOfTime.AUC < r.RegressionOutOfTime.AUC {
		t.Errorf("out-of-time AUC %.4f below the regression's %.4f", r.OutOfTime.AUC, r.RegressionOutOfTime.AUC)
	}
	if r.Holdout.AUC < r.RegressionHoldout.AUC || r.Holdout.AUC <= r.CurrentHoldout.AUC {
		t.Errorf("holdout AUC %.4f; regression %.4f, current %.4f", r.Holdout.AUC, r.RegressionHoldout.AUC, r.CurrentHoldout.AUC)
	}
	if code, stderr := creditrun(t, nil, "policy", "check", fitted); code != 0 {
		t.Fatalf("policy check of the fitted policy: exit %d\n%s", code, stderr)
	}

	// Out of time: a later observation date, the fitted and the shipped card.
	backtest := func(policy string, extra ...string) (float64, bool, string) {
		t.Helper()
		js := filepath.Join(dir, fmt.Sprintf("bt%d.json", len(extra)+len(policy)))
		args := append([]string{"backtest", "--out", out, "--date", "2025-04-15", "--window", "95", "--bad-dpd", "30", "--report-json", js}, extra...)
		if policy != "" {
			args = append(args, "--policy", policy)
		}
		text, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("backtest %v: %v\n%s", args, err, text)
		}
		var bt struct {
			Backtest struct {
				Score    struct{ AUC float64 }
				Monotone bool
				PSI      []struct{ PSI float64 }
			}
		}
		readJSON(t, js, &bt)
		return bt.Backtest.Score.AUC, bt.Backtest.Monotone && len(bt.Backtest.PSI) > 0, string(text)
	}
	oot, ok, bt := backtest(fitted)
	shipped, _, _ := backtest("")
	t.Logf("out of time: fitted AUC %.3f, shipped %.3f\n%s", oot, shipped, bt)
	if !ok || oot <= shipped {
		t.Errorf("out of time: fitted AUC %.3f (monotone with a PSI baseline: %v), shipped %.3f", oot, ok, shipped)
	}

	// The fitted policy runs the next night on a state written under the
	// default: refused unless declared.
	night := []string{"run", "--as-of", "2025-07-20", "--events", events, "--out", out, "--policy", fitted, "--log-level", "warn"}
	if code, _ := creditrun(t, nil, night...); code != 2 {
		t.Errorf("undeclared policy change: exit %d, want 2", code)
	}
	if code, stderr := creditrun(t, nil, append(night, "--policy-change")...); code != 0 {
		t.Fatalf("night under the fitted policy: exit %d\n%s", code, stderr)
	}
	diff, err := exec.Command(bin, "policy", "diff", "../../policy/default.yaml", fitted, "--state",
		filepath.Join(out, "as_of=2025-07-19", "state")).CombinedOutput()
	if err != nil || strings.Contains(string(diff), "no change") {
		t.Errorf("policy diff default → fitted: %v\n%s", err, diff)
	}

	// PMML: export, import onto the fitted policy, same back-test.
	pm := filepath.Join(dir, "fitted.pmml")
	back := filepath.Join(dir, "back.yaml")
	if code, stderr := creditrun(t, nil, "pmml", "export", "--policy", fitted, "--out", pm); code != 0 {
		t.Fatalf("pmml export: exit %d\n%s", code, stderr)
	}
	if code, stderr := creditrun(t, nil, "pmml", "import", pm, "--policy", fitted, "--out", back); code != 0 {
		t.Fatalf("pmml import: exit %d\n%s", code, stderr)
	}
	if again, _, _ := backtest(back, "--baseline-date", "2025-04-01"); again != oot {
		t.Errorf("AUC after the PMML round trip %.6f, want %.6f", again, oot)
	}

	// Labels from a file: the generator's defaulters as bad.
	type persona struct {
		AccountID int64  `parquet:"account_id"`
		Persona   string `parquet:"persona"`
	}
	ps, err := pqfile.ReadFile[persona](filepath.Join(events, fixtures.LabelsPath))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("account_id,bad\n")
	for _, p := range ps {
		fmt.Fprintf(&b, "%d,%t\n", p.AccountID, p.Persona == "defaulter")
	}
	labels := filepath.Join(dir, "labels.csv")
	os.WriteFile(labels, []byte(b.String()), 0o644)
	text2, err := exec.Command(bin, "backtest", "--out", out, "--date", "2025-04-15", "--labels", labels).CombinedOutput()
	if err != nil || !strings.Contains(string(text2), "outcome: labels") {
		t.Errorf("backtest --labels: %v\n%s", err, text2)
	}
	os.WriteFile(labels, []byte("account_id,bad\n1,maybe\n"), 0o644)
	if code, stderr := creditrun(t, nil, "backtest", "--out", out, "--date", "2025-04-15", "--labels", labels); code != 1 || !strings.Contains(stderr, "row 1, column bad") {
		t.Errorf("bad labels: exit %d\n%s", code, stderr)
	}
	// A gap in the window is an error.
	if code, stderr := creditrun(t, nil, "backtest", "--out", out, "--date", "2025-04-15", "--window", "200"); code == 0 || !strings.Contains(stderr, "gap") {
		t.Errorf("window past the book: exit %d\n%s", code, stderr)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
