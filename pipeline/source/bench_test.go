package source

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
)

// benchDataset writes a Hive dataset of three UTC-cut partitions around
// testDay, perPart transactions each, as a nightly run finds it.
func benchDataset(b *testing.B, perPart int) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "transactions")
	opts := []int64{1, 3, 6, 12, 24}
	cats := []string{"grocery", "travel", "dining", "electronics", "fashion", "utilities"}
	for p, day := range []int{29, 1, 2} { // 2024-02-29, 03-01, 03-02 UTC
		month := 3
		if day == 29 {
			month = 2
		}
		start := micro(2024, time.Month(month), day, 0, 0, 0)
		tb := table{cols: txnCols}
		for i := range perPart {
			n := p*perPart + i
			row := []any{fmt.Sprintf("T%09d", n), int64(n*7919%1_000_000 + 1), start + int64(i)*(microsPerDay/int64(perPart)),
				"purchase", int64(1000 + n%500000), opts[n%5], int64(n % 4 * 2500), cats[n%len(cats)], nil}
			if n%10 == 9 {
				row[3], row[5], row[6], row[8] = "refund", nil, nil, fmt.Sprintf("T%09d", n-1)
			}
			tb.rows = append(tb.rows, row)
		}
		dt := fmt.Sprintf("dt=2024-%02d-%02d", month, day)
		writeParquet(b, filepath.Join(dir, dt, "part-00000.snappy.parquet"), tb, canonicalTxnForms(), 128<<10,
			parquet.WithCompression(compress.Codecs.Snappy), parquet.WithDictionaryDefault(true))
	}
	return dir
}

// benchDay returns the files of benchDataset's three partitions (200k
// transactions each) that the run for testDay reads.
func benchDay(b *testing.B) []File {
	b.Helper()
	files, err := List(benchDataset(b, 200_000))
	if err != nil {
		b.Fatal(err)
	}
	return ForDay(files, testDay)
}

// BenchmarkReadTransactions reads the day's transactions (about 200k) out
// of three partitions (600k rows), as the run for testDay does.
func BenchmarkReadTransactions(b *testing.B) {
	files := benchDay(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var kept int
	for b.Loop() {
		txns, _, err := ReadTransactions(ctx, files, testDay, shanghai)
		if err != nil {
			b.Fatal(err)
		}
		kept = len(txns)
	}
	b.StopTimer()
	perOp := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(kept), "kept/op")
	b.ReportMetric(float64(kept)/perOp, "kept_rows/s")
	b.ReportMetric(float64(600_000)/perOp, "scanned_rows/s")
}

// BenchmarkReadAccounts reads an initial master of 250k accounts.
func BenchmarkReadAccounts(b *testing.B) {
	const n = 250_000
	tb := table{cols: acctCols}
	statuses := []string{"active", "active", "active", "frozen", "pending", "closed"}
	for i := range n {
		st := statuses[i%len(statuses)]
		var limit any = int64(i % 50 * 100000)
		if st == "pending" {
			limit = nil
		}
		tb.rows = append(tb.rows, []any{int64(i + 1), fmt.Sprintf("C%08d", i), int64(19000 + i%700), st, limit, int64(1 + i%28), int64(300 + i%550), i%97 == 0})
	}
	path := filepath.Join(b.TempDir(), "accounts.parquet")
	writeParquet(b, path, tb, acctForms(), 256<<10, parquet.WithCompression(compress.Codecs.Snappy))
	tb.rows = nil
	files, err := List(path)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		accts, _, err := ReadAccounts(context.Background(), files)
		if err != nil || len(accts) != n {
			b.Fatal(len(accts), err)
		}
	}
	b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "rows/s")
}

// BenchmarkReadTransactionsShard reads the day's transactions of
// BenchmarkReadTransactions as the whole book's night does and as one
// shard of 2 and of 4 does (Rules.Owns): what each process of a sharded
// night spends on them.
func BenchmarkReadTransactionsShard(b *testing.B) {
	files := benchDay(b)
	ctx := context.Background()
	for _, n := range []int64{1, 2, 4} {
		b.Run(fmt.Sprintf("1-of-%d", n), func(b *testing.B) {
			rules := shanghai
			if n > 1 {
				rules.Owns = func(a int64) bool { return a%n == 0 }
				rules.Unowned = true
			}
			b.ReportAllocs()
			var kept int
			for b.Loop() {
				txns, _, err := ReadTransactions(ctx, files, testDay, rules)
				if err != nil {
					b.Fatal(err)
				}
				kept = len(txns)
			}
			b.ReportMetric(float64(kept), "kept/op")
		})
	}
}
