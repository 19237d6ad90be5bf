package ldapextract_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/staging/extract"
	"github.com/ferry-migrate/ferry/internal/staging/ldapextract"
	"github.com/ferry-migrate/ferry/internal/staging/ldapextract/ldaptest"
)

const people = 1234

func readerConfig(s *ldaptest.Server) ldapextract.Config {
	return ldapextract.Config{
		URL:          s.URL,
		BindDN:       ldaptest.ReaderDN,
		BindPassword: ldaptest.ReaderPassword,
		BaseDN:       ldaptest.BaseDN,
		Timeout:      10 * time.Second,
	}
}

func open(t *testing.T, cfg ldapextract.Config) *ldapextract.Reader {
	t.Helper()
	r, err := ldapextract.Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func readAll(t *testing.T, r *ldapextract.Reader) []extract.Record {
	t.Helper()
	var recs []extract.Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(recs), err)
		}
		recs = append(recs, rec)
	}
}

// openErr opens a reader that must fail, and returns the *extract.Error.
func openErr(t *testing.T, cfg ldapextract.Config) *extract.Error {
	t.Helper()
	r, err := ldapextract.Open(context.Background(), cfg)
	if err == nil {
		defer r.Close()
		_, err = r.Next()
		for err == nil {
			_, err = r.Next()
		}
	}
	var ee *extract.Error
	if !errors.As(err, &ee) {
		t.Fatalf("got %T %v, want an *extract.Error", err, err)
	}
	if cfg.BindPassword != "" && strings.Contains(err.Error(), cfg.BindPassword) {
		t.Fatalf("the message shows the password: %v", err)
	}
	return ee
}

