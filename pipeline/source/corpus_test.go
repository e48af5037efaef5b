package source

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"

	"github.com/creditrun/creditrun/billing"
)

var (
	shanghaiZone = mustLoad("Asia/Shanghai")
	// shanghai are the rules of the default policy: business dates in
	// Asia/Shanghai.
	shanghai = defaultRules()
	testDay  = billing.NewDate(2024, 3, 1)
)

func defaultRules() Rules {
	cfg := billing.DefaultConfig()
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return RulesFrom(&cfg)
}

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

var txnCols = []string{"txn_id", "account_id", "posted_at", "kind", "amount", "installments", "fee_rate", "merchant_category", "ref_txn_id"}

// txnCorpus returns 400 transactions over four days around testDay (local
// dates Feb 28 to Mar 3 in Shanghai, 2024 being a leap year), with one bad
// row of each kind on testDay, and the reject reason expected per row.
func txnCorpus() (table, []string) {
	tb := table{cols: txnCols}
	want := make([]string, 400)
	opts := []int64{1, 3, 6, 12, 24}
	base := micro(2024, 2, 28, 0, 0, 0)
	for i := range 400 {
		id := fmt.Sprintf("t%04d", i)
		ts := base + int64(i)*864_000_000 + int64(i%1000)*1000
		row := []any{id, int64(1 + i*7%23), ts, "purchase", int64(100 + i*37), opts[i%5], int64(i % 4 * 2500), nil, nil}
		if i%3 != 0 {
			row[7] = []string{"grocery", "travel"}[i%2]
		}
		if i%5 == 3 {
			row[3], row[5], row[6], row[8] = "refund", nil, nil, fmt.Sprintf("t%04d", i-1)
		}
		switch i {
		case 170:
			row[4], want[i] = int64(0), ReasonNonPositiveAmount
		case 180:
			row[3], want[i] = "bogus", ReasonInvalidKind
		case 190:
			row[0], want[i] = nil, ReasonNullRequired
		case 200:
			row[5], want[i] = int64(5), ReasonInvalidInstallments
		case 210:
			row[3], row[5], row[6], want[i] = "refund", nil, nil, ReasonMissingRef
		case 220:
			row[0], want[i] = "t0219", ReasonDuplicateID
		case 230:
			row[6], want[i] = int64(-1000), ReasonInvalidFeeRate
		case 240:
			row[2], want[i] = nil, ReasonNullRequired
		case 250:
			row[1], want[i] = nil, ReasonNullRequired
		case 260:
			row[6], want[i] = nil, ReasonInvalidFeeRate
		}
		tb.rows = append(tb.rows, row)
	}
	return tb, want
}

// expectTransactions is the oracle: what ReadTransactions must return for
// the corpus read from one unpartitioned file with index fileIndex.
func expectTransactions(tb table, want []string, day billing.Date, loc *time.Location, fileIndex int32) ([]billing.Transaction, []string) {
	var txns []billing.Transaction
	var reasons []string
	for i, r := range tb.rows {
		if r[2] == nil {
			reasons = append(reasons, want[i])
			continue
		}
		if billing.LocalDate(r[2].(int64), loc) != day {
			continue
		}
		if want[i] != "" {
			reasons = append(reasons, want[i])
			continue
		}
		t := billing.Transaction{
			TxnID: r[0].(string), AccountID: r[1].(int64), PostedAt: r[2].(int64),
			Amount: billing.Money(r[4].(int64)), Src: billing.Source{File: fileIndex, Row: int64(i)},
		}
		if r[3] == "purchase" {
			t.Kind, t.Installments, t.FeeRate = billing.Purchase, int32(r[5].(int64)), billing.Rate(r[6].(int64))
		} else {
			t.Kind, t.RefTxnID = billing.Refund, r[8].(string)
		}
		if r[7] != nil {
			t.MerchantCategory = r[7].(string)
		}
		txns = append(txns, t)
	}
	slices.SortFunc(txns, func(a, b billing.Transaction) int {
		return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.PostedAt, b.PostedAt), strings.Compare(a.TxnID, b.TxnID))
	})
	return txns, reasons
}

