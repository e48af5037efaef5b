// Package pipeline runs the nightly close: it is the one place that touches
// storage and concurrency. A run for business date D reads the state as of
// D−1 and the events of D, folds every account's day through billing and
// scoring in parallel buckets, and publishes the outputs and the state as of
// D atomically under OUT/as_of=D/. A backfill folds the same step over a
// range of dates in one process, publishing each day as a run would.
package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/policy"
	"github.com/creditrun/creditrun/scoring"
)

// Options configure runs and backfills.
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
	// Workers bounds the buckets processed at once (default: CPUs).
	Workers int
	// BucketSize is the number of accounts per bucket (default 4096).
	BucketSize int
	// MemoryAccounts is the largest book a backfill keeps in memory from one
	// day to the next instead of reading back the state it just published
	// (default 250000; negative: never). Larger books stream, so peak memory
	// stays set by Workers × BucketSize.
	MemoryAccounts int
	// MaxRejectRatio is the share of rejected input rows above which the
	// run publishes nothing (ErrTooManyRejects).
	MaxRejectRatio float64
	// Version is the program version written in manifests.
	Version string
	// RequireMarker refuses a night unless every input partition it needs
	// holds _SUCCESS (source.Landing.RequireMarker).
	RequireMarker bool
	// SparsePartitions takes a missing input partition as a day without
	// rows, for writers that make none for an empty day
	// (source.Landing.Sparse).
	SparsePartitions bool
	// Log receives one line per stage.
	Log zerolog.Logger
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.BucketSize <= 0 {
		o.BucketSize = 4096
	}
	if o.MemoryAccounts == 0 {
		o.MemoryAccounts = 250000
	}
}

// Run closes one business date and publishes it.
func Run(ctx context.Context, opt Options, day billing.Date) (*Manifest, error) {
	ms, err := Backfill(ctx, opt, day, day, nil)
	if err != nil {
		return nil, err
	}
	return ms[0], nil
}

// Backfill closes every date from..to in order in one process, keeping the
// book in memory between days, and publishes each day exactly as chained
// runs would. progress, if not nil, is called after each published day.
func Backfill(ctx context.Context, opt Options, from, to billing.Date, progress func(*Manifest)) ([]*Manifest, error) {
	opt.defaults()
	if to < from {
		return nil, fmt.Errorf("%w: --to %s is before --from %s", ErrUsage, to, from)
	}
	if opt.Policy == nil {
		return nil, fmt.Errorf("%w: no policy", ErrUsage)
	}
	lock, err := acquireLock(opt.Out)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	if err := cleanTemporaries(opt.Out); err != nil {
		return nil, err
	}
	e := &engine{opt: opt, log: opt.Log, hashes: map[string]string{}}
	if err := e.listInputs(); err != nil {
		return nil, err
	}
	var out []*Manifest
	var kept *book
	for day := from; day <= to; day++ {
		// Every day starts from the state the day before published (the
		// first from --state, if given): a backfill is chained runs. A
		// small book comes from memory, exactly as it was written.
		explicit := ""
		if day == from {
			explicit = opt.State
		}
		m, next, err := e.runDay(ctx, day, explicit, kept, day < to)
		if err != nil {
			return out, fmt.Errorf("as_of %s: %w", day, err)
		}
		kept = next
		out = append(out, m)
		if progress != nil {
			progress(m)
		}
	}
	return out, nil
}

type engine struct {
	opt    Options
	log    zerolog.Logger
	inputs map[string]*source.Dataset // dataset → its layout; no requests when absent
	paths  []string                   // the day's input file paths by Index
	hashes map[string]string          // path → sha256, computed once per process
	// outs recycles buckets' output buffers once they are written, so
	// that a night allocates them for the buckets in flight, not for
	// every bucket of the book.
	outs sync.Pool
}

// accountSource yields the book as of D−1 in chunks of consecutive
// accounts, ending with io.EOF.
type accountSource interface {
	Next(n int) ([]billing.Account, error)
}

// Input dataset names.
const (
	dsTransactions = "transactions"
	dsRepayments   = "repayments"
	dsRequests     = "requests"
)

func (e *engine) listInputs() error {
	e.inputs = map[string]*source.Dataset{}
	landing := source.Landing{RequireMarker: e.opt.RequireMarker, Sparse: e.opt.SparsePartitions}
	for _, ds := range []string{dsTransactions, dsRepayments, dsRequests} {
		d, err := source.OpenDataset(ds, filepath.Join(e.opt.Events, ds), landing)
		if ds == dsRequests && errors.Is(err, fs.ErrNotExist) {
			continue // requests are optional
		}
		if errors.Is(err, source.ErrNotLanded) {
			return fmt.Errorf("%w: %w", ErrInputMissing, err)
		}
		if err != nil {
			return fmt.Errorf("input %s: %w", ds, err)
		}
		e.inputs[ds] = d
	}
	return nil
}

// book is the state as of a day held in memory: the accounts a backfill's
// previous day wrote, and their score distribution.
type book struct {
	accounts []billing.Account
	dist     *scoring.Distribution
}

