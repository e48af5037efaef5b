package pqfile_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/s2"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
)

// wideRow is a wide row of 57 columns, most of them NULL on most rows:
// the shape of the scores table before its window features moved to
// cycle_features, kept as the encoder's benchmark of a wide table.
type wideRow struct {
	AccountID int64        `parquet:"account_id"`
	AsOf      billing.Date `parquet:"as_of,date"`
	Score     int32        `parquet:"score"`
	PD        float64      `parquet:"pd"`
	Grade     string       `parquet:"grade,dict"`
	Reason1   *string      `parquet:"reason_1,optional,dict"`
	Reason2   *string      `parquet:"reason_2,optional,dict"`
	Reason3   *string      `parquet:"reason_3,optional,dict"`
	Reason4   *string      `parquet:"reason_4,optional,dict"`

	TenureMonths           int32         `parquet:"tenure_months"`
	CyclesOnBook           int32         `parquet:"cycles_on_book"`
	BureauScore            *int32        `parquet:"bureau_score,optional"`
	Utilization            *float64      `parquet:"utilization,optional,dict"`
	CurrentDPD             int32         `parquet:"current_dpd"`
	MonthsSinceDelinquency *int32        `parquet:"months_since_delinquency,optional"`
	PayPattern3            string        `parquet:"pay_pattern_3,dict"`
	Spend1                 billing.Money `parquet:"spend_1,decimal(2:18)"`
	Spend3                 billing.Money `parquet:"spend_3,decimal(2:18)"`
	Spend6                 billing.Money `parquet:"spend_6,decimal(2:18)"`
	Spend12                billing.Money `parquet:"spend_12,decimal(2:18)"`
	Billed1                billing.Money `parquet:"billed_1,decimal(2:18)"`
	Billed3                billing.Money `parquet:"billed_3,decimal(2:18)"`
	Billed6                billing.Money `parquet:"billed_6,decimal(2:18)"`
	Billed12               billing.Money `parquet:"billed_12,decimal(2:18)"`
	Paid1                  billing.Money `parquet:"paid_1,decimal(2:18)"`
	Paid3                  billing.Money `parquet:"paid_3,decimal(2:18)"`
	Paid6                  billing.Money `parquet:"paid_6,decimal(2:18)"`
	Paid12                 billing.Money `parquet:"paid_12,decimal(2:18)"`
	PaymentRatio1          *float64      `parquet:"payment_ratio_1,optional"`
	PaymentRatio3          *float64      `parquet:"payment_ratio_3,optional"`
	PaymentRatio6          *float64      `parquet:"payment_ratio_6,optional"`
	PaymentRatio12         *float64      `parquet:"payment_ratio_12,optional"`
	UtilizationAvg1        *float64      `parquet:"utilization_avg_1,optional"`
	UtilizationAvg3        *float64      `parquet:"utilization_avg_3,optional"`
	UtilizationAvg6        *float64      `parquet:"utilization_avg_6,optional"`
	UtilizationAvg12       *float64      `parquet:"utilization_avg_12,optional"`
	MaxDPD1                int32         `parquet:"max_dpd_1"`
	MaxDPD3                int32         `parquet:"max_dpd_3"`
	MaxDPD6                int32         `parquet:"max_dpd_6"`
	MaxDPD12               int32         `parquet:"max_dpd_12"`
	OverdueEpisodes1       int32         `parquet:"overdue_episodes_1"`
	OverdueEpisodes3       int32         `parquet:"overdue_episodes_3"`
	OverdueEpisodes6       int32         `parquet:"overdue_episodes_6"`
	OverdueEpisodes12      int32         `parquet:"overdue_episodes_12"`
	FailedDeductions1      int32         `parquet:"failed_deductions_1"`
	FailedDeductions3      int32         `parquet:"failed_deductions_3"`
	FailedDeductions6      int32         `parquet:"failed_deductions_6"`
	FailedDeductions12     int32         `parquet:"failed_deductions_12"`
	InstallmentShare1      *float64      `parquet:"installment_share_1,optional"`
	InstallmentShare3      *float64      `parquet:"installment_share_3,optional"`
	InstallmentShare6      *float64      `parquet:"installment_share_6,optional"`
	InstallmentShare12     *float64      `parquet:"installment_share_12,optional"`
	MinPayCycles1          int32         `parquet:"min_pay_cycles_1"`
	MinPayCycles3          int32         `parquet:"min_pay_cycles_3"`
	MinPayCycles6          int32         `parquet:"min_pay_cycles_6"`
	MinPayCycles12         int32         `parquet:"min_pay_cycles_12"`

	ScorecardVersion string `parquet:"scorecard_version,dict"`
}

