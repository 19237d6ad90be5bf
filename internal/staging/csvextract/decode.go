package csvextract

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf16"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// The encoding rules are in the package documentation (doc.go).

// detectWindow is the size of the raw read buffer, and so of the window the
// encoding is decided on. A variable so that tests can vary it.
var detectWindow = 64 << 10

type encodingKind int

const (
	encASCII encodingKind = iota // only ASCII so far: UTF-8 and Windows-1252 agree
	encUTF8
	encWindows1252
	encUTF16LE
	encUTF16BE
)

// decodeError is a broken or binary input; the Reader turns it into an
// *extract.Error with the line it happened on.
type decodeError struct{ msg string }

func (e *decodeError) Error() string { return e.msg }

var errNUL = &decodeError{"not a text file (it contains a NUL byte)"}

// windows1252 maps each byte ≥ 0x80 to its UTF-8 encoding, from
// charmap.Windows1252; "" for the five bytes the code page leaves undefined.
var windows1252 = func() (t [256]string) {
	for b := 0x80; b < 0x100; b++ {
		if r := charmap.Windows1252.DecodeByte(byte(b)); r != utf8.RuneError {
			t[b] = string(r)
		}
	}
	return t
}()

// decoder turns the raw input into UTF-8, strictly, as an io.Reader for the
// bufio.Reader the parser reads. A decoding error is returned after every
// byte before it, so the parser knows its line.
type decoder struct {
	src    io.Reader
	raw    []byte // raw input; raw[rr:rw] is not decoded yet
	rr, rw int
	srcErr error // the source's error (io.EOF at the end), once seen

	out    []byte // decoded bytes waiting to be read: a slice of raw or of outBuf
	outBuf []byte // for the converting encodings
	err    error  // returned once out is drained: a *decodeError, an I/O error or io.EOF

	kind     encodingKind
	bom      bool
	mixed    bool   // the window that decided UTF-8 also held invalid bytes
	rawRead  int64  // raw bytes read from src
	onDecide func() // called when Windows-1252 is decided
}

// newDecoder reads the first window and checks the start of the file: the
// byte-order mark, binary signatures, control characters.
func newDecoder(src io.Reader, onWindows1252 func()) (*decoder, error) {
	d := &decoder{src: src, raw: make([]byte, max(detectWindow, 16)), onDecide: onWindows1252}
	d.fill(true)
	if d.rw == 0 && d.srcErr != nil && d.srcErr != io.EOF {
		return nil, d.srcErr
	}
	head := d.raw[:d.rw]
	switch {
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE, 0, 0}), bytes.HasPrefix(head, []byte{0, 0, 0xFE, 0xFF}):
		return nil, &decodeError{"UTF-32 is not supported: save the file as UTF-8"}
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		d.kind, d.bom, d.rr = encUTF8, true, 3
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		d.kind, d.bom, d.rr = encUTF16LE, true, 2
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		d.kind, d.bom, d.rr = encUTF16BE, true, 2
	default:
		d.kind = encASCII
		if what := binarySignature(head); what != "" {
			return nil, &decodeError{"not a text file (it looks like " + what + ")"}
		}
		if len(head) >= 4 && (head[0] != 0 && head[1] == 0 && head[3] == 0 || head[0] == 0 && head[2] == 0 && head[1] != 0) {
			return nil, &decodeError{"not a text file (it looks like UTF-16 without a byte-order mark: save it as UTF-8)"}
		}
	}
	if d.kind != encUTF16LE && d.kind != encUTF16BE {
		controls := 0
		for _, c := range head[d.rr:] {
			if c < 0x20 && c != 0 && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' || c == 0x7F {
				controls++
			}
		}
		if controls > 0 && controls*100 > len(head)-d.rr {
			return nil, &decodeError{"not a text file (it is full of control characters)"}
		}
	} else {
		d.outBuf = make([]byte, 0, 2*len(d.raw))
	}
	return d, nil
}

var signatures = []struct {
	magic, what string
}{
	{"%PDF-", "a PDF document"},
	{"PK\x03\x04", "a ZIP archive: an Excel .xlsx workbook? Export it as CSV"},
	{"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", "an Office document: an Excel .xls workbook? Export it as CSV"},
	{"\x1F\x8B", "a gzip-compressed file"},
	{"\x89PNG", "a PNG image"},
	{"\xFF\xD8\xFF", "a JPEG image"},
	{"GIF8", "a GIF image"},
	{"SQLite format 3\x00", "an SQLite database"},
}

func binarySignature(head []byte) string {
	for _, s := range signatures {
		if bytes.HasPrefix(head, []byte(s.magic)) {
			return s.what
		}
	}
	return ""
}

