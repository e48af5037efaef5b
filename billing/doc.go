// Package billing is the daily step of the credit line: statements,
// installment plans, allocation of payments, fees, penalties, days past due,
// the account lifecycle and the notices they call for. It is pure domain
// code: plain Go values in and out, no I/O, no logging, no storage.
//
// # Units
//
// Money is int64 fen, rates int64 millionths, dates days since the epoch.
// Every product that rounds (fees, penalties, revolving fees, the minimum's
// share) is Money.MulRate: exact in 128 bits, rounded half away from zero.
// Plan principal splits are rounded to the fen, half away from zero, with
// the residual in the last period (truncated instead when a partial refund
// leaves too little for rounded parts to keep the last period positive). The only floating point is the IRR search of the disclosed APR,
// a rate, never money.
//
// # Range
//
// Every amount lies within ±MaxMoney, the contract's DECIMAL(18,2)
// (9 999 999 999 999 999.99 yuan). Close checks it by a bound taken up
// front and kept through the day (bounds.go): the account's amounts, and
// their magnitudes added up (what it owes, billed or not, the fees of its
// plans' periods left, its credit), are within MaxMoney at the start and
// the end of the day, and each event's amount, with the fees of a plan it
// opens, is taken from the room left. An account that would leave the range
// (ten purchases of 9 999 999 999 999 999.99 in a day, a state holding a
// wrapped balance) is refused with an *AccountError wrapping ErrOutOfRange,
// and the run fails: no sum ever wraps, and no row leaves the range.
// Flows.Add refuses a sum beyond ±MaxMoney the same way; Total adds amounts
// of a whole book exactly in 128 bits. MulRate panics rather than wrap a
// product beyond int64; MulRateChecked returns ErrOutOfRange beyond
// ±MaxMoney. Counters (failed deductions) saturate; deferrals are compared,
// never summed.
//
// # Disclosure
//
// The APR of a plan (Plan.APR) is written as DECIMAL(9,6). A plan whose
// rate that type cannot hold (beyond 999.999999, a fee rate far above any
// price) is written with null apr_nominal and apr_effective and over_cap
// true. The readers refuse fee rates above Config.MaxFeeRate (default
// 0.05 a month, 5%), so a night from real inputs never has one.
//
// # Settings for the readers
//
// Some settings are facts about input rows, which the pipeline's readers
// apply (pipeline/source.RulesFrom): InstallmentOptions (a purchase with
// another count is a rejected row, invalid_installments), MaxFeeRate (a
// purchase above it is invalid_fee_rate), LocalTimestampsZone (the zone
// of input timestamps written without one; empty refuses such files).
// The spellings of kinds, statuses, channels and failure reasons are
// billing's (ParseTxnKind, ParseRequestKind, ParseRepaymentStatus,
// ParseChannel, ParseFailureReason, ParseMasterStatus).
//
// # The daily step
//
// Close(cfg, account, D, events, out) takes the account as of D−1 and the
// events of business date D (the event's local date in cfg.TimeZone; see
// LocalDate), with the late events that arrived on D (see Late events),
// and leaves the account as of D. It must run for every account
// on every business day, with or without events: fees, penalties, days past
// due and notices move daily. cfg must have passed Config.Validate. The
// steps, in order:
//
//  1. Events, in timestamp order across transactions, repayments and
//     requests; on equal timestamps transactions first, then repayments,
//     then requests, then by id.
//
//     Purchase: rejected on a closed account (account_closed) and on a
//     pending or declined one (account_not_active), and when the policy
//     does not offer its number of periods (installments_not_offered). A
//     frozen account books it: upstream authorization decided. One period
//     is paid in full on the next statement; more open a Plan (NewPlan) and
//     a PlanRow with the disclosed APR (Plan.APR): flat fee = principal ×
//     fee rate per period, periods on consecutive statements from the first
//     statement after the purchase. Every purchase is remembered
//     (Account.Purchases) for cfg.RefundWindowDays, or until refunded in
//     full, to match refunds.
//
//     Refund: its reference must be a remembered purchase
//     (refund_of_unknown_purchase) and the refunds may not exceed it
//     (refund_exceeds_purchase). A purchase paid in full is credited like
//     a payment. An installment purchase with its plan open: a full refund
//     (the refunds reach the principal) cancels the plan, removes its
//     unbilled principal and credits the billed principal and the billed
//     fees (the fees as Flows.FeeReversal, printed as a waiver line); a
//     partial refund reduces the unbilled principal, re-split over the
//     periods left with the residual in the last and the period fee
//     unchanged (flat on the original principal). A partial refund larger
//     than the unbilled principal credits the excess and closes the plan,
//     waiving its remaining fees. Once a plan has ended (all periods billed
//     or paid off) a refund of its purchase is credited as principal; fees
//     already billed are not reversed.
//
//     Repayment: a failed one moves no money; it counts
//     (Account.FailedDeductions, Cycle.FailedDeductions) and sends
//     deduction_failed. A successful one pays the issued statements oldest
//     first, each in cfg.Waterfall order (Allocate); what exceeds
//     everything they owe becomes Account.Credit, which pays the next
//     statement's charges as it is issued. A repayment naming PayoffTxnID
//     first pays off that plan early: its unbilled principal becomes due on
//     the next statement (a payoff line), its remaining fees are waived
//     (unbilled fees were never part of the exposure, so a waiver moves no
//     flow) or, with cfg.PayoffChargesFees, charged. A payoff naming no open
//     plan is rejected whole (payoff_of_unknown_plan): no money is booked.
//
//     Every payment or refund credited reduces the MinRemaining of every
//     issued statement by its full amount, floored at 0. Minimums are
//     cumulative (a statement's minimum includes the unpaid minimum before
//     it), so catching up clears the oldest minimum first.
//
//     Money received by a charged-off account is a recovery
//     (Flows.Recoveries, Account.Recovered): the exposure was written off
//     already.
//
//     Requests move no money and are never rejects. close_account sets
//     CloseRequested; closure completes in step 4. defer_plan adds N skipped
//     statements to the plan (its fees move with it) while the deferrals
//     granted over the account's life stay within cfg.MaxDeferralCycles.
//     change_billing_day needs cfg.BillingDayChangeAfterMonths since
//     activation and nothing past due; the next statement falls on the new
//     day (the cycle in between is short or long). A refused request sets
//     Account.Note and sends request_declined (reference: the request id).
//     Notes about requests are cleared by the next statement.
//
//  2. LateAccrual, measured at the close of D, after D's events: a payment
//     on the day after the due date still leaves the account current at
//     the close. DPD = D − the due date of the oldest statement whose
//     minimum is unpaid and whose due date has passed. The past-due amount
//     is the unpaid minimum of the statements past due, without penalties:
//     min(MinRemaining of the latest past-due statement − the penalties the
//     past-due statements still owe, what they owe besides penalties). The
//     penalty of the day is that amount × cfg.PenaltyDailyRate, so
//     penalties never compound. The revolving fee of the day is the
//     principal (installment principal and purchases) still owed on
//     statements past their due date × cfg.RevolvingDailyRate, whether or
//     not the minimum was paid. Both accrue into the cycle and are billed on
//     the next statement. An account past due gets a DelinquencyRow (bucket
//     M1 1–30 … M6 151–180, M7+; see Bucket).
//
//  3. Statement, when D+1 is the billing day of an active or frozen account.
//     Dated D+1, due D+1+cfg.DueDays. Its charges: purchases paid in full,
//     this period of every open plan (a deferred plan skips it), accrued
//     revolving fees and penalties, and amounts made due by early payoff.
//     new balance = previous balance + charges − payments − refunds, and it
//     must equal what the account owes after the statement (ErrUnbalanced
//     otherwise). The credit balance pays the new charges at once.
//     Minimum, computed on what the statement still owes after that credit:
//     the unpaid minimum carried from the latest older statement, plus this
//     statement's penalties, revolving fees and installments (principal and
//     fee), plus cfg.MinimumRate × (new purchases + the balance carried
//     beyond the old minimum); at least cfg.MinimumFloor, never above the
//     new balance, 0 when the new balance is not positive. The run emits a
//     StatementRow, its numbered LineRows, a BureauRow and statement_issued,
//     appends the cycle to Account.History (cfg.HistoryCycles kept) and
//     starts a new cycle. Statements that owe nothing and whose minimum is
//     paid are dropped from the state at the end of every day.
//
//     Line amounts are signed so that a statement's lines sum to new balance
//     − previous balance: purchases, installment periods, fees, penalties
//     and payoffs positive; payments, refunds and waivers negative. The
//     principal a refund removes from a plan before it is billed is not a
//     line: it shows as smaller periods.
//
//  4. Lifecycle. Charge-off at DPD ≥ cfg.ChargeOffDPD: the whole exposure is
//     written off (Flows.ChargedOff), statements and plans cleared, the
//     account closed, charged_off sent. Freeze when DPD > cfg.FreezeDPD or
//     the account is flagged for fraud (account_frozen). Unfreeze when not
//     flagged, nothing is past due, cfg.UnfreezeCleanDays have passed since
//     the later of the last past-due day and the freeze, and the grade is
//     not in cfg.NoUnfreezeGrades (account_unfrozen). A requested closure
//     completes when no plan is open, nothing is owed, billed or not, and
//     nothing waits to be billed (account_closed, and a bureau row C dated
//     the closure); until then Account.Note says what it waits for. A credit
//     balance does not block closure: it stays on the closed account, and
//     the notice carries it, for the payout process.
//
//  5. Notices, at most one per (account, kind, reference): NoticeID is the
//     first 16 bytes of SHA-256 of "account|kind|reference" in hex, so a
//     re-run or a backfill produces the same ids. statement_issued
//     (reference: statement date; not sent for a statement with no balance
//     and no activity), due_reminder at cfg.ReminderDays (or
//     cfg.ReminderDaysByGrade for the account's grade) before the due date
//     while the minimum is unpaid (statement date + "/" + days),
//     payment_missed the day after the due date (statement date), overdue at
//     the DPDs of cfg.OverdueNoticeDPD (oldest unpaid statement date +
//     "/dpd" + n), deduction_failed (repayment id), request_declined
//     (request id), account_frozen, account_unfrozen, account_closed,
//     charged_off (the day), and from ApplyLimit account_activated,
//     application_declined (the day) and limit_changed (day + "/" + new
//     limit). The channel is cfg.Channels[kind], else cfg.DefaultChannel.
//
//  6. Bureau status on each statement date: C when the account settles and
//     closes, 1…7 by the delinquency bucket on D, N current with a balance
//     or activity, * nothing due.
//
//  7. Conservation: the day's Flows must explain the change of the
//     account's Exposure (everything owed, billed or not, including unbilled
//     plan principal, net of credit) to the fen; otherwise Close returns an
//     error wrapping ErrNotConserved that names the account and the
//     difference. The flows are added to out.Flows. After an error the
//     account's state is not usable and the run must fail.
//
// # Late events
//
// The events Close gets for D are those the pipeline assigned to the run
// for D: the events of D and late ones, which happened on an earlier date
// and arrived on D (within cfg.LateWindowDays). An event's value date is
// its timestamp's local date; a late event is applied on D with it
// (late.go):
//
//   - every event whose id the account applied before (Account.Seen, the
//     ids of the late window per dataset) is rejected whole, duplicate_id;
//     any other is remembered once applied;
//   - a late purchase or refund is booked on D, its line, remembered
//     purchase and plan dated by its value date: one whose cycle closed
//     already is billed on the next statement;
//   - a late successful repayment is allocated on D like any other, its
//     line dated by its value date. Then, for every day from its value date
//     to D−1 on which a revolving fee or a penalty accrued (Account.LateAccruals:
//     the past-due statements of each such day of the window, as they stood
//     after that day's events, with the day's fees), the fees are
//     recomputed as in step 2 on those statements with the repayment
//     received first (Account.receive: in the waterfall, oldest first, its
//     amount off every minimum); what accrued beyond them is waived. The
//     recorded days are corrected too, so a second late repayment is
//     measured against the corrected book. The waiver is Flows.FeeReversal,
//     counts in the cycle's refunds and in no minimum, offsets the unbilled
//     fees through the credit balance (and pays down billed ones), and is
//     printed as one waiver line dated D with the repayment's id. DPD,
//     buckets, notices and the bureau status then follow from the corrected
//     book: steps 2–6 of D see the repayment. Nothing of earlier nights is
//     rewritten (their notices stay sent).
//
// Seen and LateAccruals keep what a run for D' ≥ D+1 may need: value dates and
// days from D+1−cfg.LateWindowDays on.
//
// ApplyLimit applies scoring's decision: activate (pending → active, limit,
// activation and limit-change dates), decline (pending → declined), increase
// or decrease (active or frozen, a different limit), keep and freeze change
// nothing (Close freezes).
//
// # Reopening
//
// A reopen_account request of a closed account is passed on in
// Output.Reopens; the policy scores the account that night and decides it
// (scoring's DecideReopen), then Reopen makes it active with the grade's
// initial limit (account_reopened) or DeclineReopen leaves it closed
// (request_declined, the reasons in its note). Account.ClosedBy keeps why
// an account closed: customer, platform, charge_off or fraud; only the
// first two may reopen. A reopen request of an account not closed is
// declined at once.
//
// # Platform incidents
//
// Events.Incidents are the night's incidents; Close applies those recorded
// on or before its day, after the day's events. The state remembers, for
// Config.IncidentMemoryDays, each failed repayment (channel, time) and each
// day's revolving fee and penalty (Account.Failures, Account.Accruals). A
// failed repayment on an incident's channel inside its window (both ends
// included) is excused: it leaves the failed-deduction counts of its cycle
// and of the account's life. The first excused failure grants the account
// the incident's grace once: statements due from the window's first local
// date up to its last plus IncidentGraceDays are due on that last day plus
// the grace (so are statements issued later whose due date falls there);
// the accruals of the days, up to the new due date, on which every
// statement past its due date was one that moved are waived, credited as
// a waiver line (Flows.FeeReversal, shown in the statement's refunds);
// the days past due of the log are counted again from the new due date,
// and the cycle maxima and the last day past due follow where the log
// covers them; one incident_grace notice (reference: the incident id)
// names the new due date and what the moved statements still ask. A day
// on which an older, unmoved statement was also past due keeps its
// accruals: the account was late on its own.
package billing
