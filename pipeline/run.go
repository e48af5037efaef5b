// Package pipeline runs the nightly close: it is the one place that touches
// storage and concurrency. A run for business date D reads the state as of
// D−1 and the events of D, folds every account's day through the policy's
// Night in parallel buckets, and publishes the outputs and the state as of
// D atomically under OUT/as_of=D/. A backfill folds the same step over a
// range of dates in one process, publishing each day as a run would; it
// may leave out the state of the dates between every N-th (StateEvery),
// handing their book to the next day in memory or in a private spill.
//
// The package is split by concern: options.go (Options and their
// defaults), run.go (Run, Backfill and where a day's book comes from),
// events.go (the day's input files and events), process.go (buckets and
// workers), output.go (the day's tables), day.go (one day from events to
// publication), spill.go (a backfill's book between dates whose state
// it does not publish), rejects.go, manifest.go, publish.go (atomic
// publication), lock.go, crash.go (the crash tests' kill points),
// errors.go (typed errors and their kinds), whatif.go, summary.go,
// daily.go (the daily summary's month ends, and its reader), report.go
// (what the HTML report reads), shard.go (sharded nights: which shard
// owns an account, a shard's part) and commit.go (publishing a sharded
// night from its parts).
package pipeline

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/scoring"
)

// Run closes one business date and publishes it.
func Run(ctx context.Context, opt Options, day billing.Date) (*Manifest, error) {
	ms, err := Backfill(ctx, opt, day, day, nil)
	if err != nil {
		return nil, err
	}
	return ms[0], nil
}

