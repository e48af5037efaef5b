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
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/storage"
)

func cmdGen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gen")
	cfg := fixtures.DefaultConfig()
	out := fs.String("out", "", "directory or object-store URL (s3://bucket/prefix) to write the book into (required; must hold no dataset yet)")
	start := dateFlag{cfg.Start}
	fs.IntVar(&cfg.Accounts, "accounts", cfg.Accounts, "accounts in the master")
	fs.IntVar(&cfg.Days, "days", cfg.Days, "days of events")
	fs.Var(&start, "start", "first business date with events")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "random seed: same seed, same bytes")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: creditrun gen: --out is required", pipeline.ErrUsage)
	}
	cfg.Start = start.d
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("%w: creditrun gen: %v", pipeline.ErrUsage, err)
	}
	var stats fixtures.Stats
	if source.IsURL(*out) {
		stats, err = generateTo(ctx, cfg, *out)
	} else {
		stats, err = generate(ctx, cfg, *out)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\nwritten to %s\n", stats, *out)
	return nil
}

// generateTo generates a book at an object-store URL: into a local
// temporary directory first, then each file uploaded as one object
// (streamed, in parts when large). Every directory's _SUCCESS marker goes
// after all the data objects, so a night reading the store never finds a
// partition marked landed before its files are.
func generateTo(ctx context.Context, cfg fixtures.Config, url string) (fixtures.Stats, error) {
	root, err := storage.Open(ctx, url)
	if err != nil {
		return fixtures.Stats{}, err
	}
	defer root.Close()
	for _, d := range fixtures.Datasets {
		held, err := root.List(ctx, d, true)
		if err != nil {
			return fixtures.Stats{}, err
		}
		if len(held) > 0 {
			return fixtures.Stats{}, fmt.Errorf("%w: creditrun gen: %s already holds %s", pipeline.ErrUsage, root.URL(d), held[0].Name)
		}
	}
	dir, err := os.MkdirTemp("", "creditrun-gen-*")
	if err != nil {
		return fixtures.Stats{}, err
	}
	defer os.RemoveAll(dir)
	stats, err := generate(ctx, cfg, dir)
	if err != nil {
		return stats, err
	}
	var data, markers []string
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Name() == pipeline.SuccessFile {
			markers = append(markers, rel)
		} else {
			data = append(data, rel)
		}
		return nil
	})
	if err != nil {
		return stats, err
	}
	for _, rel := range append(data, markers...) {
		if err := uploadFile(ctx, root, filepath.Join(dir, rel), filepath.ToSlash(rel)); err != nil {
			return stats, fmt.Errorf("generate: upload %s: %w", root.URL(filepath.ToSlash(rel)), err)
		}
	}
	return stats, nil
}

// uploadFile streams the local file path to name in root.
func uploadFile(ctx context.Context, root *storage.Root, path, name string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := root.Create(ctx, name)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, f); err != nil {
		w.Abort()
		return err
	}
	return w.Close()
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
// It shows progress, not log lines: those are for schedulers (--log-level
// info shows them).
func cmdDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo")
	cfg := fixtures.DefaultConfig()
	// 185 days from 2025-01-01: the last night, 2025-07-04, issues the
	// statements of billing day 5, so the summary shows a statement run.
	cfg.Days = 185
	dir := fs.String("dir", "demo", "working directory (replaced)")
	fs.IntVar(&cfg.Accounts, "accounts", cfg.Accounts, "accounts in the sample book")
	fs.IntVar(&cfg.Days, "days", cfg.Days, "days of events")
	quiet := fs.Bool("quiet", false, "print only the summary")
	level := fs.String("log-level", "warn", "log level of the runs' JSON lines on stderr")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if cfg.Days < 2 {
		return fmt.Errorf("%w: creditrun demo: --days must be at least 2", pipeline.ErrUsage)
	}
	if _, err := parseLevel(*level); err != nil {
		return err
	}
	say := func(format string, a ...any) {
		if !*quiet {
			fmt.Fprintf(stdout, format, a...)
		}
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
	say("Generated a sample book in %s (%.1fs):\n%s\n\n", events, time.Since(t0).Seconds(), stats)

	opt := pipeline.DefaultOptions()
	opt.Events, opt.Out, opt.State = events, out, filepath.Join(events, fixtures.AccountsPath)
	opt.Version, opt.Log = version, newLogger(stderr, *level)
	last := cfg.End()
	t0 = time.Now()
	days, done := int(last-cfg.Start), 0
	progress := func(m *pipeline.Manifest) {
		done++
		if done%30 == 0 || done == days {
			say("  backfill: %s published (%d/%d days, %.1fs)\n", m.AsOf, done, days, time.Since(t0).Seconds())
		}
	}
	if _, err := pipeline.Backfill(ctx, opt, cfg.Start, last-1, progress); err != nil {
		return err
	}
	say("Backfilled %s .. %s into %s (%.1fs).\n", cfg.Start, last-1, out, time.Since(t0).Seconds())
	opt.State = ""
	t0 = time.Now()
	if _, err := pipeline.Run(ctx, opt, last); err != nil {
		return err
	}
	say("Ran the night of %s from the published state (%.1fs).\n\n", last, time.Since(t0).Seconds())
	s, err := pipeline.Summarize(out, last)
	if err != nil {
		return err
	}
	s.WriteText(stdout)
	size, _ := dirSize(*dir)
	say("\n%s holds %.0f MiB (inputs and every published date).\n", *dir, float64(size)/(1<<20))
	say("Open the outputs with DuckDB, e.g.: SELECT grade, count(*) FROM '%s/scores.parquet' GROUP BY ALL;\n", s.Dir)
	path, err := writeReport(out, 0, 0, filepath.Join(*dir, "report.html"))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nThe report of the night and of the book: %s\n", path)
	return nil
}

// dirSize is the total size of the files under dir.
func dirSize(dir string) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	return n, err
}
