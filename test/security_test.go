package test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/server/app"
	"github.com/odatagw/odatagw/server/auth"
)

// Security end-to-end tests (issue 6): authentication and authorization
// through the running gateway over HTTP.

const (
	secHMACSecret = "e2e-hmac-secret-0123456789abcdef-0123456789" // >= 32 bytes
	secIssuer     = "https://login.example.test"
	secAudience   = "odatagw-e2e"
)

// secKeys holds the RSA keys of the suite, generated once per test binary
// (no private key is committed).
var (
	secKeysOnce      sync.Once
	secRSA, secRSA2  *rsa.PrivateKey
	secRSAPublicPEM  string
	secKeysGenFailed error
)

func secRSAKeys(t testing.TB) (*rsa.PrivateKey, *rsa.PrivateKey, string) {
	t.Helper()
	secKeysOnce.Do(func() {
		var err error
		if secRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			secKeysGenFailed = err
			return
		}
		if secRSA2, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			secKeysGenFailed = err
			return
		}
		der, err := x509.MarshalPKIXPublicKey(&secRSA.PublicKey)
		if err != nil {
			secKeysGenFailed = err
			return
		}
		secRSAPublicPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	})
	if secKeysGenFailed != nil {
		t.Fatal(secKeysGenFailed)
	}
	return secRSA, secRSA2, secRSAPublicPEM
}

// secClaims are valid claims for the suite's issuer and audience; mutate
// adjusts them per case.
func secClaims(sub string, mutate ...func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{
		"sub": sub,
		"iss": secIssuer,
		"aud": secAudience,
		"iat": now.Add(-time.Minute).Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	}
	for _, m := range mutate {
		m(c)
	}
	return c
}

// secSign signs claims with method and key (key nil for "none").
func secSign(t testing.TB, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	if method == jwt.SigningMethodNone {
		key = jwt.UnsafeAllowNoneSignatureType
	}
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// secJWT configures JWT authentication with the tests' HMAC key, audience
// and issuer (the tokens secHS256 signs).
func secJWT(c *app.Config) {
	c.Auth.JWT.HMACSecrets = []auth.HMACKey{{Secret: secHMACSecret}}
	c.Auth.JWT.Audience = []string{secAudience}
	c.Auth.JWT.Issuer = secIssuer
}

// secRoles is the Authorization header of a token for subject "u" with
// roles (secJWT's key, audience and issuer).
func secRoles(t testing.TB, roles ...string) []string {
	return []string{"Authorization", "Bearer " + secHS256(t, secClaims("u", func(c jwt.MapClaims) { c["roles"] = roles }))}
}

func secHS256(t testing.TB, claims jwt.MapClaims) string {
	return secSign(t, jwt.SigningMethodHS256, []byte(secHMACSecret), claims)
}

func basicHeader(user, pw string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
}

// secHash is auth.HashPassword failing the test on error.
func secHash(t testing.TB, pw string) string {
	t.Helper()
	h, err := auth.HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// assertNoSecrets fails when any secret appears in the gateway's logs.
func assertNoSecrets(t testing.TB, g *gateway, secrets ...string) {
	t.Helper()
	logs := g.logs()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the gateway log contains a secret (%.12s...)", s)
		}
	}
}

// authCase is one request of the authentication matrix.
type authCase struct {
	name      string
	headers   []string // header name/value pairs
	status    int
	challenge []string // substrings of WWW-Authenticate on a 401
}

func runAuthCases(t *testing.T, g *gateway, cases []authCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := g.do("GET", "/odata/Customers?$select=CustomerID&$top=2", nil, tc.headers...)
			if tc.status == 200 {
				if r.Status != 200 {
					t.Fatalf("status %d, want 200: %s", r.Status, r.Body)
				}
				if v, ok := r.json(t)["value"].([]any); !ok || len(v) != 2 {
					t.Fatalf("want two rows: %s", r.Body)
				}
				if r.Header.Get("WWW-Authenticate") != "" {
					t.Errorf("a success carries a challenge: %q", r.Header.Get("WWW-Authenticate"))
				}
				return
			}
			e := assertODataError(t, r, tc.status)
			if tc.status == 401 {
				if e["code"] != "Unauthorized" {
					t.Errorf("code %v, want Unauthorized", e["code"])
				}
				ch := r.Header.Get("WWW-Authenticate")
				if ch == "" {
					t.Fatal("401 without WWW-Authenticate")
				}
				for _, want := range tc.challenge {
					if !strings.Contains(ch, want) {
						t.Errorf("WWW-Authenticate %q lacks %q", ch, want)
					}
				}
				// The message is generic: it never says which part was wrong.
				msg, _ := e["message"].(string)
				if msg != "authentication required" && msg != "invalid credentials" {
					t.Errorf("non-generic 401 message %q", msg)
				}
			}
		})
	}
}

