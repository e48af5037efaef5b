package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// SuccessFile marks a published as_of directory; a directory without it was
// never published (or a crash interrupted it) and is never read.
const SuccessFile = "_SUCCESS"

// PartitionDir returns OUT/as_of=D.
func PartitionDir(out string, day billing.Date) string {
	return filepath.Join(out, "as_of="+day.String())
}

// Published reports whether the outputs of day are published in out.
func Published(out string, day billing.Date) bool {
	_, err := os.Stat(filepath.Join(PartitionDir(out, day), SuccessFile))
	return err == nil
}

// LastPublished returns the latest published date in out (0 if none).
func LastPublished(out string) billing.Date {
	entries, _ := os.ReadDir(out)
	var last billing.Date
	for _, e := range entries {
		s, ok := strings.CutPrefix(e.Name(), "as_of=")
		if !ok || !e.IsDir() {
			continue
		}
		d, err := billing.ParseDate(s)
		if err == nil && d > last && Published(out, d) {
			last = d
		}
	}
	return last
}

// publish writes day's outputs atomically: fill writes every file into a
// temporary directory beside the target; the directory is fsynced and
// renamed to OUT/as_of=D (replacing an earlier run of D), then _SUCCESS is
// written. A failure or a crash at any point leaves either the previous
// complete as_of=D or none, plus temporary directories that the next run
// removes under the lock.
func publish(out string, day billing.Date, fill func(dir string) error) error {
	tmp := filepath.Join(out, fmt.Sprintf(".as_of=%s.tmp-%d", day, os.Getpid()))
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(tmp, "state"), 0o755); err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	crashpoint("filled")
	if err := errors.Join(syncDirs(filepath.Join(tmp, "state"), tmp)...); err != nil {
		return err
	}
	final := PartitionDir(out, day)
	old := filepath.Join(out, fmt.Sprintf(".as_of=%s.old-%d", day, os.Getpid()))
	if _, err := os.Stat(final); err == nil {
		// Unpublish first, so that a crash between the renames leaves no
		// directory that looks complete.
		if err := os.Remove(filepath.Join(final, SuccessFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.Rename(final, old); err != nil {
			return err
		}
		crashpoint("unpublished")
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	if err := syncDir(out); err != nil {
		return err
	}
	crashpoint("renamed")
	if err := os.RemoveAll(old); err != nil {
		return err
	}
	// _SUCCESS is empty: syncing the directory makes it durable.
	f, err := os.Create(filepath.Join(final, SuccessFile))
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := syncDir(final); err != nil {
		return err
	}
	crashpoint("published")
	return nil
}

// crashAt names a point at which the process kills itself: the crash tests
// use it to stop a real run between any two steps of publishing.
var crashAt = os.Getenv("CREDITRUN_CRASHPOINT")

func crashpoint(name string) {
	if crashAt == name {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
}

// cleanTemporaries removes what interrupted runs left in out. It must be
// called with the lock held.
func cleanTemporaries(out string) error {
	entries, err := os.ReadDir(out)
	if err != nil {
		return nil
	}
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".as_of=") && (strings.Contains(n, ".tmp-") || strings.Contains(n, ".old-")) {
			if err := os.RemoveAll(filepath.Join(out, n)); err != nil {
				return err
			}
		}
	}
	return nil
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

// Lock is the holder of OUT/.lock: one run at a time per output directory.
type Lock struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	path    string
}

// LockedError says who holds the lock.
type LockedError struct{ Holder Lock }

func (e *LockedError) Error() string {
	return fmt.Sprintf("output is locked by pid %d on %s since %s (remove %s only if that process is gone)",
		e.Holder.PID, e.Holder.Host, e.Holder.Started.Format(time.RFC3339), e.Holder.path)
}

// acquireLock takes OUT/.lock. A lock left by a dead process of this host is
// cleared; one held by a live process, or by another host, is an error that
// names the holder.
func acquireLock(out string) (*Lock, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	me := Lock{Host: host, PID: os.Getpid(), Started: time.Now().UTC().Truncate(time.Second), path: filepath.Join(out, ".lock")}
	data, _ := json.Marshal(me)
	for attempt := 0; attempt < 2; attempt++ {
		f, err := os.OpenFile(me.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.Write(data)
			if werr == nil {
				werr = f.Sync()
			}
			f.Close()
			if werr != nil {
				os.Remove(me.path)
				return nil, werr
			}
			return &me, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, err
		}
		var holder Lock
		raw, rerr := os.ReadFile(me.path)
		if rerr != nil || json.Unmarshal(raw, &holder) != nil {
			// Being written this instant, or garbage from a crash mid-write:
			// garbage older than a minute is stale.
			if st, serr := os.Stat(me.path); serr == nil && time.Since(st.ModTime()) > time.Minute {
				os.Remove(me.path)
				continue
			}
			return nil, fmt.Errorf("output is locked (%s unreadable)", me.path)
		}
		holder.path = me.path
		if holder.Host == host && !processAlive(holder.PID) {
			os.Remove(me.path)
			continue
		}
		return nil, &LockedError{Holder: holder}
	}
	return nil, fmt.Errorf("could not take %s", me.path)
}

// Release removes the lock.
func (l *Lock) Release() error { return os.Remove(l.path) }

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// sortedKeys returns m's keys in order, for deterministic manifests.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
