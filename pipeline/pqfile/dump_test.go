package pqfile

import (
	"bytes"
	"math/big"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
)

type dumpRow struct {
	ID       int64    `parquet:"id"`
	Name     string   `parquet:"name"`
	Amount   int64    `parquet:"amount,decimal(2:18)"`
	Rate     int32    `parquet:"rate,decimal(6:9)"`
	Day      int32    `parquet:"day,date"`
	At       int64    `parquet:"at,timestamp(microsecond)"`
	Due      *int32   `parquet:"due,date,optional"`
	Note     *string  `parquet:"note,optional"`
	Ok       bool     `parquet:"ok"`
	PD       float64  `parquet:"pd"`
	Count    int32    `parquet:"count"`
	Periods  []int32  `parquet:"periods"`
	Comments []string `parquet:"comments,list"`
}

func TestDumpFormatsByLogicalType(t *testing.T) {
	due := int32(20119) // 2025-01-31
	note := "say \"hi\"\tthen go"
	at := time.Date(2025, 1, 31, 4, 0, 0, 1000, time.UTC).UnixMicro()
	rows := []dumpRow{
		{ID: 1, Name: "a", Amount: 123450, Rate: 5000, Day: 20089, At: at, Due: &due, Note: &note, Ok: true,
			PD: 0.1, Count: -3, Periods: []int32{1, 3}, Comments: []string{"x"}},
		{ID: 2, Name: "", Amount: -5, Rate: -108964, Day: 0, At: 0, PD: 1.0 / 3},
	}
	path := filepath.Join(t.TempDir(), "t.parquet")
	if err := parquet.WriteFile(path, rows); err != nil { // repeated columns: not a row type pqfile writes
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := DumpFile(&got, path); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"id INT64\tname STRING\tamount DECIMAL(18,2) INT64\trate DECIMAL(9,6) INT32\tday DATE\t" +
			"at TIMESTAMP(MICROS,UTC)\tdue DATE nullable\tnote STRING nullable\tok BOOLEAN\tpd DOUBLE\t" +
			"count INT32\tperiods INT32 repeated\tcomments.list.element STRING repeated",
		"1\t\"a\"\t1234.50\t0.005000\t2025-01-01\t2025-01-31T04:00:00.000001Z\t2025-01-31\t" +
			`"say \"hi\"\tthen go"` + "\ttrue\t0.1\t-3\t[1, 3]\t[\"x\"]",
		"2\t\"\"\t-0.05\t-0.108964\t1970-01-01\t1970-01-01T00:00:00Z\tNULL\tNULL\tfalse\t0.3333333333333333\t" +
			"0\t[NULL(def=0)]\t[NULL(def=0)]",
		"",
	}, "\n")
	if got.String() != want {
		t.Errorf("Dump =\n%s\nwant\n%s", got.String(), want)
	}
}

// A nullable column, a renamed one and a retyped one each change the header.
func TestDumpHeaderShowsSchemaChanges(t *testing.T) {
	type base struct {
		Amount int64 `parquet:"amount,decimal(2:18)"`
	}
	type nullable struct {
		Amount *int64 `parquet:"amount,decimal(2:18),optional"`
	}
	type renamed struct {
		Amount int64 `parquet:"amount_due,decimal(2:18)"`
	}
	type retyped struct {
		Amount int64 `parquet:"amount"`
	}
	header := func(write func(path string) error) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "t.parquet")
		if err := write(path); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := DumpFile(&b, path); err != nil {
			t.Fatal(err)
		}
		line, _, _ := strings.Cut(b.String(), "\n")
		return line
	}
	v := int64(100)
	headers := map[string]string{
		"base":     header(func(p string) error { return WriteFile(p, []base{{v}}) }),
		"nullable": header(func(p string) error { return WriteFile(p, []nullable{{&v}}) }),
		"renamed":  header(func(p string) error { return WriteFile(p, []renamed{{v}}) }),
		"retyped":  header(func(p string) error { return WriteFile(p, []retyped{{v}}) }),
	}
	seen := map[string]string{}
	for name, h := range headers {
		if other, ok := seen[h]; ok {
			t.Errorf("schemas %s and %s both dump the header %q", name, other, h)
		}
		seen[h] = name
	}
	if want := "amount DECIMAL(18,2) INT64"; headers["base"] != want {
		t.Errorf("header = %q, want %q", headers["base"], want)
	}
}

