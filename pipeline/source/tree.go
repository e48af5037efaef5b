package source

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/creditrun/creditrun/storage"
)

// tree is where a dataset's files are: the local file system, reached by
// path as the operating system has it (symbolic links followed), or a root
// of package storage (an object-store prefix, or a file:// URL), reached
// by the URLs its files are named by in messages and manifests.
type tree interface {
	lstat(p string) (fs.FileInfo, error)
	stat(p string) (fs.FileInfo, error)
	readDir(p string) ([]fs.DirEntry, error)
	join(dir, name string) string
	base(p string) string
	// root is the storage root of the files below, nil for local paths.
	root() *storage.Root
}

// IsURL reports whether location is a URL (s3://bucket/prefix,
// file:///dir, …) rather than a local path: what storage.Open opens as an
// object store or a file URL.
func IsURL(location string) bool {
	scheme, _, ok := strings.Cut(location, "://")
	return ok && scheme != "" && !strings.ContainsAny(scheme, "/\\")
}

// Join returns the location of name inside the directory or prefix
// location: filepath.Join for a local path, a "/" for a URL (whose query,
// such as ?use_path_style=true, stays at the end).
func Join(location string, name ...string) string {
	if !IsURL(location) {
		return filepath.Join(append([]string{location}, name...)...)
	}
	loc, query, _ := strings.Cut(location, "?")
	loc = strings.TrimRight(loc, "/")
	for _, n := range name {
		if n = strings.Trim(n, "/"); n != "" {
			loc += "/" + n
		}
	}
	if query != "" {
		loc += "?" + query
	}
	return loc
}

// openTree returns the tree of location: the local file system for a
// path, a storage root at the location for a URL.
func openTree(location string) (tree, error) {
	if !IsURL(location) {
		return localTree{}, nil
	}
	r, err := storage.Open(context.Background(), location)
	if err != nil {
		return nil, err
	}
	return &storeTree{r: r, top: r.URL("."), location: location}, nil
}

// localTree is the local file system.
type localTree struct{}

func (localTree) lstat(p string) (fs.FileInfo, error)     { return os.Lstat(p) }
func (localTree) stat(p string) (fs.FileInfo, error)      { return os.Stat(p) }
func (localTree) readDir(p string) ([]fs.DirEntry, error) { return os.ReadDir(p) }
func (localTree) join(dir, name string) string            { return filepath.Join(dir, name) }
func (localTree) base(p string) string                    { return filepath.Base(p) }
func (localTree) root() *storage.Root                     { return nil }

// storeTree is a storage root; its paths are the URLs of its entries
// (top, the root's own URL, then "/" and the names below it). An object
// store has no links, so nothing is followed and nothing loops.
type storeTree struct {
	r        *storage.Root
	top      string
	location string // as opened
}

// bucketMissing reports whether the bucket of the tree does not exist
// (or is not visible with the credentials given), as opposed to a prefix
// with nothing under it.
func (t *storeTree) bucketMissing() bool {
	loc, query, _ := strings.Cut(t.location, "?")
	scheme, rest, _ := strings.Cut(loc, "://")
	bucket, _, _ := strings.Cut(rest, "/")
	if query != "" {
		query = "?" + query
	}
	r, err := storage.Open(context.Background(), scheme+"://"+bucket+query)
	if err != nil {
		return false
	}
	defer r.Close()
	_, err = r.Stat(context.Background(), ".")
	return errors.Is(err, fs.ErrNotExist)
}

func (t *storeTree) root() *storage.Root { return t.r }

// name returns the name inside the root of the entry at URL p.
func (t *storeTree) name(p string) string {
	if p == t.top {
		return "."
	}
	return strings.TrimPrefix(p, t.top+"/")
}

func (t *storeTree) lstat(p string) (fs.FileInfo, error) { return t.stat(p) }

func (t *storeTree) stat(p string) (fs.FileInfo, error) {
	e, err := t.r.Stat(context.Background(), t.name(p))
	if err != nil {
		return nil, err
	}
	return entryInfo{e}, nil
}

func (t *storeTree) readDir(p string) ([]fs.DirEntry, error) {
	entries, err := t.r.List(context.Background(), t.name(p), false)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, len(entries))
	for i, e := range entries {
		out[i] = entryInfo{e}
	}
	return out, nil
}

