package daily

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

func TestDates(t *testing.T) {
	d := func(y int, m, day int) billing.Date { return billing.NewDate(y, time.Month(m), day) }
	tests := []struct {
		name string
		got  billing.Date
		want billing.Date
	}{
		{"PriorMonthEnd(2025-03-31, 1)", PriorMonthEnd(d(2025, 3, 31), 1), d(2025, 2, 28)},
		{"PriorMonthEnd(2025-03-15, 3)", PriorMonthEnd(d(2025, 3, 15), 3), d(2024, 12, 31)},
		{"PriorMonthEnd(2025-01-31, 12)", PriorMonthEnd(d(2025, 1, 31), 12), d(2024, 1, 31)},
		{"PriorMonthEnd(2024-03-31, 1)", PriorMonthEnd(d(2024, 3, 31), 1), d(2024, 2, 29)},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %s, want %s", tt.name, tt.got, tt.want)
		}
	}
	if !MonthEnd(d(2024, 2, 29)) || MonthEnd(d(2024, 2, 28)) {
		t.Errorf("MonthEnd: 2024-02-29 is the month end, 2024-02-28 is not")
	}
	if got := MonthsOnBook(d(2024, 11, 20), d(2025, 2, 1)); got != 3 {
		t.Errorf("MonthsOnBook(2024-11-20, 2025-02-01) = %d, want 3", got)
	}
}

func TestClass(t *testing.T) {
	day := billing.NewDate(2025, 3, 31)
	tests := []struct {
		name string
		a    billing.Account
		dpd  int32
		want string
		at   string // class at the month end before
	}{
		{"pending", billing.Account{Status: billing.Pending}, 0, ClassUnbooked, ClassUnbooked},
		{"activated this month", billing.Account{Status: billing.Active, ActivatedOn: day - 3}, 0, ClassCurrent, ClassUnbooked},
		{"past due 31 days", billing.Account{Status: billing.Active, ActivatedOn: 1}, 31, "M2", "M2"},
		{"past due 181 days", billing.Account{Status: billing.Frozen, ActivatedOn: 1}, 181, "M7+", "M7+"},
		{"charged off this month", billing.Account{Status: billing.Closed, ActivatedOn: 1, ClosedOn: day - 1, ChargedOff: 100}, 0, ClassChargedOff, ClassCurrent},
		{"closed long ago", billing.Account{Status: billing.Closed, ActivatedOn: 1, ClosedOn: 2}, 0, ClassClosed, ClassClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Class(&tt.a, tt.dpd); got != tt.want {
				t.Errorf("Class = %s, want %s", got, tt.want)
			}
			if got := Classes[classAt(&tt.a, PriorMonthEnd(day, 1), tt.dpd)]; got != tt.at {
				t.Errorf("class at the month end before = %s, want %s", got, tt.at)
			}
		})
	}
}

func TestLabels(t *testing.T) {
	var got []string
	for i := range len(APRBins) + 1 {
		got = append(got, APRBinLabel(i))
	}
	if want := []string{"0–6%", "6–12%", "12–18%", "18–24%", "24–30%", "30–36%", "36%+"}; !slices.Equal(got, want) {
		t.Errorf("APR bins = %q, want %q", got, want)
	}
	s := New(&Night{})
	s.AddOutput(&billing.Output{}, []scoring.DecisionRow{
		{Action: "keep", Reasons: "GRADE_CUT;CUT_COOLING"},
		{Action: "keep", Reasons: "INCREASE_COOLING;LOW_UTILIZATION"},
		{Action: "keep", Reasons: "LOW_UTILIZATION"},
		{Action: "increase", Reasons: "LOW_UTILIZATION", OldLimit: 100, NewLimit: 300},
		{Action: "keep", Reasons: "LOW_UTILIZATION"},
		{Action: "keep", Reasons: ""},
		{Action: "keep", Reasons: "GRADE_CUT;CUT_COOLING"},
	})
	s.AddOutput(&billing.Output{}, []scoring.DecisionRow{{Action: "keep", Reasons: "LOW_UTILIZATION"}})
	many := "A;B;C;D;E;F;G;H;I;J"
	s.AddOutput(&billing.Output{}, []scoring.DecisionRow{{Action: "cut", Reasons: many}, {Action: "cut", Reasons: many}})
	got = nil
	for _, a := range sortedKeys(s.limitReasons) {
		for _, k := range sortedKeys(s.limitReasons[a]) {
			got = append(got, a+":"+k+"="+strconv.FormatInt(*s.limitReasons[a][k], 10))
		}
	}
	if want := []string{"cut:A=2", "cut:B=2", "cut:C=2", "cut:D=2", "cut:E=2", "cut:F=2", "cut:G=2", "cut:H=2", "cut:I=2", "cut:J=2",
		"increase:LOW_UTILIZATION=1", "keep:CUT_COOLING=2", "keep:GRADE_CUT=2",
		"keep:INCREASE_COOLING=1", "keep:LOW_UTILIZATION=4"}; !slices.Equal(got, want) {
		t.Errorf("reason codes = %q, want %q", got, want)
	}
	if k, i := s.limits["keep"], s.limits["increase"]; k == nil || k.n != 7 || k.amount != 0 || i == nil || i.n != 1 || i.amount != 200 {
		t.Errorf("limits: keep %+v, increase %+v; want 7 of 0, 1 of 200", k, i)
	}
}

