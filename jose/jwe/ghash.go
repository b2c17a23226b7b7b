package jwe

import "encoding/binary"

// ghash is GCM's universal hash (NIST SP 800-38D, 6.4) over GF(2^128), computed incrementally
// so that a ciphertext of any length can be authenticated without holding it. It multiplies
// with 4-bit tables of multiples of H (Shoup's method), as Go's generic GCM implementation did
// before it moved behind an internal package.
type ghash struct {
	table [16]fieldElement // table[reverseBits(i)] = i·H
	y     fieldElement     // running hash value
	buf   [blockSize]byte  // pending partial block of the current input
	nbuf  int
	aad   uint64 // bytes of additional data hashed
	ct    uint64 // bytes of ciphertext hashed
}

const blockSize = 16

// fieldElement holds a GF(2^128) element in GCM's bit order: low holds the first 64 bits of the
// block (big-endian), high the last 64.
type fieldElement struct{ low, high uint64 }

func newGHASH(h *[blockSize]byte) *ghash {
	g := &ghash{}
	x := fieldElement{binary.BigEndian.Uint64(h[:8]), binary.BigEndian.Uint64(h[8:])}
	g.table[reverseBits(1)] = x
	for i := 2; i < 16; i += 2 {
		g.table[reverseBits(i)] = fieldDouble(&g.table[reverseBits(i/2)])
		g.table[reverseBits(i+1)] = fieldAdd(&g.table[reverseBits(i)], &x)
	}
	return g
}

func reverseBits(i int) int {
	i = ((i << 2) & 0xc) | ((i >> 2) & 0x3)
	i = ((i << 1) & 0xa) | ((i >> 1) & 0x5)
	return i
}

func fieldAdd(x, y *fieldElement) fieldElement {
	return fieldElement{x.low ^ y.low, x.high ^ y.high}
}

// fieldDouble multiplies x by the field's generator, i.e. shifts right by one bit in GCM's
// reflected representation and reduces by x^128 + x^7 + x^2 + x + 1.
func fieldDouble(x *fieldElement) (d fieldElement) {
	msbSet := x.high&1 == 1
	d.high = x.high >> 1
	d.high |= x.low << 63
	d.low = x.low >> 1
	if msbSet {
		d.low ^= 0xe100000000000000
	}
	return d
}

// reductionTable[i] is i (4 bits shifted out) times the reduction polynomial.
var reductionTable = [16]uint16{
	0x0000, 0x1c20, 0x3840, 0x2460, 0x7080, 0x6ca0, 0x48c0, 0x54e0,
	0xe100, 0xfd20, 0xd940, 0xc560, 0x9180, 0x8da0, 0xa9c0, 0xb5e0,
}

// mul sets y = y·H.
func (g *ghash) mul(y *fieldElement) {
	var z fieldElement
	for i := 0; i < 2; i++ {
		word := y.high
		if i == 1 {
			word = y.low
		}
		for j := 0; j < 64; j += 4 {
			msw := z.high & 0xf
			z.high >>= 4
			z.high |= z.low << 60
			z.low >>= 4
			z.low ^= uint64(reductionTable[msw]) << 48
			t := &g.table[word&0xf]
			z.low ^= t.low
			z.high ^= t.high
			word >>= 4
		}
	}
	*y = z
}

func (g *ghash) blocks(p []byte) {
	for len(p) >= blockSize {
		g.y.low ^= binary.BigEndian.Uint64(p)
		g.y.high ^= binary.BigEndian.Uint64(p[8:])
		g.mul(&g.y)
		p = p[blockSize:]
	}
}

// write hashes p as a continuation of the current input, keeping a partial block pending.
func (g *ghash) write(p []byte) {
	if g.nbuf > 0 {
		n := copy(g.buf[g.nbuf:], p)
		g.nbuf += n
		p = p[n:]
		if g.nbuf < blockSize {
			return
		}
		g.blocks(g.buf[:])
		g.nbuf = 0
	}
	full := len(p) &^ (blockSize - 1)
	g.blocks(p[:full])
	g.nbuf = copy(g.buf[:], p[full:])
}

// pad zero-pads a pending partial block, ending the current input.
func (g *ghash) pad() {
	if g.nbuf == 0 {
		return
	}
	clear(g.buf[g.nbuf:])
	g.blocks(g.buf[:])
	g.nbuf = 0
}

// additionalData hashes the complete additional authenticated data; call it once, first.
func (g *ghash) additionalData(a []byte) {
	g.write(a)
	g.pad()
	g.aad = uint64(len(a))
}

// ciphertext hashes the next piece of ciphertext.
func (g *ghash) ciphertext(c []byte) {
	g.write(c)
	g.ct += uint64(len(c))
}

// sum ends the input with the length block and returns the hash value S.
func (g *ghash) sum() [blockSize]byte {
	g.pad()
	var l [blockSize]byte
	binary.BigEndian.PutUint64(l[:8], g.aad*8)
	binary.BigEndian.PutUint64(l[8:], g.ct*8)
	g.blocks(l[:])
	var s [blockSize]byte
	binary.BigEndian.PutUint64(s[:8], g.y.low)
	binary.BigEndian.PutUint64(s[8:], g.y.high)
	return s
}
