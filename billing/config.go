package billing

import (
	"errors"
	"fmt"
	"time"
)

// Config holds every billing and collections rule that risk and product teams
// may change. The policy file fills it; DefaultConfig gives the defaults of
// the product spec.
type Config struct {
	// TimeZone is the IANA zone in which events get their business date.
	TimeZone string
	// DueDays is the number of days from statement date to due date.
	DueDays int
	// InstallmentOptions are the allowed numbers of periods.
	InstallmentOptions []int32
	// APRCap is the annualized nominal rate above which a plan is flagged.
	APRCap Rate
	// Currency is the ISO 4217 code of every amount (CNY): the statements'
	// and offers' currency column.
	Currency string
	// Offers is the policy of tomorrow's offer (the offers table).
	Offers Offers
	// MinInstallmentAmount is the smallest purchase that may be split into
	// installments; a smaller one with installments > 1 is a rejected row
	// (installments_not_offered).
	MinInstallmentAmount Money
	// MaxFeeRate is the highest monthly fee rate a purchase may carry: a
	// purchase above it is a rejected row (invalid_fee_rate). It sits well
	// above real prices (0.5–1.2% a month) and guards the book against a
	// mistyped rate; at most 1 (100% a month).
	MaxFeeRate Rate
	// LocalTimestampsZone is the IANA zone in which input timestamps without
	// a time zone (Parquet TIMESTAMP with isAdjustedToUTC=false: Spark's
	// TIMESTAMP_NTZ, pandas naive datetimes, DuckDB TIMESTAMP) were
	// written; they are read as wall time there. Empty refuses such files
	// with a schema error.
	LocalTimestampsZone string
	// MinimumRate is the share of other principal the minimum payment asks for.
	MinimumRate Rate
	// MinimumFloor is the lowest minimum payment (never above the new balance).
	MinimumFloor Money
	// RevolvingDailyRate is the daily fee on statement principal left unpaid
	// after its due date.
	RevolvingDailyRate Rate
	// PenaltyDailyRate is the daily penalty (违约金) on the past-due amount.
	PenaltyDailyRate Rate
	// Waterfall is the allocation order of a payment within a statement.
	Waterfall []Component
	// PayoffChargesFees charges a plan's remaining fees on early payoff
	// (they are waived when false).
	PayoffChargesFees bool
	// MaxDeferralCycles caps the cycles of deferral over an account's life.
	MaxDeferralCycles int32
	// BillingDayChangeAfterMonths is how long after activation the billing day
	// may change.
	BillingDayChangeAfterMonths int
	// RefundWindowDays is how long a purchase can be refunded.
	RefundWindowDays int
	// HistoryCycles is how many closed cycles the state keeps for scoring.
	HistoryCycles int
	// LateWindowDays is how many days after it happened an event is still
	// applied: the run that reads the partition it arrived in (the day it
	// arrived) applies it with its own value date when it arrived at most
	// this many days after it; later ones are rejected rows (too_late).
	// The state remembers the ids and the daily accruals of this window.
	LateWindowDays int
	// FreezeDPD freezes an account whose days past due exceed it.
	FreezeDPD int32
	// UnfreezeCleanDays is the clean period before a frozen account thaws.
	UnfreezeCleanDays int
	// NoUnfreezeGrades are grades that stay frozen after the clean period.
	NoUnfreezeGrades []string
	// IncidentGraceDays is how long after a platform incident's window the
	// statements it moves are due (and up to which due dates it moves them).
	IncidentGraceDays int
	// IncidentMemoryDays is how long the state remembers failed repayments
	// and daily accruals for incidents: an incident recorded more than this
	// many days after a failure no longer corrects it. 0 keeps nothing.
	IncidentMemoryDays int
	// ChargeOffDPD charges off and closes an account at this many days past due.
	ChargeOffDPD int32
	// ReminderDays are the days before the due date on which an unpaid
	// statement is reminded; ReminderDaysByGrade overrides them per grade.
	ReminderDays        []int
	ReminderDaysByGrade map[string][]int
	// OverdueNoticeDPD are the days past due that send an overdue notice.
	OverdueNoticeDPD []int32
	// Channels names the channel (sms, push, email) per notice kind;
	// DefaultChannel serves the kinds it does not name.
	Channels       map[NoticeKind]string
	DefaultChannel string

	loc      *time.Location
	localLoc *time.Location
}

// DefaultConfig returns the product spec's defaults.
func DefaultConfig() Config {
	return Config{
		TimeZone:             "Asia/Shanghai",
		DueDays:              9,
		InstallmentOptions:   []int32{1, 3, 6, 12, 24},
		APRCap:               240000,
		MaxFeeRate:           50000,
		MinInstallmentAmount: 10000,
		Currency:             "CNY",
		Offers: Offers{Pricing: []GradePricing{
			{Grade: "A", FeeRates: map[int32]Rate{12: 6000, 24: 6500}, InterestFree: []int32{3, 6}},
			{Grade: "B", FeeRates: map[int32]Rate{6: 6500, 12: 7000, 24: 7500}, InterestFree: []int32{3}},
			{Grade: "C", FeeRates: map[int32]Rate{3: 7500, 6: 8000, 12: 8500}},
			{Grade: "D", FeeRates: map[int32]Rate{3: 9000, 6: 9500}},
			{Grade: "E"},
		}},
		MinimumRate:                 100000,
		MinimumFloor:                1000,
		RevolvingDailyRate:          500,
		PenaltyDailyRate:            500,
		Waterfall:                   []Component{Penalty, RevolvingFee, InstallmentFee, InstallmentPrincipal, PurchasePrincipal},
		MaxDeferralCycles:           3,
		BillingDayChangeAfterMonths: 3,
		RefundWindowDays:            90,
		HistoryCycles:               12,
		LateWindowDays:              7,
		FreezeDPD:                   30,
		UnfreezeCleanDays:           90,
		NoUnfreezeGrades:            []string{"E"},
		ChargeOffDPD:                180,
		IncidentGraceDays:           3,
		IncidentMemoryDays:          30,
		ReminderDays:                []int{5, 1},
		ReminderDaysByGrade:         map[string][]int{"D": {7, 5, 3, 1}, "E": {7, 5, 3, 2, 1}},
		OverdueNoticeDPD:            []int32{1, 3, 7, 15, 30, 60, 90},
		Channels: map[NoticeKind]string{
			NoticeStatement: "push", NoticeDueReminder: "push", NoticePaymentMissed: "sms",
			NoticeOverdue: "sms", NoticeDeductFailed: "sms", NoticeLimitChanged: "push",
			NoticeFrozen: "sms", NoticeUnfrozen: "push", NoticeClosed: "email", NoticeChargedOff: "email",
		},
		DefaultChannel: "push",
	}
}

