package pipeline

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/scoring"
)

// Summary is what a person wants to see of one published date, read back
// from its files.
type Summary struct {
	Dir            string
	AsOf           string
	Accounts       int
	ByStatus       map[string]int
	Statements     int
	StatementTotal billing.Money
	MinimumTotal   billing.Money
	PlansOpened    int
	PastDue        map[string]int // bucket → accounts
	PastDueAmount  billing.Money
	Grades         map[string]int
	LimitActions   map[string]int
	Notices        map[string]int
	Rejects        map[string]int64
	Files          []string
}

// Summarize reads the published outputs of OUT/as_of=D.
func Summarize(out string, day billing.Date) (*Summary, error) {
	dir := PartitionDir(out, day)
	if !Published(out, day) {
		return nil, fmt.Errorf("%s is not published", dir)
	}
	s := &Summary{Dir: dir, AsOf: day.String(), PastDue: map[string]int{}, Grades: map[string]int{},
		LimitActions: map[string]int{}, Notices: map[string]int{}}
	path := func(t string) string { return filepath.Join(dir, t+".parquet") }
	st, err := pqfile.ReadFile[billing.StatementRow](path(TableStatements))
	if err != nil {
		return nil, err
	}
	s.Statements = len(st)
	for _, r := range st {
		s.StatementTotal += r.NewBalance
		s.MinimumTotal += r.MinimumDue
	}
	plans, err := pqfile.ReadFile[billing.PlanRow](path(TablePlans))
	if err != nil {
		return nil, err
	}
	s.PlansOpened = len(plans)
	del, err := pqfile.ReadFile[billing.DelinquencyRow](path(TableDelinquency))
	if err != nil {
		return nil, err
	}
	for _, r := range del {
		s.PastDue[r.Bucket]++
		s.PastDueAmount += r.PastDueAmount
	}
	scores, err := pqfile.ReadFile[scoring.ScoreRow](path(TableScores))
	if err != nil {
		return nil, err
	}
	for _, r := range scores {
		s.Grades[r.Grade]++
	}
	decs, err := pqfile.ReadFile[scoring.DecisionRow](path(TableLimitDecisions))
	if err != nil {
		return nil, err
	}
	for _, r := range decs {
		s.LimitActions[r.Action]++
	}
	notices, err := pqfile.ReadFile[billing.Notice](path(TableNotices))
	if err != nil {
		return nil, err
	}
	for _, r := range notices {
		s.Notices[r.Kind]++
	}
	m, err := ReadManifest(out, day)
	if err != nil {
		return nil, err
	}
	s.Rejects = m.Rejects
	s.Accounts = m.Book.Accounts
	s.ByStatus = m.Book.ByStatus
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		s.Files = append(s.Files, e.Name())
	}
	return s, nil
}

// WriteText prints s for a person.
func (s *Summary) WriteText(w io.Writer) {
	fmt.Fprintf(w, "Business date %s — %d accounts %s\n", s.AsOf, s.Accounts, counts(s.ByStatus))
	fmt.Fprintf(w, "  statements issued (dated the next day): %d, new balances %s CNY, minimum due %s CNY\n",
		s.Statements, s.StatementTotal, s.MinimumTotal)
	fmt.Fprintf(w, "  installment plans opened: %d\n", s.PlansOpened)
	fmt.Fprintf(w, "  past due: %d accounts, %s CNY  %s\n", total(s.PastDue), s.PastDueAmount, counts(s.PastDue))
	fmt.Fprintf(w, "  grades: %s\n", counts(s.Grades))
	fmt.Fprintf(w, "  limit decisions: %s\n", counts(s.LimitActions))
	fmt.Fprintf(w, "  notices: %d  %s\n", total(s.Notices), counts(s.Notices))
	var rej int64
	for _, n := range s.Rejects {
		rej += n
	}
	fmt.Fprintf(w, "  rejected input rows: %d\n", rej)
	fmt.Fprintf(w, "  files: %s/{%s}\n", s.Dir, strings.Join(s.Files, ","))
}

func counts[V int | int64](m map[string]V) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := "("
	for i, k := range keys {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%s %d", k, m[k])
	}
	return out + ")"
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
