package hook_test

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/ferry-migrate/ferry/internal/audit"
	"github.com/ferry-migrate/ferry/internal/credentials"
	"github.com/ferry-migrate/ferry/internal/hashes"
	"github.com/ferry-migrate/ferry/internal/hook"
	"github.com/ferry-migrate/ferry/internal/plan"
)

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

const (
	rightPassword = "Tr0ub4dor&3-right"
	wrongPassword = "Tr0ub4dor&3-wrong"
	anIP          = "66.124.153.138"
)

func rawB64(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }

// formatCase is a legacy credential in one of the formats Ferry reads and
// the password that opens it.
type formatCase struct {
	name       string
	settings   credentials.Input
	pw, salt   string
	password   string
	importable bool
}

// formatCases are the credentials of every format Ferry verifies.
func formatCases(t *testing.T) []formatCase {
	t.Helper()
	bc, err := bcrypt.GenerateFromPassword([]byte(rightPassword), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	salt16 := []byte("0123456789abcdef")
	argonID := argon2.IDKey([]byte(rightPassword), salt16, 2, 64, 2, 32)
	ssha := sha1.Sum([]byte(rightPassword + "ldapsalt"))
	salted := sha512.Sum512([]byte(rightPassword + "s@lt"))
	iterated := sha256.Sum256([]byte("itsalt" + rightPassword))
	for range 999 {
		iterated = sha256.Sum256(iterated[:])
	}
	detect := credentials.Input{Attribute: "pw"}
	return []formatCase{
		{"bcrypt", detect, string(bc), "", rightPassword, true},
		{"argon2id", detect, fmt.Sprintf("$argon2id$v=19$m=64,t=2,p=2$%s$%s", rawB64(salt16), rawB64(argonID)), "", rightPassword, false},
		// internal/hashes' vectors (computed with Python's hashlib, Werkzeug,
		// and Drepper's SHA-crypt specification).
		{"passlib scrypt", detect, "$scrypt$ln=10,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$nfkj3u1fRTHCea+fVr03sWV770kp5wLOLoEakziKhqE", "", "correct horse", false},
		{"werkzeug scrypt", detect, "scrypt:1024:8:1$isnqDmPv$19c77119418bac374e75fa336ae93e788128d083f008f27fe597886e0ab02b52a49c2324761e4fc8ca69523cdcd6c1a2bff201c960eb8dac523083dc7d618b9f", "", "correct horse", false},
		{"sha512-crypt", detect, "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "", "Hello world!", false},
		{"sha256-crypt rounds", detect, "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA", "", "Hello world!", false},
		{"md5-crypt", detect, "$1$saltstri$YMyguxXMBpd2TEZ.vS/3q1", "", "Hello world!", false},
		{"django pbkdf2_sha256", detect, "pbkdf2_sha256$4096$seasalt$zHd5RYFxjPPHtcyvFSF8qXKeIldCmyz1cMw32MducLw=", "", "correct horse", true},
		{"passlib pbkdf2-sha512", detect, "$pbkdf2-sha512$4096$AAECAwQFBgcICQoLDA0ODw$KU9N68wknx5PtIDhrB7D.Vj5DApKbjI6NAYiADilHqLEtzytmqn7qh4uhJEN1zvu3Iwx1PM8dgOQk9rdvK7/fw", "", "correct horse", true},
		{"werkzeug pbkdf2 sha1", detect, "pbkdf2:sha1:1000$KKGW1o9q$f2f230326184ae345b9b00817410a6d89ae5cf4d", "", "correct horse", false},
		{"ldap {SSHA}", detect, "{SSHA}" + base64.StdEncoding.EncodeToString(append(ssha[:], "ldapsalt"...)), "", rightPassword, true},
		{"salted sha512, separate salt", credentials.Input{Attribute: "pw", SaltAttribute: "salt", Formats: []string{"sha512"}, SaltEncoding: "text", SaltOrder: "POSTFIX"},
			base64.StdEncoding.EncodeToString(salted[:]), "s@lt", rightPassword, true},
		{"iterated sha256", credentials.Input{Attribute: "pw", SaltAttribute: "salt", Formats: []string{"iterated-digest"}, Iterations: 1000, SaltEncoding: "text", SaltOrder: "PREFIX"},
			hex.EncodeToString(iterated[:]), "itsalt", rightPassword, false},
		{"plaintext", credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}}, rightPassword, "", rightPassword, false},
	}
}

