package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/creditrun/creditrun/fixtures"
	"github.com/creditrun/creditrun/pipeline"
)

func cmdGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gen", stderr)
	cfg := fixtures.DefaultConfig()
	out := fs.String("out", "", "directory to write the book into (required; must hold no dataset yet)")
	start := dateFlag{cfg.Start}
	fs.IntVar(&cfg.Accounts, "accounts", cfg.Accounts, "accounts in the master")
	fs.IntVar(&cfg.Days, "days", cfg.Days, "days of events")
	fs.Var(&start, "start", "first business date with events")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: same seed, same bytes")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", pipeline.ErrUsage)
	}
	cfg.Start = start.d
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: %v", pipeline.ErrUsage, err)
	}
	stats, err := generate(ctx, cfg, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\nwritten to %s\n", stats, *out)
	return nil
}

func generate(ctx context.Context, cfg fixtures.Config, dir string) (fixtures.Stats, error) {
	sink, err := fixtures.NewParquetSink(dir)
	if err != nil {
		return fixtures.Stats{}, err
	}
	stats, err := fixtures.Generate(ctx, cfg, sink)
	if cerr := sink.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return stats, fmt.Errorf("generate: %w", err)
	}
	return sink.Stats(), nil
}

// cmdDemo generates a sample book, backfills all but its last day, runs
// the last night as a scheduler would, and prints what that night did.
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", stderr)
	cfg := fixtures.DefaultConfig()
	// 185 days from 2025-01-01: the last night, 2025-07-04, issues the
	// statements of billing day 5, so the summary shows a statement run.
	cfg.Days = 185
	dir := fs.String("dir", "demo", "working directory (replaced)")
	fs.IntVar(&cfg.Accounts, "accounts", cfg.Accounts, "accounts in the sample book")
	fs.IntVar(&cfg.Days, "days", cfg.Days, "days of events")
	quiet := fs.Bool("quiet", false, "log warnings only")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cfg.Days < 2 {
		return fmt.Errorf("%w: --days must be at least 2", pipeline.ErrUsage)
	}
	level := "info"
	if *quiet {
		level = "warn"
	}
	log, err := newLogger(stderr, level)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(*dir); err != nil {
		return err
	}
	events, out := filepath.Join(*dir, "events"), filepath.Join(*dir, "out")
	t0 := time.Now()
	stats, err := generate(ctx, cfg, events)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Generated a sample book in %s (%.1fs):\n%s\n\n", events, time.Since(t0).Seconds(), stats)

	opt := pipeline.Options{
		Events: events, Out: out, State: filepath.Join(events, fixtures.AccountsPath),
		Policy: policyOrDefault(), MaxRejectRatio: 0.001, Version: version, Log: log,
	}
	last := cfg.End()
	t0 = time.Now()
	if _, err := pipeline.Backfill(ctx, opt, cfg.Start, last-1, nil); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Backfilled %s .. %s into %s (%.1fs).\n", cfg.Start, last-1, out, time.Since(t0).Seconds())
	opt.State = ""
	t0 = time.Now()
	if _, err := pipeline.Run(ctx, opt, last); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Ran the night of %s from the published state (%.1fs).\n\n", last, time.Since(t0).Seconds())
	s, err := pipeline.Summarize(out, last)
	if err != nil {
		return err
	}
	s.WriteText(stdout)
	fmt.Fprintf(stdout, "\nOpen them with DuckDB, e.g.: SELECT grade, count(*) FROM '%s/scores.parquet' GROUP BY ALL;\n", s.Dir)
	return nil
}
