package state

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/parquet-go/parquet-go"
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
	for _, rg := range pf.RowGroups() {
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
