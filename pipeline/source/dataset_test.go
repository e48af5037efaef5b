package source

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// build creates entries under root: "a/b.parquet" a data file, "a/" a
// directory, "a -> b" a symbolic link a to b (b relative to a's directory,
// or absolute).
func build(t *testing.T, root string, entries ...string) {
	t.Helper()
	for _, e := range entries {
		switch from, to, link := strings.Cut(e, " -> "); {
		case link:
			p := filepath.Join(root, from)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(to, p); err != nil {
				t.Fatal(err)
			}
		case strings.HasSuffix(e, "/"):
			if err := os.MkdirAll(filepath.Join(root, e), 0o755); err != nil {
				t.Fatal(err)
			}
		default:
			writeFile(t, filepath.Join(root, e), "PAR1 data PAR1")
		}
	}
}

// rel returns the files' paths relative to root, with their dates.
func rel(t *testing.T, root string, files []File) []string {
	t.Helper()
	var out []string
	for i, f := range files {
		if f.Index != int32(i) {
			t.Errorf("file %d has Index %d", i, f.Index)
		}
		r, err := filepath.Rel(root, f.Path)
		if err != nil {
			t.Fatal(err)
		}
		dt := "-"
		if f.Dt != 0 {
			dt = f.Dt.String()
		}
		out = append(out, filepath.ToSlash(r)+" "+dt)
	}
	return out
}

