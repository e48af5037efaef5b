package scoring

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/creditrun/creditrun/billing"
)

// LimitReason is why a limit decision went the way it did: a stable code
// (its String, e.g. LOW_UTILIZATION) whose sentence is a fixed template
// filled in with the decision's figures (see ReasonText). The zero value is
// no reason. Codes are part of the output contract: a code is never renamed
// nor given another meaning; a new rule gets a new code.
type LimitReason uint8

// The limit reasons. Decide and DecideReopen list them in the order they
// test them; the order of the constants is not part of the contract.
const (
	_ LimitReason = iota

	// Pending accounts.
	ReasonInitialLimit  // activated (or reopened) with the grade's initial limit
	ReasonGradeDeclined // the grade declines pending accounts
	ReasonFraudFlag     // the account carries a fraud flag

	// Frozen and past-due accounts.
	ReasonFrozen        // the account is frozen
	ReasonNotLive       // not pending, active nor frozen: no decision
	ReasonPastFreezeDPD // days past due above the freeze threshold

	// Cuts.
	ReasonGradeCut          // the grade cuts every account
	ReasonRecentDelinquency // past due long enough recently to be cut
	ReasonCutCooling        // a cut is due but the last change is too recent
	ReasonCutBelowBalance   // the cut goes below the balance (the policy allows it)
	ReasonCutAtBalance      // the cut stops at the balance
	ReasonNoCutFullBalance  // the balance uses the whole limit: nothing to cut

	// Increases.
	ReasonGradeNoIncrease      // the grade gets no increase
	ReasonIncreaseCooling      // the last change is too recent for an increase
	ReasonNoUtilizationHistory // no closed cycle with a limit to measure utilization
	ReasonLowUtilization       // mean utilization below the minimum
	ReasonUtilizationMet       // mean utilization at or above the minimum
	ReasonRecentPastDue        // days past due within the clean window
	ReasonAtLimitCap           // the limit is already at its cap
	ReasonIncrease             // increased by the grade's rate
	ReasonIncreaseLimitCapped  // increased, capped by the limit cap
	ReasonIncreaseMaxCapped    // increased, capped by max_increase

	// Reopening a closed account.
	ReasonClosedByChargeOff    // closed by a charge-off: never reopens
	ReasonClosedForFraud       // closed for fraud: never reopens
	ReasonClosureReasonUnknown // why it closed is not known
	ReasonClosureDateUnknown   // when it closed is not known
	ReasonReopenWait           // closed too recently
	ReasonReopenPastDue        // past due within the lookback before closing
	ReasonGradeNotReopened     // tonight's grade does not reopen
	ReasonGradeNoInitialLimit  // tonight's grade grants no initial limit

	// ReasonScoreReasons adds the score's reason codes to an adverse
	// decision (a decline, a cut, a refused reopening).
	ReasonScoreReasons

	numLimitReasons
)

// MaxLimitReasons is the most reasons one decision lists.
const MaxLimitReasons = 8

// A figure is one parameter of a reason's sentence, a nullable column of
// limit_decisions; the reasons a decision lists name the figures its row
// carries.
type figure uint16

const (
	figDaysPastDue figure = 1 << iota
	figUtilization
	figUtilizationCycles
	figBalance
	figSince
	figPastDueOn
	figScoreReasons
	figThreshold
	figLookback
	figMinUtilization
	figRate
	figDelinquencyCut
	figCap
)

// reasonSpec is a code, its sentence template and the figures it reads.
// A template names its parameters in braces: the decision's {grade},
// {old_limit}, {new_limit} and {days} (from {since} to the decision's
// date), and the figures (their column names).
type reasonSpec struct {
	code     string
	template string
	figures  figure
}

