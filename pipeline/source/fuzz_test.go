package source

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/parquet"
)

var update = flag.Bool("update", false, "rewrite the fuzz seed corpus under testdata/fuzz")

// fuzzSeeds returns small Parquet files in several physical forms.
func fuzzSeeds(t testing.TB) map[string][]byte {
	t.Helper()
	tb, _ := txnCorpus()
	tb.rows = tb.rows[166:174]
	dir := t.TempDir()
	seeds := map[string][]byte{}
	for name, forms := range map[string]map[string]form{
		"canonical": canonicalTxnForms(),
		"int96-bytearray-decimals": withForms(map[string]form{
			"posted_at": tsForm(int96), "amount": decForm(parquet.Types.ByteArray, 18, 2, 0, 1),
			"fee_rate": decForm(parquet.Types.FixedLenByteArray, 9, 6, 4, 1), "installments": i64Form(),
		}),
	} {
		path := filepath.Join(dir, name+".parquet")
		writeParquet(t, path, tb, forms, 4, parquet.WithDictionaryDefault(name == "canonical"))
		seeds[name] = mustRead(t, path)
	}
	seeds["duckdb"] = mustRead(t, "testdata/duckdb/transactions.parquet")
	return seeds
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// FuzzReadTransactions feeds arbitrary bytes to the reader as a Parquet
// file: it may fail, it must not panic or hang.
func FuzzReadTransactions(f *testing.F) {
	if *update {
		dir := filepath.Join("testdata", "fuzz", "FuzzReadTransactions")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
		for name, b := range fuzzSeeds(f) {
			if err := os.WriteFile(filepath.Join(dir, name), fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
				f.Fatal(err)
			}
		}
	}
	f.Add([]byte("PAR1"))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "f.parquet")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		files := []File{{Path: path, Size: int64(len(data))}}
		txns, rejects, err := ReadTransactions(ctx, files, testDay, shanghai)
		if err != nil && (txns != nil || rejects != nil) {
			t.Errorf("ReadTransactions returned rows with error %v", err)
		}
	})
}
