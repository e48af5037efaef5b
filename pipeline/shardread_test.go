package pipeline_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
)

// looseTxn is a transactions row whose account_id and posted_at may be
// null, as a lax upstream writer stores them.
type looseTxn struct {
	TxnID        string  `parquet:"txn_id"`
	AccountID    *int64  `parquet:"account_id,optional"`
	PostedAt     *int64  `parquet:"posted_at,timestamp(microsecond:utc),optional"`
	Kind         string  `parquet:"kind"`
	Amount       int64   `parquet:"amount,decimal(2:18)"`
	Installments *int32  `parquet:"installments,optional"`
	FeeRate      *int32  `parquet:"fee_rate,decimal(6:9),optional"`
	Merchant     *string `parquet:"merchant_category,optional"`
	RefTxnID     *string `parquet:"ref_txn_id,optional"`
}

// incidentRow is an incidents row; feedRow an accounts feed row whose
// account_id may be null.
type incidentRow struct {
	IncidentID string  `parquet:"incident_id"`
	Channel    string  `parquet:"channel"`
	StartsAt   int64   `parquet:"starts_at,timestamp(microsecond:utc)"`
	EndsAt     int64   `parquet:"ends_at,timestamp(microsecond:utc)"`
	RecordedAt int64   `parquet:"recorded_at,timestamp(microsecond:utc)"`
	Note       *string `parquet:"description,optional"`
}

type feedRow struct {
	AccountID  *int64 `parquet:"account_id,optional"`
	CustomerID string `parquet:"customer_id"`
	OpenedOn   int32  `parquet:"opened_on,date"`
	Status     string `parquet:"status"`
	Limit      *int64 `parquet:"credit_limit,decimal(2:18),optional"`
	BillingDay int32  `parquet:"billing_day"`
	Score      *int32 `parquet:"external_score,optional"`
	Fraud      *bool  `parquet:"fraud_flag,optional"`
	UpdatedAt  int64  `parquet:"updated_at,timestamp(microsecond:utc)"`
}

