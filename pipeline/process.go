package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/policy"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/scoring"
)

// job is one bucket of consecutive accounts on its way through the day.
type job struct {
	buf      []billing.Account // the array accounts is in, the stream's to fill again
	accounts []billing.Account
	ev       billing.Events    // the events of the bucket's account-id range
	profiles []billing.Profile // the feed's rows of the bucket's known accounts, by account
	pids     []int64           // their account ids
	out      *bucketOut
	err      error
	done     chan struct{}
	pending  atomic.Int32 // the writer's lanes yet to write it
}

// bucketOut is what one bucket produced. Once written it goes back to
// the engine's pool, and its buffers serve a later bucket.
type bucketOut struct {
	billing.Output
	scores    []scoring.ScoreRow
	features  []scoring.CycleFeaturesRow
	nulls     []scoring.Nullables // what the nullable columns of the scores and decisions point at
	decisions []scoring.DecisionRow
	offers    []billing.OfferRow
	grades    []string // what the offers' grade column points at
	dist      *scoring.Distribution
	before    billing.Total // exposure before the day, which no sum can wrap
	after     billing.Total // and after
	daily     *daily.Summary
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
	clear(o.features)
	clear(o.decisions)
	clear(o.offers)
	*o = bucketOut{Output: o.Output, scores: o.scores[:0], features: o.features[:0], nulls: o.nulls,
		decisions: o.decisions[:0], offers: o.offers[:0], grades: o.grades}
	e.outs.Put(o)
}

// release hands a written job's buffers back: the writer copied what it
// keeps, so its outputs and its account array serve a later bucket.
func (e *engine) release(j *job) {
	e.recycle(j.out)
	if j.buf != nil {
		e.bufs.Put(&j.buf)
	}
}

// accountBuf returns an array of BucketSize accounts for the stream to
// fill, recycled from a written bucket when one is free.
func (e *engine) accountBuf() []billing.Account {
	if b, ok := e.bufs.Get().(*[]billing.Account); ok {
		return *b
	}
	return make([]billing.Account, e.opt.BucketSize)
}

// process streams the book through the daily step. One goroutine reads
// buckets of consecutive accounts from src and hands them to a bounded pool
// of workers; one goroutine writes the buckets' outputs and new state in
// bucket order as they finish. Memory is set by workers × bucket size, not
// by the size of the book.
func (e *engine) process(ctx context.Context, src accountStream, day billing.Date, ev *dayEvents, w *dayWriter) error {
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
	fs := &feedStream{inner: src, feed: ev.feed, buf: make([]billing.Account, e.opt.BucketSize)}
	defer func() { w.opened = fs.opened }()
	g.Go(guard("reading the state", func() error { // the only sender on work and queue
		defer close(work)
		defer close(queue)
		var ti, ri, qi int
		for {
			buf := e.accountBuf()
			j := &job{buf: buf, done: make(chan struct{})}
			n, err := fs.read(buf, j)
			if n == 0 && errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			if n == 0 {
				continue
			}
			accounts := buf[:n]
			last := accounts[n-1].ID
			j.accounts = accounts
			j.ev.Incidents = ev.incidents
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
				j.out, j.err = e.bucket(j.accounts, day, ev.night, &j.ev, j.profiles, j.pids)
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
		}
		return nil
	}))
	if err := g.Wait(); err != nil {
		return err
	}
	return w.rejects.addEvents(fs.rejects, ev.fileName)
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

// below returns the events from i on whose account id is < id, and the
// index after them.
func below[T any](s []T, i int, id int64, idOf func(*T) int64) ([]T, int) {
	j := i
	for j < len(s) && idOf(&s[j]) < id {
		j++
	}
	return s[i:j], j
}

// bucket runs the day for a run of consecutive accounts; ev holds the
// events of its account-id range, those of unknown accounts included.
func (e *engine) bucket(accounts []billing.Account, day billing.Date, night *daily.Night, ev *billing.Events, profiles []billing.Profile, pids []int64) (out *bucketOut, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w in the daily step: %w", ErrInternal, &billing.AccountError{
				AccountID: accounts[0].ID, Detail: fmt.Sprintf("the bucket of %d accounts from this one", len(accounts)),
				Err: fmt.Errorf("%v", r)})
		}
	}()
	pol := e.opt.Policy
	out = e.newBucketOut()
	out.dist = pol.Scoring.NewDistribution()
	out.daily = daily.New(night)
	out.scores = slices.Grow(out.scores, len(accounts))
	out.decisions = slices.Grow(out.decisions, len(accounts))
	out.offers = slices.Grow(out.offers, len(accounts))
	if len(out.nulls) < len(accounts) {
		out.nulls = make([]scoring.Nullables, len(accounts))
		out.grades = make([]string, len(accounts))
	}
	var ti, ri, qi, pi int
	var unknown billing.Events
	var as policy.Assessment
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
		if pi < len(pids) && pids[pi] == a.ID {
			de.Profile = &profiles[pi]
			pi++
		}
		de.Incidents = ev.Incidents

		out.before.Add(a.Exposure())
		was, nd := daily.Before(a, day), len(out.Delinquency)
		assessed, err := pol.Night(a, day, &de, &out.Output, &as)
		if err != nil {
			return nil, err
		}
		var del *billing.DelinquencyRow
		if len(out.Delinquency) > nd {
			del = &out.Delinquency[len(out.Delinquency)-1]
		}
		var res *scoring.Result
		if assessed {
			res = &as.Result
			nulls := &out.nulls[len(out.scores)] // the account's two rows'
			out.decisions = append(out.decisions, scoring.NewDecisionRow(a, day, &as.Decision, pol.Version, nulls))
			out.scores = append(out.scores, scoring.NewScoreRow(a, day, &as.Features, &as.Result, pol.Version, nulls))
			if as.CycleFeatures {
				out.features = append(out.features, scoring.NewCycleFeaturesRow(a.ID, day, &as.Features, nulls))
			}
			out.dist.Add(&as.Features, &as.Result)
		}
		if a.Status.Live() {
			out.offers = append(out.offers, billing.Offer(a, day, pol.Billing.Currency, e.prices, pol.Version, &out.grades[len(out.offers)]))
		}
		exposure := a.Exposure()
		out.after.Add(exposure)
		out.daily.Add(a, exposure, was, del, res)
	}
	out.daily.AddOutput(&out.Output, out.decisions)
	rejectUnknown(&unknown, &out.Output)
	return out, nil
}

