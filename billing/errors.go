package billing

import (
	"errors"
	"fmt"
)

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
	// ErrOutOfRange means an amount would leave the contract's range,
	// ±MaxMoney (DECIMAL(18,2)): an account whose balances, a day's flows
	// or a product that would not fit. Close refuses the account rather
	// than let a sum wrap.
	ErrOutOfRange = errors.New("amount out of range")
)

// AccountError is an error about one account. Its Error text names the
// account and the amounts involved, for the person who investigates;
// Redacted says what went wrong without them, for logs above debug level.
type AccountError struct {
	AccountID int64
	Detail    string // amounts and dates, without the account id
	Err       error  // the sentinel: ErrNotConserved, ErrUnbalanced, ErrOutOfRange …
}

func (e *AccountError) Error() string {
	return fmt.Sprintf("account %d: %s: %v", e.AccountID, e.Detail, e.Err)
}

// Redacted is the error without customer identifiers or amounts.
func (e *AccountError) Redacted() string {
	return fmt.Sprintf("one account (its id and amounts are logged at debug level): %v", e.Err)
}

func (e *AccountError) Unwrap() error { return e.Err }

// ErrInvalidConfig is what every ConfigError wraps: a setting of Config is
// out of its range.
var ErrInvalidConfig = errors.New("invalid billing setting")

// A ConfigError is one problem Config.Validate found. Key names the setting
// as the policy file's billing, collections and notices sections spell it
// ("due_days", "penalty_daily_rate"); Msg says what is wrong with its value.
type ConfigError struct {
	Key string
	Msg string
}

func (e *ConfigError) Error() string { return e.Key + ": " + e.Msg }

// Unwrap returns ErrInvalidConfig.
func (e *ConfigError) Unwrap() error { return ErrInvalidConfig }
