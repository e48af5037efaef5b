package pipeline

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/policy"
)

// WhatIf applies two policies to the same book — the state in stateDir, as
// of its date — and returns what would change. With out set, it also writes
// the report as Parquet: grade_migration, limit_actions and changes.
// Nothing in the state is modified.
func WhatIf(oldP, newP *policy.Policy, stateDir, out string, workers int) (*policy.Report, billing.Date, error) {
	info, err := readStateInfo(stateDir)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s is not a state directory written by a run: %v", ErrUsage, stateDir, err)
	}
	day, err := billing.ParseDate(info.AsOf)
	if err != nil {
		return nil, 0, fmt.Errorf("state %s: %w", stateDir, err)
	}
	accounts, err := state.Read(stateDir)
	if err != nil {
		return nil, 0, err
	}
	if workers < 1 {
		workers = 1
	}
	parts := make([]*policy.WhatIf, workers)
	var g errgroup.Group
	chunk := (len(accounts) + workers - 1) / workers
	for k := range parts {
		parts[k] = policy.NewWhatIf(oldP, newP)
		lo, hi := min(k*chunk, len(accounts)), min((k+1)*chunk, len(accounts))
		g.Go(func() error {
			for i := lo; i < hi; i++ {
				a := &accounts[i]
				if a.Status == billing.Closed || a.Status == billing.Declined {
					continue
				}
				parts[k].Add(a, day)
			}
			return nil
		})
	}
	g.Wait()
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
