package pipeline

import (
	"fmt"
	"runtime"

	"github.com/rs/zerolog"

	"github.com/creditrun/creditrun/policy"
)

// Defaults of Options; the command line's flags take theirs from here.
const (
	// DefaultBucketSize is the number of consecutive accounts processed
	// together. The buckets alive at once, some eight (the workers', the
	// queue's and those the output lanes still write), each hold their
	// accounts' rows and output rows, so the bucket size, not the book,
	// sets that part of memory: 1024 keeps a grown book's buckets a few MB
	// each at no cost in CPU against 4096 (BenchmarkNight with
	// CREDITRUN_BENCH_BUCKET_SIZE).
	DefaultBucketSize = 1024
	// DefaultDaysInFlight is how many dates a backfill runs at once.
	DefaultDaysInFlight = 2
	// DefaultMaxRejectRatio is the share of rejected input rows above which
	// a night is not published.
	DefaultMaxRejectRatio = 0.001
)

// Options configure runs and backfills. Start from DefaultOptions.
type Options struct {
	// Events is the root of the input datasets: transactions/, repayments/
	// and, optionally, requests/ (each a file, a directory or a Hive tree).
	Events string
	// Out is the output root; each date is published as Out/as_of=D/.
	Out string
	// State is where the first date starts from: a state/ directory written
	// by an earlier run, or an accounts master dataset. Empty means
	// Out/as_of=D−1/state.
	State string
	// Policy is the policy in force.
	Policy *policy.Policy
	// Workers bounds the buckets processed at once.
	Workers int
	// BucketSize is the number of accounts per bucket.
	BucketSize int
	// DaysInFlight is how many consecutive dates a backfill runs at once, a
	// window: each date of a window hands its new book to the next as it
	// writes it (a pipe), so that the book between them is never stored or
	// read back; the next window reads the book of the last from its
	// published state or, when that is not kept, from a private spill. 1
	// runs one date after another. Each date in flight holds its events,
	// its tables' row groups and Workers × BucketSize accounts. It changes
	// no output.
	DaysInFlight int
	// StateEvery is how often a backfill publishes the state: the first
	// date of the range and every StateEvery-th after it, and always the
	// last (1, the default: every date). The other dates publish every
	// table as chained runs would, without state/; the book crosses them
	// in the pipes between the dates in flight or in a spill under
	// OUT/_work/, which no reader sees.
	StateEvery int
	// MaxRejectRatio is the share of rejected input rows above which the
	// run publishes nothing (ErrTooManyRejects).
	MaxRejectRatio float64
	// RequireMarker refuses a night unless every input partition it needs
	// holds _SUCCESS (source.Landing.RequireMarker).
	RequireMarker bool
	// SparsePartitions takes a missing input partition as a day without
	// rows, for writers that make none for an empty day
	// (source.Landing.Sparse).
	SparsePartitions bool
	// PolicyChange allows the first day to run under another policy version
	// than the state it starts from was written with (without it, such a
	// night is refused: ErrPolicyChanged). The manifest records the change.
	PolicyChange bool
	// Shard, when set, closes only shard K of N of the book and writes its
	// part under OUT/_shards/ for Commit to publish (shard.go).
	Shard Shard
	// Version is the program version written in manifests.
	Version string
	// Log receives one line per stage.
	Log zerolog.Logger
}

// DefaultOptions returns the options of a production run: the built-in
// policy, one worker per CPU, the default bucket size, memory threshold
// and reject ratio, the state of every date published. Events and Out are
// left for the caller.
func DefaultOptions() Options {
	return Options{
		Policy:         policy.Default(),
		Workers:        runtime.GOMAXPROCS(0),
		BucketSize:     DefaultBucketSize,
		DaysInFlight:   DefaultDaysInFlight,
		StateEvery:     1,
		MaxRejectRatio: DefaultMaxRejectRatio,
		Version:        "dev",
		Log:            zerolog.Nop(),
	}
}

// Validate reports the first option that cannot run, as an ErrUsage error
// that names it.
func (o *Options) Validate() error {
	switch {
	case o.Events == "":
		return fmt.Errorf("%w: the events root is required (--events)", ErrUsage)
	case o.Out == "":
		return fmt.Errorf("%w: the output root is required (--out)", ErrUsage)
	case o.Policy == nil:
		return fmt.Errorf("%w: no policy", ErrUsage)
	case o.Workers < 1:
		return fmt.Errorf("%w: --workers %d: want at least 1", ErrUsage, o.Workers)
	case o.BucketSize < 1:
		return fmt.Errorf("%w: --bucket-size %d: want at least 1", ErrUsage, o.BucketSize)
	case o.DaysInFlight < 1:
		return fmt.Errorf("%w: --days-in-flight %d: want at least 1", ErrUsage, o.DaysInFlight)
	case o.StateEvery < 1:
		return fmt.Errorf("%w: --state-every %d: want at least 1 (1 publishes the state of every date)", ErrUsage, o.StateEvery)
	case o.StateEvery > 1 && o.Shard.Sharded():
		// A shard's next day starts from its own part's state, and the
		// commit publishes the parts' state: every date keeps it.
		return fmt.Errorf("%w: --state-every %d with --shards: a sharded backfill keeps the state of every date", ErrUsage, o.StateEvery)
	case o.MaxRejectRatio < 0 || o.MaxRejectRatio > 1 || o.MaxRejectRatio != o.MaxRejectRatio:
		return fmt.Errorf("%w: --max-reject-ratio %v: want 0..1", ErrUsage, o.MaxRejectRatio)
	}
	return o.Shard.validate()
}
