// Package auth authenticates HTTP requests (HTTP Basic, Bearer JWT, API
// keys) and authorizes what the resulting Principal may do (per entity set
// and per property grants, and row filters with claim placeholders).
//
// Package auth never logs and never reads environment variables. It reads a
// file only when a Config names one (a PEM public key) and only inside New.
// Every failure is an *Error whose Msg is generic and safe to send to the
// client; its Reason says what went wrong for the server's log and never
// contains a password, secret, API key or token.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Authentication methods, as found in Principal.Method.
const (
	MethodAnonymous = "anonymous"
	MethodBasic     = "basic"
	MethodJWT       = "jwt"
	MethodAPIKey    = "apikey"
)

// Realm is the realm announced in WWW-Authenticate challenges.
const Realm = "odatagw"

// Principal is the authenticated caller. Principals are never modified after
// Authenticate returns them.
type Principal struct {
	Name   string         // user name, JWT subject (NameClaim) or API key name
	Method string         // MethodAnonymous, MethodBasic, MethodJWT or MethodAPIKey
	Roles  []string       // from the config (Basic, API key) or the RolesClaim (JWT)
	Scopes []string       // JWT scopes (ScopeClaim); empty otherwise
	Claims map[string]any // JWT claims (numbers as json.Number); nil otherwise
}

// Anonymous is the principal of every request when no authentication mode is
// configured.
var Anonymous = &Principal{Name: "anonymous", Method: MethodAnonymous}

// HasRole reports whether the principal has the role.
func (p *Principal) HasRole(role string) bool { return contains(p.Roles, role) }

// HasScope reports whether the principal has the scope.
func (p *Principal) HasScope(scope string) bool { return contains(p.Scopes, scope) }

