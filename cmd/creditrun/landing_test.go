package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The book of these tests: 100 accounts from 2025-03-01 (start), events in
// dt=2025-02-28 … dt=2025-03-04. In Shanghai the night of 2025-03-01 needs
// dt=2025-02-28 and dt=2025-03-01.

var eventDatasets = []string{"transactions", "repayments", "requests"}

// landingBook generates the book once per test and returns a copy.
func landingBook(t *testing.T, accounts, days string) string {
	t.Helper()
	events := sample(t, accounts, days)
	os.RemoveAll(filepath.Join(events, "labels"))
	return events
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

// night runs the first night (or a backfill up to to) of events, from the
// book's accounts master (kept apart from the events under test).
func night(t *testing.T, events, master, to string, flags ...string) (int, string, string) {
	t.Helper()
	out := t.TempDir()
	args := append([]string{"backfill", "--from", start, "--to", to, "--events", events, "--out", out, "--state", master}, flags...)
	code, stderr := creditrun(t, nil, args...)
	return code, stderr, out
}

// mustPublish runs night and checks that it published exactly ref's tables.
func mustPublish(t *testing.T, ref, events, master, to string, flags ...string) string {
	t.Helper()
	code, stderr, out := night(t, events, master, to, flags...)
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, stderr)
	}
	if ref != "" {
		equalTrees(t, ref, out)
	}
	return stderr
}

// mustRefuse runs the first night and checks that it failed, published
// nothing and said what.
func mustRefuse(t *testing.T, events, master string, says []string, flags ...string) {
	t.Helper()
	code, stderr, out := night(t, events, master, start, flags...)
	if code != 75 || lastLine(t, stderr)["kind"] != "input_not_landed" {
		t.Errorf("exit %d, want 75 (input not landed, retry later):\n%s", code, stderr)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if strings.Contains(e.Name(), "as_of=") {
			t.Errorf("a refused night left %s in OUT", e.Name())
		}
	}
	for _, s := range says {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, stderr)
		}
	}
}

