package scoring

import (
	"strings"

	"github.com/creditrun/creditrun/billing"
)

// ScoreRow is one row of the scores table: the score, its reason codes and
// every feature (see doc.go), as of AsOf. Money is DECIMAL(18,2), ratios
// DOUBLE; a missing feature is NULL, and so is a reason code the score
// does not have (reason_4 of a score with three, every reason of a score
// that lost no points), never an empty string. Grades, reason codes,
// patterns and versions are dictionary-encoded (`dict`).
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

	TenureMonths           int32         `parquet:"tenure_months"`
	CyclesOnBook           int32         `parquet:"cycles_on_book"`
	BureauScore            *int32        `parquet:"bureau_score,optional"`
	Utilization            *float64      `parquet:"utilization,optional"`
	CurrentDPD             int32         `parquet:"current_dpd"`
	MonthsSinceDelinquency *int32        `parquet:"months_since_delinquency,optional"`
	PayPattern3            string        `parquet:"pay_pattern_3,dict"`
	Spend1                 billing.Money `parquet:"spend_1,decimal(2:18)"`
	Spend3                 billing.Money `parquet:"spend_3,decimal(2:18)"`
	Spend6                 billing.Money `parquet:"spend_6,decimal(2:18)"`
	Spend12                billing.Money `parquet:"spend_12,decimal(2:18)"`
	Billed1                billing.Money `parquet:"billed_1,decimal(2:18)"`
	Billed3                billing.Money `parquet:"billed_3,decimal(2:18)"`
	Billed6                billing.Money `parquet:"billed_6,decimal(2:18)"`
	Billed12               billing.Money `parquet:"billed_12,decimal(2:18)"`
	Paid1                  billing.Money `parquet:"paid_1,decimal(2:18)"`
	Paid3                  billing.Money `parquet:"paid_3,decimal(2:18)"`
	Paid6                  billing.Money `parquet:"paid_6,decimal(2:18)"`
	Paid12                 billing.Money `parquet:"paid_12,decimal(2:18)"`
	PaymentRatio1          *float64      `parquet:"payment_ratio_1,optional"`
	PaymentRatio3          *float64      `parquet:"payment_ratio_3,optional"`
	PaymentRatio6          *float64      `parquet:"payment_ratio_6,optional"`
	PaymentRatio12         *float64      `parquet:"payment_ratio_12,optional"`
	UtilizationAvg1        *float64      `parquet:"utilization_avg_1,optional"`
	UtilizationAvg3        *float64      `parquet:"utilization_avg_3,optional"`
	UtilizationAvg6        *float64      `parquet:"utilization_avg_6,optional"`
	UtilizationAvg12       *float64      `parquet:"utilization_avg_12,optional"`
	MaxDPD1                int32         `parquet:"max_dpd_1"`
	MaxDPD3                int32         `parquet:"max_dpd_3"`
	MaxDPD6                int32         `parquet:"max_dpd_6"`
	MaxDPD12               int32         `parquet:"max_dpd_12"`
	OverdueEpisodes1       int32         `parquet:"overdue_episodes_1"`
	OverdueEpisodes3       int32         `parquet:"overdue_episodes_3"`
	OverdueEpisodes6       int32         `parquet:"overdue_episodes_6"`
	OverdueEpisodes12      int32         `parquet:"overdue_episodes_12"`
	FailedDeductions1      int32         `parquet:"failed_deductions_1"`
	FailedDeductions3      int32         `parquet:"failed_deductions_3"`
	FailedDeductions6      int32         `parquet:"failed_deductions_6"`
	FailedDeductions12     int32         `parquet:"failed_deductions_12"`
	InstallmentShare1      *float64      `parquet:"installment_share_1,optional"`
	InstallmentShare3      *float64      `parquet:"installment_share_3,optional"`
	InstallmentShare6      *float64      `parquet:"installment_share_6,optional"`
	InstallmentShare12     *float64      `parquet:"installment_share_12,optional"`
	MinPayCycles1          int32         `parquet:"min_pay_cycles_1"`
	MinPayCycles3          int32         `parquet:"min_pay_cycles_3"`
	MinPayCycles6          int32         `parquet:"min_pay_cycles_6"`
	MinPayCycles12         int32         `parquet:"min_pay_cycles_12"`

	ScorecardVersion string `parquet:"scorecard_version,dict"`
}

