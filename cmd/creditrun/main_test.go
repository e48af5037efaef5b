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

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/pipeline"
)

var bin string // the creditrun binary, built once

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "creditrun-bin")
	if err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "creditrun")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// creditrun runs the binary and returns its exit code and stderr.
func creditrun(t *testing.T, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal()), stderr.String()
		}
		return ee.ExitCode(), stderr.String()
	}
	t.Fatalf("creditrun %v: %v", args, err)
	return 0, ""
}

const start = "2025-03-01"

// sample generates a small book and returns its directory.
func sample(t *testing.T, accounts, days string) string {
	t.Helper()
	dir := t.TempDir()
	if code, stderr := creditrun(t, nil, "gen", "--accounts", accounts, "--days", days, "--start", start, "--seed", "3", "--out", dir); code != 0 {
		t.Fatalf("gen: exit %d\n%s", code, stderr)
	}
	return dir
}

func tree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if filepath.Base(p) == "_manifest.json" {
			return nil // timings differ by design
		}
		out[rel], _ = os.ReadFile(p)
		return nil
	})
	return out
}

func equalTrees(t *testing.T, a, b string) {
	t.Helper()
	ta, tb := tree(t, a), tree(t, b)
	if len(ta) != len(tb) {
		t.Errorf("%d files in %s, %d in %s", len(ta), a, len(tb), b)
	}
	for k, v := range ta {
		if !bytes.Equal(v, tb[k]) {
			t.Errorf("%s differs", k)
		}
	}
}

func TestCrashAnywhereLeavesNothingPartial(t *testing.T) {
	events := sample(t, "300", "12")
	base := t.TempDir()
	if code, stderr := creditrun(t, nil, "backfill", "--from", start, "--to", "2025-03-11",
		"--events", events, "--out", base, "--state", filepath.Join(events, "accounts")); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	day := "2025-03-12"
	ref := t.TempDir()
	os.CopyFS(ref, os.DirFS(base))
	if code, stderr := creditrun(t, nil, "run", "--as-of", day, "--events", events, "--out", ref); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, stderr)
	}
	refDay := filepath.Join(ref, "as_of="+day)

	check := func(t *testing.T, out string, killed func() int, mustDie bool) {
		code := killed()
		if mustDie && code != -int(syscall.SIGKILL) {
			t.Fatalf("run at a crash point: exit %d, want death by SIGKILL", code)
		}
		if code != -int(syscall.SIGKILL) && code != 0 {
			t.Fatalf("killed run: exit %d", code)
		}
		dayDir := filepath.Join(out, "as_of="+day)
		if _, err := os.Stat(filepath.Join(dayDir, "_SUCCESS")); err == nil {
			equalTrees(t, refDay, dayDir) // published before the kill: must be whole
		}
		if code, stderr := creditrun(t, nil, "run", "--as-of", day, "--events", events, "--out", out); code != 0 {
			t.Fatalf("run after the kill: exit %d\n%s", code, stderr)
		}
		equalTrees(t, refDay, dayDir)
		entries, _ := os.ReadDir(out)
		for _, e := range entries {
			if n := e.Name(); n != ".lock" && !strings.HasPrefix(n, "as_of=") {
				t.Errorf("left behind: %s", n)
			}
		}
	}
	// At every crash point of a night, first run of the date and re-run
	// alike, with the atomic exchange and without it: the run must die
	// there (a point renamed or no longer reached fails), and leave either
	// the earlier publication or the new one, whole.
	for _, point := range pipeline.CrashPoints {
		for _, rerun := range []bool{false, true} {
			for _, noExchange := range []bool{false, true} {
				reached := point != pipeline.CrashAside || (rerun && noExchange)
				name, src := point, base
				if rerun {
					name, src = point+"/rerun", ref
				}
				env := []string{"CREDITRUN_CRASHPOINT=" + point}
				if noExchange {
					name += "/no-exchange"
					env = append(env, "CREDITRUN_PUBLISH_NO_EXCHANGE=1")
				}
				t.Run(name, func(t *testing.T) {
					out := t.TempDir()
					os.CopyFS(out, os.DirFS(src))
					check(t, out, func() int {
						code, _ := creditrun(t, env, "run", "--as-of", day, "--events", events, "--out", out)
						return code
					}, reached)
				})
			}
		}
	}
	// And at arbitrary moments: SIGKILL after a growing delay (bounded count and time).
	for _, delay := range []time.Duration{5, 20, 60, 150, 400} {
		t.Run("after-"+(delay*time.Millisecond).String(), func(t *testing.T) {
			out := t.TempDir()
			os.CopyFS(out, os.DirFS(base))
			check(t, out, func() int {
				cmd := exec.Command(bin, "run", "--as-of", day, "--events", events, "--out", out)
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				time.Sleep(delay * time.Millisecond)
				cmd.Process.Signal(syscall.SIGKILL)
				err := cmd.Wait()
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
						return -int(ws.Signal())
					}
					return ee.ExitCode()
				}
				return 0
			}, false)
		})
	}
}

