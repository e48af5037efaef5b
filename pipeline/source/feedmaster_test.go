package source

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/parquet"

	"github.com/creditrun/creditrun/billing"
)

// TestReadFeedMasterLatest: a first run's master from a feed of several
// files, each of several row groups, its accounts' rows spread over them
// with repeated timestamps, is for each account its row of the latest
// updated_at before the day, the later file and row on a tie, sorted by
// account: what a naive pass over every row in file and row order keeps.
func TestReadFeedMasterLatest(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	day := billing.NewDate(2025, 3, 10)
	forms := map[string]form{"account_id": i64Form(), "customer_id": rawForm(), "opened_on": dateForm(), "status": strForm(),
		"credit_limit": decForm(parquet.Types.Int64, 18, 2, 0, 1), "billing_day": i32Form(), "external_score": i32Form(),
		"fraud_flag": boolForm(), "updated_at": tsForm(micros)}
	cols := []string{"account_id", "customer_id", "opened_on", "status", "credit_limit", "billing_day", "external_score", "fraud_flag", "updated_at"}
	// A few hours of a few days up to day in Shanghai, so that timestamps
	// repeat; the rows of day itself are not read.
	stamp := func() int64 {
		d := day - billing.Date(r.IntN(4))
		y, m, dd := d.YMD()
		return time.Date(y, m, dd, 0, 0, 0, 0, shanghai.Zone).UnixMicro() - int64(r.IntN(3))*3600e6 + 21*3600e6*int64(r.IntN(2))
	}
	type want struct {
		at    int64
		score int64
	}
	latest := map[int64]want{}
	dir := t.TempDir()
	var files []File
	row := 0
	for f := range 4 {
		var tb table
		tb.cols = cols
		for range 700 {
			id, at, score := int64(1+r.IntN(300)), stamp(), int64(300+row%500)
			row++
			tb.rows = append(tb.rows, []any{id, fmt.Sprintf("c%d", id), int64(19000), "active", int64(500000), int64(5), score, false, at})
			if d := dateIn(at, shanghai.Zone); d < day {
				if w, ok := latest[id]; !ok || at >= w.at { // file then row order: a tie goes to the later
					latest[id] = want{at, score}
				}
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("part-%d.parquet", f))
		writeParquet(t, path, tb, forms, 128) // six row groups a file
		files = append(files, File{Path: path})
	}
	got, rejects, err := ReadFeedMaster(context.Background(), files, day, shanghai)
	if err != nil || len(rejects) > 0 {
		t.Fatalf("ReadFeedMaster: %v, rejects %v", err, rejects)
	}
	if len(got) != len(latest) {
		t.Fatalf("%d accounts, want %d", len(got), len(latest))
	}
	for i, a := range got {
		if i > 0 && got[i-1].ID >= a.ID {
			t.Fatalf("account %d after %d: not sorted by account", a.ID, got[i-1].ID)
		}
		if w := latest[a.ID]; int64(a.ExternalScore) != w.score {
			t.Errorf("account %d: external_score %d, want %d (the row of %d)", a.ID, a.ExternalScore, w.score, w.at)
		}
	}
}

// dateIn is the local date of us (UTC microseconds) in loc.
func dateIn(us int64, loc *time.Location) billing.Date {
	y, m, d := time.UnixMicro(us).In(loc).Date()
	return billing.NewDate(y, m, d)
}
