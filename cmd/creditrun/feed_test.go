package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/scoring"
)

// The end-to-end nights of the accounts feed: a book whose master and
// daily changes come from EVENTS/accounts/dt=*/, backfilled with the real
// binary from feedFrom. Account 1 (billing day 1, limit 10000.00, bureau
// score 700) is on the book from the start.

const feedFrom = "2025-03-01"

// feedRow is a row of the accounts feed: the master's columns plus
// updated_at.
type feedRow struct {
	AccountID     int64  `parquet:"account_id"`
	CustomerID    string `parquet:"customer_id"`
	OpenedOn      int32  `parquet:"opened_on,date"`
	Status        string `parquet:"status"`
	CreditLimit   *int64 `parquet:"credit_limit,decimal(2:18),optional"`
	BillingDay    int32  `parquet:"billing_day"`
	ExternalScore *int32 `parquet:"external_score,optional"`
	FraudFlag     *bool  `parquet:"fraud_flag,optional"`
	UpdatedAt     int64  `parquet:"updated_at,timestamp(microsecond:utc)"`
}

// onBook is account 1 as the platform describes it at noon on day.
func onBook(day string) feedRow {
	return feedRow{AccountID: 1, CustomerID: "c1", OpenedOn: int32(billing.NewDate(2024, 1, 1)), Status: "active",
		CreditLimit: ptr(int64(1_000_000)), BillingDay: 1, ExternalScore: ptr(int32(700)), UpdatedAt: lateNoon(day)}
}

// application is a new pending account id with bureau score score,
// arriving at noon on day.
func application(id int64, day string, score int32) feedRow {
	d, _ := time.Parse(time.DateOnly, day)
	return feedRow{AccountID: id, CustomerID: "c" + strings.Repeat("x", int(id%7)), OpenedOn: int32(billing.NewDate(d.Year(), d.Month(), d.Day())),
		Status: "pending", BillingDay: 5, ExternalScore: ptr(score), UpdatedAt: lateNoon(day)}
}

// feedBook is the input of a backfill of feedFrom..to: the feed rows and
// events by dt= partition (the feed's dt=feedFrom-1 holds the master).
type feedBook struct {
	feed      map[string][][]feedRow // each dt's files
	txns      map[string][]txnRow
	reps      map[string][]repaymentRow
	incidents []incidentRow
	policy    string // a policy file's text, if any
}

func newFeedBook(master ...feedRow) *feedBook {
	if len(master) == 0 {
		master = []feedRow{onBook("2025-02-28")}
	}
	return &feedBook{feed: map[string][][]feedRow{"2025-02-28": {master}}, txns: map[string][]txnRow{},
		reps: map[string][]repaymentRow{}}
}

// on adds rows to dt's feed, as one more file.
func (b *feedBook) on(dt string, rows ...feedRow) *feedBook {
	b.feed[dt] = append(b.feed[dt], rows)
	return b
}

// write writes the events under dir/events and returns that directory.
func (b *feedBook) write(t *testing.T, dir, to string, withFeed bool) string {
	t.Helper()
	events := filepath.Join(dir, "events")
	first, _ := time.Parse(time.DateOnly, feedFrom)
	last, _ := time.Parse(time.DateOnly, to)
	for d := first.AddDate(0, 0, -1); !d.After(last.AddDate(0, 0, 1)); d = d.AddDate(0, 0, 1) {
		dt := d.Format(time.DateOnly)
		for _, ds := range []string{"transactions", "repayments", "accounts"} {
			if ds != "accounts" || withFeed {
				must(t, os.MkdirAll(filepath.Join(events, ds, "dt="+dt), 0o755))
			}
		}
		must(t, parquet.WriteFile(filepath.Join(events, "transactions", "dt="+dt, "part-0.parquet"), b.txns[dt]))
		must(t, parquet.WriteFile(filepath.Join(events, "repayments", "dt="+dt, "part-0.parquet"), b.reps[dt]))
		if !withFeed {
			continue
		}
		files := b.feed[dt]
		if len(files) == 0 {
			files = [][]feedRow{nil}
		}
		for i, rows := range files {
			must(t, parquet.WriteFile(filepath.Join(events, "accounts", "dt="+dt, "part-"+string(rune('0'+i))+".parquet"), rows))
		}
	}
	if b.incidents != nil {
		must(t, os.MkdirAll(filepath.Join(events, "incidents"), 0o755))
		must(t, parquet.WriteFile(filepath.Join(events, "incidents", "part-0.parquet"), b.incidents))
	}
	return events
}

