package billing

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// NoticeID is the stable id of the notice (account, kind, reference): the
// first 16 bytes of SHA-256("account|kind|reference") in hex. Re-running a
// day or a backfill gives the same id, so downstream sends each notice once.
func NoticeID(accountID int64, kind NoticeKind, reference string) string {
	var buf [128]byte
	b := strconv.AppendInt(buf[:0], accountID, 10)
	b = append(b, '|')
	b = append(b, kind...)
	b = append(b, '|')
	b = append(b, reference...)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// channel is the channel policy names for kind.
func (c *Config) channel(kind NoticeKind) string {
	if ch, ok := c.Channels[kind]; ok && ch != "" {
		return ch
	}
	return c.DefaultChannel
}

// reminderDays is the reminder schedule for grade.
func (c *Config) reminderDays(grade string) []int {
	if d, ok := c.ReminderDaysByGrade[grade]; ok && grade != "" {
		return d
	}
	return c.ReminderDays
}

func notify(cfg *Config, out *Output, a *Account, day Date, kind NoticeKind, ref string, amount Money, due Date) {
	var dueDate *Date
	if due != 0 {
		dueDate = &due
	}
	var amt *Money
	if kind.HasAmount() {
		amt = &amount
	}
	out.Notices = append(out.Notices, Notice{
		NoticeID:  NoticeID(a.ID, kind, ref),
		AccountID: a.ID,
		AsOf:      day,
		Kind:      string(kind),
		Channel:   cfg.channel(kind),
		Reference: ref,
		Amount:    amt,
		DueDate:   dueDate,
	})
}

func (r *run) notify(kind NoticeKind, ref string, amount Money, due Date) {
	notify(r.cfg, r.out, r.a, r.day, kind, ref, amount, due)
}

// collectionNotices sends the notices of step 5 that depend on the
// statements: due reminders, payment missed, overdue.
func (r *run) collectionNotices() {
	a, cfg, day := r.a, r.cfg, r.day
	var days []int
	for i := range a.Statements {
		s := &a.Statements[i]
		if s.MinRemaining <= 0 {
			continue
		}
		if until := int(s.DueDate - day); until > 0 {
			if days == nil {
				days = cfg.reminderDays(a.Grade)
			}
			if slices.Contains(days, until) {
				r.notify(NoticeDueReminder, s.Date.String()+"/"+itoa(until), s.MinRemaining, s.DueDate)
			}
		}
		if s.DueDate == day-1 {
			r.notify(NoticePaymentMissed, s.Date.String(), s.MinRemaining, s.DueDate)
		}
	}
	if r.ov.DPD > 0 && a.Status != Closed && slices.Contains(cfg.OverdueNoticeDPD, r.ov.DPD) {
		r.notify(NoticeOverdue, r.ov.Oldest.String()+"/dpd"+itoa(int(r.ov.DPD)), r.ov.PastDue, r.ov.OldestDue)
	}
}
