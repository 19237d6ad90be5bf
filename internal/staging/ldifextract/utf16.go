package ldifextract

import (
	"encoding/binary"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// encodingError is a file that is not the encoding its byte-order mark
// claims; the reader turns it into an *extract.Error naming the line.
type encodingError struct{ msg string }

func (e *encodingError) Error() string { return e.msg }

// utf16Reader converts a UTF-16 stream (its byte-order mark already read)
// to UTF-8 as it is read: ldifde -u writes "Unicode", that is UTF-16LE.
type utf16Reader struct {
	src       io.Reader
	bigEndian bool
	raw       [32 << 10]byte
	nraw      int // undecoded bytes at the start of raw
	out       []byte
	pending   []byte
	err       error
}

func (u *utf16Reader) Read(p []byte) (int, error) {
	for len(u.pending) == 0 {
		if u.err != nil {
			return 0, u.err
		}
		n, err := u.src.Read(u.raw[u.nraw:])
		u.nraw += n
		u.out = u.out[:0]
		i := 0
	decode:
		for i+2 <= u.nraw {
			c := rune(u.unit(i))
			switch {
			case utf16.IsSurrogate(c) && c < 0xDC00:
				if i+4 > u.nraw {
					break decode // wait for the low half
				}
				r := utf16.DecodeRune(c, rune(u.unit(i+2)))
				if r == utf8.RuneError {
					u.err = &encodingError{"invalid UTF-16: a high surrogate without its low half"}
					break decode
				}
				u.out = utf8.AppendRune(u.out, r)
				i += 4
			case utf16.IsSurrogate(c):
				u.err = &encodingError{"invalid UTF-16: a low surrogate without its high half"}
				break decode
			default:
				u.out = utf8.AppendRune(u.out, c)
				i += 2
			}
		}
		u.nraw = copy(u.raw[:], u.raw[i:u.nraw])
		u.pending = u.out
		if u.err == nil && err != nil {
			if err == io.EOF && u.nraw > 0 {
				u.err = &encodingError{"the file ends in the middle of a UTF-16 character: it looks truncated"}
			} else {
				u.err = err
			}
		}
	}
	n := copy(p, u.pending)
	u.pending = u.pending[n:]
	return n, nil
}

func (u *utf16Reader) unit(i int) uint16 {
	if u.bigEndian {
		return binary.BigEndian.Uint16(u.raw[i:])
	}
	return binary.LittleEndian.Uint16(u.raw[i:])
}
