package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/mysql"
	"github.com/odatagw/odatagw/adapters/postgres"
	"github.com/odatagw/odatagw/adapters/sqlite"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
	"github.com/odatagw/odatagw/server"
	"github.com/odatagw/odatagw/server/auth"
	"github.com/odatagw/odatagw/server/console"
	"github.com/odatagw/odatagw/server/guard"
)

// Version is set at build time (-ldflags "-X .../server/app.Version=...").
var Version = "dev"

// NewLogger builds the zerolog logger the configuration asks for.
func NewLogger(c Config, w io.Writer) zerolog.Logger {
	level, err := zerolog.ParseLevel(c.LogLevel)
	if err != nil {
		level = zerolog.InfoLevel
	}
	console := c.LogFormat == "console"
	if c.LogFormat == "auto" {
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				console = true
			}
		}
	}
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000"}
	}
	return zerolog.New(w).Level(level).With().Timestamp().Logger()
}

// Gateway is a running gateway: adapter, server and listener.
type Gateway struct {
	Config  Config
	Adapter adapters.Adapter
	Server  *server.Server
	Model   *metadata.Model
	Log     zerolog.Logger

	policy   *auth.Policy
	http     *http.Server
	cancel   context.CancelCauseFunc // cancels every request's context (Shutdown)
	listener net.Listener
	certs    *guard.CertReloader
	traces   *sdktrace.TracerProvider // nil without tracing
	done     chan error
	// warnings are the last introspection's (the console shows them).
	warnings atomic.Pointer[[]metadata.Warning]
}

// Addr is the address the gateway listens on (useful with port 0).
func (g *Gateway) Addr() string { return g.listener.Addr().String() }

// URL is the base URL of the service root.
func (g *Gateway) URL() string {
	scheme := "http"
	if g.certs != nil {
		scheme = "https"
	}
	return scheme + "://" + g.Addr() + g.Server.Root()
}

// OpenAdapter opens the backend the configuration names.
func OpenAdapter(ctx context.Context, c Config, log zerolog.Logger) (adapters.Adapter, error) {
	zone, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return nil, err
	}
	observe := sqlObserver(log)
	switch {
	case c.isPostgres():
		return postgres.Open(ctx, postgres.Options{
			DSN: c.DB, Schemas: c.Schemas, StatementTimeout: c.StatementTimeout,
			MaxOpenConns: c.MaxOpenConns, Zone: zone, Observe: observe, CountTimeout: max(c.CountTimeout, 0),
			PreparedStatements: c.PreparedStatements,
		})
	case c.isMySQL():
		return mysql.Open(ctx, mysql.Options{
			DSN: c.DB, Schemas: c.exposedSchemas(), StatementTimeout: c.StatementTimeout,
			MaxOpenConns: c.MaxOpenConns, Zone: zone, Observe: observe, CountTimeout: max(c.CountTimeout, 0),
			PreparedStatements: c.PreparedStatements,
		})
	case c.DB == "":
		if err := os.MkdirAll(filepath.Dir(c.DemoPath), 0o755); err != nil {
			return nil, fmt.Errorf("demo database: %w", err)
		}
		created := false
		if _, err := os.Stat(c.DemoPath); errors.Is(err, os.ErrNotExist) {
			created = true
		}
		if err := sqlite.CreateDemo(ctx, c.DemoPath); err != nil {
			return nil, fmt.Errorf("demo database: %w", err)
		}
		if created {
			log.Info().Str("path", c.DemoPath).Msg("created the embedded demo ERP database")
		}
		return sqlite.Open(ctx, sqlite.Options{Path: c.DemoPath, Observe: observe})
	default:
		if _, err := os.Stat(c.DB); err != nil {
			return nil, fmt.Errorf("--db %q is neither a postgres://, mysql:// or mariadb:// URL nor an existing SQLite file", c.DB)
		}
		return sqlite.Open(ctx, sqlite.Options{Path: c.DB, Observe: observe})
	}
}

// sqlObserver logs every SQL statement at debug level.
func sqlObserver(log zerolog.Logger) func(sql string, args []any, d time.Duration, err error) {
	return func(sql string, args []any, d time.Duration, err error) {
		if e := log.Debug(); e.Enabled() {
			e.Str("sql", sql).Interface("args", args).Dur("duration", d).AnErr("error", err).Msg("sql")
		}
	}
}

