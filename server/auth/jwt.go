package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTConfig configures Bearer JWT authentication. It is enabled when at
// least one HMAC secret, public key or a JWKS URL is configured.
//
// Every key is pinned to a set of algorithms: a token is verified only with
// keys whose Algs contain the token's "alg". "none" is never accepted and an
// HS* algorithm is never allowed on a public key, so a token HMAC-signed
// with a public key's bytes (algorithm confusion) cannot verify.
type JWTConfig struct {
	HMACSecrets []HMACKey   `yaml:"hmac_secrets"`
	PublicKeys  []PublicKey `yaml:"public_keys"`
	// JWKSURL is fetched (GET, 10 s timeout, body <= 1 MiB) on first use,
	// every JWKSRefresh (in the background, old keys stay in use meanwhile)
	// and when a token names an unknown "kid" (at most once per
	// JWKSMinInterval). A failed fetch keeps the previous keys.
	JWKSURL         string        `yaml:"jwks_url"`
	JWKSRefresh     time.Duration `yaml:"jwks_refresh"`      // default 1h
	JWKSMinInterval time.Duration `yaml:"jwks_min_interval"` // default 30s
	// Issuer, when set, must equal the "iss" claim.
	Issuer string `yaml:"issuer"`
	// Audience, when set, must contain one of the "aud" values.
	Audience []string `yaml:"audience"`
	// Leeway is the clock skew tolerated on exp, nbf and iat
	// (default 30s, at most 5m). "exp" is required; "iat" in the future
	// beyond the leeway is rejected.
	Leeway time.Duration `yaml:"leeway"`
	// RolesClaim holds the roles: an array of strings or a string of
	// space- or comma-separated roles; a dotted path ("realm_access.roles")
	// reaches into nested objects. Default "roles".
	RolesClaim string `yaml:"roles_claim"`
	// ScopeClaim holds the scopes (space-separated string or array).
	// Default: "scope", else "scp".
	ScopeClaim string `yaml:"scope_claim"`
	// NameClaim names the principal; it must be a non-empty string.
	// Default "sub".
	NameClaim string `yaml:"name_claim"`
}

// HMACKey is a shared secret for HS256/HS384/HS512 (Algs default
// ["HS256"]). The secret must be at least 32 bytes long. ID, when set, must
// equal the token's "kid" header (tokens without kid try every key).
type HMACKey struct {
	ID     string   `yaml:"id"`
	Secret string   `yaml:"secret"`
	Algs   []string `yaml:"algs"`
}

// PublicKey is an RSA (>= 2048 bits), ECDSA (P-256/384/521) or Ed25519
// public key in PEM ("PUBLIC KEY", "RSA PUBLIC KEY" or "CERTIFICATE"),
// given inline (PEM) or as a file path (PEMFile, read by New). Algs default
// by key type: RSA -> RS256..RS512 and PS256..PS512; EC -> the ES* of its
// curve; Ed25519 -> EdDSA; other algorithms for the type are rejected.
type PublicKey struct {
	ID      string   `yaml:"id"`
	PEMFile string   `yaml:"pem_file"`
	PEM     string   `yaml:"pem"`
	Algs    []string `yaml:"algs"`
}

func (c *JWTConfig) enabled() bool {
	return len(c.HMACSecrets) > 0 || len(c.PublicKeys) > 0 || c.JWKSURL != ""
}