func TestVerifiesEveryFormatFerryReads(t *testing.T) {
	tests := formatCases(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, []user{{uid: "u1", email: "ann@example.com", pw: tt.pw, salt: tt.salt}}, worldOptions{settings: tt.settings})
			w.expect("ann@example.com", tt.password, anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
			w.expect("ann@example.com", tt.password+"x", anIP, http.StatusOK, unverifiedJSON, hook.OutcomeUnverified, hook.CauseWrongPassword)
			a := w.lastAttempt()
			if a.ProjectID == nil || *a.ProjectID != w.project.ID || a.SourceID == nil || *a.SourceID != w.source.ID {
				t.Fatalf("attempt names project %v source %v", a.ProjectID, a.SourceID)
			}
			w.noSecretsStored(tt.password, tt.password+"x", w.secret)
		})
	}
}

func TestMapsWhatThePersonTypedToTheLegacyIdentity(t *testing.T) {
	plain := credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}}
	w := newWorld(t, []user{
		{uid: "IBrock7", email: "Isaac.Brock@Example.com", pw: rightPassword},
		{uid: "zoe", email: "Zoë.Åström@example.com", pw: "zoes-password-1"},
		{uid: "nohash", email: "nohash@example.com", pw: ""},
	}, worldOptions{settings: plain})
	for _, typed := range []string{"isaac.brock@example.com", "ISAAC.BROCK@EXAMPLE.COM", "Isáac.Bröck@example.com", "ibrock7", "IBROCK7"} {
		w.expect(typed, rightPassword, anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	}
	w.expect("zoe.astrom@example.com", "zoes-password-1", anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	w.expect("ZOË.ÅSTRÖM@EXAMPLE.COM", "zoes-password-1", anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	w.expect("nobody@example.com", rightPassword, anIP, http.StatusOK, unverifiedJSON, hook.OutcomeUnverified, hook.CauseNoUser)
	w.expect("nohash@example.com", rightPassword, anIP, http.StatusOK, unverifiedJSON, hook.OutcomeUnverified, hook.CauseNoCredential)
	// The attempt keeps a hash of the login key, never the login.
	a := w.lastAttempt()
	sum := sha256.Sum256([]byte("nohash@example.com"))
	if a.LoginKeyHash != hex.EncodeToString(sum[:]) {
		t.Fatalf("login key hash %q", a.LoginKeyHash)
	}
	w.noSecretsStored(rightPassword, "zoes-password-1", "isaac.brock", "Isaac.Brock", "nohash@")
}

func TestASourceKeyOfDifferentPeopleIsNotTried(t *testing.T) {
	plain := credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}}
	w := newWorld(t, []user{{uid: "jdoe", email: "john.doe@example.com", pw: "johns-password"}}, worldOptions{settings: plain})
	// A second source of the project holds another jdoe: Jane.
	name, kind, yes := "Partner DB", "database", plan.DecisionYes
	other, err := w.plan.CreateSource(w.ctx, w.project.ID, plan.SourceInput{Name: &name, Kind: &kind, MigrateCredentials: &yes})
	if err != nil {
		t.Fatal(err)
	}
	w.stage(w.project.ID, other.ID, []user{{uid: "JDOE", email: "jane.doe@example.com", pw: "janes-password"}})
	if _, err := w.creds.Save(w.ctx, w.project.ID, other.ID, 0, plain); err != nil {
		t.Fatal(err)
	}
	w.expect("jdoe", "janes-password", anIP, http.StatusOK, unverifiedJSON, hook.OutcomeUnverified, hook.CauseAmbiguous)
	w.expect("jdoe", "johns-password", anIP, http.StatusOK, unverifiedJSON, hook.OutcomeUnverified, hook.CauseAmbiguous)
	// By login, each is found in their own source.
	w.expect("jane.doe@example.com", "janes-password", anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	if a := w.lastAttempt(); a.SourceID == nil || *a.SourceID != other.ID {
		t.Fatalf("verified against source %v, want %d", a.SourceID, other.ID)
	}
	w.expect("john.doe@example.com", "janes-password", anIP, http.StatusOK, unverifiedJSON, hook.OutcomeUnverified, hook.CauseWrongPassword)
}

func TestForgedRequestsAreRefusedAndAudited(t *testing.T) {
	w := newWorld(t, []user{{uid: "u1", email: "ann@example.com", pw: rightPassword}}, worldOptions{settings: credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}}})
	body := payload("ann@example.com", rightPassword, anIP)
	wrong := w.header()
	wrong.Set("Authorization", w.secret[:len(w.secret)-1]+"x")
	twice := w.header()
	twice.Add("Authorization", w.secret)
	cases := []struct {
		name   string
		orgKey string
		header http.Header
	}{
		{"no secret", w.config.OrgKey, http.Header{}},
		{"wrong secret", w.config.OrgKey, wrong},
		{"the secret twice", w.config.OrgKey, twice},
		{"unknown endpoint", "notTheOrgKey", w.header()},
		{"endpoint that is no key", "../../etc/passwd", w.header()},
	}
	for _, c := range cases {
		var before int64
		w.db.Read.Model(&audit.Entry{}).Where("action = ?", hook.ActionRefused).Count(&before)
		status, resp := w.svc.Verify(context.Background(), c.orgKey, c.header, body)
		if status != http.StatusUnauthorized || strings.Contains(string(resp), "VERIFIED") {
			t.Fatalf("%s: %d %s, want 401", c.name, status, resp)
		}
		var entries []audit.Entry
		w.db.Read.Where("action = ?", hook.ActionRefused).Order("id").Find(&entries)
		if int64(len(entries)) != before+1 {
			t.Fatalf("%s: %d audit entries, want %d", c.name, len(entries), before+1)
		}
		if e := entries[len(entries)-1]; e.ActorName != audit.System.Name || e.ActorID != nil {
			t.Fatalf("%s: audited as %q", c.name, e.ActorName)
		}
	}
	if a := w.lastAttempt(); a.Outcome != hook.OutcomeError || a.Cause != hook.CauseUnauthorized {
		t.Fatalf("recorded %s/%s", a.Outcome, a.Cause)
	}
	// A flood of forged requests writes a bounded number of audit entries.
	for range 40 {
		w.svc.Verify(context.Background(), w.config.OrgKey, http.Header{}, body)
	}
	var n int64
	w.db.Read.Model(&audit.Entry{}).Where("action = ? AND entity_id = ?", hook.ActionRefused, w.config.ID).Count(&n)
	if n > 20 {
		t.Fatalf("%d audit entries for a flood of forged requests, want at most 20 a minute", n)
	}
	w.noSecretsStored(rightPassword, w.secret)
}

