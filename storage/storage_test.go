package storage_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/parquet-go/parquet-go"
	"gocloud.dev/blob"

	"github.com/creditrun/creditrun/storage"
	"github.com/creditrun/creditrun/storage/s3test"
)

// store is one kind of root the suite runs on.
type store struct {
	name string
	// open returns a fresh, empty root of the kind, with opt.
	open func(t testing.TB, opt storage.Options) *storage.Root
	// real is a store of bytes on a disk or a server, not in memory.
	real bool
}

const testBucket = "creditrun-test"

// stores are the roots every test of the suite runs on: a local
// directory, an in-memory bucket (gocloud.dev's, the unit tests' fake),
// and a prefix of a bucket of a real S3 server, versitygw on loopback.
var stores = []store{
	{name: "local", real: true, open: func(t testing.TB, opt storage.Options) *storage.Root {
		return openRoot(t, filepath.Join(t.TempDir(), "root"), opt)
	}},
	{name: "mem", open: func(t testing.TB, opt storage.Options) *storage.Root {
		return openRoot(t, "mem://bucket/some/prefix", opt)
	}},
	{name: "s3", real: true, open: func(t testing.TB, opt storage.Options) *storage.Root {
		s3test.New(t, testBucket)
		return openRoot(t, "s3://"+testBucket+"/some/prefix", opt)
	}},
}

func openRoot(t testing.TB, location string, opt storage.Options) *storage.Root {
	t.Helper()
	r, err := storage.OpenWith(context.Background(), location, opt)
	if err != nil {
		t.Fatalf("OpenWith(%q) = %v", location, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// eachStore runs test on a fresh root of every store.
func eachStore(t *testing.T, opt storage.Options, test func(t *testing.T, r *storage.Root)) {
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) { test(t, s.open(t, opt)) })
	}
}

func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	eachStore(t, storage.DefaultOptions(), func(t *testing.T, r *storage.Root) {
		data := randomBytes(1, 300_000)
		if err := r.WriteFile(ctx, "dt=2025-07-04/part-0.parquet", data); err != nil {
			t.Fatalf("WriteFile = %v", err)
		}
		got, err := r.ReadFile(ctx, "dt=2025-07-04/part-0.parquet")
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("ReadFile = %d bytes, %v; want the %d written", len(got), err, len(data))
		}
		e, err := r.Stat(ctx, "dt=2025-07-04/part-0.parquet")
		if err != nil || e.Size != int64(len(data)) || e.IsDir || e.Name != "dt=2025-07-04/part-0.parquet" {
			t.Fatalf("Stat = %+v, %v; want a file of %d bytes", e, err, len(data))
		}
		if e, err := r.Stat(ctx, "dt=2025-07-04"); err != nil || !e.IsDir {
			t.Fatalf("Stat(dir) = %+v, %v; want a directory", e, err)
		}

		f, err := r.Open(ctx, "dt=2025-07-04/part-0.parquet")
		if err != nil {
			t.Fatalf("Open = %v", err)
		}
		defer f.Close()
		if f.Size() != int64(len(data)) {
			t.Fatalf("Size() = %d, want %d", f.Size(), len(data))
		}
		for _, c := range []struct{ off, n int }{{0, 10}, {123_456, 70_000}, {len(data) - 8, 8}, {299_990, 10}, {5, 1}} {
			p := make([]byte, c.n)
			if n, err := f.ReadAt(p, int64(c.off)); n != c.n || err != nil || !bytes.Equal(p, data[c.off:c.off+c.n]) {
				t.Errorf("ReadAt(%d bytes at %d) = %d, %v, or other bytes", c.n, c.off, n, err)
			}
		}
		p := make([]byte, 20)
		if n, err := f.ReadAt(p, int64(len(data)-10)); n != 10 || err != io.EOF || !bytes.Equal(p[:n], data[len(data)-10:]) {
			t.Errorf("ReadAt past the end = %d, %v; want 10, io.EOF", n, err)
		}

		// Create replaces.
		if err := r.WriteFile(ctx, "dt=2025-07-04/part-0.parquet", []byte("new")); err != nil {
			t.Fatalf("WriteFile again = %v", err)
		}
		if got, err := r.ReadFile(ctx, "dt=2025-07-04/part-0.parquet"); err != nil || string(got) != "new" {
			t.Fatalf("ReadFile after replacing = %q, %v", got, err)
		}

		for _, name := range []string{"missing", "dt=2025-07-04/missing.parquet"} {
			if _, err := r.Open(ctx, name); !errors.Is(err, storage.ErrNotExist) || storage.IsTransient(err) {
				t.Errorf("Open(%s) = %v, want ErrNotExist", name, err)
			}
			if _, err := r.Stat(ctx, name); !errors.Is(err, storage.ErrNotExist) {
				t.Errorf("Stat(%s) = %v, want ErrNotExist", name, err)
			}
			if _, err := r.ReadFile(ctx, name); !errors.Is(err, storage.ErrNotExist) {
				t.Errorf("ReadFile(%s) = %v, want ErrNotExist", name, err)
			}
		}
		if _, err := r.Open(ctx, "dt=2025-07-04"); !errors.Is(err, storage.ErrIsDir) {
			t.Errorf("Open(a directory) = %v, want ErrIsDir", err)
		}
		for _, bad := range []string{"../x", "/abs", "a//b", "a/../b", ""} {
			if _, err := r.Open(ctx, bad); !errors.Is(err, storage.ErrName) {
				t.Errorf("Open(%q) = %v, want ErrName", bad, err)
			}
		}
	})
}