// isPostgres reports whether the configured database is PostgreSQL.
func (c Config) isPostgres() bool {
	return isPostgresDSN(c.DB)
}

func isPostgresDSN(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") ||
		strings.Contains(dsn, "host=") || strings.Contains(dsn, "dbname=")
}

// isMySQL reports whether the configured database is MySQL or MariaDB.
func (c Config) isMySQL() bool {
	return strings.HasPrefix(c.DB, "mysql://") || strings.HasPrefix(c.DB, "mariadb://")
}

// exposedSchemas is --schemas, except that on MySQL/MariaDB the default
// (PostgreSQL's "public") means the database named in the URL (nil).
func (c Config) exposedSchemas() []string {
	if c.isMySQL() && len(c.Schemas) == 1 && c.Schemas[0] == "public" {
		return nil
	}
	return c.Schemas
}

// Overlay turns the set configuration into a model overlay.
func (c Config) Overlay() (metadata.Overlay, error) {
	zone, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return metadata.Overlay{}, err
	}
	ov := metadata.Overlay{Zone: zone, ReadOnly: c.ReadOnly, NoNavigation: !c.Navigation, MaxExpandDepth: c.Limits.MaxExpandDepth,
		FilterFunctions: semantic.FilterFunctions(), Sets: map[string]metadata.SetOverlay{}}
	for k, s := range c.Sets {
		so := metadata.SetOverlay{Name: s.Name, Hide: s.Hide, Key: s.Key, ReadOnly: s.ReadOnly,
			Search: s.Search, ETag: s.ETag, ETagHash: s.ETagHash, Properties: map[string]metadata.PropertyOverlay{},
			Count: metadata.Count{Estimated: s.Count == "estimated", ExactBelow: s.CountExactBelow}}
		if so.Count.ExactBelow == 0 {
			so.Count.ExactBelow = c.CountExactBelow
		}
		for col, p := range s.Properties {
			so.Properties[col] = metadata.PropertyOverlay{Name: p.Name, Hide: p.Hide, ReadOnly: p.ReadOnly}
		}
		if len(s.Navigation) > 0 {
			so.Navigation = map[string]metadata.NavigationOverlay{}
			for name, n := range s.Navigation {
				so.Navigation[name] = metadata.NavigationOverlay{Name: n.Name, Hide: n.Hide}
			}
		}
		ov.Sets[k] = so
	}
	return ov, nil
}

