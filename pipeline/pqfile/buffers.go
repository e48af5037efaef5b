package pqfile

import (
	"io"
	"sync"
)

// A column chunk's compressed pages are kept in blocks until its row group
// is written: the first blockSizes[0] bytes, each next block twice the
// last up to the largest, so that a small chunk holds little memory and a
// large one copies nothing as it grows. The largest is small beside a
// chunk (some hundreds of KiB), so that the unused end of each chunk's
// last block, some 250 of them open at once in a night, stays small.
// Blocks are pooled between writers.
var blockSizes = [...]int{4 << 10, 8 << 10, 16 << 10}

var blockPools [len(blockSizes)]sync.Pool

func getBlock(class int) []byte {
	if b, ok := blockPools[class].Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, blockSizes[class])
}

func putBlock(b []byte) {
	for class, size := range blockSizes {
		if cap(b) == size {
			b = b[:size]
			blockPools[class].Put(&b)
			return
		}
	}
}

// chunkBuffer holds a column chunk's compressed pages.
type chunkBuffer struct {
	blocks [][]byte // full but the last; len is the bytes held
	n      int
}

func (b *chunkBuffer) Len() int { return b.n }

func (b *chunkBuffer) Write(p []byte) {
	for len(p) > 0 {
		if len(b.blocks) == 0 || len(b.blocks[len(b.blocks)-1]) == cap(b.blocks[len(b.blocks)-1]) {
			b.blocks = append(b.blocks, getBlock(min(len(b.blocks), len(blockSizes)-1))[:0])
		}
		last := &b.blocks[len(b.blocks)-1]
		k := min(len(p), cap(*last)-len(*last))
		*last = append(*last, p[:k]...)
		b.n += k
		p = p[k:]
	}
}

// WriteTo writes the bytes held to w and gives the blocks back.
func (b *chunkBuffer) WriteTo(w io.Writer) (int64, error) {
	var written int64
	for _, blk := range b.blocks {
		k, err := w.Write(blk)
		written += int64(k)
		if err != nil {
			return written, err
		}
	}
	b.release()
	return written, nil
}

// release gives the blocks back to their pools.
func (b *chunkBuffer) release() {
	for i, blk := range b.blocks {
		putBlock(blk)
		b.blocks[i] = nil
	}
	b.blocks, b.n = b.blocks[:0], 0
}

// pageEncoders are the encoders every writer borrows to encode a page.
var pageEncoders = sync.Pool{New: func() any { return newPageEncoder() }}
