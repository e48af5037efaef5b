package scoring

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// reasonCase is a decision whose reasons, as codes and as sentences, are
// known.
type reasonCase struct {
	name   string
	decide func() Decision
	reason string // the code that settles the action
	codes  string // every code, ';'-joined
	text   string // every sentence, "; "-joined
}

// reasonCases are decisions that, together, give every limit reason.
func reasonCases() []reasonCase {
	c := mustDefault()
	decide := func(grade string, a *billing.Account, edit func(*Config)) func() Decision {
		return func() Decision {
			cfg := *c
			if edit != nil {
				edit(&cfg)
				if err := cfg.Validate(); err != nil {
					panic(err)
				}
			}
			r := Result{Score: 600, Grade: grade, Reasons: [NumReasons]string{"SHORT_TENURE", "BUREAU_SCORE"}}
			return cfg.Decide(a, asOf, &r)
		}
	}
	reopen := func(grade string, edit func(*billing.Account), limits func(*Limits)) func() Decision {
		return func() Decision {
			cfg := *c
			if limits != nil {
				cfg.Limits.Grades = slices.Clone(cfg.Limits.Grades)
				limits(&cfg.Limits)
				if err := cfg.Validate(); err != nil {
					panic(err)
				}
			}
			a := &billing.Account{ID: 7, Status: billing.Closed, Limit: yuanM(5000),
				ClosedOn: billing.NewDate(2025, time.May, 1), ClosedBy: billing.ClosedByCustomer,
				LastPastDue: billing.NewDate(2024, time.March, 3)}
			if edit != nil {
				edit(a)
			}
			r := Result{Score: 600, Grade: grade, Reasons: [NumReasons]string{"BUREAU_SCORE"}}
			return cfg.DecideReopen(a, asOf, &r)
		}
	}
	recent := asOf - 10
	busy := func() *billing.Account {
		return account(repeat(12, cyc{spend: 6000, billed: 6000, paid: 6000, balance: 6000, limit: 10000, min: 600})...)
	}
	with := func(a *billing.Account, edit func(*billing.Account)) *billing.Account { edit(a); return a }
	owing := func(a *billing.Account, owed float64) *billing.Account {
		a.Statements = []billing.Statement{{Owed: billing.Components{billing.PurchasePrincipal: yuanM(owed)}}}
		return a
	}
	return []reasonCase{
		{"activated", decide("B", &billing.Account{Status: billing.Pending}, nil),
			"INITIAL_LIMIT", "INITIAL_LIMIT", "initial limit 5000.00 for grade B"},
		{"declined by grade", decide("E", &billing.Account{Status: billing.Pending}, nil),
			"GRADE_DECLINED", "GRADE_DECLINED;SCORE_REASONS", "grade E is declined by policy; score reasons SHORT_TENURE,BUREAU_SCORE"},
		{"declined for fraud", decide("A", &billing.Account{Status: billing.Pending, Fraud: true}, nil),
			"FRAUD_FLAG", "FRAUD_FLAG", "fraud flag"},
		{"frozen", decide("A", with(transactor(), func(a *billing.Account) { a.Status, a.FrozenOn = billing.Frozen, recent }), nil),
			"FROZEN", "FROZEN", "account frozen since 2025-06-05"},
		{"closed", decide("A", with(transactor(), func(a *billing.Account) { a.Status = billing.Closed }), nil),
			"NOT_LIVE", "NOT_LIVE", "not scored: the account is not pending, active nor frozen"},
		{"past freeze_dpd", decide("E", defaulter(), nil),
			"PAST_FREEZE_DPD", "PAST_FREEZE_DPD", "66 days past due > freeze_dpd 30"},
		{"grade cut", decide("E", transactor(), nil),
			"GRADE_CUT", "GRADE_CUT;SCORE_REASONS", "grade E cuts 30%; score reasons SHORT_TENURE,BUREAU_SCORE"},
		{"recent delinquency", decide("C", latePayer(), nil),
			"RECENT_DELINQUENCY", "RECENT_DELINQUENCY;SCORE_REASONS",
			"recent delinquency: 9 days past due within 3 cycles, cut 20%; score reasons SHORT_TENURE,BUREAU_SCORE"},
		{"grade cut above the delinquency cut", decide("E", latePayer(), nil),
			"GRADE_CUT", "GRADE_CUT;RECENT_DELINQUENCY;SCORE_REASONS",
			"grade E cuts 30%; recent delinquency: 9 days past due within 3 cycles, cut 20%; score reasons SHORT_TENURE,BUREAU_SCORE"},
		{"cut deferred", decide("E", with(transactor(), func(a *billing.Account) { a.LimitChangedOn = recent }), nil),
			"CUT_COOLING", "GRADE_CUT;CUT_COOLING", "grade E cuts 30%; cut deferred: last change 2025-06-05, 10 days < decrease_cooling_days 30"},
		{"cut below the balance", decide("E", owing(transactor(), 9000), func(c *Config) { c.Limits.CutBelowBalance = true }),
			"GRADE_CUT", "GRADE_CUT;CUT_BELOW_BALANCE;SCORE_REASONS",
			"grade E cuts 30%; new limit 7000.00 is below the balance 9000.00; score reasons SHORT_TENURE,BUREAU_SCORE"},
		{"cut at the balance", decide("E", owing(transactor(), 8000.55), nil),
			"GRADE_CUT", "GRADE_CUT;CUT_AT_BALANCE;SCORE_REASONS",
			"grade E cuts 30%; cut stops at the balance 8000.55; score reasons SHORT_TENURE,BUREAU_SCORE"},
		{"no cut at a full balance", decide("E", owing(transactor(), 10000), nil),
			"NO_CUT_FULL_BALANCE", "GRADE_CUT;CUT_AT_BALANCE;NO_CUT_FULL_BALANCE",
			"grade E cuts 30%; cut stops at the balance 10000.00; no cut: the balance uses the whole limit"},
		{"grade without increase", decide("D", busy(), nil),
			"GRADE_NO_INCREASE", "GRADE_NO_INCREASE", "grade D gets no increase"},
		{"increase cooling", decide("A", with(busy(), func(a *billing.Account) { a.LimitChangedOn = recent }), nil),
			"INCREASE_COOLING", "INCREASE_COOLING;UTILIZATION_MET",
			"no increase: last change 2025-06-05, 10 days < increase_cooling_days 90; utilization 0.60 ≥ 0.5 over 3 cycles"},
		{"no utilization history", decide("A", account(), nil),
			"NO_UTILIZATION_HISTORY", "NO_UTILIZATION_HISTORY", "no increase: no utilization history"},
		{"low utilization", decide("A", transactor(), nil),
			"LOW_UTILIZATION", "LOW_UTILIZATION", "no increase: utilization 0.20 < 0.5 over 3 cycles"},
		{"every increase condition fails", decide("A", with(account(repeat(12, transactorCycle)...), func(a *billing.Account) {
			a.LimitChangedOn, a.History[7].MaxDPD = recent, 3
		}), nil),
			"INCREASE_COOLING", "INCREASE_COOLING;LOW_UTILIZATION;RECENT_PAST_DUE",
			"no increase: last change 2025-06-05, 10 days < increase_cooling_days 90; no increase: utilization 0.20 < 0.5 over 3 cycles; " +
				"no increase: 3 days past due within 6 cycles"},
		{"recent past due", decide("A", with(busy(), func(a *billing.Account) { a.History[7].MaxDPD = 3 }), nil),
			"RECENT_PAST_DUE", "UTILIZATION_MET;RECENT_PAST_DUE", "utilization 0.60 ≥ 0.5 over 3 cycles; no increase: 3 days past due within 6 cycles"},
		{"at the cap", decide("C", with(busy(), func(a *billing.Account) { a.Limit = yuanM(15000) }), nil),
			"AT_LIMIT_CAP", "UTILIZATION_MET;AT_LIMIT_CAP", "utilization 0.60 ≥ 0.5 over 3 cycles; no increase: limit 15000.00 at the cap 15000.00"},
		{"increase", decide("A", busy(), nil),
			"INCREASE", "UTILIZATION_MET;INCREASE", "utilization 0.60 ≥ 0.5 over 3 cycles; increase 20%"},
		{"increase capped by the limit cap", decide("C", with(busy(), func(a *billing.Account) { a.Limit = yuanM(14000) }), nil),
			"INCREASE_LIMIT_CAPPED", "UTILIZATION_MET;INCREASE_LIMIT_CAPPED",
			"utilization 0.60 ≥ 0.5 over 3 cycles; increase 10%, capped at the limit cap 15000.00"},
		{"increase capped by max_increase", decide("A", busy(), func(c *Config) { c.Limits.MaxIncrease = yuanM(1050) }),
			"INCREASE_MAX_CAPPED", "UTILIZATION_MET;INCREASE_MAX_CAPPED",
			"utilization 0.60 ≥ 0.5 over 3 cycles; increase 20%, capped at max_increase 1050.00"},
		{"reopened", reopen("A", nil, nil), "INITIAL_LIMIT", "INITIAL_LIMIT", "initial limit 8000.00 for grade A"},
		{"reopen after a charge-off", reopen("A", func(a *billing.Account) { a.ClosedBy = billing.ClosedByChargeOff }, nil),
			"CLOSED_BY_CHARGE_OFF", "CLOSED_BY_CHARGE_OFF", "closed by charge-off"},
		{"reopen after fraud", reopen("A", func(a *billing.Account) { a.ClosedBy, a.Fraud = billing.ClosedByFraud, true }, nil),
			"CLOSED_FOR_FRAUD", "CLOSED_FOR_FRAUD;FRAUD_FLAG", "closed for fraud; fraud flag"},
		{"reopen, closure unknown", reopen("A", func(a *billing.Account) { a.ClosedBy, a.ClosedOn = "", 0 }, nil),
			"CLOSURE_REASON_UNKNOWN", "CLOSURE_REASON_UNKNOWN;CLOSURE_DATE_UNKNOWN", "closure reason unknown; closure date unknown"},
		{"reopen too soon and past due", reopen("A", func(a *billing.Account) {
			a.ClosedOn, a.LastPastDue = asOf-29, billing.NewDate(2025, time.January, 3)
		}, nil),
			"REOPEN_WAIT", "REOPEN_WAIT;REOPEN_PAST_DUE",
			"closed on 2025-05-17, 29 days < reopen.wait_days 30; past due on 2025-01-03, within reopen.lookback_months 12 before closing"},
		{"reopen, grade not listed", reopen("E", nil, nil),
			"GRADE_NOT_REOPENED", "GRADE_NOT_REOPENED;SCORE_REASONS", "grade E does not reopen (reopen.grades); score reasons BUREAU_SCORE"},
		{"reopen, grade without initial limit", reopen("A", nil, func(l *Limits) { l.Grades[0].Decline, l.Grades[0].Initial = true, 0 }),
			"GRADE_NO_INITIAL_LIMIT", "GRADE_NO_INITIAL_LIMIT;SCORE_REASONS", "grade A grants no initial limit; score reasons BUREAU_SCORE"},
	}
}

