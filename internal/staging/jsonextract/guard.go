package jsonextract

import (
	"fmt"
	"io"
	"unicode/utf8"
)

// guard sits between the file and encoding/json's Decoder. It refuses what
// the decoder would either accept silently or buffer without bound:
//
//   - bytes that are not UTF-8 (the decoder replaces them with U+FFFD, which
//     would stage a Latin-1 file as garbage instead of refusing it);
//   - NUL bytes (binary data: JSON text never holds one);
//   - a single string or number longer than maxRun raw bytes (the decoder
//     keeps a whole token in memory before handing it over, so a 2 GiB string
//     would otherwise sit in memory before its size could be checked).
//
// It also remembers where the newlines are, so that a decoder offset (a
// syntax error's, a record's start) can be turned into a line number.
type guard struct {
	r      io.Reader
	maxRun int

	off      int64   // bytes handed to the decoder so far
	line     int     // line of the next byte handed out
	newlines []int64 // offsets of the newlines handed out and not yet passed by lineAt
	passed   int     // newlines dropped from newlines by lineAt
	base     int     // newlines before the guard's first byte (skipped by NewReader)

	inString, escaped bool
	run               int // length of the current string or bare token

	stash  [utf8.UTFMax]byte // an incomplete UTF-8 sequence held back for the next Read
	nstash int
	err    error // handed out on the next Read
}

// guardError is a problem the guard found: the decoder passes it through.
type guardError struct {
	line int
	msg  string
}

func (e *guardError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func newGuard(r io.Reader, maxRun int, base int) *guard {
	return &guard{r: r, maxRun: maxRun, line: base + 1, base: base}
}

func (g *guard) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if len(p) == 0 {
		return 0, nil
	}
	n := copy(p, g.stash[:g.nstash])
	copy(g.stash[:], g.stash[n:g.nstash])
	g.nstash -= n
	var rerr error
	if g.nstash == 0 {
		var m int
		m, rerr = g.r.Read(p[n:])
		n += m
	}
	end := n
	if rerr == nil {
		// Hold back a UTF-8 sequence cut by the end of this read.
		for i := n - 1; i >= 0 && i >= n-(utf8.UTFMax-1); i-- {
			if utf8.RuneStart(p[i]) {
				if !utf8.FullRune(p[i:n]) {
					g.nstash = copy(g.stash[:], p[i:n])
					end = i
				}
				break
			}
		}
	} else if rerr != io.EOF {
		g.err = rerr
	}
	k, problem := g.scan(p[:end])
	if problem != nil {
		g.err = problem
	} else if rerr == io.EOF {
		g.err = io.EOF
	}
	if k == 0 && g.err != nil {
		return 0, g.err
	}
	return k, nil
}

// scan checks p and returns how many of its bytes may be handed out, with the
// problem found just after them.
func (g *guard) scan(p []byte) (int, error) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		size := 1
		switch {
		case c == '\n':
			g.newlines = append(g.newlines, g.off+int64(i))
			g.line++
		case c == 0:
			return g.stop(p, i, "binary data (a NUL byte): not a UTF-8 JSON file")
		case c >= utf8.RuneSelf:
			r, s := utf8.DecodeRune(p[i:])
			if r == utf8.RuneError && s <= 1 {
				return g.stop(p, i, fmt.Sprintf("byte 0x%02X is not valid UTF-8: save the file as UTF-8", c))
			}
			size = s
		}
		if g.inString {
			switch {
			case g.escaped:
				g.escaped = false
			case c == '\\':
				g.escaped = true
			case c == '"':
				g.inString = false
				g.run = 0
				continue
			}
			g.run += size
		} else {
			switch c {
			case '"':
				g.inString = true
				g.run = 0
				continue
			case '{', '}', '[', ']', ',', ':', ' ', '\t', '\r', '\n':
				g.run = 0
				continue
			}
			g.run += size
		}
		if g.run > g.maxRun {
			return g.stop(p, i, fmt.Sprintf("a value longer than the limit of %d bytes", g.maxRun))
		}
		i += size - 1
	}
	g.off += int64(len(p))
	return len(p), nil
}

func (g *guard) stop(p []byte, i int, msg string) (int, error) {
	g.off += int64(i)
	return i, &guardError{line: g.line, msg: msg}
}

// lineAt returns the line of the byte at offset off (counted from the first
// byte handed to the decoder). Offsets must not go backwards from one call to
// the next.
func (g *guard) lineAt(off int64) int {
	for len(g.newlines) > 0 && g.newlines[0] < off {
		g.newlines = g.newlines[1:]
		g.passed++
	}
	return g.base + g.passed + 1
}
