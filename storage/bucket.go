package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"
	"gocloud.dev/gcerrors"

	// The stores every build knows besides local directories; Google
	// Cloud Storage and Azure are in builds that ask for them
	// (driver_gcs.go, driver_azure.go).
	_ "gocloud.dev/blob/memblob"
	_ "gocloud.dev/blob/s3blob"
)

// bucketFS is a bucket of an object store, through gocloud.dev/blob. Keys
// are the names; directories are the common prefixes of keys.
type bucketFS struct {
	bucket     *blob.Bucket
	bucketName string
	display    string     // scheme://bucket
	s3         *s3.Client // an S3 bucket's client, which writes go through
	opt        Options
}

func newBucketFS(bkt *blob.Bucket, scheme, name string, opt Options) *bucketFS {
	b := &bucketFS{bucket: bkt, bucketName: name, display: scheme + "://" + name, opt: opt}
	var client *s3.Client
	if bkt.As(&client) {
		b.s3 = client
	}
	return b
}

func (b *bucketFS) url(name string) string {
	if name == "." {
		return b.display
	}
	return b.display + "/" + name
}

// fail describes a failure of op on name, typed: not found, exists,
// transient, or else permanent.
func (b *bucketFS) fail(op, name string, err error) error {
	switch {
	case gcerrors.Code(err) == gcerrors.NotFound:
		err = ErrNotExist
	case transient(err):
		err = transientError{err}
	}
	return &fs.PathError{Op: op, Path: b.url(name), Err: err}
}

func (b *bucketFS) open(ctx context.Context, name string) (*File, error) {
	if name == "." {
		return nil, &fs.PathError{Op: "open", Path: b.url(name), Err: ErrIsDir}
	}
	attrs, err := b.bucket.Attributes(ctx, name)
	if err != nil {
		err = b.fail("open", name, err)
		if errors.Is(err, ErrNotExist) && b.isDir(ctx, name) {
			err = &fs.PathError{Op: "open", Path: b.url(name), Err: ErrIsDir}
		}
		return nil, err
	}
	f := &File{url: b.url(name), size: attrs.Size}
	f.src = &rangeSource{ctx: ctx, b: b, key: name, file: f, opts: pinVersion(attrs.ETag)}
	f.cache = newReadCache(b.opt)
	return f, nil
}

// isDir reports whether some key continues name with "/".
func (b *bucketFS) isDir(ctx context.Context, name string) bool {
	prefix := ""
	if name != "." {
		prefix = name + "/"
	}
	objs, _, err := b.bucket.ListPage(ctx, blob.FirstPageToken, 1, &blob.ListOptions{Prefix: prefix})
	return err == nil && len(objs) > 0
}

// rangeSource reads ranges of one object, one GET each.
type rangeSource struct {
	ctx  context.Context
	b    *bucketFS
	key  string
	file *File
	opts *blob.ReaderOptions
}

// pinVersion makes an S3 read of a range fail unless the object is still
// the one opened (If-Match its ETag): an object replaced while it is read
// must not give a mix of two versions. A local file keeps the version it
// opened by itself; other stores read what is there.
func pinVersion(etag string) *blob.ReaderOptions {
	if etag == "" {
		return nil
	}
	return &blob.ReaderOptions{BeforeRead: func(as func(any) bool) error {
		var in *s3.GetObjectInput
		if as(&in) {
			in.IfMatch = aws.String(etag)
		}
		return nil
	}}
}

func (s *rangeSource) ReadAt(p []byte, off int64) (int, error) {
	s.file.requests.Add(1)
	r, err := s.b.bucket.NewRangeReader(s.ctx, s.key, off, int64(len(p)), s.opts)
	if err != nil {
		if gcerrors.Code(err) == gcerrors.FailedPrecondition {
			return 0, &fs.PathError{Op: "read", Path: s.b.url(s.key), Err: ErrChanged}
		}
		return 0, s.b.fail("read", s.key, err)
	}
	defer r.Close()
	n, err := io.ReadFull(r, p)
	s.file.fetched.Add(int64(n))
	if err != nil {
		return n, s.b.fail("read", s.key, err)
	}
	return n, nil
}