// The night of testDay in Shanghai needs the UTC dates 2024-02-29 and
// 2024-03-01, and reads 2024-03-02 too when it is there.
func TestDatasetLayouts(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []string
		sub     string // the dataset within the tree
		want    []string
	}{
		{"dt=YYYY-MM-DD", []string{
			"dt=2024-02-27/part-0.parquet", "dt=2024-02-28/part-0.parquet", "dt=2024-02-29/part-0.parquet",
			"dt=2024-03-01/part-1.parquet", "dt=2024-03-01/part-0.parquet", "dt=2024-03-02/part-0.parquet",
			"dt=2024-03-03/part-0.parquet", "_SUCCESS", "dt=2024-03-01/_SUCCESS", "dt=2024-03-01/.part-0.parquet.crc",
			"dt=2024-03-01/part-0.parquet.crc",
		}, "", []string{
			"dt=2024-02-29/part-0.parquet 2024-02-29", "dt=2024-03-01/part-0.parquet 2024-03-01",
			"dt=2024-03-01/part-1.parquet 2024-03-01", "dt=2024-03-02/part-0.parquet 2024-03-02",
		}},
		{"ds=YYYY-MM-DD", []string{"ds=2024-02-28/a.parquet", "ds=2024-02-29/a.parquet", "ds=2024-03-01/a.parquet"}, "",
			[]string{"ds=2024-02-29/a.parquet 2024-02-29", "ds=2024-03-01/a.parquet 2024-03-01"}},
		{"date=YYYYMMDD", []string{"date=20240228/a.parquet", "date=20240229/a.parquet", "date=20240301/a.parquet", "date=20240302/a.parquet"}, "",
			[]string{"date=20240229/a.parquet 2024-02-29", "date=20240301/a.parquet 2024-03-01", "date=20240302/a.parquet 2024-03-02"}},
		{"dt=YYYYMMDD", []string{"dt=20240229/a.parquet", "dt=20240301/a.parquet"}, "",
			[]string{"dt=20240229/a.parquet 2024-02-29", "dt=20240301/a.parquet 2024-03-01"}},
		{"year/month/day padded", []string{
			"year=2024/month=02/day=28/a.parquet", "year=2024/month=02/day=29/a.parquet",
			"year=2024/month=03/day=01/a.parquet", "year=2023/month=12/day=31/a.parquet",
		}, "", []string{"year=2024/month=02/day=29/a.parquet 2024-02-29", "year=2024/month=03/day=01/a.parquet 2024-03-01"}},
		{"year/month/day unpadded", []string{
			"year=2024/month=2/day=29/a.parquet", "year=2024/month=3/day=1/a.parquet", "year=2024/month=3/day=2/b.parquet",
			"year=2024/month=3/day=20/a.parquet", "year=2024/month=12/day=1/a.parquet",
		}, "", []string{
			"year=2024/month=2/day=29/a.parquet 2024-02-29", "year=2024/month=3/day=1/a.parquet 2024-03-01",
			"year=2024/month=3/day=2/b.parquet 2024-03-02",
		}},
		{"keys above and below", []string{
			"region=cn/dt=2024-02-29/hour=23/a.parquet", "region=cn/dt=2024-03-01/hour=00/a.parquet",
			"region=cn/dt=2024-03-01/hour=01/a.parquet", "region=us/dt=2024-02-29/a.parquet",
			"region=us/dt=2024-03-01/a.parquet", "region=us/dt=2024-03-05/a.parquet",
		}, "", []string{
			"region=cn/dt=2024-02-29/hour=23/a.parquet 2024-02-29", "region=us/dt=2024-02-29/a.parquet 2024-02-29",
			"region=cn/dt=2024-03-01/hour=00/a.parquet 2024-03-01", "region=cn/dt=2024-03-01/hour=01/a.parquet 2024-03-01",
			"region=us/dt=2024-03-01/a.parquet 2024-03-01",
		}},
		{"unpartitioned files beside partitions", []string{"loose.parquet", "dt=2024-02-29/a.parquet", "dt=2024-03-01/a.parquet"}, "",
			[]string{"loose.parquet -", "dt=2024-02-29/a.parquet 2024-02-29", "dt=2024-03-01/a.parquet 2024-03-01"}},
		{"flat directory", []string{"b.parquet", "a.parquet", "sub/c.parquet", "_SUCCESS", ".hidden.parquet"}, "",
			[]string{"a.parquet -", "b.parquet -", "sub/c.parquet -"}},
		{"one file", []string{"t.parquet"}, "t.parquet", []string{". -"}},
		{"symlinked dataset", []string{
			"real/dt=2024-02-29/a.parquet", "real/dt=2024-03-01/a.parquet", "ds -> real",
		}, "ds", []string{"dt=2024-02-29/a.parquet 2024-02-29", "dt=2024-03-01/a.parquet 2024-03-01"}},
		{"symlinked partitions", []string{
			"store/p1/a.parquet", "store/p2/a.parquet", "ds/dt=2024-02-29 -> ../store/p1", "ds/dt=2024-03-01 -> " + "../store/p2",
		}, "ds", []string{"dt=2024-02-29/a.parquet 2024-02-29", "dt=2024-03-01/a.parquet 2024-03-01"}},
		{"symlinked file in a partition", []string{
			"store/a.parquet", "ds/dt=2024-02-29/a.parquet -> ../../store/a.parquet", "ds/dt=2024-03-01/b.parquet",
		}, "ds", []string{"dt=2024-02-29/a.parquet 2024-02-29", "dt=2024-03-01/b.parquet 2024-03-01"}},
		{"symlinked prefix and nested days", []string{
			"store/year=2024/month=2/day=29/a.parquet", "store/year=2024/month=3/day=1/a.parquet",
			"ds/region=cn -> ../store",
		}, "ds", []string{"region=cn/year=2024/month=2/day=29/a.parquet 2024-02-29", "region=cn/year=2024/month=3/day=1/a.parquet 2024-03-01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			build(t, root, tc.entries...)
			path := filepath.Join(root, tc.sub)
			d, err := OpenDataset("transactions", path, Landing{})
			if err != nil {
				t.Fatal(err)
			}
			files, warns, err := d.ForDay(testDay, shanghaiZone)
			if err != nil {
				t.Fatal(err)
			}
			if got := rel(t, path, files); !slices.Equal(got, tc.want) {
				t.Errorf("ForDay(%s) = %q, want %q", testDay, got, tc.want)
			}
			if len(warns) > 0 {
				t.Errorf("warnings %v, want none", warns)
			}
			if err := Checksum(files); err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				if len(f.SHA256) != 64 || f.Size != int64(len("PAR1 data PAR1")) {
					t.Errorf("Checksum: %+v", f)
				}
			}
		})
	}
}

