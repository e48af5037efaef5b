package objout_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creditrun/creditrun/pipeline/objout"
	"github.com/creditrun/creditrun/storage"
)

func memStore(t *testing.T, opt objout.Options) *objout.Store {
	t.Helper()
	root, err := storage.Open(context.Background(), "mem://"+strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))+"/out")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	return objout.New(root, opt)
}

// tree writes files (name → content) under a fresh directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPublishLatestDownload(t *testing.T) {
	ctx := context.Background()
	var steps []string
	s := memStore(t, objout.Options{Workers: 2, Step: func(step string, n int) { steps = append(steps, step) }})
	if _, _, err := s.Latest(ctx, "as_of=2025-03-01"); !errors.Is(err, objout.ErrNotPublished) {
		t.Fatalf("before any commit: %v, want ErrNotPublished", err)
	}
	files := map[string]string{"a.parquet": "aaaa", "state/b.parquet": "bb", "_SUCCESS": ""}
	p, st, err := s.Publish(ctx, "as_of=2025-03-01", tree(t, files), objout.RunID([]byte("in"), time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if p.Seq != 1 || st.Objects != 3 || st.Bytes != 6 {
		t.Errorf("first commit: seq %d, %d objects of %d bytes; want 1, 3, 6", p.Seq, st.Objects, st.Bytes)
	}
	if want := "uploaded uploaded uploaded manifest committed"; strings.Join(steps, " ") != want {
		t.Errorf("steps %q, want %q", strings.Join(steps, " "), want)
	}
	lp, m, err := s.Latest(ctx, "as_of=2025-03-01")
	if err != nil {
		t.Fatal(err)
	}
	if lp.Run != p.Run || len(m.Objects) != 3 || m.Objects[0].Name != "_SUCCESS" {
		t.Errorf("latest %+v %+v", lp, m)
	}
	dst := t.TempDir()
	if _, err := s.Download(ctx, m, dst, func(n string) bool { return !strings.HasPrefix(n, "state/") }); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dst, "a.parquet")); string(got) != "aaaa" {
		t.Errorf("downloaded a.parquet %q", got)
	}
	if _, err := os.Stat(filepath.Join(dst, "state")); err == nil {
		t.Error("the filter let state/ through")
	}
	// A rerun commits the next number; readers take it.
	p2, _, err := s.Publish(ctx, "as_of=2025-03-01", tree(t, map[string]string{"a.parquet": "AAAA"}), objout.RunID([]byte("in"), time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if p2.Seq != 2 || p2.Run == p.Run {
		t.Errorf("rerun: seq %d run %s (first %s)", p2.Seq, p2.Run, p.Run)
	}
	if lp, _, _ := s.Latest(ctx, "as_of=2025-03-01"); lp.Run != p2.Run {
		t.Errorf("latest after the rerun is %s, want %s", lp.Run, p2.Run)
	}
	parts, err := s.Partitions(ctx, ".")
	if err != nil || len(parts) != 1 || parts[0] != "as_of=2025-03-01" {
		t.Errorf("partitions %v %v", parts, err)
	}
}

// Two runs that uploaded at once race for the same pointer: one wins.
func TestConcurrentCommit(t *testing.T) {
	ctx := context.Background()
	s := memStore(t, objout.Options{})
	dir := tree(t, map[string]string{"a": "1"})
	m1, _, err := s.Upload(ctx, "p", dir, "run-1")
	if err != nil {
		t.Fatal(err)
	}
	m2, _, err := s.Upload(ctx, "p", dir, "run-2")
	if err != nil {
		t.Fatal(err)
	}
	// Run 2 takes number 1 while run 1 is between its manifest and its
	// pointer.
	var loser error
	s1 := objout.New(s.Root(), objout.Options{Step: func(step string, _ int) {
		if step == objout.StepManifest {
			if _, err := s.Commit(ctx, m2); err != nil {
				t.Fatal(err)
			}
		}
	}})
	_, loser = s1.Commit(ctx, m1)
	if !errors.Is(loser, objout.ErrConcurrent) {
		t.Fatalf("the loser got %v, want ErrConcurrent", loser)
	}
	if p, _, _ := s.Latest(ctx, "p"); p.Run != "run-2" || p.Seq != 1 {
		t.Errorf("latest %+v, want run-2 at 1", p)
	}
}

func TestCorruptObjectRefused(t *testing.T) {
	ctx := context.Background()
	s := memStore(t, objout.Options{})
	p, _, err := s.Publish(ctx, "p", tree(t, map[string]string{"a": "good"}), "r")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Root().WriteFile(ctx, "p/run=r/a", []byte("evil")); err != nil {
		t.Fatal(err)
	}
	_, m, err := s.Latest(ctx, "p")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Download(ctx, m, t.TempDir(), nil); !errors.Is(err, objout.ErrCorrupt) {
		t.Errorf("a changed object: %v, want ErrCorrupt", err)
	}
	// A manifest changed after its commit is refused too.
	if err := s.Root().WriteFile(ctx, "p/"+p.Manifest, []byte(`{"format":1,"partition":"p","run":"r","objects":[]}`)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Latest(ctx, "p"); !errors.Is(err, objout.ErrCorrupt) {
		t.Errorf("a changed manifest: %v, want ErrCorrupt", err)
	}
}

func TestGC(t *testing.T) {
	ctx := context.Background()
	s := memStore(t, objout.Options{})
	dir := tree(t, map[string]string{"a": "1", "b/c": "22"})
	for _, id := range []string{"r1", "r2", "r3"} {
		if _, _, err := s.Publish(ctx, "p", dir, id); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Upload(ctx, "p", dir, "dead"); err != nil { // never committed
		t.Fatal(err)
	}
	runs := func() string {
		es, err := s.Root().List(ctx, "p", false)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, filepath.Base(e.Name))
		}
		return strings.Join(names, " ")
	}
	// Too young: nothing goes.
	st, err := s.GC(ctx, "p", objout.GCOptions{KeepRuns: 1, OlderThan: time.Hour, Now: time.Now()})
	if err != nil || st != (objout.GCStats{}) {
		t.Fatalf("young: %+v %v", st, err)
	}
	later := time.Now().Add(2 * time.Hour)
	st, err = s.GC(ctx, "p", objout.GCOptions{KeepRuns: 2, OlderThan: time.Hour, Now: later})
	if err != nil {
		t.Fatal(err)
	}
	// r1's two objects and its manifest, and the two of the run never
	// committed.
	if st.Pointers != 1 || st.Runs != 2 || st.Objects != 5 {
		t.Errorf("keep 2: removed %+v, want 1 pointer, 2 runs, 5 objects", st)
	}
	if got := runs(); got != "_commits run=r2 run=r3" {
		t.Errorf("after keep 2: %s", got)
	}
	st, err = s.GC(ctx, "p", objout.GCOptions{KeepRuns: 1, OlderThan: time.Hour, Now: later})
	if err != nil || st.Runs != 1 || st.Pointers != 1 {
		t.Errorf("keep 1: %+v %v", st, err)
	}
	st, err = s.GC(ctx, "p", objout.GCOptions{KeepRuns: 1, OlderThan: time.Hour, Now: later})
	if err != nil || st != (objout.GCStats{}) {
		t.Errorf("again: %+v %v, want nothing removed", st, err)
	}
	p, m, err := s.Latest(ctx, "p")
	if err != nil || p.Run != "r3" || p.Seq != 3 {
		t.Fatalf("latest after gc: %+v %v", p, err)
	}
	got := t.TempDir()
	if _, err := s.Download(ctx, m, got, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(got, "b", "c")); !bytes.Equal(b, []byte("22")) {
		t.Errorf("the latest run after gc: %q", b)
	}
	if _, err := s.GC(ctx, "p", objout.GCOptions{KeepRuns: 0}); err == nil {
		t.Error("keep-runs 0 accepted")
	}
}
