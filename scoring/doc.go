// Package scoring implements the credit-scoring and limit-management rules
// of the product: features from an account's state, a points scorecard with
// PDO scaling, grades and reason codes, limit decisions, and population
// stability monitoring. It is pure: it takes and returns Go values, does no
// I/O and logs nothing. The policy package fills its Config from the policy
// file; policy/default.yaml documents the shipped numbers for risk analysts.
//
// # Features
//
// ComputeFeatures derives every feature of an account as of a date from its
// state alone (billing.Account): the per-cycle history (History, one entry
// per closed statement cycle, oldest first) and the account's own fields.
// Windows count closed cycles: the last 1, 3, 6 and 12 (about 30, 90, 180
// and 365 days); a window longer than the history uses what there is, and a
// count or sum over no cycles is 0. Money is in yuan. Each feature is a
// column of the scores table.
//
// Point in time:
//
//	tenure_months             whole months from opened_on to the date
//	cycles_on_book            closed cycles in the history (≤ history_cycles)
//	bureau_score              the external bureau score; missing if none
//	utilization               owed now / limit, where owed is billed and
//	                          unbilled charges net of credit (unbilled
//	                          installment principal excluded); missing while
//	                          the limit is 0; a credit balance counts as 0
//	current_dpd               days past due on the date: the date minus the
//	                          due date of the oldest statement whose minimum
//	                          is unpaid after its due date; 0 when current
//	months_since_delinquency  whole months since the account was last past
//	                          due (the later of LastPastDue and the day
//	                          before the last past-due cycle's statement);
//	                          0 while past due; missing if never
//	pay_pattern_3             categorical, over the last 3 cycles, first
//	                          match wins: delinquent (days past due in the
//	                          window or now), new (fewer than 2 cycles),
//	                          inactive (no statement with a balance to pay),
//	                          min_payer (min_pay cycles are at least half of
//	                          the cycles with a balance to pay), transactor
//	                          (every such statement paid in full), revolver
//
// Per window w ∈ {1, 3, 6, 12} (the column is name_w, e.g. max_dpd_3):
//
//	spend_w              purchases, paid in full and in installments
//	billed_w             new charges billed by the window's statements
//	paid_w               successful repayments received in the window
//	payment_ratio_w      Σ paid in a cycle / Σ billed by the statement
//	                     before it, over the window's cycles whose previous
//	                     statement is in the history (a payment pays the
//	                     statement before the cycle); missing when that
//	                     billed nothing
//	utilization_avg_w    mean statement balance / limit over the cycles
//	                     that had a limit; missing when none had
//	max_dpd_w            the most days past due reached
//	overdue_episodes_w   runs of consecutive cycles with days past due
//	failed_deductions_w  failed repayments (automatic deductions)
//	installment_share_w  share of spend taken in installments; missing
//	                     when nothing was spent
//	min_pay_cycles_w     cycles in which the customer revolved on the
//	                     minimum: the statement before had a balance above
//	                     its minimum and the cycle's payments were positive
//	                     but at most 1.2 × that minimum
//
// # Scorecard, scaling, grades and reason codes
//
// Each characteristic cuts one feature into bins: ranges [from, to) that
// cover every number (a value on an edge belongs to the upper bin), sets of
// categories, and a missing bin (required when the feature can be missing).
// The score is the sum of each characteristic's bin points. The scaling
// turns a score into odds (good:bad) and a probability of default:
// factor = PDO / ln 2, offset = base_score − factor · ln(base_odds),
// ln(odds) = (score − offset) / factor, PD = 1 / (1 + odds).
//
// Grades are cut-offs, best first: a score gets the first grade whose
// min_score it reaches, and the last grade takes the rest.
//
// Reason codes say why a score is not higher. Each characteristic carries a
// reason code and a baseline; its loss is baseline − points. Losses are
// summed per reason code, the codes with a positive loss are ranked by it
// (ties go to the code that comes first in the scorecard), and the top four
// are reported.
//
// # Limits
//
// Decide takes one decision per scored account: activate or decline a
// pending account by grade; freeze a frozen, fraud-flagged or too far past
// due account; cut an account whose grade cuts or that was recently past
// due (after a cooling period, never below its exposure unless the policy
// allows it and the decision says so); raise an eligible account (grade,
// cooling period, utilization, no recent days past due) within the grade's
// and the overall caps; else keep. Every decision lists its reasons as
// stable codes (LimitReason), the one that settled the action as Reason,
// with the figures behind them (Figures); a reason's sentence is its
// code's template filled in from the decision (ReasonText), never stored,
// and a limit_decisions row reads back into the decision
// (DecisionRow.Decision).
//
// # Monitoring
//
// A Distribution counts scored accounts over the score bands and over each
// characteristic's bins; PSI compares it with a baseline (the previous
// run's, or the policy's): PSI = Σ (a − e) · ln(a / e) over bins, flagged
// above 0.25.
package scoring
