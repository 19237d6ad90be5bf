package ldifextract_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/ferry-migrate/ferry/internal/staging/extract"
	"github.com/ferry-migrate/ferry/internal/staging/ldifextract"
)

// readAll reads every record, stopping at the first error.
func readAll(tb testing.TB, data []byte, opts ldifextract.Options) ([]extract.Record, *ldifextract.Reader, error) {
	tb.Helper()
	r, err := ldifextract.NewReader(bytes.NewReader(data), opts)
	if err != nil {
		return nil, nil, err
	}
	var recs []extract.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, r, nil
		}
		if err != nil {
			return recs, r, err
		}
		recs = append(recs, rec)
	}
}

// MustReadAll reads a file that must be accepted whole.
func MustReadAll(tb testing.TB, data []byte, opts ldifextract.Options) ([]extract.Record, *ldifextract.Reader) {
	tb.Helper()
	recs, r, err := readAll(tb, data, opts)
	if err != nil {
		tb.Fatalf("unexpected error: %v", err)
	}
	return recs, r
}

func MustReadFixture(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func wantValues(t *testing.T, rec extract.Record, name string, want ...string) {
	t.Helper()
	if got := rec.Attributes[name]; !reflect.DeepEqual(got, want) {
		t.Errorf("entry %d: %s = %q, want %q", rec.Position, name, got, want)
	}
}

func wantWarning(t *testing.T, r *ldifextract.Reader, substr string) {
	t.Helper()
	for _, w := range r.Warnings() {
		if strings.Contains(w, substr) {
			return
		}
	}
	t.Errorf("no warning contains %q: %q", substr, r.Warnings())
}

func wantPositions(t *testing.T, recs []extract.Record) {
	t.Helper()
	for i, rec := range recs {
		if rec.Position != i+1 {
			t.Errorf("record %d has Position %d", i+1, rec.Position)
		}
	}
}

func TestReaderReadsSlapcatExport(t *testing.T) {
	recs, r := MustReadAll(t, MustReadFixture(t, "slapcat.ldif"), ldifextract.Options{})
	if len(recs) != 6 {
		t.Fatalf("%d records, want 6", len(recs))
	}
	wantPositions(t, recs)

	wantValues(t, recs[0], "dn", "dc=example,dc=com")
	wantValues(t, recs[0], "objectClass", "top", "dcObject", "organization")
	// A DN folded at 78 columns.
	wantValues(t, recs[2], "dn", "ou=Research and Development - Advanced Identity Platforms,ou=people,dc=example,dc=com")

	bj := recs[3]
	wantValues(t, bj, "objectClass", "top", "person", "organizationalPerson", "inetOrgPerson")
	wantValues(t, bj, "cn", "Barbara Jensen", "Babs Jensen")
	wantValues(t, bj, "description", "Barbara has been with the company since 2009 and leads the directory consolidation programme across all regional subsidiaries.")
	// slapcat base64-encodes userPassword; it decodes to the hash as text.
	wantValues(t, bj, "userPassword", "{SSHA}Wq2g+9TTGFnV0d5lUVoAgP0rX4yhm8qN")
	// jpegPhoto is binary: kept base64, unfolded and whole.
	photo, err := base64.StdEncoding.DecodeString(bj.Attributes["jpegPhoto"][0])
	if err != nil || len(photo) != 286 || !bytes.HasPrefix(photo, []byte{0xFF, 0xD8, 0xFF, 0xE0}) || !bytes.HasSuffix(photo, []byte{0xFF, 0xD9}) {
		t.Errorf("jpegPhoto: %d bytes, %v", len(photo), err)
	}
	wantValues(t, bj, "entryUUID", "a19698c2-7fdd-1041-8d58-1b3e15ee5f74")

	zoe := recs[4]
	// dn:: and cn:: hold UTF-8 names; a base64 value keeps its leading space.
	wantValues(t, zoe, "dn", "uid=zoë.ångström,ou=Research and Development - Advanced Identity Platforms,ou=people,dc=example,dc=com")
	wantValues(t, zoe, "cn", "Zoë Ångström")
	wantValues(t, zoe, "uid", "zoë.ångström")
	wantValues(t, zoe, "description", " starts with a space")

	wantValues(t, recs[5], "employeeNumber", "004217")

	cols := r.Columns()
	if len(cols) < 5 || !reflect.DeepEqual(cols[:5], []string{"dn", "objectClass", "o", "dc", "structuralObjectClass"}) {
		t.Errorf("columns start %q", cols)
	}
	wantWarning(t, r, "attribute jpegPhoto holds binary data")
	if len(r.Warnings()) != 1 {
		t.Errorf("warnings: %q", r.Warnings())
	}
}

func TestReaderReadsLdifdeExport(t *testing.T) {
	recs, r := MustReadAll(t, MustReadFixture(t, "ldifde_export.ldf"), ldifextract.Options{})
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5", len(recs))
	}
	wantPositions(t, recs)
	for _, rec := range recs {
		// "changetype: add" introduces each object: not an attribute.
		if _, ok := rec.Attributes["changetype"]; ok {
			t.Errorf("entry %d has a changetype attribute", rec.Position)
		}
		for name, vals := range rec.Attributes {
			for _, v := range vals {
				if strings.ContainsAny(v, "\r\n") {
					t.Errorf("entry %d: %s = %q keeps a line break", rec.Position, name, v)
				}
			}
		}
	}
	jane := recs[1]
	wantValues(t, jane, "dn", "CN=Jane Doe,OU=Sales,OU=Corp Users,DC=contoso,DC=com")
	wantValues(t, jane, "objectClass", "top", "person", "organizationalPerson", "user")
	wantValues(t, jane, "sAMAccountName", "jdoe")
	wantValues(t, jane, "userPrincipalName", "jane.doe@contoso.com")
	wantValues(t, jane, "memberOf", "CN=All Staff,OU=Groups,DC=contoso,DC=com", "CN=Sales Team,OU=Groups,DC=contoso,DC=com")
	wantValues(t, jane, "proxyAddresses", "SMTP:jane.doe@contoso.com", "smtp:jdoe@contoso.com")
	// objectGUID and objectSid stay base64 as AD and Okta's AD agent show them.
	wantValues(t, jane, "objectGUID", "4AQlP4lP0xGaDAMF6CwzAQ==")
	wantValues(t, jane, "objectSid", "AQUAAAAAAAUVAAAAx/f+13x3VciUWs4BUAQAAA==")
	thumb, err := base64.StdEncoding.DecodeString(jane.Attributes["thumbnailPhoto"][0])
	if err != nil || len(thumb) != 164 || !bytes.HasSuffix(thumb, []byte{0xFF, 0xD9}) {
		t.Errorf("thumbnailPhoto (folded): %d bytes, %v", len(thumb), err)
	}

	jose := recs[2]
	wantValues(t, jose, "dn", "CN=José Núñez,OU=IT,OU=Corp Users,DC=contoso,DC=com")
	wantValues(t, jose, "cn", "José Núñez")
	wantValues(t, jose, "sn", "Núñez")
	wantValues(t, jose, "distinguishedName", "CN=José Núñez,OU=IT,OU=Corp Users,DC=contoso,DC=com")
	wantValues(t, recs[3], "userAccountControl", "514")

	group := recs[4]
	wantValues(t, group, "member",
		"CN=Jane Doe,OU=Sales,OU=Corp Users,DC=contoso,DC=com",
		"CN=José Núñez,OU=IT,OU=Corp Users,DC=contoso,DC=com",
		"CN=Li Wei,OU=Finance,OU=Corp Users,DC=contoso,DC=com")

	for _, c := range r.Columns() {
		if strings.EqualFold(c, "changetype") {
			t.Errorf("columns list changetype: %q", r.Columns())
		}
	}
	wantWarning(t, r, "attribute objectGUID holds binary data")
	wantWarning(t, r, "attribute objectSid holds binary data")
	wantWarning(t, r, "attribute thumbnailPhoto holds binary data")
}