func TestExitCodes(t *testing.T) {
	events := sample(t, "50", "3")
	accounts := filepath.Join(events, "accounts")
	badPolicy := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(badPolicy, []byte("billing:\n  due_dayz: 9\n"), 0o644)

	// A transactions dataset whose amount is a string.
	mistyped := t.TempDir()
	os.CopyFS(mistyped, os.DirFS(events))
	os.RemoveAll(filepath.Join(mistyped, "transactions"))
	os.MkdirAll(filepath.Join(mistyped, "transactions"), 0o755)
	type badTxn struct {
		TxnID     string `parquet:"txn_id"`
		AccountID int64  `parquet:"account_id"`
		PostedAt  int64  `parquet:"posted_at,timestamp(microsecond)"`
		Kind      string `parquet:"kind"`
		Amount    string `parquet:"amount"`
	}
	if err := parquet.WriteFile(filepath.Join(mistyped, "transactions", "part-0.parquet"), []badTxn{{"t1", 1, 0, "purchase", "12.00"}}); err != nil {
		t.Fatal(err)
	}

	// A day with a rejected row (a purchase of 0.00): above a ratio of 0.
	rejected := t.TempDir()
	os.CopyFS(rejected, os.DirFS(events))
	addZeroPurchase(t, rejected, start)

	// A day whose repayments partition has not landed.
	unlanded := t.TempDir()
	os.CopyFS(unlanded, os.DirFS(events))
	os.RemoveAll(filepath.Join(unlanded, "repayments", "dt="+start))

	// An output whose lock a live process holds.
	locked := t.TempDir()
	lf, err := os.OpenFile(filepath.Join(locked, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	if err := syscall.Flock(int(lf.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		t.Fatal(err)
	}

	// A book published up to 2025-03-01, and a run of 2025-03-03.
	behind := t.TempDir()
	if code, stderr := creditrun(t, nil, "run", "--as-of", start, "--events", events, "--out", behind, "--state", accounts); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}

	for _, tc := range []struct {
		name      string
		args      []string
		code      int
		kind      string
		retryable bool
		stderr    string
	}{
		{"no command", nil, 2, "usage", false, "no command"},
		{"misspelt command", []string{"rn"}, 2, "usage", false, `did you mean \"run\"`},
		{"unknown flag", []string{"run", "--bogus"}, 2, "usage", false, "bogus"},
		{"bad date", []string{"run", "--as-of", "2025-13-01", "--events", events, "--out", t.TempDir()}, 2, "usage", false, "2025-13-01"},
		{"no policy file", []string{"run", "--as-of", start, "--events", events, "--out", t.TempDir(), "--state", accounts, "--policy", "/nonexistent.yaml"}, 2, "usage", false, "nonexistent.yaml"},
		{"bad policy", []string{"run", "--as-of", start, "--events", events, "--out", t.TempDir(), "--state", accounts, "--policy", badPolicy}, 2, "policy_invalid", false, "due_dayz"},
		{"policy check", []string{"policy", "check", badPolicy}, 2, "policy_invalid", false, "bad.yaml:2:"},
		{"mistyped column", []string{"run", "--as-of", start, "--events", mistyped, "--out", t.TempDir(), "--state", accounts}, 1, "bad_input", false, "amount"},
		{"too many rejects", []string{"run", "--as-of", start, "--events", rejected, "--out", t.TempDir(), "--state", accounts, "--max-reject-ratio", "0"}, 3, "too_many_rejects", false, "rejected"},
		{"no state, first run", []string{"run", "--as-of", start, "--events", events, "--out", t.TempDir()}, 4, "no_state", false, "--state"},
		{"behind", []string{"run", "--as-of", "2025-03-03", "--events", events, "--out", behind}, 4, "no_state", false,
			"creditrun backfill --from 2025-03-02 --to 2025-03-03 --events " + events + " --out " + behind},
		{"not landed", []string{"run", "--as-of", start, "--events", unlanded, "--out", t.TempDir(), "--state", accounts}, 75, "input_not_landed", true, "repayments"},
		{"locked", []string{"run", "--as-of", start, "--events", events, "--out", locked, "--state", accounts}, 75, "locked", true, "locked"},
		{"ok", []string{"run", "--as-of", start, "--events", events, "--out", t.TempDir(), "--state", accounts}, 0, "", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, stderr := creditrun(t, nil, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Errorf("creditrun %v = exit %d, want %d with %q in:\n%s", tc.args, code, tc.code, tc.stderr, stderr)
			}
			if tc.code == 0 {
				return
			}
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			var last struct {
				Kind      string `json:"kind"`
				Retryable bool   `json:"retryable"`
				ExitCode  int    `json:"exit_code"`
				Message   string `json:"message"`
			}
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
				t.Fatalf("last line is not JSON: %q", lines[len(lines)-1])
			}
			if last.Kind != tc.kind || last.Retryable != tc.retryable || last.ExitCode != code || last.Message != "creditrun failed" {
				t.Errorf("last line %+v, want kind %s, retryable %v, exit_code %d", last, tc.kind, tc.retryable, code)
			}
		})
	}
}

