package daily

import (
	"fmt"
	"slices"

	"github.com/creditrun/creditrun/billing"
)

// Snapshot is a Summary's accumulators in a form that JSON keeps exactly:
// every count and amount an integer (amounts in fen), every map a list in
// key order. A sharded night's parts each write the Snapshot of their
// accounts, and the commit merges them into the night's summary
// (FromSnapshot, then Merge): the result is the summary of the whole book,
// row for row. The flows, PSI and rejects are not in it; the commit sets
// them for the book.
type Snapshot struct {
	Accounts         int64               `json:"accounts"`
	Status           []SnapKeyed         `json:"status,omitempty"`
	Buckets          [8]SnapAmount       `json:"buckets"`
	Grades           []SnapGrade         `json:"grades,omitempty"`
	Statements       int64               `json:"statements"`
	MinimumDue       billing.Money       `json:"minimum_due"`
	NewBalance       billing.Money       `json:"new_balance"`
	Plans            int64               `json:"plans"`
	OverCap          int64               `json:"over_cap"`
	Principal        billing.Money       `json:"principal"`
	OverCapPrincipal billing.Money       `json:"over_cap_principal"`
	APR              []int64             `json:"apr"`
	Notices          []SnapCount         `json:"notices,omitempty"`
	Limits           []SnapKeyed         `json:"limits,omitempty"`
	LimitReasons     []SnapCount         `json:"limit_reasons,omitempty"`
	RollDay          [][numClasses]int64 `json:"roll_day"`
	RollMonth        [][numClasses]int64 `json:"roll_month"`
	Vintage          []SnapVintage       `json:"vintage,omitempty"`
	Backtest         []SnapCount         `json:"backtest,omitempty"`
	BacktestBad      []SnapCount         `json:"backtest_bad,omitempty"`
	Rejects          []SnapCount         `json:"rejects,omitempty"`
}

// SnapAmount is a count and an amount.
type SnapAmount struct {
	N      int64         `json:"n"`
	Amount billing.Money `json:"amount"`
}

// SnapKeyed is a count and an amount under a key.
type SnapKeyed struct {
	Key string `json:"key"`
	SnapAmount
}

// SnapCount is a count under one or two keys.
type SnapCount struct {
	Key  string `json:"key"`
	Key2 string `json:"key2,omitempty"`
	N    int64  `json:"n"`
}

// SnapGrade is a grade's accumulators (PD in billionths).
type SnapGrade struct {
	Grade    string        `json:"grade"`
	Accounts int64         `json:"accounts"`
	Exposure billing.Money `json:"exposure"`
	Score    int64         `json:"score"`
	PD       int64         `json:"pd"`
}

// SnapVintage is an opening month's counts: all, 30+ and 90+.
type SnapVintage struct {
	Month billing.Date `json:"month"`
	N     [3]int64     `json:"n"`
}

// Snapshot returns s's accumulators.
func (s *Summary) Snapshot() *Snapshot {
	o := &Snapshot{Accounts: s.accounts, Statements: s.statements, MinimumDue: s.minimumDue, NewBalance: s.newBalance,
		Plans: s.plans, OverCap: s.overCap, Principal: s.principal, OverCapPrincipal: s.overCapPrincipal,
		APR: slices.Clone(s.apr), RollDay: s.rollDay[:], RollMonth: s.rollMonth[:]}
	for _, k := range sortedKeys(s.status) {
		o.Status = append(o.Status, SnapKeyed{k, SnapAmount{s.status[k].n, s.status[k].amount}})
	}
	for i, b := range s.buckets {
		o.Buckets[i] = SnapAmount{b.n, b.amount}
	}
	for _, g := range sortedKeys(s.grades) {
		v := s.grades[g]
		o.Grades = append(o.Grades, SnapGrade{g, v.accounts, v.exposure, v.score, v.pd})
	}
	o.Notices = snapCounts(s.notices)
	for _, k := range sortedKeys(s.limits) {
		o.Limits = append(o.Limits, SnapKeyed{k, SnapAmount{s.limits[k].n, s.limits[k].amount}})
	}
	for _, a := range sortedKeys(s.limitReasons) {
		for _, k := range sortedKeys(s.limitReasons[a]) {
			o.LimitReasons = append(o.LimitReasons, SnapCount{a, k, *s.limitReasons[a][k]})
		}
	}
	months := make([]billing.Date, 0, len(s.vintage))
	for m := range s.vintage {
		months = append(months, m)
	}
	slices.Sort(months)
	for _, m := range months {
		o.Vintage = append(o.Vintage, SnapVintage{m, *s.vintage[m]})
	}
	o.Backtest = snapCounts(s.backtest)
	o.BacktestBad = snapCounts(s.backtestBad)
	o.Rejects = snapCounts(s.rejects)
	return o
}

func snapCounts(m map[keyed]int64) []SnapCount {
	var out []SnapCount
	for _, k := range sortedKeyed(m) {
		out = append(out, SnapCount{k.key, k.key2, m[k]})
	}
	return out
}

// FromSnapshot returns the summary of night n whose accumulators are o's.
func FromSnapshot(n *Night, o *Snapshot) (*Summary, error) {
	if len(o.APR) != len(APRBins)+1 || len(o.RollDay) != numClasses || len(o.RollMonth) != numClasses {
		return nil, fmt.Errorf("daily summary snapshot: %d APR bins, %d and %d roll classes; want %d and %d",
			len(o.APR), len(o.RollDay), len(o.RollMonth), len(APRBins)+1, numClasses)
	}
	s := New(n)
	s.accounts = o.Accounts
	for _, k := range o.Status {
		s.status[k.Key] = &amounted{k.N, k.Amount}
	}
	for i, b := range o.Buckets {
		s.buckets[i] = amounted{b.N, b.Amount}
	}
	for _, g := range o.Grades {
		s.grades[g.Grade] = &gradeAcc{g.Accounts, g.Exposure, g.Score, g.PD}
	}
	s.statements, s.minimumDue, s.newBalance = o.Statements, o.MinimumDue, o.NewBalance
	s.plans, s.overCap, s.principal, s.overCapPrincipal = o.Plans, o.OverCap, o.Principal, o.OverCapPrincipal
	copy(s.apr, o.APR)
	for _, c := range o.Notices {
		s.notices[keyed{c.Key, c.Key2}] += c.N
	}
	for _, k := range o.Limits {
		s.limits[k.Key] = &amounted{k.N, k.Amount}
	}
	for _, c := range o.LimitReasons {
		m := s.limitReasons[c.Key]
		if m == nil {
			m = map[string]*int64{}
			s.limitReasons[c.Key] = m
		}
		m[c.Key2] = new(c.N)
	}
	copy(s.rollDay[:], o.RollDay)
	copy(s.rollMonth[:], o.RollMonth)
	for _, v := range o.Vintage {
		s.vintage[v.Month] = new(v.N)
	}
	for _, c := range o.Backtest {
		s.backtest[keyed{c.Key, c.Key2}] += c.N
	}
	for _, c := range o.BacktestBad {
		s.backtestBad[keyed{c.Key, c.Key2}] += c.N
	}
	for _, c := range o.Rejects {
		s.rejects[keyed{c.Key, c.Key2}] += c.N
	}
	return s, nil
}
