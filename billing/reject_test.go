package billing

import (
	"testing"
	"time"
)

func TestRejectReasons(t *testing.T) {
	day := NewDate(2025, 3, 5)
	at := day.Time().Add(4 * time.Hour).UnixMicro() // noon in Shanghai
	active := func() *Account {
		return &Account{ID: 7, Status: Active, Limit: 1000000, BillingDay: 20, OpenedOn: day - 400, ActivatedOn: day - 400,
			Purchases: []PurchaseRef{{TxnID: "P1", Date: day - 3, Amount: 10000, Installments: 1}}}
	}
	buy := func(id string, n int32) Transaction {
		return Transaction{TxnID: id, AccountID: 7, PostedAt: at, Kind: Purchase, Amount: 5000, Installments: n, Src: Source{File: 2, Row: 9}}
	}
	for _, tc := range []struct {
		name    string
		account func() *Account
		cfg     func(*Config)
		ev      Events
		reason  string
		key     string
	}{
		{"refund of an unknown purchase", active, nil, Events{Transactions: []Transaction{
			{TxnID: "R1", AccountID: 7, PostedAt: at, Kind: Refund, Amount: 100, RefTxnID: "NOPE"}}}, RejectUnknownPurchase, "R1"},
		{"refund above the purchase", active, nil, Events{Transactions: []Transaction{
			{TxnID: "R2", AccountID: 7, PostedAt: at, Kind: Refund, Amount: 10001, RefTxnID: "P1"}}}, RejectRefundTooLarge, "R2"},
		{"purchase on a closed account", func() *Account { a := active(); a.Status, a.ClosedOn = Closed, day-10; return a }, nil,
			Events{Transactions: []Transaction{buy("T1", 1)}}, RejectAccountClosed, "T1"},
		{"purchase on a pending account", func() *Account { a := active(); a.Status, a.Limit, a.ActivatedOn = Pending, 0, 0; return a }, nil,
			Events{Transactions: []Transaction{buy("T2", 1)}}, RejectNotActive, "T2"},
		{"installments on a purchase below the minimum", active, nil,
			Events{Transactions: []Transaction{{TxnID: "T4", AccountID: 7, PostedAt: at, Kind: Purchase, Amount: 9999, Installments: 3}}}, RejectInstallments, "T4"},
		{"installments that would leave no last period", active, func(c *Config) { c.MinInstallmentAmount = 1 },
			Events{Transactions: []Transaction{{TxnID: "T5", AccountID: 7, PostedAt: at, Kind: Purchase, Amount: 15, Installments: 24}}}, RejectInstallments, "T5"},
		{"payoff of an unknown plan", active, nil, Events{Repayments: []Repayment{
			{RepaymentID: "Y1", AccountID: 7, PaidAt: at, Amount: 5000, Status: Succeeded, Channel: "app", PayoffTxnID: "NOPE"}}}, RejectUnknownPlan, "Y1"},
		{"installments the policy does not offer", active, func(c *Config) {
			c.InstallmentOptions = []int32{1, 3, 6}
			c.Offers.Pricing = []GradePricing{{Grade: "A", InterestFree: []int32{3}}}
		},
			Events{Transactions: []Transaction{buy("T3", 12)}}, RejectInstallments, "T3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			a := tc.account()
			before := a.Exposure()
			var out Output
			if err := Close(&cfg, a, day, &tc.ev, &out); err != nil {
				t.Fatalf("Close: %v", err)
			}
			if len(out.Rejects) != 1 || out.Rejects[0].Reason != tc.reason || out.Rejects[0].Key != tc.key {
				t.Fatalf("Close(%s) rejects = %+v, want one %s for %s", tc.name, out.Rejects, tc.reason, tc.key)
			}
			if a.Exposure() != before || out.Flows.Net() != 0 {
				t.Errorf("a rejected event moved money: exposure %s → %s, flows %+v", before, a.Exposure(), out.Flows)
			}
		})
	}
}
