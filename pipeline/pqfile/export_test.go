package pqfile

// MaxRowsPerRowGroup is the row-group bound, for the tests outside the
// package.
const MaxRowsPerRowGroup = maxRowsPerRowGroup
