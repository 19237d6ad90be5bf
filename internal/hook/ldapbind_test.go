package hook_test

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/ferry-migrate/ferry/internal/apperr"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/plan"
	"github.com/ferry-migrate/ferry/internal/staging/ldapextract/ldaptest"
)

// The legacy directory's people: ann and bob hold rightPassword.
const bindPeople = `dn: uid=ann,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: ann
cn: Ann Brock
sn: Brock
userPassword: ` + rightPassword + `

dn: uid=bob,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: bob
cn: Bob Lee
sn: Lee
userPassword: ` + rightPassword + `

dn: uid=carol@example.com,ou=people,dc=example,dc=com
objectClass: inetOrgPerson
uid: carol@example.com
cn: Carol Okafor
sn: Okafor
userPassword: ` + rightPassword + `
`

const peopleTemplate = "uid={attr:uid},ou=people,dc=example,dc=com"

// bindWorld is a world whose source verifies passwords with a bind, served
// over HTTP as Okta calls it.
type bindWorld struct {
	*world
	http     *httptest.Server
	settings *hook.BindSettings
}

func newBindWorld(t *testing.T, users []user, o worldOptions, in hook.BindInput) *bindWorld {
	t.Helper()
	if o.settings.Attribute == "" {
		o.settings = credentials.Input{Attribute: "pw"}
	}
	w := &bindWorld{world: newWorld(t, users, o)}
	w.http = httptest.NewServer(w.svc)
	t.Cleanup(w.http.Close)
	in.Enabled = true
	var err error
	if w.settings, err = w.svc.SaveBindSettings(w.ctx, w.project.ID, w.source.ID, 0, in); err != nil {
		t.Fatalf("bind settings: %v", err)
	}
	return w
}

// post sends a sign-in attempt through the endpoint, as Okta does.
func (w *bindWorld) post(username, password string) (int, string) {
	w.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.http.URL+w.config.Path(), bytes.NewReader(payload(username, password, anIP)))
	req.Header = w.header()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// expectPost checks one call's answer and recorded outcome and cause.
func (w *bindWorld) expectPost(username, password string, wantStatus int, wantOutcome, wantCause string) {
	w.t.Helper()
	status, body := w.post(username, password)
	if status != wantStatus {
		w.t.Fatalf("%q: %d %s, want %d", username, status, body, wantStatus)
	}
	switch wantOutcome {
	case hook.OutcomeVerified:
		if body != verifiedJSON {
			w.t.Fatalf("%q: %s", username, body)
		}
	case hook.OutcomeUnverified:
		if body != unverifiedJSON {
			w.t.Fatalf("%q: %s", username, body)
		}
	}
	a := w.lastAttempt()
	if a.Outcome != wantOutcome || a.Cause != wantCause {
		w.t.Fatalf("%q: recorded %s/%s, want %s/%s", username, a.Outcome, a.Cause, wantOutcome, wantCause)
	}
	if wantCause != hook.CauseNoUser && (a.SourceID == nil || *a.SourceID != w.source.ID) {
		w.t.Fatalf("%q: the attempt names source %v, want %d", username, a.SourceID, w.source.ID)
	}
}

// counter is a TCP listener in front of a server (or of nothing) that
// counts the connections Ferry opens: every bind is a connection of its own.
type counter struct {
	addr     string
	conns    atomic.Int64
	accepted chan struct{}
}

// startCounter proxies to target ("" holds every connection open, unanswered).
func startCounter(t *testing.T, target string) *counter {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &counter{addr: l.Addr().String(), accepted: make(chan struct{}, 64)}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var open []net.Conn
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range open {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			c.conns.Add(1)
			mu.Lock()
			open = append(open, in)
			mu.Unlock()
			select {
			case c.accepted <- struct{}{}:
			default:
			}
			if target == "" {
				continue // accepted, never answered
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			mu.Lock()
			open = append(open, out)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(out, in); out.Close() }()
			go func() { defer wg.Done(); _, _ = io.Copy(in, out); in.Close() }()
		}
	}()
	return c
}

func (c *counter) url() string { return "ldap://" + c.addr }

