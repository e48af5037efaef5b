package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
)

// sameTables compares two publications of a date but for state/: every
// table byte for byte, and the manifests but for their timings, where the
// state came from and whether it was kept.
func sameTables(t *testing.T, a, b string) {
	t.Helper()
	strip := func(dir string) map[string][]byte {
		fs := files(t, dir)
		for name, b := range fs {
			if strings.HasPrefix(name, "state"+string(filepath.Separator)) {
				delete(fs, name)
			} else if name == pipeline.ManifestFile {
				var m map[string]any
				if err := json.Unmarshal(b, &m); err != nil {
					t.Fatal(err)
				}
				delete(m, "state_not_kept")
				fs[name], _ = json.Marshal(m)
			}
		}
		return fs
	}
	fa, fb := strip(a), strip(b)
	if len(fa) != len(fb) {
		t.Errorf("%s has %d files besides state/, %s has %d", a, len(fa), b, len(fb))
	}
	for name, da := range fa {
		if db, ok := fb[name]; !ok {
			t.Errorf("%s: missing in %s", name, b)
		} else if !bytes.Equal(da, db) {
			t.Errorf("%s differs between %s and %s", name, a, b)
		}
	}
}

// A backfill that publishes the state only every 7th date publishes every
// table of every date as chained runs do, byte for byte, whether the book
// crosses the dates without state in memory or spilled; the dates it
// keeps the state of (the first, every 7th after it, the last) are whole,
// state included, and the others say in their manifest that it was not
// kept.
func TestBackfillStateEveryEqualsChainedRuns(t *testing.T) {
	const days, every = 30, 7
	events := genBook(t, 300, days)
	ctx := context.Background()
	last := bookStart + days - 1
	chained := t.TempDir()
	for d := bookStart; d <= last; d++ {
		opt := options(events, chained)
		if d == bookStart {
			opt = firstRun(events, chained)
		}
		if _, err := pipeline.Run(ctx, opt, d); err != nil {
			t.Fatalf("run %s: %v", d, err)
		}
	}
	for _, inFlight := range []int{pipeline.DefaultDaysInFlight, 5} {
		t.Run(fmt.Sprintf("days-in-flight=%d", inFlight), func(t *testing.T) {
			out := t.TempDir()
			opt := firstRun(events, out)
			opt.StateEvery, opt.DaysInFlight = every, inFlight
			ms, err := pipeline.Backfill(ctx, opt, bookStart, last, nil)
			if err != nil {
				t.Fatal(err)
			}
			for i, d := 0, bookStart; d <= last; i, d = i+1, d+1 {
				kept := i%every == 0 || d == last
				sameTables(t, pipeline.PartitionDir(out, d), pipeline.PartitionDir(chained, d))
				if kept {
					sameFiles(t, pipeline.PartitionDir(out, d), pipeline.PartitionDir(chained, d))
				} else if _, err := os.Stat(pipeline.StateDir(out, d)); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s: state/ published on a date whose state is not kept (stat: %v)", d, err)
				}
				m, err := pipeline.ReadManifest(out, d)
				if err != nil {
					t.Fatal(err)
				}
				if m.StateNotKept == kept || ms[i].StateNotKept == kept {
					t.Errorf("%s: manifest state_not_kept = %v, want %v", d, m.StateNotKept, !kept)
				}
				if got := pipeline.StateKept(out, d); got != kept {
					t.Errorf("StateKept(%s) = %v, want %v", d, got, kept)
				}
			}
			// Nothing but the published dates and the lock is left in
			// OUT.
			entries, _ := os.ReadDir(out)
			for _, e := range entries {
				if n := e.Name(); n != ".lock" && !strings.HasPrefix(n, "as_of=") {
					t.Errorf("left behind in OUT: %s", n)
				}
			}
		})
	}
}

