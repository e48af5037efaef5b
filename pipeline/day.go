package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/pipeline/state"
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

// bucketOut is what one bucket of accounts produced.
type bucketOut struct {
	billing.Output
	scores    []scoring.ScoreRow
	decisions []scoring.DecisionRow
	dist      *scoring.Distribution
	before    billing.Money // book exposure before the day
	after     billing.Money // and after
}

// day runs one business date over b, advancing b to day, and publishes it.
func (e *engine) day(ctx context.Context, b *book, day billing.Date) (*Manifest, error) {
	m := newManifest(e.opt, day, b.from)
	t0 := time.Now()
	ev, err := e.readEvents(ctx, day)
	if err != nil {
		return nil, err
	}
	m.stage("read_events", t0)
	e.log.Info().Str("stage", "read_events").Str("as_of", day.String()).Int("files", len(ev.files)).
		Int("transactions", len(ev.txns)).Int("repayments", len(ev.repays)).Int("requests", len(ev.reqs)).
		Int("rejects", len(ev.rejects)).Dur("took", time.Since(t0)).Msg("stage done")

	t0 = time.Now()
	rejects := e.unknownAccounts(b.accounts, ev)
	outs, err := e.step(ctx, b.accounts, day, ev)
	if err != nil {
		return nil, err
	}
	res := sumBuckets(outs)
	m.stage("step", t0)

	// The whole book must reconcile with the day's events.
	if got, want := res.after-res.before, res.flows.Net(); got != want {
		return nil, fmt.Errorf("%w: book exposure moved %s, the day's flows explain %s", billing.ErrNotConserved, got, want)
	}
	rejects = append(rejects, e.convertRejects(res.rejects)...)
	rejects = append(ev.rejects, rejects...)
	sortRejects(rejects)
	m.setRejects(rejects, len(ev.txns)+len(ev.repays)+len(ev.reqs))
	e.log.Info().Str("stage", "step").Str("as_of", day.String()).Int("accounts", len(b.accounts)).
		Int64("statements", res.counts[TableStatements]).Int64("notices", res.counts[TableNotices]).
		Int64("past_due", res.counts[TableDelinquency]).
		Int("rejects", len(rejects)).Dur("took", time.Since(t0)).Msg("stage done")
	if m.RejectRatio > e.opt.MaxRejectRatio {
		for _, reason := range sortedKeys(m.Rejects) {
			e.log.Warn().Str("reason", reason).Int64("rows", m.Rejects[reason]).Msg("rejects")
		}
		return nil, fmt.Errorf("%w: %d of %d input rows rejected (%.4f%% > --max-reject-ratio %.4f%%)",
			ErrTooManyRejects, len(rejects), m.RowsRead, 100*m.RejectRatio, 100*e.opt.MaxRejectRatio)
	}

	if b.baseline != nil {
		m.PSI = e.opt.Policy.Scoring.PSI(res.dist, b.baseline)
		for _, p := range m.PSI {
			if p.Warn {
				e.log.Warn().Str("as_of", day.String()).Str("characteristic", p.Name).Float64("psi", p.PSI).Msg("population shift above 0.25")
			}
		}
	}
	for _, f := range ev.files {
		sum, err := e.hash(f.Path)
		if err != nil {
			return nil, err
		}
		m.Inputs = append(m.Inputs, InputFile{Path: f.Path, Size: f.Size, SHA256: sum})
	}
	m.Book = bookTotals(b.accounts, res.flows)

	t0 = time.Now()
	err = publish(e.opt.Out, day, func(dir string) error {
		if err := e.writeOutputs(dir, res, rejects, m); err != nil {
			return err
		}
		crashpoint("outputs")
		if err := state.Write(filepath.Join(dir, "state"), b.accounts); err != nil {
			return err
		}
		if err := pqfile.WriteFile(filepath.Join(dir, "state", distributionFile), res.dist.Rows()); err != nil {
			return err
		}
		if err := writeJSON(filepath.Join(dir, "state", stateInfoFile), stateInfo{
			AsOf: day.String(), PolicyVersion: e.opt.Policy.Version, Accounts: len(b.accounts),
		}); err != nil {
			return err
		}
		m.stage("write", t0)
		return writeJSON(filepath.Join(dir, ManifestFile), m)
	})
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if e.opt.Policy.Scoring.BaselineDistribution() == nil {
		b.baseline = res.dist
	}
	b.from = filepath.Join(PartitionDir(e.opt.Out, day), "state")
	e.log.Info().Str("stage", "publish").Str("as_of", day.String()).Str("dir", PartitionDir(e.opt.Out, day)).
		Dur("took", time.Since(t0)).Msg("stage done")
	return m, nil
}

