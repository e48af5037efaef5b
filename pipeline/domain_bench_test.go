package pipeline

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/pipeline/state"
)

// BenchmarkDomain times the daily step alone, on one goroutine: every
// bucket of a published book through engine.bucket (billing, features,
// score, limit decision, offer, the rows and the daily summary), as
// process hands them out, without reading the state or writing a row. The
// book is CREDITRUN_BENCH_OUT's state as of the day before
// CREDITRUN_BENCH_NIGHT, with CREDITRUN_BENCH_EVENTS' events of that
// night (see BenchmarkNight); it is read before the timer and copied
// afresh, untimed, for every iteration.
func BenchmarkDomain(b *testing.B) {
	out, events := os.Getenv("CREDITRUN_BENCH_OUT"), os.Getenv("CREDITRUN_BENCH_EVENTS")
	if out == "" || events == "" {
		b.Skip("CREDITRUN_BENCH_OUT and CREDITRUN_BENCH_EVENTS name a published book")
	}
	night, err := billing.ParseDate(os.Getenv("CREDITRUN_BENCH_NIGHT"))
	if err != nil {
		b.Fatalf("CREDITRUN_BENCH_NIGHT: %v", err)
	}
	opt := DefaultOptions()
	opt.Events, opt.Out, opt.Version = events, out, "test"
	e := &engine{opt: opt, log: opt.Log, hashes: map[string]string{}, prices: opt.Policy.Billing.Offers.Prices()}
	if err := e.listInputs(); err != nil {
		b.Fatal(err)
	}
	ev, err := e.readEvents(context.Background(), night, discardRejects{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	if ev.night, err = e.dailyNight(night); err != nil {
		b.Fatal(err)
	}
	book := readBook(b, filepath.Join(PartitionDir(out, night-1), "state"))
	b.ReportAllocs()
	b.ResetTimer()
	var cpu time.Duration // the process's, timed parts only: the collector's work counts
	for range b.N {
		b.StopTimer()
		jobs := bookJobs(b, book, ev, opt.BucketSize)
		b.StartTimer()
		t0 := processCPU()
		for _, j := range jobs {
			o, err := e.bucket(j.accounts, night, ev.night, &j.ev, j.profiles, j.pids)
			if err != nil {
				b.Fatal(err)
			}
			e.recycle(o)
		}
		cpu += processCPU() - t0
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(len(book))*float64(b.N)/b.Elapsed().Seconds(), "accounts/s")
}

// bookJobs cuts a copy of book, with the night's new accounts, into the
// buckets process would hand out.
func bookJobs(b *testing.B, book []billing.Account, ev *dayEvents, size int) []*job {
	fs := &feedStream{inner: &bookCopy{book: book}, feed: ev.feed, buf: make([]billing.Account, size)}
	var jobs []*job
	var ti, ri, qi int
	for {
		j := &job{buf: make([]billing.Account, size)}
		n, err := fs.read(j.buf, j)
		if errors.Is(err, io.EOF) && n == 0 {
			return jobs
		}
		if err != nil {
			b.Fatal(err)
		}
		j.accounts = j.buf[:n]
		last := j.accounts[n-1].ID
		j.ev.Incidents = ev.incidents
		j.ev.Transactions, ti = upTo(ev.txns, ti, last, func(t *billing.Transaction) int64 { return t.AccountID })
		j.ev.Repayments, ri = upTo(ev.repays, ri, last, func(r *billing.Repayment) int64 { return r.AccountID })
		j.ev.Requests, qi = upTo(ev.reqs, qi, last, func(r *billing.Request) int64 { return r.AccountID })
		jobs = append(jobs, j)
	}
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readBook reads a whole state into memory.
func readBook(b *testing.B, dir string) []billing.Account {
	r, err := state.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var book []billing.Account
	buf := make([]billing.Account, DefaultBucketSize)
	for {
		n, err := r.Read(buf)
		book = append(book, buf[:n]...)
		if errors.Is(err, io.EOF) {
			return book
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// bookCopy streams copies of a book's accounts, each slice its own and
// capped as the state reader caps them, so that the daily step changes
// none of the book's.
type bookCopy struct {
	book []billing.Account
	i    int
}

func (c *bookCopy) Read(buf []billing.Account) (int, error) {
	n := copy(buf, c.book[c.i:])
	for k := range buf[:n] {
		a := &buf[k]
		a.Statements = clipped(a.Statements)
		a.Pending = clipped(a.Pending)
		a.Plans = clipped(a.Plans)
		a.Purchases = clipped(a.Purchases)
		a.History = clipped(a.History)
		a.Seen = clipped(a.Seen)
		a.LateAccruals = clipped(a.LateAccruals)
		a.Failures = clipped(a.Failures)
		a.Accruals = clipped(a.Accruals)
	}
	c.i += n
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

func clipped[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return slices.Clip(append(make([]T, 0, len(s)), s...))
}

// discardRejects drops the rejects of the benchmark's read of the events.
type discardRejects struct{}

func (discardRejects) WriteRejects([]source.Reject) error { return nil }
