package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// failure returns the kind, error and hint of a failed run's last line.
func failure(t *testing.T, stderr string) (f struct{ Kind, Error, Hint string }) {
	t.Helper()
	rec := lastLine(t, stderr)
	f.Kind, _ = rec["kind"].(string)
	f.Error, _ = rec["error"].(string)
	f.Hint, _ = rec["hint"].(string)
	return f
}

func TestStateEveryIsValidated(t *testing.T) {
	events := sample(t, "20", "2")
	for _, n := range []string{"0", "-1"} {
		code, stderr := creditrun(t, nil, "backfill", "--from", start, "--to", "2025-03-02", "--state-every", n,
			"--events", events, "--out", t.TempDir(), "--state", filepath.Join(events, "accounts"))
		if code != 2 {
			t.Fatalf("--state-every %s: exit %d, want 2\n%s", n, code, stderr)
		}
		if l := failure(t, stderr); l.Kind != "usage" || !strings.Contains(l.Error, "--state-every "+n) {
			t.Errorf("--state-every %s: %+v, want kind usage naming the flag", n, l)
		}
	}
}

// After a backfill that kept every 4th state, a run of a date whose day
// before has none is behind (exit 4): the message names the nearest date
// with its state and the hint, pasted, publishes the dates from the day
// after it. A scheduler's catch-up after a backfill cut short starts after
// the latest date with its state.
func TestStateNotKeptHintWorksPasted(t *testing.T) {
	events := sample(t, "60", "11")
	out := t.TempDir()
	// Kept: the 1st, 5th and 9th, the last.
	if code, stderr := creditrun(t, nil, "backfill", "--from", start, "--to", "2025-03-09", "--state-every", "4",
		"--events", events, "--out", out, "--state", filepath.Join(events, "accounts")); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	for d, kept := range map[string]bool{"2025-03-01": true, "2025-03-02": false, "2025-03-04": false, "2025-03-05": true, "2025-03-08": false, "2025-03-09": true} {
		if _, err := os.Stat(filepath.Join(out, "as_of="+d, "state", "_state.json")); (err == nil) != kept {
			t.Errorf("as_of=%s: state kept %v, want %v", d, err == nil, kept)
		}
	}
	code, stderr := creditrun(t, nil, "run", "--as-of", "2025-03-04", "--events", events, "--out", out)
	if code != 4 {
		t.Fatalf("run after a date without state: exit %d, want 4\n%s", code, stderr)
	}
	l := failure(t, stderr)
	if l.Kind != "no_state" || !strings.Contains(l.Error, "2025-03-03 in") || !strings.Contains(l.Error, "without its state") ||
		!strings.Contains(l.Error, "is 2025-03-01") {
		t.Errorf("error %q: want no_state naming 2025-03-03, that its state was not kept, and 2025-03-01", l.Error)
	}
	want := "creditrun backfill --from 2025-03-02 --to 2025-03-04 --events " + events + " --out " + out
	if l.Hint != want {
		t.Fatalf("hint %q, want %q", l.Hint, want)
	}
	args, _ := strings.CutPrefix(l.Hint, "creditrun ")
	if code, stderr := creditrun(t, nil, strings.Fields(args)...); code != 0 {
		t.Fatalf("the hint %q: exit %d\n%s", l.Hint, code, stderr)
	}
	for _, d := range []string{"2025-03-02", "2025-03-03", "2025-03-04"} {
		if _, err := os.Stat(filepath.Join(out, "as_of="+d, "state", "_state.json")); err != nil {
			t.Errorf("as_of=%s has no state after the hint: %v", d, err)
		}
	}
	// A backfill cut short leaves its last dates without state: the
	// catch-up starts after the 5th, not after the 8th.
	os.RemoveAll(filepath.Join(out, "as_of=2025-03-09"))
	code, stderr = creditrun(t, nil, "backfill", "--catch-up", "--to", "2025-03-10", "--events", events, "--out", out, "--log-level", "info")
	if code != 0 {
		t.Fatalf("backfill --catch-up: exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, `"as_of":"2025-03-06","day":1,"days":5`) {
		t.Errorf("the catch-up did not start on 2025-03-06:\n%s", stderr)
	}
}

// A backfill that spills the book of the dates it keeps no state of,
// killed at any moment, leaves only whole dates; the catch-up after it
// publishes the same tables as a backfill that kept every state, and the
// spill is gone.
func TestKilledSpillingBackfillLeavesNothingPartial(t *testing.T) {
	events := sample(t, "300", "8")
	master := filepath.Join(events, "accounts")
	ref := t.TempDir()
	if code, stderr := creditrun(t, nil, "backfill", "--from", start, "--to", "2025-03-08",
		"--events", events, "--out", ref, "--state", master); code != 0 {
		t.Fatalf("reference backfill: exit %d\n%s", code, stderr)
	}
	refTree := tree(t, ref)
	for _, delay := range []time.Duration{30, 120, 300, 700} {
		t.Run("after-"+(delay*time.Millisecond).String(), func(t *testing.T) {
			out := t.TempDir()
			cmd := exec.Command(bin, "backfill", "--from", start, "--to", "2025-03-08", "--state-every", "3",
				"--events", events, "--out", out, "--state", master)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			time.Sleep(delay * time.Millisecond)
			cmd.Process.Signal(syscall.SIGKILL)
			err := cmd.Wait()
			var ee *exec.ExitError
			if err != nil && (!errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL) {
				t.Fatalf("killed backfill: %v\n%s", err, stderr.String())
			}
			// Whatever was published before the kill is whole.
			for name, b := range tree(t, out) {
				if strings.HasPrefix(name, "as_of=") && !bytes.Equal(b, refTree[name]) {
					t.Errorf("%s differs from the reference's after the kill", name)
				}
			}
			args := []string{"backfill", "--catch-up", "--to", "2025-03-08", "--events", events, "--out", out}
			if _, err := os.Stat(filepath.Join(out, "as_of="+start, "state", "_state.json")); err != nil {
				args = []string{"backfill", "--from", start, "--to", "2025-03-08", "--events", events, "--out", out, "--state", master}
			}
			if code, stderr := creditrun(t, nil, args...); code != 0 {
				t.Fatalf("%v after the kill: exit %d\n%s", args, code, stderr)
			}
			got := tree(t, out)
			// The state of a date the killed backfill did not keep is
			// the only thing allowed to be missing.
			for name, b := range refTree {
				if g, ok := got[name]; ok && !bytes.Equal(g, b) {
					t.Errorf("%s differs from the reference's", name)
				} else if !ok && !strings.Contains(name, "/state/") {
					t.Errorf("%s: missing after the catch-up", name)
				}
			}
			entries, _ := os.ReadDir(out)
			for _, e := range entries {
				if n := e.Name(); n != ".lock" && !strings.HasPrefix(n, "as_of=") {
					t.Errorf("left behind: %s", n)
				}
			}
		})
	}
}