// Claim returns the named claim as a string: strings as they are, numbers in
// their shortest decimal form, booleans as "true"/"false". ok is false when
// the claim is absent, null or not a scalar.
func (p *Principal) Claim(name string) (v string, ok bool) {
	if p.Claims == nil {
		return "", false
	}
	return claimString(p.Claims[name])
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Error is an authentication (401) or authorization (403) failure.
// Msg is generic and may be sent to the client; Reason is for the log only
// and never contains credentials. Challenge, when set, is the value of the
// WWW-Authenticate header the server must send with a 401.
type Error struct {
	Status    int    // http.StatusUnauthorized or http.StatusForbidden
	Code      string // stable OData error code: "Unauthorized" or "Forbidden"
	Msg       string
	Challenge string
	Reason    string
}

func (e *Error) Error() string {
	if e.Reason == "" {
		return e.Msg
	}
	return e.Msg + ": " + e.Reason
}

// Config selects the authentication modes. Several may be enabled at once;
// when none is, every request is Anonymous (the composition root must warn
// loudly). The zero value is "no authentication".
type Config struct {
	Basic []BasicUser `yaml:"basic"`
	// BasicCacheTTL is how long a successful bcrypt verification is
	// remembered (keyed by a keyed hash of user and password) so that Basic
	// auth does not cost a bcrypt per request. Default 1m; negative disables.
	BasicCacheTTL time.Duration `yaml:"basic_cache_ttl"`
	JWT           JWTConfig     `yaml:"jwt"`
	APIKeys       []APIKey      `yaml:"api_keys"`
	// APIKeyHeader is the request header carrying an API key.
	// Default "X-API-Key".
	APIKeyHeader string `yaml:"api_key_header"`
}

// BasicUser is one HTTP Basic user. Hash is a bcrypt hash (see HashPassword)
// with a cost between MinBcryptCost and MaxBcryptCost.
type BasicUser struct {
	Name  string   `yaml:"name"`
	Hash  string   `yaml:"hash"`
	Roles []string `yaml:"roles"`
}

// APIKey is one API key. Hash is the lower-case hex SHA-256 of the key
// (see HashAPIKey); the key itself is never stored.
type APIKey struct {
	Name  string   `yaml:"name"`
	Hash  string   `yaml:"hash"`
	Roles []string `yaml:"roles"`
}

// Bcrypt cost bounds accepted by New: below MinBcryptCost a hash is too weak,
// above MaxBcryptCost each uncached verification would take seconds.
const (
	MinBcryptCost = 10
	MaxBcryptCost = 15
)

// Enabled reports whether at least one authentication mode is configured.
func (c *Config) Enabled() bool {
	return len(c.Basic) > 0 || len(c.APIKeys) > 0 || c.JWT.enabled()
}

// Authenticator verifies credentials. It is safe for concurrent use.
type Authenticator struct {
	basic        map[string]BasicUser
	basicTTL     time.Duration
	cacheKey     []byte // random per process: the Basic cache stores HMACs, not password hashes
	cacheMu      sync.Mutex
	cache        map[[32]byte]time.Time
	apiKeys      []apiKey
	apiKeyHeader string
	jwt          *jwtVerifier // nil when JWT is not configured
	challenge    string
	now          func() time.Time
}

type apiKey struct {
	name  string
	hash  [32]byte
	roles []string
}

// maxBasicCache bounds the Basic verification cache; when full, expired
// entries are dropped and, if still full, the whole cache is cleared.
const maxBasicCache = 4096

// New validates cfg and builds an Authenticator. httpClient fetches the JWKS
// (nil means a client with a 10 s timeout); New itself does no network I/O
// (call Refresh to load the JWKS eagerly). It reads PEM files named in
// cfg.JWT.PublicKeys. Errors name the offending entry, never a secret.
func New(cfg Config, httpClient *http.Client) (*Authenticator, error) {
	a := &Authenticator{
		basic:        make(map[string]BasicUser, len(cfg.Basic)),
		basicTTL:     cfg.BasicCacheTTL,
		cache:        make(map[[32]byte]time.Time),
		apiKeyHeader: cfg.APIKeyHeader,
		now:          time.Now,
	}
	if a.basicTTL == 0 {
		a.basicTTL = time.Minute
	}
	if a.apiKeyHeader == "" {
		a.apiKeyHeader = "X-API-Key"
	}
	a.cacheKey = make([]byte, 32)
	if _, err := rand.Read(a.cacheKey); err != nil {
		return nil, err
	}
	for i, u := range cfg.Basic {
		if u.Name == "" || strings.Contains(u.Name, ":") {
			return nil, fmt.Errorf("auth: basic user #%d: name must be non-empty and contain no ':'", i+1)
		}
		if _, dup := a.basic[u.Name]; dup {
			return nil, fmt.Errorf("auth: basic user %q: defined twice", u.Name)
		}
		cost, err := bcrypt.Cost([]byte(u.Hash))
		if err != nil {
			return nil, fmt.Errorf("auth: basic user %q: hash is not a bcrypt hash", u.Name)
		}
		if cost < MinBcryptCost || cost > MaxBcryptCost {
			return nil, fmt.Errorf("auth: basic user %q: bcrypt cost %d outside [%d, %d]", u.Name, cost, MinBcryptCost, MaxBcryptCost)
		}
		a.basic[u.Name] = u
	}
	seen := map[string]bool{}
	for i, k := range cfg.APIKeys {
		if k.Name == "" {
			return nil, fmt.Errorf("auth: api key #%d: name is empty", i+1)
		}
		if seen[k.Name] {
			return nil, fmt.Errorf("auth: api key %q: defined twice", k.Name)
		}
		seen[k.Name] = true
		h, err := hex.DecodeString(strings.ToLower(k.Hash))
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("auth: api key %q: hash must be 64 hex digits (sha256, see HashAPIKey)", k.Name)
		}
		var ak apiKey
		ak.name, ak.roles = k.Name, k.Roles
		copy(ak.hash[:], h)
		a.apiKeys = append(a.apiKeys, ak)
	}
	if len(a.apiKeys) > 0 && http.CanonicalHeaderKey(a.apiKeyHeader) == "Authorization" {
		return nil, errors.New("auth: api_key_header must not be Authorization")
	}
	if cfg.JWT.enabled() {
		v, err := newJWTVerifier(cfg.JWT, httpClient)
		if err != nil {
			return nil, err
		}
		a.jwt = v
	}
	var ch []string
	if len(a.basic) > 0 {
		ch = append(ch, `Basic realm="`+Realm+`", charset="UTF-8"`)
	}
	if a.jwt != nil {
		ch = append(ch, `Bearer realm="`+Realm+`"`)
	}
	if len(a.apiKeys) > 0 {
		ch = append(ch, `APIKey realm="`+Realm+`", header="`+a.apiKeyHeader+`"`)
	}
	a.challenge = strings.Join(ch, ", ")
	return a, nil
}

