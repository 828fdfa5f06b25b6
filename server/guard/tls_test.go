package guard

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSecurityHeaders(t *testing.T) {
	tp, _ := NewTrustedProxies([]string{"10.0.0.0/8"})
	h := SecurityHeaders(tp)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/$metadata" {
			w.Header().Set("Cache-Control", "max-age=60")
		}
	}))
	tests := []struct {
		name      string
		path      string
		remote    string
		tls       bool
		xfp       string
		wantHSTS  bool
		wantCache string
	}{
		{"plain http", "/odata/Customers", "203.0.113.1:1", false, "", false, "no-store"},
		{"tls", "/odata/Customers", "203.0.113.1:1", true, "", true, "no-store"},
		{"https via trusted proxy", "/odata/Customers", "10.0.0.2:1", false, "https", true, "no-store"},
		{"https claimed by untrusted peer", "/odata/Customers", "203.0.113.1:1", false, "https", false, "no-store"},
		{"handler overrides cache", "/$metadata", "203.0.113.1:1", false, "", false, "max-age=60"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, tc.path, nil)
			r.RemoteAddr = tc.remote
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tc.xfp != "" {
				r.Header.Set("X-Forwarded-Proto", tc.xfp)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			got := rec.Header()
			for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
				"X-Frame-Options": "DENY", "Cache-Control": tc.wantCache} {
				if got.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, got.Get(k), v)
				}
			}
			if (got.Get("Strict-Transport-Security") != "") != tc.wantHSTS {
				t.Errorf("HSTS = %q, want present %v", got.Get("Strict-Transport-Security"), tc.wantHSTS)
			}
		})
	}
}

func TestCORS(t *testing.T) {
	type want struct {
		status      int
		allowOrigin string
		called      bool
	}
	tests := []struct {
		name    string
		origins []string
		method  string
		origin  string
		preflt  bool
		want    want
	}{
		{"off: preflight reaches the handler", nil, http.MethodOptions, "https://a.example", true, want{200, "", true}},
		{"off: simple request", nil, http.MethodGet, "https://a.example", false, want{200, "", true}},
		{"preflight allowed", []string{"https://a.example"}, http.MethodOptions, "https://a.example", true, want{204, "https://a.example", false}},
		{"preflight allowed case-insensitive", []string{"https://A.example/"}, http.MethodOptions, "https://a.EXAMPLE", true, want{204, "https://a.EXAMPLE", false}},
		{"preflight denied", []string{"https://a.example"}, http.MethodOptions, "https://evil.example", true, want{403, "", false}},
		{"simple allowed", []string{"https://a.example"}, http.MethodGet, "https://a.example", false, want{200, "https://a.example", true}},
		{"simple other origin", []string{"https://a.example"}, http.MethodGet, "https://evil.example", false, want{200, "", true}},
		{"no origin", []string{"https://a.example"}, http.MethodGet, "", false, want{200, "", true}},
		{"plain OPTIONS is not a preflight", []string{"https://a.example"}, http.MethodOptions, "https://a.example", false, want{200, "https://a.example", true}},
		{"wildcard", []string{"*"}, http.MethodOptions, "https://any.example", true, want{204, "*", false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var called atomic.Int32
			h := CORS(tc.origins)(okHandler(&called))
			r := httptest.NewRequest(tc.method, "/odata/Customers", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.preflt {
				r.Header.Set("Access-Control-Request-Method", "PATCH")
				r.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.want.status || rec.Header().Get("Access-Control-Allow-Origin") != tc.want.allowOrigin ||
				(called.Load() == 1) != tc.want.called {
				t.Fatalf("status %d allow-origin %q called %v; want %+v", rec.Code,
					rec.Header().Get("Access-Control-Allow-Origin"), called.Load() == 1, tc.want)
			}
			if tc.want.status == 204 {
				if !strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "PATCH") ||
					!strings.Contains(rec.Header().Get("Access-Control-Allow-Headers"), "Authorization") {
					t.Fatalf("preflight headers %v", rec.Header())
				}
				if tc.want.allowOrigin == "*" && rec.Header().Get("Access-Control-Allow-Credentials") != "" {
					t.Fatal("credentials allowed with wildcard origin")
				}
			}
		})
	}
}

// pki generates certificates for the TLS tests; nothing is committed.
type certKey struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	certPEM,
	keyPEM []byte
}

var serial atomic.Int64

