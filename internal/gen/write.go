package gen

import (
	"bufio"
	"encoding/base64"
	"io"
	"strings"
)

// WriteCSV writes a header and cfg.Users rows, comma-separated, each line
// ended by CRLF, a field quoted when it holds a comma, a quote, a line break
// or a leading space (RFC 4180). UTF-8 without a byte-order mark.
func WriteCSV(w io.Writer, cfg Config) (Report, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	line := make([]byte, 0, 512)
	line = appendCSV(line, columns[:])
	if _, err := bw.Write(line); err != nil {
		return Report{}, err
	}
	rep, err := Generate(cfg, func(_ int, values []string) error {
		line = appendCSV(line[:0], values)
		_, err := bw.Write(line)
		return err
	})
	if err != nil {
		return rep, err
	}
	return rep, bw.Flush()
}

func appendCSV(b []byte, values []string) []byte {
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		if !needsQuotes(v) {
			b = append(b, v...)
			continue
		}
		b = append(b, '"')
		for {
			q := strings.IndexByte(v, '"')
			if q < 0 {
				break
			}
			b = append(b, v[:q+1]...)
			b = append(b, '"')
			v = v[q+1:]
		}
		b = append(b, v...)
		b = append(b, '"')
	}
	return append(b, '\r', '\n')
}

// csvSpecial marks the bytes that make a field need quotes.
var csvSpecial = [256]bool{',': true, '"': true, '\r': true, '\n': true}

func needsQuotes(v string) bool {
	if v == "" {
		return false
	}
	if v[0] == ' ' || v[0] == '\t' {
		return true
	}
	for i := 0; i < len(v); i++ {
		if csvSpecial[v[i]] {
			return true
		}
	}
	return false
}

// ldifWidth is where LDIF lines are folded, as ldapsearch and slapcat do.
const ldifWidth = 76

// WriteLDIF writes cfg.Users entries as an LDIF file (RFC 2849), as an
// export of an OpenLDAP or Active Directory people branch looks: version
// line, then per user "dn: uid=E000001,ou=people,dc=example,dc=com", the
// inetOrgPerson object classes, uid (the employeeID) and cn (the
// displayName), then the columns in order, an empty value left out as a
// directory does. A value that is not a SAFE-STRING (non-ASCII, or starting
// with a space, ':' or '<', or ending with a space) is written base64
// ("name:: …"); lines longer than 76 bytes are folded. The manager attribute
// holds the manager's employeeID, as in the other formats, not a DN.
func WriteLDIF(w io.Writer, cfg Config) (Report, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Report{}, err
	}
	base := ",ou=people,dc=" + strings.ReplaceAll(cfg.Domain, ".", ",dc=")
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString("version: 1\n"); err != nil {
		return Report{}, err
	}
	entry := make([]byte, 0, 2048)
	rep, err := Generate(cfg, func(_ int, values []string) error {
		entry = append(entry[:0], '\n')
		entry = appendLDIF(entry, "dn", "uid="+values[colEmployeeID]+base)
		entry = append(entry, "objectClass: top\nobjectClass: person\nobjectClass: organizationalPerson\nobjectClass: inetOrgPerson\n"...)
		entry = appendLDIF(entry, "uid", values[colEmployeeID])
		cn := values[colDisplayName]
		if cn == "" {
			cn = values[colGivenName]
		}
		entry = appendLDIF(entry, "cn", cn)
		for i, v := range values {
			if v != "" {
				entry = appendLDIF(entry, columns[i], v)
			}
		}
		_, err := bw.Write(entry)
		return err
	})
	if err != nil {
		return rep, err
	}
	return rep, bw.Flush()
}

// appendLDIF appends one attribute line, base64 when the value is not a
// SAFE-STRING, folded at ldifWidth.
func appendLDIF(b []byte, name, value string) []byte {
	start := len(b)
	b = append(b, name...)
	if safeString(value) {
		b = append(b, ": "...)
		b = append(b, value...)
	} else {
		b = append(b, ":: "...)
		b = base64.StdEncoding.AppendEncode(b, []byte(value))
	}
	if len(b)-start <= ldifWidth {
		return append(b, '\n')
	}
	// Fold: the first line keeps ldifWidth bytes, each continuation a space
	// and ldifWidth-1 bytes. Every byte is ASCII here, so any cut is safe.
	line := string(b[start:])
	b = append(b[:start], line[:ldifWidth]...)
	for rest := line[ldifWidth:]; rest != ""; {
		n := min(len(rest), ldifWidth-1)
		b = append(b, '\n', ' ')
		b = append(b, rest[:n]...)
		rest = rest[n:]
	}
	return append(b, '\n')
}

// safeString reports whether an LDIF value may be written as is (RFC 2849
// SAFE-STRING, and no trailing space, which readers may drop).
func safeString(v string) bool {
	if v == "" {
		return true
	}
	switch v[0] {
	case ' ', ':', '<':
		return false
	}
	if v[len(v)-1] == ' ' {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == 0 || c == '\n' || c == '\r' || c >= 0x80 {
			return false
		}
	}
	return true
}

// WriteJSON writes cfg.Users objects, one per user with every column as a
// string member (an empty value as ""), in column order: a JSON array, one
// object a line, or with ndjson one object a line and nothing around them.
func WriteJSON(w io.Writer, cfg Config, ndjson bool) (Report, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	keys := make([][]byte, NumColumns)
	for i, c := range columns {
		k := []byte{'"'}
		if i > 0 {
			k = []byte{',', '"'}
		}
		keys[i] = append(append(k, c...), '"', ':')
	}
	obj := make([]byte, 0, 1024)
	rep, err := Generate(cfg, func(row int, values []string) error {
		obj = obj[:0]
		if !ndjson {
			if row == 1 {
				obj = append(obj, '[', '\n')
			} else {
				obj = append(obj, ',', '\n')
			}
		}
		obj = append(obj, '{')
		for i, v := range values {
			obj = append(obj, keys[i]...)
			obj = appendJSONString(obj, v)
		}
		obj = append(obj, '}')
		if ndjson {
			obj = append(obj, '\n')
		}
		_, err := bw.Write(obj)
		return err
	})
	if err != nil {
		return rep, err
	}
	if !ndjson {
		end := "\n]\n"
		if rep.Rows == 0 {
			end = "[]\n"
		}
		if _, err := bw.WriteString(end); err != nil {
			return rep, err
		}
	}
	return rep, bw.Flush()
}

const hexDigits = "0123456789abcdef"

func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
