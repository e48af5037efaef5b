package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/policy"
	"github.com/creditrun/creditrun/storage"
)

// errHelp is returned once a usage text was printed on request (exit 0).
var errHelp = errors.New("help shown")

// command is one of creditrun's commands.
type command struct {
	name    string // "run", "policy check"
	args    string // its synopsis after the name
	summary string // one line
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands lists every command, in the order usage shows them.
var commands []command

func init() {
	commands = []command{
		{"run", "--as-of D --events DIR --out DIR|URL [--work DIR] [--state DIR] [--policy FILE] [--shards N [--shard K]]",
			"close one business date and publish OUT/as_of=D/ (with --shards: write shard K's part of it)", cmdRun},
		{"backfill", "(--from D1 | --catch-up) --to D2 --events DIR --out DIR|URL [--work DIR] [--state DIR] [--policy FILE] [--state-every N] [--shards N [--shard K]]",
			"close every date D1..D2 in one process, as chained runs would (with --shards: shard K's parts)", cmdBackfill},
		{"commit", "(--as-of D | --from D1 --to D2) --out DIR|URL [--work DIR] --shards N [--policy FILE]",
			"publish sharded dates from the parts of their N shards, after checking they belong together", cmdCommit},
		{"gc", "--out URL [--keep-runs N] [--older-than DUR]",
			"remove from an output root on object storage the runs no kept commit names", cmdGC},
		{"gen", "--accounts N --days N --start D --seed S --out DIR",
			"generate a synthetic book of inputs", cmdGen},
		{"demo", "[--dir DIR] [--accounts N] [--days N]",
			"generate a sample book, backfill it, run its last night, print a summary", cmdDemo},
		reportCommand,
		{"policy check", "FILE", "validate a policy file strictly, every problem with its line", cmdPolicyCheck},
		{"policy diff", "OLD NEW --state DIR [--out DIR]", "what-if: both policies on the same book", cmdPolicyDiff},
		{"policy show", "", "print the built-in policy (a starting point for your own)", cmdPolicyShow},
		{"fit", "--out DIR --date D --write FILE [--window N --bad-dpd N | --labels FILE] [--policy FILE]",
			"fit a points scorecard on a book's scores and outcomes, write it as a policy", cmdFit},
		{"backtest", "--out DIR --date D [--policy FILE] [--window N --bad-dpd N | --labels FILE]",
			"AUC, KS, bad rate by grade and PSI of a policy's scorecard on a book", cmdBacktest},
		{"pmml import", "FILE.pmml [--policy FILE] [--out FILE]",
			"convert a PMML 4.4 Scorecard into a policy file", cmdPMMLImport},
		{"pmml export", "[--policy FILE] [--out FILE]", "write a policy's scorecard as a PMML 4.4 Scorecard", cmdPMMLExport},
		{"version", "", "print the version", cmdVersion},
	}
}

func usage() string {
	var b strings.Builder
	b.WriteString(`creditrun — the nightly batch of a revolving "buy now, pay later" credit line

Usage:
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "  creditrun %-13s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Run 'creditrun help COMMAND' or 'creditrun COMMAND -h' for a command's flags.
Inputs (--events, a first run's --state, --policy) may be on object storage:
s3://bucket/prefix (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL,
AWS_S3_USE_PATH_STYLE=true or ?use_path_style=true for on-premise stores), file://, and gs:// or
azblob:// in a build with -tags gcs or -tags azure. Output (--out) is a local directory or such
a URL: on object storage a night is staged in --work, uploaded under OUT/as_of=D/run=ID/ and
published by a numbered commit pointer, OUT/as_of=D/_commits/NNNNNN.json; readers take the highest; 'creditrun gc' removes old runs.
Exit status: 0 published; 1 failed, retry will not help; 2 bad usage or policy file;
3 input rejected beyond --max-reject-ratio; 4 behind, catch up with backfill;
75 temporary (input not landed, output locked or committed by another run at once, I/O,
a shard's part not written), retry later.
`)
	return b.String()
}

// run is the whole program but for the process: it parses args, does the
// work and returns an error that main maps to an exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", pipeline.ErrInternal, r)
		}
	}()
	if len(args) == 0 {
		fmt.Fprint(stderr, usage())
		return fmt.Errorf("%w: no command", pipeline.ErrUsage)
	}
	switch args[0] {
	case "-h", "-help", "--help":
		fmt.Fprint(stdout, usage())
		return errHelp
	case "--version", "-version":
		return cmdVersion(ctx, nil, stdout, stderr)
	case "help":
		if len(args) == 1 {
			fmt.Fprint(stdout, usage())
			return errHelp
		}
		if subs := subcommands(args[1]); len(subs) > 0 && len(args) == 2 {
			for _, c := range commands {
				if strings.HasPrefix(c.name, args[1]+" ") {
					fmt.Fprintf(stdout, "  creditrun %-13s %s\n", c.name, c.summary)
				}
			}
			return errHelp
		}
		c, _, err := find(args[1:])
		if err != nil {
			return err
		}
		return c.run(ctx, []string{"-h"}, stdout, stderr)
	}
	c, rest, err := find(args)
	if err != nil {
		return err
	}
	return c.run(ctx, rest, stdout, stderr)
}

