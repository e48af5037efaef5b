package state

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"

	"github.com/creditrun/creditrun/pipeline/pqfile"
)

// AccountIDs reads the account ids of the snapshot in dir, in the order
// of its accounts table (ascending), from that one column: what a night
// needs to know which events have an account before it reads them.
func AccountIDs(dir string) (ids []int64, err error) {
	path := filepath.Join(dir, AccountsFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadState, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	pf, err := openParquet(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadState, path, err)
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: account_id: corrupt page: %v", ErrBadState, path, r)
		}
	}()
	leaf, ok := pf.Schema().Lookup("account_id")
	if !ok || leaf.Node.Type().Kind() != parquet.Int64 {
		return nil, fmt.Errorf("%w: %s: no INT64 column account_id", ErrBadState, path)
	}
	ids = make([]int64, 0, pf.NumRows())
	vals := make([]parquet.Value, 4096)
	var chunk pqfile.Chunk
	for g, rg := range pf.RowGroups() {
		if int64(len(ids))+rg.NumRows() > int64(cap(ids)) {
			return nil, fmt.Errorf("%w: %s: row groups hold more rows than the file's %d", ErrBadState, path, cap(ids))
		}
		if directPath && !leaf.Node.Optional() {
			n := len(ids)
			ids, err = readIDs(&chunk, f, &pf.Metadata().RowGroups[g].Columns[leaf.ColumnIndex], ids)
			if err == nil && int64(len(ids)-n) != rg.NumRows() {
				err = fmt.Errorf("row group %d has %d values in %d rows", g, len(ids)-n, rg.NumRows())
			}
			if err == nil {
				continue
			}
			if !errors.Is(err, pqfile.ErrChunkUnsupported) {
				return nil, fmt.Errorf("%w: %s: account_id: %w", ErrBadState, path, err)
			}
		}
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			p, err := pages.ReadPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				pages.Close()
				return nil, fmt.Errorf("%w: %s: account_id: %w", ErrBadState, path, err)
			}
			r := p.Values()
			for {
				n, err := r.ReadValues(vals)
				for _, v := range vals[:n] {
					ids = append(ids, v.Int64())
				}
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					parquet.Release(p)
					pages.Close()
					return nil, fmt.Errorf("%w: %s: account_id: %w", ErrBadState, path, err)
				}
			}
			parquet.Release(p)
		}
		pages.Close()
	}
	if int64(len(ids)) != pf.NumRows() {
		return nil, fmt.Errorf("%w: %s: account_id has %d values in %d rows", ErrBadState, path, len(ids), pf.NumRows())
	}
	return ids, nil
}

// readIDs appends the values of the INT64 column chunk cc, read directly,
// to ids, within its capacity.
func readIDs(c *pqfile.Chunk, r io.ReaderAt, cc *format.ColumnChunk, ids []int64) ([]int64, error) {
	if err := c.Open(r, cc, false); err != nil {
		return ids, err
	}
	for {
		n, err := c.ReadInt64s(ids[len(ids):cap(ids)], nil)
		ids = ids[:len(ids)+n]
		if errors.Is(err, io.EOF) {
			return ids, nil
		}
		if err != nil {
			return ids, err
		}
		if n == 0 {
			return ids, fmt.Errorf("%d values left past the file's rows", c.Left())
		}
	}
}