// Start opens everything and starts serving; it returns once the listener
// is bound. Stop it with Shutdown.
func Start(ctx context.Context, c Config, log zerolog.Logger) (*Gateway, error) {
	g := &Gateway{Config: c, Log: log, done: make(chan error, 1)}
	ad, err := OpenAdapter(ctx, c, log)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if len(c.ReadDB) > 0 {
		routed, err := withReplicas(ctx, c, ad, log, reg)
		if err != nil {
			_ = ad.Close()
			return nil, err
		}
		ad = routed
	}
	g.Adapter = ad
	fail := func(err error) (*Gateway, error) {
		_ = ad.Close()
		return nil, err
	}
	model, err := g.loadModel(ctx)
	if err != nil {
		return fail(err)
	}
	g.Model = model

	authn, err := auth.New(c.Auth, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		return fail(fmt.Errorf("auth: %w", err))
	}
	var policy *auth.Policy
	if authn.Enabled() || len(c.Policy.Sets) > 0 {
		policy, err = auth.NewPolicy(c.Policy, authn.Enabled())
		if err != nil {
			return fail(fmt.Errorf("policy: %w", err))
		}
		if err := policy.Check(model); err != nil {
			return fail(fmt.Errorf("policy: %w", err))
		}
	}
	g.policy = policy
	if !authn.Enabled() {
		log.Warn().Msg("AUTHENTICATION IS OFF: anyone who can reach this port can read (and, for writable sets, change) the data. Configure auth (see docs/security.md) before exposing it.")
	}

	key := []byte(c.TokenKey)
	if len(key) == 0 {
		key = make([]byte, 32)
		_, _ = rand.Read(key)
		log.Warn().Msg("no token_key configured: using a random per-process key; $skiptoken and CSRF tokens will not survive a restart or work across replicas (set ODATAGW_TOKEN_KEY)")
	} else if len(key) < 16 {
		return fail(errors.New("token_key must be at least 16 bytes"))
	}

	gc := c.Guard.WithDefaults()
	var proxies *guard.TrustedProxies
	if len(c.TrustedProxies) > 0 {
		proxies, err = guard.NewTrustedProxies(c.TrustedProxies)
		if err != nil {
			return fail(err)
		}
	}
	perms := map[string]server.Permissions{}
	for k, s := range c.Sets {
		set := setByStorage(model, k)
		if set == nil {
			continue
		}
		perms[set.Name] = server.Permissions{Read: true, Insert: boolOr(s.Insert, true), Update: boolOr(s.Update, true), Delete: boolOr(s.Delete, true)}
	}
	var rate, authFail *guard.RateLimiter
	if gc.RatePerSecond > 0 {
		rate = guard.NewRateLimiter(gc.RatePerSecond, gc.RateBurst, 10000)
	}
	if gc.AuthFailPerSecond > 0 {
		authFail = guard.NewRateLimiter(gc.AuthFailPerSecond, gc.AuthFailBurst, 10000)
	}
	var tp trace.TracerProvider
	if c.OTLPEndpoint != "" {
		if g.traces, err = newTracerProvider(ctx, c.OTLPEndpoint); err != nil {
			return fail(fmt.Errorf("otlp_endpoint: %w", err))
		}
		tp = g.traces
	}
	var co *console.Options
	if c.ConsoleOn() {
		co = g.consoleOptions()
		if !authn.Enabled() && !loopback(c.Listen) {
			log.Warn().Str("path", c.Console.Path).Msg("THE CONSOLE IS ON WITHOUT AUTHENTICATION on a non-loopback listener: anyone who can reach this port sees the model, samples of the data and the recent requests. Configure auth and give the console's users the admin role (docs/console.md).")
		}
	}
	g.Server = server.New(server.Config{
		Root: c.Root, PublicURL: c.PublicURL, MaxPageSize: c.PageSize, MaxPageBytes: c.PageBytes,
		MaxExpandEntities: c.Limits.MaxExpandEntities,
		MaxBodyBytes:      gc.MaxBodyBytes, MaxBatchRequests: gc.MaxBatchRequests, MaxURLBytes: gc.MaxURLBytes, WriteStall: gc.WriteStallTimeout,
		LongQueryAfter: max(gc.LongQueryAfter, 0),
		Limits: semantic.Limits{MaxExprLength: c.Limits.MaxExprLength, MaxNodes: c.Limits.MaxNodes,
			MaxDepth: c.Limits.MaxDepth, MaxInList: c.Limits.MaxInList, MaxOrderBy: c.Limits.MaxOrderBy,
			MaxExpandDepth: c.Limits.MaxExpandDepth, MaxExpandItems: c.Limits.MaxExpandItems,
			MaxLambdaDepth: c.Limits.MaxLambdaDepth},
		TokenKey: key, Upsert: c.Upsert, RequireIfMatch: c.RequireIfMatch, TrackRetention: c.TrackRetention,
		CSRF:    server.CSRFConfig{Enabled: c.CSRF.Enabled, Header: c.CSRF.Header, TTL: c.CSRF.TTL},
		Metrics: c.Metrics, Permissions: perms, CORSOrigins: c.CORSOrigins, TrustedProxies: proxies,
		Console: server.ConsoleConfig{Path: c.Console.Path, Role: c.Console.Role},
	}, server.Deps{
		Adapter: ad, Model: model, Log: log, Auth: authn, Policy: policy,
		DBLimiter:   guard.NewLimiter(gc.MaxConcurrentQueries, gc.QueryQueue, gc.QueryQueueWait).WithLongLane(gc.LongQueries),
		RateLimiter: rate, AuthFailLimiter: authFail, PasswordChecks: passwordChecks(), Now: c.Now, Tracer: tp, Registry: reg,
		Console: co,
	})

	// Every request's context derives from base, so that Shutdown can cancel
	// the requests still running at its deadline, database queries included.
	base, cancel := context.WithCancelCause(context.Background())
	g.cancel = cancel
	g.http = &http.Server{Handler: g.Server.Handler(), ErrorLog: nil,
		BaseContext: func(net.Listener) context.Context { return base },
		ConnContext: guard.FramingContext}
	gc.ApplyServer(g.http)
	if c.StatementTimeout > 0 && g.http.WriteTimeout > 0 && g.http.WriteTimeout <= c.StatementTimeout {
		g.http.WriteTimeout = c.StatementTimeout + 10*time.Second
	}
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return fail(err)
	}
	if c.TLS.CertFile != "" {
		tlsCfg, reloader, err := guard.NewTLSConfig(c.TLS.CertFile, c.TLS.KeyFile, c.TLS.ClientCAFile, c.TLS.RequireClientCert)
		if err != nil {
			ln.Close()
			return fail(err)
		}
		g.certs = reloader
		ln = tls.NewListener(ln, tlsCfg)
	} else {
		// Lets guard.Framing refuse Transfer-Encoding with Content-Length
		// (net/http hides the conflict; over TLS it cannot be seen).
		ln = guard.FramingListener(ln)
	}
	g.listener = ln
	go func() {
		err := g.http.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		g.done <- err
	}()
	if ct, ok := ad.(adapters.ChangeTracker); ok && len(c.trackedSets(model)) > 0 {
		go g.purgeChanges(base, ct)
	}
	ev := log.Info().Str("addr", ln.Addr().String()).Str("root", c.Root).Int("entity_sets", len(model.Sets)).
		Str("version", Version)
	if co != nil {
		scheme := "http"
		if g.certs != nil {
			scheme = "https"
		}
		ev = ev.Str("console", scheme+"://"+ln.Addr().String()+"/"+strings.Trim(c.Console.Path, "/")+"/")
	}
	ev.Msg("odatagw serving")
	return g, nil
}

