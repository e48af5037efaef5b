package pqfile

import (
	"io"
	"sync"
)

// blockSize is the size of the blocks a column chunk's compressed pages
// are kept in until its row group is written.
const blockSize = 32 << 10

// blocks are the free blocks of every writer.
var blocks = sync.Pool{New: func() any { return new([blockSize]byte) }}

// chunkBuffer holds a column chunk's compressed pages in pooled blocks,
// so that growing it copies nothing and writers reuse each other's
// memory.
type chunkBuffer struct {
	blocks []*[blockSize]byte
	n      int // bytes held
}

func (b *chunkBuffer) Len() int { return b.n }

func (b *chunkBuffer) Write(p []byte) {
	for len(p) > 0 {
		off := b.n % blockSize
		if off == 0 && b.n/blockSize == len(b.blocks) {
			b.blocks = append(b.blocks, blocks.Get().(*[blockSize]byte))
		}
		k := copy(b.blocks[b.n/blockSize][off:], p)
		b.n += k
		p = p[k:]
	}
}

// WriteTo writes the bytes held to w and empties the buffer, keeping its
// blocks.
func (b *chunkBuffer) WriteTo(w io.Writer) (int64, error) {
	var written int64
	for i := 0; written < int64(b.n); i++ {
		k, err := w.Write(b.blocks[i][:min(blockSize, int64(b.n)-written)])
		written += int64(k)
		if err != nil {
			return written, err
		}
	}
	b.n = 0
	return written, nil
}

// release gives the blocks back to the pool.
func (b *chunkBuffer) release() {
	for i, blk := range b.blocks {
		blocks.Put(blk)
		b.blocks[i] = nil
	}
	b.blocks, b.n = b.blocks[:0], 0
}

// pageBuffers are a column's buffers for the page being filled, pooled
// between writers.
type pageBuffers struct {
	defs, values []byte
	idx          []int32
}

var pageBufferPool = sync.Pool{New: func() any { return new(pageBuffers) }}
