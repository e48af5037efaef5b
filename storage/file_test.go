package storage

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// countingSource is an object in memory that counts the reads made of it.
type countingSource struct {
	data            []byte
	requests, bytes atomic.Int64
}

func (s *countingSource) ReadAt(p []byte, off int64) (int, error) {
	s.requests.Add(1)
	n := copy(p, s.data[off:])
	s.bytes.Add(int64(n))
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func cachedFile(size int, opt Options) (*File, *countingSource) {
	data := make([]byte, size)
	rand.NewChaCha8([32]byte{9}).Read(data)
	src := &countingSource{data: data}
	return &File{url: "test", size: int64(size), src: src, cache: newReadCache(opt)}, src
}

var smallCache = Options{MinReadAhead: 4 << 10, MaxReadAhead: 64 << 10, CacheSize: 256 << 10, PartSize: minPartSize, Concurrency: 1}

func TestReadAheadSequential(t *testing.T) {
	f, src := cachedFile(1<<20, smallCache)
	var got bytes.Buffer
	if _, err := io.Copy(&got, io.NewSectionReader(f, 0, f.Size())); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), src.data) {
		t.Fatalf("a sequential read returned other bytes")
	}
	// Windows of 4, 8, 16, 32 KiB, then 64 KiB each: 4 + 1MiB-60KiB / 64 KiB.
	if n := src.requests.Load(); n > 20 {
		t.Errorf("a sequential read of 1 MiB made %d requests, want the window to grow to 64 KiB (at most 20)", n)
	}
	if n := src.bytes.Load(); n != 1<<20 {
		t.Errorf("a sequential read of 1 MiB fetched %d bytes, want each byte once", n)
	}
}

func TestReadAheadFooter(t *testing.T) {
	f, src := cachedFile(1<<20, smallCache)
	size := f.Size()
	p := make([]byte, 8)
	if _, err := f.ReadAt(p, size-8); err != nil || !bytes.Equal(p, src.data[size-8:]) {
		t.Fatalf("ReadAt(tail) = %v or other bytes", err)
	}
	q := make([]byte, 3000)
	if _, err := f.ReadAt(q, size-8-3000); err != nil || !bytes.Equal(q, src.data[size-3008:size-8]) {
		t.Fatalf("ReadAt(footer) = %v or other bytes", err)
	}
	// The window at the end reaches backwards: one request of 4 KiB
	// serves both.
	if r, b := src.requests.Load(), src.bytes.Load(); r != 1 || b != 4<<10 {
		t.Errorf("a footer read made %d requests of %d bytes, want 1 of 4096", r, b)
	}
	// A read as large as the largest window goes to the store as it is.
	big := make([]byte, 64<<10)
	if _, err := f.ReadAt(big, 100); err != nil || !bytes.Equal(big, src.data[100:100+len(big)]) {
		t.Fatalf("ReadAt(large) = %v or other bytes", err)
	}
	if r, b := src.requests.Load(), src.bytes.Load(); r != 2 || b != 4<<10+64<<10 {
		t.Errorf("after a large read: %d requests of %d bytes, want 2 of %d", r, b, 4<<10+64<<10)
	}
}

func TestReadAheadConcurrentAndBounded(t *testing.T) {
	f, src := cachedFile(4<<20, smallCache)
	var wg sync.WaitGroup
	var bad atomic.Int64
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			p := make([]byte, 20<<10)
			for range 300 {
				n := 1 + rng.IntN(len(p))
				off := rng.Int64N(f.Size())
				k, err := f.ReadAt(p[:n], off)
				want := min(int64(n), f.Size()-off)
				if int64(k) != want || (err != nil && err != io.EOF) || !bytes.Equal(p[:k], src.data[off:off+int64(k)]) {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := bad.Load(); n > 0 {
		t.Fatalf("%d concurrent reads returned other bytes or errors", n)
	}
	c := f.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	held := 0
	for _, r := range c.ranges {
		held += len(r.data)
	}
	if held != c.bytes || held > c.limit {
		t.Errorf("the cache holds %d bytes (counted %d), want at most its limit of %d", held, c.bytes, c.limit)
	}
}
