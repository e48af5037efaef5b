package source

import (
	"time"

	"github.com/creditrun/creditrun/billing"
)

// Rules are the policy's facts that the readers apply to rows: the zone of
// business dates, the installment counts offered, the highest fee rate,
// and the zone of timestamps written without one. Build them with
// RulesFrom; the readers keep one definition of each, billing's.
type Rules struct {
	// Zone is the zone of business dates (billing.Config.Location).
	Zone *time.Location
	// Installments are the numbers of periods a purchase may have
	// (billing.Config.InstallmentOptions); another is invalid_installments.
	Installments []int32
	// MaxFeeRate is the highest monthly fee rate of a purchase
	// (billing.Config.MaxFeeRate); above it is invalid_fee_rate.
	MaxFeeRate billing.Rate
	// LocalTimestamps is the zone in which timestamps without time zone
	// were written (billing.Config.LocalTimestampsLocation); nil refuses a
	// file that has them with a *SchemaError.
	LocalTimestamps *time.Location

	tonight billing.Date // the business day of the incidents read
	// LateWindowDays is the most days after it happened that an event may
	// arrive and still be applied (billing.Config.LateWindowDays); a later
	// one is too_late. 0 accepts no late event.
	LateWindowDays int
	// Known, when set, says whether the book (or tonight's accounts feed)
	// has an account: an event of an account it does not know is rejected
	// as unknown_account as it is read, so that a night with a million of
	// them holds none. It may say yes to an id the night then finds
	// unknown: the daily step rejects those.
	Known func(account int64) bool
	// Owns, when set, narrows a read to the rows of the accounts it owns:
	// one shard's part of the book. The readers of the events and of the
	// accounts feed decode a row's timestamp and account_id first, and the
	// rest of it only for an account of the shard; of another account's
	// row they decode its id alone (so that an id repeated across accounts
	// is a duplicate as it is in the whole book's night) and leave its
	// rejects to the shard that owns it. A chunk of rows none of which is
	// the shard's has no other column decoded.
	Owns func(account int64) bool
	// Unowned says, with Owns, that this read reports the rejects of the
	// rows no shard owns: the rows whose account_id is null or out of
	// range, and the rows of the incidents, which concern the whole book.
	// One shard of the N has it.
	Unowned bool
}

// owns reports whether row i of the account column c is the read's to
// decode and reject: its account's shard's, or, for a row without a
// usable account_id, the shard that reports the rows no shard owns.
func (r *Rules) owns(c *colData, i int) bool {
	if v, st := c.num(i); st == present {
		return r.Owns(v)
	}
	return r.Unowned
}

// RulesFrom returns the rules of a validated billing configuration.
func RulesFrom(cfg *billing.Config) Rules {
	return Rules{
		Zone:            cfg.Location(),
		Installments:    cfg.InstallmentOptions,
		MaxFeeRate:      cfg.MaxFeeRate,
		LocalTimestamps: cfg.LocalTimestampsLocation(),
		LateWindowDays:  cfg.LateWindowDays,
	}
}

// Longest ids, in bytes: an id beyond them is a rejected row (id_too_long).
// The ids of events (txn_id, repayment_id, request_id, ref_txn_id,
// payoff_txn_id) and customer_id are codes of a few dozen bytes at most;
// merchant_category is a label.
const (
	MaxIDBytes       = 64
	MaxCategoryBytes = 128
	// maxKeyBytes bounds the key of a reject: an over-long id is cut there.
	maxKeyBytes = MaxIDBytes
)
