package pqfile

import "errors"

// ErrRowType is a row type this package does not write.
var ErrRowType = errors.New("not a row type pqfile writes")

// ErrValueTooLarge is a string value longer than a Parquet page can hold
// (2 GiB).
var ErrValueTooLarge = errors.New("value too large for a parquet page")

// ErrNotSummed is Sum of a writer that was not created by CreateSummed or
// not closed successfully.
var ErrNotSummed = errors.New("file not summed: create it with CreateSummed and close it")
