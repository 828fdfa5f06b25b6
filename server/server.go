// Package server is the HTTP face of the gateway: gorilla/mux routes,
// middleware (request id, access log, panic recovery, guards, auth), thin
// handlers that run parse -> bind -> adapter -> write, and the single table
// mapping errors to HTTP statuses (errors.go).
//
// Package server never imports a concrete adapter; the composition root
// (server/app) hands it an adapters.Adapter.
package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
	"github.com/odatagw/odatagw/server/auth"
	"github.com/odatagw/odatagw/server/console"
	"github.com/odatagw/odatagw/server/guard"
)

// ErrShutdown is the cause with which the composition root cancels the
// contexts of requests still running when the shutdown's drain deadline
// passes. Such a request is answered 503 with Retry-After and
// Connection: close (a request whose client went away is not answered).
var ErrShutdown = errors.New("server: shutting down")

// Config is the server's part of the configuration (filled by the
// composition root; zero values take the documented defaults).
type Config struct {
	// Root is the service root path, e.g. "/odata".
	Root string
	// PublicURL is the externally visible base URL (scheme://host[:port]);
	// nextLinks, Location headers and @odata.context use it. When empty they
	// are built from the request (and trusted X-Forwarded-* headers).
	PublicURL string
	// MaxPageSize caps rows per page (default and maximum 2,000).
	MaxPageSize int
	// MaxPageBytes caps the uncompressed body of one page (default 8 MB).
	MaxPageBytes int64
	// MaxExpandEntities caps the expanded entities one response writes,
	// nested ones included (default 100,000): a page ends early before it,
	// an entity past it alone is refused (400).
	MaxExpandEntities int64
	// MaxBodyBytes caps request bodies (default 8 MB); larger -> 413.
	MaxBodyBytes int64
	// MaxBatchRequests caps the requests of one $batch (default 100);
	// more -> 413.
	MaxBatchRequests int
	// MaxURLBytes caps the request URL (default 64 KiB); longer -> 414.
	MaxURLBytes int
	// LongQueryAfter is how long a request may hold a main-lane database
	// slot before it moves to the long lane (0: never).
	LongQueryAfter time.Duration
	// WriteStall is how long a client may take no data of a page before
	// its connection is cut (default 30 s). The database slot is released
	// when the page has been read, whatever the client does.
	WriteStall time.Duration
	Limits     semantic.Limits
	// TokenKey signs $skiptoken and CSRF tokens.
	TokenKey []byte
	// TrackRetention is how long the change log keeps entries: an older
	// delta link is 410 Gone (default 7 days).
	TrackRetention time.Duration
	// Upsert makes PATCH/PUT on a missing key create the entity.
	Upsert bool
	// RequireIfMatch makes If-Match mandatory on updates and deletes of
	// sets with an ETag (428 without it).
	RequireIfMatch bool
	CSRF           CSRFConfig
	// Metrics exposes Prometheus metrics at /metrics.
	Metrics bool
	// WritableSets, when non-nil, limits writes to the named sets (the
	// per-set read/insert/update/delete permissions without authentication).
	Permissions map[string]Permissions
	// CORSOrigins enables CORS for these origins (off when empty).
	CORSOrigins []string
	// Trusted proxies whose X-Forwarded-* headers are believed.
	TrustedProxies *guard.TrustedProxies
	// Console places the web console (when Deps.Console is set).
	Console ConsoleConfig
}

// Permissions are per-set operation switches from the config (without
// authentication; with authentication the policy decides).
type Permissions struct {
	Read, Insert, Update, Delete bool
}

// CSRFConfig configures the X-CSRF-Token handshake.
type CSRFConfig struct {
	Enabled bool
	Header  string        // default X-CSRF-Token
	TTL     time.Duration // default 30 minutes
}

