package pipeline

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/report/daily"
)

// TableDailySummary is the night's summary (daily.Row), one small file
// that a report over a year reads instead of the full tables.
const TableDailySummary = "daily_summary"

// dailyNight returns what every bucket of the night of day shares for its
// summary. On the last day of a month it reads, for each horizon of the
// back-test, the delinquency and scores tables of the month end that many
// months before, when it is published.
func (e *engine) dailyNight(day billing.Date) (*daily.Night, error) {
	n := &daily.Night{Day: day}
	for _, g := range e.opt.Policy.Scoring.Grades {
		n.Grades = append(n.Grades, g.Name)
	}
	if !daily.MonthEnd(day) {
		return n, nil
	}
	t0 := time.Now()
	for _, h := range daily.Horizons {
		end := daily.PriorMonthEnd(day, h)
		dir, ok := e.priorDir(end)
		if !ok {
			continue
		}
		p, err := readPrior(dir, end)
		if err != nil {
			return nil, fmt.Errorf("the month end %s for the daily summary: %w", end, err)
		}
		p.Months = h
		n.Priors = append(n.Priors, p)
	}
	e.log.Info().Str("stage", "read_month_ends").Str("as_of", day.String()).Int("month_ends", len(n.Priors)).
		Dur("took", time.Since(t0)).Msg("stage done")
	return n, nil
}

// readPrior reads the delinquency and scores tables of the month end end
// in dir: only their account_id, dpd and grade columns, so that a month
// end of a large book costs a few column chunks, not its tables. A night
// of the whole book wrote them in account order; a sharded night in
// account order within each shard's rows, which are sorted here. The
// grades are then held a byte an account of the book's range
// (daily.Prior.Compact): up to eight month ends are in memory through
// the night.
func readPrior(dir string, end billing.Date) (*daily.Prior, error) {
	p := &daily.Prior{End: end}
	del := filepath.Join(dir, TableDelinquency+".parquet")
	err := readColumns(del, []string{"account_id", "dpd"}, func(rows int64) {
		p.DelinquentIDs = make([]int64, 0, rows)
		p.DPD = make([]int32, 0, rows)
	}, func(col int, v parquet.Value) error {
		if col == 0 {
			p.DelinquentIDs = append(p.DelinquentIDs, v.Int64())
		} else {
			p.DPD = append(p.DPD, v.Int32())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	scores := filepath.Join(dir, TableScores+".parquet")
	err = readColumns(scores, []string{"account_id", "grade"}, func(rows int64) {
		p.ScoredIDs = make([]int64, 0, rows)
		p.GradeOf = make([]uint8, 0, rows)
	}, func(col int, v parquet.Value) error {
		if col == 0 {
			p.ScoredIDs = append(p.ScoredIDs, v.Int64())
			return nil
		}
		k, err := p.GradeIndex(v.ByteArray())
		if err != nil {
			return err
		}
		p.GradeOf = append(p.GradeOf, k)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(p.DelinquentIDs) != len(p.DPD) || len(p.ScoredIDs) != len(p.GradeOf) {
		return nil, fmt.Errorf("%w: %s: columns of different lengths", ErrBadInput, dir)
	}
	sortByID(p.DelinquentIDs, p.DPD)
	sortByID(p.ScoredIDs, p.GradeOf)
	for _, ids := range []struct {
		path string
		ids  []int64
	}{{del, p.DelinquentIDs}, {scores, p.ScoredIDs}} {
		for i := 1; i < len(ids.ids); i++ {
			if ids.ids[i] <= ids.ids[i-1] {
				return nil, fmt.Errorf("%w: %s row %d: account_id %d is not after %d", ErrBadInput, ids.path, i, ids.ids[i], ids.ids[i-1])
			}
		}
	}
	p.Compact()
	return p, nil
}

// sortByID sorts ids and, alongside, vals, unless ids are sorted already.
func sortByID[V any](ids []int64, vals []V) {
	if slices.IsSorted(ids) {
		return
	}
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(ids[a], ids[b]) })
	ids2, vals2 := make([]int64, len(ids)), make([]V, len(vals))
	for i, j := range idx {
		ids2[i], vals2[i] = ids[j], vals[j]
	}
	copy(ids, ids2)
	copy(vals, vals2)
}

// readColumns calls size with the number of rows of the Parquet file at
// path, then set with every value of its named required columns, column
// by column within each row group; an error of set is the file's, at that
// column.
func readColumns(path string, names []string, size func(rows int64), set func(col int, v parquet.Value) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return fmt.Errorf("%w: open %s: %w", ErrBadInput, path, err)
	}
	idx := make([]int, len(names))
	for i, n := range names {
		leaf, ok := pf.Schema().Lookup(n)
		if !ok {
			return fmt.Errorf("%w: %s has no column %s", ErrBadInput, path, n)
		}
		idx[i] = leaf.ColumnIndex
	}
	size(pf.NumRows())
	vals := make([]parquet.Value, 1024)
	for _, rg := range pf.RowGroups() {
		for i, ci := range idx {
			pages := rg.ColumnChunks()[ci].Pages()
			err := func() error {
				defer pages.Close()
				for {
					pg, err := pages.ReadPage()
					if errors.Is(err, io.EOF) {
						return nil
					}
					if err != nil {
						return err
					}
					vr := pg.Values()
					for {
						n, err := vr.ReadValues(vals)
						for _, v := range vals[:n] {
							if err := set(i, v); err != nil {
								parquet.Release(pg)
								return err
							}
						}
						if errors.Is(err, io.EOF) {
							break
						}
						if err != nil {
							parquet.Release(pg)
							return err
						}
					}
					parquet.Release(pg)
				}
			}()
			if err != nil {
				return fmt.Errorf("%w: read %s column %s: %w", ErrBadInput, path, names[i], err)
			}
		}
	}
	return nil
}

// ReadDailySummary reads the daily summary of a published date.
func ReadDailySummary(out string, day billing.Date) ([]daily.Row, error) {
	if !Published(out, day) {
		return nil, fmt.Errorf("%w: %s is not published", ErrUsage, PartitionDir(out, day))
	}
	path := filepath.Join(PartitionDir(out, day), TableDailySummary+".parquet")
	rows, err := pqfile.ReadFile[daily.Row](path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	for i := range rows {
		if rows[i].AsOf != day {
			return nil, fmt.Errorf("%w: %s row %d: column as_of is %s, want %s", ErrBadInput, path, i+1, rows[i].AsOf, day)
		}
	}
	return rows, nil
}
