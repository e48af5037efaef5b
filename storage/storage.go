package storage

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gocloud.dev/blob"
)

// Root is a tree of files: a local directory or a prefix of an
// object-store bucket. Names inside it are slash-separated paths relative
// to it ("as_of=2025-07-04/state/accounts.parquet"); "." is the root
// itself. A Root is safe for concurrent use.
type Root struct {
	b    backend
	base string // the root's directory inside b, "." for b's own root
	opt  Options
	own  bool // Close closes b
}

// Entry is a file, object or directory found by Stat or List.
type Entry struct {
	Name    string // relative to the root the call was made on
	Size    int64
	ModTime time.Time
	IsDir   bool // a directory, or a common prefix of objects
}

// Options tune how a Root reads and writes over a network; a local root
// uses only what it needs.
type Options struct {
	// MinReadAhead is the smallest ranged request a File makes on a miss,
	// the window of a read that does not continue an earlier one.
	MinReadAhead int
	// MaxReadAhead caps the window: each miss that continues where a
	// cached range ends doubles it, up to this. A ReadAt at least this
	// long goes to the store as it is, uncached.
	MaxReadAhead int
	// CacheSize bounds the bytes a File keeps; the least recently used
	// ranges go first.
	CacheSize int
	// PartSize is the size of each part of a multipart upload (at least
	// 5 MiB, S3's minimum); an object smaller than one part is written
	// with one request.
	PartSize int
	// Concurrency is how many parts of one upload may be in flight. A
	// writer holds at most Concurrency+1 part buffers.
	Concurrency int
}

// DefaultOptions returns options sized for a data centre network: reads
// of 256 KiB growing to 4 MiB, 16 MiB of cache per open file, uploads in
// parts of 8 MiB, two in flight.
func DefaultOptions() Options {
	return Options{
		MinReadAhead: 256 << 10,
		MaxReadAhead: 4 << 20,
		CacheSize:    16 << 20,
		PartSize:     8 << 20,
		Concurrency:  2,
	}
}

// minPartSize is S3's smallest part (but the last).
const minPartSize = 5 << 20

// Validate checks that the options make sense together.
func (o Options) Validate() error {
	switch {
	case o.MinReadAhead <= 0:
		return fmt.Errorf("storage options: min read-ahead %d is not positive", o.MinReadAhead)
	case o.MaxReadAhead < o.MinReadAhead:
		return fmt.Errorf("storage options: max read-ahead %d is below the min %d", o.MaxReadAhead, o.MinReadAhead)
	case o.CacheSize < o.MaxReadAhead:
		return fmt.Errorf("storage options: cache size %d is below the max read-ahead %d", o.CacheSize, o.MaxReadAhead)
	case o.PartSize < minPartSize:
		return fmt.Errorf("storage options: part size %d is below S3's minimum of 5 MiB", o.PartSize)
	case o.Concurrency < 1:
		return fmt.Errorf("storage options: concurrency %d is not positive", o.Concurrency)
	}
	return nil
}

// Open opens the root at location with DefaultOptions. See OpenWith.
func Open(ctx context.Context, location string) (*Root, error) {
	return OpenWith(ctx, location, DefaultOptions())
}

// optionalDrivers are the schemes whose drivers only builds with a tag
// have, by the tag: their SDKs cost every command tens of MiB of memory
// (driver_gcs.go, driver_azure.go).
var optionalDrivers = map[string]string{"gs": "gcs", "azblob": "azure"}

