package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/policy"
	"github.com/creditrun/creditrun/scoring"
	"github.com/creditrun/creditrun/scoring/fit"
	"github.com/creditrun/creditrun/scoring/pmml"
)

// outcomeFlags are the flags fit and backtest share: the book, the
// observation date and what "bad" means.
type outcomeFlags struct {
	out    string
	local  string              // the local output root read: out, or where its publications were fetched
	obj    *pipeline.ObjectOut // out on object storage
	date   dateFlag
	opt    pipeline.OutcomeOptions
	policy string
	json   string
	badDPD int
}

func (o *outcomeFlags) register(fs *flag.FlagSet, policyHelp string) {
	fs.StringVar(&o.out, "out", "", "output root of a book, a directory or a URL such as s3://bucket/prefix (required): its published dates are read")
	fs.Var(&o.date, "date", "observation date: the accounts scored on it, with their features (required)")
	fs.IntVar(&o.opt.Window, "window", 180, "days after --date over which the outcome is followed (each must be published)")
	fs.IntVar(&o.badDPD, "bad-dpd", 90, "bad: this many days past due or more, or charged off, within the window")
	fs.StringVar(&o.opt.Labels, "labels", "", "outcome from a file (Parquet or CSV: account_id, bad) instead of the book")
	fs.StringVar(&o.policy, "policy", "", policyHelp)
	fs.StringVar(&o.json, "report-json", "", "also write the report as JSON to this file")
}

func (o *outcomeFlags) sample(ctx context.Context, name string) (*pipeline.Sample, error) {
	if o.out == "" || o.date.d == 0 {
		return nil, fmt.Errorf("%w: creditrun %s: --out and --date are required", pipeline.ErrUsage, name)
	}
	if o.badDPD < 1 || o.badDPD > 10000 {
		return nil, fmt.Errorf("%w: creditrun %s: --bad-dpd %d: want 1..10000", pipeline.ErrUsage, name, o.badDPD)
	}
	o.opt.BadDPD = int32(o.badDPD)
	if err := o.fetch(ctx); err != nil {
		return nil, err
	}
	return pipeline.LoadSample(o.local, o.date.d, o.opt)
}

