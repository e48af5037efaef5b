package pipeline

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
)

// RejectUnknownAccount is the reason for an event of an account the book
// does not have.
const RejectUnknownAccount = "unknown_account"

// rejectUnknown rejects every event in ev: none of them has an account.
func rejectUnknown(ev *billing.Events, out *billing.Output) {
	for _, t := range ev.Transactions {
		out.Rejects = append(out.Rejects, billing.EventReject{Dataset: billing.DatasetTransactions, Key: t.TxnID, Reason: RejectUnknownAccount, Src: t.Src})
	}
	for _, r := range ev.Repayments {
		out.Rejects = append(out.Rejects, billing.EventReject{Dataset: billing.DatasetRepayments, Key: r.RepaymentID, Reason: RejectUnknownAccount, Src: r.Src})
	}
	for _, r := range ev.Requests {
		out.Rejects = append(out.Rejects, billing.EventReject{Dataset: billing.DatasetRequests, Key: r.RequestID, Reason: RejectUnknownAccount, Src: r.Src})
	}
}

// convertRejects turns billing's rejects into rows of the rejects table.
func (e *engine) convertRejects(rs []billing.EventReject) []source.Reject {
	out := make([]source.Reject, len(rs))
	for i, r := range rs {
		out[i] = source.Reject{Dataset: r.Dataset, File: e.fileName(r.Src.File), Row: r.Src.Row, Key: r.Key, Reason: r.Reason, Detail: r.Detail}
	}
	return out
}

// sortRejects orders rejects by dataset, file and row: the table's order.
func sortRejects(rs []source.Reject) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := &rs[i], &rs[j]
		if a.Dataset != b.Dataset {
			return a.Dataset < b.Dataset
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Row < b.Row
	})
}

// checkRejects fails the night when more than MaxRejectRatio of its input
// rows were rejected, logging the count of each reason.
func (e *engine) checkRejects(day billing.Date, m *Manifest, rejects int) error {
	if m.RejectRatio <= e.opt.MaxRejectRatio {
		return nil
	}
	for _, reason := range sortedKeys(m.Rejects) {
		e.log.Warn().Str("as_of", day.String()).Str("reason", reason).Int64("rows", m.Rejects[reason]).Msg("rejects")
	}
	return fmt.Errorf("%w: %d of %d input rows rejected (%.4f%% > --max-reject-ratio %.4f%%)",
		ErrTooManyRejects, rejects, m.RowsRead, 100*m.RejectRatio, 100*e.opt.MaxRejectRatio)
}

// sortedKeys returns m's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// RejectedDir is OUT/_rejects/as_of=D: the rejects of a night refused for
// them (ErrTooManyRejects), outside the published dates. A later
// publication of D removes it.
func RejectedDir(out string, day billing.Date) string {
	return filepath.Join(out, "_rejects", "as_of="+day.String())
}

// writeRefusedRejects writes the rejects of a refused night to
// RejectedDir(out, day)/rejects.parquet, replacing an earlier refusal's.
func writeRefusedRejects(out string, day billing.Date, rejects []source.Reject) (string, error) {
	dir := RejectedDir(out, day)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, TableRejects+".parquet")
	tmp := path + fmt.Sprintf(".tmp-%d", os.Getpid())
	if err := pqfile.WriteFile(tmp, rejects); err != nil {
		os.Remove(tmp)
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return path, syncDir(dir)
}
