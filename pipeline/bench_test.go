package pipeline_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/policy"
	"github.com/creditrun/creditrun/scoring"
)

// The nightly benchmarks run on a generated book of CREDITRUN_BENCH_ACCOUNTS
// accounts (default 20000, the demo's size): day 1 is closed from the
// master untimed, and day 2 — a night from published state, the one a
// scheduler runs — is what they time. `make bench-scale` sets 1M.
//
// A second night's state is light (the book is one day old). To time a
// night of a book in its steady state, point them at a published book:
// CREDITRUN_BENCH_OUT (its output directory, with the state of the day
// before CREDITRUN_BENCH_NIGHT) and CREDITRUN_BENCH_EVENTS; the night is
// re-run there (a re-run publishes the same bytes).
func benchAccounts() int {
	if n, err := strconv.Atoi(os.Getenv("CREDITRUN_BENCH_ACCOUNTS")); err == nil && n > 0 {
		return n
	}
	return 20000
}

type benchBook struct {
	events, out string
	night       billing.Date
}

func setupNight(b *testing.B) *benchBook {
	b.Helper()
	if out := os.Getenv("CREDITRUN_BENCH_OUT"); out != "" {
		night, err := billing.ParseDate(os.Getenv("CREDITRUN_BENCH_NIGHT"))
		if err != nil {
			b.Fatalf("CREDITRUN_BENCH_NIGHT: %v", err)
		}
		return &benchBook{events: os.Getenv("CREDITRUN_BENCH_EVENTS"), out: out, night: night}
	}
	bb := &benchBook{events: genBook(b, benchAccounts(), 2), out: b.TempDir(), night: bookStart + 1}
	first := benchOptions(bb.events, bb.out)
	first.State = filepath.Join(bb.events, "accounts")
	if _, err := pipeline.Run(context.Background(), first, bookStart); err != nil {
		b.Fatal(err)
	}
	return bb
}

// benchOptions are the options of a production run: the default bucket
// size and one worker per CPU (the tests' small buckets exercise bucket
// boundaries, not speed).
func benchOptions(events, out string) pipeline.Options {
	o := pipeline.DefaultOptions()
	o.Events, o.Out, o.Version = events, out, "test"
	if n, err := strconv.Atoi(os.Getenv("CREDITRUN_BENCH_BUCKET_SIZE")); err == nil && n > 0 {
		o.BucketSize = n // to compare bucket sizes on one book
	}
	return o
}

// BenchmarkNight times one nightly run: stream the state as of D−1, read
// the events of D, fold every account through billing and scoring, write
// every output and the new state, publish.
func BenchmarkNight(b *testing.B) {
	bb := setupNight(b)
	opt := benchOptions(bb.events, bb.out)
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	var m *pipeline.Manifest
	for i := 0; i < b.N; i++ {
		var err error
		if m, err = pipeline.Run(context.Background(), opt, bb.night); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, cpu)
	reportNight(b, m)
}

func reportNight(b *testing.B, m *pipeline.Manifest) {
	var written int64
	for _, n := range m.Rows {
		written += n
	}
	s := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(float64(m.Book.Accounts)/s, "accounts/s")
	b.ReportMetric(float64(m.RowsRead)/s, "events/s")
	b.ReportMetric(float64(written+int64(m.Book.Accounts))/s, "rows-written/s")
}

