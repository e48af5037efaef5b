package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/policy"
)

// WhatIf applies two policies to the same book — the state in stateDir, as
// of its date — and returns what would change. The book is streamed in
// buckets through workers, in the memory of a night (workers × bucket
// size accounts), whatever its size. With out set, it also writes the
// report as Parquet: grade_migration, limit_actions and changes. Nothing
// in the state is modified.
func WhatIf(ctx context.Context, oldP, newP *policy.Policy, stateDir, out string, opt Options) (*policy.Report, billing.Date, error) {
	if opt.Workers < 1 || opt.BucketSize < 1 {
		return nil, 0, fmt.Errorf("%w: workers and bucket size must be at least 1", ErrUsage)
	}
	if !state.IsSnapshot(stateDir) {
		return nil, 0, fmt.Errorf("%w: %s is not a state directory written by a run (it has no %s)", ErrUsage, stateDir, state.InfoFile)
	}
	info, err := state.ReadInfo(stateDir)
	if err != nil {
		return nil, 0, err
	}
	day, _ := info.Date()
	r, closeState, err := openWholeState(stateDir, opt.BucketSize) // a sharded state's parts merged (shard.go)
	if err != nil {
		return nil, 0, err
	}
	defer closeState()

	g, gctx := errgroup.WithContext(ctx)
	work := make(chan []billing.Account)
	free := make(chan []billing.Account, opt.Workers+1)
	for range opt.Workers + 1 {
		free <- make([]billing.Account, opt.BucketSize)
	}
	g.Go(guard("reading the state", func() error { // the only sender on work
		defer close(work)
		for {
			var buf []billing.Account
			select {
			case buf = <-free:
			case <-gctx.Done():
				return gctx.Err()
			}
			n, err := r.Read(buf)
			if n == 0 && errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			select {
			case work <- buf[:n]:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
	}))
	parts := make([]*policy.WhatIf, opt.Workers)
	for k := range parts {
		parts[k] = policy.NewWhatIf(oldP, newP)
		g.Go(guard("the what-if", func() error {
			for accounts := range work {
				for i := range accounts {
					parts[k].Add(&accounts[i], day)
				}
				free <- accounts[:cap(accounts)]
			}
			return nil
		}))
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	for _, p := range parts[1:] {
		parts[0].Merge(p)
	}
	rep := parts[0].Report()
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return nil, 0, err
		}
		if err := pqfile.WriteFile(filepath.Join(out, "grade_migration.parquet"), rep.Migration); err != nil {
			return nil, 0, err
		}
		if err := pqfile.WriteFile(filepath.Join(out, "limit_actions.parquet"), rep.Actions); err != nil {
			return nil, 0, err
		}
		if err := pqfile.WriteFile(filepath.Join(out, "changes.parquet"), rep.Changes); err != nil {
			return nil, 0, err
		}
	}
	return &rep, day, nil
}
