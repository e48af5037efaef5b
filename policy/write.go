package policy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// Write writes p as a policy file that Parse reads back into the same
// settings: every section, every setting, bins in the flow style of
// default.yaml, numbers in their shortest exact form. comment, if not
// empty, heads the file, each line prefixed with "# ".
func Write(w io.Writer, p *Policy, comment string) error {
	var b bytes.Buffer
	if comment != "" {
		for _, line := range strings.Split(strings.TrimRight(comment, "\n"), "\n") {
			b.WriteString(strings.TrimRight("# "+line, " ") + "\n")
		}
		b.WriteString("\n")
	}
	writeBilling(&b, &p.Billing)
	writeScoring(&b, &p.Scoring)
	_, err := w.Write(b.Bytes())
	return err
}

// Marshal returns the policy file Write writes.
func Marshal(p *Policy, comment string) []byte {
	var b bytes.Buffer
	_ = Write(&b, p, comment) // a bytes.Buffer does not fail
	return b.Bytes()
}

func writeBilling(b *bytes.Buffer, c *billing.Config) {
	f := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	f("billing:\n")
	f("  time_zone: %s\n", str(c.TimeZone))
	f("  currency: %s\n", str(c.Currency))
	if c.LocalTimestampsZone != "" {
		f("  local_timestamps_zone: %s\n", str(c.LocalTimestampsZone))
	}
	f("  due_days: %d\n", c.DueDays)
	f("  installment_options: %s\n", ints(c.InstallmentOptions))
	f("  apr_cap: %s\n", rate(c.APRCap))
	f("  max_fee_rate: %s\n", rate(c.MaxFeeRate))
	f("  min_installment_amount: %s\n", c.MinInstallmentAmount)
	f("  late_window_days: %d\n", c.LateWindowDays)
	f("  minimum_rate: %s\n", rate(c.MinimumRate))
	f("  minimum_floor: %s\n", c.MinimumFloor)
	f("  revolving_daily_rate: %s\n", rate(c.RevolvingDailyRate))
	names := make([]string, len(c.Waterfall))
	for i, k := range c.Waterfall {
		names[i] = k.String()
	}
	f("  waterfall: [%s]\n", strings.Join(names, ", "))
	f("  payoff_charges_fees: %t\n", c.PayoffChargesFees)
	f("  max_deferral_cycles: %d\n", c.MaxDeferralCycles)
	f("  billing_day_change_after_months: %d\n", c.BillingDayChangeAfterMonths)
	f("  refund_window_days: %d\n", c.RefundWindowDays)
	f("  history_cycles: %d\n", c.HistoryCycles)
	f("\ncollections:\n")
	f("  penalty_daily_rate: %s\n", rate(c.PenaltyDailyRate))
	f("  freeze_dpd: %d\n", c.FreezeDPD)
	f("  unfreeze_clean_days: %d\n", c.UnfreezeCleanDays)
	f("  no_unfreeze_grades: %s\n", strs(c.NoUnfreezeGrades))
	f("  charge_off_dpd: %d\n", c.ChargeOffDPD)
	f("\nnotices:\n")
	f("  reminder_days: %s\n", ints(c.ReminderDays))
	if len(c.ReminderDaysByGrade) == 0 {
		f("  reminder_days_by_grade: {}\n")
	} else {
		f("  reminder_days_by_grade:\n")
		for _, g := range sortedKeys(c.ReminderDaysByGrade) {
			f("    %s: %s\n", str(g), ints(c.ReminderDaysByGrade[g]))
		}
	}
	f("  overdue_notice_dpd: %s\n", ints(c.OverdueNoticeDPD))
	if len(c.Channels) == 0 {
		f("  channels: {}\n")
	} else {
		f("  channels:\n")
		for _, k := range sortedKeys(c.Channels) {
			f("    %s: %s\n", str(string(k)), str(c.Channels[k]))
		}
	}
	f("  default_channel: %s\n", str(c.DefaultChannel))
	f("\nincidents:\n")
	f("  grace_days: %d\n", c.IncidentGraceDays)
	f("  memory_days: %d\n", c.IncidentMemoryDays)
	f("\noffers:\n")
	if len(c.Offers.Pricing) == 0 {
		f("  pricing: []\n")
		return
	}
	f("  pricing:\n")
	for _, g := range c.Offers.Pricing {
		f("    - grade: %s\n", str(g.Grade))
		if len(g.FeeRates) > 0 {
			counts := make([]int32, 0, len(g.FeeRates))
			for n := range g.FeeRates {
				counts = append(counts, n)
			}
			slices.Sort(counts)
			parts := make([]string, len(counts))
			for i, n := range counts {
				parts[i] = fmt.Sprintf("%d: %s", n, rate(g.FeeRates[n]))
			}
			f("      fee_rates: {%s}\n", strings.Join(parts, ", "))
		}
		if len(g.InterestFree) > 0 {
			f("      interest_free: %s\n", ints(g.InterestFree))
		}
	}
}