// relayout renames every dt=YYYY-MM-DD partition of the event datasets
// with name(date).
func relayout(t *testing.T, events string, name func(time.Time) string) {
	t.Helper()
	for _, ds := range eventDatasets {
		parts, _ := filepath.Glob(filepath.Join(events, ds, "dt=*"))
		if len(parts) == 0 {
			t.Fatalf("no partitions in %s", ds)
		}
		for _, p := range parts {
			d, err := time.Parse(time.DateOnly, strings.TrimPrefix(filepath.Base(p), "dt="))
			if err != nil {
				t.Fatal(err)
			}
			to := filepath.Join(events, ds, name(d))
			if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(p, to); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// setup returns a generated book's events (without its master), the
// master apart, and the reference outputs of its first two nights.
func setup(t *testing.T) (events, master, ref string) {
	t.Helper()
	events = landingBook(t, "100", "4")
	master = filepath.Join(t.TempDir(), "accounts")
	if err := os.Rename(filepath.Join(events, "accounts"), master); err != nil {
		t.Fatal(err)
	}
	code, stderr, ref := night(t, events, master, "2025-03-02")
	if code != 0 {
		t.Fatalf("reference: exit %d\n%s", code, stderr)
	}
	return events, master, ref
}

func TestLandingRefusesWhatHasNotLanded(t *testing.T) {
	events, master, _ := setup(t)
	t.Run("empty repayments", func(t *testing.T) {
		ev := copyDir(t, events)
		os.RemoveAll(filepath.Join(ev, "repayments"))
		os.Mkdir(filepath.Join(ev, "repayments"), 0o755)
		mustRefuse(t, ev, master, []string{"repayments holds no Parquet file"})
		mustRefuse(t, ev, master, []string{"repayments holds no Parquet file"}, "--sparse-partitions")
	})
	t.Run("only _temporary", func(t *testing.T) {
		ev := copyDir(t, events)
		tx := filepath.Join(ev, "transactions")
		staged := filepath.Join(ev, "staged")
		os.Rename(tx, staged)
		os.MkdirAll(filepath.Join(tx, "_temporary", "0"), 0o755)
		os.Rename(staged, filepath.Join(tx, "_temporary", "0", "_temporary"))
		mustRefuse(t, ev, master, []string{"transactions holds no Parquet file", "still writing", "_temporary"})
	})
	t.Run("only _SUCCESS", func(t *testing.T) {
		ev := copyDir(t, events)
		os.RemoveAll(filepath.Join(ev, "repayments"))
		writeTestFile(t, filepath.Join(ev, "repayments", "_SUCCESS"), "")
		mustRefuse(t, ev, master, []string{"repayments holds no Parquet file, only metadata"})
	})
	t.Run("today's partition missing", func(t *testing.T) {
		ev := copyDir(t, events)
		os.RemoveAll(filepath.Join(ev, "repayments", "dt="+start))
		mustRefuse(t, ev, master, []string{"repayments has no partition dt=" + start, "--sparse-partitions"})
	})
	t.Run("today's partition empty", func(t *testing.T) {
		ev := copyDir(t, events)
		os.Remove(filepath.Join(ev, "transactions", "dt="+start, "part-0.parquet"))
		mustRefuse(t, ev, master, []string{"transactions holds no Parquet file", "dt=" + start})
	})
	t.Run("transactions missing", func(t *testing.T) {
		ev := copyDir(t, events)
		os.RemoveAll(filepath.Join(ev, "transactions"))
		mustRefuse(t, ev, master, []string{"transactions does not exist"})
	})
}

func TestLandingSymlinks(t *testing.T) {
	events, master, ref := setup(t)
	ev := copyDir(t, events)
	store := t.TempDir()
	// The whole transactions dataset is a link.
	if err := os.Rename(filepath.Join(ev, "transactions"), filepath.Join(store, "transactions")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(store, "transactions"), filepath.Join(ev, "transactions")); err != nil {
		t.Fatal(err)
	}
	// Each repayments partition is a link, one of them relative.
	parts, _ := filepath.Glob(filepath.Join(ev, "repayments", "dt=*"))
	for i, p := range parts {
		to := filepath.Join(store, fmt.Sprintf("repayments-%d", i))
		if err := os.Rename(p, to); err != nil {
			t.Fatal(err)
		}
		target := to
		if i == 0 {
			target, _ = filepath.Rel(filepath.Dir(p), to)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	// And the requests dataset a link to a link.
	os.Rename(filepath.Join(ev, "requests"), filepath.Join(store, "requests"))
	os.Symlink(filepath.Join(store, "requests"), filepath.Join(store, "requests-link"))
	os.Symlink(filepath.Join(store, "requests-link"), filepath.Join(ev, "requests"))
	mustPublish(t, ref, ev, master, "2025-03-02")

	// A link to nothing is refused, not taken as an absent dataset.
	os.Remove(filepath.Join(store, "requests-link"))
	mustRefuse(t, ev, master, []string{"requests is a symbolic link to nothing"})
}

func TestLandingLayouts(t *testing.T) {
	events, master, ref := setup(t)
	for _, tc := range []struct {
		name string
		part func(time.Time) string
	}{
		{"date=", func(d time.Time) string { return "date=" + d.Format(time.DateOnly) }},
		{"ds=", func(d time.Time) string { return "ds=" + d.Format(time.DateOnly) }},
		{"dt=YYYYMMDD", func(d time.Time) string { return "dt=" + d.Format("20060102") }},
		{"ds=YYYYMMDD", func(d time.Time) string { return "ds=" + d.Format("20060102") }},
		{"year=/month=/day=", func(d time.Time) string { return d.Format("year=2006/month=1/day=2") }},
		{"year=/month=0m/day=0d", func(d time.Time) string { return d.Format("year=2006/month=01/day=02") }},
		{"region=/dt=", func(d time.Time) string { return "region=cn/dt=" + d.Format(time.DateOnly) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := copyDir(t, events)
			relayout(t, ev, tc.part)
			mustPublish(t, ref, ev, master, "2025-03-02")
			// Today's partition missing: refused, naming it as the layout does.
			today, _ := time.Parse(time.DateOnly, start)
			missing := tc.part(today)
			if err := os.RemoveAll(filepath.Join(ev, "repayments", missing)); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(missing, "year=") {
				missing = today.Format("year=2006/month=01/day=02")
			} else {
				missing = filepath.Base(missing) // below region=cn
			}
			mustRefuse(t, ev, master, []string{"repayments has no partition " + missing})
		})
	}
}

func TestLandingDefaultPartition(t *testing.T) {
	events, master, ref := setup(t)
	ev := copyDir(t, events)
	def := filepath.Join(ev, "transactions", "dt=__HIVE_DEFAULT_PARTITION__")
	if err := os.CopyFS(def, os.DirFS(filepath.Join(ev, "transactions", "dt="+start))); err != nil {
		t.Fatal(err)
	}
	stderr := mustPublish(t, ref, ev, master, "2025-03-02")
	if n := strings.Count(stderr, `"path":"`+def+`"`); n != 2 || !strings.Contains(stderr, `"level":"warn"`) {
		t.Errorf("want a warning naming %s on each of the 2 nights, got %d:\n%s", def, n, stderr)
	}
}

func TestLandingSuccessMarker(t *testing.T) {
	events, master, ref := setup(t)
	ev := copyDir(t, events)
	mustRefuse(t, ev, master, []string{"has no _SUCCESS", "--require-success-marker"}, "--require-success-marker")
	for _, ds := range eventDatasets {
		parts, _ := filepath.Glob(filepath.Join(ev, ds, "dt=*"))
		for _, p := range parts {
			writeTestFile(t, filepath.Join(p, "_SUCCESS"), "")
		}
	}
	// Markers do not change what a night reads, with the option or without.
	mustPublish(t, ref, ev, master, "2025-03-02", "--require-success-marker")
	mustPublish(t, ref, ev, master, "2025-03-02")
	os.Remove(filepath.Join(ev, "repayments", "dt="+start, "_SUCCESS"))
	mustRefuse(t, ev, master, []string{"repayments has no _SUCCESS", "dt=" + start}, "--require-success-marker")
}

// TestLandingSparseDuckDB is the proof that sparse mode reads the layout
// DuckDB's COPY … PARTITION_BY writes, with no directory for a day without
// rows, exactly as the same book with an empty file for each such day.
func TestLandingSparseDuckDB(t *testing.T) {
	modules, err := filepath.Abs("../../scripts/node_modules")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(modules, "@duckdb", "node-api")); err != nil {
		t.Skip("scripts/node_modules is not installed (make test installs it: cd scripts && npm install)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	// 40 days from 2025-03-01: no repayment before the first due dates and
	// few requests, so most days of both have no rows.
	events := landingBook(t, "300", "40")
	last := "2025-04-09"
	duck := t.TempDir()
	script := filepath.Join(t.TempDir(), "partition.cjs")
	writeTestFile(t, script, `const { DuckDBInstance } = require('@duckdb/node-api');
(async () => {
  const [src, dst] = process.argv.slice(2);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  for (const ds of ['accounts', 'transactions', 'repayments', 'requests']) {
    await c.run("COPY (SELECT * FROM read_parquet('" + src + "/" + ds + "/*/*.parquet', hive_partitioning = true)) " +
      "TO '" + dst + "/" + ds + "' (FORMAT parquet, PARTITION_BY (dt))");
  }
})().catch((e) => { console.error(e); process.exit(1); });
`)
	cmd := exec.Command("node", script, events, duck)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("duckdb: %v\n%s", err, out)
	}
	// DuckDB wrote no partition for the days without rows.
	for _, p := range []string{"repayments/dt=2025-03-01", "requests/dt=2025-03-01"} {
		if _, err := os.Stat(filepath.Join(duck, p)); err == nil {
			t.Fatalf("%s exists in the DuckDB book: the book has rows that day, the test proves nothing", p)
		}
		if _, err := os.Stat(filepath.Join(events, p, "part-0.parquet")); err != nil {
			t.Fatalf("the generated book has no empty file for %s: %v", p, err)
		}
	}
	master := filepath.Join(events, "accounts")
	code, stderr, want := night(t, events, master, last)
	if code != 0 {
		t.Fatalf("backfill of the book with empty files: exit %d\n%s", code, stderr)
	}
	mustRefuse(t, duck, master, []string{"repayments has no partition dt=2025-02-28", "--sparse-partitions"})
	mustPublish(t, want, duck, master, last, "--sparse-partitions")
	days, _ := filepath.Glob(filepath.Join(want, "as_of=*"))
	if len(days) != 40 {
		t.Errorf("%d nights published, want 40", len(days))
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