func hostPort(t *testing.T, ldapURL string) string {
	t.Helper()
	_, hp, ok := strings.Cut(ldapURL, "://")
	if !ok {
		t.Fatalf("not a URL: %s", ldapURL)
	}
	return hp
}

// The right password verifies through a bind, the wrong one is UNVERIFIED;
// the login may be typed in any case, or as the source's key; neither the
// password nor the identity is kept or logged.
func TestBindVerifiesAgainstTheLegacyDirectory(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: bindPeople})
	w := newBindWorld(t, []user{{uid: "ann", email: "ann@example.com"}, {uid: "bob", email: "bob@example.com"}}, worldOptions{},
		hook.BindInput{URL: srv.URL, BindTemplate: peopleTemplate})

	w.expectPost("ann@example.com", wrongPassword, http.StatusOK, hook.OutcomeUnverified, hook.CauseWrongPassword)
	w.expectPost("ann@example.com", rightPassword, http.StatusOK, hook.OutcomeVerified, "")
	w.expectPost("BOB@Example.COM", rightPassword, http.StatusOK, hook.OutcomeVerified, "")
	w.expectPost("Bob", rightPassword, http.StatusOK, hook.OutcomeVerified, "")
	w.expectPost("nobody@example.com", rightPassword, http.StatusOK, hook.OutcomeUnverified, hook.CauseNoUser)
	w.noSecretsStored(rightPassword, wrongPassword, "uid=ann,", "uid=bob,")

	// Disabled settings: the staged hash is checked again (there is none).
	in := hook.BindInput{URL: srv.URL, BindTemplate: peopleTemplate}
	if _, err := w.svc.SaveBindSettings(w.ctx, w.project.ID, w.source.ID, w.settings.Version, in); err != nil {
		t.Fatal(err)
	}
	w.expectPost("ann@example.com", rightPassword, http.StatusOK, hook.OutcomeUnverified, hook.CauseNoCredential)
}

// The other templates: the record's DN, its Okta login.
func TestBindTemplates(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: bindPeople})
	for _, tt := range []struct{ name, template, uid, email, typed string }{
		{"source key", "uid={source_key},ou=people,dc=example,dc=com", "ann", "ann@example.com", "ANN@example.com"},
		// {login} is the Okta login validation computed for the record, not
		// what the person typed.
		{"login", "uid={login},ou=people,dc=example,dc=com", "c0042", "carol@example.com", "Carol@Example.com"},
		{"dn", "{dn}", "ann", "ann@example.com", "ann@example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newBindWorld(t, []user{{uid: tt.uid, email: tt.email}}, worldOptions{}, hook.BindInput{URL: srv.URL, BindTemplate: tt.template})
			if tt.name == "dn" {
				// The CSV has no dn column: no account to bind as.
				w.expectPost(tt.typed, rightPassword, http.StatusOK, hook.OutcomeUnverified, hook.CauseNoCredential)
				return
			}
			w.expectPost(tt.typed, rightPassword, http.StatusOK, hook.OutcomeVerified, "")
		})
	}
}

// Values of the record are DN-escaped: a value with a comma cannot name
// another entry (here the reader's, whose password the attacker knows), and
// a logon-name template refuses a value that would read as a DN.
func TestBindEscapesTheRecordsValues(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: bindPeople})
	proxy := startCounter(t, hostPort(t, srv.URL))
	users := []user{
		{uid: "reader,ou=system", email: "mallory@example.com"},
		{uid: ldaptest.ReaderDN, email: "trudy@example.com"},
		{uid: "reader)(uid=*", email: "eve@example.com"},
	}
	// Unescaped, cn={attr:uid},dc=example,dc=com would be the reader's DN.
	w := newBindWorld(t, users, worldOptions{}, hook.BindInput{URL: proxy.url(), BindTemplate: "cn={attr:uid},dc=example,dc=com"})
	w.expectPost("mallory@example.com", ldaptest.ReaderPassword, http.StatusOK, hook.OutcomeUnverified, hook.CauseWrongPassword)
	w.expectPost("eve@example.com", ldaptest.ReaderPassword, http.StatusOK, hook.OutcomeUnverified, hook.CauseWrongPassword)

	if _, err := w.svc.SaveBindSettings(w.ctx, w.project.ID, w.source.ID, w.settings.Version,
		hook.BindInput{Enabled: true, URL: proxy.url(), BindTemplate: "{attr:uid}"}); err != nil {
		t.Fatal(err)
	}
	before := proxy.conns.Load()
	w.expectPost("trudy@example.com", ldaptest.ReaderPassword, http.StatusOK, hook.OutcomeUnverified, hook.CauseNoCredential)
	if n := proxy.conns.Load() - before; n != 0 {
		t.Fatalf("a value that reads as a DN was bound (%d connections)", n)
	}
}

