package state_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/fixtures"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/state"
)

// bookDir holds the grown book of the tests of this package, removed
// when they end.
var bookDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if bookDir != "" {
		os.RemoveAll(bookDir)
	}
	os.Exit(code)
}

// grownBook returns the state directory of a generated book of 1500
// accounts after 75 nights: every table has rows, with NULLs and
// dictionary columns. It is built once per test binary.
var grownBook = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "creditrun-state-book")
	if err != nil {
		return "", err
	}
	bookDir = dir
	return generateBook(dir, 1500, 75)
})

// generateBook generates a book of the given size in dir, backfills it
// over days nights, and returns the state directory of the last.
func generateBook(dir string, accounts, days int) (string, error) {
	start := billing.NewDate(2025, 1, 1)
	cfg := fixtures.DefaultConfig()
	cfg.Accounts, cfg.Days, cfg.Start, cfg.Seed = accounts, days, start, 11
	events := filepath.Join(dir, "events")
	sink, err := fixtures.NewParquetSink(events)
	if err != nil {
		return "", err
	}
	if _, err := fixtures.Generate(context.Background(), cfg, sink); err != nil {
		return "", err
	}
	opt := pipeline.DefaultOptions()
	opt.Events, opt.Out, opt.Version = events, filepath.Join(dir, "out"), "test"
	opt.State = filepath.Join(events, "accounts")
	last := start + billing.Date(days) - 1
	if _, err := pipeline.Backfill(context.Background(), opt, start, last, nil); err != nil {
		return "", err
	}
	return pipeline.StateDir(opt.Out, last), nil
}

func bookState(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("generates and backfills a book")
	}
	dir, err := grownBook()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// table is a state table: its file and the checks run on it.
type table struct {
	name    string
	compare func(t *testing.T, dir string, wantDirect bool) (directChunks, parquetChunks int)
	rewrite func(t *testing.T, src, dst string, opts ...parquet.WriterOption)
}

func tableOf[T any](name string) table {
	return table{name: name, compare: func(t *testing.T, dir string, wantDirect bool) (int, int) {
		return compareTable[T](t, dir, name, wantDirect)
	},
		rewrite: func(t *testing.T, src, dst string, opts ...parquet.WriterOption) {
			rewriteTable[T](t, src, dst, name, opts...)
		}}
}

var tables = []table{
	tableOf[state.AccountRow](state.AccountsFile),
	tableOf[state.StatementRow](state.StatementsFile),
	tableOf[state.PlanRow](state.PlansFile),
	tableOf[state.PurchaseRow](state.PurchasesFile),
	tableOf[state.LineRow](state.LinesFile),
	tableOf[state.CycleRow](state.HistoryFile),
	tableOf[state.FailureRow](state.FailuresFile),
	tableOf[state.AccrualRow](state.AccrualsFile),
	tableOf[state.SeenRow](state.SeenFile),
	tableOf[state.LateAccrualRow](state.LateAccrualsFile),
}

// compareTable reads table name of dir directly, through parquet-go's
// pages, and with parquet-go's GenericReader, and requires the same rows.
// wantDirect requires that every column chunk was read directly. It
// returns how many chunks were read each way.
func compareTable[T any](t *testing.T, dir, name string, wantDirect bool) (directChunks, parquetChunks int) {
	t.Helper()
	want, err := pqfile.ReadFile[T](filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	direct, nd, np, err := state.ReadTable[T](dir, name, true)
	if err != nil {
		t.Fatalf("%s read directly: %v", name, err)
	}
	pages, _, _, err := state.ReadTable[T](dir, name, false)
	if err != nil {
		t.Fatalf("%s read through parquet-go's pages: %v", name, err)
	}
	sameRows(t, name+" read directly", direct, want)
	sameRows(t, name+" read through parquet-go's pages", pages, want)
	if wantDirect && len(want) == 0 {
		t.Errorf("%s: no rows, want some", name)
	}
	if wantDirect && (np != 0 || nd == 0) {
		t.Errorf("%s: %d chunks read directly, %d through parquet-go; want every one directly", name, nd, np)
	}
	return nd, np
}

func sameRows[T any](t *testing.T, what string, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d rows, want %d", what, len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("%s: row %d of %d:\n got %+v\nwant %+v", what, i, len(want), got[i], want[i])
		}
	}
}

// rewriteTable writes table name of src again into dst with parquet-go,
// with the options this program writes (data pages v1, PLAIN unless the
// column is a dictionary's, snappy) and opts.
func rewriteTable[T any](t *testing.T, src, dst, name string, opts ...parquet.WriterOption) {
	t.Helper()
	rows, err := pqfile.ReadFile[T](filepath.Join(src, name))
	if err != nil {
		t.Fatal(err)
	}
	base := []parquet.WriterOption{parquet.DataPageVersion(1), parquet.DefaultEncoding(&parquet.Plain), parquet.Compression(&parquet.Snappy)}
	if err := parquet.WriteFile(filepath.Join(dst, name), rows, append(base, opts...)...); err != nil {
		t.Fatal(err)
	}
}

