package pqfile_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/fixtures"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
)

// Every table a run publishes, outputs and state, is written the way
// every reader reads: data pages v1, PLAIN or dictionary encoding (no
// DELTA_*), snappy, and created_by naming the program's version. The
// low-cardinality columns have their dictionary.
func TestEveryTableReadsEverywhere(t *testing.T) {
	events := t.TempDir()
	start := billing.NewDate(2025, 1, 1)
	cfg := fixtures.DefaultConfig()
	cfg.Accounts, cfg.Days, cfg.Start, cfg.Seed = 300, 35, start, 11
	sink, err := fixtures.NewParquetSink(events)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fixtures.Generate(context.Background(), cfg, sink); err != nil {
		t.Fatal(err)
	}
	defer pqfile.SetVersion("")
	pqfile.SetVersion("v9.8.7-test")
	out := t.TempDir()
	opt := pipeline.DefaultOptions()
	opt.Events, opt.Out, opt.State, opt.MaxRejectRatio, opt.Version = events, out, filepath.Join(events, "accounts"), 1, "v9.8.7-test"
	last := start + 34
	if _, err := pipeline.Backfill(context.Background(), opt, start, last, nil); err != nil {
		t.Fatal(err)
	}
	dir := pipeline.PartitionDir(out, last)
	dictionary := map[string]bool{} // table.column → has a dictionary
	var tables int
	err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		tables++
		rel, _ := filepath.Rel(dir, path)
		table := strings.TrimSuffix(rel, ".parquet")
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
			return err
		}
		md := pf.Metadata()
		if md.CreatedBy != "creditrun version v9.8.7-test" {
			t.Errorf("%s: created_by %q, want %q", rel, md.CreatedBy, "creditrun version v9.8.7-test")
		}
		for _, rg := range md.RowGroups {
			for _, cc := range rg.Columns {
				m := cc.MetaData
				col := table + "." + strings.Join(m.PathInSchema, ".")
				if m.Codec != format.Snappy {
					t.Errorf("%s: codec %s, want SNAPPY", col, m.Codec)
				}
				for _, e := range m.Encoding {
					switch e {
					case format.Plain, format.RLE, format.RLEDictionary:
					default:
						t.Errorf("%s: encoding %s, want PLAIN, RLE or RLE_DICTIONARY", col, e)
					}
				}
				if len(m.EncodingStats) == 0 {
					t.Errorf("%s: no encoding stats", col)
				}
				for _, s := range m.EncodingStats {
					switch s.PageType {
					case format.DataPage:
						if s.Encoding != format.Plain && s.Encoding != format.RLEDictionary {
							t.Errorf("%s: data page encoded %s", col, s.Encoding)
						}
					case format.DictionaryPage:
						dictionary[col] = true
					default:
						t.Errorf("%s: %d pages of type %s, want DATA_PAGE (v1) or DICTIONARY_PAGE", col, s.Count, s.PageType)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if tables < 15 {
		t.Fatalf("%d tables under %s, want every output and state table", tables, dir)
	}
	for _, col := range []string{
		"statement_lines.kind", "delinquency.bucket", "scores.grade", "scores.reason_1", "scores.scorecard_version",
		"limit_decisions.action", "limit_decisions.policy_version", "notices.kind", "notices.channel", "bureau.status",
		"state/accounts.status", "state/accounts.grade", "state/lines.kind",
	} {
		if !dictionary[col] {
			t.Errorf("%s has no dictionary page, want dictionary encoding", col)
		}
	}
	if dictionary["statements.account_id"] || dictionary["notices.notice_id"] {
		t.Error("high-cardinality columns (account_id, notice_id) are dictionary-encoded, want PLAIN")
	}
}
