package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
		rd, od := pipeline.PartitionDir(ref, day), pipeline.PartitionDir(out, day)
		for _, table := range []string{pipeline.TableStatements, pipeline.TableStatementLines, pipeline.TablePlans, pipeline.TableDelinquency,
			pipeline.TableScores, pipeline.TableLimitDecisions, pipeline.TableNotices, pipeline.TableBureau, pipeline.TableOffers,
			pipeline.TableRejects, pipeline.TableDailySummary} {
			if w, g := tableSet(t, filepath.Join(rd, table+".parquet")), tableSet(t, filepath.Join(od, table+".parquet")); !slices.Equal(w, g) {
				t.Errorf("%s %s: %d rows, want %d, or they differ", day, table, len(g)-1, len(w)-1)
			}
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(out, "_shards")); len(entries) != 1 || entries[0].Name() != ".locks" {
		t.Errorf("_shards/ holds %v after the commits, want only the locks", entries)
	}
}