// encodingName names the encoding decided so far.
func (d *decoder) encodingName() string {
	switch d.kind {
	case encUTF16LE:
		return "UTF-16LE"
	case encUTF16BE:
		return "UTF-16BE"
	case encWindows1252:
		return "Windows-1252"
	}
	if d.bom {
		return "UTF-8 with BOM"
	}
	return "UTF-8"
}

// rawPerByte is the most raw bytes one decoded byte of ASCII can take: the
// parser's delimiters and newlines are 2 bytes each in UTF-16.
func (d *decoder) rawPerByte() int64 {
	if d.kind == encUTF16LE || d.kind == encUTF16BE {
		return 2
	}
	return 1
}

// fill compacts raw and reads from src: once, or until raw is full.
func (d *decoder) fill(full bool) {
	if d.srcErr != nil {
		return
	}
	if d.rr > 0 {
		d.rw = copy(d.raw, d.raw[d.rr:d.rw])
		d.rr = 0
	}
	for empty := 0; d.rw < len(d.raw); {
		n, err := d.src.Read(d.raw[d.rw:])
		if n < 0 || n > len(d.raw)-d.rw {
			d.srcErr = errors.New("csvextract: invalid count from Read")
			return
		}
		d.rw += n
		d.rawRead += int64(n)
		if err != nil {
			d.srcErr = err
			return
		}
		if n == 0 {
			if empty++; empty >= 100 {
				d.srcErr = io.ErrNoProgress
				return
			}
			continue
		}
		empty = 0
		if !full {
			return
		}
	}
}

// Read implements io.Reader: UTF-8 text, then the decoding error if any.
func (d *decoder) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for len(d.out) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		d.decode()
	}
	n := copy(p, d.out)
	d.out = d.out[n:]
	return n, nil
}

// decode makes out non-empty or sets err.
func (d *decoder) decode() {
	for d.err == nil && len(d.out) == 0 {
		if d.rr == d.rw {
			if d.srcErr != nil {
				d.err = d.srcErr
				return
			}
			d.fill(false)
			continue
		}
		atEOF := d.srcErr != nil
		var more bool // the step needs more input to go on
		switch d.kind {
		case encASCII:
			more = d.stepASCII(atEOF)
		case encUTF8:
			more = d.stepUTF8(atEOF)
		case encWindows1252:
			d.stepWindows1252()
		default:
			more = d.stepUTF16(atEOF)
		}
		if more {
			if atEOF { // the steps settle the end of input themselves
				d.err = &decodeError{"broken encoding: the file ends in the middle of a character"}
				return
			}
			d.fill(false)
		}
	}
}

// emit hands out raw[rr:rr+n] as is, stopping at a NUL byte.
func (d *decoder) emit(n int) {
	span := d.raw[d.rr : d.rr+n]
	if z := bytes.IndexByte(span, 0); z >= 0 {
		span = span[:z]
		d.err = errNUL
	}
	d.out = span
	d.rr += len(span)
}

func (d *decoder) stepASCII(atEOF bool) bool {
	span := d.raw[d.rr:d.rw]
	i := firstNonASCII(span)
	if i < 0 {
		d.emit(len(span))
		return false
	}
	if i > 0 {
		d.emit(i)
		return false
	}
	// The first non-ASCII byte: decide on the window that starts with it.
	if !atEOF && (d.rr > 0 || d.rw < len(d.raw)) {
		d.fill(true)
		atEOF = d.srcErr != nil
	}
	window := d.raw[d.rr:d.rw]
	if z := bytes.IndexByte(window, 0); z >= 0 {
		window, atEOF = window[:z], true
	}
	valid, invalid := false, false
	for j := 0; j < len(window); {
		if window[j] < utf8.RuneSelf {
			j++
			continue
		}
		r, size := utf8.DecodeRune(window[j:])
		if r == utf8.RuneError && size <= 1 {
			if !atEOF && !utf8.FullRune(window[j:]) {
				break // cut by the end of the window
			}
			invalid = true
			j++
			continue
		}
		valid = true
		j += size
	}
	switch {
	case invalid && !valid:
		d.kind = encWindows1252
		d.outBuf = make([]byte, 0, 3*len(d.raw))
		if d.onDecide != nil {
			d.onDecide()
		}
	default:
		d.kind = encUTF8
		d.mixed = invalid
	}
	return false
}

