package state

import (
	"reflect"
	"testing"

	"github.com/creditrun/creditrun/billing"
)

// The failed repayments and accruals kept for platform incidents survive a
// snapshot, NULLs included.
func TestIncidentMemoryRoundTrip(t *testing.T) {
	day := billing.NewDate(2025, 4, 12)
	accounts := []billing.Account{
		{ID: 1, CustomerID: "c1", Status: billing.Active, BillingDay: 1, ClosedBy: billing.ClosedByCustomer,
			Failures: []billing.FailedDeduction{
				{RepaymentID: "p1", Channel: billing.ChannelAutoDebit, PaidAt: 1744243200123456, Date: day - 2, Excused: "inc-1"},
				{RepaymentID: "p2", Channel: billing.ChannelApp, PaidAt: 1744329600000000, Date: day - 1},
			},
			Accruals: []billing.Accrual{
				{Date: day - 1, FirstDue: day - 2, OldestDue: day - 2, DPD: 1, Penalty: 5, Revolving: 50},
				{Date: day, Revolving: 45},
			}},
		{ID: 2, CustomerID: "c2", Status: billing.Closed, BillingDay: 3, ClosedOn: day - 40, ClosedBy: billing.ClosedByChargeOff},
	}
	dir := t.TempDir()
	if err := Write(dir, accounts); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if !reflect.DeepEqual(got[i].Failures, accounts[i].Failures) || !reflect.DeepEqual(got[i].Accruals, accounts[i].Accruals) ||
			got[i].ClosedBy != accounts[i].ClosedBy {
			t.Errorf("account %d read back\n%+v\n%+v\nwant\n%+v\n%+v", got[i].ID, got[i].Failures, got[i].Accruals,
				accounts[i].Failures, accounts[i].Accruals)
		}
	}
}
