package scoring

import (
	"fmt"
	"slices"
	"strings"

	"github.com/creditrun/creditrun/billing"
)

// ScoreRow is one row of the scores table: the score, its reason codes and
// the point-in-time features (see doc.go), as of AsOf; the window features
// are in the cycle_features row of the night FeaturesOn. Money is
// DECIMAL(18,2), ratios DOUBLE; a missing feature is NULL, and so is a
// reason code the score does not have (reason_4 of a score with three,
// every reason of a score that lost no points), never an empty string.
// Grades, reason codes, patterns and versions are dictionary-encoded
// (`dict`).
type ScoreRow struct {
	AccountID int64        `parquet:"account_id"`
	AsOf      billing.Date `parquet:"as_of,date"`
	Score     int32        `parquet:"score"`
	PD        float64      `parquet:"pd"`
	Grade     string       `parquet:"grade,dict"`
	Reason1   *string      `parquet:"reason_1,optional,dict"`
	Reason2   *string      `parquet:"reason_2,optional,dict"`
	Reason3   *string      `parquet:"reason_3,optional,dict"`
	Reason4   *string      `parquet:"reason_4,optional,dict"`

	TenureMonths           int32    `parquet:"tenure_months"`
	CyclesOnBook           int32    `parquet:"cycles_on_book"`
	BureauScore            *int32   `parquet:"bureau_score,optional"`
	Utilization            *float64 `parquet:"utilization,optional,dict"`
	CurrentDPD             int32    `parquet:"current_dpd"`
	MonthsSinceDelinquency *int32   `parquet:"months_since_delinquency,optional"`
	PayPattern3            string   `parquet:"pay_pattern_3,dict"`
	// FeaturesOn is the night whose cycle_features table holds the
	// account's window features as of AsOf: AsOf itself when they were
	// written tonight.
	FeaturesOn billing.Date `parquet:"features_on,date"`

	ScorecardVersion string `parquet:"scorecard_version,dict"`
}

// CycleFeaturesMaxAge bounds how far back a scores row's features_on may
// be: an account whose window features were last written this many nights
// ago has them written again, so a night's scores name only the nights
// D−30..D, and keeping the last 31 nights of outputs keeps every feature
// of the last night's scores.
const CycleFeaturesMaxAge = 31

