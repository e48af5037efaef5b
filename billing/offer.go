package billing

import (
	"fmt"
	"slices"
)

// OfferPeriods are the installment counts the offers table has columns
// for: the product's standard plans.
var OfferPeriods = [...]int32{3, 6, 12, 24}

// Offers is the policy of tomorrow's offer: what the checkout may offer
// each account on the day after the night (risk-based pricing by grade).
type Offers struct {
	// Pricing is, by grade, the installment counts offered and their
	// monthly flat fee rates. A grade without pricing is offered no
	// installments.
	Pricing []GradePricing
}

// GradePricing is the installment pricing of one grade.
type GradePricing struct {
	Grade string
	// FeeRates maps an installment count (one of OfferPeriods, and one of
	// the installment options) to its monthly flat fee rate.
	FeeRates map[int32]Rate
	// InterestFree are the counts offered at no fee ("3期免息"); they are
	// not in FeeRates.
	InterestFree []int32
}

// offerProbe is the principal the offers' APR is computed on: it divides
// evenly by every offered count, so the disclosed rate is the plan's own,
// with no rounding of fen in it.
const offerProbe Money = 12_000_00

// OfferAPR is the annualized rate (nominal) the checkout discloses for n
// installments at the monthly flat feeRate; ok is false when it cannot be
// represented.
func OfferAPR(n int32, feeRate Rate) (Rate, bool) {
	p := NewPlan("", 0, offerProbe, n, feeRate)
	nominal, _, ok := p.APR()
	return nominal, ok
}

// validate checks the offers' policy against the installment options and
// the APR cap: no offered plan may disclose a rate above it.
func (o *Offers) validate(c *Config, bad func(key, format string, a ...any)) {
	if len(c.Currency) != 3 || c.Currency != upperASCII(c.Currency) {
		bad("currency", "%q: want a three-letter ISO 4217 code such as CNY", c.Currency)
	}
	seen := map[string]bool{}
	for _, g := range o.Pricing {
		key := "offers.pricing." + g.Grade
		if g.Grade == "" || seen[g.Grade] {
			bad("offers.pricing", "grade %q: want each grade once", g.Grade)
		}
		seen[g.Grade] = true
		counts := append(sortedCounts(g.FeeRates), g.InterestFree...)
		for _, n := range counts {
			if !slices.Contains(OfferPeriods[:], n) || !slices.Contains(c.InstallmentOptions, n) {
				bad(key, "%d installments: not both a standard plan (3, 6, 12, 24) and one of installment_options", n)
			}
		}
		for _, n := range g.InterestFree {
			if _, both := g.FeeRates[n]; both {
				bad(key, "%d installments: both interest-free and priced", n)
			}
		}
		for _, n := range sortedCounts(g.FeeRates) {
			r := g.FeeRates[n]
			if r <= 0 || r > c.MaxFeeRate {
				bad(key, "%d installments at %s: want a fee rate above 0 and at most max_fee_rate %s (interest-free counts go in interest_free)", n, r, c.MaxFeeRate)
				continue
			}
			if apr, ok := OfferAPR(n, r); !ok || apr > c.APRCap {
				bad(key, "%d installments at %s a month disclose an APR of %s, above apr_cap %s", n, r, apr, c.APRCap)
			}
		}
	}
}

