package guard

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
)

// CertReloader serves the certificate of a certificate/key file pair and
// reloads it on demand (the composition root calls Reload on SIGHUP).
// It is safe for concurrent use.
type CertReloader struct {
	certFile, keyFile string
	cert              atomic.Pointer[tls.Certificate]
}

// NewCertReloader loads the pair once; the error says which file is wrong.
func NewCertReloader(certFile, keyFile string) (*CertReloader, error) {
	c := &CertReloader{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload re-reads both files. On any error the previous certificate stays in
// use and the error is returned (for the log).
func (c *CertReloader) Reload() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("guard: tls certificate %s / key %s: %w", c.certFile, c.keyFile, err)
	}
	c.cert.Store(&cert)
	return nil
}

// GetCertificate is a tls.Config.GetCertificate returning the current
// certificate.
func (c *CertReloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.cert.Load(), nil
}

// Leaf returns the parsed current leaf certificate (for logging its subject
// and expiry).
func (c *CertReloader) Leaf() *x509.Certificate { return c.cert.Load().Leaf }

// NewTLSConfig returns a server TLS configuration: TLS 1.2 minimum, the
// certificate served from a CertReloader of certFile/keyFile, and, when
// clientCAFile is set, client certificates verified against that PEM bundle:
// required when requireClientCert, else verified only if presented.
// requireClientCert without clientCAFile is an error. The CA bundle is read
// once (a restart picks up a new bundle).
func NewTLSConfig(certFile, keyFile, clientCAFile string, requireClientCert bool) (*tls.Config, *CertReloader, error) {
	if certFile == "" || keyFile == "" {
		return nil, nil, errors.New("guard: tls needs both a certificate and a key file")
	}
	rl, err := NewCertReloader(certFile, keyFile)
	if err != nil {
		return nil, nil, err
	}
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: rl.GetCertificate,
		NextProtos:     []string{"h2", "http/1.1"},
	}
	switch {
	case clientCAFile != "":
		pemBytes, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, nil, fmt.Errorf("guard: client CA bundle: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pemBytes) {
			return nil, nil, fmt.Errorf("guard: client CA bundle %s: no certificate found", clientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
		if requireClientCert {
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		}
	case requireClientCert:
		return nil, nil, errors.New("guard: requiring client certificates needs a client CA bundle")
	}
	return cfg, rl, nil
}