// backfill runs feedFrom..to with the feed as the first run's master and
// returns the output directory.
func (b *feedBook) backfill(t *testing.T, to string) string {
	t.Helper()
	dir := t.TempDir()
	events := b.write(t, dir, to, true)
	out := filepath.Join(dir, "out")
	args := []string{"backfill", "--from", feedFrom, "--to", to, "--events", events, "--out", out,
		"--state", filepath.Join(events, "accounts"), "--max-reject-ratio", "1", "--log-level", "warn"}
	if b.policy != "" {
		p := filepath.Join(dir, "policy.yaml")
		must(t, os.WriteFile(p, []byte(b.policy), 0o644))
		args = append(args, "--policy", p)
	}
	if code, stderr := creditrun(t, nil, args...); code != 0 {
		t.Fatalf("backfill: exit %d\n%s", code, stderr)
	}
	return out
}

// account returns account id's row of the state published for day.
func account(t *testing.T, out, day string, id int64) state.AccountRow {
	t.Helper()
	for _, a := range readDay[state.AccountRow](t, out, day, filepath.Join("state", "accounts")) {
		if a.AccountID == id {
			return a
		}
	}
	t.Fatalf("account %d not in the state of %s", id, day)
	return state.AccountRow{}
}

func decision(t *testing.T, out, day string, id int64) scoring.DecisionRow {
	t.Helper()
	for _, d := range readDay[scoring.DecisionRow](t, out, day, "limit_decisions") {
		if d.AccountID == id {
			return d
		}
	}
	t.Fatalf("no limit decision for account %d on %s", id, day)
	return scoring.DecisionRow{}
}

func score(t *testing.T, out, day string, id int64) scoring.ScoreRow {
	t.Helper()
	for _, s := range readDay[scoring.ScoreRow](t, out, day, "scores") {
		if s.AccountID == id {
			return s
		}
	}
	t.Fatalf("account %d not scored on %s", id, day)
	return scoring.ScoreRow{}
}

// noticeKinds returns the kinds of account id's notices of day.
func noticeKinds(t *testing.T, out, day string, id int64) []string {
	t.Helper()
	var kinds []string
	for _, n := range readDay[billing.Notice](t, out, day, "notices") {
		if n.AccountID == id {
			kinds = append(kinds, n.Kind)
		}
	}
	return kinds
}

// incidentRow is a row of EVENTS/incidents/.
type incidentRow struct {
	IncidentID  string  `parquet:"incident_id"`
	Channel     string  `parquet:"channel"`
	StartsAt    int64   `parquet:"starts_at,timestamp(microsecond:utc)"`
	EndsAt      int64   `parquet:"ends_at,timestamp(microsecond:utc)"`
	RecordedAt  int64   `parquet:"recorded_at,timestamp(microsecond:utc)"`
	Description *string `parquet:"description,optional"`
}

// declineD is a policy under which grade E starts at 560, so that an
// applicant with the lowest bureau bin and no history (555) is declined.
const declineD = `extends: default
grades:
  - {grade: A, min_score: 680}
  - {grade: B, min_score: 630}
  - {grade: C, min_score: 580}
  - {grade: D, min_score: 560}
  - {grade: E}
`

