package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"syscall"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/objout"
	"github.com/creditrun/creditrun/pipeline/source"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/storage"
)

// Sentinel errors. Every error a run returns wraps one of them or one of
// the typed errors below, so that Classify can tell a scheduler what to do.
var (
	// ErrUsage is a bad command line or option.
	ErrUsage = errors.New("bad usage")
	// ErrNoState means the state the run starts from is not published.
	ErrNoState = errors.New("missing state")
	// ErrBadInput is input that cannot be used at all: unreadable, not
	// Parquet, a schema the contract does not allow, a bad master row.
	ErrBadInput = errors.New("bad input")
	// ErrInputMissing means an input the day needs has not landed yet.
	ErrInputMissing = errors.New("input not landed")
	// ErrTooManyRejects means more rows were rejected than allowed.
	ErrTooManyRejects = errors.New("too many rejected rows")
	// ErrLocked means another run holds the output's lock.
	ErrLocked = errors.New("output locked")
	// ErrPolicyChanged means the run's policy is not the one the state was
	// written under, and the change was not declared (Options.PolicyChange).
	ErrPolicyChanged = errors.New("policy changed")
	// ErrShardsMissing means a part of a sharded night is not written yet:
	// its shard has not finished (or failed, and runs again).
	ErrShardsMissing = errors.New("shards missing")
	// ErrPartsDisagree means the parts of a sharded night do not belong
	// together: other inputs, another policy, another start state, another
	// shard count, or a book they do not add up to.
	ErrPartsDisagree = errors.New("parts disagree")
	// ErrInternal is a bug: a panic turned into an error.
	ErrInternal = errors.New("internal error")
)

// NoStateError says that the run for Day has no state to start from.
// Last is the latest date before Day published with its state (0 if
// none): a backfill from Last+1 to Day catches up. NotKept says that
// Day−1 is published, but by a backfill that did not keep its state
// (--state-every).
type NoStateError struct {
	Day     billing.Date
	Last    billing.Date
	Out     string
	NotKept bool
}

func (e *NoStateError) Error() string {
	if e.NotKept {
		if e.Last == 0 {
			return fmt.Sprintf("no state as of %s in %s: that date was published without its state (backfill --state-every), and no earlier date kept its state: backfill again from the first date and its accounts master (--state)", e.Day-1, e.Out)
		}
		return fmt.Sprintf("no state as of %s in %s: that date was published without its state (backfill --state-every); the latest date before %s with its state is %s", e.Day-1, e.Out, e.Day, e.Last)
	}
	if e.Last == 0 {
		return fmt.Sprintf("no state as of %s in %s, and no earlier date is published there: a first run starts from the accounts master (--state)", e.Day-1, e.Out)
	}
	return fmt.Sprintf("no state as of %s in %s; the latest date published before %s is %s", e.Day-1, e.Out, e.Day, e.Last)
}

func (e *NoStateError) Unwrap() error { return ErrNoState }

// Kind is the stable name of a class of failure: the last log line of a
// failed run carries it, and it decides whether a retry can help.
type Kind string

// The kinds of failure.
const (
	KindUsage          Kind = "usage"
	KindPolicy         Kind = "policy_invalid"
	KindNoState        Kind = "no_state"
	KindLocked         Kind = "locked"
	KindNotLanded      Kind = "input_not_landed"
	KindBadInput       Kind = "bad_input"
	KindBadState       Kind = "bad_state"
	KindInvariant      Kind = "invariant_broken"
	KindTooManyRejects Kind = "too_many_rejects"
	KindIO             Kind = "io"
	KindInterrupted    Kind = "interrupted"
	KindShardsMissing  Kind = "shards_missing"
	KindPartsDisagree  Kind = "parts_disagree"
	KindInternal       Kind = "internal"
)

// Retryable reports whether the same command may succeed later without
// anyone changing anything: upstream may land, a lock holder may finish, a
// transient I/O error may pass, an interrupted run may be started again.
func (k Kind) Retryable() bool {
	switch k {
	case KindLocked, KindNotLanded, KindIO, KindInterrupted, KindShardsMissing:
		return true
	}
	return false
}

// Classify names the kind of a run's error (KindInternal for an error it
// does not know, KindPolicy is told apart by the caller, which loads
// policies).
func Classify(err error) Kind {
	var ae *billing.AccountError
	var se *source.SchemaError
	switch {
	case err == nil:
		return ""
	case errors.Is(err, ErrUsage), errors.Is(err, ErrPolicyChanged):
		return KindUsage
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return KindInterrupted
	case errors.Is(err, ErrInternal):
		return KindInternal
	case storage.IsTransient(err): // an object store that may answer later
		return KindIO
	case errors.Is(err, ErrNoState):
		return KindNoState
	case errors.Is(err, ErrLocked), errors.Is(err, objout.ErrConcurrent):
		return KindLocked
	case errors.Is(err, ErrInputMissing), errors.Is(err, source.ErrNotLanded):
		return KindNotLanded
	case errors.Is(err, ErrShardsMissing):
		return KindShardsMissing
	case errors.Is(err, ErrPartsDisagree):
		return KindPartsDisagree
	case errors.Is(err, ErrTooManyRejects):
		return KindTooManyRejects
	case errors.Is(err, state.ErrBadState), errors.Is(err, objout.ErrCorrupt):
		return KindBadState
	case errors.As(err, &ae), errors.Is(err, billing.ErrNotConserved), errors.Is(err, billing.ErrOutOfRange):
		return KindInvariant
	case errors.Is(err, ErrBadInput), errors.As(err, &se), errors.Is(err, source.ErrNotParquet), errors.Is(err, source.ErrCorrupt):
		return KindBadInput
	case transientIO(err):
		return KindIO
	}
	return KindInternal
}

// transientIO reports an operating-system error that may pass on its own:
// a full disk being cleaned, an I/O error of a network volume, a timeout.
// A missing file or a permission problem is not transient.
func transientIO(err error) bool {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		var pe *fs.PathError
		// An object store's failure is transient only when storage says
		// so (above); its other failures are permanent.
		return errors.As(err, &pe) && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, fs.ErrPermission) &&
			!source.IsURL(pe.Path)
	}
	switch errno {
	case syscall.EIO, syscall.ENOSPC, syscall.EDQUOT, syscall.EAGAIN, syscall.EINTR, syscall.ETIMEDOUT,
		syscall.EBUSY, syscall.ESTALE, syscall.ENFILE, syscall.EMFILE, syscall.ENOMEM, syscall.ECONNRESET,
		syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH:
		return true
	}
	return false
}