var (
	hmacAlgs = []string{"HS256", "HS384", "HS512"}
	rsaAlgs  = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	allAsym  = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

// minHMACSecret is the shortest accepted HMAC secret (RFC 7518 3.2 asks for
// at least the hash size).
const minHMACSecret = 32

// jwtKey is a verification key pinned to algorithms.
type jwtKey struct {
	id   string
	algs []string
	key  any // []byte, *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
}

type jwtVerifier struct {
	static     []jwtKey
	jwks       *jwksCache
	parser     *jwt.Parser
	rolesClaim string
	scopeClaim string
	nameClaim  string
}

func newJWTVerifier(cfg JWTConfig, client *http.Client) (*jwtVerifier, error) {
	v := &jwtVerifier{rolesClaim: cfg.RolesClaim, scopeClaim: cfg.ScopeClaim, nameClaim: cfg.NameClaim}
	if v.rolesClaim == "" {
		v.rolesClaim = "roles"
	}
	if v.nameClaim == "" {
		v.nameClaim = "sub"
	}
	methods := map[string]bool{}
	for i, h := range cfg.HMACSecrets {
		name := keyName("hmac secret", i, h.ID)
		if len(h.Secret) < minHMACSecret {
			return nil, fmt.Errorf("auth: jwt %s: secret shorter than %d bytes", name, minHMACSecret)
		}
		algs := h.Algs
		if len(algs) == 0 {
			algs = []string{"HS256"}
		}
		if err := checkAlgs(name, algs, hmacAlgs); err != nil {
			return nil, err
		}
		v.static = append(v.static, jwtKey{id: h.ID, algs: algs, key: []byte(h.Secret)})
		for _, a := range algs {
			methods[a] = true
		}
	}
	for i, pk := range cfg.PublicKeys {
		name := keyName("public key", i, pk.ID)
		data := []byte(pk.PEM)
		if pk.PEMFile != "" {
			if pk.PEM != "" {
				return nil, fmt.Errorf("auth: jwt %s: set pem or pem_file, not both", name)
			}
			b, err := os.ReadFile(pk.PEMFile)
			if err != nil {
				return nil, fmt.Errorf("auth: jwt %s: %w", name, err)
			}
			data = b
		}
		key, err := parsePublicKeyPEM(data)
		if err != nil {
			return nil, fmt.Errorf("auth: jwt %s: %w", name, err)
		}
		allowed, err := algsForKey(key)
		if err != nil {
			return nil, fmt.Errorf("auth: jwt %s: %w", name, err)
		}
		algs := pk.Algs
		if len(algs) == 0 {
			algs = allowed
		}
		if err := checkAlgs(name, algs, allowed); err != nil {
			return nil, err
		}
		v.static = append(v.static, jwtKey{id: pk.ID, algs: algs, key: key})
		for _, a := range algs {
			methods[a] = true
		}
	}
	if cfg.JWKSURL != "" {
		if !strings.HasPrefix(cfg.JWKSURL, "https://") && !strings.HasPrefix(cfg.JWKSURL, "http://") {
			return nil, errors.New("auth: jwt jwks_url must be an http(s) URL")
		}
		v.jwks = newJWKSCache(cfg.JWKSURL, client, cfg.JWKSRefresh, cfg.JWKSMinInterval)
		for _, a := range allAsym {
			methods[a] = true
		}
	}
	leeway := cfg.Leeway
	if leeway == 0 {
		leeway = 30 * time.Second
	}
	if leeway < 0 || leeway > 5*time.Minute {
		return nil, errors.New("auth: jwt leeway must be between 0 and 5m")
	}
	valid := make([]string, 0, len(methods))
	for m := range methods {
		valid = append(valid, m)
	}
	slices.Sort(valid)
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(valid),
		jwt.WithLeeway(leeway),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
		jwt.WithJSONNumber(),
	}
	if cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(cfg.Issuer))
	}
	if len(cfg.Audience) > 0 {
		opts = append(opts, jwt.WithAudience(cfg.Audience...))
	}
	v.parser = jwt.NewParser(opts...)
	return v, nil
}

func keyName(kind string, i int, id string) string {
	if id != "" {
		return fmt.Sprintf("%s %q", kind, id)
	}
	return fmt.Sprintf("%s #%d", kind, i+1)
}

func checkAlgs(name string, algs, allowed []string) error {
	for _, a := range algs {
		if strings.EqualFold(a, "none") {
			return fmt.Errorf("auth: jwt %s: algorithm none is never allowed", name)
		}
		if !slices.Contains(allowed, a) {
			return fmt.Errorf("auth: jwt %s: algorithm %q not allowed for this key (allowed: %s)", name, a, strings.Join(allowed, ", "))
		}
	}
	return nil
}

// parsePublicKeyPEM parses the first PEM block of data.
func parsePublicKeyPEM(data []byte) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found")
	}
	var key any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("PEM block %q is not a public key or certificate", block.Type)
	}
	if err != nil {
		return nil, err
	}
	return key, nil
}