// TestDirectMatchesParquetGo reads every state table of a grown book
// directly and through parquet-go, as this program writes them.
func TestDirectMatchesParquetGo(t *testing.T) {
	dir := bookState(t)
	for _, tb := range tables {
		t.Run(tb.name, func(t *testing.T) { tb.compare(t, dir, true) })
	}
	got, err := state.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	want, err := state.ReadParquetGo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1500 {
		t.Fatalf("Read = %d accounts, want 1500", len(got))
	}
	sameRows(t, "the snapshot read directly", got, want)
	ids, err := state.AccountIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	was := state.SetDirect(false)
	idsParquet, err := state.AccountIDs(dir)
	state.SetDirect(was)
	if err != nil {
		t.Fatal(err)
	}
	sameRows(t, "AccountIDs read directly", ids, idsParquet)
	for i := range got {
		if ids[i] != got[i].ID {
			t.Fatalf("AccountIDs()[%d] = %d, want %d", i, ids[i], got[i].ID)
		}
	}
}

// TestDirectMatchesParquetGoOnLayouts writes the same tables again with
// many small row groups and pages, and dictionaries small enough that
// every dictionary column falls back to PLAIN within a chunk.
func TestDirectMatchesParquetGoOnLayouts(t *testing.T) {
	src := bookState(t)
	dst := t.TempDir()
	for _, tb := range tables {
		tb.rewrite(t, src, dst, parquet.MaxRowsPerRowGroup(997), parquet.PageBufferSize(1024), parquet.DictionaryMaxBytes(24))
	}
	for _, tb := range tables {
		t.Run(tb.name, func(t *testing.T) { tb.compare(t, dst, true) })
	}
	checkIDs(t, dst)
	// The layouts asked for are there: several row groups, and a chunk of
	// dictionary pages followed by PLAIN ones.
	f, err := os.Open(filepath.Join(dst, state.AccountsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	if n := len(pf.RowGroups()); n < 2 {
		t.Errorf("accounts: %d row groups, want several", n)
	}
	fellBack := false
	for _, rg := range pf.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			var dict, plain bool
			for _, s := range cc.MetaData.EncodingStats {
				if s.PageType == format.DataPage {
					dict = dict || s.Encoding == format.RLEDictionary
					plain = plain || s.Encoding == format.Plain
				}
			}
			fellBack = fellBack || dict && plain
		}
	}
	if !fellBack {
		t.Error("no column chunk of accounts holds both dictionary and PLAIN pages")
	}
}