func TestMalformedRequestsAre400(t *testing.T) {
	w := newWorld(t, []user{{uid: "u1", email: "ann@example.com", pw: rightPassword}}, worldOptions{settings: credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}}})
	good := string(payload("ann@example.com", rightPassword, anIP))
	cases := map[string][]byte{
		"empty":              nil,
		"not JSON":           []byte("username=ann&password=x"),
		"an array":           []byte(`[1,2]`),
		"two objects":        []byte(good + good),
		"not UTF-8":          []byte(strings.Replace(good, "ann@", "ann\xff@", 1)),
		"oversized":          []byte(good[:len(good)-1] + `,"pad":"` + strings.Repeat("a", 70<<10) + `"}`),
		"no credential":      []byte(`{"eventType":"com.okta.user.credential.password.import","data":{"context":{}}}`),
		"no password":        []byte(`{"data":{"context":{"credential":{"username":"ann@example.com"}}}}`),
		"empty username":     payload("", rightPassword, anIP),
		"another event type": []byte(strings.Replace(good, hook.EventType, "com.okta.import.transform", 1)),
		"password a number":  []byte(`{"data":{"context":{"credential":{"username":"ann@example.com","password":42}}}}`),
	}
	for name, body := range cases {
		status, resp := w.svc.Verify(context.Background(), w.config.OrgKey, w.header(), body)
		if status != http.StatusBadRequest {
			t.Errorf("%s: %d %s, want 400", name, status, resp)
			continue
		}
		if a := w.lastAttempt(); a.Outcome != hook.OutcomeError || a.Cause != hook.CauseBadRequest {
			t.Errorf("%s: recorded %s/%s", name, a.Outcome, a.Cause)
		}
	}
	// The body of a well-formed request still works afterwards.
	w.expect("ann@example.com", rightPassword, anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	w.noSecretsStored(rightPassword)
}

// controlledVerifier lets a test hold verifications or slow them down.
type controlledVerifier struct {
	delay   atomic.Int64 // ns
	hold    chan struct{}
	started chan struct{}
	holding atomic.Bool
}

func newControlledVerifier() *controlledVerifier {
	return &controlledVerifier{hold: make(chan struct{}), started: make(chan struct{}, 16)}
}

func (c *controlledVerifier) verify(h hashes.Hash, password string) (bool, error) {
	c.started <- struct{}{}
	if c.holding.Load() {
		<-c.hold
	}
	time.Sleep(time.Duration(c.delay.Load()))
	return hashes.Verify(h, password)
}

