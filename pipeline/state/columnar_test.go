package state

import (
	"math"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/creditrun/creditrun/billing"
)

// TestCursorAcrossPagesAndRowGroups reads tables whose batches straddle
// page and row-group boundaries, with nulls, and must give back every row:
// data pages v1 as this program writes them, read directly, and parquet-go's
// default pages v2, read through parquet-go.
func TestCursorAcrossPagesAndRowGroups(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   []parquet.WriterOption
		direct bool
	}{
		{"direct", []parquet.WriterOption{parquet.DataPageVersion(1), parquet.DefaultEncoding(&parquet.Plain), parquet.Compression(&parquet.Snappy)}, true},
		{"parquet-go", []parquet.WriterOption{parquet.DataPageVersion(2)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testCursorAcross(t, tc.opts, tc.direct)
		})
	}
}

func testCursorAcross(t *testing.T, opts []parquet.WriterOption, direct bool) {
	dir := t.TempDir()
	var accounts []AccountRow
	for i := 0; i < 10007; i++ {
		r := AccountRow{AccountID: int64(i + 1), CustomerID: "c" + string(rune('a'+i%26)), Status: "active",
			Limit: billing.Money(i * 100), BillingDay: int32(i%28 + 1), Fraud: i%7 == 0, Grade: nil}
		if i%3 == 0 { // optional columns: some rows null
			s := int32(500 + i%400)
			r.ExternalScore = &s
			d := billing.Date(19000 + i%365)
			r.ActivatedOn = &d
			note := "waits " + string(rune('a'+i%5))
			r.Note = &note
		}
		if i%5 == 0 {
			g := "B"
			r.Grade = &g
		}
		accounts = append(accounts, r)
	}
	path := filepath.Join(dir, AccountsFile)
	if err := parquet.WriteFile(path, accounts, append(opts, parquet.MaxRowsPerRowGroup(3001), parquet.PageBufferSize(2048))...); err != nil {
		t.Fatal(err)
	}
	c, err := openCursor(dir, AccountsFile, func(r *AccountRow) int64 { return r.AccountID })
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	if len(c.pf.RowGroups()) < 4 {
		t.Fatalf("%d row groups, want several", len(c.pf.RowGroups()))
	}
	got, err := c.take(nil, math.MaxInt64, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, accounts) {
		for i := range accounts {
			if i >= len(got) || !reflect.DeepEqual(got[i], accounts[i]) {
				t.Fatalf("row %d of %d: got %+v, want %+v", i, len(accounts), got[min(i, len(got)-1)], accounts[i])
			}
		}
		t.Fatalf("got %d rows, want %d", len(got), len(accounts))
	}
	if direct && (c.chunks.parquet != 0 || c.chunks.direct == 0) {
		t.Errorf("chunks read %+v, want every one read directly", c.chunks)
	}
	if !direct && (c.chunks.parquet == 0 || c.chunks.direct != 0) {
		t.Errorf("chunks read %+v, want every one read through parquet-go", c.chunks)
	}
}

func TestSetterRefusesUnknownKinds(t *testing.T) {
	type odd struct {
		X float64 `parquet:"x"`
	}
	schema := parquet.SchemaOf(odd{})
	if _, err := columnSetters[odd](schema); err == nil {
		t.Fatal("columnSetters accepted a float64 field")
	}
}
