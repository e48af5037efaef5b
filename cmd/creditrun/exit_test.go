package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/billing"
)

func TestFailureLogLineHidesTheAccount(t *testing.T) {
	err := fmt.Errorf("as_of 2025-03-02: %w", &billing.AccountError{
		AccountID: 10000042, Detail: "exposure moved 12.34, flows explain 12.00", Err: billing.ErrNotConserved})
	var buf bytes.Buffer
	if code := exitCode(err, &buf); code != exitFailed {
		t.Errorf("exitCode = %d, want %d", code, exitFailed)
	}
	var rec map[string]any
	if jerr := json.Unmarshal(buf.Bytes(), &rec); jerr != nil {
		t.Fatalf("failure line is not JSON: %q", buf.String())
	}
	line := buf.String()
	for _, secret := range []string{"10000042", "12.34"} {
		if strings.Contains(line, secret) {
			t.Errorf("failure line %q shows %s", line, secret)
		}
	}
	for _, want := range []string{"as_of 2025-03-02", "money not conserved"} {
		if !strings.Contains(line, want) {
			t.Errorf("failure line %q does not say %q", line, want)
		}
	}
}