func TestAuthMatrixHTTP(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	rsaKey, otherRSA, rsaPEM := secRSAKeys(t)

	const (
		alicePW  = "alice-Pa55word!with:colon"
		bobPW    = "bob-0ther-secret"
		apiKey   = "ak_live_7f3e1c2b9a8d4e6f0a1b2c3d4e5f6a7b"
		apiKey2  = "ak_live_ffffffffffffffffffffffffffffffff"
		envBobPW = "env-bob-password-42"
	)
	aliceHash := secHash(t, alicePW)
	envHash := secHash(t, envBobPW)

	secrets := []string{alicePW, bobPW, apiKey, apiKey2, envBobPW, secHMACSecret,
		base64.StdEncoding.EncodeToString([]byte("alice:" + alicePW)),
		base64.StdEncoding.EncodeToString([]byte("alice:" + bobPW))}
	var tokens []string // every token sent, checked against the logs at the end
	tok := func(s string) string { tokens = append(tokens, s); return s }

	expired := func(c jwt.MapClaims) {
		c["exp"] = time.Now().Add(-time.Hour).Unix()
		c["iat"] = time.Now().Add(-2 * time.Hour).Unix()
		c["nbf"] = time.Now().Add(-2 * time.Hour).Unix()
	}
	notYet := func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }
	futureIAT := func(c jwt.MapClaims) { c["iat"] = time.Now().Add(time.Hour).Unix() }
	wrongAud := func(c jwt.MapClaims) { c["aud"] = "someone-else" }
	wrongIss := func(c jwt.MapClaims) { c["iss"] = "https://evil.example.test" }
	noExp := func(c jwt.MapClaims) { delete(c, "exp") }

	t.Run("Basic", func(t *testing.T) {
		c := baseConfig(dsn)
		c.Auth.Basic = []auth.BasicUser{{Name: "alice", Hash: aliceHash, Roles: []string{"reader"}}}
		g := start(t, c)
		ch := []string{`Basic realm="odatagw"`}
		runAuthCases(t, g, []authCase{
			{"valid", []string{"Authorization", basicHeader("alice", alicePW)}, 200, nil},
			{"valid again (cache)", []string{"Authorization", basicHeader("alice", alicePW)}, 200, nil},
			{"scheme case-insensitive", []string{"Authorization", "bAsIc " + base64.StdEncoding.EncodeToString([]byte("alice:"+alicePW))}, 200, nil},
			{"wrong password", []string{"Authorization", basicHeader("alice", bobPW)}, 401, ch},
			{"unknown user", []string{"Authorization", basicHeader("mallory", alicePW)}, 401, ch},
			{"empty password", []string{"Authorization", basicHeader("alice", "")}, 401, ch},
			{"no credentials", nil, 401, ch},
			{"garbage base64", []string{"Authorization", "Basic !!!not-base64!!!"}, 401, ch},
			{"no colon", []string{"Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte("alice"))}, 401, ch},
			{"bearer not enabled", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("alice")))}, 401, ch},
			{"unknown scheme", []string{"Authorization", "Digest username=alice"}, 401, ch},
			{"api key not enabled", []string{"X-API-Key", apiKey}, 401, ch},
		})
		// The service document and $metadata need authentication too.
		for _, p := range []string{"/odata/", "/odata/$metadata", "/odata/Customers/$count"} {
			assertODataError(t, g.do("GET", p, nil), 401)
		}
		// Health endpoints stay open for probes.
		if r := g.do("GET", "/healthz", nil); r.Status != 200 {
			t.Errorf("healthz behind auth: %d", r.Status)
		}
		if strings.Contains(g.logs(), "AUTHENTICATION IS OFF") {
			t.Error("the no-auth warning is logged although Basic is configured")
		}
		assertNoSecrets(t, g, append(secrets, tokens...)...)
		if !strings.Contains(g.logs(), `"principal":"alice"`) {
			t.Error("the access log does not name the principal")
		}
	})

	t.Run("JWT-HS256", func(t *testing.T) {
		c := baseConfig(dsn)
		c.Auth.JWT.HMACSecrets = []auth.HMACKey{{Secret: secHMACSecret}}
		c.Auth.JWT.Issuer = secIssuer
		c.Auth.JWT.Audience = []string{secAudience}
		g := start(t, c)
		ch := []string{`Bearer realm="odatagw"`}
		bad := []string{`Bearer realm="odatagw", error="invalid_token"`}
		otherSecret := strings.Repeat("x", 40)
		valid := tok(secHS256(t, secClaims("svc")))
		// A valid token with one payload byte changed: bad signature.
		parts := strings.Split(valid, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		tampered := strings.Replace(string(payload), `"sub":"svc"`, `"sub":"adm"`, 1)
		tamperedTok := tok(parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(tampered)) + "." + parts[2])
		runAuthCases(t, g, []authCase{
			{"valid", []string{"Authorization", "Bearer " + valid}, 200, nil},
			{"expired", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("svc", expired)))}, 401, bad},
			{"not yet valid", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("svc", notYet)))}, 401, bad},
			{"issued in the future", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("svc", futureIAT)))}, 401, bad},
			{"wrong audience", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("svc", wrongAud)))}, 401, bad},
			{"wrong issuer", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("svc", wrongIss)))}, 401, bad},
			{"no exp", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("svc", noExp)))}, 401, bad},
			{"no subject", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("", func(c jwt.MapClaims) { delete(c, "sub") })))}, 401, bad},
			{"alg none", []string{"Authorization", "Bearer " + tok(secSign(t, jwt.SigningMethodNone, nil, secClaims("svc")))}, 401, bad},
			{"alg none, signature stripped", []string{"Authorization", "Bearer " + tok(noneHeader()+"."+parts[1]+".")}, 401, bad},
			{"bad signature (other secret)", []string{"Authorization", "Bearer " + tok(secSign(t, jwt.SigningMethodHS256, []byte(otherSecret), secClaims("svc")))}, 401, bad},
			{"tampered payload", []string{"Authorization", "Bearer " + tamperedTok}, 401, bad},
			{"HS512 not pinned", []string{"Authorization", "Bearer " + tok(secSign(t, jwt.SigningMethodHS512, []byte(secHMACSecret), secClaims("svc")))}, 401, bad},
			{"RS256 with no RSA key", []string{"Authorization", "Bearer " + tok(secSign(t, jwt.SigningMethodRS256, rsaKey, secClaims("svc")))}, 401, bad},
			{"garbage", []string{"Authorization", "Bearer not.a.jwt"}, 401, bad},
			{"garbage no dots", []string{"Authorization", "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, 401, bad},
			{"empty bearer", []string{"Authorization", "Bearer "}, 401, ch},
			{"no credentials", nil, 401, ch},
			{"basic not enabled", []string{"Authorization", basicHeader("alice", alicePW)}, 401, ch},
		})
		// The client gets a generic message; the log says why.
		for _, reason := range []string{"token: expired", "token: not valid yet (nbf)", "token: wrong audience",
			"token: wrong issuer", "token: bad signature or disallowed algorithm", "token: malformed"} {
			if !strings.Contains(g.logs(), `"reason":"`+reason+`"`) {
				t.Errorf("the log does not give the reason %q", reason)
			}
		}
		assertNoSecrets(t, g, append(secrets, tokens...)...)
	})

	t.Run("JWT-RS256", func(t *testing.T) {
		c := baseConfig(dsn)
		c.Auth.JWT.PublicKeys = []auth.PublicKey{{ID: "k1", PEM: rsaPEM}}
		c.Auth.JWT.Issuer = secIssuer
		c.Auth.JWT.Audience = []string{secAudience}
		g := start(t, c)
		ch := []string{`Bearer realm="odatagw"`}
		bad := []string{`Bearer realm="odatagw", error="invalid_token"`}
		rs := func(claims jwt.MapClaims) string {
			return tok(secSign(t, jwt.SigningMethodRS256, rsaKey, claims))
		}
		withKid := func(kid string, key *rsa.PrivateKey) string {
			tk := jwt.NewWithClaims(jwt.SigningMethodRS256, secClaims("svc"))
			tk.Header["kid"] = kid
			s, err := tk.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return tok(s)
		}
		runAuthCases(t, g, []authCase{
			{"valid", []string{"Authorization", "Bearer " + rs(secClaims("svc"))}, 200, nil},
			{"valid with kid", []string{"Authorization", "Bearer " + withKid("k1", rsaKey)}, 200, nil},
			{"PS256 same key", []string{"Authorization", "Bearer " + tok(secSign(t, jwt.SigningMethodPS256, rsaKey, secClaims("svc")))}, 200, nil},
			{"unknown kid", []string{"Authorization", "Bearer " + withKid("k2", rsaKey)}, 401, bad},
			{"expired", []string{"Authorization", "Bearer " + rs(secClaims("svc", expired))}, 401, bad},
			{"not yet valid", []string{"Authorization", "Bearer " + rs(secClaims("svc", notYet))}, 401, bad},
			{"wrong audience", []string{"Authorization", "Bearer " + rs(secClaims("svc", wrongAud))}, 401, bad},
			{"wrong issuer", []string{"Authorization", "Bearer " + rs(secClaims("svc", wrongIss))}, 401, bad},
			{"alg none", []string{"Authorization", "Bearer " + tok(secSign(t, jwt.SigningMethodNone, nil, secClaims("svc")))}, 401, bad},
			// Algorithm confusion: HMAC keyed with the public key's PEM (and DER) bytes.
			{"HS256 keyed with the public PEM", []string{"Authorization", "Bearer " + tok(secSign(t, jwt.SigningMethodHS256, []byte(rsaPEM), secClaims("svc")))}, 401, bad},
			{"HS256 keyed with the public DER", []string{"Authorization", "Bearer " + tok(secSign(t, jwt.SigningMethodHS256, pubDER(t, &rsaKey.PublicKey), secClaims("svc")))}, 401, bad},
			{"bad signature (other key)", []string{"Authorization", "Bearer " + tok(secSign(t, jwt.SigningMethodRS256, otherRSA, secClaims("svc")))}, 401, bad},
			{"bad signature (other key, same kid)", []string{"Authorization", "Bearer " + withKid("k1", otherRSA)}, 401, bad},
			{"garbage", []string{"Authorization", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.AAAA"}, 401, bad},
			{"no credentials", nil, 401, ch},
		})
		assertNoSecrets(t, g, tokens...)
	})

	t.Run("APIKey", func(t *testing.T) {
		c := baseConfig(dsn)
		c.Auth.APIKeys = []auth.APIKey{
			{Name: "salesforce", Hash: auth.HashAPIKey(apiKey), Roles: []string{"reader"}},
			{Name: "other", Hash: strings.ToUpper(auth.HashAPIKey(apiKey2))},
		}
		g := start(t, c)
		ch := []string{`APIKey realm="odatagw", header="X-API-Key"`}
		runAuthCases(t, g, []authCase{
			{"valid", []string{"X-API-Key", apiKey}, 200, nil},
			{"second key, upper-case hash", []string{"X-API-Key", apiKey2}, 200, nil},
			{"header name case-insensitive", []string{"x-api-key", apiKey}, 200, nil},
			{"wrong key", []string{"X-API-Key", apiKey + "x"}, 401, ch},
			{"prefix of a key", []string{"X-API-Key", apiKey[:10]}, 401, ch},
			{"hash instead of key", []string{"X-API-Key", auth.HashAPIKey(apiKey)}, 401, ch},
			{"key as bearer", []string{"Authorization", "Bearer " + apiKey}, 401, ch},
			{"garbage", []string{"X-API-Key", "'; DROP TABLE \"Customers\"; --"}, 401, ch},
			{"no credentials", nil, 401, ch},
		})
		if !strings.Contains(g.logs(), `"principal":"salesforce"`) {
			t.Error("the access log does not name the API key")
		}
		assertNoSecrets(t, g, apiKey, apiKey2, apiKey+"x", apiKey[:10])
	})

	t.Run("AllModesTogether", func(t *testing.T) {
		c := baseConfig(dsn)
		c.Auth.Basic = []auth.BasicUser{{Name: "alice", Hash: aliceHash}}
		c.Auth.JWT.HMACSecrets = []auth.HMACKey{{Secret: secHMACSecret}}
		c.Auth.JWT.PublicKeys = []auth.PublicKey{{PEM: rsaPEM}}
		c.Auth.JWT.Audience = []string{secAudience}
		c.Auth.APIKeys = []auth.APIKey{{Name: "salesforce", Hash: auth.HashAPIKey(apiKey)}}
		g := start(t, c)
		all := []string{`Basic realm="odatagw"`, `Bearer realm="odatagw"`, `APIKey realm="odatagw"`}
		runAuthCases(t, g, []authCase{
			{"basic", []string{"Authorization", basicHeader("alice", alicePW)}, 200, nil},
			{"hs256", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("svc")))}, 200, nil},
			{"rs256", []string{"Authorization", "Bearer " + tok(secSign(t, jwt.SigningMethodRS256, rsaKey, secClaims("svc")))}, 200, nil},
			{"api key", []string{"X-API-Key", apiKey}, 200, nil},
			// With both HS and RS keys configured, an HS token keyed with the
			// public key still fails (keys are pinned to algorithms).
			{"confusion", []string{"Authorization", "Bearer " + tok(secSign(t, jwt.SigningMethodHS256, []byte(rsaPEM), secClaims("svc")))}, 401, all},
			// A bad Authorization header is not rescued by a good API key.
			{"bad bearer + good key", []string{"Authorization", "Bearer garbage", "X-API-Key", apiKey}, 401, all},
			{"no credentials", nil, 401, all},
		})
		assertNoSecrets(t, g, append(secrets, tokens...)...)
	})

	t.Run("QuickStartEnv", func(t *testing.T) {
		env := map[string]string{
			"ODATAGW_DB":               dsn,
			"ODATAGW_LISTEN":           "127.0.0.1:0",
			"ODATAGW_LOG_LEVEL":        "debug",
			"ODATAGW_LOG_FORMAT":       "json",
			"ODATAGW_TOKEN_KEY":        testKey,
			"ODATAGW_BASIC_USERS":      "bob:" + envHash,
			"ODATAGW_JWT_HS256_SECRET": secHMACSecret,
			"ODATAGW_JWT_AUDIENCE":     secAudience,
			"ODATAGW_JWT_ISSUER":       secIssuer,
		}
		c, extra, err := app.Load("serve", app.Sources{Env: func(k string) string { return env[k] }})
		if err != nil || len(extra) > 0 {
			t.Fatalf("load: %v %v", err, extra)
		}
		// The effective configuration printed by "odatagw config" masks them.
		var printed strings.Builder
		if err := c.Print(&printed); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{envHash, secHMACSecret} {
			if strings.Contains(printed.String(), s) {
				t.Errorf("odatagw config prints a secret (%.12s...)", s)
			}
		}
		g := start(t, c)
		ch := []string{`Basic realm="odatagw"`, `Bearer realm="odatagw"`}
		runAuthCases(t, g, []authCase{
			{"basic valid", []string{"Authorization", basicHeader("bob", envBobPW)}, 200, nil},
			{"basic wrong password", []string{"Authorization", basicHeader("bob", alicePW)}, 401, ch},
			{"jwt valid", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("svc")))}, 200, nil},
			{"jwt wrong audience", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("svc", wrongAud)))}, 401, ch},
			{"jwt expired", []string{"Authorization", "Bearer " + tok(secHS256(t, secClaims("svc", expired)))}, 401, ch},
			{"no credentials", nil, 401, ch},
		})
		assertNoSecrets(t, g, append([]string{envHash, envBobPW, secHMACSecret, alicePW}, tokens...)...)
	})

	t.Run("NoAuth", func(t *testing.T) {
		g := start(t, baseConfig(dsn))
		if !strings.Contains(g.logs(), "AUTHENTICATION IS OFF") {
			t.Errorf("no loud warning at startup:\n%s", g.logs())
		}
		var warned bool
		for _, line := range strings.Split(g.logs(), "\n") {
			if strings.Contains(line, "AUTHENTICATION IS OFF") {
				var m map[string]any
				if err := json.Unmarshal([]byte(line), &m); err != nil || m["level"] != "warn" {
					t.Errorf("the warning is not a warn-level JSON line: %s", line)
				}
				warned = true
			}
		}
		if !warned {
			t.Fatal("warning missing")
		}
		runAuthCases(t, g, []authCase{
			{"anonymous", nil, 200, nil},
			// Credentials are ignored when no mode is configured.
			{"ignored credentials", []string{"Authorization", "Bearer garbage"}, 200, nil},
		})
	})
}

