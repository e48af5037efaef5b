package billing

import "errors"

// Sentinel errors of the daily step. Close wraps them with the account id and
// the amounts involved; test them with errors.Is.
var (
	// ErrNotConserved means an account's exposure moved by a different amount
	// than the day's flows explain: a bug, never a data problem.
	ErrNotConserved = errors.New("money not conserved")
	// ErrUnbalanced means a statement's new balance differs from what the
	// account owes after issuing it (previous balance + charges − payments −
	// refunds ≠ owed).
	ErrUnbalanced = errors.New("statement does not balance")
)
