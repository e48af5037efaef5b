// Package pipeline runs the nightly close: it is the one place that touches
// storage and concurrency. A run for business date D reads the state as of
// D−1 and the events of D, folds every account's day through the policy's
// Night in parallel buckets, and publishes the outputs and the state as of
// D atomically under OUT/as_of=D/. A backfill folds the same step over a
// range of dates in one process, publishing each day as a run would, with
// DaysInFlight consecutive dates running at once, each handing its book to
// the next through a pipe as it writes it; it may leave out the state of
// the dates between every N-th (StateEvery), the book then crossing them
// in those pipes or in a private spill.
//
// The package is split by concern: options.go (Options and their
// defaults), run.go (Run, Backfill and where a day's book comes from),
// events.go (the day's input files and events), process.go (buckets and
// workers), output.go (the day's tables), day.go (one day from events to
// publication), pipe.go (a backfill's book from one date in flight to
// the next), spill.go (a backfill's book between dates in flight whose
// state it does not publish), rejects.go, manifest.go, publish.go (atomic
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
// is called after each published day, in order.
//
// The dates run in windows of DaysInFlight at once: each date of a window
// hands its new book to the next through a pipe as it writes it, so that
// the book between them is neither stored nor read back. The last date
// of a window leaves its book for the next window in its published state
// or, when that is not kept, in a private spill under OUT/_work/. Each
// date publishes only once the date before has, and not at all when that
// failed: the dates published are always the first ones of the range.
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
	// The spills of the dates whose state is not kept are removed when
	// the backfill ends, however it ends.
	e.spillDir = filepath.Join(opt.Out, workDir, fmt.Sprintf("book.%d", os.Getpid()))
	defer func() {
		os.RemoveAll(e.spillDir)
		os.Remove(filepath.Join(opt.Out, workDir)) // if no other run's debris is there
	}()
	var (
		runs     []*dayRun
		out      []*Manifest
		reported int
		failed   error // the first failure, in date order
		stopped  error // the context's, when it ended the launches
		in       *pipe // the book of the date before, when piped
	)
	// report waits for the runs before upTo in order, publishing their
	// progress, and stops at the first that failed.
	report := func(upTo int) {
		for ; reported < upTo && failed == nil; reported++ {
			r := runs[reported]
			<-r.done
			if r.err != nil {
				failed = fmt.Errorf("as_of %s: %w", r.day, r.err)
				return
			}
			out = append(out, r.m)
			if progress != nil {
				progress(r.m)
			}
		}
	}
	for day := from; day <= to && failed == nil; day++ {
		i := int(day - from)
		last := day == to || (i+1)%opt.DaysInFlight == 0 // of its window
		if i%opt.DaysInFlight == 0 {
			report(i) // a window starts once the one before is done
		}
		if failed != nil {
			break
		}
		if err := ctx.Err(); err != nil {
			stopped = err
			break
		}
		// Every day starts from the book the day before ended with (the
		// first from --state, if given): a backfill is chained runs.
		r := &dayRun{day: day, done: make(chan struct{}), from: in}
		if i > 0 {
			r.prev = runs[i-1]
		}
		if day == from {
			r.path = opt.State
		} else {
			r.path = e.chainState(day) // a shard's own part of the day before (shard.go)
		}
		r.keepState = day == to || i%opt.StateEvery == 0
		in = nil
		switch {
		case !last:
			in = newPipe(e, day)
			r.to = in
		case day < to && !r.keepState:
			r.spill = filepath.Join(e.spillDir, fmt.Sprintf("spill.%d", i/opt.DaysInFlight%2)) // two files in turn (spill.go)
		}
		runs = append(runs, r)
		go func() {
			defer close(r.done)
			r.m, r.err = e.runDay(ctx, r)
		}()
	}
	if in != nil {
		in.stop() // the date after the last run will not run
	}
	report(len(runs)) // the dates launched publish, or the first that fails says why
	for _, r := range runs[reported:] {
		<-r.done // a later date stops as its date before failed
	}
	if failed == nil {
		failed = stopped
	}
	return out, failed
}

// dayRun is one date of a backfill on its way.
type dayRun struct {
	day       billing.Date
	path      string  // where the book starts, for the first date or a shard's ("" the state published in Out)
	from, to  *pipe   // the book from the date before and to the date after, when piped
	prev      *dayRun // the date before, which publishes first
	keepState bool
	spill     string        // where the new book is spilled for the next window, if it is
	done      chan struct{} // closed when the date is published or failed
	m         *Manifest
	err       error
	// The new book's totals and distribution, which the next date's book
	// must match and takes as its baseline; set before done.
	accounts int
	exposure string
	dist     *scoring.Distribution
}

