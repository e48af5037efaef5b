package state

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/billing"
)

// A table whose schema is not the state's is refused at open, naming the
// column, whatever else it holds: never read as zeros.
func TestOpenRefusesAnotherSchema(t *testing.T) {
	type renamed struct {
		AccountID int64 `parquet:"account_id"`
		Limit     int64 `parquet:"limit,decimal(2:18)"`
	}
	type retyped struct {
		AccountID int64 `parquet:"account_id"`
		TxnID     int64 `parquet:"txn_id"` // a STRING in the state
	}
	for _, tc := range []struct {
		name, file, column string
		write              func(path string) error
	}{
		{"missing and renamed columns", AccountsFile, "customer_id", func(p string) error {
			return parquet.WriteFile(p, []renamed{{AccountID: 1, Limit: 100}})
		}},
		{"retyped column", PlansFile, "txn_id", func(p string) error {
			return parquet.WriteFile(p, []retyped{{AccountID: 1, TxnID: 1}})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Write(dir, []billing.Account{{ID: 1, CustomerID: "c", Status: billing.Active}}); err != nil {
				t.Fatal(err)
			}
			if err := tc.write(filepath.Join(dir, tc.file)); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir)
			if !errors.Is(err, ErrBadState) || !strings.Contains(err.Error(), tc.file) || !strings.Contains(err.Error(), tc.column) {
				t.Errorf("Open = %v, want ErrBadState naming %s and column %s", err, tc.file, tc.column)
			}
		})
	}
}
