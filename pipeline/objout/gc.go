package objout

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/creditrun/creditrun/storage"
)

// GCOptions say what GC keeps.
type GCOptions struct {
	// KeepRuns is how many of the latest commits keep their runs (at
	// least 1: the latest is never removed).
	KeepRuns int
	// OlderThan is how long a run stays after a later commit superseded
	// it (a reader may still be reading it), or, for a run no pointer
	// names, after its last object was written (it may still be
	// committing): it must exceed the longest a run takes from its last
	// upload to its pointer.
	OlderThan time.Duration
	// Now is the time the ages are measured at.
	Now time.Time
}

// GCStats count what GC removed.
type GCStats struct {
	Pointers int
	Runs     int
	Objects  int
	Bytes    int64
}

// Add sums two counts.
func (g GCStats) Add(o GCStats) GCStats {
	return GCStats{Pointers: g.Pointers + o.Pointers, Runs: g.Runs + o.Runs, Objects: g.Objects + o.Objects, Bytes: g.Bytes + o.Bytes}
}

// GC removes from partition the pointers older than the KeepRuns latest
// that were superseded at least OlderThan ago, then every run no
// remaining pointer names that is old enough: superseded that long ago,
// or, never committed, last written that long ago. The latest pointer and
// its run are never removed. A pointer goes before its run, so that a GC
// stopped at any point leaves at worst a run no pointer names, which the
// next GC removes; running it twice removes nothing more.
func (s *Store) GC(ctx context.Context, partition string, o GCOptions) (GCStats, error) {
	var st GCStats
	if o.KeepRuns < 1 {
		return st, fmt.Errorf("gc %s: keep-runs %d: want at least 1 (the latest commit is never removed)", partition, o.KeepRuns)
	}
	seqs, err := s.pointers(ctx, partition)
	if err != nil {
		return st, err
	}
	ptrs := make([]*Pointer, len(seqs))
	for i, seq := range seqs {
		p, err := s.readPointer(ctx, partition, seq)
		if err != nil {
			return st, err
		}
		ptrs[i] = p
	}
	named := map[string]bool{}
	superseded := map[string]time.Time{} // a removed pointer's run: when a later commit replaced it
	for i, p := range ptrs {
		keep := i >= len(ptrs)-o.KeepRuns
		if !keep {
			at := ptrs[i+1].Committed
			if o.Now.Sub(at) < o.OlderThan {
				keep = true
			} else {
				superseded[p.Run] = at
			}
		}
		if keep {
			named[p.Run] = true
		}
	}
	for i, p := range ptrs {
		if named[p.Run] || i >= len(ptrs)-o.KeepRuns {
			continue
		}
		if err := s.root.Remove(ctx, pointerName(partition, p.Seq)); err != nil && !errors.Is(err, storage.ErrNotExist) {
			return st, err
		}
		st.Pointers++
		s.step(StepGCPointer, st.Pointers)
	}
	entries, err := s.root.List(ctx, partition, false)
	if err != nil {
		return st, err
	}
	for _, e := range entries {
		id, ok := strings.CutPrefix(path.Base(e.Name), RunPrefix)
		if !e.IsDir || !ok || named[id] {
			continue
		}
		objs, err := s.root.List(ctx, e.Name, true)
		if err != nil {
			return st, err
		}
		if _, ok := superseded[id]; !ok {
			var newest time.Time
			for _, obj := range objs {
				if obj.ModTime.After(newest) {
					newest = obj.ModTime
				}
			}
			if o.Now.Sub(newest) < o.OlderThan {
				continue // perhaps still being written, or about to be committed
			}
		}
		for _, obj := range objs {
			if err := s.root.Remove(ctx, obj.Name); err != nil && !errors.Is(err, storage.ErrNotExist) {
				return st, err
			}
			st.Objects++
			st.Bytes += obj.Size
		}
		st.Runs++
		s.step(StepGCRun, st.Runs)
	}
	return st, nil
}

// readPointer reads pointer seq of partition without its manifest.
func (s *Store) readPointer(ctx context.Context, partition string, seq int) (*Pointer, error) {
	pname := pointerName(partition, seq)
	raw, err := s.root.ReadFile(ctx, pname)
	if err != nil {
		return nil, err
	}
	var p Pointer
	if err := strictJSON(raw, &p); err != nil || p.Format != Format || p.Seq != seq || !validRun(p.Run) {
		return nil, fmt.Errorf("%s: %w: not a commit pointer of format %d for seq %d (%v)", s.root.URL(pname), ErrCorrupt, Format, seq, err)
	}
	return &p, nil
}