// Location returns the time zone of business dates (valid after Validate).
func (c *Config) Location() *time.Location {
	if c.loc == nil {
		if loc, err := time.LoadLocation(c.TimeZone); err == nil {
			c.loc = loc
		} else {
			c.loc = time.UTC
		}
	}
	return c.loc
}

// LocalTimestampsLocation returns the zone of input timestamps without a
// time zone, nil when LocalTimestampsZone is empty (valid after Validate).
func (c *Config) LocalTimestampsLocation() *time.Location {
	if c.LocalTimestampsZone == "" {
		return nil
	}
	if c.localLoc == nil {
		if loc, err := time.LoadLocation(c.LocalTimestampsZone); err == nil {
			c.localLoc = loc
		}
	}
	return c.localLoc
}

// Validate checks every setting and returns all problems joined, each a
// *ConfigError naming the setting's key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, &ConfigError{Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	loc, err := time.LoadLocation(c.TimeZone)
	if err != nil || c.TimeZone == "" {
		bad("time_zone", "%q: unknown zone", c.TimeZone)
	} else {
		c.loc = loc
	}
	if c.LocalTimestampsZone != "" {
		if loc, err := time.LoadLocation(c.LocalTimestampsZone); err != nil || c.LocalTimestampsZone == "Local" {
			bad("local_timestamps_zone", "%q: unknown zone (want an IANA zone such as Asia/Shanghai)", c.LocalTimestampsZone)
		} else {
			c.localLoc = loc
		}
	}
	if c.DueDays < 1 || c.DueDays > 27 {
		bad("due_days", "%d: want 1..27", c.DueDays)
	}
	for _, n := range c.InstallmentOptions {
		if n < 1 || n > 60 {
			bad("installment_options", "%d periods, want 1..60", n)
		}
	}
	rate := func(name string, r Rate, max Rate) {
		if r < 0 || r > max {
			bad(name, "%s: want 0..%s", r, max)
		}
	}
	if c.MinInstallmentAmount < 1 || !c.MinInstallmentAmount.InRange() {
		bad("min_installment_amount", "%s: want at least 0.01", c.MinInstallmentAmount)
	}
	rate("apr_cap", c.APRCap, 10*RateScale)
	c.Offers.validate(c, bad)
	rate("max_fee_rate", c.MaxFeeRate, RateScale)
	rate("minimum_rate", c.MinimumRate, RateScale)
	rate("revolving_daily_rate", c.RevolvingDailyRate, RateScale/100)
	rate("penalty_daily_rate", c.PenaltyDailyRate, RateScale/100)
	if c.MinimumFloor < 0 {
		bad("minimum_floor", "%s: want ≥ 0", c.MinimumFloor)
	}
	if len(c.Waterfall) != int(NumComponents) {
		bad("waterfall", "want each of %v once", componentNames)
	} else {
		var seen [NumComponents]bool
		for _, k := range c.Waterfall {
			if k >= NumComponents || seen[k] {
				bad("waterfall", "want each of %v once", componentNames)
				break
			}
			seen[k] = true
		}
	}
	if c.MaxDeferralCycles < 0 {
		bad("max_deferral_cycles", "%d: want ≥ 0", c.MaxDeferralCycles)
	}
	if c.HistoryCycles < 1 || c.HistoryCycles > 36 {
		bad("history_cycles", "%d: want 1..36", c.HistoryCycles)
	}
	if c.LateWindowDays < 1 || c.LateWindowDays > MaxLateWindowDays {
		bad("late_window_days", "%d: want 1..%d", c.LateWindowDays, MaxLateWindowDays)
	}
	if c.FreezeDPD < 1 {
		bad("freeze_dpd", "%d: want ≥ 1", c.FreezeDPD)
	}
	if c.IncidentGraceDays < 0 || c.IncidentGraceDays > 60 {
		bad("incident_grace_days", "%d: want 0..60", c.IncidentGraceDays)
	}
	if c.IncidentMemoryDays < 0 || c.IncidentMemoryDays > 366 {
		bad("incident_memory_days", "%d: want 0..366", c.IncidentMemoryDays)
	}
	if c.ChargeOffDPD <= c.FreezeDPD {
		bad("charge_off_dpd", "%d: want above freeze_dpd %d", c.ChargeOffDPD, c.FreezeDPD)
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.Join(errs...)
}

// ComponentByName returns the component named s ("penalty", "purchase" …).
func ComponentByName(s string) (Component, bool) {
	for i, n := range componentNames {
		if n == s {
			return Component(i), true
		}
	}
	return 0, false
}
