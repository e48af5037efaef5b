package pqfile

import "encoding/binary"

// maxLiteralGroups is the most groups of 8 values one bit-packed run
// holds: 63, so that its header is one byte, as parquet-mr and Arrow
// write them.
const maxLiteralGroups = 63

// appendHybrid appends the RLE/bit-packed hybrid encoding of vals, each
// below 1<<width (width 1 to 32), without the length prefix: runs of 8 or
// more equal values starting on a group boundary are RLE runs, the rest
// bit-packed groups of 8, the last one padded with zeros.
func appendHybrid[V uint8 | int32](dst []byte, vals []V, width uint) []byte {
	lit := 0 // start of the values not yet encoded, all literals so far
	i := 0
	for i < len(vals) {
		j := i + 1
		for j < len(vals) && vals[j] == vals[i] {
			j++
		}
		if j-i < 8 {
			i = min(i+8, len(vals))
			continue
		}
		dst = appendBitPacked(dst, vals[lit:i], width)
		dst = binary.AppendUvarint(dst, uint64(j-i)<<1)
		v := uint32(vals[i])
		for b := uint(0); b < width; b += 8 {
			dst = append(dst, byte(v>>b))
		}
		i, lit = j, j
	}
	return appendBitPacked(dst, vals[lit:], width)
}

// appendBitPacked appends vals as bit-packed runs of at most
// maxLiteralGroups groups each; only the last group may be short, and is
// padded with zeros.
func appendBitPacked[V uint8 | int32](dst []byte, vals []V, width uint) []byte {
	for len(vals) > 0 {
		groups := min((len(vals)+7)/8, maxLiteralGroups)
		dst = binary.AppendUvarint(dst, uint64(groups)<<1|1)
		n := min(groups*8, len(vals))
		if width == 1 {
			dst = packBits(dst, vals[:n])
		} else {
			var acc uint64
			var bits uint
			for _, v := range vals[:n] {
				acc |= uint64(uint32(v)) << bits
				bits += width
				for bits >= 8 {
					dst = append(dst, byte(acc))
					acc >>= 8
					bits -= 8
				}
			}
			for k := n; k < groups*8; k++ { // padding
				bits += width
				for bits >= 8 {
					dst = append(dst, byte(acc))
					acc >>= 8
					bits -= 8
				}
			}
		}
		vals = vals[n:]
	}
	return dst
}

// packBits appends vals of one bit each, eight to a byte, the first in the
// lowest bit, the last byte padded with zeros.
func packBits[V uint8 | int32](dst []byte, vals []V) []byte {
	for len(vals) >= 8 {
		dst = append(dst, byte(vals[0]&1|vals[1]&1<<1|vals[2]&1<<2|vals[3]&1<<3|
			vals[4]&1<<4|vals[5]&1<<5|vals[6]&1<<6|vals[7]&1<<7))
		vals = vals[8:]
	}
	if len(vals) > 0 {
		var b byte
		for k, v := range vals {
			b |= byte(v&1) << k
		}
		dst = append(dst, b)
	}
	return dst
}