// noneHeader is the base64url JOSE header {"alg":"none","typ":"JWT"}.
func noneHeader() string {
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
}

func pubDER(t testing.TB, pub *rsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// authzDSN is the fixture plus enough rows of one country for a paged walk.
func authzDSN(t testing.TB) string {
	dsn := fixtureDSN(t)
	pgtest.MustExec(t, dsn, `
INSERT INTO "Customers" ("CustomerID","Name","City","Country","CreditLimit")
SELECT 'US' || lpad(i::text, 3, '0'), 'US customer ' || i, 'Austin', 'USA', i * 10
FROM generate_series(1, 25) AS i;
INSERT INTO "Customers" ("CustomerID","Name","City","Country","CreditLimit")
SELECT 'CA' || lpad(i::text, 3, '0'), 'CA customer ' || i, 'Toronto', 'Canada', i
FROM generate_series(1, 10) AS i;`)
	return dsn
}

// authzPolicy is the policy of TestAuthorizationHTTP.
func authzPolicy() auth.PolicyConfig {
	return auth.PolicyConfig{Sets: map[string]auth.SetRules{
		"Customers": {
			Grants: []auth.Grant{
				{To: []string{"role:reader"}, Ops: []string{"read"}},
				{To: []string{"role:writer"}, Ops: []string{"read", "write"}},
				{To: []string{"scope:customers.read"}, Ops: []string{"read"}},
				{To: []string{"claim:dept=sales"}, Ops: []string{"read", "update"}},
			},
			Properties: []auth.PropertyRule{
				{Names: []string{"CreditLimit"}, Read: []string{"role:finance"}},
				{Names: []string{"Active"}, Write: []string{"role:admin"}},
			},
			RowFilters: []auth.RowFilter{
				{To: []string{"*"}, Filter: "Country eq {claim:country}"},
			},
		},
	}}
}

func TestAuthorizationHTTP(t *testing.T) {
	t.Parallel()
	dsn := authzDSN(t)
	c := fixtureConfig(dsn)
	secJWT(&c)
	c.Policy = authzPolicy()
	g := start(t, c)

	bearer := func(sub string, claims map[string]any) []string {
		return []string{"Authorization", "Bearer " + secHS256(t, secClaims(sub, func(c jwt.MapClaims) {
			for k, v := range claims {
				c[k] = v
			}
		}))}
	}
	reader := bearer("rita", map[string]any{"roles": []string{"reader"}, "country": "USA"})
	finance := bearer("fred", map[string]any{"roles": "reader finance", "country": "USA"})
	writer := bearer("wanda", map[string]any{"roles": []string{"writer"}, "country": "Germany"})
	scoped := bearer("sam", map[string]any{"scope": "openid customers.read", "country": "Mexico"})
	sales := bearer("sally", map[string]any{"dept": "sales", "country": "UK"})
	noCountry := bearer("nina", map[string]any{"roles": []string{"reader"}})
	nonScalar := bearer("nico", map[string]any{"roles": []string{"reader"}, "country": []string{"USA", "Germany"}})
	noGrant := bearer("ned", map[string]any{"roles": []string{"guest"}, "country": "USA"})

	// rows reads a collection and returns its rows, asserting 200.
	rows := func(t *testing.T, path string, h []string) ([]map[string]any, map[string]any) {
		t.Helper()
		r := g.do("GET", path, nil, h...)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		m := r.json(t)
		var out []map[string]any
		for _, v := range m["value"].([]any) {
			out = append(out, v.(map[string]any))
		}
		return out, m
	}
	onlyCountry := func(t *testing.T, rs []map[string]any, country string) {
		t.Helper()
		for _, row := range rs {
			if row["Country"] != country {
				t.Fatalf("row outside the row filter (%s): %v", country, row)
			}
		}
	}
	count := func(t *testing.T, path string, h []string) string {
		t.Helper()
		r := g.do("GET", path, nil, h...)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		return string(r.Body)
	}

	t.Run("ReadFiltered", func(t *testing.T) {
		cases := []struct {
			name    string
			h       []string
			country string
			n       int
		}{
			{"role grant", reader, "USA", 27},
			{"scope grant", scoped, "Mexico", 1},
			{"claim grant", sales, "UK", 1},
			{"writer reads", writer, "Germany", 1},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				rs, m := rows(t, "/odata/Customers?$count=true&$select=CustomerID,Country", tc.h)
				onlyCountry(t, rs, tc.country)
				if len(rs) != tc.n {
					t.Errorf("%d rows, want %d", len(rs), tc.n)
				}
				if fmt.Sprint(m["@odata.count"]) != fmt.Sprint(tc.n) {
					t.Errorf("@odata.count %v, want %d", m["@odata.count"], tc.n)
				}
				if got := count(t, "/odata/Customers/$count", tc.h); got != fmt.Sprint(tc.n) {
					t.Errorf("/$count %s, want %d", got, tc.n)
				}
			})
		}
	})

	t.Run("FilterCannotEscape", func(t *testing.T) {
		for _, f := range []string{
			"Country eq 'Germany' or true",
			"true or Country ne 'USA'",
			"Country ne 'USA' or Country eq 'USA' or Country eq null",
			"not (Country eq 'USA')",
		} {
			rs, m := rows(t, "/odata/Customers?$count=true&$select=CustomerID,Country&$filter="+url.PathEscape(f), reader)
			onlyCountry(t, rs, "USA")
			if len(rs) != len(m["value"].([]any)) || fmt.Sprint(m["@odata.count"]) != fmt.Sprint(len(rs)) {
				t.Errorf("%s: count %v for %d rows", f, m["@odata.count"], len(rs))
			}
			if got := count(t, "/odata/Customers/$count?$filter="+url.PathEscape(f), reader); got != fmt.Sprint(len(rs)) {
				t.Errorf("%s: /$count %s, rows %d", f, got, len(rs))
			}
		}
		// $search does not widen the rows either.
		rs, _ := rows(t, "/odata/Customers?$select=CustomerID,Country&$search=customer", reader)
		onlyCountry(t, rs, "USA")
		if len(rs) != 25 {
			t.Errorf("$search: %d rows, want the 25 US customers", len(rs))
		}
	})

	t.Run("PagedWalk", func(t *testing.T) {
		u := "/odata/Customers?$count=true&$select=CustomerID,Country,Name&$orderby=Name desc"
		seen := map[string]bool{}
		pages := 0
		for u != "" {
			p := g.getPage(t, u, append([]string{"Prefer", "odata.maxpagesize=4"}, reader...)...)
			if p.status != 200 {
				t.Fatalf("page %d: %d %s", pages, p.status, p.response.Body)
			}
			if p.Count == nil || *p.Count != 27 {
				t.Fatalf("page %d: count %v, want 27 on every page", pages, p.Count)
			}
			if len(p.rows) > 4 {
				t.Fatalf("page %d: %d rows", pages, len(p.rows))
			}
			onlyCountry(t, p.rows, "USA")
			for _, row := range p.rows {
				id := row["CustomerID"].(string)
				if seen[id] {
					t.Fatalf("repeated %s", id)
				}
				seen[id] = true
			}
			pages++
			u = p.Next
			if pages > 20 {
				t.Fatal("walk does not end")
			}
		}
		if len(seen) != 27 || pages != 7 {
			t.Errorf("walk: %d rows in %d pages, want 27 in 7", len(seen), pages)
		}
		// The nextLink is bound to the principal's restriction: another
		// principal following it still sees only its own rows.
		p := g.getPage(t, "/odata/Customers?$select=CustomerID,Country", append([]string{"Prefer", "odata.maxpagesize=2"}, reader...)...)
		if p.Next == "" {
			t.Fatal("no nextLink")
		}
		p2 := g.getPage(t, p.Next, writer...)
		if p2.status == 200 {
			onlyCountry(t, p2.rows, "Germany")
		} else if p2.status >= 500 {
			t.Fatalf("foreign nextLink: %d", p2.status)
		}
	})

	t.Run("KeyLookup", func(t *testing.T) {
		if r := g.do("GET", "/odata/Customers('SALES')", nil, reader...); r.Status != 200 {
			t.Fatalf("own row: %d %s", r.Status, r.Body)
		}
		// Outside the filter: 404 exactly like a missing key (no existence leak).
		outside := g.do("GET", "/odata/Customers('ALFKI')", nil, reader...)
		e1 := assertODataError(t, outside, 404)
		missing := g.do("GET", "/odata/Customers('NOPE1')", nil, reader...)
		e2 := assertODataError(t, missing, 404)
		if e1["code"] != e2["code"] {
			t.Errorf("outside vs missing differ: %v vs %v", e1, e2)
		}
		if strings.Contains(string(outside.Body), "Germany") || strings.Contains(string(outside.Body), "Alfreds") {
			t.Errorf("404 leaks the row: %s", outside.Body)
		}
	})

	t.Run("HiddenProperty", func(t *testing.T) {
		rs, m := rows(t, "/odata/Customers?$top=3", reader)
		for _, row := range rs {
			if _, ok := row["CreditLimit"]; ok {
				t.Fatalf("hidden property returned: %v", row)
			}
			if row["Name"] == nil {
				t.Fatalf("visible property missing: %v", row)
			}
		}
		if ctx, _ := m["@odata.context"].(string); strings.Contains(ctx, "CreditLimit") {
			t.Errorf("context URL names the hidden property: %s", ctx)
		}
		r := g.do("GET", "/odata/Customers('SALES')", nil, reader...)
		if r.Status != 200 || strings.Contains(string(r.Body), "CreditLimit") {
			t.Errorf("entity read shows the hidden property: %d %s", r.Status, r.Body)
		}
		// Named in $select (Salesforce selects every synced field, whoever
		// the user is): returned, as null.
		rs, _ = rows(t, "/odata/Customers?$select=CustomerID,CreditLimit&$filter=CustomerID eq 'SALES'", reader)
		if len(rs) != 1 || rs[0]["CreditLimit"] != nil {
			t.Fatalf("masked property: %v", rs)
		}
		if v, ok := rs[0]["CreditLimit"]; !ok || v != nil {
			t.Fatalf("masked property not present as null: %v", rs[0])
		}
		r = g.do("GET", "/odata/Customers('SALES')?$select=Name,CreditLimit", nil, reader...)
		if r.Status != 200 || !strings.Contains(string(r.Body), `"CreditLimit":null`) || strings.Contains(string(r.Body), "1000.00") {
			t.Errorf("masked property on an entity: %d %s", r.Status, r.Body)
		}
		// Named where its value would matter: refused like an unknown property.
		for _, q := range []string{
			"$filter=CreditLimit gt 100",
			"$orderby=CreditLimit",
			"$filter=CreditLimit eq null",
		} {
			e := assertODataError(t, g.do("GET", "/odata/Customers?"+q, nil, reader...), 400)
			if e["code"] != "InvalidQuery" || !strings.Contains(fmt.Sprint(e["message"]), "no property CreditLimit") {
				t.Errorf("%s: %v", q, e)
			}
		}
		// Same answer as for a property that does not exist at all.
		e := assertODataError(t, g.do("GET", "/odata/Customers?$select=NoSuchThing", nil, reader...), 400)
		if e["code"] != "InvalidQuery" {
			t.Errorf("unknown property code %v", e["code"])
		}
		// The finance role sees it.
		rs, _ = rows(t, "/odata/Customers?$select=CustomerID,CreditLimit&$filter=CreditLimit gt 100&$orderby=CreditLimit", finance)
		if len(rs) == 0 || rs[0]["CreditLimit"] == nil {
			t.Errorf("finance cannot see CreditLimit: %v", rs)
		}
	})

	t.Run("Denied", func(t *testing.T) {
		for _, tc := range []struct {
			name, path string
			h          []string
		}{
			{"missing claim", "/odata/Customers", noCountry},
			{"missing claim count", "/odata/Customers/$count", noCountry},
			{"missing claim key", "/odata/Customers('SALES')", noCountry},
			{"non-scalar claim", "/odata/Customers", nonScalar},
			{"no read grant", "/odata/Customers", noGrant},
			{"no read grant key", "/odata/Customers('SALES')", noGrant},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := assertODataError(t, g.do("GET", tc.path, nil, tc.h...), 403)
				if e["code"] != "Forbidden" {
					t.Errorf("code %v", e["code"])
				}
			})
		}
		// Sets without rules are readable by any authenticated principal.
		if r := g.do("GET", "/odata/Orders?$top=1", nil, noGrant...); r.Status != 200 {
			t.Errorf("Orders read: %d %s", r.Status, r.Body)
		}
	})

	t.Run("Writes", func(t *testing.T) {
		before := rowCount(t, dsn, `"Customers"`)
		type write struct {
			name, method, path, body string
			h                        []string
			status                   int
		}
		for _, w := range []write{
			// Writes are denied by default when authentication is configured.
			{"reader insert", "POST", "/odata/Customers", `{"CustomerID":"R1","Name":"x","Country":"USA"}`, reader, 403},
			{"reader update", "PATCH", "/odata/Customers('SALES')", `{"City":"x"}`, reader, 403},
			{"reader delete", "DELETE", "/odata/Customers('SALES')", ``, reader, 403},
			{"scope insert", "POST", "/odata/Customers", `{"CustomerID":"S1","Name":"x","Country":"Mexico"}`, scoped, 403},
			{"sales insert", "POST", "/odata/Customers", `{"CustomerID":"S2","Name":"x","Country":"UK"}`, sales, 403},
			{"sales delete", "DELETE", "/odata/Customers('PCT')", ``, sales, 403},
			{"no grant on Orders", "POST", "/odata/Orders", `{"CustomerID":"ALFKI","OrderDate":"2024-01-01","Total":1}`, writer, 403},
			{"no grant on Orders update", "PATCH", "/odata/Orders(10248)", `{"Status":"x"}`, writer, 403},
			{"no grant on Orders delete", "DELETE", "/odata/Orders(10248)", ``, writer, 403},
			// Row filter on writes.
			{"insert outside", "POST", "/odata/Customers", `{"CustomerID":"W1","Name":"x","Country":"France"}`, writer, 403},
			{"insert null country", "POST", "/odata/Customers", `{"CustomerID":"W2","Name":"x"}`, writer, 403},
			{"update outside", "PATCH", "/odata/Customers('SALES')", `{"City":"Hacked"}`, writer, 404},
			// PUT resets every omitted property, including CreditLimit, which
			// the writer may not write: refused for any key (so it reveals
			// nothing about rows outside the filter either).
			{"replace outside", "PUT", "/odata/Customers('SALES')", `{"Name":"Hacked","Country":"Germany"}`, writer, 403},
			{"replace inside would wipe a protected property", "PUT", "/odata/Customers('ALFKI')", `{"Name":"Alfreds","Country":"Germany"}`, writer, 403},
			{"delete outside", "DELETE", "/odata/Customers('SALES')", ``, writer, 404},
			{"update moving out", "PATCH", "/odata/Customers('ALFKI')", `{"Country":"France"}`, writer, 403},
			{"hidden property write", "PATCH", "/odata/Customers('ALFKI')", `{"CreditLimit":1}`, writer, 403},
			{"read-only property write", "PATCH", "/odata/Customers('ALFKI')", `{"Active":false}`, writer, 403},
			{"missing claim write", "PATCH", "/odata/Customers('SALES')", `{"City":"x"}`, noCountry, 403},
		} {
			t.Run(w.name, func(t *testing.T) {
				var body []byte
				if w.body != "" {
					body = []byte(w.body)
				}
				e := assertODataError(t, g.do(w.method, w.path, body, w.h...), w.status)
				if w.status == 404 && e["code"] != "NotFound" || w.status == 403 && e["code"] != "Forbidden" {
					t.Errorf("code %v", e["code"])
				}
			})
		}
		if n := rowCount(t, dsn, `"Customers"`); n != before {
			t.Fatalf("denied writes changed Customers: %d rows, was %d", n, before)
		}
		var city, country string
		var active bool
		secQueryRow(t, dsn, `SELECT coalesce("City",''), "Country", "Active" FROM "Customers" WHERE "CustomerID"='ALFKI'`, &city, &country, &active)
		if city != "Berlin" || country != "Germany" || !active {
			t.Fatalf("ALFKI changed by denied writes: %s %s %v", city, country, active)
		}
		secQueryRow(t, dsn, `SELECT coalesce("City",''), "Name" FROM "Customers" WHERE "CustomerID"='SALES'`, &city, &country)
		if city != "New York" || country != "Sales & Marketing Ltd" {
			t.Fatalf("SALES changed by denied writes: %s %s", city, country)
		}
		if rowCount(t, dsn, `"Orders"`) != 6 {
			t.Fatal("Orders changed")
		}

		// Allowed writes inside the filter.
		for _, w := range []write{
			{"insert inside", "POST", "/odata/Customers", `{"CustomerID":"W3","Name":"Inside","Country":"Germany"}`, writer, 201},
			{"update inside", "PATCH", "/odata/Customers('W3')", `{"City":"Hamburg"}`, writer, 204},
			{"update keeping country", "PATCH", "/odata/Customers('ALFKI')", `{"City":"Munich","Country":"Germany"}`, writer, 204},
			{"claim grant update", "PATCH", "/odata/Customers('PCT')", `{"City":"Leeds"}`, sales, 204},
			{"delete inside", "DELETE", "/odata/Customers('W3')", ``, writer, 204},
		} {
			t.Run(w.name, func(t *testing.T) {
				var body []byte
				if w.body != "" {
					body = []byte(w.body)
				}
				r := g.do(w.method, w.path, body, w.h...)
				if r.Status != w.status {
					t.Fatalf("status %d, want %d: %s", r.Status, w.status, r.Body)
				}
				if w.status == 201 && strings.Contains(string(r.Body), "CreditLimit") {
					t.Errorf("the write response shows a hidden property: %s", r.Body)
				}
			})
		}
		// return=representation shows what the principal may read, no more
		// (ALFKI's CreditLimit is 12000.00 and hidden from the writer).
		r := g.do("PATCH", "/odata/Customers('ALFKI')", []byte(`{"City":"Munich"}`), append([]string{"Prefer", "return=representation"}, writer...)...)
		if r.Status != 200 || strings.Contains(string(r.Body), "CreditLimit") || strings.Contains(string(r.Body), "1000.00") ||
			!strings.Contains(string(r.Body), `"City":"Munich"`) {
			t.Errorf("return=representation: %d %s", r.Status, r.Body)
		}
		secQueryRow(t, dsn, `SELECT coalesce("City",''), "Country" FROM "Customers" WHERE "CustomerID"='ALFKI'`, &city, &country)
		if city != "Munich" || country != "Germany" {
			t.Errorf("allowed update not applied: %s %s", city, country)
		}
		if n := rowCount(t, dsn, `"Customers"`); n != before {
			t.Errorf("Customers has %d rows after insert+delete, want %d", n, before)
		}
		// Every write, allowed or denied, is audited with the principal.
		logs := g.logs()
		for _, want := range []string{`"audit":"update","request_id"`, `"principal":"wanda"`, `"outcome":"Forbidden"`, `"outcome":"NotFound"`} {
			if !strings.Contains(logs, want) {
				t.Errorf("audit log lacks %s", want)
			}
		}
	})
}

