package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/storage"
)

// dayEvents are the events of one business date, each slice sorted by
// account, timestamp and id.
type dayEvents struct {
	txns   []billing.Transaction
	repays []billing.Repayment
	reqs   []billing.Request
	feed   []source.FeedRow // the accounts feed's rows of the day, by account
	// incidents are the platform incidents in force (recorded on or
	// before the date), the same for every account.
	incidents []billing.Incident
	// rejects is the night's rejects table, which the readers' rejects
	// have joined.
	rejects *rejectSpool
	files   []source.File // the files read
	paths   []string      // the input file paths by Index, for rejects
	// night is what every bucket of the date shares for the daily summary.
	night *daily.Night
}

// rows is the number of event rows the day kept.
func (ev *dayEvents) rows() int { return len(ev.txns) + len(ev.repays) + len(ev.reqs) + len(ev.feed) }

// eventDatasets are the input datasets of a night, in the order of the
// input file list; requests, the accounts feed and incidents are optional
// (accounts/ is a feed when it is partitioned and its files carry
// updated_at; a plain master there is only read by a first run that names
// it with --state).
var eventDatasets = []string{billing.DatasetTransactions, billing.DatasetRepayments, billing.DatasetRequests,
	billing.DatasetAccounts, billing.DatasetIncidents}

// optionalDataset reports whether a night runs without dataset ds.
func optionalDataset(ds string) bool {
	return ds == billing.DatasetRequests || ds == billing.DatasetAccounts || ds == billing.DatasetIncidents
}

// listInputs opens the day's input datasets once per process; each day
// then lists only the partitions it needs.
func (e *engine) listInputs() error {
	e.inputs = map[string]*source.Dataset{}
	landing := source.Landing{RequireMarker: e.opt.RequireMarker, Sparse: e.opt.SparsePartitions}
	for _, ds := range eventDatasets {
		d, err := source.OpenDataset(ds, source.Join(e.opt.Events, ds), landing)
		if optionalDataset(ds) && errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return inputError(ds, err)
		}
		if ds == billing.DatasetAccounts && !d.Partitioned() {
			continue // a master, not a daily feed
		}
		e.inputs[ds] = d
	}
	return nil
}

// inputError classifies an error opening or listing dataset ds.
func inputError(ds string, err error) error {
	switch {
	case errors.Is(err, source.ErrNotLanded):
		return fmt.Errorf("%w: %w", ErrInputMissing, err)
	case errors.Is(err, source.ErrPartition), errors.Is(err, source.ErrNoBucket):
		return fmt.Errorf("%w: input %s: %w", ErrBadInput, ds, err)
	case storeRefused(err):
		return fmt.Errorf("%w: input %s: %w", ErrBadInput, ds, err)
	}
	return fmt.Errorf("input %s: %w", ds, err)
}

// storeRefused reports whether err is an object store's permanent refusal
// (credentials refused, access denied): not worth a retry as it is.
func storeRefused(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && source.IsURL(pe.Path) && !storage.IsTransient(err) && !errors.Is(err, fs.ErrNotExist)
}

