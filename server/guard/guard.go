// Package guard holds the HTTP guardrails of the gateway: request size
// limits (URL 414, headers 431, body 413), a bounded pool for concurrent
// database work (503 + Retry-After), a per-principal rate limit (429),
// trusted-proxy handling of forwarded headers, security headers, CORS and
// TLS with certificate reload.
//
// Every piece is a small net/http middleware or helper, independent of the
// others. Package guard never logs and reads files only in NewTLSConfig and
// CertReloader.Reload (paths given by the caller).
package guard

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"
)

// Config gathers the guardrail settings with their documented defaults
// (see Defaults). Zero fields take the default; YAML-friendly.
type Config struct {
	MaxURLBytes    int   `yaml:"max_url_bytes"`    // request URI; 414 beyond (default 256 KiB: a 100,000-character SOQL statement, percent-encoded)
	MaxHeaderBytes int   `yaml:"max_header_bytes"` // request line + headers; Go's server answers 431 beyond (default 320 KiB: the URL and 64 KiB of headers)
	MaxBodyBytes   int64 `yaml:"max_body_bytes"`   // request body; 413 beyond (default 8 MiB)
	// MaxBatchRequests caps the requests of one $batch, change sets
	// included; 413 beyond (default 100).
	MaxBatchRequests int `yaml:"max_batch_requests"`

	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"` // default 10s (slowloris)
	ReadTimeout       time.Duration `yaml:"read_timeout"`        // whole request incl. body; default 30s
	WriteTimeout      time.Duration `yaml:"write_timeout"`       // default 120s (Salesforce gives up at 120s)
	IdleTimeout       time.Duration `yaml:"idle_timeout"`        // keep-alive; default 120s
	// WriteStallTimeout cuts a client that takes no data of a response for
	// this long (default 30s). Its database slot was released already.
	WriteStallTimeout time.Duration `yaml:"write_stall_timeout"`

	MaxConcurrentQueries int           `yaml:"max_concurrent_queries"` // default 16
	QueryQueue           int           `yaml:"query_queue"`            // waiting requests beyond the pool (a hard cap; admission sheds earlier when the expected wait exceeds query_queue_wait); default 1024
	QueryQueueWait       time.Duration `yaml:"query_queue_wait"`       // longest wait for a slot; default 2s
	// A request still holding its slot after LongQueryAfter moves to the
	// long lane (LongQueries slots); a read that finds it full is stopped
	// with 503 + Retry-After, so expensive requests cannot starve cheap ones.
	LongQueryAfter time.Duration `yaml:"long_query_after"` // default 2s; negative disables
	LongQueries    int           `yaml:"long_queries"`     // default max(1, max_concurrent_queries/4)

	RatePerSecond float64 `yaml:"rate_per_second"` // per principal; default 200; negative disables
	RateBurst     int     `yaml:"rate_burst"`      // default 400

	// Wrong Basic passwords per client address and user name: AuthFailBurst
	// at once, then AuthFailPerSecond; beyond that 429 before the password is
	// checked. Remembered passwords, JWTs and API keys are not throttled.
	AuthFailPerSecond float64 `yaml:"auth_fail_per_second"` // default 1; negative disables
	AuthFailBurst     int     `yaml:"auth_fail_burst"`      // default 10
}

// Defaults are the documented default guardrails.
var Defaults = Config{
	MaxURLBytes:          256 << 10,
	MaxHeaderBytes:       320 << 10,
	MaxBodyBytes:         8 << 20,
	MaxBatchRequests:     100,
	ReadHeaderTimeout:    10 * time.Second,
	ReadTimeout:          30 * time.Second,
	WriteTimeout:         120 * time.Second,
	IdleTimeout:          120 * time.Second,
	WriteStallTimeout:    30 * time.Second,
	MaxConcurrentQueries: 16,
	QueryQueue:           1024,
	QueryQueueWait:       2 * time.Second,
	LongQueryAfter:       2 * time.Second,
	RatePerSecond:        200,
	RateBurst:            400,
	AuthFailPerSecond:    1,
	AuthFailBurst:        10,
}

