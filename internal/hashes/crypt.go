package hashes

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"hash"
)

// This file implements crypt(3)'s MD5-crypt (Poul-Henning Kamp's FreeBSD
// algorithm, "$1$") and SHA-crypt ("$5$", "$6$", Ulrich Drepper's published
// specification) for verification only.

// cryptB64From24 appends n characters of the 24-bit group b2 b1 b0, least
// significant six bits first, in crypt's alphabet.
func cryptB64From24(dst []byte, b2, b1, b0 byte, n int) []byte {
	w := uint(b2)<<16 | uint(b1)<<8 | uint(b0)
	for ; n > 0; n-- {
		dst = append(dst, cryptAlphabet[w&0x3f])
		w >>= 6
	}
	return dst
}

// md5Crypt returns the 22-character hash part of "$1$salt$hash".
func md5Crypt(password, salt []byte) []byte {
	if len(salt) > 8 {
		salt = salt[:8]
	}
	alt := md5.New()
	alt.Write(password)
	alt.Write(salt)
	alt.Write(password)
	altSum := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(password)
	ctx.Write([]byte("$1$"))
	ctx.Write(salt)
	for n := len(password); n > 0; n -= 16 {
		ctx.Write(altSum[:min(n, 16)])
	}
	for i := len(password); i > 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(password[:1])
		}
	}
	final := ctx.Sum(nil)

	for i := 0; i < 1000; i++ {
		c := md5.New()
		if i&1 != 0 {
			c.Write(password)
		} else {
			c.Write(final)
		}
		if i%3 != 0 {
			c.Write(salt)
		}
		if i%7 != 0 {
			c.Write(password)
		}
		if i&1 != 0 {
			c.Write(final)
		} else {
			c.Write(password)
		}
		final = c.Sum(final[:0])
	}

	out := make([]byte, 0, 22)
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		out = cryptB64From24(out, final[g[0]], final[g[1]], final[g[2]], 4)
	}
	return cryptB64From24(out, 0, 0, final[11], 2)
}

// repeatTo writes seq repeatedly into h until n bytes are written.
func repeatTo(h hash.Hash, seq []byte, n int) {
	for ; n > len(seq); n -= len(seq) {
		h.Write(seq)
	}
	h.Write(seq[:n])
}

// shaCryptOrder256 and shaCryptOrder512 are the byte groups of the final
// encoding in the specification.
var shaCryptOrder256 = [][3]int{
	{0, 10, 20}, {21, 1, 11}, {12, 22, 2}, {3, 13, 23}, {24, 4, 14},
	{15, 25, 5}, {6, 16, 26}, {27, 7, 17}, {18, 28, 8}, {9, 19, 29},
}

var shaCryptOrder512 = [][3]int{
	{0, 21, 42}, {22, 43, 1}, {44, 2, 23}, {3, 24, 45}, {25, 46, 4},
	{47, 5, 26}, {6, 27, 48}, {28, 49, 7}, {50, 8, 29}, {9, 30, 51},
	{31, 52, 10}, {53, 11, 32}, {12, 33, 54}, {34, 55, 13}, {56, 14, 35},
	{15, 36, 57}, {37, 58, 16}, {59, 17, 38}, {18, 39, 60}, {40, 61, 19},
	{62, 20, 41},
}

// shaCrypt returns the hash part of "$5$…" (is512 false) or "$6$…".
func shaCrypt(password, salt []byte, rounds int, is512 bool) []byte {
	newHash := sha256.New
	if is512 {
		newHash = sha512.New
	}
	if len(salt) > 16 {
		salt = salt[:16]
	}
	// Steps 4-8: digest B.
	b := newHash()
	b.Write(password)
	b.Write(salt)
	b.Write(password)
	sumB := b.Sum(nil)
	size := len(sumB)

	// Steps 1-3, 9-12: digest A.
	a := newHash()
	a.Write(password)
	a.Write(salt)
	repeatTo(a, sumB, len(password))
	for i := len(password); i > 0; i >>= 1 {
		if i&1 != 0 {
			a.Write(sumB)
		} else {
			a.Write(password)
		}
	}
	sumA := a.Sum(nil)

	// Steps 13-16: byte sequence P.
	dp := newHash()
	for range len(password) {
		dp.Write(password)
	}
	sumDP := dp.Sum(nil)
	p := make([]byte, 0, len(password))
	for len(p) < len(password) {
		p = append(p, sumDP[:min(size, len(password)-len(p))]...)
	}

	// Steps 17-20: byte sequence S.
	ds := newHash()
	for range 16 + int(sumA[0]) {
		ds.Write(salt)
	}
	sumDS := ds.Sum(nil)
	s := sumDS[:len(salt)]

	// Step 21: the rounds.
	c := sumA
	for i := 0; i < rounds; i++ {
		h := newHash()
		if i&1 != 0 {
			h.Write(p)
		} else {
			h.Write(c)
		}
		if i%3 != 0 {
			h.Write(s)
		}
		if i%7 != 0 {
			h.Write(p)
		}
		if i&1 != 0 {
			h.Write(c)
		} else {
			h.Write(p)
		}
		c = h.Sum(c[:0])
	}

	// Step 22: encoding.
	if !is512 {
		out := make([]byte, 0, 43)
		for _, g := range shaCryptOrder256 {
			out = cryptB64From24(out, c[g[0]], c[g[1]], c[g[2]], 4)
		}
		return cryptB64From24(out, 0, c[31], c[30], 3)
	}
	out := make([]byte, 0, 86)
	for _, g := range shaCryptOrder512 {
		out = cryptB64From24(out, c[g[0]], c[g[1]], c[g[2]], 4)
	}
	return cryptB64From24(out, 0, 0, c[63], 2)
}
