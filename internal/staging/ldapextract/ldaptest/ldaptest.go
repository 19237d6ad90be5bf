// Package ldaptest starts a private OpenLDAP server (Debian's slapd) for a
// test: a classic slapd.conf and an mdb database in the test's temporary
// directory, seeded with generated people, listening on a free loopback port
// and stopped when the test ends. It needs no system configuration.
//
// When slapd or slapadd is not installed, Start skips the test with a message
// saying what to install, except under CI (CI=true), where a missing slapd
// fails the test: CI must install it (apt-get install slapd ldap-utils).
//
// The directory (suffix dc=example,dc=com) holds:
//
//	ou=people          the generated people (see Person), uid=<UID>,ou=people,…
//	ou=groups          one groupOfNames, cn=staff (not a person)
//	ou=system          cn=reader and cn=limited (organizationalRole, not persons)
//
// Plain searches by anyone but the root DN stop at SizeLimit entries, as on
// a production directory; paged searches by the reader go through, paged
// searches by the limited account stop at SizeLimit too (like an Active
// Directory MaxResultSetSize). Anonymous users can bind but read nothing.
package ldaptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The directory's fixed names.
const (
	BaseDN       = "dc=example,dc=com"
	PeopleDN     = "ou=people," + BaseDN
	RootDN       = "cn=admin," + BaseDN
	RootPassword = "admin-secret"
	// ReaderDN is an ordinary account that may read everything and page past
	// the size limit.
	ReaderDN       = "cn=reader,ou=system," + BaseDN
	ReaderPassword = "reader-secret-4711"
	// LimitedDN may read everything, but even its paged searches stop at
	// SizeLimit entries.
	LimitedDN       = "cn=limited,ou=system," + BaseDN
	LimitedPassword = "limited-secret-4711"
	// SizeLimit is the server's size limit for plain searches.
	SizeLimit = 100
)

// Options says what the server holds and serves.
type Options struct {
	// People is how many generated people to load under ou=people.
	People int
	// LDIF is appended to the seed after the generated entries.
	LDIF string
	// TLS makes the server answer StartTLS on URL and serve ldaps:// on
	// LDAPSURL, with a certificate for 127.0.0.1 signed by a throwaway CA.
	TLS bool
}

// Server is a running slapd.
type Server struct {
	URL       string // ldap://127.0.0.1:PORT
	LDAPSURL  string // ldaps://127.0.0.1:PORT, with Options.TLS
	CACertPEM []byte // the CA that signed the server's certificate, with Options.TLS
	Dir       string // the temporary directory holding slapd.conf, the seed and the database

	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
}

// Person describes the i-th generated person (0-based). The data is fixed,
// so that tests can check what comes back:
//
//   - uid user00000, user00001, …; cn "Given Surname"; sn; givenName;
//     employeeNumber i; mail uid@example.com;
//   - every 10th person (i%10 == 3) has a second mail, uid@mail.example.org;
//   - every 100th person (i%100 == 7) has a UTF-8 cn and sn;
//   - every 250th person (i%250 == 0) has a jpegPhoto (binary, not UTF-8).
type Person struct {
	UID, CN, SN, GivenName, EmployeeNumber string
	Mail                                   []string
	JPEGPhoto                              []byte
}

// DN is the person's entry name.
func (p Person) DN() string { return "uid=" + p.UID + "," + PeopleDN }

// MakePerson returns the i-th generated person.
func MakePerson(i int) Person {
	given := []string{"Ann", "Bob", "Carla", "Dev", "Emil", "Fatima", "Gus", "Hana"}[i%8]
	sn := []string{"Brock", "Nguyen", "Okafor", "Smith", "Jones", "Lee", "Garcia"}[i%7]
	p := Person{
		UID:            fmt.Sprintf("user%05d", i),
		GivenName:      given,
		SN:             sn,
		EmployeeNumber: fmt.Sprint(i),
	}
	if i%100 == 7 {
		p.GivenName, p.SN = "Zoë", "Łukasiewicz-Ñúñez"
	}
	p.CN = p.GivenName + " " + p.SN
	p.Mail = []string{p.UID + "@example.com"}
	if i%10 == 3 {
		p.Mail = append(p.Mail, p.UID+"@mail.example.org")
	}
	if i%250 == 0 {
		// The start of a JPEG file: not valid UTF-8.
		p.JPEGPhoto = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}, byte(i), byte(i>>8), 0xFF, 0xD9)
	}
	return p
}

