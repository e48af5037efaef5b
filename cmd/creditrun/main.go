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

// Exit codes, as the data contract defines them.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitRejected = 3
)

// exitCode logs err as the run's last log line and maps it to an exit
// code. An error about one account is logged without the account's id and
// amounts (the commands log those at debug level).
func exitCode(err error, stderr io.Writer) int {
	if err == nil || errors.Is(err, errHelp) {
		return exitOK
	}
	msg := err.Error()
	var ae *billing.AccountError
	if errors.As(err, &ae) {
		msg = strings.Replace(msg, ae.Error(), ae.Redacted(), 1)
	}
	log, _ := newLogger(stderr, "info")
	log.Error().Str("error", msg).Msg("creditrun failed")
	var perr *policy.ProblemsError
	switch {
	case errors.Is(err, pipeline.ErrUsage), errors.As(err, &perr):
		return exitUsage
	case errors.Is(err, pipeline.ErrTooManyRejects):
		return exitRejected
	}
	return exitFailed
}
