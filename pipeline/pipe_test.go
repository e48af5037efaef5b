package pipeline

import (
	"errors"
	"io"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// readPipe reads the pipe's book to its end, in reads of size accounts.
func readPipe(p *pipe, size int) ([]int64, error) {
	s := &pipeStream{p: p}
	var ids []int64
	buf := make([]billing.Account, size)
	for {
		n, err := s.Read(buf)
		for _, a := range buf[:n] {
			ids = append(ids, a.ID)
		}
		if errors.Is(err, io.EOF) {
			return ids, nil
		}
		if err != nil {
			return ids, err
		}
	}
}

func testEngine() *engine { return &engine{opt: Options{BucketSize: 4}} }

// A pipe hands the book over whole and in order, whatever the sizes of
// the writes and the reads, and the writer's arrays are its own again
// once written.
func TestPipeHandsTheBookInOrder(t *testing.T) {
	p := newPipe(testEngine(), billing.Date(20000))
	done := make(chan []int64)
	go func() {
		ids, err := readPipe(p, 3)
		if err != nil {
			t.Error(err)
		}
		done <- ids
	}()
	bucket := make([]billing.Account, 4)
	next := int64(1)
	for _, n := range []int{4, 1, 3, 4, 2} {
		for i := range bucket[:n] {
			bucket[i] = billing.Account{ID: next}
			next++
		}
		if err := p.Write(bucket[:n]); err != nil {
			t.Fatal(err)
		}
		clear(bucket) // the writer recycles its array
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p.Abort() // after Close, nothing
	ids := <-done
	if len(ids) != int(next-1) {
		t.Fatalf("read %d accounts, wrote %d", len(ids), next-1)
	}
	for i, id := range ids {
		if id != int64(i+1) {
			t.Fatalf("account %d read as %d", i+1, id)
		}
	}
}

// A writer that stops short fails its reader, which never takes a part of
// the book for the whole.
func TestPipeAbortFailsTheReader(t *testing.T) {
	p := newPipe(testEngine(), billing.Date(20000))
	done := make(chan error)
	go func() {
		_, err := readPipe(p, 4)
		done <- err
	}()
	if err := p.Write([]billing.Account{{ID: 1}, {ID: 2}}); err != nil {
		t.Fatal(err)
	}
	p.Abort()
	p.Close() // after Abort, nothing
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("the reader of an aborted book read it to its end")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the reader of an aborted book is still waiting")
	}
}

// A reader that stops, or never starts, leaves the writer free: its
// buckets are dropped.
func TestPipeWithoutReaderDoesNotBlock(t *testing.T) {
	p := newPipe(testEngine(), billing.Date(20000))
	p.stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 10 {
			p.Write([]billing.Account{{ID: 1}})
		}
		p.Close()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a writer whose reader stopped is blocked")
	}
}
