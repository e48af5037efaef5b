package policy

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// WhatIf applies two policies to the same book and tallies what the new one
// would change: the grade migration matrix, the limit actions under each,
// and the accounts whose outcome differs. Add each account of the state;
// WhatIfs over parts of the book Merge. It is pure: no I/O.
type WhatIf struct {
	old, new *Policy
	accounts int64
	cells    [][]cell // [old grade][new grade]
	actions  [2][numActions]actionCell
	changes  [numChanges]changeCell
}

type cell struct {
	accounts int64
	exposure billing.Money
}

type actionCell struct {
	accounts int64
	change   billing.Money
	exposure billing.Money
}

type changeCell struct {
	accounts int64
	exposure billing.Money
	delta    billing.Money
}

var actionOrder = [...]billing.LimitAction{
	billing.ActionActivate, billing.ActionDecline, billing.ActionIncrease,
	billing.ActionKeep, billing.ActionDecrease, billing.ActionFreeze,
}

const numActions = len(actionOrder)

// Changes tallied by WhatIf.
const (
	ChangeNewlyFrozen    = "newly_frozen"     // freeze under the new policy only
	ChangeNoLongerFrozen = "no_longer_frozen" // freeze under the old policy only
	ChangeNewlyActivated = "newly_activated"  // pending, activated under the new policy only
	ChangeNewlyDeclined  = "newly_declined"   // pending, declined under the new policy only
	ChangeGradeUp        = "grade_up"         // a better grade (by position) under the new policy
	ChangeGradeDown      = "grade_down"       // a worse grade
	ChangeLimitHigher    = "limit_higher"     // a higher resulting limit
	ChangeLimitLower     = "limit_lower"      // a lower resulting limit
)

var changeOrder = [...]string{
	ChangeNewlyFrozen, ChangeNoLongerFrozen, ChangeNewlyActivated, ChangeNewlyDeclined,
	ChangeGradeUp, ChangeGradeDown, ChangeLimitHigher, ChangeLimitLower,
}

const numChanges = len(changeOrder)

// NewWhatIf compares policy new against old.
func NewWhatIf(old, new *Policy) *WhatIf {
	w := &WhatIf{old: old, new: new}
	w.cells = make([][]cell, len(old.Scoring.Grades))
	for i := range w.cells {
		w.cells[i] = make([]cell, len(new.Scoring.Grades))
	}
	return w
}

// Add scores and decides one account on day under both policies, each
// through its Assess, as a night would; the account is only read. Closed
// and declined accounts are not scored and are skipped.
func (w *WhatIf) Add(a *billing.Account, day billing.Date) {
	if !a.Status.Live() {
		return
	}
	var ao, an Assessment
	w.old.Assess(a, day, &ao)
	w.new.Assess(a, day, &an)
	ro, rn, do, dn := ao.Result, an.Result, ao.Decision, an.Decision
	exp := a.Exposure()

	w.accounts++
	gi, gj := w.old.Scoring.GradeIndex(ro.Grade), w.new.Scoring.GradeIndex(rn.Grade)
	c := &w.cells[gi][gj]
	c.accounts++
	c.exposure += exp

	for k, d := range [2]*scoring.Decision{&do, &dn} {
		ac := &w.actions[k][slices.Index(actionOrder[:], d.Action)]
		ac.accounts++
		ac.change += d.NewLimit - d.OldLimit
		ac.exposure += exp
	}

	delta := dn.NewLimit - do.NewLimit
	tally := func(i int, ok bool) {
		if ok {
			ch := &w.changes[i]
			ch.accounts++
			ch.exposure += exp
			ch.delta += delta
		}
	}
	oldFreeze, newFreeze := do.Action == billing.ActionFreeze, dn.Action == billing.ActionFreeze
	tally(0, newFreeze && !oldFreeze)
	tally(1, oldFreeze && !newFreeze)
	tally(2, dn.Action == billing.ActionActivate && do.Action != billing.ActionActivate)
	tally(3, dn.Action == billing.ActionDecline && do.Action != billing.ActionDecline)
	tally(4, gj < gi)
	tally(5, gj > gi)
	tally(6, delta > 0)
	tally(7, delta < 0)
}

// Merge adds o's tallies (same two policies) to w.
func (w *WhatIf) Merge(o *WhatIf) {
	w.accounts += o.accounts
	for i := range w.cells {
		for j := range w.cells[i] {
			w.cells[i][j].accounts += o.cells[i][j].accounts
			w.cells[i][j].exposure += o.cells[i][j].exposure
		}
	}
	for k := range w.actions {
		for i := range w.actions[k] {
			a, b := &w.actions[k][i], o.actions[k][i]
			a.accounts += b.accounts
			a.change += b.change
			a.exposure += b.exposure
		}
	}
	for i := range w.changes {
		c, d := &w.changes[i], o.changes[i]
		c.accounts += d.accounts
		c.exposure += d.exposure
		c.delta += d.delta
	}
}

// MigrationRow is one cell of the grade migration matrix: the accounts
// graded OldGrade by the old policy and NewGrade by the new one.
type MigrationRow struct {
	OldGrade string        `parquet:"old_grade"`
	NewGrade string        `parquet:"new_grade"`
	Accounts int64         `parquet:"accounts"`
	Exposure billing.Money `parquet:"exposure,decimal(2:18)"` // what they owe, incl. unbilled installments
}