// runDay opens the book as of day−1 and runs day. kept, when set, is that
// book in memory; otherwise path, when set, is where the book is (a state
// directory or an accounts master), else the state published for day−1 in
// Out. With keep, it returns the book as of day when it is small enough.
func (e *engine) runDay(ctx context.Context, day billing.Date, path string, kept *book, keep bool) (*Manifest, *book, error) {
	prev := day - 1
	if kept != nil {
		baseline := kept.dist
		if fixed := e.opt.Policy.Scoring.BaselineDistribution(); fixed != nil {
			baseline = fixed
		}
		from := filepath.Join(PartitionDir(e.opt.Out, prev), "state")
		return e.day(ctx, &sliceSource{accounts: kept.accounts}, from, baseline, day, e.keeps(keep, len(kept.accounts)))
	}
	if path == "" {
		if !Published(e.opt.Out, prev) {
			last := LastPublished(e.opt.Out)
			if last == 0 {
				return nil, nil, fmt.Errorf("%w: no state as of %s in %s: for the first run, give --state with the accounts master", ErrNoState, prev, e.opt.Out)
			}
			if last > prev {
				return nil, nil, fmt.Errorf("%w: no state as of %s in %s (the latest is %s; to re-run an old date, give --state %s)",
					ErrNoState, prev, e.opt.Out, last, filepath.Join(PartitionDir(e.opt.Out, prev), "state"))
			}
			return nil, nil, fmt.Errorf("%w: no state as of %s in %s; the last date with state is %s: catch up with `creditrun backfill --from %s --to %s`",
				ErrNoState, prev, e.opt.Out, last, last+1, day)
		}
		path = filepath.Join(PartitionDir(e.opt.Out, prev), "state")
	}
	start := time.Now()
	var baseline *scoring.Distribution
	var src accountSource
	if info, err := readStateInfo(path); err == nil {
		if info.AsOf != prev.String() {
			return nil, nil, fmt.Errorf("%w: state %s is as of %s, the run for %s needs %s", ErrNoState, path, info.AsOf, day, prev)
		}
		r, err := state.Open(path)
		if err != nil {
			return nil, nil, err
		}
		defer r.Close()
		src = r
		keep = e.keeps(keep, info.Accounts)
		dist, err := pqfile.ReadFile[scoring.DistributionRow](filepath.Join(path, distributionFile))
		if err != nil {
			return nil, nil, fmt.Errorf("read state: %w", err)
		}
		if len(dist) > 0 {
			baseline = scoring.DistributionFromRows(dist)
		}
		e.log.Info().Str("stage", "open_state").Str("from", path).Int("accounts", info.Accounts).
			Dur("took", time.Since(start)).Msg("stage done")
	} else {
		accounts, err := e.readMaster(ctx, path)
		if err != nil {
			return nil, nil, err
		}
		src = &masterSource{master: accounts}
		keep = e.keeps(keep, len(accounts))
		e.log.Info().Str("stage", "read_master").Str("from", path).Int("accounts", len(accounts)).
			Dur("took", time.Since(start)).Msg("stage done")
	}
	if fixed := e.opt.Policy.Scoring.BaselineDistribution(); fixed != nil {
		baseline = fixed // the policy's reference wins over the previous run
	}
	return e.day(ctx, src, path, baseline, day, keep)
}

// readMaster reads the accounts master of a first run, sorted by id. A bad
// row in the master (a repeated account_id included) stops the run: every
// account must be known once.
func (e *engine) readMaster(ctx context.Context, path string) ([]source.MasterAccount, error) {
	d, err := source.OpenDataset("accounts master", path, source.Landing{})
	if err != nil && !errors.Is(err, source.ErrNotLanded) {
		return nil, fmt.Errorf("accounts master %s: %w", path, err)
	}
	if err != nil {
		return nil, err
	}
	files, warns, err := d.Files()
	if err != nil {
		return nil, err
	}
	for _, w := range warns {
		e.log.Warn().Str("dataset", w.Dataset).Str("path", w.Path).Str("warning", w.What).Msg("input skipped")
	}
	accounts, rejects, err := source.ReadAccounts(ctx, files)
	if err != nil {
		return nil, err
	}
	if len(rejects) > 0 {
		r := rejects[0]
		return nil, fmt.Errorf("%w: accounts master has %d bad rows; first: %s row %d: %s",
			ErrBadInput, len(rejects), r.File, r.Row, r.Reason)
	}
	return accounts, nil
}

// sliceSource serves accounts held in memory.
type sliceSource struct{ accounts []billing.Account }

func (s *sliceSource) Next(n int) ([]billing.Account, error) {
	if len(s.accounts) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(s.accounts))
	chunk := s.accounts[:n:n]
	s.accounts = s.accounts[n:]
	return chunk, nil
}

// masterSource serves the accounts of a master held in its compact form,
// building each bucket's accounts as it is asked for: the master costs
// tens of bytes an account, the accounts of a bucket their full size.
type masterSource struct{ master []source.MasterAccount }

func (s *masterSource) Next(n int) ([]billing.Account, error) {
	if len(s.master) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(s.master))
	chunk := make([]billing.Account, n)
	for i := range chunk {
		chunk[i] = s.master[i].Account()
	}
	s.master = s.master[n:]
	return chunk, nil
}

// keeps says whether a backfill keeps the book of a day in memory for the
// next: only when it has at most MemoryAccounts accounts. The book's size
// is known before the day starts, so a larger one is never held even in
// part (the day then recycles its buckets' memory as it writes them).
func (e *engine) keeps(keep bool, accounts int) bool {
	return keep && e.opt.MemoryAccounts > 0 && accounts <= e.opt.MemoryAccounts
}

// stateInfo is state/_state.json.
type stateInfo struct {
	AsOf          string `json:"as_of"`
	PolicyVersion string `json:"policy_version"`
	Accounts      int    `json:"accounts"`
}

const (
	stateInfoFile    = "_state.json"
	distributionFile = "distribution.parquet"
)

func readStateInfo(dir string) (stateInfo, error) {
	var s stateInfo
	raw, err := os.ReadFile(filepath.Join(dir, stateInfoFile))
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(raw, &s)
}
