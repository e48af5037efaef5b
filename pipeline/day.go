package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"

	"github.com/creditrun/creditrun/scoring"
)

// dayEvents are the events of one business date, each slice sorted by
// account, timestamp and id.
type dayEvents struct {
	txns    []billing.Transaction
	repays  []billing.Repayment
	reqs    []billing.Request
	rejects []source.Reject
	files   []source.File // the files read
}

// day runs one business date: it streams the book from src through the
// daily step and publishes the outputs and the new state of day.
func (e *engine) day(ctx context.Context, src accountSource, stateFrom string, baseline *scoring.Distribution, day billing.Date, keep bool) (*Manifest, *book, error) {
	m := newManifest(e.opt, day, stateFrom)
	t0 := time.Now()
	ev, err := e.readEvents(ctx, day)
	if err != nil {
		return nil, nil, err
	}
	if err := e.checksum(ev.files); err != nil {
		return nil, nil, err
	}
	for _, f := range ev.files {
		m.Inputs = append(m.Inputs, InputFile{Path: f.Path, Size: f.Size, SHA256: f.SHA256})
	}
	m.stage("read_events", t0)
	e.log.Info().Str("stage", "read_events").Str("as_of", day.String()).Int("files", len(ev.files)).
		Int("transactions", len(ev.txns)).Int("repayments", len(ev.repays)).Int("requests", len(ev.reqs)).
		Int("rejects", len(ev.rejects)).Dur("took", time.Since(t0)).Msg("stage done")

	t0 = time.Now()
	var w *dayWriter
	err = publish(e.opt.Out, day, func(dir string) error {
		var err error
		if w, err = e.newDayWriter(dir, keep); err != nil {
			return err
		}
		if err := e.process(ctx, src, day, ev, w); err != nil {
			w.abort()
			return err
		}
		if err := w.close(); err != nil {
			return err
		}
		crashpoint("outputs")
		return e.finish(dir, day, ev, w, baseline, m, t0)
	})
	if err != nil {
		return nil, nil, err
	}
	e.log.Info().Str("stage", "publish").Str("as_of", day.String()).Dur("took", time.Since(t0)).Msg("stage done")
	var next *book
	if w.kept != nil {
		next = &book{accounts: w.kept, dist: w.dist}
	}
	return m, next, nil
}

