package objout

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/storage"
)

// Names inside a partition.
const (
	// CommitsDir holds a partition's commit pointers.
	CommitsDir = "_commits"
	// ManifestName is a run's manifest, inside its prefix.
	ManifestName = "_objects.json"
	// RunPrefix starts the name of a run's prefix: run=ID.
	RunPrefix = "run="
	// Format is the version of the pointer's and the manifest's JSON.
	Format = 1
)

// pointerDigits is how wide a pointer's number is written: 000001.json.
const pointerDigits = 6

// Object is one object of a run: its name inside the run's prefix, its
// size and the SHA-256 of its bytes, in hex.
type Object struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Manifest is P/run=ID/_objects.json: every object the run wrote.
type Manifest struct {
	Format    int      `json:"format"`
	Partition string   `json:"partition"`
	Run       string   `json:"run"`
	Objects   []Object `json:"objects"`
}

// Bytes returns the sum of the objects' sizes.
func (m *Manifest) Bytes() int64 {
	var n int64
	for _, o := range m.Objects {
		n += o.Size
	}
	return n
}

// Find returns the object called name.
func (m *Manifest) Find(name string) (Object, bool) {
	i, ok := slices.BinarySearchFunc(m.Objects, name, func(o Object, n string) int { return strings.Compare(o.Name, n) })
	if !ok {
		return Object{}, false
	}
	return m.Objects[i], true
}

// Pointer is P/_commits/NNNNNN.json: the commit of one run's manifest.
type Pointer struct {
	Format    int    `json:"format"`
	Partition string `json:"partition"`
	Seq       int    `json:"seq"`
	Run       string `json:"run"`
	// Manifest is the manifest's name inside the partition, with its size
	// and SHA-256.
	Manifest       string    `json:"manifest"`
	ManifestSize   int64     `json:"manifest_size"`
	ManifestSHA256 string    `json:"manifest_sha256"`
	Objects        int       `json:"objects"`
	Bytes          int64     `json:"bytes"`
	Committed      time.Time `json:"committed"`
}

// Options tune a Store.
type Options struct {
	// Workers is how many objects are uploaded or downloaded at once; each
	// upload holds up to its root's Concurrency+1 parts in memory.
	Workers int
	// Step, when set, is told of each step a publication or a GC has
	// made (see the Step constants), with a count where there is one.
	Step func(step string, n int)
}

// The steps Options.Step is told of.
const (
	StepUploaded  = "uploaded"   // an object is uploaded; n counts them
	StepManifest  = "manifest"   // the manifest is written and the pointer numbered (n), not written
	StepCommitted = "committed"  // the pointer is written
	StepGCPointer = "gc-pointer" // GC removed a pointer; n counts them
	StepGCRun     = "gc-run"     // GC removed a run's prefix; n counts them
)

// Stats count what a publication or a download moved.
type Stats struct {
	Objects int
	Bytes   int64
}

// Store is an output root on an object store (or any storage.Root).
type Store struct {
	root *storage.Root
	opt  Options
}

// New returns the store at root.
func New(root *storage.Root, opt Options) *Store {
	if opt.Workers < 1 {
		opt.Workers = 1
	}
	return &Store{root: root, opt: opt}
}

// Root returns the store's root.
func (s *Store) Root() *storage.Root { return s.root }

func (s *Store) step(name string, n int) {
	if s.opt.Step != nil {
		s.opt.Step(name, n)
	}
}

// RunID returns a run's id: the first 12 hex digits of the SHA-256 of
// digest (what the run read), the time now in UTC to the second, and 6
// random hex digits, so that two runs of the same inputs, even started in
// the same second, never share a prefix:
//
//	3f9a0c1d2e4b-20250705T021503Z-a1b2c3
func RunID(digest []byte, now time.Time) string {
	sum := sha256.Sum256(digest)
	var r [3]byte
	rand.Read(r[:])
	return hex.EncodeToString(sum[:6]) + "-" + now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(r[:])
}