func (b *bucketFS) reader(ctx context.Context, name string) (io.ReadCloser, error) {
	r, err := b.bucket.NewReader(ctx, name, nil)
	if err != nil {
		return nil, b.fail("open", name, err)
	}
	return r, nil
}

func (b *bucketFS) create(ctx context.Context, name string, ifAbsent bool) (*Writer, error) {
	if b.s3 != nil {
		return b.createS3(ctx, b.s3, name, ifAbsent), nil
	}
	// Cancelling the writer's context before Close is gocloud.dev's way to
	// abort: the multipart upload is aborted and no object appears.
	wctx, cancel := context.WithCancel(ctx)
	w, err := b.bucket.NewWriter(wctx, name, &blob.WriterOptions{
		BufferSize:     b.opt.PartSize,
		MaxConcurrency: b.opt.Concurrency,
		ContentType:    "application/octet-stream",
		IfNotExist:     ifAbsent,
	})
	if err != nil {
		cancel()
		return nil, b.fail("create", name, err)
	}
	commit := func() error {
		defer cancel()
		if err := w.Close(); err != nil {
			if ifAbsent && gcerrors.Code(err) == gcerrors.FailedPrecondition {
				return &fs.PathError{Op: "create", Path: b.url(name), Err: ErrExist}
			}
			return b.fail("close", name, err)
		}
		return nil
	}
	abort := func() {
		cancel()
		w.Close()
	}
	return &Writer{w: failWriter{w, func(err error) error { return b.fail("write", name, err) }},
		commit: commit, abort: abort, url: b.url(name)}, nil
}

func (b *bucketFS) stat(ctx context.Context, name string) (Entry, error) {
	if name != "." {
		attrs, err := b.bucket.Attributes(ctx, name)
		if err == nil {
			return Entry{Name: name, Size: attrs.Size, ModTime: attrs.ModTime}, nil
		}
		if err = b.fail("stat", name, err); !errors.Is(err, ErrNotExist) {
			return Entry{}, err
		}
	}
	if b.isDir(ctx, name) {
		return Entry{Name: name, IsDir: true}, nil
	}
	if name == "." {
		// The bucket's root exists when the bucket does.
		ok, err := b.bucket.IsAccessible(ctx)
		if err != nil {
			return Entry{}, b.fail("stat", name, err)
		}
		if ok {
			return Entry{Name: name, IsDir: true}, nil
		}
	}
	return Entry{}, &fs.PathError{Op: "stat", Path: b.url(name), Err: ErrNotExist}
}

func (b *bucketFS) list(ctx context.Context, dir string, recursive bool) ([]Entry, error) {
	opts := &blob.ListOptions{}
	if dir != "." {
		opts.Prefix = dir + "/"
	}
	if !recursive {
		opts.Delimiter = "/"
	}
	var out []Entry
	it := b.bucket.List(opts)
	for {
		obj, err := it.Next(ctx)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, b.fail("list", dir, err)
		}
		key := strings.TrimSuffix(obj.Key, "/")
		switch {
		case obj.Key == opts.Prefix || key == "":
			// A zero-length "directory" object some tools write.
		case obj.IsDir:
			out = append(out, Entry{Name: key, IsDir: true})
		case strings.HasSuffix(obj.Key, "/"):
			// Another tool's directory marker, below dir.
		default:
			out = append(out, Entry{Name: obj.Key, Size: obj.Size, ModTime: obj.ModTime})
		}
	}
}

func (b *bucketFS) remove(ctx context.Context, name string) error {
	if err := b.bucket.Delete(ctx, name); err != nil {
		return b.fail("remove", name, err)
	}
	return nil
}

func (b *bucketFS) removeAll(ctx context.Context, name string) error {
	if name != "." {
		if err := b.bucket.Delete(ctx, name); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return b.fail("remove", name, err)
		}
	}
	entries, err := b.list(ctx, name, true)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := b.bucket.Delete(ctx, e.Name); err != nil && gcerrors.Code(err) != gcerrors.NotFound {
			return b.fail("remove", e.Name, err)
		}
	}
	return nil
}

func (b *bucketFS) close() error {
	if err := b.bucket.Close(); err != nil {
		return fmt.Errorf("close %s: %w", b.display, err)
	}
	return nil
}
