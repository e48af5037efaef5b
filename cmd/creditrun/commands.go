package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/rs/zerolog"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/policy"
)

var errHelp = errors.New("help shown")

const usage = `creditrun — the nightly batch of a revolving "buy now, pay later" credit line

Usage:
  creditrun demo     [--dir DIR]                 generate a sample book, run it, print a summary
  creditrun gen      --accounts N --days N --start D --seed S --out DIR
  creditrun run      --as-of D --events DIR --out DIR [--state DIR] [--policy FILE]
  creditrun backfill --from D1 --to D2 --events DIR --out DIR [--state DIR] [--policy FILE]
  creditrun policy   check FILE
  creditrun policy   diff OLD NEW --state DIR [--out DIR]
  creditrun version

Exit status: 0 published; 1 failed, nothing published; 2 bad usage or policy file;
3 input rejected beyond --max-reject-ratio, nothing published.
Run 'creditrun COMMAND -h' for a command's flags.
`

// run is the whole program but for the process: it parses args, does the
// work and returns an error that main maps to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: no command", pipeline.ErrUsage)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "run":
		return cmdRun(ctx, rest, stdout, stderr, false)
	case "backfill":
		return cmdRun(ctx, rest, stdout, stderr, true)
	case "gen":
		return cmdGen(ctx, rest, stdout, stderr)
	case "demo":
		return cmdDemo(ctx, rest, stdout, stderr)
	case "policy":
		return cmdPolicy(ctx, rest, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "creditrun", version)
		return nil
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return errHelp
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("%w: unknown command %q", pipeline.ErrUsage, cmd)
}

// newFlags returns a flag set whose errors are usage errors.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return fmt.Errorf("%w: %v", pipeline.ErrUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", pipeline.ErrUsage, fs.Arg(0))
	}
	return nil
}

// dateFlag is a flag holding a business date.
type dateFlag struct{ d billing.Date }

func (f *dateFlag) String() string {
	if f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f *dateFlag) Set(s string) (err error) { f.d, err = billing.ParseDate(s); return }

// newLogger logs JSON lines to stderr, or readable lines on a terminal.
func newLogger(stderr io.Writer, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Logger{}, fmt.Errorf("%w: --log-level %q", pipeline.ErrUsage, level)
	}
	w := stderr
	if f, ok := stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			w = zerolog.ConsoleWriter{Out: f, TimeFormat: time.TimeOnly}
		}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

func loadPolicy(path string) (*policy.Policy, error) {
	if path == "" {
		return policy.Default(), nil
	}
	return policy.Load(path)
}

// runFlags are the flags run and backfill share.
type runFlags struct {
	opt        pipeline.Options
	policy     string
	logLevel   string
	cpuProfile string
}

func (r *runFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&r.opt.Events, "events", "", "input root holding transactions/, repayments/ and optionally requests/ (required)")
	fs.StringVar(&r.opt.Out, "out", "", "output root; each date is published as OUT/as_of=D/ (required)")
	fs.StringVar(&r.opt.State, "state", "", "start state: a state/ dir of an earlier run or, for the first run, the accounts master (default OUT/as_of=D-1/state)")
	fs.StringVar(&r.policy, "policy", "", "policy file (default: the built-in policy)")
	fs.IntVar(&r.opt.Workers, "workers", runtime.NumCPU(), "buckets processed at once")
	fs.IntVar(&r.opt.BucketSize, "bucket-size", 4096, "accounts per bucket: memory is about workers × bucket size")
	fs.IntVar(&r.opt.MemoryAccounts, "memory-accounts", 250000, "backfill: keep books up to this many accounts in memory between days (-1: always stream the published state)")
	fs.Float64Var(&r.opt.MaxRejectRatio, "max-reject-ratio", 0.001, "share of rejected input rows above which nothing is published (exit 3)")
	fs.BoolVar(&r.opt.RequireMarker, "require-success-marker", false, "refuse a night unless every input partition it needs holds _SUCCESS")
	fs.BoolVar(&r.opt.SparsePartitions, "sparse-partitions", false, "take a missing input partition as a day without rows (DuckDB PARTITION_BY, Spark partitionBy)")
	fs.StringVar(&r.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&r.cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) to this file")
}

func (r *runFlags) complete(stderr io.Writer) error {
	if r.opt.Events == "" || r.opt.Out == "" {
		return fmt.Errorf("%w: --events and --out are required", pipeline.ErrUsage)
	}
	if r.opt.MaxRejectRatio < 0 || r.opt.MaxRejectRatio > 1 {
		return fmt.Errorf("%w: --max-reject-ratio %v: want 0..1", pipeline.ErrUsage, r.opt.MaxRejectRatio)
	}
	var err error
	if r.opt.Log, err = newLogger(stderr, r.logLevel); err != nil {
		return err
	}
	if r.opt.Policy, err = loadPolicy(r.policy); err != nil {
		return err
	}
	r.opt.Version = version
	return nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer, backfill bool) error {
	name := "run"
	if backfill {
		name = "backfill"
	}
	fs := newFlags(name, stderr)
	var rf runFlags
	rf.register(fs)
	var asOf, from, to dateFlag
	if backfill {
		fs.Var(&from, "from", "first business date YYYY-MM-DD (required)")
		fs.Var(&to, "to", "last business date YYYY-MM-DD (required)")
	} else {
		fs.Var(&asOf, "as-of", "business date to close, YYYY-MM-DD (required)")
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if !backfill {
		from, to = asOf, asOf
	}
	if from.d == 0 || to.d == 0 {
		return fmt.Errorf("%w: the business date is required (--as-of, or --from and --to)", pipeline.ErrUsage)
	}
	if err := rf.complete(stderr); err != nil {
		return err
	}
	if rf.cpuProfile != "" {
		f, err := os.Create(rf.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	start := time.Now()
	total := int(to.d-from.d) + 1
	done := 0
	progress := func(m *pipeline.Manifest) {
		done++
		if total > 1 {
			el := time.Since(start)
			eta := time.Duration(float64(el) / float64(done) * float64(total-done))
			rf.opt.Log.Info().Str("as_of", m.AsOf).Int("day", done).Int("days", total).
				Dur("elapsed", el).Dur("eta", eta).Msg("backfill progress")
		}
	}
	ms, err := pipeline.Backfill(ctx, rf.opt, from.d, to.d, progress)
	if err != nil {
		rf.opt.Log.Debug().Str("error", err.Error()).Msg("failure in full")
		return err
	}
	last := ms[len(ms)-1]
	rf.opt.Log.Info().Str("as_of", last.AsOf).Int("days", len(ms)).Dur("took", time.Since(start)).Msg("published")
	return nil
}
