package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/parquet-go/parquet-go"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/fixtures"
	"github.com/creditrun/creditrun/pipeline"
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
	o := pipeline.DefaultOptions()
	o.Events, o.Out, o.Version, o.Workers, o.BucketSize = events, out, "test", 2, 97
	return o
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
	// A backfill pipes the book from one date to the next; with
	// DaysInFlight 1 it reads back each day's published state instead.
	folded, streamed, chained := t.TempDir(), t.TempDir(), t.TempDir()
	ms, err := pipeline.Backfill(ctx, firstRun(events, folded), bookStart, bookStart+days-1, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The book's accounts feed opens accounts during the range: the
	// property covers the nights that merge them into the book.
	opened := 0
	for _, m := range ms {
		opened += m.Book.Opened
	}
	if opened == 0 {
		t.Fatal("the accounts feed opened no account over the range: the property would not cover it")
	}
	opt := firstRun(events, streamed)
	opt.DaysInFlight = 1
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

func TestNoStateNamesLastDate(t *testing.T) {
	events := genBook(t, 50, 10)
	out := t.TempDir()
	ctx := context.Background()
	if _, err := pipeline.Backfill(ctx, firstRun(events, out), bookStart, bookStart+1, nil); err != nil {
		t.Fatal(err)
	}
	// Behind, with a gap in the middle: the 1st, 2nd and 8th are
	// published; for the 5th and the 7th the last date published before
	// is the 2nd, whatever is published later.
	if err := os.CopyFS(pipeline.PartitionDir(out, bookStart+7), os.DirFS(pipeline.PartitionDir(out, bookStart+1))); err != nil {
		t.Fatal(err)
	}
	for _, day := range []billing.Date{bookStart + 4, bookStart + 6} {
		_, err := pipeline.Run(ctx, options(events, out), day)
		var ns *pipeline.NoStateError
		if !errors.As(err, &ns) || !errors.Is(err, pipeline.ErrNoState) {
			t.Fatalf("Run %s: err = %v, want *NoStateError", day, err)
		}
		if ns.Last != bookStart+1 || ns.Day != day {
			t.Errorf("Run %s: NoStateError{Day: %s, Last: %s}, want Last %s", day, ns.Day, ns.Last, bookStart+1)
		}
		if pipeline.Classify(err) != pipeline.KindNoState {
			t.Errorf("Classify(%v) = %s, want %s", err, pipeline.Classify(err), pipeline.KindNoState)
		}
		if pipeline.Published(out, day) {
			t.Error("a failed run published its date")
		}
	}
}

func TestFirstRunNeedsState(t *testing.T) {
	events := genBook(t, 20, 3)
	_, err := pipeline.Run(context.Background(), options(events, t.TempDir()), bookStart)
	if !errors.Is(err, pipeline.ErrNoState) || !strings.Contains(err.Error(), "--state") {
		t.Fatalf("first run without --state: err = %v, want ErrNoState naming --state", err)
	}
}

// An account twice in a plain master (no updated_at: not a feed, where
// the latest row wins) stops the first run: the book would not be known.
func TestMasterWithRepeatedAccountPublishesNothing(t *testing.T) {
	events := genBook(t, 20, 3)
	type masterRow struct {
		AccountID  int64  `parquet:"account_id"`
		CustomerID string `parquet:"customer_id"`
		OpenedOn   int32  `parquet:"opened_on,date"`
		Status     string `parquet:"status"`
		Limit      *int64 `parquet:"credit_limit,decimal(2:18),optional"`
		BillingDay int32  `parquet:"billing_day"`
		Score      *int32 `parquet:"external_score,optional"`
		Fraud      *bool  `parquet:"fraud_flag,optional"`
	}
	limit := int64(500000)
	rows := []masterRow{{10000001, "c1", int32(bookStart - 200), "active", &limit, 5, nil, nil},
		{10000002, "c2", int32(bookStart - 200), "active", &limit, 6, nil, nil}}
	master := filepath.Join(t.TempDir(), "master")
	os.MkdirAll(master, 0o755)
	if err := parquet.WriteFile(filepath.Join(master, "accounts.parquet"), rows); err != nil {
		t.Fatal(err)
	}
	if err := parquet.WriteFile(filepath.Join(master, "again.parquet"), rows); err != nil {
		t.Fatal(err)
	}
	opt := options(events, t.TempDir())
	opt.State = master
	out := opt.Out
	_, err := pipeline.Run(context.Background(), opt, bookStart)
	if !errors.Is(err, pipeline.ErrBadInput) || !strings.Contains(err.Error(), "again.parquet") ||
		!strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("master with every account twice: err = %v, want ErrBadInput naming again.parquet and the duplicate", err)
	}
	if pipeline.Published(out, bookStart) {
		t.Error("a failed first run published its date")
	}
}

