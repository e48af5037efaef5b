package s3test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBinary(t *testing.T) {
	t.Setenv("VERSITYGW", filepath.Join(t.TempDir(), "versitygw"))
	if _, err := Binary(); !errors.Is(err, ErrNoBinary) {
		t.Fatalf("Binary() with VERSITYGW naming nothing = %v, want ErrNoBinary", err)
	}
}

func TestStartFailsWhenTheServerExits(t *testing.T) {
	// A "server" that exits at once: Start must say so, not wait.
	bin := filepath.Join(t.TempDir(), "versitygw")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'no backend' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := Start(ctx, bin, t.TempDir()); err == nil {
		t.Fatalf("Start of a binary that exits = nil, want an error")
	}
}

func TestNew(t *testing.T) {
	s := New(t, "bucket")
	ctx := context.Background()
	out, err := s.Client().ListBuckets(ctx, nil)
	if err != nil {
		t.Fatalf("ListBuckets = %v", err)
	}
	if len(out.Buckets) != 1 || *out.Buckets[0].Name != "bucket" {
		t.Fatalf("ListBuckets = %v, want the bucket New made", out.Buckets)
	}
	if got := os.Getenv("AWS_ENDPOINT_URL"); got != s.Endpoint {
		t.Errorf("AWS_ENDPOINT_URL = %q, want %q", got, s.Endpoint)
	}
}