// TestFeedNewAccounts: the night they arrive, an application with a good
// bureau score is activated with its grade's initial limit, one with a
// poor score declined, and an account migrated active keeps its limit.
func TestFeedNewAccounts(t *testing.T) {
	migrated := feedRow{AccountID: 12, CustomerID: "c12", OpenedOn: int32(billing.NewDate(2023, 6, 1)), Status: "active",
		CreditLimit: ptr(int64(600_000)), BillingDay: 12, ExternalScore: ptr(int32(720)), UpdatedAt: lateNoon("2025-03-02")}
	b := newFeedBook().on("2025-03-02", application(10, "2025-03-02", 800), application(11, "2025-03-02", 300), migrated)
	b.policy = declineD
	out := b.backfill(t, "2025-03-03")
	day := "2025-03-02"
	if got := readDay[billing.Notice](t, out, "2025-03-01", "notices"); len(got) != 0 {
		t.Errorf("notices of 2025-03-01 = %+v, want none: the accounts arrive on 2025-03-02", got)
	}

	d := decision(t, out, day, 10)
	if d.Action != string(billing.ActionActivate) || d.OldLimit != 0 || d.NewLimit != 500_000 || d.Grade != "B" ||
		d.ReasonCode != "INITIAL_LIMIT" || d.Reasons != "INITIAL_LIMIT" {
		t.Errorf("decision for the application at 800 = %+v, want activate, B's initial limit 5000.00", d)
	}
	if a := account(t, out, day, 10); a.Status != "active" || a.Limit != 500_000 || a.ActivatedOn == nil || a.ActivatedOn.String() != day {
		t.Errorf("account 10 = %s limit %s activated %v, want active with 5000.00 from %s", a.Status, a.Limit, a.ActivatedOn, day)
	}
	if got, want := noticeKinds(t, out, day, 10), []string{string(billing.NoticeActivated)}; !slices.Equal(got, want) {
		t.Errorf("notices of account 10 = %v, want %v", got, want)
	}

	d = decision(t, out, day, 11)
	if d.Action != string(billing.ActionDecline) || d.NewLimit != 0 || d.Grade != "E" ||
		d.ReasonCode != "GRADE_DECLINED" || !strings.HasPrefix(d.Reasons, "GRADE_DECLINED;") {
		t.Errorf("decision for the application at 300 = %+v, want decline, grade E", d)
	}
	if a := account(t, out, day, 11); a.Status == "active" || a.Status == "pending" || a.Limit != 0 || a.ActivatedOn != nil {
		t.Errorf("account 11 = %s limit %s, want declined with no limit", a.Status, a.Limit)
	}
	if got, want := noticeKinds(t, out, day, 11), []string{string(billing.NoticeDeclined)}; !slices.Equal(got, want) {
		t.Errorf("notices of account 11 = %v, want %v", got, want)
	}

	if a := account(t, out, day, 12); a.Status != "active" || a.Limit != 600_000 || a.BillingDay != 12 ||
		a.OpenedOn != billing.NewDate(2023, 6, 1) {
		t.Errorf("migrated account 12 = %+v, want active with 6000.00, billing day 12, opened 2023-06-01", a)
	}
	if d := decision(t, out, day, 12); d.OldLimit != 600_000 || d.Action == string(billing.ActionActivate) {
		t.Errorf("decision for the migrated account = %+v, want one on its limit of 6000.00, not an activation", d)
	}
	if r := rejectsOf(t, out, day); len(r) != 0 {
		t.Errorf("rejects of %s = %v, want none", day, r)
	}
	if a := account(t, out, "2025-03-03", 10); a.Status != "active" || a.Limit != 500_000 {
		t.Errorf("account 10 the next night = %s %s, want still active with 5000.00", a.Status, a.Limit)
	}
}

// TestFeedBureauRefresh: a new bureau score from the feed is the night's
// bureau_score feature and moves the grade.
func TestFeedBureauRefresh(t *testing.T) {
	low := onBook("2025-03-03")
	low.ExternalScore = ptr(int32(420))
	out := newFeedBook().on("2025-03-03", low).backfill(t, "2025-03-03")
	before, after := score(t, out, "2025-03-02", 1), score(t, out, "2025-03-03", 1)
	if before.BureauScore == nil || *before.BureauScore != 700 || after.BureauScore == nil || *after.BureauScore != 420 {
		t.Fatalf("bureau_score %v then %v, want 700 then 420", before.BureauScore, after.BureauScore)
	}
	if before.Score <= after.Score || before.Grade == after.Grade {
		t.Errorf("score %d (%s) then %d (%s), want a lower score in another grade", before.Score, before.Grade, after.Score, after.Grade)
	}
	if a := account(t, out, "2025-03-03", 1); a.ExternalScore == nil || *a.ExternalScore != 420 {
		t.Errorf("state external_score = %v, want 420", a.ExternalScore)
	}
}

