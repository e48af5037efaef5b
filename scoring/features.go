package scoring

import (
	"strconv"

	"github.com/creditrun/creditrun/billing"
)

// FeatureID names one feature. The constants below are every feature the
// package computes; doc.go defines each of them.
type FeatureID uint8

// Point-in-time features, as of the scoring date.
const (
	TenureMonths FeatureID = iota
	CyclesOnBook
	BureauScore
	Utilization
	CurrentDPD
	MonthsSinceDelinquency
	PayPattern3
	numPointFeatures
)

// Windowed features over the last 1, 3, 6 and 12 closed cycles.
const (
	Spend1 FeatureID = iota + numPointFeatures
	Spend3
	Spend6
	Spend12
	Billed1
	Billed3
	Billed6
	Billed12
	Paid1
	Paid3
	Paid6
	Paid12
	PaymentRatio1
	PaymentRatio3
	PaymentRatio6
	PaymentRatio12
	UtilizationAvg1
	UtilizationAvg3
	UtilizationAvg6
	UtilizationAvg12
	MaxDPD1
	MaxDPD3
	MaxDPD6
	MaxDPD12
	OverdueEpisodes1
	OverdueEpisodes3
	OverdueEpisodes6
	OverdueEpisodes12
	FailedDeductions1
	FailedDeductions3
	FailedDeductions6
	FailedDeductions12
	InstallmentShare1
	InstallmentShare3
	InstallmentShare6
	InstallmentShare12
	MinPayCycles1
	MinPayCycles3
	MinPayCycles6
	MinPayCycles12

	// NumFeatures is the number of features.
	NumFeatures
)

// Windows are the history windows, in closed cycles (about 30, 90, 180 and
// 365 days).
var Windows = [numWindows]int{1, 3, 6, 12}

const numWindows = 4

// Pay patterns, the categories of PayPattern3 (its value is the index).
const (
	PatternNew        = "new"
	PatternInactive   = "inactive"
	PatternTransactor = "transactor"
	PatternRevolver   = "revolver"
	PatternMinPayer   = "min_payer"
	PatternDelinquent = "delinquent"
)

var payPatterns = []string{PatternNew, PatternInactive, PatternTransactor, PatternRevolver, PatternMinPayer, PatternDelinquent}

const (
	patNew = iota
	patInactive
	patTransactor
	patRevolver
	patMinPayer
	patDelinquent
)

// Kind is a feature's unit.
type Kind uint8

const (
	KindCount    Kind = iota // a number of events or cycles
	KindMoney                // yuan (in Features; fen in the scores table)
	KindRatio                // a fraction
	KindDays                 // days
	KindMonths               // whole months
	KindScore                // a bureau score
	KindCategory             // one of FeatureInfo.Categories, valued by its index
)

// FeatureInfo describes a feature.
type FeatureInfo struct {
	Name         string // column and policy name, e.g. "payment_ratio_3"
	Kind         Kind
	Window       int // closed cycles; 0 for a point-in-time feature
	CanBeMissing bool
	Categories   []string // KindCategory only
	Doc          string
}

// windowGroup is one windowed feature, instantiated for every window.
type windowGroup struct {
	name    string
	kind    Kind
	missing bool
	doc     string
}

// Order matters: it is the order of the windowed constants above.
var windowGroups = [...]windowGroup{
	{"spend", KindMoney, false, "purchases made in the window, paid in full and in installments"},
	{"billed", KindMoney, false, "new charges billed by the window's statements (Billed of each cycle)"},
	{"paid", KindMoney, false, "successful repayments received in the window"},
	{"payment_ratio", KindRatio, true, "payments received in each cycle of the window divided by what the statement before it billed, summed over the window (a cycle whose previous statement is not in the history is left out); missing when that billed nothing"},
	{"utilization_avg", KindRatio, true, "mean of statement balance / limit over the window's cycles that had a limit (a credit balance counts as 0); missing when none had"},
	{"max_dpd", KindDays, false, "the most days past due reached in the window"},
	{"overdue_episodes", KindCount, false, "runs of consecutive cycles with days past due in the window"},
	{"failed_deductions", KindCount, false, "failed repayments (automatic deductions) in the window"},
	{"installment_share", KindRatio, true, "share of the window's spend taken in installments; missing when nothing was spent"},
	{"min_pay_cycles", KindCount, false, "cycles of the window in which the customer revolved on the minimum: the statement before had a balance above its minimum, and the cycle's payments were positive but at most 1.2 × that minimum"},
}

