package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/policy"
)

// tableSet is the rows of a Parquet file as sorted text lines.
func tableSet(t *testing.T, path string) []string {
	t.Helper()
	var b bytes.Buffer
	if err := pqfile.DumpFile(&b, path); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	slices.Sort(lines[1:])
	return lines
}

// sameRows checks that day's tables in got have the rows of ref's, as sets.
func sameRows(t *testing.T, ref, got string, day billing.Date) {
	t.Helper()
	rd, od := pipeline.PartitionDir(ref, day), pipeline.PartitionDir(got, day)
	for _, table := range []string{pipeline.TableStatements, pipeline.TableStatementLines, pipeline.TablePlans, pipeline.TableDelinquency,
		pipeline.TableScores, pipeline.TableLimitDecisions, pipeline.TableNotices, pipeline.TableBureau, pipeline.TableOffers,
		pipeline.TableRejects, pipeline.TableDailySummary} {
		if w, g := tableSet(t, filepath.Join(rd, table+".parquet")), tableSet(t, filepath.Join(od, table+".parquet")); !slices.Equal(w, g) {
			t.Errorf("%s %s: %d rows, want %d, or they differ", day, table, len(g)-1, len(w)-1)
		}
	}
}

// The command line of a sharded night: shards by --shard or by
// JOB_COMPLETION_INDEX, a commit that exits 75 (shards_missing) while a
// part is missing and 1 (parts_disagree) under another policy, then
// publishes; a sharded backfill and its commit; every night equal, table
// by table as sets, to the night of one process.
func TestShardedNightsCommandLine(t *testing.T) {
	events := sample(t, "300", "6")
	master := filepath.Join(events, "accounts")
	d0, _ := billing.ParseDate(start)
	last := d0 + 5
	ref := t.TempDir()
	if code, stderr := creditrun(t, nil, "backfill", "--from", start, "--to", last.String(), "--events", events, "--out", ref, "--state", master); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	out := t.TempDir()
	if code, stderr := creditrun(t, nil, "run", "--as-of", start, "--events", events, "--out", out, "--state", master); code != 0 {
		t.Fatalf("first night: exit %d\n%s", code, stderr)
	}
	d1 := (d0 + 1).String()
	for _, bad := range [][]string{{"--shards", "3"}, {"--shards", "3", "--shard", "3"}, {"--shard", "1"}, {"--shards", "3", "--shard", "x"}} {
		args := append([]string{"run", "--as-of", d1, "--events", events, "--out", out}, bad...)
		if code, stderr := creditrun(t, []string{"JOB_COMPLETION_INDEX="}, args...); code != exitUsage {
			t.Errorf("run %v: exit %d, want %d\n%s", bad, code, exitUsage, stderr)
		}
	}
	shard := func(day string, k string, env bool) {
		t.Helper()
		args := []string{"run", "--as-of", day, "--events", events, "--out", out, "--shards", "3"}
		var e []string
		if env {
			e = []string{"JOB_COMPLETION_INDEX=" + k}
		} else {
			args = append(args, "--shard", k)
		}
		if code, stderr := creditrun(t, e, args...); code != 0 {
			t.Fatalf("%s shard %s: exit %d\n%s", day, k, code, stderr)
		}
	}
	shard(d1, "0", true)
	shard(d1, "2", false)
	code, stderr := creditrun(t, nil, "commit", "--as-of", d1, "--out", out, "--shards", "3")
	if rec := lastLine(t, stderr); code != exitTemporary || rec["kind"] != string(pipeline.KindShardsMissing) || rec["retryable"] != true {
		t.Fatalf("commit without shard 1: exit %d, %v; want 75 shards_missing\n%s", code, rec, stderr)
	}
	if pipeline.Published(out, d0+1) {
		t.Fatal("published with a part missing")
	}
	shard(d1, "1", true)
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, append(policy.DefaultYAML(), "\n# another version\n"...), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stderr = creditrun(t, nil, "commit", "--as-of", d1, "--out", out, "--shards", "3", "--policy", other)
	if rec := lastLine(t, stderr); code != exitFailed || rec["kind"] != string(pipeline.KindPartsDisagree) {
		t.Fatalf("commit under another policy: exit %d, %v; want 1 parts_disagree\n%s", code, rec, stderr)
	}
	if code, stderr := creditrun(t, nil, "commit", "--as-of", d1, "--out", out, "--shards", "3"); code != 0 {
		t.Fatalf("commit: exit %d\n%s", code, stderr)
	}
	// The rest as a sharded backfill of 2 shards, committed as a range.
	d2 := (d0 + 2).String()
	for _, k := range []string{"0", "1"} {
		if code, stderr := creditrun(t, []string{"JOB_COMPLETION_INDEX=" + k}, "backfill", "--from", d2, "--to", last.String(),
			"--events", events, "--out", out, "--shards", "2"); code != 0 {
			t.Fatalf("backfill shard %s: exit %d\n%s", k, code, stderr)
		}
	}
	if code, stderr := creditrun(t, nil, "commit", "--from", d2, "--to", last.String(), "--out", out, "--shards", "2"); code != 0 {
		t.Fatalf("commit --from --to: exit %d\n%s", code, stderr)
	}
	for day := d0; day <= last; day++ {
		sameRows(t, ref, out, day)
	}
	if entries, _ := os.ReadDir(filepath.Join(out, "_shards")); len(entries) != 1 || entries[0].Name() != ".locks" {
		t.Errorf("_shards/ holds %v after the commits, want only the locks", entries)
	}
}