// validRun reports whether id can be a run's id: letters, digits and '-'.
func validRun(id string) bool {
	return id != "" && strings.IndexFunc(id, func(c rune) bool {
		return !(c == '-' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z'))
	}) < 0
}

// RunDir returns the prefix of run id in partition.
func RunDir(partition, id string) string { return path.Join(partition, RunPrefix+id) }

// Publish uploads the local directory dir as run id of partition, writes
// its manifest and commits it (Upload, then Commit).
func (s *Store) Publish(ctx context.Context, partition, dir, id string) (*Pointer, Stats, error) {
	m, st, err := s.Upload(ctx, partition, dir, id)
	if err != nil {
		return nil, st, err
	}
	p, err := s.Commit(ctx, m)
	return p, st, err
}

// Upload streams every file below the local directory dir to the prefix
// of run id in partition, Workers at a time, each as a multipart upload,
// hashing it as it goes, and returns the run's manifest. Nothing it writes
// is visible to a reader until Commit.
func (s *Store) Upload(ctx context.Context, partition, dir, id string) (*Manifest, Stats, error) {
	if !validRun(id) {
		return nil, Stats{}, fmt.Errorf("upload %s: run id %q: want letters, digits and '-'", partition, id)
	}
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		names = append(names, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, Stats{}, fmt.Errorf("upload %s: %w", dir, err)
	}
	slices.Sort(names)
	if i := slices.Index(names, ManifestName); i >= 0 {
		return nil, Stats{}, fmt.Errorf("upload %s: it holds a file called %s, the name of the run's manifest", dir, ManifestName)
	}
	run := RunDir(partition, id)
	m := &Manifest{Format: Format, Partition: partition, Run: id, Objects: make([]Object, len(names))}
	done := 0
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opt.Workers)
	for i, name := range names {
		g.Go(func() error {
			o, err := s.uploadFile(gctx, filepath.Join(dir, filepath.FromSlash(name)), path.Join(run, name))
			if err != nil {
				return err
			}
			o.Name = name
			m.Objects[i] = o
			mu.Lock()
			defer mu.Unlock()
			done++
			s.step(StepUploaded, done)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, Stats{}, err
	}
	return m, Stats{Objects: len(m.Objects), Bytes: m.Bytes()}, nil
}

// uploadFile streams the local file src to the object key, hashing it.
func (s *Store) uploadFile(ctx context.Context, src, key string) (Object, error) {
	f, err := os.Open(src)
	if err != nil {
		return Object{}, err
	}
	defer f.Close()
	w, err := s.root.Create(ctx, key) // the run's own prefix: no other writer
	if err != nil {
		return Object{}, err
	}
	h := sha256.New()
	n, err := io.Copy(w, io.TeeReader(f, h))
	if err != nil {
		w.Abort()
		return Object{}, fmt.Errorf("upload %s to %s: %w", src, s.root.URL(key), err)
	}
	if err := w.Close(); err != nil {
		return Object{}, err
	}
	return Object{Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// Commit writes m as its run's manifest, then the partition's next commit
// pointer naming it, with a create-if-absent write: of two runs
// committing the same partition at once, one wins and the other gets
// ErrConcurrent.
func (s *Store) Commit(ctx context.Context, m *Manifest) (*Pointer, error) {
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	raw = append(raw, '\n')
	name := path.Join(RunPrefix+m.Run, ManifestName)
	if err := s.root.WriteFileIfAbsent(ctx, path.Join(m.Partition, name), raw); err != nil {
		return nil, err
	}
	seqs, err := s.pointers(ctx, m.Partition)
	if err != nil {
		return nil, err
	}
	next := 1
	if len(seqs) > 0 {
		next = seqs[len(seqs)-1] + 1
	}
	s.step(StepManifest, next)
	sum := sha256.Sum256(raw)
	p := &Pointer{Format: Format, Partition: m.Partition, Seq: next, Run: m.Run,
		Manifest: name, ManifestSize: int64(len(raw)), ManifestSHA256: hex.EncodeToString(sum[:]),
		Objects: len(m.Objects), Bytes: m.Bytes(), Committed: time.Now().UTC().Truncate(time.Millisecond)}
	praw, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, err
	}
	pname := pointerName(m.Partition, next)
	if err := s.root.WriteFileIfAbsent(ctx, pname, append(praw, '\n')); err != nil {
		if errors.Is(err, storage.ErrExist) {
			return nil, fmt.Errorf("commit %s: %s was written by another run while this one committed run %s: %w",
				m.Partition, s.root.URL(pname), m.Run, ErrConcurrent)
		}
		return nil, err
	}
	s.step(StepCommitted, next)
	return p, nil
}

func pointerName(partition string, seq int) string {
	return path.Join(partition, CommitsDir, fmt.Sprintf("%0*d.json", pointerDigits, seq))
}

// pointers returns the numbers of partition's commit pointers, ascending.
// Objects under _commits/ that are not NNNNNN.json are not pointers.
func (s *Store) pointers(ctx context.Context, partition string) ([]int, error) {
	entries, err := s.root.List(ctx, path.Join(partition, CommitsDir), false)
	if err != nil {
		return nil, err
	}
	var seqs []int
	for _, e := range entries {
		base, ok := strings.CutSuffix(path.Base(e.Name), ".json")
		if e.IsDir || !ok || len(base) < pointerDigits {
			continue
		}
		n, err := strconv.Atoi(base)
		if err != nil || n < 1 {
			continue
		}
		seqs = append(seqs, n)
	}
	slices.Sort(seqs)
	return seqs, nil
}

// Latest returns partition's highest commit pointer and the manifest it
// names, checked against the pointer; ErrNotPublished when it has none.
func (s *Store) Latest(ctx context.Context, partition string) (*Pointer, *Manifest, error) {
	seqs, err := s.pointers(ctx, partition)
	if err != nil {
		return nil, nil, err
	}
	if len(seqs) == 0 {
		return nil, nil, fmt.Errorf("%s: %w (no commit under %s/)", s.root.URL(partition), ErrNotPublished, CommitsDir)
	}
	return s.read(ctx, partition, seqs[len(seqs)-1])
}

// read reads pointer seq of partition and its manifest.
func (s *Store) read(ctx context.Context, partition string, seq int) (*Pointer, *Manifest, error) {
	p, err := s.readPointer(ctx, partition, seq)
	if err != nil {
		return nil, nil, err
	}
	pname := pointerName(partition, seq)
	if p.Partition != partition || p.Manifest != path.Join(RunPrefix+p.Run, ManifestName) {
		return nil, nil, fmt.Errorf("%s: %w: names partition %q and manifest %q, where it is a pointer of %s", s.root.URL(pname), ErrCorrupt, p.Partition, p.Manifest, partition)
	}
	mname := path.Join(partition, p.Manifest)
	mraw, err := s.root.ReadFile(ctx, mname)
	if err != nil {
		return nil, nil, err
	}
	sum := sha256.Sum256(mraw)
	if int64(len(mraw)) != p.ManifestSize || hex.EncodeToString(sum[:]) != p.ManifestSHA256 {
		return nil, nil, fmt.Errorf("%s: %w: %d bytes, SHA-256 %x, where %s records %d bytes, SHA-256 %s",
			s.root.URL(mname), ErrCorrupt, len(mraw), sum, s.root.URL(pname), p.ManifestSize, p.ManifestSHA256)
	}
	var m Manifest
	if err := strictJSON(mraw, &m); err != nil || m.Run != p.Run || m.Partition != partition ||
		!slices.IsSortedFunc(m.Objects, func(a, b Object) int { return strings.Compare(a.Name, b.Name) }) {
		return nil, nil, fmt.Errorf("%s: %w: not the manifest of run %s of %s (%v)", s.root.URL(mname), ErrCorrupt, p.Run, partition, err)
	}
	for _, o := range m.Objects {
		if !fs.ValidPath(o.Name) || o.Name == "." || o.Size < 0 || len(o.SHA256) != 64 {
			return nil, nil, fmt.Errorf("%s: %w: object %q", s.root.URL(mname), ErrCorrupt, o.Name)
		}
	}
	return p, &m, nil
}

func strictJSON(raw []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// Download copies into the local directory dir the objects of m that keep
// accepts (every one when keep is nil), Workers at a time, each checked
// against its size and SHA-256 as it streams; a file is in place only
// once it matched.
func (s *Store) Download(ctx context.Context, m *Manifest, dir string, keep func(name string) bool) (Stats, error) {
	var st Stats
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opt.Workers)
	for _, o := range m.Objects {
		if keep != nil && !keep(o.Name) {
			continue
		}
		g.Go(func() error {
			if err := s.downloadFile(gctx, m, o, filepath.Join(dir, filepath.FromSlash(o.Name))); err != nil {
				return err
			}
			mu.Lock()
			st.Objects++
			st.Bytes += o.Size
			mu.Unlock()
			return nil
		})
	}
	return st, g.Wait()
}

func (s *Store) downloadFile(ctx context.Context, m *Manifest, o Object, dst string) error {
	key := path.Join(RunDir(m.Partition, m.Run), o.Name)
	r, err := s.root.Reader(ctx, key)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(dst), ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	h := sha256.New()
	n, err := io.Copy(f, io.TeeReader(r, h))
	if err == nil {
		err = f.Chmod(0o644) // as a published file
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", s.root.URL(key), err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != o.Size || sum != o.SHA256 {
		return fmt.Errorf("%s: %w: %d bytes, SHA-256 %s, where its manifest records %d bytes, SHA-256 %s",
			s.root.URL(key), ErrCorrupt, n, sum, o.Size, o.SHA256)
	}
	return os.Rename(f.Name(), dst)
}

// Partitions returns the names of dir's subdirectories that hold at least
// one commit pointer, sorted: the published partitions below dir.
func (s *Store) Partitions(ctx context.Context, dir string) ([]string, error) {
	entries, err := s.root.List(ctx, dir, false)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir {
			continue
		}
		seqs, err := s.pointers(ctx, e.Name)
		if err != nil {
			return nil, err
		}
		if len(seqs) > 0 {
			out = append(out, e.Name)
		}
	}
	return out, nil
}