// OpenWith opens the root at location:
//
//   - a local path, absolute or relative, or file:///abs/path: a directory,
//     which need not exist yet (writing creates it);
//   - s3://bucket/prefix: any S3-compatible store, configured as the AWS
//     SDK is: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
//     AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3) for a store other than
//     AWS's. On-premise stores usually need path-style addressing
//     (http://host/bucket/key rather than http://bucket.host/key):
//     ?use_path_style=true in the URL, or AWS_S3_USE_PATH_STYLE=true.
//     The URL's other query parameters are gocloud.dev's (region,
//     endpoint, disable_https, profile, request_checksum_calculation, …);
//   - gs://bucket/prefix (Google Cloud Storage, application default
//     credentials) in a build with -tags gcs, azblob://container/prefix
//     (AZURE_STORAGE_ACCOUNT and its key or a default credential) in a
//     build with -tags azure, mem://name/prefix (in memory, for tests).
//
// Opening makes no request: a bucket that does not exist or refuses the
// credentials fails the first operation.
func OpenWith(ctx context.Context, location string, opt Options) (*Root, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if location == "" {
		return nil, fmt.Errorf("%w: empty location", ErrLocation)
	}
	scheme, _, isURL := strings.Cut(location, "://")
	if !isURL {
		return &Root{b: localFS{dir: filepath.Clean(location)}, base: ".", opt: opt, own: true}, nil
	}
	u, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrLocation, location, err)
	}
	scheme = strings.ToLower(scheme)
	if scheme == "file" {
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("%w: %s: a file URL names no host other than localhost", ErrLocation, location)
		}
		if u.Path == "" || u.RawQuery != "" {
			return nil, fmt.Errorf("%w: %s: want file:///absolute/path", ErrLocation, location)
		}
		return &Root{b: localFS{dir: filepath.Clean(filepath.FromSlash(u.Path))}, base: ".", opt: opt, own: true}, nil
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w: %s: no bucket after %s://", ErrLocation, location, scheme)
	}
	q := u.Query()
	if scheme == "s3" && q.Get("use_path_style") == "" && q.Get("s3ForcePathStyle") == "" {
		if v := os.Getenv("AWS_S3_USE_PATH_STYLE"); v != "" {
			q.Set("use_path_style", v)
		}
	}
	bucketURL := scheme + "://" + u.Host
	if len(q) > 0 {
		bucketURL += "?" + q.Encode()
	}
	if !blob.DefaultURLMux().ValidBucketScheme(scheme) {
		if tag, ok := optionalDrivers[scheme]; ok {
			return nil, fmt.Errorf("%w: %s: this build of creditrun has no %s:// driver: build it with -tags %s (make build TAGS=%s)", ErrLocation, location, scheme, tag, tag)
		}
		return nil, fmt.Errorf("%w: %s: no driver for scheme %q (want a path, file://, s3://, gs://, azblob:// or mem://)", ErrLocation, location, scheme)
	}
	bkt, err := blob.OpenBucket(ctx, bucketURL)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", location, err)
	}
	prefix := strings.Trim(path.Clean("/"+u.Path), "/")
	b := newBucketFS(bkt, scheme, u.Host, opt)
	base := "."
	if prefix != "" {
		base = prefix
	}
	return &Root{b: b, base: base, opt: opt, own: true}, nil
}

// Close releases the root's connection to its store. Roots made by Sub
// share it: close only the one Open returned.
func (r *Root) Close() error {
	if !r.own {
		return nil
	}
	return r.b.close()
}

// Sub returns the root at dir inside r, sharing its store.
func (r *Root) Sub(dir string) (*Root, error) {
	full, err := r.join(dir)
	if err != nil {
		return nil, err
	}
	return &Root{b: r.b, base: full, opt: r.opt}, nil
}

// URL returns where name inside r is, for messages and manifests: a local
// path, or scheme://bucket/key.
func (r *Root) URL(name string) string {
	full, err := r.join(name)
	if err != nil {
		return r.b.url(r.base) + "/" + name
	}
	return r.b.url(full)
}

// Local returns the directory of a local root (a run's lock, for one,
// needs it); ok is false for an object store.
func (r *Root) Local() (dir string, ok bool) {
	l, ok := r.b.(localFS)
	if !ok {
		return "", false
	}
	return l.path(r.base), true
}

// join returns name inside the backend, checking that it stays inside r.
func (r *Root) join(name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", fmt.Errorf("%w: %q", ErrName, name)
	}
	return path.Join(r.base, name), nil
}

// rel makes a backend name relative to r.
func (r *Root) rel(full string) string {
	if r.base == "." {
		return full
	}
	rel := strings.TrimPrefix(full, r.base+"/")
	if rel == full {
		return "."
	}
	return rel
}

// Open opens the file name for reading at any offset; ctx bounds its
// reads until Close. On an object store each miss of its cache is one
// ranged GET, so reading a Parquet footer and then a few column chunks
// moves those bytes, not the object.
func (r *Root) Open(ctx context.Context, name string) (*File, error) {
	full, err := r.join(name)
	if err != nil {
		return nil, err
	}
	return r.b.open(ctx, full)
}

// Reader streams the whole of name in one request.
func (r *Root) Reader(ctx context.Context, name string) (io.ReadCloser, error) {
	full, err := r.join(name)
	if err != nil {
		return nil, err
	}
	return r.b.reader(ctx, full)
}

// ReadFile returns the content of name.
func (r *Root) ReadFile(ctx context.Context, name string) ([]byte, error) {
	rd, err := r.Reader(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rd.Close()
	data, err := io.ReadAll(rd)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", r.URL(name), err)
	}
	return data, nil
}

// Create returns a writer of name that replaces it, atomically, when it
// closes: until Close succeeds readers see the earlier content or nothing,
// and Abort (or a failure, or a crash) leaves name as it was. Locally the
// bytes go to a temporary file beside name, fsynced and renamed over it on
// Close, the directory fsynced too; on an object store they stream as a
// multipart upload of Options.PartSize parts, completed on Close.
// Directories are created as needed. Cancelling ctx before Close aborts
// an upload in flight.
func (r *Root) Create(ctx context.Context, name string) (*Writer, error) {
	return r.create(ctx, name, false)
}

