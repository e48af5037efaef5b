package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/creditrun/creditrun/policy"
	"github.com/creditrun/creditrun/storage"
	"github.com/creditrun/creditrun/storage/s3test"
)

const s3Bucket = "lake"

// upload copies the local tree dir to prefix of the bucket, as an object
// store's client would: one object per file, no directories.
func upload(t *testing.T, dir, prefix string) string {
	t.Helper()
	ctx := context.Background()
	loc := "s3://" + s3Bucket + "/" + prefix
	root, err := storage.Open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return root.WriteFile(ctx, filepath.ToSlash(rel), data)
	})
	if err != nil {
		t.Fatalf("upload %s to %s: %v", dir, loc, err)
	}
	return loc
}

// s3Night is night with the events, the master and the policy (when
// given) at URLs.
func s3Night(t *testing.T, events, master, to string, flags ...string) (int, string, string) {
	t.Helper()
	out := t.TempDir()
	args := append([]string{"backfill", "--from", start, "--to", to, "--events", events, "--out", out, "--state", master}, flags...)
	code, stderr := creditrun(t, nil, args...)
	return code, stderr, out
}

// nightManifest reads the manifest of a night with its input locations made
// relative to their roots and its timings dropped: what must not differ
// between a night on local disk and the same night on object storage.
func nightManifest(t *testing.T, out, day string, roots ...string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(out, "as_of="+day, "_manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range roots {
		data = []byte(strings.ReplaceAll(string(data), r, "ROOT"))
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "timings_ms")
	return m
}

// TestS3NightSameBytes runs the same two nights from local disk and from
// S3 (versitygw): events, accounts master and policy on the store, every
// output table the same bytes, the manifests the same but for where the
// inputs were and how long it took.
func TestS3NightSameBytes(t *testing.T) {
	srv := s3test.New(t, s3Bucket)
	events, master, _ := setup(t)
	pol := filepath.Join(t.TempDir(), "policy.yaml")
	writeTestFile(t, pol, string(policy.DefaultYAML()))
	code, stderr, ref := night(t, events, master, "2025-03-02", "--policy", pol)
	if code != 0 {
		t.Fatalf("local night: exit %d\n%s", code, stderr)
	}

	s3Events := upload(t, events, "in/events")
	s3Master := upload(t, master, "in/master/accounts")
	s3Policy := upload(t, filepath.Dir(pol), "in/conf") + "/policy.yaml"
	code, stderr, out := s3Night(t, s3Events, s3Master, "2025-03-02", "--policy", s3Policy)
	if code != 0 {
		t.Fatalf("night on S3: exit %d\n%s", code, stderr)
	}
	equalTrees(t, ref, out)
	for _, day := range []string{start, "2025-03-02"} {
		local := nightManifest(t, ref, day, ref, events, master, pol)
		remote := nightManifest(t, out, day, out, s3Events, s3Master, s3Policy)
		if !reflect.DeepEqual(local, remote) {
			a, _ := json.MarshalIndent(local, "", " ")
			b, _ := json.MarshalIndent(remote, "", " ")
			t.Errorf("as_of=%s: the manifests differ beyond paths and timings:\nlocal %s\nS3 %s", day, a, b)
		}
	}
	if !strings.Contains(stderr, `"input fetched"`) {
		t.Errorf("no log line tells the bytes fetched from the store:\n%s", stderr)
	}

	// The store going away is a failure worth a retry (75), not bad input.
	srv.Close()
	code, stderr, _ = s3Night(t, s3Events, s3Master, start)
	if code != 75 || lastLine(t, stderr)["kind"] != "io" {
		t.Errorf("store down: exit %d, want 75 (io, retry later):\n%s", code, stderr)
	}
}