// waitPrev waits until the date before is published; an error when it
// failed.
func (r *dayRun) waitPrev() error {
	if r.prev == nil {
		return nil
	}
	<-r.prev.done
	if r.prev.err != nil {
		return fmt.Errorf("not published: the date before, %s, failed", r.prev.day)
	}
	return nil
}

type engine struct {
	opt    Options
	log    zerolog.Logger
	inputs map[string]*source.Dataset // dataset → its layout; no requests when absent
	hashes map[string]string          // path → sha256, computed once per process
	hashMu sync.Mutex                 // the dates in flight share hashes
	// spillDir is where a backfill spills the books of the dates that
	// end a window without their state: OUT/_work/book.PID/.
	spillDir string
	// outs recycles buckets' output buffers once they are written, so
	// that a night allocates them for the buckets in flight, not for
	// every bucket of the book.
	outs sync.Pool
	// prices are the offers' prices by grade, worked out once.
	prices map[string]*billing.OfferPrices
	// bufs recycles the account arrays of written buckets, for the
	// book's stream to fill.
	bufs sync.Pool
}

// accountStream yields the book as of D−1 in account order: Read fills
// buf, which the caller owns, and returns how many accounts it filled; 0
// and io.EOF at the end.
type accountStream interface {
	Read(buf []billing.Account) (int, error)
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
	// cheaply (a published state, a master): events of other accounts are
	// rejected as they are read. nil otherwise.
	ids []int64
	// chained is a book the date before handed on (piped or spilled):
	// its totals and baseline are the date before's, set once that date
	// is published.
	chained bool
	// proof is the result of the snapshot's verification while it runs
	// (nil once received, or when there is none), proofErr its failure.
	proof    chan error
	proofErr error
}

// runDay opens the book as of day−1 and runs day: the book the date
// before pipes, or the one at r.path (a state directory or an accounts
// master), else the state published for day−1 in Out.
func (e *engine) runDay(ctx context.Context, r *dayRun) (*Manifest, error) {
	defer func() {
		if r.from != nil {
			r.from.stop() // read to its end, or never will be
		}
		if r.to != nil {
			r.to.Abort() // written to its end, or never will be
		}
	}()
	var b *opened
	if r.from != nil {
		b = &opened{stream: &pipeStream{p: r.from}, from: StateDir(e.opt.Out, r.day-1), close: func() {},
			chained: true, verified: !e.opt.Shard.Sharded()}
	} else {
		if err := r.waitPrev(); err != nil {
			return nil, err
		}
		var err error
		if b, err = e.openBook(ctx, r.day, r.path, r.prev); err != nil {
			return nil, err
		}
	}
	defer b.close()
	e.shardBook(b) // a shard's accounts only (shard.go)
	return e.day(ctx, b, r)
}

// openBook opens the book as of day−1 from the spill of the date before
// (prev, when it spilled its book), an explicit path (a state directory
// or an accounts master), or from the state published for day−1.
func (e *engine) openBook(ctx context.Context, day billing.Date, path string, before *dayRun) (*opened, error) {
	prev := day - 1
	if before != nil && before.spill != "" {
		r, err := openSpill(before.spill)
		if err != nil {
			return nil, err
		}
		return &opened{stream: r, from: StateDir(e.opt.Out, prev), close: r.Close, chained: true, verified: true}, nil
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
	// The snapshot is proved to be the one published (every file's size,
	// checksum, rows and schema) while the night reads its ids and its
	// events: no account is folded before the proof, and a file that
	// fails it is named as such, whatever else failed reading it.
	verify := make(chan error, 1)
	go func() {
		t0 := time.Now()
		err := state.Verify(path, info)
		if err == nil {
			e.log.Info().Str("stage", "verify_state").Str("from", path).Int("files", len(info.Files)).
				Dur("took", time.Since(t0)).Msg("stage done")
		}
		verify <- err
	}()
	b := &opened{from: path, accounts: info.Accounts, verified: true, exposure: info.Exposure,
		policyChange: change, proof: verify, close: func() {}}
	if b.baseline, err = state.ReadDistribution(path); err != nil {
		return nil, b.proved(err)
	}
	if b.ids, err = state.AccountIDs(path); err != nil {
		return nil, b.proved(err)
	}
	r, err := state.Open(path)
	if err != nil {
		return nil, b.proved(err)
	}
	b.stream, b.close = r, r.Close
	e.log.Info().Str("stage", "open_state").Str("from", path).Int("accounts", info.Accounts).
		Dur("took", time.Since(start)).Msg("stage done")
	return b, nil
}

// proved waits for the proof of the book's snapshot, if it is being
// proved, and returns its failure if it failed, else err: a file that
// is not the one published is the cause of whatever reading it did.
func (b *opened) proved(err error) error {
	if b.proof != nil {
		b.proofErr, b.proof = <-b.proof, nil
	}
	if b.proofErr != nil {
		return b.proofErr
	}
	return err
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
