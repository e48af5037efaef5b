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
