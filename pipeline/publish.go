package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/state"
)

// SuccessFile marks a published as_of directory; a directory without it was
// never published and is never read.
const SuccessFile = "_SUCCESS"

// workDir is the directory of the output root where runs write before
// publishing. It is two levels above any table, so that no reader's glob
// of published files (OUT/*/TABLE.parquet, OUT/as_of=*/…) sees a night
// being written.
const workDir = "_work"

// PartitionDir returns OUT/as_of=D.
func PartitionDir(out string, day billing.Date) string {
	return filepath.Join(out, "as_of="+day.String())
}

// StateDir returns OUT/as_of=D/state, where the state of D is published.
func StateDir(out string, day billing.Date) string {
	return filepath.Join(PartitionDir(out, day), "state")
}

// Published reports whether the outputs of day are published in out.
func Published(out string, day billing.Date) bool {
	_, err := os.Stat(filepath.Join(PartitionDir(out, day), SuccessFile))
	return err == nil
}

// PublishedDates returns the published dates in out, in order.
func PublishedDates(out string) []billing.Date {
	entries, _ := os.ReadDir(out)
	var days []billing.Date
	for _, e := range entries {
		s, ok := strings.CutPrefix(e.Name(), "as_of=")
		if !ok || !e.IsDir() {
			continue
		}
		if d, err := billing.ParseDate(s); err == nil && Published(out, d) {
			days = append(days, d)
		}
	}
	return days // ReadDir sorts by name, and dates sort as names
}

// StateKept reports whether the published date day kept its state: false
// when its manifest says a backfill did not publish it (--state-every).
func StateKept(out string, day billing.Date) bool {
	m, err := ReadManifest(out, day)
	return err != nil || !m.StateNotKept
}

// LastStateBefore returns the latest date before day published with its
// state in out (0 if none): the date a backfill can start after.
func LastStateBefore(out string, day billing.Date) billing.Date {
	var last billing.Date
	for _, d := range PublishedDates(out) {
		if d < day && state.IsSnapshot(StateDir(out, d)) {
			last = d
		}
	}
	return last
}

// LastPublishedBefore returns the latest date before day published in out
// (0 if none): a backfill from the day after it catches up to day.
func LastPublishedBefore(out string, day billing.Date) billing.Date {
	var last billing.Date
	for _, d := range PublishedDates(out) {
		if d < day {
			last = d
		}
	}
	return last
}

// publish writes day's outputs atomically, with a state/ directory for
// fill to write the state in when withState. fill writes every file into a
// fresh directory under OUT/_work/; that directory, _SUCCESS included, is
// made durable and then takes the place of OUT/as_of=D in one rename (an
// atomic exchange when an earlier run of D is published, so that a reader
// sees the old night or the new one, never neither). A failure at any
// point leaves the earlier publication of D exactly as it was; a crash
// leaves, besides, a directory under OUT/_work/ that the next run removes.
func publish(out string, day billing.Date, withState bool, fill func(dir string) error) error {
	work := filepath.Join(out, workDir)
	tmp := filepath.Join(work, fmt.Sprintf("as_of=%s.%d", day, os.Getpid()))
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	dirs := []string{work, tmp} // each inside the one before; synced once filled
	if withState {
		dirs = append(dirs, filepath.Join(tmp, "state"))
	}
	if err := os.MkdirAll(dirs[len(dirs)-1], 0o755); err != nil {
		return err
	}
	fail := func(err error) error {
		os.RemoveAll(tmp)
		os.Remove(work) // if no other run's debris is there
		return err
	}
	if err := fill(tmp); err != nil {
		return fail(err)
	}
	crashpoint(CrashFilled)
	if err := touch(filepath.Join(tmp, SuccessFile)); err != nil {
		return fail(err)
	}
	if err := errors.Join(syncDirs(dirs...)...); err != nil {
		return fail(err)
	}
	crashpoint(CrashSynced)
	final := PartitionDir(out, day)
	err := exchange(tmp, final)
	switch {
	case err == nil:
		// tmp now holds the earlier publication.
	case errors.Is(err, syscall.ENOENT):
		// D was never published: a plain rename publishes it.
		if err := os.Rename(tmp, final); err != nil {
			return fail(err)
		}
	default:
		// No atomic exchange on this filesystem: move the earlier
		// publication aside, then put the new one in place, and move the
		// earlier one back if that fails.
		old := tmp + ".old"
		if err := os.Rename(final, old); err != nil {
			return fail(err)
		}
		crashpoint(CrashAside)
		if err := os.Rename(tmp, final); err != nil {
			if rerr := os.Rename(old, final); rerr != nil {
				return fmt.Errorf("publish %s: %w (and the earlier publication is at %s: %v)", final, err, old, rerr)
			}
			return fail(err)
		}
		tmp = old
	}
	if err := syncDir(out); err != nil {
		return err
	}
	crashpoint(CrashRenamed)
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	os.Remove(work)
	os.RemoveAll(RejectedDir(out, day)) // an earlier refusal of D is history now
	os.Remove(filepath.Dir(RejectedDir(out, day)))
	crashpoint(CrashPublished)
	return nil
}

// exchange swaps the directories a and b atomically (ENOENT when b does
// not exist, another error when the filesystem cannot).
func exchange(a, b string) error {
	if noExchange { // the tests' way onto the path of other filesystems
		if _, err := os.Stat(b); err != nil {
			return syscall.ENOENT
		}
		return syscall.EINVAL
	}
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}

// cleanWork removes what interrupted runs left under OUT/_work/. A
// publication that a crash moved aside (on a filesystem without atomic
// exchange) and never replaced is put back first. It must be called with
// the lock held.
func cleanWork(out string) error {
	work := filepath.Join(out, workDir)
	entries, err := os.ReadDir(work)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		n := e.Name()
		if base, ok := strings.CutSuffix(n, ".old"); ok {
			name, _, _ := strings.Cut(base, ".")
			final := filepath.Join(out, name)
			if _, err := os.Stat(final); errors.Is(err, os.ErrNotExist) && strings.HasPrefix(name, "as_of=") {
				if err := os.Rename(filepath.Join(work, n), final); err != nil {
					return err
				}
				continue
			}
		}
		if err := os.RemoveAll(filepath.Join(work, n)); err != nil {
			return err
		}
	}
	return nil
}

// touch creates an empty file; syncing its directory makes it durable.
func touch(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	return f.Close()
}

// syncDirs syncs directories concurrently, one error per directory.
func syncDirs(dirs ...string) []error {
	errs := make([]error, len(dirs))
	var wg sync.WaitGroup
	for i, d := range dirs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = syncDir(d) }()
	}
	wg.Wait()
	return errs
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