// TestS3NotLanded: what has not landed on S3 is refused as locally, the
// message naming the objects' URLs, exit 75.
func TestS3NotLanded(t *testing.T) {
	s3test.New(t, s3Bucket)
	events, master, _ := setup(t)
	s3Master := upload(t, master, "master/accounts")
	refuse := func(t *testing.T, events string, says ...string) {
		t.Helper()
		code, stderr, out := s3Night(t, events, s3Master, start)
		if code != 75 || lastLine(t, stderr)["kind"] != "input_not_landed" {
			t.Errorf("exit %d, want 75 (input not landed, retry later):\n%s", code, stderr)
		}
		if entries, _ := filepath.Glob(filepath.Join(out, "as_of=*")); len(entries) > 0 {
			t.Errorf("a refused night left %v in OUT", entries)
		}
		for _, s := range says {
			if !strings.Contains(stderr, s) {
				t.Errorf("stderr does not say %q:\n%s", s, stderr)
			}
		}
	}
	t.Run("repayments missing", func(t *testing.T) {
		ev := copyDir(t, events)
		os.RemoveAll(filepath.Join(ev, "repayments"))
		loc := upload(t, ev, "missing")
		refuse(t, loc, "repayments does not exist", "("+loc+"/repayments)")
	})
	t.Run("only _temporary", func(t *testing.T) {
		ev := copyDir(t, events)
		part := filepath.Join(ev, "transactions", "dt="+start)
		staged := filepath.Join(ev, "staged")
		os.Rename(part, staged)
		os.MkdirAll(filepath.Join(part, "_temporary"), 0o755)
		os.Rename(staged, filepath.Join(part, "_temporary", "0"))
		loc := upload(t, ev, "temporary")
		refuse(t, loc, "transactions holds no Parquet file", "still writing", loc+"/transactions/dt="+start+"/_temporary")
	})
	// A wrong location or refused credentials are not input still to
	// land: failed (exit 1, bad input), not retried.
	t.Run("no such bucket", func(t *testing.T) {
		code, stderr, _ := s3Night(t, "s3://no-such-bucket/events", s3Master, start)
		if code != 1 || lastLine(t, stderr)["kind"] != "bad_input" || !strings.Contains(stderr, "s3://no-such-bucket/events/transactions: no such bucket") {
			t.Errorf("exit %d, want 1 (bad input) naming the bucket:\n%s", code, stderr)
		}
	})
	t.Run("credentials refused", func(t *testing.T) {
		loc := upload(t, events, "refused")
		code, stderr := creditrun(t, []string{"AWS_SECRET_ACCESS_KEY=wrong"}, "run", "--as-of", start, "--events", loc,
			"--out", t.TempDir(), "--state", s3Master)
		if code != 1 || lastLine(t, stderr)["kind"] != "bad_input" || !strings.Contains(stderr, loc+"/transactions") {
			t.Errorf("exit %d, want 1 (bad input) naming the dataset:\n%s", code, stderr)
		}
	})
	t.Run("today's partition missing", func(t *testing.T) {
		ev := copyDir(t, events)
		os.RemoveAll(filepath.Join(ev, "repayments", "dt="+start))
		loc := upload(t, ev, "partition")
		refuse(t, loc, "repayments has no partition dt="+start, "--sparse-partitions", loc+"/repayments")
	})
}

// TestS3Layouts: a compact date=YYYYMMDD layout with _SUCCESS markers
// reads on S3 as on local disk.
func TestS3Layouts(t *testing.T) {
	s3test.New(t, s3Bucket)
	events, master, ref := setup(t)
	ev := copyDir(t, events)
	relayout(t, ev, func(d time.Time) string { return "date=" + d.Format("20060102") })
	for _, ds := range eventDatasets {
		parts, _ := filepath.Glob(filepath.Join(ev, ds, "date=*"))
		for _, p := range parts {
			writeTestFile(t, filepath.Join(p, "_SUCCESS"), "")
		}
	}
	s3Events := upload(t, ev, "compact")
	s3Master := upload(t, master, "master/accounts")
	code, stderr, out := s3Night(t, s3Events, s3Master, "2025-03-02", "--require-success-marker")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	equalTrees(t, ref, out)

	// A first night without --state points at the master on the store.
	upload(t, master, "compact/accounts")
	code, stderr = creditrun(t, nil, "run", "--as-of", start, "--events", s3Events, "--out", t.TempDir())
	if hint, _ := lastLine(t, stderr)["hint"].(string); code != 4 || !strings.Contains(hint, "--state "+s3Events+"/accounts") {
		t.Errorf("no state: exit %d, want 4 with a hint naming the master on S3:\n%s", code, stderr)
	}
}

