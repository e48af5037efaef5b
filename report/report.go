// Package report renders a published book as one self-contained HTML page:
// the night of its last date (book totals, the money flows and their
// conservation, statements, plans, delinquency, notices, rejects, limit
// actions, grade mix and population stability) and, over a range of dates,
// the views the credit-risk world reads a book by: exposure, past due and
// charge-offs over time, month-over-month roll rates, vintage curves, the
// grade mix and PSI over time, and the bad rate by grade with Wilson
// intervals. It reads nothing: the pipeline hands it the dates' daily
// summaries (package daily) and a few rejected rows, and it writes HTML
// with its charts drawn as inline SVG, its styles inline, and no script
// and no link, so that the file opens offline in any browser.
package report

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/report/daily"
	"github.com/creditrun/creditrun/scoring"
)

// Book is what a report shows: the published dates From..To of a book.
type Book struct {
	Out      string // where the book is, as the reader named it
	From, To billing.Date
	Days     []Day          // the published dates in From..To, in order; the last is To
	Missing  []billing.Date // the dates in From..To that are not published
	Examples []Reject       // a few rejected rows of the night of To
}

// Day is one published date.
type Day struct {
	AsOf          billing.Date
	Rows          []daily.Row
	PolicyVersion string
	RowsRead      int64
	RejectRatio   float64
}

// Reject is a rejected input row, as rejects.parquet has it.
type Reject struct {
	Dataset, File string
	Row           int64
	Key, Reason   string
	Detail        string
}

// PSI thresholds: below 0.1 the population is stable, from 0.25 it has
// shifted (the usual reading, as in optbinning's monitoring report).
const (
	PSIWatch = 0.1
	PSIShift = 0.25
)

//go:embed report.html
var pageHTML string

var page = template.Must(template.New("report").Funcs(template.FuncMap{"numeric": numeric}).Parse(pageHTML))

// numeric reports whether a table cell is a figure, to align it right.
func numeric(s string) bool {
	s = strings.TrimPrefix(s, "−")
	return s != "" && s[0] >= '0' && s[0] <= '9' && !strings.Contains(s, "-0") && !strings.Contains(s, ":")
}