// find returns the command args start with, and the arguments after its
// name. An unknown name is a usage error that suggests the nearest.
func find(args []string) (*command, []string, error) {
	for i := range commands {
		c := &commands[i]
		words := strings.Fields(c.name)
		if len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):], nil
		}
	}
	name := args[0]
	if subs := subcommands(name); len(subs) > 0 {
		if len(args) == 1 {
			return nil, nil, fmt.Errorf("%w: %s needs a subcommand: %s", pipeline.ErrUsage, name, strings.Join(subs, ", "))
		}
		name += " " + args[1]
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := nearest(name); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return nil, nil, fmt.Errorf("%w: %s (creditrun help lists the commands)", pipeline.ErrUsage, msg)
}

// subcommands returns the second words of the commands whose first word is
// name, when it names a group of commands (policy, pmml).
func subcommands(name string) []string {
	var subs []string
	for _, c := range commands {
		if first, second, ok := strings.Cut(c.name, " "); ok && first == name {
			subs = append(subs, second)
		}
	}
	return subs
}

// nearest returns the command name closest to s, if it is close enough to
// be a misspelling of it.
func nearest(s string) string {
	best, bestD := "", 3
	for _, c := range commands {
		if d := editDistance(s, c.name); d < bestD {
			best, bestD = c.name, d
		}
		if first, _, ok := strings.Cut(c.name, " "); ok {
			if d := editDistance(s, first); d < bestD {
				best, bestD = first, d
			}
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// newFlags returns the flag set of command name; parse prints its usage.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse prints usage where it belongs
	return fs
}

// commandUsage is the usage text of command name with the flags of fs.
func commandUsage(name string, fs *flag.FlagSet) string {
	var b strings.Builder
	for _, c := range commands {
		if c.name == name {
			fmt.Fprintf(&b, "Usage: creditrun %s %s\n\n%s.\n", c.name, c.args, strings.ToUpper(c.summary[:1])+c.summary[1:])
		}
	}
	has := false
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		b.WriteString("\nFlags:\n")
		fs.SetOutput(&b)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return b.String()
}

// parse parses a command's flags, allowing positional arguments between
// them; it returns the positional ones. -h prints the usage on stdout
// (errHelp, exit 0); a bad flag prints it on stderr (a usage error).
func parse(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(stdout, commandUsage(fs.Name(), fs))
				return nil, errHelp
			}
			fmt.Fprint(stderr, commandUsage(fs.Name(), fs))
			return nil, fmt.Errorf("%w: creditrun %s: %v", pipeline.ErrUsage, fs.Name(), err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// noArgs fails on positional arguments.
func noArgs(fs *flag.FlagSet, pos []string) error {
	if len(pos) > 0 {
		return fmt.Errorf("%w: creditrun %s: unexpected argument %q", pipeline.ErrUsage, fs.Name(), pos[0])
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

// isTerminal reports whether w is a terminal: a device that answers a
// terminal's ioctl, not any character device (a scheduler's /dev/null is
// one, and must not get the summary a person would read).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// parseLevel checks a --log-level.
func parseLevel(level string) (zerolog.Level, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || level == "" {
		return 0, fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", pipeline.ErrUsage, level)
	}
	return lvl, nil
}

// newLogger logs JSON lines to stderr, or readable lines on a terminal.
// level must have been checked with parseLevel.
func newLogger(stderr io.Writer, level string) zerolog.Logger {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		lvl = zerolog.InfoLevel
	}
	w := stderr
	if isTerminal(stderr) {
		w = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly}
	}
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger()
}

// loadPolicy loads the policy file at path, or the built-in policy when
// path is empty. An unreadable file is a usage error; an invalid one a
// *policy.ProblemsError.
func loadPolicy(path string) (*policy.Policy, error) {
	if path == "" {
		return policy.Default(), nil
	}
	var p *policy.Policy
	var err error
	if source.IsURL(path) {
		p, err = loadRemotePolicy(context.Background(), path)
	} else {
		p, err = policy.Load(path)
	}
	var perr *policy.ProblemsError
	if err != nil && !errors.As(err, &perr) {
		if storage.IsTransient(err) {
			return nil, fmt.Errorf("--policy %s: %w", path, err) // the store may answer later
		}
		return nil, fmt.Errorf("%w: --policy %s: %w", pipeline.ErrUsage, path, err)
	}
	return p, err
}

func cmdVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stdout, "Usage: creditrun version\n\nPrint the version.\n")
		return errHelp
	}
	fmt.Fprintln(stdout, "creditrun", version)
	return nil
}
