// Package daily computes the daily summary of a night: a small long-format
// table (daily_summary.parquet) with the book by status, delinquency bucket
// and grade, the day's money flows and their conservation check, the
// statements, plans, notices, rejects and limit actions of the night, the
// population stability of the score and of every characteristic, and the
// counts the range views need: bucket transitions (day over day, and month
// end over month end), vintages and the grade back-test.
//
// A Summary is a pure accumulator: the pipeline gives each bucket of
// accounts its own, adds every account of the bucket after its night, and
// merges the buckets' summaries. Every count and amount is an exact integer
// (a mean is a sum of integers divided once, when the rows are made), so the
// rows are the same whatever the number of workers or the bucket size.
//
// Classes. An account is in one class on a date:
//
//	unbooked     never activated by that date (pending, or declined)
//	closed       closed on or before that date, not by a charge-off
//	charged_off  closed by a charge-off on or before that date
//	M1 … M7+     past due: 1–30 days, 31–60 … 151–180, beyond 180
//	current      booked, open and not past due
//
// Roll rates. roll_day counts every account by its class at the close of
// the day before and at the close of the day. roll_month, written on the
// last day of a month only, counts every account by its class at the close
// of the last day of the previous month (read from that date's published
// delinquency table and the account's own activation and closing dates) and
// its class at the close of the day: the month-over-month transition matrix,
// exactly, without chaining days.
//
// Vintages count the booked accounts by the month they opened and, among
// them, those 30+ and 90+ days past due (a charged-off account counts in
// both), with the months on book as of the date.
//
// The back-test, written on the last day of a month, takes the accounts
// scored at the close of the month end h months before (h = 1 … 6, 9, 12,
// when that date is published) that were not 90+ days past due then, by
// the grade they had, and counts those that are bad on the date: 90+ days
// past due, or charged off since.
package daily

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/scoring"
)

// Row is one row of daily_summary.parquet. Count is how many of what the
// dimension counts (accounts, statements, plans, notices, input rows);
// Amount is money in CNY, Value a rate, a mean or an index. Both are null
// where the dimension has none.
type Row struct {
	AsOf      billing.Date   `parquet:"as_of,date"`
	Dimension string         `parquet:"dimension"`
	Key       string         `parquet:"key"`
	Key2      *string        `parquet:"key2,optional"` // NULL when the dimension has one key
	Count     int64          `parquet:"count"`
	Amount    *billing.Money `parquet:"amount,decimal(2:18),optional"`
	Value     *float64       `parquet:"value,optional"`
}

// K2 is the row's second key, "" when it has none.
func (r *Row) K2() string {
	if r.Key2 == nil {
		return ""
	}
	return *r.Key2
}

// key2 is k as a second key: NULL when empty.
func key2(k string) *string {
	if k == "" {
		return nil
	}
	return &k
}

// Dimensions, in the order the rows are written.
const (
	DimBook        = "book"         // key: accounts (count) · exposure_before, exposure_after (amount)
	DimStatus      = "status"       // key: account status; count accounts, amount exposure
	DimFlow        = "flow"         // key: flow kind; amount
	DimConserve    = "conservation" // key: unexplained; amount = exposure moved − net flows; value 1 when 0
	DimBucket      = "dpd_bucket"   // key: current, M1 … M7+; count accounts, amount past due
	DimGrade       = "grade"        // key: grade; count accounts scored, amount exposure, value mean score
	DimGradePD     = "grade_pd"     // key: grade; count accounts scored, value mean PD
	DimStatements  = "statements"   // key: issued; count, amount minimum due · new_balance
	DimPlans       = "plans"        // key: opened, over_cap; count, amount principal
	DimPlanAPR     = "plan_apr"     // key: nominal APR bin; count plans opened
	DimNotice      = "notice"       // key: kind, key2: channel; count
	DimReject      = "reject"       // key: reason, key2: dataset; count rows
	DimLimit       = "limit_action" // key: action; count, amount net limit change
	DimLimitReason = "limit_reason" // key: action, key2: reason code; count
	DimPSI         = "psi"          // key: score or characteristic; value PSI
	DimPSIBin      = "psi_bin"      // key: name, key2: bin; count today, value the bin's PSI term
	DimPSIBase     = "psi_baseline" // key: name, key2: bin; count in the baseline
	DimRollDay     = "roll_day"     // key: class the day before, key2: class today; count
	DimRollMonth   = "roll_month"   // key: class at the previous month end, key2: class today; count
	DimVintage     = "vintage"      // key: opening month, key2: all, 30+, 90+; count, value months on book
	DimBacktest    = "backtest"     // key: grade h months ago, key2: h; count accounts
	DimBacktestBad = "backtest_bad" // key: grade h months ago, key2: h; count bad today
)

