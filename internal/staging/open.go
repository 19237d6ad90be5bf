package staging

import (
	"bufio"
	"bytes"
	"fmt"
	"io"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/staging/csvextract"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
	"github.com/ferry-migrate/ferry/internal/staging/jsonextract"
	"github.com/ferry-migrate/ferry/internal/staging/ldifextract"
)

// Formats Ferry reads.
const (
	FormatCSV  = "csv"
	FormatLDIF = "ldif"
	FormatJSON = "json"
)

// DetectFormat tells the format of an extract from its first bytes: JSON
// starts with [ or {, LDIF with "version:", "dn:" or a comment before them;
// anything else is read as CSV (whose reader refuses what is not text).
func DetectFormat(head []byte) string {
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(head, " \t\r\n")
	if len(trimmed) > 0 && (trimmed[0] == '[' || trimmed[0] == '{') {
		return FormatJSON
	}
	for _, line := range bytes.Split(trimmed, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		switch {
		case len(line) == 0 || line[0] == '#':
			continue
		case bytes.HasPrefix(bytes.ToLower(line), []byte("version:")), bytes.HasPrefix(bytes.ToLower(line), []byte("dn:")):
			return FormatLDIF
		}
		break
	}
	return FormatCSV
}

// OpenReader opens the reader of an extract, detecting the format from the
// content unless format forces one.
func OpenReader(r io.Reader, format string) (extract.Reader, string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if format == "" {
		head, _ := br.Peek(4096)
		format = DetectFormat(head)
	}
	var (
		rd  extract.Reader
		err error
	)
	switch format {
	case FormatCSV:
		rd, err = csvextract.NewReader(br, csvextract.Options{})
	case FormatLDIF:
		rd, err = ldifextract.NewReader(br, ldifextract.Options{})
	case FormatJSON:
		rd, err = jsonextract.NewReader(br, jsonextract.Options{})
	default:
		return nil, "", apperr.Invalid(fmt.Sprintf("Unknown format %q: use csv, ldif or json.", format), nil)
	}
	if err != nil {
		return nil, format, apperr.Invalid("The extract cannot be read: "+err.Error(), nil)
	}
	return rd, format, nil
}