func TestAgainstOpenLDAP(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Options{People: people, TLS: true})

	t.Run("every user comes back exactly once across pages", func(t *testing.T) {
		for _, pageSize := range []uint32{0, 37} { // the default 500: 3 pages; 37: 34 pages
			cfg := readerConfig(srv)
			cfg.PageSize = pageSize
			recs := readAll(t, open(t, cfg))
			if len(recs) != people {
				t.Fatalf("page size %d: %d users, want %d (the server's plain size limit is %d)", pageSize, len(recs), people, ldaptest.SizeLimit)
			}
			seen := map[string]bool{}
			for i, rec := range recs {
				if rec.Position != i+1 {
					t.Fatalf("record %d has position %d", i+1, rec.Position)
				}
				uid, _ := rec.Get("uid")
				if seen[uid] {
					t.Fatalf("%s came back twice", uid)
				}
				seen[uid] = true
			}
			for i := range people {
				if uid := ldaptest.MakePerson(i).UID; !seen[uid] {
					t.Fatalf("%s is missing", uid)
				}
			}
		}
	})

	t.Run("attributes as the server holds them", func(t *testing.T) {
		r := open(t, readerConfig(srv))
		byUID := map[string]extract.Record{}
		for _, rec := range readAll(t, r) {
			uid, _ := rec.Get("uid")
			byUID[uid] = rec
		}
		for _, i := range []int{0, 3, 7, 250, 1233} {
			p := ldaptest.MakePerson(i)
			got := byUID[p.UID].Attributes
			want := map[string][]string{
				"dn":             {p.DN()},
				"objectClass":    {"inetOrgPerson"},
				"uid":            {p.UID},
				"cn":             {p.CN},
				"sn":             {p.SN},
				"givenName":      {p.GivenName},
				"employeeNumber": {p.EmployeeNumber},
				"mail":           p.Mail,
			}
			if p.JPEGPhoto != nil {
				want["jpegPhoto;binary"] = []string{base64.StdEncoding.EncodeToString(p.JPEGPhoto)}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("person %d:\n got %q\nwant %q", i, got, want)
			}
		}
		if got := byUID["user00007"].Attributes["cn"]; !reflect.DeepEqual(got, []string{"Zoë Łukasiewicz-Ñúñez"}) {
			t.Errorf("UTF-8 cn: %q", got)
		}
		if got := byUID["user00013"].Attributes["mail"]; len(got) != 2 {
			t.Errorf("multi-valued mail: %q", got)
		}
		cols := r.Columns()
		if len(cols) == 0 || cols[0] != "dn" || !slices.Contains(cols, "jpegPhoto;binary") || slices.Contains(cols, "jpegPhoto") {
			t.Errorf("columns %q", cols)
		}
		if w := r.Warnings(); len(w) != 0 {
			t.Errorf("warnings %q", w)
		}
	})

	t.Run("attribute selection", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.Attributes = []string{"uid", "mail"}
		recs := readAll(t, open(t, cfg))
		if len(recs) != people {
			t.Fatalf("%d users", len(recs))
		}
		for _, rec := range recs {
			for name := range rec.Attributes {
				if name != "dn" && name != "uid" && name != "mail" {
					t.Fatalf("unexpected attribute %q in %v", name, rec.Attributes)
				}
			}
		}
	})

	t.Run("filter", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.Filter = "(mail=*@mail.example.org)"
		recs := readAll(t, open(t, cfg))
		if len(recs) != 124 { // i%10 == 3 for i < 1234
			t.Fatalf("%d users with a second mail, want 124", len(recs))
		}
		cfg.Filter = "(&(objectClass=inetOrgPerson)(cn=Zoë*))"
		recs = readAll(t, open(t, cfg))
		if len(recs) != 13 { // i%100 == 7 for i < 1234
			t.Fatalf("%d users named Zoë, want 13", len(recs))
		}
		// The default filter leaves out the accounts and the group.
		cfg.Filter = "(objectClass=*)"
		cfg.BaseDN = "ou=system," + ldaptest.BaseDN
		recs = readAll(t, open(t, cfg))
		if len(recs) != 3 {
			t.Fatalf("%d entries under ou=system, want 3", len(recs))
		}
		cfg.Filter = ""
		if recs := readAll(t, open(t, cfg)); len(recs) != 0 {
			t.Fatalf("default filter: %d entries under ou=system, want none", len(recs))
		}
	})

	t.Run("wrong password", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.BindPassword = "not-the-password-9081"
		ee := openErr(t, cfg)
		want := `the LDAP server refused the bind DN "cn=reader,ou=system,dc=example,dc=com" and its password (invalid credentials): check both`
		if ee.Error() != want {
			t.Errorf("message\n got %s\nwant %s", ee.Error(), want)
		}
	})

	t.Run("unknown bind DN", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.BindDN = "cn=nobody,ou=system," + ldaptest.BaseDN
		if ee := openErr(t, cfg); !strings.Contains(ee.Message, "invalid credentials") {
			t.Errorf("message %s", ee.Message)
		}
	})

	t.Run("base DN not found", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.BaseDN = "ou=nowhere," + ldaptest.BaseDN
		ee := openErr(t, cfg)
		want := `the base DN "ou=nowhere,dc=example,dc=com" does not exist on the server (the closest entry that does is "dc=example,dc=com")`
		if ee.Error() != want {
			t.Errorf("message\n got %s\nwant %s", ee.Error(), want)
		}
	})

	t.Run("size limit", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.BindDN, cfg.BindPassword = ldaptest.LimitedDN, ldaptest.LimitedPassword
		cfg.PageSize = 30
		r := open(t, cfg)
		n := 0
		var err error
		for err == nil {
			_, err = r.Next()
			if err == nil {
				n++
			}
		}
		var ee *extract.Error
		if !errors.As(err, &ee) || !strings.Contains(ee.Message, "size limit, after 100 entries") {
			t.Fatalf("after %d records: %v", n, err)
		}
		if n > ldaptest.SizeLimit {
			t.Errorf("%d records before the refusal", n)
		}
	})

	t.Run("anonymous may not see the base DN", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.BindDN, cfg.BindPassword = "", ""
		ee := openErr(t, cfg)
		want := `the base DN "dc=example,dc=com" does not exist on the server, or an anonymous search (no bind DN) may not see it`
		if ee.Error() != want {
			t.Errorf("message\n got %s\nwant %s", ee.Error(), want)
		}
	})

	t.Run("cancelling the context stops the pull", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		cfg := readerConfig(srv)
		cfg.PageSize = 100
		r, err := ldapextract.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for range 150 {
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		cancel()
		_, err = r.Next()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("after cancel: %v", err)
		}
		if _, again := r.Next(); !errors.Is(again, context.Canceled) {
			t.Fatalf("the stop does not stick: %v", again)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("cancelling while a page is read", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cfg := readerConfig(srv)
		cfg.PageSize = 1000
		r, err := ldapextract.Open(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for range 1000 { // the first page
			if _, err := r.Next(); err != nil {
				t.Fatal(err)
			}
		}
		go func() { time.Sleep(time.Millisecond); cancel() }()
		n := 0
		for {
			_, err = r.Next()
			if err != nil {
				break
			}
			n++
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("after %d more records: %v", n, err)
		}
	})

	t.Run("StartTLS with the CA", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.StartTLS = true
		cfg.CACertPEM = srv.CACertPEM
		cfg.Filter = "(uid=user0000*)"
		if recs := readAll(t, open(t, cfg)); len(recs) != 10 {
			t.Fatalf("%d records", len(recs))
		}
	})

	t.Run("ldaps with the CA", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.URL = srv.LDAPSURL
		cfg.CACertPEM = srv.CACertPEM
		if recs := readAll(t, open(t, cfg)); len(recs) != people {
			t.Fatalf("%d records", len(recs))
		}
	})

	t.Run("ldaps without trusting the CA", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.URL = srv.LDAPSURL
		ee := openErr(t, cfg)
		if !strings.Contains(ee.Message, "the server's certificate is not signed by a trusted CA: give the CA certificate") {
			t.Errorf("message %s", ee.Message)
		}
		cfg.InsecureSkipVerify = true
		cfg.Filter = "(uid=user00001)"
		if recs := readAll(t, open(t, cfg)); len(recs) != 1 {
			t.Fatalf("InsecureSkipVerify: %d records", len(recs))
		}
	})

	t.Run("StartTLS without trusting the CA", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.StartTLS = true
		ee := openErr(t, cfg)
		if !strings.Contains(ee.Message, "not signed by a trusted CA") {
			t.Errorf("message %s", ee.Message)
		}
	})

	t.Run("ldaps to the plain port", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.URL = "ldaps://" + strings.TrimPrefix(srv.URL, "ldap://")
		cfg.Timeout = 3 * time.Second
		ee := openErr(t, cfg)
		if !strings.Contains(ee.Message, "the server does not speak TLS on this port") {
			t.Errorf("message %s", ee.Message)
		}
	})
}

