package pipeline

import (
	"fmt"
	"path/filepath"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/report"
)

// ReportExamples is how many rejected rows the report shows of its night.
const ReportExamples = 8

// ReadReport reads what the report of the published dates from..to of out
// shows: every date's daily summary and manifest and, for the night of to,
// a few of its rejected rows. A date without _SUCCESS is never read; it is
// listed as missing. from and to, when 0, are the first and the last
// published dates.
func ReadReport(out string, from, to billing.Date) (*report.Book, error) {
	dates := PublishedDates(out)
	if len(dates) == 0 {
		return nil, fmt.Errorf("%w: %s holds no published date", ErrUsage, out)
	}
	if to == 0 {
		to = dates[len(dates)-1]
	}
	if from == 0 {
		from = dates[0]
	}
	if to < from {
		return nil, fmt.Errorf("%w: --to %s is before --from %s", ErrUsage, to, from)
	}
	if !Published(out, to) {
		return nil, fmt.Errorf("%w: %s is not published; the last published date is %s", ErrUsage, PartitionDir(out, to), dates[len(dates)-1])
	}
	b := &report.Book{Out: out, From: from, To: to}
	for d := from; d <= to; d++ {
		if !Published(out, d) {
			b.Missing = append(b.Missing, d)
			continue
		}
		rows, err := ReadDailySummary(out, d)
		if err != nil {
			return nil, err
		}
		m, err := ReadManifest(out, d)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
		}
		b.Days = append(b.Days, report.Day{AsOf: d, Rows: rows, PolicyVersion: m.PolicyVersion,
			RowsRead: m.RowsRead, RejectRatio: m.RejectRatio})
	}
	rejects, err := pqfile.ReadFile[source.Reject](filepath.Join(PartitionDir(out, to), TableRejects+".parquet"))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadInput, err)
	}
	// A few of each reason, in file order.
	seen := map[string]int{}
	for _, r := range rejects {
		if seen[r.Reason] < 2 && len(b.Examples) < ReportExamples {
			seen[r.Reason]++
			b.Examples = append(b.Examples, report.Reject{Dataset: r.Dataset, File: filepath.Base(r.File), Row: r.Row,
				Key: r.Key, Reason: r.Reason, Detail: r.Detail})
		}
	}
	return b, nil
}
