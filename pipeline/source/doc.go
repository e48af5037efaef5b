// Package source reads the contract's input datasets (accounts,
// transactions, repayments, requests) from Parquet files written by any
// writer — Spark, pyarrow, DuckDB, arrow-go — into billing's domain values,
// with every row the contract refuses reported as a Reject.
//
// # Datasets and files
//
// A dataset is a Parquet file, a directory of them, or a Hive-partitioned
// directory (dt=YYYY-MM-DD at any depth, other keys such as hour=/region=
// allowed). List finds the files, skipping hidden and underscore entries
// (_SUCCESS, _temporary, .crc) and *.crc files, and returns them sorted by
// partition date then path, with their sizes (Checksum adds the SHA-256 of
// those a run reads, for its manifest). List opens no file, so listing does
// not grow with the history kept; a file a run reads that is not Parquet is
// an error (ErrNotParquet), never silently skipped.
// ForDay keeps the files that can hold events of a business day: every
// unpartitioned file and the partitions within one day of it, since
// upstream may cut dt by UTC date and the policy zone may be ahead of or
// behind UTC.
//
// # Schema
//
// Each file's schema is checked before any row is read. Columns are matched
// by exact name at the top level; extra columns are ignored; a missing
// column, or one whose type cannot represent the contract type, is a
// *SchemaError naming the file, the column, the expected and the found
// type. Every column may be OPTIONAL or REQUIRED (REPEATED and groups are
// refused). The accepted physical forms are:
//
//	STRING          BYTE_ARRAY, annotated STRING/UTF8, ENUM, or not at all;
//	                the value must be UTF-8 (invalid_utf8) and an id at most
//	                MaxIDBytes, merchant_category MaxCategoryBytes
//	                (id_too_long)
//	INT64, INT32    INT32 or INT64, signed or unsigned INT annotations, or a
//	                DECIMAL of scale 0 (any decimal form below); values that
//	                do not fit the contract type reject the row (out_of_range)
//	BOOLEAN         BOOLEAN
//	DATE            INT32 annotated DATE
//	DECIMAL(18,2)   DECIMAL on INT32, INT64, FIXED_LEN_BYTE_ARRAY or
//	                BYTE_ARRAY (big-endian two's complement), any precision,
//	                scale 0..2; converted exactly to fen (×10^(2−scale));
//	                a scale above 2 is a schema error, never rounded
//	DECIMAL(9,6)    the same forms, scale 0..6, converted exactly to
//	                millionths
//	TIMESTAMP       INT64 TIMESTAMP in MILLIS, MICROS or NANOS adjusted to
//	                UTC, and legacy INT96 (Impala/Spark, conventionally
//	                UTC); read as microseconds since the epoch, nanoseconds
//	                floored to the microsecond. A TIMESTAMP not adjusted to
//	                UTC (Spark's TIMESTAMP_NTZ, pandas naive datetimes,
//	                DuckDB's TIMESTAMP) holds wall times of an unknown zone:
//	                it is a *SchemaError ("timestamp without time zone; set
//	                billing.local_timestamps_zone …") unless the policy
//	                names the zone it was written in (Rules.LocalTimestamps),
//	                and then it is read as wall time there (a time a
//	                daylight-saving change skips or repeats resolved as
//	                time.Date does)
//
// Values must fit the contract type exactly, whatever the file's physical
// type and declared precision: money within DECIMAL(18,2)'s
// ±9999999999999999.99 (billing.MaxMoney), rates within DECIMAL(9,6)'s
// ±999.999999, INT32 within int32, a scale-0 decimal once multiplied to
// fen; beyond, the row is rejected (out_of_range, detail naming the column
// and the value as the file has it). DOUBLE/FLOAT are never accepted for
// money or rates.
//
// # Rules
//
// The policy's facts about rows reach the readers as Rules (RulesFrom a
// billing.Config): the zone of business dates, the installment counts
// offered, the highest fee rate, the zone of timestamps without one. Enum
// spellings (kinds, statuses, channels, failure reasons) are billing's
// (billing.ParseTxnKind, ParseRequestKind, ParseRepaymentStatus,
// ParseChannel, ParseFailureReason, ParseMasterStatus): the readers keep no
// list of their own.
//
// # Rows
//
// An event belongs to the business day of its timestamp's local date in the
// policy's zone (billing.LocalDate). The event readers keep exactly the
// events of the day asked for; events of other days are not errors, they
// belong to other runs. In a dt= partitioned file an event whose local date
// is more than one day from its partition is rejected (outside_partition),
// since no run would read it. Rows that no run would keep — a null or
// unreadable timestamp, an event outside its partition — are reported by
// the run that owns the file: the run for its dt, or every run for an
// unpartitioned file. Every other reject is reported by the run for the
// row's day.
//
// Reject reasons (the Reason… constants), checked in contract column order,
// null checks of always-required columns first, one reject per row:
//
//	null_required           a required column is null or an empty string
//	invalid_utf8            a string that is not UTF-8 (GBK bytes, say)
//	id_too_long             an id beyond MaxIDBytes (64), a
//	                        merchant_category beyond MaxCategoryBytes (128)
//	out_of_range            a value beyond the contract type
//	non_positive_amount     amount ≤ 0
//	invalid_kind            kind outside purchase/refund, or outside
//	                        close_account/defer_plan/change_billing_day
//	invalid_status          account status outside pending/active/frozen/
//	                        closed; repayment status outside succeeded/failed
//	invalid_channel         channel outside auto_debit/app/bank_transfer
//	missing_failure_reason  a failed repayment without failure_reason
//	invalid_failure_reason  failure_reason outside insufficient_funds/
//	                        card_invalid/card_unbound/other
//	invalid_installments    a purchase's installments null or not one the
//	                        policy offers (1, 3, 6, 12, 24 by default); a
//	                        refund's installments not null
//	invalid_fee_rate        a purchase's fee_rate null, negative or above
//	                        the policy's max_fee_rate (0.05 a month by
//	                        default); a refund's fee_rate neither null nor 0
//	missing_ref             a refund without ref_txn_id, a defer_plan
//	                        without txn_id
//	invalid_periods         a defer_plan's periods null or ≤ 0
//	invalid_billing_day     billing_day outside 1..28 (accounts,
//	                        change_billing_day)
//	negative_limit          credit_limit < 0 (null is allowed while pending)
//	duplicate_id            the id was already kept for the day (accounts:
//	                        in the master), in file then row order
//	outside_partition       see above
//
// A reject's Key and Detail are always UTF-8 (invalid bytes are replaced
// in the key and escaped in the detail) and an over-long key is cut at
// MaxIDBytes, so the rejects table carries only text.
//
// Columns a row's kind does not use are ignored (a succeeded repayment's
// failure_reason, a close_account's txn_id). What needs the state — an
// unknown account, a refund of an unknown purchase, a closed account, a
// request the rules refuse — is left to the caller.
//
// Returned events are sorted by account, timestamp and id, each with its
// billing.Source (File.Index, 0-based row within the file). Accounts are
// sorted by id; active and frozen accounts are taken as activated (and
// their limit last changed) on opened_on.
//
// # Reading
//
// Files are read with arrow-go's low-level column readers, column by column
// and row group by row group, in parallel across row groups of all files.
// The timestamp column is read first; a row group without a row of
// interest is not read further. A file that fails to decode is an error
// wrapping ErrCorrupt, never a panic.
package source
