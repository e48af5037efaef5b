package state

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/scoring"
)

// A sharded night's state is one complete snapshot per shard, each in its
// own directory part=K-of-N/ (its accounts sorted by id, its own
// _state.json), beside a top-level _state.json that lists the parts and a
// top-level distribution.parquet that merges theirs (the next night's PSI
// baseline).

// Sharded is the top-level _state.json of a sharded snapshot: the book's
// date, policy and totals, the merged distribution (Files), and its parts
// in shard order.
type Sharded struct {
	Info
	Parts []PartInfo `json:"parts"`
}

// PartInfo describes one part of a sharded snapshot.
type PartInfo struct {
	Name   string `json:"name"`   // part=K-of-N
	Shard  int    `json:"shard"`  // K
	Shards int    `json:"shards"` // N
	// HashFirst and HashLast bound the account-id hashes of the part's
	// accounts (inclusive, as 0x-prefixed hex).
	HashFirst string `json:"hash_first"`
	HashLast  string `json:"hash_last"`
	Accounts  int    `json:"accounts"`
	Exposure  string `json:"exposure"`
	// SHA256 is the checksum of the part's own _state.json.
	SHA256 string `json:"sha256"`
}

// PartName is the directory of part k of n in a sharded snapshot.
func PartName(k, n int) string { return fmt.Sprintf("part=%d-of-%d", k, n) }

// IsSharded reports whether the snapshot in dir is a sharded one (its
// _state.json lists parts).
func IsSharded(dir string) bool {
	raw, err := os.ReadFile(filepath.Join(dir, InfoFile))
	if err != nil {
		return false
	}
	var probe struct {
		Parts []json.RawMessage `json:"parts"`
	}
	return json.Unmarshal(raw, &probe) == nil && len(probe.Parts) > 0
}

// ReadSharded reads the top-level _state.json of a sharded snapshot.
func ReadSharded(dir string) (*Sharded, error) {
	path := filepath.Join(dir, InfoFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadState, err)
	}
	var s Sharded
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadState, path, err)
	}
	if _, err := s.Date(); err != nil {
		return nil, fmt.Errorf("%w: %s: as_of: %w", ErrBadState, path, err)
	}
	if len(s.Parts) == 0 {
		return nil, fmt.Errorf("%w: %s lists no parts", ErrBadState, path)
	}
	n := s.Parts[0].Shards
	for k, p := range s.Parts {
		if p.Shard != k || p.Shards != n || len(s.Parts) != n || p.Name != PartName(k, n) {
			return nil, fmt.Errorf("%w: %s: part %d is %q (shard %d of %d), want %s of %d parts", ErrBadState, path, k, p.Name, p.Shard, p.Shards, PartName(k, len(s.Parts)), len(s.Parts))
		}
	}
	return &s, nil
}

// OpenPart verifies part p of the sharded snapshot in dir (its
// _state.json is the one the top level lists, and its tables are the ones
// that _state.json describes, as Verify) and returns its Info.
func OpenPart(dir string, top *Sharded, p PartInfo) (Info, error) {
	pdir := filepath.Join(dir, p.Name)
	sum, err := FileSHA256(filepath.Join(pdir, InfoFile))
	if err != nil {
		return Info{}, fmt.Errorf("%w: %w", ErrBadState, err)
	}
	if sum != p.SHA256 {
		return Info{}, fmt.Errorf("%w: %s: checksum %s, the top-level %s lists %s (changed or replaced since it was published)",
			ErrBadState, filepath.Join(pdir, InfoFile), sum, InfoFile, p.SHA256)
	}
	info, err := ReadInfo(pdir)
	if err != nil {
		return Info{}, err
	}
	if info.AsOf != top.AsOf || info.PolicyVersion != top.PolicyVersion || info.Accounts != p.Accounts || info.Exposure != p.Exposure {
		return Info{}, fmt.Errorf("%w: %s: its %s says as of %s, policy %s, %d accounts, %s; the top level says %s, %s, %d, %s",
			ErrBadState, pdir, InfoFile, info.AsOf, info.PolicyVersion, info.Accounts, info.Exposure, top.AsOf, top.PolicyVersion, p.Accounts, p.Exposure)
	}
	if err := Verify(pdir, info); err != nil {
		return Info{}, err
	}
	return info, nil
}

// VerifyTop proves the top-level distribution of a sharded snapshot is the
// one its _state.json describes.
func VerifyTop(dir string, top *Sharded) error {
	want := map[string]FileInfo{}
	for _, f := range top.Files {
		want[f.Name] = f
	}
	w, ok := want[DistributionFile]
	if !ok {
		return fmt.Errorf("%w: %s: %s lists no %s", ErrBadState, dir, InfoFile, DistributionFile)
	}
	got, err := describe(dir, DistributionFile, nil)
	if err != nil {
		return err
	}
	if got != w {
		return fmt.Errorf("%w: %s: size, checksum, rows or schema differ from %s", ErrBadState, filepath.Join(dir, DistributionFile), InfoFile)
	}
	return nil
}

// WriteSharded completes a sharded snapshot in dir whose parts are in
// place: it writes the merged distribution, then the top-level
// _state.json, each durably. It fills s.Files.
func WriteSharded(dir string, s Sharded, dist *scoring.Distribution) error {
	if err := pqfile.WriteFile(filepath.Join(dir, DistributionFile), dist.Rows()); err != nil {
		return err
	}
	fi, err := describe(dir, DistributionFile, nil)
	if err != nil {
		return err
	}
	s.Files = []FileInfo{fi}
	return pqfile.WriteJSON(filepath.Join(dir, InfoFile), s)
}

// FileSHA256 returns the hex SHA-256 of the file at path.
func FileSHA256(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}
