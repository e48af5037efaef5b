package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/objout"
	"github.com/creditrun/creditrun/pipeline/source"
)

// An output root on object storage (pipeline.ObjectOut): a night runs in
// a local staging directory, which --work names, and each date it
// publishes there is uploaded and committed.

// openObjectOut opens out when it is a URL (nil, nil when it is a local
// directory, where --work means nothing).
func openObjectOut(ctx context.Context, out, work string) (*pipeline.ObjectOut, error) {
	if !source.IsURL(out) {
		if work != "" {
			return nil, fmt.Errorf("%w: --work %s: only an output on object storage is staged; --out %s is a local directory", pipeline.ErrUsage, work, out)
		}
		return nil, nil
	}
	return pipeline.OpenObjectOut(ctx, out, work)
}

// openObject opens the run's output root when it is on object storage:
// from then on opt.Out is the staging's local output root.
func (rf *runFlags) openObject(ctx context.Context) error {
	if rf.obj != nil {
		return nil
	}
	obj, err := openObjectOut(ctx, rf.opt.Out, rf.work)
	if err != nil || obj == nil {
		return err
	}
	rf.obj = obj
	rf.opt.Out = obj.Out
	return nil
}

func (rf *runFlags) closeObject() {
	if rf.obj != nil {
		rf.obj.Close()
	}
}

// outName is the output root as given.
func (rf *runFlags) outName() string {
	if rf.obj != nil {
		return rf.obj.URL
	}
	return rf.opt.Out
}

// lastStateBefore is the latest date before day published with its state
// (0 if none).
func (rf *runFlags) lastStateBefore(ctx context.Context, day billing.Date) (billing.Date, error) {
	if !source.IsURL(rf.opt.Out) {
		return pipeline.LastStateBefore(rf.opt.Out, day), nil
	}
	if err := rf.openObject(ctx); err != nil {
		return 0, err
	}
	return rf.obj.LastStateBefore(ctx, day)
}

// publishing prepares a run of from..to on object storage: it fetches what
// the run reads from the store and returns a progress that uploads and
// commits each date (a shard's part) as the run publishes it in the
// staging (see uploading). Locally it changes nothing.
func (rf *runFlags) publishing(ctx context.Context, from, to billing.Date, progress func(*pipeline.Manifest)) (
	context.Context, func(*pipeline.Manifest), func() error, error) {
	obj := rf.obj
	if obj == nil {
		return ctx, progress, func() error { return nil }, nil
	}
	t0 := time.Now()
	if err := obj.PrepareRun(ctx, from, to, rf.opt.State == "", rf.opt.Shard); err != nil {
		return ctx, progress, nil, err
	}
	rf.opt.Log.Info().Str("stage", "fetch").Str("from", obj.URL).Int("objects_downloaded", obj.Downloaded.Objects).
		Int64("bytes_downloaded", obj.Downloaded.Bytes).Dur("took", time.Since(t0)).Msg("stage done")
	ctx, each, done := uploading(ctx, func(ctx context.Context, day billing.Date) error {
		t0 := time.Now()
		var err error
		if rf.opt.Shard.Sharded() {
			_, err = obj.PublishPart(ctx, day, rf.opt.Shard)
		} else {
			_, err = obj.PublishDay(ctx, day)
		}
		rf.opt.Log.Info().Str("stage", "upload").Str("as_of", day.String()).Str("to", obj.URL).
			Int("objects_uploaded", obj.Uploaded.Objects).Int64("bytes_uploaded", obj.Uploaded.Bytes).Dur("took", time.Since(t0)).Msg("stage done")
		return err
	}, progress)
	return ctx, each, done, nil
}

// commitObjects returns a progress for the commit of a sharded night on
// object storage: each date the commit publishes in the staging is
// uploaded and committed, then its parts are removed from the store (GC
// removes them if that fails).
func commitObjects(ctx context.Context, obj *pipeline.ObjectOut, log zerolog.Logger, progress func(*pipeline.Manifest)) (
	context.Context, func(*pipeline.Manifest), func() error) {
	return uploading(ctx, func(ctx context.Context, day billing.Date) error {
		if _, err := obj.PublishDay(ctx, day); err != nil {
			return err
		}
		if err := obj.RemoveParts(ctx, day); err != nil {
			log.Warn().Str("as_of", day.String()).Str("error", err.Error()).Msg("parts left for gc")
		}
		return nil
	}, progress)
}

