// Package s3test starts a real S3 server for tests: versitygw, an
// S3 gateway over a local directory, on a free loopback port. The binary
// is scripts/install-versitygw.sh's (.tools/bin/versitygw in the
// repository) or the one $VERSITYGW names. Without it New skips the test,
// saying how to install it, except under CI=true, where it fails.
package s3test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Region is the region the server's clients sign for.
const Region = "us-east-1"

// ErrNoBinary is a versitygw binary that is not installed.
var ErrNoBinary = errors.New("versitygw is not installed (run scripts/install-versitygw.sh, or set VERSITYGW to its path)")

// Server is a running versitygw.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT
	AccessKey string
	SecretKey string
	Dir       string // the directory it serves, one subdirectory a bucket

	cmd    *exec.Cmd
	done   chan struct{}
	stderr *bytes.Buffer
}

// Binary returns the path of the versitygw binary: $VERSITYGW, or
// .tools/bin/versitygw in the first directory at or above the working
// directory that holds a go.mod.
func Binary() (string, error) {
	if p := os.Getenv("VERSITYGW"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: VERSITYGW=%s: %w", ErrNoBinary, p, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".tools", "bin", "versitygw")
			if _, err := os.Stat(p); err != nil {
				return "", ErrNoBinary
			}
			return p, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", ErrNoBinary
		}
		dir = up
	}
}

// Start starts the binary bin serving dir on a free loopback port and
// waits until it answers S3 requests.
func Start(ctx context.Context, bin, dir string) (*Server, error) {
	s := &Server{AccessKey: "test-" + token(4), SecretKey: token(16), Dir: dir}
	var lastErr error
	for range 3 { // a port found free may be taken before the server binds it
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s.Endpoint = "http://127.0.0.1:" + port
		if lastErr = s.start(ctx, bin, port); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}

func (s *Server) start(ctx context.Context, bin, port string) error {
	s.stderr = new(bytes.Buffer)
	s.cmd = exec.Command(bin, "--port", "127.0.0.1:"+port, "posix", s.Dir)
	s.cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	s.done = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.Endpoint+"/", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			return nil // any answer, 403 for an unsigned request included
		}
		select {
		case <-s.done:
			return fmt.Errorf("versitygw exited before answering: %s", strings.TrimSpace(s.stderr.String()))
		case <-ctx.Done():
			s.Close()
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Close()
			return fmt.Errorf("versitygw did not answer on %s within 20s: %s", s.Endpoint, strings.TrimSpace(s.stderr.String()))
		}
	}
}

// Close stops the server.
func (s *Server) Close() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.done:
		return nil
	default:
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	return nil
}

// Client returns an S3 client of the server, path-style, with its root
// credentials.
func (s *Server) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.Endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, ""),
	})
}

// CreateBucket creates the bucket name.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	if _, err := s.Client().CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	return nil
}

// Env returns the standard AWS variables that point a client at the
// server: credentials, region, endpoint, path-style addressing.
func (s *Server) Env() map[string]string {
	return map[string]string{
		"AWS_ACCESS_KEY_ID":     s.AccessKey,
		"AWS_SECRET_ACCESS_KEY": s.SecretKey,
		"AWS_REGION":            Region,
		"AWS_ENDPOINT_URL":      s.Endpoint,
		"AWS_S3_USE_PATH_STYLE": "true",
	}
}

// New starts a server for the test, with a fresh bucket named bucket, sets
// the test's environment to reach it (Env; so the test cannot be
// parallel) and stops it when the test ends. Without the binary it skips
// the test, or fails it under CI=true.
func New(t testing.TB, bucket string) *Server {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("s3test: %v", err)
		}
		t.Skipf("s3test: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Start(ctx, bin, t.TempDir())
	if err != nil {
		t.Fatalf("s3test: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.CreateBucket(ctx, bucket); err != nil {
		t.Fatalf("s3test: %v", err)
	}
	for k, v := range s.Env() {
		t.Setenv(k, v)
	}
	return s
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port), nil
}

func token(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