// Every reason is given by some decision, with the sentence its template
// makes of the decision's figures, and the limit_decisions row gives the
// decision back: the sentences derive from the row alone.
func TestLimitReasons(t *testing.T) {
	given := map[LimitReason]bool{}
	for _, tc := range reasonCases() {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.decide()
			if d.Reason.String() != tc.reason || d.Codes() != tc.codes || d.Text() != tc.text {
				t.Errorf("decision %s:\n reason %s, codes %s\n text %q\nwant %s, %s\n      %q", d.Action, d.Reason, d.Codes(), d.Text(), tc.reason, tc.codes, tc.text)
			}
			for _, r := range d.Reasons {
				given[r] = true
			}
			row := NewDecisionRow(&billing.Account{ID: 42}, asOf, &d, "v1", new(Nullables))
			if row.ReasonCode != tc.reason || row.Reasons != tc.codes {
				t.Errorf("row reason_code %q reasons %q, want %q %q", row.ReasonCode, row.Reasons, tc.reason, tc.codes)
			}
			back, err := row.Decision()
			if err != nil {
				t.Fatalf("row.Decision() = %v", err)
			}
			if back.Text() != tc.text || back.Reason != d.Reason || back.Reasons != d.Reasons || back.Action != d.Action {
				t.Errorf("row.Decision() says %s %q (%s), want %s %q (%s)", back.Action, back.Text(), back.Reason, d.Action, tc.text, d.Reason)
			}
			// A figure no reason reads stays NULL.
			fs := d.figures()
			for _, c := range []struct {
				fig  figure
				null bool
			}{
				{figDaysPastDue, row.DaysPastDue == nil}, {figUtilization, row.Utilization == nil},
				{figUtilizationCycles, row.UtilizationCycles == nil}, {figBalance, row.Balance == nil},
				{figSince, row.Since == nil}, {figPastDueOn, row.PastDueOn == nil}, {figScoreReasons, row.ScoreReasons == nil},
				{figThreshold, row.Threshold == nil}, {figLookback, row.Lookback == nil},
				{figMinUtilization, row.MinUtilization == nil}, {figRate, row.Rate == nil},
				{figDelinquencyCut, row.DelinquencyCut == nil}, {figCap, row.Cap == nil},
			} {
				if c.null == (fs&c.fig != 0) {
					t.Errorf("figure %b: null %v, want null %v", c.fig, c.null, fs&c.fig == 0)
				}
			}
		})
	}
	for _, r := range LimitReasons() {
		if !given[r] {
			t.Errorf("no decision gives %s", r)
		}
	}
}