// A shard or a commit killed at any crash point leaves nothing partial
// visible: no part (or the earlier attempt's), no published date (or the
// whole one); the shard retried alone and the commit retried publish the
// night, the same bytes as a night that was never killed.
func TestShardedCrashAnywhere(t *testing.T) {
	events := sample(t, "300", "3")
	master := filepath.Join(events, "accounts")
	base := t.TempDir()
	if code, stderr := creditrun(t, nil, "run", "--as-of", start, "--events", events, "--out", base, "--state", master); code != 0 {
		t.Fatalf("first night: exit %d\n%s", code, stderr)
	}
	d0, _ := billing.ParseDate(start)
	day := (d0 + 1).String()
	shard := func(out, k string, env ...string) int {
		t.Helper()
		code, _ := creditrun(t, env, "run", "--as-of", day, "--events", events, "--out", out, "--shards", "3", "--shard", k)
		return code
	}
	commit := func(out string, env ...string) (int, string) {
		t.Helper()
		return creditrun(t, env, "commit", "--as-of", day, "--out", out, "--shards", "3")
	}
	ref := copyDir(t, base)
	for _, k := range []string{"0", "1", "2"} {
		if code := shard(ref, k); code != 0 {
			t.Fatalf("shard %s: exit %d", k, code)
		}
	}
	if code, stderr := commit(ref); code != 0 {
		t.Fatalf("commit: exit %d\n%s", code, stderr)
	}
	refDay := filepath.Join(ref, "as_of="+day)
	killed := -int(syscall.SIGKILL)
	for _, point := range []string{pipeline.CrashOutputs, pipeline.CrashFilled} {
		for _, retry := range []bool{false, true} { // a first attempt, and one over an earlier part
			name := "shard/" + point
			if retry {
				name += "/over-a-part"
			}
			t.Run(name, func(t *testing.T) {
				out := copyDir(t, base)
				shard(out, "0")
				shard(out, "2")
				if retry {
					shard(out, "1")
				}
				if code := shard(out, "1", "CREDITRUN_CRASHPOINT="+point); code != killed {
					t.Fatalf("shard at %s: exit %d, want death by SIGKILL", point, code)
				}
				code, _ := commit(out)
				if retry { // the earlier attempt's part stands
					if code != 0 {
						t.Fatalf("commit over the earlier attempt's part: exit %d, want 0", code)
					}
					equalTrees(t, refDay, filepath.Join(out, "as_of="+day))
					return
				}
				if code != exitTemporary {
					t.Fatalf("commit after the killed first attempt: exit %d, want 75 (its part is missing)", code)
				}
				if code := shard(out, "1"); code != 0 {
					t.Fatalf("shard retried: exit %d", code)
				}
				if code, stderr := commit(out); code != 0 {
					t.Fatalf("commit: exit %d\n%s", code, stderr)
				}
				equalTrees(t, refDay, filepath.Join(out, "as_of="+day))
			})
		}
	}
	for _, point := range []string{pipeline.CrashFilled, pipeline.CrashSynced, pipeline.CrashRenamed, pipeline.CrashPublished} {
		t.Run("commit/"+point, func(t *testing.T) {
			out := copyDir(t, base)
			for _, k := range []string{"0", "1", "2"} {
				shard(out, k)
			}
			if code, _ := commit(out, "CREDITRUN_CRASHPOINT="+point); code != killed {
				t.Fatalf("commit at %s: exit %d, want death by SIGKILL", point, code)
			}
			dayDir := filepath.Join(out, "as_of="+day)
			if _, err := os.Stat(filepath.Join(dayDir, "_SUCCESS")); err == nil {
				equalTrees(t, refDay, dayDir) // published before the kill: whole
			} else if _, err := os.Stat(dayDir); err == nil {
				t.Fatalf("as_of=%s is there without _SUCCESS", day)
			}
			if code, stderr := commit(out); code != 0 {
				t.Fatalf("commit retried: exit %d\n%s", code, stderr)
			}
			equalTrees(t, refDay, dayDir)
			if entries, _ := os.ReadDir(filepath.Join(out, "_shards")); len(entries) != 1 {
				t.Errorf("_shards/ holds %v after the commit, want only the locks", entries)
			}
		})
	}
}