// Backfill closes every date from..to in order in one process and
// publishes each day exactly as chained runs would. progress, if not nil,
// is called after each published day.
func Backfill(ctx context.Context, opt Options, from, to billing.Date, progress func(*Manifest)) ([]*Manifest, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if to < from {
		return nil, fmt.Errorf("%w: --to %s is before --from %s", ErrUsage, to, from)
	}
	lock, err := lockFor(opt) // a shard's own lock when sharded (shard.go)
	if err != nil {
		return nil, err
	}
	defer lock.Release()
	if err := cleanFor(opt); err != nil {
		return nil, err
	}
	e := &engine{opt: opt, log: opt.Log, hashes: map[string]string{}, prices: opt.Policy.Billing.Offers.Prices()}
	if err := e.listInputs(); err != nil {
		return nil, err
	}
	// The days whose state is not published hand their book to the next
	// day through a spill, removed when the backfill ends however it ends.
	e.spillDir = filepath.Join(opt.Out, workDir, fmt.Sprintf("book.%d", os.Getpid()))
	defer func() {
		os.RemoveAll(e.spillDir)
		os.Remove(filepath.Join(opt.Out, workDir)) // if no other run's debris is there
	}()
	var out []*Manifest
	var kept *book
	for day := from; day <= to; day++ {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		// Every day starts from the book the day before ended with (the
		// first from --state, if given): a backfill is chained runs. A
		// small book comes from memory, exactly as it was written; a large
		// one from the state published the day before, or, when that day's
		// state was not kept, from its spill.
		explicit := ""
		if day == from {
			explicit = opt.State
		} else {
			explicit = e.chainState(day) // a shard's own part of the day before (shard.go)
		}
		keepState := day == to || int(day-from)%opt.StateEvery == 0
		m, next, err := e.runDay(ctx, day, explicit, kept, day < to, keepState)
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
	// prices are the offers' prices by grade, worked out once.
	prices map[string]*billing.OfferPrices
	// bufs recycles the account arrays of written buckets, for the
	// book's stream to fill.
	bufs sync.Pool
	// night is what the buckets of the day being run share for the
	// daily summary.
	night *daily.Night
	// spillDir is where a backfill spills the books of the days whose
	// state it does not publish: OUT/_work/book.PID/.
	spillDir string
}

// accountStream yields the book as of D−1 in account order: Read fills
// buf, which the caller owns, and returns how many accounts it filled; 0
// and io.EOF at the end.
type accountStream interface {
	Read(buf []billing.Account) (int, error)
}

// book is the state as of a day that a backfill hands to the next day
// without reading it back from the published state: the accounts its
// previous day wrote, held in memory (a small book) or spilled (a large
// one whose state is not published), and their score distribution.
type book struct {
	accounts []billing.Account
	dist     *scoring.Distribution
	// spill, when set, is where the accounts are, with their count and
	// exposure, which the next day's accounts must match.
	spill    string
	n        int
	exposure string
}

// opened is the book a day starts from.
type opened struct {
	stream   accountStream
	from     string                // where it was read, for the manifest
	baseline *scoring.Distribution // the previous night's, for PSI
	accounts int                   // its size
	close    func()
	// A published state's totals, which the accounts read must match.
	verified     bool
	exposure     string // exact, as billing.Total writes it
	policyChange string // the state's policy version, when the night changes it on purpose
	// ids are the book's account ids, ascending, when the night has them
	// cheaply (a published state, a master, a book in memory): events of
	// other accounts are rejected as they are read. nil otherwise.
	ids []int64
}

// runDay opens the book as of day−1 and runs day. kept, when set, is that
// book; otherwise path, when set, is where the book is (a state directory
// or an accounts master), else the state published for day−1 in Out. With
// carry, it returns the book as of day for the next day when it is small
// enough to keep in memory or its state is not published (keepState
// false), spilled then.
func (e *engine) runDay(ctx context.Context, day billing.Date, path string, kept *book, carry, keepState bool) (*Manifest, *book, error) {
	b, err := e.openBook(ctx, day, path, kept)
	if err != nil {
		return nil, nil, err
	}
	defer b.close()
	e.shardBook(b) // a shard's accounts only (shard.go)
	if fixed := e.opt.Policy.Scoring.BaselineDistribution(); fixed != nil {
		b.baseline = fixed // the policy's reference wins over the previous night
	}
	memory := carry && e.opt.MemoryAccounts > 0 && b.accounts <= e.opt.MemoryAccounts
	return e.day(ctx, b, day, dayPlan{keepState: keepState, memory: memory, spill: carry && !memory && !keepState})
}

// openBook opens the book as of day−1: from memory, from an explicit path
// (a state directory or an accounts master), or from the state published
// for day−1.
func (e *engine) openBook(ctx context.Context, day billing.Date, path string, kept *book) (*opened, error) {
	prev := day - 1
	if kept != nil && kept.spill != "" {
		r, err := openSpill(kept.spill)
		if err != nil {
			return nil, err
		}
		return &opened{stream: r, from: StateDir(e.opt.Out, prev), baseline: kept.dist, accounts: kept.n,
			close: r.Close, verified: true, exposure: kept.exposure}, nil
	}
	if kept != nil {
		ids := make([]int64, len(kept.accounts))
		for i := range kept.accounts {
			ids[i] = kept.accounts[i].ID
		}
		return &opened{stream: &sliceStream{accounts: kept.accounts}, from: StateDir(e.opt.Out, prev),
			baseline: kept.dist, accounts: len(kept.accounts), close: func() {}, ids: ids}, nil
	}
	explicit := path != ""
	if !explicit {
		if !Published(e.opt.Out, prev) {
			return nil, &NoStateError{Day: day, Last: LastStateBefore(e.opt.Out, day), Out: e.opt.Out}
		}
		path = StateDir(e.opt.Out, prev)
	}
	start := time.Now()
	if !state.IsSnapshot(path) {
		if !explicit && !StateKept(e.opt.Out, prev) {
			// Published by a backfill that did not keep its state: never
			// read a partial book, say where the nearest kept one is.
			return nil, &NoStateError{Day: day, Last: LastStateBefore(e.opt.Out, day), Out: e.opt.Out, NotKept: true}
		}
		if !explicit {
			return nil, fmt.Errorf("%w: %s has no %s: the published state was changed", state.ErrBadState, path, state.InfoFile)
		}
		master, err := e.readMaster(ctx, path, day)
		if err != nil {
			return nil, err
		}
		e.log.Info().Str("stage", "read_master").Str("from", path).Int("accounts", len(master)).
			Dur("took", time.Since(start)).Msg("stage done")
		ids := make([]int64, len(master))
		for i := range master {
			ids[i] = master[i].ID
		}
		return &opened{stream: &masterStream{master: master}, from: path, accounts: len(master), close: func() {}, ids: ids}, nil
	}
	if state.IsSharded(path) {
		return e.openParts(path, day, explicit) // a sharded night's state (shard.go)
	}
	info, err := state.ReadInfo(path)
	if err != nil {
		return nil, err
	}
	change, err := e.checkStartState(path, day, explicit, info.AsOf, info.PolicyVersion)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := state.Verify(path, info); err != nil {
		return nil, err
	}
	e.log.Info().Str("stage", "verify_state").Str("from", path).Int("files", len(info.Files)).
		Dur("took", time.Since(t0)).Msg("stage done")
	dist, err := state.ReadDistribution(path)
	if err != nil {
		return nil, err
	}
	ids, err := state.AccountIDs(path)
	if err != nil {
		return nil, err
	}
	r, err := state.Open(path)
	if err != nil {
		return nil, err
	}
	e.log.Info().Str("stage", "open_state").Str("from", path).Int("accounts", info.Accounts).
		Dur("took", time.Since(start)).Msg("stage done")
	return &opened{stream: r, from: path, baseline: dist, accounts: info.Accounts, close: r.Close,
		verified: true, exposure: info.Exposure, policyChange: change, ids: ids}, nil
}

// checkStartState checks that the state at path, as of asOf and written
// under policy version, is the one the run for day starts from: as of
// day−1 (a usage error for an explicit --state), and under this run's
// policy unless a change is intended. It returns the state's policy
// version when the night changes it on purpose.
func (e *engine) checkStartState(path string, day billing.Date, explicit bool, asOf, version string) (change string, err error) {
	prev := day - 1
	if asOf != prev.String() {
		if explicit {
			return "", fmt.Errorf("%w: --state %s is the state as of %s; the run for %s starts from the state as of %s", ErrUsage, path, asOf, day, prev)
		}
		return "", fmt.Errorf("%w: %s says it is the state as of %s, where the state as of %s was published", state.ErrBadState, path, asOf, prev)
	}
	if version != e.opt.Policy.Version {
		if !e.opt.PolicyChange {
			return "", fmt.Errorf("%w: %s was written under policy version %s, this run's policy is version %s (%s); to change policy on purpose, run with --policy-change",
				ErrPolicyChanged, path, version, e.opt.Policy.Version, e.opt.Policy.Source)
		}
		return version, nil
	}
	return "", nil
}

// readMaster reads the accounts master of a first run for day, sorted by
// id: a master dataset, or an accounts feed's rows before day (the latest
// per account). A bad row in the master (a repeated account_id included)
// stops the run: every account must be known once.
func (e *engine) readMaster(ctx context.Context, path string, day billing.Date) ([]source.MasterAccount, error) {
	d, err := source.OpenDataset("accounts master", path, source.Landing{})
	if err != nil {
		return nil, inputError("accounts master", err)
	}
	files, warns, err := d.Files()
	if err != nil {
		return nil, inputError("accounts master", err)
	}
	for _, w := range warns {
		e.log.Warn().Str("dataset", w.Dataset).Str("path", w.Path).Str("warning", w.What).Msg("input skipped")
	}
	feed, err := source.IsFeed(files)
	if err != nil {
		return nil, inputError("accounts master", err)
	}
	var accounts []source.MasterAccount
	var rejects []source.Reject
	if feed {
		accounts, rejects, err = source.ReadFeedMaster(ctx, files, day, source.RulesFrom(&e.opt.Policy.Billing))
	} else {
		accounts, rejects, err = source.ReadAccounts(ctx, files)
	}
	if err != nil {
		return nil, err
	}
	if len(rejects) > 0 {
		r := rejects[0]
		return nil, fmt.Errorf("%w: accounts master has %d bad rows; first: %s row %d: %s %s",
			ErrBadInput, len(rejects), r.File, r.Row, r.Reason, r.Detail)
	}
	return accounts, nil
}

// sliceStream serves accounts held in memory.
type sliceStream struct{ accounts []billing.Account }

func (s *sliceStream) Read(buf []billing.Account) (int, error) {
	if len(s.accounts) == 0 {
		return 0, io.EOF
	}
	n := copy(buf, s.accounts)
	s.accounts = s.accounts[n:]
	return n, nil
}

// masterStream serves the accounts of a master held in its compact form,
// building each bucket's accounts as they are read: the master costs tens
// of bytes an account, the accounts of a bucket their full size.
type masterStream struct{ master []source.MasterAccount }

func (s *masterStream) Read(buf []billing.Account) (int, error) {
	if len(s.master) == 0 {
		return 0, io.EOF
	}
	n := min(len(buf), len(s.master))
	for i := range buf[:n] {
		buf[i] = s.master[i].Account()
	}
	s.master = s.master[n:]
	return n, nil
}