func TestWithoutTLS(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Options{People: 3})

	t.Run("StartTLS refused", func(t *testing.T) {
		cfg := readerConfig(srv)
		cfg.StartTLS = true
		ee := openErr(t, cfg)
		if !strings.HasPrefix(ee.Message, "the LDAP server at 127.0.0.1:") ||
			!strings.Contains(ee.Message, "refused StartTLS") || !strings.Contains(ee.Message, "it may not have TLS set up") {
			t.Errorf("message %s", ee.Message)
		}
	})

	t.Run("server gone", func(t *testing.T) {
		r := open(t, readerConfig(srv))
		srv.Stop()
		cfg := readerConfig(srv)
		ee := openErr(t, cfg)
		if !strings.Contains(ee.Message, "cannot connect to the LDAP server at 127.0.0.1:") || !strings.Contains(ee.Message, "connection refused") {
			t.Errorf("message %s", ee.Message)
		}
		_ = r.Close()
	})
}

func TestUnreachablePort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	ee := openErr(t, ldapextract.Config{URL: "ldap://" + addr, BaseDN: "dc=example,dc=com"})
	want := fmt.Sprintf("cannot connect to the LDAP server at %s: connection refused", addr)
	if ee.Error() != want {
		t.Errorf("message\n got %s\nwant %s", ee.Error(), want)
	}
}

// A server that accepts the connection and never answers.
func TestSilentServerTimesOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	cfg := ldapextract.Config{URL: "ldap://" + l.Addr().String(), BaseDN: "dc=example,dc=com",
		BindDN: "cn=x,dc=example,dc=com", BindPassword: "pw-7781", Timeout: 300 * time.Millisecond}
	start := time.Now()
	ee := openErr(t, cfg)
	if !strings.Contains(ee.Message, "did not answer the bind within 300ms") {
		t.Errorf("message %s", ee.Message)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	// Without a bind, the search page times out instead.
	cfg.BindDN, cfg.BindPassword = "", ""
	if ee := openErr(t, cfg); !strings.Contains(ee.Message, "sent no page of results within 300ms") {
		t.Errorf("message %s", ee.Message)
	}
	// ldaps to it: the handshake times out.
	cfg.URL = "ldaps://" + l.Addr().String()
	if ee := openErr(t, cfg); !strings.Contains(ee.Message, "did not complete the TLS handshake within 300ms") {
		t.Errorf("message %s", ee.Message)
	}
}