// passwordChecks bounds the bcrypt checks of Basic passwords running at once
// to half the CPUs (at least one), with as many again waiting at most 250 ms
// (a few checks at cost 10; refused at once when the expected wait is
// longer): a flood of wrong passwords then gets 503 instead of taking all
// the CPU from requests with remembered credentials, JWTs or API keys, which
// never check a password.
func passwordChecks() *guard.Limiter {
	n := max(1, runtime.GOMAXPROCS(0)/2)
	return guard.NewLimiter(n, n, 250*time.Millisecond)
}

func boolOr(b *bool, def bool) bool {
	if b == nil {
		return def
	}
	return *b
}

func setByStorage(m *metadata.Model, key string) *metadata.EntitySet {
	for _, s := range m.Sets {
		if s.Table == key || s.Schema+"."+s.Table == key {
			return s
		}
	}
	return nil
}

func (g *Gateway) loadModel(ctx context.Context) (*metadata.Model, error) {
	ov, err := g.Config.Overlay()
	if err != nil {
		return nil, err
	}
	mctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	model, warns, err := g.Adapter.Model(mctx, ov)
	if err != nil {
		return nil, err
	}
	for _, w := range warns {
		g.Log.Warn().Str("object", w.Object).Msg(w.Msg)
	}
	g.warnings.Store(&warns)
	if len(model.Sets) == 0 {
		g.Log.Warn().Strs("schemas", g.Config.exposedSchemas()).Msg("no table or view could be exposed: check --schemas and the database role's privileges")
	}
	g.markTracked(mctx, model)
	return model, nil
}

// Reload re-introspects the database and swaps the model, and re-reads the
// TLS certificate (SIGHUP).
func (g *Gateway) Reload(ctx context.Context) error {
	var errs []error
	if g.certs != nil {
		if err := g.certs.Reload(); err != nil {
			errs = append(errs, fmt.Errorf("tls reload: %w", err))
		}
	}
	m, err := g.loadModel(ctx)
	if err == nil && g.policy != nil {
		// The policy names sets and properties: a renamed or dropped column
		// must not silently lose its protection.
		if cerr := g.policy.Check(m); cerr != nil {
			err = fmt.Errorf("the new model does not fit the policy: %w", cerr)
		}
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("model reload: %w", err))
	} else {
		g.Server.SetModel(m)
		g.Model = m
		// A table may have changed under a prepared statement.
		if r, ok := g.Adapter.(interface{ ResetStatements() }); ok {
			r.ResetStatements()
		}
	}
	return errors.Join(errs...)
}

