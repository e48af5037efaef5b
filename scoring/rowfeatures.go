package scoring

import (
	"fmt"
	"github.com/creditrun/creditrun/billing"
	"slices"
)

// Features returns the features a scores row was written from: the inverse
// of NewScoreRow, so that a published scores table can be scored again
// (by another scorecard) or fitted on. A null column is a missing feature;
// money columns, in fen, become yuan as ComputeFeatures computes them. An
// unknown pay_pattern_3 is an error.
func (r *ScoreRow) Features() (Features, error) {
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
	f.Spend = [numWindows]billing.Money{r.Spend1, r.Spend3, r.Spend6, r.Spend12}
	f.Billed = [numWindows]billing.Money{r.Billed1, r.Billed3, r.Billed6, r.Billed12}
	f.Paid = [numWindows]billing.Money{r.Paid1, r.Paid3, r.Paid6, r.Paid12}
	for wi := range numWindows {
		set(windowed(gSpend, wi), yuan(f.Spend[wi]))
		set(windowed(gBilled, wi), yuan(f.Billed[wi]))
		set(windowed(gPaid, wi), yuan(f.Paid[wi]))
	}
	for wi, p := range [numWindows]*float64{r.PaymentRatio1, r.PaymentRatio3, r.PaymentRatio6, r.PaymentRatio12} {
		optF(windowed(gPaymentRatio, wi), p)
	}
	for wi, p := range [numWindows]*float64{r.UtilizationAvg1, r.UtilizationAvg3, r.UtilizationAvg6, r.UtilizationAvg12} {
		optF(windowed(gUtilizationAvg, wi), p)
	}
	for wi, p := range [numWindows]*float64{r.InstallmentShare1, r.InstallmentShare3, r.InstallmentShare6, r.InstallmentShare12} {
		optF(windowed(gInstallmentShare, wi), p)
	}
	for wi, v := range [numWindows]int32{r.MaxDPD1, r.MaxDPD3, r.MaxDPD6, r.MaxDPD12} {
		set(windowed(gMaxDPD, wi), float64(v))
	}
	for wi, v := range [numWindows]int32{r.OverdueEpisodes1, r.OverdueEpisodes3, r.OverdueEpisodes6, r.OverdueEpisodes12} {
		set(windowed(gOverdueEpisodes, wi), float64(v))
	}
	for wi, v := range [numWindows]int32{r.FailedDeductions1, r.FailedDeductions3, r.FailedDeductions6, r.FailedDeductions12} {
		set(windowed(gFailedDeductions, wi), float64(v))
	}
	for wi, v := range [numWindows]int32{r.MinPayCycles1, r.MinPayCycles3, r.MinPayCycles6, r.MinPayCycles12} {
		set(windowed(gMinPayCycles, wi), float64(v))
	}
	return f, nil
}
