package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeSelfSigned writes a certificate for 127.0.0.1 and its key.
func writeSelfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ferry test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// With its own certificate, Ferry serves HTTPS (what Okta needs to call the
// password import hook) and prints its https:// address.
func TestServeWithItsOwnCertificate(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := writeSelfSigned(t, dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{"FERRY_DATA_DIR": dir, "FERRY_TLS_CERT": certFile, "FERRY_TLS_KEY": keyFile}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "-addr", addr}, func(k string) string { return env[k] }, &out, &errOut)
	}()
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	giveUp := time.Now().Add(2 * time.Minute) // a guard against a hang, not a performance limit
	for {
		res, err := client.Get("https://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode != http.StatusOK || res.TLS == nil {
				t.Fatalf("healthz over TLS: %d", res.StatusCode)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s%s", err, out.String(), errOut.String())
		default:
		}
		if time.Now().After(giveUp) {
			t.Fatalf("no HTTPS answer: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "running at https://") {
		t.Errorf("the printed address is not https: %s", out.String())
	}
	// Plain HTTP on the same port is not served.
	if res, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/healthz"); err == nil {
		res.Body.Close()
		if res.StatusCode == http.StatusOK {
			t.Error("plain HTTP was answered")
		}
	}
	cancel()
	<-done
}

func TestAnUnusableCertificateStopsStartUp(t *testing.T) {
	dir := t.TempDir()
	certFile, _, _ := writeSelfSigned(t, dir)
	out, err := serveUntil(t, map[string]string{"FERRY_DATA_DIR": dir, "FERRY_TLS_CERT": certFile, "FERRY_TLS_KEY": certFile}, "running at")
	if err == nil || !strings.Contains(err.Error()+out, "FERRY_TLS_CERT") {
		t.Fatalf("a key file that is no key: %v\n%s", err, out)
	}
}