// Classes, in matrix order.
const (
	ClassCurrent    = "current"
	ClassUnbooked   = "unbooked"
	ClassClosed     = "closed"
	ClassChargedOff = "charged_off"
	// ClassNew is an account not on the book yet: opened later (through the
	// accounts feed); it is a "from" class only.
	ClassNew = "new"
)

// Classes lists every class in matrix order: current, M1 … M7+, then the
// classes an account leaves the book by.
var Classes = []string{ClassCurrent, "M1", "M2", "M3", "M4", "M5", "M6", "M7+", ClassUnbooked, ClassClosed, ClassChargedOff, ClassNew}

const (
	clsCurrent = 0
	// 1..7 are M1..M7+
	clsUnbooked   = 8
	clsClosed     = 9
	clsChargedOff = 10
	clsNew        = 11
	numClasses    = 12
)

// Horizons are the back-test's horizons in months.
var Horizons = []int{1, 2, 3, 4, 5, 6, 9, 12}

// APRBins are the upper edges of the nominal APR bins of plans opened, in
// millionths (billing.Rate); the last bin has no upper edge.
var APRBins = []billing.Rate{60000, 120000, 180000, 240000, 300000, 360000}

// pdScale is the unit PDs are summed in: 1e-9, exactly, as integers.
const pdScale = 1e9

// Class returns the class of account a at the close of day, given its days
// past due then.
func Class(a *billing.Account, dpd int32) string { return Classes[class(a, dpd)] }

func class(a *billing.Account, dpd int32) int {
	switch a.Status {
	case billing.Pending, billing.Declined:
		return clsUnbooked
	case billing.Closed:
		if a.ChargedOff > 0 {
			return clsChargedOff
		}
		return clsClosed
	}
	return bucket(dpd)
}

// classAt returns the class a had at the close of an earlier date e, from
// its dates and its days past due then.
func classAt(a *billing.Account, e billing.Date, dpd int32) int {
	if a.OpenedOn > e {
		return clsNew // opened since
	}
	if a.Status == billing.Closed && a.ClosedOn <= e { // 0: closed before the book's first night
		if a.ChargedOff > 0 {
			return clsChargedOff
		}
		return clsClosed
	}
	if a.ActivatedOn == 0 || a.ActivatedOn > e {
		return clsUnbooked
	}
	return bucket(dpd)
}

func bucket(dpd int32) int {
	if dpd <= 0 {
		return clsCurrent
	}
	return int(min((dpd+29)/30, 7))
}

// Before returns the class of an account as it stands at the close of day−1,
// to be passed to Add once the account's night is done.
func Before(a *billing.Account, day billing.Date) int8 {
	if a.OpenedOn > day-1 {
		return clsNew // opened tonight
	}
	var dpd int32
	switch a.Status {
	case billing.Pending, billing.Declined, billing.Closed: // class does not read it
	default:
		dpd = a.PastDueDays(day - 1)
	}
	return int8(class(a, dpd))
}

// Prior is what a published month end said: the days past due of the
// accounts past due then and the grade of the accounts scored then, both
// sorted by account id.
type Prior struct {
	Months int          // how many months before the night's month
	End    billing.Date // the month end
	// DelinquentIDs and DPD are the delinquency table of End.
	DelinquentIDs []int64
	DPD           []int32
	// ScoredIDs and GradeOf are the scores table of End, its grades as
	// positions in GradeNames (a night holds up to eight month ends of
	// the book, so a grade takes a byte, not a string); empty when only
	// the delinquency table is needed. AddScored fills them; Compact
	// turns them into gradeAt when that is smaller.
	ScoredIDs  []int64
	GradeOf    []uint8
	GradeNames []string
	// gradeAt is the scores table by account id, when Compact made it:
	// the grade of account base+i is GradeNames[gradeAt[i]-1], 0 for an
	// account not scored. A book numbered in sequence takes a byte an
	// account instead of nine (1M accounts: 1 MB a month end, not 9).
	gradeAt []uint8
	base    int64
}