func (t *storeTree) join(dir, name string) string { return dir + "/" + name }
func (t *storeTree) base(p string) string         { return path.Base(p) }

// entryInfo is a storage entry as io/fs describes one: a regular file or
// a directory.
type entryInfo struct{ e storage.Entry }

func (i entryInfo) Name() string               { return path.Base(i.e.Name) }
func (i entryInfo) Size() int64                { return i.e.Size }
func (i entryInfo) ModTime() time.Time         { return i.e.ModTime }
func (i entryInfo) IsDir() bool                { return i.e.IsDir }
func (i entryInfo) Sys() any                   { return nil }
func (i entryInfo) Info() (fs.FileInfo, error) { return i, nil }
func (i entryInfo) Type() fs.FileMode          { return i.Mode().Type() }
func (i entryInfo) Mode() fs.FileMode {
	if i.e.IsDir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

// input is an open input file: an *os.File for a local path, a
// storage.File whose reads are ranged requests for an object.
type input interface {
	io.ReaderAt
	io.Seeker
	io.Reader
	io.Closer
}

// openInput opens f for reading; ctx bounds an object's reads until Close.
func openInput(ctx context.Context, f *File) (input, int64, error) {
	if f.root == nil {
		r, err := os.Open(f.Path)
		if err != nil {
			return nil, 0, err
		}
		st, err := r.Stat()
		if err != nil {
			r.Close()
			return nil, 0, err
		}
		return r, st.Size(), nil
	}
	sf, err := f.root.Open(ctx, f.name)
	if err != nil {
		return nil, 0, err
	}
	r := &remoteInput{f: sf, count: f.fetch}
	r.SectionReader = io.NewSectionReader(readerAtFunc(r.readAt), 0, sf.Size())
	return r, sf.Size(), nil
}

// remoteInput is a storage.File with the Seek and Read a Parquet reader
// wants besides ReadAt. It keeps the first failure of the store, which a
// Parquet reader may report as a corrupt file.
type remoteInput struct {
	*io.SectionReader
	f     *storage.File
	count *FetchCount // nil unless the file's fetches are counted

	mu  sync.Mutex
	err error
}

type readerAtFunc func(p []byte, off int64) (int, error)

func (f readerAtFunc) ReadAt(p []byte, off int64) (int, error) { return f(p, off) }

func (r *remoteInput) readAt(p []byte, off int64) (int, error) {
	n, err := r.f.ReadAt(p, off)
	if err != nil && err != io.EOF {
		r.mu.Lock()
		if r.err == nil {
			r.err = err
		}
		r.mu.Unlock()
	}
	return n, err
}

// failed returns the first failure of the store behind r, nil if none.
func (r *remoteInput) failed() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

func (r *remoteInput) Close() error {
	if r.count != nil {
		req, n := r.f.Fetched()
		r.count.requests.Add(req)
		r.count.bytes.Add(n)
	}
	return r.f.Close()
}

// storeFailure returns the failure of the store behind in, if it is on
// an object store and one of its reads failed: the error to report rather
// than what the Parquet reader made of it.
func storeFailure(in input) error {
	if r, ok := in.(*remoteInput); ok {
		return r.failed()
	}
	return nil
}

// A FetchCount adds up what the reads of some input files on an object
// store moved, what they cost in transfer: the inputs of one night, apart
// from another night's read at once.
type FetchCount struct{ requests, bytes atomic.Int64 }

// Count makes every later read of files count in c.
func (c *FetchCount) Count(files []File) {
	for i := range files {
		files[i].fetch = c
	}
}

// Fetched returns the requests and bytes the counted files' reads have
// moved so far (zero for local files).
func (c *FetchCount) Fetched() (requests, bytes int64) {
	return c.requests.Load(), c.bytes.Load()
}

// streamInput streams the whole of f, for its checksum.
func streamInput(f *File) (io.ReadCloser, error) {
	if f.root == nil {
		return os.Open(f.Path)
	}
	r, err := f.root.Reader(context.Background(), f.name)
	if err != nil {
		return nil, err
	}
	return r, nil
}
