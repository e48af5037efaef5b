// Package policy reads the policy file: the one source of truth for every
// setting risk and product teams may change (billing, collections, notices,
// the scorecard and its scaling, grades, limit rules, monitoring). Parsing is
// strict and reports every problem with its line. The package also holds the
// what-if comparison of two policies on the same book (WhatIf).
//
// default.yaml, embedded, is the shipped policy; its comments are the
// analysts' documentation of every setting. A policy file is either full
// (every section and setting, so that a file cut short is an error) or
// partial, saying `extends: default` at its top level, and then whatever it
// leaves out takes the default. A file above MaxBytes (1 MiB) is refused
// before it is parsed.
package policy

import (
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// Policy is a parsed, validated policy file.
type Policy struct {
	Billing billing.Config
	Scoring scoring.Config
	// Version is the first 12 hex digits of the SHA-256 of the file's
	// bytes: the policy_version and scorecard_version of the outputs.
	Version string
	// Source names the file.
	Source string
}

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the text of the shipped default policy.
func DefaultYAML() []byte { return slices.Clone(defaultYAML) }

// BuiltIn is the Source of the default policy: the copy of default.yaml
// compiled into the program, whatever the file in a checkout says now.
const BuiltIn = "built-in"

// Default returns the built-in default policy (a fresh copy each call).
func Default() *Policy {
	p, err := Parse("default.yaml", defaultYAML)
	if err != nil {
		panic("policy: the embedded default.yaml is invalid: " + err.Error())
	}
	p.Source = BuiltIn
	return p
}

// Load reads and parses the policy file at path. A file above MaxBytes is
// refused before it is read whole.
func Load(path string) (*Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	defer f.Close()
	return read(path, f, func() int64 {
		if st, err := f.Stat(); err == nil {
			return st.Size()
		}
		return -1
	})
}

// Read reads and parses the policy named name (a path or a URL, for its
// messages) of size bytes from r, as Load does a file: one above MaxBytes
// is refused before it is read whole.
func Read(name string, r io.Reader, size int64) (*Policy, error) {
	return read(name, r, func() int64 { return size })
}

// read reads the policy name from r; size gives its size (-1: unknown)
// for the message of one too large.
func read(name string, r io.Reader, size func() int64) (*Policy, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read policy: %w", err)
	}
	if len(data) > MaxBytes {
		n := size()
		if n < int64(len(data)) {
			n = int64(len(data))
		}
		return nil, &ProblemsError{Name: name, Problems: []Problem{tooLarge(n)}}
	}
	return Parse(name, data)
}

func version(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])[:12]
}

// billingPaths maps the key of a billing.ConfigError to the setting's path
// in the file (billing's settings live in three sections).
var billingPaths = map[string]string{
	"time_zone": "billing.time_zone", "due_days": "billing.due_days",
	"installment_options": "billing.installment_options", "apr_cap": "billing.apr_cap",
	"minimum_rate": "billing.minimum_rate", "minimum_floor": "billing.minimum_floor",
	"revolving_daily_rate": "billing.revolving_daily_rate", "waterfall": "billing.waterfall",
	"max_deferral_cycles": "billing.max_deferral_cycles", "history_cycles": "billing.history_cycles",
	"billing_day_change_after_months": "billing.billing_day_change_after_months",
	"refund_window_days":              "billing.refund_window_days",
	"late_window_days":                "billing.late_window_days",
	"penalty_daily_rate":              "collections.penalty_daily_rate", "freeze_dpd": "collections.freeze_dpd",
	"unfreeze_clean_days": "collections.unfreeze_clean_days", "charge_off_dpd": "collections.charge_off_dpd",
	"incident_grace_days": "incidents.grace_days", "incident_memory_days": "incidents.memory_days",
}