// maxPriorGrades is how many distinct grades a Prior holds: a grade is
// a byte.
const maxPriorGrades = 256

// AddScored appends the scores row of account id graded grade; it fails
// on a grade beyond the maxPriorGrades distinct ones a Prior holds.
func (p *Prior) AddScored(id int64, grade []byte) error {
	k, err := p.GradeIndex(grade)
	if err != nil {
		return err
	}
	p.ScoredIDs = append(p.ScoredIDs, id)
	p.GradeOf = append(p.GradeOf, k)
	return nil
}

// GradeIndex returns the position of grade in GradeNames, appending it
// when it is new; it fails on a grade beyond the maxPriorGrades distinct
// ones a Prior holds.
func (p *Prior) GradeIndex(grade []byte) (uint8, error) {
	k := slices.IndexFunc(p.GradeNames, func(g string) bool { return g == string(grade) })
	if k < 0 {
		if len(p.GradeNames) == maxPriorGrades {
			return 0, fmt.Errorf("more than %d distinct grades", maxPriorGrades)
		}
		k = len(p.GradeNames)
		p.GradeNames = append(p.GradeNames, string(grade))
	}
	return uint8(k), nil
}

func (p *Prior) dpd(id int64) int32 {
	if i, ok := slices.BinarySearch(p.DelinquentIDs, id); ok {
		return p.DPD[i]
	}
	return 0
}

// Compact replaces ScoredIDs and GradeOf, sorted by account id without
// repeats, by one byte an account of their range when that takes fewer
// bytes than they do (their range at most nine times their accounts, a
// book numbered in sequence); else it leaves them as they are.
func (p *Prior) Compact() {
	n := len(p.ScoredIDs)
	if n == 0 || len(p.GradeNames) >= maxPriorGrades { // a grade and "none" must fit a byte
		return
	}
	lo, hi := p.ScoredIDs[0], p.ScoredIDs[n-1]
	span := uint64(hi) - uint64(lo) // hi ≥ lo: exact even across the sign
	if span >= 9*uint64(n) {
		return
	}
	at := make([]uint8, span+1)
	for i, id := range p.ScoredIDs {
		at[uint64(id)-uint64(lo)] = p.GradeOf[i] + 1
	}
	p.gradeAt, p.base = at, lo
	p.ScoredIDs, p.GradeOf = nil, nil
}

// Scored reports whether the prior holds its month end's scores table
// (not only its delinquency table).
func (p *Prior) Scored() bool { return len(p.ScoredIDs) > 0 || p.gradeAt != nil }

// Grade returns the grade account id had at the month end, if it was scored.
func (p *Prior) Grade(id int64) (string, bool) {
	if p.gradeAt != nil {
		d := uint64(id) - uint64(p.base)
		if id < p.base || d >= uint64(len(p.gradeAt)) || p.gradeAt[d] == 0 {
			return "", false
		}
		return p.GradeNames[p.gradeAt[d]-1], true
	}
	if i, ok := slices.BinarySearch(p.ScoredIDs, id); ok {
		return p.GradeNames[p.GradeOf[i]], true
	}
	return "", false
}

// Night is what every bucket of a night shares: the date and, on the last
// day of a month, the published month ends before it.
type Night struct {
	Day    billing.Date
	Priors []*Prior // by Months; empty but on a month end
	// Grades are the policy's grades, best first, for the order of rows.
	Grades []string
}

// MonthEnd reports whether day is the last day of its month.
func MonthEnd(day billing.Date) bool { return (day + 1).Day() == 1 }

// PriorMonthEnd returns the last day of the month months before day's.
func PriorMonthEnd(day billing.Date, months int) billing.Date {
	y, m, _ := day.YMD()
	return billing.NewDate(y, m-time.Month(months-1), 1) - 1
}

type gradeAcc struct {
	accounts int64
	exposure billing.Money
	score    int64
	pd       int64 // in 1/pdScale
}

type keyed struct{ key, key2 string }

type amounted struct {
	n      int64
	amount billing.Money
}