// finish checks the day as a whole and writes what needs all of it: the
// book must reconcile with the day's flows and the rejects stay under the
// threshold, or nothing is published.
func (e *engine) finish(dir string, day billing.Date, ev *dayEvents, w *dayWriter, baseline *scoring.Distribution, m *Manifest, start time.Time) error {
	if got, want := w.after-w.before, w.flows.Net(); got != want {
		return fmt.Errorf("%w: book exposure moved %s, the day's flows explain %s", billing.ErrNotConserved, got, want)
	}
	rejects := append(ev.rejects, w.rejects...)
	sortRejects(rejects)
	m.setRejects(rejects, len(ev.txns)+len(ev.repays)+len(ev.reqs)-len(w.rejects))
	if m.RejectRatio > e.opt.MaxRejectRatio {
		for _, reason := range sortedKeys(m.Rejects) {
			e.log.Warn().Str("as_of", day.String()).Str("reason", reason).Int64("rows", m.Rejects[reason]).Msg("rejects")
		}
		return fmt.Errorf("%w: %d of %d input rows rejected (%.4f%% > --max-reject-ratio %.4f%%)",
			ErrTooManyRejects, len(rejects), m.RowsRead, 100*m.RejectRatio, 100*e.opt.MaxRejectRatio)
	}
	w.rows[TableRejects] = int64(len(rejects))
	m.Rows = w.rows
	m.Book = w.book
	m.Book.Exposure = w.after.String()
	m.Book.Flows = flowStrings(w.flows)
	if baseline != nil {
		m.PSI = e.opt.Policy.Scoring.PSI(w.dist, baseline)
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
	// The last files, in one round of fsyncs.
	var g errgroup.Group
	g.Go(func() error { return pqfile.WriteFile(filepath.Join(dir, TableRejects+".parquet"), rejects) })
	g.Go(func() error { return pqfile.WriteFile(filepath.Join(dir, "state", distributionFile), w.dist.Rows()) })
	g.Go(func() error {
		return writeJSON(filepath.Join(dir, "state", stateInfoFile), stateInfo{
			AsOf: day.String(), PolicyVersion: e.opt.Policy.Version, Accounts: w.book.Accounts,
		})
	})
	g.Go(func() error { return writeJSON(filepath.Join(dir, ManifestFile), m) })
	return g.Wait()
}

// readEvents reads the three event datasets of day in parallel.
func (e *engine) readEvents(ctx context.Context, day billing.Date) (*dayEvents, error) {
	loc := e.opt.Policy.Billing.Location()
	rules := source.RulesFrom(&e.opt.Policy.Billing)
	for _, ds := range []string{dsTransactions, dsRepayments} {
		if err := complete(ds, e.inputs[ds], day, loc); err != nil {
			return nil, err
		}
	}
	ev := &dayEvents{}
	var rTx, rRe, rRq []source.Reject
	tx := source.ForDay(e.inputs[dsTransactions], day)
	re := source.ForDay(e.inputs[dsRepayments], day)
	rq := source.ForDay(e.inputs[dsRequests], day)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(guard("reading transactions", func() (err error) { ev.txns, rTx, err = source.ReadTransactions(gctx, tx, day, rules); return }))
	g.Go(guard("reading repayments", func() (err error) { ev.repays, rRe, err = source.ReadRepayments(gctx, re, day, rules); return }))
	if len(rq) > 0 {
		g.Go(guard("reading requests", func() (err error) { ev.reqs, rRq, err = source.ReadRequests(gctx, rq, day, rules); return }))
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	ev.rejects = append(append(append(ev.rejects, rTx...), rRe...), rRq...)
	ev.files = append(append(append(ev.files, tx...), re...), rq...)
	return ev, nil
}

// complete checks that a Hive-partitioned dataset has every dt= partition
// that can hold events of day: those of the UTC dates the local day spans
// (2025-03-10 in Shanghai is 2025-03-09T16:00Z to 2025-03-10T16:00Z, so
// dt=2025-03-09 and dt=2025-03-10). A missing one means upstream has not
// landed the day yet: running would publish a night without its events.
// Unpartitioned datasets are taken as they are.
func complete(ds string, files []source.File, day billing.Date, loc *time.Location) error {
	have := map[billing.Date]bool{}
	for _, f := range files {
		if f.Dt != 0 {
			have[f.Dt] = true
		}
	}
	if len(have) == 0 {
		return nil
	}
	y, m, d := day.YMD()
	first := time.Date(y, m, d, 0, 0, 0, 0, loc)
	last := first.AddDate(0, 0, 1).Add(-time.Nanosecond)
	for dt := billing.NewDate(first.UTC().Date()); dt <= billing.NewDate(last.UTC().Date()); dt++ {
		if !have[dt] {
			return fmt.Errorf("%w: %s has no partition dt=%s, which holds events of %s: upstream has not landed them (an empty day is an empty file, not a missing one)",
				ErrInputMissing, ds, dt, day)
		}
	}
	return nil
}

// recycler is an accountSource that reuses the arrays of written buckets.
type recycler interface {
	Recycle(accounts []billing.Account)
}

// job is one bucket of consecutive accounts on its way through the day.
type job struct {
	accounts []billing.Account
	ev       billing.Events // the events of the bucket's account-id range
	out      *bucketOut
	err      error
	done     chan struct{}
}

// bucketOut is what one bucket produced. Once written it goes back to
// the engine's pool, and its buffers serve a later bucket.
type bucketOut struct {
	billing.Output
	scores    []scoring.ScoreRow
	nulls     []scoring.Nullables // what the scores' nullable columns point at
	decisions []scoring.DecisionRow
	dist      *scoring.Distribution
	before    billing.Money // exposure before the day
	after     billing.Money // and after
}

// newBucketOut returns an empty bucketOut, recycled when one is free.
func (e *engine) newBucketOut() *bucketOut {
	if o, ok := e.outs.Get().(*bucketOut); ok {
		return o
	}
	return &bucketOut{}
}

// recycle hands a written bucket's buffers back for a later bucket.
func (e *engine) recycle(o *bucketOut) {
	o.Output.Reset()
	clear(o.scores) // drop the pointers into nulls and the strings
	clear(o.decisions)
	*o = bucketOut{Output: o.Output, scores: o.scores[:0], nulls: o.nulls, decisions: o.decisions[:0]}
	e.outs.Put(o)
}

// process streams the book through the daily step. One goroutine reads
// buckets of consecutive accounts from src and hands them to a bounded pool
// of workers; one goroutine writes the buckets' outputs and new state in
// bucket order as they finish. Memory is set by workers × bucket size, not
// by the size of the book.
func (e *engine) process(ctx context.Context, src accountSource, day billing.Date, ev *dayEvents, w *dayWriter) error {
	g, gctx := errgroup.WithContext(ctx)
	work := make(chan *job)
	queue := make(chan *job, e.opt.Workers)
	send := func(ch chan *job, j *job) error {
		select {
		case ch <- j:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	}
	g.Go(guard("reading the state", func() error { // the only sender on work and queue
		defer close(work)
		defer close(queue)
		var ti, ri, qi int
		for {
			accounts, err := src.Next(e.opt.BucketSize)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			last := accounts[len(accounts)-1].ID
			j := &job{accounts: accounts, done: make(chan struct{})}
			j.ev.Transactions, ti = upTo(ev.txns, ti, last, func(t *billing.Transaction) int64 { return t.AccountID })
			j.ev.Repayments, ri = upTo(ev.repays, ri, last, func(r *billing.Repayment) int64 { return r.AccountID })
			j.ev.Requests, qi = upTo(ev.reqs, qi, last, func(r *billing.Request) int64 { return r.AccountID })
			if err := send(queue, j); err != nil {
				return err
			}
			if err := send(work, j); err != nil {
				return err
			}
		}
		// Events after the last account belong to no account.
		rest := &job{done: make(chan struct{})}
		rest.ev = billing.Events{Transactions: ev.txns[ti:], Repayments: ev.repays[ri:], Requests: ev.reqs[qi:]}
		rest.out = &bucketOut{dist: e.opt.Policy.Scoring.NewDistribution()}
		rejectUnknown(&rest.ev, &rest.out.Output)
		close(rest.done)
		return send(queue, rest)
	}))
	for i := 0; i < e.opt.Workers; i++ {
		g.Go(guard("the daily step", func() error {
			for j := range work {
				j.out, j.err = e.bucket(j.accounts, day, &j.ev)
				close(j.done)
			}
			return nil
		}))
	}
	g.Go(guard("writing the outputs", func() error { // in bucket order
		for j := range queue {
			select {
			case <-j.done:
			case <-gctx.Done():
				return gctx.Err()
			}
			if j.err != nil {
				return j.err
			}
			if err := w.write(j); err != nil {
				return err
			}
			e.recycle(j.out)
			if r, ok := src.(recycler); ok && w.kept == nil {
				r.Recycle(j.accounts)
			}
		}
		return nil
	}))
	return g.Wait()
}

// upTo returns the events from i on whose account id is ≤ last, and the
// index after them.
func upTo[T any](s []T, i int, last int64, id func(*T) int64) ([]T, int) {
	j := i
	for j < len(s) && id(&s[j]) <= last {
		j++
	}
	return s[i:j:j], j
}

// rejectUnknown rejects every event in ev: none of them has an account.
func rejectUnknown(ev *billing.Events, out *billing.Output) {
	for _, t := range ev.Transactions {
		out.Rejects = append(out.Rejects, billing.EventReject{Dataset: dsTransactions, Key: t.TxnID, Reason: RejectUnknownAccount, Src: t.Src})
	}
	for _, r := range ev.Repayments {
		out.Rejects = append(out.Rejects, billing.EventReject{Dataset: dsRepayments, Key: r.RepaymentID, Reason: RejectUnknownAccount, Src: r.Src})
	}
	for _, r := range ev.Requests {
		out.Rejects = append(out.Rejects, billing.EventReject{Dataset: dsRequests, Key: r.RequestID, Reason: RejectUnknownAccount, Src: r.Src})
	}
}

// bucket runs the day for a run of consecutive accounts; ev holds the
// events of its account-id range, those of unknown accounts included.
func (e *engine) bucket(accounts []billing.Account, day billing.Date, ev *billing.Events) (out *bucketOut, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in the daily step: %w", &billing.AccountError{
				AccountID: accounts[0].ID, Detail: fmt.Sprintf("the bucket of %d accounts from this one", len(accounts)),
				Err: fmt.Errorf("%v", r)})
		}
	}()
	pol := e.opt.Policy
	sc := &pol.Scoring
	out = e.newBucketOut()
	out.dist = sc.NewDistribution()
	out.scores = slices.Grow(out.scores, len(accounts))
	out.decisions = slices.Grow(out.decisions, len(accounts))
	if len(out.nulls) < len(accounts) {
		out.nulls = make([]scoring.Nullables, len(accounts))
	}
	var ti, ri, qi int
	var unknown billing.Events
	for i := range accounts {
		a := &accounts[i]
		var de billing.Events
		// Events of ids below this account's have no account.
		var skipped []billing.Transaction
		skipped, ti = below(ev.Transactions, ti, a.ID, func(t *billing.Transaction) int64 { return t.AccountID })
		unknown.Transactions = append(unknown.Transactions, skipped...)
		var skippedR []billing.Repayment
		skippedR, ri = below(ev.Repayments, ri, a.ID, func(r *billing.Repayment) int64 { return r.AccountID })
		unknown.Repayments = append(unknown.Repayments, skippedR...)
		var skippedQ []billing.Request
		skippedQ, qi = below(ev.Requests, qi, a.ID, func(r *billing.Request) int64 { return r.AccountID })
		unknown.Requests = append(unknown.Requests, skippedQ...)
		de.Transactions, ti = upTo(ev.Transactions, ti, a.ID, func(t *billing.Transaction) int64 { return t.AccountID })
		de.Repayments, ri = upTo(ev.Repayments, ri, a.ID, func(r *billing.Repayment) int64 { return r.AccountID })
		de.Requests, qi = upTo(ev.Requests, qi, a.ID, func(r *billing.Request) int64 { return r.AccountID })

		out.before += a.Exposure()
		if err := billing.Close(&pol.Billing, a, day, &de, &out.Output); err != nil {
			return nil, err
		}
		if a.Status != billing.Closed && a.Status != billing.Declined {
			f := scoring.ComputeFeatures(a, day)
			r := sc.Score(&f)
			d := sc.Decide(a, day, &r)
			out.decisions = append(out.decisions, scoring.NewDecisionRow(a, day, &d, pol.Version))
			billing.ApplyLimit(&pol.Billing, a, day, d.Action, d.NewLimit, &out.Output)
			a.Grade, a.Score = r.Grade, r.Score
			out.scores = append(out.scores, scoring.NewScoreRow(a, day, &f, &r, pol.Version, &out.nulls[len(out.scores)]))
			out.dist.Add(&f, &r)
		}
		out.after += a.Exposure()
	}
	rejectUnknown(&unknown, &out.Output)
	return out, nil
}