// The hint of a book that is behind is a command that works as pasted.
func TestCatchUpHintWorksPasted(t *testing.T) {
	events := sample(t, "50", "5")
	out := t.TempDir()
	if code, stderr := creditrun(t, nil, "run", "--as-of", start, "--events", events, "--out", out, "--state", filepath.Join(events, "accounts")); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	code, stderr := creditrun(t, nil, "run", "--as-of", "2025-03-04", "--events", events, "--out", out)
	if code != 4 {
		t.Fatalf("run behind: exit %d, want 4\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	var last struct {
		Hint string `json:"hint"`
	}
	json.Unmarshal([]byte(lines[len(lines)-1]), &last)
	args, ok := strings.CutPrefix(last.Hint, "creditrun ")
	if !ok {
		t.Fatalf("hint %q is not a creditrun command", last.Hint)
	}
	if code, stderr := creditrun(t, nil, strings.Fields(args)...); code != 0 {
		t.Fatalf("the hint %q: exit %d\n%s", last.Hint, code, stderr)
	}
	for _, d := range []string{"2025-03-02", "2025-03-03", "2025-03-04"} {
		if _, err := os.Stat(filepath.Join(out, "as_of="+d, "_SUCCESS")); err != nil {
			t.Errorf("as_of=%s not published by the hint: %v", d, err)
		}
	}
	// What a scheduler runs: catch up to a date, whatever was missed.
	if code, stderr := creditrun(t, nil, "backfill", "--catch-up", "--to", "2025-03-05", "--events", events, "--out", out); code != 0 {
		t.Fatalf("backfill --catch-up: exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "as_of=2025-03-05", "_SUCCESS")); err != nil {
		t.Errorf("as_of=2025-03-05 not published by the catch-up: %v", err)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"help", "run"}, {"run", "-h"}, {"run", "--help"}, {"help", "backfill"}, {"backfill", "-h"},
		{"help", "gen"}, {"gen", "-h"}, {"help", "demo"}, {"demo", "-h"},
		{"help", "policy", "check"}, {"policy", "check", "-h"}, {"policy", "diff", "-h"}, {"help", "policy", "diff"},
		{"policy", "show", "-h"},
	} {
		cmd := exec.Command(bin, args...)
		stdout, err := cmd.Output()
		if err != nil {
			t.Errorf("creditrun %v: %v", args, err)
			continue
		}
		name := args[0]
		if name == "help" {
			name = strings.Join(args[1:], " ")
		} else if name == "policy" {
			name = "policy " + args[1]
		}
		if !strings.HasPrefix(string(stdout), "Usage: creditrun "+name) {
			t.Errorf("creditrun %v printed:\n%s\nwant the usage of %s", args, stdout, name)
		}
		if name != "policy show" && name != "policy check" && !strings.Contains(string(stdout), "Flags:") {
			t.Errorf("creditrun %v lists no flags:\n%s", args, stdout)
		}
	}
	for _, flag := range []string{"--as-of", "--events", "--out", "--state", "--policy", "--workers", "--max-reject-ratio"} {
		out, _ := exec.Command(bin, "run", "-h").Output()
		if !strings.Contains(string(out), strings.TrimPrefix(flag, "-")) {
			t.Errorf("run -h does not list %s", flag)
		}
	}
	for _, group := range []string{"policy", "pmml"} {
		out, err := exec.Command(bin, "help", group).Output()
		if err != nil || !strings.Contains(string(out), "creditrun "+group+" ") {
			t.Errorf("creditrun help %s = %q, %v; want its commands", group, out, err)
		}
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := exec.Command(bin, args...).Output()
		if err != nil || !strings.HasPrefix(string(out), "creditrun ") {
			t.Errorf("creditrun %v = %q, %v", args, out, err)
		}
	}
	// On a pipe, run prints nothing on stdout.
	events := sample(t, "30", "2")
	cmd := exec.Command(bin, "run", "--as-of", start, "--events", events, "--out", t.TempDir(), "--state", filepath.Join(events, "accounts"))
	stdout, err := cmd.Output()
	if err != nil || len(stdout) != 0 {
		t.Errorf("run on a pipe: stdout %q, err %v; want nothing", stdout, err)
	}
}

func TestLogsAreJSONLines(t *testing.T) {
	events := sample(t, "50", "2")
	code, stderr := creditrun(t, nil, "run", "--as-of", start, "--events", events, "--out", t.TempDir(), "--state", filepath.Join(events, "accounts"))
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	stages := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if s, ok := rec["stage"].(string); ok {
			stages[s] = true
			if _, ok := rec["took"]; !ok {
				t.Errorf("stage line without duration: %q", line)
			}
		}
	}
	for _, s := range []string{"read_master", "read_events", "process", "publish"} {
		if !stages[s] {
			t.Errorf("no log line for stage %s", s)
		}
	}
}