func TestAnOverloadedPoolRefusesAtOnce(t *testing.T) {
	cv := newControlledVerifier()
	w := newWorld(t, []user{{uid: "u1", email: "ann@example.com", pw: rightPassword}, {uid: "u2", email: "bob@example.com", pw: rightPassword}},
		worldOptions{settings: credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}}, budget: 500,
			hookOpts: hook.Options{Workers: 1, Queue: 1, Verifier: cv.verify}})
	// One verification of 300 ms teaches the pool how long one takes.
	cv.delay.Store(int64(300 * time.Millisecond))
	w.expect("ann@example.com", rightPassword, anIP, http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	<-cv.started
	// The only worker is now busy with a held verification…
	cv.holding.Store(true)
	done := make(chan int)
	go func() {
		status, _ := w.call("bob@example.com", rightPassword, "10.0.0.2")
		done <- status
	}()
	<-cv.started
	// …so the next one would wait 300 ms and run 300 ms: more than the
	// 500 ms budget. It is refused at once.
	start := time.Now()
	status, body := w.call("ann@example.com", rightPassword, anIP)
	took := time.Since(start)
	if status != http.StatusServiceUnavailable || strings.Contains(body, "VERIFIED") {
		t.Fatalf("%d %s, want 503", status, body)
	}
	if took > 150*time.Millisecond {
		t.Fatalf("the refusal took %v: it must be immediate", took)
	}
	if a := w.lastAttempt(); a.Outcome != hook.OutcomeError || a.Cause != hook.CauseOverloaded {
		t.Fatalf("recorded %s/%s", a.Outcome, a.Cause)
	}
	// The held one runs past its budget: Ferry could not check, so 503, not UNVERIFIED.
	got := <-done
	close(cv.hold)
	if got != http.StatusServiceUnavailable {
		t.Fatalf("the held verification answered %d, want 503 (budget exceeded)", got)
	}
}

func TestABudgetExceededIs503NotUnverified(t *testing.T) {
	cv := newControlledVerifier()
	cv.delay.Store(int64(800 * time.Millisecond))
	w := newWorld(t, []user{{uid: "u1", email: "ann@example.com", pw: rightPassword}},
		worldOptions{settings: credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}}, budget: 300,
			hookOpts: hook.Options{Verifier: cv.verify}})
	start := time.Now()
	w.expect("ann@example.com", rightPassword, anIP, http.StatusServiceUnavailable, "", hook.OutcomeError, hook.CauseTimeout)
	if took := time.Since(start); took > 700*time.Millisecond {
		t.Fatalf("answered after %v, budget 300 ms", took)
	}
}

func TestFailuresAreThrottledPerUsernameAndPerAddress(t *testing.T) {
	w := newWorld(t, []user{{uid: "u1", email: "ann@example.com", pw: rightPassword}, {uid: "u2", email: "bob@example.com", pw: rightPassword}},
		worldOptions{settings: credentials.Input{Attribute: "pw", Formats: []string{"plaintext"}},
			hookOpts: hook.Options{FailuresPerUsername: 3, FailuresPerAddress: 5, ThrottleWindow: 15 * time.Minute}})
	for i := range 3 {
		w.expect("ann@example.com", wrongPassword, fmt.Sprintf("10.0.0.%d", i), http.StatusOK, unverifiedJSON, hook.OutcomeUnverified, hook.CauseWrongPassword)
	}
	// Ann's username is throttled, whatever the address, the case or the
	// password: the answer says nothing of it (503, not UNVERIFIED).
	w.expect("ANN@example.com", rightPassword, "10.9.9.9", http.StatusServiceUnavailable, "", hook.OutcomeError, hook.CauseThrottled)
	w.expect("bob@example.com", rightPassword, "10.9.9.9", http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	w.clock.Advance(15*time.Minute + time.Second)
	w.expect("ann@example.com", rightPassword, "10.9.9.9", http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")

	// One address trying many usernames is throttled after 5 failures.
	for i := range 5 {
		w.expect(fmt.Sprintf("user%d@example.com", i), wrongPassword, "203.0.113.7", http.StatusOK, unverifiedJSON, hook.OutcomeUnverified, hook.CauseNoUser)
	}
	w.expect("bob@example.com", rightPassword, "203.0.113.7", http.StatusServiceUnavailable, "", hook.OutcomeError, hook.CauseThrottled)
	w.expect("bob@example.com", rightPassword, "198.51.100.1", http.StatusOK, verifiedJSON, hook.OutcomeVerified, "")
	w.noSecretsStored(rightPassword, wrongPassword)
}