// secOpen opens the test database directly (lib/pq).
func secOpen(t testing.TB, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db
}

// secQueryRow scans one row of a direct SQL query.
func secQueryRow(t testing.TB, dsn, query string, dest ...any) {
	t.Helper()
	db := secOpen(t, dsn)
	defer db.Close()
	if err := db.QueryRow(query).Scan(dest...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// leastPrivilegeSQL is the role setup docs/security.md recommends, for the
// fixture: read Customers and Orders, write Orders only. %[1]s is the role,
// %[2]s the database. TestLeastPrivilegeRole runs it verbatim.
const leastPrivilegeSQL = `
REVOKE ALL ON DATABASE %[2]s FROM PUBLIC;
GRANT CONNECT ON DATABASE %[2]s TO %[1]s;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %[1]s;
GRANT USAGE ON SCHEMA public TO %[1]s;
GRANT SELECT ON public."Customers", public."Orders" TO %[1]s;
GRANT INSERT, UPDATE, DELETE ON public."Orders" TO %[1]s;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO %[1]s;
ALTER ROLE %[1]s IN DATABASE %[2]s SET statement_timeout = '110s';
ALTER ROLE %[1]s IN DATABASE %[2]s SET idle_in_transaction_session_timeout = '60s';
`

// TestLeastPrivilegeRole runs the gateway as the least-privilege role of
// docs/security.md: what is granted works, everything else is refused by
// PostgreSQL and answered 403 without internals, and nothing changes.
func TestLeastPrivilegeRole(t *testing.T) {
	t.Parallel()
	var b [4]byte
	_, _ = rand.Read(b[:])
	role := fmt.Sprintf("odatagw_e2e_%x", b)
	admin := secOpen(t, pgtest.BaseDSN())
	if err := admin.Ping(); err != nil {
		admin.Close()
		t.Skipf("no PostgreSQL: %v", err)
	}
	if _, err := admin.Exec(`CREATE ROLE ` + role + ` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE CONNECTION LIMIT 20`); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	// Registered before the database exists, so it runs after the database
	// is dropped (cleanups run last-in first-out).
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec(`DROP ROLE IF EXISTS ` + role); err != nil {
			t.Errorf("drop role: %v", err)
		}
	})
	dsn := fixtureDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	pgtest.MustExec(t, dsn, fmt.Sprintf(leastPrivilegeSQL, role, dbName))
	u.User = url.User(role)
	c := fixtureConfig(u.String())
	g := start(t, c)

	var timeout string
	secQueryRow(t, u.String(), `SHOW statement_timeout`, &timeout)
	if timeout != "110s" && timeout != "1min 50s" {
		t.Errorf("role statement_timeout = %q", timeout)
	}
	if r := g.do("GET", "/odata/Customers?$top=1", nil); r.Status != 200 {
		t.Fatalf("granted read: %d %s", r.Status, r.Body)
	}
	r := g.do("POST", "/odata/Orders", []byte(`{"CustomerID":"ALFKI","OrderDate":"2024-05-02","Total":1}`))
	if r.Status != 201 {
		t.Fatalf("granted insert with an identity key: %d %s", r.Status, r.Body)
	}
	if r := g.do("PATCH", "/odata/Orders(10248)", []byte(`{"Status":"Shipped"}`)); r.Status != 204 {
		t.Fatalf("granted update: %d %s", r.Status, r.Body)
	}
	if r := g.do("DELETE", "/odata/Orders(20000)", nil); r.Status != 204 {
		t.Fatalf("granted delete: %d %s", r.Status, r.Body)
	}
	before := rowCount(t, dsn, `"Customers"`)
	// Tables the role may not read are not exposed at all (introspection
	// checks the privilege and says why at startup), and tables it may not
	// write are read-only up front (405 with Allow, no database round trip).
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"GET", "/odata/all_types", "", 404},
		{"GET", "/odata/order_lines/$count", "", 404},
		{"POST", "/odata/Customers", `{"CustomerID":"LP1","Name":"x"}`, 405},
		{"PATCH", "/odata/Customers('ALFKI')", `{"City":"x"}`, 405},
		{"DELETE", "/odata/Customers('UNI')", "", 405},
	} {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		r := g.do(tc.method, tc.path, body)
		e := assertODataError(t, r, tc.status)
		if strings.Contains(fmt.Sprint(e["message"]), "permission denied") {
			t.Errorf("%s %s leaks the database message: %v", tc.method, tc.path, e)
		}
		if tc.status == 405 && r.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s %s: Allow = %q", tc.method, tc.path, r.Header.Get("Allow"))
		}
	}
	for _, want := range []string{`public.all_types","message":"skipped: the gateway's database role has no SELECT privilege`,
		`public.Customers","message":"read-only: the gateway's database role may not insert, update or delete it`} {
		if !strings.Contains(g.logs(), want) {
			t.Errorf("startup log lacks %s", want)
		}
	}
	if n := rowCount(t, dsn, `"Customers"`); n != before {
		t.Errorf("Customers changed: %d rows, was %d", n, before)
	}
	var city string
	secQueryRow(t, dsn, `SELECT "City" FROM "Customers" WHERE "CustomerID"='ALFKI'`, &city)
	if city != "Berlin" {
		t.Errorf("refused update ran: %s", city)
	}
}
