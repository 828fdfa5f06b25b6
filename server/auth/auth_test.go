package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/crypto/bcrypt"
)

// testKeys are generated once per test binary; no private key is committed.
type testKeys struct {
	rsa, rsa2 *rsa.PrivateKey
	ec        *ecdsa.PrivateKey
	ed        ed25519.PrivateKey
	rsaPEM    string // public key PEM of rsa
	ecPEM     string
	edPEM     string
}

var (
	keysOnce sync.Once
	keys     testKeys
)

func getKeys(t *testing.T) *testKeys {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if keys.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keys.rsa2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if keys.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
		if _, keys.ed, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
		keys.rsaPEM = pemPublic(&keys.rsa.PublicKey)
		keys.ecPEM = pemPublic(&keys.ec.PublicKey)
		keys.edPEM = pemPublic(keys.ed.Public())
	})
	return &keys
}

func pemPublic(pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

const (
	testSecret = "0123456789abcdef0123456789abcdef-test-only"
	testIssuer = "https://login.example.com"
	testAud    = "odatagw"
)

// claimsAt returns standard valid claims relative to now.
func claims(mod func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"sub":   "alice@example.com",
		"iss":   testIssuer,
		"aud":   testAud,
		"iat":   now.Add(-time.Minute).Unix(),
		"nbf":   now.Add(-time.Minute).Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"roles": []string{"sales", "reader"},
		"scope": "odata.read odata.write",
	}
	if mod != nil {
		mod(c)
	}
	return c
}

func sign(t *testing.T, m jwt.SigningMethod, key any, c jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}

func basicHdr(user, pw string) http.Header {
	return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))}}
}

func mustHash(t *testing.T, pw string) string {
	t.Helper()
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustNew(t *testing.T, cfg Config) *Authenticator {
	t.Helper()
	a, err := New(cfg, nil)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func request(h http.Header) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/odata/Customers", nil)
	for k, v := range h {
		r.Header[k] = v
	}
	return r
}

// wantAuthErr checks that err is a 401 *Error with a challenge, a generic
// message and a reason that does not leak the credentials.
func wantAuthErr(t *testing.T, err error, secrets ...string) *Error {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) {
		t.Fatalf("want *Error, got %T %v", err, err)
	}
	if ae.Status != http.StatusUnauthorized || ae.Code != "Unauthorized" {
		t.Fatalf("status/code = %d %q, want 401 Unauthorized", ae.Status, ae.Code)
	}
	if ae.Challenge == "" {
		t.Fatalf("401 without challenge")
	}
	if ae.Msg != "invalid credentials" && ae.Msg != "authentication required" {
		t.Fatalf("non-generic message %q", ae.Msg)
	}
	for _, s := range secrets {
		if s != "" && (strings.Contains(ae.Reason, s) || strings.Contains(ae.Error(), s)) {
			t.Fatalf("error leaks a credential: %q", ae.Error())
		}
	}
	return ae
}

