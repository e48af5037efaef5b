package pipeline

import (
	"path/filepath"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
)

// Output tables, one file each in OUT/as_of=D/.
const (
	TableStatements     = "statements"
	TableStatementLines = "statement_lines"
	TablePlans          = "installment_plans"
	TableDelinquency    = "delinquency"
	TableScores         = "scores"
	TableLimitDecisions = "limit_decisions"
	TableNotices        = "notices"
	TableBureau         = "bureau"
	TableRejects        = "rejects"
	ManifestFile        = "_manifest.json"
)

// Tables lists the output tables in the order the README documents them.
var Tables = []string{
	TableStatements, TableStatementLines, TablePlans, TableDelinquency, TableScores,
	TableLimitDecisions, TableNotices, TableBureau, TableRejects,
}

// RejectRow is a rejected input row.
type RejectRow struct {
	Dataset string `parquet:"dataset"`
	File    string `parquet:"file"`
	Row     int64  `parquet:"row"`
	Key     string `parquet:"key"`
	Reason  string `parquet:"reason"`
	Detail  string `parquet:"detail"`
}

// RejectUnknownAccount is the reason for an event of an account the book
// does not have.
const RejectUnknownAccount = "unknown_account"

// writeOutputs writes every output table into dir, in parallel, each from
// the buckets' slices in bucket order, and counts their rows into m.
func (e *engine) writeOutputs(dir string, res *dayResult, rejects []source.Reject, m *Manifest) error {
	rr := make([]RejectRow, len(rejects))
	for i, r := range rejects {
		rr[i] = RejectRow{Dataset: r.Dataset, File: r.File, Row: r.Row, Key: r.Key, Reason: r.Reason, Detail: r.Detail}
	}
	path := func(t string) string { return filepath.Join(dir, t+".parquet") }
	b := res.buckets
	var g errgroup.Group
	g.Go(func() error {
		return writeParts(path(TableStatements), b, func(o *bucketOut) []billing.StatementRow { return o.Statements })
	})
	g.Go(func() error {
		return writeParts(path(TableStatementLines), b, func(o *bucketOut) []billing.LineRow { return o.Lines })
	})
	g.Go(func() error {
		return writeParts(path(TablePlans), b, func(o *bucketOut) []billing.PlanRow { return o.Plans })
	})
	g.Go(func() error {
		return writeParts(path(TableDelinquency), b, func(o *bucketOut) []billing.DelinquencyRow { return o.Delinquency })
	})
	g.Go(func() error {
		return writeParts(path(TableScores), b, func(o *bucketOut) []scoring.ScoreRow { return o.scores })
	})
	g.Go(func() error {
		return writeParts(path(TableLimitDecisions), b, func(o *bucketOut) []scoring.DecisionRow { return o.decisions })
	})
	g.Go(func() error {
		return writeParts(path(TableNotices), b, func(o *bucketOut) []billing.Notice { return o.Notices })
	})
	g.Go(func() error {
		return writeParts(path(TableBureau), b, func(o *bucketOut) []billing.BureauRow { return o.Bureau })
	})
	g.Go(func() error { return pqfile.WriteFile(path(TableRejects), rr) })
	m.Rows = res.counts
	m.Rows[TableRejects] = int64(len(rr))
	return g.Wait()
}

// writeParts writes one table from every bucket's part, in bucket order.
func writeParts[T any](path string, buckets []*bucketOut, part func(*bucketOut) []T) error {
	w, err := pqfile.Create[T](path)
	if err != nil {
		return err
	}
	for _, o := range buckets {
		if err := w.Write(part(o)); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}
