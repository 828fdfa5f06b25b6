package test

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
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with the given
// common name and returns it.
func writeCert(t *testing.T, certFile, keyFile, cn string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// TestHTTPSAndCertificateReload serves over TLS through the composition
// root, then swaps the certificate files and reloads (what SIGHUP does).
func TestHTTPSAndCertificateReload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	writeCert(t, certFile, keyFile, "first")
	c := fixtureConfig(fixtureDSN(t))
	c.TLS.CertFile, c.TLS.KeyFile = certFile, keyFile
	g := start(t, c)
	if g.g.URL()[:8] != "https://" {
		t.Fatalf("URL %s", g.g.URL())
	}
	served := func() (string, uint16, int) {
		tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // test reads the served certificate
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get("https://" + g.g.Addr() + "/odata/Customers?$top=1")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.TLS.PeerCertificates[0].Subject.CommonName, resp.TLS.Version, resp.StatusCode
	}
	if cn, v, status := served(); cn != "first" || v < tls.VersionTLS12 || status != 200 {
		t.Fatalf("served %q TLS %x status %d", cn, v, status)
	}
	writeCert(t, certFile, keyFile, "second")
	if err := g.g.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if cn, _, _ := served(); cn != "second" {
		t.Fatalf("after reload the server still presents %q", cn)
	}
	// A broken file keeps the old certificate and reports the error.
	os.WriteFile(certFile, []byte("garbage"), 0o600)
	if err := g.g.Reload(context.Background()); err == nil {
		t.Fatal("reload of a broken certificate succeeded")
	}
	if cn, _, _ := served(); cn != "second" {
		t.Fatalf("a failed reload changed the certificate to %q", cn)
	}
	// Plain HTTP on the TLS port is refused.
	resp, err := http.Get("http://" + g.g.Addr() + "/odata/")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS listener")
		}
	}
}
