package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/policy"
)

func policyOrDefault() *policy.Policy { return policy.Default() }

func cmdPolicy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: policy check FILE | policy diff OLD NEW --state DIR [--out DIR]", pipeline.ErrUsage)
	}
	switch args[0] {
	case "check":
		fs := newFlags("policy check", stderr)
		if err := fs.Parse(args[1:]); err != nil {
			return fmt.Errorf("%w: %v", pipeline.ErrUsage, err)
		}
		if fs.NArg() != 1 {
			return fmt.Errorf("%w: policy check takes one FILE", pipeline.ErrUsage)
		}
		p, err := policy.Load(fs.Arg(0))
		var perr *policy.ProblemsError
		if errors.As(err, &perr) {
			fmt.Fprintln(stderr, err) // every problem, one per line, for the analyst
			return &checkFailed{file: fs.Arg(0), n: len(perr.Problems), err: perr}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: ok, version %s\n", fs.Arg(0), p.Version)
		return nil
	case "diff":
		fs := newFlags("policy diff", stderr)
		stateDir := fs.String("state", "", "a state/ directory written by a run: the book to apply both policies to (required)")
		out := fs.String("out", "", "also write the report as Parquet into this directory")
		// Positional OLD NEW may come before or after the flags.
		var pos []string
		rest := args[1:]
		for len(rest) > 0 {
			if err := fs.Parse(rest); err != nil {
				return fmt.Errorf("%w: %v", pipeline.ErrUsage, err)
			}
			if fs.NArg() == 0 {
				break
			}
			pos = append(pos, fs.Arg(0))
			rest = fs.Args()[1:]
		}
		if len(pos) != 2 || *stateDir == "" {
			return fmt.Errorf("%w: policy diff OLD NEW --state DIR [--out DIR]", pipeline.ErrUsage)
		}
		oldP, err1 := loadPolicy(pos[0])
		newP, err2 := loadPolicy(pos[1])
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		rep, day, err := pipeline.WhatIf(oldP, newP, *stateDir, *out, runtime.NumCPU())
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
	return fmt.Errorf("%w: unknown policy command %q", pipeline.ErrUsage, args[0])
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
