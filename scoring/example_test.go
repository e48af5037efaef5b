package scoring_test

import (
	"fmt"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

func ExampleConfig_Score() {
	cfg := scoring.DefaultConfig()
	day := billing.NewDate(2025, time.June, 15)
	// A new applicant with a bureau score of 680 and no history.
	a := &billing.Account{
		ID: 42, Status: billing.Pending, OpenedOn: day - 2,
		ExternalScore: 680, HasExternalScore: true,
	}
	f := scoring.ComputeFeatures(a, day)
	r := cfg.Score(&f)
	fmt.Printf("score %d, grade %s, PD %.4f\n", r.Score, r.Grade, r.PD)
	fmt.Println("reasons:", r.Reasons)
	// Output:
	// score 625, grade C, PD 0.0212
	// reasons: [SHORT_TENURE PAYMENT_BEHAVIOUR BUREAU_SCORE HIGH_UTILIZATION]
}

func ExampleConfig_Decide() {
	cfg := scoring.DefaultConfig()
	day := billing.NewDate(2025, time.June, 15)
	a := &billing.Account{ID: 42, Status: billing.Pending, OpenedOn: day - 2, ExternalScore: 680, HasExternalScore: true}
	f := scoring.ComputeFeatures(a, day)
	r := cfg.Score(&f)
	d := cfg.Decide(a, day, &r)
	fmt.Println(d.Action, d.NewLimit)
	for _, why := range d.Reasons {
		if why != 0 {
			fmt.Println("-", why, "=", scoring.ReasonText(why, &d))
		}
	}
	// Output:
	// activate 3000.00
	// - INITIAL_LIMIT = initial limit 3000.00 for grade C
}

// A limit_decisions row, as any Parquet reader gets it, gives its
// reasons' sentences back.
func ExampleDecisionRow_Decision() {
	since, threshold := billing.NewDate(2025, time.June, 5), int32(90)
	u, n, m := 0.2, int32(3), billing.Rate(500_000)
	row := scoring.DecisionRow{AccountID: 42, AsOf: billing.NewDate(2025, time.June, 15), Grade: "A",
		OldLimit: 1_000_000, NewLimit: 1_000_000, Action: "keep",
		ReasonCode: "INCREASE_COOLING", Reasons: "INCREASE_COOLING;LOW_UTILIZATION",
		Since: &since, Threshold: &threshold, Utilization: &u, UtilizationCycles: &n, MinUtilization: &m}
	d, err := row.Decision()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(d.Reason, "=", scoring.ReasonText(d.Reason, &d))
	fmt.Println(d.Text())
	// Output:
	// INCREASE_COOLING = no increase: last change 2025-06-05, 10 days < increase_cooling_days 90
	// no increase: last change 2025-06-05, 10 days < increase_cooling_days 90; no increase: utilization 0.20 < 0.5 over 3 cycles
}
