package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/fixtures"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/policy"
	"github.com/creditrun/creditrun/report/daily"
)

// The shard function is a fixed function of the id: every id lands in
// exactly one shard, the one whose hash range holds its hash, and the
// ranges of N shards tile the hash space.
func TestShardOfIsTheHashRange(t *testing.T) {
	// SplitMix64's first output from the seed 0 is a published constant.
	if got := pipeline.ShardHash(0); got != 0xe220a8397b1dcdaf {
		t.Fatalf("ShardHash(0) = %#x, want 0xe220a8397b1dcdaf", got)
	}
	for _, n := range []int{1, 2, 3, 4, 7, 64} {
		var next uint64
		for k := range n {
			first, last := pipeline.ShardRange(k, n)
			if first != next || last < first {
				t.Fatalf("n=%d: shard %d is %#x..%#x, want it to start at %#x", n, k, first, last, next)
			}
			next = last + 1
		}
		if next != 0 { // the last range ends at 2^64−1
			t.Fatalf("n=%d: the ranges end at %#x", n, next-1)
		}
		counts := make([]int, n)
		for id := int64(-1000); id < 20000; id++ {
			k := pipeline.ShardOf(id, n)
			first, last := pipeline.ShardRange(k, n)
			if h := pipeline.ShardHash(id); h < first || h > last {
				t.Fatalf("n=%d: id %d (hash %#x) in shard %d of range %#x..%#x", n, id, h, k, first, last)
			}
			counts[k]++
		}
		for k, c := range counts { // the hash spreads consecutive ids evenly
			if want := 21000 / n; c < want*8/10 || c > want*12/10 {
				t.Errorf("n=%d: shard %d has %d of 21000 ids", n, k, c)
			}
		}
	}
}

// shardStart is the first night of the sharded books: their 40 nights
// hold two month ends, the second with the first published (the month
// over month roll rates and the back-test read its tables).
var shardStart = billing.NewDate(2025, 1, 20)

// shardBook generates a book of 40 nights from shardStart.
func shardBook(t *testing.T, accounts int) (string, billing.Date) {
	t.Helper()
	dir := t.TempDir()
	cfg := fixtures.DefaultConfig()
	cfg.Accounts, cfg.Days, cfg.Start, cfg.Seed = accounts, 40, shardStart, 11
	sink, err := fixtures.NewParquetSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.Generate(context.Background(), cfg, sink); err != nil {
		t.Fatal(err)
	}
	return dir, shardStart + 39
}

// runShards runs shards of n for day (every shard, or those listed), one
// after the other, as the pods of an Indexed Job would at once.
func runShards(t *testing.T, opt pipeline.Options, day billing.Date, n int, only ...int) {
	t.Helper()
	for k := range n {
		if len(only) > 0 && !slices.Contains(only, k) {
			continue
		}
		o := opt
		o.Shard = pipeline.Shard{K: k, N: n}
		if _, err := pipeline.Run(context.Background(), o, day); err != nil {
			t.Fatalf("%s shard %d of %d: %v", day, k, n, err)
		}
	}
}

// sortedDump is the rows of a Parquet file as text lines, sorted: the
// table as a set (the header first).
func sortedDump(t *testing.T, path string) []string {
	t.Helper()
	var b bytes.Buffer
	if err := pqfile.DumpFile(&b, path); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	slices.Sort(lines[1:])
	return lines
}

// stateAccounts reads the state in dir, a snapshot or a sharded one, as
// one list of accounts in id order.
func stateAccounts(t *testing.T, dir string) []billing.Account {
	t.Helper()
	if !state.IsSharded(dir) {
		a, err := state.Read(dir)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	top, err := state.ReadSharded(dir)
	if err != nil {
		t.Fatal(err)
	}
	var all []billing.Account
	for _, p := range top.Parts {
		if _, err := state.OpenPart(dir, top, p); err != nil {
			t.Fatal(err)
		}
		a, err := state.Read(filepath.Join(dir, p.Name))
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			if k := pipeline.ShardOf(a[i].ID, p.Shards); k != p.Shard {
				t.Fatalf("%s holds account %d of shard %d", p.Name, a[i].ID, k)
			}
		}
		all = append(all, a...)
	}
	slices.SortFunc(all, func(a, b billing.Account) int { return int(a.ID - b.ID) })
	return all
}