// A run whose previous date was published without its state is behind:
// it names the nearest earlier date with its state and reads nothing else.
// A re-run of a date whose own state was not kept works when the date
// before it kept its state, and then publishes it, same tables.
func TestRunAfterDateWithoutStateIsBehind(t *testing.T) {
	events := genBook(t, 60, 12)
	out := t.TempDir()
	ctx := context.Background()
	opt := firstRun(events, out)
	opt.StateEvery = 4 // kept: 0, 4, 8 and the last, 9
	if _, err := pipeline.Backfill(ctx, opt, bookStart, bookStart+9, nil); err != nil {
		t.Fatal(err)
	}
	before := files(t, out)
	for _, tc := range []struct {
		day, last billing.Date
	}{
		{bookStart + 3, bookStart},     // re-run of a date without state, after another
		{bookStart + 7, bookStart + 4}, // the day after 6
		{bookStart + 11, bookStart + 9} /* not behind on state: 10 is missing */} {
		_, err := pipeline.Run(ctx, options(events, out), tc.day)
		var ns *pipeline.NoStateError
		if !errors.As(err, &ns) || pipeline.Classify(err) != pipeline.KindNoState {
			t.Fatalf("Run %s: err = %v, want a *NoStateError of kind %s", tc.day, err, pipeline.KindNoState)
		}
		wantNotKept := tc.day != bookStart+11
		if ns.Day != tc.day || ns.Last != tc.last || ns.NotKept != wantNotKept {
			t.Errorf("Run %s: NoStateError{Day: %s, Last: %s, NotKept: %v}, want Last %s, NotKept %v",
				tc.day, ns.Day, ns.Last, ns.NotKept, tc.last, wantNotKept)
		}
		if wantNotKept && (!strings.Contains(err.Error(), "without its state") || !strings.Contains(err.Error(), tc.last.String())) {
			t.Errorf("Run %s: %q does not say the state was not kept and where the nearest is", tc.day, err)
		}
	}
	// A backfill that starts after a date without state is behind too.
	_, err := pipeline.Backfill(ctx, options(events, out), bookStart+6, bookStart+9, nil)
	var ns *pipeline.NoStateError
	if !errors.As(err, &ns) || !ns.NotKept || ns.Last != bookStart+4 {
		t.Fatalf("Backfill from %s: err = %v, want a NoStateError naming %s", bookStart+6, err, bookStart+4)
	}
	if after := files(t, out); len(after) != len(before) {
		t.Fatalf("failed runs changed OUT: %d files, were %d", len(after), len(before))
	}
	// Re-running 5, whose state was not kept, from 4's: the same tables,
	// and now its state.
	old := t.TempDir()
	if err := os.CopyFS(old, os.DirFS(pipeline.PartitionDir(out, bookStart+5))); err != nil {
		t.Fatal(err)
	}
	if _, err := pipeline.Run(ctx, options(events, out), bookStart+5); err != nil {
		t.Fatal(err)
	}
	sameTables(t, old, pipeline.PartitionDir(out, bookStart+5))
	if !pipeline.StateKept(out, bookStart+5) {
		t.Error("a run did not keep its state")
	}
	// The hint's backfill, from the day after the nearest date with its
	// state, closes the gap: 7 runs again.
	if _, err := pipeline.Backfill(ctx, options(events, out), bookStart+5, bookStart+7, nil); err != nil {
		t.Fatal(err)
	}
}

func TestStateEveryMustBePositive(t *testing.T) {
	for _, n := range []int{0, -3} {
		opt := options(t.TempDir(), t.TempDir())
		opt.StateEvery = n
		if err := opt.Validate(); !errors.Is(err, pipeline.ErrUsage) || !strings.Contains(err.Error(), "--state-every") {
			t.Errorf("Validate with StateEvery %d: err = %v, want ErrUsage naming --state-every", n, err)
		}
	}
}

// A backfill whose input breaks on a date in the middle publishes the
// dates before it, as chained runs would, and none from it on, however
// many dates were in flight: a later date never publishes before an
// earlier one, nor after one that failed.
func TestBackfillStopsAtTheFirstFailedDate(t *testing.T) {
	const days = 12
	events := genBook(t, 300, days)
	broken := bookStart + 6
	part := filepath.Join(events, billing.DatasetTransactions, "dt="+broken.String())
	if err := os.RemoveAll(part); err != nil {
		t.Fatal(err)
	}
	for _, inFlight := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("days-in-flight=%d", inFlight), func(t *testing.T) {
			out := t.TempDir()
			opt := firstRun(events, out)
			opt.DaysInFlight = inFlight
			if inFlight > 1 {
				opt.StateEvery = 3
			}
			ms, err := pipeline.Backfill(context.Background(), opt, bookStart, bookStart+days-1, nil)
			if pipeline.Classify(err) != pipeline.KindNotLanded {
				t.Fatalf("err = %v (%s), want input not landed", err, pipeline.Classify(err))
			}
			published := pipeline.PublishedDates(out)
			if len(published) == 0 || len(published) != len(ms) {
				t.Fatalf("published %v, returned %d manifests", published, len(ms))
			}
			failed := published[len(published)-1] + 1
			if failed > broken || failed < broken-2 {
				t.Fatalf("published up to %s with the partition of %s missing", failed-1, broken)
			}
			if !strings.HasPrefix(err.Error(), "as_of "+failed.String()+":") {
				t.Errorf("err = %v, want it to name as_of %s, the first date not published", err, failed)
			}
			for i, d := range published {
				if d != bookStart+billing.Date(i) {
					t.Fatalf("published %v: not the first dates of the range", published)
				}
			}
			entries, _ := os.ReadDir(out)
			for _, e := range entries {
				if n := e.Name(); n != ".lock" && !strings.HasPrefix(n, "as_of=") {
					t.Errorf("left behind in OUT: %s", n)
				}
			}
		})
	}
}

// A backfill cancelled while dates are in flight returns the manifests of
// exactly the dates it published, the first of the range, and the
// context's error.
func TestBackfillCancelledReturnsWhatItPublished(t *testing.T) {
	const days = 8
	events := genBook(t, 300, days)
	for _, inFlight := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("days-in-flight=%d", inFlight), func(t *testing.T) {
			out := t.TempDir()
			opt := firstRun(events, out)
			opt.DaysInFlight, opt.StateEvery = inFlight, 2
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			reported := 0
			ms, err := pipeline.Backfill(ctx, opt, bookStart, bookStart+days-1, func(*pipeline.Manifest) {
				if reported++; reported == 2 {
					cancel()
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			published := pipeline.PublishedDates(out)
			if len(ms) != reported || len(ms) != len(published) || len(ms) < 2 || len(ms) == days {
				t.Fatalf("%d manifests, %d reported, published %v", len(ms), reported, published)
			}
			for i, m := range ms {
				if d := bookStart + billing.Date(i); m.AsOf != d.String() || published[i] != d {
					t.Fatalf("manifest %d is of %s, published %v: want the first dates of the range", i, m.AsOf, published)
				}
			}
		})
	}
}