func TestReaderReadsLdapsearchOutput(t *testing.T) {
	t.Run("-LLL: no version, no comments", func(t *testing.T) {
		recs, _ := MustReadAll(t, MustReadFixture(t, "ldapsearch_LLL.ldif"), ldifextract.Options{})
		if len(recs) != 3 {
			t.Fatalf("%d records", len(recs))
		}
		wantValues(t, recs[2], "givenName", "Zoë")
	})
	t.Run("-L: version line and comments", func(t *testing.T) {
		recs, r := MustReadAll(t, MustReadFixture(t, "ldapsearch_L.ldif"), ldifextract.Options{})
		if len(recs) != 1 || recs[0].Position != 1 {
			t.Fatalf("records: %+v", recs)
		}
		wantValues(t, recs[0], "manager", "uid=bjensen,ou=people,dc=example,dc=com")
		if len(r.Warnings()) != 0 {
			t.Errorf("warnings: %q", r.Warnings())
		}
	})
	t.Run("default mode: the search result lines are skipped", func(t *testing.T) {
		recs, r := MustReadAll(t, MustReadFixture(t, "ldapsearch_default.ldif"), ldifextract.Options{})
		if len(recs) != 1 {
			t.Fatalf("%d records", len(recs))
		}
		for _, c := range r.Columns() {
			if c == "search" || c == "result" {
				t.Errorf("columns: %q", r.Columns())
			}
		}
	})
	t.Run("default mode: a size limit refuses the file", func(t *testing.T) {
		recs, _, err := readAll(t, MustReadFixture(t, "ldapsearch_sizelimit.ldif"), ldifextract.Options{})
		wantError(t, err, "line", 25, `ldapsearch reported "result: 4 Size limit exceeded": the export is incomplete`)
		if len(recs) != 2 {
			t.Errorf("%d records before the refusal", len(recs))
		}
	})
	t.Run("default mode: a search reference is skipped with a warning", func(t *testing.T) {
		in := "dn: cn=a,dc=example,dc=com\ncn: a\n\n# search reference\nref: ldap://dc2.example.com/DC=DomainDnsZones,DC=example,DC=com\n\n# search result\nsearch: 2\nresult: 0 Success\n"
		recs, r := MustReadAll(t, []byte(in), ldifextract.Options{})
		if len(recs) != 1 {
			t.Fatalf("%d records", len(recs))
		}
		wantWarning(t, r, "search references (ref: ldap://dc2.example.com/")
	})
}

