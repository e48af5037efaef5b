package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/objout"
	"github.com/creditrun/creditrun/storage"
	"github.com/creditrun/creditrun/storage/s3test"
)

// openStore opens the output root at u as a reader of it does.
func openStore(t *testing.T, u string) *objout.Store {
	t.Helper()
	root, err := storage.Open(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return objout.New(root, objout.Options{Workers: 4})
}

// pull reads the output root at u as every reader must: each date's
// highest commit pointer, the manifest it names and the objects listed
// there, checked against their SHA-256, into a fresh local directory laid
// out as a local output root. It returns the directory and each date's
// commit number.
func pull(t *testing.T, u string) (string, map[string]int) {
	t.Helper()
	ctx := context.Background()
	s := openStore(t, u)
	dir := t.TempDir()
	parts, err := s.Partitions(ctx, ".")
	if err != nil {
		t.Fatal(err)
	}
	seqs := map[string]int{}
	for _, p := range parts {
		ptr, m, err := s.Latest(ctx, p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if _, err := s.Download(ctx, m, filepath.Join(dir, p), nil); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		seqs[strings.TrimPrefix(p, "as_of=")] = ptr.Seq
	}
	return dir, seqs
}

// samePublications checks that the dates of want are published in got
// with the same bytes (the manifests, which hold timings and locations,
// aside).
func samePublications(t *testing.T, want, got string, days ...string) {
	t.Helper()
	for _, d := range days {
		equalTrees(t, filepath.Join(want, "as_of="+d), filepath.Join(got, "as_of="+d))
	}
}

// sigkilled is the exit code creditrun gives a process killed by SIGKILL.
const sigkilled = -int(syscall.SIGKILL)

func s3Out(t *testing.T, prefix string) string { return "s3://" + s3Bucket + "/" + prefix }

// s3Book starts versitygw, generates a book of 100 accounts over 4 days,
// backfills its first `days` nights on local disk as the reference, and
// publishes its first night, from the master, at prefix on the store.
func s3Book(t *testing.T, prefix string, days int) (events, ref, out string) {
	t.Helper()
	s3test.New(t, s3Bucket)
	events = landingBook(t, "100", "4")
	master := filepath.Join(events, "accounts")
	d0, _ := billing.ParseDate(start)
	ref = t.TempDir()
	if code, stderr := creditrun(t, nil, "backfill", "--from", start, "--to", (d0 + billing.Date(days-1)).String(), "--events", events, "--out", ref, "--state", master); code != 0 {
		t.Fatalf("local backfill: exit %d\n%s", code, stderr)
	}
	out = s3Out(t, prefix)
	if code, stderr := creditrun(t, nil, "run", "--as-of", start, "--events", events, "--out", out, "--state", master); code != 0 {
		t.Fatalf("first night: exit %d\n%s", code, stderr)
	}
	return events, ref, out
}

// TestS3OutChain: nights published on S3 (versitygw) are the nights of
// local disk, byte for byte: a backfill, a run that starts from the state
// the store's commit names, a catch-up that finds the last date on the
// store; a rerun commits a new pointer with the same table bytes; the
// report reads the store.
func TestS3OutChain(t *testing.T) {
	s3test.New(t, s3Bucket)
	events := landingBook(t, "100", "4")
	master := filepath.Join(events, "accounts")
	d0, _ := billing.ParseDate(start)
	days := []string{start, (d0 + 1).String(), (d0 + 2).String(), (d0 + 3).String()}
	ref := t.TempDir()
	if code, stderr := creditrun(t, nil, "backfill", "--from", start, "--to", days[3], "--events", events, "--out", ref, "--state", master); code != 0 {
		t.Fatalf("local backfill: exit %d\n%s", code, stderr)
	}
	out := s3Out(t, "book")
	work := t.TempDir()
	steps := [][]string{
		{"backfill", "--from", start, "--to", days[1], "--state", master, "--work", work},
		{"run", "--as-of", days[2]},
		{"backfill", "--catch-up", "--to", days[3]},
	}
	for _, args := range steps {
		args = append(args, "--events", events, "--out", out)
		code, stderr := creditrun(t, nil, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, code, stderr)
		}
		if !strings.Contains(stderr, `"stage":"upload"`) {
			t.Errorf("%v: no log line of the upload:\n%s", args, stderr)
		}
	}
	if entries, _ := os.ReadDir(work); len(entries) != 1 || entries[0].Name() != pipeline.LockFile {
		t.Errorf("--work holds %v after the night, want only its lock", entries)
	}
	got, seqs := pull(t, out)
	samePublications(t, ref, got, days...)
	for _, d := range days {
		if seqs[d] != 1 {
			t.Errorf("as_of=%s: commit %d, want 1", d, seqs[d])
		}
	}
	// The manifest of a night on the store names where it started from
	// on the store, not the staging.
	raw, _ := os.ReadFile(filepath.Join(got, "as_of="+days[2], pipeline.ManifestFile))
	if !strings.Contains(string(raw), `"state_from": "`+out+`/as_of=`+days[1]+`/state"`) {
		t.Errorf("the manifest does not say the night started from the store:\n%s", raw)
	}

	// A rerun: the next pointer, another run, the same tables.
	if code, stderr := creditrun(t, nil, "run", "--as-of", days[3], "--events", events, "--out", out); code != 0 {
		t.Fatalf("rerun: exit %d\n%s", code, stderr)
	}
	again, seqs := pull(t, out)
	if seqs[days[3]] != 2 {
		t.Errorf("rerun: commit %d, want 2", seqs[days[3]])
	}
	// Its run is another, with the same digest of what it read.
	var runs []string
	for _, n := range []string{"000001.json", "000002.json"} {
		raw, err := openStore(t, out).Root().ReadFile(context.Background(), "as_of="+days[3]+"/_commits/"+n)
		var p objout.Pointer
		if err == nil {
			err = json.Unmarshal(raw, &p)
		}
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, p.Run)
	}
	if a, b := strings.Split(runs[0], "-"), strings.Split(runs[1], "-"); len(a) != 3 || len(b) != 3 || a[0] != b[0] || runs[0] == runs[1] {
		t.Errorf("the runs of a night and of its rerun are %s and %s: want the same digest, other ids", runs[0], runs[1])
	}
	samePublications(t, ref, again, days...)

	// The report reads the store and is written there.
	code, stderr := creditrun(t, nil, "report", "--out", out)
	if code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}
	name := fmt.Sprintf("report_%s_%s.html", start, days[3])
	if st, err := openStore(t, out).Root().Stat(context.Background(), name); err != nil || st.Size < 1000 {
		t.Errorf("report on the store: %+v %v", st, err)
	}
	// It is the report of the same book on disk (it fetches only the
	// summaries, manifests and the last night's rejects it reads).
	if code, stderr := creditrun(t, nil, "report", "--out", ref); code != 0 {
		t.Fatalf("report on disk: exit %d\n%s", code, stderr)
	}
	remote, err := openStore(t, out).Root().ReadFile(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	local, err := os.ReadFile(filepath.Join(ref, name))
	if err != nil {
		t.Fatal(err)
	}
	if strings.ReplaceAll(string(remote), out, "OUT") != strings.ReplaceAll(string(local), ref, "OUT") {
		t.Errorf("the report of the book on the store is not the report of the book on disk")
	}
	// backtest reads the book on the store as the book on disk.
	bt := func(out string) string {
		t.Helper()
		code, stdout := creditrunOut(t, "backtest", "--out", out, "--date", start, "--window", "2", "--bad-dpd", "1")
		if code != 0 {
			t.Fatalf("backtest --out %s: exit %d", out, code)
		}
		return strings.ReplaceAll(stdout, out, "OUT")
	}
	if local, remote := bt(ref), bt(out); local != remote || !strings.Contains(remote, "Book OUT,") {
		t.Errorf("backtest on the store differs from on disk:\n%s\n---\n%s", local, remote)
	}

	// A refused night publishes nothing, and its rejected rows go to the
	// store, where its message says they are.
	rejected := copyDir(t, events)
	addZeroPurchase(t, rejected, days[3])
	code, stderr = creditrun(t, nil, "run", "--as-of", days[3], "--events", rejected, "--out", out, "--max-reject-ratio", "0")
	where := out + "/_rejects/as_of=" + days[3] + "/rejects.parquet"
	if code != exitRejected || !strings.Contains(stderr, where) {
		t.Errorf("a refused night: exit %d, want %d naming %s:\n%s", code, exitRejected, where, stderr)
	}
	if _, err := openStore(t, out).Root().Stat(context.Background(), strings.TrimPrefix(where, out+"/")); err != nil {
		t.Errorf("the rejected rows are not on the store: %v", err)
	}
	if _, seqs := pull(t, out); seqs[days[3]] != 2 {
		t.Errorf("a refused night changed the commits of %s: %d, want 2", days[3], seqs[days[3]])
	}

	// A date the store has not committed is not there for a night.
	code, stderr = creditrun(t, nil, "run", "--as-of", (d0 + 5).String(), "--events", events, "--out", out)
	if code != exitBehind || !strings.Contains(stderr, "--from "+(d0+4).String()) {
		t.Errorf("a night after a gap: exit %d, want 4 with a backfill hint from the day after the last on the store:\n%s", code, stderr)
	}
}

