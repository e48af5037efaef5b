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
func footer(t *testing.T, path string) *format.FileMetaData {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return pf.Metadata()
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
			back, err := pqfile.ReadFile[scoring.ScoreRow](path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, rows) {
				t.Fatalf("%d rows read back, want %d, or they differ", len(back), len(rows))
			}
			if rgs := len(footer(t, path).RowGroups); n > 256<<10 && rgs != 2 {
				t.Errorf("%d row groups, want 2", rgs)
			}
		} else if !bytes.Equal(b, ref) {
			t.Errorf("writes of %v: %d bytes, differ from writes of 4096 (%d bytes)", sizes, len(b), len(ref))
		}
	}
}
