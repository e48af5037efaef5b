package source

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/creditrun/creditrun/billing"
)

// shardTable is a row group of several chunks: the first all of accounts
// of shard 1 of 4 (the other shards decode nothing of it but its account
// ids and ids), then every account's, with bad rows, rows without an
// account id, and ids repeated across accounts, after a valid row and
// after a bad one.
func shardTable() table {
	n := 2*chunkRows + 500
	tb := table{cols: txnCols}
	for i := range n {
		account := int64(i % 97)
		if i < chunkRows {
			account = int64(4*(i%20) + 1)
		}
		row := []any{fmt.Sprintf("t%06d", i), account, dayTS + int64(i), "purchase", int64(100 + i), int64(3), int64(5000), "grocery", nil}
		switch {
		case i%13 == 0:
			row[txAmount] = int64(0) // non_positive_amount
		case i%101 == 0:
			row[txAccount] = nil // no shard's
		case i%89 == 0:
			row[txPostedAt] = nil
		}
		if i >= chunkRows && i%37 == 0 {
			// The id of an earlier row of another account: a valid one
			// (a duplicate) or, every 13th, a bad one (not a duplicate).
			row[txID] = fmt.Sprintf("t%06d", i-chunkRows-1)
		}
		tb.rows = append(tb.rows, row)
	}
	return tb
}

// The N narrowed reads of a file keep, between them, the rows of the read
// of the whole book, each once and in the shard of its account, and
// reject its rejects, each once and with the same reason and detail.
func TestNarrowedReadsAddUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shards.parquet")
	writeParquet(t, path, shardTable(), withForms(nil), 0)
	files, err := List(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	want, wantRej, err := ReadTransactions(ctx, files, testDay, shanghai)
	if err != nil {
		t.Fatal(err)
	}
	dups := 0
	for _, r := range wantRej {
		if r.Reason == ReasonDuplicateID {
			dups++
		}
	}
	if dups == 0 || len(wantRej) < 100 {
		t.Fatalf("the whole read rejects %d rows, %d of them duplicates: the table tests nothing", len(wantRej), dups)
	}
	byRow := func(a, b Reject) int { return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Row, b.Row)) }
	slices.SortFunc(wantRej, byRow)
	for _, n := range []int{1, 2, 4} {
		var gotRows = want[:0:0]
		var gotRej []Reject
		for k := range n {
			rules := shanghai
			rules.Owns = func(a int64) bool { return int(a%int64(n)) == k }
			rules.Unowned = k == 0
			rows, rej, err := ReadTransactions(ctx, files, testDay, rules)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if int(r.AccountID%int64(n)) != k {
					t.Fatalf("n=%d: shard %d keeps %s of account %d", n, k, r.TxnID, r.AccountID)
				}
			}
			gotRows = append(gotRows, rows...)
			gotRej = append(gotRej, rej...)
		}
		slices.SortFunc(gotRows, func(a, b billing.Transaction) int {
			return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.PostedAt, b.PostedAt), cmp.Compare(a.TxnID, b.TxnID))
		})
		slices.SortFunc(gotRej, byRow)
		if !reflect.DeepEqual(gotRows, want) {
			t.Errorf("n=%d: the shards keep %d rows, the whole read %d, or they differ", n, len(gotRows), len(want))
		}
		if !reflect.DeepEqual(gotRej, wantRej) {
			t.Errorf("n=%d: the shards reject %d rows, the whole read %d, or they differ", n, len(gotRej), len(wantRej))
		}
	}
}
