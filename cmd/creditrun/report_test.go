package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/pipeline"
)

// The demo ends with the report of its book, and creditrun report writes
// the report of any range of it where asked.
func TestDemoWritesTheReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"demo", "--dir", dir, "--accounts", "300", "--days", "35", "--quiet"}, &stdout, &stderr); err != nil {
		t.Fatalf("demo: %v\n%s", err, stderr.String())
	}
	path := filepath.Join(dir, "report.html")
	if !strings.Contains(stdout.String(), path) {
		t.Errorf("demo did not print where the report is (%s):\n%s", path, stdout.String())
	}
	html, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(html, []byte("<svg")); n < 10 {
		t.Errorf("the demo's report has %d charts", n)
	}

	stdout.Reset()
	out := filepath.Join(dir, "out")
	custom := filepath.Join(t.TempDir(), "night.html")
	if err := run(context.Background(), []string{"report", "--out", out, "--from", "2025-02-01", "--to", "2025-02-04", "--html", custom}, &stdout, &stderr); err != nil {
		t.Fatalf("report: %v", err)
	}
	if strings.TrimSpace(stdout.String()) != custom {
		t.Errorf("report printed %q, want %q", stdout.String(), custom)
	}
	if b, err := os.ReadFile(custom); err != nil || !bytes.Contains(b, []byte("the night of 2025-02-04 and the book from 2025-02-01")) {
		t.Errorf("report of 2025-02-01 … 2025-02-04: %v", err)
	}
	for _, args := range [][]string{{"report"}, {"report", "--out", out, "--to", "2026-01-01"}, {"report", "--out", out, "extra"}} {
		if err := run(context.Background(), args, &stdout, &stderr); !errors.Is(err, pipeline.ErrUsage) {
			t.Errorf("creditrun %s = %v, want a usage error", strings.Join(args, " "), err)
		}
	}
}