func canonicalTxnForms() map[string]form {
	return map[string]form{
		"txn_id": strForm(), "account_id": i64Form(), "posted_at": tsForm(micros), "kind": strForm(),
		"amount":            decForm(parquet.Types.Int64, 18, 2, 0, 1),
		"installments":      i32Form(),
		"fee_rate":          decForm(parquet.Types.Int32, 9, 6, 0, 1),
		"merchant_category": strForm(), "ref_txn_id": strForm(),
	}
}

func withForms(over map[string]form) map[string]form {
	f := canonicalTxnForms()
	for k, v := range over {
		f[k] = v
	}
	return f
}

func reasonsOf(rejects []Reject) []string {
	out := make([]string, len(rejects))
	for i, r := range rejects {
		out[i] = r.Reason
	}
	return out
}

// TestWriterCorpus writes the same logical transactions in every physical
// form the readers accept, through arrow-go's low-level writer and through
// pqarrow, and checks that each reads exactly as the oracle says.
func TestWriterCorpus(t *testing.T) {
	tb, want := txnCorpus()
	wantTxns, wantReasons := expectTransactions(tb, want, testDay, shanghaiZone, 0)
	if len(wantTxns) < 80 || len(wantReasons) != 10 {
		t.Fatalf("corpus: %d transactions, %d rejects on the day; want ≥ 80 and 10", len(wantTxns), len(wantReasons))
	}
	flbaT, i64T := parquet.Types.FixedLenByteArray, parquet.Types.Int64
	flba := func(n int) form { return decForm(parquet.Types.FixedLenByteArray, 18, 2, n, 1) }
	type variant struct {
		name  string
		write func(t *testing.T, path string)
	}
	low := func(name string, over map[string]form, rowGroup int, opts ...parquet.WriterProperty) variant {
		return variant{name, func(t *testing.T, path string) { writeParquet(t, path, tb, withForms(over), rowGroup, opts...) }}
	}
	// arr writes through pqarrow and checks the physical types it chose.
	arr := func(name string, amount, postedAt parquet.Type, chunk int64, props []parquet.WriterProperty, aprops ...pqarrow.WriterOption) variant {
		return variant{name, func(t *testing.T, path string) {
			writeArrow(t, path, tb, transactions.cols, chunk, props, aprops...)
			r, err := file.OpenParquetFile(path, false)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			sch := r.MetaData().Schema
			for col, want := range map[string]parquet.Type{"amount": amount, "posted_at": postedAt} {
				if got := sch.Column(sch.ColumnIndexByName(col)).PhysicalType(); got != want {
					t.Fatalf("pqarrow wrote %s as %s, want %s", col, got, want)
				}
			}
		}}
	}
	variants := []variant{
		low("canonical", nil, 0),
		low("money INT32 DECIMAL(9,2)", map[string]form{"amount": decForm(parquet.Types.Int32, 9, 2, 0, 1)}, 0),
		low("money FIXED_LEN_BYTE_ARRAY(8)", map[string]form{"amount": flba(8)}, 0),
		low("money FIXED_LEN_BYTE_ARRAY(16)", map[string]form{"amount": flba(16)}, 0),
		low("money FIXED_LEN_BYTE_ARRAY(3)", map[string]form{"amount": decForm(parquet.Types.FixedLenByteArray, 6, 2, 3, 1)}, 0),
		low("money BYTE_ARRAY", map[string]form{"amount": decForm(parquet.Types.ByteArray, 18, 2, 0, 1)}, 0),
		low("money DECIMAL(38,2) FIXED_LEN_BYTE_ARRAY(16)", map[string]form{"amount": decForm(parquet.Types.FixedLenByteArray, 38, 2, 16, 1)}, 0),
		low("rate INT64 DECIMAL(18,6)", map[string]form{"fee_rate": decForm(parquet.Types.Int64, 18, 6, 0, 1)}, 0),
		low("rate FIXED_LEN_BYTE_ARRAY(4)", map[string]form{"fee_rate": decForm(parquet.Types.FixedLenByteArray, 9, 6, 4, 1)}, 0),
		low("rate BYTE_ARRAY", map[string]form{"fee_rate": decForm(parquet.Types.ByteArray, 9, 6, 0, 1)}, 0),
		low("rate DECIMAL(9,4)", map[string]form{"fee_rate": decForm(parquet.Types.Int32, 9, 4, 0, 100)}, 0),
		low("timestamp millis", map[string]form{"posted_at": tsForm(millis)}, 0),
		low("timestamp nanos", map[string]form{"posted_at": tsForm(nanos)}, 0),
		low("timestamp INT96", map[string]form{"posted_at": tsForm(int96)}, 0),
		low("timestamp local (not adjusted to UTC)", map[string]form{"posted_at": {phys: parquet.Types.Int64, lt: schema.NewTimestampLogicalType(false, schema.TimeUnitMicros), isTS: true}}, 0),
		low("installments INT64", map[string]form{"installments": i64Form()}, 0),
		low("account_id INT32", map[string]form{"account_id": i32Form()}, 0),
		low("account_id DECIMAL(18,0)", map[string]form{"account_id": decForm(parquet.Types.Int64, 18, 0, 0, 1)}, 0),
		low("strings plain BYTE_ARRAY and ENUM", map[string]form{"txn_id": rawForm(), "kind": enumForm(), "merchant_category": rawForm()}, 0),
		low("dictionary, 7-row groups", nil, 7, parquet.WithDictionaryDefault(true)),
		low("plain, small pages, snappy", nil, 64, parquet.WithDictionaryDefault(false), parquet.WithDataPageSize(256), parquet.WithCompression(compress.Codecs.Snappy)),
		low("data page v2, zstd, dictionary", nil, 100, parquet.WithDataPageVersion(parquet.DataPageV2), parquet.WithCompression(compress.Codecs.Zstd), parquet.WithDictionaryDefault(true)),
		arr("pqarrow default (decimal FIXED_LEN_BYTE_ARRAY)", flbaT, i64T, 1<<20, nil),
		arr("pqarrow decimals as integers, 50-row groups", i64T, i64T, 50, []parquet.WriterProperty{parquet.WithStoreDecimalAsInteger(true)}),
		arr("pqarrow INT96", flbaT, parquet.Types.Int96, 1<<20, nil, pqarrow.WithDeprecatedInt96Timestamps(true), pqarrow.WithCoerceTimestamps(arrow.Nanosecond)),
		arr("pqarrow millis, no dictionary", flbaT, i64T, 33, []parquet.WriterProperty{parquet.WithDictionaryDefault(false)}, pqarrow.WithCoerceTimestamps(arrow.Millisecond)),
		arr("pqarrow nanos, gzip", flbaT, i64T, 1<<20, []parquet.WriterProperty{parquet.WithCompression(compress.Codecs.Gzip), parquet.WithVersion(parquet.V2_LATEST)}, pqarrow.WithCoerceTimestamps(arrow.Nanosecond)),
	}
	dir := t.TempDir()
	for i, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprintf("v%02d.parquet", i))
			v.write(t, path)
			files, err := List(path)
			if err != nil {
				t.Fatal(err)
			}
			rules := shanghai
			if strings.Contains(v.name, "not adjusted to UTC") {
				// Wall times of UTC: refused until the policy names the zone.
				var se *SchemaError
				if _, _, err := ReadTransactions(context.Background(), files, testDay, rules); !errors.As(err, &se) ||
					!strings.Contains(se.Error(), "timestamp without time zone; set billing.local_timestamps_zone") {
					t.Fatalf("ReadTransactions(local timestamps, no zone) error = %v, want a *SchemaError naming local_timestamps_zone", err)
				}
				rules.LocalTimestamps = time.UTC
			}
			got, rejects, err := ReadTransactions(context.Background(), files, testDay, rules)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, wantTxns) {
				t.Errorf("ReadTransactions: %d transactions, want %d", len(got), len(wantTxns))
				for j := range min(len(got), len(wantTxns)) {
					if !reflect.DeepEqual(got[j], wantTxns[j]) {
						t.Fatalf("first difference at %d:\n got %+v\nwant %+v", j, got[j], wantTxns[j])
					}
				}
			}
			if r := reasonsOf(rejects); !slices.Equal(r, wantReasons) {
				t.Errorf("reject reasons = %v, want %v", r, wantReasons)
			}
		})
	}
}

