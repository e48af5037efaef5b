package scoring

import (
	"fmt"
	"github.com/creditrun/creditrun/billing"
	"slices"
)

// Features returns the features a scores row and the cycle_features row
// it names were written from: the inverse of NewScoreRow and
// NewCycleFeaturesRow, so that a published night can be scored again (by
// another scorecard) or fitted on. c must be the account's row of the
// night r.FeaturesOn. A null column is a missing feature; money columns, in
// fen, become yuan as ComputeFeatures computes them. An unknown
// pay_pattern_3 is an error, and so is a c of another account.
func (r *ScoreRow) Features(c *CycleFeaturesRow) (Features, error) {
	var f Features
	set := func(id FeatureID, v float64) { f.Values[id] = v }
	optF := func(id FeatureID, p *float64) {
		if p == nil {
			f.missing(id)
		} else {
			set(id, *p)
		}
	}
	optI := func(id FeatureID, p *int32) {
		if p == nil {
			f.missing(id)
		} else {
			set(id, float64(*p))
		}
	}
	set(TenureMonths, float64(r.TenureMonths))
	set(CyclesOnBook, float64(r.CyclesOnBook))
	optI(BureauScore, r.BureauScore)
	optF(Utilization, r.Utilization)
	set(CurrentDPD, float64(r.CurrentDPD))
	optI(MonthsSinceDelinquency, r.MonthsSinceDelinquency)
	k := slices.Index(payPatterns, r.PayPattern3)
	if k < 0 {
		return f, fmt.Errorf("pay_pattern_3 %q: want one of %q", r.PayPattern3, payPatterns)
	}
	set(PayPattern3, float64(k))
	if c == nil || c.AccountID != r.AccountID || c.AsOf != r.FeaturesOn {
		return f, fmt.Errorf("no cycle_features row of account %d on %s (features_on)", r.AccountID, r.FeaturesOn)
	}
	f.Spend = [numWindows]billing.Money{c.Spend1, c.Spend3, c.Spend6, c.Spend12}
	f.Billed = [numWindows]billing.Money{c.Billed1, c.Billed3, c.Billed6, c.Billed12}
	f.Paid = [numWindows]billing.Money{c.Paid1, c.Paid3, c.Paid6, c.Paid12}
	for wi := range numWindows {
		set(windowed(gSpend, wi), yuan(f.Spend[wi]))
		set(windowed(gBilled, wi), yuan(f.Billed[wi]))
		set(windowed(gPaid, wi), yuan(f.Paid[wi]))
	}
	for wi, p := range [numWindows]*float64{c.PaymentRatio1, c.PaymentRatio3, c.PaymentRatio6, c.PaymentRatio12} {
		optF(windowed(gPaymentRatio, wi), p)
	}
	for wi, p := range [numWindows]*float64{c.UtilizationAvg1, c.UtilizationAvg3, c.UtilizationAvg6, c.UtilizationAvg12} {
		optF(windowed(gUtilizationAvg, wi), p)
	}
	for wi, p := range [numWindows]*float64{c.InstallmentShare1, c.InstallmentShare3, c.InstallmentShare6, c.InstallmentShare12} {
		optF(windowed(gInstallmentShare, wi), p)
	}
	for wi, v := range [numWindows]int32{c.MaxDPD1, c.MaxDPD3, c.MaxDPD6, c.MaxDPD12} {
		set(windowed(gMaxDPD, wi), float64(v))
	}
	for wi, v := range [numWindows]int32{c.OverdueEpisodes1, c.OverdueEpisodes3, c.OverdueEpisodes6, c.OverdueEpisodes12} {
		set(windowed(gOverdueEpisodes, wi), float64(v))
	}
	for wi, v := range [numWindows]int32{c.FailedDeductions1, c.FailedDeductions3, c.FailedDeductions6, c.FailedDeductions12} {
		set(windowed(gFailedDeductions, wi), float64(v))
	}
	for wi, v := range [numWindows]int32{c.MinPayCycles1, c.MinPayCycles3, c.MinPayCycles6, c.MinPayCycles12} {
		set(windowed(gMinPayCycles, wi), float64(v))
	}
	return f, nil
}