// TestFeedFraudFlag: a raised fraud flag freezes the account that night;
// the account thaws only once the flag is cleared and it has stayed clean
// for collections.unfreeze_clean_days (3 here) since the freeze.
func TestFeedFraudFlag(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cleared string // the day the flag is cleared, if any
		thawed  string // the first night active again, if any
	}{
		{"cleared within the clean period", "2025-03-04", "2025-03-05"},
		{"cleared after it", "2025-03-07", "2025-03-07"},
		{"never cleared", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			flagged := onBook("2025-03-02")
			flagged.FraudFlag = ptr(true)
			b := newFeedBook().on("2025-03-02", flagged)
			if tc.cleared != "" {
				cleared := onBook(tc.cleared)
				cleared.FraudFlag = ptr(false)
				b.on(tc.cleared, cleared)
			}
			b.policy = "extends: default\ncollections:\n  unfreeze_clean_days: 3\n"
			out := b.backfill(t, "2025-03-09")
			if a := account(t, out, "2025-03-01", 1); a.Status != "active" {
				t.Errorf("account on 2025-03-01 = %s, want active", a.Status)
			}
			a := account(t, out, "2025-03-02", 1)
			if a.Status != "frozen" || !a.Fraud || a.FrozenOn == nil || a.FrozenOn.String() != "2025-03-02" {
				t.Errorf("account on 2025-03-02 = %s fraud %v frozen %v, want frozen that night for fraud", a.Status, a.Fraud, a.FrozenOn)
			}
			if d := decision(t, out, "2025-03-02", 1); d.Action != string(billing.ActionFreeze) || d.NewLimit != d.OldLimit {
				t.Errorf("decision of 2025-03-02 = %+v, want freeze, limit unchanged", d)
			}
			if got := noticeKinds(t, out, "2025-03-02", 1); !slices.Contains(got, string(billing.NoticeFrozen)) {
				t.Errorf("notices of 2025-03-02 = %v, want %s", got, billing.NoticeFrozen)
			}
			if got := offerOf(t, out, "2025-03-02", 1); got.AvailableCredit != 0 || got.InstallmentsOffered {
				t.Errorf("offer of 2025-03-02 = %+v, want nothing available", got)
			}
			for d := 2; d <= 9; d++ {
				day := time.Date(2025, 3, d, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
				want := "frozen"
				if tc.thawed != "" && day >= tc.thawed {
					want = "active"
				}
				if got := account(t, out, day, 1).Status; got != want {
					t.Errorf("account on %s = %s, want %s", day, got, want)
				}
				thawed := slices.Contains(noticeKinds(t, out, day, 1), string(billing.NoticeUnfrozen))
				if thawed != (day == tc.thawed) {
					t.Errorf("notices of %s: %s %v, want %v", day, billing.NoticeUnfrozen, thawed, day == tc.thawed)
				}
			}
		})
	}
}

// offerOf returns account id's row of the offers of day.
func offerOf(t *testing.T, out, day string, id int64) billing.OfferRow {
	t.Helper()
	for _, o := range readDay[billing.OfferRow](t, out, day, "offers") {
		if o.AccountID == id {
			return o
		}
	}
	t.Fatalf("no offer for account %d on %s", id, day)
	return billing.OfferRow{}
}

// TestFeedImmutableColumns: a feed row that would change customer_id,
// opened_on or billing_day is rejected, naming the column, and changes
// nothing (its bureau score included).
func TestFeedImmutableColumns(t *testing.T) {
	day := onBook("2025-03-02")
	day.BillingDay, day.ExternalScore = 9, ptr(int32(420))
	cust := onBook("2025-03-03")
	cust.CustomerID = "c2"
	opened := onBook("2025-03-04")
	opened.OpenedOn = int32(billing.NewDate(2024, 2, 1))
	out := newFeedBook().on("2025-03-02", day).on("2025-03-03", cust).on("2025-03-04", opened).backfill(t, "2025-03-04")
	for dt, col := range map[string]string{"2025-03-02": "billing_day", "2025-03-03": "customer_id", "2025-03-04": "opened_on"} {
		rs := readDay[source.Reject](t, out, dt, "rejects")
		if len(rs) != 1 || rs[0].Dataset != "accounts" || rs[0].Key != "1" || rs[0].Reason != billing.RejectImmutable ||
			!strings.HasPrefix(rs[0].Detail, col+":") || !strings.Contains(rs[0].File, "accounts") {
			t.Errorf("rejects of %s = %+v, want one %s naming %s", dt, rs, billing.RejectImmutable, col)
		}
	}
	a := account(t, out, "2025-03-04", 1)
	if a.BillingDay != 1 || a.CustomerID != "c1" || a.OpenedOn != billing.NewDate(2024, 1, 1) || *a.ExternalScore != 700 {
		t.Errorf("account after the rejected rows = %+v, want billing day 1, c1, opened 2024-01-01, bureau 700", a)
	}
}