func genCert(t *testing.T, cn string, parent *certKey, isCA, client bool) *certKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	switch {
	case isCA:
		tmpl.IsCA, tmpl.BasicConstraintsValid = true, true
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	case client:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	default:
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	parentCert, parentKey := tmpl, key
	if parent != nil {
		parentCert, parentKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return &certKey{cert: cert, key: key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// serveTLS runs an HTTPS server with cfg on a real listener.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cn := "-"
		if len(r.TLS.PeerCertificates) > 0 {
			cn = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		_, _ = io.WriteString(w, cn)
	}), ReadHeaderTimeout: 5 * time.Second, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(tls.NewListener(ln, cfg)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// handshake dials addr and returns the server certificate's CN.
func handshake(t *testing.T, addr string, roots *x509.CertPool) (string, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost"})
	if err != nil {
		return "", err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].Subject.CommonName, nil
}

func TestTLSReload(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	one, two := genCert(t, "one", nil, false, false), genCert(t, "two", nil, false, false)
	writeFile(t, certFile, one.certPEM)
	writeFile(t, keyFile, one.keyPEM)
	cfg, rl, err := NewTLSConfig(certFile, keyFile, "", false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.ClientAuth != tls.NoClientCert {
		t.Fatalf("config: min %x auth %v", cfg.MinVersion, cfg.ClientAuth)
	}
	addr := serveTLS(t, cfg)
	roots := x509.NewCertPool()
	roots.AddCert(one.cert)
	roots.AddCert(two.cert)

	steps := []struct {
		name      string
		cert, key []byte
		reloadErr bool
		wantCN    string
	}{
		{"initial", nil, nil, false, "one"},
		{"reload to two", two.certPEM, two.keyPEM, false, "two"},
		{"broken files keep two", []byte("garbage"), two.keyPEM, true, "two"},
		{"mismatched pair keeps two", one.certPEM, two.keyPEM, true, "two"},
		{"back to one", one.certPEM, one.keyPEM, false, "one"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			if s.cert != nil {
				writeFile(t, certFile, s.cert)
				writeFile(t, keyFile, s.key)
				if err := rl.Reload(); (err != nil) != s.reloadErr {
					t.Fatalf("Reload err = %v, want error %v", err, s.reloadErr)
				}
			}
			cn, err := handshake(t, addr, roots)
			if err != nil {
				t.Fatal(err)
			}
			if cn != s.wantCN || rl.Leaf().Subject.CommonName != s.wantCN {
				t.Fatalf("served %q (leaf %q), want %q", cn, rl.Leaf().Subject.CommonName, s.wantCN)
			}
		})
	}
	// TLS 1.1 clients are refused.
	conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, ServerName: "localhost", MaxVersion: tls.VersionTLS11})
	if err == nil {
		conn.Close()
		t.Fatal("TLS 1.1 handshake succeeded")
	}
}

func TestClientCertificates(t *testing.T) {
	dir := t.TempDir()
	ca := genCert(t, "test-ca", nil, true, false)
	server := genCert(t, "server", nil, false, false)
	good := genCert(t, "salesforce", ca, false, true)
	rogue := genCert(t, "rogue", nil, false, true) // self-signed, not from the CA
	certFile, keyFile, caFile := filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key"), filepath.Join(dir, "ca.pem")
	writeFile(t, certFile, server.certPEM)
	writeFile(t, keyFile, server.keyPEM)
	writeFile(t, caFile, ca.certPEM)
	roots := x509.NewCertPool()
	roots.AddCert(server.cert)

	get := func(addr string, client *certKey) (string, error) {
		tc := &tls.Config{RootCAs: roots, ServerName: "localhost"}
		if client != nil {
			pair, err := tls.X509KeyPair(client.certPEM, client.keyPEM)
			if err != nil {
				t.Fatal(err)
			}
			// Always present the certificate, even when it does not chain to
			// the CAs the server announces (Go's client would otherwise
			// silently send none).
			tc.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
		}
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}, Timeout: 5 * time.Second}
		defer c.CloseIdleConnections()
		resp, err := c.Get("https://" + addr + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	tests := []struct {
		name    string
		require bool
		client  *certKey
		wantCN  string // "" = request must fail
	}{
		{"required, CA-signed client", true, good, "salesforce"},
		{"required, no client cert", true, nil, ""},
		{"required, rogue client cert", true, rogue, ""},
		{"optional, no client cert", false, nil, "-"},
		{"optional, CA-signed client", false, good, "salesforce"},
		{"optional, rogue client cert", false, rogue, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, _, err := NewTLSConfig(certFile, keyFile, caFile, tc.require)
			if err != nil {
				t.Fatal(err)
			}
			addr := serveTLS(t, cfg)
			cn, err := get(addr, tc.client)
			if tc.wantCN == "" {
				if err == nil {
					t.Fatalf("request succeeded with client CN %q", cn)
				}
				return
			}
			if err != nil || cn != tc.wantCN {
				t.Fatalf("got %q, %v; want %q", cn, err, tc.wantCN)
			}
		})
	}

	bad := []struct {
		name          string
		cert, key, ca string
		require       bool
		wantErr       string
	}{
		{"require without CA", certFile, keyFile, "", true, "CA bundle"},
		{"missing CA file", certFile, keyFile, filepath.Join(dir, "nope.pem"), false, "nope.pem"},
		{"CA file without certificates", certFile, keyFile, keyFile, false, "no certificate"},
		{"missing key", certFile, "", "", false, "key"},
		{"missing cert file", filepath.Join(dir, "none.crt"), keyFile, "", false, "none.crt"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := NewTLSConfig(tc.cert, tc.key, tc.ca, tc.require)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
			}
		})
	}
}
