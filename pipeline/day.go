package pipeline

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/state"
)

// day runs one business date: it reads the day's events, streams the book
// b through the daily step and publishes the outputs of day, its new
// state when r keeps it, and hands its new book to the next date when r
// pipes it.
func (e *engine) day(ctx context.Context, b *opened, r *dayRun) (*Manifest, error) {
	day := r.day
	m := newManifest(e.opt, day, b.from)
	m.PolicyChangeFrom = b.policyChange
	m.StateNotKept = !r.keepState
	// The new book goes to the spill (the last date of a window without
	// its state), or to the state, the next date, both or neither. A nil
	// *state.Writer or *spillWriter must not become a non-nil bookWriter.
	newBook := func(dir string) (bookWriter, error) {
		if r.spill != "" {
			w, err := createSpill(r.spill)
			if err != nil {
				return nil, err
			}
			return w, nil
		}
		var st bookWriter = noBook{}
		if r.keepState {
			w, err := state.Create(filepath.Join(dir, "state"))
			if err != nil {
				return nil, err
			}
			st = w
		}
		switch {
		case r.to == nil:
			return st, nil
		case !r.keepState:
			return r.to, nil
		}
		return teeBook{state: st, next: r.to}, nil
	}
	t0 := time.Now()
	rejects := newRejectSpool(scratchDir(e.opt), day)
	defer rejects.close()
	ev, err := e.readEvents(ctx, day, rejects, e.opt.Shard.known(b.ids))
	if err = b.proved(err); err != nil { // the snapshot proved before any account is folded
		return nil, err
	}
	b.ids = nil // the events are read: 8 MB at 1M accounts not held through the night
	ev.rejects = rejects
	for _, f := range ev.files {
		m.Inputs = append(m.Inputs, InputFile{Path: f.Path, Size: f.Size, SHA256: f.SHA256})
	}
	m.stage("read_events", t0)
	e.log.Info().Str("stage", "read_events").Str("as_of", day.String()).Int("files", len(ev.files)).
		Int("transactions", len(ev.txns)).Int("repayments", len(ev.repays)).Int("requests", len(ev.reqs)).
		Int64("rejects", rejects.rows).Dur("took", time.Since(t0)).Msg("stage done")

	if ev.night, err = e.dailyNight(day); err != nil {
		return nil, err
	}
	t0 = time.Now()
	var w *dayWriter
	err = e.publishDay(day, r.keepState, func(dir string) error { // publish, or write a shard's part (shard.go)
		var err error
		if w, err = e.newDayWriter(dir, ev, func() (bookWriter, error) { return newBook(dir) }); err != nil {
			return err
		}
		w.rejects = rejects
		if err := e.process(ctx, b.stream, day, ev, w); err != nil {
			w.abort()
			return err
		}
		if err := w.close(); err != nil {
			return err
		}
		crashpoint(CrashOutputs)
		// The date publishes after the one before, which a piped book
		// must match.
		if err := r.waitPrev(); err != nil {
			return err
		}
		if b.chained {
			b.accounts, b.exposure, b.baseline = r.prev.accounts, r.prev.exposure, r.prev.dist
		}
		if fixed := e.opt.Policy.Scoring.BaselineDistribution(); fixed != nil {
			b.baseline = fixed // the policy's reference wins over the previous night
		}
		if e.opt.Shard.Sharded() {
			return e.finishPart(dir, day, ev, w, b, m) // the commit checks the book (shard.go)
		}
		return e.finish(dir, day, ev, w, b, m, t0)
	})
	if err != nil {
		return nil, err
	}
	e.log.Info().Str("stage", "publish").Str("as_of", day.String()).Dur("took", time.Since(t0)).Msg("stage done")
	r.accounts, r.exposure, r.dist = w.book.Accounts, w.after.String(), w.dist
	return m, nil
}

// finish checks the day as a whole and writes what needs all of it: the
// book must reconcile with the day's flows and the rejects stay under the
// threshold, or nothing is published.
func (e *engine) finish(dir string, day billing.Date, ev *dayEvents, w *dayWriter, b *opened, m *Manifest, start time.Time) error {
	if b.verified && (w.before.String() != b.exposure || w.book.Accounts-w.opened != b.accounts) {
		return fmt.Errorf("%w: %s: its accounts sum to %d accounts and %s of exposure, its %s says %d and %s",
			state.ErrBadState, b.from, w.book.Accounts-w.opened, w.before, state.InfoFile, b.accounts, b.exposure)
	}
	if got, want := w.after.Minus(w.before), billing.TotalOf(w.flows.Net()); !got.Equal(want) {
		return fmt.Errorf("%w: book exposure moved %s, the day's flows explain %s", billing.ErrNotConserved, got, want)
	}
	rejects := ev.rejects
	m.setRejects(rejects.reasons, rejects.rows, int64(ev.rows())-rejects.events)
	if err := e.checkRejects(day, m, rejects.rows); err != nil {
		// Refused: the rows go where an operator can read them, outside
		// the published dates.
		path, werr := writeRefusedRejects(e.opt.Out, day, rejects)
		if werr != nil {
			return fmt.Errorf("%w (and writing them failed: %v)", err, werr)
		}
		return fmt.Errorf("%w; the rejected rows are in %s", err, path)
	}
	w.rows[TableRejects] = rejects.rows
	m.Rows = w.rows
	m.Book = w.book
	m.Book.Opened = w.opened
	m.Book.Exposure = w.after.String()
	m.Book.Flows = flowStrings(w.flows)
	if b.baseline != nil {
		m.PSI = e.opt.Policy.Scoring.PSI(w.dist, b.baseline)
		for _, p := range m.PSI {
			if p.Warn {
				e.log.Warn().Str("as_of", day.String()).Str("characteristic", p.Name).Float64("psi", p.PSI).Msg("population shift above the policy's threshold")
			}
		}
	}
	e.log.Info().Str("stage", "process").Str("as_of", day.String()).Int("accounts", w.book.Accounts).
		Int64("statements", w.rows[TableStatements]).Int64("notices", w.rows[TableNotices]).
		Int64("past_due", w.rows[TableDelinquency]).Int64("rejects", m.Rows[TableRejects]).
		Dur("took", time.Since(start)).Msg("stage done")
	m.stage("process", start)
	for k, n := range rejects.counts {
		for range n {
			w.daily.AddReject(k[0], k[1])
		}
	}
	before, ok1 := w.before.Money()
	after, ok2 := w.after.Money()
	if !ok1 || !ok2 {
		return fmt.Errorf("%w: the book's exposure %s is beyond DECIMAL(18,2)", billing.ErrOutOfRange, w.after)
	}
	w.daily.SetFlows(before, after, w.flows)
	w.daily.SetPSI(m.PSI, w.dist, b.baseline)
	summary := w.daily.Rows()
	w.rows[TableDailySummary] = int64(len(summary))
	// The last files, in one round of fsyncs.
	var g errgroup.Group
	g.Go(func() error { return rejects.writeTable(filepath.Join(dir, TableRejects+".parquet")) })
	g.Go(func() error {
		return pqfile.WriteFile(filepath.Join(dir, TableDailySummary+".parquet"), w.daily.Rows())
	})
	g.Go(func() error {
		return w.state.Finish(state.Info{AsOf: day.String(), PolicyVersion: e.opt.Policy.Version, PolicyChange: b.policyChange,
			Accounts: w.book.Accounts, Exposure: w.after.String()}, w.dist)
	})
	g.Go(func() error { return pqfile.WriteJSON(filepath.Join(dir, ManifestFile), m) })
	return g.Wait()
}