// WriteSeed writes the seed LDIF: the tree, the accounts and n people.
func WriteSeed(w io.Writer, n int) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, `dn: %[1]s
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=system,%[1]s
objectClass: organizationalUnit
ou: system

dn: %[2]s
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: reader
userPassword: %[3]s

dn: %[4]s
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: limited
userPassword: %[5]s

dn: %[6]s
objectClass: organizationalUnit
ou: people

dn: ou=groups,%[1]s
objectClass: organizationalUnit
ou: groups

dn: cn=staff,ou=groups,%[1]s
objectClass: groupOfNames
cn: staff
member: %[2]s

`, BaseDN, ReaderDN, ReaderPassword, LimitedDN, LimitedPassword, PeopleDN)
	for i := range n {
		p := MakePerson(i)
		fmt.Fprintf(&b, "dn: %s\nobjectClass: inetOrgPerson\nuid: %s\n", p.DN(), p.UID)
		attr(&b, "cn", p.CN)
		attr(&b, "sn", p.SN)
		attr(&b, "givenName", p.GivenName)
		attr(&b, "employeeNumber", p.EmployeeNumber)
		for _, m := range p.Mail {
			attr(&b, "mail", m)
		}
		if p.JPEGPhoto != nil {
			fmt.Fprintf(&b, "jpegPhoto:: %s\n", base64.StdEncoding.EncodeToString(p.JPEGPhoto))
		}
		b.WriteString("\n")
		if b.Len() > 64<<10 {
			if _, err := w.Write(b.Bytes()); err != nil {
				return err
			}
			b.Reset()
		}
	}
	_, err := w.Write(b.Bytes())
	return err
}

// attr writes one LDIF line, base64 when the value is not plain ASCII.
func attr(b *bytes.Buffer, name, value string) {
	for i := 0; i < len(value); i++ {
		if value[i] >= 0x80 {
			fmt.Fprintf(b, "%s:: %s\n", name, base64.StdEncoding.EncodeToString([]byte(value)))
			return
		}
	}
	fmt.Fprintf(b, "%s: %s\n", name, value)
}

// Binaries returns the paths of slapd and slapadd, or an error naming what is
// missing.
func Binaries() (slapd, slapadd string, err error) {
	find := func(name string) string {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/usr/local/sbin", "/usr/local/libexec", "/usr/libexec"} {
			p := filepath.Join(dir, name)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
		return ""
	}
	slapd, slapadd = find("slapd"), find("slapadd")
	if slapd == "" || slapadd == "" {
		return "", "", errors.New("OpenLDAP's slapd and slapadd are not installed " +
			"(on Debian: DEBIAN_FRONTEND=noninteractive apt-get install -y slapd ldap-utils)")
	}
	if _, err := os.Stat("/etc/ldap/schema/inetorgperson.schema"); err != nil {
		return "", "", errors.New("OpenLDAP's schema files are missing from /etc/ldap/schema (install Debian's slapd)")
	}
	return slapd, slapadd, nil
}

// Start starts a server holding opts.People generated people and stops it
// when the test ends.
func Start(tb testing.TB, opts Options) *Server {
	tb.Helper()
	slapd, slapadd, err := Binaries()
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("ldaptest: %v; CI must install it", err)
		}
		tb.Skipf("ldaptest: %v: skipping the tests against a real LDAP server", err)
	}
	dir := tb.TempDir()
	s := &Server{Dir: dir}
	if err := os.Mkdir(filepath.Join(dir, "db"), 0o700); err != nil {
		tb.Fatal(err)
	}
	var tlsConf string
	if opts.TLS {
		tlsConf, s.CACertPEM = writeCertificates(tb, dir)
	}
	conf := filepath.Join(dir, "slapd.conf")
	if err := os.WriteFile(conf, []byte(slapdConf(dir, tlsConf)), 0o600); err != nil {
		tb.Fatal(err)
	}
	seed := filepath.Join(dir, "seed.ldif")
	f, err := os.Create(seed)
	if err != nil {
		tb.Fatal(err)
	}
	err = WriteSeed(f, opts.People)
	if err == nil && opts.LDIF != "" {
		_, err = io.WriteString(f, "\n"+opts.LDIF+"\n")
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		tb.Fatal(err)
	}
	if out, err := exec.Command(slapadd, "-q", "-f", conf, "-l", seed).CombinedOutput(); err != nil {
		tb.Fatalf("ldaptest: slapadd: %v\n%s", err, out)
	}

	// A free port can be taken by someone else before slapd binds it: try again.
	for attempt := 1; ; attempt++ {
		err := s.start(tb, slapd, conf, opts.TLS)
		if err == nil {
			break
		}
		if attempt == 5 {
			tb.Fatalf("ldaptest: %v", err)
		}
	}
	tb.Cleanup(s.stop)
	return s
}

