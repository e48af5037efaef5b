package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/creditrun/creditrun/pipeline"
)

// shardFlags are run's and backfill's --shards and --shard. --shard
// defaults to JOB_COMPLETION_INDEX, which a Kubernetes Indexed Job sets in
// each of its pods.
type shardFlags struct {
	shards int
	shard  string
}

// jobIndexEnv is the variable a Kubernetes Indexed Job sets to the pod's
// index.
const jobIndexEnv = "JOB_COMPLETION_INDEX"

func (s *shardFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&s.shards, "shards", 0, "close only shard --shard of this many and write its part under OUT/_shards/ for 'creditrun commit' (default: the whole book, published)")
	fs.StringVar(&s.shard, "shard", "", "the shard this run closes, 0 ≤ K < --shards (default $"+jobIndexEnv+", as a Kubernetes Indexed Job sets it)")
}

// complete sets opt.Shard from the flags and the environment.
func (s *shardFlags) complete(opt *pipeline.Options) error {
	if s.shards == 0 {
		if s.shard != "" {
			return fmt.Errorf("%w: --shard %s needs --shards", pipeline.ErrUsage, s.shard)
		}
		return nil
	}
	k, from := s.shard, "--shard"
	if k == "" {
		k, from = os.Getenv(jobIndexEnv), "$"+jobIndexEnv
	}
	if k == "" {
		return fmt.Errorf("%w: --shards %d needs --shard K (or $%s)", pipeline.ErrUsage, s.shards, jobIndexEnv)
	}
	n, err := strconv.Atoi(k)
	if err != nil {
		return fmt.Errorf("%w: %s %q: want an integer", pipeline.ErrUsage, from, k)
	}
	if s.shards < 1 || n < 0 || n >= s.shards {
		return fmt.Errorf("%w: %s %d with --shards %d: want 0 ≤ shard < shards", pipeline.ErrUsage, from, n, s.shards)
	}
	opt.Shard = pipeline.Shard{K: n, N: s.shards}
	return nil
}

func cmdCommit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("commit")
	opt := pipeline.DefaultOptions()
	fs.StringVar(&opt.Out, "out", "", "output root the shards wrote their parts in, a directory or a URL such as s3://bucket/prefix (required)")
	work := fs.String("work", "", "with --out on object storage: the local directory the parts are fetched to and the night staged in (default: a temporary directory, removed at the end)")
	shards := fs.Int("shards", 0, "how many shards the night was run in (required)")
	policyPath := fs.String("policy", "", "the shards' policy file (default: the built-in policy)")
	fs.Float64Var(&opt.MaxRejectRatio, "max-reject-ratio", opt.MaxRejectRatio, "share of rejected input rows, over the book, above which nothing is published (exit 3)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	var asOf, from, to dateFlag
	fs.Var(&asOf, "as-of", "business date to publish, YYYY-MM-DD")
	fs.Var(&from, "from", "first business date of a sharded backfill to publish, YYYY-MM-DD")
	fs.Var(&to, "to", "last business date of a sharded backfill to publish, YYYY-MM-DD")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	switch {
	case asOf.d != 0 && (from.d != 0 || to.d != 0):
		return fmt.Errorf("%w: creditrun commit: give --as-of or --from and --to, not both", pipeline.ErrUsage)
	case asOf.d != 0:
		from.d, to.d = asOf.d, asOf.d
	case from.d == 0 || to.d == 0:
		return fmt.Errorf("%w: creditrun commit: --as-of (or --from and --to) is required", pipeline.ErrUsage)
	}
	if opt.Out == "" {
		return fmt.Errorf("%w: creditrun commit: --out is required", pipeline.ErrUsage)
	}
	if *shards < 1 {
		return fmt.Errorf("%w: creditrun commit: --shards is required (at least 1)", pipeline.ErrUsage)
	}
	if _, err := parseLevel(*logLevel); err != nil {
		return err
	}
	opt.Log = newLogger(stderr, *logLevel)
	opt.Version = version
	if opt.Policy, err = loadPolicy(*policyPath); err != nil {
		return err
	}
	obj, err := openObjectOut(ctx, opt.Out, *work)
	if err != nil {
		return err
	}
	start := time.Now()
	committed := func(m *pipeline.Manifest) {
		opt.Log.Info().Str("as_of", m.AsOf).Int("shards", *shards).Int("accounts", m.Book.Accounts).Msg("committed")
	}
	published := func() error { return nil }
	if obj != nil {
		defer obj.Close()
		if err := obj.PrepareCommit(ctx, from.d, to.d); err != nil {
			return err
		}
		opt.Out = obj.Out
		ctx, committed, published = commitObjects(ctx, obj, opt.Log, committed)
	}
	ms, err := pipeline.Commit(ctx, opt, from.d, to.d, *shards, committed)
	if perr := published(); perr != nil {
		err = perr
	}
	if err != nil {
		opt.Log.Debug().Str("error", err.Error()).Msg("failure in full")
		return err
	}
	opt.Log.Info().Str("as_of", ms[len(ms)-1].AsOf).Int("days", len(ms)).Dur("took", time.Since(start)).Msg("published")
	if isTerminal(stdout) {
		s, err := pipeline.Summarize(opt.Out, to.d)
		if err != nil {
			return err
		}
		s.WriteText(stdout)
	}
	return nil
}