// TestS3OutShards: 4 shards and their commit on S3 publish the night of
// one process, table by table; the parts live on the store until the
// commit, which removes them; a shard and a commit killed mid-upload are
// retried and publish the same night. Then a sharded backfill in another
// shard count and its commit of the range.
func TestS3OutShards(t *testing.T) {
	events, ref, out := s3Book(t, "sharded", 4)
	d0, _ := billing.ParseDate(start)
	d1 := (d0 + 1).String()
	shard := func(k string, env ...string) int {
		t.Helper()
		code, stderr := creditrun(t, env, "run", "--as-of", d1, "--events", events, "--out", out, "--shards", "4", "--shard", k)
		if code != 0 && code != sigkilled {
			t.Fatalf("shard %s: exit %d\n%s", k, code, stderr)
		}
		return code
	}
	commit := func(env ...string) (int, string) {
		return creditrun(t, env, "commit", "--as-of", d1, "--out", out, "--shards", "4")
	}
	for _, k := range []string{"0", "1", "2"} {
		shard(k)
	}
	if code := shard("3", "CREDITRUN_CRASHPOINT="+pipeline.CrashUploaded+":3"); code != sigkilled {
		t.Fatalf("shard 3 killed mid-upload: exit %d", code)
	}
	if code, stderr := commit(); code != exitTemporary || lastLine(t, stderr)["kind"] != string(pipeline.KindShardsMissing) {
		t.Fatalf("commit with shard 3's upload killed: exit %d, want 75 shards_missing\n%s", code, stderr)
	}
	shard("3") // retried alone
	for _, point := range []string{pipeline.CrashUploaded + ":5", pipeline.CrashManifest} {
		if code, stderr := commit("CREDITRUN_CRASHPOINT=" + point); code != sigkilled {
			t.Fatalf("commit at %s: exit %d\n%s", point, code, stderr)
		}
		if _, seqs := pull(t, out); seqs[d1] != 0 {
			t.Fatalf("a commit killed at %s published %s", point, d1)
		}
	}
	if code, stderr := commit(); code != 0 {
		t.Fatalf("commit: exit %d\n%s", code, stderr)
	}
	got, _ := pull(t, out)
	sameRows(t, ref, got, d0+1)
	if parts, err := openStore(t, out).Root().List(context.Background(), "_shards", true); err != nil || len(parts) != 0 {
		t.Errorf("the store holds %d objects under _shards/ after the commit (%v)", len(parts), err)
	}

	// The next two nights as a backfill in 2 shards: each fetches the
	// parts of the 4-part state its range meets, the top level's files
	// and the records; one commit publishes both dates.
	d2, d3 := (d0 + 2).String(), (d0 + 3).String()
	_, m, err := openStore(t, out).Latest(context.Background(), "as_of="+d1)
	if err != nil {
		t.Fatal(err)
	}
	for k := range 2 {
		code, stderr := creditrun(t, nil, "backfill", "--from", d2, "--to", d3, "--events", events, "--out", out, "--shards", "2", "--shard", fmt.Sprint(k))
		if code != 0 {
			t.Fatalf("%s shard %d of 2: exit %d\n%s", d2, k, code, stderr)
		}
		// Shard k of 2 is parts 2k and 2k+1 of 4.
		mine := []string{fmt.Sprintf("part=%d-of-4", 2*k), fmt.Sprintf("part=%d-of-4", 2*k+1)}
		want := 0
		for _, o := range m.Objects {
			dir, _, _ := strings.Cut(strings.TrimPrefix(o.Name, "state/"), "/")
			switch {
			case o.Name == pipeline.SuccessFile || o.Name == pipeline.ManifestFile:
			case !strings.HasPrefix(o.Name, "state/"):
				continue
			case strings.HasPrefix(dir, "part=") && !slices.Contains(mine, dir):
				continue
			}
			want++
		}
		if says := fmt.Sprintf(`"objects_downloaded":%d,`, want); !strings.Contains(stderr, says) {
			t.Errorf("shard %d of 2 fetched other than the %d objects of its parts of the state:\n%s", k, want, stderr)
		}
	}
	if code, stderr := creditrun(t, nil, "commit", "--from", d2, "--to", d3, "--out", out, "--shards", "2"); code != 0 {
		t.Fatalf("commit of %s..%s: exit %d\n%s", d2, d3, code, stderr)
	}
	got, _ = pull(t, out)
	sameRows(t, ref, got, d0+2)
	sameRows(t, ref, got, d0+3)
}

