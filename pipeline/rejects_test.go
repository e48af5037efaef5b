package pipeline_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
)

// txnRow is the contract's transactions schema, as an upstream team writes it.
type txnRow struct {
	TxnID            string  `parquet:"txn_id"`
	AccountID        int64   `parquet:"account_id"`
	PostedAt         int64   `parquet:"posted_at,timestamp(microsecond)"`
	Kind             string  `parquet:"kind"`
	Amount           int64   `parquet:"amount,decimal(2:18)"`
	Installments     *int32  `parquet:"installments,optional"`
	FeeRate          *int32  `parquet:"fee_rate,decimal(6:9),optional"`
	MerchantCategory *string `parquet:"merchant_category,optional"`
	RefTxnID         *string `parquet:"ref_txn_id,optional"`
}

// addTransactions writes rows as one more file of the day's partition.
func addTransactions(t *testing.T, events string, day billing.Date, rows []txnRow) {
	t.Helper()
	dir := filepath.Join(events, "transactions", "dt="+day.String())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := parquet.WriteFile(filepath.Join(dir, "part-extra.parquet"), rows); err != nil {
		t.Fatal(err)
	}
}

func purchase(id string, account int64, day billing.Date, amount int64) txnRow {
	one, zero := int32(1), int32(0)
	// 04:00 UTC is noon in Shanghai: the same business date.
	ts := day.Time().Add(4 * time.Hour).UnixMicro()
	return txnRow{TxnID: id, AccountID: account, PostedAt: ts, Kind: "purchase", Amount: amount, Installments: &one, FeeRate: &zero}
}

func TestUnknownAccountsAreRejectedWherever(t *testing.T) {
	events := genBook(t, 200, 2)
	// Ids below, between (the generator's ids are consecutive from 10000001;
	// ids beyond the book and far below it cover every gap) and above.
	addTransactions(t, events, bookStart, []txnRow{
		purchase("X-low", 5, bookStart, 100),
		purchase("X-high", 99_999_999_999, bookStart, 100),
		purchase("X-mid", 10_000_050_000, bookStart, 100),
	})
	out := t.TempDir()
	opt := firstRun(events, out)
	opt.MaxRejectRatio = 1
	opt.BucketSize = 7 // many buckets, so ids fall between them
	if _, err := pipeline.Run(context.Background(), opt, bookStart); err != nil {
		t.Fatal(err)
	}
	rejects, err := pqfile.ReadFile[source.Reject](filepath.Join(pipeline.PartitionDir(out, bookStart), "rejects.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range rejects {
		got[r.Key] = r.Reason
		if r.File == "" || r.Dataset != "transactions" {
			t.Errorf("reject %+v does not name its dataset and file", r)
		}
	}
	for _, key := range []string{"X-low", "X-high", "X-mid"} {
		if got[key] != pipeline.RejectUnknownAccount {
			t.Errorf("reject of %s = %q, want %q", key, got[key], pipeline.RejectUnknownAccount)
		}
	}
}

func TestRejectThresholdPublishesNothing(t *testing.T) {
	events := genBook(t, 100, 2)
	var bad []txnRow
	for i := 0; i < 20; i++ {
		r := purchase("BAD-"+string(rune('a'+i)), 10_000_001, bookStart, 0) // non-positive amount
		bad = append(bad, r)
	}
	addTransactions(t, events, bookStart, bad)
	out := t.TempDir()
	_, err := pipeline.Run(context.Background(), firstRun(events, out), bookStart)
	if !errors.Is(err, pipeline.ErrTooManyRejects) {
		t.Fatalf("Run with 20 bad rows: err = %v, want ErrTooManyRejects", err)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries { // no partition, no temporary: the (free) lock file and the refused rows
		if e.Name() != pipeline.LockFile && e.Name() != "_rejects" {
			t.Errorf("left in OUT after a refused run: %s", e.Name())
		}
	}
	refused := filepath.Join(pipeline.RejectedDir(out, bookStart), "rejects.parquet")
	if !strings.Contains(err.Error(), refused) {
		t.Errorf("error %q does not say where the rejected rows are", err)
	}
	rows, rerr := pqfile.ReadFile[source.Reject](refused)
	if rerr != nil || len(rows) != 20 || rows[0].Reason != "non_positive_amount" {
		t.Fatalf("refused rows: %d rows (%v), want the 20 non_positive_amount rows", len(rows), rerr)
	}
	// Allowed by a looser threshold, the same day publishes with the rejects listed.
	opt := firstRun(events, out)
	opt.MaxRejectRatio = 0.9
	m, err := pipeline.Run(context.Background(), opt, bookStart)
	if err != nil {
		t.Fatal(err)
	}
	if m.Rejects["non_positive_amount"] != 20 {
		t.Errorf("manifest rejects = %v, want 20 non_positive_amount", m.Rejects)
	}
	if _, err := os.Stat(pipeline.RejectedDir(out, bookStart)); err == nil {
		t.Error("the refused rows stay after the date was published")
	}
}

func TestMissingPartitionPublishesNothing(t *testing.T) {
	events := genBook(t, 50, 3)
	// The run for the third day needs dt=day-1 and dt=day (Shanghai is UTC+8).
	day := bookStart + 2
	if err := os.RemoveAll(filepath.Join(events, "repayments", "dt="+day.String())); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	if _, err := pipeline.Backfill(context.Background(), firstRun(events, out), bookStart, bookStart+1, nil); err != nil {
		t.Fatalf("the days before: %v", err)
	}
	_, err := pipeline.Run(context.Background(), options(events, out), day)
	if !errors.Is(err, pipeline.ErrInputMissing) {
		t.Fatalf("Run without dt=%s: err = %v, want ErrInputMissing", day, err)
	}
	if want := "repayments has no partition dt=" + day.String(); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
	if pipeline.Published(out, day) {
		t.Error("published a day whose input is missing")
	}
}