// Summary accumulates a night's summary; the zero value is not ready, use
// New.
type Summary struct {
	night *Night

	accounts int64
	status   map[string]*amounted
	// lastStatus and lastSt cache the status of the account added last.
	lastStatus billing.Status
	lastSt     *amounted
	gradeAt    []*gradeAcc // the accumulators of night.Grades, by position
	buckets    [8]amounted // current, M1..M7+ (amount past due)
	grades     map[string]*gradeAcc

	statements                  int64
	minimumDue, newBalance      billing.Money
	plans, overCap              int64
	principal, overCapPrincipal billing.Money
	apr                         []int64
	notices                     map[keyed]int64
	limits                      map[string]*amounted
	limitReasons                map[string]map[string]*int64 // action → reason code → decisions
	kinds                       map[keyed]*decisionKind      // (action, reasons) → its counters
	lastKind                    *decisionKind                // the kind of the decision added last
	rollDay                     [numClasses][numClasses]int64
	rollMonth                   [numClasses][numClasses]int64
	vintage                     map[billing.Date]*[3]int64 // opening month's first day → all, 30+, 90+
	// monthStart[k] is the first day of the month k months before the
	// night's, and monthVintage[k] its counters in vintage (nil until an
	// account of that month is counted); both grow as Add asks.
	monthStart            []billing.Date
	monthVintage          []*[3]int64
	backtest, backtestBad map[keyed]int64
	rejects               map[keyed]int64
	flows                 billing.Flows
	before, after         billing.Money
	haveFlows             bool
	psi                   []scoring.PSIResult
	actual, baseline      *scoring.Distribution
}

// New returns an empty summary of the night n.
func New(n *Night) *Summary {
	return &Summary{night: n, apr: make([]int64, len(APRBins)+1), status: map[string]*amounted{}, grades: map[string]*gradeAcc{},
		notices: map[keyed]int64{}, limits: map[string]*amounted{}, limitReasons: map[string]map[string]*int64{}, kinds: map[keyed]*decisionKind{},
		vintage: map[billing.Date]*[3]int64{}, backtest: map[keyed]int64{}, backtestBad: map[keyed]int64{},
		rejects: map[keyed]int64{}}
}

// Add counts account a after its night. exposure is its exposure then
// (a.Exposure()); before is its class the day before (Before); del its
// delinquency row of the night, nil when current; r its score, nil when it
// was not scored.
func (s *Summary) Add(a *billing.Account, exposure billing.Money, before int8, del *billing.DelinquencyRow, r *scoring.Result) {
	day := s.night.Day
	var dpd int32
	if del != nil {
		dpd = del.DPD
	}
	s.accounts++
	if a.Status != s.lastStatus || s.lastSt == nil {
		s.lastSt = s.status[string(a.Status)]
		if s.lastSt == nil {
			s.lastSt = &amounted{}
			s.status[string(a.Status)] = s.lastSt
		}
		s.lastStatus = a.Status
	}
	s.lastSt.n++
	s.lastSt.amount += exposure

	cls := class(a, dpd)
	if cls < clsUnbooked || del != nil {
		b := bucket(dpd)
		s.buckets[b].n++
		if del != nil {
			s.buckets[b].amount += del.PastDueAmount
		}
	}
	if r != nil {
		g := s.grade(r.Grade)
		g.accounts++
		g.exposure += exposure
		g.score += int64(r.Score)
		g.pd += int64(r.PD*pdScale + 0.5)
	}
	s.rollDay[before][cls]++

	if a.ActivatedOn != 0 && a.ActivatedOn <= day {
		v := s.vintageOf(a.OpenedOn)
		v[0]++
		if dpd >= 30 || cls == clsChargedOff {
			v[1]++
		}
		if dpd >= 90 || cls == clsChargedOff {
			v[2]++
		}
	}

	for _, p := range s.night.Priors {
		if p.Months == 1 {
			s.rollMonth[classAt(a, p.End, p.dpd(a.ID))][cls]++
		}
		if !p.Scored() {
			continue
		}
		g, ok := p.Grade(a.ID)
		if !ok || p.dpd(a.ID) >= 90 {
			continue
		}
		k := keyed{g, strconv.Itoa(p.Months)}
		s.backtest[k]++
		if dpd >= 90 || cls == clsChargedOff && a.ClosedOn > p.End {
			s.backtestBad[k]++
		}
	}
}

