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

// dayPlan says what becomes of a day's new book.
type dayPlan struct {
	keepState bool // published as OUT/as_of=D/state
	memory    bool // held in memory for the next day
	spill     bool // spilled under OUT/_work/ for the next day
}

// day runs one business date: it reads the day's events, streams the book
// b through the daily step and publishes the outputs of day, and its new
// state as the plan says. It returns the new book when the plan keeps it
// for the next day (in memory or spilled).
func (e *engine) day(ctx context.Context, b *opened, day billing.Date, plan dayPlan) (*Manifest, *book, error) {
	m := newManifest(e.opt, day, b.from)
	m.PolicyChangeFrom = b.policyChange
	m.StateNotKept = !plan.keepState
	spill := filepath.Join(e.spillDir, "as_of="+day.String())
	newBook := func(dir string) func() (bookWriter, error) {
		return func() (bookWriter, error) {
			// A nil *state.Writer or *spillWriter must not become a
			// non-nil bookWriter: on error the interface is nil.
			switch {
			case plan.keepState:
				w, err := state.Create(filepath.Join(dir, "state"))
				if err != nil {
					return nil, err
				}
				return w, nil
			case plan.spill:
				w, err := createSpill(spill)
				if err != nil {
					return nil, err
				}
				return w, nil
			}
			return noBook{}, nil
		}
	}
	t0 := time.Now()
	rejects := newRejectSpool(scratchDir(e.opt), day)
	defer rejects.close()
	ev, err := e.readEvents(ctx, day, rejects, e.opt.Shard.known(b.ids))
	if err != nil {
		return nil, nil, err
	}
	ev.rejects = rejects
	for _, f := range ev.files {
		m.Inputs = append(m.Inputs, InputFile{Path: f.Path, Size: f.Size, SHA256: f.SHA256})
	}
	m.stage("read_events", t0)
	e.log.Info().Str("stage", "read_events").Str("as_of", day.String()).Int("files", len(ev.files)).
		Int("transactions", len(ev.txns)).Int("repayments", len(ev.repays)).Int("requests", len(ev.reqs)).
		Int64("rejects", rejects.rows).Dur("took", time.Since(t0)).Msg("stage done")

	if e.night, err = e.dailyNight(day); err != nil {
		return nil, nil, err
	}
	t0 = time.Now()
	var w *dayWriter
	err = e.publishDay(day, plan.keepState, func(dir string) error { // publish, or write a shard's part (shard.go)
		var err error
		if w, err = e.newDayWriter(dir, plan.memory, newBook(dir)); err != nil {
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
		if e.opt.Shard.Sharded() {
			return e.finishPart(dir, day, ev, w, b, m) // the commit checks the book (shard.go)
		}
		return e.finish(dir, day, ev, w, b, m, t0)
	})
	if err != nil {
		return nil, nil, err
	}
	e.log.Info().Str("stage", "publish").Str("as_of", day.String()).Dur("took", time.Since(t0)).Msg("stage done")
	var next *book
	switch {
	case w.kept != nil:
		next = &book{accounts: w.kept, dist: w.dist}
	case plan.spill:
		next = &book{spill: spill, n: w.book.Accounts, exposure: w.after.String(), dist: w.dist}
	}
	return m, next, nil
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
