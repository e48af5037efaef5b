package source

import (
	"context"
	"strconv"

	"github.com/creditrun/creditrun/billing"
)

// Columns of the accounts dataset, in contract order.
const (
	acID = iota
	acCustomer
	acOpenedOn
	acStatus
	acLimit
	acBillingDay
	acScore
	acFraud
)

// MasterAccount is one row of the accounts master: what a first run knows
// of an account before its first day. It is the master's compact form (a
// billing.Account with its history slices is several times larger), so a
// first run holds the whole master in memory and builds each bucket's
// accounts only when the bucket is processed.
type MasterAccount struct {
	ID               int64
	CustomerID       string
	OpenedOn         billing.Date
	Status           billing.Status
	Limit            billing.Money
	BillingDay       int32
	ExternalScore    int32
	HasExternalScore bool
	Fraud            bool
}

// Account returns the account of the master row on its first day. Active
// and frozen accounts are taken as activated (and their limit set) on
// opened_on; closed accounts' activation date is unknown (0); a pending
// account's limit is 0 whatever credit_limit says.
func (m *MasterAccount) Account() billing.Account {
	a := billing.Account{
		ID: m.ID, CustomerID: m.CustomerID, OpenedOn: m.OpenedOn, Status: m.Status,
		BillingDay: m.BillingDay, ExternalScore: m.ExternalScore, HasExternalScore: m.HasExternalScore, Fraud: m.Fraud,
	}
	if a.Status == billing.Active || a.Status == billing.Frozen {
		a.ActivatedOn = a.OpenedOn
		a.LimitChangedOn = a.OpenedOn // activation counts as a limit change
	}
	if a.Status != billing.Pending {
		a.Limit = m.Limit
	}
	return a
}

var accounts = dataset[MasterAccount, int64]{
	name: Accounts,
	cols: []column{
		{"account_id", kInt64}, {"customer_id", kString}, {"opened_on", kDate}, {"status", kString},
		{"credit_limit", kMoney}, {"billing_day", kInt32}, {"external_score", kInt32}, {"fraud_flag", kBool},
	},
	ts:     -1,
	decode: decodeAccount,
	id:     func(a *MasterAccount) int64 { return a.ID },
	idText: func(a *MasterAccount) string { return strconv.FormatInt(a.ID, 10) },
	src:    nil, // accounts carry no source
	order:  func(a *MasterAccount) (int64, int64) { return a.ID, 0 },
}

// ReadAccounts reads the initial account master from files, sorted by
// account_id, with the rows that fail the contract's row rules as rejects.
// See MasterAccount.Account for the account each row becomes.
func ReadAccounts(ctx context.Context, files []File) ([]MasterAccount, []Reject, error) {
	return readAll(ctx, &accounts, files, 0, &Rules{})
}

func decodeAccount(r *rowCtx, i int, a *MasterAccount) (reason, detail string) {
	c := r.cols
	id, reason, detail := need(&c[acID], i, "account_id")
	if reason != "" {
		return reason, detail
	}
	customer, reason, detail := required(&c[acCustomer], i, "customer_id", MaxIDBytes)
	if reason != "" {
		return reason, detail
	}
	opened, reason, detail := need(&c[acOpenedOn], i, "opened_on")
	if reason != "" {
		return reason, detail
	}
	status, reason, detail := required(&c[acStatus], i, "status", MaxIDBytes)
	if reason != "" {
		return reason, detail
	}
	day, reason, detail := need(&c[acBillingDay], i, "billing_day")
	if reason == ReasonOutOfRange {
		return ReasonInvalidBillingDay, detail
	} else if reason != "" {
		return reason, detail
	}
	st, ok := billing.ParseMasterStatus(string(status))
	if !ok {
		return ReasonInvalidStatus, quoted("status", status)
	}
	a.Status = st
	limit, hasLimit, reason, detail := optional(&c[acLimit], i, "credit_limit")
	switch {
	case reason != "":
		return reason, detail
	case !hasLimit && a.Status != billing.Pending:
		return ReasonNullRequired, "credit_limit"
	case limit < 0:
		return ReasonNegativeLimit, moneyDetail("credit_limit", limit)
	}
	if day < 1 || day > 28 {
		return ReasonInvalidBillingDay, intDetail("billing_day", day)
	}
	score, hasScore, reason, detail := optional(&c[acScore], i, "external_score")
	if reason != "" {
		return reason, detail
	}
	a.ID = id
	a.CustomerID = string(customer)
	a.OpenedOn = billing.Date(opened)
	a.Limit = billing.Money(limit)
	a.BillingDay = int32(day)
	a.ExternalScore, a.HasExternalScore = int32(score), hasScore
	a.Fraud = !c[acFraud].isNull(i) && c[acFraud].b[i]
	return "", ""
}
