package fit

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/creditrun/creditrun/scoring"
)

// Backtest is how a policy's scorecard did on a sample: its discrimination,
// the bad rate of every grade against its mean PD, and the population
// stability of the score and of each characteristic against a baseline.
type Backtest struct {
	Accounts int     `json:"accounts"`
	Bads     int     `json:"bads"`
	Score    Metrics `json:"score"`
	// Grade is the discrimination of the grade alone.
	Grade       Metrics    `json:"grade"`
	Grades      []GradeRow `json:"grades"`
	Monotone    bool       `json:"monotone"`
	Calibrated  bool       `json:"calibrated"`
	Calibration []GradeRow `json:"calibration"`
	// PSI is nil without a baseline.
	PSI []scoring.PSIResult `json:"psi,omitempty"`
}

// RunBacktest scores the sample with cfg and measures the result; baseline,
// if not nil, is the distribution the PSI is taken against.
func RunBacktest(cfg *scoring.Config, s Sample, baseline *scoring.Distribution) *Backtest {
	n := len(s.Features)
	bt := &Backtest{Accounts: n}
	score := make([]float64, n)
	gscore := make([]float64, n)
	pd := make([]float64, n)
	grade := make([]int, n)
	dist := cfg.NewDistribution()
	for i := range s.Features {
		r := cfg.Score(&s.Features[i])
		score[i], pd[i], grade[i] = float64(r.Score), r.PD, cfg.GradeIndex(r.Grade)
		gscore[i] = -float64(grade[i])
		dist.Add(&s.Features[i], &r)
		if s.Bad[i] {
			bt.Bads++
		}
	}
	names := make([]string, len(cfg.Grades))
	mins := make([]int32, len(cfg.Grades))
	for g := range cfg.Grades {
		names[g], mins[g] = cfg.Grades[g].Name, cfg.Grades[g].MinScore
	}
	bt.Score = Discrimination(score, s.Bad)
	bt.Grade = Discrimination(gscore, s.Bad)
	bt.Grades = gradeTable(names, mins, grade, pd, s.Bad)
	bt.Monotone = Monotone(bt.Grades)
	bt.Calibrated = true
	for _, g := range bt.Grades {
		bt.Calibrated = bt.Calibrated && (g.Calibrated || g.Accounts == 0)
	}
	bt.Calibration = Deciles(score, pd, s.Bad)
	if baseline != nil {
		bt.PSI = cfg.PSI(dist, baseline)
	}
	return bt
}

// WriteText writes the back-test for people.
func (bt *Backtest) WriteText(w io.Writer) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("Sample: %d accounts, %d bad (%.2f%%)\n\n", bt.Accounts, bt.Bads, pct(bt.Bads, bt.Accounts))
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "ranking\tAUC\tGini\tKS\t\n")
	fmt.Fprintf(tw, "score\t%.3f\t%.3f\t%.3f\t\n", bt.Score.AUC, bt.Score.Gini, bt.Score.KS)
	fmt.Fprintf(tw, "grade alone\t%.3f\t%.3f\t%.3f\t\n", bt.Grade.AUC, bt.Grade.Gini, bt.Grade.KS)
	tw.Flush()
	p("\nGrades\n")
	writeGrades(&b, bt.Grades, "grade")
	p("\nBad rates rise from grade to grade: %s; mean PD within the interval in every grade: %s\n", yesNo(bt.Monotone), yesNo(bt.Calibrated))
	p("\nCalibration by score decile\n")
	writeGrades(&b, bt.Calibration, "band")
	if bt.PSI == nil {
		p("\nPSI: no baseline (the policy has no monitoring.baseline; give --baseline-date)\n")
	} else {
		p("\nPopulation stability against the baseline\n")
		tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "distribution\tPSI\t\t\n")
		for _, r := range bt.PSI {
			note := ""
			switch {
			case r.NoBaseline:
				note = "not in the baseline"
			case r.Warn:
				note = "shifted: review the scorecard"
			}
			fmt.Fprintf(tw, "%s\t%.4f\t  %s\t\n", r.Name, r.PSI, note)
		}
		tw.Flush()
	}
	_, err := io.WriteString(w, b.String())
	return err
}