// An empty password is UNVERIFIED without any bind: an empty simple bind is
// an unauthenticated bind, which succeeds on many servers.
func TestBindNeverSendsAnEmptyPassword(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: bindPeople})
	proxy := startCounter(t, hostPort(t, srv.URL))
	w := newBindWorld(t, []user{{uid: "ann", email: "ann@example.com"}}, worldOptions{}, hook.BindInput{URL: proxy.url(), BindTemplate: peopleTemplate})
	status, body := w.post("ann@example.com", "")
	if status != http.StatusOK || body != unverifiedJSON {
		t.Fatalf("empty password: %d %s", status, body)
	}
	if n := proxy.conns.Load(); n != 0 {
		t.Fatalf("an empty password reached the directory (%d connections)", n)
	}
}

// A directory that is down, or that accepts the connection and never
// answers, is 503 legacy_unreachable within the budget: never UNVERIFIED.
func TestBindUnreachableDirectoryIsAServerError(t *testing.T) {
	t.Run("stopped", func(t *testing.T) {
		srv := ldaptest.Start(t, ldaptest.Options{LDIF: bindPeople})
		w := newBindWorld(t, []user{{uid: "ann", email: "ann@example.com"}}, worldOptions{}, hook.BindInput{URL: srv.URL, BindTemplate: peopleTemplate})
		srv.Stop()
		w.expectPost("ann@example.com", rightPassword, http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLegacyUnreachable)
		if !strings.Contains(w.logs.String(), "cannot connect to the LDAP server") {
			t.Fatalf("the cause is not logged:\n%s", w.logs.String())
		}
		w.noSecretsStored(rightPassword, "uid=ann,")
	})
	t.Run("silent", func(t *testing.T) {
		silent := startCounter(t, "")
		// The budget (300 ms) is shorter than the bind timeout: the budget wins.
		w := newBindWorld(t, []user{{uid: "ann", email: "ann@example.com"}}, worldOptions{budget: 300},
			hook.BindInput{URL: silent.url(), BindTemplate: peopleTemplate, TimeoutMS: 2500})
		w.expectPost("ann@example.com", rightPassword, http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLegacyUnreachable)
		if silent.conns.Load() != 1 {
			t.Fatalf("%d connections, want 1: a bind is never retried", silent.conns.Load())
		}
	})
	t.Run("full", func(t *testing.T) {
		// One bind at a time: while one waits on the silent directory, the
		// next is refused at once (503 overloaded), not queued.
		silent := startCounter(t, "")
		w := newBindWorld(t, []user{{uid: "ann", email: "ann@example.com"}, {uid: "bob", email: "bob@example.com"}}, worldOptions{budget: 1000},
			hook.BindInput{URL: silent.url(), BindTemplate: peopleTemplate, MaxConcurrent: 1, TimeoutMS: 2500})
		done := make(chan int, 1)
		go func() { status, _ := w.call("ann@example.com", rightPassword, anIP); done <- status }()
		<-silent.accepted
		status, body := w.call("bob@example.com", rightPassword, anIP)
		if status != http.StatusServiceUnavailable {
			t.Fatalf("second bind: %d %s", status, body)
		}
		var causes []string
		w.db.Read.Table("hook_attempts").Order("id").Pluck("cause", &causes)
		if len(causes) != 1 || causes[0] != hook.CauseOverloaded {
			t.Fatalf("recorded %v, want [overloaded] while the first waits", causes)
		}
		if s := <-done; s != http.StatusServiceUnavailable {
			t.Fatalf("first bind: %d", s)
		}
	})
}