// scoreRows builds n rows shaped like a night's scores: a few columns
// NULL on most rows (missing features, unused reason codes), the rest
// set, the values varied enough for pages to fill as a night's do.
func scoreRows(n int) []wideRow {
	rows := make([]wideRow, n)
	fs := make([]float64, 13*n)
	is := make([]int32, 2*n)
	ss := make([]string, 4*n)
	reasons := []string{"UTIL_HIGH", "DPD_RECENT", "TENURE_SHORT", "PAY_RATIO_LOW", "FAILED_DEDUCTIONS"}
	for i := range rows {
		r := &rows[i]
		m := billing.Money(int64(i) * 7919 % 5_000_003)
		*r = wideRow{AccountID: int64(i + 1), AsOf: billing.NewDate(2025, 1, 2), Score: int32(300 + i%551),
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
// 4096, as a night hands its rows to the writer. Its wall time includes
// the fsync, which a loaded disk makes long; cpu-ms/op is the encoding's
// cost.
func BenchmarkWriteScores(b *testing.B) {
	benchmarkScores(b, func(path string, rows []wideRow) error {
		w, err := pqfile.Create[wideRow](path)
		if err != nil {
			return err
		}
		for j := 0; j < len(rows); j += 4096 {
			if err := w.Write(rows[j:min(j+4096, len(rows))]); err != nil {
				return err
			}
		}
		return w.Close()
	})
}

// BenchmarkWriteScoresRowWriter writes the same table with parquet-go's
// row writer, with the options the package wrote its files with before it
// had its own encoder, chunks of 64 rows at a time: the figure
// BenchmarkWriteScores is measured against.
func BenchmarkWriteScoresRowWriter(b *testing.B) {
	benchmarkScores(b, rowWriterFile[wideRow])
}

// benchmarkScores times write of 100k scores rows to a file.
func benchmarkScores(b *testing.B, write func(path string, rows []wideRow) error) {
	rows := scoreRows(100_000)
	path := filepath.Join(b.TempDir(), "scores.parquet")
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, cpuTime())
	for i := 0; i < b.N; i++ {
		if err := write(path, rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(rows))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// reportCPU reports the process's CPU time (user and system) since start,
// per op, as cpu-ms/op.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Milliseconds())/float64(b.N), "cpu-ms/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rowWriterFile writes rows with parquet-go's row writer, in chunks of 64
// rows from the start of the file, with the options of rowWriterOptions.
func rowWriterFile[T any](path string, rows []T) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := parquet.NewGenericWriter[T](f, rowWriterOptions()...)
	for i := 0; i < len(rows); i += 64 {
		if _, err := w.Write(rows[i:min(i+64, len(rows))]); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return f.Sync()
}

// rowWriterOptions are parquet-go's writer options for files like the
// package's: data pages v1, PLAIN unless a column's tag asks for its
// dictionary, snappy with the fast encoder, row groups of 256Ki rows,
// pages of 64 KiB.
func rowWriterOptions() []parquet.WriterOption {
	return []parquet.WriterOption{
		parquet.DataPageVersion(1),
		parquet.DefaultEncoding(&parquet.Plain),
		parquet.Compression(&fastSnappy{}),
		parquet.MaxRowsPerRowGroup(256 << 10),
		parquet.PageBufferSize(64 << 10),
		createdBy(pqfile.CreatedBy()),
	}
}

type createdBy string

func (c createdBy) ConfigureWriter(cfg *parquet.WriterConfig) { cfg.CreatedBy = string(c) }

// fastSnappy is the SNAPPY codec with s2's fast block encoder.
type fastSnappy struct{ snappy.Codec }

func (*fastSnappy) Encode(dst, src []byte) ([]byte, error) { return s2.EncodeSnappy(dst, src), nil }