// reportCPU reports the process's CPU time (user and system) since
// start, per op, as cpu-s/op: on 2 cores a night is CPU-bound, and its
// wall time follows this figure.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIOFloor does the I/O of a night without its domain work, as
// concurrently as a night does it: it streams the same state (reading and
// writing on two goroutines), reads the same events, and writes the same
// state and the same output rows (those the real night produced, loaded
// before the timer). BenchmarkNight / BenchmarkIOFloor is the cost of the
// domain.
func BenchmarkIOFloor(b *testing.B) {
	bb := setupNight(b)
	ctx := context.Background()
	m, err := pipeline.Run(ctx, benchOptions(bb.events, bb.out), bb.night)
	if err != nil {
		b.Fatal(err)
	}
	published := pipeline.PartitionDir(bb.out, bb.night)
	rows := loadOutputs(b, published)
	stateIn := filepath.Join(pipeline.PartitionDir(bb.out, bb.night-1), "state")
	rules := source.RulesFrom(&policy.Default().Billing)
	var files = map[string][]source.File{}
	for _, ds := range []string{"transactions", "repayments"} {
		all, err := source.List(filepath.Join(bb.events, ds))
		if err != nil {
			b.Fatal(err)
		}
		files[ds] = source.ForDay(all, bb.night)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		os.MkdirAll(filepath.Join(dir, "state"), 0o755)
		var g errgroup.Group
		g.Go(func() error {
			_, _, err := source.ReadTransactions(ctx, files["transactions"], bb.night, rules)
			return err
		})
		g.Go(func() error {
			_, _, err := source.ReadRepayments(ctx, files["repayments"], bb.night, rules)
			return err
		})
		g.Go(func() error { return copyState(stateIn, filepath.Join(dir, "state")) })
		g.Go(func() error { return rows.write(dir) })
		if err := g.Wait(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportCPU(b, cpu)
	reportNight(b, m)
}

// copyState streams the state in from to a new state in to, reading and
// writing on two goroutines as a night does, in buckets of the night's
// size, recycling each written bucket.
func copyState(from, to string) error {
	r, err := state.Open(from)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := state.Create(to)
	if err != nil {
		return err
	}
	chunks := make(chan []billing.Account, 2)
	free := make(chan []billing.Account, 3)
	for range cap(free) {
		free <- make([]billing.Account, pipeline.DefaultBucketSize)
	}
	var g errgroup.Group
	g.Go(func() error {
		defer close(chunks)
		for {
			buf := <-free
			n, err := r.Read(buf)
			if n == 0 && errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			chunks <- buf[:n]
		}
	})
	var werr error
	for chunk := range chunks {
		if werr == nil {
			werr = w.Write(chunk)
		}
		free <- chunk[:cap(chunk)]
	}
	if err := errors.Join(g.Wait(), werr); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
}

type outputs struct {
	statements  []billing.StatementRow
	lines       []billing.LineRow
	plans       []billing.PlanRow
	delinquency []billing.DelinquencyRow
	notices     []billing.Notice
	bureau      []billing.BureauRow
	scores      []scoring.ScoreRow
	decisions   []scoring.DecisionRow
	offers      []billing.OfferRow
}

func loadOutputs(b *testing.B, dir string) *outputs {
	o := &outputs{}
	p := func(t string) string { return filepath.Join(dir, t+".parquet") }
	var errs []error
	var err error
	o.statements, err = pqfile.ReadFile[billing.StatementRow](p(pipeline.TableStatements))
	errs = append(errs, err)
	o.lines, err = pqfile.ReadFile[billing.LineRow](p(pipeline.TableStatementLines))
	errs = append(errs, err)
	o.plans, err = pqfile.ReadFile[billing.PlanRow](p(pipeline.TablePlans))
	errs = append(errs, err)
	o.delinquency, err = pqfile.ReadFile[billing.DelinquencyRow](p(pipeline.TableDelinquency))
	errs = append(errs, err)
	o.notices, err = pqfile.ReadFile[billing.Notice](p(pipeline.TableNotices))
	errs = append(errs, err)
	o.bureau, err = pqfile.ReadFile[billing.BureauRow](p(pipeline.TableBureau))
	errs = append(errs, err)
	o.scores, err = pqfile.ReadFile[scoring.ScoreRow](p(pipeline.TableScores))
	errs = append(errs, err)
	o.decisions, err = pqfile.ReadFile[scoring.DecisionRow](p(pipeline.TableLimitDecisions))
	errs = append(errs, err)
	o.offers, err = pqfile.ReadFile[billing.OfferRow](p(pipeline.TableOffers))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
	return o
}

// write writes every table, each on a goroutine of its own (a night
// encodes its tables on as many lanes).
func (o *outputs) write(dir string) error {
	p := func(t string) string { return filepath.Join(dir, t+".parquet") }
	var g errgroup.Group
	g.Go(func() error { return pqfile.WriteFile(p(pipeline.TableStatements), o.statements) })
	g.Go(func() error { return pqfile.WriteFile(p(pipeline.TableStatementLines), o.lines) })
	g.Go(func() error { return pqfile.WriteFile(p(pipeline.TablePlans), o.plans) })
	g.Go(func() error { return pqfile.WriteFile(p(pipeline.TableDelinquency), o.delinquency) })
	g.Go(func() error { return pqfile.WriteFile(p(pipeline.TableNotices), o.notices) })
	g.Go(func() error { return pqfile.WriteFile(p(pipeline.TableBureau), o.bureau) })
	g.Go(func() error { return pqfile.WriteFile(p(pipeline.TableScores), o.scores) })
	g.Go(func() error { return pqfile.WriteFile(p(pipeline.TableLimitDecisions), o.decisions) })
	g.Go(func() error { return pqfile.WriteFile(p(pipeline.TableOffers), o.offers) })
	return g.Wait()
}

// BenchmarkBackfill folds 10 days of a generated book, publishing each day.
func BenchmarkBackfill(b *testing.B) {
	const days = 10
	n := benchAccounts()
	events := genBook(b, n, days)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := b.TempDir()
		opt := benchOptions(events, out)
		opt.State = filepath.Join(events, "accounts")
		if _, err := pipeline.Backfill(context.Background(), opt, bookStart, bookStart+days-1, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*days*b.N)/b.Elapsed().Seconds(), "account-days/s")
}
