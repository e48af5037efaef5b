//go:build calibration

package scoring_test

// The calibration test runs the synthetic book (fixtures) through billing for
// a year and checks that the default scorecard rank-orders the generator's
// personas. It needs the whole domain and takes a few seconds, so it runs
// only with -tags calibration:
//
//	go test -tags calibration -run Calibration -v ./scoring

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/fixtures"
	"github.com/creditrun/creditrun/scoring"
)

type memSink struct {
	accts []fixtures.Account
	days  []fixtures.Day
}

func (m *memSink) WriteAccounts(_ context.Context, a []fixtures.Account) error {
	m.accts = append(m.accts, a...)
	return nil
}

func (m *memSink) WriteDay(_ context.Context, d *fixtures.Day) error {
	c := *d
	c.Transactions = slices.Clone(d.Transactions)
	c.Repayments = slices.Clone(d.Repayments)
	c.Requests = slices.Clone(d.Requests)
	m.days = append(m.days, c)
	return nil
}

func (m *memSink) Finish(context.Context) error { return nil }

func TestCalibration(t *testing.T) {
	cfg := fixtures.DefaultConfig()
	cfg.Accounts, cfg.Days, cfg.Seed = 4000, 365, 3
	cfg.Start = billing.NewDate(2025, 1, 1)
	m := &memSink{}
	if _, err := fixtures.Generate(context.Background(), cfg, m); err != nil {
		t.Fatal(err)
	}
	bc := billing.DefaultConfig()
	if err := bc.Validate(); err != nil {
		t.Fatal(err)
	}
	sc := scoring.DefaultConfig()
	accts := make([]*billing.Account, len(m.accts))
	index := map[int64]int{}
	for i, a := range m.accts {
		accts[i] = &billing.Account{ID: a.ID, CustomerID: a.CustomerID, OpenedOn: a.OpenedOn, Status: a.Status,
			ActivatedOn: a.OpenedOn, LimitChangedOn: a.OpenedOn, Limit: a.Limit, BillingDay: a.BillingDay,
			ExternalScore: a.ExternalScore, HasExternalScore: a.ExternalScore != 0, Fraud: a.Fraud}
		index[a.ID] = i
	}
	var out billing.Output
	var last billing.Date
	for _, d := range m.days {
		ev := make([]billing.Events, len(accts))
		for _, x := range d.Transactions {
			e := &ev[index[x.AccountID]]
			e.Transactions = append(e.Transactions, x)
		}
		for _, x := range d.Repayments {
			e := &ev[index[x.AccountID]]
			e.Repayments = append(e.Repayments, x)
		}
		for _, x := range d.Requests {
			e := &ev[index[x.AccountID]]
			e.Requests = append(e.Requests, x)
		}
		for i, a := range accts {
			if a.Status == billing.Closed || a.Status == billing.Pending {
				continue
			}
			out.Reset()
			if err := billing.Close(&bc, a, d.Date, &ev[i], &out); err != nil {
				t.Fatalf("account %d on %s: %v", a.ID, d.Date, err)
			}
		}
		last = d.Date
	}

	type tally struct {
		n, sum int
		grades [5]int
	}
	var by [fixtures.NumPersonas]tally
	for i, a := range accts {
		if a.Status == billing.Closed || a.Status == billing.Pending {
			continue
		}
		f := scoring.ComputeFeatures(a, last)
		r := sc.Score(&f)
		t := &by[m.accts[i].Persona]
		t.n++
		t.sum += int(r.Score)
		t.grades[sc.GradeIndex(r.Grade)]++
	}
	mean := func(p fixtures.Persona) float64 { return float64(by[p].sum) / float64(max(by[p].n, 1)) }
	for p := range fixtures.NumPersonas {
		fmt.Printf("%-14s %5d accounts, mean score %.0f, grades A..E %v\n", p, by[p].n, mean(p), by[p].grades)
	}
	order := []fixtures.Persona{fixtures.Transactor, fixtures.Revolver, fixtures.CardFailure, fixtures.LatePayer, fixtures.Defaulter}
	for i := 1; i < len(order); i++ {
		if mean(order[i]) >= mean(order[i-1]) {
			t.Errorf("mean score of %s %.0f, want below %s's %.0f", order[i], mean(order[i]), order[i-1], mean(order[i-1]))
		}
	}
}
