package source

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// The files under testdata/duckdb were written by DuckDB 1.5.6
// (testdata/duckdb/gen.js, run with @duckdb/node-api): transactions.parquet
// with DuckDB's default physical types (DECIMAL(18,2) as INT64, DECIMAL(9,6)
// as INT32, TIMESTAMPTZ as INT64 micros), wide.parquet with DECIMAL(38,2)
// as FIXED_LEN_BYTE_ARRAY(16), DECIMAL(18,6), TIMESTAMP_NS, an INTEGER
// account_id, a BIGINT installments and an extra column, and hive/ with the
// same rows partitioned by UTC date (PARTITION_BY dt, dt not in the files).

// duckdbTransactions is the oracle for gen.js's rows of day in loc.
func duckdbTransactions(day billing.Date, loc *time.Location) ([]billing.Transaction, []string) {
	var txns []billing.Transaction
	var rejects []string
	opts := []int32{1, 3, 6, 12, 24}
	for i := range 120 {
		ts := micro(2024, 2, 29, 0, 0, 0) + int64(i)*2160_000_000 + int64(i)*1000
		if billing.LocalDate(ts, loc) != day {
			continue
		}
		switch i {
		case 50:
			rejects = append(rejects, ReasonNonPositiveAmount)
			continue
		case 60:
			rejects = append(rejects, ReasonInvalidKind)
			continue
		case 70:
			rejects = append(rejects, ReasonNullRequired)
			continue
		}
		t := billing.Transaction{
			TxnID: fmt.Sprintf("t%03d", i), AccountID: int64(i%7 + 1), PostedAt: ts,
			Kind: billing.Purchase, Amount: billing.Money(100 + i*37),
			Installments: opts[i%5], FeeRate: billing.Rate(i % 4 * 2500),
		}
		if i%5 == 3 {
			t.Kind, t.Installments, t.FeeRate, t.RefTxnID = billing.Refund, 0, 0, fmt.Sprintf("t%03d", i-1)
		}
		t.MerchantCategory = []string{"", "grocery", "travel"}[i%3]
		txns = append(txns, t)
	}
	return txns, rejects
}

func TestDuckDBFiles(t *testing.T) {
	ctx := context.Background()
	for _, day := range []billing.Date{testDay - 1, testDay, testDay + 1} {
		want, wantRejects := duckdbTransactions(day, shanghaiZone)
		slices.SortFunc(want, func(a, b billing.Transaction) int {
			return cmp.Or(cmp.Compare(a.AccountID, b.AccountID), cmp.Compare(a.PostedAt, b.PostedAt), strings.Compare(a.TxnID, b.TxnID))
		})
		for _, path := range []string{"testdata/duckdb/transactions.parquet", "testdata/duckdb/wide.parquet", "testdata/duckdb/hive"} {
			files, err := List(path)
			if err != nil {
				t.Fatal(err)
			}
			rules := shanghai
			if path == "testdata/duckdb/wide.parquet" {
				// posted_at is TIMESTAMP_NS: DuckDB's wall time, here of UTC.
				var se *SchemaError
				if _, _, err := ReadTransactions(ctx, ForDay(files, day), day, rules); !errors.As(err, &se) || se.Column != "posted_at" {
					t.Fatalf("%s without local_timestamps_zone: error = %v, want a *SchemaError for posted_at", path, err)
				}
				rules.LocalTimestamps = time.UTC
			}
			got, rejects, err := ReadTransactions(ctx, ForDay(files, day), day, rules)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s, day %s: %d transactions, want %d", path, day, len(got), len(want))
			}
			for i := range got {
				g := got[i]
				g.Src = billing.Source{}
				if g != want[i] {
					t.Fatalf("%s, day %s: transaction %d = %+v, want %+v", path, day, i, g, want[i])
				}
			}
			if r := reasonsOf(rejects); !slices.Equal(r, wantRejects) {
				t.Errorf("%s, day %s: rejects %v, want %v", path, day, r, wantRejects)
			}
		}
	}
}
