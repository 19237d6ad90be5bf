package web

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/jobs"
	"github.com/ferry-migrate/ferry/internal/staging"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// spooled is an upload written to the uploads directory, for a staging job.
type spooled struct {
	path     string
	size     int64
	checksum string // SHA-256, hex
}

// spool writes r to a new file of the uploads directory while measuring and
// hashing it, and stops at the upload limit. When it fails, it leaves no
// file behind.
func (s *Server) spool(r io.Reader) (*spooled, error) {
	dir := jobs.UploadDir(s.opts.DataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, apperr.Internal(fmt.Errorf("create the uploads directory: %w", err))
	}
	f, err := os.CreateTemp(dir, jobs.SpoolPattern)
	if err != nil {
		return nil, apperr.Internal(fmt.Errorf("spool an upload: %w", err))
	}
	meter := &uploadMeter{r: r, limit: s.opts.MaxExtractBytes, hash: sha256.New()}
	_, err = io.Copy(f, meter)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		switch {
		case meter.tooLarge:
			return nil, s.tooLarge()
		case meter.err != nil:
			return nil, refuse("file", "The upload was interrupted before the end of the file; nothing was staged. Try again.")
		}
		return nil, apperr.Internal(fmt.Errorf("spool an upload: %w", err))
	}
	return &spooled{path: f.Name(), size: meter.n, checksum: hex.EncodeToString(meter.hash.Sum(nil))}, nil
}

// checkSpooled opens a spooled upload as its staging will and checks what
// can be checked at once, so that the person who sent it is told next to
// the form (or in the API's answer) rather than by a failed job: that the
// format can be read, that its first record can, and that the record key
// is a column of a file whose columns are known from the start (CSV's
// header), spelled as the file spells it. It returns the format and the key.
func checkSpooled(path, format, key string) (string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", apperr.Internal(err)
	}
	defer f.Close()
	reader, detected, err := staging.OpenReader(f, format)
	if err != nil {
		return "", "", err
	}
	if cols := reader.Columns(); key != "" && len(cols) > 0 {
		found := ""
		for _, col := range cols {
			if strings.EqualFold(col, key) {
				found = col
			}
		}
		if found == "" {
			return "", "", refuse("key_attribute", fmt.Sprintf("The file has no column %q; its columns are %s. Nothing was staged.", key, listColumns(cols)))
		}
		key = found
	}
	if _, err := reader.Next(); err != nil {
		var ee *extract.Error
		if errors.As(err, &ee) {
			return "", "", apperr.Invalid("The extract cannot be staged; nothing was changed: "+ee.Error(), nil)
		}
	}
	return detected, key, nil
}

// uploadName is the name a file was uploaded under, within reason.
func uploadName(name string) string {
	const most = 255
	if len(name) <= most {
		return name
	}
	for n := most; n > 0; n-- {
		if utf8.RuneStart(name[n]) {
			return name[:n]
		}
	}
	return ""
}