// Cancelling the context while Open waits for the server ends it at once.
func TestCancelWhileWaiting(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err = ldapextract.Open(ctx, ldapextract.Config{URL: "ldap://" + l.Addr().String(), BaseDN: "dc=example,dc=com"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestValidate(t *testing.T) {
	good := ldapextract.Config{URL: "ldaps://dc1.corp.example:636", BindDN: "svc-ferry@corp.example", BindPassword: "pw",
		BaseDN: "OU=Staff,DC=corp,DC=example"}
	if err := good.Validate(); err != nil {
		t.Fatalf("good config: %v", err)
	}
	tests := []struct {
		name  string
		edit  func(*ldapextract.Config)
		field string
		want  string
	}{
		{"no URL", func(c *ldapextract.Config) { c.URL = "" }, "url", "Give the server's URL, as ldap://host:389 or ldaps://host:636."},
		{"http URL", func(c *ldapextract.Config) { c.URL = "http://dc1:389" }, "url", "The URL must start with ldap:// or ldaps://, not http://."},
		{"bare host", func(c *ldapextract.Config) { c.URL = "dc1.corp.example" }, "url", `The URL must start with ldap:// or ldaps://, not "dc1.corp.example".`},
		{"no host", func(c *ldapextract.Config) { c.URL = "ldap://" }, "url", "The URL has no host name: use ldap://host:389 or ldaps://host:636."},
		{"DN in the URL", func(c *ldapextract.Config) { c.URL = "ldap://dc1/dc=corp,dc=example" }, "url", "Give only the scheme, host and port; the base DN, filter and attributes have their own settings."},
		{"bad port", func(c *ldapextract.Config) { c.URL = "ldap://dc1:99999" }, "url", "The port must be a number from 1 to 65535."},
		{"StartTLS on ldaps", func(c *ldapextract.Config) { c.StartTLS = true }, "start_tls", "StartTLS is for ldap:// URLs: an ldaps:// connection is encrypted from the start."},
		{"CA not PEM", func(c *ldapextract.Config) { c.CACertPEM = []byte("hello") }, "ca_cert_pem", "This is not a PEM certificate (-----BEGIN CERTIFICATE-----)."},
		{"bind DN without password", func(c *ldapextract.Config) { c.BindPassword = "" }, "bind_password", "Give the password of the bind DN: a bind DN without a password is an unauthenticated bind, which servers accept and then show nothing."},
		{"password without bind DN", func(c *ldapextract.Config) { c.BindDN = "" }, "bind_dn", "Give the bind DN this password belongs to."},
		{"empty base DN", func(c *ldapextract.Config) { c.BaseDN = " " }, "base_dn", "Give the base DN to search under, such as ou=people,dc=example,dc=com."},
		{"base DN not a DN", func(c *ldapextract.Config) { c.BaseDN = "corp.example" }, "base_dn", "This is not a DN: write it as ou=people,dc=example,dc=com."},
		{"filter does not parse", func(c *ldapextract.Config) { c.Filter = "(objectClass=person" }, "filter", ""},
		{"filter without parentheses", func(c *ldapextract.Config) { c.Filter = "objectClass=person" }, "filter", ""},
		{"attribute with a space", func(c *ldapextract.Config) { c.Attributes = []string{"mail", "given name"} }, "attributes", `"given name" is not an attribute name.`},
		{"negative timeout", func(c *ldapextract.Config) { c.Timeout = -time.Second }, "timeout", "The timeout cannot be negative."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := good
			tt.edit(&cfg)
			err := cfg.Validate()
			if !apperr.Is(err, apperr.CodeInvalid) {
				t.Fatalf("got %v, want an invalid error", err)
			}
			msg := apperr.As(err).Fields[tt.field]
			if msg == "" || (tt.want != "" && msg != tt.want) {
				t.Errorf("field %s: %q (all: %v), want %q", tt.field, msg, apperr.As(err).Fields, tt.want)
			}
			if len(apperr.As(err).Fields) != 1 {
				t.Errorf("fields %v, want only %s", apperr.As(err).Fields, tt.field)
			}
		})
	}
	// Open refuses an invalid config before connecting.
	if _, err := ldapextract.Open(context.Background(), ldapextract.Config{}); !apperr.Is(err, apperr.CodeInvalid) {
		t.Fatalf("Open with an empty config: %v", err)
	}
	// Defaults and the attribute names that are allowed.
	ok := ldapextract.Config{URL: "ldap://127.0.0.1", BaseDN: "dc=example,dc=com",
		Attributes: []string{"*", "+", "mail", "userCertificate;binary", "2.5.4.3", "msDS-UserPasswordExpiryTimeComputed"}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigNeverShowsThePassword(t *testing.T) {
	cfg := ldapextract.Config{URL: "ldap://dc1", BindDN: "cn=svc", BindPassword: "hunter2-SECRET", BaseDN: "dc=x"}
	var logged bytes.Buffer
	slog.New(slog.NewTextHandler(&logged, nil)).Info("pull", "config", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logged.String()} {
		if strings.Contains(s, "hunter2") {
			t.Fatalf("password shown: %s", s)
		}
		if !strings.Contains(s, "cn=svc") {
			t.Fatalf("the rest is not shown: %s", s)
		}
	}
}