// CycleFeaturesRow is one row of the cycle_features table: an account's
// window features (doc.go), which only the closed cycles of its history
// move, written on the night they may have changed (a cycle closed, an
// incident corrected one) or when no earlier row is known to hold them.
// The scores rows of the nights after it name it by their features_on
// until the next.
type CycleFeaturesRow struct {
	AccountID          int64         `parquet:"account_id"`
	AsOf               billing.Date  `parquet:"as_of,date,dict"`
	Spend1             billing.Money `parquet:"spend_1,decimal(2:18)"`
	Spend3             billing.Money `parquet:"spend_3,decimal(2:18)"`
	Spend6             billing.Money `parquet:"spend_6,decimal(2:18)"`
	Spend12            billing.Money `parquet:"spend_12,decimal(2:18)"`
	Billed1            billing.Money `parquet:"billed_1,decimal(2:18)"`
	Billed3            billing.Money `parquet:"billed_3,decimal(2:18)"`
	Billed6            billing.Money `parquet:"billed_6,decimal(2:18)"`
	Billed12           billing.Money `parquet:"billed_12,decimal(2:18)"`
	Paid1              billing.Money `parquet:"paid_1,decimal(2:18)"`
	Paid3              billing.Money `parquet:"paid_3,decimal(2:18)"`
	Paid6              billing.Money `parquet:"paid_6,decimal(2:18)"`
	Paid12             billing.Money `parquet:"paid_12,decimal(2:18)"`
	PaymentRatio1      *float64      `parquet:"payment_ratio_1,optional"`
	PaymentRatio3      *float64      `parquet:"payment_ratio_3,optional"`
	PaymentRatio6      *float64      `parquet:"payment_ratio_6,optional"`
	PaymentRatio12     *float64      `parquet:"payment_ratio_12,optional"`
	UtilizationAvg1    *float64      `parquet:"utilization_avg_1,optional"`
	UtilizationAvg3    *float64      `parquet:"utilization_avg_3,optional"`
	UtilizationAvg6    *float64      `parquet:"utilization_avg_6,optional"`
	UtilizationAvg12   *float64      `parquet:"utilization_avg_12,optional"`
	MaxDPD1            int32         `parquet:"max_dpd_1"`
	MaxDPD3            int32         `parquet:"max_dpd_3"`
	MaxDPD6            int32         `parquet:"max_dpd_6"`
	MaxDPD12           int32         `parquet:"max_dpd_12"`
	OverdueEpisodes1   int32         `parquet:"overdue_episodes_1"`
	OverdueEpisodes3   int32         `parquet:"overdue_episodes_3"`
	OverdueEpisodes6   int32         `parquet:"overdue_episodes_6"`
	OverdueEpisodes12  int32         `parquet:"overdue_episodes_12"`
	FailedDeductions1  int32         `parquet:"failed_deductions_1"`
	FailedDeductions3  int32         `parquet:"failed_deductions_3"`
	FailedDeductions6  int32         `parquet:"failed_deductions_6"`
	FailedDeductions12 int32         `parquet:"failed_deductions_12"`
	InstallmentShare1  *float64      `parquet:"installment_share_1,optional"`
	InstallmentShare3  *float64      `parquet:"installment_share_3,optional"`
	InstallmentShare6  *float64      `parquet:"installment_share_6,optional"`
	InstallmentShare12 *float64      `parquet:"installment_share_12,optional"`
	MinPayCycles1      int32         `parquet:"min_pay_cycles_1"`
	MinPayCycles3      int32         `parquet:"min_pay_cycles_3"`
	MinPayCycles6      int32         `parquet:"min_pay_cycles_6"`
	MinPayCycles12     int32         `parquet:"min_pay_cycles_12"`
}

// Nullables holds the values the nullable columns of an account's
// ScoreRow and DecisionRow point at, so that a caller building many rows
// keeps them in one array (NewScoreRow and NewDecisionRow allocate
// nothing).
type Nullables struct {
	f [13]float64
	i [2]int32
	s [NumReasons]string
	// The decision's figures, and its score reasons ';'-joined.
	figures      Figures
	scoreReasons string
}

// NewScoreRow builds the scores row of an account scored on day, whose
// window features are in the cycle_features row of a.FeaturesOn; the
// row's nullable columns point into nulls, which must outlive the row.
func NewScoreRow(a *billing.Account, day billing.Date, f *Features, r *Result, version string, nulls *Nullables) ScoreRow {
	row := ScoreRow{
		AccountID: a.ID, AsOf: day, Score: r.Score, PD: r.PD, Grade: r.Grade,
		FeaturesOn: a.FeaturesOn, ScorecardVersion: version,
	}
	for k, dst := range [NumReasons]**string{&row.Reason1, &row.Reason2, &row.Reason3, &row.Reason4} {
		if r.Reasons[k] != "" {
			nulls.s[k] = r.Reasons[k]
			*dst = &nulls.s[k]
		}
	}
	row.TenureMonths = int32(f.Values[TenureMonths])
	row.CyclesOnBook = int32(f.Values[CyclesOnBook])
	if !f.Missing[BureauScore] {
		nulls.i[0] = int32(f.Values[BureauScore])
		row.BureauScore = &nulls.i[0]
	}
	if !f.Missing[Utilization] {
		nulls.f[0] = f.Values[Utilization]
		row.Utilization = &nulls.f[0]
	}
	row.CurrentDPD = int32(f.Values[CurrentDPD])
	if !f.Missing[MonthsSinceDelinquency] {
		nulls.i[1] = int32(f.Values[MonthsSinceDelinquency])
		row.MonthsSinceDelinquency = &nulls.i[1]
	}
	row.PayPattern3 = f.Category(PayPattern3)
	return row
}