// After lockout_threshold−2 failed binds of an account in the window, no
// further bind reaches the directory: 503 lockout_guard, even with the
// right password, until the window has passed.
func TestBindLockoutGuardStopsBeforeTheDirectoryLocks(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: bindPeople})
	proxy := startCounter(t, hostPort(t, srv.URL))
	w := newBindWorld(t, []user{{uid: "ann", email: "ann@example.com"}, {uid: "bob", email: "bob@example.com"}}, worldOptions{},
		hook.BindInput{URL: proxy.url(), BindTemplate: peopleTemplate, LockoutThreshold: 5, LockoutWindowMinutes: 30, MaxConcurrent: 32})
	if w.settings.AllowedFailures() != 3 {
		t.Fatalf("allowed failures %d, want 3", w.settings.AllowedFailures())
	}
	for range 3 {
		w.expectPost("ann@example.com", wrongPassword, http.StatusOK, hook.OutcomeUnverified, hook.CauseWrongPassword)
	}
	if n := proxy.conns.Load(); n != 3 {
		t.Fatalf("%d binds, want 3", n)
	}
	w.expectPost("ANN@example.com", wrongPassword, http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLockoutGuard)
	w.expectPost("ann", rightPassword, http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLockoutGuard)
	if n := proxy.conns.Load(); n != 3 {
		t.Fatalf("%d binds after the guard closed, want 3", n)
	}
	// Another account is not affected.
	w.expectPost("bob@example.com", rightPassword, http.StatusOK, hook.OutcomeVerified, "")

	w.clock.Advance(31 * time.Minute)
	w.expectPost("ann@example.com", rightPassword, http.StatusOK, hook.OutcomeVerified, "")

	// A burst of wrong passwords at once: failures are counted before the
	// bind is sent, so no more than the allowed binds reach the directory.
	before := proxy.conns.Load()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); w.call("bob@example.com", wrongPassword, anIP) }()
	}
	wg.Wait()
	if n := proxy.conns.Load() - before; n != 3 {
		t.Fatalf("a burst sent %d binds, want 3", n)
	}
}

// fakeAD answers every bind with invalid credentials and the diagnostic
// Active Directory gives, and counts the binds.
func fakeAD(t *testing.T, diagnostic string) (string, *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var binds atomic.Int64
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
				for {
					p, err := ber.ReadPacket(conn)
					if err != nil || len(p.Children) < 2 {
						return
					}
					if p.Children[1].Tag != ldap.ApplicationBindRequest {
						return
					}
					binds.Add(1)
					resp := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "LDAP Response")
					resp.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, p.Children[0].Value, "MessageID"))
					br := ber.Encode(ber.ClassApplication, ber.TypeConstructed, ldap.ApplicationBindResponse, nil, "Bind Response")
					br.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(ldap.LDAPResultInvalidCredentials), "resultCode"))
					br.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "", "matchedDN"))
					br.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, diagnostic, "diagnosticMessage"))
					resp.AppendChild(br)
					if _, err := conn.Write(resp.Bytes()); err != nil {
						return
					}
				}
			}()
		}
	}()
	return "ldap://" + l.Addr().String(), &binds
}

// Active Directory's reasons: only "wrong password" is UNVERIFIED; a locked,
// disabled or expired account is 503 with its cause.
func TestBindActiveDirectoryReasons(t *testing.T) {
	for _, tt := range []struct {
		code        string
		wantStatus  int
		wantOutcome string
		wantCause   string
	}{
		{"52e", http.StatusOK, hook.OutcomeUnverified, hook.CauseWrongPassword},
		{"525", http.StatusOK, hook.OutcomeUnverified, hook.CauseNoUser},
		{"775", http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLegacyLocked},
		{"533", http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLegacyDisabled},
		{"701", http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLegacyDisabled},
		{"532", http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLegacyExpired},
		{"773", http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLegacyExpired},
		{"569", http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLegacyRefused},
	} {
		t.Run(tt.code, func(t *testing.T) {
			t.Parallel()
			url, binds := fakeAD(t, "80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data "+tt.code+", v4563")
			w := newBindWorld(t, []user{{uid: "ann", email: "ann@example.com"}}, worldOptions{},
				hook.BindInput{URL: url, BindTemplate: "{source_key}@example.com", LockoutThreshold: 2})
			w.expectPost("ann@example.com", rightPassword, tt.wantStatus, tt.wantOutcome, tt.wantCause)
			// Threshold 2: one failure allowed, then the guard.
			w.expectPost("ann@example.com", rightPassword, http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLockoutGuard)
			if n := binds.Load(); n != 1 {
				t.Fatalf("%d binds, want 1", n)
			}
		})
	}
}

