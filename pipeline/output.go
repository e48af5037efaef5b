package pipeline

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/scoring"

	"github.com/creditrun/creditrun/pipeline/pqfile"
)

// Output tables, one file each in OUT/as_of=D/.
const (
	TableStatements     = "statements"
	TableStatementLines = "statement_lines"
	TablePlans          = "installment_plans"
	TableDelinquency    = "delinquency"
	TableScores         = "scores"
	TableCycleFeatures  = "cycle_features"
	TableLimitDecisions = "limit_decisions"
	TableNotices        = "notices"
	TableBureau         = "bureau"
	TableOffers         = "offers"
	TableRejects        = "rejects"
	ManifestFile        = "_manifest.json"
)

// dayWriter appends each bucket's rows to the day's tables and its
// accounts to the new state, in bucket order, and keeps the day's totals.
// The tables are encoded on lanes, goroutines that each own some of the
// tables and take every bucket in order: each file is written by one
// goroutine from the same rows in the same order (the same bytes), while
// the encoding of different tables shares the cores.
type dayWriter struct {
	statements  *pqfile.Writer[billing.StatementRow]
	lines       *pqfile.Writer[billing.LineRow]
	plans       *pqfile.Writer[billing.PlanRow]
	delinquency *pqfile.Writer[billing.DelinquencyRow]
	scores      *pqfile.Writer[scoring.ScoreRow]
	features    *pqfile.Writer[scoring.CycleFeaturesRow]
	decisions   *pqfile.Writer[scoring.DecisionRow]
	notices     *pqfile.Writer[billing.Notice]
	bureau      *pqfile.Writer[billing.BureauRow]
	offers      *pqfile.Writer[billing.OfferRow]
	state       bookWriter // the new book: the state, a spill or nothing

	rows          map[string]int64
	flows         billing.Flows
	before, after billing.Total // the book's exposure before and after the day
	dist          *scoring.Distribution
	opened        int // accounts the night's feed opened
	daily         *daily.Summary
	rejects       *rejectSpool // the night's, which the daily step's rejects join
	book          BookTotals
	e             *engine
	ev            *dayEvents

	lanes   []chan *job
	lanesWG sync.WaitGroup
	failed  chan struct{} // closed on a lane's first error
	failErr error         // that error, read once failed is closed
	fail    sync.Once
	drained bool
}

// laneDepth is how many buckets a lane may have waiting: enough to keep
// it busy while the others catch up, few enough that memory stays set by
// the bucket size.
const laneDepth = 1

// startLanes starts one goroutine per group of tables. A job written to
// every lane is handed back to the engine's pools by the last one.
func (w *dayWriter) startLanes() {
	w.failed = make(chan struct{})
	groups := []func(*job) error{
		func(j *job) error { return w.state.Write(j.accounts) },
		func(j *job) error { return w.scores.Write(j.out.scores) },
		func(j *job) error { return w.decisions.Write(j.out.decisions) },
		func(j *job) error { return w.offers.Write(j.out.offers) },
		func(j *job) error {
			o := j.out
			return errors.Join(w.statements.Write(o.Statements), w.lines.Write(o.Lines), w.plans.Write(o.Plans),
				w.delinquency.Write(o.Delinquency), w.notices.Write(o.Notices), w.bureau.Write(o.Bureau),
				w.features.Write(o.features))
		},
	}
	for _, write := range groups {
		in := make(chan *job, laneDepth)
		w.lanes = append(w.lanes, in)
		w.lanesWG.Add(1)
		go func() {
			defer w.lanesWG.Done()
			ok := true
			for j := range in {
				if ok {
					if err := write(j); err != nil {
						ok = false
						w.fail.Do(func() { w.failErr = err; close(w.failed) })
						continue
					}
				}
				if ok && j.pending.Add(-1) == 0 {
					w.e.release(j)
				}
			}
		}()
	}
}

// drainLanes lets the lanes finish the buckets they hold and stops them;
// it returns the first error a lane met.
func (w *dayWriter) drainLanes() error {
	if w.drained {
		return w.laneErr()
	}
	w.drained = true
	for _, in := range w.lanes {
		close(in)
	}
	w.lanesWG.Wait()
	return w.laneErr()
}

func (w *dayWriter) laneErr() error {
	if w.failed == nil {
		return nil
	}
	select {
	case <-w.failed:
		return w.failErr
	default:
		return nil
	}
}

