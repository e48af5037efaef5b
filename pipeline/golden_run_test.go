package pipeline_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/fixtures"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/scoring"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// The golden run: a book of 250 accounts over 39 days from 2025-01-01,
// backfilled in one process. Its outputs and state are dumped as text for
// a date in the middle of the run and for the last one, both with
// statements, plans, delinquency, notices and planted bad input rows.
const goldenRunDir = "testdata/golden_run"

var (
	goldenStart = billing.NewDate(2025, time.January, 1)
	goldenMid   = billing.NewDate(2025, time.January, 20)
	goldenLast  = billing.NewDate(2025, time.February, 8)
)

// TestGoldenRun compares every output table, every state table, the
// manifest and the state summary of two dates of a backfill with the text
// under testdata/golden_run. Any change to what a run writes shows there;
// `go test ./pipeline -run GoldenRun -update` rewrites them for review.
func TestGoldenRun(t *testing.T) {
	events := goldenBook(t)
	out := t.TempDir()
	opt := pipeline.DefaultOptions()
	opt.Events, opt.Out, opt.State, opt.Version = events, out, filepath.Join(events, "accounts"), "golden"
	opt.Workers, opt.BucketSize, opt.MaxRejectRatio = 2, 64, 0.5
	if _, err := pipeline.Backfill(context.Background(), opt, goldenStart, goldenLast, nil); err != nil {
		t.Fatal(err)
	}
	paths := strings.NewReplacer(events, "$EVENTS", out, "$OUT")
	got := map[string][]byte{}
	for _, day := range []billing.Date{goldenMid, goldenLast} {
		dumpPartition(t, got, pipeline.PartitionDir(out, day), "as_of="+day.String(), paths)
	}
	// Every limit decision's sentences derive from its row as written.
	for _, day := range []billing.Date{goldenMid, goldenLast} {
		file := filepath.Join(pipeline.PartitionDir(out, day), pipeline.TableLimitDecisions+".parquet")
		rows, err := pqfile.ReadFile[scoring.DecisionRow](file)
		if err != nil {
			t.Fatal(err)
		}
		for i := range rows {
			d, err := rows[i].Decision()
			if err != nil {
				t.Errorf("%s row %d: %v", file, i, err)
			} else if txt := d.Text(); txt == "" || strings.ContainsAny(txt, "{}") {
				t.Errorf("%s row %d: reasons %s read as %q", file, i, rows[i].Reasons, txt)
			}
		}
	}
	// The golden covers only what the book exercises: every table must
	// have rows on both dates.
	for name, b := range got {
		if isTable(name) && bytes.Count(b, []byte("\n")) < 2 {
			t.Errorf("%s has no rows: the golden book no longer exercises it (choose another seed or date)", name)
		}
	}
	if *update {
		writeGolden(t, got)
		return
	}
	want := readGolden(t)
	names := slices.Collect(maps.Keys(got))
	for name := range want {
		if _, ok := got[name]; !ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		g, inGot := got[name]
		w, inWant := want[name]
		switch {
		case !inWant:
			t.Errorf("%s: written by the run but not in %s (run with -update to accept)", name, goldenRunDir)
		case !inGot:
			t.Errorf("%s: in %s but no longer written by the run (run with -update to accept)", name, goldenRunDir)
		case !bytes.Equal(g, w):
			t.Errorf("%s differs from %s (run with -update to accept):\n%s", name, goldenRunDir, lineDiff(w, g, isTable(name)))
		}
	}
}

// isTable says whether a golden file is the dump of a Parquet table.
func isTable(name string) bool {
	return strings.HasSuffix(name, ".txt") && path.Base(name) != "_files.txt"
}

