package policy

import (
	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// Assessment is what the policy makes of one live account on a day: its
// features, its score and grade, and the limit decision they lead to.
type Assessment struct {
	Features scoring.Features
	Result   scoring.Result
	Decision scoring.Decision
	// CycleFeatures says that tonight's window features are to be written
	// (a cycle_features row, scoring.NewCycleFeaturesRow): no earlier row
	// holds them. The account's FeaturesOn is then tonight.
	CycleFeatures bool
}

// Assess scores account a as of day and decides its limit. It only reads
// the account: the night applies the decision, a what-if compares two.
func (p *Policy) Assess(a *billing.Account, day billing.Date, as *Assessment) {
	p.Scoring.Assess(a, day, &as.Features, &as.Result, &as.Decision)
}

// Night closes one account's business day under the policy: billing
// closes the day's events and statements, then a live account (see
// billing.Status.Live) is assessed, its limit decision applied, and its
// grade and score recorded. It reports whether the account was assessed
// (then as holds the assessment, and as.CycleFeatures whether its window
// features are written tonight); out receives every row billing emits. It
// keeps the account's FeaturesOn: 0 once its history changes, tonight when
// it is assessed without one.
func (p *Policy) Night(a *billing.Account, day billing.Date, ev *billing.Events, out *billing.Output, as *Assessment) (assessed bool, err error) {
	reopens := len(out.Reopens)
	if err := billing.Close(&p.Billing, a, day, ev, out); err != nil {
		return false, err
	}
	if a.HistoryChanged { // the window features may have moved: no row holds them
		a.FeaturesOn, a.HistoryChanged = 0, false
	}
	if len(out.Reopens) > reopens { // a closed account asked to reopen
		p.reopen(a, day, out.Reopens[reopens].RequestID, out, as)
		as.features(a, day)
		return true, nil
	}
	if !a.Status.Live() {
		return false, nil
	}
	p.Assess(a, day, as)
	billing.ApplyLimit(&p.Billing, a, day, as.Decision.Action, as.Decision.NewLimit, out)
	a.Grade, a.Score = as.Result.Grade, as.Result.Score
	as.features(a, day)
	return true, nil
}

// features decides whether the scored account's window features are
// written tonight: when no earlier cycle_features row is known to hold
// them (FeaturesOn 0: the account's first scoring, its history changed
// since, or a state from before the table), or the row that does is
// scoring.CycleFeaturesMaxAge nights old, so that the scores of a night
// never name one older (what a retention of the last nights must keep).
func (as *Assessment) features(a *billing.Account, day billing.Date) {
	as.CycleFeatures = a.FeaturesOn == 0 || day-a.FeaturesOn >= scoring.CycleFeaturesMaxAge
	if as.CycleFeatures {
		a.FeaturesOn = day
	}
}

// reopen scores closed account a tonight and decides its reopen_account
// request requestID (scoring.Config.DecideReopen), then reopens it or
// declines the request.
func (p *Policy) reopen(a *billing.Account, day billing.Date, requestID string, out *billing.Output, as *Assessment) {
	as.Features = scoring.ComputeFeatures(a, day)
	as.Result = p.Scoring.Score(&as.Features)
	as.Decision = p.Scoring.DecideReopen(a, day, &as.Result)
	if as.Decision.Action == billing.ActionReopen {
		billing.Reopen(&p.Billing, a, day, as.Decision.NewLimit, out)
	} else {
		billing.DeclineReopen(&p.Billing, a, day, requestID, as.Decision.Text(), out)
	}
	a.Grade, a.Score = as.Result.Grade, as.Result.Score
}
