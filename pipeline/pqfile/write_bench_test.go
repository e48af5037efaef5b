package pqfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/scoring"
)

// scoreRows builds n rows shaped like a night's scores: a few columns
// NULL on most rows (missing features, unused reason codes), the rest
// set, the values varied enough for pages to fill as a night's do.
func scoreRows(n int) []scoring.ScoreRow {
	rows := make([]scoring.ScoreRow, n)
	fs := make([]float64, 13*n)
	is := make([]int32, 2*n)
	ss := make([]string, 4*n)
	reasons := []string{"UTIL_HIGH", "DPD_RECENT", "TENURE_SHORT", "PAY_RATIO_LOW", "FAILED_DEDUCTIONS"}
	for i := range rows {
		r := &rows[i]
		m := billing.Money(int64(i) * 7919 % 5_000_003)
		*r = scoring.ScoreRow{AccountID: int64(i + 1), AsOf: billing.NewDate(2025, 1, 2), Score: int32(300 + i%551),
			PD: float64(i%997) / 997, Grade: string(rune('A' + i%6)), PayPattern3: []string{"FFF", "FFP", "PPP", "NNN"}[i%4],
			TenureMonths: int32(i % 120), CyclesOnBook: int32(i % 60), CurrentDPD: int32(i % 7),
			Spend1: m, Spend3: 3 * m, Spend6: 6 * m, Spend12: 12 * m, Billed1: m / 2, Billed3: m, Billed6: 2 * m, Billed12: 4 * m,
			Paid1: m / 3, Paid3: m / 2, Paid6: m, Paid12: 2 * m, MaxDPD1: int32(i % 5), MaxDPD12: int32(i % 30),
			OverdueEpisodes12: int32(i % 3), FailedDeductions12: int32(i % 2), MinPayCycles12: int32(i % 4),
			ScorecardVersion: "sc-2025.1"}
		f := fs[13*i : 13*i+13]
		for k := range f {
			f[k] = float64((i*31+k*17)%10007) / 10007
		}
		if i%4 != 0 {
			r.Utilization, r.PaymentRatio1, r.PaymentRatio3 = &f[0], &f[1], &f[2]
			r.UtilizationAvg1, r.UtilizationAvg3 = &f[5], &f[6]
		}
		if i%3 == 0 {
			r.PaymentRatio6, r.PaymentRatio12, r.UtilizationAvg6, r.UtilizationAvg12 = &f[3], &f[4], &f[7], &f[8]
			r.InstallmentShare1, r.InstallmentShare3, r.InstallmentShare6, r.InstallmentShare12 = &f[9], &f[10], &f[11], &f[12]
		}
		if i%2 == 0 {
			is[2*i] = int32(550 + i%300)
			r.BureauScore = &is[2*i]
		}
		if i%9 == 0 {
			is[2*i+1] = int32(i % 24)
			r.MonthsSinceDelinquency = &is[2*i+1]
		}
		s := ss[4*i : 4*i+4]
		for k, dst := range []**string{&r.Reason1, &r.Reason2, &r.Reason3, &r.Reason4} {
			if i%5 > k {
				s[k] = reasons[(i+k)%len(reasons)]
				*dst = &s[k]
			}
		}
	}
	return rows
}

// BenchmarkWriteScores writes a scores table of 100k rows in buckets of
// 4096, as a night hands its rows to the writer.
func BenchmarkWriteScores(b *testing.B) {
	rows := scoreRows(100_000)
	path := filepath.Join(b.TempDir(), "scores.parquet")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, err := pqfile.Create[scoring.ScoreRow](path)
		if err != nil {
			b.Fatal(err)
		}
		for j := 0; j < len(rows); j += 4096 {
			if err := w.Write(rows[j:min(j+4096, len(rows))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// referenceFile writes rows as parquet-go's row writer writes them from
// the start of a file in chunks of 64 rows, with the package's options:
// what Writer must write byte for byte, however it is fed.
func referenceFile[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := parquet.NewGenericWriter[T](f, pqfile.WriterOptions()...)
	for i := 0; i < len(rows); i += 64 {
		if _, err := w.Write(rows[i:min(i+64, len(rows))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// A file's bytes are those of parquet-go's row writer fed chunks of 64
// rows, across row groups and however the rows are split into Write calls
// (the rows of an incomplete chunk are held, what they point at copied).
func TestWriteSplitsGiveRowWriterBytes(t *testing.T) {
	n := 300_000 // more than a row group
	if testing.Short() || raceEnabled {
		n = 20_000
	}
	rows := scoreRows(n)
	dir := t.TempDir()
	want := filepath.Join(dir, "want.parquet")
	referenceFile(t, want, rows)
	wantBytes, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, size := range []int{4096, 1000, 64, 7} {
		got := filepath.Join(dir, "got.parquet")
		w, err := pqfile.Create[scoring.ScoreRow](got)
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < len(rows); j += size {
			if err := w.Write(rows[j:min(j+size, len(rows))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		gotBytes, err := os.ReadFile(got)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gotBytes, wantBytes) {
			t.Errorf("writes of %d rows: %d bytes differ from parquet-go's row writer's %d", size, len(gotBytes), len(wantBytes))
		}
	}
}
