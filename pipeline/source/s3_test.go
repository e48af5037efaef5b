package source

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"

	"github.com/creditrun/creditrun/storage"
	"github.com/creditrun/creditrun/storage/s3test"
)

func TestJoin(t *testing.T) {
	for _, tc := range []struct{ loc, name, want string }{
		{"events", "transactions", filepath.Join("events", "transactions")},
		{"/data/events/", "transactions", "/data/events/transactions"},
		{"s3://lake/events", "transactions", "s3://lake/events/transactions"},
		{"s3://lake/events/", "transactions", "s3://lake/events/transactions"},
		{"s3://lake", "transactions", "s3://lake/transactions"},
		{"s3://lake/events?use_path_style=true", "transactions", "s3://lake/events/transactions?use_path_style=true"},
		{"file:///data/events", "accounts", "file:///data/events/accounts"},
	} {
		if got := Join(tc.loc, tc.name); got != tc.want {
			t.Errorf("Join(%q, %q) = %q, want %q", tc.loc, tc.name, got, tc.want)
		}
	}
	for loc, want := range map[string]bool{
		"s3://lake/x": true, "gs://b": true, "file:///x": true, "mem://m/x": true,
		"/data/x": false, "rel/x": false, "odd/a://b": false, "": false,
	} {
		if got := IsURL(loc); got != want {
			t.Errorf("IsURL(%q) = %v, want %v", loc, got, want)
		}
	}
}

