package source

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/billing"
)

// incidentFileRow is a row of the incidents table as a writer that keeps
// every column nullable stores it.
type incidentFileRow struct {
	IncidentID  *string `parquet:"incident_id,optional"`
	Channel     *string `parquet:"channel,optional"`
	StartsAt    *int64  `parquet:"starts_at,timestamp(microsecond:utc),optional"`
	EndsAt      *int64  `parquet:"ends_at,timestamp(microsecond:utc),optional"`
	RecordedAt  *int64  `parquet:"recorded_at,timestamp(microsecond:utc),optional"`
	Description *string `parquet:"description,optional"`
}

// TestReadIncidentsRejects: a row with no or an unknown channel, a window
// that does not start before it ends, or an id seen before is a reject,
// on the night of its recorded_at only; a row recorded after the night is
// not seen at all.
func TestReadIncidentsRejects(t *testing.T) {
	s := func(v string) *string { return &v }
	at := func(d, h int) *int64 {
		v := time.Date(2025, time.March, d, h, 0, 0, 0, shanghaiZone).UnixMicro()
		return &v
	}
	row := func(id, channel string, starts, ends, recorded *int64) incidentFileRow {
		r := incidentFileRow{IncidentID: s(id), StartsAt: starts, EndsAt: ends, RecordedAt: recorded}
		if channel != "" {
			r.Channel = s(channel)
		}
		return r
	}
	rows := []incidentFileRow{
		row("ok", "auto_debit", at(12, 0), at(12, 23), at(14, 9)),
		row("no-channel", "", at(12, 0), at(12, 23), at(14, 9)),
		row("pigeon", "pigeon_post", at(12, 0), at(12, 23), at(14, 9)),
		row("empty-window", "app", at(12, 8), at(12, 8), at(14, 9)),
		row("backwards", "app", at(12, 9), at(12, 8), at(14, 9)),
		row("ok", "app", at(13, 0), at(13, 2), at(14, 10)),
		row("earlier", "bank_transfer", at(10, 0), at(10, 5), at(11, 9)),
		row("earlier-bad", "bank_transfer", at(10, 5), at(10, 0), at(11, 9)),
		row("later", "app", at(14, 0), at(14, 5), at(15, 9)),
		row("later-bad", "nope", at(14, 0), at(14, 5), at(15, 9)),
	}
	path := filepath.Join(t.TempDir(), "part-0.parquet")
	if err := parquet.WriteFile(path, rows); err != nil {
		t.Fatal(err)
	}
	files := []File{{Path: path}}

	for _, tc := range []struct {
		day     billing.Date
		ids     []string
		rejects []string
	}{
		{billing.NewDate(2025, 3, 10), nil, nil},
		{billing.NewDate(2025, 3, 11), []string{"earlier"}, []string{"earlier-bad invalid_window"}},
		{billing.NewDate(2025, 3, 13), []string{"earlier"}, nil},
		{billing.NewDate(2025, 3, 14), []string{"earlier", "ok"}, []string{
			"no-channel null_required", "pigeon invalid_channel", "empty-window invalid_window",
			"backwards invalid_window", "ok duplicate_id"}},
		{billing.NewDate(2025, 3, 15), []string{"earlier", "ok", "later"}, []string{"later-bad invalid_channel"}},
	} {
		got, rejects, err := ReadIncidents(context.Background(), files, tc.day, shanghai)
		if err != nil {
			t.Fatalf("ReadIncidents(%s): %v", tc.day, err)
		}
		var ids []string
		for _, in := range got {
			ids = append(ids, in.IncidentID)
		}
		if !slices.Equal(ids, tc.ids) {
			t.Errorf("ReadIncidents(%s) = %v, want %v", tc.day, ids, tc.ids)
		}
		var reasons []string
		for _, r := range rejects {
			reasons = append(reasons, r.Key+" "+r.Reason)
			if r.Dataset != Incidents || r.File != path || r.Row < 0 || r.Detail == "" {
				t.Errorf("ReadIncidents(%s) reject %+v, want the dataset, file, row and what was expected", tc.day, r)
			}
		}
		if !slices.Equal(reasons, tc.rejects) {
			t.Errorf("ReadIncidents(%s) rejects %v, want %v", tc.day, reasons, tc.rejects)
		}
	}
}
