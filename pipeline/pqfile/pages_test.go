package pqfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/format"
)

func TestDecodeHybridMatchesParquetGo(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for width := uint(1); width <= 32; width++ {
		t.Run(fmt.Sprint(width), func(t *testing.T) {
			// Runs of repeats (RLE) and noise (bit-packed), of lengths that
			// are and are not multiples of 8.
			var want []int32
			for len(want) < 5000 {
				v := int32(r.Uint64() & (1<<width - 1))
				n := r.IntN(40)
				for range n {
					if n%2 == 0 {
						want = append(want, v)
					} else {
						want = append(want, int32(r.Uint64()&(1<<width-1)))
					}
				}
			}
			enc, err := (&rle.Encoding{BitWidth: int(width)}).EncodeInt32(nil, want)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]int32, len(want))
			if err := decodeHybrid(enc, width, nil, got); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("decodeHybrid of width %d differs from what parquet-go encoded", width)
			}
		})
	}
	levels := make([]byte, 3001)
	for i := range levels {
		if r.IntN(3) > 0 || i > 2000 {
			levels[i] = 1
		}
	}
	enc, err := (&rle.Encoding{BitWidth: 1}).EncodeLevels(nil, levels)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(levels))
	if err := decodeHybrid(enc, 1, got, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, levels) {
		t.Fatal("decodeHybrid of levels differs from what parquet-go encoded")
	}
}

func TestDecodeHybrid(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		width uint
		n     int
		want  []int32
		err   bool
	}{
		{name: "run", in: []byte{5 << 1, 7}, width: 3, n: 5, want: []int32{7, 7, 7, 7, 7}},
		{name: "width 0", in: []byte{4 << 1}, width: 0, n: 4, want: []int32{0, 0, 0, 0}},
		{name: "two-byte run value", in: []byte{2 << 1, 0x34, 0x12}, width: 13, n: 2, want: []int32{0x1234, 0x1234}},
		// One group of 8 values of 2 bits, of which the first 3 are wanted.
		{name: "padded group", in: []byte{1<<1 | 1, 0b11100100, 0, 0xff, 0xff}, width: 2, n: 3, want: []int32{0, 1, 2}},
		{name: "run then group", in: []byte{2 << 1, 1, 1<<1 | 1, 0b10}, width: 1, n: 4, want: []int32{1, 1, 0, 1}},
		{name: "run past the values", in: []byte{9 << 1, 1}, width: 1, n: 4, err: true},
		{name: "empty run", in: []byte{0, 1}, width: 1, n: 1, err: true},
		{name: "run value too wide", in: []byte{1 << 1, 9}, width: 3, n: 1, err: true},
		{name: "cut short", in: []byte{1<<1 | 1}, width: 8, n: 8, err: true},
		{name: "no header", in: nil, width: 1, n: 1, err: true},
		{name: "huge group count", in: []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1}, width: 1, n: 1, err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make([]int32, tt.n)
			err := decodeHybrid(tt.in, tt.width, nil, got)
			if tt.err {
				if !errors.Is(err, errCorrupt) {
					t.Fatalf("decodeHybrid(%x, %d) = %v, want a corrupt chunk", tt.in, tt.width, err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("decodeHybrid(%x, %d) = %v, %v, want %v", tt.in, tt.width, got, err, tt.want)
			}
		})
	}
}

// allKinds is a row of every column kind Chunk reads.
type allKinds struct {
	ID      int64   `parquet:"id"`
	Small   int32   `parquet:"small"`
	Flag    bool    `parquet:"flag"`
	Text    string  `parquet:"text"`
	Code    string  `parquet:"code,dict"`
	Maybe32 *int32  `parquet:"maybe32,optional"`
	Maybe64 *int64  `parquet:"maybe64,optional"`
	MaybeB  *bool   `parquet:"maybe_flag,optional"`
	Note    *string `parquet:"note,optional"`
	Reason  *string `parquet:"reason,optional,dict"`
	Empty   *string `parquet:"empty,optional,dict"`
}

func randomKinds(r *rand.Rand, n int) []allKinds {
	rows := make([]allKinds, n)
	for i := range rows {
		k := &rows[i]
		k.ID, k.Small, k.Flag = r.Int64()-r.Int64(), r.Int32()-r.Int32(), r.IntN(2) == 0
		k.Text = randomText(r, 30)
		k.Code = fmt.Sprint("code-", r.IntN(5))
		if r.IntN(3) > 0 {
			v := r.Int32()
			k.Maybe32 = &v
		}
		if r.IntN(4) == 0 {
			v := r.Int64()
			k.Maybe64 = &v
		}
		if r.IntN(2) == 0 {
			v := r.IntN(2) == 0
			k.MaybeB = &v
		}
		if r.IntN(2) == 0 {
			v := randomText(r, 12)
			k.Note = &v
		}
		if r.IntN(5) == 0 {
			v := fmt.Sprint("reason ", r.IntN(3))
			k.Reason = &v
		}
	}
	return rows
}

func randomText(r *rand.Rand, max int) string {
	b := make([]byte, r.IntN(max+1))
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return string(b)
}

