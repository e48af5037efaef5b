package state

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/pqfile"
	"github.com/creditrun/creditrun/scoring"
	"github.com/parquet-go/parquet-go"
)

// fill sets every field reachable from v to a non-zero value derived from
// seed, growing slices to two elements, so that a field the state tables
// forget shows up as a difference after a round trip.
func fill(v reflect.Value, seed *int64) {
	switch v.Kind() {
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if f := v.Type().Field(i); f.IsExported() && f.Name != "HistoryChanged" { // not state: Close sets it
				fill(v.Field(i), seed)
			}
		}
	case reflect.Array:
		for i := 0; i < v.Len(); i++ {
			fill(v.Index(i), seed)
		}
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := 0; i < 2; i++ {
			fill(s.Index(i), seed)
		}
		v.Set(s)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		*seed++
		v.SetInt(*seed % 100)
	case reflect.Uint8:
		*seed++
		v.SetUint(uint64(*seed % 5))
	case reflect.String:
		*seed++
		v.SetString("s" + string(rune('a'+*seed%26)))
	case reflect.Bool:
		v.SetBool(true)
	}
}

func TestRoundTrip(t *testing.T) {
	seed := int64(0)
	accounts := make([]billing.Account, 3)
	for i := range accounts {
		fill(reflect.ValueOf(&accounts[i]).Elem(), &seed)
		accounts[i].ID = int64(i + 1)
	}
	// An account with nothing but an id: optional columns must read back as zero.
	accounts = append(accounts, billing.Account{ID: 10})
	dir := t.TempDir()
	if err := Write(dir, accounts); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(accounts) {
		t.Fatalf("Read = %d accounts, want %d", len(got), len(accounts))
	}
	for i := range accounts {
		if !reflect.DeepEqual(got[i], accounts[i]) {
			t.Errorf("account %d after round trip:\n got %+v\nwant %+v", accounts[i].ID, got[i], accounts[i])
		}
	}
}

// A snapshot whose tables cannot all be created is an error, the tables
// created before it aborted and those after it never made (Abort is safe
// on them).
func TestCreateFailsCleanly(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, PurchasesFile), 0o755); err != nil { // a directory where the table goes
		t.Fatal(err)
	}
	if w, err := Create(dir); err == nil {
		w.Abort()
		t.Fatalf("Create over a directory named %s succeeded", PurchasesFile)
	}
	if _, err := os.Stat(filepath.Join(dir, LinesFile)); err == nil {
		t.Errorf("%s was created after %s failed", LinesFile, PurchasesFile)
	}
}