// StartTLS and ldaps:// with the directory's CA; without it, TLS fails:
// 503 legacy_unreachable, and the connection test says why.
func TestBindOverTLS(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: bindPeople, TLS: true})
	ca := string(srv.CACertPEM)
	for _, tt := range []struct {
		name string
		in   hook.BindInput
		ok   bool
	}{
		{"starttls", hook.BindInput{URL: srv.URL, StartTLS: true, CACertPEM: ca}, true},
		{"ldaps", hook.BindInput{URL: srv.LDAPSURL, CACertPEM: ca}, true},
		{"ldaps, system CAs", hook.BindInput{URL: srv.LDAPSURL}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.BindTemplate = peopleTemplate
			w := newBindWorld(t, []user{{uid: "ann", email: "ann@example.com"}}, worldOptions{}, tt.in)
			res, err := w.svc.TestBindConnection(w.ctx, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if res.OK != tt.ok {
				t.Fatalf("connection test: %+v", res)
			}
			if tt.ok {
				w.expectPost("ann@example.com", rightPassword, http.StatusOK, hook.OutcomeVerified, "")
				return
			}
			if !strings.Contains(res.Message, "not signed by a trusted CA") {
				t.Fatalf("connection test: %q", res.Message)
			}
			w.expectPost("ann@example.com", rightPassword, http.StatusServiceUnavailable, hook.OutcomeError, hook.CauseLegacyUnreachable)
		})
	}
}

// The connection test binds nobody: slapd sees no bind at all.
func TestBindConnectionTestBindsNobody(t *testing.T) {
	url, binds := fakeAD(t, "data 52e")
	w := newWorld(t, []user{{uid: "ann", email: "ann@example.com"}}, worldOptions{settings: credentials.Input{Attribute: "pw"}})
	res, err := w.svc.TestBindConnection(w.ctx, hook.BindInput{URL: url, BindTemplate: peopleTemplate})
	if err != nil || !res.OK {
		t.Fatalf("%+v %v", res, err)
	}
	if binds.Load() != 0 {
		t.Fatal("the connection test bound")
	}
	stopped, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := stopped.Addr().String()
	stopped.Close()
	res, err = w.svc.TestBindConnection(w.ctx, hook.BindInput{URL: "ldap://" + addr, BindTemplate: peopleTemplate})
	if err != nil || res.OK || !strings.Contains(res.Message, "Cannot connect to the LDAP server") {
		t.Fatalf("%+v %v", res, err)
	}
}

