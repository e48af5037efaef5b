package billing

// Close runs one account's business day: it applies the day's events
// (purchases, refunds, repayments, requests), accrues revolving fees and
// penalties, issues the statement dated day+1 when day+1 is the billing day,
// moves the account through its lifecycle, and appends the resulting rows
// and notices to out. It does no I/O. It returns an error (wrapping
// ErrNotConserved) if the account's exposure does not move exactly as the
// day's flows say.
func Close(cfg *Config, a *Account, day Date, ev *Events, out *Output) error {
	panic("not implemented")
}

// ApplyLimit applies a limit decision taken by scoring on day: it activates
// or declines a pending account, changes the limit, and appends the notice a
// change calls for.
func ApplyLimit(cfg *Config, a *Account, day Date, action LimitAction, newLimit Money, out *Output) {
	panic("not implemented")
}
