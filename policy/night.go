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
// (then as holds the assessment); out receives every row billing emits.
func (p *Policy) Night(a *billing.Account, day billing.Date, ev *billing.Events, out *billing.Output, as *Assessment) (assessed bool, err error) {
	reopens := len(out.Reopens)
	if err := billing.Close(&p.Billing, a, day, ev, out); err != nil {
		return false, err
	}
	if len(out.Reopens) > reopens { // a closed account asked to reopen
		p.reopen(a, day, out.Reopens[reopens].RequestID, out, as)
		return true, nil
	}
	if !a.Status.Live() {
		return false, nil
	}
	p.Assess(a, day, as)
	billing.ApplyLimit(&p.Billing, a, day, as.Decision.Action, as.Decision.NewLimit, out)
	a.Grade, a.Score = as.Result.Grade, as.Result.Score
	return true, nil
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