// holdLock takes OUT/.lock as a run would (flock on its own open file),
// recording holder as its content, and returns the release.
func holdLock(t *testing.T, out string, holder string) func() {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(out, pipeline.LockFile), os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(holder); err != nil {
		t.Fatal(err)
	}
	return func() { f.Close() }
}

func TestLockNamesHolderAndNeverBlocksAfterItsHolder(t *testing.T) {
	events := genBook(t, 20, 3)
	out := t.TempDir()
	ctx := context.Background()
	host, _ := os.Hostname()
	b, _ := json.Marshal(map[string]any{"host": host, "pid": 4242, "started": "2026-01-02T03:04:05Z"})
	release := holdLock(t, out, string(b))
	_, err := pipeline.Run(ctx, firstRun(events, out), bookStart)
	var le *pipeline.LockedError
	if !errors.As(err, &le) || !errors.Is(err, pipeline.ErrLocked) {
		t.Fatalf("Run with a held lock: err = %v, want *LockedError", err)
	}
	for _, want := range []string{host, "4242", "2026-01-02T03:04:05Z"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lock error %q does not name %q", err, want)
		}
	}
	if k := pipeline.Classify(err); k != pipeline.KindLocked || !k.Retryable() {
		t.Errorf("Classify(locked) = %s (retryable %v), want locked, retryable", k, k.Retryable())
	}
	// Held by a holder that has not recorded itself yet: still locked.
	release()
	release = holdLock(t, out, "")
	if _, err := pipeline.Run(ctx, firstRun(events, out), bookStart); !errors.As(err, &le) {
		t.Fatalf("Run with a held, empty lock: err = %v, want *LockedError", err)
	}
	release()
	if pipeline.Published(out, bookStart) {
		t.Fatal("a locked run published")
	}
	// The holder is gone (released, or killed: the kernel releases its
	// flock either way). What it left in the file, an empty file as a run
	// killed right after creating it would leave, or a record of a pid
	// that is alive, blocks nothing.
	for _, left := range []string{"", "{garbage", string(b)} {
		if err := os.WriteFile(filepath.Join(out, pipeline.LockFile), []byte(left), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := pipeline.Run(ctx, firstRun(events, out), bookStart); err != nil {
			t.Fatalf("Run after the holder left %q: %v", left, err)
		}
	}
}

func TestLockOfAKilledProcessIsFree(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("no flock(1)")
	}
	events := genBook(t, 20, 3)
	out := t.TempDir()
	// --no-fork: the process killed below is the one holding the lock.
	// Forked (flock's default), its child shares the lock's open file
	// until it closes it, so under load the lock could outlive the kill.
	holder := exec.Command("flock", "--no-fork", filepath.Join(out, pipeline.LockFile), "sleep", "30")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := pipeline.Run(context.Background(), firstRun(events, out), bookStart)
		if errors.Is(err, pipeline.ErrLocked) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("flock(1) never held the lock: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	holder.Process.Signal(syscall.SIGKILL)
	holder.Wait()
	if _, err := pipeline.Run(context.Background(), firstRun(events, out), bookStart); err != nil {
		t.Fatalf("Run after the holder was killed: %v", err)
	}
}
