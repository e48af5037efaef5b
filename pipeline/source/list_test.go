package source

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
)

func TestList(t *testing.T) {
	dir := t.TempDir()
	tb := table{cols: txnCols}
	forms := canonicalTxnForms()
	for _, p := range []string{
		"dt=2024-03-02/part-1.parquet",
		"dt=2024-03-01/part-0.parquet",
		"dt=2024-03-01/hour=23/part-0.parquet",
		"region=cn/dt=2024-02-29/data_0.parquet",
		"loose.parquet",
		"_temporary/0/part-9.parquet",
		".spark-staging/part-9.parquet",
	} {
		writeParquet(t, filepath.Join(dir, p), tb, forms, 0)
	}
	writeFile(t, filepath.Join(dir, "_SUCCESS"), "")
	writeFile(t, filepath.Join(dir, "dt=2024-03-01", ".part-0.parquet.crc"), "x")
	writeFile(t, filepath.Join(dir, "dt=2024-03-01", "part-0.parquet.crc"), "x")

	files, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		path string
		dt   billing.Date
	}{
		{"loose.parquet", 0},
		{"region=cn/dt=2024-02-29/data_0.parquet", billing.NewDate(2024, 2, 29)},
		{"dt=2024-03-01/hour=23/part-0.parquet", billing.NewDate(2024, 3, 1)},
		{"dt=2024-03-01/part-0.parquet", billing.NewDate(2024, 3, 1)},
		{"dt=2024-03-02/part-1.parquet", billing.NewDate(2024, 3, 2)},
	}
	if len(files) != len(want) {
		t.Fatalf("List = %+v, want %d files", files, len(want))
	}
	if err := Checksum(files); err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		f := files[i]
		data, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if f.Path != filepath.Join(dir, w.path) || f.Dt != w.dt || f.Index != int32(i) ||
			f.Size != int64(len(data)) || f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("List()[%d] = %+v, want %s dt %s index %d", i, f, w.path, w.dt, i)
		}
	}

	day := billing.NewDate(2024, 3, 3)
	got := ForDay(files, day)
	if len(got) != 2 || got[0].Path != files[0].Path || got[1].Path != files[4].Path || got[1].Index != 4 {
		t.Errorf("ForDay(%s) = %+v, want loose.parquet and dt=2024-03-02", day, got)
	}
	if got := ForDay(files, billing.NewDate(2024, 2, 28)); len(got) != 2 {
		t.Errorf("ForDay(2024-02-28) = %+v, want loose.parquet and dt=2024-02-29", got)
	}

	// A single file.
	one, err := List(filepath.Join(dir, "dt=2024-03-02", "part-1.parquet"))
	if err != nil || len(one) != 1 || one[0].Dt != billing.NewDate(2024, 3, 2) {
		t.Errorf("List(file) = %+v, %v", one, err)
	}
}

func TestListErrors(t *testing.T) {
	dir := t.TempDir()
	writeParquet(t, filepath.Join(dir, "ok", "a.parquet"), table{cols: txnCols}, canonicalTxnForms(), 0)
	writeFile(t, filepath.Join(dir, "ok", "README.md"), "not parquet")
	files, err := List(filepath.Join(dir, "ok"))
	if err != nil || len(files) != 2 {
		t.Fatalf("List(dir with README.md) = %+v, %v: want both files (List opens none)", files, err)
	}
	if _, _, err := ReadTransactions(t.Context(), files, testDay, shanghai); !errors.Is(err, ErrNotParquet) ||
		!strings.Contains(err.Error(), "README.md") {
		t.Errorf("ReadTransactions(README.md among the files) error = %v, want ErrNotParquet naming it", err)
	}
	writeFile(t, filepath.Join(dir, "baddt", "dt=2024-13-01", "a.parquet"), "PAR1")
	if _, err := List(filepath.Join(dir, "baddt")); !errors.Is(err, ErrPartition) {
		t.Errorf("List(dt=2024-13-01) error = %v, want ErrPartition", err)
	}
	if _, err := List(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("List(missing) error = %v, want not exist", err)
	}
	// A truncated Parquet file passes List's magic check only if both ends
	// survive; the reader still fails cleanly.
	data := mustRead(t, filepath.Join(dir, "ok", "a.parquet"))
	trunc := filepath.Join(dir, "trunc.parquet")
	if err := os.WriteFile(trunc, append(append([]byte(nil), data[:20]...), data[len(data)-8:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ReadTransactions(t.Context(), []File{{Path: trunc}}, testDay, shanghai); !errors.Is(err, ErrCorrupt) {
		t.Errorf("ReadTransactions(truncated file) error = %v, want ErrCorrupt", err)
	}
}

// TestDater checks the fast local date against billing.LocalDate around
// days with and without a DST change.
func TestDater(t *testing.T) {
	for _, c := range []struct {
		zone string
		day  billing.Date
	}{
		{"Asia/Shanghai", testDay},
		{"UTC", testDay},
		{"America/New_York", billing.NewDate(2024, 3, 10)}, // DST starts
		{"America/New_York", billing.NewDate(2024, 6, 10)},
		{"Europe/London", billing.NewDate(2024, 10, 27)}, // DST ends
		{"Pacific/Kiritimati", testDay},                  // UTC+14
		{"Pacific/Pago_Pago", testDay},                   // UTC−11
	} {
		loc := mustLoad(c.zone)
		d := newDater(loc, c.day)
		start := (c.day - 5).Time().UnixMicro()
		for us := start; us < (c.day + 5).Time().UnixMicro(); us += 7*time.Minute.Microseconds() + 13 {
			if got, want := d.date(us), billing.LocalDate(us, loc); got != want {
				t.Fatalf("%s around %s: date(%d) = %s, want %s", c.zone, c.day, us, got, want)
			}
		}
	}
}

func TestBigEndian(t *testing.T) {
	for _, c := range []struct {
		in   []byte
		want int64
		ok   bool
	}{
		{[]byte{0x01}, 1, true},
		{[]byte{0xff}, -1, true},
		{[]byte{0x00, 0x80}, 128, true},
		{[]byte{0xff, 0x7f}, -129, true},
		{twosComplement(123456789012, 16), 123456789012, true},
		{twosComplement(-123456789012, 16), -123456789012, true},
		{twosComplement(-1<<63, 12), -1 << 63, true},
		{append([]byte{0x00}, twosComplement(-1, 8)...), 0, false}, // 2^64 − 1
		{[]byte{0x01, 0, 0, 0, 0, 0, 0, 0, 0}, 0, false},
		{nil, 0, false},
	} {
		got, ok := bigEndian(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("bigEndian(%x) = %d, %v, want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestInt96(t *testing.T) {
	for _, us := range []int64{0, dayTS, dayTS + 999_999, -1, micro(1900, 1, 1, 12, 0, 0)} {
		if got, ok := int96Micros(toInt96(us)); !ok || got != us {
			t.Errorf("int96Micros(toInt96(%d)) = %d, %v", us, got, ok)
		}
	}
}