// readEvents lists the files of the partitions day needs, proving they
// landed, and reads the event datasets of day in parallel, their rejects
// going to rejects as they are found (the night's spool, which the caller
// sets as the events' rejects). With book, the book's account ids, events
// of accounts neither it nor tonight's accounts feed has are rejected as
// they are read (the feed is read first); without, by the daily step.
func (e *engine) readEvents(ctx context.Context, day billing.Date, rejects source.RejectWriter, book []int64) (*dayEvents, error) {
	loc := e.opt.Policy.Billing.Location()
	rules := source.RulesFrom(&e.opt.Policy.Billing)
	e.opt.Shard.narrow(&rules) // a shard's accounts only (shard.go)
	var lists [5][]source.File
	var fetch source.FetchCount // this date's fetches, apart from another date's in flight
	ev := &dayEvents{}
	for i, ds := range eventDatasets {
		d := e.inputs[ds]
		if d == nil {
			continue // an optional dataset that is not there
		}
		files, warns, err := d.ForDay(day, loc)
		fetch.Count(files)
		for _, w := range warns {
			e.log.Warn().Str("as_of", day.String()).Str("dataset", w.Dataset).Str("path", w.Path).Str("warning", w.What).Msg("input skipped")
		}
		if err != nil {
			return nil, inputError(ds, err)
		}
		if ds == billing.DatasetAccounts {
			feed, err := source.IsFeed(files)
			if err != nil {
				return nil, inputError(ds, err)
			}
			if !feed {
				continue // a plain master: no feed
			}
		}
		for j := range files {
			files[j].Index = int32(len(ev.paths))
			ev.paths = append(ev.paths, files[j].Path)
		}
		lists[i] = files
	}
	tx, re, rq, ac, in := lists[0], lists[1], lists[2], lists[3], lists[4]
	if book != nil {
		if len(ac) > 0 {
			err := guard("reading the accounts feed", func() (err error) {
				ev.feed, err = source.ReadFeedTo(ctx, ac, day, rules, rejects)
				return
			})()
			if err != nil {
				return nil, err
			}
			ac = nil // read
		}
		rules.Known = knownAccounts(book, ev.feed)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(guard("reading transactions", func() (err error) {
		ev.txns, err = source.ReadTransactionsTo(gctx, tx, day, rules, rejects)
		return
	}))
	g.Go(guard("reading repayments", func() (err error) {
		ev.repays, err = source.ReadRepaymentsTo(gctx, re, day, rules, rejects)
		return
	}))
	if len(rq) > 0 {
		g.Go(guard("reading requests", func() (err error) { ev.reqs, err = source.ReadRequestsTo(gctx, rq, day, rules, rejects); return }))
	}
	if len(ac) > 0 {
		g.Go(guard("reading the accounts feed", func() (err error) { ev.feed, err = source.ReadFeedTo(gctx, ac, day, rules, rejects); return }))
	}
	if len(in) > 0 {
		g.Go(guard("reading incidents", func() (err error) {
			ev.incidents, err = source.ReadIncidentsTo(gctx, in, day, rules, rejects)
			return
		}))
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if req, bytes := fetch.Fetched(); req > 0 {
		var size int64
		for _, l := range lists {
			for _, f := range l {
				size += f.Size
			}
		}
		e.log.Info().Str("as_of", day.String()).Int64("requests", req).Int64("bytes", bytes).
			Int64("input_bytes", size).Msg("input fetched")
	}
	ev.files = append(append(append(append(append(ev.files, tx...), re...), rq...), lists[3]...), in...)
	if err := e.checksum(ev.files); err != nil {
		return nil, err
	}
	return ev, nil
}

// knownAccounts says whether book (ascending ids) or the feed's rows have
// an account.
func knownAccounts(book []int64, feed []source.FeedRow) func(int64) bool {
	opened := make(map[int64]struct{}, len(feed))
	for i := range feed {
		opened[feed[i].ID] = struct{}{}
	}
	inBook := bookIndex(book)
	return func(id int64) bool {
		if inBook(id) {
			return true
		}
		_, ok := opened[id]
		return ok
	}
}

// bookIndex says whether book (ascending ids) holds an id, for every row
// of the night's events. A book whose ids are dense (at most 64 ids of
// range an account, as a book numbered in sequence is) is looked up in a
// bitmap of its range, which takes no more than the ids themselves (1M
// ids in sequence: 125 KB, in cache); any other by binary search, each
// lookup some twenty misses of the cache in a large book.
func bookIndex(book []int64) func(int64) bool {
	if len(book) == 0 {
		return func(int64) bool { return false }
	}
	lo, hi := book[0], book[len(book)-1]
	span := uint64(hi) - uint64(lo) // hi ≥ lo: exact even across the sign
	if span/64 >= uint64(len(book)) {
		return func(id int64) bool {
			_, ok := slices.BinarySearch(book, id)
			return ok
		}
	}
	bits := make([]uint64, span/64+1)
	for _, id := range book {
		d := uint64(id) - uint64(lo)
		bits[d/64] |= 1 << (d % 64)
	}
	return func(id int64) bool {
		if id < lo || id > hi {
			return false
		}
		d := uint64(id) - uint64(lo)
		return bits[d/64]&(1<<(d%64)) != 0
	}
}

// checksum hashes the files a day reads, each once per process (a
// backfill reads every partition on three days).
func (e *engine) checksum(files []source.File) error {
	e.hashMu.Lock() // dates in flight share the hashes
	defer e.hashMu.Unlock()
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

// fileName is the path of input file idx, for rejects.
func (ev *dayEvents) fileName(idx int32) string {
	if int(idx) < len(ev.paths) {
		return ev.paths[idx]
	}
	return fmt.Sprintf("file#%d", idx)
}