var featureInfo = func() [NumFeatures]FeatureInfo {
	var t [NumFeatures]FeatureInfo
	t[TenureMonths] = FeatureInfo{Name: "tenure_months", Kind: KindMonths,
		Doc: "whole months from opened_on to the scoring date"}
	t[CyclesOnBook] = FeatureInfo{Name: "cycles_on_book", Kind: KindCount,
		Doc: "closed cycles in the account's history (at most history_cycles)"}
	t[BureauScore] = FeatureInfo{Name: "bureau_score", Kind: KindScore, CanBeMissing: true,
		Doc: "the external bureau score; missing when the bureau has none"}
	t[Utilization] = FeatureInfo{Name: "utilization", Kind: KindRatio, CanBeMissing: true,
		Doc: "what is owed now (billed and unbilled charges net of credit, without unbilled installment principal) / the limit; missing while the limit is 0"}
	t[CurrentDPD] = FeatureInfo{Name: "current_dpd", Kind: KindDays,
		Doc: "days past due on the scoring date: the date minus the due date of the oldest statement whose minimum is still unpaid after its due date; 0 when current"}
	t[MonthsSinceDelinquency] = FeatureInfo{Name: "months_since_delinquency", Kind: KindMonths, CanBeMissing: true,
		Doc: "whole months since the account was last past due (0 while past due); missing when it never was"}
	t[PayPattern3] = FeatureInfo{Name: "pay_pattern_3", Kind: KindCategory, Categories: payPatterns, Window: 3,
		Doc: "how the last 3 cycles' statements were paid: delinquent (any days past due, then or now), new (no statement to pay yet), inactive (nothing owed on them), min_payer (at least half of the cycles with something owed were min_pay cycles), transactor (every statement paid in full), revolver (the rest)"}
	for g, wg := range windowGroups {
		for wi, w := range Windows {
			t[numPointFeatures+FeatureID(g*numWindows+wi)] = FeatureInfo{
				Name: wg.name + "_" + strconv.Itoa(w), Kind: wg.kind, Window: w,
				CanBeMissing: wg.missing, Doc: wg.doc,
			}
		}
	}
	return t
}()

// Info describes the feature.
func (id FeatureID) Info() FeatureInfo { return featureInfo[id] }

// String returns the feature's name.
func (id FeatureID) String() string {
	if id >= NumFeatures {
		return "feature(" + strconv.Itoa(int(id)) + ")"
	}
	return featureInfo[id].Name
}

// FeatureByName returns the feature named s.
func FeatureByName(s string) (FeatureID, bool) {
	for i := range featureInfo {
		if featureInfo[i].Name == s {
			return FeatureID(i), true
		}
	}
	return 0, false
}

// Features are one account's feature values as of a date. Values are in the
// unit of each feature's Kind (money in yuan); Missing marks a value that
// does not exist (its Values entry is 0). A categorical value is the index of
// its category.
type Features struct {
	Values  [NumFeatures]float64
	Missing [NumFeatures]bool
	// Spend, Billed and Paid are the money features exactly, in fen, by
	// window: the scores table prints these, the scorecard reads Values.
	Spend, Billed, Paid [numWindows]billing.Money
}

// Category returns the category name of a categorical feature's value.
func (f *Features) Category(id FeatureID) string {
	cats := featureInfo[id].Categories
	i := int(f.Values[id])
	if f.Missing[id] || i < 0 || i >= len(cats) {
		return ""
	}
	return cats[i]
}

func (f *Features) set(id FeatureID, v float64) { f.Values[id] = v }

func (f *Features) missing(id FeatureID) { f.Values[id], f.Missing[id] = 0, true }

func windowed(group, window int) FeatureID {
	return numPointFeatures + FeatureID(group*numWindows+window)
}

const (
	gSpend = iota
	gBilled
	gPaid
	gPaymentRatio
	gUtilizationAvg
	gMaxDPD
	gOverdueEpisodes
	gFailedDeductions
	gInstallmentShare
	gMinPayCycles
)

// ComputeFeatures derives the account's features as of day from its state
// alone: the per-cycle history, the open statements and the account's
// fields. It does not allocate.
func ComputeFeatures(a *billing.Account, day billing.Date) Features {
	var f Features
	f.compute(a, day)
	return f
}