func sortedCounts(m map[int32]Rate) []int32 {
	out := make([]int32, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// OfferRow is one row of the offers table: what the checkout may offer
// an account on OfferDate, the day after the night. A fee rate and its APR
// are NULL for a count not offered.
type OfferRow struct {
	AccountID int64  `parquet:"account_id"`
	OfferDate Date   `parquet:"offer_date,date"`
	Currency  string `parquet:"currency,dict"`
	// CreditLimit is the limit after the night's decision.
	CreditLimit Money `parquet:"credit_limit,decimal(2:18)"`
	// Owed is the account's exposure: statement balances, unbilled
	// purchases and plan principal, less any credit balance (negative then).
	Owed Money `parquet:"owed,decimal(2:18)"`
	// AvailableCredit is the limit less what is owed, never below zero;
	// zero for a frozen or pending account.
	AvailableCredit Money `parquet:"available_credit,decimal(2:18)"`
	// Grade is the night's grade (NULL for an account never graded).
	Grade *string `parquet:"grade,optional,dict"`
	// InstallmentsOffered is whether any installment plan is offered.
	InstallmentsOffered bool  `parquet:"installments_offered"`
	FeeRate3            *Rate `parquet:"fee_rate_3,decimal(6:9),optional"`
	APR3                *Rate `parquet:"apr_3,decimal(6:9),optional"`
	FeeRate6            *Rate `parquet:"fee_rate_6,decimal(6:9),optional"`
	APR6                *Rate `parquet:"apr_6,decimal(6:9),optional"`
	FeeRate12           *Rate `parquet:"fee_rate_12,decimal(6:9),optional"`
	APR12               *Rate `parquet:"apr_12,decimal(6:9),optional"`
	FeeRate24           *Rate `parquet:"fee_rate_24,decimal(6:9),optional"`
	APR24               *Rate `parquet:"apr_24,decimal(6:9),optional"`
	// InterestFreePeriods is the largest count offered at no fee (NULL
	// when none is).
	InterestFreePeriods *int32 `parquet:"interest_free_periods,optional"`
	PolicyVersion       string `parquet:"policy_version,dict"`
}

// OfferPrices are a grade's prices as the offers table shows them, with
// their APRs worked out once.
type OfferPrices struct {
	fee, apr     [len(OfferPeriods)]*Rate
	interestFree *int32
	any          bool
}

// Prices works out the offers table's prices of every priced grade. The
// values are shared by every row of the grade: never modify them.
func (o *Offers) Prices() map[string]*OfferPrices {
	out := map[string]*OfferPrices{}
	for _, g := range o.Pricing {
		p := &OfferPrices{}
		for i, n := range OfferPeriods {
			if r, ok := g.FeeRates[n]; ok {
				apr, _ := OfferAPR(n, r)
				p.fee[i], p.apr[i], p.any = &r, &apr, true
			} else if slices.Contains(g.InterestFree, n) {
				zero := Rate(0)
				p.fee[i], p.apr[i], p.any = &zero, &zero, true
				nn := n
				p.interestFree = &nn
			}
		}
		out[g.Grade] = p
	}
	return out
}

// Offer is the offers table's row of live account a after the night of
// day: its available credit and the installment prices of its grade.
// grade points at the account's grade for the row (the caller keeps it
// alive); prices are those of Offers.Prices.
func Offer(a *Account, day Date, currency string, prices map[string]*OfferPrices, version string, grade *string) OfferRow {
	owed := a.Exposure()
	row := OfferRow{AccountID: a.ID, OfferDate: day + 1, Currency: currency, CreditLimit: a.Limit, Owed: owed,
		PolicyVersion: version}
	if a.Grade != "" {
		*grade = a.Grade
		row.Grade = grade
	}
	if a.Status != Active || a.Fraud {
		return row
	}
	if a.Limit > owed {
		row.AvailableCredit = a.Limit - owed
	}
	p := prices[a.Grade]
	if p == nil || !p.any || row.AvailableCredit < 1 {
		return row
	}
	row.InstallmentsOffered = true
	row.FeeRate3, row.APR3 = p.fee[0], p.apr[0]
	row.FeeRate6, row.APR6 = p.fee[1], p.apr[1]
	row.FeeRate12, row.APR12 = p.fee[2], p.apr[2]
	row.FeeRate24, row.APR24 = p.fee[3], p.apr[3]
	row.InterestFreePeriods = p.interestFree
	return row
}

// String describes a grade's pricing for messages.
func (g GradePricing) String() string {
	return fmt.Sprintf("%s: %v, interest-free %v", g.Grade, g.FeeRates, g.InterestFree)
}
