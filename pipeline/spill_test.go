package pipeline

import (
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/creditrun/creditrun/billing"
	"github.com/creditrun/creditrun/pipeline/state"
	"github.com/creditrun/creditrun/policy"
)

// fill sets every field reachable from v to a value that depends on seed,
// never zero, with slices of one to three rows: an account in which no
// field can be lost unnoticed.
func fill(v reflect.Value, seed *int64) {
	*seed++
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).Name != "HistoryChanged" { // not state: Close sets it
				fill(v.Field(i), seed)
			}
		}
	case reflect.Array:
		for i := range v.Len() {
			fill(v.Index(i), seed)
		}
	case reflect.Slice:
		n := int(*seed%3) + 1
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(s.Index(i), seed)
		}
		v.Set(s)
	case reflect.String:
		v.SetString(string(rune('a'+*seed%26)) + string(rune('A'+*seed%23)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Int:
		v.SetInt(-*seed * 37)
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uint:
		v.SetUint(uint64(*seed))
	default:
		panic("fill: a field of kind " + v.Kind().String() + ": teach the spill and this test")
	}
}

// Every field of every account survives the spill, so that a backfill
// that does not publish a day's state starts the next day from the very
// book the state would have held. An Account field the spill does not
// encode fails here.
func TestSpillRoundTripsEveryField(t *testing.T) {
	var seed int64
	accounts := make([]billing.Account, 7)
	for i := range accounts {
		fill(reflect.ValueOf(&accounts[i]).Elem(), &seed)
	}
	accounts[3] = billing.Account{ID: 9} // an account with nothing else
	path := filepath.Join(t.TempDir(), "book")
	w, err := createSpill(path)
	if err != nil {
		t.Fatal(err)
	}
	// Two frames, read back in buffers that split them differently.
	if err := w.Write(accounts[:4]); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(accounts[4:]); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := readSpill(t, path, 3)
	if len(got) != len(accounts) {
		t.Fatalf("read %d accounts, wrote %d", len(got), len(accounts))
	}
	for i := range accounts {
		if !reflect.DeepEqual(got[i], accounts[i]) {
			t.Errorf("account %d:\n got %+v\nwant %+v", i, got[i], accounts[i])
		}
	}
	// Rows of one account are capped: appending to them never writes
	// into the next account's.
	first := got[0].Statements
	_ = append(first, billing.Statement{})
	if !reflect.DeepEqual(got[1].Statements, accounts[1].Statements) {
		t.Error("appending to one account's statements changed the next account's")
	}
}

