package fit

import (
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"
)

// WriteText writes the report for people: every candidate characteristic
// with its IV and bins, the coefficients, the discrimination of the fitted
// scorecard, the plain regression and the current scorecard, the
// calibration and grade tables and the grade migration.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("Sample: %d accounts, %d bad (%.2f%%); fitted on %d, %d held out (seed %d)\n",
		r.Accounts, r.Bads, pct(r.Bads, r.Accounts), r.Train, r.Holdout, r.Seed)

	p("\nCharacteristics (information value on the fitting accounts)\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "feature\tIV\ttrend\tbins\tlog-odds range\t\n")
	for _, c := range r.Characteristics {
		coef, note := "–", c.Dropped
		if c.Selected {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, s := range c.Bins {
				if s.Accounts > 0 {
					lo, hi = min(lo, s.Effect), max(hi, s.Effect)
				}
			}
			coef, note = fmt.Sprintf("%.3f", hi-lo), "in"
		}
		fmt.Fprintf(tw, "%s\t%.4f\t%s\t%d\t%s\t  %s\n", c.Feature, c.IV, dash(c.Trend), len(c.Bins), coef, note)
	}
	tw.Flush()
	p("intercept %.4f; recalibration: log-odds × %.4f %+.4f\n", r.Intercept, r.Recalibration[1], r.Recalibration[0])
	for _, c := range r.Characteristics {
		if !c.Selected {
			continue
		}
		p("\n%s (reason %s, IV %.4f)\n", c.Feature, c.Reason, c.IV)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "bin\taccounts\tbads\tbad rate\tWoE\tlog-odds\tpoints\t\n")
		for _, s := range c.Bins {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f%%\t%.3f\t%+.3f\t%d\t\n", s.Label, s.Accounts, s.Bads, pct(s.Bads, s.Accounts), s.WoE, s.Effect, s.Points)
		}
		tw.Flush()
	}

	p("\nDiscrimination\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "model\tsample\taccounts\tbads\tAUC\tGini\tKS\t\n")
	row := func(model, sample string, m Metrics) {
		if m.Accounts == 0 {
			return
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", model, sample, m.Accounts, m.Bads, m.AUC, m.Gini, m.KS)
	}
	row("fitted scorecard", "in sample", r.InSample)
	row("fitted scorecard", "holdout", r.OnHoldout)
	row("logistic regression, raw features", "in sample", r.RegressionInSample)
	row("logistic regression, raw features", "holdout", r.RegressionHoldout)
	row("fitted scorecard", "out of time", r.OutOfTime)
	row("logistic regression, raw features", "out of time", r.RegressionOutOfTime)
	row("current scorecard", "in sample", r.CurrentInSample)
	row("current scorecard", "holdout", r.CurrentHoldout)
	tw.Flush()

	p("\nCalibration by score decile (fitting accounts): mean PD against the bad rate and its 95%% Wilson interval\n")
	writeGrades(&b, r.Calibration, "band")
	p("\nGrades (fitting accounts)\n")
	writeGrades(&b, r.Grades, "grade")
	if r.Holdout > 0 {
		p("\nGrades (holdout)\n")
		writeGrades(&b, r.HoldoutGrades, "grade")
	}
	p("\nBad rates rise from grade to grade: %s; mean PD within the interval in every grade: %s\n", yesNo(r.Monotone), yesNo(r.Calibrated))

	p("\nGrade migration, current policy (rows) to fitted (columns), all accounts\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "\t%s\t\n", strings.Join(r.Migration.To, "\t"))
	for i, from := range r.Migration.From {
		cells := make([]string, len(r.Migration.To))
		for j := range cells {
			cells[j] = fmt.Sprint(r.Migration.Counts[i][j])
		}
		fmt.Fprintf(tw, "%s\t%s\t\n", from, strings.Join(cells, "\t"))
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

// writeGrades writes a grade (or band) table.
func writeGrades(b *strings.Builder, rows []GradeRow, first string) {
	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%s\tmin score\taccounts\tbads\tbad rate\t95%% interval\tmean PD\tcalibrated\t\n", first)
	for _, g := range rows {
		min := "–"
		if g.MinScore != nil {
			min = fmt.Sprint(*g.MinScore)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%.2f%%\t%.2f–%.2f%%\t%.2f%%\t%s\t\n", g.Grade, min, g.Accounts, g.Bads,
			100*g.Rate, 100*g.Lo, 100*g.Hi, 100*g.MeanPD, yesNo(g.Calibrated))
	}
	tw.Flush()
}

func pct(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(k) / float64(n)
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