func TestReaderMergesCaseVariantsUnderTheFirstSpelling(t *testing.T) {
	in := "dn: cn=a\nobjectClass: top\nobjectclass: person\nOBJECTCLASS: inetOrgPerson\nMail: a@example.com\n\n" +
		"DN: cn=b\nobjectclass: top\nmail: b@example.com\nmAIL: b2@example.com\n"
	recs, r := MustReadAll(t, []byte(in), ldifextract.Options{})
	wantValues(t, recs[0], "objectClass", "top", "person", "inetOrgPerson")
	wantValues(t, recs[0], "Mail", "a@example.com")
	wantValues(t, recs[1], "dn", "cn=b")
	wantValues(t, recs[1], "objectClass", "top")
	wantValues(t, recs[1], "Mail", "b@example.com", "b2@example.com")
	if got := r.Columns(); !reflect.DeepEqual(got, []string{"dn", "objectClass", "Mail"}) {
		t.Errorf("columns %q", got)
	}
	if len(recs[1].Attributes) != 3 {
		t.Errorf("attributes %v", recs[1].Attributes)
	}
}

func TestReaderKeepsAttributeOptionsInTheName(t *testing.T) {
	cert := []byte{0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00, 0xc3}
	in := "dn: cn=a\ncn: Stephen\ncn;lang-fr: Étienne\nCN;LANG-FR: Stéphane\n" +
		"userCertificate;binary:: " + base64.StdEncoding.EncodeToString(cert) + "\n" +
		"member;range=0-1499: cn=x\n"
	recs, r := MustReadAll(t, []byte(in), ldifextract.Options{})
	wantValues(t, recs[0], "cn", "Stephen")
	wantValues(t, recs[0], "cn;lang-fr", "Étienne", "Stéphane")
	wantValues(t, recs[0], "userCertificate;binary", base64.StdEncoding.EncodeToString(cert))
	wantValues(t, recs[0], "member;range=0-1499", "cn=x")
	wantWarning(t, r, "attribute userCertificate;binary holds binary data")
}

func TestReaderDecodesBase64(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	guidLooksLikeText := []byte("ABCDEFGHIJKLMNOP") // 16 bytes that happen to be ASCII
	in := "dn:: " + b64([]byte("cn=Zoë,dc=example,dc=com")) + "\n" +
		"cn:: " + b64([]byte("Zoë Ångström")) + "\n" +
		"description:: " + b64([]byte("two\nlines ")) + "\n" +
		"objectGUID:: " + b64(guidLooksLikeText) + "\n" +
		"userParameters:: " + b64([]byte{0x50, 0x00, 0xff, 0xfe}) + "\n" +
		"comment:: " + b64([]byte("nul\x00inside")) + "\n" +
		"empty::\n" +
		"spaced::    " + b64([]byte("fill")) + "   \n"
	recs, r := MustReadAll(t, []byte(in), ldifextract.Options{})
	rec := recs[0]
	wantValues(t, rec, "dn", "cn=Zoë,dc=example,dc=com")
	wantValues(t, rec, "cn", "Zoë Ångström")
	wantValues(t, rec, "description", "two\nlines ")
	// A known binary type stays base64 even when its bytes look like text.
	wantValues(t, rec, "objectGUID", b64(guidLooksLikeText))
	wantValues(t, rec, "userParameters", b64([]byte{0x50, 0x00, 0xff, 0xfe}))
	wantValues(t, rec, "comment", b64([]byte("nul\x00inside")))
	wantValues(t, rec, "empty", "")
	wantValues(t, rec, "spaced", "fill")
	wantWarning(t, r, "attribute userParameters holds binary data")
	wantWarning(t, r, "attribute comment holds binary data")
}