// TestHiveDataset partitions the corpus by UTC date, as upstream may, and
// checks that the run for each day reads the same events as from one file.
func TestHiveDataset(t *testing.T) {
	tb, _ := txnCorpus()
	dir := t.TempDir()
	single := filepath.Join(dir, "single.parquet")
	writeParquet(t, single, tb, canonicalTxnForms(), 0)
	hive := filepath.Join(dir, "transactions")
	parts := map[string]table{}
	for _, r := range tb.rows {
		dt := testDay.String() // rows without a timestamp go to the run's partition
		if r[2] != nil {
			dt = billing.Date(floorDiv(r[2].(int64), microsPerDay)).String()
		}
		p := parts[dt]
		p.cols = tb.cols
		p.rows = append(p.rows, r)
		parts[dt] = p
	}
	for dt, p := range parts {
		// two files per partition, nested one level deeper for one of them
		half := len(p.rows) / 2
		writeParquet(t, filepath.Join(hive, "dt="+dt, "part-00000.parquet"), table{p.cols, p.rows[:half]}, canonicalTxnForms(), 10)
		writeParquet(t, filepath.Join(hive, "dt="+dt, "hour=00", "part-00001.snappy.parquet"), table{p.cols, p.rows[half:]}, canonicalTxnForms(), 0,
			parquet.WithCompression(compress.Codecs.Snappy))
	}
	writeFile(t, filepath.Join(hive, "_SUCCESS"), "")
	writeFile(t, filepath.Join(hive, "dt="+testDay.String(), ".part-00000.parquet.crc"), "crc")
	all, err := List(hive)
	if err != nil {
		t.Fatal(err)
	}
	if err := Checksum(all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 2*len(parts) {
		t.Fatalf("List: %d files, want %d", len(all), 2*len(parts))
	}
	for i, f := range all {
		if f.Index != int32(i) || f.Dt == 0 || len(f.SHA256) != 64 || f.Size == 0 {
			t.Errorf("List()[%d] = %+v", i, f)
		}
		if i > 0 && (f.Dt < all[i-1].Dt || f.Dt == all[i-1].Dt && f.Path < all[i-1].Path) {
			t.Errorf("List not sorted at %d", i)
		}
	}
	ctx := context.Background()
	for _, day := range []billing.Date{testDay - 1, testDay, testDay + 1, testDay + 2} {
		files := ForDay(all, day)
		for _, f := range files {
			if f.Dt < day-1 || f.Dt > day+1 {
				t.Errorf("ForDay(%s) kept dt=%s", day, f.Dt)
			}
		}
		sf, _ := List(single)
		wantTxns, _, err := ReadTransactions(ctx, sf, day, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := ReadTransactions(ctx, files, day, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(wantTxns) {
			t.Fatalf("day %s: %d transactions from the Hive dataset, %d from one file", day, len(got), len(wantTxns))
		}
		for i := range got {
			if got[i].Src.File < 0 || int(got[i].Src.File) >= len(all) || !strings.Contains(all[got[i].Src.File].Path, "dt=") {
				t.Errorf("day %s: Src %+v", day, got[i].Src)
			}
			g, w := got[i], wantTxns[i]
			g.Src, w.Src = billing.Source{}, billing.Source{}
			if g != w {
				t.Fatalf("day %s: transaction %d = %+v, want %+v", day, i, g, w)
			}
		}
	}
}

// TestOutsidePartition: an event filed under a dt= more than a day away from
// its local date is rejected by the run for that partition only.
func TestOutsidePartition(t *testing.T) {
	dir := t.TempDir()
	tb := table{cols: txnCols, rows: [][]any{
		{"a", int64(1), micro(2024, 3, 1, 2, 0, 0), "purchase", int64(100), int64(1), int64(0), nil, nil},
		{"far", int64(1), micro(2024, 3, 9, 2, 0, 0), "purchase", int64(100), int64(1), int64(0), nil, nil},
		{"when", int64(1), nil, "purchase", int64(100), int64(1), int64(0), nil, nil},
	}}
	writeParquet(t, filepath.Join(dir, "dt=2024-03-01", "p.parquet"), tb, canonicalTxnForms(), 0)
	files, err := List(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got, rejects, err := ReadTransactions(ctx, ForDay(files, testDay), testDay, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].TxnID != "a" {
		t.Errorf("ReadTransactions(%s) = %+v", testDay, got)
	}
	if len(rejects) != 2 || rejects[0].Reason != ReasonOutsidePartition || rejects[0].Key != "far" || rejects[0].Row != 1 ||
		rejects[1].Reason != ReasonNullRequired || rejects[1].Detail != "posted_at" || rejects[1].Key != "when" {
		t.Errorf("rejects = %+v, want outside_partition of row 1, null_required posted_at of row 2", rejects)
	}
	// The run for the next day reads dt=2024-03-01 too, but does not own it.
	_, rejects, err = ReadTransactions(ctx, ForDay(files, testDay+1), testDay+1, shanghai)
	if err != nil || len(rejects) != 0 {
		t.Errorf("ReadTransactions(next day) rejects = %+v, %v; want none", rejects, err)
	}
	// Nor does the run for the event's own date.
	got, rejects, err = ReadTransactions(ctx, files, billing.NewDate(2024, 3, 9), shanghai)
	if err != nil || len(got) != 0 || len(rejects) != 0 {
		t.Errorf("ReadTransactions(2024-03-09) = %+v, %+v, %v; want nothing", got, rejects, err)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRequiredAndCoarseForms: REQUIRED columns, money with fewer decimals
// than the contract (converted exactly), and unsigned integers.
func TestRequiredAndCoarseForms(t *testing.T) {
	tb := table{cols: txnCols, rows: [][]any{
		{"a", int64(1), dayTS, "purchase", int64(12300), int64(3), int64(5000), "x", ""},
		{"b", int64(2), dayTS + 1000, "refund", int64(500), int64(0), int64(0), "", "a"},
	}}
	req := func(f form) form { f.required = true; return f }
	forms := map[string]form{
		"txn_id": req(strForm()), "account_id": req(form{phys: parquet.Types.Int32, lt: schema.NewIntLogicalType(32, false)}),
		"posted_at": req(tsForm(millis)), "kind": req(strForm()),
		"amount":            req(decForm(parquet.Types.Int64, 18, 0, 0, 100)),
		"installments":      req(form{phys: parquet.Types.Int32, lt: schema.NewIntLogicalType(8, false)}),
		"fee_rate":          req(decForm(parquet.Types.Int32, 9, 3, 0, 1000)),
		"merchant_category": req(strForm()), "ref_txn_id": req(strForm()),
	}
	path := filepath.Join(t.TempDir(), "required.parquet")
	writeParquet(t, path, tb, forms, 0)
	files, err := List(path)
	if err != nil {
		t.Fatal(err)
	}
	got, rejects, err := ReadTransactions(context.Background(), files, testDay, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	// b is a refund whose installments column holds 0, not null: REQUIRED
	// columns cannot say null, so the rule rejects it.
	if len(got) != 1 || len(rejects) != 1 || rejects[0].Reason != ReasonInvalidInstallments {
		t.Fatalf("ReadTransactions = %+v, rejects %+v", got, rejects)
	}
	want := billing.Transaction{TxnID: "a", AccountID: 1, PostedAt: dayTS, Kind: billing.Purchase, Amount: 12300, Installments: 3, FeeRate: 5000, MerchantCategory: "x"}
	if got[0] != want {
		t.Errorf("transaction = %+v, want %+v", got[0], want)
	}
}

func TestConvertTimestamps(t *testing.T) {
	nanosB := binding{phys: parquet.Types.Int64, kind: kTimestamp, mul: 1, div: 1000}
	millisB := binding{phys: parquet.Types.Int64, kind: kTimestamp, mul: 1000, div: 1}
	s := newScratch()
	for _, c := range []struct {
		b    binding
		in   int64
		want int64
		ok   bool
	}{
		{nanosB, 1_999, 1, true},
		{nanosB, -1, -1, true}, // floor: 1 ns before the epoch is in the microsecond before it
		{nanosB, -1_000, -1, true},
		{millisB, -3, -3000, true},
		{millisB, math.MaxInt64 / 100, 0, false},
	} {
		s.i64[0] = c.in
		got, ok := convert(&c.b, s, 0)
		if got != c.want || ok != c.ok {
			t.Errorf("convert(%d, mul %d div %d) = %d, %v, want %d, %v", c.in, c.b.mul, c.b.div, got, ok, c.want, c.ok)
		}
	}
}

func TestCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.parquet")
	tb, _ := txnCorpus()
	writeParquet(t, path, tb, canonicalTxnForms(), 10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := ReadTransactions(ctx, []File{{Path: path}}, testDay, shanghai); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadTransactions(canceled) error = %v, want context.Canceled", err)
	}
}
