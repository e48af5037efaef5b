package storage

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"gocloud.dev/gcerrors"
)

var (
	// ErrNotExist is a file or object that is not there. It is
	// fs.ErrNotExist, so that errors.Is(err, fs.ErrNotExist) holds for
	// every root.
	ErrNotExist = fs.ErrNotExist
	// ErrExist is a CreateIfAbsent whose name was taken before it closed.
	// It is fs.ErrExist.
	ErrExist = fs.ErrExist
	// ErrTransient marks a failure that may pass if the operation is
	// tried again later: a store that is unreachable, overloaded or timing
	// out. Every other failure is permanent (refused credentials, a bucket
	// that does not exist, a bad name).
	ErrTransient = errors.New("transient storage failure")
	// ErrLocation is a location Open cannot parse or has no driver for.
	ErrLocation = errors.New("not a storage location")
	// ErrName is a name that is not a slash-separated path inside its root.
	ErrName = errors.New("not a name inside the root")
	// ErrIsDir is a directory (or common prefix) opened as a file.
	ErrIsDir = errors.New("is a directory")
	// ErrChanged is an object replaced after it was opened: its File
	// reads no more rather than mix two versions.
	ErrChanged = errors.New("object changed since it was opened")
	// ErrClosed is a writer used after Close or Abort.
	ErrClosed = errors.New("writer already closed")
)

// transientError wraps a failure classified as transient: errors.Is finds
// both ErrTransient and what it wraps.
type transientError struct{ err error }

func (e transientError) Error() string   { return e.err.Error() }
func (e transientError) Unwrap() []error { return []error{ErrTransient, e.err} }

// IsTransient reports whether err is a failure worth retrying later.
func IsTransient(err error) bool { return errors.Is(err, ErrTransient) }

// transient reports whether a failure of an object store or of the network
// to it may pass: the server said it is unavailable, busy or timed out
// (HTTP 5xx, 429, 408, or S3's own codes for those), or the connection
// failed. A caller's cancellation is not transient.
func transient(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch gcerrors.Code(err) {
	case gcerrors.DeadlineExceeded, gcerrors.ResourceExhausted, gcerrors.Internal:
		return true
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout", "RequestTimeTooSkewed", "Throttling", "ThrottlingException":
			return true
		}
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) && resp.HTTPStatusCode() != 0 { // 0: no response came
		c := resp.HTTPStatusCode()
		return c >= 500 || c == http.StatusTooManyRequests || c == http.StatusRequestTimeout
	}
	var nerr net.Error
	if errors.As(err, &nerr) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
