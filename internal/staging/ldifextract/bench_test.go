package ldifextract_test

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/staging/ldifextract"
)

// generateLDIF makes n user entries shaped like an ldifde export (CRLF,
// changetype: add, about 30 attribute lines of which several multi-valued,
// base64 objectGUID and objectSid, a base64 accented name, a folded
// description), about 1.5 KB each.
func generateLDIF(n int) []byte {
	first := []string{"Ann", "Bob", "Zoë", "Łukasz", "Mei", "Omar", "Inès", "Sven"}
	last := []string{"Brock", "Nguyen", "Müller", "Okafor", "García", "Smith", "Øvergaard"}
	b64 := base64.StdEncoding.EncodeToString
	var b bytes.Buffer
	guid := make([]byte, 16)
	sid := []byte{1, 5, 0, 0, 0, 0, 0, 5, 21, 0, 0, 0, 199, 247, 254, 215, 124, 119, 85, 200, 148, 90, 206, 1, 0, 0, 0, 0}
	for i := range n {
		binary.LittleEndian.PutUint64(guid, uint64(i)*0x9E3779B97F4A7C15)
		binary.LittleEndian.PutUint64(guid[8:], uint64(i))
		binary.LittleEndian.PutUint32(sid[24:], uint32(1000+i))
		fn, ln := first[i%len(first)], last[i%len(last)]
		cn := fmt.Sprintf("%s %s %d", fn, ln, i)
		dn := fmt.Sprintf("CN=%s,OU=Dept %d,OU=Corp Users,DC=contoso,DC=com", cn, i%25)
		fmt.Fprintf(&b, "dn:: %s\r\nchangetype: add\r\n", b64([]byte(dn)))
		b.WriteString("objectClass: top\r\nobjectClass: person\r\nobjectClass: organizationalPerson\r\nobjectClass: user\r\n")
		fmt.Fprintf(&b, "cn:: %s\r\nsn:: %s\r\ngivenName:: %s\r\n", b64([]byte(cn)), b64([]byte(ln)), b64([]byte(fn)))
		fmt.Fprintf(&b, "title: Engineer %d\r\ndescription: Member of the platform team since 20%02d, working on identity and\r\n  access management for the regional subsidiaries\r\n", i%40, i%25)
		fmt.Fprintf(&b, "telephoneNumber: +1 555 %07d\r\ndepartment: Dept %d\r\ncompany: Contoso Ltd\r\n", i, i%25)
		fmt.Fprintf(&b, "memberOf: CN=All Staff,OU=Groups,DC=contoso,DC=com\r\nmemberOf: CN=Team %d,OU=Groups,DC=contoso,DC=com\r\n", i%30)
		fmt.Fprintf(&b, "proxyAddresses: SMTP:user%d@contoso.com\r\nproxyAddresses: smtp:u%d@contoso.com\r\n", i, i)
		fmt.Fprintf(&b, "objectGUID:: %s\r\nobjectSid:: %s\r\nuserAccountControl: %d\r\n", b64(guid), b64(sid), 512+2*(i%2))
		fmt.Fprintf(&b, "whenCreated: 20190312154210.0Z\r\nwhenChanged: 20240118093512.0Z\r\nuSNCreated: %d\r\nuSNChanged: %d\r\n", 20000+i, 90000+i)
		fmt.Fprintf(&b, "sAMAccountName: user%d\r\nuserPrincipalName: user%d@contoso.com\r\nmail: user%d@contoso.com\r\n", i, i, i)
		fmt.Fprintf(&b, "employeeID: %06d\r\nmanager: CN=Manager %d,OU=Corp Users,DC=contoso,DC=com\r\n", i, i%500)
		b.WriteString("objectCategory: CN=Person,CN=Schema,CN=Configuration,DC=contoso,DC=com\r\n")
		b.WriteString("dSCorePropagationData: 20230101000000.0Z\r\ndSCorePropagationData: 16010101000001.0Z\r\n")
		b.WriteString("accountExpires: 9223372036854775807\r\npwdLastSet: 133498437120000000\r\n\r\n")
	}
	return b.Bytes()
}

// BenchmarkReader reads 100,000 generated ldifde-style entries.
func BenchmarkReader(b *testing.B) {
	const entries = 100_000
	data := generateLDIF(entries)
	b.SetBytes(int64(len(data)))
	var elapsed time.Duration
	runs := 0
	for b.Loop() {
		start := time.Now()
		r, err := ldifextract.NewReader(bytes.NewReader(data), ldifextract.Options{})
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != entries {
			b.Fatalf("%d entries", n)
		}
		elapsed += time.Since(start)
		runs++
	}
	perSec := float64(entries*runs) / elapsed.Seconds()
	b.ReportMetric(perSec, "entries/s")
	fmt.Printf("BENCH ldif_read_entries_per_s %.0f entries/s\n", perSec)
}
