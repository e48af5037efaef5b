package storage_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/storage"
)

// benchMB is the size of the benchmarks' files: STORAGE_BENCH_MB, 16 by
// default (CI runs each benchmark once; go to 100 by hand).
func benchMB(b *testing.B) int {
	if v := os.Getenv("STORAGE_BENCH_MB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("STORAGE_BENCH_MB=%q is not a positive number", v)
		}
		return n
	}
	return 16
}

// BenchmarkWrite streams a file of benchMB through Create and Close: an
// fsynced local file, or a multipart upload to versitygw on loopback.
func BenchmarkWrite(b *testing.B) {
	ctx := context.Background()
	size := benchMB(b) << 20
	chunk := randomBytes(8, 1<<20)
	for _, s := range stores {
		if !s.real {
			continue
		}
		b.Run(s.name, func(b *testing.B) {
			r := s.open(b, storage.DefaultOptions())
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				w, err := r.Create(ctx, "bench.bin")
				if err != nil {
					b.Fatal(err)
				}
				for range size / len(chunk) {
					if _, err := w.Write(chunk); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkReadColumns reads 2 of the 10 columns of a Parquet file of
// about benchMB and reports the share of its bytes fetched.
func BenchmarkReadColumns(b *testing.B) {
	ctx := context.Background()
	rows := benchMB(b) << 20 / 80
	for _, s := range stores {
		if !s.real {
			continue
		}
		b.Run(s.name, func(b *testing.B) {
			r := s.open(b, storage.DefaultOptions())
			w, err := r.Create(ctx, "wide.parquet")
			if err != nil {
				b.Fatal(err)
			}
			writeWide(b, w, rows, 64<<10)
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			for _, c := range []struct {
				name string
				opts []parquet.FileOption
			}{
				{"buffer=4KiB", nil},
				{"buffer=1MiB", []parquet.FileOption{parquet.ReadBufferSize(1 << 20), parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true)}},
			} {
				b.Run(c.name, func(b *testing.B) {
					var fetched, requests, size int64
					for b.Loop() {
						f, err := r.Open(ctx, "wide.parquet")
						if err != nil {
							b.Fatal(err)
						}
						sumColumns(b, f, c.opts, "account", "balance")
						requests, fetched = f.Fetched()
						size = f.Size()
						f.Close()
					}
					b.SetBytes(fetched)
					b.ReportMetric(float64(size)/(1<<20), "file-MiB")
					b.ReportMetric(float64(fetched)/(1<<20), "fetched-MiB")
					b.ReportMetric(float64(requests), "requests")
				})
			}
		})
	}
}
