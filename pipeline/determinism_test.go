package pipeline_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/creditrun/creditrun/pipeline"
)

// The outputs are a function of (inputs, as_of, policy) alone: how many
// workers run, how many accounts a bucket holds and whether a backfill
// keeps the book in memory change how the work is cut, never a byte of
// what is published.
func TestOutputsIndependentOfTuning(t *testing.T) {
	if testing.Short() {
		t.Skip("backfills a book eight times")
	}
	const days = 40
	events := genBook(t, 500, days)
	last := bookStart + days - 1
	ctx := context.Background()
	tunings := []struct {
		name                      string
		workers, bucket, inFlight int
	}{
		{name: "defaults"},
		{name: "workers=1", workers: 1},
		{name: "workers=3", workers: 3},
		{name: "bucket-size=1", bucket: 1},
		{name: "bucket-size=97", bucket: 97},
		{name: "bucket-size=4096", bucket: 4096},
		{name: "days-in-flight=1", inFlight: 1},
		{name: "workers=3,bucket-size=97,days-in-flight=4", workers: 3, bucket: 97, inFlight: 4},
	}
	var ref map[string][]byte
	for _, tu := range tunings {
		out := t.TempDir()
		opt := firstRun(events, out)
		def := pipeline.DefaultOptions() // zero: the default
		opt.Workers, opt.BucketSize, opt.DaysInFlight = cmp.Or(tu.workers, def.Workers), cmp.Or(tu.bucket, def.BucketSize), cmp.Or(tu.inFlight, def.DaysInFlight)
		if _, err := pipeline.Backfill(ctx, opt, bookStart, last, nil); err != nil {
			t.Fatalf("%s: backfill: %v", tu.name, err)
		}
		got := published(t, out)
		if ref == nil {
			ref = got
			if len(ref) < days*10 {
				t.Fatalf("%s: %d files published for %d days", tu.name, len(ref), days)
			}
			continue
		}
		for _, name := range sortedNames(ref) {
			if b, ok := got[name]; !ok {
				t.Errorf("%s: %s not published", tu.name, name)
			} else if !bytes.Equal(b, ref[name]) {
				t.Errorf("%s: %s differs from the defaults' (%d bytes, %d with the defaults)", tu.name, name, len(b), len(ref[name]))
			}
		}
		for _, name := range sortedNames(got) {
			if _, ok := ref[name]; !ok {
				t.Errorf("%s: %s published, not with the defaults", tu.name, name)
			}
		}
	}
}

// published returns every file under out (relative path → bytes), each
// manifest without the fields that describe the run rather than its
// result: timings, tuning and the directory the state came from.
func published(t *testing.T, out string) map[string][]byte {
	t.Helper()
	got := map[string][]byte{}
	err := filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(out, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if d.Name() == pipeline.ManifestFile {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				return err
			}
			for _, k := range []string{"timings_ms", "workers", "bucket_size", "state_from"} {
				if _, ok := m[k]; !ok {
					t.Errorf("%s has no %q: the test strips a field that is gone", rel, k)
				}
				delete(m, k)
			}
			if b, err = json.Marshal(m); err != nil {
				return err
			}
		}
		got[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func sortedNames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
