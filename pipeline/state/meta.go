package state

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/scoring"
)

// Files of a snapshot besides its tables.
const (
	// InfoFile is _state.json: the snapshot's date, policy and size. Its
	// presence is what makes a directory a snapshot.
	InfoFile = "_state.json"
	// DistributionFile holds the score distribution of the snapshot's night,
	// the baseline of the next night's population stability index.
	DistributionFile = "distribution.parquet"
)

// Info is the snapshot's _state.json.
type Info struct {
	AsOf          string `json:"as_of"`
	PolicyVersion string `json:"policy_version"`
	Accounts      int    `json:"accounts"`
}

// Date returns the business date the snapshot is as of.
func (i Info) Date() (billing.Date, error) { return billing.ParseDate(i.AsOf) }

// IsSnapshot reports whether dir holds a snapshot (rather than, say, an
// accounts master).
func IsSnapshot(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, InfoFile))
	return err == nil
}

// ReadInfo reads dir's _state.json.
func ReadInfo(dir string) (Info, error) {
	var info Info
	path := filepath.Join(dir, InfoFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return info, fmt.Errorf("%w: %w", ErrBadState, err)
	}
	if err := json.Unmarshal(raw, &info); err != nil {
		return info, fmt.Errorf("%w: %s: %w", ErrBadState, path, err)
	}
	if _, err := info.Date(); err != nil {
		return info, fmt.Errorf("%w: %s: as_of: %w", ErrBadState, path, err)
	}
	return info, nil
}

// ReadDistribution reads the score distribution of the snapshot in dir
// (nil when it holds none).
func ReadDistribution(dir string) (*scoring.Distribution, error) {
	path := filepath.Join(dir, DistributionFile)
	rows, err := pqfile.ReadFile[scoring.DistributionRow](path)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadState, path, err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return scoring.DistributionFromRows(rows), nil
}

// Finish writes what completes a snapshot whose tables are closed: the
// score distribution, then _state.json, each durably.
func (w *Writer) Finish(info Info, dist *scoring.Distribution) error {
	var g errgroup.Group
	g.Go(func() error { return pqfile.WriteFile(filepath.Join(w.dir, DistributionFile), dist.Rows()) })
	g.Go(func() error { return writeJSON(filepath.Join(w.dir, InfoFile), info) })
	return g.Wait()
}

// writeJSON writes v as indented JSON, durably.
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
