package jwe

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/binary"
	"errors"
)

// maxPlaintext is GCM's limit for one invocation with a 96-bit IV: 2^32 - 2 blocks. Below it,
// the 32-bit counter increment of GCM and the 128-bit increment of cipher.NewCTR agree.
const maxPlaintext = (1<<32 - 2) * blockSize

var errTooLong = errors.New("plaintext exceeds the AES-GCM limit of 2^32-2 blocks (about 64 GiB)")

// gcmStream is AES-GCM (NIST SP 800-38D) split into its parts so that it can run over a stream:
// AES-CTR from inc32(J0) for the ciphertext, GHASH over AAD and ciphertext, and the tag
// E(K, J0) xor S at the end.
type gcmStream struct {
	block cipher.Block
	ctr   cipher.Stream
	hash  *ghash
	j0    [blockSize]byte
	n     uint64
}

func newGCMStream(key, iv, aad []byte) (*gcmStream, error) {
	if len(iv) != 12 {
		return nil, errors.New("AES-GCM IV must be 96 bits")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	var h [blockSize]byte
	block.Encrypt(h[:], h[:])
	s := &gcmStream{block: block, hash: newGHASH(&h)}
	copy(s.j0[:], iv)
	s.j0[blockSize-1] = 1
	counter := s.j0
	binary.BigEndian.PutUint32(counter[12:], 2)
	s.ctr = cipher.NewCTR(block, counter[:])
	s.hash.additionalData(aad)
	return s, nil
}

func (s *gcmStream) count(n int) error {
	s.n += uint64(n)
	if s.n > maxPlaintext {
		return errTooLong
	}
	return nil
}

// seal encrypts src into dst (same length, may alias) and authenticates the result.
func (s *gcmStream) seal(dst, src []byte) error {
	if err := s.count(len(src)); err != nil {
		return err
	}
	s.ctr.XORKeyStream(dst, src)
	s.hash.ciphertext(dst[:len(src)])
	return nil
}

// open authenticates src and decrypts it into dst (same length, may alias).
func (s *gcmStream) open(dst, src []byte) error {
	if err := s.count(len(src)); err != nil {
		return err
	}
	s.hash.ciphertext(src)
	s.ctr.XORKeyStream(dst, src)
	return nil
}

// tag returns the full 128-bit authentication tag; call it once, after the last seal or open.
func (s *gcmStream) tag() [blockSize]byte {
	sum := s.hash.sum()
	var t [blockSize]byte
	s.block.Encrypt(t[:], s.j0[:])
	for i := range t {
		t[i] ^= sum[i]
	}
	return t
}
