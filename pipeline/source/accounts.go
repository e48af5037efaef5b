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

var accounts = dataset[billing.Account, int64]{
	name: Accounts,
	cols: []column{
		{"account_id", kInt64}, {"customer_id", kString}, {"opened_on", kDate}, {"status", kString},
		{"credit_limit", kMoney}, {"billing_day", kInt32}, {"external_score", kInt32}, {"fraud_flag", kBool},
	},
	ts:     -1,
	decode: decodeAccount,
	id:     func(a *billing.Account) int64 { return a.ID },
	idText: func(a *billing.Account) string { return strconv.FormatInt(a.ID, 10) },
	src:    nil, // accounts carry no source
	order:  func(a *billing.Account) (int64, int64) { return a.ID, 0 },
}

// ReadAccounts reads the initial account master from files, sorted by
// account_id, with the rows that fail the contract's row rules as rejects.
// Active and frozen accounts are taken as activated (and their limit set) on
// opened_on; closed accounts' activation date is unknown (0); a pending
// account's limit is 0 whatever credit_limit says.
func ReadAccounts(ctx context.Context, files []File) ([]billing.Account, []Reject, error) {
	return read(ctx, &accounts, files, 0, nil)
}

func decodeAccount(r *rowCtx, i int, a *billing.Account) (reason, detail string) {
	c := r.cols
	id, reason, detail := need(&c[acID], i, "account_id")
	if reason != "" {
		return reason, detail
	}
	customer, ok := c[acCustomer].bytes(i)
	if !ok {
		return ReasonNullRequired, "customer_id"
	}
	opened, reason, detail := need(&c[acOpenedOn], i, "opened_on")
	if reason != "" {
		return reason, detail
	}
	status, ok := c[acStatus].bytes(i)
	if !ok {
		return ReasonNullRequired, "status"
	}
	day, reason, detail := need(&c[acBillingDay], i, "billing_day")
	if reason == ReasonOutOfRange {
		return ReasonInvalidBillingDay, detail
	} else if reason != "" {
		return reason, detail
	}
	switch string(status) {
	case "pending":
		a.Status = billing.Pending
	case "active":
		a.Status = billing.Active
	case "frozen":
		a.Status = billing.Frozen
	case "closed":
		a.Status = billing.Closed
	default:
		return ReasonInvalidStatus, quoted("status", status)
	}
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
	if a.Status == billing.Active || a.Status == billing.Frozen {
		a.ActivatedOn = a.OpenedOn
		a.LimitChangedOn = a.OpenedOn // activation counts as a limit change
	}
	if a.Status != billing.Pending {
		a.Limit = billing.Money(limit)
	}
	a.BillingDay = int32(day)
	a.ExternalScore, a.HasExternalScore = int32(score), hasScore
	a.Fraud = !c[acFraud].isNull(i) && c[acFraud].b[i]
	return "", ""
}