// grade returns the accumulator of grade name, found among the policy's
// grades by position before the map.
func (s *Summary) grade(name string) *gradeAcc {
	for i, g := range s.night.Grades {
		if g == name {
			if s.gradeAt == nil {
				s.gradeAt = make([]*gradeAcc, len(s.night.Grades))
			}
			if s.gradeAt[i] == nil {
				s.gradeAt[i] = s.gradeMap(name)
			}
			return s.gradeAt[i]
		}
	}
	return s.gradeMap(name)
}

func (s *Summary) gradeMap(name string) *gradeAcc {
	g := s.grades[name]
	if g == nil {
		g = &gradeAcc{}
		s.grades[name] = g
	}
	return g
}

// AddOutput counts the rows a bucket produced: statements, plans, notices
// and limit decisions.
func (s *Summary) AddOutput(o *billing.Output, decisions []scoring.DecisionRow) {
	for i := range o.Statements {
		st := &o.Statements[i]
		s.statements++
		s.minimumDue += st.MinimumDue
		s.newBalance += st.NewBalance
	}
	for i := range o.Plans {
		p := &o.Plans[i]
		s.plans++
		s.principal += p.Principal
		if p.OverCap {
			s.overCap++
			s.overCapPrincipal += p.Principal
		}
		b := len(APRBins) // an APR too large to disclose: the top bin
		if p.APRNominal != nil {
			b, _ = slices.BinarySearch(APRBins, *p.APRNominal+1) // upper edge exclusive
		}
		s.apr[b]++
	}
	for i := range o.Notices {
		n := &o.Notices[i]
		s.notices[keyed{n.Kind, n.Channel}]++
	}
	for i := range decisions {
		d := &decisions[i]
		k := s.kindOf(d.Action, d.Reasons)
		k.limit.n++
		k.limit.amount += d.NewLimit - d.OldLimit
		for _, n := range k.codes[:k.n] {
			*n++
		}
	}
}

// decisionKind holds the counters a decision of one action with one list
// of reason codes adds to: its action's, and each code's, in order.
type decisionKind struct {
	action, reasons string
	limit           *amounted
	codes           [scoring.MaxLimitReasons]*int64
	n               int // codes in use
}

// kindOf returns the counters of the decisions of action with the
// ';'-joined reason codes reasons (see docs/limit-reasons.md). The codes
// and their lists are stable and few, so the rows count kinds of
// decisions, not accounts; it allocates only for a list not seen yet.
func (s *Summary) kindOf(action, reasons string) *decisionKind {
	if k := s.lastKind; k != nil && k.action == action && k.reasons == reasons {
		return k
	}
	if k := s.kinds[keyed{action, reasons}]; k != nil {
		s.lastKind = k
		return k
	}
	k := &decisionKind{action: action, reasons: strings.Clone(reasons)} // the codes are keys below
	if k.limit = s.limits[action]; k.limit == nil {
		k.limit = &amounted{}
		s.limits[k.action] = k.limit
	}
	m := s.limitReasons[action]
	if m == nil {
		m = map[string]*int64{}
		s.limitReasons[k.action] = m
	}
	overflow := false
	for rest := k.reasons; rest != ""; {
		var code string
		code, rest, _ = strings.Cut(rest, ";")
		n := m[code]
		if n == nil {
			n = new(int64)
			m[code] = n
		}
		if k.n == len(k.codes) { // more codes than a decision lists: counted here
			*n++
			overflow = true
			continue
		}
		k.codes[k.n] = n
		k.n++
	}
	if overflow {
		return k // not kept: each such decision counts its extra codes again
	}
	s.kinds[keyed{k.action, k.reasons}] = k
	s.lastKind = k
	return k
}

