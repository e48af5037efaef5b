// Package state stores the book between runs: the snapshot of every account
// as of a business date, as flat Parquet tables sorted by account_id.
//
//	accounts.parquet    one row per account (scalars and the unbilled cycle)
//	statements.parquet  open statements
//	plans.parquet       open installment plans
//	purchases.parquet   purchases inside the refund window
//	lines.parquet       lines waiting for the next statement
//	history.parquet     closed cycles kept for scoring
//	failures.parquet    failed repayments kept for platform incidents
//	accruals.parquet    daily fees and penalties kept for platform incidents
//	seen.parquet        ids of the events applied within the late window
//	late_accruals.parquet  past-due statements of the days of the late window
//	                    on which fees accrued
//
// A snapshot written before seen.parquet and late_accruals.parquet existed
// reads them as empty.
//
// The run for D reads the snapshot as of D−1 and writes the one as of D.
package state

import (
	"errors"
	"fmt"
	"io"

	"github.com/creditrun/creditrun/billing"
)

// Table file names.
const (
	AccountsFile     = "accounts.parquet"
	StatementsFile   = "statements.parquet"
	PlansFile        = "plans.parquet"
	PurchasesFile    = "purchases.parquet"
	LinesFile        = "lines.parquet"
	HistoryFile      = "history.parquet"
	FailuresFile     = "failures.parquet"
	AccrualsFile     = "accruals.parquet"
	SeenFile         = "seen.parquet"
	LateAccrualsFile = "late_accruals.parquet"
)

// Tables is a snapshot flattened into rows.
type Tables struct {
	Accounts     []AccountRow
	Statements   []StatementRow
	Plans        []PlanRow
	Purchases    []PurchaseRow
	Lines        []LineRow
	History      []CycleRow
	Failures     []FailureRow
	Accruals     []AccrualRow
	Seen         []SeenRow
	LateAccruals []LateAccrualRow
}

