package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
)

// badTxn is a transactions row as an upstream writer would store it.
type badTxn struct {
	TxnID            string  `parquet:"txn_id"`
	AccountID        int64   `parquet:"account_id"`
	PostedAt         int64   `parquet:"posted_at,timestamp(microsecond:utc)"`
	Kind             string  `parquet:"kind"`
	Amount           int64   `parquet:"amount,decimal(2:18)"`
	Installments     *int32  `parquet:"installments,optional"`
	FeeRate          *int32  `parquet:"fee_rate,decimal(6:9),optional"`
	MerchantCategory *string `parquet:"merchant_category,optional"`
	RefTxnID         *string `parquet:"ref_txn_id,optional"`
}

// writeBadTransactions adds to the night's transactions partition a file
// of n purchases of known accounts whose amount is beyond DECIMAL(18,2):
// every row a reject.
func writeBadTransactions(t *testing.T, events string, day billing.Date, n int) string {
	return writePurchases(t, events, day, "part-bad.parquet", n, func(i int) (string, int64, int64) {
		return fmt.Sprintf("bad-%07d", i), int64(1 + i%5000), 1_000_000_000_000_000_000 + int64(i)
	})
}

// writePurchases adds to the night's transactions partition a file name
// of n purchases at noon in Shanghai in 3 periods, row i's txn_id, account
// and amount (fen) given by row.
func writePurchases(t *testing.T, events string, day billing.Date, name string, n int, row func(i int) (string, int64, int64)) string {
	t.Helper()
	path := filepath.Join(events, "transactions", "dt="+day.String(), name)
	w, err := pqfile.Create[badTxn](path)
	if err != nil {
		t.Fatal(err)
	}
	noon := time.Date(2025, 1, 1, 4, 0, 0, 0, time.UTC).UnixMicro() // noon in Shanghai
	three, rate := int32(3), int32(0)
	batch := make([]badTxn, 0, 4096)
	for i := range n {
		id, account, amount := row(i)
		batch = append(batch, badTxn{TxnID: id, AccountID: account, PostedAt: noon + int64(i),
			Kind: "purchase", Amount: amount, Installments: &three, FeeRate: &rate})
		if len(batch) == cap(batch) || i == n-1 {
			if err := w.Write(batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// heapPeak runs f and returns the high-water mark of the heap's objects
// (live and not yet swept) while it ran, sampled every millisecond.
func heapPeak(f func()) uint64 {
	runtime.GC()
	runtime.GC() // and the pools' victims
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done, peak := make(chan struct{}), make(chan uint64)
	go func() { // ends when done is closed, after sending the peak
		var hi uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			hi = max(hi, s[0].Value.Uint64())
			select {
			case <-done:
				peak <- hi
				return
			case <-tick.C:
			}
		}
	}()
	f()
	close(done)
	return <-peak
}

// TestMillionRejectsMemory runs the first night of a 5,000-account book
// alone, then with a million rejected transactions beside its own, refused
// for them and published (the threshold raised): rejects are spooled to
// disk and the input decoded a chunk at a time, so that the night's heap
// stays within a small multiple of the night without them (holding the
// rejected rows, or the file's row group, costs ten times as much).
func TestMillionRejectsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a million rejected rows: skipped with -short")
	}
	const accounts, bad = 5000, 1_000_000
	events := genBook(t, accounts, 1)
	run := func(maxRatio float64) (*pipeline.Manifest, string, error) {
		o := firstRun(events, t.TempDir())
		o.Workers, o.BucketSize = pipeline.DefaultOptions().Workers, pipeline.DefaultOptions().BucketSize
		o.MaxRejectRatio = maxRatio
		m, err := pipeline.Run(context.Background(), o, bookStart)
		return m, o.Out, err
	}
	var err error
	base := heapPeak(func() { _, _, err = run(pipeline.DefaultOptions().MaxRejectRatio) })
	if err != nil {
		t.Fatal(err)
	}
	path := writeBadTransactions(t, events, bookStart, bad)

	var out string
	refused := heapPeak(func() { _, out, err = run(pipeline.DefaultOptions().MaxRejectRatio) })
	if !errors.Is(err, pipeline.ErrTooManyRejects) {
		t.Fatalf("night with %d rejects: %v, want %v", bad, err, pipeline.ErrTooManyRejects)
	}
	refusedTable := filepath.Join(pipeline.RejectedDir(out, bookStart), pipeline.TableRejects+".parquet")
	rows, rerr := pqfile.ReadFile[source.Reject](refusedTable)
	if rerr != nil {
		t.Fatal(rerr)
	}
	checkBadRejects(t, rows, path, bad)
	rows = nil

	var m *pipeline.Manifest
	published := heapPeak(func() { m, out, err = run(1) })
	if err != nil {
		t.Fatal(err)
	}
	if m.Rejects[source.ReasonOutOfRange] != bad || m.Rows[pipeline.TableRejects] != bad {
		t.Errorf("manifest rejects %v, %d rows; want %d %s", m.Rejects, m.Rows[pipeline.TableRejects], bad, source.ReasonOutOfRange)
	}
	a, _ := os.ReadFile(refusedTable)
	b, _ := os.ReadFile(filepath.Join(pipeline.PartitionDir(out, bookStart), pipeline.TableRejects+".parquet"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("published rejects table (%d bytes) differs from the refused night's (%d bytes)", len(b), len(a))
	}
	if left, _ := filepath.Glob(filepath.Join(out, "_work", "*")); len(left) > 0 {
		t.Errorf("left under _work: %v", left)
	}

	const mib = 1 << 20
	t.Logf("heap high-water: night %d MiB, with %d rejects refused %d MiB, published %d MiB", base/mib, bad, refused/mib, published/mib)
	// The bound: three nights' worth. Decoding and spooling a million rows
	// makes garbage for the collector to pace; keeping them costs 10× and
	// more.
	limit := 3 * base
	for _, c := range []struct {
		name string
		peak uint64
	}{{"refused", refused}, {"published", published}} {
		if c.peak > limit {
			t.Errorf("%s with %d rejects: heap high-water %d MiB, want at most %d MiB (3× the night's %d MiB)",
				c.name, bad, c.peak/mib, limit/mib, base/mib)
		}
	}
}

// checkBadRejects checks the rejects table of the night: every row of the
// bad file, in row order, with its file, row, key, column and value.
func checkBadRejects(t *testing.T, rows []source.Reject, path string, n int) {
	t.Helper()
	if len(rows) != n {
		t.Fatalf("rejects table has %d rows, want %d", len(rows), n)
	}
	for i, r := range rows {
		want := source.Reject{Dataset: source.Transactions, File: path, Row: int64(i), Key: fmt.Sprintf("bad-%07d", i),
			Reason: source.ReasonOutOfRange, Detail: fmt.Sprintf("amount=%d.%02d: out of range", (1_000_000_000_000_000_000+i)/100, i%100)}
		if r != want {
			t.Fatalf("rejects row %d = %+v, want %+v", i, r, want)
		}
	}
}
