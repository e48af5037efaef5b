package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/policy"
	"github.com/creditrun/creditrun/storage"
)

func cmdPolicyCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy check")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: creditrun policy check takes one FILE", pipeline.ErrUsage)
	}
	var p *policy.Policy
	if source.IsURL(pos[0]) {
		p, err = loadRemotePolicy(ctx, pos[0])
	} else {
		p, err = policy.Load(pos[0])
	}
	var perr *policy.ProblemsError
	if errors.As(err, &perr) {
		fmt.Fprintln(stderr, err) // every problem, one per line, for the analyst
		return &checkFailed{file: pos[0], n: len(perr.Problems), err: perr}
	}
	if err != nil {
		if storage.IsTransient(err) {
			return err // the store may answer later: retryable, not a bad file
		}
		return fmt.Errorf("%w: %w", pipeline.ErrUsage, err)
	}
	fmt.Fprintf(stdout, "%s: ok, version %s\n", pos[0], p.Version)
	return nil
}

func cmdPolicyDiff(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy diff")
	stateDir := fs.String("state", "", "a state/ directory written by a run: the book to apply both policies to (required)")
	out := fs.String("out", "", "also write the report as Parquet into this directory")
	opt := pipeline.DefaultOptions()
	fs.IntVar(&opt.Workers, "workers", opt.Workers, "buckets processed at once")
	fs.IntVar(&opt.BucketSize, "bucket-size", opt.BucketSize, "accounts per bucket: memory is about workers × bucket size")
	pos, err := parse(fs, args, stdout, stderr) // OLD NEW may come before or after the flags
	if err != nil {
		return err
	}
	if len(pos) != 2 || *stateDir == "" {
		return fmt.Errorf("%w: creditrun policy diff OLD NEW --state DIR [--out DIR]", pipeline.ErrUsage)
	}
	oldP, err1 := loadPolicy(pos[0])
	newP, err2 := loadPolicy(pos[1])
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	rep, day, err := pipeline.WhatIf(ctx, oldP, newP, *stateDir, *out, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "What-if on the book as of %s (%s)\n", day, *stateDir)
	if err := rep.WriteText(stdout); err != nil {
		return err
	}
	if *out != "" {
		fmt.Fprintf(stdout, "\nReport written to %s/{grade_migration,limit_actions,changes}.parquet\n", *out)
	}
	return nil
}

func cmdPolicyShow(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("policy show")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	_, err = stdout.Write(policy.DefaultYAML())
	return err
}

// checkFailed is the short log line of a policy check whose problems were
// listed already.
type checkFailed struct {
	file string
	n    int
	err  *policy.ProblemsError
}

func (e *checkFailed) Error() string {
	return fmt.Sprintf("%s: %d problem(s), listed above", e.file, e.n)
}

func (e *checkFailed) Unwrap() error { return e.err }