// Flatten appends a's rows to t.
func (t *Tables) Flatten(a *billing.Account) {
	r := AccountRow{
		AccountID: a.ID, CustomerID: a.CustomerID, OpenedOn: a.OpenedOn, Status: string(a.Status),
		ActivatedOn: date(&a.ActivatedOn), Limit: a.Limit, BillingDay: a.BillingDay, Fraud: a.Fraud,
		Credit: a.Credit, LastStatement: date(&a.LastStatement), LastBalance: a.LastBalance,
		FrozenOn: date(&a.FrozenOn), LastPastDue: date(&a.LastPastDue), LimitChangedOn: date(&a.LimitChangedOn),
		ClosedOn: date(&a.ClosedOn), ClosedBy: text(&a.ClosedBy), ChargedOff: a.ChargedOff, Recovered: a.Recovered, CloseRequested: a.CloseRequested,
		DeferralsUsed: a.DeferralsUsed, Note: text(&a.Note), FailedDeductions: a.FailedDeductions,
		Grade:          text(&a.Grade),
		CyclePurchases: a.Cycle.Purchases, CycleInstallmentSpend: a.Cycle.InstallmentSpend,
		CyclePayments: a.Cycle.Payments, CycleRefunds: a.Cycle.Refunds,
		CycleRevolvingFees: a.Cycle.RevolvingFees, CyclePenalties: a.Cycle.Penalties,
		CycleAccelPrincipal: a.Cycle.AcceleratedPrincipal, CycleAccelFees: a.Cycle.AcceleratedFees,
		CycleFailed: a.Cycle.FailedDeductions, CycleMaxDPD: a.Cycle.MaxDPD,
		FeaturesOn: date(&a.FeaturesOn),
	}
	if a.Grade != "" {
		r.Score = &a.Score
	}
	if a.HasExternalScore {
		r.ExternalScore = &a.ExternalScore
	}
	t.Accounts = append(t.Accounts, r)
	for _, s := range a.Statements {
		t.Statements = append(t.Statements, StatementRow{
			AccountID: a.ID, StatementDate: s.Date, DueDate: s.DueDate, NewBalance: s.NewBalance,
			MinimumDue: s.MinimumDue, MinRemaining: s.MinRemaining,
			OwedPenalty: s.Owed[billing.Penalty], OwedRevolvingFee: s.Owed[billing.RevolvingFee],
			OwedInstallmentFee: s.Owed[billing.InstallmentFee], OwedInstallmentPrincipal: s.Owed[billing.InstallmentPrincipal],
			OwedPurchase: s.Owed[billing.PurchasePrincipal],
		})
	}
	for _, p := range a.Plans {
		t.Plans = append(t.Plans, PlanRow{
			AccountID: a.ID, TxnID: p.TxnID, OpenedOn: p.OpenedOn, Principal: p.Principal, Periods: p.Periods,
			FeeRate: p.FeeRate, PeriodPrincipal: p.PeriodPrincipal, PeriodFee: p.PeriodFee,
			LastPeriodPrincipal: p.LastPeriodPrincipal, Billed: p.Billed, Skip: p.Skip, Remaining: p.Remaining,
			BilledPrincipal: p.BilledPrincipal, BilledFees: p.BilledFees,
		})
	}
	for _, p := range a.Purchases {
		t.Purchases = append(t.Purchases, PurchaseRow{
			AccountID: a.ID, TxnID: p.TxnID, Date: p.Date, Amount: p.Amount, Refunded: p.Refunded, Installments: p.Installments,
		})
	}
	for i := range a.Pending {
		l := &a.Pending[i]
		t.Lines = append(t.Lines, LineRow{
			AccountID: a.ID, Seq: int32(i), Kind: string(l.Kind), Date: l.Date, Ref: text(&l.Ref), Period: period(&l.Period), Amount: l.Amount,
		})
	}
	for _, c := range a.History {
		t.History = append(t.History, CycleRow{
			AccountID: a.ID, StatementDate: c.StatementDate, Spend: c.Spend, InstallmentSpend: c.InstallmentSpend,
			Billed: c.Billed, Paid: c.Paid, Balance: c.Balance, Limit: c.Limit, MinimumDue: c.MinimumDue,
			MaxDPD: c.MaxDPD, FailedDeductions: c.FailedDeductions,
		})
	}
	for i := range a.Failures {
		f := &a.Failures[i]
		t.Failures = append(t.Failures, FailureRow{AccountID: a.ID, RepaymentID: f.RepaymentID, Channel: f.Channel,
			PaidAt: f.PaidAt, Date: f.Date, Excused: text(&f.Excused)})
	}
	for i := range a.Accruals {
		e := &a.Accruals[i]
		t.Accruals = append(t.Accruals, AccrualRow{AccountID: a.ID, Date: e.Date, FirstDue: date(&e.FirstDue),
			OldestDue: date(&e.OldestDue), DPD: e.DPD, Penalty: e.Penalty, Revolving: e.Revolving})
	}
	for i, e := range a.Seen {
		t.Seen = append(t.Seen, SeenRow{AccountID: a.ID, Seq: int32(i), Dataset: e.Dataset, EventID: e.ID, ValueDate: e.Date})
	}
	for i, x := range a.LateAccruals {
		t.LateAccruals = append(t.LateAccruals, LateAccrualRow{
			AccountID: a.ID, Seq: int32(i), Date: x.Date, RevolvingFee: x.Revolving, Penalty: x.Penalty,
			DueDate: x.DueDate, MinRemaining: x.MinRemaining,
			OwedPenalty: x.Owed[billing.Penalty], OwedRevolvingFee: x.Owed[billing.RevolvingFee],
			OwedInstallmentFee: x.Owed[billing.InstallmentFee], OwedInstallmentPrincipal: x.Owed[billing.InstallmentPrincipal],
			OwedPurchase: x.Owed[billing.PurchasePrincipal],
		})
	}
}

// Unflatten rebuilds the accounts from t, in t.Accounts' order. The child
// tables must be sorted by account_id in the same order. Child slices are
// capped so that appending to one account's never writes into another's.
func (t *Tables) Unflatten() ([]billing.Account, error) { return t.unflattenInto(nil) }

