package pipeline

import "errors"

// Sentinel errors; cmd maps them to exit codes.
var (
	// ErrUsage is a bad command line (exit 2).
	ErrUsage = errors.New("bad usage")
	// ErrNoState means the state the run starts from is missing (exit 1).
	ErrNoState = errors.New("missing state")
	// ErrBadInput is input that cannot be used at all (exit 1).
	ErrBadInput = errors.New("bad input")
	// ErrInputMissing means a partition the day needs is not there yet
	// (exit 1; run again once upstream has landed it).
	ErrInputMissing = errors.New("input not complete")
	// ErrTooManyRejects means more rows were rejected than allowed (exit 3).
	ErrTooManyRejects = errors.New("too many rejected rows")
)
