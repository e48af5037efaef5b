package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/parquet-go/parquet-go"
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

// Info is the snapshot's _state.json: what it is (its date and the
// policy that wrote it), the book's totals, and every file it consists of,
// so that the next run can prove it reads the snapshot that was written.
type Info struct {
	AsOf          string `json:"as_of"`
	PolicyVersion string `json:"policy_version"`
	// PolicyChange records the policy version of the snapshot the night
	// started from, when it ran under another one on purpose.
	PolicyChange string `json:"policy_change_from,omitempty"`
	Accounts     int    `json:"accounts"`
	// Exposure is the book's exposure (what all accounts owe, less credit
	// balances): the next night's accounts must sum to it.
	Exposure string     `json:"exposure"`
	Files    []FileInfo `json:"files"`
}

// FileInfo describes one file of a snapshot.
type FileInfo struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	Rows   int64  `json:"rows"`
	Schema string `json:"schema"`
}

// snapshotFiles are the files of a snapshot that _state.json lists.
var snapshotFiles = []string{AccountsFile, StatementsFile, PlansFile, PurchasesFile, LinesFile, HistoryFile,
	FailuresFile, AccrualsFile, SeenFile, LateAccrualsFile, DistributionFile}

// lateFiles are the tables a snapshot written before the late window
// lacks: its _state.json lists neither and neither is there.
var lateFiles = []string{SeenFile, LateAccrualsFile}

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
// score distribution, then _state.json with every file's size, checksum,
// rows and schema, each durably. It fills info.Files.
func (w *Writer) Finish(info Info, dist *scoring.Distribution) error {
	if err := pqfile.WriteFile(filepath.Join(w.dir, DistributionFile), dist.Rows()); err != nil {
		return err
	}
	files, err := describeNames(w.dir, snapshotFiles, w.sums)
	if err != nil {
		return err
	}
	info.Files = files
	return pqfile.WriteJSON(filepath.Join(w.dir, InfoFile), info)
}

// describeNames describes the files names of the snapshot in dir; sums
// are the sizes and checksums their writers computed, by name, if known.
func describeNames(dir string, names []string, sums map[string]sum) ([]FileInfo, error) {
	files := make([]FileInfo, len(names))
	var g errgroup.Group
	g.SetLimit(4)
	for i, name := range names {
		g.Go(func() (err error) {
			var known *sum
			if s, ok := sums[name]; ok {
				known = &s
			}
			files[i], err = describe(dir, name, known)
			return err
		})
	}
	return files, g.Wait()
}

// describe describes file name of dir: its size and SHA-256, read whole
// unless known (what its writer computed as it wrote it, the size then
// checked against the file's), and, from its footer, its rows and schema.
func describe(dir, name string, known *sum) (fi FileInfo, err error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return fi, fmt.Errorf("%w: %w", ErrBadState, err)
	}
	defer f.Close()
	var size int64
	var sha string
	if known != nil {
		st, err := f.Stat()
		if err != nil {
			return fi, fmt.Errorf("%w: %w", ErrBadState, err)
		}
		if st.Size() != known.size {
			return fi, fmt.Errorf("%w: %s: %d bytes, its writer wrote %d", ErrBadState, path, st.Size(), known.size)
		}
		size, sha = known.size, known.sha
	} else {
		h := sha256.New()
		if size, err = io.Copy(h, f); err != nil {
			return fi, fmt.Errorf("%w: %s: %w", ErrBadState, path, err)
		}
		sha = hex.EncodeToString(h.Sum(nil))
	}
	pf, err := openParquet(f, size)
	if err != nil {
		return fi, fmt.Errorf("%w: %s: %w", ErrBadState, path, err)
	}
	return FileInfo{Name: name, Size: size, SHA256: sha, Rows: pf.NumRows(), Schema: schemaText(pf.Schema())}, nil
}

// openParquet opens a Parquet file: its footer only (the state is read
// sequentially, without page indexes or bloom filters). A corrupt footer
// is an error, never a panic.
func openParquet(f *os.File, size int64) (pf *parquet.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("corrupt footer: %v", r)
		}
	}()
	return parquet.OpenFile(f, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
}

// Verify proves that the snapshot in dir is the one its _state.json
// describes: every file listed, of the same size, checksum, rows and
// schema, and no table missing from the list. A snapshot changed,
// truncated, or assembled from files of other snapshots is refused, naming
// the file.
func Verify(dir string, info Info) error {
	want := map[string]FileInfo{}
	for _, f := range info.Files {
		want[f.Name] = f
	}
	names := slices.Clone(snapshotFiles)
	if _, seen := want[SeenFile]; !seen {
		if _, accr := want[LateAccrualsFile]; !accr {
			// Written before the late window: neither table may be there.
			for _, name := range lateFiles {
				if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("%w: %s: %s lists no %s", ErrBadState, dir, InfoFile, name)
				}
			}
			names = slices.DeleteFunc(names, func(n string) bool { return slices.Contains(lateFiles, n) })
		}
	}
	for _, name := range names {
		if _, ok := want[name]; !ok {
			return fmt.Errorf("%w: %s: %s lists no %s", ErrBadState, dir, InfoFile, name)
		}
	}
	got, err := describeNames(dir, names, nil)
	if err != nil {
		return err
	}
	for _, g := range got {
		w := want[g.Name]
		path := filepath.Join(dir, g.Name)
		switch {
		case g.Size != w.Size:
			return fmt.Errorf("%w: %s: %d bytes, written with %d (truncated or replaced)", ErrBadState, path, g.Size, w.Size)
		case g.SHA256 != w.SHA256:
			return fmt.Errorf("%w: %s: checksum %s, written with %s (changed or replaced since it was published)", ErrBadState, path, g.SHA256, w.SHA256)
		case g.Rows != w.Rows || g.Schema != w.Schema:
			return fmt.Errorf("%w: %s: rows or schema differ from %s", ErrBadState, path, InfoFile)
		}
	}
	return nil
}
