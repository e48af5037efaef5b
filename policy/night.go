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
	as.Features = scoring.ComputeFeatures(a, day)
	as.Result = p.Scoring.Score(&as.Features)
	as.Decision = p.Scoring.Decide(a, day, &as.Result)
}

// Night closes one account's business day under the policy: billing
// closes the day's events and statements, then a live account (see
// billing.Status.Live) is assessed, its limit decision applied, and its
// grade and score recorded. It reports whether the account was assessed
// (then as holds the assessment); out receives every row billing emits.
func (p *Policy) Night(a *billing.Account, day billing.Date, ev *billing.Events, out *billing.Output, as *Assessment) (assessed bool, err error) {
	if err := billing.Close(&p.Billing, a, day, ev, out); err != nil {
		return false, err
	}
	if !a.Status.Live() {
		return false, nil
	}
	p.Assess(a, day, as)
	billing.ApplyLimit(&p.Billing, a, day, as.Decision.Action, as.Decision.NewLimit, out)
	a.Grade, a.Score = as.Result.Grade, as.Result.Score
	return true, nil
}