func TestReplacedWhileOpen(t *testing.T) {
	ctx := context.Background()
	eachStore(t, storage.DefaultOptions(), func(t *testing.T, r *storage.Root) {
		old, replacement := randomBytes(10, 1<<20), randomBytes(11, 1<<20)
		if err := r.WriteFile(ctx, "t.parquet", old); err != nil {
			t.Fatal(err)
		}
		f, err := r.Open(ctx, "t.parquet")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		p := make([]byte, 1000)
		if _, err := f.ReadAt(p, 0); err != nil {
			t.Fatal(err)
		}
		if err := r.WriteFile(ctx, "t.parquet", replacement); err != nil {
			t.Fatal(err)
		}
		// Past the first window: a new request. A local file and an S3
		// object never mix versions (the one keeps reading the file it
		// opened, the other refuses); the in-memory fake does not check.
		_, err = f.ReadAt(p, 900_000)
		switch name := f.Name(); {
		case strings.HasPrefix(name, "s3://"):
			if !errors.Is(err, storage.ErrChanged) {
				t.Fatalf("ReadAt of an S3 object replaced since Open = %v, want ErrChanged", err)
			}
		case filepath.IsAbs(name):
			if err != nil || !bytes.Equal(p, old[900_000:901_000]) {
				t.Fatalf("ReadAt of a local file replaced since Open = %v or not the bytes opened", err)
			}
		default:
			if err != nil && !errors.Is(err, storage.ErrChanged) {
				t.Fatalf("ReadAt of an object replaced since Open = %v", err)
			}
		}
	})
}

func TestEmptyFile(t *testing.T) {
	ctx := context.Background()
	eachStore(t, storage.DefaultOptions(), func(t *testing.T, r *storage.Root) {
		if err := r.WriteFile(ctx, "_SUCCESS", nil); err != nil {
			t.Fatalf("WriteFile(empty) = %v", err)
		}
		if e, err := r.Stat(ctx, "_SUCCESS"); err != nil || e.Size != 0 || e.IsDir {
			t.Fatalf("Stat = %+v, %v; want an empty file", e, err)
		}
	})
}