// TestDatasetSpan: the partitions a night needs follow the policy's zone.
func TestDatasetSpan(t *testing.T) {
	root := t.TempDir()
	build(t, root, "dt=2024-02-29/a.parquet", "dt=2024-03-01/a.parquet")
	d, err := OpenDataset("repayments", root, Landing{})
	if err != nil {
		t.Fatal(err)
	}
	// UTC: only dt=2024-03-01 is needed.
	if _, _, err := d.ForDay(testDay, time.UTC); err != nil {
		t.Errorf("ForDay(UTC) = %v", err)
	}
	// New York (UTC−5): the local day spans 2024-03-01 and 2024-03-02.
	_, _, err = d.ForDay(testDay, mustLoad("America/New_York"))
	var nl *NotLandedError
	if !errors.As(err, &nl) || nl.Partition != "dt=2024-03-02" {
		t.Errorf("ForDay(New York) error = %v, want dt=2024-03-02 not landed", err)
	}
}

// TestDatasetReadsOnlyTheNightsPartitions: a partition the night does not
// need is never opened, whatever its key: the unreadable entries planted
// in the others would fail any walk of them.
func TestDatasetReadsOnlyTheNightsPartitions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []string
	}{
		{"dt", []string{"dt=2024-02-29/a.parquet", "dt=2024-03-01/a.parquet", "dt=2023-01-01/broken -> nowhere", "dt=2024-03-05/broken -> nowhere"}},
		{"linked dt", []string{"dt=2024-02-29/a.parquet", "dt=2024-03-01 -> .store", ".store/a.parquet", "dt=2023-01-01 -> nowhere"}},
		{"compact", []string{"date=20240229/a.parquet", "date=20240301/a.parquet", "date=20230101/broken -> nowhere"}},
		{"nested", []string{
			"year=2024/month=02/day=29/a.parquet", "year=2024/month=03/day=01/a.parquet",
			"year=2023/junk.parquet", "year=2024/month=01/junk.parquet", "year=2024/month=03/day=05/broken -> nowhere",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			build(t, root, tc.entries...)
			d, err := OpenDataset("transactions", root, Landing{})
			if err != nil {
				t.Fatal(err)
			}
			files, _, err := d.ForDay(testDay, shanghaiZone)
			if err != nil || len(files) != 2 {
				t.Fatalf("ForDay = %v, %v; want the two needed files", rel(t, root, files), err)
			}
			// Reading the whole dataset does open them.
			if _, _, err := d.Files(); err == nil {
				t.Errorf("Files() read every partition without an error: the planted entries are not where the test thinks")
			}
		})
	}
}

