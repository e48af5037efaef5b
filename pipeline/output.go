package pipeline

import (
	"path/filepath"

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

// writeOutputs writes every output table into dir, in parallel, and counts
// their rows into m.
func (e *engine) writeOutputs(dir string, res *bucketOut, rejects []source.Reject, m *Manifest) error {
	rr := make([]RejectRow, len(rejects))
	for i, r := range rejects {
		rr[i] = RejectRow{Dataset: r.Dataset, File: r.File, Row: r.Row, Key: r.Key, Reason: r.Reason, Detail: r.Detail}
	}
	path := func(t string) string { return filepath.Join(dir, t+".parquet") }
	var g errgroup.Group
	g.Go(func() error { return pqfile.WriteFile(path(TableStatements), res.Statements) })
	g.Go(func() error { return pqfile.WriteFile(path(TableStatementLines), res.Lines) })
	g.Go(func() error { return pqfile.WriteFile(path(TablePlans), res.Plans) })
	g.Go(func() error { return pqfile.WriteFile(path(TableDelinquency), res.Delinquency) })
	g.Go(func() error { return pqfile.WriteFile(path(TableScores), res.scores) })
	g.Go(func() error { return pqfile.WriteFile(path(TableLimitDecisions), res.decisions) })
	g.Go(func() error { return pqfile.WriteFile(path(TableNotices), res.Notices) })
	g.Go(func() error { return pqfile.WriteFile(path(TableBureau), res.Bureau) })
	g.Go(func() error { return pqfile.WriteFile(path(TableRejects), rr) })
	m.Rows = map[string]int64{
		TableStatements: int64(len(res.Statements)), TableStatementLines: int64(len(res.Lines)),
		TablePlans: int64(len(res.Plans)), TableDelinquency: int64(len(res.Delinquency)),
		TableScores: int64(len(res.scores)), TableLimitDecisions: int64(len(res.decisions)),
		TableNotices: int64(len(res.Notices)), TableBureau: int64(len(res.Bureau)), TableRejects: int64(len(rr)),
	}
	return g.Wait()
}
