package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	nightlyScript = "../../deploy/cron/creditrun-nightly.sh"
	airflowDir    = "../../deploy/airflow"
)

func TestNightlyScriptLints(t *testing.T) {
	if out, err := exec.Command("bash", "-n", nightlyScript).CombinedOutput(); err != nil {
		t.Errorf("bash -n %s: %v\n%s", nightlyScript, err, out)
	}
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Log("shellcheck not installed: not run")
		return
	}
	if out, err := exec.Command("shellcheck", nightlyScript).CombinedOutput(); err != nil {
		t.Errorf("shellcheck %s: %v\n%s", nightlyScript, err, out)
	}
}

// nightlyRun is what one run of the cron script left: its exit status, what
// it printed on stderr (what cron mails) and its log file, line by line.
type nightlyRun struct {
	code   int
	stderr string
	log    []map[string]any
}

// nightly runs the cron script for business date asOf against the real
// binary, with settings env on top of a neutral environment (a
// CREDITRUN_LOG_DIR among them says where the log goes).
func nightly(t *testing.T, events, out, asOf string, env ...string) nightlyRun {
	t.Helper()
	logDir := filepath.Join(t.TempDir(), "log")
	for _, kv := range env {
		if dir, ok := strings.CutPrefix(kv, "CREDITRUN_LOG_DIR="); ok {
			logDir = dir
		}
	}
	cmd := exec.Command(nightlyScript, asOf)
	cmd.Env = append(os.Environ(),
		"CREDITRUN_BIN="+bin, "CREDITRUN_EVENTS="+events, "CREDITRUN_OUT="+out, "CREDITRUN_LOG_DIR="+logDir,
		"CREDITRUN_POLICY=", "CREDITRUN_TZ=", "CREDITRUN_ARGS=", "CREDITRUN_INPUT_WAIT=0", "CREDITRUN_RETRY_INTERVAL=1",
		"CREDITRUN_MAX_CATCHUP=")
	cmd.Env = append(cmd.Env, env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	r := nightlyRun{stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %s: %v", nightlyScript, asOf, err)
	}
	r.log = readLog(t, filepath.Join(logDir, "creditrun-"+asOf+".log"))
	return r
}

// readLog reads a JSON-lines log file; every line must be JSON.
func readLog(t *testing.T, path string) []map[string]any {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("log file: %v", err)
	}
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		lines = append(lines, rec)
	}
	return lines
}

// own returns the script's own log lines with message msg.
func (r nightlyRun) own(msg string) []map[string]any {
	var out []map[string]any
	for _, rec := range r.log {
		if rec["source"] == "nightly" && rec["message"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// failure returns creditrun's last error line in the log (its kind and
// exit code), or nil.
func (r nightlyRun) failure() map[string]any {
	var last map[string]any
	for _, rec := range r.log {
		if rec["message"] == "creditrun failed" {
			last = rec
		}
	}
	return last
}

// check asserts the exit status, the script's last log line (the outcome,
// with the same exit code), and that cron mails exactly the failures.
func (r nightlyRun) check(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit %d, want %d\nstderr:\n%s\nlog:\n%v", r.code, code, r.stderr, r.log)
	}
	last := r.log[len(r.log)-1]
	if last["source"] != "nightly" || last["exit_code"] != float64(code) {
		t.Errorf("last log line %v, want the script's outcome with exit_code %d", last, code)
	}
	if (code == 0) != (r.stderr == "") {
		t.Errorf("exit %d with stderr %q: cron must mail every failure and nothing else", code, r.stderr)
	}
}

// checkFailure asserts creditrun's JSON error in the log and in the mail.
func (r nightlyRun) checkFailure(t *testing.T, kind string, retryable bool) {
	t.Helper()
	f := r.failure()
	if f == nil || f["kind"] != kind || f["retryable"] != retryable || f["exit_code"] != float64(r.code) {
		t.Errorf("creditrun's error line %v, want kind %s, retryable %v, exit_code %d", f, kind, retryable, r.code)
	}
	if !strings.Contains(r.stderr, `"kind":"`+kind+`"`) {
		t.Errorf("stderr does not pass on creditrun's error of kind %s:\n%s", kind, r.stderr)
	}
}

// execs returns the commands the script ran.
func (r nightlyRun) execs() []string {
	var cmds []string
	for _, rec := range r.own("exec") {
		cmds = append(cmds, rec["command"].(string))
	}
	return cmds
}

// publishedDates lists the dates published in out.
func publishedDates(t *testing.T, out string) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(out, "as_of=*", "_SUCCESS"))
	var days []string
	for _, d := range dirs {
		days = append(days, strings.TrimPrefix(filepath.Base(filepath.Dir(d)), "as_of="))
	}
	return days
}