func TestDatasetDefaultPartition(t *testing.T) {
	root := t.TempDir()
	build(t, root, "dt=2024-02-29/a.parquet", "dt=2024-03-01/a.parquet", "dt="+hiveDefault+"/a.parquet",
		"dt=2024-03-01/hour="+hiveDefault+"/x.parquet")
	d, err := OpenDataset("transactions", root, Landing{})
	if err != nil {
		t.Fatal(err)
	}
	files, warns, err := d.ForDay(testDay, shanghaiZone)
	if err != nil {
		t.Fatal(err)
	}
	// A null key below the date (hour=) is still that date's.
	want := []string{"dt=2024-02-29/a.parquet 2024-02-29", "dt=2024-03-01/a.parquet 2024-03-01", "dt=2024-03-01/hour=" + hiveDefault + "/x.parquet 2024-03-01"}
	if got := rel(t, root, files); !slices.Equal(got, want) {
		t.Errorf("ForDay = %q, want %q", got, want)
	}
	var paths []string
	for _, w := range warns {
		if w.Dataset != "transactions" || !strings.Contains(w.What, hiveDefault) {
			t.Errorf("warning %v", w)
		}
		paths = append(paths, strings.TrimPrefix(w.Path, root+"/"))
	}
	slices.Sort(paths)
	if want := []string{"dt=" + hiveDefault}; !slices.Equal(paths, want) {
		t.Errorf("warnings at %q, want %q", paths, want)
	}
	// A default partition of month= or day= warns when its year is read.
	root = t.TempDir()
	build(t, root, "year=2024/month=02/day=29/a.parquet", "year=2024/month=03/day=01/a.parquet", "year=2024/month=03/day="+hiveDefault+"/a.parquet")
	d, err = OpenDataset("transactions", root, Landing{})
	if err != nil {
		t.Fatal(err)
	}
	if _, warns, err := d.ForDay(testDay, shanghaiZone); err != nil || len(warns) != 1 || !strings.HasSuffix(warns[0].Path, "day="+hiveDefault) {
		t.Errorf("ForDay = %v, %v; want one warning for day=%s", warns, err, hiveDefault)
	}
	// Only default partitions: no data for the night.
	root = t.TempDir()
	build(t, root, "dt="+hiveDefault+"/a.parquet", "year="+hiveDefault+"/a.parquet")
	d, err = OpenDataset("transactions", root, Landing{Sparse: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.ForDay(testDay, shanghaiZone); !errors.Is(err, ErrNotLanded) {
		t.Errorf("ForDay(only a default partition, sparse) error = %v, want ErrNotLanded", err)
	}
}

func TestDatasetNotLanded(t *testing.T) {
	landed := []string{"dt=2024-02-29/a.parquet", "dt=2024-03-01/a.parquet"}
	for _, tc := range []struct {
		name      string
		entries   []string
		opt       Landing
		partition string   // of the error; "" for the dataset
		says      []string // in the error
	}{
		{"empty directory", []string{"./"}, Landing{}, "", []string{"holds no Parquet file"}},
		{"empty directory, sparse", []string{"./"}, Landing{Sparse: true}, "", []string{"holds no Parquet file"}},
		{"only _temporary", []string{"_temporary/0/_temporary/attempt_1/part-0.parquet"}, Landing{}, "", []string{"still writing", "_temporary"}},
		{"only .spark-staging", []string{".spark-staging-4a1f/dt=2024-03-01/part-0.parquet"}, Landing{Sparse: true}, "", []string{"still writing", ".spark-staging-4a1f"}},
		{"only _SUCCESS", []string{"_SUCCESS", ".part-0.parquet.crc"}, Landing{}, "", []string{"only metadata"}},
		{"missing partition", landed[:1], Landing{}, "dt=2024-03-01", []string{"has no partition dt=2024-03-01", "holds events of 2024-03-01", "--sparse-partitions"}},
		{"missing compact partition", []string{"ds=20240229/a.parquet"}, Landing{}, "ds=20240301", []string{"has no partition ds=20240301"}},
		{"missing nested partition", []string{"year=2024/month=2/day=29/a.parquet"}, Landing{}, "year=2024/month=03/day=01", []string{"has no partition year=2024/month=03/day=01"}},
		{"missing year", []string{"year=2023/month=12/day=31/a.parquet"}, Landing{}, "year=2024/month=02/day=29", nil},
		{"missing partition of one prefix", []string{"region=cn/dt=2024-02-29/a.parquet", "region=cn/dt=2024-03-01/a.parquet", "region=us/dt=2024-02-29/a.parquet"}, Landing{}, "dt=2024-03-01", []string{"region=us"}},
		{"empty partition", append(landed[:1:1], "dt=2024-03-01/"), Landing{Sparse: true}, "dt=2024-03-01", []string{"holds no Parquet file"}},
		{"partition holding _SUCCESS only", append(landed[:1:1], "dt=2024-03-01/_SUCCESS"), Landing{}, "dt=2024-03-01", []string{"only metadata"}},
		{"partition being written", append(landed[:1:1], "dt=2024-03-01/_temporary/0/part-0.parquet"), Landing{}, "dt=2024-03-01", []string{"still writing"}},
		{"missing partition while a writer writes, sparse", append(landed[:1:1], "_temporary/0/part-0.parquet"), Landing{Sparse: true}, "dt=2024-03-01", []string{"still writing", "_temporary"}},
		{"sparse, no data at all", []string{"dt=" + hiveDefault + "/a.parquet"}, Landing{Sparse: true}, "", []string{"no data at all"}},
		{"marker", landed, Landing{RequireMarker: true}, "dt=2024-02-29", []string{"no _SUCCESS", "--require-success-marker"}},
		{"marker in one partition", append(slices.Clone(landed), "dt=2024-02-29/_SUCCESS"), Landing{RequireMarker: true}, "dt=2024-03-01", []string{"no _SUCCESS"}},
		{"marker at the root only", append(slices.Clone(landed), "_SUCCESS"), Landing{RequireMarker: true}, "dt=2024-02-29", []string{"no _SUCCESS"}},
		{"marker below the partition", append(slices.Clone(landed), "dt=2024-02-29/_SUCCESS", "dt=2024-03-01/hour=00/_SUCCESS", "dt=2024-03-01/hour=00/a.parquet"), Landing{RequireMarker: true}, "dt=2024-03-01", nil},
		{"marker, unpartitioned", []string{"a.parquet"}, Landing{RequireMarker: true}, "", []string{"no _SUCCESS"}},
		{"symlink to nothing", []string{"ds -> nowhere"}, Landing{}, "", []string{"symbolic link"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			build(t, root, tc.entries...)
			path := root
			if tc.name == "symlink to nothing" {
				path = filepath.Join(root, "ds")
			}
			d, err := OpenDataset("repayments", path, tc.opt)
			if err == nil {
				_, _, err = d.ForDay(testDay, shanghaiZone)
			}
			var nl *NotLandedError
			if !errors.As(err, &nl) || !errors.Is(err, ErrNotLanded) {
				t.Fatalf("error = %v, want a *NotLandedError", err)
			}
			if errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %v is fs.ErrNotExist: only a dataset that does not exist is", err)
			}
			if nl.Dataset != "repayments" || nl.Partition != tc.partition || nl.Path == "" {
				t.Errorf("error = %+v, want dataset repayments, partition %q", nl, tc.partition)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "repayments ") {
				t.Errorf("error %q does not start with the dataset", msg)
			}
			for _, s := range tc.says {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not say %q", msg, s)
				}
			}
		})
	}
}

