package billing

import "testing"

func TestOffer(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	prices := cfg.Offers.Prices()
	const day = Date(20089)
	rate := func(p *Rate) string {
		if p == nil {
			return "NULL"
		}
		return p.String()
	}
	for _, tc := range []struct {
		name              string
		a                 Account
		available         string
		offered           bool
		fee3, apr3, fee24 string
		interestFree      int32
		grade             string
	}{
		{name: "grade A: 3 and 6 free, 12 and 24 priced", a: Account{ID: 1, Status: Active, Limit: 10_000_00, Grade: "A",
			Cycle: Cycle{Purchases: 1_500_00}}, available: "8500.00", offered: true,
			fee3: "0.000000", apr3: "0.000000", fee24: "0.006500", interestFree: 6, grade: "A"},
		{name: "grade D: 3 and 6 priced, no 24", a: Account{ID: 2, Status: Active, Limit: 5_000_00, Grade: "D"},
			available: "5000.00", offered: true, fee3: "0.009000", apr3: "0.161282", fee24: "NULL", grade: "D"},
		{name: "grade E: no installments", a: Account{ID: 3, Status: Active, Limit: 5_000_00, Grade: "E"},
			available: "5000.00", fee3: "NULL", apr3: "NULL", fee24: "NULL", grade: "E"},
		{name: "frozen: nothing available", a: Account{ID: 4, Status: Frozen, Limit: 5_000_00, Grade: "A"},
			available: "0.00", fee3: "NULL", apr3: "NULL", fee24: "NULL", grade: "A"},
		{name: "pending: no limit, no grade", a: Account{ID: 5, Status: Pending},
			available: "0.00", fee3: "NULL", apr3: "NULL", fee24: "NULL"},
		{name: "owes more than the limit", a: Account{ID: 6, Status: Active, Limit: 1_000_00, Grade: "A",
			Cycle: Cycle{Purchases: 1_200_00}}, available: "0.00", fee3: "NULL", apr3: "NULL", fee24: "NULL", grade: "A"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var g string
			row := Offer(&tc.a, day, cfg.Currency, prices, "v", &g)
			if row.AvailableCredit.String() != tc.available || row.InstallmentsOffered != tc.offered ||
				rate(row.FeeRate3) != tc.fee3 || rate(row.APR3) != tc.apr3 || rate(row.FeeRate24) != tc.fee24 {
				t.Errorf("Offer = available %s offered %v fee3 %s apr3 %s fee24 %s, want %s %v %s %s %s",
					row.AvailableCredit, row.InstallmentsOffered, rate(row.FeeRate3), rate(row.APR3), rate(row.FeeRate24),
					tc.available, tc.offered, tc.fee3, tc.apr3, tc.fee24)
			}
			if (row.InterestFreePeriods == nil) != (tc.interestFree == 0) || row.InterestFreePeriods != nil && *row.InterestFreePeriods != tc.interestFree {
				t.Errorf("interest-free periods = %v, want %d", row.InterestFreePeriods, tc.interestFree)
			}
			if (row.Grade == nil) != (tc.grade == "") || row.Grade != nil && *row.Grade != tc.grade {
				t.Errorf("grade = %v, want %q", row.Grade, tc.grade)
			}
			if row.OfferDate != day+1 || row.Currency != "CNY" {
				t.Errorf("offer date %s currency %s, want %s CNY", row.OfferDate, row.Currency, day+1)
			}
		})
	}
	// Every priced plan of the default policy is within its cap.
	for _, g := range cfg.Offers.Pricing {
		for n, r := range g.FeeRates {
			if apr, ok := OfferAPR(n, r); !ok || apr > cfg.APRCap {
				t.Errorf("grade %s: %d at %s discloses %s, above the cap %s", g.Grade, n, r, apr, cfg.APRCap)
			}
		}
	}
}