func (e *engine) newDayWriter(dir string, ev *dayEvents, newBook func() (bookWriter, error)) (*dayWriter, error) {
	w := &dayWriter{e: e, ev: ev, rows: map[string]int64{}, dist: e.opt.Policy.Scoring.NewDistribution(),
		daily: daily.New(ev.night), book: BookTotals{ByStatus: map[string]int{}}}
	path := func(t string) string { return filepath.Join(dir, t+".parquet") }
	var err error
	if w.statements, err = pqfile.Create[billing.StatementRow](path(TableStatements)); err == nil {
		if w.lines, err = pqfile.Create[billing.LineRow](path(TableStatementLines)); err == nil {
			if w.plans, err = pqfile.Create[billing.PlanRow](path(TablePlans)); err == nil {
				if w.delinquency, err = pqfile.Create[billing.DelinquencyRow](path(TableDelinquency)); err == nil {
					if w.scores, err = pqfile.Create[scoring.ScoreRow](path(TableScores)); err == nil {
						if w.decisions, err = pqfile.Create[scoring.DecisionRow](path(TableLimitDecisions)); err == nil {
							if w.notices, err = pqfile.Create[billing.Notice](path(TableNotices)); err == nil {
								if w.bureau, err = pqfile.Create[billing.BureauRow](path(TableBureau)); err == nil {
									if w.offers, err = pqfile.Create[billing.OfferRow](path(TableOffers)); err == nil {
										if w.features, err = pqfile.Create[scoring.CycleFeaturesRow](path(TableCycleFeatures)); err == nil {
											w.state, err = newBook()
										}
									}
								}
							}
						}
					}
				}
			}
		}
	}
	if err != nil {
		w.abort()
		return nil, err
	}
	w.startLanes()
	return w, nil
}

// write appends one finished bucket: it adds the bucket to the day's
// totals and hands it to every lane, which releases it once written.
func (w *dayWriter) write(j *job) error {
	if err := w.laneErr(); err != nil {
		return err
	}
	o := j.out
	w.rows[TableStatements] += int64(len(o.Statements))
	w.rows[TableStatementLines] += int64(len(o.Lines))
	w.rows[TablePlans] += int64(len(o.Plans))
	w.rows[TableDelinquency] += int64(len(o.Delinquency))
	w.rows[TableScores] += int64(len(o.scores))
	w.rows[TableCycleFeatures] += int64(len(o.features))
	w.rows[TableLimitDecisions] += int64(len(o.decisions))
	w.rows[TableNotices] += int64(len(o.Notices))
	w.rows[TableBureau] += int64(len(o.Bureau))
	w.rows[TableOffers] += int64(len(o.offers))
	if err := w.flows.Add(o.Flows); err != nil {
		return fmt.Errorf("the book's flows: %w", err)
	}
	w.before.AddTotal(o.before)
	w.after.AddTotal(o.after)
	w.dist.Merge(o.dist)
	if o.daily != nil {
		w.daily.Merge(o.daily)
	}
	if err := w.rejects.addEvents(o.Output.Rejects, w.ev.fileName); err != nil {
		return err
	}
	for i := range j.accounts {
		w.book.ByStatus[string(j.accounts[i].Status)]++
	}
	w.book.Accounts += len(j.accounts)
	j.pending.Store(int32(len(w.lanes)))
	for _, in := range w.lanes {
		select {
		case in <- j:
		case <-w.failed:
			return w.failErr
		}
	}
	return nil
}

// close finishes every table durably, concurrently: each Close ends in an
// fsync, and the filesystem commits concurrent ones together.
func (w *dayWriter) close() error {
	if err := w.drainLanes(); err != nil {
		w.abort()
		return err
	}
	var g errgroup.Group
	for _, c := range []func() error{w.statements.Close, w.lines.Close, w.plans.Close, w.delinquency.Close,
		w.scores.Close, w.decisions.Close, w.notices.Close, w.bureau.Close, w.offers.Close, w.features.Close, w.state.Close} {
		g.Go(c)
	}
	return g.Wait()
}

// abort closes whatever is open; the temporary directory is removed.
func (w *dayWriter) abort() {
	w.drainLanes()
	w.statements.Abort()
	w.lines.Abort()
	w.plans.Abort()
	w.delinquency.Abort()
	w.scores.Abort()
	w.decisions.Abort()
	w.notices.Abort()
	w.bureau.Abort()
	w.offers.Abort()
	w.features.Abort()
	if w.state != nil {
		w.state.Abort()
	}
}