// Merge adds o, the summary of a later bucket of the same night, to s.
func (s *Summary) Merge(o *Summary) {
	s.accounts += o.accounts
	for k, v := range o.status {
		if t := s.status[k]; t != nil {
			t.n, t.amount = t.n+v.n, t.amount+v.amount
		} else {
			c := *v
			s.status[k] = &c
		}
	}
	for i := range s.buckets {
		s.buckets[i].n += o.buckets[i].n
		s.buckets[i].amount += o.buckets[i].amount
	}
	for k, v := range o.grades {
		if t := s.grades[k]; t != nil {
			t.accounts += v.accounts
			t.exposure += v.exposure
			t.score += v.score
			t.pd += v.pd
		} else {
			c := *v
			s.grades[k] = &c
		}
	}
	s.statements += o.statements
	s.minimumDue += o.minimumDue
	s.newBalance += o.newBalance
	s.plans += o.plans
	s.overCap += o.overCap
	s.principal += o.principal
	s.overCapPrincipal += o.overCapPrincipal
	for i := range s.apr {
		s.apr[i] += o.apr[i]
	}
	addCounts(s.notices, o.notices)
	for k, v := range o.limits {
		if t := s.limits[k]; t != nil {
			t.n, t.amount = t.n+v.n, t.amount+v.amount
		} else {
			c := *v
			s.limits[k] = &c
		}
	}
	for a, m := range o.limitReasons {
		t := s.limitReasons[a]
		if t == nil {
			t = map[string]*int64{}
			s.limitReasons[a] = t
		}
		for k, n := range m {
			if p := t[k]; p != nil {
				*p += *n
			} else {
				t[k] = new(*n)
			}
		}
	}
	for i := range s.rollDay {
		for j := range s.rollDay[i] {
			s.rollDay[i][j] += o.rollDay[i][j]
			s.rollMonth[i][j] += o.rollMonth[i][j]
		}
	}
	for k, v := range o.vintage {
		t := s.vintage[k]
		if t == nil {
			t = &[3]int64{}
			s.vintage[k] = t
		}
		for i := range t {
			t[i] += v[i]
		}
	}
	addCounts(s.backtest, o.backtest)
	addCounts(s.backtestBad, o.backtestBad)
	addCounts(s.rejects, o.rejects)
}

func addCounts(dst, src map[keyed]int64) {
	for k, v := range src {
		dst[k] += v
	}
}

// AddReject counts one rejected input row.
func (s *Summary) AddReject(dataset, reason string) { s.rejects[keyed{reason, dataset}]++ }

// SetFlows records the book's exposure before and after the night and the
// night's flows.
func (s *Summary) SetFlows(before, after billing.Money, f billing.Flows) {
	s.before, s.after, s.flows, s.haveFlows = before, after, f, true
}

// SetPSI records the population stability of the night: the results, the
// night's distribution and its baseline (nil when there is none).
func (s *Summary) SetPSI(results []scoring.PSIResult, actual, baseline *scoring.Distribution) {
	s.psi, s.actual, s.baseline = results, actual, baseline
}

// vintageOf returns the vintage counters of the accounts opened in the
// month of opened. The month is found among the first days of the months
// before the night's (a month has 28 to 31 days, so (days back)/31 is
// within a few months of it), without a calendar conversion per account.
func (s *Summary) vintageOf(opened billing.Date) *[3]int64 {
	start := s.monthStartBack(0)
	k := 0
	if opened < start {
		k = int((start - opened + 30) / 31) // ≤ the months back: a month has at most 31 days
	}
	for k < maxMonthsBack && s.monthStartBack(k) > opened {
		k++
	}
	if k >= maxMonthsBack || k == 0 && opened >= s.monthStartBack(-1) { // outside the months kept
		y, m, _ := opened.YMD()
		return s.vintageAt(billing.NewDate(y, m, 1))
	}
	if len(s.monthVintage) <= k {
		s.monthVintage = slices.Grow(s.monthVintage, k+1+monthsAhead-len(s.monthVintage))[:k+1]
	}
	if s.monthVintage[k] == nil {
		s.monthVintage[k] = s.vintageAt(s.monthStartBack(k))
	}
	return s.monthVintage[k]
}

// maxMonthsBack is how many months before the night's vintageOf keeps
// (a century); an account opened earlier, or after the night's month, is
// found in the map.
const maxMonthsBack = 1200

// monthsAhead is how many months more than asked the month arrays grow
// by, so that a bucket's accounts grow them a few times, not once a month.
const monthsAhead = 60

// monthStartBack returns the first day of the month k months before the
// night's (k = −1: the month after it).
func (s *Summary) monthStartBack(k int) billing.Date {
	if k < 0 {
		y, m, _ := s.night.Day.YMD()
		return billing.NewDate(y, m+1, 1)
	}
	if len(s.monthStart) <= k {
		y, m, _ := s.night.Day.YMD()
		s.monthStart = slices.Grow(s.monthStart, k+1+monthsAhead-len(s.monthStart))
		for len(s.monthStart) <= k {
			s.monthStart = append(s.monthStart, billing.NewDate(y, m-time.Month(len(s.monthStart)), 1))
		}
	}
	return s.monthStart[k]
}

