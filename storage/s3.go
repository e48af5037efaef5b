package storage

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

// abortTimeout bounds the request that aborts a failed multipart upload,
// sent on a context of its own since the writer's may be cancelled.
const abortTimeout = 30 * time.Second

// createS3 streams name to S3 as gocloud.dev's own writer does, through
// the SDK's transfer manager, but with the multipart threshold at one
// part (gocloud.dev's leaves it at 16 MiB, read into one growing buffer
// before the first request) and with the abort of a failed upload sent
// even when the writer's context was cancelled. The writer holds at most
// Concurrency+1 parts.
func (b *bucketFS) createS3(ctx context.Context, client *s3.Client, name string, ifAbsent bool) *Writer {
	tm := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = int64(b.opt.PartSize)
		o.MultipartUploadThreshold = int64(b.opt.PartSize)
		o.Concurrency = b.opt.Concurrency
		o.FailTimeout = abortTimeout
		// Checksums as the client computes them (gocloud.dev's s3blob
		// does the same): the transfer manager's own setting would
		// otherwise take precedence.
		o.RequestChecksumCalculation = client.Options().RequestChecksumCalculation
	})
	in := &transfermanager.UploadObjectInput{
		Bucket:      aws.String(b.bucketName),
		Key:         aws.String(name),
		ContentType: aws.String("application/octet-stream"),
	}
	if ifAbsent {
		in.IfNoneMatch = aws.String("*")
	}
	wctx, cancel := context.WithCancel(ctx)
	pr, pw := io.Pipe()
	in.Body = pr
	done := make(chan error, 1)
	go func() {
		_, err := tm.UploadObject(wctx, in)
		pr.CloseWithError(err) // a Write blocked on the pipe returns
		done <- err
	}()
	commit := func() error {
		defer cancel()
		pw.Close()
		if err := <-done; err != nil {
			if ifAbsent && conditionFailed(err) {
				return &fs.PathError{Op: "create", Path: b.url(name), Err: ErrExist}
			}
			return b.fail("close", name, err)
		}
		return nil
	}
	abort := func() {
		cancel()
		pw.CloseWithError(context.Canceled)
		<-done
	}
	return &Writer{w: failWriter{pw, func(err error) error { return b.fail("write", name, err) }},
		commit: commit, abort: abort, url: b.url(name)}
}

// failWriter describes its writer's failures with fail.
type failWriter struct {
	w    io.Writer
	fail func(error) error
}

func (f failWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	if err != nil {
		err = f.fail(err)
	}
	return n, err
}

// conditionFailed reports whether S3 refused a conditional write because
// the object exists (412), or because another conditional write of it
// was in progress (409).
func conditionFailed(err error) bool {
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "PreconditionFailed", "ConditionalRequestConflict":
			return true
		}
	}
	var resp *awshttp.ResponseError
	if errors.As(err, &resp) {
		c := resp.HTTPStatusCode()
		return c == http.StatusPreconditionFailed || c == http.StatusConflict
	}
	return false
}