// validate runs both configs' checks and the checks that span them, giving
// each problem the line of the setting it names.
func (p *parser) validate(pol *Policy) {
	for _, err := range unjoin(pol.Billing.Validate()) {
		var ce *billing.ConfigError
		if !errors.As(err, &ce) {
			p.errorf(0, "%v", err)
			continue
		}
		path, ok := billingPaths[ce.Key]
		switch {
		case strings.HasPrefix(ce.Key, "offers."):
			path = ce.Key
		case !ok:
			path = "billing." + ce.Key
		}
		p.errorf(p.line(path), "%s: %s", path, ce.Msg)
	}
	sc := &pol.Scoring
	for _, err := range unjoin(sc.Validate()) {
		var ce *scoring.ConfigError
		if errors.As(err, &ce) {
			p.errorf(p.line(ce.Path), "%s: %s", ce.Path, ce.Msg)
		} else {
			p.errorf(0, "%v", err)
		}
	}

	b := &pol.Billing
	grade := func(path, g string) {
		if sc.GradeIndex(g) < 0 {
			p.errorf(p.line(path), "%s: unknown grade %q (not in grades)", path, g)
		}
	}
	for i, g := range b.NoUnfreezeGrades {
		grade(fmt.Sprintf("collections.no_unfreeze_grades[%d]", i), g)
	}
	for _, g := range sortedKeys(b.ReminderDaysByGrade) {
		grade("notices.reminder_days_by_grade."+g, g)
		days("notices.reminder_days_by_grade."+g, b.ReminderDaysByGrade[g], p)
	}
	days("notices.reminder_days", b.ReminderDays, p)
	for _, g := range b.Offers.Pricing {
		grade("offers.pricing."+g.Grade, g.Grade)
	}
	for i, d := range b.OverdueNoticeDPD {
		if d < 1 || d >= b.ChargeOffDPD {
			path := fmt.Sprintf("notices.overdue_notice_dpd[%d]", i)
			p.errorf(p.line(path), "%s: %d: want 1..%d (below charge_off_dpd)", path, d, b.ChargeOffDPD-1)
		}
	}
	for _, k := range sortedKeys(b.Channels) {
		path := "notices.channels." + string(k)
		if !slices.Contains(channelNames, b.Channels[k]) {
			p.errorf(p.line(path), "%s: unknown channel %q (want one of %v)", path, b.Channels[k], channelNames)
		}
	}
	if !slices.Contains(channelNames, b.DefaultChannel) {
		p.errorf(p.line("notices.default_channel"), "notices.default_channel: unknown channel %q (want one of %v)", b.DefaultChannel, channelNames)
	}
	nonNeg := func(path string, v int) {
		if v < 0 {
			p.errorf(p.line(path), "%s: %d: want ≥ 0", path, v)
		}
	}
	nonNeg("billing.refund_window_days", b.RefundWindowDays)
	nonNeg("billing.billing_day_change_after_months", b.BillingDayChangeAfterMonths)
	nonNeg("collections.unfreeze_clean_days", b.UnfreezeCleanDays)

	// The state keeps history_cycles cycles: every window must fit.
	need, by := 0, ""
	for i, ch := range sc.Scorecard.Characteristics {
		if id, ok := scoring.FeatureByName(ch.Feature); ok && id.Info().Window > need {
			need, by = id.Info().Window, fmt.Sprintf("scorecard.characteristics[%d] (%s)", i, ch.Feature)
		}
	}
	for _, w := range []struct {
		n    int
		path string
	}{
		{sc.Limits.UtilizationCycles, "limits.utilization_cycles"},
		{sc.Limits.IncreaseCleanCycles, "limits.increase_clean_cycles"},
		{sc.Limits.DelinquencyCycles, "limits.delinquency_cycles"},
	} {
		if w.n > need {
			need, by = w.n, w.path
		}
	}
	if b.HistoryCycles > 0 && need > b.HistoryCycles {
		p.errorf(p.line("billing.history_cycles"), "billing.history_cycles: %d is shorter than the %d cycles %s needs",
			b.HistoryCycles, need, by)
	}
}

func days(path string, ds []int, p *parser) {
	for i, d := range ds {
		if d < 1 || d > 27 {
			ip := fmt.Sprintf("%s[%d]", path, i)
			p.errorf(p.line(ip), "%s: %d: want 1..27 days before the due date", ip, d)
		}
	}
}

// line returns the line of the setting at path, or of the nearest enclosing
// setting the file has; 0 if none.
func (p *parser) line(path string) int {
	for path != "" {
		if l, ok := p.lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			break
		}
		path = path[:i]
	}
	return 0
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
