package billing

import (
	"testing"
	"time"
)

// Close passes a closed account's reopen_account request on to the policy
// (Output.Reopens) and declines one of an account that is not closed; a
// closure records why the account closed.
func TestCloseReopenRequest(t *testing.T) {
	cfg := DefaultConfig()
	day := NewDate(2025, time.June, 15)
	req := func(id string, kind RequestKind) Request {
		return Request{RequestID: id, AccountID: 1, RequestedAt: day.Time().UnixMicro(), Kind: kind}
	}
	tests := []struct {
		name        string
		status      Status
		reqs        []Request
		wantReopens int
		wantDecline int
		wantClosed  string // ClosedBy after the night
	}{
		{name: "closed account asks", status: Closed, reqs: []Request{req("r1", ReopenAccount)}, wantReopens: 1, wantClosed: ClosedByCustomer},
		{name: "asked twice", status: Closed, reqs: []Request{req("r1", ReopenAccount), req("r2", ReopenAccount)},
			wantReopens: 1, wantDecline: 1, wantClosed: ClosedByCustomer},
		{name: "active account asks", status: Active, reqs: []Request{req("r1", ReopenAccount)}, wantDecline: 1},
		{name: "pending account asks", status: Pending, reqs: []Request{req("r1", ReopenAccount)}, wantDecline: 1},
		{name: "customer closes", status: Active, reqs: []Request{req("r1", CloseAccount)}, wantClosed: ClosedByCustomer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Account{ID: 1, Status: tt.status, BillingDay: 1, Limit: 100_000, ActivatedOn: day - 400}
			if tt.status == Closed {
				a.ClosedOn, a.ClosedBy = day-60, ClosedByCustomer
			}
			var out Output
			if err := Close(&cfg, &a, day, &Events{Requests: tt.reqs}, &out); err != nil {
				t.Fatal(err)
			}
			declined := 0
			for _, n := range out.Notices {
				if n.Kind == string(NoticeRequestDeclined) {
					declined++
				}
			}
			if len(out.Reopens) != tt.wantReopens || declined != tt.wantDecline || a.ClosedBy != tt.wantClosed {
				t.Errorf("reopens %v, %d declined, closed_by %q; want %d, %d, %q (note %q)",
					out.Reopens, declined, a.ClosedBy, tt.wantReopens, tt.wantDecline, tt.wantClosed, a.Note)
			}
			if tt.wantReopens > 0 && (out.Reopens[0] != ReopenRequest{AccountID: 1, RequestID: "r1"} || a.Status != Closed) {
				t.Errorf("reopens %v status %s, want r1 passed on, the account still closed", out.Reopens, a.Status)
			}
		})
	}
}

func TestChargeOffClosedBy(t *testing.T) {
	cfg := DefaultConfig()
	day := NewDate(2025, time.June, 15)
	due := day - Date(cfg.ChargeOffDPD)
	a := Account{ID: 1, Status: Frozen, BillingDay: 1, Limit: 100_000, ActivatedOn: due - 400,
		LastStatement: due - 9, LastBalance: 50_000,
		Statements: []Statement{{Date: due - 9, DueDate: due, NewBalance: 50_000, MinimumDue: 5_000, MinRemaining: 5_000,
			Owed: Components{PurchasePrincipal: 50_000}}}}
	var out Output
	if err := Close(&cfg, &a, day, nil, &out); err != nil {
		t.Fatal(err)
	}
	if a.Status != Closed || a.ClosedBy != ClosedByChargeOff {
		t.Errorf("status %s closed_by %q, want closed by %s", a.Status, a.ClosedBy, ClosedByChargeOff)
	}
}