// readColumns reads every column of the file at path through Chunk, in
// windows of window bytes and reads of random sizes, back into rows.
func readColumns(t *testing.T, path string, window int, r *rand.Rand) []allKinds {
	t.Helper()
	f, pf := openFile(t, path)
	defer f.Close()
	rows := make([]allKinds, pf.NumRows())
	c := Chunk{Window: window}
	at, chunks := 0, 0
	reads := &countingReader{r: f}
	for _, rg := range pf.Metadata().RowGroups {
		for ci := range rg.Columns {
			chunks++
			if err := c.Open(reads, &rg.Columns[ci], ci >= 5); err != nil {
				t.Fatalf("column %d: %v", ci, err)
			}
			readColumn(t, &c, ci, rows[at:at+int(rg.NumRows)], r)
		}
		at += int(rg.NumRows)
	}
	// One read a chunk, unless the windows are smaller than chunks.
	if window == 0 && reads.n != chunks || window == 100 && reads.n <= chunks {
		t.Errorf("%d reads for %d chunks in windows of %d", reads.n, chunks, window)
	}
	return rows
}

type countingReader struct {
	r io.ReaderAt
	n int
}

func (c *countingReader) ReadAt(b []byte, off int64) (int, error) {
	c.n++
	return c.r.ReadAt(b, off)
}

func readColumn(t *testing.T, c *Chunk, ci int, rows []allKinds, r *rand.Rand) {
	t.Helper()
	i64, i32, bools, strs := make([]int64, 100), make([]int32, 100), make([]bool, 100), make([]string, 100)
	valid := make([]bool, 100)
	for i := 0; ; {
		want := 1 + r.IntN(100)
		var n int
		var err error
		switch ci {
		case 0, 6:
			var v []bool
			if ci == 6 {
				v = valid[:want]
			}
			n, err = c.ReadInt64s(i64[:want], v)
			for j := range n {
				if ci == 0 {
					rows[i+j].ID = i64[j]
				} else if valid[j] {
					x := i64[j]
					rows[i+j].Maybe64 = &x
				}
			}
		case 1, 5:
			var v []bool
			if ci == 5 {
				v = valid[:want]
			}
			n, err = c.ReadInt32s(i32[:want], v)
			for j := range n {
				if ci == 1 {
					rows[i+j].Small = i32[j]
				} else if valid[j] {
					x := i32[j]
					rows[i+j].Maybe32 = &x
				}
			}
		case 2, 7:
			var v []bool
			if ci == 7 {
				v = valid[:want]
			}
			n, err = c.ReadBooleans(bools[:want], v)
			for j := range n {
				if ci == 2 {
					rows[i+j].Flag = bools[j]
				} else if valid[j] {
					x := bools[j]
					rows[i+j].MaybeB = &x
				}
			}
		default:
			var v []bool
			if ci >= 8 {
				v = valid[:want]
			}
			n, err = c.ReadStrings(strs[:want], v)
			for j := range n {
				x := strs[j]
				switch {
				case ci == 3:
					rows[i+j].Text = x
				case ci == 4:
					rows[i+j].Code = x
				case !valid[j]:
				case ci == 8:
					rows[i+j].Note = &x
				case ci == 9:
					rows[i+j].Reason = &x
				default:
					rows[i+j].Empty = &x
				}
			}
		}
		if errors.Is(err, io.EOF) {
			if i != len(rows) {
				t.Fatalf("column %d ends after %d of %d rows", ci, i, len(rows))
			}
			return
		}
		if err != nil {
			t.Fatalf("column %d at row %d: %v", ci, i, err)
		}
		if n == 0 || i+n > len(rows) {
			t.Fatalf("column %d at row %d: read %d values of %d rows", ci, i, n, len(rows))
		}
		i += n
	}
}

// TestChunkReadsWhatTheWriterWrites reads every kind of column as this
// package writes it (several pages, dictionaries, NULLs), and as
// parquet-go writes it with the same options in several row groups with
// dictionaries that fall back to PLAIN, uncompressed too; each chunk
// whole, and in windows smaller than a page and of a few pages.
func TestChunkReadsWhatTheWriterWrites(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	want := randomKinds(r, 20000)
	dir := t.TempDir()
	own := filepath.Join(dir, "own.parquet")
	if err := WriteFile(own, want); err != nil {
		t.Fatal(err)
	}
	paths := []string{own}
	for i, codec := range []parquet.WriterOption{parquet.Compression(&parquet.Snappy), parquet.Compression(&parquet.Uncompressed)} {
		path := filepath.Join(dir, fmt.Sprint("parquet-go-", i, ".parquet"))
		err := parquet.WriteFile(path, want, parquet.DataPageVersion(1), parquet.DefaultEncoding(&parquet.Plain), codec,
			parquet.MaxRowsPerRowGroup(3000), parquet.PageBufferSize(4096), parquet.DictionaryMaxBytes(20))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	for _, path := range paths {
		for _, window := range []int{0, 100, 1000, 20000} {
			if got := readColumns(t, path, window, r); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s in windows of %d: the rows read through Chunk differ from those written", filepath.Base(path), window)
			}
		}
	}
}