// Hostile settings are refused field by field, nothing saved.
func TestBindSettingsValidation(t *testing.T) {
	w := newWorld(t, []user{{uid: "ann", email: "ann@example.com"}}, worldOptions{settings: credentials.Input{Attribute: "pw"}})
	good := hook.BindInput{URL: "ldaps://dc1.example.com", BindTemplate: peopleTemplate}
	tests := []struct {
		name  string
		edit  func(*hook.BindInput)
		field string
		text  string
	}{
		{"no url", func(in *hook.BindInput) { in.URL = "" }, "url", ""},
		{"http", func(in *hook.BindInput) { in.URL = "http://dc1.example.com" }, "url", "ldap://"},
		{"path", func(in *hook.BindInput) { in.URL = "ldaps://dc1.example.com/dc=example,dc=com??sub?(uid=*)" }, "url", ""},
		{"user info", func(in *hook.BindInput) { in.URL = "ldaps://admin:secret@dc1.example.com" }, "url", ""},
		{"port", func(in *hook.BindInput) { in.URL = "ldaps://dc1.example.com:99999" }, "url", ""},
		{"newline", func(in *hook.BindInput) { in.URL = "ldaps://dc1.example.com\n:636" }, "url", ""},
		{"starttls on ldaps", func(in *hook.BindInput) { in.StartTLS = true }, "start_tls", ""},
		{"clear text", func(in *hook.BindInput) { in.URL = "ldap://dc1.example.com" }, "start_tls", "password"},
		{"ca", func(in *hook.BindInput) {
			in.CACertPEM = "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----"
		}, "ca_cert_pem", ""},
		{"huge ca", func(in *hook.BindInput) { in.CACertPEM = strings.Repeat("A", 70<<10) }, "ca_cert_pem", ""},
		{"no template", func(in *hook.BindInput) { in.BindTemplate = "" }, "bind_template", ""},
		{"unknown placeholders", func(in *hook.BindInput) { in.BindTemplate = "uid={user},ou={password},{attr:uid}" }, "bind_template", "{user}, {password}"},
		{"empty attr", func(in *hook.BindInput) { in.BindTemplate = "uid={attr:}" }, "bind_template", "{attr:}"},
		{"attr injection", func(in *hook.BindInput) { in.BindTemplate = "uid={attr:uid)(cn=*}" }, "bind_template", "Unknown placeholder"},
		{"unclosed", func(in *hook.BindInput) { in.BindTemplate = "uid={attr:uid,ou=people" }, "bind_template", "without its }"},
		{"stray brace", func(in *hook.BindInput) { in.BindTemplate = "uid=}{attr:uid}" }, "bind_template", "without its {"},
		{"no placeholder", func(in *hook.BindInput) { in.BindTemplate = "cn=admin,dc=example,dc=com" }, "bind_template", "same account"},
		{"dn not alone", func(in *hook.BindInput) { in.BindTemplate = "cn=x,{dn}" }, "bind_template", "alone"},
		{"not a dn", func(in *hook.BindInput) { in.BindTemplate = "uid={attr:uid},,=x" }, "bind_template", "not a DN"},
		{"control", func(in *hook.BindInput) { in.BindTemplate = "uid={attr:uid}\x00,dc=x" }, "bind_template", "control"},
		{"too long", func(in *hook.BindInput) { in.BindTemplate = "uid={attr:uid}," + strings.Repeat("ou=x,", 110) }, "bind_template", "512"},
		{"threshold low", func(in *hook.BindInput) { in.LockoutThreshold = 1 }, "lockout_threshold", ""},
		{"threshold high", func(in *hook.BindInput) { in.LockoutThreshold = 101 }, "lockout_threshold", ""},
		{"window", func(in *hook.BindInput) { in.LockoutWindowMinutes = 1441 }, "lockout_window_minutes", ""},
		{"negative window", func(in *hook.BindInput) { in.LockoutWindowMinutes = -5 }, "lockout_window_minutes", ""},
		{"concurrency", func(in *hook.BindInput) { in.MaxConcurrent = 33 }, "max_concurrent", ""},
		{"timeout low", func(in *hook.BindInput) { in.TimeoutMS = 199 }, "timeout_ms", ""},
		{"timeout high", func(in *hook.BindInput) { in.TimeoutMS = 2501 }, "timeout_ms", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good
			tt.edit(&in)
			_, err := w.svc.SaveBindSettings(w.ctx, w.project.ID, w.source.ID, 0, in)
			ae := apperr.As(err)
			if ae == nil || ae.Code != apperr.CodeInvalid || ae.Fields[tt.field] == "" {
				t.Fatalf("got %v, want a message for %s", err, tt.field)
			}
			if !strings.Contains(ae.Fields[tt.field], tt.text) {
				t.Fatalf("%s: %q does not say %q", tt.field, ae.Fields[tt.field], tt.text)
			}
			if _, err := w.svc.TestBindConnection(w.ctx, in); apperr.CodeOf(err) != apperr.CodeInvalid {
				t.Fatalf("the connection test took invalid settings: %v", err)
			}
		})
	}
	if got, err := w.svc.FindBindSettings(w.ctx, w.project.ID, w.source.ID); err != nil || got != nil {
		t.Fatalf("something was saved: %+v %v", got, err)
	}
	// The good input and the edge values are accepted, with the defaults.
	for _, in := range []hook.BindInput{good,
		{URL: "ldap://127.0.0.1:3389", BindTemplate: "{dn}", LockoutThreshold: 2, LockoutWindowMinutes: 1, MaxConcurrent: 1, TimeoutMS: 200},
		{URL: "ldap://dc1.example.com", StartTLS: true, BindTemplate: `EXAMPLE\{source_key}`, LockoutThreshold: 100, LockoutWindowMinutes: 1440, MaxConcurrent: 32, TimeoutMS: 2500},
		{URL: "ldaps://dc1.example.com:636", BindTemplate: "{attr:userPrincipalName}"},
	} {
		b, err := w.svc.SaveBindSettings(w.ctx, w.project.ID, w.source.ID, 0, in)
		if err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		if in.LockoutThreshold == 0 && (b.LockoutThreshold != 5 || b.LockoutWindowMinutes != 30 || b.MaxConcurrent != 4 || b.TimeoutMS != 1500) {
			t.Fatalf("defaults: %+v", b)
		}
		if err := w.svc.RemoveBindSettings(w.ctx, w.project.ID, w.source.ID); err != nil {
			t.Fatal(err)
		}
	}
}

