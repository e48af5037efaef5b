// Package source reads the contract's input datasets (accounts,
// transactions, repayments, requests) from Parquet files written by any
// writer — Spark, pyarrow, DuckDB, arrow-go — into billing's domain values,
// with every row the contract refuses reported as a Reject.
//
// # Datasets and files
//
// A dataset is a Parquet file, a directory of them, or a directory of date
// partitions. OpenDataset detects the layout once; a night then asks
// Dataset.ForDay for exactly the files it needs, and a dataset read whole
// (the accounts master) asks Dataset.Files. The layouts:
//
//	DIR/part-0.parquet                       unpartitioned: every night reads every file
//	DIR/dt=2025-03-10/part-0.parquet         dt=, ds= or date=, valued YYYY-MM-DD
//	DIR/ds=20250310/part-0.parquet           or YYYYMMDD
//	DIR/year=2025/month=3/day=10/x.parquet   nested, month and day with or without a leading zero
//	DIR/region=cn/dt=2025-03-10/hour=23/…    other partition keys above or below the date
//
// Opening reads the directories above the date partitions and the names of
// the partitions, never their contents, so a night costs the same with a
// year of history as with a week; ForDay reads only the partitions it
// needs (year= and month= directories only for the night's dates). Hidden
// and underscore entries (_SUCCESS, _temporary, .spark-staging, .crc) and
// *.crc files are metadata; every other regular file is data and must be
// Parquet (the readers check, ErrNotParquet). Symbolic links to
// directories, the dataset's root and its partitions included, are
// followed; a link back to a directory above it is skipped with a Warning.
// A __HIVE_DEFAULT_PARTITION__ date partition (rows whose key was null)
// belongs to no night: it is skipped with a Warning. A partition value
// that is not a date is ErrPartition. Files are sorted by partition date
// then path and numbered 0..n-1; each carries its partition date (Dt),
// the day its events arrived (see Which run takes an event). Checksum adds the SHA-256 of the files a
// run reads, for its manifest.
//
// # Which partitions a night needs
//
// Upstream may cut partitions by UTC date while a business day is a local
// date in the policy's zone: the night of D needs the partitions of the UTC
// dates its local day spans (2025-03-10 in Shanghai runs from
// 2025-03-09T16:00Z to 2025-03-10T16:00Z: dt=2025-03-09 and dt=2025-03-10).
// It also reads the partitions of D−1 and D+1 when they have landed, since
// the readers accept an event within one day of its partition; one that is
// there but has not landed is skipped with a Warning. The late events the
// night takes come from dt=D only, which it always needs.
//
// # Landed or not
//
// A night that runs on input that has not landed publishes a night without
// its events, so ForDay returns a *NotLandedError (wrapping ErrNotLanded;
// naming the dataset, the directory and the partition at fault, and what to
// do) when:
//
//   - the dataset does not exist (the error also wraps fs.ErrNotExist, so an
//     optional dataset can be taken as absent) or is a link to nothing;
//   - it, or a partition the night needs, holds no Parquet file: an empty
//     directory, or only metadata, or only a writer's temporary output
//     (_temporary/, .spark-staging-*, .hive-staging*: a job still writing);
//     an empty day is an empty Parquet file, not an empty directory;
//   - a partition the night needs does not exist, unless Landing.Sparse;
//   - with Landing.RequireMarker, a partition the night needs (or an
//     unpartitioned directory) has no _SUCCESS in its own directory.
//
// Landing.RequireMarker is the Hadoop, Spark and Airflow convention: a
// writer adds _SUCCESS to a partition once it is complete. Without it, a
// partition holding a Parquet file has landed, with or without _SUCCESS.
// Landing.Sparse is the documented way to run layouts that write no
// partition for a day without rows (DuckDB COPY … PARTITION_BY, Spark
// partitionBy): a missing partition is an empty day. A dataset with no
// data at all, or one with a writer's temporary output at its root, is
// still not landed in sparse mode.
//
// List is Files with the default Landing, for callers that want every file
// of a path. ForDay, the function, keeps the files of a night from an
// already listed dataset.
//
// # Object storage
//
// A dataset's location is a local path or a URL that storage.Open takes
// (s3://bucket/prefix, file://, and gs:// or azblob:// in builds with
// their tags); Join makes the location of a dataset inside an events root
// of either kind. A store's dataset has the layouts, markers and rules
// above, a directory being a prefix that some key continues with "/" (a
// store has no links); its files are named by their URLs (File.Path,
// Reject.File, every message). Local paths keep the operating system's
// view, links followed. Parquet on a store is read with ranged requests:
// the footer, then only the contract's column chunks (a large file's pages
// through a 1 MiB buffer, so that a chunk comes in few requests); a
// FetchCount totals what they moved. Checksum streams each file whole. A store that does not answer is a
// storage.IsTransient failure; a bucket that does not exist is
// ErrNoBucket, not a dataset still to land.
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
// policy's zone (billing.LocalDate): its value date. Events of other days
// are not errors, they belong to other runs. Rows that no run would keep —
// a null or unreadable timestamp, an event outside its partition, a late
// event beyond the late window — are reported by the run that owns the
// file: the run for its dt, or every run for an unpartitioned file. Every
// other reject is reported by the run that takes the row.
//
// # Which run takes an event
//
// A dt= partition is the day an event arrived; its timestamp is when it
// happened. Each event is taken by exactly one run, decided by its value
// date L and its partition's date P alone, so that re-runs are
// deterministic:
//
//   - L within a day of P (P−1 ≤ L ≤ P+1): on time; the run for L takes it
//     (it reads dt=L−1..L+1). Writers that cut partitions by UTC date put
//     a local day's events in the partitions of the day before or after.
//   - L before P−1: a late event; the run for P takes it, with its own
//     value date, when P − L ≤ Rules.LateWindowDays (the policy's
//     late_window_days), and rejects it otherwise (too_late). The run for
//     P always reads dt=P (the local day P always overlaps the UTC date P),
//     no run before P takes the event, and the runs for P+1 (which also
//     read dt=P) leave it: re-running a date before P never sees what
//     arrived on P.
//   - L after P+1: it cannot have arrived before it happened; the run for
//     P rejects it (outside_partition).
//   - An unpartitioned file says nothing about arrival: every run reads it
//     and takes the events of its own date, none late.
//
// Whether a late event's id was applied before is the daily step's
// question: the state remembers the ids of the late window per account
// (billing.RejectDuplicateID).
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
//	outside_partition       local date after its partition's next day
//	too_late                arrived beyond the late window (see above)
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
// Files are read with arrow-go's low-level column readers, in parallel
// across row groups of all files, each row group a chunk of rows at a time
// (16Ki rows; the pages of a file above 4 MiB read through a 64 KiB buffer
// per column): a file of a million rows in one row group costs a chunk's
// buffers, not the file. The
// timestamp column is read first; a chunk without a row of interest is not
// decoded further. A reader given a RejectWriter (ReadTransactionsTo and
// the like) hands it the rejects as it finds them and holds none; the
// others return them. A file that fails to decode is an error wrapping
// ErrCorrupt, never a panic.
//
// # A shard's rows
//
// A read given Rules.Owns (one shard's accounts of a sharded night) keeps
// only the events and accounts-feed rows of those accounts. Of a chunk's
// rows of the day it decodes account_id after the timestamp, and the other
// columns only when a row of the chunk is the shard's; of another account's
// row it decodes the id alone, and decodes that row whole only when the id
// is also a kept row's (then its validity decides which row of the id is
// the duplicate, as in the read of the whole book). A reject is the
// shard's that owns the row's account; those of rows no shard owns (no
// usable account_id, the incidents) are the read's with Rules.Unowned.
package source
