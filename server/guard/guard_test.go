package guard

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func okHandler(called *atomic.Int32) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if called != nil {
			called.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	})
}

// startServer runs h on a real http.Server configured by cfg.ApplyServer.
func startServer(t *testing.T, cfg Config, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	cfg.ApplyServer(srv)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

func TestDefaults(t *testing.T) {
	c := Config{MaxBodyBytes: 10, RateBurst: 7}.WithDefaults()
	if c.MaxBodyBytes != 10 || c.RateBurst != 7 {
		t.Fatalf("explicit values overwritten: %+v", c)
	}
	if c.MaxURLBytes != 256<<10 || c.MaxHeaderBytes != 320<<10 || c.QueryQueueWait != 2*time.Second || c.RatePerSecond != 200 {
		t.Fatalf("defaults not applied: %+v", c)
	}
	if c.MaxURLBytes >= c.MaxHeaderBytes {
		t.Fatal("default URL limit must be below the header limit so long URLs get 414")
	}
	var srv http.Server
	Config{}.ApplyServer(&srv)
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout == 0 || srv.WriteTimeout == 0 || srv.IdleTimeout == 0 || srv.MaxHeaderBytes != 320<<10 {
		t.Fatalf("ApplyServer: %v %v %v %v %d", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
	}
}

func TestMaxURL(t *testing.T) {
	var called atomic.Int32
	h := MaxURL(100, nil)(okHandler(&called))
	tests := []struct {
		name string
		uri  string
		want int
	}{
		{"short", "/odata/Customers?$top=5", 200},
		{"exactly the limit", "/" + strings.Repeat("a", 99), 200},
		{"one byte over", "/" + strings.Repeat("a", 100), 414},
		{"long query", "/odata/Customers?$filter=" + strings.Repeat("x", 200), 414},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := called.Load()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.uri, nil))
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d", rec.Code, tc.want)
			}
			if tc.want == 414 {
				if called.Load() != before {
					t.Fatal("next was called")
				}
				var body struct {
					Error struct{ Code, Message string }
				}
				if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "URITooLong" {
					t.Fatalf("body %q (%v)", rec.Body.String(), err)
				}
			}
		})
	}
}