var reasonSpecs = [numLimitReasons]reasonSpec{
	ReasonInitialLimit:  {"INITIAL_LIMIT", "initial limit {new_limit} for grade {grade}", 0},
	ReasonGradeDeclined: {"GRADE_DECLINED", "grade {grade} is declined by policy", 0},
	ReasonFraudFlag:     {"FRAUD_FLAG", "fraud flag", 0},

	ReasonFrozen:        {"FROZEN", "account frozen since {since}", figSince},
	ReasonNotLive:       {"NOT_LIVE", "not scored: the account is not pending, active nor frozen", 0},
	ReasonPastFreezeDPD: {"PAST_FREEZE_DPD", "{days_past_due} days past due > freeze_dpd {threshold}", figDaysPastDue | figThreshold},

	ReasonGradeCut: {"GRADE_CUT", "grade {grade} cuts {rate}", figRate},
	ReasonRecentDelinquency: {"RECENT_DELINQUENCY", "recent delinquency: {days_past_due} days past due within {lookback} cycles, cut {delinquency_cut}",
		figDaysPastDue | figLookback | figDelinquencyCut},
	ReasonCutCooling: {"CUT_COOLING", "cut deferred: last change {since}, {days} days < decrease_cooling_days {threshold}",
		figSince | figThreshold},
	ReasonCutBelowBalance:  {"CUT_BELOW_BALANCE", "new limit {new_limit} is below the balance {balance}", figBalance},
	ReasonCutAtBalance:     {"CUT_AT_BALANCE", "cut stops at the balance {balance}", figBalance},
	ReasonNoCutFullBalance: {"NO_CUT_FULL_BALANCE", "no cut: the balance uses the whole limit", 0},

	ReasonGradeNoIncrease: {"GRADE_NO_INCREASE", "grade {grade} gets no increase", 0},
	ReasonIncreaseCooling: {"INCREASE_COOLING", "no increase: last change {since}, {days} days < increase_cooling_days {threshold}",
		figSince | figThreshold},
	ReasonNoUtilizationHistory: {"NO_UTILIZATION_HISTORY", "no increase: no utilization history", 0},
	ReasonLowUtilization: {"LOW_UTILIZATION", "no increase: utilization {utilization} < {min_utilization} over {utilization_cycles} cycles",
		figUtilization | figMinUtilization | figUtilizationCycles},
	ReasonUtilizationMet: {"UTILIZATION_MET", "utilization {utilization} ≥ {min_utilization} over {utilization_cycles} cycles",
		figUtilization | figMinUtilization | figUtilizationCycles},
	ReasonRecentPastDue: {"RECENT_PAST_DUE", "no increase: {days_past_due} days past due within {lookback} cycles",
		figDaysPastDue | figLookback},
	ReasonAtLimitCap:          {"AT_LIMIT_CAP", "no increase: limit {old_limit} at the cap {cap}", figCap},
	ReasonIncrease:            {"INCREASE", "increase {rate}", figRate},
	ReasonIncreaseLimitCapped: {"INCREASE_LIMIT_CAPPED", "increase {rate}, capped at the limit cap {cap}", figRate | figCap},
	ReasonIncreaseMaxCapped:   {"INCREASE_MAX_CAPPED", "increase {rate}, capped at max_increase {cap}", figRate | figCap},

	ReasonClosedByChargeOff:    {"CLOSED_BY_CHARGE_OFF", "closed by charge-off", 0},
	ReasonClosedForFraud:       {"CLOSED_FOR_FRAUD", "closed for fraud", 0},
	ReasonClosureReasonUnknown: {"CLOSURE_REASON_UNKNOWN", "closure reason unknown", 0},
	ReasonClosureDateUnknown:   {"CLOSURE_DATE_UNKNOWN", "closure date unknown", 0},
	ReasonReopenWait:           {"REOPEN_WAIT", "closed on {since}, {days} days < reopen.wait_days {threshold}", figSince | figThreshold},
	ReasonReopenPastDue: {"REOPEN_PAST_DUE", "past due on {past_due_on}, within reopen.lookback_months {lookback} before closing",
		figPastDueOn | figLookback},
	ReasonGradeNotReopened:    {"GRADE_NOT_REOPENED", "grade {grade} does not reopen (reopen.grades)", 0},
	ReasonGradeNoInitialLimit: {"GRADE_NO_INITIAL_LIMIT", "grade {grade} grants no initial limit", 0},

	ReasonScoreReasons: {"SCORE_REASONS", "score reasons {score_reasons}", figScoreReasons},
}

// String returns the reason's code, e.g. "LOW_UTILIZATION"; "" for the
// zero value and for a value that is no reason.
func (r LimitReason) String() string {
	if r >= numLimitReasons {
		return ""
	}
	return reasonSpecs[r].code
}