// goldenBook generates the book and plants rows on both dumped dates: bad
// ones, so that rejects has rows of several reasons, at source and in
// billing, and events that arrive late or twice.
func goldenBook(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := fixtures.DefaultConfig()
	cfg.Accounts, cfg.Days, cfg.Start, cfg.Seed = 250, int(goldenLast-goldenStart)+1, goldenStart, 7
	sink, err := fixtures.NewParquetSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fixtures.Generate(context.Background(), cfg, sink)
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	first := cfg.FirstAccountID
	one, five, zero := int32(1), int32(5), int32(0)
	ghost := "GOLD-NO-SUCH-PURCHASE"
	txn := func(id string, account int64, day billing.Date, kind string, amount int64) goldenTxn {
		return goldenTxn{TxnID: id, AccountID: account, PostedAt: goldenNoon(day), Kind: kind, Amount: amount,
			Installments: &one, FeeRate: &zero}
	}
	refund := txn("GOLD-REFUND", first+2, goldenMid, "refund", 1000)
	refund.Installments, refund.FeeRate, refund.RefTxnID = nil, nil, &ghost
	badInstallments := txn("GOLD-FIVE", first+3, goldenMid, "purchase", 30000)
	badInstallments.Installments = &five
	redelivered := txn("GOLD-OK", first+1, goldenMid, "purchase", 8800)
	writeGoldenRows(t, goldenPart(dir, "transactions", goldenMid), []goldenTxn{
		txn("GOLD-UNKNOWN", 5, goldenMid, "purchase", 100),
		txn("GOLD-ZERO", first, goldenMid, "purchase", 0),
		txn("GOLD-KIND", first, goldenMid, "chargeback", 100),
		badInstallments, refund, redelivered,
	})
	// Two days late: it happened on D−2 and arrived in dt=D.
	late := txn("GOLD-LATE", first+5, goldenLast-2, "purchase", 4500)
	writeGoldenRows(t, goldenPart(dir, "transactions", goldenLast), []goldenTxn{
		redelivered, late,
		txn("GOLD-TWICE", first+4, goldenLast, "purchase", 1200),
		txn("GOLD-TWICE", first+4, goldenLast, "purchase", 1300),
		txn("GOLD-HIGH", first+int64(cfg.Accounts)+1000, goldenLast, "purchase", 100),
	})
	failed := "insufficient_funds"
	writeGoldenRows(t, goldenPart(dir, "repayments", goldenLast), []goldenRep{
		{RepaymentID: "GOLD-CHANNEL", AccountID: first, PaidAt: goldenNoon(goldenLast), Amount: 500, Channel: "cash", Status: "succeeded"},
		{RepaymentID: "GOLD-NO-REASON", AccountID: first, PaidAt: goldenNoon(goldenLast), Amount: 500, Channel: "app", Status: "failed"},
		{RepaymentID: "GOLD-STATUS", AccountID: first, PaidAt: goldenNoon(goldenLast), Amount: 500, Channel: "app", Status: "pending", FailureReason: &failed},
		{RepaymentID: "GOLD-NEGATIVE", AccountID: first, PaidAt: goldenNoon(goldenLast), Amount: -500, Channel: "app", Status: "succeeded"},
	})
	return dir
}

// goldenTxn and goldenRep are the contract's schemas as an upstream team
// writes them.
type goldenTxn struct {
	TxnID            string  `parquet:"txn_id"`
	AccountID        int64   `parquet:"account_id"`
	PostedAt         int64   `parquet:"posted_at,timestamp(microsecond)"`
	Kind             string  `parquet:"kind"`
	Amount           int64   `parquet:"amount,decimal(2:18)"`
	Installments     *int32  `parquet:"installments,optional"`
	FeeRate          *int32  `parquet:"fee_rate,decimal(6:9),optional"`
	MerchantCategory *string `parquet:"merchant_category,optional"`
	RefTxnID         *string `parquet:"ref_txn_id,optional"`
}

