package pqfile_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/policy"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/scoring"
)

// Every row type the project writes reads back as written, and the file
// says what parquet-go's row writer says of the same rows: the same
// schema (every column's name, physical and logical type, repetition),
// column orders and created_by, the same text through Dump, and the same
// NULL counts and bounds in every column chunk. The rows hold NULLs,
// empty and long strings, and every integer type's extremes.
func TestEveryRowTypeReadsAsTheRowWriterWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		check func(t *testing.T, seed uint64)
	}{
		{"billing.StatementRow", compareWithRowWriter[billing.StatementRow]},
		{"billing.LineRow", compareWithRowWriter[billing.LineRow]},
		{"billing.PlanRow", compareWithRowWriter[billing.PlanRow]},
		{"billing.DelinquencyRow", compareWithRowWriter[billing.DelinquencyRow]},
		{"billing.Notice", compareWithRowWriter[billing.Notice]},
		{"billing.BureauRow", compareWithRowWriter[billing.BureauRow]},
		{"billing.OfferRow", compareWithRowWriter[billing.OfferRow]},
		{"scoring.ScoreRow", compareWithRowWriter[scoring.ScoreRow]},
		{"scoring.DecisionRow", compareWithRowWriter[scoring.DecisionRow]},
		{"scoring.DistributionRow", compareWithRowWriter[scoring.DistributionRow]},
		{"state.AccountRow", compareWithRowWriter[state.AccountRow]},
		{"state.StatementRow", compareWithRowWriter[state.StatementRow]},
		{"state.PlanRow", compareWithRowWriter[state.PlanRow]},
		{"state.PurchaseRow", compareWithRowWriter[state.PurchaseRow]},
		{"state.LineRow", compareWithRowWriter[state.LineRow]},
		{"state.CycleRow", compareWithRowWriter[state.CycleRow]},
		{"state.FailureRow", compareWithRowWriter[state.FailureRow]},
		{"state.AccrualRow", compareWithRowWriter[state.AccrualRow]},
		{"state.SeenRow", compareWithRowWriter[state.SeenRow]},
		{"state.LateAccrualRow", compareWithRowWriter[state.LateAccrualRow]},
		{"source.Reject", compareWithRowWriter[source.Reject]},
		{"daily.Row", compareWithRowWriter[daily.Row]},
		{"policy.MigrationRow", compareWithRowWriter[policy.MigrationRow]},
		{"policy.ActionRow", compareWithRowWriter[policy.ActionRow]},
		{"policy.ChangeRow", compareWithRowWriter[policy.ChangeRow]},
		{"allKinds", compareWithRowWriter[allKinds]},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.check(t, 7) })
	}
}

// allKinds has a column of every kind a row type may have.
type allKinds struct {
	B    bool     `parquet:"b"`
	I8   int8     `parquet:"i8"`
	I16  int16    `parquet:"i16"`
	I32  int32    `parquet:"i32"`
	I64  int64    `parquet:"i64"`
	I    int      `parquet:"i"`
	U8   uint8    `parquet:"u8"`
	U16  uint16   `parquet:"u16"`
	U32  uint32   `parquet:"u32"`
	U64  uint64   `parquet:"u64"`
	U    uint     `parquet:"u"`
	F32  float32  `parquet:"f32"`
	F64  float64  `parquet:"f64"`
	S    string   `parquet:"s"`
	DS   string   `parquet:"ds,dict"`
	DI   int64    `parquet:"di,dict"`
	DU   uint32   `parquet:"du,dict"`
	DF   float64  `parquet:"df,dict"`
	Fen  int64    `parquet:"fen,decimal(2:18)"`
	Rate int32    `parquet:"rate,decimal(6:9)"`
	Day  int32    `parquet:"day,date"`
	At   int64    `parquet:"at,timestamp(microsecond:utc)"`
	Loc  int64    `parquet:"loc,timestamp(microsecond)"`
	PB   *bool    `parquet:"pb,optional"`
	PI   *int32   `parquet:"pi,optional"`
	PU   *uint64  `parquet:"pu,optional"`
	PF   *float64 `parquet:"pf,optional"`
	PS   *string  `parquet:"ps,optional"`
	PDS  *string  `parquet:"pds,optional,dict"`
	PFen *int64   `parquet:"pfen,optional,decimal(2:18)"`
	PDay *int32   `parquet:"pday,optional,date,dict"`
}