func TestDatasetLanded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		entries []string
		opt     Landing
		want    int // files
		warns   int
	}{
		{"sparse, missing partitions", []string{"dt=2024-02-20/a.parquet"}, Landing{Sparse: true}, 0, 0},
		{"sparse, one of two", []string{"dt=2024-02-29/a.parquet"}, Landing{Sparse: true}, 1, 0},
		{"sparse, nested", []string{"year=2024/month=02/day=29/a.parquet", "year=2023/month=1/day=1/a.parquet"}, Landing{Sparse: true}, 1, 0},
		{"sparse, compact", []string{"date=20240110/a.parquet"}, Landing{Sparse: true}, 0, 0},
		{"marker", []string{"dt=2024-02-29/a.parquet", "dt=2024-02-29/_SUCCESS", "dt=2024-03-01/a.parquet", "dt=2024-03-01/_SUCCESS"}, Landing{RequireMarker: true}, 2, 0},
		{"marker, sparse", []string{"dt=2024-02-29/a.parquet", "dt=2024-02-29/_SUCCESS"}, Landing{RequireMarker: true, Sparse: true}, 1, 0},
		{"marker, unpartitioned", []string{"a.parquet", "_SUCCESS"}, Landing{RequireMarker: true}, 1, 0},
		{"marker, nested", []string{"year=2024/month=2/day=29/a.parquet", "year=2024/month=2/day=29/_SUCCESS", "year=2024/month=3/day=1/a.parquet", "year=2024/month=3/day=1/_SUCCESS"}, Landing{RequireMarker: true}, 2, 0},
		{"leftover _temporary beside landed partitions", []string{"_temporary/0/x.parquet", "dt=2024-02-29/a.parquet", "dt=2024-03-01/a.parquet"}, Landing{}, 2, 0},
		{"neighbour not landed", []string{"dt=2024-02-29/a.parquet", "dt=2024-03-01/a.parquet", "dt=2024-03-02/_temporary/0/a.parquet"}, Landing{}, 2, 1},
		{"neighbour without marker", []string{"dt=2024-02-29/a.parquet", "dt=2024-02-29/_SUCCESS", "dt=2024-03-01/a.parquet", "dt=2024-03-01/_SUCCESS", "dt=2024-03-02/a.parquet"}, Landing{RequireMarker: true}, 2, 1},
		{"symlink loop", []string{"dt=2024-02-29/a.parquet", "dt=2024-03-01/a.parquet", "dt=2024-03-01/again -> .", "dt=2024-02-29/sub/back -> ..", "prefix/self -> ..", "prefix/dt=2024-02-29/a.parquet", "prefix/dt=2024-03-01/a.parquet"}, Landing{}, 4, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			build(t, root, tc.entries...)
			d, err := OpenDataset("transactions", root, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			files, warns, err := d.ForDay(testDay, shanghaiZone)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != tc.want || len(warns) != tc.warns {
				t.Errorf("ForDay = %q, warnings %v; want %d files, %d warnings", rel(t, root, files), warns, tc.want, tc.warns)
			}
		})
	}
}