// TestFeedLatestWins: several rows of one account on one day: the latest
// updated_at wins wherever it is in the file; on equal timestamps the
// later file.
func TestFeedLatestWins(t *testing.T) {
	morning, afternoon := onBook("2025-03-02"), onBook("2025-03-02")
	morning.UpdatedAt -= 2 * 3600e6
	morning.ExternalScore, afternoon.ExternalScore = ptr(int32(800)), ptr(int32(420))
	first, second := onBook("2025-03-03"), onBook("2025-03-03")
	first.ExternalScore, second.ExternalScore = ptr(int32(610)), ptr(int32(660))
	out := newFeedBook().on("2025-03-02", afternoon, morning).on("2025-03-03", first).on("2025-03-03", second).
		backfill(t, "2025-03-03")
	if s := score(t, out, "2025-03-02", 1); s.BureauScore == nil || *s.BureauScore != 420 {
		t.Errorf("bureau_score of 2025-03-02 = %v, want the afternoon's 420", s.BureauScore)
	}
	if s := score(t, out, "2025-03-03", 1); s.BureauScore == nil || *s.BureauScore != 660 {
		t.Errorf("bureau_score of 2025-03-03 = %v, want the later file's 660", s.BureauScore)
	}
}

// TestFeedPlatformClosure: a platform closure of an account that owes
// money leaves it open with the closure pending, the state saying why; it
// closes the night it is settled. Billing day 3: the purchase of 03-01 is
// billed on the statement of 03-03.
func TestFeedPlatformClosure(t *testing.T) {
	master, closed := onBook("2025-02-28"), onBook("2025-03-02")
	master.BillingDay, closed.BillingDay, closed.Status = 3, 3, "closed"
	b := newFeedBook(master).on("2025-03-02", closed)
	one, zero := int32(1), int32(0)
	b.txns["2025-03-01"] = []txnRow{{TxnID: "P1", AccountID: 1, PostedAt: lateNoon("2025-03-01"), Kind: "purchase",
		Amount: 100000, Installments: &one, FeeRate: &zero}}
	b.reps["2025-03-05"] = []repaymentRow{*lateRepayment("R1", "2025-03-05", "1000.00")}
	out := b.backfill(t, "2025-03-06")
	for _, day := range []string{"2025-03-02", "2025-03-04"} {
		a := account(t, out, day, 1)
		if a.Status != "active" || !a.CloseRequested || a.ClosedBy == nil || *a.ClosedBy != string(billing.ClosedByPlatform) ||
			a.Note == nil || !strings.Contains(*a.Note, "1000.00") {
			t.Errorf("account on %s = %s close_requested %v by %v note %v, want active, the platform's closure pending on 1000.00",
				day, a.Status, a.CloseRequested, a.ClosedBy, a.Note)
		}
		if got := noticeKinds(t, out, day, 1); slices.Contains(got, string(billing.NoticeClosed)) {
			t.Errorf("notices of %s = %v, want no %s while money is owed", day, got, billing.NoticeClosed)
		}
	}
	for _, day := range []string{"2025-03-05", "2025-03-06"} {
		a := account(t, out, day, 1)
		if a.Status != "closed" || a.ClosedOn == nil || a.ClosedOn.String() != "2025-03-05" || a.ClosedBy == nil || *a.ClosedBy != string(billing.ClosedByPlatform) {
			t.Errorf("account on %s = %s closed %v by %v, want closed on 2025-03-05 by the platform", day, a.Status, a.ClosedOn, a.ClosedBy)
		}
	}
	if got := noticeKinds(t, out, "2025-03-05", 1); !slices.Contains(got, string(billing.NoticeClosed)) {
		t.Errorf("notices of 2025-03-05 = %v, want %s", got, billing.NoticeClosed)
	}
}