// NewCycleFeaturesRow builds the cycle_features row of account id on day
// from its features; the row's nullable columns point into nulls (slots
// NewScoreRow does not use), which must outlive the row.
func NewCycleFeaturesRow(id int64, day billing.Date, f *Features, nulls *Nullables) CycleFeaturesRow {
	// optF points a nullable column at feature id's value, kept in slot k
	// of nulls, unless the feature is missing (then it stays null).
	optF := func(dst **float64, id FeatureID, k int) {
		if !f.Missing[id] {
			nulls.f[k] = f.Values[id]
			*dst = &nulls.f[k]
		}
	}
	row := CycleFeaturesRow{
		AccountID: id, AsOf: day,
		Spend1: f.Spend[0], Spend3: f.Spend[1], Spend6: f.Spend[2], Spend12: f.Spend[3],
		Billed1: f.Billed[0], Billed3: f.Billed[1], Billed6: f.Billed[2], Billed12: f.Billed[3],
		Paid1: f.Paid[0], Paid3: f.Paid[1], Paid6: f.Paid[2], Paid12: f.Paid[3],
	}
	optF(&row.PaymentRatio1, PaymentRatio1, 1)
	optF(&row.PaymentRatio3, PaymentRatio3, 2)
	optF(&row.PaymentRatio6, PaymentRatio6, 3)
	optF(&row.PaymentRatio12, PaymentRatio12, 4)
	optF(&row.UtilizationAvg1, UtilizationAvg1, 5)
	optF(&row.UtilizationAvg3, UtilizationAvg3, 6)
	optF(&row.UtilizationAvg6, UtilizationAvg6, 7)
	optF(&row.UtilizationAvg12, UtilizationAvg12, 8)
	row.MaxDPD1 = int32(f.Values[MaxDPD1])
	row.MaxDPD3 = int32(f.Values[MaxDPD3])
	row.MaxDPD6 = int32(f.Values[MaxDPD6])
	row.MaxDPD12 = int32(f.Values[MaxDPD12])
	row.OverdueEpisodes1 = int32(f.Values[OverdueEpisodes1])
	row.OverdueEpisodes3 = int32(f.Values[OverdueEpisodes3])
	row.OverdueEpisodes6 = int32(f.Values[OverdueEpisodes6])
	row.OverdueEpisodes12 = int32(f.Values[OverdueEpisodes12])
	row.FailedDeductions1 = int32(f.Values[FailedDeductions1])
	row.FailedDeductions3 = int32(f.Values[FailedDeductions3])
	row.FailedDeductions6 = int32(f.Values[FailedDeductions6])
	row.FailedDeductions12 = int32(f.Values[FailedDeductions12])
	optF(&row.InstallmentShare1, InstallmentShare1, 9)
	optF(&row.InstallmentShare3, InstallmentShare3, 10)
	optF(&row.InstallmentShare6, InstallmentShare6, 11)
	optF(&row.InstallmentShare12, InstallmentShare12, 12)
	row.MinPayCycles1 = int32(f.Values[MinPayCycles1])
	row.MinPayCycles3 = int32(f.Values[MinPayCycles3])
	row.MinPayCycles6 = int32(f.Values[MinPayCycles6])
	row.MinPayCycles12 = int32(f.Values[MinPayCycles12])
	return row
}

