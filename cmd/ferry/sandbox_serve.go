package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ferry-migrate/ferry/internal/oktasim"
)

// embeddedSandbox is Ferry's Okta sandbox running beside the console
// (FERRY_SANDBOX_ADDR), so that a newcomer can rehearse a migration with no
// Okta org: the demo project's org is set to it.
type embeddedSandbox struct {
	URL   string
	Token string
	srv   *http.Server
}

// startSandbox starts the sandbox on cfg.SandboxAddr, with the token kept in
// sandbox.token in the data directory (created once, owner-only), so that a
// project set to it keeps working across restarts. Its users and groups live
// in memory: a restart empties the org, as a fresh sandbox org would be.
func startSandbox(a *app, logger *slog.Logger) (*embeddedSandbox, error) {
	token, err := sandboxToken(filepath.Join(a.cfg.DataDir, "sandbox.token"))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", a.cfg.SandboxAddr)
	if err != nil {
		return nil, fmt.Errorf("cannot start the Okta sandbox on %s (set FERRY_SANDBOX_ADDR to another port, or empty to run none): %w", a.cfg.SandboxAddr, err)
	}
	sim := oktasim.New(oktasim.Options{Token: token, Logger: logger.With("component", "oktasim")})
	sb := &embeddedSandbox{URL: "http://" + ln.Addr().String(), Token: token,
		srv: &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := sb.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("the Okta sandbox stopped", "error", err)
		}
	}()
	return sb, nil
}

// Shutdown stops the sandbox.
func (sb *embeddedSandbox) Shutdown(ctx context.Context) error { return sb.srv.Shutdown(ctx) }

// sandboxToken reads the sandbox's token file, or creates it.
func sandboxToken(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if token := strings.TrimSpace(string(b)); len(token) >= 20 {
			return token, nil
		}
		return "", fmt.Errorf("the sandbox token file %s is damaged: delete it and Ferry makes a new one", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("read the sandbox token file: %w", err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := "sandbox_" + base64.RawURLEncoding.EncodeToString(raw)
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the sandbox token file: %w", err)
	}
	return token, nil
}
