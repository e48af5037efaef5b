package storage

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// File is an open file or object: an io.ReaderAt of known size, safe for
// concurrent use. On an object store it reads through a bounded cache of
// ranges fetched ahead; see Options.
type File struct {
	url    string
	size   int64
	src    io.ReaderAt
	closer io.Closer   // nil when there is nothing to close
	cache  *readCache  // nil for a local file, which the kernel caches
	closed atomic.Bool //

	requests atomic.Int64 // reads sent to the store
	fetched  atomic.Int64 // bytes they returned
}

// Name returns where the file is (a path or a URL).
func (f *File) Name() string { return f.url }

// Size returns the file's size when it was opened.
func (f *File) Size() int64 { return f.size }

// Fetched returns how many reads the file has made of its store (ranged
// requests of an object store, reads of a local file) and the bytes they
// moved.
func (f *File) Fetched() (requests, bytes int64) {
	return f.requests.Load(), f.fetched.Load()
}

// Close releases the file.
func (f *File) Close() error {
	if f.closed.Swap(true) {
		return nil
	}
	if f.cache != nil {
		f.cache.reset()
	}
	if f.closer != nil {
		return f.closer.Close()
	}
	return nil
}

// ReadAt reads len(p) bytes at off, as io.ReaderAt does.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	if f.closed.Load() {
		return 0, fmt.Errorf("read %s: file already closed", f.url)
	}
	if off < 0 {
		return 0, fmt.Errorf("read %s: negative offset %d", f.url, off)
	}
	if f.cache == nil {
		return f.src.ReadAt(p, off)
	}
	if off >= f.size {
		return 0, io.EOF
	}
	want := len(p)
	if rest := f.size - off; int64(want) > rest {
		p = p[:rest]
	}
	n := 0
	for n < len(p) {
		k, err := f.cache.read(f.src, f.size, p[n:], off+int64(n))
		n += k
		if err != nil {
			return n, err
		}
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// readCache holds ranges of one object. A miss fetches a window starting
// at the offset asked for; a miss that continues a cached range doubles
// that range's window, up to the maximum, so a sequential read (a column
// chunk) soon moves in large requests while a scattered one (a footer, a
// page index) moves little more than it asks for. Near the end of the
// object the window extends backwards, so a footer read fetches the tail.
type readCache struct {
	min, max, limit int

	mu     sync.Mutex
	ranges []*cachedRange
	bytes  int
	tick   uint64
}

type cachedRange struct {
	off    int64
	data   []byte
	window int // the window of the miss that fetched it
	used   uint64
}

func (c *cachedRange) end() int64 { return c.off + int64(len(c.data)) }

func newReadCache(o Options) *readCache {
	return &readCache{min: o.MinReadAhead, max: o.MaxReadAhead, limit: o.CacheSize}
}

func (c *readCache) reset() {
	c.mu.Lock()
	c.ranges, c.bytes = nil, 0
	c.mu.Unlock()
}

// read copies into p what it can from off on, fetching one window on a
// miss, and returns how many bytes it copied (at least one, or an error).
func (c *readCache) read(src io.ReaderAt, size int64, p []byte, off int64) (int, error) {
	c.mu.Lock()
	c.tick++
	window := c.min
	start, end := off, size
	for _, r := range c.ranges {
		if off >= r.off && off < r.end() {
			r.used = c.tick
			n := copy(p, r.data[off-r.off:])
			c.mu.Unlock()
			return n, nil
		}
		if r.end() == off {
			window = min(2*r.window, c.max)
		}
	}
	if len(p) >= c.max {
		c.mu.Unlock()
		return src.ReadAt(p, off) // large enough to go as it is
	}
	end = min(off+int64(max(len(p), window)), size)
	if end-off < int64(window) {
		start = max(0, end-int64(window))
	}
	// Fetch nothing already cached.
	for _, r := range c.ranges {
		if r.off > off && r.off < end {
			end = r.off
		}
		if r.end() <= off && r.end() > start {
			start = r.end()
		}
	}
	c.mu.Unlock()

	data := make([]byte, end-start)
	if _, err := src.ReadAt(data, start); err != nil {
		return 0, err
	}
	n := copy(p, data[off-start:])

	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	fresh := &cachedRange{off: start, data: data, window: window, used: c.tick}
	c.ranges = append(c.ranges, fresh)
	c.bytes += len(data)
	for c.bytes > c.limit && len(c.ranges) > 1 {
		lru := 0
		for i, r := range c.ranges {
			if r.used < c.ranges[lru].used {
				lru = i
			}
		}
		c.bytes -= len(c.ranges[lru].data)
		c.ranges = append(c.ranges[:lru], c.ranges[lru+1:]...)
	}
	return n, nil
}