func checkPublished(t *testing.T, out string, want ...string) {
	t.Helper()
	if got := publishedDates(t, out); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("published %v, want %v", got, want)
	}
}

func TestNightlyScript(t *testing.T) {
	events := sample(t, "60", "5")
	// A book whose first date, 2025-03-01, is published.
	base := t.TempDir()
	if code, stderr := creditrun(t, nil, "run", "--as-of", start, "--events", events, "--out", base, "--state", filepath.Join(events, "accounts")); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	book := func(t *testing.T) string {
		out := t.TempDir()
		if err := os.CopyFS(out, os.DirFS(base)); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// unlanded returns a copy of the events without repayments/dt=D (for
	// Shanghai, business date D needs dt=D-1 and dt=D), and the paths to
	// move it back.
	unlanded := func(t *testing.T, d string) (dir, held, part string) {
		dir = t.TempDir()
		if err := os.CopyFS(dir, os.DirFS(events)); err != nil {
			t.Fatal(err)
		}
		part = filepath.Join(dir, "repayments", "dt="+d)
		held = filepath.Join(t.TempDir(), "dt="+d)
		if err := os.Rename(part, held); err != nil {
			t.Fatal(err)
		}
		return dir, held, part
	}

	t.Run("normal night", func(t *testing.T) {
		out := book(t)
		r := nightly(t, events, out, "2025-03-02")
		r.check(t, 0)
		checkPublished(t, out, "2025-03-01", "2025-03-02")
		if cmds := r.execs(); len(cmds) != 1 || !strings.HasPrefix(cmds[0], "creditrun backfill --catch-up --to 2025-03-02 --events "+events+" --out "+out) {
			t.Errorf("ran %q, want one backfill --catch-up --to 2025-03-02", cmds)
		}
		if len(r.own("nightly done")) != 1 || len(r.own("catching up")) != 0 {
			t.Errorf("log of a normal night:\n%v", r.log)
		}
		// A second attempt of the same night leaves the published date alone.
		before, _ := os.ReadFile(filepath.Join(out, "as_of=2025-03-02", "_manifest.json"))
		r = nightly(t, events, out, "2025-03-02")
		r.check(t, 0)
		after, _ := os.ReadFile(filepath.Join(out, "as_of=2025-03-02", "_manifest.json"))
		if len(r.execs()) != 0 || len(r.own("already published, nothing to do")) != 1 || !bytes.Equal(before, after) {
			t.Errorf("second attempt ran %q:\n%v", r.execs(), r.log)
		}
	})

	t.Run("two days behind", func(t *testing.T) {
		out := book(t)
		r := nightly(t, events, out, "2025-03-04")
		r.check(t, 0)
		checkPublished(t, out, "2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04")
		c := r.own("catching up")
		if len(c) != 1 || c[0]["from"] != "2025-03-02" || c[0]["days"] != float64(3) {
			t.Errorf("catching up lines %v, want one from 2025-03-02 for 3 days", c)
		}
		if cmds := r.execs(); len(cmds) != 1 || !strings.HasPrefix(cmds[0], "creditrun backfill --catch-up --to 2025-03-04 ") {
			t.Errorf("ran %q, want one backfill --catch-up --to 2025-03-04", cmds)
		}
	})

	t.Run("behind beyond CREDITRUN_MAX_CATCHUP", func(t *testing.T) {
		out := book(t)
		r := nightly(t, events, out, "2025-03-04", "CREDITRUN_MAX_CATCHUP=2")
		r.check(t, 4)
		checkPublished(t, out, "2025-03-01")
		if len(r.execs()) != 0 || !strings.Contains(r.stderr, "CREDITRUN_MAX_CATCHUP=2") {
			t.Errorf("ran %q, stderr %q: want nothing run and the limit named", r.execs(), r.stderr)
		}
	})

	t.Run("nothing published yet", func(t *testing.T) {
		out := t.TempDir()
		r := nightly(t, events, out, start)
		r.check(t, 4)
		r.checkFailure(t, "no_state", false)
		checkPublished(t, out)
	})

	t.Run("input not landed", func(t *testing.T) {
		dir, _, _ := unlanded(t, "2025-03-02")
		out := book(t)
		r := nightly(t, dir, out, "2025-03-02")
		r.check(t, 75)
		r.checkFailure(t, "input_not_landed", true)
		checkPublished(t, out, "2025-03-01")
		if n := len(r.execs()); n != 1 {
			t.Errorf("%d attempts with CREDITRUN_INPUT_WAIT=0, want 1", n)
		}
	})

	t.Run("waits for input to land", func(t *testing.T) {
		dir, held, part := unlanded(t, "2025-03-02")
		out := book(t)
		logDir := t.TempDir()
		// Land the partition once the first attempt has been refused.
		done := make(chan error, 1)
		go func() {
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				if raw, _ := os.ReadFile(filepath.Join(logDir, "creditrun-2025-03-02.log")); bytes.Contains(raw, []byte(`"kind":"input_not_landed"`)) {
					done <- os.Rename(held, part)
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
			done <- errors.New("no refused attempt within 30s")
		}()
		r := nightly(t, dir, out, "2025-03-02", "CREDITRUN_LOG_DIR="+logDir, "CREDITRUN_INPUT_WAIT=60", "CREDITRUN_RETRY_INTERVAL=1")
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		r.check(t, 0)
		checkPublished(t, out, "2025-03-01", "2025-03-02")
		if n := len(r.execs()); n < 2 || len(r.own("temporary failure, trying again")) != n-1 {
			t.Errorf("%d attempts, want 2 or more, each refused one followed by a retry:\n%v", n, r.log)
		}
	})

	t.Run("output locked", func(t *testing.T) {
		out := book(t)
		lockPath := filepath.Join(out, ".lock")
		holder := exec.Command("flock", "--close", lockPath, "sleep", "30")
		if err := holder.Start(); err != nil {
			t.Skipf("flock: %v", err)
		}
		defer func() {
			holder.Process.Kill()
			holder.Wait()
		}()
		waitHeld(t, lockPath)
		r := nightly(t, events, out, "2025-03-02")
		r.check(t, 75)
		r.checkFailure(t, "locked", true)
		checkPublished(t, out, "2025-03-01")
	})

	t.Run("bad policy", func(t *testing.T) {
		out := book(t)
		policy := filepath.Join(t.TempDir(), "policy.yaml")
		os.WriteFile(policy, []byte("billing:\n  due_dayz: 9\n"), 0o644)
		r := nightly(t, events, out, "2025-03-02", "CREDITRUN_POLICY="+policy, "CREDITRUN_INPUT_WAIT=5")
		r.check(t, 2)
		r.checkFailure(t, "policy_invalid", false)
		checkPublished(t, out, "2025-03-01")
		if n := len(r.execs()); n != 1 {
			t.Errorf("%d attempts of a bad policy, want 1", n)
		}
	})

	t.Run("bad state", func(t *testing.T) {
		out := book(t)
		os.WriteFile(filepath.Join(out, "as_of="+start, "state", "accounts.parquet"), []byte("garbage"), 0o644)
		r := nightly(t, events, out, "2025-03-02", "CREDITRUN_INPUT_WAIT=5")
		r.check(t, 1)
		r.checkFailure(t, "bad_state", false)
		checkPublished(t, out, "2025-03-01")
		if n := len(r.execs()); n != 1 {
			t.Errorf("%d attempts of a permanent failure, want 1", n)
		}
	})

	t.Run("too many rejects", func(t *testing.T) {
		dir := t.TempDir()
		os.CopyFS(dir, os.DirFS(events))
		addZeroPurchase(t, dir, "2025-03-02")
		out := book(t)
		r := nightly(t, dir, out, "2025-03-02", "CREDITRUN_ARGS=--max-reject-ratio 0", "CREDITRUN_INPUT_WAIT=5")
		r.check(t, 3)
		r.checkFailure(t, "too_many_rejects", false)
		checkPublished(t, out, "2025-03-01")
		if n := len(r.execs()); n != 1 {
			t.Errorf("%d attempts of too many rejects, want 1", n)
		}
	})

	t.Run("bad date", func(t *testing.T) {
		for _, d := range []string{"2025-02-30", "yesterday", "2025-3-1"} {
			cmd := exec.Command(nightlyScript, d)
			cmd.Env = append(os.Environ(), "CREDITRUN_BIN="+bin, "CREDITRUN_LOG_DIR="+t.TempDir())
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 64 {
				t.Errorf("%s %s: %v, want exit 64", nightlyScript, d, err)
			}
		}
	})
}

// waitHeld waits until another process holds the flock on path.
func waitHeld(t *testing.T, path string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if f, err := os.Open(path); err == nil {
			err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			if err == nil {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
			}
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s not locked by the holder within 10s", path)
}

// The Airflow DAG's exit-code mapping, checked by its unittest with the
// airflow modules stubbed (Airflow itself is not needed).
func TestAirflowDAG(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	cmd := exec.Command(python, "-m", "unittest", "-v", "test_creditrun_dag")
	cmd.Dir = airflowDir
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python3 -m unittest: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("OK")) || bytes.Contains(out, []byte("Ran 0 tests")) {
		t.Errorf("python3 -m unittest ran nothing:\n%s", out)
	}
}