func TestCreateIfAbsent(t *testing.T) {
	ctx := context.Background()
	opt := storage.DefaultOptions()
	opt.PartSize = 5 << 20
	eachStore(t, opt, func(t *testing.T, r *storage.Root) {
		// Small objects go in one request, larger ones as multipart
		// uploads: the condition must hold for both.
		for _, size := range []int{100, 11 << 20} {
			name := fmt.Sprintf("_SUCCESS.%d", size)
			first, second := randomBytes(2, size), randomBytes(3, size)
			if err := r.WriteFileIfAbsent(ctx, name, first); err != nil {
				t.Fatalf("WriteFileIfAbsent(%d bytes) = %v", size, err)
			}
			err := r.WriteFileIfAbsent(ctx, name, second)
			if !errors.Is(err, storage.ErrExist) {
				t.Fatalf("WriteFileIfAbsent(%d bytes) again = %v, want ErrExist", size, err)
			}
			if got, err := r.ReadFile(ctx, name); err != nil || !bytes.Equal(got, first) {
				t.Fatalf("ReadFile after the refused write = %d bytes, %v; want the first write's", len(got), err)
			}
		}
		// Two writers open at once: the first to close wins.
		a, err := r.CreateIfAbsent(ctx, "manifest")
		if err != nil {
			t.Fatal(err)
		}
		b, err := r.CreateIfAbsent(ctx, "manifest")
		if err != nil {
			t.Fatal(err)
		}
		a.Write([]byte("a"))
		b.Write([]byte("b"))
		if err := b.Close(); err != nil {
			t.Fatalf("first Close = %v", err)
		}
		if err := a.Close(); !errors.Is(err, storage.ErrExist) {
			t.Fatalf("second Close = %v, want ErrExist", err)
		}
		if got, _ := r.ReadFile(ctx, "manifest"); string(got) != "b" {
			t.Fatalf("manifest = %q, want the first closed, %q", got, "b")
		}
		assertNames(t, r, ".", true, "_SUCCESS.100", "_SUCCESS.11534336", "manifest")

		// Writers racing for one name: the store lets exactly one win.
		const racers = 6
		errs := make(chan error, racers)
		for i := range racers {
			go func() { errs <- r.WriteFileIfAbsent(ctx, "_SUCCESS", []byte{byte('a' + i)}) }()
		}
		won := 0
		for range racers {
			switch err := <-errs; {
			case err == nil:
				won++
			case !errors.Is(err, storage.ErrExist):
				t.Errorf("a racing WriteFileIfAbsent = %v, want nil or ErrExist", err)
			}
		}
		if won != 1 {
			t.Errorf("%d of %d racing WriteFileIfAbsent won, want exactly 1", won, racers)
		}
	})
}

func TestAbortLeavesNothing(t *testing.T) {
	ctx := context.Background()
	opt := storage.DefaultOptions()
	opt.PartSize = 5 << 20
	eachStore(t, opt, func(t *testing.T, r *storage.Root) {
		if err := r.WriteFile(ctx, "t/kept.parquet", []byte("earlier")); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"t/new.parquet", "t/kept.parquet"} {
			w, err := r.Create(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			// Enough for two parts to have gone up before the abort.
			if _, err := w.Write(randomBytes(4, 12<<20)); err != nil {
				t.Fatalf("Write = %v", err)
			}
			if e, err := r.Stat(ctx, "t/new.parquet"); !errors.Is(err, storage.ErrNotExist) {
				t.Fatalf("Stat while writing = %+v, %v; want nothing visible before Close", e, err)
			}
			w.Abort()
			w.Abort() // twice is harmless
			if err := w.Close(); !errors.Is(err, storage.ErrClosed) {
				t.Errorf("Close after Abort = %v, want ErrClosed", err)
			}
		}
		assertNames(t, r, ".", true, "t/kept.parquet")
		assertNames(t, r, "t", false, "t/kept.parquet")
		if got, _ := r.ReadFile(ctx, "t/kept.parquet"); string(got) != "earlier" {
			t.Fatalf("an aborted replacement changed the file: %q", got)
		}
	})
}

func TestCancelledWriterLeavesNothing(t *testing.T) {
	opt := storage.DefaultOptions()
	opt.PartSize = 5 << 20
	eachStore(t, opt, func(t *testing.T, r *storage.Root) {
		ctx, cancel := context.WithCancel(context.Background())
		w, err := r.Create(ctx, "x.parquet")
		if err != nil {
			t.Fatal(err)
		}
		w.Write(randomBytes(5, 6<<20))
		cancel()
		err = w.Close()
		if _, serr := r.Stat(context.Background(), "x.parquet"); err == nil && errors.Is(serr, storage.ErrNotExist) {
			t.Fatalf("Close of a cancelled writer = nil, but no file")
		}
		if err == nil {
			// A local write has nothing in flight to cancel: it commits.
			return
		}
		assertNames(t, r, ".", true)
	})
}