// TestURLAndHeaderLimitsRealServer proves, against a real net/http server,
// that a long URL gets 414 from MaxURL and oversized headers get 431 from
// net/http itself (MaxHeaderBytes).
func TestURLAndHeaderLimitsRealServer(t *testing.T) {
	cfg := Config{MaxURLBytes: 8 << 10, MaxHeaderBytes: 16 << 10}.WithDefaults()
	base := startServer(t, cfg, MaxURL(cfg.MaxURLBytes, nil)(okHandler(nil)))
	tests := []struct {
		name   string
		path   string
		header int // bytes of an extra header
		want   int
	}{
		{"normal", "/odata/Customers", 0, 200},
		{"long URL", "/odata/Customers?$filter=" + strings.Repeat("a", 10<<10), 0, 414},
		{"large header", "/odata/Customers", 40 << 10, 431},
		{"header below limit", "/odata/Customers", 8 << 10, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, base+tc.path, nil)
			if tc.header > 0 {
				req.Header.Set("X-Big", strings.Repeat("h", tc.header))
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestMaxBody(t *testing.T) {
	const limit = 1024
	var called atomic.Int32
	// The handler decodes JSON like the server's write handlers do.
	h := MaxBody(limit, nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		called.Add(1)
		var v any
		if err := json.NewDecoder(r.Body).Decode(&v); err != nil {
			if IsBodyTooLarge(fmt.Errorf("decode: %w", err)) {
				WriteError(w, r, http.StatusRequestEntityTooLarge, "PayloadTooLarge", BodyTooLargeMsg(limit))
				return
			}
			WriteError(w, r, http.StatusBadRequest, "BadRequest", "bad JSON")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	big := `{"a":"` + strings.Repeat("x", 2*limit) + `"}`
	tests := []struct {
		name       string
		body       string
		chunked    bool // no Content-Length
		want       int
		wantCalled bool
	}{
		{"small", `{"a":1}`, false, 204, true},
		{"declared too large", big, false, 413, false},
		{"chunked too large", big, true, 413, true},
		{"chunked small", `{"a":2}`, true, 204, true},
		{"bad json", `{`, false, 400, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := called.Load()
			var body io.Reader = strings.NewReader(tc.body)
			if tc.chunked {
				body = io.MultiReader(body) // hides the length
			}
			r := httptest.NewRequest(http.MethodPost, "/odata/Customers", body)
			if tc.chunked {
				r.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.want, rec.Body.String())
			}
			if (called.Load() != before) != tc.wantCalled {
				t.Fatalf("next called = %v, want %v", called.Load() != before, tc.wantCalled)
			}
		})
	}
	if IsBodyTooLarge(errors.New("other")) || IsBodyTooLarge(nil) {
		t.Fatal("IsBodyTooLarge true for unrelated errors")
	}
}

func TestLimiterSaturationFastFail(t *testing.T) {
	const slots, queue = 2, 3
	wait := 300 * time.Millisecond
	l := NewLimiter(slots, queue, wait)
	var held []*Slot
	for range slots {
		rel, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, rel)
	}
	// 20 more callers: queue of them wait (and time out), the rest fail at once.
	type result struct {
		err error
		d   time.Duration
	}
	results := make(chan result, 20)
	for range 20 {
		go func() {
			start := time.Now()
			rel, err := l.Acquire(context.Background())
			if rel != nil {
				rel.Release()
			}
			results <- result{err, time.Since(start)}
		}()
	}
	fast, slow := 0, 0
	for range 20 {
		r := <-results
		if !errors.Is(r.err, ErrSaturated) {
			t.Fatalf("err = %v, want ErrSaturated", r.err)
		}
		switch {
		case r.d < 100*time.Millisecond:
			fast++
		case r.d >= wait-20*time.Millisecond && r.d < wait+500*time.Millisecond:
			slow++
		default:
			t.Fatalf("unexpected wait %v", r.d)
		}
	}
	if slow != queue || fast != 20-queue {
		t.Fatalf("fast %d slow %d, want %d and %d", fast, slow, 20-queue, queue)
	}
	if in, w := l.Stats(); in != slots || w != 0 {
		t.Fatalf("stats in use %d waiting %d", in, w)
	}
	// A waiter gets a slot as soon as one is released.
	got := make(chan error, 1)
	go func() {
		rel, err := l.Acquire(context.Background())
		if err == nil {
			rel.Release()
		}
		got <- err
	}()
	for _, w := l.Stats(); w != 1; _, w = l.Stats() {
		runtime.Gosched() // until the waiter is queued
	}
	held[0].Release()
	held[0].Release() // idempotent
	if err := <-got; err != nil {
		t.Fatalf("waiter after release: %v", err)
	}
	if in, _ := l.Stats(); in != slots-1 {
		t.Fatalf("double release freed two slots: in use %d", in)
	}
	held[1].Release()
	// Context cancellation ends the wait with ctx.Err().
	for range slots {
		if _, err := l.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := l.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want deadline exceeded", err)
	}
	// No queue: fail immediately.
	l0 := NewLimiter(1, 0, time.Second)
	rel, _ := l0.Acquire(context.Background())
	start := time.Now()
	if _, err := l0.Acquire(context.Background()); !errors.Is(err, ErrSaturated) || time.Since(start) > 50*time.Millisecond {
		t.Fatalf("no-queue limiter: %v after %v", err, time.Since(start))
	}
	rel.Release()
}

// TestLimiterUnderLoad: many concurrent callers never exceed the pool or
// the queue, and every caller gets an answer quickly.
func TestLimiterUnderLoad(t *testing.T) {
	const slots, queue = 4, 4
	l := NewLimiter(slots, queue, 50*time.Millisecond)
	var active, maxActive, maxWaiting, ok, saturated atomic.Int32
	var wg sync.WaitGroup
	start := time.Now()
	for range 300 {
		wg.Go(func() {
			rel, err := l.Acquire(context.Background())
			if _, w := l.Stats(); int32(w) > maxWaiting.Load() {
				maxWaiting.Store(int32(w))
			}
			if err != nil {
				saturated.Add(1)
				return
			}
			n := active.Add(1)
			for {
				m := maxActive.Load()
				if n <= m || maxActive.CompareAndSwap(m, n) {
					break
				}
			}
			time.Sleep(5 * time.Millisecond)
			active.Add(-1)
			ok.Add(1)
			rel.Release()
		})
	}
	wg.Wait()
	if maxActive.Load() > slots {
		t.Fatalf("%d concurrent holders, limit %d", maxActive.Load(), slots)
	}
	if maxWaiting.Load() > queue {
		t.Fatalf("%d waiters, queue %d", maxWaiting.Load(), queue)
	}
	if ok.Load() == 0 || saturated.Load() == 0 || ok.Load()+saturated.Load() != 300 {
		t.Fatalf("ok %d saturated %d", ok.Load(), saturated.Load())
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("300 callers took %v: requests piled up", d)
	}
}

func TestRateLimiter(t *testing.T) {
	rl := NewRateLimiter(2, 3, 100) // 2/s, burst 3
	now := time.Unix(1000, 0)
	rl.now = func() time.Time { return now }
	steps := []struct {
		advance   time.Duration
		key       string
		ok        bool
		wantRetry time.Duration
	}{
		{0, "alice", true, 0},
		{0, "alice", true, 0},
		{0, "alice", true, 0},
		{0, "alice", false, 500 * time.Millisecond},
		{0, "bob", true, 0}, // independent bucket
		{250 * time.Millisecond, "alice", false, 250 * time.Millisecond},
		{250 * time.Millisecond, "alice", true, 0},
		{0, "alice", false, 500 * time.Millisecond},
		{10 * time.Second, "alice", true, 0}, // refilled to burst, not beyond
		{0, "alice", true, 0},
		{0, "alice", true, 0},
		{0, "alice", false, 500 * time.Millisecond},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		ok, retry := rl.Allow(s.key)
		if ok != s.ok || (!ok && (retry < s.wantRetry-time.Millisecond || retry > s.wantRetry+time.Millisecond)) {
			t.Fatalf("step %d: Allow(%s) = %v %v, want %v %v", i, s.key, ok, retry, s.ok, s.wantRetry)
		}
	}
	var nilRL *RateLimiter
	if ok, _ := nilRL.Allow("x"); !ok || NewRateLimiter(0, 1, 1) != nil {
		t.Fatal("disabled limiter must allow")
	}
}

func TestRateLimiterEviction(t *testing.T) {
	rl := NewRateLimiter(1, 2, 3)
	now := time.Unix(1000, 0)
	rl.now = func() time.Time { return now }
	for _, k := range []string{"a", "b", "c"} {
		rl.Allow(k)
		rl.Allow(k)
		now = now.Add(time.Millisecond)
	}
	// "a" is exhausted; adding "d" evicts the least recently used ("a").
	if ok, _ := rl.Allow("a"); ok {
		t.Fatal("a should be limited")
	}
	now = now.Add(time.Millisecond)
	rl.Allow("d")
	if rl.Len() != 3 {
		t.Fatalf("len %d, want 3", rl.Len())
	}
	// Many distinct keys never grow the map beyond the bound.
	for i := range 1000 {
		rl.Allow(fmt.Sprint("k", i))
	}
	if rl.Len() > 3 {
		t.Fatalf("len %d exceeds bound", rl.Len())
	}
	// Idle (refilled) buckets are dropped first.
	now = now.Add(time.Hour)
	rl.Allow("fresh")
	if rl.Len() != 1 {
		t.Fatalf("idle buckets not swept: len %d", rl.Len())
	}
}

func TestRateLimitMiddleware(t *testing.T) {
	rl := NewRateLimiter(0.5, 1, 10)
	h := RateLimit(rl, func(r *http.Request) string { return r.Header.Get("X-User") }, nil)(okHandler(nil))
	do := func(user string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-User", user)
		h.ServeHTTP(rec, r)
		return rec
	}
	if rec := do("alice"); rec.Code != 200 {
		t.Fatalf("first: %d", rec.Code)
	}
	rec := do("alice")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" {
		t.Fatalf("second: %d Retry-After %q", rec.Code, rec.Header().Get("Retry-After"))
	}
	if rec := do("bob"); rec.Code != 200 {
		t.Fatalf("bob: %d", rec.Code)
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{0, "1"}, {time.Millisecond, "1"}, {time.Second, "1"}, {1001 * time.Millisecond, "2"}} {
		if got := RetryAfter(tc.d); got != tc.want {
			t.Fatalf("RetryAfter(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestTrustedProxies(t *testing.T) {
	tp, err := NewTrustedProxies([]string{"10.0.0.0/8", "::1", "192.168.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		remote     string
		hdr        map[string]string
		tls        bool
		wantIP     string
		wantScheme string
		wantHost   string
	}{
		{"untrusted peer ignores headers", "203.0.113.9:5000",
			map[string]string{"X-Forwarded-For": "1.1.1.1", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
			false, "203.0.113.9", "http", "gw.local"},
		{"untrusted peer over TLS", "203.0.113.9:5000", map[string]string{"X-Forwarded-Proto": "http"}, true, "203.0.113.9", "https", "gw.local"},
		{"trusted peer X-Forwarded", "10.1.2.3:4000",
			map[string]string{"X-Forwarded-For": "198.51.100.7", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "api.example.com"},
			false, "198.51.100.7", "https", "api.example.com"},
		{"spoofed left entries are skipped", "10.1.2.3:4000",
			map[string]string{"X-Forwarded-For": "6.6.6.6, 198.51.100.7, 10.9.9.9"}, false, "198.51.100.7", "http", "gw.local"},
		{"all trusted gives leftmost", "10.1.2.3:4000", map[string]string{"X-Forwarded-For": "10.0.0.5, 10.0.0.6"}, false, "10.0.0.5", "http", "gw.local"},
		{"trusted ipv6 loopback peer", "[::1]:4000", map[string]string{"X-Forwarded-For": "2001:db8::1"}, false, "2001:db8::1", "http", "gw.local"},
		{"trusted single address", "192.168.1.1:1", map[string]string{"X-Forwarded-For": "198.51.100.8"}, false, "198.51.100.8", "http", "gw.local"},
		{"neighbour of single address untrusted", "192.168.1.2:1", map[string]string{"X-Forwarded-For": "198.51.100.8"}, false, "192.168.1.2", "http", "gw.local"},
		{"Forwarded header", "10.1.2.3:4000",
			map[string]string{"Forwarded": `for="[2001:db8:cafe::17]:4711";proto=https;host=api.example.com:8443`}, false,
			"2001:db8:cafe::17", "https", "api.example.com:8443"},
		{"Forwarded multiple elements", "10.1.2.3:4000",
			map[string]string{"Forwarded": "for=6.6.6.6, for=198.51.100.9;proto=https"}, false, "198.51.100.9", "https", "gw.local"},
		{"Forwarded wins over X-Forwarded-For", "10.1.2.3:4000",
			map[string]string{"Forwarded": "for=198.51.100.10", "X-Forwarded-For": "6.6.6.6"}, false, "198.51.100.10", "http", "gw.local"},
		{"bogus proto and host ignored", "10.1.2.3:4000",
			map[string]string{"X-Forwarded-Proto": "javascript", "X-Forwarded-Host": "evil.example/path"}, true, "10.1.2.3", "https", "gw.local"},
		{"garbage XFF stops walk", "10.1.2.3:4000", map[string]string{"X-Forwarded-For": "198.51.100.7, unknown"}, false, "10.1.2.3", "http", "gw.local"},
		{"ipv4-mapped peer", "[::ffff:10.1.2.3]:80", map[string]string{"X-Forwarded-For": "198.51.100.11"}, false, "198.51.100.11", "http", "gw.local"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://gw.local/odata/", nil)
			r.RemoteAddr = tc.remote
			for k, v := range tc.hdr {
				r.Header.Set(k, v)
			}
			r.TLS = nil
			if tc.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if got := tp.ClientIP(r); got != tc.wantIP {
				t.Errorf("ClientIP = %q, want %q", got, tc.wantIP)
			}
			if got := tp.Scheme(r); got != tc.wantScheme {
				t.Errorf("Scheme = %q, want %q", got, tc.wantScheme)
			}
			if got := tp.Host(r); got != tc.wantHost {
				t.Errorf("Host = %q, want %q", got, tc.wantHost)
			}
		})
	}
	var none *TrustedProxies
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:1"
	r.Header.Set("X-Forwarded-For", "1.2.3.4")
	if none.ClientIP(r) != "10.0.0.1" || none.Trusted(r) {
		t.Fatal("nil TrustedProxies must trust nobody")
	}
	for _, bad := range []string{"10.0.0.0/33", "not-an-ip", "10.0.0"} {
		if _, err := NewTrustedProxies([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// TestLimiterShedsOnlyWhatCannotBeServed: a caller joins the queue when the
// wait it can expect (its place times the mean hold time over the slots)
// fits the limit, and is refused at once when it does not.
func TestLimiterShedsOnlyWhatCannotBeServed(t *testing.T) {
	l := NewLimiter(2, 100, time.Second)
	now := time.Unix(0, 0)
	l.now = func() time.Time { return now }
	// Two holds of 400 ms: the mean hold time is 400 ms.
	a, _ := l.Acquire(context.Background())
	b, _ := l.Acquire(context.Background())
	now = now.Add(400 * time.Millisecond)
	a.Release()
	b.Release()
	for range 2 {
		if _, err := l.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// With both slots taken, place n expects n*400ms/2: places 1..5 fit in
	// 1 s. A canceled context tells the two outcomes apart: a caller that
	// joins the queue returns ctx.Err(), one refused up front ErrSaturated.
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := l.Acquire(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("place 1 (200 ms expected): %v, want it queued", err)
	}
	waiters, stop := context.WithCancel(context.Background())
	defer stop()
	for range 4 {
		go func() { _, _ = l.Acquire(waiters) }()
	}
	for _, w := l.Stats(); w != 4; _, w = l.Stats() {
		runtime.Gosched()
	}
	if _, err := l.Acquire(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("place 5 (1 s expected): %v, want it queued", err)
	}
	go func() { _, _ = l.Acquire(waiters) }()
	for _, w := l.Stats(); w != 5; _, w = l.Stats() {
		runtime.Gosched()
	}
	if _, err := l.Acquire(canceled); !errors.Is(err, ErrSaturated) {
		t.Fatalf("place 6 (1.2 s expected): %v, want ErrSaturated at once", err)
	}
}

// TestLimiterExpectedWaitIsSteady: the expected wait follows the hold
// times of about the last second, not of the last few holds: at hundreds
// of pages per second one hold stretched by a GC pause or a busy CPU does
// not make admission shed a queue it serves in time, while holds that stay
// slow for a while do.
func TestLimiterExpectedWaitIsSteady(t *testing.T) {
	type phase struct {
		holds int
		hold  time.Duration
		every time.Duration // between releases
	}
	steady := phase{holds: 2000, hold: 70 * time.Millisecond, every: 5 * time.Millisecond} // 16 slots, ~200 pages/s
	cases := []struct {
		name   string
		phases []phase
		shed   bool // place 240 (256 clients) expects more than 2 s
	}{
		{"steady", []phase{steady}, false},
		{"one slow hold", []phase{steady, {holds: 1, hold: time.Second, every: 5 * time.Millisecond}}, false},
		{"a few slow holds", []phase{steady, {holds: 5, hold: 800 * time.Millisecond, every: 5 * time.Millisecond}, {holds: 20, hold: 70 * time.Millisecond, every: 5 * time.Millisecond}}, false},
		{"slow for two seconds", []phase{steady, {holds: 400, hold: 300 * time.Millisecond, every: 5 * time.Millisecond}}, true},
		{"after a quiet hour, the last hold counts", []phase{steady, {holds: 1, hold: 300 * time.Millisecond, every: time.Hour}}, true},
	}
	for _, tc := range cases {
		l := NewLimiter(16, 1024, 2*time.Second)
		now := time.Unix(0, 0)
		l.now = func() time.Time { return now }
		for _, p := range tc.phases {
			for range p.holds {
				now = now.Add(p.every)
				s, err := l.Acquire(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				s.start = now.Add(-p.hold)
				s.Release()
			}
		}
		if got := l.expectedWait(240) > 2*time.Second; got != tc.shed {
			t.Errorf("%s: expected wait at place 240 is %v; shed %v, want %v", tc.name, l.expectedWait(240), got, tc.shed)
		}
	}
}

// TestLimiterLongLane: a demoted slot frees its main-lane slot; the long
// lane is small, and Demote fails when it is full.
func TestLimiterLongLane(t *testing.T) {
	l := NewLimiter(4, 0, 0) // long lane: 1 slot
	var s []*Slot
	for range 4 {
		x, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		s = append(s, x)
	}
	if _, err := l.Acquire(context.Background()); !errors.Is(err, ErrSaturated) {
		t.Fatalf("fifth: %v", err)
	}
	if !s[0].Demote() {
		t.Fatal("first demotion refused")
	}
	if !s[0].Demote() {
		t.Fatal("a demoted slot must stay demoted")
	}
	if in, _ := l.Stats(); in != 3 {
		t.Fatalf("main lane in use %d after a demotion, want 3", in)
	}
	fifth, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatalf("the demoted slot's place was not freed: %v", err)
	}
	if s[1].Demote() {
		t.Fatal("second demotion accepted with the long lane full")
	}
	s[0].Release()
	s[0].Release() // idempotent
	if !s[1].Demote() {
		t.Fatal("demotion refused after the long lane freed up")
	}
	for _, x := range append(s[1:], fifth) {
		x.Release()
	}
	if in, _ := l.Stats(); in != 0 {
		t.Fatalf("main lane in use %d after all releases", in)
	}
	if in, size := l.LongStats(); in != 0 || size != 1 {
		t.Fatalf("long lane %d of %d after all releases", in, size)
	}
	if s[2].Demote() {
		t.Fatal("a released slot was demoted")
	}
}
