package pqfile

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// bitPackedBitByBit is appendBitPacked written out bit by bit, the
// format's definition: runs of at most maxLiteralGroups groups of 8
// values, each value's bits from the lowest, the last group padded with
// zeros.
func bitPackedBitByBit(dst []byte, vals []int32, width uint) []byte {
	for len(vals) > 0 {
		groups := min((len(vals)+7)/8, maxLiteralGroups)
		dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
		body := make([]byte, groups*int(width))
		for i, v := range vals[:min(groups*8, len(vals))] {
			for b := range width {
				if uint32(v)>>b&1 != 0 {
					bit := uint(i)*width + b
					body[bit/8] |= 1 << (bit % 8)
				}
			}
		}
		dst = append(dst, body...)
		vals = vals[min(groups*8, len(vals)):]
	}
	return dst
}

// Bit-packed runs of every width are the bytes of the format's
// definition, and the hybrid encoding of runs and literals reads back
// through the state's decoder.
func TestBitPacking(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for width := uint(1); width <= 32; width++ {
		for _, n := range []int{1, 7, 8, 9, 63, 64, 65, 504, 505, 1000} {
			vals := make([]int32, n)
			for i := range vals {
				vals[i] = int32(r.Uint64() & (1<<width - 1))
				if i%50 > 30 { // runs, for the hybrid
					vals[i] = vals[i-1]
				}
			}
			got := appendBitPacked(nil, vals, width)
			if want := bitPackedBitByBit(nil, vals, width); !bytes.Equal(got, want) {
				t.Fatalf("width %d, %d values: bit-packed % x, want % x", width, n, got, want)
			}
			hybrid := appendHybrid(nil, vals, width)
			back := make([]int32, n)
			if err := decodeHybrid(hybrid, width, nil, back); err != nil {
				t.Fatalf("width %d, %d values: decode: %v", width, n, err)
			}
			for i := range back {
				if back[i] != vals[i] {
					t.Fatalf("width %d, %d values: value %d reads back %d, want %d", width, n, i, back[i], vals[i])
				}
			}
		}
	}
}