// unflattenInto is Unflatten into out's array when it is large enough (a
// recycled bucket's: every field of every account is overwritten).
func (t *Tables) unflattenInto(out []billing.Account) ([]billing.Account, error) {
	if cap(out) < len(t.Accounts) {
		out = make([]billing.Account, len(t.Accounts))
	}
	out = out[:len(t.Accounts)]
	stmts := children(t.Statements, func(s *StatementRow) int64 { return s.AccountID }, statementOf)
	plans := children(t.Plans, func(p *PlanRow) int64 { return p.AccountID }, planOf)
	purch := children(t.Purchases, func(p *PurchaseRow) int64 { return p.AccountID }, func(p *PurchaseRow) billing.PurchaseRef {
		return billing.PurchaseRef{TxnID: p.TxnID, Date: p.Date, Amount: p.Amount, Refunded: p.Refunded, Installments: p.Installments}
	})
	lines := children(t.Lines, func(l *LineRow) int64 { return l.AccountID }, func(l *LineRow) billing.Line {
		return billing.Line{Kind: billing.LineKind(l.Kind), Date: l.Date, Ref: deref(l.Ref), Period: deref(l.Period), Amount: l.Amount}
	})
	hist := children(t.History, func(c *CycleRow) int64 { return c.AccountID }, func(c *CycleRow) billing.CycleStats {
		return billing.CycleStats{StatementDate: c.StatementDate, Spend: c.Spend, InstallmentSpend: c.InstallmentSpend,
			Billed: c.Billed, Paid: c.Paid, Balance: c.Balance, Limit: c.Limit, MinimumDue: c.MinimumDue,
			MaxDPD: c.MaxDPD, FailedDeductions: c.FailedDeductions}
	})
	fails := children(t.Failures, func(f *FailureRow) int64 { return f.AccountID }, func(f *FailureRow) billing.FailedDeduction {
		return billing.FailedDeduction{RepaymentID: f.RepaymentID, Channel: f.Channel, PaidAt: f.PaidAt, Date: f.Date, Excused: deref(f.Excused)}
	})
	accr := children(t.Accruals, func(e *AccrualRow) int64 { return e.AccountID }, func(e *AccrualRow) billing.Accrual {
		return billing.Accrual{Date: e.Date, FirstDue: deref(e.FirstDue), OldestDue: deref(e.OldestDue), DPD: e.DPD,
			Penalty: e.Penalty, Revolving: e.Revolving}
	})
	seen := children(t.Seen, func(e *SeenRow) int64 { return e.AccountID }, func(e *SeenRow) billing.SeenEvent {
		return billing.SeenEvent{Dataset: e.Dataset, ID: e.EventID, Date: e.ValueDate}
	})
	lateAccr := children(t.LateAccruals, func(x *LateAccrualRow) int64 { return x.AccountID }, lateAccrualOf)
	for i := range t.Accounts {
		r := &t.Accounts[i]
		if i > 0 && t.Accounts[i-1].AccountID >= r.AccountID {
			return nil, errors.New("accounts out of order or duplicated (not a state written by creditrun, or edited)")
		}
		a := &out[i]
		*a = accountOf(r)
		a.Statements = stmts.next(a.ID)
		a.Plans = plans.next(a.ID)
		a.Purchases = purch.next(a.ID)
		a.Pending = lines.next(a.ID)
		a.History = hist.next(a.ID)
		a.Failures = fails.next(a.ID)
		a.Accruals = accr.next(a.ID)
		a.Seen = seen.next(a.ID)
		a.LateAccruals = lateAccr.next(a.ID)
	}
	for name, rest := range map[string]int{
		StatementsFile: stmts.left(), PlansFile: plans.left(), PurchasesFile: purch.left(),
		LinesFile: lines.left(), HistoryFile: hist.left(), FailuresFile: fails.left(), AccrualsFile: accr.left(),
		SeenFile: seen.left(), LateAccrualsFile: lateAccr.left(),
	} {
		if rest != 0 {
			return nil, fmt.Errorf("%s: %d rows of unknown accounts or out of account order", name, rest)
		}
	}
	return out, nil
}

// grouped hands out, account by account, the converted rows of a child
// table sorted by account id. The slices share one backing array and are
// capped, so appending to one account's never writes into another's.
type grouped[R any, V any] struct {
	rows []R
	vals []V
	id   func(*R) int64
	i    int
}

func children[R, V any](rows []R, id func(*R) int64, conv func(*R) V) *grouped[R, V] {
	g := &grouped[R, V]{rows: rows, vals: make([]V, len(rows)), id: id}
	for i := range rows {
		g.vals[i] = conv(&rows[i])
	}
	return g
}

// next returns the values of account id (nil if none) and moves past them.
func (g *grouped[R, V]) next(id int64) []V {
	j := g.i
	for j < len(g.rows) && g.id(&g.rows[j]) == id {
		j++
	}
	if j == g.i {
		return nil
	}
	v := g.vals[g.i:j:j]
	g.i = j
	return v
}

// left is the number of rows no account took.
func (g *grouped[R, V]) left() int { return len(g.rows) - g.i }

