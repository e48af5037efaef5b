package report

import "errors"

// ErrNoData is a report asked for dates that hold nothing to show.
var ErrNoData = errors.New("nothing to report")