func TestPolicyDiff(t *testing.T) {
	events := sample(t, "300", "3")
	out := t.TempDir()
	if code, stderr := creditrun(t, nil, "backfill", "--from", start, "--to", "2025-03-03", "--events", events, "--out", out,
		"--state", filepath.Join(events, "accounts"), "--log-level", "warn"); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	stateDir := filepath.Join(out, "as_of=2025-03-03", "state")
	def, err := os.ReadFile("../../policy/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	same := filepath.Join(dir, "same.yaml")
	os.WriteFile(same, def, 0o644)
	cmd := exec.Command(bin, "policy", "diff", same, same, "--state", stateDir, "--out", filepath.Join(dir, "report"))
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("policy diff: %v", err)
	}
	if !strings.Contains(string(stdout), "no change") {
		t.Errorf("policy diff of a policy against itself:\n%s\nwant \"no change\"", stdout)
	}
	for _, f := range []string{"grade_migration.parquet", "limit_actions.parquet", "changes.parquet"} {
		if _, err := os.Stat(filepath.Join(dir, "report", f)); err != nil {
			t.Errorf("report file: %v", err)
		}
	}
	// OLD NEW may also follow the flags; a missing --state is a usage error.
	if code, stderr := creditrun(t, nil, "policy", "diff", same, same); code != 2 || !strings.Contains(stderr, "--state") {
		t.Errorf("policy diff without --state = exit %d (%s), want 2", code, stderr)
	}
	if code, stderr := creditrun(t, nil, "policy", "diff", "--state", stateDir, same, same); code != 0 {
		t.Errorf("policy diff with flags first = exit %d\n%s", code, stderr)
	}
}

// addZeroPurchase adds to the transactions partition dt=day of events a
// purchase of 0.00: one rejected row (non_positive_amount).
func addZeroPurchase(t *testing.T, events, day string) {
	t.Helper()
	d, err := time.Parse(time.DateOnly, day)
	if err != nil {
		t.Fatal(err)
	}
	one, zero := int32(1), int32(0)
	noon := d.Add(4 * time.Hour).UnixMicro() // noon in Shanghai: the same business date
	if err := parquet.WriteFile(filepath.Join(events, "transactions", "dt="+day, "part-extra.parquet"),
		[]txnRow{{TxnID: "BAD-1", AccountID: 10_000_001, PostedAt: noon, Kind: "purchase", Installments: &one, FeeRate: &zero}}); err != nil {
		t.Fatal(err)
	}
}

// --memprofile leaves a heap profile that go tool pprof reads, and says
// so in the log with the peak it saw.
func TestMemProfile(t *testing.T) {
	events := sample(t, "200", "2")
	prof := filepath.Join(t.TempDir(), "heap.prof")
	code, stderr := creditrun(t, nil, "backfill", "--from", start, "--to", "2025-03-02", "--events", events,
		"--out", t.TempDir(), "--state", filepath.Join(events, "accounts"), "--memprofile", prof)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if !strings.Contains(stderr, `"message":"heap profile written"`) || !strings.Contains(stderr, `"peak_heap_bytes":`) {
		t.Errorf("no log line for the heap profile:\n%s", stderr)
	}
	out, err := exec.Command("go", "tool", "pprof", "-sample_index=inuse_space", "-top", bin, prof).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Type: inuse_space") {
		t.Fatalf("pprof cannot read %s: %v\n%s", prof, err, out)
	}
}