func (d *decoder) stepUTF8(atEOF bool) bool {
	span := d.raw[d.rr:d.rw]
	z := bytes.IndexByte(span, 0)
	if z >= 0 {
		span = span[:z]
	}
	cut := len(span)
	if z < 0 && !atEOF {
		cut -= incompleteTail(span)
		if cut == 0 {
			return true
		}
	}
	v := span[:cut]
	if !utf8.Valid(v) {
		bad := firstInvalid(v)
		d.out = v[:bad]
		d.rr += bad
		switch {
		case bad+utf8.UTFMax > len(v) && !utf8.FullRune(v[bad:]) && z < 0:
			d.err = &decodeError{"broken encoding: the file ends in the middle of a UTF-8 character"}
		case d.mixed:
			d.err = &decodeError{fmt.Sprintf("broken encoding: byte 0x%02X is not UTF-8; the file mixes UTF-8 with another encoding", v[bad])}
		default:
			d.err = &decodeError{fmt.Sprintf("broken encoding: byte 0x%02X is not UTF-8, the encoding of the file so far", v[bad])}
		}
		return false
	}
	d.out = v
	d.rr += cut
	if z >= 0 {
		d.err = errNUL
	}
	return false
}

func (d *decoder) stepWindows1252() {
	span := d.raw[d.rr:d.rw]
	if limit := cap(d.outBuf) / 3; len(span) > limit {
		span = span[:limit]
	}
	o := d.outBuf[:0]
	i := 0
	for i < len(span) {
		if j := firstNonASCII(span[i:]); j != 0 {
			if j < 0 {
				j = len(span) - i
			}
			run := span[i : i+j]
			if z := bytes.IndexByte(run, 0); z >= 0 {
				o = append(o, run[:z]...)
				i += z
				d.err = errNUL
				break
			}
			o = append(o, run...)
			i += j
			continue
		}
		s := windows1252[span[i]]
		if s == "" {
			d.err = &decodeError{fmt.Sprintf("broken encoding: byte 0x%02X is neither UTF-8 nor Windows-1252", span[i])}
			break
		}
		o = append(o, s...)
		i++
	}
	d.out = o
	d.rr += i
}

func (d *decoder) stepUTF16(atEOF bool) bool {
	span := d.raw[d.rr:d.rw]
	o := d.outBuf[:0]
	i := 0
	unit := func(j int) rune {
		if d.kind == encUTF16LE {
			return rune(binary.LittleEndian.Uint16(span[j:]))
		}
		return rune(binary.BigEndian.Uint16(span[j:]))
	}
	for i+1 < len(span) && len(o)+utf8.UTFMax <= cap(o) {
		u := unit(i)
		switch {
		case u == 0:
			d.err = errNUL
		case u < utf8.RuneSelf:
			o = append(o, byte(u))
			i += 2
			continue
		case 0xD800 <= u && u < 0xDC00:
			if i+3 >= len(span) {
				if atEOF {
					d.err = &decodeError{"broken encoding: the file ends in the middle of a UTF-16 character"}
				}
				break
			}
			if u2 := unit(i + 2); 0xDC00 <= u2 && u2 < 0xE000 {
				o = utf8.AppendRune(o, utf16.DecodeRune(u, u2))
				i += 4
				continue
			}
			d.err = &decodeError{"broken encoding: an unpaired UTF-16 surrogate"}
		case 0xDC00 <= u && u < 0xE000:
			d.err = &decodeError{"broken encoding: an unpaired UTF-16 surrogate"}
		default:
			o = utf8.AppendRune(o, u)
			i += 2
			continue
		}
		break
	}
	if d.err == nil && i+1 >= len(span) && i < len(span) && atEOF {
		d.err = &decodeError{"broken encoding: the file ends in the middle of a UTF-16 character"}
	}
	d.out = o
	d.rr += i
	return len(o) == 0 && d.err == nil
}

// firstNonASCII is the index of the first byte ≥ 0x80, or -1.
func firstNonASCII(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if b[i] >= utf8.RuneSelf {
			return i
		}
	}
	return -1
}

// incompleteTail is how many bytes at the end of b start a UTF-8 sequence
// that the next bytes may complete.
func incompleteTail(b []byte) int {
	for j := 1; j <= 3 && j <= len(b); j++ {
		c := b[len(b)-j]
		switch {
		case c < 0x80:
			return 0
		case c >= 0xC0:
			need := 2
			if c >= 0xF0 {
				need = 4
			} else if c >= 0xE0 {
				need = 3
			}
			if need > j {
				return j
			}
			return 0
		}
	}
	return 0
}

// firstInvalid is the offset of the first byte of b that is not valid UTF-8.
func firstInvalid(b []byte) int {
	for i := 0; i < len(b); {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return len(b)
}