func TestAppendDoesNotLeak(t *testing.T) {
	accounts := []billing.Account{
		{ID: 1, Plans: []billing.Plan{{TxnID: "a"}}},
		{ID: 2, Plans: []billing.Plan{{TxnID: "b"}}},
	}
	dir := t.TempDir()
	if err := Write(dir, accounts); err != nil {
		t.Fatal(err)
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	got[0].Plans = append(got[0].Plans, billing.Plan{TxnID: "c"})
	if got[1].Plans[0].TxnID != "b" {
		t.Fatalf("appending to account 1's plans overwrote account 2's: %q", got[1].Plans[0].TxnID)
	}
}

func TestUnsortedStateIsAnError(t *testing.T) {
	tb := Tables{Accounts: []AccountRow{{AccountID: 2}, {AccountID: 1}}}
	if _, err := tb.Unflatten(); err == nil {
		t.Fatal("Unflatten of unsorted accounts: no error")
	}
	tb = Tables{Accounts: []AccountRow{{AccountID: 1}}, Plans: []PlanRow{{AccountID: 7}}}
	if _, err := tb.Unflatten(); err == nil {
		t.Fatal("Unflatten with a plan of an unknown account: no error")
	}
}

func TestStreamChunksMatchWholeRead(t *testing.T) {
	seed := int64(0)
	var accounts []billing.Account
	for i := 0; i < 50; i++ {
		var a billing.Account
		if i%3 != 0 { // every third account has no child rows at all
			fill(reflect.ValueOf(&a).Elem(), &seed)
		}
		a.ID = int64(100 + 2*i)
		accounts = append(accounts, a)
	}
	dir := t.TempDir()
	w, err := Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(accounts); i += 7 { // written in uneven chunks
		if err := w.Write(accounts[i:min(i+7, len(accounts))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{1, 4, 49, 50, 1000} {
		r, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []billing.Account
		buf := make([]billing.Account, chunk)
		for {
			n, err := r.Read(buf)
			if err == io.EOF {
				if n != 0 {
					t.Fatalf("Read(%d) = %d, io.EOF", chunk, n)
				}
				break
			}
			if err != nil {
				t.Fatalf("Read(%d): %v", chunk, err)
			}
			if n == 0 || n > chunk {
				t.Fatalf("Read(%d) filled %d accounts", chunk, n)
			}
			got = append(got, buf[:n]...)
		}
		r.Close()
		if !reflect.DeepEqual(got, accounts) {
			t.Errorf("streaming in chunks of %d does not give back the snapshot", chunk)
		}
	}
}

// TestSnapshotBeforeTheLateWindow: a snapshot written before seen.parquet
// and late_accruals.parquet existed reads them as empty and still verifies;
// one that lacks only one of them, or lists neither while holding one, is
// refused.
func TestSnapshotBeforeTheLateWindow(t *testing.T) {
	seed := int64(0)
	accounts := make([]billing.Account, 2)
	for i := range accounts {
		fill(reflect.ValueOf(&accounts[i]).Elem(), &seed)
		accounts[i].ID = int64(i + 1)
	}
	dir := t.TempDir()
	if err := Write(dir, accounts); err != nil {
		t.Fatal(err)
	}
	if err := pqfile.WriteFile[scoring.DistributionRow](filepath.Join(dir, DistributionFile), nil); err != nil {
		t.Fatal(err)
	}
	for _, name := range lateFiles {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := Read(dir)
	if err != nil {
		t.Fatalf("Read(snapshot without the late tables) = %v", err)
	}
	for i := range got {
		if got[i].Seen != nil || got[i].LateAccruals != nil {
			t.Errorf("account %d: seen %v accruals %v, want none", got[i].ID, got[i].Seen, got[i].LateAccruals)
		}
		accounts[i].Seen, accounts[i].LateAccruals = nil, nil
		if !reflect.DeepEqual(got[i], accounts[i]) {
			t.Errorf("account %d read back as %+v, want %+v", got[i].ID, got[i], accounts[i])
		}
	}
	var names []string
	for _, n := range snapshotFiles {
		if !slices.Contains(lateFiles, n) {
			names = append(names, n)
		}
	}
	files, err := describeNames(dir, names, nil)
	if err != nil {
		t.Fatal(err)
	}
	info := Info{Files: files}
	if err := Verify(dir, info); err != nil {
		t.Errorf("Verify(snapshot without the late tables) = %v, want nil", err)
	}
	if err := Verify(dir, Info{Files: append(slices.Clone(files), FileInfo{Name: SeenFile})}); err == nil {
		t.Errorf("Verify(listing seen.parquet only, neither there) = nil, want an error")
	}
	if err := os.WriteFile(filepath.Join(dir, SeenFile), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Verify(dir, info); err == nil || !strings.Contains(err.Error(), "lists no "+SeenFile) {
		t.Errorf("Verify(old listing, seen.parquet present) = %v, want lists no %s", err, SeenFile)
	}
}

// accountRowBeforeFeaturesOn is AccountRow as snapshots wrote it before
// features_on: every column but the last.
type accountRowBeforeFeaturesOn struct {
	AccountID int64 `parquet:"account_id"`
}

// TestSnapshotBeforeFeaturesOn: an accounts table written before the
// features_on column reads it as NULL (FeaturesOn 0, so that the next night
// writes the account's cycle features); a table missing another column,
// or with features_on anywhere but last, is refused.
func TestSnapshotBeforeFeaturesOn(t *testing.T) {
	seed := int64(0)
	accounts := make([]billing.Account, 3)
	for i := range accounts {
		fill(reflect.ValueOf(&accounts[i]).Elem(), &seed)
		accounts[i].ID = int64(i + 1)
	}
	dir := t.TempDir()
	if err := Write(dir, accounts); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, AccountsFile)
	rows, err := pqfile.ReadFile[AccountRow](path)
	if err != nil {
		t.Fatal(err)
	}
	// The same rows through a struct of every column but features_on.
	typ := reflect.TypeFor[AccountRow]()
	if last := typ.Field(typ.NumField() - 1); last.Name != "FeaturesOn" {
		t.Fatalf("the last column of AccountRow is %s: addedLater's columns come last", last.Name)
	}
	fields := make([]reflect.StructField, typ.NumField()-1)
	for i := range fields {
		fields[i] = typ.Field(i)
	}
	old := reflect.SliceOf(reflect.StructOf(fields))
	oldRows := reflect.MakeSlice(old, len(rows), len(rows))
	for i := range rows {
		src := reflect.ValueOf(rows[i])
		for j := range fields {
			oldRows.Index(i).Field(j).Set(src.Field(j))
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewWriter(f, parquet.SchemaOf(reflect.New(old.Elem()).Interface()))
	for i := range oldRows.Len() {
		if err := w.Write(oldRows.Index(i).Interface()); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	got, err := Read(dir)
	if err != nil {
		t.Fatalf("Read(accounts without features_on) = %v", err)
	}
	for i := range got {
		if got[i].FeaturesOn != 0 {
			t.Errorf("account %d: FeaturesOn %s, want 0", got[i].ID, got[i].FeaturesOn)
		}
		accounts[i].FeaturesOn = 0
		if !reflect.DeepEqual(got[i], accounts[i]) {
			t.Errorf("account %d read back as %+v, want %+v", got[i].ID, got[i], accounts[i])
		}
	}
	if err := checkSchema[AccountRow](parquet.SchemaOf(new(accountRowBeforeFeaturesOn))); err == nil ||
		!strings.Contains(err.Error(), "customer_id") {
		t.Errorf("checkSchema(only account_id) = %v, want customer_id missing", err)
	}
}