// below returns the events from i on whose account id is < id, and the
// index after them.
func below[T any](s []T, i int, id int64, idOf func(*T) int64) ([]T, int) {
	j := i
	for j < len(s) && idOf(&s[j]) < id {
		j++
	}
	return s[i:j], j
}

func (e *engine) fileName(idx int32) string {
	if int(idx) < len(e.paths) {
		return e.paths[idx]
	}
	return fmt.Sprintf("file#%d", idx)
}

func (e *engine) convertRejects(rs []billing.EventReject) []source.Reject {
	out := make([]source.Reject, len(rs))
	for i, r := range rs {
		out[i] = source.Reject{Dataset: r.Dataset, File: e.fileName(r.Src.File), Row: r.Src.Row, Key: r.Key, Reason: r.Reason}
	}
	return out
}

func sortRejects(rs []source.Reject) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := &rs[i], &rs[j]
		if a.Dataset != b.Dataset {
			return a.Dataset < b.Dataset
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Row < b.Row
	})
}

// checksum hashes the files a day reads, each once per process (a
// backfill reads every partition on three days).
func (e *engine) checksum(files []source.File) error {
	var todo []source.File
	for _, f := range files {
		if _, ok := e.hashes[f.Path]; !ok {
			todo = append(todo, f)
		}
	}
	if err := source.Checksum(todo); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	for _, f := range todo {
		e.hashes[f.Path] = f.SHA256
	}
	for i := range files {
		files[i].SHA256 = e.hashes[files[i].Path]
	}
	return nil
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(data, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func readJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}