func TestList(t *testing.T) {
	ctx := context.Background()
	eachStore(t, storage.DefaultOptions(), func(t *testing.T, r *storage.Root) {
		for _, name := range []string{"events/dt=2025-07-03/a.parquet", "events/dt=2025-07-04/a.parquet",
			"events/dt=2025-07-04/b.parquet", "events/_SUCCESS", "events.x", "accounts.parquet"} {
			if err := r.WriteFile(ctx, name, []byte(name)); err != nil {
				t.Fatal(err)
			}
		}
		// A writer still open is not listed.
		w, err := r.Create(ctx, "events/dt=2025-07-04/c.parquet")
		if err != nil {
			t.Fatal(err)
		}
		defer w.Abort()
		w.Write([]byte("partial"))

		assertNames(t, r, ".", false, "accounts.parquet", "events/", "events.x")
		assertNames(t, r, "events", false, "events/_SUCCESS", "events/dt=2025-07-03/", "events/dt=2025-07-04/")
		assertNames(t, r, "events", true, "events/_SUCCESS", "events/dt=2025-07-03/a.parquet",
			"events/dt=2025-07-04/a.parquet", "events/dt=2025-07-04/b.parquet")
		assertNames(t, r, "missing", false)
		assertNames(t, r, "missing", true)

		sub, err := r.Sub("events")
		if err != nil {
			t.Fatal(err)
		}
		assertNames(t, sub, "dt=2025-07-04", false, "dt=2025-07-04/a.parquet", "dt=2025-07-04/b.parquet")
		entries, err := sub.List(ctx, "dt=2025-07-04", false)
		if err != nil || len(entries) != 2 || entries[0].Size != int64(len("events/dt=2025-07-04/a.parquet")) {
			t.Fatalf("List sizes = %+v, %v", entries, err)
		}
		if got, err := sub.ReadFile(ctx, "dt=2025-07-03/a.parquet"); err != nil || string(got) != "events/dt=2025-07-03/a.parquet" {
			t.Fatalf("Sub(...).ReadFile = %q, %v", got, err)
		}
		if !strings.HasSuffix(sub.URL("dt=2025-07-03/a.parquet"), "/events/dt=2025-07-03/a.parquet") {
			t.Errorf("URL = %s", sub.URL("dt=2025-07-03/a.parquet"))
		}

		if err := r.Remove(ctx, "events.x"); err != nil {
			t.Fatalf("Remove = %v", err)
		}
		if err := r.Remove(ctx, "events.x"); !errors.Is(err, storage.ErrNotExist) {
			t.Fatalf("Remove of nothing = %v, want ErrNotExist", err)
		}
		if err := r.RemoveAll(ctx, "events"); err != nil {
			t.Fatalf("RemoveAll = %v", err)
		}
		if err := r.RemoveAll(ctx, "events"); err != nil {
			t.Fatalf("RemoveAll of nothing = %v", err)
		}
		assertNames(t, r, ".", true, "accounts.parquet")
	})
}