type goldenRep struct {
	RepaymentID   string  `parquet:"repayment_id"`
	AccountID     int64   `parquet:"account_id"`
	PaidAt        int64   `parquet:"paid_at,timestamp(microsecond)"`
	Amount        int64   `parquet:"amount,decimal(2:18)"`
	Channel       string  `parquet:"channel"`
	Status        string  `parquet:"status"`
	FailureReason *string `parquet:"failure_reason,optional"`
	PayoffTxnID   *string `parquet:"payoff_txn_id,optional"`
}

// goldenNoon is 04:00 UTC of day: noon in Shanghai, the same business date.
func goldenNoon(day billing.Date) int64 { return day.Time().Add(4 * time.Hour).UnixMicro() }

// goldenPart returns the file of extra rows in the day's partition of a dataset.
func goldenPart(root, dataset string, day billing.Date) string {
	return filepath.Join(root, dataset, "dt="+day.String(), "part-golden.parquet")
}

func writeGoldenRows[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := parquet.WriteFile(path, rows); err != nil {
		t.Fatal(err)
	}
}

// dumpPartition adds the text of every file of a published date to got,
// under prefix: _files.txt lists the files; each Parquet file becomes
// NAME.txt (pqfile.Dump); each JSON file is re-indented with its
// run-dependent fields replaced. paths rewrites the absolute paths of the
// test's directories.
func dumpPartition(t *testing.T, got map[string][]byte, dir, prefix string, paths *strings.Replacer) {
	t.Helper()
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		names = append(names, rel)
		var b bytes.Buffer
		switch filepath.Ext(p) {
		case ".parquet":
			if err := pqfile.DumpFile(&b, p); err != nil {
				return err
			}
			got[prefix+"/"+strings.TrimSuffix(rel, ".parquet")+".txt"] = []byte(paths.Replace(b.String()))
		case ".json":
			raw, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			norm, err := normalizeJSON(raw, paths)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			got[prefix+"/"+rel] = norm
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	got[prefix+"/_files.txt"] = []byte(strings.Join(names, "\n") + "\n")
}

// normalizeJSON re-indents a JSON object with its keys sorted, replacing
// what depends on the machine and the run rather than on the inputs and
// the policy: timings (their stages are kept), workers, bucket size and
// the test's directories.
func normalizeJSON(raw []byte, paths *strings.Replacer) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, err
	}
	if timings, ok := doc["timings_ms"].(map[string]any); ok {
		for stage := range timings {
			timings[stage] = "<ms>"
		}
	}
	for _, key := range []string{"workers", "bucket_size"} {
		if _, ok := doc[key]; ok {
			doc[key] = "<" + key + ">"
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(replaceStrings(doc, paths)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func replaceStrings(v any, paths *strings.Replacer) any {
	switch v := v.(type) {
	case string:
		return paths.Replace(v)
	case map[string]any:
		for k, x := range v {
			v[k] = replaceStrings(x, paths)
		}
	case []any:
		for i, x := range v {
			v[i] = replaceStrings(x, paths)
		}
	}
	return v
}

func readGolden(t *testing.T) map[string][]byte {
	t.Helper()
	want := map[string][]byte{}
	err := filepath.WalkDir(goldenRunDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(goldenRunDir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		want[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatalf("read golden files (create them with -update): %v", err)
	}
	return want
}

// writeGolden replaces testdata/golden_run with got, so that a table the
// run no longer writes leaves no file behind.
func writeGolden(t *testing.T, got map[string][]byte) {
	t.Helper()
	if err := os.RemoveAll(goldenRunDir); err != nil {
		t.Fatal(err)
	}
	for name, b := range got {
		p := filepath.Join(goldenRunDir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// lineDiff shows where got departs from want, unified-style: the first
// differing lines with a line of context, cut after a few lines and each
// line cut short; for a table it then names the differing cells.
func lineDiff(want, got []byte, table bool) string {
	const context, show = 1, 4
	w := strings.Split(strings.TrimSuffix(string(want), "\n"), "\n")
	g := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	pre := 0
	for pre < len(w) && pre < len(g) && w[pre] == g[pre] {
		pre++
	}
	suf := 0
	for suf < len(w)-pre && suf < len(g)-pre && w[len(w)-1-suf] == g[len(g)-1-suf] {
		suf++
	}
	wd, gd := w[pre:len(w)-suf], g[pre:len(g)-suf]
	from := max(pre-context, 0)
	var b strings.Builder
	fmt.Fprintf(&b, "--- want (%d lines)\n+++ got (%d lines)\n@@ -%d,%d +%d,%d @@\n",
		len(w), len(g), pre+1, len(wd), pre+1, len(gd))
	for _, l := range w[from:pre] {
		b.WriteString("  " + cut(l) + "\n")
	}
	for i, l := range wd {
		if i == show {
			fmt.Fprintf(&b, "- … %d more\n", len(wd)-show)
			break
		}
		b.WriteString("- " + cut(l) + "\n")
	}
	for i, l := range gd {
		if i == show {
			fmt.Fprintf(&b, "+ … %d more\n", len(gd)-show)
			break
		}
		b.WriteString("+ " + cut(l) + "\n")
	}
	if len(w)-suf < len(w) {
		b.WriteString("  " + cut(w[len(w)-suf]) + "\n")
	}
	if table && len(wd) > 0 && len(gd) > 0 {
		b.WriteString(columnDiff(w[0], g[0], pre, wd[0], gd[0]))
	}
	return b.String()
}

// cut shortens a long line of a diff.
func cut(line string) string {
	const width = 160
	if r := []rune(line); len(r) > width {
		return string(r[:width]) + " …"
	}
	return line
}

// columnDiff names, for a table dump, the columns the header gained or lost
// or, when the headers agree, the cells of the first differing row.
func columnDiff(wantHeader, gotHeader string, line int, want, got string) string {
	wh, gh := strings.Split(wantHeader, "\t"), strings.Split(gotHeader, "\t")
	var b strings.Builder
	if line == 0 {
		for _, h := range wh {
			if !slices.Contains(gh, h) {
				fmt.Fprintf(&b, "column %s: no longer written\n", h)
			}
		}
		for _, h := range gh {
			if !slices.Contains(wh, h) {
				fmt.Fprintf(&b, "column %s: new\n", h)
			}
		}
		return b.String()
	}
	if wantHeader != gotHeader {
		return ""
	}
	wc, gc := strings.Split(want, "\t"), strings.Split(got, "\t")
	if len(wc) != len(wh) || len(gc) != len(wh) {
		return ""
	}
	for i := range wh {
		if wc[i] != gc[i] {
			name, _, _ := strings.Cut(wh[i], " ")
			fmt.Fprintf(&b, "line %d, column %s: want %s, got %s\n", line+1, name, wc[i], gc[i])
		}
	}
	return b.String()
}

func TestGoldenLineDiff(t *testing.T) {
	want := "a INT64\tb STRING\n1\t\"x\"\n2\t\"y\"\n3\t\"z\"\n"
	got := "a INT64\tb STRING\n1\t\"x\"\n2\t\"Y\"\n3\t\"z\"\n"
	d := lineDiff([]byte(want), []byte(got), true)
	for _, line := range []string{"@@ -3,1 +3,1 @@", "  1\t\"x\"", "- 2\t\"y\"", "+ 2\t\"Y\"", "  3\t\"z\"",
		"line 3, column b: want \"y\", got \"Y\""} {
		if !strings.Contains(d, line+"\n") {
			t.Errorf("lineDiff =\n%s\nhas no line %q", d, line)
		}
	}
	d = lineDiff([]byte(want), []byte(strings.Replace(got, "b STRING", "b STRING nullable", 1)), true)
	for _, line := range []string{"column b STRING: no longer written", "column b STRING nullable: new"} {
		if !strings.Contains(d, line+"\n") {
			t.Errorf("lineDiff =\n%s\nhas no line %q", d, line)
		}
	}
}