// Saving is versioned and audited; a source of another project is not found.
func TestBindSettingsVersionsAndAudit(t *testing.T) {
	w := newWorld(t, []user{{uid: "ann", email: "ann@example.com"}}, worldOptions{settings: credentials.Input{Attribute: "pw"}})
	in := hook.BindInput{Enabled: true, URL: "ldaps://dc1.example.com", BindTemplate: peopleTemplate}
	b, err := w.svc.SaveBindSettings(w.ctx, w.project.ID, w.source.ID, 0, in)
	if err != nil || b.Version != 1 {
		t.Fatalf("%+v %v", b, err)
	}
	if _, err := w.svc.SaveBindSettings(w.ctx, w.project.ID, w.source.ID, 0, in); apperr.CodeOf(err) != apperr.CodeConflict {
		t.Fatalf("a second create: %v", err)
	}
	in.TimeoutMS = 900
	if b, err = w.svc.SaveBindSettings(w.ctx, w.project.ID, w.source.ID, 1, in); err != nil || b.Version != 2 || b.TimeoutMS != 900 {
		t.Fatalf("%+v %v", b, err)
	}
	if _, err := w.svc.SaveBindSettings(w.ctx, w.project.ID, w.source.ID, 1, in); apperr.CodeOf(err) != apperr.CodeConflict {
		t.Fatalf("a stale version: %v", err)
	}
	got, err := w.svc.FindBindSettings(w.ctx, w.project.ID, w.source.ID)
	if err != nil || got == nil || got.Version != 2 || got.TimeoutMS != 900 {
		t.Fatalf("%+v %v", got, err)
	}

	name := "Other"
	other, err := w.plan.CreateProject(w.ctx, w.account, plan.ProjectInput{Name: &name})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.SaveBindSettings(w.ctx, other.ID, w.source.ID, 0, in); apperr.CodeOf(err) != apperr.CodeNotFound {
		t.Fatalf("another project's source: %v", err)
	}
	if got, _ := w.svc.FindBindSettings(w.ctx, other.ID, w.source.ID); got != nil {
		t.Fatal("another project sees the settings")
	}
	if err := w.svc.RemoveBindSettings(w.ctx, w.project.ID, w.source.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.RemoveBindSettings(w.ctx, w.project.ID, w.source.ID); apperr.CodeOf(err) != apperr.CodeNotFound {
		t.Fatalf("removed twice: %v", err)
	}
	var actions []string
	w.db.Read.Table("audit_entries").Where("entity_type = ?", "hook_ldap_bind").Order("id").Pluck("action", &actions)
	if strings.Join(actions, ",") != "create,update,delete" {
		t.Fatalf("audited %v", actions)
	}
}
