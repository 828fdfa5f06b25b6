// Package app is the composition root: it loads the configuration
// (defaults < YAML file < ODATAGW_* environment < command-line flags), opens
// the adapter the DSN names, builds the model, the authenticator and the
// server, and runs the HTTP listener with graceful shutdown. It is the only
// package that knows the concrete adapters and reads files or environment.
package app

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/odatagw/odatagw/server/auth"
	"github.com/odatagw/odatagw/server/guard"
)

// Config is the whole configuration. YAML keys are the snake_case names;
// every scalar that has a flag also has an environment variable
// ODATAGW_<FLAG_NAME_UPPER> (dashes become underscores).
type Config struct {
	Listen    string   `yaml:"listen"`     // --listen, default 127.0.0.1:8080
	DB        string   `yaml:"db"`         // --db: postgres://..., mysql://... (mariadb://...) or a SQLite file; empty = the embedded demo
	Schemas   []string `yaml:"schemas"`    // --schemas, default [public]
	Root      string   `yaml:"root"`       // --root, service root path, default /odata
	PublicURL string   `yaml:"public_url"` // --public-url: externally visible scheme://host[:port]
	// OTLPEndpoint turns on OpenTelemetry tracing: spans are exported with
	// OTLP over HTTP to this URL (e.g. http://collector:4318/v1/traces).
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	DemoPath     string `yaml:"demo_path"` // --demo-path: where the demo database is created

	LogLevel  string `yaml:"log_level"`  // --log-level: debug|info|warn|error (default info)
	LogFormat string `yaml:"log_format"` // --log-format: auto|json|console (auto: console on a terminal)

	TimeZone         string        `yaml:"time_zone"`         // zone of timestamp-without-time-zone columns (default UTC)
	StatementTimeout time.Duration `yaml:"statement_timeout"` // per SQL statement (default 110s, below Salesforce's 120 s)
	MaxOpenConns     int           `yaml:"max_open_conns"`    // database pool size (default 16)

	PageSize  int    `yaml:"page_size"`  // rows per page, at most 2000 (default 2000)
	PageBytes int64  `yaml:"page_bytes"` // bytes per page, at most 8 MB (default 8 MiB)
	TokenKey  string `yaml:"token_key"`  // secret for $skiptoken and CSRF tokens (random per process when empty)

	// PreparedStatements prepares each SQL statement once per database
	// connection and reuses it (default true). Turn it off behind PgBouncer
	// in transaction mode.
	PreparedStatements bool `yaml:"prepared_statements"`

	// ReadDB lists read replicas of DB (PostgreSQL only): GETs, counts and
	// $metadata introspection go to a healthy one, round-robin; writes,
	// change sets and change tracking stay on DB. YAML: a list; flag and
	// env: comma-separated.
	ReadDB []string `yaml:"read_db"`
	// ReadMaxLag: a replica whose replay lags more than this is skipped
	// (reads fall back to DB) until it catches up (default 30s).
	ReadMaxLag time.Duration `yaml:"read_max_lag"`
	// ReadCheckInterval: how often replicas' lag is measured (default 5s).
	ReadCheckInterval time.Duration `yaml:"read_check_interval"`

	// CountExactBelow: a set with count: estimated is counted exactly when
	// the planner expects fewer rows than this (default 100000).
	CountExactBelow int64 `yaml:"count_exact_below"`
	// CountTimeout bounds the count of a page ($count=true); past it the
	// page is answered with the planner's estimate, or without
	// @odata.count (default 5s; negative: no separate bound).
	CountTimeout time.Duration `yaml:"count_timeout"`
	// TrackRetention is how long change-log entries are kept for delta
	// links (default 168h, 7 days); an older delta link is 410 Gone.
	TrackRetention time.Duration `yaml:"track_retention"`
	// ShutdownTimeout is how long SIGTERM/SIGINT waits for in-flight
	// requests before it cancels them and their queries (default 30s).
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`

	ReadOnly       bool `yaml:"read_only"`        // no writes at all
	Upsert         bool `yaml:"upsert"`           // PATCH/PUT on a missing key creates it
	RequireIfMatch bool `yaml:"require_if_match"` // If-Match mandatory on sets with an ETag
	Metrics        bool `yaml:"metrics"`          // expose /metrics (default true)
	// Navigation derives navigation properties from foreign keys between
	// exposed sets (default true); false leaves them out of $metadata.
	Navigation bool `yaml:"navigation"`

	CSRF struct {
		Enabled bool          `yaml:"enabled"`
		Header  string        `yaml:"header"`
		TTL     time.Duration `yaml:"ttl"`
	} `yaml:"csrf"`

	Limits struct {
		MaxExprLength int `yaml:"max_expr_length"`
		MaxNodes      int `yaml:"max_nodes"`
		MaxDepth      int `yaml:"max_depth"`
		MaxInList     int `yaml:"max_in_list"`
		MaxOrderBy    int `yaml:"max_orderby"`
		// MaxExpandDepth is how deep $expand may nest (default 3);
		// MaxExpandItems bounds the expanded navigation properties of one
		// request, all levels together (default 32).
		MaxExpandDepth int `yaml:"max_expand_depth"`
		MaxExpandItems int `yaml:"max_expand_items"`
		// MaxLambdaDepth bounds lambda operators nested in one another.
		MaxLambdaDepth int `yaml:"max_lambda_depth"`
		// MaxExpandEntities bounds the expanded entities one response
		// writes, nested ones included (default 100,000).
		MaxExpandEntities int64 `yaml:"max_expand_entities"`
	} `yaml:"limits"`

	Guard guard.Config `yaml:"guard"`

	TLS struct {
		CertFile          string `yaml:"cert_file"`
		KeyFile           string `yaml:"key_file"`
		ClientCAFile      string `yaml:"client_ca_file"`
		RequireClientCert bool   `yaml:"require_client_cert"`
	} `yaml:"tls"`
	TrustedProxies []string `yaml:"trusted_proxies"`
	CORSOrigins    []string `yaml:"cors_origins"`

	// Console is the built-in web console (docs/console.md).
	Console ConsoleConfig `yaml:"console"`

	Auth   auth.Config       `yaml:"auth"`
	Policy auth.PolicyConfig `yaml:"policy"`

	// Sets configures tables and views by "schema.table" (or "table").
	Sets map[string]SetConfig `yaml:"sets"`

	// Now is the gateway's clock (CSRF token expiry); nil means time.Now.
	// Not configurable from files or flags: tests set it.
	Now func() time.Time `yaml:"-"`
}

// ConsoleConfig places the web console.
type ConsoleConfig struct {
	// Enabled serves the console (--console). Unset: on only when
	// authentication is off and the listener is a loopback address (the
	// demo); with authentication on, only principals with Role get in.
	Enabled *bool `yaml:"enabled"`
	// Path is where the console is served (default /console).
	Path string `yaml:"path"`
	// Role is the role a principal needs (default admin), granted like
	// other roles: auth.basic[].roles, auth.api_keys[].roles or the JWT's
	// roles claim.
	Role string `yaml:"role"`
}

// ConsoleOn reports whether the console is served: as configured, else
// only for the demo setup (no authentication, a loopback listener).
func (c Config) ConsoleOn() bool {
	if c.Console.Enabled != nil {
		return *c.Console.Enabled
	}
	return !c.Auth.Enabled() && loopback(c.Listen)
}

// loopback reports whether a listen address binds a loopback address only.
func loopback(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SetConfig renames, hides, keys and restricts one table or view.
type SetConfig struct {
	Name     string   `yaml:"name"`
	Hide     bool     `yaml:"hide"`
	Key      []string `yaml:"key"`
	ReadOnly bool     `yaml:"read_only"`
	Search   []string `yaml:"search"`
	ETag     string   `yaml:"etag"`
	ETagHash bool     `yaml:"etag_hash"`
	// Count is exact (default) or estimated; see Config.CountExactBelow.
	Count string `yaml:"count"`
	// TrackChanges serves OData delta links for the set (Salesforce
	// External Change Data Capture) once `odatagw track install` has
	// prepared the database.
	TrackChanges    bool                      `yaml:"track_changes"`
	CountExactBelow int64                     `yaml:"count_exact_below"` // default: the global count_exact_below
	Properties      map[string]PropertyConfig `yaml:"properties"`
	// Navigation renames (name) or hides (hide) a navigation property
	// derived from a foreign key, keyed by its derived name.
	Navigation map[string]PropertyConfig `yaml:"navigation"`
	// Permissions without authentication (with authentication, see policy).
	Insert *bool `yaml:"insert"`
	Update *bool `yaml:"update"`
	Delete *bool `yaml:"delete"`
}

// PropertyConfig renames or hides a column.
type PropertyConfig struct {
	Name     string `yaml:"name"`
	Hide     bool   `yaml:"hide"`
	ReadOnly bool   `yaml:"read_only"`
}

// Default returns the documented defaults.
func Default() Config {
	c := Config{
		Listen:             "127.0.0.1:8080",
		Schemas:            []string{"public"},
		Root:               "/odata",
		DemoPath:           "data/odatagw-demo.sqlite",
		LogLevel:           "info",
		LogFormat:          "auto",
		TimeZone:           "UTC",
		StatementTimeout:   110 * time.Second,
		MaxOpenConns:       16,
		PageSize:           2000,
		PageBytes:          8 << 20,
		CountExactBelow:    100000,
		PreparedStatements: true,
		CountTimeout:       5 * time.Second,
		ReadMaxLag:         30 * time.Second,
		ReadCheckInterval:  5 * time.Second,
		TrackRetention:     7 * 24 * time.Hour,
		ShutdownTimeout:    30 * time.Second,
		Metrics:            true,
		Navigation:         true,
	}
	c.CSRF.Header = "X-CSRF-Token"
	c.CSRF.TTL = 30 * time.Minute
	c.Console.Path = "/console"
	c.Console.Role = "admin"
	c.Guard = guard.Defaults
	return c
}

// Validate checks the configuration as a whole.
func (c *Config) Validate() error {
	var errs []string
	if c.Listen == "" {
		errs = append(errs, "listen: must not be empty")
	}
	if len(c.ReadDB) > 0 && !c.isPostgres() {
		errs = append(errs, "read_db: read replicas need a PostgreSQL db")
	}
	if c.ReadMaxLag <= 0 || c.ReadCheckInterval <= 0 {
		errs = append(errs, "read_max_lag, read_check_interval: must be positive")
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, "shutdown_timeout: must be positive")
	}
	if c.PageSize < 1 || c.PageSize > 2000 {
		errs = append(errs, fmt.Sprintf("page_size: %d is outside 1..2000 (Salesforce accepts at most 2,000 rows per page)", c.PageSize))
	}
	if c.PageBytes < 64<<10 || c.PageBytes > 8<<20 {
		errs = append(errs, fmt.Sprintf("page_bytes: %d is outside 64 KiB..8 MiB (Salesforce rejects responses over 8 MB)", c.PageBytes))
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		errs = append(errs, fmt.Sprintf("time_zone: %v", err))
	}
	if c.StatementTimeout < 0 {
		errs = append(errs, "statement_timeout: must not be negative")
	}
	if !strings.HasPrefix(c.Root, "/") || strings.ContainsAny(c.Root, "?#% ") {
		errs = append(errs, fmt.Sprintf("root: %q must be a path starting with /", c.Root))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Sprintf("log_level: %q is not one of debug, info, warn, error", c.LogLevel))
	}
	switch c.LogFormat {
	case "auto", "json", "console":
	default:
		errs = append(errs, fmt.Sprintf("log_format: %q is not one of auto, json, console", c.LogFormat))
	}
	if c.CountExactBelow < 0 {
		errs = append(errs, "count_exact_below: must not be negative")
	}
	if c.TrackRetention < time.Hour {
		errs = append(errs, "track_retention: must be at least 1h (Salesforce polls every 5 to 30 minutes)")
	}
	for k, s := range c.Sets {
		switch s.Count {
		case "", "exact", "estimated":
		default:
			errs = append(errs, fmt.Sprintf("sets.%s.count: %q is not exact or estimated", k, s.Count))
		}
		if s.CountExactBelow < 0 {
			errs = append(errs, fmt.Sprintf("sets.%s.count_exact_below: must not be negative", k))
		}
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		errs = append(errs, "tls: cert_file and key_file go together")
	}
	if p := "/" + strings.Trim(c.Console.Path, "/"); !strings.HasPrefix(c.Console.Path, "/") || p == "/" || strings.ContainsAny(p, "?#% ") {
		errs = append(errs, fmt.Sprintf("console.path: %q must be a path below / starting with /", c.Console.Path))
	} else if p == c.Root || strings.HasPrefix(p+"/", strings.TrimRight(c.Root, "/")+"/") || strings.HasPrefix(c.Root+"/", p+"/") ||
		p == "/healthz" || p == "/readyz" || p == "/metrics" {
		errs = append(errs, fmt.Sprintf("console.path: %q collides with the service root or a built-in endpoint", c.Console.Path))
	}
	if c.Console.Role == "" {
		errs = append(errs, "console.role: must not be empty")
	}
	if c.PublicURL != "" && !strings.HasPrefix(c.PublicURL, "http://") && !strings.HasPrefix(c.PublicURL, "https://") {
		errs = append(errs, "public_url: must start with http:// or https://")
	}
	if len(errs) > 0 {
		return errors.New("invalid configuration:\n  " + strings.Join(errs, "\n  "))
	}
	return nil
}

// LoadFile decodes a YAML file strictly (unknown keys are errors) over c.
func (c *Config) LoadFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return c.decodeYAML(data, path)
}

func (c *Config) decodeYAML(data []byte, name string) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("config %s: %w", name, err)
	}
	return nil
}

// option is one setting reachable by flag and environment variable.
type option struct {
	name, usage string
	secret      bool
	isBool      bool // may be given without a value (--name means --name=true)
	set         func(c *Config, v string) error
	get         func(c *Config) string
}

func options() []option {
	str := func(name, usage string, f func(c *Config) *string) option {
		return option{name: name, usage: usage,
			set: func(c *Config, v string) error { *f(c) = v; return nil },
			get: func(c *Config) string { return *f(c) }}
	}
	boolean := func(name, usage string, f func(c *Config) *bool) option {
		return option{name: name, usage: usage, isBool: true,
			set: func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return fmt.Errorf("--%s: %q is not a boolean", name, v)
				}
				*f(c) = b
				return nil
			},
			get: func(c *Config) string { return strconv.FormatBool(*f(c)) }}
	}
	integer := func(name, usage string, f func(c *Config) *int) option {
		return option{name: name, usage: usage,
			set: func(c *Config, v string) error {
				n, err := strconv.Atoi(v)
				if err != nil {
					return fmt.Errorf("--%s: %q is not an integer", name, v)
				}
				*f(c) = n
				return nil
			},
			get: func(c *Config) string { return strconv.Itoa(*f(c)) }}
	}
	dur := func(name, usage string, f func(c *Config) *time.Duration) option {
		return option{name: name, usage: usage,
			set: func(c *Config, v string) error {
				d, err := time.ParseDuration(v)
				if err != nil {
					return fmt.Errorf("--%s: %q is not a duration (e.g. 110s)", name, v)
				}
				*f(c) = d
				return nil
			},
			get: func(c *Config) string { return f(c).String() }}
	}
	list := func(name, usage string, f func(c *Config) *[]string) option {
		return option{name: name, usage: usage,
			set: func(c *Config, v string) error {
				var out []string
				for _, s := range strings.Split(v, ",") {
					if s = strings.TrimSpace(s); s != "" {
						out = append(out, s)
					}
				}
				*f(c) = out
				return nil
			},
			get: func(c *Config) string { return strings.Join(*f(c), ",") }}
	}
	secret := func(o option) option { o.secret = true; return o }
	return []option{
		str("listen", "address to listen on", func(c *Config) *string { return &c.Listen }),
		secret(str("db", "database: postgres://user:pass@host/db, mysql://user:pass@host:3306/db (also mariadb://), or a SQLite file path (default: the embedded demo database)", func(c *Config) *string { return &c.DB })),
		list("schemas", "PostgreSQL schemas (MySQL/MariaDB: databases, default the URL's) to expose, comma-separated", func(c *Config) *[]string { return &c.Schemas }),
		str("root", "service root path", func(c *Config) *string { return &c.Root }),
		str("otlp-endpoint", "OpenTelemetry: export traces with OTLP/HTTP to this URL (off when empty)", func(c *Config) *string { return &c.OTLPEndpoint }),
		str("public-url", "externally visible base URL (scheme://host[:port]) for nextLinks and Location", func(c *Config) *string { return &c.PublicURL }),
		str("demo-path", "file of the embedded demo database", func(c *Config) *string { return &c.DemoPath }),
		str("log-level", "debug, info, warn or error (debug logs SQL)", func(c *Config) *string { return &c.LogLevel }),
		str("log-format", "auto, json or console", func(c *Config) *string { return &c.LogFormat }),
		str("time-zone", "zone of timestamp-without-time-zone columns", func(c *Config) *string { return &c.TimeZone }),
		dur("statement-timeout", "per-statement database timeout", func(c *Config) *time.Duration { return &c.StatementTimeout }),
		integer("max-open-conns", "database connection pool size", func(c *Config) *int { return &c.MaxOpenConns }),
		integer("page-size", "rows per page (at most 2000)", func(c *Config) *int { return &c.PageSize }),
		{name: "page-bytes", usage: "bytes per page (at most 8 MiB)",
			set: func(c *Config, v string) error {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return fmt.Errorf("--page-bytes: %q is not an integer", v)
				}
				c.PageBytes = n
				return nil
			},
			get: func(c *Config) string { return strconv.FormatInt(c.PageBytes, 10) }},
		secret(list("read-db", "read replicas of --db (PostgreSQL), comma-separated: reads go to a healthy one, round-robin", func(c *Config) *[]string { return &c.ReadDB })),
		dur("read-max-lag", "skip a read replica whose replay lags more than this (reads fall back to --db)", func(c *Config) *time.Duration { return &c.ReadMaxLag }),
		dur("read-check-interval", "how often read replicas' lag is measured", func(c *Config) *time.Duration { return &c.ReadCheckInterval }),
		boolean("prepared-statements", "prepare each SQL statement once per connection (off behind PgBouncer in transaction mode)", func(c *Config) *bool { return &c.PreparedStatements }),
		dur("track-retention", "how long the change log keeps entries for delta links; older links are 410 Gone", func(c *Config) *time.Duration { return &c.TrackRetention }),
		dur("count-timeout", "bound on a page's count; past it the planner's estimate (or no @odata.count)", func(c *Config) *time.Duration { return &c.CountTimeout }),
		dur("shutdown-timeout", "on SIGTERM/SIGINT, how long in-flight requests may finish before they and their queries are canceled", func(c *Config) *time.Duration { return &c.ShutdownTimeout }),
		secret(str("token-key", "secret signing $skiptoken and CSRF tokens (share it between replicas)", func(c *Config) *string { return &c.TokenKey })),
		boolean("read-only", "refuse all writes", func(c *Config) *bool { return &c.ReadOnly }),
		boolean("upsert", "PATCH/PUT on a missing key creates the entity", func(c *Config) *bool { return &c.Upsert }),
		boolean("csrf", "require the X-CSRF-Token handshake for writes", func(c *Config) *bool { return &c.CSRF.Enabled }),
		boolean("metrics", "expose Prometheus metrics at /metrics", func(c *Config) *bool { return &c.Metrics }),
		{name: "console", isBool: true, usage: "serve the web console at console.path (default: only without auth on a loopback listener; with auth, for the admin role)",
			set: func(c *Config, v string) error {
				b, err := strconv.ParseBool(v)
				if err != nil {
					return fmt.Errorf("--console: %q is not a boolean", v)
				}
				c.Console.Enabled = &b
				return nil
			},
			get: func(c *Config) string {
				if c.Console.Enabled == nil {
					return "auto"
				}
				return strconv.FormatBool(*c.Console.Enabled)
			}},
		str("tls-cert", "TLS certificate file (enables HTTPS)", func(c *Config) *string { return &c.TLS.CertFile }),
		str("tls-key", "TLS private key file", func(c *Config) *string { return &c.TLS.KeyFile }),
		list("trusted-proxies", "CIDRs of reverse proxies whose X-Forwarded-* headers are trusted", func(c *Config) *[]string { return &c.TrustedProxies }),
	}
}

// boolFlag is a boolean option's flag: its value is kept as text (checked
// by the option's set), and the flag may be given alone (--csrf).
type boolFlag struct{ v *string }

func (b boolFlag) String() string {
	if b.v == nil {
		return ""
	}
	return *b.v
}
func (b boolFlag) Set(s string) error { *b.v = s; return nil }
func (b boolFlag) IsBoolFlag() bool   { return true }

// Sources are the inputs Load reads; tests fill them directly.
type Sources struct {
	Args   []string            // command-line arguments after the subcommand
	Env    func(string) string // os.Getenv
	Stderr io.Writer
}

// Load builds the configuration: defaults, then the YAML file named by
// --config or ODATAGW_CONFIG, then ODATAGW_* variables, then flags.
func Load(name string, src Sources) (Config, []string, error) {
	c := Default()
	opts := options()
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	if src.Stderr != nil {
		fs.SetOutput(src.Stderr)
	}
	configPath := fs.String("config", "", "YAML configuration file (env ODATAGW_CONFIG)")
	vals := map[string]*string{}
	for _, o := range opts {
		v := new(string)
		vals[o.name] = v
		def := o.get(&c)
		*v = def
		if o.isBool {
			fs.Var(boolFlag{v}, o.name, o.usage+" (env "+envName(o.name)+")")
			continue
		}
		fs.StringVar(v, o.name, def, o.usage+" (env "+envName(o.name)+")")
	}
	if err := fs.Parse(src.Args); err != nil {
		return c, nil, err
	}
	env := src.Env
	if env == nil {
		env = func(string) string { return "" }
	}
	path := *configPath
	if path == "" {
		path = env("ODATAGW_CONFIG")
	}
	if path != "" {
		if err := c.LoadFile(path); err != nil {
			return c, nil, err
		}
	}
	for _, o := range opts {
		if v := env(envName(o.name)); v != "" {
			if err := o.set(&c, v); err != nil {
				return c, nil, fmt.Errorf("%s: %w", envName(o.name), err)
			}
		}
	}
	var ferr error
	fs.Visit(func(f *flag.Flag) {
		for _, o := range opts {
			if o.name == f.Name && ferr == nil {
				ferr = o.set(&c, *vals[o.name])
			}
		}
	})
	if ferr != nil {
		return c, nil, ferr
	}
	if err := applyAuthEnv(&c, env); err != nil {
		return c, nil, err
	}
	if err := c.Validate(); err != nil {
		return c, nil, err
	}
	return c, fs.Args(), nil
}

// applyAuthEnv reads the quick-start authentication variables.
func applyAuthEnv(c *Config, env func(string) string) error {
	if v := env("ODATAGW_BASIC_USERS"); v != "" {
		users, err := auth.ParseBasicUsers(v)
		if err != nil {
			return fmt.Errorf("ODATAGW_BASIC_USERS: %w", err)
		}
		c.Auth.Basic = append(c.Auth.Basic, users...)
	}
	if v := env("ODATAGW_JWT_HS256_SECRET"); v != "" {
		c.Auth.JWT.HMACSecrets = append(c.Auth.JWT.HMACSecrets, auth.HMACKey{ID: "env", Secret: v, Algs: []string{"HS256"}})
	}
	if v := env("ODATAGW_JWT_AUDIENCE"); v != "" {
		c.Auth.JWT.Audience = strings.Split(v, ",")
	}
	if v := env("ODATAGW_JWT_ISSUER"); v != "" {
		c.Auth.JWT.Issuer = v
	}
	if v := env("ODATAGW_JWKS_URL"); v != "" {
		c.Auth.JWT.JWKSURL = v
	}
	return nil
}

func envName(flagName string) string {
	return "ODATAGW_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Print writes the effective configuration as YAML with secrets masked.
func (c Config) Print(w io.Writer) error {
	m := c
	m.DB = maskDSN(m.DB)
	m.ReadDB = nil
	for _, d := range c.ReadDB {
		m.ReadDB = append(m.ReadDB, maskDSN(d))
	}
	if m.TokenKey != "" {
		m.TokenKey = "*****"
	}
	m.Auth = maskAuth(c.Auth)
	out, err := yaml.Marshal(m)
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}

// maskDSN hides the password of a DSN: the user info and a password query
// parameter of a URL, or a password=... pair (quoted or not) of the
// key=value form.
func maskDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.Host != "" {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return strings.ReplaceAll(u.String(), "xxxxx", "*****")
	}
	var b strings.Builder
	for i := 0; i < len(dsn); {
		j := strings.Index(strings.ToLower(dsn[i:]), "password")
		if j < 0 {
			b.WriteString(dsn[i:])
			break
		}
		j += i
		k := j + len("password")
		for k < len(dsn) && dsn[k] == ' ' {
			k++
		}
		if k >= len(dsn) || dsn[k] != '=' || (j > 0 && dsn[j-1] != ' ') {
			b.WriteString(dsn[i:k])
			i = k
			continue
		}
		k++
		for k < len(dsn) && dsn[k] == ' ' {
			k++
		}
		b.WriteString(dsn[i:j])
		b.WriteString("password=*****")
		if k < len(dsn) && dsn[k] == '\'' { // quoted value: up to the closing quote
			k++
			for k < len(dsn) && dsn[k] != '\'' {
				if dsn[k] == '\\' {
					k++
				}
				k++
			}
			k++
		} else {
			for k < len(dsn) && dsn[k] != ' ' {
				k++
			}
		}
		i = k
	}
	return b.String()
}

// Usage prints the flags with their environment variables.
func Usage(w io.Writer) {
	opts := options()
	sort.Slice(opts, func(i, j int) bool { return opts[i].name < opts[j].name })
	fmt.Fprintf(w, "  --%-20s %s\n", "config FILE", "YAML configuration file (env ODATAGW_CONFIG)")
	for _, o := range opts {
		fmt.Fprintf(w, "  --%-20s %s (env %s)\n", o.name, o.usage, envName(o.name))
	}
}

// maskAuth hides shared secrets and password hashes.
func maskAuth(a auth.Config) auth.Config {
	out := a
	out.Basic = append([]auth.BasicUser(nil), a.Basic...)
	for i := range out.Basic {
		out.Basic[i].Hash = "*****"
	}
	out.APIKeys = append([]auth.APIKey(nil), a.APIKeys...)
	for i := range out.APIKeys {
		out.APIKeys[i].Hash = "*****"
	}
	out.JWT.HMACSecrets = append([]auth.HMACKey(nil), a.JWT.HMACSecrets...)
	for i := range out.JWT.HMACSecrets {
		out.JWT.HMACSecrets[i].Secret = "*****"
	}
	return out
}
