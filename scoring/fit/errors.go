package fit

import "errors"

// Errors a fit returns; each is wrapped with what it concerns.
var (
	// ErrNoData: the sample is empty or has no bad (or no good) account.
	ErrNoData = errors.New("not enough data to fit")
	// ErrBadOptions: an option is out of range or names an unknown feature.
	ErrBadOptions = errors.New("invalid fit options")
	// ErrNoCharacteristic: no candidate characteristic carries information.
	ErrNoCharacteristic = errors.New("no characteristic carries information")
)
