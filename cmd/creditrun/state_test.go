package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lastLine decodes the last JSON log line of a run.
func lastLine(t *testing.T, stderr string) map[string]any {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rec); err != nil {
		t.Fatalf("last line is not JSON: %q", lines[len(lines)-1])
	}
	return rec
}

// A published state that was changed in any way is refused before any
// account is folded, naming the file (the proof's failure, whatever else
// reading the file did); the night publishes nothing and exits 1.
func TestTamperedStateIsRefused(t *testing.T) {
	events := sample(t, "200", "4")
	base := t.TempDir()
	if code, stderr := creditrun(t, nil, "backfill", "--from", start, "--to", "2025-03-03", "--events", events, "--out", base,
		"--state", filepath.Join(events, "accounts"), "--log-level", "warn"); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	stateOf := func(out, day string) string { return filepath.Join(out, "as_of="+day, "state") }

	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, state, out string)
		file   string // the file the error must name
	}{
		{"a bit flipped in a footer renames credit_limit", func(t *testing.T, state, _ string) {
			path := filepath.Join(state, "accounts.parquet")
			raw, _ := os.ReadFile(path)
			i := bytes.LastIndex(raw, []byte("credit_limit"))
			if i < 0 {
				t.Fatal("no credit_limit in the footer")
			}
			raw[i] ^= 0x01 // credit_limit → bredit_limit
			os.WriteFile(path, raw, 0o644)
		}, "accounts.parquet"},
		{"a table swapped for an older day's copy", func(t *testing.T, state, out string) {
			older, _ := os.ReadFile(filepath.Join(stateOf(out, "2025-03-02"), "accounts.parquet"))
			os.WriteFile(filepath.Join(state, "accounts.parquet"), older, 0o644)
		}, "accounts.parquet"},
		{"a truncated table", func(t *testing.T, state, _ string) {
			path := filepath.Join(state, "history.parquet")
			raw, _ := os.ReadFile(path)
			os.WriteFile(path, raw[:len(raw)/2], 0o644)
		}, "history.parquet"},
		{"garbage in a data page", func(t *testing.T, state, _ string) {
			path := filepath.Join(state, "plans.parquet")
			raw, _ := os.ReadFile(path)
			for i := 8; i < len(raw)/2; i += 7 {
				raw[i] = 0xff
			}
			os.WriteFile(path, raw, 0o644)
		}, "plans.parquet"},
		{"its _state.json removed", func(t *testing.T, state, _ string) {
			os.Remove(filepath.Join(state, "_state.json"))
		}, "_state.json"},
		{"a table missing", func(t *testing.T, state, _ string) {
			os.Remove(filepath.Join(state, "purchases.parquet"))
		}, "purchases.parquet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			os.CopyFS(out, os.DirFS(base))
			tc.tamper(t, stateOf(out, "2025-03-03"), out)
			code, stderr := creditrun(t, nil, "run", "--as-of", "2025-03-04", "--events", events, "--out", out)
			rec := lastLine(t, stderr)
			if code != 1 || rec["kind"] != "bad_state" || !strings.Contains(rec["error"].(string), tc.file) {
				t.Errorf("exit %d, last line %v; want exit 1, kind bad_state, naming %s", code, rec, tc.file)
			}
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "internal error") {
				t.Errorf("a corrupt state file panicked:\n%s", stderr)
			}
			if _, err := os.Stat(filepath.Join(out, "as_of=2025-03-04")); err == nil {
				t.Error("published a night from a tampered state")
			}
		})
	}
}

// A night under another policy than its state's is refused unless the
// change is declared; declared, the manifest records it.
func TestPolicyChangeMustBeDeclared(t *testing.T) {
	events := sample(t, "100", "3")
	out := t.TempDir()
	if code, stderr := creditrun(t, nil, "run", "--as-of", start, "--events", events, "--out", out, "--state", filepath.Join(events, "accounts")); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	def, _ := os.ReadFile("../../policy/default.yaml")
	changed := filepath.Join(t.TempDir(), "changed.yaml")
	os.WriteFile(changed, append(def, []byte("\n# a change\n")...), 0o644)
	args := []string{"run", "--as-of", "2025-03-02", "--events", events, "--out", out, "--policy", changed}
	code, stderr := creditrun(t, nil, args...)
	if rec := lastLine(t, stderr); code != 2 || rec["kind"] != "usage" || !strings.Contains(rec["error"].(string), "--policy-change") {
		t.Fatalf("undeclared policy change: exit %d, %v; want 2 naming --policy-change", code, rec)
	}
	if code, stderr := creditrun(t, nil, append(args, "--policy-change")...); code != 0 {
		t.Fatalf("declared policy change: exit %d\n%s", code, stderr)
	}
	raw, _ := os.ReadFile(filepath.Join(out, "as_of=2025-03-02", "_manifest.json"))
	var m struct {
		From   string `json:"policy_change_from"`
		Source string `json:"policy_source"`
	}
	json.Unmarshal(raw, &m)
	if m.From == "" || m.Source != changed {
		t.Errorf("manifest policy_change_from %q, policy_source %q; want the old version and %s", m.From, m.Source, changed)
	}
}

// A failed re-run of a published date leaves the earlier publication as it
// was, _SUCCESS included, and no debris.
func TestFailedRerunKeepsThePublication(t *testing.T) {
	events := sample(t, "100", "3")
	out := t.TempDir()
	if code, stderr := creditrun(t, nil, "run", "--as-of", start, "--events", events, "--out", out, "--state", filepath.Join(events, "accounts")); code != 0 {
		t.Fatalf("first run: exit %d\n%s", code, stderr)
	}
	before := t.TempDir()
	os.CopyFS(before, os.DirFS(out))
	// The re-run fails late: every table written, the rejects over the ratio.
	broken := t.TempDir()
	os.CopyFS(broken, os.DirFS(events))
	os.RemoveAll(filepath.Join(broken, "repayments"))
	os.MkdirAll(filepath.Join(broken, "repayments"), 0o755)
	os.WriteFile(filepath.Join(broken, "repayments", "part-0.parquet"), []byte("not parquet at all"), 0o644)
	if code, _ := creditrun(t, nil, "run", "--as-of", start, "--events", broken, "--out", out, "--state", filepath.Join(events, "accounts")); code == 0 {
		t.Fatal("re-run with a broken input succeeded")
	}
	equalTrees(t, filepath.Join(before, "as_of="+start), filepath.Join(out, "as_of="+start))
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if n := e.Name(); n != ".lock" && !strings.HasPrefix(n, "as_of=") {
			t.Errorf("left behind: %s", n)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "as_of="+start, "_SUCCESS")); err != nil {
		t.Errorf("the earlier publication lost _SUCCESS: %v", err)
	}
}