// CreateIfAbsent is Create that never replaces: its Close fails with
// ErrExist if name exists by then, leaving it untouched. Locally it links
// the temporary file to name; on an object store it is a conditional
// write (If-None-Match: *), which the store decides atomically, so of two
// writers racing for one name exactly one wins.
func (r *Root) CreateIfAbsent(ctx context.Context, name string) (*Writer, error) {
	return r.create(ctx, name, true)
}

func (r *Root) create(ctx context.Context, name string, ifAbsent bool) (*Writer, error) {
	full, err := r.join(name)
	if err != nil {
		return nil, err
	}
	if full == "." {
		return nil, fmt.Errorf("create %s: %w", r.URL(name), ErrIsDir)
	}
	return r.b.create(ctx, full, ifAbsent)
}

// WriteFile writes data to name as Create does.
func (r *Root) WriteFile(ctx context.Context, name string, data []byte) error {
	return r.writeFile(ctx, name, data, false)
}

// WriteFileIfAbsent writes data to name as CreateIfAbsent does.
func (r *Root) WriteFileIfAbsent(ctx context.Context, name string, data []byte) error {
	return r.writeFile(ctx, name, data, true)
}

func (r *Root) writeFile(ctx context.Context, name string, data []byte, ifAbsent bool) error {
	w, err := r.create(ctx, name, ifAbsent)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// Stat describes name: a file or object, or a directory (on an object
// store, a prefix that some object's key continues with "/").
func (r *Root) Stat(ctx context.Context, name string) (Entry, error) {
	full, err := r.join(name)
	if err != nil {
		return Entry{}, err
	}
	e, err := r.b.stat(ctx, full)
	e.Name = r.rel(full)
	return e, err
}

// List returns what directory dir holds, sorted by name, names relative
// to r. One level (recursive false): its files and its subdirectories
// (an object store's common prefixes under dir/). Recursive: every file
// below dir, at any depth, and no directories. A directory that does not
// exist holds nothing. Temporary files of writers that have not closed are
// never listed.
func (r *Root) List(ctx context.Context, dir string, recursive bool) ([]Entry, error) {
	full, err := r.join(dir)
	if err != nil {
		return nil, err
	}
	entries, err := r.b.list(ctx, full, recursive)
	for i := range entries {
		entries[i].Name = r.rel(entries[i].Name)
	}
	// By name, the same on every store (S3 orders a prefix by its
	// trailing slash).
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return entries, err
}

// Remove removes the file name (or, locally, an empty directory).
func (r *Root) Remove(ctx context.Context, name string) error {
	full, err := r.join(name)
	if err != nil {
		return err
	}
	if full == "." {
		return fmt.Errorf("remove %s: %w", r.URL(name), ErrName)
	}
	return r.b.remove(ctx, full)
}

// RemoveAll removes name and everything below it; nothing there is not an
// error.
func (r *Root) RemoveAll(ctx context.Context, name string) error {
	full, err := r.join(name)
	if err != nil {
		return err
	}
	return r.b.removeAll(ctx, full)
}

// backend is a store, its names slash-separated paths from its own root.
type backend interface {
	url(name string) string
	open(ctx context.Context, name string) (*File, error)
	reader(ctx context.Context, name string) (io.ReadCloser, error)
	create(ctx context.Context, name string, ifAbsent bool) (*Writer, error)
	stat(ctx context.Context, name string) (Entry, error)
	list(ctx context.Context, dir string, recursive bool) ([]Entry, error)
	remove(ctx context.Context, name string) error
	removeAll(ctx context.Context, name string) error
	close() error
}

// Writer writes one file; see Root.Create.
type Writer struct {
	w      io.Writer
	commit func() error // makes the bytes visible under the name
	abort  func()       // discards them
	url    string
	n      int64
	done   bool
	err    error
}

// Write appends p.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		return 0, fmt.Errorf("write %s: %w", w.url, ErrClosed)
	}
	if w.err != nil {
		return 0, w.err
	}
	n, err := w.w.Write(p)
	w.n += int64(n)
	if err != nil {
		w.err = err // the backend's, naming the file
		return n, err
	}
	return n, nil
}

// Size returns how many bytes were written.
func (w *Writer) Size() int64 { return w.n }

// Close makes the file visible under its name; on failure nothing is,
// and the writer is aborted.
func (w *Writer) Close() error {
	if w.done {
		return fmt.Errorf("close %s: %w", w.url, ErrClosed)
	}
	w.done = true
	if w.err != nil {
		w.abort()
		return w.err
	}
	return w.commit()
}

// Abort discards what was written, leaving the name as it was. It is safe
// after Close and on a nil writer.
func (w *Writer) Abort() {
	if w == nil || w.done {
		return
	}
	w.done = true
	w.abort()
}
