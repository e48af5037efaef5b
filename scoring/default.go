package scoring

import "math"

var (
	negInf = math.Inf(-1)
	posInf = math.Inf(1)
)

// DefaultConfig returns the scoring part of the shipped default policy
// (policy/default.yaml, which documents every number), validated.
func DefaultConfig() Config {
	r := func(from, to float64, points int32) Bin { return Bin{From: from, To: to, Points: points} }
	miss := func(points int32) Bin { return Bin{From: 0, To: 0, Missing: true, Points: points} }
	cats := func(points int32, c ...string) Bin { return Bin{Categories: c, Points: points} }
	c := Config{
		Scorecard: Scorecard{
			Name: "bnpl-behaviour-v1",
			Characteristics: []Characteristic{
				{Name: "max_dpd_6", Feature: "max_dpd_6", Reason: "DELINQUENCY", Baseline: 100, Bins: []Bin{
					r(negInf, 1, 100), r(1, 4, 90), r(4, 8, 65), r(8, 16, 50), r(16, 31, 40), r(31, 61, 20), r(61, posInf, 5),
				}},
				{Name: "months_since_delinquency", Feature: "months_since_delinquency", Reason: "DELINQUENCY", Baseline: 80, Bins: []Bin{
					r(negInf, 1, 30), r(1, 3, 40), r(3, 6, 50), r(6, 12, 60), r(12, posInf, 70), miss(80),
				}},
				{Name: "pay_pattern_3", Feature: "pay_pattern_3", Reason: "PAYMENT_BEHAVIOUR", Baseline: 100, Bins: []Bin{
					cats(100, PatternTransactor), cats(75, PatternRevolver), cats(70, PatternNew, PatternInactive),
					cats(35, PatternMinPayer), cats(25, PatternDelinquent),
				}},
				{Name: "min_pay_cycles_6", Feature: "min_pay_cycles_6", Reason: "PAYMENT_BEHAVIOUR", Baseline: 90, Bins: []Bin{
					r(negInf, 1, 90), r(1, 3, 70), r(3, 5, 55), r(5, posInf, 40),
				}},
				{Name: "utilization_avg_3", Feature: "utilization_avg_3", Reason: "HIGH_UTILIZATION", Baseline: 90, Bins: []Bin{
					r(negInf, 0.3, 90), r(0.3, 0.5, 80), r(0.5, 0.7, 70), r(0.7, 0.9, 55), r(0.9, 1, 40), r(1, posInf, 25), miss(65),
				}},
				{Name: "failed_deductions_6", Feature: "failed_deductions_6", Reason: "FAILED_DEDUCTIONS", Baseline: 90, Bins: []Bin{
					r(negInf, 1, 90), r(1, 3, 85), r(3, 6, 80), r(6, posInf, 70),
				}},
				{Name: "bureau_score", Feature: "bureau_score", Reason: "BUREAU_SCORE", Baseline: 110, Bins: []Bin{
					r(negInf, 500, 10), r(500, 550, 30), r(550, 600, 50), r(600, 650, 65), r(650, 700, 80),
					r(700, 750, 95), r(750, posInf, 110), miss(60),
				}},
				{Name: "tenure_months", Feature: "tenure_months", Reason: "SHORT_TENURE", Baseline: 90, Bins: []Bin{
					r(negInf, 3, 50), r(3, 6, 60), r(6, 12, 70), r(12, 24, 80), r(24, posInf, 90),
				}},
			},
		},
		Scaling: Scaling{PDO: 40, BaseScore: 600, BaseOdds: 30},
		Grades: []Grade{
			{Name: "A", MinScore: 680}, {Name: "B", MinScore: 630}, {Name: "C", MinScore: 580},
			{Name: "D", MinScore: 520}, {Name: "E"},
		},
		Limits: Limits{
			MaxLimit:               5_000_000,
			MaxIncrease:            1_000_000,
			RoundTo:                10_000,
			IncreaseCoolingDays:    90,
			DecreaseCoolingDays:    30,
			IncreaseMinUtilization: 500_000,
			UtilizationCycles:      3,
			IncreaseCleanCycles:    6,
			DelinquencyCycles:      3,
			DelinquencyDPD:         8,
			DelinquencyCut:         200_000,
			FreezeDPD:              30,
			Grades: []GradeLimit{
				{Grade: "A", Initial: 800_000, Increase: 200_000, MaxLimit: 5_000_000},
				{Grade: "B", Initial: 500_000, Increase: 150_000, MaxLimit: 3_000_000},
				{Grade: "C", Initial: 300_000, Increase: 100_000, MaxLimit: 1_500_000},
				{Grade: "D", Initial: 100_000, MaxLimit: 500_000},
				{Grade: "E", Decline: true, Decrease: 300_000},
			},
			Reopen: Reopen{WaitDays: 30, LookbackMonths: 12, Grades: []string{"A", "B", "C", "D"}},
		},
		Monitoring: Monitoring{
			ScoreBands: []int32{400, 450, 500, 550, 600, 650, 700},
			PSIWarn:    PSIWarn,
		},
	}
	if err := c.Validate(); err != nil {
		panic("scoring: invalid default config: " + err.Error())
	}
	return c
}