func compareWithRowWriter[T any](t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 1))
	rows := randomRows[T](r, 3000+r.IntN(2000))
	dir := t.TempDir()
	got, want := filepath.Join(dir, "got.parquet"), filepath.Join(dir, "want.parquet")
	writeInSplits(t, got, rows, []int{1, 77, 1000, 4096})
	if err := rowWriterFile(want, rows); err != nil {
		t.Fatal(err)
	}
	back, err := pqfile.ReadFile[T](got)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rows) {
		for i := range rows {
			if !reflect.DeepEqual(back[i], rows[i]) {
				t.Fatalf("row %d read back as %+v, want %+v", i, back[i], rows[i])
			}
		}
		t.Fatalf("read %d rows, want %d", len(back), len(rows))
	}
	var gotText, wantText bytes.Buffer
	if err := pqfile.DumpFile(&gotText, got); err != nil {
		t.Fatal(err)
	}
	if err := pqfile.DumpFile(&wantText, want); err != nil {
		t.Fatal(err)
	}
	if gotText.String() != wantText.String() {
		t.Errorf("Dump differs from the row writer's file's:\n%s\nwant\n%s", firstLines(gotText.String(), 3), firstLines(wantText.String(), 3))
	}
	gm, wm := footer(t, got), footer(t, want)
	compareSchemas(t, gm.Schema, wm.Schema)
	if !reflect.DeepEqual(gm.ColumnOrders, wm.ColumnOrders) || gm.CreatedBy != wm.CreatedBy || gm.NumRows != wm.NumRows ||
		len(gm.KeyValueMetadata) != len(wm.KeyValueMetadata) {
		t.Errorf("footer: column orders %v, created_by %q, %d rows, metadata %v; want %v, %q, %d, %v",
			gm.ColumnOrders, gm.CreatedBy, gm.NumRows, gm.KeyValueMetadata, wm.ColumnOrders, wm.CreatedBy, wm.NumRows, wm.KeyValueMetadata)
	}
	if len(gm.RowGroups) != len(wm.RowGroups) {
		t.Fatalf("%d row groups, want %d", len(gm.RowGroups), len(wm.RowGroups))
	}
	for g := range gm.RowGroups {
		for c := range gm.RowGroups[g].Columns {
			gc, wc := gm.RowGroups[g].Columns[c].MetaData, wm.RowGroups[g].Columns[c].MetaData
			gs, ws := gc.Statistics, wc.Statistics
			if gs.NullCount != ws.NullCount || !bytes.Equal(gs.MinValue, ws.MinValue) || !bytes.Equal(gs.MaxValue, ws.MaxValue) ||
				(gs.MinValue == nil) != (ws.MinValue == nil) {
				t.Errorf("row group %d column %s: statistics %d nulls [%x, %x], want %d [%x, %x]",
					g, gc.PathInSchema, gs.NullCount, gs.MinValue, gs.MaxValue, ws.NullCount, ws.MinValue, ws.MaxValue)
			}
			if gc.NumValues != wc.NumValues || gc.Type != wc.Type || gc.Codec != wc.Codec {
				t.Errorf("row group %d column %s: %d values of %s in %s, want %d of %s in %s",
					g, gc.PathInSchema, gc.NumValues, gc.Type, gc.Codec, wc.NumValues, wc.Type, wc.Codec)
			}
		}
	}
}

// compareSchemas compares every column's schema element: name, physical
// type, type length, logical and converted types, scale, precision,
// repetition, children.
func compareSchemas(t *testing.T, got, want []format.SchemaElement) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d schema elements, want %d", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("schema element %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

// footer reads the metadata of the file at path with parquet-go.
func footer(t *testing.T, path string) *format.FileMetaData { return openFile(t, path).Metadata() }

// openFile opens the file at path with parquet-go, until the test ends.
func openFile(t *testing.T, path string) *parquet.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return pf
}

