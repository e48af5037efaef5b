// Command creditrun runs the nightly batch of a revolving "buy now, pay
// later" credit line: statements, installments, overdue, collections notices,
// scoring and limits, from Parquet to Parquet. See the README.
package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/policy"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	pqfile.SetVersion(version)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// Exit codes. 0, 2 and 3 are the data contract's; 1 splits into what a
// retry cannot fix (1), a book that is behind (4) and what may pass on its
// own (75, sysexits' EX_TEMPFAIL).
const (
	exitOK        = 0
	exitFailed    = 1
	exitUsage     = 2
	exitRejected  = 3
	exitBehind    = 4
	exitTemporary = 75
)

// codeOf maps a kind of failure to its exit code.
func codeOf(k pipeline.Kind) int {
	switch k {
	case "":
		return exitOK
	case pipeline.KindUsage, pipeline.KindPolicy:
		return exitUsage
	case pipeline.KindTooManyRejects:
		return exitRejected
	case pipeline.KindNoState:
		return exitBehind
	}
	if k.Retryable() {
		return exitTemporary
	}
	return exitFailed
}

// kindOf classifies err: the pipeline's kinds, and an invalid policy file.
func kindOf(err error) pipeline.Kind {
	var perr *policy.ProblemsError
	if errors.As(err, &perr) {
		return pipeline.KindPolicy
	}
	return pipeline.Classify(err)
}

// hinted is an error with the command that fixes it.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() + ": run `" + h.hint + "`" }
func (h *hinted) Unwrap() error { return h.err }

// exitCode logs err as the run's last log line, one JSON object with a
// stable kind, whether a retry may help, the exit code and any hint, and
// returns the exit code. An error about one account is logged without the
// account's id and amounts (the commands log those at debug level).
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	kind := kindOf(err)
	code := codeOf(kind)
	msg := err.Error()
	if kind == pipeline.KindInterrupted {
		msg = "interrupted (a signal or a deadline): the night in progress published nothing, the dates published before it stand; " + msg
	}
	var ae *billing.AccountError
	if errors.As(err, &ae) {
		msg = strings.Replace(msg, ae.Error(), ae.Redacted(), 1)
	}
	log := newLogger(stderr, "info")
	ev := log.Error().Str("kind", string(kind)).Bool("retryable", kind.Retryable()).
		Int("exit_code", code).Str("error", msg)
	var h *hinted
	if errors.As(err, &h) {
		ev = ev.Str("hint", h.hint)
	}
	ev.Msg("creditrun failed")
	return code
}