// compute sets f to ComputeFeatures(a, day), in place.
func (f *Features) compute(a *billing.Account, day billing.Date) {
	*f = Features{}
	h := a.History
	n := len(h)

	f.set(TenureMonths, float64(monthsBetween(a.OpenedOn, day)))
	f.set(CyclesOnBook, float64(n))
	if a.HasExternalScore {
		f.set(BureauScore, float64(a.ExternalScore))
	} else {
		f.missing(BureauScore)
	}
	if a.Limit > 0 {
		f.set(Utilization, float64(max(a.Owed(), 0))/float64(a.Limit))
	} else {
		f.missing(Utilization)
	}
	dpd := DaysPastDue(a, day)
	f.set(CurrentDPD, float64(dpd))

	// Months since the last delinquency: the account's own record first,
	// then the history (a past-due cycle ends the day before its statement).
	last := a.LastPastDue
	for i := n - 1; i >= 0; i-- {
		if h[i].MaxDPD > 0 {
			last = max(last, h[i].StatementDate-1)
			break
		}
	}
	switch {
	case dpd > 0:
		f.set(MonthsSinceDelinquency, 0)
	case last > 0:
		f.set(MonthsSinceDelinquency, float64(monthsBetween(last, day)))
	default:
		f.missing(MonthsSinceDelinquency)
	}

	for wi, w := range Windows {
		var spend, inst, billed, paid, pairPaid, pairBilled billing.Money
		var utilSum float64
		var utilN, episodes, failed, minPay, payable, full int
		var maxDPD int32
		inRun := false
		for i := max(0, n-w); i < n; i++ {
			c := &h[i]
			spend += c.Spend
			inst += c.InstallmentSpend
			billed += c.Billed
			paid += c.Paid
			failed += int(c.FailedDeductions)
			maxDPD = max(maxDPD, c.MaxDPD)
			if c.MaxDPD > 0 {
				if !inRun {
					episodes++
				}
				inRun = true
			} else {
				inRun = false
			}
			if c.Limit > 0 {
				utilSum += float64(max(c.Balance, 0)) / float64(c.Limit)
				utilN++
			}
			if i == 0 {
				continue
			}
			p := &h[i-1]
			pairPaid += c.Paid
			pairBilled += p.Billed
			if p.Balance > 0 {
				payable++
				if c.Paid >= p.Balance {
					full++
				}
			}
			if p.Balance > p.MinimumDue && p.MinimumDue > 0 && c.Paid > 0 && c.Paid*10 <= p.MinimumDue*12 {
				minPay++
			}
		}
		f.Spend[wi], f.Billed[wi], f.Paid[wi] = spend, billed, paid
		f.set(windowed(gSpend, wi), yuan(spend))
		f.set(windowed(gBilled, wi), yuan(billed))
		f.set(windowed(gPaid, wi), yuan(paid))
		if pairBilled > 0 {
			f.set(windowed(gPaymentRatio, wi), float64(pairPaid)/float64(pairBilled))
		} else {
			f.missing(windowed(gPaymentRatio, wi))
		}
		if utilN > 0 {
			f.set(windowed(gUtilizationAvg, wi), utilSum/float64(utilN))
		} else {
			f.missing(windowed(gUtilizationAvg, wi))
		}
		f.set(windowed(gMaxDPD, wi), float64(maxDPD))
		f.set(windowed(gOverdueEpisodes, wi), float64(episodes))
		f.set(windowed(gFailedDeductions, wi), float64(failed))
		if spend > 0 {
			f.set(windowed(gInstallmentShare, wi), float64(inst)/float64(spend))
		} else {
			f.missing(windowed(gInstallmentShare, wi))
		}
		f.set(windowed(gMinPayCycles, wi), float64(minPay))

		if w == 3 {
			pat := patRevolver
			switch {
			case maxDPD > 0 || dpd > 0:
				pat = patDelinquent
			case n < 2:
				pat = patNew
			case payable == 0:
				pat = patInactive
			case 2*minPay >= payable:
				pat = patMinPayer
			case full == payable:
				pat = patTransactor
			}
			f.set(PayPattern3, float64(pat))
		}
	}
}

// DaysPastDue returns the account's days past due on day: day minus the due
// date of the oldest statement whose minimum is still unpaid after its due
// date, or 0.
func DaysPastDue(a *billing.Account, day billing.Date) int32 {
	var dpd int32
	for i := range a.Statements {
		s := &a.Statements[i]
		if s.MinRemaining > 0 && s.DueDate < day {
			dpd = max(dpd, int32(day-s.DueDate))
		}
	}
	return dpd
}

// yuan converts fen to yuan; the division is correctly rounded, so a value
// such as 1000.50 compares exactly with the same number written in a policy.
func yuan(m billing.Money) float64 { return float64(m) / 100 }

// monthsBetween returns the whole months from a to b (0 if b is before a).
func monthsBetween(a, b billing.Date) int {
	if b <= a {
		return 0
	}
	y1, m1, d1 := a.YMD()
	y2, m2, d2 := b.YMD()
	n := (y2-y1)*12 + int(m2) - int(m1)
	if d2 < d1 {
		n--
	}
	return max(n, 0)
}