// Each reason's template names only parameters it has: the decision's and
// the figures it reads.
func TestLimitReasonTemplates(t *testing.T) {
	names := map[string]figure{
		"days_past_due": figDaysPastDue, "utilization": figUtilization, "utilization_cycles": figUtilizationCycles,
		"balance": figBalance, "since": figSince, "past_due_on": figPastDueOn, "score_reasons": figScoreReasons,
		"threshold": figThreshold, "lookback": figLookback, "min_utilization": figMinUtilization, "rate": figRate,
		"delinquency_cut": figDelinquencyCut, "cap": figCap,
	}
	seen := map[string]bool{}
	for _, r := range LimitReasons() {
		code := r.String()
		if code == "" || strings.ToUpper(code) != code || strings.ContainsAny(code, " ;,") || seen[code] {
			t.Errorf("reason %d: code %q, want a new UPPER_SNAKE code", r, code)
		}
		seen[code] = true
		if back, ok := ParseLimitReason(code); !ok || back != r {
			t.Errorf("ParseLimitReason(%q) = %v, %v", code, back, ok)
		}
		var used figure
		for _, p := range templateParams(r.Template()) {
			switch f, ok := names[p]; {
			case ok:
				used |= f
			case p == "days":
				used |= figSince
			case p != "grade" && p != "old_limit" && p != "new_limit":
				t.Errorf("%s: template %q names %q", code, r.Template(), p)
			}
		}
		if used != reasonSpecs[r].figures {
			t.Errorf("%s: template %q reads figures %b, want %b", code, r.Template(), used, reasonSpecs[r].figures)
		}
	}
	if _, ok := ParseLimitReason("no increase"); ok {
		t.Error(`ParseLimitReason("no increase") succeeded`)
	}
}

