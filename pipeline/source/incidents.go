package source

import (
	"context"
	"time"

	"github.com/creditrun/creditrun/billing"
)

// Columns of the incidents dataset, in contract order.
const (
	inID = iota
	inChannel
	inStartsAt
	inEndsAt
	inRecordedAt
	inDescription
)

// MaxDescriptionBytes is the longest incident description, in bytes.
const MaxDescriptionBytes = 1024

var incidents = dataset[billing.Incident, string]{
	name: Incidents,
	cols: []column{
		{"incident_id", kString}, {"channel", kString}, {"starts_at", kTimestamp}, {"ends_at", kTimestamp},
		{"recorded_at", kTimestamp}, {"description", kString},
	},
	ts:     -1, // read whole: recorded_at, not a partition, decides
	decode: decodeIncident,
	id:     func(v *billing.Incident) string { return v.IncidentID },
	idText: func(v *billing.Incident) string { return v.IncidentID },
	src:    func(v *billing.Incident) *billing.Source { return &v.Src },
	order:  func(v *billing.Incident) (int64, int64) { return 0, v.RecordedAt },
}

// reasonLater marks a row that is not the night's: recorded after day, or
// a bad row recorded before it (reported on the night of its recorded_at).
const reasonLater = "\x00later"

// ReadIncidents reads the platform incidents in force on business day day:
// every row of files (the dataset is small and unpartitioned) whose
// recorded_at falls on or before day (local date in rules.Zone), sorted by
// recorded_at and incident_id. A row that fails the contract's rules is a
// reject on the night of its recorded_at only (every night when
// recorded_at itself is null or out of range); a row recorded after day is
// not seen at all, so re-running an earlier date reads what it read then.
func ReadIncidents(ctx context.Context, files []File, day billing.Date, rules Rules) ([]billing.Incident, []Reject, error) {
	ds := incidentsOf(day, &rules)
	return readAll(ctx, &ds, files, day, &rules)
}

// ReadIncidentsTo reads as ReadIncidents does, handing the rejects to
// rejects as it finds them instead of returning them.
func ReadIncidentsTo(ctx context.Context, files []File, day billing.Date, rules Rules, rejects RejectWriter) ([]billing.Incident, error) {
	ds := incidentsOf(day, &rules)
	return read(ctx, &ds, files, day, &rules, &rejectSink{w: rejects})
}

// incidentsOf returns the incidents dataset as the night of day reads it,
// and sets rules for it.
func incidentsOf(day billing.Date, rules *Rules) dataset[billing.Incident, string] {
	rules.tonight = day
	zone := rules.Zone
	if zone == nil {
		zone = time.UTC
	}
	ds := incidents
	ds.dupReported = func(v *billing.Incident) bool { return billing.LocalDate(v.RecordedAt, zone) == day }
	return ds
}

func decodeIncident(r *rowCtx, i int, v *billing.Incident) (reason, detail string) {
	c := r.cols
	recorded, reason, detail := need(&c[inRecordedAt], i, "recorded_at")
	if reason != "" {
		return reason, detail
	}
	zone := r.rules.Zone
	if zone == nil {
		zone = time.UTC
	}
	on := billing.LocalDate(recorded, zone)
	if on > r.rules.tonight {
		return reasonLater, ""
	}
	reason, detail = incidentRow(r, i, v)
	if reason != "" && on < r.rules.tonight {
		return reasonLater, ""
	}
	v.RecordedAt = recorded
	return reason, detail
}

// incidentRow decodes the columns of row i other than recorded_at.
func incidentRow(r *rowCtx, i int, v *billing.Incident) (reason, detail string) {
	c := r.cols
	id, reason, detail := required(&c[inID], i, "incident_id", MaxIDBytes)
	if reason != "" {
		return reason, detail
	}
	channel, reason, detail := required(&c[inChannel], i, "channel", MaxIDBytes)
	if reason != "" {
		return reason, detail
	}
	ch, ok := billing.ParseChannel(string(channel))
	if !ok {
		return ReasonInvalidChannel, quoted("channel", channel)
	}
	starts, reason, detail := need(&c[inStartsAt], i, "starts_at")
	if reason != "" {
		return reason, detail
	}
	ends, reason, detail := need(&c[inEndsAt], i, "ends_at")
	if reason != "" {
		return reason, detail
	}
	if starts >= ends {
		return ReasonInvalidWindow, "starts_at=" + time.UnixMicro(starts).UTC().Format(time.RFC3339Nano) +
			" not before ends_at=" + time.UnixMicro(ends).UTC().Format(time.RFC3339Nano)
	}
	desc, _, reason, detail := text(&c[inDescription], i, "description", MaxDescriptionBytes)
	if reason != "" {
		return reason, detail
	}
	*v = billing.Incident{IncidentID: string(id), Channel: ch, StartsAt: starts, EndsAt: ends, Description: string(desc)}
	return "", ""
}
