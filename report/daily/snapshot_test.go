package daily

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// A summary written as its Snapshot, through JSON, and read back gives
// the same rows; snapshots of parts of the book merge into the rows of
// the whole book.
func TestSnapshotRoundTrip(t *testing.T) {
	day := billing.NewDate(2025, 3, 31)
	prior := &Prior{Months: 1, End: billing.NewDate(2025, 2, 28), DelinquentIDs: []int64{7, 14}, DPD: []int32{35, 95},
		ScoredIDs: []int64{1, 2, 7, 14}, GradeOf: []uint8{0, 1, 0, 1}, GradeNames: []string{"A", "B"}}
	n := &Night{Day: day, Grades: []string{"A", "B"}, Priors: []*Prior{prior}}
	var accounts []billing.Account
	for i := range 40 {
		accounts = append(accounts, billing.Account{ID: int64(i + 1), Status: []billing.Status{billing.Active, billing.Frozen, billing.Closed}[i%3],
			ActivatedOn: 1, OpenedOn: billing.NewDate(2024, time.Month(1+i%12), 3), Credit: billing.Money(-i * 100), ChargedOff: billing.Money(i % 5)})
	}
	add := func(s *Summary, i int) {
		var del *billing.DelinquencyRow
		if i%6 == 0 {
			del = &billing.DelinquencyRow{AccountID: int64(i + 1), DPD: int32(i * 4), PastDueAmount: billing.Money(i * 10)}
		}
		var r *scoring.Result
		if i%2 == 0 {
			r = &scoring.Result{Score: int32(600 + i), Grade: []string{"A", "B", "Z"}[i%3], PD: 0.01 * float64(i%4)}
		}
		s.Add(&accounts[i], accounts[i].Exposure(), int8(i%8), del, r)
		s.AddReject("transactions", []string{"unknown_account", "out_of_range"}[i%2])
	}
	all := New(n)
	for i := range accounts {
		add(all, i)
	}
	all.AddOutput(&billing.Output{Statements: []billing.StatementRow{{MinimumDue: 5, NewBalance: 50}},
		Notices: []billing.Notice{{Kind: "due_soon", Channel: "sms"}}}, []scoring.DecisionRow{{Action: "hold", Reasons: "no increase; grade B cuts 10%"}})
	through := func(s *Summary) *Summary {
		raw, err := json.Marshal(s.Snapshot())
		if err != nil {
			t.Fatal(err)
		}
		var o Snapshot
		if err := json.Unmarshal(raw, &o); err != nil {
			t.Fatal(err)
		}
		back, err := FromSnapshot(n, &o)
		if err != nil {
			t.Fatal(err)
		}
		return back
	}
	if got, want := through(all).Rows(), all.Rows(); !reflect.DeepEqual(got, want) {
		t.Fatalf("read back:\n%+v\nwant\n%+v", got, want)
	}
	merged := New(n)
	for lo := 0; lo < len(accounts); lo += 13 {
		part := New(n)
		for i := lo; i < min(lo+13, len(accounts)); i++ {
			add(part, i)
		}
		if lo == 0 {
			part.AddOutput(&billing.Output{Statements: []billing.StatementRow{{MinimumDue: 5, NewBalance: 50}},
				Notices: []billing.Notice{{Kind: "due_soon", Channel: "sms"}}}, []scoring.DecisionRow{{Action: "hold", Reasons: "no increase; grade B cuts 10%"}})
		}
		merged.Merge(through(part))
	}
	if got, want := merged.Rows(), all.Rows(); !reflect.DeepEqual(got, want) {
		t.Errorf("merged snapshots:\n%+v\nwant\n%+v", got, want)
	}
	if _, err := FromSnapshot(n, &Snapshot{APR: []int64{1}}); err == nil {
		t.Error("a snapshot of another shape was read")
	}
}
