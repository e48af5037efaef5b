package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// LockFile is the file in the output root that one run at a time holds.
const LockFile = ".lock"

// Lock is the holder of OUT/.lock: one run at a time per output root.
//
// The lock is an advisory lock (flock) on the file, which the kernel
// releases when the holding process ends, however it ends: a killed run
// never leaves a lock that blocks the next one, and there is no moment
// between creating the file and recording the holder in which a crash
// could. The file's content (host, pid, start) only names the holder in
// the error a second run gets; it is never what decides.
type Lock struct {
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	path    string
	f       *os.File
}

// LockedError says who holds the lock.
type LockedError struct {
	Holder Lock // zero when the holder has not recorded itself yet
	Path   string
}

func (e *LockedError) Error() string {
	if e.Holder.PID == 0 {
		return fmt.Sprintf("output is locked by another run (%s)", e.Path)
	}
	return fmt.Sprintf("output is locked by pid %d on %s since %s (%s)",
		e.Holder.PID, e.Holder.Host, e.Holder.Started.Format(time.RFC3339), e.Path)
}

func (e *LockedError) Unwrap() error { return ErrLocked }

// acquireLock takes OUT/.lock without waiting, creating OUT if needed.
func acquireLock(out string) (*Lock, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(out, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			le := &LockedError{Path: path}
			if raw, rerr := os.ReadFile(path); rerr == nil {
				json.Unmarshal(raw, &le.Holder)
			}
			return nil, le
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	host, _ := os.Hostname()
	l := &Lock{Host: host, PID: os.Getpid(), Started: time.Now().UTC().Truncate(time.Second), path: path, f: f}
	data, _ := json.Marshal(l)
	if err := f.Truncate(0); err == nil {
		f.WriteAt(append(data, '\n'), 0) // informative only: a failure changes nothing
	}
	return l, nil
}

// Release gives the lock up. The file stays: removing it could let two
// runs hold locks on two different files of the same name.
func (l *Lock) Release() error {
	l.f.Truncate(0)
	return l.f.Close() // closing the descriptor releases the flock
}