func TestDumpFixedLengthDecimal(t *testing.T) {
	schema := parquet.NewSchema("t", parquet.Group{
		"amount": parquet.Decimal(2, 30, parquet.FixedLenByteArrayType(13)),
	})
	big1 := new(big.Int).Exp(big.NewInt(10), big.NewInt(25), nil) // beyond int64
	neg := new(big.Int).Neg(big1)
	var rows []parquet.Row
	for _, n := range []*big.Int{big1, neg, big.NewInt(-1)} {
		rows = append(rows, parquet.Row{parquet.FixedLenByteArrayValue(twos(n, 13)).Level(0, 0, 0)})
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[any](&buf, schema)
	if _, err := w.WriteRows(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := Dump(&got, f); err != nil {
		t.Fatal(err)
	}
	want := "amount DECIMAL(30,2) FIXED_LEN_BYTE_ARRAY\n" +
		"100000000000000000000000.00\n-100000000000000000000000.00\n-0.01\n"
	if got.String() != want {
		t.Errorf("Dump =\n%s\nwant\n%s", got.String(), want)
	}
}

// twos returns n as size bytes of big-endian two's complement.
func twos(n *big.Int, size int) []byte {
	m := new(big.Int).Set(n)
	if m.Sign() < 0 {
		m.Add(m, new(big.Int).Lsh(big.NewInt(1), uint(8*size)))
	}
	return m.FillBytes(make([]byte, size))
}

func TestAppendDecimal(t *testing.T) {
	tests := []struct {
		n     int64
		scale int
		want  string
	}{
		{0, 2, "0.00"}, {5, 2, "0.05"}, {-5, 2, "-0.05"}, {100, 2, "1.00"},
		{-9223372036854775808, 2, "-92233720368547758.08"}, {7, 0, "7"}, {7, -2, "700"},
	}
	for _, tt := range tests {
		if got := string(appendDecimal(nil, big.NewInt(tt.n), tt.scale)); got != tt.want {
			t.Errorf("appendDecimal(%d, %d) = %s, want %s", tt.n, tt.scale, got, tt.want)
		}
	}
}

// A file as DuckDB writes it (testdata/gen.js): every column nullable,
// DECIMAL(38,2) as FIXED_LEN_BYTE_ARRAY(16), TIMESTAMP_NS without zone and
// a LIST.
func TestDumpDuckDBFile(t *testing.T) {
	var got bytes.Buffer
	if err := DumpFile(&got, "testdata/duckdb.parquet"); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"id INT64 nullable\tname STRING nullable\tamount DECIMAL(18,2) INT64 nullable\trate DECIMAL(9,6) INT32 nullable\t" +
			"wide DECIMAL(38,2) FIXED_LEN_BYTE_ARRAY nullable\tday DATE nullable\tposted_at TIMESTAMP(MICROS,UTC) nullable\t" +
			"posted_ns TIMESTAMP(NANOS,LOCAL) nullable\tok BOOLEAN nullable\tpd DOUBLE nullable\tn INT32 nullable\t" +
			"periods.list.element INT32 repeated",
		"1\t\"a\"\t1234.50\t0.005000\t-12345678901234567890.12\t2025-01-31\t2025-01-31T04:00:00.000001Z\t" +
			"2025-01-31T04:00:00.000000001\ttrue\t0.1\t7\t[1, 3]",
		"2\tNULL\t-0.05\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\tNULL\t[NULL(def=0)]",
		"",
	}, "\n")
	if got.String() != want {
		t.Errorf("Dump =\n%s\nwant\n%s", got.String(), want)
	}
}