// putTree uploads the local directory dir to root, one object a file.
func putTree(t *testing.T, root *storage.Root, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return root.WriteFile(context.Background(), filepath.ToSlash(rel), data)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestS3ReadsOnlyTheColumnsNeeded reads a dataset on S3 whose files carry
// a wide column the contract does not know: the night reads the same rows
// and rejects as from local disk, fetching the footer and the contract's
// column chunks, a small part of each object.
func TestS3ReadsOnlyTheColumnsNeeded(t *testing.T) {
	srv := s3test.New(t, "lake")
	tb, _ := txnCorpus()
	wide := table{cols: append(append([]string{}, tb.cols...), "payload")}
	for _, row := range tb.rows {
		b := make([]byte, 8<<10)
		rand.Read(b)
		wide.rows = append(wide.rows, append(append([]any{}, row...), hex.EncodeToString(b)))
	}
	forms := withForms(map[string]form{"payload": strForm()})
	dir := t.TempDir()
	// One file above the size read through a buffer, one below.
	writeParquet(t, filepath.Join(dir, "dt="+testDay.String(), "part-0.parquet"), wide, forms, 0)
	writeParquet(t, filepath.Join(dir, "dt="+testDay.String(), "part-1.parquet"), table{cols: wide.cols, rows: wide.rows[:150]}, forms, 0,
		parquet.WithDictionaryDefault(false))
	ctx := context.Background()
	root, err := storage.Open(ctx, "s3://lake/wide/transactions")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	putTree(t, root, dir)

	var first FetchCount // what the read from S3 moves
	read := func(loc string) ([]File, []Reject, any) {
		d, err := OpenDataset(Transactions, loc, Landing{Sparse: true})
		if err != nil {
			t.Fatal(err)
		}
		files, _, err := d.ForDay(testDay, shanghai.Zone)
		if err != nil {
			t.Fatal(err)
		}
		first.Count(files)
		got, rejects, err := ReadTransactions(ctx, files, testDay, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		return files, rejects, got
	}
	wantFiles, wantRejects, want := read(dir)
	if r, n := first.Fetched(); r != 0 || n != 0 {
		t.Errorf("local files counted %d requests, %d bytes fetched; want none", r, n)
	}
	files, rejects, got := read("s3://lake/wide/transactions")
	req, fetched := first.Fetched()

	if !reflect.DeepEqual(got, want) {
		t.Error("the transactions read from S3 differ from those read from local disk")
	}
	if len(rejects) != len(wantRejects) || len(rejects) == 0 {
		t.Fatalf("%d rejects from S3, %d locally; want the same, some", len(rejects), len(wantRejects))
	}
	for i := range rejects {
		r, w := rejects[i], wantRejects[i]
		if !strings.HasPrefix(r.File, "s3://lake/wide/transactions/dt=") {
			t.Errorf("a reject names %q, want the object's URL", r.File)
		}
		r.File, w.File = "", ""
		if r != w {
			t.Errorf("reject %d: %+v from S3, %+v locally", i, r, w)
		}
	}
	var size int64
	for i, f := range files {
		size += f.Size
		if f.Size != wantFiles[i].Size || f.Path != "s3://lake/wide/transactions/dt="+testDay.String()+"/part-"+string(rune('0'+i))+".parquet" {
			t.Errorf("file %d: %s of %d bytes, want the URL of %s, %d bytes", i, f.Path, f.Size, wantFiles[i].Path, wantFiles[i].Size)
		}
	}
	if size <= streamAbove {
		t.Fatalf("input of %d bytes: the test needs a file read through a buffer", size)
	}
	t.Logf("fetched %d bytes in %d requests of %d bytes of input", fetched, req, size)
	if fetched == 0 || fetched > size/4 {
		t.Errorf("fetched %d bytes of %d: want a small part (footers and the contract's columns)", fetched, size)
	}

	// Each night counts its own fetches (FetchCount), also when two read
	// the same objects at once, as dates in flight do.
	counted := func() [2]int64 {
		d, err := OpenDataset(Transactions, "s3://lake/wide/transactions", Landing{Sparse: true})
		if err != nil {
			t.Error(err)
			return [2]int64{}
		}
		files, _, err := d.ForDay(testDay, shanghai.Zone)
		if err != nil {
			t.Error(err)
			return [2]int64{}
		}
		var c FetchCount
		c.Count(files)
		if _, _, err := ReadTransactions(ctx, files, testDay, shanghai); err != nil {
			t.Error(err)
		}
		r, n := c.Fetched()
		return [2]int64{r, n}
	}
	var wg sync.WaitGroup
	var one, two [2]int64
	wg.Go(func() { one = counted() })
	wg.Go(func() { two = counted() })
	wg.Wait()
	if want := [2]int64{req, fetched}; one != want || two != want {
		t.Errorf("two nights read at once counted %v and %v (requests, bytes); one alone fetched %v", one, two, want)
	}

	// The checksum streams each object whole: the manifest's sha256 is
	// the local file's.
	if err := Checksum(files); err != nil {
		t.Fatal(err)
	}
	if err := Checksum(wantFiles); err != nil {
		t.Fatal(err)
	}
	for i := range files {
		if files[i].SHA256 != wantFiles[i].SHA256 {
			t.Errorf("%s: sha256 %s, local %s", files[i].Path, files[i].SHA256, wantFiles[i].SHA256)
		}
	}

	// A dataset that is not there is not landed, and absent.
	_, err = OpenDataset(Requests, "s3://lake/wide/requests", Landing{})
	var nl *NotLandedError
	if !errors.As(err, &nl) || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "s3://lake/wide/requests") {
		t.Errorf("OpenDataset(missing on S3) = %v, want a *NotLandedError wrapping fs.ErrNotExist naming the URL", err)
	}
	// An object that is not Parquet is said to be so, by its URL.
	if err := root.WriteFile(ctx, "dt="+testDay.String()+"/notes.txt", []byte("not parquet at all")); err != nil {
		t.Fatal(err)
	}
	d, err := OpenDataset(Transactions, "s3://lake/wide/transactions", Landing{Sparse: true})
	if err != nil {
		t.Fatal(err)
	}
	files, _, err = d.ForDay(testDay, shanghai.Zone)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = ReadTransactions(ctx, files, testDay, shanghai)
	if !errors.Is(err, ErrNotParquet) || !strings.Contains(err.Error(), "s3://lake/wide/transactions/dt="+testDay.String()+"/notes.txt") {
		t.Errorf("reading a text object: %v, want ErrNotParquet naming its URL", err)
	}

	// The store going away after the listing: the reads fail as the
	// store's transient failure, not as a corrupt file.
	files = files[:len(files)-1]
	srv.Close()
	if _, _, err := ReadTransactions(ctx, files, testDay, shanghai); !storage.IsTransient(err) || errors.Is(err, ErrCorrupt) {
		t.Errorf("reading with the store down: %v, want a transient storage failure", err)
	}
	if err := Checksum(files); !storage.IsTransient(err) {
		t.Errorf("checksum with the store down: %v, want a transient storage failure", err)
	}
}