func (s *Server) start(tb testing.TB, slapd, conf string, withTLS bool) error {
	port := freePort(tb)
	s.URL = fmt.Sprintf("ldap://127.0.0.1:%d", port)
	listen := s.URL + "/"
	var tlsPort int
	if withTLS {
		tlsPort = freePort(tb)
		s.LDAPSURL = fmt.Sprintf("ldaps://127.0.0.1:%d", tlsPort)
		listen += " " + s.LDAPSURL + "/"
	}
	s.stderr = &syncBuffer{}
	// -d 0 keeps slapd in the foreground, a child of the test, without debug output.
	s.cmd = exec.Command(slapd, "-f", conf, "-h", listen, "-d", "0")
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	setParentDeathSignal(s.cmd)
	if err := s.cmd.Start(); err != nil {
		return fmt.Errorf("starting slapd: %w", err)
	}
	s.done = make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(s.done) }()

	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("slapd exited at start: %s\n%s", s.cmd.ProcessState, s.stderr.String())
		default:
		}
		if answers(port) && (tlsPort == 0 || answers(tlsPort)) {
			return nil
		}
		if time.Now().After(deadline) {
			s.stop()
			return fmt.Errorf("slapd did not answer on %s within 15 s\n%s", s.URL, s.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func answers(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	_ = c.Close()
	return true
}

// Stop stops the server now (tests of an unreachable server use it); the
// test's cleanup does it otherwise.
func (s *Server) Stop() { s.stop() }

func (s *Server) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Log returns what slapd printed so far.
func (s *Server) Log() string { return s.stderr.String() }

func freePort(tb testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func slapdConf(dir, tlsConf string) string {
	module := "modulepath /usr/lib/ldap\nmoduleload back_mdb\n"
	if _, err := os.Stat("/usr/lib/ldap/back_mdb.la"); err != nil {
		if _, err := os.Stat("/usr/lib/ldap/back_mdb.so"); err != nil {
			module = "" // built into slapd
		}
	}
	return fmt.Sprintf(`# Written by ldaptest for one test.
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
%[1]spidfile %[2]s/slapd.pid
argsfile %[2]s/slapd.args
%[3]s
# Plain searches stop at %[4]d entries; paged ones may go on.
sizelimit size.soft=%[4]d size.hard=%[4]d size.prtotal=unlimited

database mdb
suffix "%[5]s"
rootdn "%[6]s"
rootpw %[7]s
directory %[2]s/db
maxsize 268435456
limits dn.exact="%[8]s" size.soft=%[4]d size.hard=%[4]d size.prtotal=hard
access to attrs=userPassword
	by anonymous auth
	by * none
access to *
	by users read
	by * none
`, module, dir, tlsConf, SizeLimit, BaseDN, RootDN, RootPassword, LimitedDN)
}

// writeCertificates makes a CA and a server certificate for 127.0.0.1 and
// localhost, writes them to dir and returns the slapd.conf lines and the CA.
func writeCertificates(tb testing.TB, dir string) (string, []byte) {
	tb.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "ldaptest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			tb.Fatal(err)
		}
		return p
	}
	caFile := write("ca.pem", caPEM)
	certFile := write("server.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	keyFile := write("server.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	conf := fmt.Sprintf("TLSCACertificateFile %s\nTLSCertificateFile %s\nTLSCertificateKeyFile %s\n", caFile, certFile, keyFile)
	return conf, caPEM
}

// syncBuffer collects slapd's output from its pipe goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(s.b.String())
}