// WithDefaults returns c with every zero field set from Defaults.
func (c Config) WithDefaults() Config {
	d := Defaults
	setInt := func(v *int, def int) {
		if *v == 0 {
			*v = def
		}
	}
	setDur := func(v *time.Duration, def time.Duration) {
		if *v == 0 {
			*v = def
		}
	}
	setInt(&c.MaxURLBytes, d.MaxURLBytes)
	setInt(&c.MaxHeaderBytes, d.MaxHeaderBytes)
	setInt(&c.MaxBatchRequests, d.MaxBatchRequests)
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = d.MaxBodyBytes
	}
	setDur(&c.ReadHeaderTimeout, d.ReadHeaderTimeout)
	setDur(&c.ReadTimeout, d.ReadTimeout)
	setDur(&c.WriteTimeout, d.WriteTimeout)
	setDur(&c.IdleTimeout, d.IdleTimeout)
	setDur(&c.WriteStallTimeout, d.WriteStallTimeout)
	setInt(&c.MaxConcurrentQueries, d.MaxConcurrentQueries)
	setInt(&c.QueryQueue, d.QueryQueue)
	setDur(&c.QueryQueueWait, d.QueryQueueWait)
	setDur(&c.LongQueryAfter, d.LongQueryAfter)
	if c.LongQueries <= 0 {
		c.LongQueries = max(1, c.MaxConcurrentQueries/4)
	}
	if c.RatePerSecond == 0 {
		c.RatePerSecond = d.RatePerSecond
	}
	setInt(&c.RateBurst, d.RateBurst)
	if c.AuthFailPerSecond == 0 {
		c.AuthFailPerSecond = d.AuthFailPerSecond
	}
	setInt(&c.AuthFailBurst, d.AuthFailBurst)
	return c
}

// ApplyServer sets the timeouts and MaxHeaderBytes of srv from c (after
// WithDefaults). With MaxHeaderBytes set, net/http itself answers
// "431 Request Header Fields Too Large" when the request line and headers
// exceed it (plus a 4 KiB allowance of its own); no middleware can, because
// the handler never runs. MaxURLBytes must be smaller than MaxHeaderBytes for
// a long URL to reach MaxURL and get 414 instead of 431.
func (c Config) ApplyServer(srv *http.Server) {
	c = c.WithDefaults()
	srv.MaxHeaderBytes = c.MaxHeaderBytes
	srv.ReadHeaderTimeout = c.ReadHeaderTimeout
	srv.ReadTimeout = c.ReadTimeout
	srv.WriteTimeout = c.WriteTimeout
	srv.IdleTimeout = c.IdleTimeout
}

// ErrorFunc writes an error response. The server passes its own (OData error
// JSON from its error table); nil selects WriteError.
type ErrorFunc func(w http.ResponseWriter, r *http.Request, status int, code, msg string)

// WriteError is the default ErrorFunc: an OData JSON error body
// {"error":{"code":code,"message":msg}}.
func WriteError(w http.ResponseWriter, _ *http.Request, status int, code, msg string) {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal")
	w.Header().Set("OData-Version", "4.0")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func orDefault(f ErrorFunc) ErrorFunc {
	if f == nil {
		return WriteError
	}
	return f
}

// MaxURL answers 414 URI Too Long, without calling next, when the request
// URI (path and query as sent, percent-encoded) is longer than n bytes.
func MaxURL(n int, onErr ErrorFunc) func(http.Handler) http.Handler {
	onErr = orDefault(onErr)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			uri := r.RequestURI
			if uri == "" {
				uri = r.URL.RequestURI()
			}
			if len(uri) > n {
				w.Header().Set("Connection", "close")
				onErr(w, r, http.StatusRequestURITooLong, "URITooLong",
					"the request URL is longer than "+strconv.Itoa(n)+" bytes")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// MaxBody limits request bodies to n bytes. A declared Content-Length above
// n is answered 413 at once; otherwise the body is wrapped in
// http.MaxBytesReader, whose read error past n the handler detects with
// IsBodyTooLarge and answers 413.
func MaxBody(n int64, onErr ErrorFunc) func(http.Handler) http.Handler {
	onErr = orDefault(onErr)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				w.Header().Set("Connection", "close")
				onErr(w, r, http.StatusRequestEntityTooLarge, "PayloadTooLarge", BodyTooLargeMsg(n))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				r.Body = http.MaxBytesReader(w, r.Body, n)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// BodyTooLargeMsg is the message used for 413 answers.
func BodyTooLargeMsg(n int64) string {
	return "the request body is larger than " + strconv.FormatInt(n, 10) + " bytes"
}

// IsBodyTooLarge reports whether err (possibly wrapped, e.g. by a JSON
// decoder) comes from reading past a MaxBody limit.
func IsBodyTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe)
}

// RetryAfter formats d for a Retry-After header: whole seconds, rounded up,
// at least 1.
func RetryAfter(d time.Duration) string {
	s := int64((d + time.Second - 1) / time.Second)
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
