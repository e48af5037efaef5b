package billing

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// A scenario is one scripted account followed day by day through Close. Its
// log, testdata/NAME.golden, shows every event, statement, line, notice,
// delinquency and bureau row, and the account's position after each day.
type scenario struct {
	name       string
	from, to   string
	billingDay int32
	limit      string
	config     func(*Config)
	script     func(*script)
}

var scenarios = []scenario{
	{
		name: "pay_in_full", from: "2024-03-01", to: "2024-05-20", billingDay: 1, limit: "5000.00",
		script: func(s *script) {
			s.buy("2024-03-05", "P1", "500.00", 1, "0").
				buy("2024-03-20", "P2", "120.50", 1, "0").
				pay("2024-04-08", "R1", "620.50").
				buy("2024-04-15", "P3", "88.00", 1, "0").
				pay("2024-05-10", "R2", "88.00")
		},
	},
	{
		name: "minimum_only", from: "2024-03-01", to: "2024-06-15", billingDay: 1, limit: "10000.00",
		script: func(s *script) {
			s.buy("2024-03-03", "P1", "3000.00", 1, "0").
				buy("2024-03-12", "I1", "1200.00", 12, "0.005").
				pay("2024-04-10", "R1", "406.00"). // the minimum: 300.00 + 106.00
				pay("2024-05-09", "R2", "403.00").
				pay("2024-06-07", "R3", "387.30")
		},
	},
	{
		name: "partial_and_late", from: "2024-03-01", to: "2024-06-10", billingDay: 1, limit: "10000.00",
		script: func(s *script) {
			s.buy("2024-03-10", "P1", "2000.00", 1, "0").
				pay("2024-04-08", "R1", "50.00"). // less than the minimum 200.00
				fail("2024-04-10", "R2", "150.00").
				pay("2024-04-14", "R3", "150.00"). // late: catches up the minimum
				pay("2024-05-25", "R4", "1000.00").
				pay("2024-06-05", "R5", "900.00")
		},
	},
	{
		name: "refunds", from: "2024-03-01", to: "2024-06-15", billingDay: 1, limit: "20000.00",
		script: func(s *script) {
			s.buy("2024-03-02", "P1", "800.00", 1, "0").
				refund("2024-03-06", "F1", "P1", "300.00"). // partial, before the statement
				buy("2024-03-08", "I1", "1200.00", 12, "0.005").
				buy("2024-03-09", "I2", "600.00", 6, "0.006").
				refund("2024-03-15", "F9", "NOPE", "10.00"). // unknown purchase: reject
				pay("2024-04-05", "R1", "721.60").
				refund("2024-04-20", "F2", "I1", "300.00"). // partial: unbilled principal 1100 → 800
				refund("2024-04-25", "F3", "P1", "600.00"). // too large: 300 already refunded
				refund("2024-04-26", "F4", "P1", "500.00"). // the rest: credited
				refund("2024-05-12", "F5", "I2", "600.00"). // full: cancels I2, credits billed principal and fee
				pay("2024-05-08", "R2", "0.01")
		},
	},
	{
		name: "early_payoff", from: "2024-03-01", to: "2024-07-15", billingDay: 1, limit: "20000.00",
		script: func(s *script) {
			s.buy("2024-03-10", "I1", "1200.00", 12, "0.005").
				buy("2024-03-11", "I2", "600.00", 3, "0").
				pay("2024-04-09", "R1", "306.00").
				pay("2024-05-08", "R2", "306.00").
				payoff("2024-05-20", "R3", "1000.00", "I1"). // 1000.00 principal left, fees waived
				payoff("2024-05-21", "R4", "10.00", "NOPE"). // unknown plan: reject
				pay("2024-06-05", "R5", "200.00")
		},
	},
	{
		name: "payoff_charges_fees", from: "2024-03-01", to: "2024-05-15", billingDay: 1, limit: "20000.00",
		config: func(c *Config) { c.PayoffChargesFees = true },
		script: func(s *script) {
			s.buy("2024-03-10", "I1", "1200.00", 12, "0.005").
				pay("2024-04-09", "R1", "106.00").
				payoff("2024-04-20", "R2", "1166.00", "I1") // 1100.00 principal + 11 × 6.00 fees
		},
	},
	{
		name: "deferral", from: "2024-03-01", to: "2024-08-15", billingDay: 1, limit: "20000.00",
		script: func(s *script) {
			s.buy("2024-03-10", "I1", "600.00", 6, "0.005").
				pay("2024-04-05", "R1", "103.00").
				request("2024-04-20", Request{RequestID: "Q1", Kind: DeferPlan, TxnID: "I1", Periods: 2}).
				request("2024-04-21", Request{RequestID: "Q2", Kind: DeferPlan, TxnID: "I1", Periods: 2}). // over the cap of 3
				request("2024-04-22", Request{RequestID: "Q3", Kind: DeferPlan, TxnID: "NOPE", Periods: 1}).
				pay("2024-07-05", "R2", "103.00").
				pay("2024-08-05", "R3", "103.00")
		},
	},
	{
		name: "overpayment", from: "2024-03-01", to: "2024-06-12", billingDay: 1, limit: "20000.00",
		script: func(s *script) {
			s.buy("2024-03-04", "P1", "100.00", 1, "0").
				pay("2024-04-03", "R1", "500.00"). // 400.00 becomes a credit balance
				buy("2024-04-10", "P2", "250.00", 1, "0").
				buy("2024-04-11", "I1", "300.00", 3, "0").
				buy("2024-05-20", "P3", "200.00", 1, "0").
				pay("2024-06-05", "R2", "150.00")
		},
	},
	{
		name: "close_request", from: "2024-03-01", to: "2024-05-12", billingDay: 1, limit: "5000.00",
		script: func(s *script) {
			s.buy("2024-03-05", "P1", "300.00", 1, "0").
				request("2024-03-20", Request{RequestID: "Q1", Kind: CloseAccount}).
				pay("2024-04-05", "R1", "300.00").
				buy("2024-04-20", "P2", "50.00", 1, "0"). // rejected: closed on 04-05
				pay("2024-05-02", "R2", "60.00")          // a credit on the closed account, to be paid out
		},
	},
	{
		name: "billing_day_change", from: "2024-03-01", to: "2024-07-20", billingDay: 1, limit: "5000.00",
		script: func(s *script) {
			s.buy("2024-03-05", "P1", "300.00", 1, "0").
				request("2024-03-25", Request{RequestID: "Q1", Kind: ChangeBillingDay, BillingDay: 15}). // too early
				pay("2024-04-05", "R1", "300.00").
				request("2024-06-02", Request{RequestID: "Q2", Kind: ChangeBillingDay, BillingDay: 15}).
				buy("2024-06-03", "P2", "99.00", 1, "0").
				pay("2024-06-20", "R2", "99.00")
		},
	},
	{
		// Never paid: frozen past 30 days, charged off at 180, then a recovery.
		name: "charge_off", from: "2025-01-15", to: "2025-09-10", billingDay: 1, limit: "5000.00",
		script: func(s *script) {
			s.buy("2025-01-20", "P1", "1000.00", 1, "0").
				buy("2025-02-10", "I1", "600.00", 3, "0").
				fail("2025-03-10", "R1", "100.00").
				pay("2025-09-08", "R2", "200.00") // after charge-off: a recovery
		},
	},
	{
		// 200 days: spending, a missed payment, a partial catch-up, DPD past
		// the freeze threshold, full catch-up, then 90 clean days to thaw.
		name: "delinquency_200_days", from: "2024-01-01", to: "2024-07-18", billingDay: 5, limit: "8000.00",
		script: func(s *script) {
			s.buy("2024-01-08", "P1", "2000.00", 1, "0").
				buy("2024-01-20", "I1", "1200.00", 12, "0.005").
				fail("2024-02-13", "R1", "306.00").
				fail("2024-02-14", "R2", "306.00").
				pay("2024-03-10", "R3", "200.00"). // partial catch-up
				pay("2024-03-25", "R4", "500.00"). // catches up: current again, still frozen
				pay("2024-04-12", "R6", "290.83").
				pay("2024-05-10", "R7", "264.41").
				pay("2024-06-10", "R8", "1000.00").
				buy("2024-06-20", "P2", "50.00", 1, "0"). // frozen accounts still book authorized purchases
				pay("2024-07-10", "R9", "529.72")
		},
	},
}

func TestGolden(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			if sc.config != nil {
				sc.config(&cfg)
			}
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			from, to := mustDate(t, sc.from), mustDate(t, sc.to)
			a := newTestAccount(from, sc.billingDay, mustMoney(t, sc.limit))
			a.Grade = "B"
			s := newScript(t)
			sc.script(s)
			var log bytes.Buffer
			follow(t, &cfg, a, from, to, s, &log)
			path := filepath.Join("testdata", sc.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, log.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(log.Bytes(), want) {
				t.Errorf("scenario %s differs from %s; run go test -update and review the diff", sc.name, path)
			}
		})
	}
}