// assertNames checks what List(dir, recursive) names, directories with a
// trailing slash.
func assertNames(t *testing.T, r *storage.Root, dir string, recursive bool, want ...string) {
	t.Helper()
	entries, err := r.List(context.Background(), dir, recursive)
	if err != nil {
		t.Fatalf("List(%s, %v) = %v", dir, recursive, err)
	}
	var got []string
	for _, e := range entries {
		if e.IsDir {
			got = append(got, e.Name+"/")
		} else {
			got = append(got, e.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("List(%s, recursive %v) = %q, want %q", dir, recursive, got, want)
	}
}

// wide is a row of a table with many columns, the shape of the nightly
// outputs, of which a reader wants a few.
type wide struct {
	Account int64 `parquet:"account"`
	C1      int64 `parquet:"c1"`
	C2      int64 `parquet:"c2"`
	C3      int64 `parquet:"c3"`
	C4      int64 `parquet:"c4"`
	C5      int64 `parquet:"c5"`
	C6      int64 `parquet:"c6"`
	C7      int64 `parquet:"c7"`
	C8      int64 `parquet:"c8"`
	Balance int64 `parquet:"balance"`
}

// writeWide writes rows rows of wide through w in row groups of group,
// and returns the sums of the account and balance columns.
func writeWide(t testing.TB, w io.Writer, rows, group int) (accounts, balances int64) {
	t.Helper()
	pw := parquet.NewGenericWriter[wide](w, parquet.MaxRowsPerRowGroup(int64(group)))
	rng := rand.New(rand.NewPCG(7, 7))
	batch := make([]wide, 1024)
	for done := 0; done < rows; {
		n := min(len(batch), rows-done)
		for i := range batch[:n] {
			batch[i] = wide{Account: int64(done + i), C1: rng.Int64(), C2: rng.Int64(), C3: rng.Int64(),
				C4: rng.Int64(), C5: rng.Int64(), C6: rng.Int64(), C7: rng.Int64(), C8: rng.Int64(),
				Balance: rng.Int64N(1 << 40)}
			accounts += batch[i].Account
			balances += batch[i].Balance
		}
		if _, err := pw.Write(batch[:n]); err != nil {
			t.Fatalf("write parquet: %v", err)
		}
		done += n
	}
	if err := pw.Close(); err != nil {
		t.Fatalf("close parquet: %v", err)
	}
	return accounts, balances
}

// sumColumns reads only the named columns of f, through its footer and
// their column chunks, and returns each column's sum.
func sumColumns(t testing.TB, f *storage.File, opts []parquet.FileOption, columns ...string) []int64 {
	t.Helper()
	pf, err := parquet.OpenFile(f, f.Size(), opts...)
	if err != nil {
		t.Fatalf("parquet.OpenFile(%s) = %v", f.Name(), err)
	}
	sums := make([]int64, len(columns))
	values := make([]parquet.Value, 4096)
	for _, rg := range pf.RowGroups() {
		for i, name := range columns {
			leaf, ok := pf.Schema().Lookup(name)
			if !ok {
				t.Fatalf("no column %s", name)
			}
			pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
			for {
				p, err := pages.ReadPage()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("read page of %s: %v", name, err)
				}
				vr := p.Values()
				for {
					n, err := vr.ReadValues(values)
					for _, v := range values[:n] {
						sums[i] += v.Int64()
					}
					if err == io.EOF {
						break
					}
					if err != nil {
						t.Fatalf("read values of %s: %v", name, err)
					}
				}
				parquet.Release(p)
			}
			pages.Close()
		}
	}
	return sums
}

func TestParquetColumnSubset(t *testing.T) {
	ctx := context.Background()
	const rows = 300_000 // 10 columns of 8 bytes: 24 MB
	eachStore(t, storage.DefaultOptions(), func(t *testing.T, r *storage.Root) {
		w, err := r.Create(ctx, "as_of=2025-07-04/wide.parquet")
		if err != nil {
			t.Fatal(err)
		}
		accounts, balances := writeWide(t, w, rows, 64<<10)
		if err := w.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		for _, c := range []struct {
			name string
			opts []parquet.FileOption
			// most is the share of the file the two columns of ten may
			// cost.
			most float64
		}{
			// parquet-go's reads of 4 KiB: the read-ahead makes the
			// requests, and may overrun each column chunk by up to its
			// last window.
			{"default buffer", nil, 0.40},
			// A buffer of 1 MiB: parquet-go asks for whole column chunks
			// (its reads stop at a chunk's end), so little more than the
			// columns and the footer moves.
			{"1 MiB buffer", []parquet.FileOption{parquet.ReadBufferSize(1 << 20), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true)}, 0.25},
		} {
			f, err := r.Open(ctx, "as_of=2025-07-04/wide.parquet")
			if err != nil {
				t.Fatal(err)
			}
			got := sumColumns(t, f, c.opts, "account", "balance")
			if got[0] != accounts || got[1] != balances {
				t.Fatalf("%s: sums of account, balance = %v, want %d, %d", c.name, got, accounts, balances)
			}
			requests, fetched := f.Fetched()
			share := float64(fetched) / float64(f.Size())
			if share > c.most {
				t.Errorf("%s: reading 2 columns of 10 fetched %d bytes in %d requests, %.0f%% of the file; want at most %.0f%%", c.name, fetched, requests, 100*share, 100*c.most)
			}
			t.Logf("%s: 2 of 10 columns: %d of %d bytes (%.1f%%) in %d requests", c.name, fetched, f.Size(), 100*share, requests)
			f.Close()
		}
	})
}

