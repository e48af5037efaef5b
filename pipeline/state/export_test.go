package state

import (
	"math"

	"github.com/creditrun/creditrun/billing"
)

// ReadTable reads every row of the table file name in dir through the
// state's cursor, with its column chunks read directly or (direct false)
// through parquet-go's pages, and returns the rows and how many chunks
// were read each way.
func ReadTable[T any](dir, name string, direct bool) (rows []T, directChunks, parquetChunks int, err error) {
	defer func(was bool) { directPath = was }(directPath)
	directPath = direct
	c, err := openCursor(dir, name, func(*T) int64 { return 0 })
	if err != nil {
		return nil, 0, 0, err
	}
	defer c.close()
	rows, err = c.take(nil, math.MaxInt64, 0, 0)
	return rows, c.chunks.direct, c.chunks.parquet, err
}

// ReadParquetGo is Read with every column chunk read through parquet-go's
// pages.
func ReadParquetGo(dir string) ([]billing.Account, error) {
	defer func(was bool) { directPath = was }(directPath)
	directPath = false
	return Read(dir)
}

// SetDirect turns the direct reading of column chunks on or off and
// returns what it was.
func SetDirect(on bool) (was bool) {
	was, directPath = directPath, on
	return was
}