// TestS3OutCrashAnywhere: a night killed at every step of its
// publication on S3 (before the upload, after each object, between the
// manifest and the pointer, after the pointer) leaves the store as it
// was, or, once its pointer is written, with the whole new night; the
// retry publishes, the same bytes as a night never killed. Then gc,
// killed at its steps too, removes every run but the latest, and the
// nights after it still run.
func TestS3OutCrashAnywhere(t *testing.T) {
	events, ref, out := s3Book(t, "crash", 3)
	d0, _ := billing.ParseDate(start)
	d1 := (d0 + 1).String()
	night := func(env ...string) (int, string) {
		return creditrun(t, env, "run", "--as-of", d1, "--events", events, "--out", out)
	}
	objects := len(tree(t, pipeline.PartitionDir(ref, d0+1))) + 1 // and its manifest
	points := []string{pipeline.CrashStaged}
	for i := 1; i <= objects; i++ {
		points = append(points, fmt.Sprintf("%s:%d", pipeline.CrashUploaded, i))
	}
	points = append(points, pipeline.CrashManifest, pipeline.CrashCommitted)
	if len(points) < 20 {
		t.Fatalf("only %d crash points", len(points))
	}
	seq := 0 // the commit of d1 a reader sees
	for _, point := range points {
		code, stderr := night("CREDITRUN_CRASHPOINT=" + point)
		if code != sigkilled {
			t.Fatalf("%s: exit %d, want death by SIGKILL\n%s", point, code, stderr)
		}
		got, seqs := pull(t, out)
		if point == pipeline.CrashCommitted {
			seq++ // committed: the whole night is there
		}
		if seqs[d1] != seq {
			t.Fatalf("killed at %s: a reader sees commit %d of %s, want %d", point, seqs[d1], d1, seq)
		}
		if seq > 0 {
			samePublications(t, ref, got, d1)
		}
		if code, stderr := night(); code != 0 {
			t.Fatalf("retry after %s: exit %d\n%s", point, code, stderr)
		}
		seq++
		got, seqs = pull(t, out)
		if seqs[d1] != seq {
			t.Fatalf("retry after %s: commit %d, want %d", point, seqs[d1], seq)
		}
		samePublications(t, ref, got, start, d1)
	}

	// And at arbitrary moments of a night: SIGKILL after a share of the
	// time a whole night takes, from its start to its pointer.
	t0 := time.Now()
	if code, stderr := night(); code != 0 {
		t.Fatalf("a whole night: exit %d\n%s", code, stderr)
	}
	whole := time.Since(t0)
	seq++
	for i := 1; i <= 8; i++ {
		delay := whole * time.Duration(i) / 9
		cmd := exec.Command(bin, "run", "--as-of", d1, "--events", events, "--out", out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		got, seqs := pull(t, out)
		switch seqs[d1] {
		case seq: // killed before its pointer
		case seq + 1: // or after
			seq++
		default:
			t.Fatalf("killed after %s: a reader sees commit %d, want %d or %d", delay, seqs[d1], seq, seq+1)
		}
		samePublications(t, ref, got, start, d1)
		if code, stderr := night(); code != 0 {
			t.Fatalf("retry after a kill at %s: exit %d\n%s", delay, code, stderr)
		}
		seq++
	}

	// gc: killed after its first pointer and after its first and third
	// run, the readers still see the latest commit; then it finishes, and
	// a second gc finds nothing.
	s := openStore(t, out)
	runs := func() int {
		es, err := s.Root().List(context.Background(), "as_of="+d1, false)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range es {
			if strings.HasPrefix(filepath.Base(e.Name), objout.RunPrefix) {
				n++
			}
		}
		return n
	}
	if n := runs(); n < seq {
		t.Fatalf("%d runs of %s before gc, want at least the %d committed", n, d1, seq)
	}
	gc := func(env ...string) (int, string) {
		return creditrun(t, env, "gc", "--out", out, "--older-than", "0s")
	}
	for _, point := range []string{pipeline.CrashGCPointer + ":1", pipeline.CrashGCRun + ":1", pipeline.CrashGCRun + ":3"} {
		if code, stderr := gc("CREDITRUN_CRASHPOINT=" + point); code != sigkilled {
			t.Fatalf("gc at %s: exit %d\n%s", point, code, stderr)
		}
		got, seqs := pull(t, out)
		if seqs[d1] != seq {
			t.Fatalf("gc killed at %s: a reader sees commit %d, want %d", point, seqs[d1], seq)
		}
		samePublications(t, ref, got, start, d1)
	}
	if code, stderr := gc(); code != 0 {
		t.Fatalf("gc: exit %d\n%s", code, stderr)
	}
	if n := runs(); n != 1 {
		t.Errorf("%d runs of %s after gc, want 1", n, d1)
	}
	code, stdout := creditrunOut(t, "gc", "--out", out, "--older-than", "0s")
	if code != 0 || !strings.HasPrefix(stdout, "Removed 0 runs (0 objects, 0 bytes) and 0 commit pointers") {
		t.Errorf("a second gc: exit %d, %q", code, stdout)
	}
	got, seqs := pull(t, out)
	if seqs[d1] != seq {
		t.Errorf("after gc: commit %d, want %d", seqs[d1], seq)
	}
	samePublications(t, ref, got, start, d1)
	// What a reader needs is there: the next night starts from it.
	if code, stderr := creditrun(t, nil, "run", "--as-of", (d0 + 2).String(), "--events", events, "--out", out); code != 0 {
		t.Fatalf("the night after gc: exit %d\n%s", code, stderr)
	}
	got, _ = pull(t, out)
	samePublications(t, ref, got, (d0 + 2).String())

	// gc keeps young runs: a run killed before its pointer a moment ago
	// may still be committing.
	if code, _ := night("CREDITRUN_CRASHPOINT=" + pipeline.CrashManifest); code != sigkilled {
		t.Fatal("not killed")
	}
	before := runs()
	if code, stderr := creditrun(t, nil, "gc", "--out", out); code != 0 || runs() != before {
		t.Errorf("gc with the default --older-than removed a young run: exit %d, %d runs, want %d\n%s", code, runs(), before, stderr)
	}
}

// creditrunOut runs the binary and returns its exit code and stdout.
func creditrunOut(t *testing.T, args ...string) (int, string) {
	t.Helper()
	var stdout strings.Builder
	err := run(context.Background(), args, &stdout, &strings.Builder{})
	return codeOf(kindOf(err)), stdout.String()
}

// TestS3OutUsage: gc is for object storage; --work only stages an output
// on it; losing the race for a commit pointer is a retry later (75).
func TestS3OutUsage(t *testing.T) {
	for _, args := range [][]string{
		{"gc", "--out", t.TempDir()},
		{"gc", "--out", "s3://lake/x", "--keep-runs", "0"},
		{"run", "--as-of", start, "--events", t.TempDir(), "--out", t.TempDir(), "--work", t.TempDir()},
	} {
		if code, stderr := creditrun(t, nil, args...); code != exitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, code, exitUsage, stderr)
		}
	}
	err := fmt.Errorf("publish: %w", objout.ErrConcurrent)
	if code := codeOf(kindOf(err)); code != exitTemporary || !errors.Is(err, objout.ErrConcurrent) {
		t.Errorf("a lost commit race: exit %d, want %d", code, exitTemporary)
	}
	if code := codeOf(kindOf(fmt.Errorf("read: %w", objout.ErrCorrupt))); code != exitFailed {
		t.Errorf("an object that does not match its commit: exit %d, want %d", code, exitFailed)
	}
}