// readEvents reads the three event datasets of day in parallel.
func (e *engine) readEvents(ctx context.Context, day billing.Date) (*dayEvents, error) {
	loc := e.opt.Policy.Billing.Location()
	ev := &dayEvents{}
	var rTx, rRe, rRq []source.Reject
	tx := source.ForDay(e.inputs[dsTransactions], day)
	re := source.ForDay(e.inputs[dsRepayments], day)
	rq := source.ForDay(e.inputs[dsRequests], day)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() (err error) { ev.txns, rTx, err = source.ReadTransactions(gctx, tx, day, loc); return })
	g.Go(func() (err error) { ev.repays, rRe, err = source.ReadRepayments(gctx, re, day, loc); return })
	if len(rq) > 0 {
		g.Go(func() (err error) { ev.reqs, rRq, err = source.ReadRequests(gctx, rq, day, loc); return })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	ev.rejects = append(append(append(ev.rejects, rTx...), rRe...), rRq...)
	ev.files = append(append(append(ev.files, tx...), re...), rq...)
	return ev, nil
}

// unknownAccounts rejects the events of accounts the book does not have,
// and removes them from ev.
func (e *engine) unknownAccounts(accounts []billing.Account, ev *dayEvents) []source.Reject {
	known := func(id int64) bool {
		i := sort.Search(len(accounts), func(i int) bool { return accounts[i].ID >= id })
		return i < len(accounts) && accounts[i].ID == id
	}
	var rejects []source.Reject
	reject := func(ds, key string, src billing.Source) {
		rejects = append(rejects, source.Reject{Dataset: ds, File: e.fileName(src.File), Row: src.Row, Key: key, Reason: RejectUnknownAccount})
	}
	ev.txns = filter(ev.txns, func(t *billing.Transaction) bool {
		ok := known(t.AccountID)
		if !ok {
			reject(dsTransactions, t.TxnID, t.Src)
		}
		return ok
	})
	ev.repays = filter(ev.repays, func(r *billing.Repayment) bool {
		ok := known(r.AccountID)
		if !ok {
			reject(dsRepayments, r.RepaymentID, r.Src)
		}
		return ok
	})
	ev.reqs = filter(ev.reqs, func(r *billing.Request) bool {
		ok := known(r.AccountID)
		if !ok {
			reject(dsRequests, r.RequestID, r.Src)
		}
		return ok
	})
	return rejects
}

func filter[T any](s []T, keep func(*T) bool) []T {
	out := s[:0]
	for i := range s {
		if keep(&s[i]) {
			out = append(out, s[i])
		}
	}
	return out
}

// step folds the day over every account, in buckets of consecutive accounts
// processed by a bounded pool of workers. Each bucket owns its accounts and
// its output, so no locking is needed; outputs come back in bucket order.
func (e *engine) step(ctx context.Context, accounts []billing.Account, day billing.Date, ev *dayEvents) ([]*bucketOut, error) {
	size := e.opt.BucketSize
	n := (len(accounts) + size - 1) / size
	outs := make([]*bucketOut, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(e.opt.Workers)
	for k := 0; k < n; k++ {
		lo, hi := k*size, min((k+1)*size, len(accounts))
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			out, err := e.bucket(accounts[lo:hi], day, ev)
			outs[k] = out
			return err
		})
	}
	return outs, g.Wait()
}

