// Package test holds black-box end-to-end tests: each boots the same
// composition root as production (server/app) on a random port against a
// real database and asserts whole HTTP responses.
//
// Every test runs in parallel (t.Parallel): each has its own database
// (pgtest.NewDB), its own gateways on random ports and its own log buffer.
// Keep it so: no t.Setenv, os.Chdir, fixed ports, shared files or mutated
// package-level variables here (configuration comes through app.Config and
// app.Sources, environment included); queries of cluster-wide views such as
// pg_stat_activity are scoped to the test's database (see lockWaiters). A
// test that cannot follow these rules does not call t.Parallel and says why.
package test

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/server/app"
)

// testKey signs tokens in tests (fixed so that two gateways can share walks).
const testKey = "0123456789abcdef0123456789abcdef"

// fixtureDSN creates a database loaded with testdata/fixture.sql.
func fixtureDSN(t testing.TB) string {
	t.Helper()
	dsn := pgtest.NewDB(t)
	sql, err := os.ReadFile(filepath.Join("testdata", "fixture.sql"))
	if err != nil {
		t.Fatal(err)
	}
	pgtest.MustExec(t, dsn, string(sql))
	return dsn
}

// gateway is a running gateway under test.
type gateway struct {
	t    testing.TB
	g    *app.Gateway
	base string // http://127.0.0.1:port
	// logs returns everything the gateway logged so far.
	logs func() string
}

// baseConfig is the configuration tests start from.
func baseConfig(dsn string) app.Config {
	c := app.Default()
	c.Listen = "127.0.0.1:0"
	c.DB = dsn
	c.TokenKey = testKey
	c.LogLevel = "debug"
	c.LogFormat = "json"
	c.Guard.RatePerSecond = -1
	c.Guard.AuthFailPerSecond = -1 // the auth matrices fail on purpose, many times
	return c
}

type syncBuffer struct {
	mu  chanMutex
	buf bytes.Buffer
}

type chanMutex chan struct{}

func (m chanMutex) lock()   { m <- struct{}{} }
func (m chanMutex) unlock() { <-m }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.lock()
	defer b.mu.unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.lock()
	defer b.mu.unlock()
	return b.buf.String()
}

// start boots a gateway with the given configuration.
func start(t testing.TB, c app.Config) *gateway {
	t.Helper()
	logs := &syncBuffer{mu: make(chanMutex, 1)}
	log := zerolog.New(logs).Level(zerolog.DebugLevel)
	if _, bench := t.(*testing.B); bench {
		// A benchmark measures the gateway at its configured level, as it
		// runs in production, and does not keep (and grow) the log in memory.
		level, err := zerolog.ParseLevel(c.LogLevel)
		if err != nil || c.LogLevel == "" {
			level = zerolog.InfoLevel
		}
		log = zerolog.New(io.Discard).Level(level)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	g, err := app.Start(ctx, c, log)
	if err != nil {
		t.Fatalf("start gateway: %v", err)
	}
	gw := &gateway{t: t, g: g, base: "http://" + g.Addr()}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := g.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if t.Failed() {
			out := logs.String()
			if len(out) > 20000 {
				out = out[len(out)-20000:]
			}
			t.Logf("gateway log (tail):\n%s", out)
		}
	})
	gw.logs = logs.String
	return gw
}

// fixtureConfig is baseConfig plus the fixture's view key.
// demoConfig is the configuration of a gateway on a fresh copy of the
// embedded demo database (no database URL: the composition root creates it).
func demoConfig(t testing.TB) app.Config {
	c := baseConfig("")
	c.DemoPath = t.TempDir() + "/demo.sqlite"
	return c
}

func fixtureConfig(dsn string) app.Config {
	c := baseConfig(dsn)
	c.Sets = map[string]app.SetConfig{
		"open_orders": {Key: []string{"OrderID"}},
	}
	return c
}

// startFixture boots a gateway on a fresh fixture database.
func startFixture(t testing.TB, mutate ...func(*app.Config)) *gateway {
	t.Helper()
	c := fixtureConfig(fixtureDSN(t))
	for _, m := range mutate {
		m(&c)
	}
	return start(t, c)
}

// response is a completed HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r *response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("response is not a JSON object: %v\n%s", err, r.Body)
	}
	return m
}

// do sends a request to the gateway; path is relative to the host (e.g.
// "/odata/Customers?$top=1") and is sent verbatim.
func (g *gateway) do(method, path string, body []byte, headers ...string) *response {
	g.t.Helper()
	// Tests write readable paths; a real client never sends a raw space.
	return g.doURL(method, g.base+strings.ReplaceAll(path, " ", "%20"), body, headers...)
}

func (g *gateway) doURL(method, url string, body []byte, headers ...string) *response {
	g.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		g.t.Fatal(err)
	}
	// Send the URL exactly as written (no re-encoding by net/url).
	if i := strings.Index(url, "://"); i >= 0 {
		rest := url[i+3:]
		if j := strings.IndexByte(rest, '/'); j >= 0 {
			req.URL.Opaque = "//" + rest[:j] + strings.SplitN(rest[j:], "?", 2)[0]
			if k := strings.IndexByte(rest[j:], '?'); k >= 0 {
				req.URL.RawQuery = rest[j+k+1:]
			}
		}
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := noCompressionClient.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var r io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			g.t.Fatalf("gzip: %v", err)
		}
		r = zr
	}
	b, err := io.ReadAll(r)
	if err != nil {
		g.t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

var noCompressionClient = &http.Client{
	Timeout:   60 * time.Second,
	Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 16},
}

// normalize replaces the gateway's base URL with BASE so that whole
// responses can be compared with fixed expectations.
func (g *gateway) normalize(body []byte) string {
	return skiptokenRE.ReplaceAllString(strings.ReplaceAll(string(body), g.base, "BASE"), "$$${1}token=TOKEN")
}

// skiptokenRE matches a signed $skiptoken, which expect compares as TOKEN.
var skiptokenRE = regexp.MustCompile(`\$(skip|delta)token=[A-Za-z0-9_-]+`)

// expect asserts a whole response: status and, after normalisation, body.
func (g *gateway) expect(t testing.TB, r *response, status int, body string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d\nbody: %s", r.Status, status, r.Body)
	}
	got := strings.TrimSpace(g.normalize(r.Body))
	if got != strings.TrimSpace(body) {
		t.Fatalf("body mismatch\n got: %s\nwant: %s", got, strings.TrimSpace(body))
	}
}

// repoRoot is the directory holding go.mod.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// discardLogger is a logger that drops everything.
func discardLogger() zerolog.Logger { return zerolog.Nop() }

// clock is a settable clock for gateways under test (Config.Now): tests
// advance it instead of sleeping.
type clock struct {
	mu  chanMutex
	now time.Time
}

func newClock() *clock { return &clock{mu: make(chanMutex, 1), now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.lock()
	defer c.mu.unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.lock()
	defer c.mu.unlock()
	c.now = c.now.Add(d)
}

// lockWaiters counts the sessions of db's database (other than db's own)
// that wait on a lock and whose query contains like (SQL LIKE pattern).
// Scoped to the current database, it only sees the test's own gateway, also
// when other tests run in parallel.
func lockWaiters(t testing.TB, db *sql.DB, like string) int {
	t.Helper()
	var n int
	err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE $1 AND pid <> pg_backend_pid()`, like).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// waitFor polls cond until it holds, failing the test with what after
// timeout (a bound for a hang, not a speed requirement).
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