// writeInSplits writes rows to path in Write calls of the given sizes,
// cycled, each from a copy the test overwrites as soon as Write returns
// (what the pointer fields point at included).
func writeInSplits[T any](t *testing.T, path string, rows []T, sizes []int) {
	t.Helper()
	w, err := pqfile.Create[T](path)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := 0, 0; i < len(rows); k++ {
		n := min(sizes[k%len(sizes)], len(rows)-i)
		batch := make([]T, n)
		for j := range batch {
			batch[j] = deepCopy(rows[i+j])
		}
		if err := w.Write(batch); err != nil {
			t.Fatal(err)
		}
		for j := range batch {
			scribble(reflect.ValueOf(&batch[j]).Elem())
		}
		i += n
	}
	if got := w.Rows(); got != int64(len(rows)) {
		t.Errorf("Rows() = %d, want %d", got, len(rows))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// deepCopy copies a row and what its pointer fields point at.
func deepCopy[T any](row T) T {
	v := reflect.ValueOf(&row).Elem()
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() && f.CanSet() {
			p := reflect.New(f.Type().Elem())
			p.Elem().Set(f.Elem())
			f.Set(p)
		}
	}
	return row
}

// scribble overwrites a row's values and what its pointers point at.
func scribble(v reflect.Value) {
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("scribbled")
		case reflect.Bool:
			f.SetBool(!f.Bool())
		case reflect.Float32, reflect.Float64:
			f.SetFloat(-1)
		case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
			f.SetInt(-1)
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
			f.SetUint(1)
		}
	}
}

// randomRows returns n rows of T: about a third of the nullable columns
// NULL, integers often at their type's extremes (MaxInt64 fen, negative
// amounts), strings empty, short, long, repeated or unique.
func randomRows[T any](r *rand.Rand, n int) []T {
	rows := make([]T, n)
	for i := range rows {
		v := reflect.ValueOf(&rows[i]).Elem()
		for k := 0; k < v.NumField(); k++ {
			f := v.Field(k)
			if !f.CanSet() || v.Type().Field(k).Tag.Get("parquet") == "-" {
				continue
			}
			if f.Kind() == reflect.Pointer {
				if r.IntN(3) == 0 {
					continue
				}
				f.Set(reflect.New(f.Type().Elem()))
				f = f.Elem()
			}
			randomValue(r, f, i)
		}
	}
	return rows
}

var words = []string{"", "UTIL_HIGH", "DPD_RECENT", "purchase", "refund", "京东白条", "a\tb\n\"c\"", strings.Repeat("long reason ", 30)}

func randomValue(r *rand.Rand, f reflect.Value, row int) {
	switch f.Kind() {
	case reflect.Bool:
		f.SetBool(r.IntN(2) == 0)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		bits := f.Type().Bits()
		lo, hi := int64(-1)<<(bits-1), int64(uint64(1)<<(bits-1)-1)
		f.SetInt([]int64{0, -1, 1, lo, hi, lo + 1, hi - 1, r.Int64N(hi/2+1) - r.Int64N(hi/2+1), int64(r.IntN(10))}[r.IntN(9)])
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		hi := uint64(1)<<(f.Type().Bits()-1)*2 - 1
		f.SetUint([]uint64{0, 1, hi, hi - 1, hi / 2, hi/2 + 1, r.Uint64() & hi, uint64(r.IntN(10))}[r.IntN(8)])
	case reflect.Float32, reflect.Float64:
		f.SetFloat([]float64{0, math.Copysign(0, -1), 1.5, -2.25, 1e300, -1e-300, math.Inf(1), math.Inf(-1), r.Float64(), float64(r.IntN(5))}[r.IntN(10)])
		if f.Kind() == reflect.Float32 && math.IsInf(float64(float32(f.Float())), 0) && !math.IsInf(f.Float(), 0) {
			f.SetFloat(3.5e38)
		}
	case reflect.String:
		if r.IntN(4) == 0 {
			f.SetString("unique " + strings.Repeat("x", r.IntN(40)) + string(rune('a'+row%26)) + strconv.Itoa(row))
		} else {
			f.SetString(words[r.IntN(len(words))])
		}
	}
}

// A scores file of more than a row group has the same bytes however its
// rows are split into Write calls, and reads back as written.
func TestScoresSameBytesWhateverTheSplit(t *testing.T) {
	n := 300_000 // more than a row group
	if testing.Short() || raceEnabled {
		n = 20_000
	}
	rows := scoreRows(n)
	dir := t.TempDir()
	var ref []byte
	for i, sizes := range [][]int{{4096}, {1000}, {64, 7, 3001}} {
		path := filepath.Join(dir, "scores.parquet")
		writeInSplits(t, path, rows, sizes)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			ref = b
			back, err := pqfile.ReadFile[wideRow](path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, rows) {
				t.Fatalf("%d rows read back, want %d, or they differ", len(back), len(rows))
			}
			if rgs, want := len(footer(t, path).RowGroups), (n+pqfile.MaxRowsPerRowGroup-1)/pqfile.MaxRowsPerRowGroup; rgs != want {
				t.Errorf("%d row groups, want %d", rgs, want)
			}
		} else if !bytes.Equal(b, ref) {
			t.Errorf("writes of %v: %d bytes, differ from writes of 4096 (%d bytes)", sizes, len(b), len(ref))
		}
	}
}

