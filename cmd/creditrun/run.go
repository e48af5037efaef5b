package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/source"
)

// runFlags are the flags run and backfill share, bound to the library's
// defaults so that the two cannot disagree.
type runFlags struct {
	opt        pipeline.Options
	policy     string
	logLevel   string
	cpuProfile string
	memProfile string
	shard      shardFlags // --shards, --shard (commit.go)
	work       string     // --work: the staging of an output on object storage
	obj        *pipeline.ObjectOut
}

func (r *runFlags) register(fs *flag.FlagSet) {
	r.opt = pipeline.DefaultOptions()
	fs.StringVar(&r.opt.Events, "events", "", "input root holding transactions/, repayments/ and optionally requests/, accounts/, incidents/: a directory or a URL such as s3://bucket/prefix (required)")
	fs.StringVar(&r.opt.Out, "out", "", "output root, a local directory (each date is published as OUT/as_of=D/) or a URL such as s3://bucket/prefix (each date is committed under OUT/as_of=D/_commits/) (required)")
	fs.StringVar(&r.work, "work", "", "with --out on object storage: the local directory a night is staged in before it is uploaded, and what it reads from the store is fetched to (default: a temporary directory, removed at the end)")
	fs.StringVar(&r.opt.State, "state", "", "start state: a state/ dir of an earlier run or, for the first run, the accounts master (a directory or a URL such as s3://bucket/prefix) (default OUT/as_of=D-1/state)")
	fs.StringVar(&r.policy, "policy", "", "policy file, a path or a URL such as s3://bucket/policy.yaml (default: the built-in policy, see 'creditrun policy show')")
	fs.IntVar(&r.opt.Workers, "workers", r.opt.Workers, "buckets processed at once")
	fs.IntVar(&r.opt.BucketSize, "bucket-size", r.opt.BucketSize, "accounts per bucket: memory is about workers × bucket size")
	fs.IntVar(&r.opt.DaysInFlight, "days-in-flight", r.opt.DaysInFlight, "backfill: dates run at once, each handing its book to the next as it writes it (1: each date reads back the state the date before published; --state-every above 1 needs 2 or more)")
	fs.Float64Var(&r.opt.MaxRejectRatio, "max-reject-ratio", r.opt.MaxRejectRatio, "share of rejected input rows above which nothing is published (exit 3)")
	fs.BoolVar(&r.opt.RequireMarker, "require-success-marker", false, "refuse a night unless every input partition it needs holds _SUCCESS")
	fs.BoolVar(&r.opt.SparsePartitions, "sparse-partitions", false, "take a missing input partition as a day without rows (DuckDB PARTITION_BY, Spark partitionBy)")
	fs.BoolVar(&r.opt.PolicyChange, "policy-change", false, "run under another policy than the state was written with, on purpose (recorded in the manifest)")
	fs.StringVar(&r.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&r.cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) to this file")
	fs.StringVar(&r.memProfile, "memprofile", "", "write a heap profile (go tool pprof) of about the command's peak of live memory to this file")
	r.shard.register(fs)
}

// complete checks the flags and builds the options.
func (r *runFlags) complete(stderr io.Writer) error {
	if _, err := parseLevel(r.logLevel); err != nil {
		return err
	}
	r.opt.Log = newLogger(stderr, r.logLevel)
	r.opt.Version = version
	if err := r.shard.complete(&r.opt); err != nil {
		return err
	}
	if err := r.opt.Validate(); err != nil {
		return err
	}
	p, err := loadPolicy(r.policy)
	if err != nil {
		return err
	}
	r.opt.Policy = p
	return nil
}

// repeat returns the flags of this invocation that a hint's command must
// repeat, as a string to paste: the roots, the policy, the tuning that was
// changed from its default.
func (r *runFlags) repeat() string {
	args := []string{"--events", quote(r.opt.Events), "--out", quote(r.outName())}
	if r.policy != "" {
		args = append(args, "--policy", quote(r.policy))
	}
	return strings.Join(args, " ")
}

// quote quotes s for a POSIX shell when it needs it.
func quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c == '/' || c == '.' || c == '-' || c == '_' || c == '=' || c == ':' || c == '+' ||
			('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z'))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run")
	var rf runFlags
	rf.register(fs)
	var asOf dateFlag
	fs.Var(&asOf, "as-of", "business date to close, YYYY-MM-DD (required)")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if asOf.d == 0 {
		return fmt.Errorf("%w: creditrun run: --as-of is required", pipeline.ErrUsage)
	}
	return backfill(ctx, &rf, asOf.d, asOf.d, stdout, stderr)
}

func cmdBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backfill")
	var rf runFlags
	rf.register(fs)
	var from, to dateFlag
	fs.Var(&from, "from", "first business date YYYY-MM-DD")
	fs.Var(&to, "to", "last business date YYYY-MM-DD (required)")
	catchUp := fs.Bool("catch-up", false, "start the day after the latest date published with its state before --to (instead of --from): what a scheduler runs to close --to whatever it missed")
	fs.IntVar(&rf.opt.StateEvery, "state-every", rf.opt.StateEvery, "publish the state of the first date, every N-th date after it and the last (1: every date); the other dates publish every table but no state/, so a run of the day after one of them needs a backfill from the nearest date with its state")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	switch {
	case to.d == 0:
		return fmt.Errorf("%w: creditrun backfill: --to is required", pipeline.ErrUsage)
	case *catchUp && from.d != 0:
		return fmt.Errorf("%w: creditrun backfill: give --from or --catch-up, not both", pipeline.ErrUsage)
	case !*catchUp && from.d == 0:
		return fmt.Errorf("%w: creditrun backfill: --from (or --catch-up) is required", pipeline.ErrUsage)
	}
	if *catchUp {
		if rf.opt.Out == "" {
			return fmt.Errorf("%w: creditrun backfill: --out is required", pipeline.ErrUsage)
		}
		last, err := rf.lastStateBefore(ctx, to.d)
		if err != nil {
			return err
		}
		if last == 0 && rf.opt.State == "" {
			return rf.noState(&pipeline.NoStateError{Day: to.d, Out: rf.opt.Out})
		}
		from.d = last + 1
		if last == 0 {
			from.d = to.d // with --state: a first run
		}
	}
	return backfill(ctx, &rf, from.d, to.d, stdout, stderr)
}

// backfill runs from..to and reports it: log lines always, a summary on
// a terminal's stdout.
func backfill(ctx context.Context, rf *runFlags, from, to billing.Date, stdout, stderr io.Writer) error {
	if err := rf.complete(stderr); err != nil {
		return err
	}
	if err := rf.openObject(ctx); err != nil {
		return err
	}
	defer rf.closeObject()
	if rf.cpuProfile != "" {
		f, err := os.Create(rf.cpuProfile)
		if err != nil {
			return fmt.Errorf("%w: --cpuprofile: %w", pipeline.ErrUsage, err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if rf.memProfile != "" {
		stop, err := heapPeakProfiler(rf.memProfile)
		if err != nil {
			return fmt.Errorf("%w: --memprofile: %w", pipeline.ErrUsage, err)
		}
		defer func() {
			peak, err := stop()
			if err != nil {
				rf.opt.Log.Warn().Err(err).Msg("heap profile not written")
				return
			}
			rf.opt.Log.Info().Str("file", rf.memProfile).Uint64("peak_heap_bytes", peak).Msg("heap profile written")
		}()
	}
	start := time.Now()
	total := int(to-from) + 1
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
	runCtx, progress, published, err := rf.publishing(ctx, from, to, progress)
	if err != nil {
		return err
	}
	ms, err := pipeline.Backfill(runCtx, rf.opt, from, to, progress)
	if perr := published(); perr != nil {
		err = perr
	}
	if err != nil && rf.obj != nil && errors.Is(err, pipeline.ErrTooManyRejects) {
		err = rf.obj.SaveRefused(ctx, err)
	}
	if err != nil {
		rf.opt.Log.Debug().Str("error", err.Error()).Msg("failure in full")
		if ns, ok := asNoState(err); ok {
			if rf.obj != nil { // the staging holds only what the night fetched
				if ns.Last, err = rf.obj.LastStateBefore(ctx, ns.Day); err != nil {
					return err
				}
			}
			return rf.noState(ns)
		}
		return err
	}
	last := ms[len(ms)-1]
	if rf.opt.Shard.Sharded() { // its part is written; the commit publishes
		rf.opt.Log.Info().Str("as_of", last.AsOf).Int("days", len(ms)).Int("shard", rf.opt.Shard.K).Int("shards", rf.opt.Shard.N).
			Dur("took", time.Since(start)).Msg("part written")
		return nil
	}
	rf.opt.Log.Info().Str("as_of", last.AsOf).Int("days", len(ms)).Dur("took", time.Since(start)).Msg("published")
	if isTerminal(stdout) {
		if total > 1 {
			fmt.Fprintf(stdout, "Published %s .. %s (%d days) into %s in %.1fs.\n\n", from, to, total, rf.outName(), time.Since(start).Seconds())
		}
		s, err := pipeline.Summarize(rf.opt.Out, to)
		if err != nil {
			return err
		}
		s.WriteText(stdout)
	}
	return nil
}

// noState adds to a missing state the command that fixes it: the backfill
// from the day after the latest date with its state, which publishes the
// dates between again (the same bytes) with their state.
func (rf *runFlags) noState(ns *pipeline.NoStateError) error {
	ns.Out = rf.outName()
	if ns.Last != 0 {
		return &hinted{err: ns, hint: fmt.Sprintf("creditrun backfill --from %s --to %s %s", ns.Last+1, ns.Day, rf.repeat())}
	}
	if ns.NotKept {
		return ns // the first date's master is not known here: the message says what to do
	}
	master := source.Join(rf.opt.Events, billing.DatasetAccounts)
	if exists(master) {
		return &hinted{err: ns, hint: fmt.Sprintf("creditrun backfill --from %s --to %s %s --state %s", ns.Day, ns.Day, rf.repeat(), quote(master))}
	}
	return ns
}

// exists reports whether there is a file, directory or prefix at
// location.
func exists(location string) bool {
	if !source.IsURL(location) {
		_, err := os.Stat(location)
		return err == nil
	}
	_, err := source.OpenDataset(billing.DatasetAccounts, location, source.Landing{})
	return err == nil
}

func asNoState(err error) (*pipeline.NoStateError, bool) {
	var ns *pipeline.NoStateError
	ok := errors.As(err, &ns)
	return ns, ok
}