// Template returns the reason's sentence with its parameters in braces,
// e.g. "grade {grade} cuts {rate}".
func (r LimitReason) Template() string {
	if r >= numLimitReasons {
		return ""
	}
	return reasonSpecs[r].template
}

// LimitReasons returns every limit reason, in the order of the constants.
func LimitReasons() []LimitReason {
	rs := make([]LimitReason, 0, numLimitReasons-1)
	for r := LimitReason(1); r < numLimitReasons; r++ {
		rs = append(rs, r)
	}
	return rs
}

// ParseLimitReason returns the limit reason whose code is s.
func ParseLimitReason(s string) (LimitReason, bool) {
	for r := LimitReason(1); r < numLimitReasons; r++ {
		if reasonSpecs[r].code == s {
			return r, true
		}
	}
	return 0, false
}

// Figures are the numbers and dates behind a decision's reasons, each read
// by the reasons that name it (the limit_decisions column of the same
// name) and zero otherwise.
type Figures struct {
	// DaysPastDue: today's for PAST_FREEZE_DPD; the most within the
	// lookback for RECENT_DELINQUENCY and RECENT_PAST_DUE.
	DaysPastDue int32
	// Utilization is the mean statement balance / limit over
	// UtilizationCycles closed cycles, rounded to two decimals
	// (LOW_UTILIZATION, UTILIZATION_MET); the decision compares the exact
	// mean with MinUtilization.
	Utilization       float64
	UtilizationCycles int32
	// Balance is the account's exposure (CUT_BELOW_BALANCE,
	// CUT_AT_BALANCE).
	Balance billing.Money
	// Since is the day a waiting period counts from: frozen (FROZEN), the
	// last limit change (CUT_COOLING, INCREASE_COOLING), closed
	// (REOPEN_WAIT).
	Since billing.Date
	// PastDueOn is the last day past due (REOPEN_PAST_DUE).
	PastDueOn billing.Date
	// ScoreReasons are the score's reason codes (SCORE_REASONS).
	ScoreReasons [NumReasons]string
	// Threshold is the policy's days the reason compares with:
	// collections.freeze_dpd (PAST_FREEZE_DPD), decrease_cooling_days
	// (CUT_COOLING), increase_cooling_days (INCREASE_COOLING),
	// reopen.wait_days (REOPEN_WAIT).
	Threshold int32
	// Lookback is how far back the reason looks: delinquency_cycles
	// (RECENT_DELINQUENCY) and increase_clean_cycles (RECENT_PAST_DUE) in
	// cycles, reopen.lookback_months (REOPEN_PAST_DUE) in months.
	Lookback int32
	// MinUtilization is increase_min_utilization (LOW_UTILIZATION,
	// UTILIZATION_MET).
	MinUtilization billing.Rate
	// Rate is the grade's decrease (GRADE_CUT) or increase (INCREASE,
	// INCREASE_LIMIT_CAPPED, INCREASE_MAX_CAPPED).
	Rate billing.Rate
	// DelinquencyCut is delinquency_cut (RECENT_DELINQUENCY).
	DelinquencyCut billing.Rate
	// Cap is the limit cap, the lower of the grade's and the overall
	// max_limit (AT_LIMIT_CAP, INCREASE_LIMIT_CAPPED), or max_increase, the
	// most one increase adds (INCREASE_MAX_CAPPED).
	Cap billing.Money
}

// ReasonText returns the sentence of reason code of decision d: the
// code's template filled in with d's grade, limits, date and figures,
// e.g. "no increase: utilization 0.20 < 0.5 over 3 cycles". Amounts are
// in yuan with two decimals, rates as percentages ("12.5%") except the
// utilization minimum, a fraction like the utilization itself.
func ReasonText(code LimitReason, d *Decision) string {
	t := code.Template()
	var b strings.Builder
	b.Grow(len(t) + 16)
	for {
		i := strings.IndexByte(t, '{')
		if i < 0 {
			b.WriteString(t)
			return b.String()
		}
		j := strings.IndexByte(t[i:], '}')
		if j < 0 {
			b.WriteString(t)
			return b.String()
		}
		b.WriteString(t[:i])
		b.WriteString(d.param(t[i+1 : i+j]))
		t = t[i+j+1:]
	}
}