func accountOf(r *AccountRow) billing.Account {
	a := billing.Account{
		ID: r.AccountID, CustomerID: r.CustomerID, OpenedOn: r.OpenedOn, Status: billing.Status(r.Status),
		ActivatedOn: deref(r.ActivatedOn), Limit: r.Limit, BillingDay: r.BillingDay, Fraud: r.Fraud,
		Credit: r.Credit, LastStatement: deref(r.LastStatement), LastBalance: r.LastBalance,
		FrozenOn: deref(r.FrozenOn), LastPastDue: deref(r.LastPastDue), LimitChangedOn: deref(r.LimitChangedOn),
		ClosedOn: deref(r.ClosedOn), ClosedBy: deref(r.ClosedBy), ChargedOff: r.ChargedOff, Recovered: r.Recovered, CloseRequested: r.CloseRequested,
		DeferralsUsed: r.DeferralsUsed, Note: deref(r.Note), FailedDeductions: r.FailedDeductions,
		Grade: deref(r.Grade), Score: deref(r.Score), FeaturesOn: deref(r.FeaturesOn),
		Cycle: billing.Cycle{
			Purchases: r.CyclePurchases, InstallmentSpend: r.CycleInstallmentSpend,
			Payments: r.CyclePayments, Refunds: r.CycleRefunds, RevolvingFees: r.CycleRevolvingFees,
			Penalties: r.CyclePenalties, AcceleratedPrincipal: r.CycleAccelPrincipal,
			AcceleratedFees: r.CycleAccelFees, FailedDeductions: r.CycleFailed, MaxDPD: r.CycleMaxDPD,
		},
	}
	if r.ExternalScore != nil {
		a.ExternalScore, a.HasExternalScore = *r.ExternalScore, true
	}
	return a
}

// date is a nullable date column's value: NULL for the zero date, which
// billing.Account uses for "none". The row points into the account, which
// outlives the write of its rows.
func date(d *billing.Date) *billing.Date {
	if *d == 0 {
		return nil
	}
	return d
}

// text is a nullable string column's value: NULL for "".
func text(s *string) *string {
	if *s == "" {
		return nil
	}
	return s
}

// period is a line's plan period: NULL for 0, a line of no plan.
func period(p *int32) *int32 {
	if *p == 0 {
		return nil
	}
	return p
}

// deref is a nullable column's value in billing.Account: the zero value
// for NULL.
func deref[T any](p *T) T {
	var v T
	if p != nil {
		v = *p
	}
	return v
}

func statementOf(s *StatementRow) billing.Statement {
	st := billing.Statement{Date: s.StatementDate, DueDate: s.DueDate, NewBalance: s.NewBalance,
		MinimumDue: s.MinimumDue, MinRemaining: s.MinRemaining}
	st.Owed[billing.Penalty] = s.OwedPenalty
	st.Owed[billing.RevolvingFee] = s.OwedRevolvingFee
	st.Owed[billing.InstallmentFee] = s.OwedInstallmentFee
	st.Owed[billing.InstallmentPrincipal] = s.OwedInstallmentPrincipal
	st.Owed[billing.PurchasePrincipal] = s.OwedPurchase
	return st
}

func lateAccrualOf(x *LateAccrualRow) billing.LateAccrual {
	a := billing.LateAccrual{Date: x.Date, Revolving: x.RevolvingFee, Penalty: x.Penalty, DueDate: x.DueDate, MinRemaining: x.MinRemaining}
	a.Owed[billing.Penalty] = x.OwedPenalty
	a.Owed[billing.RevolvingFee] = x.OwedRevolvingFee
	a.Owed[billing.InstallmentFee] = x.OwedInstallmentFee
	a.Owed[billing.InstallmentPrincipal] = x.OwedInstallmentPrincipal
	a.Owed[billing.PurchasePrincipal] = x.OwedPurchase
	return a
}

func planOf(p *PlanRow) billing.Plan {
	return billing.Plan{TxnID: p.TxnID, OpenedOn: p.OpenedOn, Principal: p.Principal, Periods: p.Periods,
		FeeRate: p.FeeRate, PeriodPrincipal: p.PeriodPrincipal, PeriodFee: p.PeriodFee,
		LastPeriodPrincipal: p.LastPeriodPrincipal, Billed: p.Billed, Skip: p.Skip, Remaining: p.Remaining,
		BilledPrincipal: p.BilledPrincipal, BilledFees: p.BilledFees}
}

// Write writes the snapshot of accounts (sorted by ID) into dir.
func Write(dir string, accounts []billing.Account) error {
	w, err := Create(dir)
	if err != nil {
		return err
	}
	if err := w.Write(accounts); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

// Read reads the whole snapshot in dir (Open streams it instead).
func Read(dir string) ([]billing.Account, error) {
	r, err := Open(dir)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var out []billing.Account
	buf := make([]billing.Account, 65536)
	for {
		n, err := r.Read(buf)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, buf[:n]...)
	}
}