// ActionRow counts one limit action under each policy. LimitChange is
// Σ (new limit − current limit) of those decisions (an activation's whole
// initial limit, a cut's negative amount); Exposure is what the accounts owe.
type ActionRow struct {
	Action         string        `parquet:"action"`
	OldAccounts    int64         `parquet:"old_accounts"`
	NewAccounts    int64         `parquet:"new_accounts"`
	OldLimitChange billing.Money `parquet:"old_limit_change,decimal(2:18)"`
	NewLimitChange billing.Money `parquet:"new_limit_change,decimal(2:18)"`
	OldExposure    billing.Money `parquet:"old_exposure,decimal(2:18)"`
	NewExposure    billing.Money `parquet:"new_exposure,decimal(2:18)"`
}

// ChangeRow counts the accounts whose outcome the new policy changes (see
// the Change constants). LimitDelta is Σ (limit under the new policy − limit
// under the old).
type ChangeRow struct {
	Change     string        `parquet:"change"`
	Accounts   int64         `parquet:"accounts"`
	Exposure   billing.Money `parquet:"exposure,decimal(2:18)"`
	LimitDelta billing.Money `parquet:"limit_delta,decimal(2:18)"`
}

// Report is the outcome of a what-if.
type Report struct {
	OldVersion, NewVersion string
	OldSource, NewSource   string
	Accounts               int64
	OldGrades, NewGrades   []string
	// Migration has every non-empty cell, by old grade then new grade.
	Migration []MigrationRow
	// Actions has every action, in a fixed order.
	Actions []ActionRow
	// Changes has every change kind, in a fixed order.
	Changes []ChangeRow
}

// Report returns the tallies so far.
func (w *WhatIf) Report() Report {
	r := Report{
		OldVersion: w.old.Version, NewVersion: w.new.Version,
		OldSource: w.old.Source, NewSource: w.new.Source,
		Accounts: w.accounts,
	}
	for _, g := range w.old.Scoring.Grades {
		r.OldGrades = append(r.OldGrades, g.Name)
	}
	for _, g := range w.new.Scoring.Grades {
		r.NewGrades = append(r.NewGrades, g.Name)
	}
	for i := range w.cells {
		for j, c := range w.cells[i] {
			if c.accounts > 0 {
				r.Migration = append(r.Migration, MigrationRow{
					OldGrade: r.OldGrades[i], NewGrade: r.NewGrades[j], Accounts: c.accounts, Exposure: c.exposure,
				})
			}
		}
	}
	for i, a := range actionOrder {
		o, n := w.actions[0][i], w.actions[1][i]
		r.Actions = append(r.Actions, ActionRow{
			Action: string(a), OldAccounts: o.accounts, NewAccounts: n.accounts,
			OldLimitChange: o.change, NewLimitChange: n.change, OldExposure: o.exposure, NewExposure: n.exposure,
		})
	}
	for i, name := range changeOrder {
		c := w.changes[i]
		r.Changes = append(r.Changes, ChangeRow{Change: name, Accounts: c.accounts, Exposure: c.exposure, LimitDelta: c.delta})
	}
	return r
}

// Changed reports whether the new policy changes any account's grade
// (by name), action or limit.
func (r *Report) Changed() bool {
	for _, m := range r.Migration {
		if m.OldGrade != m.NewGrade {
			return true
		}
	}
	for _, a := range r.Actions {
		if a.OldAccounts != a.NewAccounts || a.OldLimitChange != a.NewLimitChange {
			return true
		}
	}
	for _, c := range r.Changes {
		if c.Accounts != 0 {
			return true
		}
	}
	return false
}

// WriteText writes the report for people: the migration matrix, the actions
// under each policy and the changes.
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "policy what-if: %d accounts scored\n  old %s (%s)\n  new %s (%s)\n",
		r.Accounts, r.OldVersion, r.OldSource, r.NewVersion, r.NewSource)
	if !r.Changed() {
		b.WriteString("no change: every account keeps its grade, action and limit\n")
	}

	b.WriteString("\ngrade migration (rows: old grade, columns: new grade; accounts)\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "old\\new\t%s\ttotal\t\n", strings.Join(r.NewGrades, "\t"))
	count := map[[2]string]int64{}
	for _, m := range r.Migration {
		count[[2]string{m.OldGrade, m.NewGrade}] = m.Accounts
	}
	for _, og := range r.OldGrades {
		var total int64
		fmt.Fprintf(tw, "%s\t", og)
		for _, ng := range r.NewGrades {
			n := count[[2]string{og, ng}]
			total += n
			fmt.Fprintf(tw, "%d\t", n)
		}
		fmt.Fprintf(tw, "%d\t\n", total)
	}
	tw.Flush()

	b.WriteString("\nlimit actions\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "action\told accounts\tnew accounts\told limit change\tnew limit change\t\n")
	for _, a := range r.Actions {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t\n", a.Action, a.OldAccounts, a.NewAccounts, a.OldLimitChange, a.NewLimitChange)
	}
	tw.Flush()

	b.WriteString("\nchanges under the new policy\n")
	tw = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "change\taccounts\texposure\tlimit delta\t\n")
	for _, c := range r.Changes {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t\n", c.Change, c.Accounts, c.Exposure, c.LimitDelta)
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}
