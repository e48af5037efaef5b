package source

import (
	"errors"
	"fmt"
	"github.com/creditrun/creditrun/billing"
)

// Dataset names, as they appear in Reject.Dataset and in the run's rejects
// table.
const (
	Accounts     = billing.DatasetAccounts
	Transactions = billing.DatasetTransactions
	Repayments   = billing.DatasetRepayments
	Requests     = billing.DatasetRequests
	Incidents    = billing.DatasetIncidents
)

// Reject reasons. A rejected row is reported once, with the first reason
// found; checks run in the order of the contract's columns, null checks of
// always-required columns first.
const (
	// ReasonNullRequired: a required column is null (or an empty string).
	// Detail is the column.
	ReasonNullRequired = "null_required"
	// ReasonOutOfRange: a value does not fit the contract type exactly (an
	// INT64 in an INT32 column beyond its range, money beyond
	// DECIMAL(18,2)'s ±9999999999999999.99, a rate beyond DECIMAL(9,6)'s
	// ±999.999999, whatever the file's physical type and precision, a
	// timestamp beyond int64 microseconds once scaled). Detail is
	// column=value as the file has it.
	ReasonOutOfRange = "out_of_range"
	// ReasonInvalidUTF8: a string column holds bytes that are not UTF-8
	// (GBK in an unannotated BYTE_ARRAY, say). Detail is the column and
	// the value, escaped.
	ReasonInvalidUTF8 = "invalid_utf8"
	// ReasonIDTooLong: an id longer than MaxIDBytes (txn_id, repayment_id,
	// request_id, ref_txn_id, payoff_txn_id, customer_id) or a
	// merchant_category longer than MaxCategoryBytes. Detail is the
	// column and the length.
	ReasonIDTooLong = "id_too_long"
	// ReasonNonPositiveAmount: amount ≤ 0.
	ReasonNonPositiveAmount = "non_positive_amount"
	// ReasonInvalidKind: kind is not one of the dataset's kinds.
	ReasonInvalidKind = "invalid_kind"
	// ReasonInvalidStatus: an account or repayment status outside its enum.
	ReasonInvalidStatus = "invalid_status"
	// ReasonInvalidChannel: a repayment channel outside its enum.
	ReasonInvalidChannel = "invalid_channel"
	// ReasonInvalidFailureReason: a failed repayment's failure_reason
	// outside its enum.
	ReasonInvalidFailureReason = "invalid_failure_reason"
	// ReasonMissingFailureReason: a failed repayment without failure_reason.
	ReasonMissingFailureReason = "missing_failure_reason"
	// ReasonInvalidInstallments: a purchase whose installments is null or
	// not one the policy offers (Rules.Installments; 1, 3, 6, 12, 24 by
	// default); a refund whose installments is not null.
	ReasonInvalidInstallments = "invalid_installments"
	// ReasonInvalidFeeRate: a purchase whose fee_rate is null, negative or
	// above the policy's max_fee_rate (Rules.MaxFeeRate; detail has the
	// rate); a refund whose fee_rate is neither null nor 0.
	ReasonInvalidFeeRate = "invalid_fee_rate"
	// ReasonMissingRef: a refund without ref_txn_id, a defer_plan request
	// without txn_id.
	ReasonMissingRef = "missing_ref"
	// ReasonInvalidPeriods: a defer_plan request whose periods is null or
	// not positive.
	ReasonInvalidPeriods = "invalid_periods"
	// ReasonInvalidBillingDay: a billing_day outside 1..28 (accounts, and
	// change_billing_day requests).
	ReasonInvalidBillingDay = "invalid_billing_day"
	// ReasonNegativeLimit: a negative credit_limit.
	ReasonNegativeLimit = "negative_limit"
	// ReasonDuplicateID: the id was already seen among the rows kept for the
	// day (accounts: in the whole master); the second and later occurrences
	// are rejected, in file then row order. An id the account applied on an
	// earlier night of the late window is rejected for the same reason by
	// the daily step (billing.RejectDuplicateID).
	ReasonDuplicateID = "duplicate_id"
	// ReasonOutsidePartition: in a dt= partitioned file, an event whose
	// local date is more than a day after its partition's: it cannot have
	// arrived before it happened. Reported by the run for the partition's
	// own date.
	ReasonOutsidePartition = "outside_partition"
	// ReasonInvalidWindow: an incident whose starts_at is not before its
	// ends_at.
	ReasonInvalidWindow = "invalid_window"
	// ReasonTooLate: in a dt= partitioned file, a late event (its local
	// date two or more days before its partition's) that arrived more than
	// Rules.LateWindowDays after it happened. Reported by the run for the
	// partition's own date, the run that would have applied it.
	ReasonTooLate = "too_late"
	// ReasonUnknownAccount: an event (transaction, repayment, request) of
	// an account the book does not have. Rejected as it is read when the
	// night knows the book's accounts (Rules.Known), before the duplicate
	// check; otherwise by the daily step, with the same reason.
	ReasonUnknownAccount = "unknown_account"
)

// Reject is an input row the readers refused. File is the file's path, Row
// its 0-based row number within the file, Key the row's id when it has one
// (account_id for accounts), Detail the column and value at fault.
type Reject struct {
	Dataset string `parquet:"dataset"`
	File    string `parquet:"file"`
	Row     int64  `parquet:"row"`
	Key     string `parquet:"key"`
	Reason  string `parquet:"reason"`
	Detail  string `parquet:"detail"`
}

func (r Reject) String() string {
	return fmt.Sprintf("%s %s row %d (%s): %s: %s", r.Dataset, r.File, r.Row, r.Key, r.Reason, r.Detail)
}

// SchemaError reports a contract column that a file lacks or stores in a
// type that cannot represent the contract type. Found is "missing" for a
// missing column.
type SchemaError struct {
	File     string
	Column   string
	Expected string
	Found    string
	Hint     string // what to do about it, when there is something to say
}

func (e *SchemaError) Error() string {
	s := fmt.Sprintf("%s: column %s: expected %s, found %s", e.File, e.Column, e.Expected, e.Found)
	if e.Hint != "" {
		s += ": " + e.Hint
	}
	return s
}

var (
	// ErrNotParquet is returned by the readers for a file that is not Parquet.
	ErrNotParquet = errors.New("not a parquet file")
	// ErrCorrupt wraps a decoding failure of a Parquet file.
	ErrCorrupt = errors.New("corrupt parquet file")
	// ErrPartition is returned by OpenDataset and List for a malformed or
	// conflicting date partition directory.
	ErrPartition = errors.New("bad date partition")
	// ErrNotLanded is wrapped by *NotLandedError: a dataset does not yet
	// hold what a night needs.
	ErrNotLanded = errors.New("input not landed")
	// ErrNoBucket is returned by OpenDataset for a location on an object
	// store whose bucket does not exist (or cannot be seen with the
	// credentials given): a wrong location, not input still to land.
	ErrNoBucket = errors.New("no such bucket")
)
