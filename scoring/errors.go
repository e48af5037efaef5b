package scoring

import "errors"

// Errors of reading a limit_decisions row back (DecisionRow.Decision),
// wrapped in a *DecisionError that names the account and the column.
var (
	ErrUnknownReason  = errors.New("unknown limit reason")
	ErrTooManyReasons = errors.New("too many limit reasons")
	ErrMissingFigure  = errors.New("null figure")
)
