package billing

// Dataset names: the input datasets as the contract names them, used in
// rejects, in the input tree (EVENTS/NAME/) and in logs.
const (
	DatasetAccounts     = "accounts"
	DatasetTransactions = "transactions"
	DatasetRepayments   = "repayments"
	DatasetRequests     = "requests"
	DatasetIncidents    = "incidents"
)

// Live reports whether an account in status s is on the book: pending,
// active or frozen. A live account is scored and decided every night; a
// closed or declined one is not.
func (s Status) Live() bool { return s == Pending || s == Active || s == Frozen }
