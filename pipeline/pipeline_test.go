package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/fixtures"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/policy"
)

// book generates a small synthetic book once per test binary.
var bookStart = billing.NewDate(2025, 1, 1)

func genBook(t testing.TB, accounts, days int) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fixtures.DefaultConfig()
	cfg.Accounts, cfg.Days, cfg.Start, cfg.Seed = accounts, days, bookStart, 7
	sink, err := fixtures.NewParquetSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.Generate(context.Background(), cfg, sink); err != nil {
		t.Fatal(err)
	}
	return dir
}

func options(events, out string) pipeline.Options {
	return pipeline.Options{
		Events: events, Out: out, Policy: policy.Default(), Workers: 2, BucketSize: 97,
		MaxRejectRatio: 0.001, Version: "test", Log: zerolog.Nop(),
	}
}

func firstRun(events, out string) pipeline.Options {
	o := options(events, out)
	o.State = filepath.Join(events, "accounts")
	return o
}

// files returns every file under dir (relative path → bytes), with the
// manifest's run-dependent fields removed.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if filepath.Base(p) == pipeline.ManifestFile {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				return err
			}
			delete(m, "timings_ms")
			delete(m, "state_from")
			b, _ = json.Marshal(m)
		}
		out[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	fa, fb := files(t, a), files(t, b)
	if len(fa) != len(fb) {
		t.Errorf("%s has %d files, %s has %d", a, len(fa), b, len(fb))
	}
	for name, da := range fa {
		if db, ok := fb[name]; !ok {
			t.Errorf("%s: missing in %s", name, b)
		} else if !bytes.Equal(da, db) {
			t.Errorf("%s differs between %s and %s", name, a, b)
		}
	}
}

func TestRerunIsByteIdentical(t *testing.T) {
	events := genBook(t, 400, 40)
	out := t.TempDir()
	ctx := context.Background()
	last := bookStart + 39
	if _, err := pipeline.Backfill(ctx, firstRun(events, out), bookStart, last, nil); err != nil {
		t.Fatal(err)
	}
	keep := t.TempDir()
	if err := os.CopyFS(keep, os.DirFS(pipeline.PartitionDir(out, last))); err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.Run(ctx, options(events, out), last); err != nil {
		t.Fatal(err)
	}
	sameFiles(t, keep, pipeline.PartitionDir(out, last))
}

func TestBackfillEqualsChainedRuns(t *testing.T) {
	const days = 30
	events := genBook(t, 300, days)
	ctx := context.Background()
	// A backfill keeps a small book in memory between days; with
	// MemoryAccounts < 0 it reads back each day's published state instead.
	folded, streamed, chained := t.TempDir(), t.TempDir(), t.TempDir()
	if _, err := pipeline.Backfill(ctx, firstRun(events, folded), bookStart, bookStart+days-1, nil); err != nil {
		t.Fatal(err)
	}
	opt := firstRun(events, streamed)
	opt.MemoryAccounts = -1
	if _, err := pipeline.Backfill(ctx, opt, bookStart, bookStart+days-1, nil); err != nil {
		t.Fatal(err)
	}
	for d := bookStart; d < bookStart+days; d++ {
		opt := options(events, chained)
		if d == bookStart {
			opt = firstRun(events, chained)
		}
		if _, err := pipeline.Run(ctx, opt, d); err != nil {
			t.Fatalf("run %s: %v", d, err)
		}
	}
	for d := bookStart; d < bookStart+days; d++ {
		sameFiles(t, pipeline.PartitionDir(folded, d), pipeline.PartitionDir(chained, d))
		sameFiles(t, pipeline.PartitionDir(streamed, d), pipeline.PartitionDir(chained, d))
	}
}

func TestCatchUpNamesLastDate(t *testing.T) {
	events := genBook(t, 50, 10)
	out := t.TempDir()
	ctx := context.Background()
	if _, err := pipeline.Run(ctx, firstRun(events, out), bookStart); err != nil {
		t.Fatal(err)
	}
	_, err := pipeline.Run(ctx, options(events, out), bookStart+3)
	if !errors.Is(err, pipeline.ErrNoState) {
		t.Fatalf("Run 3 days ahead: err = %v, want ErrNoState", err)
	}
	for _, want := range []string{bookStart.String(), "backfill --from " + (bookStart + 1).String()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("catch-up error %q does not say %q", err, want)
		}
	}
	if pipeline.Published(out, bookStart+3) {
		t.Error("a failed run published its date")
	}
}

func TestFirstRunNeedsState(t *testing.T) {
	events := genBook(t, 20, 3)
	_, err := pipeline.Run(context.Background(), options(events, t.TempDir()), bookStart)
	if !errors.Is(err, pipeline.ErrNoState) || !strings.Contains(err.Error(), "--state") {
		t.Fatalf("first run without --state: err = %v, want ErrNoState naming --state", err)
	}
}

// An account twice in the master stops the first run: the book would not
// be known.
func TestMasterWithRepeatedAccountPublishesNothing(t *testing.T) {
	events := genBook(t, 20, 3)
	master := filepath.Join(events, "accounts")
	raw, err := os.ReadFile(filepath.Join(master, "accounts.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(master, "again.parquet"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	_, err = pipeline.Run(context.Background(), firstRun(events, out), bookStart)
	if !errors.Is(err, pipeline.ErrBadInput) || !strings.Contains(err.Error(), "again.parquet") ||
		!strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("master with every account twice: err = %v, want ErrBadInput naming again.parquet and the duplicate", err)
	}
	if pipeline.Published(out, bookStart) {
		t.Error("a failed first run published its date")
	}
}

func TestLockNamesHolderAndClearsStale(t *testing.T) {
	events := genBook(t, 20, 3)
	out := t.TempDir()
	host, _ := os.Hostname()
	// A live holder: a sleeping child process.
	sleeper := exec.Command("sleep", "30")
	if err := sleeper.Start(); err != nil {
		t.Fatal(err)
	}
	defer sleeper.Process.Kill()
	writeLock := func(pid int) {
		b, _ := json.Marshal(map[string]any{"host": host, "pid": pid, "started": "2026-01-02T03:04:05Z"})
		if err := os.WriteFile(filepath.Join(out, ".lock"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeLock(sleeper.Process.Pid)
	_, err := pipeline.Run(context.Background(), firstRun(events, out), bookStart)
	var le *pipeline.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("Run with a live lock: err = %v, want *LockedError", err)
	}
	for _, want := range []string{host, "2026-01-02T03:04:05Z"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lock error %q does not name %q", err, want)
		}
	}
	// A stale holder: the same child, dead.
	sleeper.Process.Kill()
	sleeper.Wait()
	if _, err := pipeline.Run(context.Background(), firstRun(events, out), bookStart); err != nil {
		t.Fatalf("Run with a stale lock: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, ".lock")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock left behind after the run: %v", err)
	}
}