// DecisionRow is one row of the limit_decisions table: the decision, its
// reasons as codes (ReasonCode the one that settled the action, Reasons
// every code ';'-joined in order) and the figures their sentences read,
// each a column of its own that is NULL unless one of the row's reasons
// reads it. The sentences are not stored: Decision gives the decision
// back, and ReasonText each sentence. Every column but account_id,
// balance and past_due_on is dictionary-encoded (`dict`): a night has one
// date, few limits (multiples of limits.round_to), few codes and lists of
// codes, the policy's figures, and a utilization to two decimals.
type DecisionRow struct {
	AccountID         int64          `parquet:"account_id"`
	AsOf              billing.Date   `parquet:"as_of,date,dict"`
	Grade             string         `parquet:"grade,dict"`
	OldLimit          billing.Money  `parquet:"old_limit,decimal(2:18),dict"`
	NewLimit          billing.Money  `parquet:"new_limit,decimal(2:18),dict"`
	Action            string         `parquet:"action,dict"`
	ReasonCode        string         `parquet:"reason_code,dict"`
	Reasons           string         `parquet:"reasons,dict"`
	DaysPastDue       *int32         `parquet:"days_past_due,optional,dict"`
	Utilization       *float64       `parquet:"utilization,optional,dict"`
	UtilizationCycles *int32         `parquet:"utilization_cycles,optional,dict"`
	Balance           *billing.Money `parquet:"balance,decimal(2:18),optional"`
	Since             *billing.Date  `parquet:"since,date,optional,dict"`
	PastDueOn         *billing.Date  `parquet:"past_due_on,date,optional"`
	ScoreReasons      *string        `parquet:"score_reasons,optional,dict"` // ';'-joined
	Threshold         *int32         `parquet:"threshold,optional,dict"`
	Lookback          *int32         `parquet:"lookback,optional,dict"`
	MinUtilization    *billing.Rate  `parquet:"min_utilization,decimal(6:9),optional,dict"`
	Rate              *billing.Rate  `parquet:"rate,decimal(6:9),optional,dict"`
	DelinquencyCut    *billing.Rate  `parquet:"delinquency_cut,decimal(6:9),optional,dict"`
	Cap               *billing.Money `parquet:"cap,decimal(2:18),optional,dict"`
	BelowBalance      bool           `parquet:"below_balance"`
	PolicyVersion     string         `parquet:"policy_version,dict"`
}

// NewDecisionRow builds the limit_decisions row of a decision taken on day;
// the row's figures point into nulls, which must outlive the row (and may
// be the account's scores row's).
func NewDecisionRow(a *billing.Account, day billing.Date, d *Decision, version string, nulls *Nullables) DecisionRow {
	row := DecisionRow{
		AccountID: a.ID, AsOf: day, Grade: d.Grade, OldLimit: d.OldLimit, NewLimit: d.NewLimit,
		Action: string(d.Action), ReasonCode: d.Reason.String(), Reasons: d.Codes(), BelowBalance: d.BelowBalance,
		PolicyVersion: version,
	}
	fs := d.figures()
	if fs == 0 {
		return row
	}
	nulls.figures = d.Figures
	f := &nulls.figures
	if fs&figDaysPastDue != 0 {
		row.DaysPastDue = &f.DaysPastDue
	}
	if fs&figUtilization != 0 {
		row.Utilization = &f.Utilization
	}
	if fs&figUtilizationCycles != 0 {
		row.UtilizationCycles = &f.UtilizationCycles
	}
	if fs&figBalance != 0 {
		row.Balance = &f.Balance
	}
	if fs&figSince != 0 {
		row.Since = &f.Since
	}
	if fs&figPastDueOn != 0 {
		row.PastDueOn = &f.PastDueOn
	}
	if fs&figScoreReasons != 0 {
		nulls.scoreReasons = joinCodes(f.ScoreReasons[:], ";")
		row.ScoreReasons = &nulls.scoreReasons
	}
	if fs&figThreshold != 0 {
		row.Threshold = &f.Threshold
	}
	if fs&figLookback != 0 {
		row.Lookback = &f.Lookback
	}
	if fs&figMinUtilization != 0 {
		row.MinUtilization = &f.MinUtilization
	}
	if fs&figRate != 0 {
		row.Rate = &f.Rate
	}
	if fs&figDelinquencyCut != 0 {
		row.DelinquencyCut = &f.DelinquencyCut
	}
	if fs&figCap != 0 {
		row.Cap = &f.Cap
	}
	return row
}