func TestDatasetErrors(t *testing.T) {
	root := t.TempDir()
	// A dataset that does not exist: not landed, and fs.ErrNotExist (an
	// optional dataset is then absent).
	_, err := OpenDataset("requests", filepath.Join(root, "requests"), Landing{})
	if !errors.Is(err, ErrNotLanded) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenDataset(missing) error = %v, want ErrNotLanded and fs.ErrNotExist", err)
	}
	for _, tc := range []struct {
		name    string
		entries []string
	}{
		{"bad dt", []string{"dt=2024-13-01/a.parquet"}},
		{"bad compact date", []string{"date=20241301/a.parquet"}},
		{"bad ds", []string{"ds=latest/a.parquet"}},
		{"bad year", []string{"year=24x/month=1/day=1/a.parquet"}},
		{"bad month", []string{"year=2024/month=13/day=1/a.parquet"}},
		{"bad day", []string{"year=2024/month=2/day=30/a.parquet", "year=2024/month=2/day=29/a.parquet"}},
		{"files beside months", []string{"year=2024/a.parquet", "year=2024/month=3/day=1/a.parquet"}},
		{"two dates", []string{"dt=2024-02-29/a.parquet", "dt=2024-03-01/dt=2024-03-02/a.parquet"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			build(t, dir, tc.entries...)
			d, err := OpenDataset("transactions", dir, Landing{})
			if err == nil {
				_, _, err = d.ForDay(testDay, shanghaiZone)
			}
			if !errors.Is(err, ErrPartition) || !strings.Contains(err.Error(), dir) {
				t.Errorf("error = %v, want ErrPartition naming the directory", err)
			}
		})
	}
}

// TestDatasetFiles: a dataset read whole (the accounts master) gives every
// file, partitioned or not.
func TestDatasetFiles(t *testing.T) {
	root := t.TempDir()
	build(t, root, "flat/accounts.parquet", "flat/more/b.parquet",
		"hive/dt=2024-03-01/a.parquet", "hive/dt=2024-01-05/a.parquet", "hive/year=2023/month=7/day=4/a.parquet",
		"hive/dt="+hiveDefault+"/a.parquet", "linked -> hive", "empty/", "marked/dt=2024-01-01/a.parquet")
	for _, tc := range []struct {
		sub   string
		opt   Landing
		want  []string
		warns int
		err   error
	}{
		{"flat", Landing{}, []string{"accounts.parquet -", "more/b.parquet -"}, 0, nil},
		{"hive", Landing{}, []string{"year=2023/month=7/day=4/a.parquet 2023-07-04", "dt=2024-01-05/a.parquet 2024-01-05", "dt=2024-03-01/a.parquet 2024-03-01"}, 1, nil},
		{"linked", Landing{}, []string{"year=2023/month=7/day=4/a.parquet 2023-07-04", "dt=2024-01-05/a.parquet 2024-01-05", "dt=2024-03-01/a.parquet 2024-03-01"}, 1, nil},
		{"empty", Landing{}, nil, 0, ErrNotLanded},
		{"marked", Landing{RequireMarker: true}, nil, 0, ErrNotLanded},
	} {
		t.Run(tc.sub, func(t *testing.T) {
			path := filepath.Join(root, tc.sub)
			d, err := OpenDataset("accounts", path, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			files, warns, err := d.Files()
			if !errors.Is(err, tc.err) {
				t.Fatalf("Files() error = %v, want %v", err, tc.err)
			}
			if got := rel(t, path, files); !slices.Equal(got, tc.want) || len(warns) != tc.warns {
				t.Errorf("Files() = %q, %v; want %q, %d warnings", got, warns, tc.want, tc.warns)
			}
		})
	}
}

// TestDatasetDates: a partition's date as its File carries it.
func TestDatasetDates(t *testing.T) {
	for _, c := range []struct {
		v    string
		want billing.Date
		ok   bool
	}{
		{"2024-02-29", billing.NewDate(2024, 2, 29), true},
		{"20240229", billing.NewDate(2024, 2, 29), true},
		{"20230229", 0, false},
		{"2024-2-29", 0, false},
		{"2024022", 0, false},
		{"", 0, false},
	} {
		got, _, err := parseDateValue(c.v)
		if (err == nil) != c.ok || c.ok && got != c.want {
			t.Errorf("parseDateValue(%q) = %s, %v; want %s, ok %v", c.v, got, err, c.want, c.ok)
		}
	}
}