// Enabled reports whether any authentication mode is configured. When it is
// false, Authenticate returns Anonymous for every request.
func (a *Authenticator) Enabled() bool {
	return len(a.basic) > 0 || len(a.apiKeys) > 0 || a.jwt != nil
}

// Challenge is the WWW-Authenticate value sent with every 401 ("" when no
// mode is configured).
func (a *Authenticator) Challenge() string { return a.challenge }

// Authenticate identifies the caller of r.
//
// The Authorization header is used when present ("Basic" or "Bearer",
// scheme case-insensitive); otherwise the API key header. Without any
// credentials it returns Anonymous when no mode is configured, else a 401
// *Error. Every verification failure (unknown user, wrong password, bad,
// expired or not-yet-valid token, wrong issuer or audience, disallowed
// algorithm, bad signature, unknown API key, malformed header) is a 401
// *Error with the generic Msg "authentication required" or "invalid
// credentials" and a Reason for the log. It never returns another error type.
func (a *Authenticator) Authenticate(r *http.Request) (*Principal, error) {
	return a.AuthenticateWith(r, nil)
}

// PasswordGate guards the expensive step of authentication: it is called
// with the user name right before a Basic password is checked with bcrypt,
// and only then: never for a verification remembered in the cache, a JWT, an
// API key or malformed credentials. It returns an error to refuse the
// request without checking the password (for example a 429 after too many
// failures, or a 503 when too many checks are running), or done, which is
// called with whether the password matched.
type PasswordGate func(user string) (done func(ok bool), err error)

// AuthenticateWith is Authenticate with gate (nil: none) consulted before
// every bcrypt verification. An error from gate is returned as it is.
func (a *Authenticator) AuthenticateWith(r *http.Request, gate PasswordGate) (*Principal, error) {
	if !a.Enabled() {
		return Anonymous, nil
	}
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, cred, _ := strings.Cut(strings.TrimSpace(h), " ")
		cred = strings.TrimSpace(cred)
		switch {
		case strings.EqualFold(scheme, "Basic"):
			if len(a.basic) == 0 {
				return nil, a.fail("basic authentication is not enabled")
			}
			return a.authBasic(cred, gate)
		case strings.EqualFold(scheme, "Bearer"):
			if a.jwt == nil {
				return nil, a.fail("bearer authentication is not enabled")
			}
			if cred == "" {
				return nil, a.fail("empty bearer token")
			}
			p, reason := a.jwt.verify(r.Context(), cred)
			if reason != "" {
				e := a.fail(reason)
				e.Challenge = a.bearerInvalid()
				return nil, e
			}
			return p, nil
		default:
			return nil, a.fail("unsupported authorization scheme")
		}
	}
	if len(a.apiKeys) > 0 {
		if k := r.Header.Get(a.apiKeyHeader); k != "" {
			return a.authAPIKey(k)
		}
	}
	return nil, &Error{Status: http.StatusUnauthorized, Code: "Unauthorized",
		Msg: "authentication required", Challenge: a.challenge, Reason: "no credentials"}
}

func (a *Authenticator) fail(reason string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: "Unauthorized",
		Msg: "invalid credentials", Challenge: a.challenge, Reason: reason}
}

// bearerInvalid is the challenge list with the Bearer challenge carrying
// error="invalid_token" (RFC 6750 section 3.1).
func (a *Authenticator) bearerInvalid() string {
	return strings.Replace(a.challenge, `Bearer realm="`+Realm+`"`,
		`Bearer realm="`+Realm+`", error="invalid_token"`, 1)
}

// dummyHash is compared against when the user is unknown, so that unknown
// users cost the same bcrypt time as wrong passwords.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("odatagw-dummy-password"), MinBcryptCost)