// Nullables holds the values a ScoreRow's nullable columns point at, so
// that a caller building many rows keeps them in one array (NewScoreRow
// allocates nothing).
type Nullables struct {
	f [13]float64
	i [2]int32
	s [NumReasons]string
}

// NewScoreRow builds the scores row of an account scored on day; the
// row's nullable columns point into nulls, which must outlive the row.
func NewScoreRow(a *billing.Account, day billing.Date, f *Features, r *Result, version string, nulls *Nullables) ScoreRow {
	// optF and optI point a nullable column at feature id's value, kept in
	// slot k of nulls, unless the feature is missing (then it stays null).
	optF := func(dst **float64, id FeatureID, k int) {
		if !f.Missing[id] {
			nulls.f[k] = f.Values[id]
			*dst = &nulls.f[k]
		}
	}
	optI := func(dst **int32, id FeatureID, k int) {
		if !f.Missing[id] {
			nulls.i[k] = int32(f.Values[id])
			*dst = &nulls.i[k]
		}
	}
	row := ScoreRow{
		AccountID: a.ID, AsOf: day, Score: r.Score, PD: r.PD, Grade: r.Grade,
		ScorecardVersion: version, Spend1: f.Spend[0], Spend3: f.Spend[1], Spend6: f.Spend[2], Spend12: f.Spend[3],
		Billed1: f.Billed[0], Billed3: f.Billed[1], Billed6: f.Billed[2], Billed12: f.Billed[3],
		Paid1: f.Paid[0], Paid3: f.Paid[1], Paid6: f.Paid[2], Paid12: f.Paid[3],
	}
	for k, dst := range [NumReasons]**string{&row.Reason1, &row.Reason2, &row.Reason3, &row.Reason4} {
		if r.Reasons[k] != "" {
			nulls.s[k] = r.Reasons[k]
			*dst = &nulls.s[k]
		}
	}
	row.TenureMonths = int32(f.Values[TenureMonths])
	row.CyclesOnBook = int32(f.Values[CyclesOnBook])
	optI(&row.BureauScore, BureauScore, 0)
	optF(&row.Utilization, Utilization, 0)
	row.CurrentDPD = int32(f.Values[CurrentDPD])
	optI(&row.MonthsSinceDelinquency, MonthsSinceDelinquency, 1)
	row.PayPattern3 = f.Category(PayPattern3)
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

// DecisionRow is one row of the limit_decisions table.
type DecisionRow struct {
	AccountID     int64         `parquet:"account_id"`
	AsOf          billing.Date  `parquet:"as_of,date"`
	Grade         string        `parquet:"grade,dict"`
	OldLimit      billing.Money `parquet:"old_limit,decimal(2:18)"`
	NewLimit      billing.Money `parquet:"new_limit,decimal(2:18)"`
	Action        string        `parquet:"action,dict"`
	Reasons       string        `parquet:"reasons,dict"` // ';'-joined
	BelowBalance  bool          `parquet:"below_balance"`
	PolicyVersion string        `parquet:"policy_version,dict"`
}

// NewDecisionRow builds the limit_decisions row of a decision taken on day.
func NewDecisionRow(a *billing.Account, day billing.Date, d *Decision, version string) DecisionRow {
	return DecisionRow{
		AccountID: a.ID, AsOf: day, Grade: d.Grade, OldLimit: d.OldLimit, NewLimit: d.NewLimit,
		Action: string(d.Action), Reasons: strings.Join(d.Reasons, ";"), BelowBalance: d.BelowBalance,
		PolicyVersion: version,
	}
}