// cancelGrace is how long Shutdown waits for canceled requests to end
// (lib/pq cancels their queries) before it closes their connections.
const cancelGrace = 5 * time.Second

// Shutdown stops accepting connections, drains in-flight requests until
// ctx ends and closes the database. Requests still running at ctx's deadline
// are canceled (cause server.ErrShutdown: the client gets 503), their
// database queries with them, so that no backend keeps working for a gateway
// that is gone; it then returns an error wrapping ctx.Err().
func (g *Gateway) Shutdown(ctx context.Context) error {
	err := g.http.Shutdown(ctx)
	if err != nil {
		g.cancel(server.ErrShutdown)
		gctx, cancel := context.WithTimeout(context.Background(), cancelGrace)
		if g.http.Shutdown(gctx) != nil {
			_ = g.http.Close()
		}
		cancel()
		err = fmt.Errorf("drain deadline passed, in-flight requests canceled: %w", err)
	}
	g.cancel(server.ErrShutdown)
	if cerr := g.Adapter.Close(); err == nil {
		err = cerr
	}
	if g.traces != nil {
		tctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = g.traces.Shutdown(tctx) // flushes what is buffered
		cancel()
	}
	return err
}

// FlushTraces exports the spans buffered so far (no-op without tracing).
func (g *Gateway) FlushTraces(ctx context.Context) error {
	if g.traces == nil {
		return nil
	}
	return g.traces.ForceFlush(ctx)
}

// newTracerProvider exports spans with OTLP over HTTP to endpoint, in
// batches, as service "odatagw".
func newTracerProvider(ctx context.Context, endpoint string) (*sdktrace.TracerProvider, error) {
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, err
	}
	res := resource.NewSchemaless(attribute.String("service.name", "odatagw"), attribute.String("service.version", Version))
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// Done delivers the listener's exit error (nil after Shutdown).
func (g *Gateway) Done() <-chan error { return g.done }

// trackedSets are the sets of m configured with track_changes.
func (c Config) trackedSets(m *metadata.Model) []*metadata.EntitySet {
	var out []*metadata.EntitySet
	for k, sc := range c.Sets {
		if !sc.TrackChanges {
			continue
		}
		if s := setByStorage(m, k); s != nil {
			out = append(out, s)
		}
	}
	// by name, not in the config map's random order: `track`
	// prints (and reports progress) in a stable order
	slices.SortFunc(out, func(a, b *metadata.EntitySet) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// markTracked marks the sets configured with track_changes whose change
// capture is installed; for the others it says why delta links are not
// offered. Serving never installs anything (no DDL rights needed).
func (g *Gateway) markTracked(ctx context.Context, m *metadata.Model) {
	want := g.Config.trackedSets(m)
	if len(want) == 0 {
		return
	}
	ct, ok := g.Adapter.(adapters.ChangeTracker)
	if !ok {
		g.Log.Warn().Msg("track_changes is configured, but this database backend cannot track changes")
		return
	}
	installed, err := ct.TrackedSets(ctx, want)
	if err != nil {
		g.Log.Warn().Err(err).Msg("cannot tell whether change tracking is installed: delta links are not offered")
		return
	}
	for _, s := range want {
		if installed[s.Name] {
			s.Tracked = true
			continue
		}
		why := "not installed: run `odatagw track install` (with DDL rights), then reload"
		if w := adapters.Trackable(s); w != "" {
			why = w
		}
		g.Log.Warn().Str("set", s.Name).Msg("track_changes is configured but " + why + "; delta links are not offered for this set")
	}
}

// purgeChanges removes change-log entries past track_retention (plus an
// hour, so that a delta link is never older than what is kept) at start
// and every hour, until ctx ends. Without the right to delete from the
// change log it says so; `odatagw track install` grants nothing, so the
// operator either grants DELETE or purges otherwise (docs/operations.md).
func (g *Gateway) purgeChanges(ctx context.Context, ct adapters.ChangeTracker) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		before := time.Now().Add(-g.Config.TrackRetention - time.Hour)
		n, err := ct.PurgeChanges(ctx, before)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			g.Log.Warn().Err(err).Msg("purging the change log failed")
		case n > 0:
			g.Log.Info().Int64("entries", n).Time("before", before).Msg("change log purged")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