// templateParams returns the names a template puts in braces.
func templateParams(t string) []string {
	var out []string
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(t[i:], '}')
		out = append(out, t[i+1:i+j])
		t = t[i+j+1:]
	}
}

// docs/limit-reasons.md documents every code with its template, and no
// other code.
func TestLimitReasonsDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/limit-reasons.md")
	if err != nil {
		t.Fatal(err)
	}
	// The codes table: | `CODE` | meaning | parameters | `template` |.
	type doc struct{ params, template string }
	documented := map[string]doc{}
	for line := range strings.Lines(string(b)) {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) != 6 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		code := strings.Trim(strings.TrimSpace(cells[1]), "`")
		documented[code] = doc{strings.TrimSpace(cells[3]), strings.Trim(strings.TrimSpace(cells[4]), "`")}
	}
	for _, r := range LimitReasons() {
		d, ok := documented[r.String()]
		var params []string
		for _, p := range templateParams(r.Template()) {
			if p == "days" {
				p = "since"
			}
			if !slices.Contains(params, p) {
				params = append(params, p)
			}
		}
		slices.Sort(params)
		got := strings.Split(strings.ReplaceAll(d.params, " ", ""), ",")
		slices.Sort(got)
		switch {
		case !ok:
			t.Errorf("%s is not in docs/limit-reasons.md", r)
		case d.template != r.Template():
			t.Errorf("%s: docs/limit-reasons.md says template %q, want %q", r, d.template, r.Template())
		case strings.Join(got, ",") != strings.Join(params, ","):
			t.Errorf("%s: docs/limit-reasons.md lists parameters %q, want %q", r, d.params, strings.Join(params, ", "))
		}
		delete(documented, r.String())
	}
	for code := range documented {
		if _, ok := ParseLimitReason(code); !ok {
			t.Errorf("docs/limit-reasons.md documents %s, which no decision gives", code)
		}
	}
}