// bucket runs the day for a run of consecutive accounts.
func (e *engine) bucket(accounts []billing.Account, day billing.Date, ev *dayEvents) (out *bucketOut, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error in the daily step (accounts %d..%d): %v", accounts[0].ID, accounts[len(accounts)-1].ID, r)
		}
	}()
	pol := e.opt.Policy
	sc := &pol.Scoring
	out = &bucketOut{dist: sc.NewDistribution(),
		scores: make([]scoring.ScoreRow, 0, len(accounts)), decisions: make([]scoring.DecisionRow, 0, len(accounts))}
	first := accounts[0].ID
	ti := sort.Search(len(ev.txns), func(i int) bool { return ev.txns[i].AccountID >= first })
	ri := sort.Search(len(ev.repays), func(i int) bool { return ev.repays[i].AccountID >= first })
	qi := sort.Search(len(ev.reqs), func(i int) bool { return ev.reqs[i].AccountID >= first })
	for i := range accounts {
		a := &accounts[i]
		var de billing.Events
		tj := ti
		for tj < len(ev.txns) && ev.txns[tj].AccountID == a.ID {
			tj++
		}
		de.Transactions, ti = ev.txns[ti:tj:tj], tj
		rj := ri
		for rj < len(ev.repays) && ev.repays[rj].AccountID == a.ID {
			rj++
		}
		de.Repayments, ri = ev.repays[ri:rj:rj], rj
		qj := qi
		for qj < len(ev.reqs) && ev.reqs[qj].AccountID == a.ID {
			qj++
		}
		de.Requests, qi = ev.reqs[qi:qj:qj], qj

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
			out.scores = append(out.scores, scoring.NewScoreRow(a, day, &f, &r, pol.Version))
			out.dist.Add(&f, &r)
		}
		out.after += a.Exposure()
	}
	return out, nil
}

// dayResult is the day's outputs: the buckets' rows, kept apart and written
// in bucket order, and their totals.
type dayResult struct {
	buckets []*bucketOut
	flows   billing.Flows
	dist    *scoring.Distribution
	before  billing.Money
	after   billing.Money
	rejects []billing.EventReject
	counts  map[string]int64
}

// sumBuckets totals the buckets without copying their rows.
func sumBuckets(outs []*bucketOut) *dayResult {
	r := &dayResult{buckets: outs, counts: map[string]int64{}}
	for i, o := range outs {
		if i == 0 {
			r.dist = o.dist
		} else {
			r.dist.Merge(o.dist)
		}
		r.flows.Add(o.Flows)
		r.before += o.before
		r.after += o.after
		r.rejects = append(r.rejects, o.Output.Rejects...)
		r.counts[TableStatements] += int64(len(o.Statements))
		r.counts[TableStatementLines] += int64(len(o.Lines))
		r.counts[TablePlans] += int64(len(o.Plans))
		r.counts[TableDelinquency] += int64(len(o.Delinquency))
		r.counts[TableNotices] += int64(len(o.Notices))
		r.counts[TableBureau] += int64(len(o.Bureau))
		r.counts[TableScores] += int64(len(o.scores))
		r.counts[TableLimitDecisions] += int64(len(o.decisions))
	}
	return r
}

func (e *engine) fileName(idx int32) string {
	for _, files := range e.inputs {
		for _, f := range files {
			if f.Index == idx {
				return f.Path
			}
		}
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

// hash returns the sha256 of a file, once per process.
func (e *engine) hash(path string) (string, error) {
	if h, ok := e.hashes[path]; ok {
		return h, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	e.hashes[path] = sum
	return sum, nil
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