func TestReaderPlainValues(t *testing.T) {
	in := "dn:cn=no space after the colon\n" +
		"empty:\n" +
		"emptyWithSpaces:   \n" +
		"leading:    four spaces of FILL\n" +
		"trailing: kept  \n" +
		"colon: :starts with a colon\n" +
		"angle: <not a URL\n" +
		"utf8: Zoë Ångström 日本\n" +
		"control: tab\there\n"
	recs, _ := MustReadAll(t, []byte(in), ldifextract.Options{})
	rec := recs[0]
	wantValues(t, rec, "dn", "cn=no space after the colon")
	wantValues(t, rec, "empty", "")
	wantValues(t, rec, "emptyWithSpaces", "")
	wantValues(t, rec, "leading", "four spaces of FILL")
	wantValues(t, rec, "trailing", "kept  ")
	wantValues(t, rec, "colon", ":starts with a colon")
	wantValues(t, rec, "angle", "<not a URL")
	wantValues(t, rec, "utf8", "Zoë Ångström 日本")
	wantValues(t, rec, "control", "tab\there")
}

func TestReaderUnfoldsLines(t *testing.T) {
	in := "version: 1\r\n" +
		"# a comment that is\r\n  folded over\r\n  three lines\r\n" +
		"dn: cn=Barbara Jensen,ou=Product Development,dc=exam\r\n ple,dc=com\r\n" +
		"description: one\r\n  two\r\n three\r\n" + // the space after the fold's space is kept
		"# a comment inside the entry\r\n" +
		"title: tab\n\tcontinued\n" + // OpenLDAP also folds with a tab
		"sn: split in the mid\n dle of a wo\n rd\n" +
		"cn: Zo\n ë\n" // folded inside a UTF-8 character: joined again
	recs, r := MustReadAll(t, []byte(in), ldifextract.Options{})
	rec := recs[0]
	wantValues(t, rec, "dn", "cn=Barbara Jensen,ou=Product Development,dc=example,dc=com")
	wantValues(t, rec, "description", "one twothree")
	wantValues(t, rec, "title", "tabcontinued")
	wantValues(t, rec, "sn", "split in the middle of a word")
	if got := []byte(rec.Attributes["cn"][0]); !bytes.Equal(got, []byte("Zoë")) {
		t.Errorf("cn = %q", got)
	}
	if len(r.Warnings()) != 0 {
		t.Errorf("warnings: %q", r.Warnings())
	}
}

func TestReaderSeparatesEntriesByBlankLines(t *testing.T) {
	in := "\n\n# leading blank lines and comments\n\ndn: cn=a\ncn: a\n\n\n\n" +
		"   \n" + // a line of spaces between entries counts as blank
		"# between\ndn: cn=b\ncn: b\n\n\n"
	recs, _ := MustReadAll(t, []byte(in), ldifextract.Options{})
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	wantPositions(t, recs)
	wantValues(t, recs[1], "cn", "b")
}

func TestReaderAcceptsAnEntryWithOnlyItsDN(t *testing.T) {
	// ldapsearch … 1.1 lists DNs only.
	recs, r := MustReadAll(t, []byte("dn: cn=a\n\ndn: cn=b\n"), ldifextract.Options{})
	if len(recs) != 2 || len(recs[1].Attributes) != 1 {
		t.Fatalf("records %+v", recs)
	}
	if got := r.Columns(); !reflect.DeepEqual(got, []string{"dn"}) {
		t.Errorf("columns %q", got)
	}
}

