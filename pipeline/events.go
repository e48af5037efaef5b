package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/source"
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

// rows is the number of event rows the day kept.
func (ev *dayEvents) rows() int { return len(ev.txns) + len(ev.repays) + len(ev.reqs) }

// eventDatasets are the input datasets of a night, in the order of the
// input file list; requests are optional.
var eventDatasets = []string{billing.DatasetTransactions, billing.DatasetRepayments, billing.DatasetRequests}

func (e *engine) listInputs() error {
	e.inputs = map[string][]source.File{}
	var idx int32
	for _, ds := range eventDatasets {
		path := filepath.Join(e.opt.Events, ds)
		if _, err := os.Stat(path); err != nil {
			if ds == billing.DatasetRequests && errors.Is(err, os.ErrNotExist) {
				continue // requests are optional
			}
			if errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("%w: input %s: %w", ErrInputMissing, ds, err)
			}
			return fmt.Errorf("input %s: %w", ds, err)
		}
		files, err := source.List(path)
		if err != nil {
			return fmt.Errorf("%w: list %s: %w", ErrBadInput, ds, err)
		}
		for i := range files {
			files[i].Index = idx
			idx++
			e.paths = append(e.paths, files[i].Path)
		}
		e.inputs[ds] = files
	}
	return nil
}

// readEvents reads the three event datasets of day in parallel.
func (e *engine) readEvents(ctx context.Context, day billing.Date) (*dayEvents, error) {
	loc := e.opt.Policy.Billing.Location()
	for _, ds := range eventDatasets[:2] {
		if err := complete(ds, e.inputs[ds], day, loc); err != nil {
			return nil, err
		}
	}
	ev := &dayEvents{}
	var rTx, rRe, rRq []source.Reject
	tx := source.ForDay(e.inputs[billing.DatasetTransactions], day)
	re := source.ForDay(e.inputs[billing.DatasetRepayments], day)
	rq := source.ForDay(e.inputs[billing.DatasetRequests], day)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(guard("reading transactions", func() (err error) { ev.txns, rTx, err = source.ReadTransactions(gctx, tx, day, loc); return }))
	g.Go(guard("reading repayments", func() (err error) { ev.repays, rRe, err = source.ReadRepayments(gctx, re, day, loc); return }))
	if len(rq) > 0 {
		g.Go(guard("reading requests", func() (err error) { ev.reqs, rRq, err = source.ReadRequests(gctx, rq, day, loc); return }))
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	ev.rejects = append(append(append(ev.rejects, rTx...), rRe...), rRq...)
	ev.files = append(append(append(ev.files, tx...), re...), rq...)
	if err := e.checksum(ev.files); err != nil {
		return nil, err
	}
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

// fileName is the path of input file idx, for rejects.
func (e *engine) fileName(idx int32) string {
	if int(idx) < len(e.paths) {
		return e.paths[idx]
	}
	return fmt.Sprintf("file#%d", idx)
}