// checkIDs requires that AccountIDs gives the account ids of the accounts
// table of dir.
func checkIDs(t *testing.T, dir string) {
	t.Helper()
	rows, err := pqfile.ReadFile[state.AccountRow](filepath.Join(dir, state.AccountsFile))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := state.AccountIDs(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != len(rows) {
		t.Fatalf("AccountIDs = %d ids, want %d", len(ids), len(rows))
	}
	for i := range rows {
		if ids[i] != rows[i].AccountID {
			t.Fatalf("AccountIDs()[%d] = %d, want %d", i, ids[i], rows[i].AccountID)
		}
	}
}

// TestParquetGoPagesForOtherFiles reads tables that another writer's
// options made (pages v2, DELTA encodings, zstd): the direct path leaves
// them to parquet-go, and the rows are the same.
func TestParquetGoPagesForOtherFiles(t *testing.T) {
	src := bookState(t)
	for _, tc := range []struct {
		name string
		opts []parquet.WriterOption
	}{
		{"v2", []parquet.WriterOption{parquet.DataPageVersion(2)}},
		{"delta", []parquet.WriterOption{parquet.DefaultEncodingFor(parquet.ByteArray, &parquet.DeltaLengthByteArray)}},
		{"zstd", []parquet.WriterOption{parquet.Compression(&parquet.Zstd)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := t.TempDir()
			for _, tb := range tables {
				tb.rewrite(t, src, dst, tc.opts...)
			}
			parquetChunks := 0
			for _, tb := range tables {
				_, np := tb.compare(t, dst, false)
				parquetChunks += np
			}
			checkIDs(t, dst)
			if parquetChunks == 0 {
				t.Error("every chunk was read directly, want some through parquet-go")
			}
		})
	}
}

// BenchmarkReadState streams a grown book's snapshot (CREDITRUN_BENCH_STATE,
// else one generated of CREDITRUN_BENCH_ACCOUNTS accounts, default 20000,
// after 30 nights) in buckets of pipeline.DefaultBucketSize accounts as a
// night does, with the column chunks read directly and through parquet-go's
// pages. cpu-s/op is the process's CPU time (the machine may be shared).
func BenchmarkReadState(b *testing.B) {
	dir := os.Getenv("CREDITRUN_BENCH_STATE")
	if dir == "" {
		accounts := 20000
		if n, err := strconv.Atoi(os.Getenv("CREDITRUN_BENCH_ACCOUNTS")); err == nil && n > 0 {
			accounts = n
		}
		var err error
		if dir, err = generateBook(b.TempDir(), accounts, 30); err != nil {
			b.Fatal(err)
		}
	}
	var size int64
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range entries {
		if fi, err := e.Info(); err == nil && filepath.Ext(e.Name()) == ".parquet" {
			size += fi.Size()
		}
	}
	for _, mode := range []struct {
		name   string
		direct bool
	}{{"direct", true}, {"parquet-go", false}} {
		b.Run(mode.name, func(b *testing.B) {
			defer state.SetDirect(state.SetDirect(mode.direct))
			buf := make([]billing.Account, pipeline.DefaultBucketSize)
			b.SetBytes(size)
			b.ReportAllocs()
			accounts := 0
			cpu := cpuTime()
			for b.Loop() {
				r, err := state.Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				for {
					n, err := r.Read(buf)
					accounts += n
					if errors.Is(err, io.EOF) {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				r.Close()
			}
			b.ReportMetric(float64(accounts)/b.Elapsed().Seconds(), "accounts/s")
			b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
		})
	}
}

// BenchmarkWriteState writes a grown book's snapshot (CREDITRUN_BENCH_STATE,
// else one generated as BenchmarkReadState's), read into memory before the
// timer, as one night's state: every table encoded, compressed and synced.
func BenchmarkWriteState(b *testing.B) {
	dir := os.Getenv("CREDITRUN_BENCH_STATE")
	if dir == "" {
		var err error
		if dir, err = generateBook(b.TempDir(), 20000, 30); err != nil {
			b.Fatal(err)
		}
	}
	accounts, err := state.Read(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		out := filepath.Join(b.TempDir(), "state")
		if err := os.Mkdir(out, 0o755); err != nil {
			b.Fatal(err)
		}
		if err := state.Write(out, accounts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(accounts))*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// FuzzDirectRead writes random rows of two state tables (every field kind,
// NULLs at random) in random layouts, with this program's writer and with
// parquet-go's, and reads them directly: the rows must be those written.
func FuzzDirectRead(f *testing.F) {
	f.Add(uint64(1), uint16(1000), uint16(300), uint16(2048), uint8(0))
	f.Add(uint64(2), uint16(4097), uint16(4096), uint16(600), uint8(16))
	f.Add(uint64(3), uint16(1), uint16(1), uint16(1), uint8(1))
	f.Add(uint64(4), uint16(0), uint16(0), uint16(0), uint8(0))
	f.Fuzz(func(t *testing.T, seed uint64, rows, rowGroup, page uint16, dictBytes uint8) {
		r := rand.New(rand.NewPCG(seed, uint64(rows)))
		n := int(rows % 6000)
		dir := t.TempDir()
		own, other := filepath.Join(dir, "own"), filepath.Join(dir, "parquet-go")
		for _, d := range []string{own, other} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		accounts, lines := randomRows[state.AccountRow](r, n), randomRows[state.LineRow](r, n)
		if err := pqfile.WriteFile(filepath.Join(own, state.AccountsFile), accounts); err != nil {
			t.Fatal(err)
		}
		if err := pqfile.WriteFile(filepath.Join(own, state.LinesFile), lines); err != nil {
			t.Fatal(err)
		}
		opts := []parquet.WriterOption{parquet.DataPageVersion(1), parquet.DefaultEncoding(&parquet.Plain), parquet.Compression(&parquet.Snappy),
			parquet.MaxRowsPerRowGroup(int64(max(rowGroup, 1))), parquet.PageBufferSize(int(max(page, 64))), parquet.DictionaryMaxBytes(int64(dictBytes))}
		if err := parquet.WriteFile(filepath.Join(other, state.AccountsFile), accounts, opts...); err != nil {
			t.Fatal(err)
		}
		if err := parquet.WriteFile(filepath.Join(other, state.LinesFile), lines, opts...); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{own, other} {
			for _, tb := range []table{tables[0], tables[4]} {
				nd, np := tb.compare(t, d, false)
				if np != 0 || n > 0 && nd == 0 {
					t.Errorf("%s: %d chunks read directly, %d through parquet-go; want every one directly", d, nd, np)
				}
			}
		}
	})
}

// randomRows returns n rows of T with every field random: NULL one time
// in three, a dictionary column's strings from a few values.
func randomRows[T any](r *rand.Rand, n int) []T {
	rows := make([]T, n)
	for i := range rows {
		v := reflect.ValueOf(&rows[i]).Elem()
		for j := 0; j < v.NumField(); j++ {
			f := v.Field(j)
			dict := strings.Contains(v.Type().Field(j).Tag.Get("parquet"), "dict")
			if f.Kind() == reflect.Pointer {
				if r.IntN(3) == 0 {
					continue
				}
				f.Set(reflect.New(f.Type().Elem()))
				f = f.Elem()
			}
			switch f.Kind() {
			case reflect.Int64, reflect.Int32:
				f.SetInt(r.Int64() >> (64 - f.Type().Bits()))
			case reflect.Bool:
				f.SetBool(r.IntN(2) == 0)
			case reflect.String:
				if dict {
					f.SetString(fmt.Sprint("value ", r.IntN(6)))
				} else {
					b := make([]byte, r.IntN(24))
					for k := range b {
						b[k] = byte(r.UintN(256))
					}
					f.SetString(string(b))
				}
			}
		}
	}
	return rows
}
