package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"slices"
	"sync"
	"time"
)

// errJWKSUnavailable is returned when the JWKS was never loaded and cannot
// be fetched now.
var errJWKSUnavailable = errors.New("jwks unavailable")

// maxJWKSBody bounds the JWKS document size.
const maxJWKSBody = 1 << 20

// jwksFetchTimeout bounds one JWKS fetch.
const jwksFetchTimeout = 10 * time.Second

// jwksCache holds the keys of a JWKS URL, refreshed periodically and on an
// unknown kid (rate-limited). Fetches are single-flight.
type jwksCache struct {
	url         string
	client      *http.Client
	refresh     time.Duration
	minInterval time.Duration
	now         func() time.Time

	mu        sync.Mutex
	set       []jwtKey
	fetched   time.Time     // last successful fetch (zero: never)
	attempted time.Time     // last fetch start
	inflight  chan struct{} // closed when the running fetch ends; nil when idle
	lastErr   error
}

func newJWKSCache(url string, client *http.Client, refresh, minInterval time.Duration) *jwksCache {
	if client == nil {
		client = &http.Client{Timeout: jwksFetchTimeout}
	}
	if refresh <= 0 {
		refresh = time.Hour
	}
	if minInterval <= 0 {
		minInterval = 30 * time.Second
	}
	return &jwksCache{url: url, client: client, refresh: refresh, minInterval: minInterval, now: time.Now}
}

// keys returns the cached keys with the given kid (all keys when kid is
// empty). It fetches synchronously when nothing is loaded yet or the kid is
// unknown (at most once per minInterval), and in the background when the
// cache is older than refresh. loaded is false when no JWKS was ever
// fetched successfully.
func (c *jwksCache) keys(ctx context.Context, kid string) (found []jwtKey, loaded bool) {
	c.mu.Lock()
	now := c.now()
	loaded = !c.fetched.IsZero()
	found = c.lookup(kid)
	mayFetch := c.attempted.IsZero() || now.Sub(c.attempted) >= c.minInterval
	stale := loaded && now.Sub(c.fetched) >= c.refresh
	c.mu.Unlock()

	switch {
	case (!loaded || len(found) == 0) && (mayFetch || c.running()):
		_ = c.fetch(ctx)
		c.mu.Lock()
		found = c.lookup(kid)
		loaded = !c.fetched.IsZero()
		c.mu.Unlock()
	case stale && mayFetch:
		go func() { _ = c.fetch(context.Background()) }()
	}
	return found, loaded
}

func (c *jwksCache) running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inflight != nil
}

// lookup must be called with mu held.
func (c *jwksCache) lookup(kid string) []jwtKey {
	var out []jwtKey
	for _, k := range c.set {
		if kid == "" || k.id == kid {
			out = append(out, k)
		}
	}
	return out
}

// fetch loads the JWKS, or waits for the fetch already running. A failure
// keeps the previous keys.
func (c *jwksCache) fetch(ctx context.Context) error {
	c.mu.Lock()
	if ch := c.inflight; ch != nil {
		c.mu.Unlock()
		select {
		case <-ch:
			c.mu.Lock()
			defer c.mu.Unlock()
			return c.lastErr
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ch := make(chan struct{})
	c.inflight = ch
	c.attempted = c.now()
	c.mu.Unlock()

	keys, err := c.download(ctx)

	c.mu.Lock()
	defer c.mu.Unlock()
	if err == nil {
		c.set = keys
		c.fetched = c.now()
	}
	c.lastErr = err
	c.inflight = nil
	close(ch)
	return err
}

func (c *jwksCache) download(ctx context.Context) ([]jwtKey, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), jwksFetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errJWKSUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: status %d", errJWKSUnavailable, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBody+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errJWKSUnavailable, err)
	}
	if len(body) > maxJWKSBody {
		return nil, fmt.Errorf("%w: document larger than %d bytes", errJWKSUnavailable, maxJWKSBody)
	}
	return parseJWKS(body)
}

// jwk is one JSON Web Key (RFC 7517/7518/8037), public members only.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// parseJWKS decodes a JWKS document. Keys that are not for signatures, of an
// unsupported type, invalid, too weak, or whose "alg" does not fit their type
// are skipped; a document without any usable key is an error.
func parseJWKS(body []byte) ([]jwtKey, error) {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	var out []jwtKey
	for _, k := range doc.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		key, err := k.publicKey()
		if err != nil {
			continue
		}
		allowed, err := algsForKey(key)
		if err != nil {
			continue
		}
		algs := allowed
		if k.Alg != "" {
			if !slices.Contains(allowed, k.Alg) {
				continue
			}
			algs = []string{k.Alg}
		}
		out = append(out, jwtKey{id: k.Kid, algs: algs, key: key})
	}
	if len(out) == 0 {
		return nil, errors.New("jwks: no usable signature key")
	}
	return out, nil
}

func (k *jwk) publicKey() (any, error) {
	b64 := base64.RawURLEncoding
	switch k.Kty {
	case "RSA":
		n, err1 := b64.DecodeString(k.N)
		e, err2 := b64.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, errors.New("bad RSA key")
		}
		exp := new(big.Int).SetBytes(e)
		if exp.Int64() < 3 || exp.Int64()%2 == 0 {
			return nil, errors.New("bad RSA exponent")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(exp.Int64())}, nil
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, errors.New("unsupported curve")
		}
		x, err1 := b64.DecodeString(k.X)
		y, err2 := b64.DecodeString(k.Y)
		size := (curve.Params().BitSize + 7) / 8
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, errors.New("bad EC key")
		}
		point := append(append([]byte{4}, x...), y...)
		return ecdsa.ParseUncompressedPublicKey(curve, point)
	case "OKP":
		x, err := b64.DecodeString(k.X)
		if k.Crv != "Ed25519" || err != nil || len(x) != ed25519.PublicKeySize {
			return nil, errors.New("bad OKP key")
		}
		return ed25519.PublicKey(x), nil
	}
	return nil, errors.New("unsupported kty")
}

// Refresh loads the JWKS now (no-op without a JWKS URL). The composition
// root may call it at startup to fail fast or warn; Authenticate works
// without it (it fetches on first use).
func (a *Authenticator) Refresh(ctx context.Context) error {
	if a.jwt == nil || a.jwt.jwks == nil {
		return nil
	}
	return a.jwt.jwks.fetch(ctx)
}