func (a *Authenticator) authBasic(cred string, gate PasswordGate) (*Principal, error) {
	raw, err := base64.StdEncoding.DecodeString(cred)
	if err != nil {
		return nil, a.fail("malformed basic credentials")
	}
	name, pw, ok := strings.Cut(string(raw), ":")
	if !ok || name == "" {
		return nil, a.fail("malformed basic credentials")
	}
	u, known := a.basic[name]
	key := a.basicCacheKey(name, pw)
	if known && a.cached(key) {
		return &Principal{Name: name, Method: MethodBasic, Roles: u.Roles}, nil
	}
	var done func(ok bool)
	if gate != nil {
		if done, err = gate(name); err != nil {
			return nil, err
		}
	}
	hash := dummyHash
	if known {
		hash = []byte(u.Hash)
	}
	match := bcrypt.CompareHashAndPassword(hash, []byte(pw)) == nil && known
	if done != nil {
		done(match)
	}
	if !match {
		if !known {
			return nil, a.fail("unknown basic user")
		}
		return nil, a.fail("wrong password for basic user " + fmt.Sprintf("%q", name))
	}
	a.remember(key)
	return &Principal{Name: name, Method: MethodBasic, Roles: u.Roles}, nil
}

func (a *Authenticator) basicCacheKey(name, pw string) [32]byte {
	m := hmac.New(sha256.New, a.cacheKey)
	m.Write([]byte(name))
	m.Write([]byte{0})
	m.Write([]byte(pw))
	var k [32]byte
	copy(k[:], m.Sum(nil))
	return k
}

func (a *Authenticator) cached(k [32]byte) bool {
	if a.basicTTL < 0 {
		return false
	}
	a.cacheMu.Lock()
	defer a.cacheMu.Unlock()
	exp, ok := a.cache[k]
	if ok && a.now().Before(exp) {
		return true
	}
	if ok {
		delete(a.cache, k)
	}
	return false
}

func (a *Authenticator) remember(k [32]byte) {
	if a.basicTTL < 0 {
		return
	}
	a.cacheMu.Lock()
	defer a.cacheMu.Unlock()
	now := a.now()
	if len(a.cache) >= maxBasicCache {
		for key, exp := range a.cache {
			if !now.Before(exp) {
				delete(a.cache, key)
			}
		}
		if len(a.cache) >= maxBasicCache {
			clear(a.cache)
		}
	}
	a.cache[k] = now.Add(a.basicTTL)
}

func (a *Authenticator) authAPIKey(key string) (*Principal, error) {
	h := sha256.Sum256([]byte(key))
	found := -1
	// Compare against every key in constant time, without early exit.
	for i := range a.apiKeys {
		if subtle.ConstantTimeCompare(h[:], a.apiKeys[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil, a.fail("unknown api key")
	}
	k := a.apiKeys[found]
	return &Principal{Name: k.name, Method: MethodAPIKey, Roles: k.roles}, nil
}

// HashAPIKey returns the value to store in APIKey.Hash for key: the
// lower-case hex SHA-256 of its bytes. API keys must be long random strings;
// a fast hash is then as good as a slow one.
func HashAPIKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}

// HashPassword returns a bcrypt hash of pw with bcrypt.DefaultCost, suitable
// for BasicUser.Hash. bcrypt ignores bytes beyond 72; longer passwords are
// rejected rather than silently truncated.
func HashPassword(pw string) (string, error) {
	if pw == "" {
		return "", errors.New("auth: empty password")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	return string(h), nil
}

// ParseBasicUsers parses the quick-start form "name:bcrypt-hash[,name:hash...]"
// (as in ODATAGW_BASIC_USERS; the composition root reads the variable).
// Users parsed this way have no roles. Hashes are validated by New.
func ParseBasicUsers(s string) ([]BasicUser, error) {
	var out []BasicUser
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, hash, ok := strings.Cut(item, ":")
		if !ok || name == "" || hash == "" {
			return nil, fmt.Errorf("auth: basic users entry #%d: want name:bcrypt-hash", len(out)+1)
		}
		out = append(out, BasicUser{Name: name, Hash: hash})
	}
	return out, nil
}