// TestFeedNewAccountStatus: a new account can only be an application or
// a migrated active account; frozen or closed is invalid_status.
func TestFeedNewAccountStatus(t *testing.T) {
	frozen, closed := application(20, "2025-03-02", 700), application(21, "2025-03-02", 700)
	frozen.Status, closed.Status = "frozen", "closed"
	frozen.CreditLimit, closed.CreditLimit = ptr(int64(100_000)), ptr(int64(0))
	out := newFeedBook().on("2025-03-02", frozen, closed).backfill(t, "2025-03-02")
	if got, want := rejectsOf(t, out, "2025-03-02"), []string{"accounts 20 invalid_status", "accounts 21 invalid_status"}; !slices.Equal(got, want) {
		t.Errorf("rejects = %v, want %v", got, want)
	}
	for _, a := range readDay[state.AccountRow](t, out, "2025-03-02", filepath.Join("state", "accounts")) {
		if a.AccountID != 1 {
			t.Errorf("account %d (%s) on the book, want only account 1", a.AccountID, a.Status)
		}
	}
}

// TestFeedMasterEqualsMasterFile: a first run whose master comes from the
// feed publishes what a first run from the same accounts as a master file
// publishes.
func TestFeedMasterEqualsMasterFile(t *testing.T) {
	older := onBook("2025-02-28")
	older.UpdatedAt -= 3600e6
	older.ExternalScore = ptr(int32(500)) // an earlier row of the same day: the later wins
	pending := application(2, "2025-02-28", 690)
	frozen := onBook("2025-02-28")
	frozen.AccountID, frozen.CustomerID, frozen.Status, frozen.FraudFlag = 3, "c3", "frozen", ptr(true)
	rows := []feedRow{older, onBook("2025-02-28"), pending, frozen}
	b := newFeedBook(rows...)
	one, zero := int32(3), int32(0)
	b.txns["2025-03-01"] = []txnRow{{TxnID: "P1", AccountID: 1, PostedAt: lateNoon("2025-03-01"), Kind: "purchase",
		Amount: 300000, Installments: &one, FeeRate: &zero}}

	dir := t.TempDir()
	fromFeed := filepath.Join(dir, "feed")
	events := b.write(t, fromFeed, feedFrom, true)
	if code, stderr := creditrun(t, nil, "run", "--as-of", feedFrom, "--events", events, "--out", filepath.Join(fromFeed, "out"),
		"--state", filepath.Join(events, "accounts")); code != 0 {
		t.Fatalf("run from the feed: exit %d\n%s", code, stderr)
	}

	fromFile := filepath.Join(dir, "file")
	events = b.write(t, fromFile, feedFrom, false)
	master := filepath.Join(fromFile, "accounts")
	must(t, os.MkdirAll(master, 0o755))
	var plain []masterRow
	for _, r := range rows[1:] {
		plain = append(plain, masterRow{AccountID: r.AccountID, CustomerID: r.CustomerID, OpenedOn: r.OpenedOn, Status: r.Status,
			CreditLimit: r.CreditLimit, BillingDay: r.BillingDay, ExternalScore: r.ExternalScore, FraudFlag: r.FraudFlag})
	}
	must(t, parquet.WriteFile(filepath.Join(master, "part-0.parquet"), plain))
	if code, stderr := creditrun(t, nil, "run", "--as-of", feedFrom, "--events", events, "--out", filepath.Join(fromFile, "out"),
		"--state", master); code != 0 {
		t.Fatalf("run from the master file: exit %d\n%s", code, stderr)
	}
	a, f := filepath.Join(fromFeed, "out", "as_of="+feedFrom), filepath.Join(fromFile, "out", "as_of="+feedFrom)
	if n := len(readDay[state.AccountRow](t, filepath.Join(fromFeed, "out"), feedFrom, filepath.Join("state", "accounts"))); n != 3 {
		t.Fatalf("%d accounts on the book, want 3", n)
	}
	equalTrees(t, a, f)
}