// wideDict is a row whose dictionary column outgrows its dictionary in
// the first row group.
type wideDict struct {
	ID     int64   `parquet:"id"`
	Reason string  `parquet:"reason,dict"`
	Code   *string `parquet:"code,optional,dict"`
}

// A dictionary column whose dictionary outgrows 1 MiB is dictionary
// encoded up to there and PLAIN to the end of its chunk, and the next row
// group starts a new dictionary; a file of three row groups reads back
// as written, by parquet-go's reader and its column index.
func TestDictionaryFallbackAndRowGroups(t *testing.T) {
	rg := pqfile.MaxRowsPerRowGroup
	n := 2*rg + rg/3 // two full row groups and a part
	rows := make([]wideDict, n)
	codes := []string{"A1", "B2", "C3"}
	for i := range rows {
		rows[i] = wideDict{ID: int64(i), Reason: "reason"}
		if i < min(rg, 50_000) {
			rows[i].Reason = "distinct reason " + strconv.Itoa(i) // 22+ bytes each: 1 MiB after ~40k rows
		}
		if i%4 != 0 {
			rows[i].Code = &codes[i%3]
		}
	}
	path := filepath.Join(t.TempDir(), "wide.parquet")
	writeInSplits(t, path, rows, []int{4096, 333})
	md := footer(t, path)
	if len(md.RowGroups) != 3 || md.RowGroups[0].NumRows != int64(rg) || md.RowGroups[2].NumRows != int64(n-2*rg) {
		t.Fatalf("row groups %d, want 3 of %d, %d and the rest", len(md.RowGroups), rg, rg)
	}
	pages := func(g, c int) map[format.PageType]map[format.Encoding]int32 {
		m := map[format.PageType]map[format.Encoding]int32{}
		for _, s := range md.RowGroups[g].Columns[c].MetaData.EncodingStats {
			if m[s.PageType] == nil {
				m[s.PageType] = map[format.Encoding]int32{}
			}
			m[s.PageType][s.Encoding] += s.Count
		}
		return m
	}
	first := pages(0, 1)
	if first[format.DictionaryPage][format.Plain] != 1 || first[format.DataPage][format.RLEDictionary] == 0 || first[format.DataPage][format.Plain] == 0 {
		t.Errorf("reason in row group 0: pages %v, want a dictionary, dictionary pages then PLAIN pages", first)
	}
	for g := 1; g < 3; g++ {
		if p := pages(g, 1); p[format.DataPage][format.Plain] != 0 || p[format.DictionaryPage][format.Plain] != 1 {
			t.Errorf("reason in row group %d: pages %v, want a new dictionary and no PLAIN page", g, p)
		}
		if p := pages(g, 2); p[format.DataPage][format.Plain] != 0 {
			t.Errorf("code in row group %d: pages %v, want dictionary pages only", g, p)
		}
	}
	if md.RowGroups[0].Columns[1].MetaData.DictionaryPageOffset >= md.RowGroups[0].Columns[1].MetaData.DataPageOffset {
		t.Error("the dictionary page is not before the data pages")
	}
	back, err := pqfile.ReadFile[wideDict](path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rows) {
		t.Fatal("rows read back differ from those written")
	}
	// The column and offset indexes bound every page of the ascending IDs
	// by its first and last rows.
	pf := openFile(t, path)
	var start int64
	for g, rg := range pf.RowGroups() {
		ci, err := rg.ColumnChunks()[0].ColumnIndex()
		if err != nil {
			t.Fatal(err)
		}
		oi, err := rg.ColumnChunks()[0].OffsetIndex()
		if err != nil {
			t.Fatal(err)
		}
		if ci.NumPages() != oi.NumPages() || ci.NumPages() < 2 {
			t.Fatalf("row group %d: %d pages in the column index, %d in the offset index", g, ci.NumPages(), oi.NumPages())
		}
		for p := 0; p < ci.NumPages(); p++ {
			last := rg.NumRows() - 1
			if p+1 < oi.NumPages() {
				last = oi.FirstRowIndex(p+1) - 1
			}
			lo, hi := ci.MinValue(p).Int64(), ci.MaxValue(p).Int64()
			if lo != start+oi.FirstRowIndex(p) || hi != start+last {
				t.Errorf("row group %d page %d: bounds [%d, %d], want [%d, %d]", g, p, lo, hi, start+oi.FirstRowIndex(p), start+last)
			}
		}
		start += rg.NumRows()
	}
}