func writeScoring(b *bytes.Buffer, s *scoring.Config) {
	f := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	f("\nscaling:\n")
	f("  pdo: %s\n", num(s.Scaling.PDO))
	f("  base_score: %s\n", num(s.Scaling.BaseScore))
	f("  base_odds: %s\n", num(s.Scaling.BaseOdds))
	f("\ngrades:\n")
	for i, g := range s.Grades {
		if i == len(s.Grades)-1 {
			f("  - grade: %s\n", str(g.Name))
		} else {
			f("  - grade: %s\n    min_score: %d\n", str(g.Name), g.MinScore)
		}
	}
	f("\nscorecard:\n")
	f("  name: %s\n", str(s.Scorecard.Name))
	f("  characteristics:\n")
	for _, ch := range s.Scorecard.Characteristics {
		f("    - feature: %s\n", str(ch.Feature))
		if ch.Name != ch.Feature {
			f("      name: %s\n", str(ch.Name))
		}
		f("      reason: %s\n", str(ch.Reason))
		f("      baseline_points: %d\n", ch.Baseline)
		f("      bins:\n")
		for _, bin := range ch.Bins {
			switch {
			case bin.Missing:
				f("        - {missing: true, points: %d}\n", bin.Points)
			case len(bin.Categories) > 0:
				f("        - {categories: %s, points: %d}\n", strs(bin.Categories), bin.Points)
			default:
				var parts []string
				if !math.IsInf(bin.From, -1) {
					parts = append(parts, "from: "+num(bin.From))
				}
				if !math.IsInf(bin.To, 1) {
					parts = append(parts, "to: "+num(bin.To))
				}
				parts = append(parts, "points: "+strconv.Itoa(int(bin.Points)))
				f("        - {%s}\n", strings.Join(parts, ", "))
			}
		}
	}
	l := &s.Limits
	f("\nlimits:\n")
	f("  max_limit: %s\n", l.MaxLimit)
	f("  max_increase: %s\n", l.MaxIncrease)
	f("  round_to: %s\n", l.RoundTo)
	f("  increase_cooling_days: %d\n", l.IncreaseCoolingDays)
	f("  decrease_cooling_days: %d\n", l.DecreaseCoolingDays)
	f("  increase_min_utilization: %s\n", rate(l.IncreaseMinUtilization))
	f("  utilization_cycles: %d\n", l.UtilizationCycles)
	f("  increase_clean_cycles: %d\n", l.IncreaseCleanCycles)
	f("  delinquency_cycles: %d\n", l.DelinquencyCycles)
	f("  delinquency_dpd: %d\n", l.DelinquencyDPD)
	f("  delinquency_cut: %s\n", rate(l.DelinquencyCut))
	f("  cut_below_balance: %t\n", l.CutBelowBalance)
	f("  grades:\n")
	for _, g := range l.Grades {
		parts := []string{"grade: " + str(g.Grade)}
		if g.Decline {
			parts = append(parts, "decline: true")
		} else {
			parts = append(parts, "initial: "+g.Initial.String())
		}
		if g.Increase != 0 {
			parts = append(parts, "increase: "+rate(g.Increase))
		}
		if g.MaxLimit != 0 {
			parts = append(parts, "max_limit: "+g.MaxLimit.String())
		}
		if g.Decrease != 0 {
			parts = append(parts, "decrease: "+rate(g.Decrease))
		}
		f("    - {%s}\n", strings.Join(parts, ", "))
	}
	m := &s.Monitoring
	f("\nreopen:\n")
	f("  wait_days: %d\n", s.Limits.Reopen.WaitDays)
	f("  lookback_months: %d\n", s.Limits.Reopen.LookbackMonths)
	f("  grades: %s\n", strs(s.Limits.Reopen.Grades))
	f("\nmonitoring:\n")
	f("  psi_warn: %s\n", num(m.PSIWarn))
	f("  score_bands: %s\n", ints(m.ScoreBands))
	if len(m.Baseline) > 0 {
		f("  baseline:\n")
		var names []string
		for _, r := range m.Baseline {
			if !slices.Contains(names, r.Name) {
				names = append(names, r.Name)
			}
		}
		for _, name := range names {
			f("    %s:\n", str(name))
			for _, r := range m.Baseline {
				if r.Name == name {
					f("      %s: %d\n", str(r.Bin), r.Count)
				}
			}
		}
	}
}

// plain matches a text YAML reads back as the same text unquoted.
var plain = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_./-]*$`)

// str writes a text, quoted unless plain (and not a word YAML reads as a
// boolean or null).
func str(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "yes", "no", "on", "off", "null", "y", "n":
	default:
		if plain.MatchString(s) {
			return s
		}
	}
	q, _ := json.Marshal(s) // a JSON string is a YAML double-quoted one
	return string(q)
}

func strs(s []string) string {
	q := make([]string, len(s))
	for i, x := range s {
		q[i] = str(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func ints[T int | int32](v []T) string {
	q := make([]string, len(v))
	for i, x := range v {
		q[i] = strconv.Itoa(int(x))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// num writes a number in the shortest form that parses back to it.
func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// rate writes a rate with its trailing zeros trimmed (0.000500 → 0.0005).
func rate(r billing.Rate) string {
	return strings.TrimSuffix(strings.TrimRight(r.String(), "0"), ".")
}