func writeRows[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := pqfile.Create[T](path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// plantedTxn is a row the test plants, and the reject the night of the
// whole book gives it ("" when it keeps it).
type plantedTxn struct {
	id      string
	account int64 // 0: null
	at      int64 // 0: null
	kind    string
	amount  int64
	want    string
}

func writeLoose(t *testing.T, events string, day billing.Date, name string, rows []plantedTxn) {
	t.Helper()
	one, rate := int32(1), int32(0) // paid in full: offered to every active account
	batch := make([]looseTxn, len(rows))
	for i, r := range rows {
		batch[i] = looseTxn{TxnID: r.id, Kind: r.kind, Amount: r.amount, Installments: &one, FeeRate: &rate}
		if r.account != 0 {
			batch[i].AccountID = &rows[i].account
		}
		if r.at != 0 {
			batch[i].PostedAt = &rows[i].at
		}
	}
	writeRows(t, filepath.Join(events, "transactions", "dt="+day.String(), name), batch)
}

// TestShardsReadOnlyTheirAccounts: shards that decode only their own
// accounts' rows reject what the night of the whole book rejects, each row
// once, with the same reason: bad rows of every shard's accounts, rows
// without an account id, ids repeated across accounts of different shards
// (after a valid row, a duplicate; after a bad one, not), events of
// accounts the book does not have, and a file whose rows are all one
// shard's; bad rows of the accounts feed and of the incidents, which
// concern the whole book. Every table, the rejects, the daily summary and
// the manifest equal the whole book's at 2 and 4 shards.
func TestShardsReadOnlyTheirAccounts(t *testing.T) {
	events := genBook(t, 400, 1)
	day := bookStart
	noon := time.Date(2025, 1, 1, 4, 0, 0, 0, time.UTC).UnixMicro() // noon in Shanghai
	later := noon + 3*24*3600*1_000_000                             // outside dt=2025-01-01
	// Active accounts of different shards of 4.
	ds, err := source.OpenDataset(source.Accounts, filepath.Join(events, "accounts"), source.Landing{})
	if err != nil {
		t.Fatal(err)
	}
	files, _, err := ds.Files()
	if err != nil {
		t.Fatal(err)
	}
	master, _, err := source.ReadAccounts(context.Background(), files)
	if err != nil {
		t.Fatal(err)
	}
	var of [4][]int64
	for _, m := range master {
		if m.Status == billing.Active {
			k := pipeline.ShardOf(m.ID, 4)
			of[k] = append(of[k], m.ID)
		}
	}
	a, b, c, d := of[0][0], of[1][0], of[2][0], of[3][0]
	mixed := []plantedTxn{
		{"dup-a", b, noon, "purchase", 1000, ""},
		{"dup-a", c, noon + 1, "purchase", 1000, source.ReasonDuplicateID},
		{"dup-b", c, noon, "purchase", 0, source.ReasonNonPositiveAmount},
		{"dup-b", d, noon + 1, "purchase", 1000, ""}, // the first dup-b is bad: this one is kept
		{"dup-c", d, noon, "purchase", 700, ""},
		{"dup-c", a, noon + 1, "purchase", 700, source.ReasonDuplicateID},
		{"dup-c", b, noon + 2, "purchase", 700, source.ReasonDuplicateID},
		{"dup-d", b, noon, "purchase", 500, ""},
		{"dup-d", b, noon + 1, "purchase", 500, source.ReasonDuplicateID}, // within one account
		{"no-account", 0, noon, "purchase", 500, source.ReasonNullRequired},
		{"no-account-nor-time", 0, 0, "purchase", 500, source.ReasonNullRequired},
		{"no-time", c, 0, "purchase", 500, source.ReasonNullRequired},
		{"bad-kind", d, noon, "loan", 500, source.ReasonInvalidKind},
		{"outside", a, later, "purchase", 500, source.ReasonOutsidePartition},
		{"unknown", 9_000_000_001, noon, "purchase", 500, source.ReasonUnknownAccount},
		{"dup-e", 9_000_000_002, noon, "purchase", 0, source.ReasonNonPositiveAmount},
		{"dup-e", c, noon + 1, "purchase", 500, ""},
	}
	writeLoose(t, events, day, "part-mixed.parquet", mixed)
	var oneShard []plantedTxn // shard 1's accounts only: the other shards decode no value of it beyond its ids
	for i, id := range of[1][:20] {
		r := plantedTxn{fmt.Sprintf("one-%02d", i), id, noon + int64(i), "purchase", 300, ""}
		if i%4 == 0 {
			r.amount, r.want = -1, source.ReasonNonPositiveAmount
		}
		oneShard = append(oneShard, r)
	}
	oneShard = append(oneShard, plantedTxn{"dup-a", of[1][1], noon, "purchase", 400, source.ReasonDuplicateID})
	writeLoose(t, events, day, "part-one-shard.parquet", oneShard)
	// Incidents concern the whole book: their rejects are shard 0's.
	writeRows(t, filepath.Join(events, "incidents", "incidents.parquet"), []incidentRow{
		{"inc-1", billing.ChannelApp, noon - 3_600_000_000, noon, noon - 7_200_000_000, nil},
		{"inc-2", "carrier-pigeon", noon - 3_600_000_000, noon, noon - 7_200_000_000, nil},
	})
	// Rows of the accounts feed: one bad of each shard's account, and one
	// without an account id.
	var feed []feedRow
	limit := int64(500_000)
	for k := range 4 {
		feed = append(feed, feedRow{AccountID: &of[k][2], CustomerID: fmt.Sprintf("c-%d", k), OpenedOn: int32(day - 400),
			Status: "dormant", Limit: &limit, BillingDay: 5, UpdatedAt: noon})
	}
	feed = append(feed, feedRow{CustomerID: "c-none", OpenedOn: int32(day - 400), Status: "active", Limit: &limit, BillingDay: 5, UpdatedAt: noon})
	writeRows(t, filepath.Join(events, "accounts", "dt="+day.String(), "part-bad.parquet"), feed)

	whole := firstRun(events, t.TempDir())
	whole.MaxRejectRatio = 1
	if _, err := pipeline.Run(context.Background(), whole, day); err != nil {
		t.Fatal(err)
	}
	rows, err := pqfile.ReadFile[source.Reject](filepath.Join(pipeline.PartitionDir(whole.Out, day), pipeline.TableRejects+".parquet"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{} // planted file and row → reasons
	for _, r := range rows {
		k := fmt.Sprintf("%s:%d", filepath.Base(r.File), r.Row)
		got[k] = append(got[k], r.Reason)
	}
	for k, want := range map[string]string{"incidents.parquet:1": source.ReasonInvalidChannel, "part-bad.parquet:0": source.ReasonInvalidStatus,
		"part-bad.parquet:1": source.ReasonInvalidStatus, "part-bad.parquet:2": source.ReasonInvalidStatus,
		"part-bad.parquet:3": source.ReasonInvalidStatus, "part-bad.parquet:4": source.ReasonNullRequired} {
		if rs := got[k]; len(rs) != 1 || rs[0] != want {
			t.Errorf("the whole book rejects %s: %v, want [%s]", k, rs, want)
		}
	}
	for file, planted := range map[string][]plantedTxn{"part-mixed.parquet": mixed, "part-one-shard.parquet": oneShard} {
		for i, r := range planted {
			k := fmt.Sprintf("%s:%d", file, i)
			switch rs := got[k]; {
			case r.want == "" && len(rs) > 0:
				t.Errorf("the whole book rejects %s (%s, account %d): %v, want it kept", k, r.id, r.account, rs)
			case r.want != "" && (len(rs) != 1 || rs[0] != r.want):
				t.Errorf("the whole book rejects %s (%s, account %d): %v, want [%s]", k, r.id, r.account, rs, r.want)
			}
		}
	}

	for _, n := range []int{2, 4} {
		sharded := firstRun(events, t.TempDir())
		sharded.MaxRejectRatio = 1
		runShards(t, sharded, day, n)
		var read int64
		for k := range n {
			p, err := pipeline.ReadPart(sharded.Out, day, pipeline.Shard{K: k, N: n})
			if err != nil {
				t.Fatal(err)
			}
			read += p.RowsRead
		}
		if _, err := pipeline.Commit(context.Background(), sharded, day, day, n, nil); err != nil {
			t.Fatalf("commit of %d shards: %v", n, err)
		}
		sameNight(t, fmt.Sprintf("%d shards", n), whole.Out, sharded.Out, day)
		m := manifestOf(t, whole.Out, day)
		if want := m["rows_read"]; want != float64(read) {
			t.Errorf("%d shards read %d rows in all, the whole book %v", n, read, want)
		}
		for _, table := range []string{pipeline.TableRejects, pipeline.TableDailySummary} {
			w, _ := os.ReadFile(filepath.Join(pipeline.PartitionDir(whole.Out, day), table+".parquet"))
			g, _ := os.ReadFile(filepath.Join(pipeline.PartitionDir(sharded.Out, day), table+".parquet"))
			if len(w) == 0 || !bytes.Equal(w, g) {
				t.Errorf("%d shards: %s differs from the whole book's (%d and %d bytes)", n, table, len(g), len(w))
			}
		}
	}
}