// TestS3Policy: a policy file on S3 is checked and refused as a local one
// is, by its URL.
func TestS3Policy(t *testing.T) {
	srv := s3test.New(t, s3Bucket)
	dir := t.TempDir()
	writeTestFile(t, filepath.Join(dir, "good.yaml"), string(policy.DefaultYAML()))
	writeTestFile(t, filepath.Join(dir, "bad.yaml"), "billing:\n  due_dayz: 20\n")
	writeTestFile(t, filepath.Join(dir, "big.yaml"), string(policy.DefaultYAML())+strings.Repeat("# padding\n", policy.MaxBytes/10))
	loc := upload(t, dir, "conf")

	var out strings.Builder
	if err := run(context.Background(), []string{"policy", "check", loc + "/good.yaml"}, &out, &out); err != nil {
		t.Fatalf("policy check of a policy on S3: %v", err)
	}
	if !strings.Contains(out.String(), loc+"/good.yaml: ok, version ") {
		t.Errorf("policy check says %q", out.String())
	}
	for _, tc := range []struct{ name, says string }{
		{"bad.yaml", loc + "/bad.yaml:2: "},
		{"big.yaml", "a policy file is at most"},
		{"missing.yaml", "stat " + loc + "/missing.yaml: file does not exist"},
	} {
		code, stderr := creditrun(t, nil, "run", "--as-of", start, "--events", dir, "--out", t.TempDir(), "--policy", loc+"/"+tc.name)
		if code != 2 || !strings.Contains(stderr, tc.says) {
			t.Errorf("--policy %s: exit %d, want 2 saying %q:\n%s", tc.name, code, tc.says, stderr)
		}
	}
	// The store going away: the file may be fine, retry later (75).
	srv.Close()
	for _, args := range [][]string{{"policy", "check", loc + "/good.yaml"},
		{"run", "--as-of", start, "--events", dir, "--out", t.TempDir(), "--policy", loc + "/good.yaml"}} {
		code, stderr := creditrun(t, nil, args...)
		if code != 75 {
			t.Errorf("%s with the store down: exit %d, want 75:\n%s", args[0], code, stderr)
		}
	}
}

func TestSplitURL(t *testing.T) {
	for _, tc := range []struct{ u, dir, name string }{
		{"s3://lake/conf/policy.yaml", "s3://lake/conf", "policy.yaml"},
		{"s3://lake/policy.yaml?use_path_style=true", "s3://lake?use_path_style=true", "policy.yaml"},
		{"s3://lake", "s3://lake", ""},
	} {
		if dir, name := splitURL(tc.u); dir != tc.dir || name != tc.name {
			t.Errorf("splitURL(%q) = %q, %q; want %q, %q", tc.u, dir, name, tc.dir, tc.name)
		}
	}
}

// TestS3Gen: `gen --out s3://…` writes the book a local gen writes, object
// for file and byte for byte, and refuses a prefix that holds one already.
func TestS3Gen(t *testing.T) {
	s3test.New(t, s3Bucket)
	local := sample(t, "50", "3")
	url := "s3://" + s3Bucket + "/gen/events"
	args := []string{"gen", "--accounts", "50", "--days", "3", "--start", start, "--seed", "3", "--out", url}
	if code, stderr := creditrun(t, nil, args...); code != 0 {
		t.Fatalf("gen to S3: exit %d\n%s", code, stderr)
	}
	ctx := context.Background()
	root, err := storage.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	want := tree(t, local)
	objects, err := root.List(ctx, ".", true)
	if err != nil {
		t.Fatal(err)
	}
	if len(objects) != len(want) {
		t.Errorf("%d objects at %s, %d files in the local book", len(objects), url, len(want))
	}
	for _, o := range objects {
		got, err := root.ReadFile(ctx, o.Name)
		if err != nil {
			t.Fatal(err)
		}
		if w, ok := want[filepath.FromSlash(o.Name)]; !ok || string(w) != string(got) {
			t.Errorf("%s: not the local book's file (in it: %v)", o.Name, ok)
		}
	}
	code, stderr := creditrun(t, nil, args...)
	if code != 2 || !strings.Contains(stderr, "already holds") {
		t.Errorf("gen onto a book: exit %d, want 2 naming what is there:\n%s", code, stderr)
	}
}
