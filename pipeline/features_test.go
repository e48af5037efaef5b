package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/scoring"
)

// TestCycleFeaturesNamedByEveryScore: over a backfilled book, every scores
// row of every night names (features_on) a published night whose
// cycle_features holds a row of its account, and that row's window
// features are those of the account's state as of the night scored
// (ComputeFeatures): the join gives back the window features the night
// scored.
// The first night writes every scored account's row; the nights after,
// only those whose history moved, a small share of the book.
func TestCycleFeaturesNamedByEveryScore(t *testing.T) {
	const days = 70 // two cycles and more: every account has closed some
	events := genBook(t, 300, days)
	out := t.TempDir()
	if _, err := pipeline.Backfill(context.Background(), firstRun(events, out), bookStart, bookStart+days-1, nil); err != nil {
		t.Fatal(err)
	}
	written := map[billing.Date]map[int64]scoring.CycleFeaturesRow{}
	var older, rows, later, laterScored int
	for d := bookStart; d < bookStart+days; d++ {
		dir := pipeline.PartitionDir(out, d)
		cf, err := pqfile.ReadFile[scoring.CycleFeaturesRow](filepath.Join(dir, pipeline.TableCycleFeatures+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		written[d] = map[int64]scoring.CycleFeaturesRow{}
		for _, r := range cf {
			if r.AsOf != d {
				t.Fatalf("%s: cycle_features row of account %d as of %s", d, r.AccountID, r.AsOf)
			}
			written[d][r.AccountID] = r
		}
		scores, err := pqfile.ReadFile[scoring.ScoreRow](filepath.Join(dir, pipeline.TableScores+".parquet"))
		if err != nil {
			t.Fatal(err)
		}
		accounts, err := state.Read(pipeline.StateDir(out, d))
		if err != nil {
			t.Fatal(err)
		}
		byID := map[int64]*billing.Account{}
		for i := range accounts {
			byID[accounts[i].ID] = &accounts[i]
		}
		if d == bookStart && len(cf) != len(scores) {
			t.Errorf("the first night wrote %d cycle_features rows for %d scored accounts, want one each", len(cf), len(scores))
		}
		if d > bookStart {
			later += len(cf)
			laterScored += len(scores)
		}
		for _, s := range scores {
			rows++
			row, ok := written[s.FeaturesOn][s.AccountID]
			if !ok {
				t.Fatalf("%s: account %d names the cycle features of %s, which have no row of it", d, s.AccountID, s.FeaturesOn)
			}
			if s.FeaturesOn < d {
				older++
			}
			if d-s.FeaturesOn >= scoring.CycleFeaturesMaxAge {
				t.Errorf("%s: account %d names the cycle features of %s, %d nights before", d, s.AccountID, s.FeaturesOn, d-s.FeaturesOn)
			}
			a := byID[s.AccountID]
			if a == nil {
				t.Fatalf("%s: scored account %d is not in the state", d, s.AccountID)
			}
			if a.FeaturesOn != s.FeaturesOn {
				t.Errorf("%s: account %d: the state's features_on %s, the scores row's %s", d, a.ID, a.FeaturesOn, s.FeaturesOn)
			}
			f := scoring.ComputeFeatures(a, d)
			got, err := s.Features(&row)
			if err != nil {
				t.Fatal(err)
			}
			if got.Spend != f.Spend || got.Billed != f.Billed || got.Paid != f.Paid {
				t.Fatalf("%s: account %d: money windows %v %v %v through features_on %s, want %v %v %v",
					d, a.ID, got.Spend, got.Billed, got.Paid, s.FeaturesOn, f.Spend, f.Billed, f.Paid)
			}
			for id := range scoring.NumFeatures {
				if id.Info().Window == 0 || id == scoring.PayPattern3 {
					continue // point in time: in the scores row, as scored before the night's limit decision
				}
				if got.Values[id] != f.Values[id] || got.Missing[id] != f.Missing[id] {
					t.Fatalf("%s: account %d: %s = %v (missing %v) through features_on %s, want %v (missing %v)",
						d, a.ID, id, got.Values[id], got.Missing[id], s.FeaturesOn, f.Values[id], f.Missing[id])
				}
			}
		}
	}
	if older < rows/2 {
		t.Errorf("%d of %d scores rows name an earlier night: the property needs most to", older, rows)
	}
	if later*5 > laterScored {
		t.Errorf("the nights after the first wrote %d cycle_features rows for %d scores rows: want under a fifth", later, laterScored)
	}
	t.Logf("%d scores rows, %d naming an earlier night; after the first night %d cycle_features rows for %d scores rows",
		rows, older, later, laterScored)
}

// TestLoadSampleNamesAMissingFeaturesNight: a night whose scores name the
// cycle features of a date no longer published is refused, naming that
// date, rather than sampled without them.
func TestLoadSampleNamesAMissingFeaturesNight(t *testing.T) {
	const days = 8
	events := genBook(t, 60, days)
	out := t.TempDir()
	if _, err := pipeline.Backfill(context.Background(), firstRun(events, out), bookStart, bookStart+days-1, nil); err != nil {
		t.Fatal(err)
	}
	last := bookStart + days - 1
	opt := pipeline.OutcomeOptions{Labels: writeLabels(t)}
	if _, err := pipeline.LoadSample(out, last, opt); err != nil {
		t.Fatalf("LoadSample(%s) = %v", last, err)
	}
	if err := os.RemoveAll(pipeline.PartitionDir(out, bookStart)); err != nil { // every account's first row
		t.Fatal(err)
	}
	_, err := pipeline.LoadSample(out, last, opt)
	if !errors.Is(err, pipeline.ErrInputMissing) || !strings.Contains(err.Error(), bookStart.String()) {
		t.Errorf("LoadSample with %s gone = %v, want ErrInputMissing naming it", bookStart, err)
	}
}

// writeLabels writes a labels file with no row: every account unlabelled.
func writeLabels(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(path, []byte("account_id,bad\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadSampleNamesAScoreWithoutItsFeatures: a named night whose
// cycle_features lacks an account's row is refused, naming the first scores
// row left without it.
func TestLoadSampleNamesAScoreWithoutItsFeatures(t *testing.T) {
	const days = 3
	events := genBook(t, 40, days)
	out := t.TempDir()
	if _, err := pipeline.Backfill(context.Background(), firstRun(events, out), bookStart, bookStart+days-1, nil); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(pipeline.PartitionDir(out, bookStart), pipeline.TableCycleFeatures+".parquet")
	rows, err := pqfile.ReadFile[scoring.CycleFeaturesRow](path)
	if err != nil {
		t.Fatal(err)
	}
	if err := pqfile.WriteFile(path, rows[3:]); err != nil { // the first three accounts' rows gone
		t.Fatal(err)
	}
	_, err = pipeline.LoadSample(out, bookStart+days-1, pipeline.OutcomeOptions{Labels: writeLabels(t)})
	want := fmt.Sprintf("row 0 (account %d) names the cycle features of %s", rows[0].AccountID, bookStart)
	if !errors.Is(err, pipeline.ErrBadInput) || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadSample = %v, want ErrBadInput with %q", err, want)
	}
}
