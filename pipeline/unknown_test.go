package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
)

// writeUnknownTransactions adds to the night's transactions partition a
// file of n valid purchases of accounts the book does not have (ids from
// first up).
func writeUnknownTransactions(t *testing.T, events string, day billing.Date, first int64, n int) string {
	return writePurchases(t, events, day, "part-unknown.parquet", n, func(i int) (string, int64, int64) {
		return fmt.Sprintf("unk-%07d", i), first + int64(i), 10_000 + int64(i%1000)
	})
}

// TestUnknownAccountsRejectedAsRead: a night that knows its book rejects
// the events of other accounts as it reads them, with the rows and
// reasons the daily step gives when it does not (a sharded night's shard):
// the rejects table of one process equals that of two shards and their
// commit, byte for byte, and so does every other table as a set.
func TestUnknownAccountsRejectedAsRead(t *testing.T) {
	events := genBook(t, 400, 1)
	path := writeUnknownTransactions(t, events, bookStart, 9_000_000_000, 3000)
	// Unknown ids below and inside the book's range too.
	inside := writePurchases(t, events, bookStart, "part-inside.parquet", 2, func(i int) (string, int64, int64) {
		return fmt.Sprintf("in-%d", i), []int64{-5, 150_000_000}[i], 500
	})
	whole := firstRun(events, t.TempDir())
	whole.MaxRejectRatio = 1
	m, err := pipeline.Run(context.Background(), whole, bookStart)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Rejects[source.ReasonUnknownAccount]; got != 3002 {
		t.Errorf("unknown_account rejects %d, want 3002 (manifest %v)", got, m.Rejects)
	}
	rows, err := pqfile.ReadFile[source.Reject](filepath.Join(pipeline.PartitionDir(whole.Out, bookStart), pipeline.TableRejects+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		if r.Reason == source.ReasonUnknownAccount {
			if r.File != path && r.File != inside || r.Detail != "" || r.Dataset != source.Transactions {
				t.Fatalf("reject %+v: want a transactions row of %s or %s with no detail", r, path, inside)
			}
			n++
		}
	}
	if n != 3002 {
		t.Errorf("rejects table has %d unknown_account rows, want 3002", n)
	}

	sharded := firstRun(events, t.TempDir())
	sharded.MaxRejectRatio = 1
	runShards(t, sharded, bookStart, 2)
	if _, err := pipeline.Commit(context.Background(), sharded, bookStart, bookStart, 2, nil); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{pipeline.TableRejects, pipeline.TableDailySummary} {
		a, _ := os.ReadFile(filepath.Join(pipeline.PartitionDir(whole.Out, bookStart), table+".parquet"))
		b, _ := os.ReadFile(filepath.Join(pipeline.PartitionDir(sharded.Out, bookStart), table+".parquet"))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: one process (%d bytes) and two shards (%d bytes) differ", table, len(a), len(b))
		}
	}
}

// TestMillionUnknownAccountsMemory: a million events of accounts the book
// does not have cost the night what a reject costs, not what an event
// held to the close costs.
func TestMillionUnknownAccountsMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("a million rejected rows: skipped with -short")
	}
	const accounts, bad = 5000, 1_000_000
	events := genBook(t, accounts, 1)
	run := func() (*pipeline.Manifest, error) {
		o := firstRun(events, t.TempDir())
		o.Workers, o.BucketSize = pipeline.DefaultOptions().Workers, pipeline.DefaultOptions().BucketSize
		o.MaxRejectRatio = 1
		return pipeline.Run(context.Background(), o, bookStart)
	}
	var err error
	base := heapPeak(func() { _, err = run() })
	if err != nil {
		t.Fatal(err)
	}
	writeUnknownTransactions(t, events, bookStart, 9_000_000_000, bad)
	var m *pipeline.Manifest
	peak := heapPeak(func() { m, err = run() })
	if err != nil {
		t.Fatal(err)
	}
	if m.Rejects[source.ReasonUnknownAccount] != bad {
		t.Errorf("unknown_account rejects %d, want %d", m.Rejects[source.ReasonUnknownAccount], bad)
	}
	const mib = 1 << 20
	t.Logf("heap high-water: night %d MiB, with %d events of unknown accounts %d MiB", base/mib, bad, peak/mib)
	if limit := 3 * base; peak > limit {
		t.Errorf("heap high-water %d MiB with %d unknown-account events, want at most %d MiB (3× the night's %d MiB)",
			peak/mib, bad, limit/mib, base/mib)
	}
}
