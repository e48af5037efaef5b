package source

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/storage"
)

// File is one Parquet file of a dataset.
type File struct {
	Path   string
	Size   int64
	SHA256 string // hex
	// Dt is the date of the file's partition (dt=, ds=, date= or
	// year=/month=/day=), 0 when not partitioned.
	Dt billing.Date
	// Index is the file's position in the run's list of input files; the
	// readers copy it to billing.Source.File. ForDay, Files and List number
	// files 0..n-1 in their order; a caller that merges several lists
	// renumbers them.
	Index int32

	root  *storage.Root // the object store Path is on, nil for a local file
	name  string        // the name of the object inside root
	fetch *FetchCount   // where its reads also count, if FetchCount.Count set one
}

var parquetMagic = []byte("PAR1")

// List returns every Parquet file of the dataset at path, sorted by
// partition date then path and numbered 0..n-1, with their sizes: the
// Files of OpenDataset(path) with the default Landing, its warnings
// dropped. It opens no file, so that listing does not grow with the history
// kept: Checksum hashes the few files a run reads, and the readers check
// that each of those is Parquet (ErrNotParquet).
func List(path string) ([]File, error) {
	d, err := OpenDataset(filepath.Base(path), path, Landing{})
	if err != nil {
		return nil, err
	}
	files, _, err := d.Files()
	return files, err
}

// checkMagic checks that r, of size bytes, is Parquet: "PAR1" at both
// ends.
func checkMagic(path string, r io.ReaderAt, size int64) error {
	var head, tail [4]byte
	if size < 12 {
		return fmt.Errorf("%s: %w", path, ErrNotParquet)
	}
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := r.ReadAt(tail[:], size-4); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !bytes.Equal(head[:], parquetMagic) || !bytes.Equal(tail[:], parquetMagic) {
		return fmt.Errorf("%s: %w", path, ErrNotParquet)
	}
	return nil
}

// Checksum fills in the SHA-256 of every file, in parallel, checking that
// each is Parquet (the magic at both ends) and taking its size as read.
func Checksum(files []File) error {
	g := new(errgroup.Group)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range files {
		g.Go(func() error { return checksum(&files[i]) })
	}
	return g.Wait()
}

// skipName reports whether a directory entry is metadata rather than data.
func skipName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || strings.HasSuffix(name, ".crc")
}

// checksum fills f.SHA256 and f.Size from the bytes read.
func checksum(f *File) error {
	r, err := streamInput(f)
	if err != nil {
		return err
	}
	defer r.Close()
	h := sha256.New()
	size, err := io.Copy(h, r)
	if err != nil {
		return fmt.Errorf("%s: %w", f.Path, err)
	}
	f.Size = size
	f.SHA256 = hex.EncodeToString(h.Sum(nil))
	return nil
}

// ForDay keeps, of files already listed, those that can hold events whose
// local business date is day: every unpartitioned file, and the partitioned
// files whose Dt is within one day of day (upstream may cut dt by UTC date, and the policy's
// zone may be ahead of or behind UTC). The order and indexes are kept.
func ForDay(files []File, day billing.Date) []File {
	var out []File
	for _, f := range files {
		if f.Dt == 0 || f.Dt >= day-1 && f.Dt <= day+1 {
			out = append(out, f)
		}
	}
	return out
}