// vintageAt returns the counters of the month that starts on from.
func (s *Summary) vintageAt(from billing.Date) *[3]int64 {
	v := s.vintage[from]
	if v == nil {
		v = &[3]int64{}
		s.vintage[from] = v
	}
	return v
}

// MonthsOnBook is the number of calendar months from the month that opened
// (its first day) to day's month.
func MonthsOnBook(opened, day billing.Date) int {
	a, b := opened.Time(), day.Time()
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

// Rows returns the summary's rows, in dimension order and, within one, in
// the order of their keys (classes, grades and bins in their own order).
func (s *Summary) Rows() []Row {
	day := s.night.Day
	var rows []Row
	add := func(dim, key, k2 string, n int64, amount *billing.Money, value *float64) {
		rows = append(rows, Row{AsOf: day, Dimension: dim, Key: key, Key2: key2(k2), Count: n, Amount: amount, Value: value})
	}
	money := func(m billing.Money) *billing.Money { return &m }
	float := func(f float64) *float64 { return &f }

	add(DimBook, "accounts", "", s.accounts, nil, nil)
	if s.haveFlows {
		add(DimBook, "exposure_before", "", 0, money(s.before), nil)
		add(DimBook, "exposure_after", "", 0, money(s.after), nil)
	}
	for _, k := range sortedKeys(s.status) {
		add(DimStatus, k, "", s.status[k].n, money(s.status[k].amount), nil)
	}
	if s.haveFlows {
		f := s.flows
		for _, fl := range []struct {
			k string
			m billing.Money
		}{{"purchases", f.Purchases}, {"fees", f.Fees}, {"revolving_fees", f.Revolving}, {"penalties", f.Penalties},
			{"payments", f.Payments}, {"refunds", f.Refunds}, {"fee_reversals", f.FeeReversal},
			{"charged_off", f.ChargedOff}, {"recoveries", f.Recoveries}, {"net", f.Net()}} {
			add(DimFlow, fl.k, "", 0, money(fl.m), nil)
		}
		unexplained := s.after - s.before - f.Net()
		ok := 0.0
		if unexplained == 0 {
			ok = 1
		}
		add(DimConserve, "unexplained", "", 0, money(unexplained), float(ok))
	}
	for i, b := range s.buckets {
		add(DimBucket, Classes[i], "", b.n, money(b.amount), nil)
	}
	for _, g := range s.gradeOrder() {
		v := s.grades[g]
		add(DimGrade, g, "", v.accounts, money(v.exposure), float(float64(v.score)/float64(v.accounts)))
	}
	for _, g := range s.gradeOrder() {
		v := s.grades[g]
		add(DimGradePD, g, "", v.accounts, nil, float(float64(v.pd)/pdScale/float64(v.accounts)))
	}
	add(DimStatements, "issued", "", s.statements, money(s.minimumDue), nil)
	add(DimStatements, "new_balance", "", s.statements, money(s.newBalance), nil)
	add(DimPlans, "opened", "", s.plans, money(s.principal), nil)
	add(DimPlans, "over_cap", "", s.overCap, money(s.overCapPrincipal), nil)
	for i, n := range s.apr {
		add(DimPlanAPR, APRBinLabel(i), "", n, nil, nil)
	}
	for _, k := range sortedKeyed(s.notices) {
		add(DimNotice, k.key, k.key2, s.notices[k], nil, nil)
	}
	for _, k := range sortedKeyed(s.rejects) {
		add(DimReject, k.key, k.key2, s.rejects[k], nil, nil)
	}
	for _, k := range sortedKeys(s.limits) {
		add(DimLimit, k, "", s.limits[k].n, money(s.limits[k].amount), nil)
	}
	for _, a := range sortedKeys(s.limitReasons) {
		for _, k := range sortedKeys(s.limitReasons[a]) {
			add(DimLimitReason, a, k, *s.limitReasons[a][k], nil, nil)
		}
	}
	for _, p := range s.psi {
		if !p.NoBaseline {
			add(DimPSI, p.Name, "", 0, nil, float(p.PSI))
		}
	}
	if s.actual != nil && s.baseline != nil {
		rows = append(rows, psiBins(day, s.actual, s.baseline)...)
	}
	for i := range s.rollDay {
		for j, n := range s.rollDay[i] {
			if n > 0 {
				add(DimRollDay, Classes[i], Classes[j], n, nil, nil)
			}
		}
	}
	for i := range s.rollMonth {
		for j, n := range s.rollMonth[i] {
			if n > 0 {
				add(DimRollMonth, Classes[i], Classes[j], n, nil, nil)
			}
		}
	}
	months := make([]billing.Date, 0, len(s.vintage))
	for m := range s.vintage {
		months = append(months, m)
	}
	slices.Sort(months)
	for _, m := range months {
		v := s.vintage[m]
		mob := float64(MonthsOnBook(m, day))
		key := m.String()[:7]
		add(DimVintage, key, "all", v[0], nil, float(mob))
		add(DimVintage, key, "30+", v[1], nil, float(mob))
		add(DimVintage, key, "90+", v[2], nil, float(mob))
	}
	for _, dim := range []string{DimBacktest, DimBacktestBad} {
		m := s.backtest
		if dim == DimBacktestBad {
			m = s.backtestBad
		}
		for _, h := range Horizons {
			hk := strconv.Itoa(h)
			for _, g := range s.backtestGrades() {
				if n, ok := s.backtest[keyed{g, hk}]; ok && n > 0 {
					add(dim, g, hk, m[keyed{g, hk}], nil, nil)
				}
			}
		}
	}
	return rows
}

// psiBins returns each bin's count today and in the baseline, with its
// term of the PSI, computed as scoring computes the PSI (shares floored at
// 1e-4).
func psiBins(day billing.Date, actual, baseline *scoring.Distribution) []Row {
	const floor = 1e-4
	var rows []Row
	for i, name := range actual.Names {
		k := slices.Index(baseline.Names, name)
		if k < 0 {
			continue
		}
		at, et := actual.Total(name), baseline.Total(name)
		if at == 0 || et == 0 {
			continue
		}
		share := func(n, total int64) float64 { return max(float64(n)/float64(total), floor) }
		for j, bin := range actual.Bins[i] {
			var e int64
			if b := slices.Index(baseline.Bins[k], bin); b >= 0 {
				e = baseline.Counts[k][b]
			}
			av, ev := share(actual.Counts[i][j], at), share(e, et)
			term := (av - ev) * math.Log(av/ev)
			rows = append(rows, Row{AsOf: day, Dimension: DimPSIBin, Key: name, Key2: key2(bin), Count: actual.Counts[i][j], Value: &term})
		}
	}
	for i, name := range baseline.Names {
		for j, bin := range baseline.Bins[i] {
			rows = append(rows, Row{AsOf: day, Dimension: DimPSIBase, Key: name, Key2: key2(bin), Count: baseline.Counts[i][j]})
		}
	}
	return rows
}

// APRBinLabel names APR bin i: "0–6%", "6–12%" … "36%+".
func APRBinLabel(i int) string {
	pct := func(r billing.Rate) string { return strconv.Itoa(int(r / 10000)) }
	switch {
	case i == 0:
		return "0–" + pct(APRBins[0]) + "%"
	case i == len(APRBins):
		return pct(APRBins[i-1]) + "%+"
	default:
		return pct(APRBins[i-1]) + "–" + pct(APRBins[i]) + "%"
	}
}

// gradeOrder returns the grades scored, in the policy's order, then any
// other in name order.
func (s *Summary) gradeOrder() []string {
	return ordered(s.night.Grades, sortedKeys(s.grades))
}

func (s *Summary) backtestGrades() []string {
	seen := map[string]bool{}
	var gs []string
	for k := range s.backtest {
		if !seen[k.key] {
			seen[k.key] = true
			gs = append(gs, k.key)
		}
	}
	slices.Sort(gs)
	return ordered(s.night.Grades, gs)
}

func ordered(order, have []string) []string {
	var out []string
	for _, g := range order {
		if slices.Contains(have, g) {
			out = append(out, g)
		}
	}
	for _, g := range have {
		if !slices.Contains(order, g) {
			out = append(out, g)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sortedKeyed(m map[keyed]int64) []keyed {
	keys := make([]keyed, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b keyed) int { return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.key2, b.key2)) })
	return keys
}