// feedStream merges the night's new accounts from the accounts feed into
// the book's stream, in account order: a feed row of an id the book does
// not have opens an account (an application, pending tonight, or an
// account migrated active with its limit); a row of a known account
// becomes that account's Profile for the night.
type feedStream struct {
	inner   accountStream
	feed    []source.FeedRow
	i       int               // next feed row
	buf     []billing.Account // the book's accounts read ahead
	bi, bn  int
	eof     bool
	opened  int // accounts the feed opened
	rejects []billing.EventReject
}

// read fills buf with the next accounts in id order, and j with the
// profiles of those among them the feed describes.
func (s *feedStream) read(buf []billing.Account, j *job) (int, error) {
	n := 0
	for n < len(buf) {
		if s.bi == s.bn && !s.eof {
			k, err := s.inner.Read(s.buf)
			switch {
			case errors.Is(err, io.EOF) && k == 0:
				s.eof = true
			case err != nil:
				return n, err
			}
			s.bi, s.bn = 0, k
			continue
		}
		if s.i < len(s.feed) && (s.bi == s.bn || s.feed[s.i].ID < s.buf[s.bi].ID) {
			f := &s.feed[s.i]
			s.i++
			if f.Status != billing.Pending && f.Status != billing.Active {
				s.rejects = append(s.rejects, billing.EventReject{Dataset: billing.DatasetAccounts, Key: fmt.Sprint(f.ID),
					Reason: source.ReasonInvalidStatus, Detail: "status=" + string(f.Status) + ": a new account is pending (an application) or active (migrated with its limit)", Src: f.Src})
				continue
			}
			buf[n] = f.Account()
			s.opened++
			n++
			continue
		}
		if s.bi == s.bn {
			break // the book and the feed are exhausted
		}
		buf[n] = s.buf[s.bi]
		s.bi++
		if s.i < len(s.feed) && s.feed[s.i].ID == buf[n].ID {
			f := &s.feed[s.i]
			s.i++
			j.pids = append(j.pids, f.ID)
			j.profiles = append(j.profiles, billing.Profile{CustomerID: f.CustomerID, OpenedOn: f.OpenedOn,
				BillingDay: f.BillingDay, Status: f.Status, ExternalScore: f.ExternalScore,
				HasExternalScore: f.HasExternalScore, Fraud: f.Fraud, Src: f.Src})
		}
		n++
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}
