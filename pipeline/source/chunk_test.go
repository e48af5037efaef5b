package source

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
)

// chunkTable is a row group of several chunks: the first all another day's
// events (passed over undecoded), then the day's, with rejects in every
// chunk and a duplicate of a row of an earlier chunk.
func chunkTable() table {
	n := 3*chunkRows + 123
	tb := table{cols: txnCols}
	for i := range n {
		ts := dayTS
		if i < chunkRows {
			ts -= 2 * 86_400_000_000 // two days before: not the day's
		}
		var category any = "grocery"
		if i%5 == 0 {
			category = nil
		}
		row := []any{fmt.Sprintf("t%06d", i), int64(i % 97), ts + int64(i), "purchase", int64(100 + i), int64(3), int64(5000), category, nil}
		switch {
		case i%7 == 0:
			row[txAmount] = int64(0) // non_positive_amount
		case i == 3*chunkRows+5:
			row[txID] = fmt.Sprintf("t%06d", chunkRows+1) // a duplicate across chunks
		}
		tb.rows = append(tb.rows, row)
	}
	return tb
}

// recorder is a RejectWriter that keeps what it is given.
type recorder struct{ rows []Reject }

func (r *recorder) WriteRejects(rs []Reject) error {
	r.rows = append(r.rows, rs...)
	return nil
}

func TestChunkedRowGroup(t *testing.T) {
	tb := chunkTable()
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.parquet")
	writeParquet(t, whole, tb, withForms(nil), 0)
	small := filepath.Join(dir, "small.parquet")
	writeParquet(t, small, tb, withForms(nil), 1000) // every row group within a chunk

	read := func(path string) ([]Reject, int, []string) {
		files, err := List(path)
		if err != nil {
			t.Fatal(err)
		}
		rows, rejects, err := ReadTransactions(context.Background(), files, testDay, shanghai)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rows {
			ids = append(ids, fmt.Sprintf("%s@%d", r.TxnID, r.Src.Row))
		}
		for i := range rejects {
			rejects[i].File = ""
		}
		return rejects, len(rows), ids
	}
	wr, wn, wids := read(whole)
	sr, sn, sids := read(small)

	wantRejects := 0
	for i := chunkRows; i < len(tb.rows); i++ {
		if i%7 == 0 {
			wantRejects++
		}
	}
	wantRejects++ // the duplicate
	if len(wr) != wantRejects || wn != len(tb.rows)-chunkRows-wantRejects {
		t.Fatalf("one row group: %d rows, %d rejects; want %d rows, %d rejects", wn, len(wr), len(tb.rows)-chunkRows-wantRejects, wantRejects)
	}
	if !slices.Equal(wr, sr) || wn != sn || !slices.Equal(wids, sids) {
		t.Fatalf("one row group of %d rows reads %d rows and %d rejects, row groups of 1000 %d rows and %d rejects",
			len(tb.rows), wn, len(wr), sn, len(sr))
	}
	dup := slices.IndexFunc(wr, func(r Reject) bool { return r.Reason == ReasonDuplicateID })
	if dup < 0 || wr[dup].Row != 3*chunkRows+5 {
		t.Errorf("duplicate reject = %+v, want row %d", wr, 3*chunkRows+5)
	}

	// Handed to a RejectWriter, the same rejects in some order.
	files, err := List(whole)
	if err != nil {
		t.Fatal(err)
	}
	var rec recorder
	rows, err := ReadTransactionsTo(context.Background(), files, testDay, shanghai, &rec)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(rec.rows, func(a, b Reject) int { return cmp.Compare(a.Row, b.Row) })
	for i := range rec.rows {
		if rec.rows[i].File != whole {
			t.Fatalf("reject %+v: want file %s", rec.rows[i], whole)
		}
		rec.rows[i].File = ""
	}
	if len(rows) != wn || !slices.Equal(rec.rows, wr) {
		t.Errorf("ReadTransactionsTo: %d rows, %d rejects; ReadTransactions %d rows, %d rejects", len(rows), len(rec.rows), wn, len(wr))
	}
}

// failingWriter refuses every batch.
type failingWriter struct{ err error }

func (f failingWriter) WriteRejects([]Reject) error { return f.err }

func TestRejectWriterError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.parquet")
	writeParquet(t, path, chunkTable(), withForms(nil), 0)
	files, err := List(path)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Errorf("disk full")
	if _, err := ReadTransactionsTo(context.Background(), files, testDay, shanghai, failingWriter{want}); err == nil || !errors.Is(err, want) {
		t.Errorf("ReadTransactionsTo with a failing writer: %v, want %v", err, want)
	}
	// The rejects the failed read had gathered are not the next read's.
	tb := chunkTable()
	var day [][]any // six rows of the day, none a reject
	for i := chunkRows + 1; len(day) < 6; i++ {
		if i%7 != 0 {
			day = append(day, tb.rows[i])
		}
	}
	tb.rows = day
	clean := filepath.Join(t.TempDir(), "clean.parquet")
	writeParquet(t, clean, tb, withForms(nil), 0)
	if files, err = List(clean); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		rows, rejects, err := ReadTransactions(context.Background(), files, testDay, shanghai)
		if err != nil || len(rows) != 6 || len(rejects) != 0 {
			t.Fatalf("read after a failed one: %d rows, rejects %v, %v; want 6 rows and no reject", len(rows), rejects, err)
		}
	}
}
