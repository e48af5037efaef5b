package pipeline

import (
	"fmt"
	"path/filepath"

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
	for _, h := range daily.Horizons {
		end := daily.PriorMonthEnd(day, h)
		if !Published(e.opt.Out, end) {
			continue
		}
		p, err := readPrior(e.opt.Out, end)
		if err != nil {
			return nil, fmt.Errorf("the month end %s for the daily summary: %w", end, err)
		}
		p.Months = h
		n.Priors = append(n.Priors, p)
	}
	return n, nil
}

// priorDelinquency and priorScore are the columns of a month end's tables
// that the summary reads.
type priorDelinquency struct {
	AccountID int64 `parquet:"account_id"`
	DPD       int32 `parquet:"dpd"`
}

type priorScore struct {
	AccountID int64  `parquet:"account_id"`
	Grade     string `parquet:"grade"`
}

// readPrior reads the delinquency and scores tables of the published
// date end, both in account order as the night wrote them.
func readPrior(out string, end billing.Date) (*daily.Prior, error) {
	dir := PartitionDir(out, end)
	del, err := pqfile.ReadFile[priorDelinquency](filepath.Join(dir, TableDelinquency+".parquet"))
	if err != nil {
		return nil, err
	}
	scores, err := pqfile.ReadFile[priorScore](filepath.Join(dir, TableScores+".parquet"))
	if err != nil {
		return nil, err
	}
	p := &daily.Prior{End: end, DelinquentIDs: make([]int64, len(del)), DPD: make([]int32, len(del)),
		ScoredIDs: make([]int64, len(scores)), Grades: make([]string, len(scores))}
	for i, r := range del {
		if i > 0 && r.AccountID <= del[i-1].AccountID {
			return nil, fmt.Errorf("%w: %s row %d: account_id %d is not after %d", ErrBadInput, TableDelinquency, i, r.AccountID, del[i-1].AccountID)
		}
		p.DelinquentIDs[i], p.DPD[i] = r.AccountID, r.DPD
	}
	for i, r := range scores {
		if i > 0 && r.AccountID <= scores[i-1].AccountID {
			return nil, fmt.Errorf("%w: %s row %d: account_id %d is not after %d", ErrBadInput, TableScores, i, r.AccountID, scores[i-1].AccountID)
		}
		p.ScoredIDs[i], p.Grades[i] = r.AccountID, r.Grade
	}
	return p, nil
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