func TestReaderEmptyFiles(t *testing.T) {
	for name, in := range map[string]string{
		"nothing":         "",
		"blank lines":     "\n\r\n\n",
		"byte-order mark": "\xEF\xBB\xBF",
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := readAll(t, []byte(in), ldifextract.Options{})
			wantError(t, err, "", 0, "the file is empty")
		})
	}
	t.Run("comments only", func(t *testing.T) {
		_, _, err := readAll(t, []byte("# nothing\n# here\n"), ldifextract.Options{})
		wantError(t, err, "", 0, "the file is empty: it holds nothing but comments")
	})
	for name, in := range map[string]string{
		"version line only":                     "version: 1",
		"version line and comments":             "version: 1\n\n# search result\n\n# numEntries: 0\n",
		"ldapsearch default mode with no entry": "# extended LDIF\n#\n\n# search result\nsearch: 2\nresult: 0 Success\n\n# numResponses: 1\n",
	} {
		t.Run(name, func(t *testing.T) {
			recs, r := MustReadAll(t, []byte(in), ldifextract.Options{})
			if len(recs) != 0 {
				t.Errorf("%d records", len(recs))
			}
			wantWarning(t, r, "the file holds no entries")
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("Next after the end: %v", err)
			}
		})
	}
}

func TestReaderAcceptsACompleteFileWithoutAFinalLineBreak(t *testing.T) {
	recs, r := MustReadAll(t, []byte("dn: cn=a\ncn: a\n\ndn: cn=b\ncn:: "+base64.StdEncoding.EncodeToString([]byte("Zoë"))), ldifextract.Options{})
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	wantValues(t, recs[1], "cn", "Zoë")
	wantWarning(t, r, "the file does not end with a line break")
}

func TestReaderConvertsEncodings(t *testing.T) {
	want, _ := MustReadAll(t, MustReadFixture(t, "slapcat.ldif"), ldifextract.Options{})
	utf8Text := string(MustReadFixture(t, "slapcat.ldif")) + "\ndn: cn=emoji\ncn: 😀 outside the BMP\n"
	for _, tc := range []struct {
		name    string
		data    []byte
		warning string
	}{
		{"UTF-8 with a byte-order mark", append([]byte{0xEF, 0xBB, 0xBF}, utf8Text...), ""},
		{"UTF-16LE as ldifde -u writes it", encodeUTF16(utf8Text, binary.LittleEndian, []byte{0xFF, 0xFE}), "UTF-16 (little-endian"},
		{"UTF-16BE", encodeUTF16(utf8Text, binary.BigEndian, []byte{0xFE, 0xFF}), "UTF-16 (big-endian"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs, r := MustReadAll(t, tc.data, ldifextract.Options{})
			if len(recs) != len(want)+1 {
				t.Fatalf("%d records", len(recs))
			}
			if !reflect.DeepEqual(recs[:len(want)], want) {
				t.Errorf("records differ from the UTF-8 file's")
			}
			wantValues(t, recs[len(want)], "cn", "😀 outside the BMP")
			if tc.warning != "" {
				wantWarning(t, r, tc.warning)
			}
		})
	}
}

func encodeUTF16(s string, order binary.AppendByteOrder, bom []byte) []byte {
	out := append([]byte(nil), bom...)
	for _, u := range utf16.Encode([]rune(s)) {
		out = order.AppendUint16(out, u)
	}
	return out
}

func TestReaderReadsATenMegabyteValueWithinTheLimit(t *testing.T) {
	big := strings.Repeat("0123456789", 1_000_000)
	blob := bytes.Repeat([]byte{0xFF, 0x00, 0xD8}, 3_500_000)
	in := "dn: cn=big\ndescription: " + big + "\njpegPhoto:: " + fold(base64.StdEncoding.EncodeToString(blob)) + "\ncn: after\n"
	recs, _ := MustReadAll(t, []byte(in), ldifextract.Options{MaxValueBytes: 16 << 20})
	if got := recs[0].Attributes["description"][0]; got != big {
		t.Errorf("description: %d bytes", len(got))
	}
	photo, _ := base64.StdEncoding.DecodeString(recs[0].Attributes["jpegPhoto"][0])
	if !bytes.Equal(photo, blob) {
		t.Errorf("jpegPhoto: %d bytes", len(photo))
	}
	wantValues(t, recs[0], "cn", "after")
}

// fold folds a value as slapcat does, 76 characters a line.
func fold(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76])
		b.WriteString("\n ")
		s = s[76:]
	}
	b.WriteString(s)
	return b.String()
}

// wantError checks that err is an *extract.Error (itself, not wrapped) with
// this unit and position, whose message holds each substring.
func wantError(t *testing.T, err error, unit string, position int, substrs ...string) {
	t.Helper()
	e, ok := err.(*extract.Error)
	if !ok {
		t.Fatalf("error %T %v, want an *extract.Error", err, err)
	}
	if e.Unit != unit || e.Position != position {
		t.Errorf("error at %s %d, want %s %d: %v", e.Unit, e.Position, unit, position, e)
	}
	for _, s := range substrs {
		if !strings.Contains(e.Error(), s) {
			t.Errorf("error %q does not say %q", e.Error(), s)
		}
	}
}