// param returns the text of a template's parameter.
func (d *Decision) param(name string) string {
	f := &d.Figures
	switch name {
	case "grade":
		return d.Grade
	case "old_limit":
		return d.OldLimit.String()
	case "new_limit":
		return d.NewLimit.String()
	case "days":
		return strconv.Itoa(int(d.AsOf - f.Since))
	case "since":
		return f.Since.String()
	case "past_due_on":
		return f.PastDueOn.String()
	case "days_past_due":
		return strconv.Itoa(int(f.DaysPastDue))
	case "utilization":
		return strconv.FormatFloat(f.Utilization, 'f', 2, 64)
	case "utilization_cycles":
		return strconv.Itoa(int(f.UtilizationCycles))
	case "balance":
		return f.Balance.String()
	case "score_reasons":
		return joinCodes(f.ScoreReasons[:], ",")
	case "threshold":
		return strconv.Itoa(int(f.Threshold))
	case "lookback":
		return strconv.Itoa(int(f.Lookback))
	case "min_utilization":
		return f.MinUtilization.Decimal().String()
	case "rate":
		return pct(f.Rate)
	case "delinquency_cut":
		return pct(f.DelinquencyCut)
	case "cap":
		return f.Cap.String()
	}
	return "{" + name + "}"
}

// Text returns the sentences of every reason of d, "; "-joined.
func (d *Decision) Text() string {
	var b strings.Builder
	for _, r := range d.Reasons {
		if r == 0 {
			break
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(ReasonText(r, d))
	}
	return b.String()
}

// Codes returns the codes of d's reasons, ';'-joined in order, e.g.
// "INCREASE_COOLING;LOW_UTILIZATION". The few distinct lists are made
// once and shared, so a night of decisions allocates none.
func (d *Decision) Codes() string {
	var key uint64
	for i, r := range d.Reasons {
		key |= uint64(r) << (8 * i)
	}
	if m := codeLists.m.Load(); m != nil {
		if s, ok := (*m)[key]; ok {
			return s
		}
	}
	var b strings.Builder
	for _, r := range d.Reasons {
		if r == 0 {
			break
		}
		if b.Len() > 0 {
			b.WriteByte(';')
		}
		b.WriteString(r.String())
	}
	s := b.String()
	codeLists.Lock()
	defer codeLists.Unlock()
	var old map[uint64]string
	if m := codeLists.m.Load(); m != nil {
		old = *m
	}
	if have, ok := old[key]; ok { // made meanwhile
		return have
	}
	m := make(map[uint64]string, len(old)+1)
	maps.Copy(m, old)
	m[key] = s
	codeLists.m.Store(&m)
	return s
}

// codeLists holds the ';'-joined code lists made so far, keyed by the
// reasons packed one per byte. It never holds more than the combinations
// Decide and DecideReopen can list, a few dozen. The map is never changed
// once stored, so that reading it takes no lock (a list not made yet
// stores a copy with it): the workers of a night read it for every
// decision and would contend for a lock's counter.
var codeLists struct {
	sync.Mutex // held to store a new map
	m          atomic.Pointer[map[uint64]string]
}

// figures returns the figures d's reasons read.
func (d *Decision) figures() figure {
	var fs figure
	for _, r := range d.Reasons {
		if r == 0 {
			break
		}
		fs |= reasonSpecs[r].figures
	}
	return fs
}

// joinCodes joins the non-empty codes with sep.
func joinCodes(codes []string, sep string) string {
	var b strings.Builder
	for _, c := range codes {
		if c == "" {
			break
		}
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(c)
	}
	return b.String()
}

// DecisionError is a limit_decisions row whose reasons cannot be read
// back: an unknown code, or a figure a code reads that is NULL.
type DecisionError struct {
	AccountID int64
	Column    string
	Err       error
}

func (e *DecisionError) Error() string {
	return fmt.Sprintf("limit decision of account %d: column %s: %v", e.AccountID, e.Column, e.Err)
}

func (e *DecisionError) Unwrap() error { return e.Err }
