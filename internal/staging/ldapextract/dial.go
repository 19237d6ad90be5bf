package ldapextract

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/ferry-migrate/ferry/internal/staging/extract"
)

// Endpoint says how to reach an LDAP server: the part of a Config that other
// clients of the same directory share (the password hook's bind check).
type Endpoint struct {
	// URL is ldap://host[:port] or ldaps://host[:port].
	URL string
	// StartTLS upgrades an ldap:// connection to TLS before anything else.
	StartTLS bool
	// InsecureSkipVerify accepts any server certificate (tests and labs only).
	InsecureSkipVerify bool
	// CACertPEM, when set, is the only CA trusted for the server's
	// certificate; otherwise the system's.
	CACertPEM []byte
}

// Endpoint returns the config's server settings.
func (c Config) Endpoint() Endpoint {
	return Endpoint{URL: c.URL, StartTLS: c.StartTLS, InsecureSkipVerify: c.InsecureSkipVerify, CACertPEM: c.CACertPEM}
}

// Problems checks the endpoint and returns a message per field (url,
// start_tls, ca_cert_pem); none when it is valid.
func (e Endpoint) Problems() map[string]string {
	fields := map[string]string{}
	u, err := url.Parse(strings.TrimSpace(e.URL))
	switch {
	case strings.TrimSpace(e.URL) == "":
		fields["url"] = "Give the server's URL, as ldap://host:389 or ldaps://host:636."
	case err != nil:
		fields["url"] = "This is not a URL: use ldap://host:389 or ldaps://host:636."
	case u.Scheme != "ldap" && u.Scheme != "ldaps":
		fields["url"] = fmt.Sprintf("The URL must start with ldap:// or ldaps://, not %s.", schemeOf(e.URL))
	case u.Hostname() == "":
		fields["url"] = "The URL has no host name: use ldap://host:389 or ldaps://host:636."
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		fields["url"] = "Give only the scheme, host and port; the base DN, filter and attributes have their own settings."
	case u.Port() != "" && !validPort(u.Port()):
		fields["url"] = "The port must be a number from 1 to 65535."
	}
	if e.StartTLS && err == nil && u.Scheme == "ldaps" {
		fields["start_tls"] = "StartTLS is for ldap:// URLs: an ldaps:// connection is encrypted from the start."
	}
	if len(e.CACertPEM) > 0 {
		if !x509.NewCertPool().AppendCertsFromPEM(e.CACertPEM) {
			fields["ca_cert_pem"] = "This is not a PEM certificate (-----BEGIN CERTIFICATE-----)."
		}
	}
	return fields
}

// TLSConfig is the TLS configuration for the server named host.
func (e Endpoint) TLSConfig(host string) *tls.Config {
	// InsecureSkipVerify is documented as for tests and labs only.
	tc := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: e.InsecureSkipVerify}
	if len(e.CACertPEM) > 0 {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(e.CACertPEM)
		tc.RootCAs = pool
	}
	return tc
}

// Conn is a connection to an LDAP server that has not bound yet.
type Conn struct {
	*ldap.Conn
	// Addr is the server's host:port.
	Addr string
	// TLS reports whether the connection is encrypted (ldaps:// or StartTLS).
	TLS bool

	raw  net.Conn
	stop func() bool
	once sync.Once
}

// Interrupt closes the socket, which ends whatever request waits on it with
// an error; use it to bound a request in time.
func (c *Conn) Interrupt() { _ = c.raw.Close() }

// Close closes the connection. It is safe to call more than once.
func (c *Conn) Close() error {
	c.once.Do(func() {
		c.stop()
		// Close first the socket: ldap.Conn.Close waits for its goroutines,
		// which may be blocked on it.
		_ = c.raw.Close()
		if c.Conn != nil {
			_ = c.Conn.Close()
		}
	})
	return nil
}

// Dial connects to the endpoint (which must be valid: see Problems), does
// the TLS handshake for ldaps:// or StartTLS when asked, and binds nobody.
// Each step must complete within timeout. Cancelling ctx closes the
// connection, until Close. A failure is an *extract.Error whose message
// says what to check, or, once ctx is done, an error wrapping its cause.
func Dial(ctx context.Context, e Endpoint, timeout time.Duration) (*Conn, error) {
	u, err := url.Parse(strings.TrimSpace(e.URL))
	if err != nil {
		return nil, &extract.Error{Unit: "entry", Message: "the LDAP server's URL is not valid"}
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "389"
		if u.Scheme == "ldaps" {
			port = "636"
		}
	}
	addr := net.JoinHostPort(host, port)
	refuse := func(msg string) error { return &extract.Error{Unit: "entry", Message: msg} }
	stopped := func() error { return fmt.Errorf("ldapextract: connecting to %s: %w", addr, context.Cause(ctx)) }

	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(dctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, stopped()
		}
		if dctx.Err() != nil {
			return nil, refuse(fmt.Sprintf("no answer from the LDAP server at %s within %s: check the host, the port and the firewall", addr, timeout))
		}
		return nil, refuse(fmt.Sprintf("cannot connect to the LDAP server at %s: %s", addr, netProblem(err)))
	}
	c := &Conn{Addr: addr, raw: raw}
	// Cancelling ctx closes the socket, which ends whatever waits on it.
	c.stop = context.AfterFunc(ctx, func() { _ = raw.Close() })
	var nc net.Conn = raw
	if u.Scheme == "ldaps" {
		tc := tls.Client(raw, e.TLSConfig(host))
		if err := tc.HandshakeContext(dctx); err != nil {
			c.Close()
			if ctx.Err() != nil {
				return nil, stopped()
			}
			if dctx.Err() != nil {
				return nil, refuse(fmt.Sprintf("the LDAP server at %s did not complete the TLS handshake within %s: check that the port is its ldaps:// port", addr, timeout))
			}
			return nil, refuse(tlsProblem(addr, err.Error()))
		}
		nc, c.TLS = tc, true
	}
	c.Conn = ldap.NewConn(nc, u.Scheme == "ldaps")
	c.Conn.Start()
	if e.StartTLS {
		var timedOut atomic.Bool
		t := time.AfterFunc(timeout, func() {
			timedOut.Store(true)
			c.Interrupt()
		})
		err := c.Conn.StartTLS(e.TLSConfig(host))
		t.Stop()
		if err != nil {
			c.Close()
			if ctx.Err() != nil {
				return nil, stopped()
			}
			if timedOut.Load() {
				return nil, refuse(fmt.Sprintf("the LDAP server at %s did not answer StartTLS within %s", addr, timeout))
			}
			var le *ldap.Error
			if errors.As(err, &le) && le.ResultCode != ldap.ErrorNetwork {
				return nil, refuse(fmt.Sprintf("the LDAP server at %s refused StartTLS (%s): it may not have TLS set up; ask its administrators, or use ldaps://",
					addr, ldapProblem(le)))
			}
			detail := err.Error()
			if le != nil && le.Err != nil {
				detail = le.Err.Error()
			}
			return nil, refuse(tlsProblem(addr, detail))
		}
		c.TLS = true
	}
	return c, nil
}