// A file of no rows is a valid file of the schema with no row group, as
// parquet-go's writer writes it.
func TestNoRowsIsAnEmptyFile(t *testing.T) {
	dir := t.TempDir()
	got, want := filepath.Join(dir, "got.parquet"), filepath.Join(dir, "want.parquet")
	if err := pqfile.WriteFile[scoring.ScoreRow](got, nil); err != nil {
		t.Fatal(err)
	}
	if err := rowWriterFile[scoring.ScoreRow](want, nil); err != nil {
		t.Fatal(err)
	}
	md := footer(t, got)
	if md.NumRows != 0 || len(md.RowGroups) != 0 {
		t.Errorf("%d rows in %d row groups, want none", md.NumRows, len(md.RowGroups))
	}
	compareSchemas(t, md.Schema, footer(t, want).Schema)
	rows, err := pqfile.ReadFile[scoring.ScoreRow](got)
	if err != nil || len(rows) != 0 {
		t.Errorf("ReadFile = %d rows, %v; want none", len(rows), err)
	}
	var a, b bytes.Buffer
	if err := pqfile.DumpFile(&a, got); err != nil {
		t.Fatal(err)
	}
	if err := pqfile.DumpFile(&b, want); err != nil {
		t.Fatal(err)
	}
	if a.String() != b.String() {
		t.Errorf("Dump = %q, want %q", a.String(), b.String())
	}
}

type floats struct {
	F   float64  `parquet:"f"`
	G   float32  `parquet:"g"`
	NaN float64  `parquet:"nan"`
	P   *float64 `parquet:"p,optional"`
}