func (c *Config) defaults() {
	if c.Root == "" {
		c.Root = "/odata"
	}
	c.Root = "/" + strings.Trim(c.Root, "/")
	if c.MaxPageSize <= 0 || c.MaxPageSize > 2000 {
		c.MaxPageSize = 2000
	}
	if c.MaxPageBytes <= 0 || c.MaxPageBytes > 8<<20 {
		c.MaxPageBytes = 8 << 20
	}
	if c.MaxExpandEntities <= 0 {
		c.MaxExpandEntities = 100_000
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 8 << 20
	}
	if c.MaxURLBytes <= 0 {
		c.MaxURLBytes = 256 << 10
	}
	if c.TrackRetention <= 0 {
		c.TrackRetention = 7 * 24 * time.Hour
	}
	if c.MaxBatchRequests <= 0 {
		c.MaxBatchRequests = 100
	}
	if c.WriteStall <= 0 {
		c.WriteStall = 30 * time.Second
	}
	if c.CSRF.Header == "" {
		c.CSRF.Header = "X-CSRF-Token"
	}
	if c.CSRF.TTL <= 0 {
		c.CSRF.TTL = 30 * time.Minute
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
}

// Deps are the collaborators of a Server.
type Deps struct {
	Adapter adapters.Adapter
	Model   *metadata.Model
	Log     zerolog.Logger
	// Auth authenticates requests; nil means anonymous access.
	Auth *auth.Authenticator
	// Policy authorizes them; nil allows everything permitted by Config.
	Policy *auth.Policy
	// DBLimiter bounds concurrent database work; nil = unbounded.
	DBLimiter *guard.Limiter
	// RateLimiter limits requests per principal; nil = unlimited.
	RateLimiter *guard.RateLimiter
	// AuthFailLimiter limits failed Basic password checks per client address
	// and user name; nil = unlimited.
	AuthFailLimiter *guard.RateLimiter
	// PasswordChecks bounds concurrent bcrypt checks of Basic passwords;
	// nil = unbounded.
	PasswordChecks *guard.Limiter
	// Registry receives the metrics (a new one when nil).
	Registry *prometheus.Registry
	// Now is the clock (CSRF token expiry); nil means time.Now.
	Now func() time.Time
	// Tracer provides OpenTelemetry tracers; nil: no tracing.
	Tracer trace.TracerProvider
	// Console, when set, serves the web console (server/console) at
	// Config.Console.Path; the server fills in its path, service root,
	// model and in-process API.
	Console *console.Options
}

// Server serves one OData service.
type Server struct {
	cfg     Config
	adapter adapters.Adapter
	model   atomic.Pointer[metadata.Model]
	log     zerolog.Logger
	tokens  *semantic.TokenCodec
	auth    *auth.Authenticator
	policy  *auth.Policy
	dbLimit *guard.Limiter
	rate    *guard.RateLimiter
	// authFail counts failed password checks per client address and user
	// name (see passwordGate); bcrypt bounds the checks running at once.
	authFail *guard.RateLimiter
	bcrypt   *guard.Limiter
	metrics  *metrics
	now      func() time.Time
	tracer   trace.Tracer
	router   *mux.Router
	handler  http.Handler
	console  *console.Console // nil without the console
}

// New builds a server. The token key must be set (the composition root
// generates one per process when none is configured).
func New(cfg Config, d Deps) *Server {
	cfg.defaults()
	s := &Server{
		cfg: cfg, adapter: d.Adapter, log: d.Log,
		tokens: semantic.NewTokenCodec(cfg.TokenKey),
		auth:   d.Auth, policy: d.Policy, dbLimit: d.DBLimiter, rate: d.RateLimiter,
		authFail: d.AuthFailLimiter, bcrypt: d.PasswordChecks, now: d.Now,
		tracer: tracerOf(d.Tracer),
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.model.Store(d.Model)
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(reg)
	if s.dbLimit != nil {
		admissionMetrics(reg, s.dbLimit)
	}
	s.routes(reg, d.Console)
	return s
}

// Model returns the current model snapshot.
func (s *Server) Model() *metadata.Model { return s.model.Load() }

// SetModel swaps the model (reload).
func (s *Server) SetModel(m *metadata.Model) { s.model.Store(m) }

// Handler is the root HTTP handler with all middleware.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) routes(reg *prometheus.Registry, co *console.Options) {
	r := mux.NewRouter()
	r.UseEncodedPath()
	r.SkipClean(true)
	r.HandleFunc("/healthz", s.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", s.readyz).Methods(http.MethodGet, http.MethodHead)
	if s.cfg.Metrics {
		r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	}
	if co != nil {
		s.mountConsole(r, *co)
	}
	api := r.PathPrefix(s.cfg.Root).Subrouter()
	api.Use(s.authenticate)
	api.PathPrefix("").HandlerFunc(s.serveOData)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s.writeError(w, req, newHTTPError(http.StatusNotFound, codeNotFound,
			"no resource at %s; the OData service root is %s/", req.URL.EscapedPath(), s.cfg.Root))
	})
	s.router = r

	var h http.Handler = r
	// A declared Content-Length over the limit is refused before any body
	// byte is awaited (and the connection closed); a body without one is cut
	// at the limit. readBody checks the inflated size against the same limit.
	h = guard.MaxBody(s.cfg.MaxBodyBytes, s.guardError)(h)
	// Transfer-Encoding with Content-Length (request smuggling): 400 and the
	// connection closed; see guard.Framing (the composition root wraps the
	// listener with guard.FramingListener).
	h = guard.Framing(s.guardError)(h)
	h = guard.SecurityHeaders(s.cfg.TrustedProxies)(h)
	if len(s.cfg.CORSOrigins) > 0 {
		h = guard.CORS(s.cfg.CORSOrigins)(h)
	}
	h = guard.MaxURL(s.cfg.MaxURLBytes, s.guardError)(h)
	h = s.traceRequests(h)
	h = s.recoverPanics(h)
	h = s.accessLog(h)
	h = s.requestID(h)
	s.handler = h
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}` + "\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "application/json")
	if err := s.adapter.Ping(ctx); err != nil {
		s.log.Warn().Err(err).Msg("readiness check failed")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"unavailable","reason":"database unreachable"}` + "\n"))
		return
	}
	_, _ = w.Write([]byte(`{"status":"ready"}` + "\n"))
}

// Root is the service root path, e.g. "/odata".
func (s *Server) Root() string { return s.cfg.Root }