// Merging buckets gives the rows one summary of every account gives.
func TestMergeEqualsOneSummary(t *testing.T) {
	day := billing.NewDate(2025, 3, 31)
	n := &Night{Day: day, Grades: []string{"A", "B"}}
	var accounts []billing.Account
	for i := range 50 {
		accounts = append(accounts, billing.Account{ID: int64(i + 1), Status: billing.Active, ActivatedOn: 1,
			OpenedOn: billing.NewDate(2024, time.Month(1+i%12), 3), Credit: billing.Money(-i * 100)})
	}
	del := func(i int) *billing.DelinquencyRow {
		if i%7 != 0 {
			return nil
		}
		return &billing.DelinquencyRow{AccountID: int64(i + 1), DPD: int32(i * 3), PastDueAmount: billing.Money(i * 10)}
	}
	all := New(n)
	for i := range accounts {
		all.Add(&accounts[i], accounts[i].Exposure(), int8(i%8), del(i), nil)
	}
	merged := New(n)
	for lo := 0; lo < len(accounts); lo += 9 {
		part := New(n)
		for i := lo; i < min(lo+9, len(accounts)); i++ {
			part.Add(&accounts[i], accounts[i].Exposure(), int8(i%8), del(i), nil)
		}
		merged.Merge(part)
	}
	a, b := all.Rows(), merged.Rows()
	if len(a) != len(b) {
		t.Fatalf("%d rows merged, %d in one", len(b), len(a))
	}
	for i := range a {
		if a[i].Dimension != b[i].Dimension || a[i].Key != b[i].Key || a[i].K2() != b[i].K2() || a[i].Count != b[i].Count ||
			(a[i].Amount == nil) != (b[i].Amount == nil) || a[i].Amount != nil && *a[i].Amount != *b[i].Amount {
			t.Errorf("row %d: merged %+v, one summary %+v", i, b[i], a[i])
		}
	}
	if r := a[0]; r.Dimension != DimBook || r.Count != 50 {
		t.Errorf("first row %+v, want the book's 50 accounts", r)
	}
}

// Accounts of neighbouring and interleaved months each count in their
// opening month's vintage.
func TestVintageOfMonths(t *testing.T) {
	s := New(&Night{Day: billing.NewDate(2025, 6, 30)})
	want := map[billing.Date]int64{}
	for i, opened := range []billing.Date{
		billing.NewDate(2025, 1, 31), billing.NewDate(2025, 2, 1), billing.NewDate(2025, 1, 1),
		billing.NewDate(2025, 2, 28), billing.NewDate(2025, 3, 1), billing.NewDate(2024, 12, 31),
		billing.NewDate(2025, 1, 15), billing.NewDate(2025, 3, 31),
	} {
		y, m, _ := opened.YMD()
		want[billing.NewDate(y, m, 1)]++
		a := billing.Account{ID: int64(i + 1), Status: billing.Active, OpenedOn: opened, ActivatedOn: opened}
		s.Add(&a, 0, 0, nil, nil)
	}
	if len(s.vintage) != len(want) {
		t.Fatalf("%d vintages, want %d", len(s.vintage), len(want))
	}
	for m, n := range want {
		if v := s.vintage[m]; v == nil || v[0] != n {
			t.Errorf("vintage %s: %v, want %d accounts", m, v, n)
		}
	}
}

// vintageOf finds the opening month of every date as the calendar does:
// the months before the night's it keeps, a century back, and those
// outside them (earlier, or after the night's month).
func TestVintageOfCalendar(t *testing.T) {
	for _, night := range []billing.Date{
		billing.NewDate(2025, 6, 30), billing.NewDate(2024, 2, 29), billing.NewDate(2025, 1, 1), billing.NewDate(2025, 12, 31),
	} {
		s := New(&Night{Day: night})
		for opened := night - 365*120; opened <= night+400; opened++ {
			y, m, _ := opened.YMD()
			month := billing.NewDate(y, m, 1)
			got := s.vintageOf(opened)
			if want := s.vintage[month]; got != want {
				t.Fatalf("night %s: vintageOf(%s) is not the counters of %s", night, opened, month)
			}
		}
	}
}