func fitSample(s *pipeline.Sample) fit.Sample {
	return fit.Sample{IDs: s.IDs(), Features: s.Features, Bad: s.Bad}
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func describeSample(w io.Writer, s *pipeline.Sample, o *outcomeFlags) {
	fmt.Fprintf(w, "Book %s, observation date %s; outcome: %s\n", o.out, s.Day, s.Outcome)
	if s.AlreadyBad > 0 {
		fmt.Fprintf(w, "%d scored accounts already bad on %s are left out\n", s.AlreadyBad, s.Day)
	}
	if s.Unlabelled > 0 {
		fmt.Fprintf(w, "%d scored accounts without a label are left out\n", s.Unlabelled)
	}
}

func cmdFit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("fit")
	var of outcomeFlags
	defer of.close()
	of.register(fs, "current policy: its scaling, grades (names and target shares), reason codes, other sections, and the start bins (default: the built-in policy)")
	opt := fit.DefaultOptions()
	write := fs.String("write", "", "write the fitted policy to this file (required)")
	bins := fs.String("bins", "fine", "start of the binning: fine (quantile fine classes) or policy (the current policy's bins)")
	features := fs.String("features", "all", "candidate features: all (every feature of the scores table), current (those of the current scorecard) or a comma-separated list")
	fs.Float64Var(&opt.Holdout, "holdout", opt.Holdout, "share of accounts held out of the fit to measure it")
	fs.Uint64Var(&opt.Seed, "seed", opt.Seed, "seed of the holdout split: same seed, same fit")
	fs.Float64Var(&opt.MinBinShare, "min-bin-share", opt.MinBinShare, "share of the fitting accounts every bin needs")
	fs.IntVar(&opt.FineBins, "fine-bins", opt.FineBins, "quantile fine classes per characteristic")
	fs.IntVar(&opt.MaxBins, "max-bins", opt.MaxBins, "coarse classes per characteristic at most (the missing bin aside)")
	fs.Float64Var(&opt.MinIV, "min-iv", opt.MinIV, "drop a characteristic whose information value is below this")
	fs.StringVar(&opt.Method, "method", opt.Method, "how the points are fitted: additive (each bin's log-odds given the other characteristics) or woe (a regression on each characteristic's weight of evidence)")
	fs.Float64Var(&opt.Ridge, "ridge", opt.Ridge, "additive: penalty on each fine class's log-odds, in bads' worth of information")
	fs.Float64Var(&opt.L2, "l2", opt.L2, "woe: ridge penalty of the regression")
	var ootDate dateFlag
	fs.Var(&ootDate, "oot-date", "also measure the fitted scorecard and the plain regression out of time, on the accounts scored on this later date")
	ootWindow := fs.Int("oot-window", 0, "outcome window of --oot-date (default: --window)")
	fs.StringVar(&opt.Name, "name", "", "name of the fitted scorecard (default: the current one's with -fit-DATE)")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if *write == "" {
		return fmt.Errorf("%w: creditrun fit: --write FILE is required", pipeline.ErrUsage)
	}
	switch *bins {
	case "fine":
	case "policy":
		opt.StartBins = true
	default:
		return fmt.Errorf("%w: creditrun fit: --bins %q: want fine or policy", pipeline.ErrUsage, *bins)
	}
	switch *features {
	case "current":
	case "all":
		opt.Features = append(opt.Features, scoringNumFeatures()...)
	default:
		for _, f := range strings.Split(*features, ",") {
			opt.Features = append(opt.Features, strings.TrimSpace(f))
		}
	}
	base, err := loadPolicy(of.policy)
	if err != nil {
		return err
	}
	if opt.Name == "" {
		opt.Name = base.Scoring.Scorecard.Name + "-fit-" + of.date.d.String()
	}
	t0 := time.Now()
	s, err := of.sample(ctx, "fit")
	if err != nil {
		return err
	}
	loaded := time.Since(t0)
	t1 := time.Now()
	res, err := fit.Fit(&base.Scoring, fitSample(s), opt)
	if err != nil {
		return fmt.Errorf("%w: creditrun fit: %w", pipeline.ErrUsage, err)
	}
	fitted := time.Since(t1)
	if ootDate.d != 0 {
		oo := of
		oo.date = ootDate
		if *ootWindow > 0 {
			oo.opt.Window = *ootWindow
		}
		later, err := oo.sample(ctx, "fit")
		if err != nil {
			return fmt.Errorf("out-of-time sample: %w", err)
		}
		res.OutOfTime(fitSample(later))
	}
	policyOut := *base
	policyOut.Scoring = res.Config
	r := &res.Report
	comment := fmt.Sprintf(`Fitted by creditrun fit on %s, observation date %s (%d accounts, %d bad).
Outcome: %s.
Start: %s; scaling, limits, billing and the other sections from %s.
AUC %.3f in sample, %.3f on the %d held-out accounts (seed %d).
The monitoring baseline is this scorecard's distribution on that book.`,
		of.out, s.Day, r.Accounts, r.Bads, s.Outcome, *bins, base.Source, r.InSample.AUC, r.OnHoldout.AUC, r.Holdout, opt.Seed)
	data := policy.Marshal(&policyOut, comment)
	if _, err := policy.Parse(*write, data); err != nil {
		return fmt.Errorf("%w: the fitted policy does not parse back: %w", pipeline.ErrInternal, err)
	}
	if err := os.WriteFile(*write, data, 0o644); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	describeSample(stdout, s, &of)
	if err := r.WriteText(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nPolicy written to %s (read %s, fitted in %s)\n", *write,
		loaded.Round(time.Millisecond), fitted.Round(time.Millisecond))
	if of.json != "" {
		return writeJSON(of.json, struct {
			Date    string      `json:"date"`
			Outcome string      `json:"outcome"`
			Left    int         `json:"already_bad_left_out"`
			Report  *fit.Report `json:"report"`
		}{s.Day.String(), s.Outcome, s.AlreadyBad, r})
	}
	return nil
}

