package pipeline_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/creditrun/creditrun/pipeline"
)

// benchAccounts sizes the nightly benchmarks: CREDITRUN_BENCH_ACCOUNTS
// (default 20000, the demo's book).
func benchAccounts() int {
	if n, err := strconv.Atoi(os.Getenv("CREDITRUN_BENCH_ACCOUNTS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

// BenchmarkBackfill folds 10 days of a generated book, publishing each day:
// the read → group → step → write path, end to end.
func BenchmarkBackfill(b *testing.B) {
	const days = 10
	n := benchAccounts()
	events := genBook(b, n, days)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := b.TempDir()
		if _, err := pipeline.Backfill(context.Background(), firstRun(events, out), bookStart, bookStart+days-1, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*days*b.N)/b.Elapsed().Seconds(), "account-days/s")
}