// readSpill reads the spill at path to its end, bufSize accounts at a
// time.
func readSpill(t *testing.T, path string, bufSize int) []billing.Account {
	t.Helper()
	r, err := openSpill(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got []billing.Account
	buf := make([]billing.Account, bufSize)
	for {
		n, err := r.Read(buf)
		if errors.Is(err, io.EOF) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
}

// The decoder's varints read back what binary.AppendVarint and
// AppendUvarint wrote, one byte or many, at the edges of int64 included,
// and a varint cut short is an error.
func TestSpillVarints(t *testing.T) {
	ints := []int64{0, 1, -1, 2, -2, 63, -63, 64, -64, 65, -65, 127, 128, -129, 1 << 20, -(1 << 20),
		8191, -8192, 8192, -8193, 1<<20 - 1, -(1 << 20) - 1, 20089, -20089, // the ends of two and three bytes
		math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}
	uints := []uint64{0, 1, 126, 127, 128, 255, 16383, 16384, 1 << 40, math.MaxUint64}
	var b []byte
	for _, v := range ints {
		b = binary.AppendVarint(b, v)
	}
	for _, v := range uints {
		b = binary.AppendUvarint(b, v)
	}
	d := spillDecoder{b: b}
	for _, want := range ints {
		if got := d.int(); got != want {
			t.Errorf("int: got %d, want %d", got, want)
		}
	}
	for _, want := range uints {
		if got := d.uint(); got != want {
			t.Errorf("uint: got %d, want %d", got, want)
		}
	}
	if d.err != nil || d.i != len(b) {
		t.Fatalf("after every value: err %v at byte %d of %d", d.err, d.i, len(b))
	}
	for _, want := range ints { // a value that ends the frame, and one after a byte
		for _, pad := range [][]byte{nil, {0}} {
			d = spillDecoder{b: binary.AppendVarint(slices.Clone(pad), want), i: len(pad)}
			if got := d.int(); got != want || d.err != nil || d.i != len(d.b) {
				t.Errorf("int at the frame's end: got %d (err %v, byte %d of %d), want %d", got, d.err, d.i, len(d.b), want)
			}
		}
	}
	d = spillDecoder{b: binary.AppendVarint(nil, 1<<30)[:2]}
	if d.int(); d.err == nil {
		t.Error("a varint cut short decoded without an error")
	}
	d = spillDecoder{b: nil}
	if d.uint(); d.err == nil {
		t.Error("a uvarint past the frame decoded without an error")
	}
}

// A spill is written over the book its file held two windows before: a
// shorter book read back is that book alone, nothing of the longer one
// after it.
func TestSpillWrittenOverALongerBook(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spill.0")
	var seed int64
	long := make([]billing.Account, 9)
	for i := range long {
		fill(reflect.ValueOf(&long[i]).Elem(), &seed)
	}
	short := []billing.Account{{ID: 1}, {ID: 2, CustomerID: "c2"}}
	for _, book := range [][]billing.Account{long, short} {
		w, err := createSpill(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < len(book); i += 4 {
			if err := w.Write(book[i:min(i+4, len(book))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := readSpill(t, path, 4); !reflect.DeepEqual(got, short) {
		t.Fatalf("read back %d accounts %+v, want the shorter book %+v", len(got), got, short)
	}
}

func TestSpillCutShortIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "book")
	w, err := createSpill(path)
	if err != nil {
		t.Fatal(err)
	}
	var seed int64
	a := make([]billing.Account, 2)
	fill(reflect.ValueOf(&a[0]).Elem(), &seed)
	fill(reflect.ValueOf(&a[1]).Elem(), &seed)
	if err := w.Write(a); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, st.Size()-5); err != nil {
		t.Fatal(err)
	}
	r, err := openSpill(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Read(make([]billing.Account, 2)); err == nil || !errors.Is(err, ErrInternal) {
		t.Fatalf("Read of a spill cut short: err = %v, want ErrInternal", err)
	}
}

// BenchmarkCarryBook compares the two ways a backfill hands a large book
// to the next day: publishing the state and reading it back (verified),
// or spilling it. The book is the state in CREDITRUN_BENCH_STATE when set
// (a state/ directory of a grown book), else accounts with every field
// set.
func BenchmarkCarryBook(b *testing.B) {
	accounts := benchBook(b)
	const bucket = 4096
	readAll := func(r accountStream) {
		buf := make([]billing.Account, bucket)
		n := 0
		for {
			k, err := r.Read(buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n += k
		}
		if n != len(accounts) {
			b.Fatalf("read %d accounts, wrote %d", n, len(accounts))
		}
	}
	write := func(w bookWriter) {
		for i := 0; i < len(accounts); i += bucket {
			if err := w.Write(accounts[i:min(i+bucket, len(accounts))]); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("state", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			dir := b.TempDir()
			w, err := state.Create(dir)
			if err != nil {
				b.Fatal(err)
			}
			write(w)
			if err := w.Finish(state.Info{AsOf: "2025-01-01", Accounts: len(accounts)}, policy.Default().Scoring.NewDistribution()); err != nil {
				b.Fatal(err)
			}
			info, err := state.ReadInfo(dir)
			if err != nil {
				b.Fatal(err)
			}
			if err := state.Verify(dir, info); err != nil {
				b.Fatal(err)
			}
			r, err := state.Open(dir)
			if err != nil {
				b.Fatal(err)
			}
			readAll(r)
			r.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(accounts)), "ns/account")
	})
	b.Run("spill", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			path := filepath.Join(b.TempDir(), "book")
			w, err := createSpill(path)
			if err != nil {
				b.Fatal(err)
			}
			write(w)
			r, err := openSpill(path)
			if err != nil {
				b.Fatal(err)
			}
			readAll(r)
			r.Close()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(accounts)), "ns/account")
	})
}

// BenchmarkSpillCodec times the spill's encoding and decoding alone, in
// memory, in CPU seconds of the process (which another load on the
// machine does not inflate), on the book of CREDITRUN_BENCH_STATE when
// set, else on accounts with every field set.
func BenchmarkSpillCodec(b *testing.B) {
	accounts := benchBook(b)
	const bucket = 4096
	type frame struct {
		payload []byte
		kinds   [spillKinds]uint64
		n       int
	}
	var frames []frame
	encode := func() {
		frames = frames[:0]
		var e spillEncoder
		for i := 0; i < len(accounts); i += bucket {
			chunk := accounts[i:min(i+bucket, len(accounts))]
			e.frame(chunk)
			f := frame{payload: slices.Clone(e.b), n: len(chunk)}
			for k, n := range e.kinds {
				f.kinds[k] = uint64(n)
			}
			frames = append(frames, f)
		}
	}
	encode()
	perAccount := func(b *testing.B, cpu time.Duration) {
		b.ReportMetric(float64((processCPU()-cpu).Nanoseconds())/float64(b.N*len(accounts)), "cpu-ns/account")
	}
	b.Run("encode", func(b *testing.B) {
		cpu := processCPU()
		for range b.N {
			encode()
		}
		perAccount(b, cpu)
	})
	b.Run("decode", func(b *testing.B) {
		buf := make([]billing.Account, bucket)
		var d spillDecoder
		cpu := processCPU()
		for range b.N {
			for _, f := range frames {
				d.reset(f.payload, f.kinds)
				for i := range f.n {
					d.account(&buf[i])
				}
				if d.err != nil {
					b.Fatal(d.err)
				}
			}
		}
		perAccount(b, cpu)
	})
}

// benchBook is the book of CREDITRUN_BENCH_STATE (a state/ directory of a
// grown book) when set, else 20,000 accounts with every field set.
func benchBook(b *testing.B) []billing.Account {
	if dir := os.Getenv("CREDITRUN_BENCH_STATE"); dir != "" {
		return readBook(b, dir)
	}
	var seed int64
	accounts := make([]billing.Account, 20000)
	for i := range accounts {
		fill(reflect.ValueOf(&accounts[i]).Elem(), &seed)
		accounts[i].ID = int64(i)
	}
	return accounts
}