func cmdBacktest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backtest")
	var of outcomeFlags
	defer of.close()
	of.register(fs, "policy whose scorecard is tested (default: the built-in policy)")
	var baseDate dateFlag
	fs.Var(&baseDate, "baseline-date", "take the PSI against the policy's distribution on this date's scores (default: the policy's monitoring.baseline)")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	p, err := loadPolicy(of.policy)
	if err != nil {
		return err
	}
	s, err := of.sample(ctx, "backtest")
	if err != nil {
		return err
	}
	baseline := p.Scoring.BaselineDistribution()
	if baseDate.d != 0 {
		rows, cycles, err := pipeline.ReadScores(of.local, baseDate.d)
		if err != nil {
			return err
		}
		baseline = p.Scoring.NewDistribution()
		for i := range rows {
			f, err := rows[i].Features(&cycles[i])
			if err != nil {
				return fmt.Errorf("%w: scores of %s row %d: %w", pipeline.ErrBadInput, baseDate.d, i, err)
			}
			r := p.Scoring.Score(&f)
			baseline.Add(&f, &r)
		}
	}
	bt := fit.RunBacktest(&p.Scoring, fitSample(s), baseline)
	fmt.Fprintf(stdout, "Policy %s (version %s, scorecard %s)\n", p.Source, p.Version, p.Scoring.Scorecard.Name)
	describeSample(stdout, s, &of)
	if err := bt.WriteText(stdout); err != nil {
		return err
	}
	if of.json != "" {
		return writeJSON(of.json, struct {
			Policy   string        `json:"policy_version"`
			Date     string        `json:"date"`
			Outcome  string        `json:"outcome"`
			Left     int           `json:"already_bad_left_out"`
			Backtest *fit.Backtest `json:"backtest"`
		}{p.Version, s.Day.String(), s.Outcome, s.AlreadyBad, bt})
	}
	return nil
}

// scoringNumFeatures returns every feature's name.
func scoringNumFeatures() []string {
	var names []string
	for id := range scoring.NumFeatures {
		names = append(names, id.String())
	}
	return names
}

func cmdPMMLImport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("pmml import")
	basePath := fs.String("policy", "", "policy whose other sections (scaling, grades, limits, billing…) the scorecard is placed onto (default: the built-in policy)")
	out := fs.String("out", "", "write the policy to this file instead of stdout")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: creditrun pmml import takes one FILE.pmml", pipeline.ErrUsage)
	}
	base, err := loadPolicy(*basePath)
	if err != nil {
		return err
	}
	f, err := os.Open(pos[0])
	if err != nil {
		return fmt.Errorf("%w: %w", pipeline.ErrUsage, err)
	}
	defer f.Close()
	cfg, notes, err := pmml.Import(f, &base.Scoring)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", pipeline.ErrUsage, pos[0], err)
	}
	p := *base
	p.Scoring = cfg
	comment := fmt.Sprintf("Scorecard %s imported from %s by creditrun pmml import;\nthe other sections are those of %s.", cfg.Scorecard.Name, pos[0], base.Source)
	for _, n := range notes {
		comment += "\nNote: " + n + "."
	}
	data := policy.Marshal(&p, comment)
	if _, err := policy.Parse("imported", data); err != nil {
		return fmt.Errorf("%w: the imported policy does not parse back: %w", pipeline.ErrInternal, err)
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}
	if *out == "" {
		_, err = stdout.Write(data)
		return err
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return fmt.Errorf("write policy: %w", err)
	}
	return nil
}

func cmdPMMLExport(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("pmml export")
	path := fs.String("policy", "", "policy whose scorecard is exported (default: the built-in policy)")
	out := fs.String("out", "", "write the PMML to this file instead of stdout")
	pos, err := parse(fs, args, stdout, stderr)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	p, err := loadPolicy(*path)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := pmml.Export(&b, &p.Scoring); err != nil {
		return err
	}
	if *out == "" {
		_, err = io.WriteString(stdout, b.String())
		return err
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write PMML: %w", err)
	}
	return nil
}