func TestChunkLeavesOtherFilesToParquetGo(t *testing.T) {
	rows := randomKinds(rand.New(rand.NewPCG(5, 6)), 500)
	for _, tc := range []struct {
		name string
		opts []parquet.WriterOption
	}{
		{"v2", []parquet.WriterOption{parquet.DataPageVersion(2), parquet.DefaultEncoding(&parquet.Plain)}},
		{"delta", []parquet.WriterOption{parquet.DataPageVersion(1), parquet.DefaultEncodingFor(parquet.Int64, &parquet.DeltaBinaryPacked)}},
		{"zstd", []parquet.WriterOption{parquet.DataPageVersion(1), parquet.DefaultEncoding(&parquet.Plain), parquet.Compression(&parquet.Zstd)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "other.parquet")
			if err := parquet.WriteFile(path, rows, tc.opts...); err != nil {
				t.Fatal(err)
			}
			f, pf := openFile(t, path)
			defer f.Close()
			var c Chunk
			err := c.Open(f, &pf.Metadata().RowGroups[0].Columns[0], false)
			if !errors.Is(err, ErrChunkUnsupported) {
				t.Fatalf("Open = %v, want ErrChunkUnsupported", err)
			}
		})
	}
}

func openFile(t *testing.T, path string) (*os.File, *parquet.File) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	return f, pf
}

// TestChunkRefusesWhatDoesNotAddUp: a damaged page, a short read, a read
// of the wrong type or of an optional column as required are errors.
func TestChunkRefusesWhatDoesNotAddUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "own.parquet")
	if err := WriteFile(path, randomKinds(rand.New(rand.NewPCG(7, 8)), 3000)); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, pf := openFile(t, path)
	defer f.Close()
	cc := &pf.Metadata().RowGroups[0].Columns[3] // text, PLAIN
	var c Chunk
	readAll := func(r io.ReaderAt) error {
		if err := c.Open(r, cc, false); err != nil {
			return err
		}
		buf := make([]string, 256)
		for {
			_, err := c.ReadStrings(buf, nil)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	if err := readAll(bytes.NewReader(raw)); err != nil {
		t.Fatalf("the file as written: %v", err)
	}
	damaged := bytes.Clone(raw)
	damaged[cc.MetaData.DataPageOffset+cc.MetaData.TotalCompressedSize-3] ^= 0x40
	if err := readAll(bytes.NewReader(damaged)); !errors.Is(err, errCorrupt) {
		t.Errorf("a damaged page: %v, want a corrupt chunk", err)
	}
	short := raw[:cc.MetaData.DataPageOffset+cc.MetaData.TotalCompressedSize/2]
	if err := readAll(bytes.NewReader(short)); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a short file: %v, want io.ErrUnexpectedEOF", err)
	}
	if err := c.Open(f, cc, false); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadInt64s(make([]int64, 8), nil); err == nil {
		t.Error("ReadInt64s of a BYTE_ARRAY column succeeded")
	}
	opt := &pf.Metadata().RowGroups[0].Columns[8] // note, optional
	if err := c.Open(f, opt, true); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ReadStrings(make([]string, 8), nil); err == nil {
		t.Error("ReadStrings of an optional column without valid succeeded")
	}
}

// FuzzChunk: Chunk never panics on a damaged file, whatever bytes its
// chunks hold; it reads or returns an error.
func FuzzChunk(f *testing.F) {
	path := filepath.Join(f.TempDir(), "own.parquet")
	if err := WriteFile(path, randomKinds(rand.New(rand.NewPCG(9, 10)), 700)); err != nil {
		f.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	pf, err := parquet.OpenFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		f.Fatal(err)
	}
	md := pf.Metadata()
	f.Add(uint32(0), []byte{})
	f.Add(uint32(4), []byte{0xff, 0xff, 0xff, 0xff})
	f.Add(uint32(100), []byte{0, 0, 0, 0, 0, 0, 0, 0})
	f.Add(uint32(len(raw)/2), []byte{0x15, 0x00, 0x15})
	f.Fuzz(func(t *testing.T, at uint32, patch []byte) {
		b := bytes.Clone(raw)
		copy(b[int(at)%len(b):], patch)
		r := bytes.NewReader(b)
		c := Chunk{Window: int(at % 3 * 700)}
		i64, i32, bools, strs, valid := make([]int64, 64), make([]int32, 64), make([]bool, 64), make([]string, 64), make([]bool, 64)
		for _, rg := range md.RowGroups {
			for ci := range rg.Columns {
				cc := &rg.Columns[ci]
				if c.Open(r, cc, ci >= 5) != nil {
					continue
				}
				for {
					var err error
					switch cc.MetaData.Type {
					case format.Int64:
						_, err = c.ReadInt64s(i64, valid)
					case format.Int32:
						_, err = c.ReadInt32s(i32, valid)
					case format.Boolean:
						_, err = c.ReadBooleans(bools, valid)
					default:
						_, err = c.ReadStrings(strs, valid)
					}
					if err != nil {
						break
					}
				}
			}
		}
	})
}
