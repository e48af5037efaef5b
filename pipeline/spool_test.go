package pipeline

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
)

// TestRejectSpoolOrder adds rejects in no order, some of them equal in
// dataset, file and row, across several spilled runs: the table is them
// sorted by dataset, file and row, equal ones in the order they came, as
// a stable sort of them all in memory gives.
func TestRejectSpoolOrder(t *testing.T) {
	for _, n := range []int{0, 7, spillRows, 3*spillRows + 11} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			out := t.TempDir()
			s := newRejectSpool(out, billing.NewDate(2025, 3, 1))
			defer s.close()
			rng := rand.New(rand.NewPCG(1, uint64(n)))
			var all []source.Reject
			files := []string{"in/transactions/b.parquet", "in/transactions/a.parquet", "in/repayments/a.parquet"}
			for i := range n {
				r := source.Reject{Dataset: []string{source.Transactions, source.Repayments}[rng.IntN(2)], File: files[rng.IntN(3)],
					Row: rng.Int64N(int64(n/3 + 1)), Key: fmt.Sprintf("k%d", i), Reason: source.ReasonOutOfRange, Detail: fmt.Sprintf("arrived %d", i)}
				all = append(all, r)
				var err error
				if i%3 == 0 {
					err = s.addEvents([]billing.EventReject{{Dataset: r.Dataset, Key: r.Key, Reason: r.Reason, Detail: r.Detail,
						Src: billing.Source{File: int32(slices.Index(files, r.File)), Row: r.Row}}}, func(i int32) string { return files[i] })
				} else {
					err = s.WriteRejects([]source.Reject{r})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if s.rows != int64(n) || s.events != int64((n+2)/3) || s.reasons[source.ReasonOutOfRange] != int64(n) {
				t.Errorf("spool counts %d rows, %d events, %v; want %d, %d", s.rows, s.events, s.reasons, n, (n+2)/3)
			}
			path := filepath.Join(out, "rejects.parquet")
			if err := s.writeTable(path); err != nil {
				t.Fatal(err)
			}
			if spilled := n >= spillRows; spilled != (len(s.runs) > 0) {
				t.Errorf("%d rejects: %d runs spilled", n, len(s.runs))
			}
			got, err := pqfile.ReadFile[source.Reject](path)
			if err != nil {
				t.Fatal(err)
			}
			slices.SortStableFunc(all, func(a, b source.Reject) int { return rejectOrder(&a, &b) })
			if len(got) != len(all) {
				t.Fatalf("table has %d rows, want %d", len(got), len(all))
			}
			for i := range all {
				if got[i] != all[i] {
					t.Fatalf("row %d = %+v, want %+v", i, got[i], all[i])
				}
			}
			want := filepath.Join(out, "want.parquet")
			if err := pqfile.WriteFile(want, all); err != nil {
				t.Fatal(err)
			}
			a, _ := os.ReadFile(path)
			b, _ := os.ReadFile(want)
			if !slices.Equal(a, b) {
				t.Errorf("spooled table differs from the rows written at once")
			}
			s.close()
			if left, _ := filepath.Glob(filepath.Join(out, workDir, "*")); len(left) > 0 {
				t.Errorf("left after close: %v", left)
			}
		})
	}
}