// algsForKey returns the algorithms a key type may verify.
func algsForKey(key any) ([]string, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("RSA key of %d bits is too short (minimum 2048)", k.N.BitLen())
		}
		return rsaAlgs, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return []string{"ES256"}, nil
		case elliptic.P384():
			return []string{"ES384"}, nil
		case elliptic.P521():
			return []string{"ES512"}, nil
		}
		return nil, errors.New("unsupported elliptic curve")
	case ed25519.PublicKey:
		return []string{"EdDSA"}, nil
	}
	return nil, fmt.Errorf("unsupported public key type %T", key)
}

// verify checks a compact JWT and builds the principal. reason is empty on
// success; otherwise it classifies the failure for the log and never
// contains the token.
func (v *jwtVerifier) verify(ctx context.Context, tok string) (*Principal, string) {
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) {
		return v.keysFor(ctx, t)
	})
	if err != nil {
		return nil, jwtReason(err)
	}
	name, _ := lookupClaim(claims, v.nameClaim).(string)
	if name == "" {
		return nil, "token has no " + v.nameClaim + " claim"
	}
	p := &Principal{Name: name, Method: MethodJWT, Claims: map[string]any(claims)}
	p.Roles = stringList(lookupClaim(claims, v.rolesClaim), " ,")
	if v.scopeClaim != "" {
		p.Scopes = stringList(lookupClaim(claims, v.scopeClaim), " ")
	} else if s, ok := claims["scope"]; ok {
		p.Scopes = stringList(s, " ")
	} else {
		p.Scopes = stringList(claims["scp"], " ")
	}
	return p, ""
}

// errNoKey is returned by the key function when no configured key is pinned
// to the token's algorithm and kid.
var errNoKey = errors.New("no key for this kid and alg")

// keysFor selects the keys that may verify t: those pinned to t's alg whose
// ID matches t's kid (keys without ID match any kid; tokens without kid try
// every key pinned to the alg). An unknown kid refreshes the JWKS.
func (v *jwtVerifier) keysFor(ctx context.Context, t *jwt.Token) (any, error) {
	alg := t.Method.Alg()
	kid, _ := t.Header["kid"].(string)
	var set jwt.VerificationKeySet
	add := func(keys []jwtKey, anyID bool) {
		for _, k := range keys {
			if !slices.Contains(k.algs, alg) {
				continue
			}
			if kid != "" && k.id != kid && !(anyID && k.id == "") {
				continue
			}
			set.Keys = append(set.Keys, k.key)
		}
	}
	add(v.static, true)
	jwksLoaded := true
	if v.jwks != nil && (len(set.Keys) == 0 || kid == "") {
		var keys []jwtKey
		keys, jwksLoaded = v.jwks.keys(ctx, kid)
		add(keys, false)
	}
	if len(set.Keys) == 0 {
		if !jwksLoaded {
			return nil, errJWKSUnavailable
		}
		return nil, errNoKey
	}
	return set, nil
}

// jwtReason classifies a jwt error into a fixed message.
func jwtReason(err error) string {
	switch {
	case errors.Is(err, errNoKey):
		return "token: no key for its kid and alg"
	case errors.Is(err, errJWKSUnavailable):
		return "token: jwks unavailable"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "token: malformed"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "token: bad signature or disallowed algorithm"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token: expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token: not valid yet (nbf)"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token: issued in the future (iat)"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "token: wrong audience"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "token: wrong issuer"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return "token: required claim missing"
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return "token: unverifiable"
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		return "token: invalid claims"
	}
	return "token: invalid"
}

// lookupClaim returns claims[name], or follows a dotted path through nested
// objects when name is not a top-level claim.
func lookupClaim(claims map[string]any, name string) any {
	if v, ok := claims[name]; ok {
		return v
	}
	var cur any = claims
	for _, part := range strings.Split(name, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}

// stringList reads an array of strings or a string split at any of seps.
func stringList(v any, seps string) []string {
	switch x := v.(type) {
	case string:
		return strings.FieldsFunc(x, func(r rune) bool { return strings.ContainsRune(seps, r) })
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok && s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// claimString renders a scalar claim as text (see Principal.Claim).
func claimString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	return "", false
}