// uploading returns a progress that runs publish for each date a run
// publishes in its staging, then progress (if not nil). A failed publish
// cancels the returned context, so that no later date runs, and done
// returns it.
func uploading(ctx context.Context, publish func(context.Context, billing.Date) error, progress func(*pipeline.Manifest)) (
	context.Context, func(*pipeline.Manifest), func() error) {
	ctx, cancel := context.WithCancel(ctx)
	var failed error
	each := func(m *pipeline.Manifest) {
		if failed != nil {
			return
		}
		day, err := billing.ParseDate(m.AsOf)
		if err == nil {
			err = publish(ctx, day)
		}
		if err != nil {
			failed = fmt.Errorf("as_of %s: %w", m.AsOf, err)
			cancel()
			return
		}
		if progress != nil {
			progress(m)
		}
	}
	return ctx, each, func() error { cancel(); return failed }
}

// fetch sets o.local to a local output root holding the book: --out
// itself, or, on object storage, a staging that every published date is
// fetched to, with its state (the outcomes read the state of the window's
// ends).
func (o *outcomeFlags) fetch(ctx context.Context) error {
	if o.local != "" {
		return nil
	}
	obj, err := openObjectOut(ctx, o.out, "")
	if err != nil {
		return err
	}
	if obj == nil {
		o.local = o.out
		return nil
	}
	o.obj = obj
	if err := obj.FetchPublished(ctx, 0, 0); err != nil {
		return err
	}
	o.local = obj.Out
	return nil
}

func (o *outcomeFlags) close() {
	if o.obj != nil {
		o.obj.Close()
	}
}

// objectReport writes the report of the dates from..to published on
// object storage at out, from the publications their commits name, to
// path, or to OUT/report_FROM_TO.html on the store; it returns where.
func objectReport(ctx context.Context, out string, from, to billing.Date, path string) (string, error) {
	obj, err := pipeline.OpenObjectOut(ctx, out, "")
	if err != nil {
		return "", err
	}
	defer obj.Close()
	if err := obj.FetchReport(ctx, from, to); err != nil {
		return "", err
	}
	name, data, err := renderReport(obj.Out, out, from, to)
	if err != nil {
		return "", err
	}
	if path != "" {
		return path, writeAside(path, data)
	}
	root := obj.Store().Root()
	return root.URL(name), root.WriteFile(ctx, name, data)
}

func cmdGC(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gc")
	out := fs.String("out", "", "output root on object storage, a URL such as s3://bucket/prefix (required)")
	keep := fs.Int("keep-runs", 1, "how many of each date's latest commits keep their runs (at least 1: the latest is never removed)")
	older := fs.Duration("older-than", time.Hour, "remove a run only once a later commit superseded it this long ago or, never committed, it was last written this long ago: longer than any run takes from its last upload to its commit")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	switch {
	case *out == "":
		return fmt.Errorf("%w: creditrun gc: --out is required", pipeline.ErrUsage)
	case !source.IsURL(*out):
		return fmt.Errorf("%w: creditrun gc: --out %s is a local directory, which publishes by rename and leaves nothing to collect", pipeline.ErrUsage, *out)
	case *keep < 1:
		return fmt.Errorf("%w: creditrun gc: --keep-runs %d: want at least 1 (the latest commit is never removed)", pipeline.ErrUsage, *keep)
	case *older < 0:
		return fmt.Errorf("%w: creditrun gc: --older-than %s: want a duration ≥ 0", pipeline.ErrUsage, *older)
	}
	if _, err := parseLevel(*logLevel); err != nil {
		return err
	}
	log := newLogger(stderr, *logLevel)
	obj, err := pipeline.OpenObjectOut(ctx, *out, "")
	if err != nil {
		return err
	}
	defer obj.Close()
	start := time.Now()
	st, err := obj.GC(ctx, objout.GCOptions{KeepRuns: *keep, OlderThan: *older, Now: start})
	log.Info().Str("out", *out).Int("pointers", st.Pointers).Int("runs", st.Runs).Int("objects", st.Objects).
		Int64("bytes", st.Bytes).Dur("took", time.Since(start)).Msg("gc done")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Removed %d runs (%d objects, %d bytes) and %d commit pointers from %s.\n", st.Runs, st.Objects, st.Bytes, st.Pointers, *out)
	return nil
}
