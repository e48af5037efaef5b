package pqfile

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// ErrConcat is a set of files Concat cannot join.
var ErrConcat = errors.New("cannot concatenate")

var magic = []byte("PAR1")

// Concat writes to dst the row groups of srcs, in order, without decoding
// them: each column chunk's bytes are copied as they are, the column and
// offset indexes follow, and the footer is the first file's with every
// row group's offsets shifted to where its bytes now are. The files must
// share one schema, created_by and key-value metadata (files this package
// wrote of one row type do), and carry no bloom filters and no
// encryption. dst is fsynced before Concat returns.
func Concat(dst string, srcs []string) (err error) {
	if len(srcs) == 0 {
		return fmt.Errorf("%w: no files", ErrConcat)
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<20)
	w := &countWriter{w: bw}
	if _, err := w.Write(magic); err != nil {
		return err
	}
	var out format.FileMetaData
	type index struct{ column, offset []byte }
	var indexes [][]index // by row group of out, by column
	var first []byte      // the first file's schema, encoded, to compare the others with
	proto := &thrift.CompactProtocol{}
	for i, src := range srcs {
		meta, r, err := openFooter(src)
		if err != nil {
			return err
		}
		schema, err := thrift.Marshal(proto, &struct {
			Schema    thrift.Slice[format.SchemaElement] `thrift:"1,required"`
			CreatedBy string                             `thrift:"2,optional"`
			KV        thrift.Slice[format.KeyValue]      `thrift:"3,optional"`
		}{meta.Schema, meta.CreatedBy, meta.KeyValueMetadata})
		if err != nil {
			r.Close()
			return fmt.Errorf("%s: %w", src, err)
		}
		if i == 0 {
			out = *meta
			out.RowGroups = nil
			out.NumRows = 0
			first = schema
		} else if !bytes.Equal(schema, first) {
			r.Close()
			return fmt.Errorf("%w: %s: its schema, created_by or metadata differ from %s's", ErrConcat, src, srcs[0])
		}
		err = func() error {
			defer r.Close()
			for _, rg := range meta.RowGroups {
				if rg.NumRows == 0 {
					continue
				}
				var idx []index
				rgStart := w.n
				var compressed int64
				for c := range rg.Columns {
					cc := &rg.Columns[c]
					md := &cc.MetaData
					if cc.FilePath != "" || len(cc.EncryptedColumnMetadata) > 0 || md.BloomFilterOffset > 0 {
						return fmt.Errorf("%w: %s: column %v is stored elsewhere, encrypted or has a bloom filter", ErrConcat, src, md.PathInSchema)
					}
					start := md.DataPageOffset
					if md.DictionaryPageOffset > 0 && md.DictionaryPageOffset < start {
						start = md.DictionaryPageOffset
					}
					if md.IndexPageOffset > 0 && md.IndexPageOffset < start {
						start = md.IndexPageOffset
					}
					delta := w.n - start
					if _, err := io.Copy(w, io.NewSectionReader(r, start, md.TotalCompressedSize)); err != nil {
						return fmt.Errorf("%s: %w", src, err)
					}
					compressed += md.TotalCompressedSize
					md.DataPageOffset += delta
					if md.DictionaryPageOffset > 0 {
						md.DictionaryPageOffset += delta
					}
					if md.IndexPageOffset > 0 {
						md.IndexPageOffset += delta
					}
					cc.FileOffset += delta
					var ix index
					if cc.ColumnIndexLength > 0 {
						ix.column = make([]byte, cc.ColumnIndexLength)
						if _, err := r.ReadAt(ix.column, cc.ColumnIndexOffset); err != nil {
							return fmt.Errorf("%s: column index: %w", src, err)
						}
					}
					if cc.OffsetIndexLength > 0 {
						raw := make([]byte, cc.OffsetIndexLength)
						if _, err := r.ReadAt(raw, cc.OffsetIndexOffset); err != nil {
							return fmt.Errorf("%s: offset index: %w", src, err)
						}
						var oi format.OffsetIndex
						if err := thrift.Unmarshal(proto, raw, &oi); err != nil {
							return fmt.Errorf("%w: %s: offset index: %w", ErrConcat, src, err)
						}
						for p := range oi.PageLocations {
							oi.PageLocations[p].Offset += delta
						}
						if ix.offset, err = thrift.Marshal(proto, &oi); err != nil {
							return err
						}
					}
					idx = append(idx, ix)
				}
				rg.FileOffset = rgStart
				rg.TotalCompressedSize = compressed
				rg.Ordinal = int16(len(out.RowGroups))
				out.RowGroups = append(out.RowGroups, rg)
				out.NumRows += rg.NumRows
				indexes = append(indexes, idx)
			}
			return nil
		}()
		if err != nil {
			return err
		}
	}
	// The column indexes of every row group, then the offset indexes, as
	// parquet-go lays them out.
	for g := range out.RowGroups {
		for c := range out.RowGroups[g].Columns {
			cc := &out.RowGroups[g].Columns[c]
			if b := indexes[g][c].column; b != nil {
				cc.ColumnIndexOffset, cc.ColumnIndexLength = w.n, int32(len(b))
				if _, err := w.Write(b); err != nil {
					return err
				}
			}
		}
	}
	for g := range out.RowGroups {
		for c := range out.RowGroups[g].Columns {
			cc := &out.RowGroups[g].Columns[c]
			if b := indexes[g][c].offset; b != nil {
				cc.OffsetIndexOffset, cc.OffsetIndexLength = w.n, int32(len(b))
				if _, err := w.Write(b); err != nil {
					return err
				}
			}
		}
	}
	footer, err := thrift.Marshal(proto, &out)
	if err != nil {
		return err
	}
	if _, err := w.Write(footer); err != nil {
		return err
	}
	if err := binary.Write(w, binary.LittleEndian, uint32(len(footer))); err != nil {
		return err
	}
	if _, err := w.Write(magic); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Sync()
}

// openFooter opens a Parquet file and decodes its footer.
func openFooter(path string) (*format.FileMetaData, *os.File, error) {
	r, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	st, err := r.Stat()
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	bad := func(what string) (*format.FileMetaData, *os.File, error) {
		r.Close()
		return nil, nil, fmt.Errorf("%w: %s: %s", ErrConcat, path, what)
	}
	size := st.Size()
	if size < 12 {
		return bad("too short for Parquet")
	}
	tail := make([]byte, 8)
	if _, err := r.ReadAt(tail, size-8); err != nil {
		r.Close()
		return nil, nil, err
	}
	if !bytes.Equal(tail[4:], magic) {
		return bad("no PAR1 at its end (encrypted footers are not supported)")
	}
	n := int64(binary.LittleEndian.Uint32(tail))
	if n > size-12 {
		return bad("footer length beyond the file")
	}
	raw := make([]byte, n)
	if _, err := r.ReadAt(raw, size-8-n); err != nil {
		r.Close()
		return nil, nil, err
	}
	var meta format.FileMetaData
	if err := thrift.Unmarshal(&thrift.CompactProtocol{}, raw, &meta); err != nil {
		return bad("footer: " + err.Error())
	}
	return &meta, r, nil
}

// countWriter counts the bytes written through it and, if it has a
// hash, hashes them.
type countWriter struct {
	w io.Writer
	n int64
	h hash.Hash
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if c.h != nil {
		c.h.Write(p[:n])
	}
	return n, err
}