func TestJWTMatrix(t *testing.T) {
	k := getKeys(t)
	full := mustNew(t, Config{JWT: JWTConfig{
		HMACSecrets: []HMACKey{{ID: "hs", Secret: testSecret, Algs: []string{"HS256", "HS384"}}},
		PublicKeys: []PublicKey{
			{PEM: k.rsaPEM, Algs: []string{"RS256"}},
			{ID: "ec1", PEM: k.ecPEM},
			{ID: "ed1", PEM: k.edPEM},
		},
		Issuer:   testIssuer,
		Audience: []string{"other", testAud},
	}})
	rsaOnly := mustNew(t, Config{JWT: JWTConfig{PublicKeys: []PublicKey{{PEM: k.rsaPEM, Algs: []string{"RS256"}}}}})
	noneTok := func() string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}()
	// A validly signed RS256 token with its signature replaced.
	good := sign(t, jwt.SigningMethodRS256, k.rsa, claims(nil), "")
	tampered := good[:strings.LastIndex(good, ".")+1] + base64.RawURLEncoding.EncodeToString(make([]byte, 256))
	// Payload changed after signing.
	parts := strings.Split(good, ".")
	parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"mallory","exp":9999999999,"iss":"` + testIssuer + `","aud":"` + testAud + `"}`))
	forged := strings.Join(parts, ".")

	tests := []struct {
		name   string
		a      *Authenticator
		hdr    http.Header
		ok     bool
		reason string // substring of Reason on failure
	}{
		{"HS256 valid", full, bearer(sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(nil), "hs")), true, ""},
		{"HS384 valid without kid", full, bearer(sign(t, jwt.SigningMethodHS384, []byte(testSecret), claims(nil), "")), true, ""},
		{"HS512 not pinned", full, bearer(sign(t, jwt.SigningMethodHS512, []byte(testSecret), claims(nil), "hs")), false, "signature"},
		{"RS256 valid", full, bearer(good), true, ""},
		{"RS256 valid with unknown kid (key without id)", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa, claims(nil), "whatever")), true, ""},
		{"RS384 not pinned", full, bearer(sign(t, jwt.SigningMethodRS384, k.rsa, claims(nil), "")), false, "signature"},
		{"ES256 valid", full, bearer(sign(t, jwt.SigningMethodES256, k.ec, claims(nil), "ec1")), true, ""},
		{"ES256 wrong kid", full, bearer(sign(t, jwt.SigningMethodES256, k.ec, claims(nil), "ed1")), false, "no key"},
		{"EdDSA valid", full, bearer(sign(t, jwt.SigningMethodEdDSA, k.ed, claims(nil), "ed1")), true, ""},
		{"expired", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa, claims(func(c jwt.MapClaims) {
			c["exp"] = time.Now().Add(-2 * time.Minute).Unix()
		}), "")), false, "expired"},
		{"expired within leeway", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa, claims(func(c jwt.MapClaims) {
			c["exp"] = time.Now().Add(-10 * time.Second).Unix()
		}), "")), true, ""},
		{"no exp", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa, claims(func(c jwt.MapClaims) { delete(c, "exp") }), "")), false, "required claim"},
		{"not yet valid", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa, claims(func(c jwt.MapClaims) {
			c["nbf"] = time.Now().Add(2 * time.Minute).Unix()
		}), "")), false, "nbf"},
		{"iat in the future", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa, claims(func(c jwt.MapClaims) {
			c["iat"] = time.Now().Add(2 * time.Minute).Unix()
		}), "")), false, "iat"},
		{"iat slightly ahead within leeway", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa, claims(func(c jwt.MapClaims) {
			c["iat"] = time.Now().Add(10 * time.Second).Unix()
		}), "")), true, ""},
		{"wrong audience", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa, claims(func(c jwt.MapClaims) { c["aud"] = "someone-else" }), "")), false, "audience"},
		{"audience array containing ours", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa, claims(func(c jwt.MapClaims) { c["aud"] = []string{"x", testAud} }), "")), true, ""},
		{"wrong issuer", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa, claims(func(c jwt.MapClaims) { c["iss"] = "https://evil.example.com" }), "")), false, "issuer"},
		{"alg none", full, bearer(noneTok), false, "signature"},
		{"alg confusion HS256 with RSA public PEM", rsaOnly, bearer(sign(t, jwt.SigningMethodHS256, []byte(k.rsaPEM), claims(nil), "")), false, "signature"},
		{"alg confusion against full config", full, bearer(sign(t, jwt.SigningMethodHS256, []byte(k.rsaPEM), claims(nil), "")), false, "signature"},
		{"bad signature (other RSA key)", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa2, claims(nil), "")), false, "signature"},
		{"tampered signature", full, bearer(tampered), false, "signature"},
		{"payload forged after signing", full, bearer(forged), false, "signature"},
		{"no subject", full, bearer(sign(t, jwt.SigningMethodRS256, k.rsa, claims(func(c jwt.MapClaims) { delete(c, "sub") }), "")), false, "sub"},
		{"garbage", full, bearer("not-a-jwt"), false, "malformed"},
		{"garbage three parts", full, bearer("a.b.c"), false, "malformed"},
		{"empty bearer", full, http.Header{"Authorization": {"Bearer"}}, false, "empty"},
		{"unknown scheme", full, http.Header{"Authorization": {"Digest abc"}}, false, "scheme"},
		{"basic not enabled", full, basicHdr("alice", "pw"), false, "not enabled"},
		{"missing credentials", full, nil, false, "no credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := strings.TrimPrefix(tc.hdr.Get("Authorization"), "Bearer ")
			p, err := tc.a.Authenticate(request(tc.hdr))
			if !tc.ok {
				if p != nil {
					t.Fatalf("got principal %+v, want failure", p)
				}
				ae := wantAuthErr(t, err, tok)
				if !strings.Contains(ae.Reason, tc.reason) {
					t.Fatalf("reason %q does not mention %q", ae.Reason, tc.reason)
				}
				if strings.HasPrefix(tc.hdr.Get("Authorization"), "Bearer ") && tok != "" &&
					!strings.Contains(ae.Challenge, `error="invalid_token"`) {
					t.Fatalf("challenge %q lacks invalid_token", ae.Challenge)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if p.Method != MethodJWT || p.Name != "alice@example.com" {
				t.Fatalf("principal = %+v", p)
			}
			if !p.HasRole("sales") || !p.HasRole("reader") || p.HasRole("admin") {
				t.Fatalf("roles = %v", p.Roles)
			}
			if !p.HasScope("odata.read") || !p.HasScope("odata.write") || len(p.Scopes) != 2 {
				t.Fatalf("scopes = %v", p.Scopes)
			}
			if v, ok := p.Claim("iss"); !ok || v != testIssuer {
				t.Fatalf("claim iss = %q %v", v, ok)
			}
		})
	}
}

func TestJWTClaimShapes(t *testing.T) {
	k := getKeys(t)
	tests := []struct {
		name       string
		cfg        JWTConfig
		mod        func(jwt.MapClaims)
		wantName   string
		wantRoles  []string
		wantScopes []string
	}{
		{"scp array", JWTConfig{}, func(c jwt.MapClaims) { delete(c, "scope"); c["scp"] = []string{"a", "b"} }, "alice@example.com", []string{"sales", "reader"}, []string{"a", "b"}},
		{"scp string", JWTConfig{}, func(c jwt.MapClaims) { delete(c, "scope"); c["scp"] = "x y" }, "alice@example.com", []string{"sales", "reader"}, []string{"x", "y"}},
		{"roles as comma string", JWTConfig{}, func(c jwt.MapClaims) { c["roles"] = "a, b" }, "alice@example.com", []string{"a", "b"}, []string{"odata.read", "odata.write"}},
		{"nested roles claim", JWTConfig{RolesClaim: "realm_access.roles"}, func(c jwt.MapClaims) {
			c["realm_access"] = map[string]any{"roles": []string{"admin"}}
		}, "alice@example.com", []string{"admin"}, []string{"odata.read", "odata.write"}},
		{"custom name and scope claims", JWTConfig{NameClaim: "preferred_username", ScopeClaim: "perms"}, func(c jwt.MapClaims) {
			c["preferred_username"] = "al"
			c["perms"] = []string{"p1"}
		}, "al", []string{"sales", "reader"}, []string{"p1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.PublicKeys = []PublicKey{{PEM: k.ecPEM}}
			a := mustNew(t, Config{JWT: cfg})
			p, err := a.Authenticate(request(bearer(sign(t, jwt.SigningMethodES256, k.ec, claims(tc.mod), ""))))
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tc.wantName || strings.Join(p.Roles, "|") != strings.Join(tc.wantRoles, "|") ||
				strings.Join(p.Scopes, "|") != strings.Join(tc.wantScopes, "|") {
				t.Fatalf("got name %q roles %v scopes %v", p.Name, p.Roles, p.Scopes)
			}
		})
	}
}

func TestBasic(t *testing.T) {
	a := mustNew(t, Config{Basic: []BasicUser{
		{Name: "alice", Hash: mustHash(t, "s3cret-pass"), Roles: []string{"sales"}},
		{Name: "bob", Hash: mustHash(t, "hunter2-long")},
	}})
	tests := []struct {
		name   string
		hdr    http.Header
		user   string
		reason string
	}{
		{"valid", basicHdr("alice", "s3cret-pass"), "alice", ""},
		{"valid lower-case scheme", http.Header{"Authorization": {"basic " + base64.StdEncoding.EncodeToString([]byte("bob:hunter2-long"))}}, "bob", ""},
		{"password with colon", basicHdr("alice", "s3cret-pass:x"), "", "wrong password"},
		{"wrong password", basicHdr("alice", "nope"), "", "wrong password"},
		{"other user's password", basicHdr("bob", "s3cret-pass"), "", "wrong password"},
		{"unknown user", basicHdr("carol", "s3cret-pass"), "", "unknown basic user"},
		{"empty user", basicHdr("", "s3cret-pass"), "", "malformed"},
		{"no colon", http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))}}, "", "malformed"},
		{"not base64", http.Header{"Authorization": {"Basic !!!"}}, "", "malformed"},
		{"bearer not enabled", bearer("x.y.z"), "", "not enabled"},
		{"missing", nil, "", "no credentials"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a.Authenticate(request(tc.hdr))
			if tc.user == "" {
				ae := wantAuthErr(t, err, "s3cret-pass", "hunter2-long", "nope")
				if !strings.Contains(ae.Reason, tc.reason) {
					t.Fatalf("reason %q, want %q", ae.Reason, tc.reason)
				}
				if !strings.Contains(ae.Challenge, `Basic realm="odatagw"`) {
					t.Fatalf("challenge %q", ae.Challenge)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tc.user || p.Method != MethodBasic {
				t.Fatalf("principal %+v", p)
			}
		})
	}
	if p, _ := a.Authenticate(request(basicHdr("alice", "s3cret-pass"))); !p.HasRole("sales") {
		t.Fatalf("alice roles = %v", p.Roles)
	}
}

func TestBasicCache(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw-for-cache"), MinBcryptCost) // ~50 ms per uncached check
	if err != nil {
		t.Fatal(err)
	}
	a := mustNew(t, Config{Basic: []BasicUser{{Name: "alice", Hash: string(hash)}}, BasicCacheTTL: time.Minute})
	now := time.Now()
	a.now = func() time.Time { return now }
	ok := func(pw string) bool {
		_, err := a.Authenticate(request(basicHdr("alice", pw)))
		return err == nil
	}
	if !ok("pw-for-cache") {
		t.Fatal("first login failed")
	}
	if len(a.cache) != 1 {
		t.Fatalf("cache has %d entries, want 1", len(a.cache))
	}
	for k := range a.cache {
		if strings.Contains(string(k[:]), "pw-for-cache") {
			t.Fatal("cache key contains the password")
		}
	}
	// The cache answers without bcrypt: with alice's stored hash swapped for
	// one of another password, only a cache hit can still accept her.
	other, err := bcrypt.GenerateFromPassword([]byte("another-password"), MinBcryptCost)
	if err != nil {
		t.Fatal(err)
	}
	alice := a.basic["alice"]
	swapped := alice
	swapped.Hash = string(other)
	a.basic["alice"] = swapped
	for range 20 {
		if !ok("pw-for-cache") {
			t.Fatal("cached login failed: cache not used")
		}
	}
	a.basic["alice"] = alice
	if ok("wrong") {
		t.Fatal("wrong password accepted after a cached success")
	}
	if len(a.cache) != 1 {
		t.Fatalf("failure was cached: %d entries", len(a.cache))
	}
	// After the TTL the entry expires and bcrypt runs again (still succeeds).
	now = now.Add(2 * time.Minute)
	if !ok("pw-for-cache") {
		t.Fatal("login after TTL failed")
	}
	// Disabled cache stores nothing.
	b := mustNew(t, Config{Basic: []BasicUser{{Name: "alice", Hash: string(hash)}}, BasicCacheTTL: -1})
	if _, err := b.Authenticate(request(basicHdr("alice", "pw-for-cache"))); err != nil {
		t.Fatal(err)
	}
	if len(b.cache) != 0 {
		t.Fatal("disabled cache stored an entry")
	}
}

func TestAPIKey(t *testing.T) {
	const key = "k_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
	cfg := Config{APIKeys: []APIKey{
		{Name: "salesforce", Hash: HashAPIKey(key), Roles: []string{"sf"}},
		{Name: "batch", Hash: strings.ToUpper(HashAPIKey("another-long-random-key"))},
	}, APIKeyHeader: "X-Gateway-Key"}
	raw, _ := json.Marshal(cfg)
	if strings.Contains(string(raw), key) {
		t.Fatal("config stores the raw key")
	}
	if h := HashAPIKey(key); len(h) != 64 || h != strings.ToLower(h) {
		t.Fatalf("HashAPIKey = %q", h)
	}
	a := mustNew(t, cfg)
	tests := []struct {
		name string
		hdr  http.Header
		want string
	}{
		{"valid", http.Header{"X-Gateway-Key": {key}}, "salesforce"},
		{"valid upper-case stored hash", http.Header{"X-Gateway-Key": {"another-long-random-key"}}, "batch"},
		{"invalid", http.Header{"X-Gateway-Key": {key + "x"}}, ""},
		{"hash presented as key", http.Header{"X-Gateway-Key": {HashAPIKey(key)}}, ""},
		{"default header not configured", http.Header{"X-Api-Key": {key}}, ""},
		{"missing", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := a.Authenticate(request(tc.hdr))
			if tc.want == "" {
				ae := wantAuthErr(t, err, key)
				if !strings.Contains(ae.Challenge, "X-Gateway-Key") {
					t.Fatalf("challenge %q", ae.Challenge)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Name != tc.want || p.Method != MethodAPIKey {
				t.Fatalf("principal %+v", p)
			}
		})
	}
}

func TestNoAuthIsAnonymous(t *testing.T) {
	a := mustNew(t, Config{})
	if a.Enabled() {
		t.Fatal("Enabled with empty config")
	}
	for _, h := range []http.Header{nil, basicHdr("x", "y"), bearer("garbage")} {
		p, err := a.Authenticate(request(h))
		if err != nil || p != Anonymous {
			t.Fatalf("got %v %v, want Anonymous", p, err)
		}
	}
}

func TestMultipleModes(t *testing.T) {
	k := getKeys(t)
	a := mustNew(t, Config{
		Basic:   []BasicUser{{Name: "alice", Hash: mustHash(t, "pw-alice-1")}},
		APIKeys: []APIKey{{Name: "svc", Hash: HashAPIKey("svc-key-0123456789")}},
		JWT:     JWTConfig{PublicKeys: []PublicKey{{PEM: k.edPEM}}},
	})
	if got := a.Challenge(); !strings.Contains(got, "Basic") || !strings.Contains(got, "Bearer") || !strings.Contains(got, "APIKey") {
		t.Fatalf("challenge %q", got)
	}
	for _, tc := range []struct {
		h      http.Header
		method string
	}{
		{basicHdr("alice", "pw-alice-1"), MethodBasic},
		{http.Header{"X-Api-Key": {"svc-key-0123456789"}}, MethodAPIKey},
		{bearer(sign(t, jwt.SigningMethodEdDSA, k.ed, claims(nil), "")), MethodJWT},
	} {
		p, err := a.Authenticate(request(tc.h))
		if err != nil || p.Method != tc.method {
			t.Fatalf("got %+v %v, want method %s", p, err, tc.method)
		}
	}
}

func TestNewValidation(t *testing.T) {
	k := getKeys(t)
	weak, _ := bcrypt.GenerateFromPassword([]byte("x"), bcrypt.MinCost)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pemFile := filepath.Join(dir, "rsa.pem")
	if err := os.WriteFile(pemFile, []byte(k.rsaPEM), 0o600); err != nil {
		t.Fatal(err)
	}
	good := mustHash(t, "pw-123456")
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"ok pem file", Config{JWT: JWTConfig{PublicKeys: []PublicKey{{PEMFile: pemFile, Algs: []string{"RS256", "PS256"}}}}}, ""},
		{"ok all modes", Config{Basic: []BasicUser{{Name: "a", Hash: good}}, APIKeys: []APIKey{{Name: "k", Hash: HashAPIKey("k")}},
			JWT: JWTConfig{HMACSecrets: []HMACKey{{Secret: testSecret}}}}, ""},
		{"bad bcrypt hash", Config{Basic: []BasicUser{{Name: "a", Hash: "plaintext"}}}, "not a bcrypt hash"},
		{"weak bcrypt cost", Config{Basic: []BasicUser{{Name: "a", Hash: string(weak)}}}, "cost 4"},
		{"user with colon", Config{Basic: []BasicUser{{Name: "a:b", Hash: good}}}, "':'"},
		{"duplicate user", Config{Basic: []BasicUser{{Name: "a", Hash: good}, {Name: "a", Hash: good}}}, "twice"},
		{"api key not hex", Config{APIKeys: []APIKey{{Name: "k", Hash: "raw-key"}}}, "64 hex"},
		{"api key header Authorization", Config{APIKeys: []APIKey{{Name: "k", Hash: HashAPIKey("k")}}, APIKeyHeader: "authorization"}, "Authorization"},
		{"unknown alg", Config{JWT: JWTConfig{HMACSecrets: []HMACKey{{Secret: testSecret, Algs: []string{"HS999"}}}}}, "not allowed"},
		{"none alg on hmac", Config{JWT: JWTConfig{HMACSecrets: []HMACKey{{Secret: testSecret, Algs: []string{"none"}}}}}, "none"},
		{"none alg on rsa", Config{JWT: JWTConfig{PublicKeys: []PublicKey{{PEM: k.rsaPEM, Algs: []string{"none"}}}}}, "none"},
		{"HS alg on public key", Config{JWT: JWTConfig{PublicKeys: []PublicKey{{PEM: k.rsaPEM, Algs: []string{"HS256"}}}}}, "not allowed"},
		{"RS alg on hmac", Config{JWT: JWTConfig{HMACSecrets: []HMACKey{{Secret: testSecret, Algs: []string{"RS256"}}}}}, "not allowed"},
		{"ES384 on P-256 key", Config{JWT: JWTConfig{PublicKeys: []PublicKey{{PEM: k.ecPEM, Algs: []string{"ES384"}}}}}, "not allowed"},
		{"RS256 on EdDSA key", Config{JWT: JWTConfig{PublicKeys: []PublicKey{{PEM: k.edPEM, Algs: []string{"RS256"}}}}}, "not allowed"},
		{"short hmac secret", Config{JWT: JWTConfig{HMACSecrets: []HMACKey{{Secret: "short"}}}}, "shorter"},
		{"small RSA key", Config{JWT: JWTConfig{PublicKeys: []PublicKey{{PEM: pemPublic(&small.PublicKey)}}}}, "too short"},
		{"not PEM", Config{JWT: JWTConfig{PublicKeys: []PublicKey{{PEM: "hello"}}}}, "no PEM"},
		{"private key PEM", Config{JWT: JWTConfig{PublicKeys: []PublicKey{{PEM: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}}}}, "not a public key"},
		{"pem and file", Config{JWT: JWTConfig{PublicKeys: []PublicKey{{PEM: k.rsaPEM, PEMFile: pemFile}}}}, "not both"},
		{"missing file", Config{JWT: JWTConfig{PublicKeys: []PublicKey{{PEMFile: filepath.Join(dir, "nope.pem")}}}}, "nope.pem"},
		{"bad jwks url", Config{JWT: JWTConfig{JWKSURL: "file:///etc/passwd"}}, "http(s)"},
		{"leeway too large", Config{JWT: JWTConfig{HMACSecrets: []HMACKey{{Secret: testSecret}}, Leeway: time.Hour}}, "leeway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(tc.cfg, nil)
			if tc.wantErr == "" {
				if err != nil || !a.Enabled() {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want containing %q", err, tc.wantErr)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Fatal("error leaks the secret")
			}
		})
	}
}

func TestParseBasicUsers(t *testing.T) {
	h := mustHash(t, "pw-abcdef")
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"alice:" + h, []string{"alice"}, false},
		{"alice:" + h + ", bob:" + h, []string{"alice", "bob"}, false},
		{"", nil, false},
		{"alice", nil, true},
		{":" + h, nil, true},
	}
	for _, tc := range tests {
		users, err := ParseBasicUsers(tc.in)
		if (err != nil) != tc.wantErr {
			t.Fatalf("%q: err = %v", tc.in, err)
		}
		var names []string
		for _, u := range users {
			names = append(names, u.Name)
			if u.Hash != h {
				t.Fatalf("%q: hash %q", tc.in, u.Hash)
			}
		}
		if strings.Join(names, ",") != strings.Join(tc.want, ",") {
			t.Fatalf("%q: got %v want %v", tc.in, names, tc.want)
		}
	}
	users, _ := ParseBasicUsers("alice:" + h)
	a := mustNew(t, Config{Basic: users})
	if _, err := a.Authenticate(request(basicHdr("alice", "pw-abcdef"))); err != nil {
		t.Fatal(err)
	}
}

// jwksServer serves a mutable JWKS and counts fetches.
type jwksServer struct {
	mu    sync.Mutex
	doc   []byte
	hits  atomic.Int32
	fail  atomic.Bool
	delay time.Duration
	srv   *httptest.Server
}

func newJWKSServer(t *testing.T) *jwksServer {
	s := &jwksServer{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		time.Sleep(s.delay)
		if s.fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(s.doc)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *jwksServer) set(keys ...map[string]any) {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	s.mu.Lock()
	s.doc = b
	s.mu.Unlock()
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid string, k *rsa.PublicKey, alg string) map[string]any {
	m := map[string]any{"kty": "RSA", "kid": kid, "use": "sig", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	if alg != "" {
		m["alg"] = alg
	}
	return m
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]any {
	raw, err := k.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	n := (len(raw) - 1) / 2
	return map[string]any{"kty": "EC", "kid": kid, "crv": "P-256", "x": b64(raw[1 : 1+n]), "y": b64(raw[1+n:])}
}

func edJWK(kid string, k ed25519.PublicKey) map[string]any {
	return map[string]any{"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(k)}
}

func TestJWKS(t *testing.T) {
	k := getKeys(t)
	js := newJWKSServer(t)
	js.set(rsaJWK("k1", &k.rsa.PublicKey, "RS256"), ecJWK("k2", &k.ec.PublicKey),
		map[string]any{"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"}, // skipped: not sig
		map[string]any{"kty": "oct", "kid": "sym", "k": b64([]byte(testSecret))})           // skipped: symmetric
	a := mustNew(t, Config{JWT: JWTConfig{JWKSURL: js.srv.URL, JWKSMinInterval: time.Hour, Audience: []string{testAud}}})
	cache := a.jwt.jwks
	now := time.Now()
	var clockMu sync.Mutex
	cache.now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
	advance := func(d time.Duration) { clockMu.Lock(); now = now.Add(d); clockMu.Unlock() }

	auth := func(tok string) (*Principal, error) { return a.Authenticate(request(bearer(tok))) }

	// kid selection with two keys: one fetch serves both.
	if _, err := auth(sign(t, jwt.SigningMethodRS256, k.rsa, claims(nil), "k1")); err != nil {
		t.Fatalf("k1: %v", err)
	}
	if _, err := auth(sign(t, jwt.SigningMethodES256, k.ec, claims(nil), "k2")); err != nil {
		t.Fatalf("k2: %v", err)
	}
	if n := js.hits.Load(); n != 1 {
		t.Fatalf("fetches = %d, want 1", n)
	}
	failures := []struct {
		name string
		tok  string
	}{
		{"RS256 token with EC kid", sign(t, jwt.SigningMethodRS256, k.rsa, claims(nil), "k2")},
		{"ES256 token with RSA kid", sign(t, jwt.SigningMethodES256, k.ec, claims(nil), "k1")},
		{"RS384 not pinned by JWK alg", sign(t, jwt.SigningMethodRS384, k.rsa, claims(nil), "k1")},
		{"HS256 with RSA key bytes", sign(t, jwt.SigningMethodHS256, []byte(k.rsaPEM), claims(nil), "k1")},
		{"HS256 with oct key", sign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(nil), "sym")},
		{"wrong key for kid", sign(t, jwt.SigningMethodRS256, k.rsa2, claims(nil), "k1")},
		{"unknown kid rate-limited", sign(t, jwt.SigningMethodEdDSA, k.ed, claims(nil), "k3")},
	}
	for _, f := range failures {
		if _, err := auth(f.tok); err == nil {
			t.Fatalf("%s: accepted", f.name)
		} else {
			wantAuthErr(t, err, f.tok)
		}
	}
	if n := js.hits.Load(); n != 1 {
		t.Fatalf("unknown kid within the min interval refetched: %d fetches", n)
	}

	// Rotation: the IdP adds k3 and drops k1; after the min interval an
	// unknown kid triggers one refresh.
	js.set(ecJWK("k2", &k.ec.PublicKey), edJWK("k3", k.ed.Public().(ed25519.PublicKey)))
	advance(2 * time.Hour)
	p, err := auth(sign(t, jwt.SigningMethodEdDSA, k.ed, claims(nil), "k3"))
	if err != nil {
		t.Fatalf("k3 after rotation: %v", err)
	}
	if p.Method != MethodJWT || js.hits.Load() != 2 {
		t.Fatalf("principal %+v, fetches %d", p, js.hits.Load())
	}
	if _, err := auth(sign(t, jwt.SigningMethodRS256, k.rsa, claims(nil), "k1")); err == nil {
		t.Fatal("rotated-out key k1 still accepted")
	}

	// A failed refresh keeps the old keys.
	js.fail.Store(true)
	advance(2 * time.Hour)
	if err := a.Refresh(context.Background()); err == nil {
		t.Fatal("Refresh against a failing server succeeded")
	}
	if _, err := auth(sign(t, jwt.SigningMethodES256, k.ec, claims(nil), "k2")); err != nil {
		t.Fatalf("k2 after failed refresh: %v", err)
	}

	// Periodic refresh runs in the background once the cache is stale.
	js.fail.Store(false)
	before := js.hits.Load()
	advance(2 * time.Hour)
	if _, err := auth(sign(t, jwt.SigningMethodES256, k.ec, claims(nil), "k2")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for js.hits.Load() == before || cache.running() {
		if time.Now().After(deadline) {
			t.Fatal("stale cache was not refreshed in the background")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestJWKSSingleFlight(t *testing.T) {
	k := getKeys(t)
	js := newJWKSServer(t)
	js.delay = 100 * time.Millisecond
	js.set(rsaJWK("k1", &k.rsa.PublicKey, ""))
	a := mustNew(t, Config{JWT: JWTConfig{JWKSURL: js.srv.URL}})
	tok := sign(t, jwt.SigningMethodPS256, k.rsa, claims(nil), "k1") // JWK without alg: RS*/PS* allowed
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range 20 {
		wg.Go(func() {
			if _, err := a.Authenticate(request(bearer(tok))); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d concurrent requests failed", failed.Load())
	}
	if n := js.hits.Load(); n != 1 {
		t.Fatalf("concurrent first use made %d fetches, want 1", n)
	}
}

func TestParseJWKS(t *testing.T) {
	k := getKeys(t)
	tests := []struct {
		name    string
		keys    []map[string]any
		want    int
		wantErr bool
	}{
		{"rsa ec okp", []map[string]any{rsaJWK("a", &k.rsa.PublicKey, ""), ecJWK("b", &k.ec.PublicKey), edJWK("c", k.ed.Public().(ed25519.PublicKey))}, 3, false},
		{"alg mismatch skipped", []map[string]any{rsaJWK("a", &k.rsa.PublicKey, "ES256"), ecJWK("b", &k.ec.PublicKey)}, 1, false},
		{"alg none skipped", []map[string]any{rsaJWK("a", &k.rsa.PublicKey, "none"), ecJWK("b", &k.ec.PublicKey)}, 1, false},
		{"point off curve skipped", []map[string]any{{"kty": "EC", "crv": "P-256", "x": b64(make([]byte, 32)), "y": b64(make([]byte, 32))}, ecJWK("b", &k.ec.PublicKey)}, 1, false},
		{"no usable key", []map[string]any{{"kty": "oct", "k": "AAAA"}}, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, _ := json.Marshal(map[string]any{"keys": tc.keys})
			got, err := parseJWKS(b)
			if (err != nil) != tc.wantErr || len(got) != tc.want {
				t.Fatalf("got %d keys, err %v", len(got), err)
			}
		})
	}
	if _, err := parseJWKS([]byte("{")); err == nil {
		t.Fatal("bad JSON accepted")
	}
}

func TestJWKSUnavailable(t *testing.T) {
	k := getKeys(t)
	js := newJWKSServer(t)
	js.fail.Store(true)
	js.set(rsaJWK("k1", &k.rsa.PublicKey, "RS256"))
	a := mustNew(t, Config{JWT: JWTConfig{JWKSURL: js.srv.URL, JWKSMinInterval: time.Hour}})
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, claims(nil), "k1")
	for i := range 3 {
		_, err := a.Authenticate(request(bearer(tok)))
		ae := wantAuthErr(t, err, tok)
		if ae.Reason != "token: jwks unavailable" {
			t.Fatalf("attempt %d: reason %q", i, ae.Reason)
		}
	}
	if n := js.hits.Load(); n != 1 {
		t.Fatalf("failing JWKS fetched %d times within the min interval, want 1", n)
	}
	// The IdP recovers; an explicit Refresh (as the composition root may do)
	// makes the key usable at once.
	js.fail.Store(false)
	if err := a.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Authenticate(request(bearer(tok))); err != nil {
		t.Fatal(err)
	}
}

// TestPasswordGate: the gate is consulted exactly when a password is checked
// with bcrypt (wrong, unknown or not yet remembered), never for a cached
// verification, a JWT, an API key or malformed credentials; its error is
// returned as is; done learns whether the password matched. With the gate
// blocked (every bcrypt slot taken by a flood of wrong passwords), verified
// callers still get through: they never wait on it.
func TestPasswordGate(t *testing.T) {
	k := getKeys(t)
	a := mustNew(t, Config{
		Basic:   []BasicUser{{Name: "alice", Hash: mustHash(t, "pw-alice-1")}},
		APIKeys: []APIKey{{Name: "svc", Hash: HashAPIKey("svc-key-0123456789")}},
		JWT:     JWTConfig{PublicKeys: []PublicKey{{PEM: k.edPEM}}},
	})
	var calls []string
	gate := func(user string) (func(bool), error) {
		calls = append(calls, user)
		return func(ok bool) { calls = append(calls, fmt.Sprint(ok)) }, nil
	}
	steps := []struct {
		h    http.Header
		ok   bool
		gate string // calls the request made, joined by ' '
	}{
		{basicHdr("alice", "wrong"), false, "alice false"},
		{basicHdr("carol", "pw-alice-1"), false, "carol false"}, // unknown users cost a bcrypt too
		{basicHdr("alice", "pw-alice-1"), true, "alice true"},
		{basicHdr("alice", "pw-alice-1"), true, ""}, // remembered: no bcrypt
		{http.Header{"X-Api-Key": {"svc-key-0123456789"}}, true, ""},
		{http.Header{"X-Api-Key": {"wrong-key"}}, false, ""},
		{bearer(sign(t, jwt.SigningMethodEdDSA, k.ed, claims(nil), "")), true, ""},
		{bearer("not.a.token"), false, ""},
		{http.Header{"Authorization": {"Basic !!!"}}, false, ""},
		{nil, false, ""},
	}
	for i, st := range steps {
		calls = nil
		_, err := a.AuthenticateWith(request(st.h), gate)
		if (err == nil) != st.ok || strings.Join(calls, " ") != st.gate {
			t.Errorf("step %d: err %v, gate calls %q; want ok %v, calls %q", i, err, calls, st.ok, st.gate)
		}
	}

	// The gate refuses: its error comes back, no password is checked.
	refused := errors.New("too many")
	_, err := a.AuthenticateWith(request(basicHdr("alice", "other")), func(string) (func(bool), error) { return nil, refused })
	if err != refused {
		t.Errorf("refusing gate: %v", err)
	}

	// A gate that blocks (all slots busy): verified callers pass meanwhile.
	release := make(chan struct{})
	var entered atomic.Int32
	blocking := func(string) (func(bool), error) {
		entered.Add(1)
		<-release
		return func(bool) {}, nil
	}
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = a.AuthenticateWith(request(basicHdr("alice", fmt.Sprint("guess-", i))), blocking)
		}()
	}
	for entered.Load() < 4 {
		runtime.Gosched()
	}
	for _, h := range []http.Header{
		basicHdr("alice", "pw-alice-1"),
		{"X-Api-Key": {"svc-key-0123456789"}},
		bearer(sign(t, jwt.SigningMethodEdDSA, k.ed, claims(nil), "")),
	} {
		if _, err := a.AuthenticateWith(request(h), blocking); err != nil {
			t.Errorf("%v while the gate is blocked: %v", h, err)
		}
	}
	if n := entered.Load(); n != 4 {
		t.Errorf("%d gate entries, want only the 4 guesses", n)
	}
	close(release)
	wg.Wait()
}