// Render writes the report of b as HTML.
func Render(w io.Writer, b *Book) error {
	if len(b.Days) == 0 {
		return fmt.Errorf("%w: no published date between %s and %s", ErrNoData, b.From, b.To)
	}
	if last := b.Days[len(b.Days)-1].AsOf; last != b.To {
		return fmt.Errorf("%w: the last date is %s, the report is to %s", ErrNoData, last, b.To)
	}
	v := build(b)
	var buf bytes.Buffer
	if err := page.Execute(&buf, v); err != nil {
		return fmt.Errorf("render the report: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

type view struct {
	Book     string
	From, To string
	Dates    int
	Missing  []string
	Policy   string
	KPIs     []kpi
	Night    []section
	Range    []section
	Multiple bool
}

type kpi struct {
	Label, Value, Note string
	Bad                bool
}

type section struct {
	ID, Title, Read string
	Charts          []template.HTML
	Tables          []table
	Empty           string // said when there is nothing to chart
}

type table struct {
	Caption string
	Head    []string
	Rows    [][]string
}

// index gives a day's rows by dimension.
type index map[string][]daily.Row

func newIndex(rows []daily.Row) index {
	ix := index{}
	for _, r := range rows {
		ix[r.Dimension] = append(ix[r.Dimension], r)
	}
	return ix
}

func (ix index) get(dim, key, key2 string) (daily.Row, bool) {
	for _, r := range ix[dim] {
		if r.Key == key && r.K2() == key2 {
			return r, true
		}
	}
	return daily.Row{}, false
}

func (ix index) count(dim, key string) int64 {
	r, _ := ix.get(dim, key, "")
	return r.Count
}

func (ix index) amount(dim, key string) billing.Money {
	r, _ := ix.get(dim, key, "")
	if r.Amount == nil {
		return 0
	}
	return *r.Amount
}

func (ix index) value(dim, key string) float64 {
	r, ok := ix.get(dim, key, "")
	if !ok || r.Value == nil {
		return math.NaN()
	}
	return *r.Value
}

var pastDue = daily.Classes[1:8] // M1 … M7+

func build(b *Book) *view {
	last := b.Days[len(b.Days)-1]
	ix := newIndex(last.Rows)
	v := &view{Book: b.Out, From: b.From.String(), To: b.To.String(), Dates: len(b.Days), Policy: last.PolicyVersion,
		Multiple: len(b.Days) > 1}
	for _, d := range b.Missing {
		v.Missing = append(v.Missing, d.String())
	}
	v.KPIs = kpis(ix, last)
	v.Night = []section{flows(ix), statementsAndPlans(ix), delinquency(ix), notices(ix), rejects(ix, b.Examples, last),
		limits(ix), grades(ix), stability(ix)}
	if v.Multiple {
		ixs := make([]index, len(b.Days))
		for i := range b.Days {
			ixs[i] = newIndex(b.Days[i].Rows)
		}
		v.Range = []section{overTime(b.Days, ixs), rollRates(b.Days, ixs), vintages(b.Days, ixs),
			gradeMix(b.Days, ixs), psiOverTime(b.Days, ixs), backtest(b, ixs)}
	}
	return v
}

func kpis(ix index, d Day) []kpi {
	var pdN int64
	var pdAmt billing.Money
	for _, c := range pastDue {
		r, _ := ix.get(daily.DimBucket, c, "")
		pdN += r.Count
		if r.Amount != nil {
			pdAmt += *r.Amount
		}
	}
	open := ix.count(daily.DimBucket, daily.ClassCurrent) + pdN
	var notices, rejects int64
	for _, r := range ix[daily.DimNotice] {
		notices += r.Count
	}
	for _, r := range ix[daily.DimReject] {
		rejects += r.Count
	}
	cons := ix.amount(daily.DimConserve, "unexplained")
	k := []kpi{
		{Label: "Accounts", Value: count(ix.count(daily.DimBook, "accounts")), Note: statusNote(ix)},
		{Label: "Exposure", Value: money(ix.amount(daily.DimBook, "exposure_after")), Note: "CNY owed, billed or not"},
		{Label: "Past due", Value: count(pdN), Note: pct(ratio(pdN, open), 2) + " of open accounts · " + money(pdAmt) + " CNY", Bad: pdN > 0 && ratio(pdN, open) > 0.05},
		{Label: "Statements issued", Value: count(ix.count(daily.DimStatements, "issued")), Note: "minimum due " + money(ix.amount(daily.DimStatements, "issued")) + " CNY"},
		{Label: "Plans opened", Value: count(ix.count(daily.DimPlans, "opened")), Note: count(ix.count(daily.DimPlans, "over_cap")) + " over the APR cap", Bad: ix.count(daily.DimPlans, "over_cap") > 0},
		{Label: "Notices", Value: count(notices), Note: "for the messaging system"},
		{Label: "Rejected rows", Value: count(rejects), Note: pct(d.RejectRatio, 3) + " of " + count(d.RowsRead) + " rows read", Bad: rejects > 0},
	}
	if _, ok := ix.get(daily.DimConserve, "unexplained", ""); ok {
		c := kpi{Label: "Conservation", Value: "holds", Note: "exposure moved exactly as the flows say"}
		if cons != 0 {
			c = kpi{Label: "Conservation", Value: "off by " + money(cons), Note: "CNY the flows do not explain", Bad: true}
		}
		k = append(k, c)
	}
	if p := ix.value(daily.DimPSI, "score"); !math.IsNaN(p) {
		k = append(k, kpi{Label: "PSI of the score", Value: strconv.FormatFloat(p, 'f', 4, 64), Note: psiBand(p), Bad: p >= PSIWatch})
	}
	return k
}

func statusNote(ix index) string {
	var parts []string
	for _, r := range ix[daily.DimStatus] {
		parts = append(parts, r.Key+" "+count(r.Count))
	}
	return strings.Join(parts, " · ")
}

func psiBand(p float64) string {
	switch {
	case p >= PSIShift:
		return "shifted (≥ 0.25)"
	case p >= PSIWatch:
		return "watch (0.1 – 0.25)"
	}
	return "stable (< 0.1)"
}

var flowSign = []struct {
	key, label string
	sign       int64
}{
	{"purchases", "purchases", 1}, {"fees", "installment fees", 1}, {"revolving_fees", "revolving fees", 1},
	{"penalties", "penalties", 1}, {"payments", "payments", -1}, {"refunds", "refunds", -1},
	{"fee_reversals", "fee reversals", -1}, {"charged_off", "charged off", -1},
}

func flows(ix index) section {
	s := section{ID: "flows", Title: "The night's money flows",
		Read: "What moved the book's exposure tonight. Bars right of zero added to what customers owe, bars left of it took away; " +
			"the table walks from last night's exposure to tonight's, and the check says whether the flows explain the move to the fen. " +
			"Recoveries (money received on charged-off accounts) are outside the exposure and shown apart."}
	if len(ix[daily.DimFlow]) == 0 {
		s.Empty = "No flows recorded."
		return s
	}
	var cats []string
	var ys []float64
	before := ix.amount(daily.DimBook, "exposure_before")
	t := table{Caption: "From last night's exposure to tonight's (CNY)", Head: []string{"", "CNY"},
		Rows: [][]string{{"exposure before the night", money(before)}}}
	for _, f := range flowSign {
		m := ix.amount(daily.DimFlow, f.key) * billing.Money(f.sign)
		cats = append(cats, f.label)
		ys = append(ys, yuan(m))
		sign := "+ "
		if f.sign < 0 {
			sign = "− "
		}
		t.Rows = append(t.Rows, []string{sign + f.label, money(m)})
	}
	after := ix.amount(daily.DimBook, "exposure_after")
	unexplained := ix.amount(daily.DimConserve, "unexplained")
	check := "holds: the flows explain the move exactly"
	if unexplained != 0 {
		check = "FAILS: " + money(unexplained) + " unexplained"
	}
	t.Rows = append(t.Rows, []string{"= net flows", money(ix.amount(daily.DimFlow, "net"))},
		[]string{"exposure after the night", money(after)}, []string{"conservation", check},
		[]string{"recoveries (outside exposure)", money(ix.amount(daily.DimFlow, "recoveries"))})
	s.Charts = append(s.Charts, hbarChart("Money flows of the night", "CNY (+ adds to exposure, − takes away)", "flow",
		cats, []series{{Y: ys, Color: palette[0]}}, compactCNY))
	s.Tables = append(s.Tables, t)
	return s
}

func statementsAndPlans(ix index) section {
	s := section{ID: "plans", Title: "Statements issued and installment plans opened",
		Read: "Statements are dated the next day; the minimum due is what each customer must pay by the due date to stay current. " +
			"The chart bins tonight's new installment plans by their nominal APR; plans above the policy's APR cap are counted apart and deserve a look."}
	st := table{Caption: "Statements issued tonight", Head: []string{"statements", "new balances (CNY)", "minimum due (CNY)"},
		Rows: [][]string{{count(ix.count(daily.DimStatements, "issued")), money(ix.amount(daily.DimStatements, "new_balance")),
			money(ix.amount(daily.DimStatements, "issued"))}}}
	var cats []string
	var ys []float64
	for _, r := range ix[daily.DimPlanAPR] {
		cats = append(cats, r.Key)
		ys = append(ys, float64(r.Count))
	}
	pl := table{Caption: "Installment plans opened tonight", Head: []string{"plans", "principal (CNY)", "over the APR cap", "their principal (CNY)"},
		Rows: [][]string{{count(ix.count(daily.DimPlans, "opened")), money(ix.amount(daily.DimPlans, "opened")),
			count(ix.count(daily.DimPlans, "over_cap")), money(ix.amount(daily.DimPlans, "over_cap"))}}}
	if len(cats) > 0 {
		s.Charts = append(s.Charts, barChart("Plans opened by nominal APR", "nominal APR (annual, %)", "plans", cats,
			[]series{{Y: ys, Color: palette[2]}}, countUnit))
	}
	s.Tables = append(s.Tables, st, pl)
	return s
}

func delinquency(ix index) section {
	s := section{ID: "delinquency", Title: "Accounts past due by bucket",
		Read: "Buckets by days past due: M1 is 1–30 days, M2 31–60 … M7+ beyond 180 (charged off at the policy's limit). " +
			"The amount is the unpaid minimum of the statements past their due date, without penalties. A book whose later buckets grow is rolling forward."}
	var ns, as []float64
	t := table{Caption: "Past due tonight", Head: []string{"bucket", "accounts", "share of open accounts", "past due (CNY)"}}
	open := ix.count(daily.DimBucket, daily.ClassCurrent)
	for _, c := range pastDue {
		open += ix.count(daily.DimBucket, c)
	}
	for _, c := range pastDue {
		n, a := ix.count(daily.DimBucket, c), ix.amount(daily.DimBucket, c)
		ns = append(ns, float64(n))
		as = append(as, yuan(a))
		t.Rows = append(t.Rows, []string{c, count(n), pct(ratio(n, open), 2), money(a)})
	}
	s.Charts = append(s.Charts,
		barChart("Accounts past due by bucket", "bucket (days past due: M1 1–30 … M7+ 181+)", "accounts", pastDue,
			[]series{{Y: ns, Color: palette[3]}}, countUnit),
		barChart("Amount past due by bucket", "bucket (days past due: M1 1–30 … M7+ 181+)", "CNY", pastDue,
			[]series{{Y: as, Color: palette[1]}}, compactCNY))
	s.Tables = append(s.Tables, t)
	return s
}

func notices(ix index) section {
	s := section{ID: "notices", Title: "Notices by kind and channel",
		Read: "What the messaging system is asked to send tonight, by kind, one bar per channel."}
	var kinds, channels []string
	n := map[[2]string]int64{}
	for _, r := range ix[daily.DimNotice] {
		if !slices.Contains(kinds, r.Key) {
			kinds = append(kinds, r.Key)
		}
		if !slices.Contains(channels, r.K2()) {
			channels = append(channels, r.K2())
		}
		n[[2]string{r.Key, r.K2()}] += r.Count
	}
	slices.Sort(channels)
	if len(kinds) == 0 {
		s.Empty = "No notice tonight."
		return s
	}
	t := table{Caption: "Notices", Head: append([]string{"kind"}, channels...)}
	var ser []series
	for k, c := range channels {
		sr := series{Name: c, Color: color(k)}
		for _, kind := range kinds {
			sr.Y = append(sr.Y, float64(n[[2]string{kind, c}]))
		}
		ser = append(ser, sr)
	}
	for _, kind := range kinds {
		row := []string{kind}
		for _, c := range channels {
			row = append(row, count(n[[2]string{kind, c}]))
		}
		t.Rows = append(t.Rows, row)
	}
	s.Charts = append(s.Charts, hbarChart("Notices by kind and channel", "notices", "kind", kinds, ser, countUnit))
	s.Tables = append(s.Tables, t)
	return s
}

func rejects(ix index, examples []Reject, d Day) section {
	s := section{ID: "rejects", Title: "Rejected input rows",
		Read: "Input rows the night refused, by reason and dataset; each is in that night's rejects.parquet with its file, row and detail. " +
			"A few examples follow. A night whose rejects pass the policy's ratio is not published at all."}
	var cats []string
	var ys []float64
	t := table{Caption: "Rejects by reason", Head: []string{"reason", "dataset", "rows"}}
	for _, r := range ix[daily.DimReject] {
		cats = append(cats, r.Key+" ("+r.K2()+")")
		ys = append(ys, float64(r.Count))
		t.Rows = append(t.Rows, []string{r.Key, r.K2(), count(r.Count)})
	}
	if len(cats) == 0 {
		s.Empty = "No row rejected tonight (" + count(d.RowsRead) + " rows read)."
		return s
	}
	s.Charts = append(s.Charts, hbarChart("Rejected rows by reason", "rows", "reason (dataset)", cats,
		[]series{{Y: ys, Color: palette[3]}}, countUnit))
	s.Tables = append(s.Tables, t)
	ex := table{Caption: "Examples from rejects.parquet", Head: []string{"dataset", "file", "row", "key", "reason", "detail"}}
	for _, r := range examples {
		ex.Rows = append(ex.Rows, []string{r.Dataset, r.File, strconv.FormatInt(r.Row, 10), r.Key, r.Reason, r.Detail})
	}
	if len(ex.Rows) > 0 {
		s.Tables = append(s.Tables, ex)
	}
	return s
}

func limits(ix index) section {
	s := section{ID: "limits", Title: "Limit actions and their reasons",
		Read: "Every scored account gets a limit decision each night; most keep their limit. The table gives each action's net change of limits " +
			"and the reasons behind the decisions by their codes, each with its sentence, the figures in braces (the figures of each decision are columns of limit_decisions.parquet)."}
	var cats []string
	var ys []float64
	t := table{Caption: "Limit actions", Head: []string{"action", "accounts", "net limit change (CNY)"}}
	for _, r := range ix[daily.DimLimit] {
		cats = append(cats, r.Key)
		ys = append(ys, float64(r.Count))
		t.Rows = append(t.Rows, []string{r.Key, count(r.Count), money(deref(r.Amount))})
	}
	if len(cats) == 0 {
		s.Empty = "No limit decision tonight."
		return s
	}
	s.Charts = append(s.Charts, barChart("Limit decisions by action", "action", "accounts", cats,
		[]series{{Y: ys, Color: palette[4]}}, countUnit))
	reasons := slices.Clone(ix[daily.DimLimitReason])
	slices.SortStableFunc(reasons, func(a, b daily.Row) int { return int(b.Count - a.Count) })
	rt := table{Caption: "Reasons (most frequent first)", Head: []string{"action", "reason", "sentence", "accounts"}}
	for i, r := range reasons {
		if i == 15 {
			rt.Rows = append(rt.Rows, []string{"…", strconv.Itoa(len(reasons)-15) + " more reasons", "", ""})
			break
		}
		code, _ := scoring.ParseLimitReason(r.K2())
		rt.Rows = append(rt.Rows, []string{r.Key, r.K2(), code.Template(), count(r.Count)})
	}
	s.Tables = append(s.Tables, t, rt)
	return s
}

func grades(ix index) section {
	s := section{ID: "grades", Title: "Grade mix",
		Read: "The scored accounts by the grade the scorecard gave them tonight, best first, with their exposure, mean score and mean probability of default (PD)."}
	var cats []string
	var ys []float64
	var total int64
	for _, r := range ix[daily.DimGrade] {
		total += r.Count
	}
	t := table{Caption: "Grades", Head: []string{"grade", "accounts", "share", "exposure (CNY)", "mean score", "mean PD"}}
	for _, r := range ix[daily.DimGrade] {
		cats = append(cats, r.Key)
		ys = append(ys, float64(r.Count))
		t.Rows = append(t.Rows, []string{r.Key, count(r.Count), pct(ratio(r.Count, total), 1), money(deref(r.Amount)),
			strconv.FormatFloat(derefF(r.Value), 'f', 1, 64), pct(ix.value(daily.DimGradePD, r.Key), 2)})
	}
	if len(cats) == 0 {
		s.Empty = "No account scored tonight."
		return s
	}
	s.Charts = append(s.Charts, barChart("Scored accounts by grade", "grade (best first)", "accounts", cats,
		[]series{{Y: ys, Color: palette[0]}}, countUnit))
	s.Tables = append(s.Tables, t)
	return s
}

func stability(ix index) section {
	s := section{ID: "psi", Title: "Population stability (PSI) of the score and every characteristic",
		Read: "PSI compares tonight's distribution over a characteristic's bins with the baseline's (the previous night's, or the policy's reference): " +
			"Σ (actual − expected) · ln(actual / expected). Below 0.1 the population is stable, 0.1–0.25 deserves a look, from 0.25 it has shifted " +
			"and the scorecard's inputs no longer look like those it was built on. The second chart shows, bin by bin, what the score's PSI is made of."}
	var cats []string
	var ys []float64
	t := table{Caption: "PSI tonight", Head: []string{"name", "PSI", "reading"}}
	worst, worstV := "", -1.0
	for _, r := range ix[daily.DimPSI] {
		v := derefF(r.Value)
		cats = append(cats, r.Key)
		ys = append(ys, v)
		t.Rows = append(t.Rows, []string{r.Key, strconv.FormatFloat(v, 'f', 4, 64), psiBand(v)})
		if r.Key != "score" && v > worstV {
			worst, worstV = r.Key, v
		}
	}
	if len(cats) == 0 {
		s.Empty = "No baseline to compare with tonight (the first night of a book has none)."
		return s
	}
	refs := []ref{{At: PSIWatch, Label: "0.1", Color: "#E69F00"}, {At: PSIShift, Label: "0.25", Color: "#D55E00"}}
	s.Charts = append(s.Charts, hbarChart("PSI by characteristic", "PSI (0.1 watch, 0.25 shifted)", "characteristic", cats,
		[]series{{Y: ys, Color: palette[5]}}, psiUnit, refs...))
	s.Tables = append(s.Tables, t)
	for _, name := range []string{"score", worst} {
		if name == "" {
			continue
		}
		bins, tb := psiBins(ix, name)
		if len(bins) == 0 {
			continue
		}
		if name == "score" {
			var act, base []float64
			var labels []string
			for _, b := range bins {
				labels = append(labels, b.bin)
				act = append(act, b.actual)
				base = append(base, b.base)
			}
			s.Charts = append(s.Charts, barChart("Score distribution: baseline and tonight", "score band", "share of scored accounts (%)", labels,
				[]series{{Name: "baseline", Y: base, Color: "#999999"}, {Name: "tonight", Y: act, Color: palette[0]}}, pctUnit))
		}
		s.Tables = append(s.Tables, tb)
	}
	return s
}

type psiBin struct {
	bin          string
	actual, base float64
}

func psiBins(ix index, name string) ([]psiBin, table) {
	var at, bt int64
	base := map[string]int64{}
	for _, r := range ix[daily.DimPSIBase] {
		if r.Key == name {
			bt += r.Count
			base[r.K2()] = r.Count
		}
	}
	for _, r := range ix[daily.DimPSIBin] {
		if r.Key == name {
			at += r.Count
		}
	}
	t := table{Caption: "PSI of " + name + " bin by bin", Head: []string{"bin", "baseline", "share", "tonight", "share", "PSI term"}}
	var out []psiBin
	for _, r := range ix[daily.DimPSIBin] {
		if r.Key != name {
			continue
		}
		b := psiBin{bin: r.K2(), actual: ratio(r.Count, at), base: ratio(base[r.K2()], bt)}
		out = append(out, b)
		t.Rows = append(t.Rows, []string{r.K2(), count(base[r.K2()]), pct(b.base, 2), count(r.Count), pct(b.actual, 2),
			strconv.FormatFloat(derefF(r.Value), 'f', 5, 64)})
	}
	return out, t
}

func overTime(days []Day, ixs []index) section {
	s := section{ID: "trend", Title: "Exposure, past due and charge-offs over time",
		Read: "The book's exposure at each night's close; the amount past due (all buckets); and the charge-offs, added up from the first date of the report. " +
			"Past due growing faster than exposure is the first sign of a book going bad."}
	xs := dayXs(days)
	var exp, pd, co, pdShare []float64
	var cum float64
	for i := range days {
		ix := ixs[i]
		exp = append(exp, yuan(ix.amount(daily.DimBook, "exposure_after")))
		var a billing.Money
		var n int64
		for _, c := range pastDue {
			a += ix.amount(daily.DimBucket, c)
			n += ix.count(daily.DimBucket, c)
		}
		pd = append(pd, yuan(a))
		cum += yuan(ix.amount(daily.DimFlow, "charged_off"))
		co = append(co, cum)
		pdShare = append(pdShare, ratio(n, n+ix.count(daily.DimBucket, daily.ClassCurrent)))
	}
	s.Charts = append(s.Charts,
		lineChart("Book exposure", "business date", "CNY", xs, dateTick, []series{{Name: "exposure", Y: exp}}, compactCNY),
		lineChart("Past due and charged off", "business date", "CNY", xs, dateTick,
			[]series{{Name: "past due amount", Y: pd, Color: palette[1]}, {Name: "charged off since " + days[0].AsOf.String(), Y: co, Color: palette[3]}}, compactCNY),
		lineChart("Share of open accounts past due", "business date", "% of open accounts", xs, dateTick,
			[]series{{Name: "past due", Y: pdShare, Color: palette[3]}}, pctUnit))
	return s
}

func rollRates(days []Day, ixs []index) section {
	s := section{ID: "roll", Title: "Roll rates, month over month",
		Read: "Each row is the accounts in a bucket at one month end; the cells say where they stood at the next month end, as a share of the row. " +
			"Read along the diagonal just right of the first column: current → M1, M1 → M2 … is the roll forward; the first column is the cure. " +
			"Counted exactly on every month end of the range whose previous month end is published, and added up over them."}
	from := daily.Classes[:8]
	to := append(slices.Clone(daily.Classes[:8]), daily.ClassChargedOff, daily.ClassClosed)
	n := map[[2]string]int64{}
	var ends []string
	for i, d := range days {
		if len(ixs[i][daily.DimRollMonth]) == 0 {
			continue
		}
		ends = append(ends, d.AsOf.String())
		for _, r := range ixs[i][daily.DimRollMonth] {
			n[[2]string{r.Key, r.K2()}] += r.Count
		}
	}
	if len(ends) == 0 {
		s.Empty = "No month end in the range has its previous month end published."
		return s
	}
	var share [][]float64
	var tips [][]string
	t := table{Caption: "Accounts by bucket at a month end (rows) and the next (columns), added over " + strings.Join(ends, ", "),
		Head: append([]string{"from \\ to"}, append(slices.Clone(to), "total")...)}
	for _, f := range from {
		var total int64
		for _, c := range to {
			total += n[[2]string{f, c}]
		}
		row, tip := make([]float64, len(to)), make([]string, len(to))
		cells := []string{f}
		for j, c := range to {
			k := n[[2]string{f, c}]
			row[j] = math.NaN()
			if total > 0 {
				row[j] = ratio(k, total)
			}
			tip[j] = fmt.Sprintf("%s → %s: %s of %s accounts (%s)", f, c, count(k), count(total), pct(ratio(k, total), 2))
			cells = append(cells, count(k))
		}
		share = append(share, row)
		tips = append(tips, tip)
		t.Rows = append(t.Rows, append(cells, count(total)))
	}
	s.Charts = append(s.Charts, heatmap("Roll rates month over month (share of the row)", "bucket at a month end", "bucket at the next month end",
		from, to, share, tips))
	s.Tables = append(s.Tables, t)
	return s
}

func vintages(days []Day, ixs []index) section {
	s := section{ID: "vintage", Title: "Vintage curves",
		Read: "Each line is the accounts opened in one month (booked ones), followed month by month: the share 30+ and 90+ days past due (charged off included) " +
			"by months on book, at the last date of each month in the range. A later vintage whose line runs above the earlier ones was underwritten worse."}
	type pt struct{ all, d30, d90 int64 }
	curves := map[string]map[int]pt{}
	maxMob := 0
	for i := range days {
		for _, r := range ixs[i][daily.DimVintage] {
			mob := int(derefF(r.Value))
			c := curves[r.Key]
			if c == nil {
				c = map[int]pt{}
				curves[r.Key] = c
			}
			p := c[mob] // later dates of the same month on book overwrite earlier ones
			switch r.K2() {
			case "all":
				p.all = r.Count
			case "30+":
				p.d30 = r.Count
			case "90+":
				p.d90 = r.Count
			}
			c[mob] = p
			maxMob = max(maxMob, mob)
		}
	}
	if len(curves) == 0 {
		s.Empty = "No booked account in the range."
		return s
	}
	keys := make([]string, 0, len(curves))
	for k := range curves {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) > 12 {
		s.Read += " The 12 latest vintages are shown; the daily summaries have them all."
		keys = keys[len(keys)-12:]
	}
	minMob := maxMob
	maxMob = 0
	for _, key := range keys {
		for mob := range curves[key] {
			minMob, maxMob = min(minMob, mob), max(maxMob, mob)
		}
	}
	var xs []float64
	for mob := minMob; mob <= maxMob; mob++ {
		xs = append(xs, float64(mob))
	}
	var s30, s90 []series
	for k, key := range keys {
		a, b := series{Name: key, Color: color(k)}, series{Name: key, Color: color(k)}
		for mob := minMob; mob <= maxMob; mob++ {
			p, ok := curves[key][mob]
			if !ok || p.all == 0 {
				a.Y, b.Y = append(a.Y, math.NaN()), append(b.Y, math.NaN())
				continue
			}
			a.Y, b.Y = append(a.Y, ratio(p.d30, p.all)), append(b.Y, ratio(p.d90, p.all))
		}
		s30, s90 = append(s30, a), append(s90, b)
	}
	mobTick := func(v float64) string { return strconv.Itoa(int(v)) }
	s.Charts = append(s.Charts,
		lineChart("Share 30+ days past due by months on book", "months on book", "% of the vintage's accounts", xs, mobTick, s30, pctUnit),
		lineChart("Share 90+ days past due by months on book", "months on book", "% of the vintage's accounts", xs, mobTick, s90, pctUnit))
	t := table{Caption: "Vintages: 30+ / 90+ / accounts by months on book", Head: []string{"opened"}}
	for mob := minMob; mob <= maxMob; mob++ {
		t.Head = append(t.Head, "MOB "+strconv.Itoa(mob))
	}
	for _, key := range keys {
		row := []string{key}
		for mob := minMob; mob <= maxMob; mob++ {
			p, ok := curves[key][mob]
			if !ok {
				row = append(row, "")
				continue
			}
			row = append(row, fmt.Sprintf("%s / %s / %s", count(p.d30), count(p.d90), count(p.all)))
		}
		t.Rows = append(t.Rows, row)
	}
	s.Tables = append(s.Tables, t)
	return s
}

func gradeMix(days []Day, ixs []index) section {
	s := section{ID: "gradetrend", Title: "Grade mix over time",
		Read: "The share of scored accounts in each grade, night by night. A drift toward the lower grades is the book getting riskier, or the scorecard seeing it so."}
	var order []string
	for i := range days {
		for _, r := range ixs[i][daily.DimGrade] {
			if !slices.Contains(order, r.Key) {
				order = append(order, r.Key)
			}
		}
	}
	if len(order) == 0 {
		s.Empty = "No account scored in the range."
		return s
	}
	ser := make([]series, len(order))
	for k, g := range order {
		ser[k] = series{Name: "grade " + g, Color: color(k)}
	}
	for i := range days {
		var total int64
		for _, r := range ixs[i][daily.DimGrade] {
			total += r.Count
		}
		for k, g := range order {
			ser[k].Y = append(ser[k].Y, ratio(ixs[i].count(daily.DimGrade, g), total))
		}
	}
	s.Charts = append(s.Charts, lineChart("Share of scored accounts by grade", "business date", "% of scored accounts", dayXs(days), dateTick, ser, pctUnit))
	return s
}

func psiOverTime(days []Day, ixs []index) section {
	s := section{ID: "psitrend", Title: "PSI over time",
		Read: "Each night's PSI against its baseline, for the score and every characteristic, with the 0.1 and 0.25 thresholds. " +
			"A line that crosses 0.25 and stays there is a shifted population: review the scorecard."}
	var names []string
	for i := range days {
		for _, r := range ixs[i][daily.DimPSI] {
			if !slices.Contains(names, r.Key) {
				names = append(names, r.Key)
			}
		}
	}
	if len(names) == 0 {
		s.Empty = "No PSI in the range."
		return s
	}
	ser := make([]series, len(names))
	for k, n := range names {
		ser[k] = series{Name: n, Color: color(k)}
		if n == "score" {
			ser[k].Color = "#000000"
		}
	}
	for i := range days {
		for k, n := range names {
			ser[k].Y = append(ser[k].Y, ixs[i].value(daily.DimPSI, n))
		}
	}
	refs := []ref{{At: PSIWatch, Label: "0.1 watch", Color: "#E69F00"}, {At: PSIShift, Label: "0.25 shifted", Color: "#D55E00"}}
	s.Charts = append(s.Charts, lineChart("PSI by night", "business date", "PSI", dayXs(days), dateTick, ser, psiUnit, refs...))
	return s
}

func backtest(b *Book, ixs []index) section {
	s := section{ID: "backtest", Title: "Bad rate by grade (back-test)",
		Read: "The accounts scored at the close of the cohort month end, by the grade they got then (those already 90+ days past due left out), and the share of them bad " +
			"at the outcome month end: 90+ days past due then, or charged off in between (an account that passed 90 days and was cured before the outcome date counts as good). " +
			"The longest horizon the range holds is shown. The whiskers are Wilson 95% intervals. Good grades should have low bad rates, " +
			"and the rates should rise grade by grade; overlapping whiskers mean the data cannot tell two grades apart yet."}
	// The longest horizon that starts on or after From and ends by To.
	bestI, bestH := -1, 0
	for i, d := range b.Days {
		for _, r := range ixs[i][daily.DimBacktest] {
			h, _ := strconv.Atoi(r.K2())
			if daily.PriorMonthEnd(d.AsOf, h) >= b.From && h > bestH {
				bestI, bestH = i, h
			}
		}
	}
	if bestI < 0 {
		s.Empty = "The range holds no month end whose cohort month end (1 to 12 months before) is in the range and published."
		return s
	}
	ix, end := ixs[bestI], b.Days[bestI].AsOf
	cohort := daily.PriorMonthEnd(end, bestH)
	hk := strconv.Itoa(bestH)
	var cats []string
	var rate, lo, hi []float64
	t := table{Caption: fmt.Sprintf("Cohort %s, outcome %s (%s)", cohort, end, months(bestH)),
		Head: []string{"grade at " + cohort.String(), "accounts", "bad at " + end.String(), "bad rate", "Wilson 95%"}}
	var tn, tk int64
	for _, r := range ix[daily.DimBacktest] {
		if r.K2() != hk {
			continue
		}
		bad, _ := ix.get(daily.DimBacktestBad, r.Key, hk)
		l, h := Wilson(bad.Count, r.Count)
		cats = append(cats, r.Key)
		rate, lo, hi = append(rate, ratio(bad.Count, r.Count)), append(lo, l), append(hi, h)
		t.Rows = append(t.Rows, []string{r.Key, count(r.Count), count(bad.Count), pct(ratio(bad.Count, r.Count), 2), pct(l, 2) + " – " + pct(h, 2)})
		tn, tk = tn+r.Count, tk+bad.Count
	}
	l, h := Wilson(tk, tn)
	t.Rows = append(t.Rows, []string{"all", count(tn), count(tk), pct(ratio(tk, tn), 2), pct(l, 2) + " – " + pct(h, 2)})
	s.Charts = append(s.Charts, barChart(fmt.Sprintf("Bad rate %s after %s by grade then", months(bestH), cohort), "grade at the cohort date (best first)",
		"% bad (90+ DPD or charged off)", cats, []series{{Y: rate, Lo: lo, Hi: hi, Color: palette[3]}}, pctUnit))
	s.Tables = append(s.Tables, t)
	return s
}

func months(n int) string {
	if n == 1 {
		return "1 month"
	}
	return strconv.Itoa(n) + " months"
}

// Wilson returns the Wilson score interval at 95% of k successes in n.
func Wilson(k, n int64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.959963984540054
	p, nf := float64(k)/float64(n), float64(n)
	d := 1 + z*z/nf
	c := (p + z*z/(2*nf)) / d
	h := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / d
	return max(0, c-h), min(1, c+h)
}

func dayXs(days []Day) []float64 {
	xs := make([]float64, len(days))
	for i, d := range days {
		xs[i] = float64(d.AsOf)
	}
	return xs
}

func dateTick(v float64) string { return billing.Date(math.Round(v)).String() }

func ratio(k, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(k) / float64(n)
}

func deref(m *billing.Money) billing.Money {
	if m == nil {
		return 0
	}
	return *m
}

func derefF(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// yuan is an amount in CNY as a float, for drawing only.
func yuan(m billing.Money) float64 { return float64(m) / 100 }

// money formats an amount exactly, with thousands separators: 1,234,567.89.
func money(m billing.Money) string {
	s := m.String()
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	out := group(whole)
	if frac != "" {
		out += "." + frac
	}
	if neg {
		out = "−" + out
	}
	return out
}

func count(n int64) string {
	if n < 0 {
		return "−" + group(strconv.FormatInt(-n, 10))
	}
	return group(strconv.FormatInt(n, 10))
}

func group(digits string) string {
	var b strings.Builder
	for i, c := range digits {
		if i > 0 && (len(digits)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func pct(v float64, digits int) string {
	if math.IsNaN(v) {
		return "–"
	}
	return strconv.FormatFloat(v*100, 'f', digits, 64) + "%"
}

func countUnit(v float64) string {
	if v == math.Trunc(v) {
		return count(int64(v))
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func pctUnit(v float64) string {
	d := 1
	if math.Abs(v) < 0.01 && v != 0 {
		d = 2
	}
	return pct(v, d)
}

func psiUnit(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// compactCNY formats an amount in CNY for an axis: 1.2M, 350k.
func compactCNY(v float64) string {
	a := math.Abs(v)
	sign := ""
	if v < 0 {
		sign = "−"
	}
	switch {
	case a >= 1e9:
		return sign + strconv.FormatFloat(a/1e9, 'f', 1, 64) + "B"
	case a >= 1e6:
		return sign + strconv.FormatFloat(a/1e6, 'f', 1, 64) + "M"
	case a >= 1e3:
		return sign + strconv.FormatFloat(a/1e3, 'f', 1, 64) + "k"
	}
	return sign + strconv.FormatFloat(a, 'f', 0, 64)
}