// manifestOf is the manifest of day without what describes the run
// rather than the night (timings, tuning, where the state was read).
func manifestOf(t *testing.T, out string, day billing.Date) map[string]any {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(pipeline.PartitionDir(out, day), pipeline.ManifestFile))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"timings_ms", "workers", "bucket_size", "state_from"} {
		delete(m, k)
	}
	return m
}

// sameNight checks that day in got is the night day in want: every table
// the same rows (as sets: a sharded night's rows are in account order
// within each shard's), the same rejects and daily summary file for file,
// the same state accounts and the same manifest.
func sameNight(t *testing.T, label string, want, got string, day billing.Date) {
	t.Helper()
	wd, gd := pipeline.PartitionDir(want, day), pipeline.PartitionDir(got, day)
	if !pipeline.Published(got, day) {
		t.Fatalf("%s: %s not published", label, day)
	}
	for _, table := range []string{pipeline.TableStatements, pipeline.TableStatementLines, pipeline.TablePlans,
		pipeline.TableDelinquency, pipeline.TableScores, pipeline.TableLimitDecisions, pipeline.TableNotices,
		pipeline.TableBureau, pipeline.TableOffers} {
		w, g := sortedDump(t, filepath.Join(wd, table+".parquet")), sortedDump(t, filepath.Join(gd, table+".parquet"))
		if !slices.Equal(w, g) {
			t.Errorf("%s: %s %s: %d rows, want %d, or they differ", label, day, table, len(g)-1, len(w)-1)
		}
	}
	for _, table := range []string{pipeline.TableRejects, pipeline.TableDailySummary} {
		w, _ := os.ReadFile(filepath.Join(wd, table+".parquet"))
		g, _ := os.ReadFile(filepath.Join(gd, table+".parquet"))
		if !bytes.Equal(w, g) {
			t.Errorf("%s: %s %s.parquet differs from the 1-shard night's", label, day, table)
		}
	}
	if w, g := stateAccounts(t, filepath.Join(wd, "state")), stateAccounts(t, filepath.Join(gd, "state")); !reflect.DeepEqual(w, g) {
		t.Errorf("%s: %s: the state holds %d accounts, want %d, or they differ", label, day, len(g), len(w))
	}
	if w, g := manifestOf(t, want, day), manifestOf(t, got, day); !reflect.DeepEqual(w, g) {
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(g)
		t.Errorf("%s: %s manifest\n%s\nwant\n%s", label, day, gj, wj)
	}
}

// N shards and a commit publish the night of the whole book, whatever the
// shard count of each night and of the night before: 4 shards from the
// accounts master, then 1 (a run of the whole book after a sharded
// night), 4, 3, 1 as one shard, 2 (each reading the parts of the other
// count that meet its range), over two month ends.
func TestShardedNightsEqualOneShard(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a book's 60 nights twice")
	}
	t.Parallel()
	events, last := shardBook(t, 400)
	ctx := context.Background()
	ref := t.TempDir()
	if _, err := pipeline.Backfill(ctx, firstRun(events, ref), shardStart, last, nil); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	counts := []int{4, 0, 4, 3, 1, 2} // 0: a run of the whole book
	for day := shardStart; day <= last; day++ {
		opt := options(events, out)
		if day == shardStart {
			opt.State = filepath.Join(events, "accounts")
		}
		n := counts[int(day-shardStart)%len(counts)]
		if n == 0 {
			if _, err := pipeline.Run(ctx, opt, day); err != nil {
				t.Fatalf("%s: %v", day, err)
			}
		} else {
			runShards(t, opt, day, n)
			if pipeline.Published(out, day) {
				t.Fatalf("%s: published before the commit", day)
			}
			if _, err := pipeline.Commit(ctx, opt, day, day, n, nil); err != nil {
				t.Fatalf("%s: commit of %d shards: %v", day, n, err)
			}
			if _, err := os.Stat(filepath.Join(out, "_shards", "as_of="+day.String())); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s: the parts are still there after the commit (%v)", day, err)
			}
		}
		sameNight(t, "n="+string(rune('0'+n)), ref, out, day)
	}
	// The last night is a month end whose summary reads the month end
	// before, which was a sharded night.
	rows, err := pipeline.ReadDailySummary(out, last)
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, r := range rows {
		have[r.Dimension] = true
	}
	if !have[daily.DimRollMonth] || !have[daily.DimBacktest] {
		t.Errorf("%s: no roll_month or backtest rows: the month end before was not read", last)
	}
	// The scorecard tools' sample of a date followed over sharded nights
	// (charge-offs read from the sharded state) is the 1-shard book's.
	o := pipeline.OutcomeOptions{Window: 20, BadDPD: 5}
	day := last - 20
	want, err := pipeline.LoadSample(ref, day, o)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pipeline.LoadSample(out, day, o)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sample of %s: %d rows (%d already bad), want %d (%d), or they differ", day, len(got.Rows), got.AlreadyBad, len(want.Rows), want.AlreadyBad)
	}
}