func TestMultipartBoundedMemory(t *testing.T) {
	ctx := context.Background()
	srv := s3test.New(t, testBucket)
	opt := storage.DefaultOptions()
	opt.PartSize, opt.Concurrency = 5<<20, 2
	r := openRoot(t, "s3://"+testBucket+"/big", opt)
	const size = 64 << 20
	w, err := r.Create(ctx, "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	// The same 1 MiB written again and again: the writer may hold its parts,
	// not the object.
	chunk := randomBytes(6, 1<<20)
	var before, after runtimeMem
	before.read()
	for range size / len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			t.Fatalf("Write = %v", err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	after.read()
	alloc := after.total - before.total
	// The parts in the pool, and the first part read before the upload
	// knows it is multipart.
	if limit := uint64(2 * (opt.Concurrency + 1) * opt.PartSize); alloc > limit {
		t.Errorf("writing %d MiB in parts of %d MiB allocated %d MiB, want under %d", size>>20, opt.PartSize>>20, alloc>>20, limit>>20)
	}
	t.Logf("a %d MiB upload allocated %.1f MiB", size>>20, float64(alloc)/(1<<20))

	head, err := srv.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("big/big.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if *head.ContentLength != size {
		t.Fatalf("object size %d, want %d", *head.ContentLength, size)
	}
	// A multipart object's ETag ends with its part count.
	if want := fmt.Sprintf("-%d\"", (size+opt.PartSize-1)/opt.PartSize); !strings.HasSuffix(*head.ETag, want) {
		t.Errorf("ETag %s, want a multipart upload's ending %s", *head.ETag, want)
	}
	f, err := r.Open(ctx, "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := make([]byte, len(chunk))
	if _, err := f.ReadAt(p, 37<<20); err != nil || !bytes.Equal(p, chunk) {
		t.Fatalf("ReadAt in the 8th part = %v or other bytes", err)
	}

	// An aborted upload leaves no object and no upload in progress (whose
	// parts the store would keep), even when its context is cancelled.
	wctx, cancel := context.WithCancel(ctx)
	w, err = r.Create(wctx, "aborted.bin")
	if err != nil {
		t.Fatal(err)
	}
	for range 12 {
		w.Write(chunk)
	}
	inFlight, err := srv.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
	if err != nil || len(inFlight.Uploads) != 1 {
		t.Fatalf("before Abort: %v multipart uploads in progress (%v), want 1", inFlight, err)
	}
	cancel()
	w.Abort()
	uploads, err := srv.Client().ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(uploads.Uploads) != 0 {
		t.Errorf("after Abort, %d multipart uploads are in progress, want none", len(uploads.Uploads))
	}
	assertNames(t, r, ".", true, "big.bin")
}

func TestOpenLocation(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, c := range []struct {
		location string
		local    string // the directory of a local root
		err      error
	}{
		{location: dir, local: dir},
		{location: "file://" + dir, local: dir},
		{location: "file://localhost" + dir + "/", local: dir},
		{location: "rel/dir/", local: "rel/dir"},
		{location: "mem://bucket/prefix"},
		{location: "", err: storage.ErrLocation},
		{location: "file://host/x", err: storage.ErrLocation},
		{location: "s3:///prefix", err: storage.ErrLocation},
		{location: "ftp://host/x", err: storage.ErrLocation},
	} {
		r, err := storage.Open(ctx, c.location)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("Open(%q) = %v, want %v", c.location, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Open(%q) = %v", c.location, err)
			continue
		}
		got, ok := r.Local()
		if got != c.local || ok != (c.local != "") {
			t.Errorf("Open(%q).Local() = %q, %v; want %q", c.location, got, ok, c.local)
		}
		r.Close()
	}
	bad := storage.DefaultOptions()
	bad.PartSize = 1 << 20
	if _, err := storage.OpenWith(ctx, dir, bad); err == nil {
		t.Errorf("OpenWith(part size 1 MiB) = nil, want S3's minimum refused")
	}
}

// TestOptionalDrivers: gs:// and azblob:// are in builds with -tags gcs and
// -tags azure; a build without says which tag it lacks instead of calling
// the scheme unknown, and one with the tag opens the location with the
// driver (which may then refuse for want of credentials, not of a driver).
func TestOptionalDrivers(t *testing.T) {
	for scheme, tag := range map[string]string{"gs": "gcs", "azblob": "azure"} {
		loc := scheme + "://bucket/prefix"
		r, err := storage.Open(context.Background(), loc)
		if r != nil {
			r.Close()
		}
		hint := "-tags " + tag
		if blob.DefaultURLMux().ValidBucketScheme(scheme) {
			if err != nil && strings.Contains(err.Error(), hint) {
				t.Errorf("Open(%q) in a build with its driver = %v", loc, err)
			}
			continue
		}
		if !errors.Is(err, storage.ErrLocation) || !strings.Contains(err.Error(), hint) {
			t.Errorf("Open(%q) in a build without its driver = %v, want ErrLocation naming %q", loc, err, hint)
		}
	}
}

func TestTransientErrors(t *testing.T) {
	ctx := context.Background()
	// A loopback port nothing listens on: every request is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://"+addr)
	r := openRoot(t, "s3://bucket/prefix?use_path_style=true", storage.DefaultOptions())
	if _, err := r.Stat(ctx, "x"); !storage.IsTransient(err) || errors.Is(err, storage.ErrNotExist) {
		t.Errorf("Stat on a server that refuses connections = %v, want transient", err)
	}
	if err := r.WriteFile(ctx, "x", []byte("x")); !storage.IsTransient(err) {
		t.Errorf("WriteFile on a server that refuses connections = %v, want transient", err)
	}
}

func TestPermanentErrors(t *testing.T) {
	ctx := context.Background()
	s3test.New(t, testBucket)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong")
	r := openRoot(t, "s3://"+testBucket+"/p", storage.DefaultOptions())
	if err := r.WriteFile(ctx, "x", []byte("x")); err == nil || storage.IsTransient(err) {
		t.Errorf("WriteFile with a wrong secret = %v, want a permanent error", err)
	}
	r2 := openRoot(t, "s3://no-such-bucket/p", storage.DefaultOptions())
	if _, err := r2.ReadFile(ctx, "x"); err == nil || storage.IsTransient(err) {
		t.Errorf("ReadFile of a missing bucket = %v, want a permanent error", err)
	}
}

func randomBytes(seed uint64, n int) []byte {
	p := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(p)
	return p
}

// runtimeMem is the process's allocation count at one moment.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}

func TestServerGoneMidUpload(t *testing.T) {
	ctx := context.Background()
	srv := s3test.New(t, testBucket)
	opt := storage.DefaultOptions()
	opt.PartSize = 5 << 20
	r := openRoot(t, "s3://"+testBucket+"/p", opt)
	w, err := r.Create(ctx, "x.bin")
	if err != nil {
		t.Fatal(err)
	}
	chunk := randomBytes(12, 1<<20)
	for range 6 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatalf("Write = %v", err)
		}
	}
	srv.Close()
	for range 20 {
		if _, err = w.Write(chunk); err != nil {
			break
		}
	}
	if err == nil {
		err = w.Close()
	} else {
		w.Abort()
	}
	if !storage.IsTransient(err) {
		t.Fatalf("an upload whose server went away = %v, want a transient error", err)
	}
}
