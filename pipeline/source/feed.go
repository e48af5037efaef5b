package source

import (
	"context"
	"fmt"
	"strconv"

	"github.com/apache/arrow-go/v18/parquet/file"

	"github.com/creditrun/creditrun/billing"
)

// The accounts feed is the accounts master's columns plus updated_at: what
// the platform learnt about an account, and when. The run for D applies
// the rows whose updated_at falls on D; several rows of one account on one
// day: the latest wins (the later file and row on equal timestamps). A
// first run may take its master from the feed: every row up to the day
// before it, latest per account.
const feedUpdatedAt = acFraud + 1

// FeedRow is one row of the accounts feed: an account as the platform
// describes it at UpdatedAt (UTC microseconds).
type FeedRow struct {
	MasterAccount
	UpdatedAt int64
	Src       billing.Source
}

func feedDataset(through bool) dataset[FeedRow, int64] {
	cols := append(append([]column(nil), accounts.cols...), column{"updated_at", kTimestamp})
	return dataset[FeedRow, int64]{
		name: Accounts,
		cols: cols,
		ts:   feedUpdatedAt,
		decode: func(r *rowCtx, i int, v *FeedRow) (string, string) {
			v.UpdatedAt, _ = r.cols[feedUpdatedAt].num(i)
			return decodeAccount(r, i, &v.MasterAccount)
		},
		id:      func(v *FeedRow) int64 { return v.ID },
		idText:  func(v *FeedRow) string { return strconv.FormatInt(v.ID, 10) },
		src:     func(v *FeedRow) *billing.Source { return &v.Src },
		order:   func(v *FeedRow) (int64, int64) { return v.ID, v.UpdatedAt },
		latest:  true,
		sharded: true,
		account: acID,
		through: through,
	}
}

var (
	feed        = feedDataset(false)
	feedThrough = feedDataset(true)
)

// ReadFeed reads the accounts feed rows of business day day (updated_at's
// local date in rules.Zone), the latest row per account, sorted by
// account_id; rows that fail the master's row rules are rejects.
func ReadFeed(ctx context.Context, files []File, day billing.Date, rules Rules) ([]FeedRow, []Reject, error) {
	return readAll(ctx, &feed, files, day, &rules)
}

// ReadFeedTo reads as ReadFeed does, handing the rejects to rejects as it
// finds them instead of returning them.
func ReadFeedTo(ctx context.Context, files []File, day billing.Date, rules Rules, rejects RejectWriter) ([]FeedRow, error) {
	return read(ctx, &feed, files, day, &rules, &rejectSink{w: rejects})
}

// ReadFeedMaster reads the accounts master of a first run for day from an
// accounts feed: every row whose updated_at falls before day, the latest
// per account, sorted by account_id.
func ReadFeedMaster(ctx context.Context, files []File, day billing.Date, rules Rules) ([]MasterAccount, []Reject, error) {
	var sink rejectSink
	out, err := readAs(ctx, &feedThrough, files, day-1, &rules, &sink, func(v *FeedRow) MasterAccount { return v.MasterAccount })
	if err != nil {
		return nil, nil, err
	}
	return out, sink.sorted(), nil
}

// IsFeed reports whether the accounts dataset in files is a feed (its files
// carry updated_at) rather than a plain master. Every file must agree.
func IsFeed(files []File) (bool, error) {
	var feed, master int
	for _, f := range files {
		in, _, err := openInput(context.Background(), &f)
		if err != nil && f.root != nil {
			return false, fmt.Errorf("%s: %w", f.Path, err) // the store's failure
		}
		if err != nil {
			return false, fmt.Errorf("%w: %s: %w", ErrNotParquet, f.Path, err)
		}
		r, err := file.NewParquetReader(in)
		if err != nil {
			in.Close()
			if serr := storeFailure(in); serr != nil {
				return false, fmt.Errorf("%s: %w", f.Path, serr)
			}
			return false, fmt.Errorf("%w: %s: %w", ErrNotParquet, f.Path, err)
		}
		if r.MetaData().Schema.ColumnIndexByName("updated_at") >= 0 {
			feed++
		} else {
			master++
		}
		r.Close()
	}
	if feed > 0 && master > 0 {
		return false, fmt.Errorf("%w: accounts: %d files carry updated_at (a feed) and %d do not (a master): one or the other",
			ErrPartition, feed, master)
	}
	return feed > 0, nil
}