// Decision returns the decision row r records, its reasons and figures
// read back from their columns, so that ReasonText gives each reason's
// sentence. It fails with a *DecisionError on a code it does not know, a
// reason_code not among the reasons, more reasons than a decision lists,
// or a figure a reason reads that is NULL.
func (r *DecisionRow) Decision() (Decision, error) {
	d := Decision{Action: billing.LimitAction(r.Action), OldLimit: r.OldLimit, NewLimit: r.NewLimit, Grade: r.Grade,
		AsOf: r.AsOf, BelowBalance: r.BelowBalance}
	bad := func(column string, err error) (Decision, error) {
		return Decision{}, &DecisionError{AccountID: r.AccountID, Column: column, Err: err}
	}
	var fs figure
	for i, rest := 0, r.Reasons; rest != ""; i++ {
		code, tail, _ := strings.Cut(rest, ";")
		rest = tail
		why, ok := ParseLimitReason(code)
		if !ok {
			return bad("reasons", fmt.Errorf("%w %q", ErrUnknownReason, code))
		}
		if i == MaxLimitReasons {
			return bad("reasons", fmt.Errorf("%w: more than %d", ErrTooManyReasons, MaxLimitReasons))
		}
		d.Reasons[i] = why
		fs |= reasonSpecs[why].figures
	}
	why, ok := ParseLimitReason(r.ReasonCode)
	if !ok || !slices.Contains(d.Reasons[:], why) {
		return bad("reason_code", fmt.Errorf("%w %q: want one of reasons %q", ErrUnknownReason, r.ReasonCode, r.Reasons))
	}
	d.Reason = why
	f := &d.Figures
	for _, c := range []struct {
		fig    figure
		column string
		set    bool
		read   func()
	}{
		{figDaysPastDue, "days_past_due", r.DaysPastDue != nil, func() { f.DaysPastDue = *r.DaysPastDue }},
		{figUtilization, "utilization", r.Utilization != nil, func() { f.Utilization = *r.Utilization }},
		{figUtilizationCycles, "utilization_cycles", r.UtilizationCycles != nil, func() { f.UtilizationCycles = *r.UtilizationCycles }},
		{figBalance, "balance", r.Balance != nil, func() { f.Balance = *r.Balance }},
		{figSince, "since", r.Since != nil, func() { f.Since = *r.Since }},
		{figPastDueOn, "past_due_on", r.PastDueOn != nil, func() { f.PastDueOn = *r.PastDueOn }},
		{figScoreReasons, "score_reasons", r.ScoreReasons != nil, func() {
			for k, rest := 0, *r.ScoreReasons; rest != "" && k < NumReasons; k++ {
				f.ScoreReasons[k], rest, _ = strings.Cut(rest, ";")
			}
		}},
		{figThreshold, "threshold", r.Threshold != nil, func() { f.Threshold = *r.Threshold }},
		{figLookback, "lookback", r.Lookback != nil, func() { f.Lookback = *r.Lookback }},
		{figMinUtilization, "min_utilization", r.MinUtilization != nil, func() { f.MinUtilization = *r.MinUtilization }},
		{figRate, "rate", r.Rate != nil, func() { f.Rate = *r.Rate }},
		{figDelinquencyCut, "delinquency_cut", r.DelinquencyCut != nil, func() { f.DelinquencyCut = *r.DelinquencyCut }},
		{figCap, "cap", r.Cap != nil, func() { f.Cap = *r.Cap }},
	} {
		if fs&c.fig == 0 {
			continue
		}
		if !c.set {
			return bad(c.column, fmt.Errorf("%w, read by %s", ErrMissingFigure, r.Reasons))
		}
		c.read()
	}
	return d, nil
}