// NaN is never a bound: a column of NaNs and numbers is bounded by its
// numbers, a column of NaNs only has no bounds (and no column index); a
// zero bound is -0 below and +0 above; every value reads back bit for
// bit.
func TestFloatBounds(t *testing.T) {
	nan := math.NaN()
	negZero := math.Copysign(0, -1)
	rows := []floats{
		{F: nan, G: float32(nan), NaN: nan},
		{F: 0, G: 2.5, NaN: nan, P: &negZero},
		{F: -7.25, G: float32(negZero), NaN: nan},
		{F: nan, G: -1, NaN: nan, P: &nan},
	}
	path := filepath.Join(t.TempDir(), "floats.parquet")
	if err := pqfile.WriteFile(path, rows); err != nil {
		t.Fatal(err)
	}
	back, err := pqfile.ReadFile[floats](path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rows {
		if !sameBits(reflect.ValueOf(back[i]), reflect.ValueOf(rows[i])) {
			t.Errorf("row %d read back as %+v, want %+v", i, back[i], rows[i])
		}
	}
	cols := footer(t, path).RowGroups[0].Columns
	f64 := func(b []byte) float64 {
		return math.Float64frombits(uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
			uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56)
	}
	f32 := func(b []byte) float32 {
		return math.Float32frombits(uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24)
	}
	for _, tc := range []struct {
		col    int
		lo, hi float64
	}{
		{0, -7.25, 0},
		{1, -1, 2.5},
		{3, negZero, 0},
	} {
		st := cols[tc.col].MetaData.Statistics
		var lo, hi float64
		if tc.col == 1 {
			lo, hi = float64(f32(st.MinValue)), float64(f32(st.MaxValue))
		} else {
			lo, hi = f64(st.MinValue), f64(st.MaxValue)
		}
		if lo != tc.lo || hi != tc.hi || math.Signbit(hi) {
			t.Errorf("column %d: bounds [%v, %v], want [%v, %v]", tc.col, lo, hi, tc.lo, tc.hi)
		}
	}
	if st := cols[3].MetaData.Statistics; !math.Signbit(f64(st.MinValue)) || st.NullCount != 2 {
		t.Errorf("column p: min %v (want -0), %d NULLs (want 2)", f64(st.MinValue), st.NullCount)
	}
	if st := cols[2].MetaData.Statistics; st.MinValue != nil || st.MaxValue != nil {
		t.Errorf("column of NaNs bounded [%x, %x], want no bounds", st.MinValue, st.MaxValue)
	}
	if cols[2].ColumnIndexOffset != 0 || cols[0].ColumnIndexOffset == 0 {
		t.Errorf("column indexes at %d (NaNs) and %d, want none and one", cols[2].ColumnIndexOffset, cols[0].ColumnIndexOffset)
	}
}

// sameBits compares two rows field by field, floats by their bits and
// pointers by what they point at.
func sameBits(a, b reflect.Value) bool {
	for i := 0; i < a.NumField(); i++ {
		x, y := a.Field(i), b.Field(i)
		if x.Kind() == reflect.Pointer {
			if x.IsNil() != y.IsNil() {
				return false
			}
			if x.IsNil() {
				continue
			}
			x, y = x.Elem(), y.Elem()
		}
		switch x.Kind() {
		case reflect.Float64:
			if math.Float64bits(x.Float()) != math.Float64bits(y.Float()) {
				return false
			}
		case reflect.Float32:
			if math.Float32bits(float32(x.Float())) != math.Float32bits(float32(y.Float())) {
				return false
			}
		default:
			if !x.Equal(y) {
				return false
			}
		}
	}
	return true
}

// Random rows of every kind, NaNs among them, written in random splits,
// read back bit for bit, and two splits of the same rows give the same
// bytes.
func FuzzWriteRead(f *testing.F) {
	f.Add([]byte{0})
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add(bytes.Repeat([]byte{7, 200, 13}, 40))
	f.Add([]byte("a nullable dictionary column of NULLs only"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var seed uint64
		for _, b := range data {
			seed = seed*131 + uint64(b)
		}
		r := rand.New(rand.NewPCG(seed, uint64(len(data))))
		rows := randomRows[allKinds](r, r.IntN(1000))
		for i, b := range data {
			if len(rows) > 0 && b%5 == 0 {
				row := &rows[(i*7919)%len(rows)]
				row.F64, row.DF, row.F32 = math.NaN(), math.Float64frombits(0x7ff8000000000000|uint64(b)), float32(math.NaN())
			}
			if len(rows) > 0 && b%11 == 0 {
				rows[(i*104729)%len(rows)].PDS = nil
			}
		}
		splits := []int{1 + r.IntN(500)}
		for _, b := range data[:min(len(data), 6)] {
			splits = append(splits, 1+int(b)*13)
		}
		dir := t.TempDir()
		a, b := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet")
		writeInSplits(t, a, rows, splits)
		writeInSplits(t, b, rows, []int{len(rows) + 1})
		back, err := pqfile.ReadFile[allKinds](a)
		if err != nil {
			t.Fatal(err)
		}
		if len(back) != len(rows) {
			t.Fatalf("%d rows read back, want %d", len(back), len(rows))
		}
		for i := range rows {
			if !sameBits(reflect.ValueOf(back[i]), reflect.ValueOf(rows[i])) {
				t.Fatalf("row %d read back as %+v, want %+v", i, back[i], rows[i])
			}
		}
		ab, _ := os.ReadFile(a)
		bb, _ := os.ReadFile(b)
		if !bytes.Equal(ab, bb) {
			t.Errorf("writes of %v and of one call: %d and %d bytes, differ", splits, len(ab), len(bb))
		}
	})
}

// encodings is a row whose columns have the cardinalities the encoder
// tells apart: constant, few values, unique, and unique after a constant
// start.
type encodings struct {
	Zero    int64    `parquet:"zero"`
	Status  string   `parquet:"status"`
	Rate    *float64 `parquet:"rate,optional"`
	Grade   int32    `parquet:"grade"`
	ID      int64    `parquet:"id"`
	Key     string   `parquet:"key"`
	Score   float64  `parquet:"score"`
	Late    int64    `parquet:"late"`
	Flagged bool     `parquet:"flagged"`
}

// Every column but booleans is dictionary encoded unless its chunk's
// first page shows the dictionary does not pay: a constant column is a
// dictionary of one value and pages of a few bytes, a unique key or a
// continuous measure is PLAIN with no dictionary page, in every row
// group; a column constant at first and unique later keeps the
// dictionary its first page chose, and the next row group, unique from
// its first page, is PLAIN. The file reads back as written,
// through parquet-go and through the state's decoder, whole and in
// windows.
func TestEncodingsByCardinality(t *testing.T) {
	n := pqfile.MaxRowsPerRowGroup + 40_000 // a full row group and a part
	rows := make([]encodings, n)
	rate := 0.0195
	for i := range rows {
		rows[i] = encodings{
			Status: "open", Grade: int32(i % 7), ID: int64(1_000_000 + i),
			Key: "acct-" + strconv.Itoa(i*7919%n), Score: float64(i) / 3, Flagged: i%5 == 0,
		}
		if i%3 != 0 {
			rows[i].Rate = &rate
		}
		if i >= 10_000 {
			rows[i].Late = int64(i)
		}
	}
	path := filepath.Join(t.TempDir(), "enc.parquet")
	writeInSplits(t, path, rows, []int{5000, 77})
	md := footer(t, path)
	if len(md.RowGroups) != 2 {
		t.Fatalf("%d row groups, want 2", len(md.RowGroups))
	}
	type pages struct{ dict, dictData, plain int32 }
	stats := func(cc format.ColumnChunk) (p pages) {
		for _, s := range cc.MetaData.EncodingStats {
			switch {
			case s.PageType == format.DictionaryPage && s.Encoding == format.Plain:
				p.dict += s.Count
			case s.PageType == format.DataPage && s.Encoding == format.RLEDictionary:
				p.dictData += s.Count
			case s.PageType == format.DataPage && s.Encoding == format.Plain:
				p.plain += s.Count
			default:
				t.Errorf("column %s: %d %s pages of %s", cc.MetaData.PathInSchema[0], s.Count, s.PageType, s.Encoding)
			}
		}
		return p
	}
	for g, rg := range md.RowGroups {
		for _, cc := range rg.Columns {
			name, cm := cc.MetaData.PathInSchema[0], cc.MetaData
			p := stats(cc)
			hasDict := cm.DictionaryPageOffset != 0
			switch name {
			case "zero", "status", "rate", "grade":
				if p.dict != 1 || p.plain != 0 || p.dictData == 0 || !hasDict {
					t.Errorf("row group %d: %s pages %+v, want a dictionary and dictionary pages only", g, name, p)
				}
				if (name == "zero" || name == "status") && cm.TotalUncompressedSize > 64*int64(p.dictData+1) {
					t.Errorf("row group %d: constant column %s takes %d bytes in %d pages, want a few bytes a page", g, name, cm.TotalUncompressedSize, p.dictData)
				}
			case "id", "key", "score", "flagged":
				if p.dict != 0 || p.dictData != 0 || p.plain == 0 || hasDict {
					t.Errorf("row group %d: %s pages %+v, want PLAIN pages only", g, name, p)
				}
			case "late":
				// A row group of at most 64Ki rows stays within the
				// dictionary's bounds of 64Ki entries and 1 MiB of 8-byte
				// values: the first page decides (strings reach the bound
				// in TestDictionaryFallbackAndRowGroups).
				if g == 0 && (p.dict != 1 || p.plain != 0 || p.dictData == 0) {
					t.Errorf("row group 0: late pages %+v, want a dictionary and dictionary pages only", p)
				}
				if g == 1 && (p.dict != 0 || p.dictData != 0) {
					t.Errorf("row group 1: late pages %+v, want PLAIN pages only", p)
				}
			}
		}
	}
	back, err := pqfile.ReadFile[encodings](path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, rows) {
		t.Fatal("rows read back differ from those written")
	}
	for _, window := range []int{0, 4 << 10} {
		for c, name := range map[int]string{0: "zero", 4: "id", 7: "late"} {
			got := readInt64s(t, path, c, window)
			for i, v := range got {
				want := rows[i].ID
				switch name {
				case "zero":
					want = rows[i].Zero
				case "late":
					want = rows[i].Late
				}
				if v != want {
					t.Fatalf("window %d: %s of row %d is %d, want %d", window, name, i, v, want)
				}
			}
		}
	}
}

// readInt64s reads column c, of INT64 values, of every row group of the
// file at path through the state's decoder, in windows of window bytes.
func readInt64s(t *testing.T, path string, c, window int) []int64 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []int64
	ch := pqfile.Chunk{Window: window}
	buf := make([]int64, 1000)
	for _, rg := range footer(t, path).RowGroups {
		if err := ch.Open(f, &rg.Columns[c], false); err != nil {
			t.Fatal(err)
		}
		for ch.Left() > 0 {
			k, err := ch.ReadInt64s(buf, nil)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, buf[:k]...)
		}
	}
	return got
}
