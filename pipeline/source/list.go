package source

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
)

// File is one Parquet file of a dataset.
type File struct {
	Path   string
	Size   int64
	SHA256 string // hex
	// Dt is the date of the file's dt= partition, 0 when not partitioned.
	Dt billing.Date
	// Index is the file's position in the run's list of input files; the
	// readers copy it to billing.Source.File. List numbers files 0..n-1 in
	// its order; a caller that merges several lists renumbers them.
	Index int32
}

var parquetMagic = []byte("PAR1")

// List returns the Parquet files of the dataset at path: a single file, a
// directory of them, or a Hive-partitioned directory (dt=YYYY-MM-DD, at any
// depth, possibly with other partition keys), sorted by Dt then Path and
// numbered 0..n-1, with their sizes. It opens no file, so that a night's
// cost does not grow with the years of history kept: Checksum hashes the few
// files a run reads, and the readers check that each of those is Parquet
// (ErrNotParquet). Hidden and underscore entries (.crc, _SUCCESS,
// _temporary, .spark-staging) and *.crc files are skipped; every other
// regular file must be Parquet.
func List(path string) ([]File, error) {
	files, err := walk(path)
	if err != nil {
		return nil, err
	}
	for i := range files {
		files[i].Index = int32(i)
	}
	return files, nil
}

// checkMagic checks that path is Parquet: "PAR1" at both ends.
func checkMagic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	var head, tail [4]byte
	if st.Size() < 12 {
		return fmt.Errorf("%s: %w", path, ErrNotParquet)
	}
	if _, err := f.ReadAt(head[:], 0); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if _, err := f.ReadAt(tail[:], st.Size()-4); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !bytes.Equal(head[:], parquetMagic) || !bytes.Equal(tail[:], parquetMagic) {
		return fmt.Errorf("%s: %w", path, ErrNotParquet)
	}
	return nil
}

// walk returns the dataset's files sorted by Dt then Path, without
// checksums.
func walk(path string) ([]File, error) {
	var files []File
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", path, err)
	}
	if !info.IsDir() {
		files = append(files, File{Path: path, Size: info.Size()})
	} else {
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if p != path && skipName(d.Name()) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() || !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
				return nil
			}
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			if fi.Mode().IsRegular() {
				files = append(files, File{Path: p, Size: fi.Size()})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", path, err)
		}
	}
	for i := range files {
		dt, err := partitionDate(files[i].Path)
		if err != nil {
			return nil, fmt.Errorf("list %s: %w", path, err)
		}
		files[i].Dt = dt
	}
	slices.SortFunc(files, func(a, b File) int {
		return cmp.Or(cmp.Compare(a.Dt, b.Dt), strings.Compare(a.Path, b.Path))
	})
	return files, nil
}

// checksums numbers files and fills their sizes and checksums.
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

// partitionDate returns the date of the innermost dt= component of p, 0 if
// none; two dt= components with different dates are an error.
func partitionDate(p string) (billing.Date, error) {
	var dt billing.Date
	for _, part := range strings.Split(filepath.ToSlash(p), "/") {
		v, ok := strings.CutPrefix(part, "dt=")
		if !ok {
			continue
		}
		d, err := billing.ParseDate(v)
		if err != nil {
			return 0, fmt.Errorf("%s: %w: %w", p, ErrPartition, err)
		}
		if dt != 0 && d != dt {
			return 0, fmt.Errorf("%s: %w: two dt= dates", p, ErrPartition)
		}
		dt = d
	}
	return dt, nil
}

// checksum fills f.SHA256 and f.Size from the bytes read.
func checksum(f *File) error {
	r, err := os.Open(f.Path)
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

// ForDay returns the files that can hold events whose local business date
// is day: every unpartitioned file, and the partitioned files whose Dt is
// within one day of day (upstream may cut dt by UTC date, and the policy's
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