func TestReaderRefusesBrokenFiles(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString
	tenMB := strings.Repeat("x", 10<<20)
	tests := []struct {
		name     string
		in       string
		opts     ldifextract.Options
		unit     string
		position int
		message  []string
		records  int // read before the refusal
	}{
		{
			name: "not LDIF: plain text", in: "Dear team,\nplease find the users attached.\n",
			unit: "line", position: 1, message: []string{`line 1: not an LDIF file: it should start with "version: 1" or "dn: …", and line 1 starts with "Dear team,"`},
		},
		{
			name: "not LDIF: a CSV file", in: "givenName,sn,mail\nAnn,Brock,ann@example.com\n",
			unit: "line", position: 1, message: []string{"not an LDIF file"},
		},
		{
			name: "not LDIF: a PNG image", in: "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00",
			unit: "line", position: 1, message: []string{"not an LDIF file", `line 1 starts with "\x89PNG"`},
		},
		{
			name: "not LDIF: a gzip file", in: "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\xed\xbd\x07`\x1cI\x96%&/m\xca{\x7fJ\xf5J\xd7\xe0t\xa1\x08\x80`\x13$\xd8\x90@\x10\xec\xc1\x88\xcd\xe6\x92\xec\x1diG#)\xab*\x81\xcaeVe]f\x16@\xcc\xed\x9d\xbc\xf7\xde{\xef\xbd\xf7\xde{\xef\xbd\xf7\xba;\x9dN'\xf7\xdf\xff?\\fd\x01l\xf6\xceJ\xda\xc9\x9e!\x80\xaa\xc8\x1f?~|\x1f?\\",
			unit: "line", position: 1, message: []string{"not an LDIF file", "NUL bytes: a binary file"},
		},
		{
			name: "not LDIF: UTF-16 without a byte-order mark", in: "d\x00n\x00:\x00 \x00c\x00n\x00=\x00a\x00\n\x00",
			unit: "line", position: 1, message: []string{"not an LDIF file", "UTF-16 without a byte-order mark"},
		},
		{
			name: "not LDIF: after comments, an attribute line that is not a DN", in: "# users\n\ncn: Ann\n",
			unit: "line", position: 3, message: []string{"not an LDIF file", `line 3 starts with "cn: Ann"`},
		},
		{
			name: "not LDIF: a first line starting with a space", in: " dn: cn=a\n",
			unit: "line", position: 1, message: []string{"not an LDIF file"},
		},
		{
			name: "not LDIF: one endless line", in: strings.Repeat("garbage ", 300_000),
			unit: "line", position: 1, message: []string{"not an LDIF file"},
		},
		{
			name: "unsupported version", in: "version: 2\ndn: cn=a\n",
			unit: "line", position: 1, message: []string{`line 1: unsupported LDIF version "2"`},
		},
		{
			name: "change record: modify", in: "version: 1\n\ndn: cn=a,dc=example,dc=com\nchangetype: modify\nreplace: mail\nmail: a@example.com\n-\n",
			unit: "entry", position: 1,
			message: []string{"entry 1: line 4: this is an LDIF change record (changetype: modify); export the directory's entries instead (ldifde -f … / slapcat)"},
		},
		{
			name: "change record: delete as the third entry", in: "dn: cn=a\ncn: a\n\ndn: cn=b\ncn: b\n\n# gone\ndn: cn=c\nchangetype: delete\n",
			unit: "entry", position: 3, records: 2, message: []string{"entry 3: line 9: this is an LDIF change record (changetype: delete)"},
		},
		{
			name: "change record: modrdn", in: "dn: cn=a\nchangeType: modrdn\nnewrdn: cn=b\ndeleteoldrdn: 1\n",
			unit: "entry", position: 1, message: []string{"line 2: this is an LDIF change record (changetype: modrdn)"},
		},
		{
			name: "change record: a control", in: "dn: cn=a\ncontrol: 1.2.840.113556.1.4.805 true\nchangetype: delete\n",
			unit: "entry", position: 1, message: []string{"line 2: this is an LDIF change record (control: …)"},
		},
		{
			name: "change record: a - separator", in: "dn: cn=a\ncn: a\n-\n",
			unit: "entry", position: 1, message: []string{`line 3: this is an LDIF change record (a "-" line`},
		},
		{
			name: "invalid base64", in: "dn: cn=a\ncn: a\njpegPhoto:: /9j/4AAQ!kZJRg==\n",
			unit: "entry", position: 1, message: []string{"entry 1: line 3: the value of jpegPhoto does not decode (invalid base64 at byte 9)"},
		},
		{
			name: "invalid base64 DN", in: "dn: cn=a\n\ndn:: Y249Y\n",
			unit: "entry", position: 2, records: 1, message: []string{"line 3: the DN does not decode"},
		},
		{
			name: "truncated: inside a base64 value", in: "dn: cn=a\ncn: a\njpegPhoto:: /9j/4AAQSkZJRgABAQAAAQABAAD/2wBDpU3KGCUwux1tEyz",
			unit: "entry", position: 1, message: []string{"line 3: the value of jpegPhoto does not decode", "the file ends on this line without a line break: it looks truncated"},
		},
		{
			name: "truncated: inside a folded line", in: "dn: cn=a\ncn: a\n\ndn: cn=b\ndescription: the beginning\n of a folded",
			unit: "entry", position: 2, records: 1, message: []string{"entry 2: line 5: the file ends in the middle of a folded line"},
		},
		{
			name: "truncated: a fold with nothing after it", in: "dn: cn=a\ndescription: the beginning\n ",
			unit: "entry", position: 1, message: []string{"line 2: the file ends in the middle of a folded line"},
		},
		{
			name: "truncated: inside a UTF-8 character", in: "dn: cn=a\nsn: Ångstr\xc3",
			unit: "entry", position: 1, message: []string{"line 2: the value of sn is not valid UTF-8", "looks truncated"},
		},
		{
			name: "entry without a DN", in: "version: 1\n\ndn: cn=a\ncn: a\n\n\ncn: b\nsn: b\n",
			unit: "entry", position: 2, records: 1, message: []string{`entry 2: line 7: the entry does not start with a dn: line (it starts with "cn: b")`},
		},
		{
			name: "first entry without a DN after the version line", in: "version: 1\ncn: a\n",
			unit: "entry", position: 1, message: []string{"entry 1: line 2: the entry does not start with a dn: line"},
		},
		{
			name: "two entries without a blank line", in: "dn: cn=a\ncn: a\ndn: cn=b\ncn: b\n",
			unit: "entry", position: 1, message: []string{"line 3: a second dn: line in the same entry; entries must be separated by a blank line"},
		},
		{
			name: "value from a URL", in: "dn: cn=a\njpegPhoto:< file:///tmp/babs.jpg\n",
			unit: "entry", position: 1, message: []string{"line 2: the value of jpegPhoto is to be read from a URL (jpegPhoto:< file:///tmp/babs.jpg); Ferry does not fetch URLs"},
		},
		{
			name: "DN from a URL", in: "dn:< file:///tmp/dn\n",
			unit: "entry", position: 1, message: []string{"line 1: the DN refers to a URL", "Ferry does not fetch URLs"},
		},
		{
			name: "invalid UTF-8 in a plain value (Windows-1252)", in: "dn: cn=a\ncn: a\ndescription: caf\xe9 au lait\n",
			unit: "entry", position: 1, message: []string{"entry 1: line 3: the value of description is not valid UTF-8"},
		},
		{
			name: "invalid UTF-8 in a plain DN", in: "dn: cn=caf\xe9\n",
			unit: "entry", position: 1, message: []string{"line 1: the DN is not valid UTF-8"},
		},
		{
			name: "base64 DN that is not text", in: "dn:: " + b64([]byte{0xff, 0xfe, 0x00}) + "\n",
			unit: "entry", position: 1, message: []string{"line 1: the DN is not UTF-8 text once decoded from base64"},
		},
		{
			name: "NUL in a plain value", in: "dn: cn=a\ncn: a\x00b\n",
			unit: "entry", position: 1, message: []string{"line 2: the value of cn holds a NUL byte"},
		},
		{
			name: "classic Mac line endings (CR only)", in: "dn: cn=a\rcn: a\rsn: b\r",
			unit: "entry", position: 1, message: []string{"line 1: the DN holds a carriage return (CR) without a line feed"},
		},
		{
			name: "a line without a colon", in: "dn: cn=a\ncn: a\nthis is no attribute\n",
			unit: "entry", position: 1, message: []string{`line 3: expected "attribute: value", found "this is no attribute"`},
		},
		{
			name: "an invalid attribute name", in: "dn: cn=a\ngiven name: Ann\n",
			unit: "entry", position: 1, message: []string{`line 2: "given name" is not an attribute name`},
		},
		{
			name: "a continuation after a blank line", in: "dn: cn=a\ncn: a\n\n continues nothing\n",
			unit: "line", position: 4, records: 1, message: []string{"line 4: this line starts with a space, which continues the previous line, but the previous line is blank"},
		},
		{
			name: "a 10 MB value over the default limit", in: "dn: cn=a\ncn: a\ndescription: " + tenMB + "\n",
			unit: "entry", position: 1, message: []string{"entry 1: line 3: the value of description is larger than 1 MiB, the limit for one value"},
		},
		{
			name: "a 10 MB base64 value over the default limit", in: "dn: cn=a\njpegPhoto:: " + fold(b64([]byte(tenMB))) + "\n",
			unit: "entry", position: 1, message: []string{"line 2: the value of jpegPhoto is larger than 1 MiB"},
		},
		{
			name: "a value just over a small limit", in: "dn: cn=a\ncn: 12345678901\n", opts: ldifextract.Options{MaxValueBytes: 10},
			unit: "entry", position: 1, message: []string{"line 2: the value of cn is larger than 10 bytes"},
		},
		{
			name: "a base64 value just over a small limit", in: "dn: cn=a\ncn:: " + b64([]byte("12345678901")) + "\n", opts: ldifextract.Options{MaxValueBytes: 10},
			unit: "entry", position: 1, message: []string{"line 2: the value of cn is larger than 10 bytes"},
		},
		{
			name: "too many values in an entry", in: "dn: cn=a\ncn: a\n\ndn: cn=b\nmember: 1\nmember: 2\nmember: 3\nmember: 4\n",
			opts: ldifextract.Options{MaxAttributesPerEntry: 3}, unit: "entry", position: 2, records: 1,
			message: []string{"entry 2: line 8: the entry holds more than 3 attribute values"},
		},
		{
			name: "an entry too large", in: "dn: cn=a\ndescription: " + strings.Repeat("x", 600) + "\ninfo: " + strings.Repeat("y", 600) + "\n",
			opts: ldifextract.Options{MaxEntryBytes: 1000}, unit: "entry", position: 1, message: []string{"line 3: the entry is larger than 1000 bytes"},
		},
		{
			name: "too many distinct attribute names", in: "dn: cn=a\na1: x\na2: x\n\ndn: cn=b\nA1: x\na3: x\n",
			opts: ldifextract.Options{MaxColumns: 3}, unit: "entry", position: 2, records: 1,
			message: []string{"line 7: the file holds more than 3 distinct attribute names"},
		},
		{
			name: "ldapsearch search line without its result", in: "dn: cn=a\n\nsearch: 2\n",
			unit: "line", position: 3, records: 1, message: []string{"search: line without its result: line"},
		},
		{
			name: "UTF-16 cut in the middle of a character", in: string(encodeUTF16("dn: cn=a\ncn: a\n", binary.LittleEndian, []byte{0xFF, 0xFE})[:31]),
			unit: "entry", position: 1, message: []string{"line 2: the file ends in the middle of a UTF-16 character"},
		},
		{
			name: "UTF-16 with an unpaired surrogate", in: string(append(encodeUTF16("dn: cn=a\ncn: ", binary.LittleEndian, []byte{0xFF, 0xFE}), 0x00, 0xD8, 'x', 0, '\n', 0)),
			unit: "entry", position: 1, message: []string{"line 2: invalid UTF-16: a high surrogate without its low half"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, r, err := readAll(t, []byte(tc.in), tc.opts)
			wantError(t, err, tc.unit, tc.position, tc.message...)
			if len(recs) != tc.records {
				t.Errorf("%d records before the refusal, want %d", len(recs), tc.records)
			}
			if r != nil {
				// All or nothing: once refused, the reader stays refused.
				for range 2 {
					if _, again := r.Next(); again != err {
						t.Errorf("Next after the refusal: %v", again)
					}
				}
			}
		})
	}
}

func TestReaderAcceptsConcatenatedExports(t *testing.T) {
	in := "version: 1\n\ndn: cn=a\ncn: a\n\nversion: 1\n\ndn: cn=b\ncn: b\n"
	recs, r := MustReadAll(t, []byte(in), ldifextract.Options{})
	if len(recs) != 2 {
		t.Fatalf("%d records", len(recs))
	}
	wantPositions(t, recs)
	wantWarning(t, r, "more than one version: line")
}

type failingReader struct{ err error }

func (f failingReader) Read([]byte) (int, error) { return 0, f.err }

func TestReaderPassesIOErrorsThrough(t *testing.T) {
	boom := errors.New("connection reset")
	src := io.MultiReader(strings.NewReader("dn: cn=a\ncn: a\n\ndn: cn=b\n"), failingReader{boom})
	r, err := ldifextract.NewReader(src, ldifextract.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatalf("first entry: %v", err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("got %v, want the source's error", err)
	}
}
