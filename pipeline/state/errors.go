package state

import "errors"

// ErrBadState wraps every reason a snapshot cannot be used: a missing,
// truncated or corrupt table, a schema that is not the state's, rows out of
// order, a snapshot of another date.
var ErrBadState = errors.New("bad state")
