package sheet

import (
	"strings"
	"unicode/utf8"
)

// EscapeCell makes a value safe to put in a CSV cell that a spreadsheet will
// open, following OWASP's advice on CSV injection, and UnescapeCell undoes it:
// UnescapeCell(EscapeCell(v)) == v for every string v.
//
// The rule. Let w be v without its leading apostrophes (U+0027). v is escaped
// — an apostrophe is put in front of it — exactly when w starts with a formula
// trigger and is not plain safe data:
//
//   - triggers: = + - @ TAB (U+0009) CR (U+000D) and the full-width ＝ ＋ － ＠
//     (U+FF1D, U+FF0B, U+FF0D, U+FF20), which some spreadsheets fold to their
//     ASCII forms;
//   - plain safe data: an ASCII + or - followed by an ASCII digit, then nothing
//     but ASCII digits, spaces and the characters . , ( ) -. This covers E.164
//     and common phone notation (+4930123456, +1 (555) 123-4567) and negative
//     numbers (-12, -3.5, -1,234.50). Such a cell holds no letter, so no
//     function name and no cell reference, and no ! or | for DDE: a spreadsheet
//     can at most compute arithmetic on constants from it, never run anything
//     or read another cell. Escaping it would show a stray apostrophe in every
//     phone number instead.
//
// Leading apostrophes take part so that escaping stays reversible: "'=1", a
// value that already looks escaped, gets a second apostrophe in front, while
// "'hello" and "'-12" are left alone because UnescapeCell leaves them alone
// too.
//
// XLSX needs none of this: WriteXLSX writes every cell as a typed string.
func EscapeCell(v string) string {
	if needsEscape(v) {
		return "'" + v
	}
	return v
}

// UnescapeCell undoes EscapeCell: it removes one leading apostrophe when the
// rest is a value EscapeCell would have escaped, and returns s unchanged
// otherwise. Read applies it to every CSV cell.
func UnescapeCell(s string) string {
	if rest, ok := strings.CutPrefix(s, "'"); ok && needsEscape(rest) {
		return rest
	}
	return s
}

func needsEscape(v string) bool {
	w := strings.TrimLeft(v, "'")
	return startsWithTrigger(w) && !isPlainNumber(w)
}

func startsWithTrigger(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	switch r {
	case '=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠':
		return true
	}
	return false
}

// isPlainNumber reports whether w is a sign, a digit, then only digits, spaces
// and . , ( ) - — a phone number or a negative number, never a formula that
// can do anything.
func isPlainNumber(w string) bool {
	if len(w) < 2 || (w[0] != '+' && w[0] != '-') || !isDigit(w[1]) {
		return false
	}
	for i := 2; i < len(w); i++ {
		c := w[i]
		if !isDigit(c) && !strings.ContainsRune(" .,()-", rune(c)) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