// A row whose reasons cannot be read back says which column is at fault.
func TestDecisionRowErrors(t *testing.T) {
	u, n, m := 0.2, int32(3), billing.Rate(500_000)
	good := DecisionRow{AccountID: 9, ReasonCode: "LOW_UTILIZATION", Reasons: "LOW_UTILIZATION",
		Utilization: &u, UtilizationCycles: &n, MinUtilization: &m}
	if _, err := good.Decision(); err != nil {
		t.Fatalf("Decision() = %v", err)
	}
	tests := []struct {
		name   string
		edit   func(r *DecisionRow)
		column string
		err    error
	}{
		{"unknown code", func(r *DecisionRow) { r.Reasons = "LOW_UTILIZATION;NO_SUCH" }, "reasons", ErrUnknownReason},
		{"sentence for a code", func(r *DecisionRow) { r.Reasons = "no increase: utilization 0.20 < 0.5" }, "reasons", ErrUnknownReason},
		{"reason_code not listed", func(r *DecisionRow) { r.ReasonCode = "INCREASE" }, "reason_code", ErrUnknownReason},
		{"too many", func(r *DecisionRow) {
			r.Reasons = strings.Repeat("LOW_UTILIZATION;", MaxLimitReasons) + "LOW_UTILIZATION"
		}, "reasons", ErrTooManyReasons},
		{"null figure", func(r *DecisionRow) { r.Utilization = nil }, "utilization", ErrMissingFigure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := good
			tt.edit(&r)
			_, err := r.Decision()
			var de *DecisionError
			if !errors.As(err, &de) || de.Column != tt.column || de.AccountID != 9 || !errors.Is(err, tt.err) {
				t.Errorf("Decision() = %v, want a DecisionError of account 9, column %s, %v", err, tt.column, tt.err)
			}
		})
	}
}

// BenchmarkDecideRow decides four accounts (a keep, a delinquency cut, an
// increase, a grade cut) and builds their rows, as a night does.
func BenchmarkDecideRow(b *testing.B) {
	c := mustDefault()
	busy := account(repeat(12, cyc{spend: 6000, billed: 6000, paid: 6000, balance: 6000, limit: 10000, min: 600})...)
	accounts := []struct {
		a     *billing.Account
		grade string
	}{{transactor(), "A"}, {latePayer(), "C"}, {busy, "A"}, {transactor(), "E"}}
	b.ReportAllocs()
	for b.Loop() {
		for _, x := range accounts {
			r := Result{Grade: x.grade, Reasons: [NumReasons]string{"SHORT_TENURE", "BUREAU_SCORE"}}
			d := c.Decide(x.a, asOf, &r)
			row := NewDecisionRow(x.a, asOf, &d, "v1", new(Nullables))
			_ = row
		}
	}
}