// A sharded backfill (each shard's own book carried from day to day, in
// memory or read back from its part) and a commit of the range publish
// what a backfill of the whole book does.
func TestShardedBackfillEqualsOneShard(t *testing.T) {
	if testing.Short() {
		t.Skip("backfills a book five times")
	}
	t.Parallel()
	events, last := shardBook(t, 300)
	ctx := context.Background()
	ref := t.TempDir()
	if _, err := pipeline.Backfill(ctx, firstRun(events, ref), shardStart, last, nil); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	for k := range 4 {
		opt := firstRun(events, out)
		opt.Shard = pipeline.Shard{K: k, N: 4}
		if k >= 2 {
			opt.DaysInFlight = 1 // read back from its part
		}
		if _, err := pipeline.Backfill(ctx, opt, shardStart, last, nil); err != nil {
			t.Fatalf("shard %d: %v", k, err)
		}
	}
	if days := pipeline.PublishedDates(out); len(days) != 0 {
		t.Fatalf("published before the commit: %v", days)
	}
	// The dates are committed in order: a later one first is behind.
	if _, err := pipeline.Commit(ctx, options(events, out), last, last, 4, nil); pipeline.Classify(err) != pipeline.KindNoState {
		t.Fatalf("commit of the last date first: %v, want no_state", err)
	}
	ms, err := pipeline.Commit(ctx, options(events, out), shardStart, last, 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != int(last-shardStart)+1 {
		t.Fatalf("committed %d days, want %d", len(ms), last-shardStart+1)
	}
	for day := shardStart; day <= last; day++ {
		sameNight(t, "backfill", ref, out, day)
	}
}

// A night's commit refuses, publishing nothing, while a part is missing
// (retryable); a failed shard retried alone completes the night; parts of
// another policy or other inputs are refused, naming the part; a rerun of
// every shard and the commit gives the same bytes.
func TestCommitRefusesAndRetries(t *testing.T) {
	const days = 3
	events := genBook(t, 300, days)
	ctx := context.Background()
	ref := t.TempDir()
	if _, err := pipeline.Backfill(ctx, firstRun(events, ref), bookStart, bookStart+days-1, nil); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := pipeline.Backfill(ctx, firstRun(events, out), bookStart, bookStart, nil); err != nil {
		t.Fatal(err)
	}
	day := bookStart + 1
	opt := options(events, out)
	runShards(t, opt, day, 4, 0, 1, 3)
	// Shard 2 fails (here: it is interrupted) and leaves no part.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	o := opt
	o.Shard = pipeline.Shard{K: 2, N: 4}
	if _, err := pipeline.Run(cctx, o, day); err == nil {
		t.Fatal("an interrupted shard succeeded")
	}
	_, err := pipeline.Commit(ctx, opt, day, day, 4, nil)
	if !errors.Is(err, pipeline.ErrShardsMissing) || pipeline.Classify(err) != pipeline.KindShardsMissing ||
		!pipeline.KindShardsMissing.Retryable() || !strings.Contains(err.Error(), "shard 2 of 4") {
		t.Fatalf("commit without shard 2: %v (%s), want shards_missing naming shard 2", err, pipeline.Classify(err))
	}
	if pipeline.Published(out, day) {
		t.Fatal("published with a part missing")
	}
	if _, err := os.Stat(pipeline.PartitionDir(out, day)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("as_of=%s exists after a refused commit: %v", day, err)
	}

	// Shard 2 under another policy: refused, naming it.
	other := policy.Default()
	pol, err := policy.Parse("other.yaml", append(policy.DefaultYAML(), []byte("\n# another version\n")...))
	if err != nil {
		t.Fatal(err)
	}
	if pol.Version == other.Version {
		t.Fatal("the edited policy has the same version")
	}
	o.Policy = pol
	if _, err := pipeline.Run(ctx, o, day); err == nil {
		t.Fatal("a shard ran under another policy than its state's without --policy-change")
	}
	o.PolicyChange = true
	if _, err := pipeline.Run(ctx, o, day); err != nil {
		t.Fatal(err)
	}
	_, err = pipeline.Commit(ctx, opt, day, day, 4, nil)
	if !errors.Is(err, pipeline.ErrPartsDisagree) || pipeline.Classify(err) != pipeline.KindPartsDisagree ||
		!strings.Contains(err.Error(), "k=2") || !strings.Contains(err.Error(), "policy") {
		t.Fatalf("commit of a part of another policy: %v, want parts_disagree naming k=2", err)
	}

	// Shard 2 on other inputs (a copy of the events): refused.
	copied := filepath.Join(t.TempDir(), "events")
	if err := os.CopyFS(copied, os.DirFS(events)); err != nil {
		t.Fatal(err)
	}
	o = opt
	o.Events = copied
	o.Shard = pipeline.Shard{K: 2, N: 4}
	if _, err := pipeline.Run(ctx, o, day); err != nil {
		t.Fatal(err)
	}
	_, err = pipeline.Commit(ctx, opt, day, day, 4, nil)
	if !errors.Is(err, pipeline.ErrPartsDisagree) || !strings.Contains(err.Error(), "k=2") || !strings.Contains(err.Error(), "inputs") {
		t.Fatalf("commit of a part of other inputs: %v, want parts_disagree naming k=2's inputs", err)
	}
	if pipeline.Published(out, day) {
		t.Fatal("published parts that disagree")
	}

	// The failed shard retried alone: the night is the 1-shard night.
	runShards(t, opt, day, 4, 2)
	if _, err := pipeline.Commit(ctx, opt, day, day, 4, nil); err != nil {
		t.Fatal(err)
	}
	sameNight(t, "retried", ref, out, day)
	first := published(t, pipeline.PartitionDir(out, day))

	// The what-if of two policies reads a sharded state as the state of
	// the whole book.
	w1, _, err := pipeline.WhatIf(ctx, other, pol, pipeline.StateDir(ref, day), "", opt)
	if err != nil {
		t.Fatal(err)
	}
	w2, _, err := pipeline.WhatIf(ctx, other, pol, pipeline.StateDir(out, day), "", opt)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w1, w2) {
		t.Errorf("what-if on the sharded state:\n%+v\nwant\n%+v", w2, w1)
	}

	// A rerun of every shard and the commit: the same bytes.
	runShards(t, opt, day, 4)
	if _, err := pipeline.Commit(ctx, opt, day, day, 4, nil); err != nil {
		t.Fatal(err)
	}
	again := published(t, pipeline.PartitionDir(out, day))
	for _, name := range sortedNames(first) {
		if !bytes.Equal(first[name], again[name]) {
			t.Errorf("rerun: %s differs", name)
		}
	}
	if len(first) != len(again) {
		t.Errorf("rerun: %d files, first %d", len(again), len(first))
	}

	// The next night's shards refuse to start from parts of a state that
	// was published again since they ran.
	next := day + 1
	runShards(t, opt, next, 2)
	runShards(t, opt, day, 4) // day's shards and commit again: its state's
	if _, err := pipeline.Commit(ctx, opt, day, day, 4, nil); err != nil {
		t.Fatal(err)
	}
	_, err = pipeline.Commit(ctx, opt, next, next, 2, nil)
	if err != nil { // the same bytes: the parts still match the state
		t.Fatalf("the state republished with the same bytes: %v", err)
	}
	sameNight(t, "next", ref, out, next)
}
