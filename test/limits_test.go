package test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odatagw/odatagw/server/app"
	"github.com/odatagw/odatagw/server/guard"
)

// rawRequest writes req on a fresh TCP connection and returns the status
// line's code (0 when the server closed without answering) and the response.
func rawRequest(t testing.TB, addr, req string) (int, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Logf("write: %v (the server may have answered early)", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestLimitsHTTP(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	c := fixtureConfig(dsn)
	c.PageSize = 3
	// With the default MaxNodes (1000) an "in" list of MaxInList (1000)
	// items already exceeds the node count (items + the in + the property),
	// so the in-list limit could never be observed; raise the node limit.
	c.Limits.MaxNodes = 5000
	c.Limits.MaxInList = 1000 // the default is 10,000; a smaller list keeps the URL short
	g := start(t, c)
	addr := strings.TrimPrefix(g.base, "http://")

	t.Run("URLTooLong", func(t *testing.T) {
		long := "/odata/Customers?$filter=Name%20eq%20%27" + strings.Repeat("a", guard.Defaults.MaxURLBytes) + "%27"
		e := assertODataError(t, g.do("GET", long, nil), 414)
		if e["code"] != "URITooLong" || !strings.Contains(fmt.Sprint(e["message"]), strconv.Itoa(guard.Defaults.MaxURLBytes)) {
			t.Errorf("414 body: %v", e)
		}
		// Just under the limit is served (the expression limit answers then).
		under := "/odata/Customers?$filter=Name%20eq%20%27" + strings.Repeat("a", 1000) + "%27"
		if r := g.do("GET", under, nil); r.Status != 200 {
			t.Errorf("a 1 KB URL: %d %s", r.Status, r.Body)
		}
	})

	t.Run("HeadersTooLarge", func(t *testing.T) {
		big := strings.Repeat("x", guard.Defaults.MaxHeaderBytes+8<<10)
		code, body := rawRequest(t, addr, "GET /odata/Customers HTTP/1.1\r\nHost: x\r\nX-Big: "+big+"\r\n\r\n")
		if code != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("oversized headers: %d %.200s", code, body)
		}
		// Many small headers add up the same way.
		var sb strings.Builder
		for i := 0; i*70 < guard.Defaults.MaxHeaderBytes+8<<10; i++ {
			fmt.Fprintf(&sb, "X-H%d: %s\r\n", i, strings.Repeat("y", 60))
		}
		code, body = rawRequest(t, addr, "GET /odata/Customers HTTP/1.1\r\nHost: x\r\n"+sb.String()+"\r\n")
		if code != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("many headers: %d %.200s", code, body)
		}
		// Normal headers still work afterwards.
		if r := g.do("GET", "/odata/Customers?$top=1", nil, "X-Normal", strings.Repeat("z", 4000)); r.Status != 200 {
			t.Errorf("after 431: %d", r.Status)
		}
	})

	t.Run("BodyTooLarge", func(t *testing.T) {
		before := rowCount(t, dsn, `"Customers"`)
		body := []byte(`{"CustomerID":"BIG","Name":"` + strings.Repeat("n", int(guard.Defaults.MaxBodyBytes)+1024) + `"}`)
		e := assertODataError(t, g.do("POST", "/odata/Customers", body), 413)
		if e["code"] != "PayloadTooLarge" {
			t.Errorf("413 code %v", e["code"])
		}
		// Without Content-Length (chunked) the cap holds as well.
		req, _ := http.NewRequest("PATCH", g.base+"/odata/Customers('ALFKI')", io.MultiReader(strings.NewReader(`{"Name":"`), strings.NewReader(string(body))))
		req.Header.Set("Content-Type", "application/json")
		req.ContentLength = -1
		resp, err := noCompressionClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		assertODataError(t, &response{Status: resp.StatusCode, Header: resp.Header, Body: b}, 413)
		if n := rowCount(t, dsn, `"Customers"`); n != before {
			t.Errorf("rows %d, was %d", n, before)
		}
	})

	t.Run("ExpressionLimits", func(t *testing.T) {
		// None of the refused expressions reaches the database.
		offset := len(g.logs())
		defer func() {
			for _, l := range func() []sqlLine { l, _ := g.sqlSince(t, offset); return l }() {
				if strings.Contains(l.SQL, "NOT (NOT") || strings.Count(l.SQL, "$") > 1001 {
					t.Errorf("a refused expression ran: %.200s", l.SQL)
				}
			}
		}()
		lim := 100 // semantic.DefaultLimits.MaxDepth
		deep := strings.Repeat("not(", lim+5) + "Active" + strings.Repeat(")", lim+5)
		e := assertODataError(t, g.do("GET", "/odata/Customers?$filter="+deep, nil), 400)
		if e["code"] != "LimitExceeded" || !strings.Contains(fmt.Sprint(e["message"]), "depth") {
			t.Errorf("deep $filter: %v", e)
		}
		// Right-nested (a left-associative chain "a and b and c ..." is
		// not nesting and is limited by the node count instead).
		nested := "Active"
		for i := 0; i < lim+5; i++ {
			nested = "(Active and " + nested + ")"
		}
		e = assertODataError(t, g.do("GET", "/odata/Customers?$filter="+nested, nil), 400)
		if e["code"] != "LimitExceeded" || !strings.Contains(fmt.Sprint(e["message"]), "depth") {
			t.Errorf("nested and: %v", e)
		}
		items := make([]string, 1001)
		for i := range items {
			items[i] = strconv.Itoa(i)
		}
		e = assertODataError(t, g.do("GET", "/odata/Orders?$filter=OrderID in ("+strings.Join(items, ",")+")", nil), 400)
		if e["code"] != "LimitExceeded" || !strings.Contains(fmt.Sprint(e["message"]), "in list exceeds the maximum of 1000 items") {
			t.Errorf("in list: %v", e)
		}
		// At the limit: fine.
		if r := g.do("GET", "/odata/Orders?$filter=OrderID in ("+strings.Join(items[:1000], ",")+")", nil); r.Status != 200 {
			t.Errorf("in list of 1000: %d %.300s", r.Status, r.Body)
		}
		ob := make([]string, 17)
		for i := range ob {
			ob[i] = "Name"
		}
		e = assertODataError(t, g.do("GET", "/odata/Customers?$orderby="+strings.Join(ob, ","), nil), 400)
		if e["code"] != "LimitExceeded" {
			t.Errorf("$orderby items: %v", e)
		}
	})

	t.Run("TopClamped", func(t *testing.T) {
		p := g.getPage(t, "/odata/Customers?$top=100000&$select=CustomerID")
		if p.status != 200 || len(p.rows) != 3 || p.Next == "" {
			t.Fatalf("$top=100000: %d, %d rows, next %q", p.status, len(p.rows), p.Next)
		}
		total := len(p.rows)
		for u := p.Next; u != ""; {
			q := g.getPage(t, u)
			if q.status != 200 || len(q.rows) > 3 {
				t.Fatalf("page: %d %d rows", q.status, len(q.rows))
			}
			total += len(q.rows)
			u = q.Next
		}
		if total != 8 {
			t.Errorf("walk with $top=100000 returned %d rows, want all 8", total)
		}
		// A huge Prefer maxpagesize does not lift the cap either.
		p = g.getPage(t, "/odata/Customers?$select=CustomerID", "Prefer", "odata.maxpagesize=1000000")
		if len(p.rows) != 3 || p.Next == "" {
			t.Errorf("maxpagesize=1000000: %d rows", len(p.rows))
		}
	})

	t.Run("RateLimit", func(t *testing.T) {
		rc := fixtureConfig(dsn)
		rc.Guard.RatePerSecond = 0.5
		rc.Guard.RateBurst = 2
		rg := start(t, rc)
		var got []int
		var last *response
		for i := 0; i < 4; i++ {
			last = rg.do("GET", "/odata/Customers?$top=1", nil)
			got = append(got, last.Status)
		}
		if got[0] != 200 || got[1] != 200 || got[2] != 429 || got[3] != 429 {
			t.Fatalf("statuses %v, want 200 200 429 429", got)
		}
		e := assertODataError(t, last, 429)
		if e["code"] != "TooManyRequests" {
			t.Errorf("code %v", e["code"])
		}
		ra, err := strconv.Atoi(last.Header.Get("Retry-After"))
		if err != nil || ra < 1 || ra > 2 {
			t.Errorf("Retry-After %q", last.Header.Get("Retry-After"))
		}
		// Health probes are not rate limited.
		if r := rg.do("GET", "/healthz", nil); r.Status != 200 {
			t.Errorf("healthz rate limited: %d", r.Status)
		}
	})

	t.Run("Slowloris", func(t *testing.T) {
		sc := fixtureConfig(dsn)
		sc.Guard.ReadHeaderTimeout = 300 * time.Millisecond
		sg := start(t, sc)
		conn, err := net.Dial("tcp", strings.TrimPrefix(sg.base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		start := time.Now()
		if _, err := io.WriteString(conn, "GET /odata/Customers HTTP/1.1\r\nHost: x\r\nX-Slow: "); err != nil {
			t.Fatal(err)
		}
		// Keep trickling bytes until the server hangs up: only an absolute
		// header deadline (not an idle one) ever closes this connection.
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := conn.Write([]byte("a")); err != nil {
					return
				}
			}
		}()
		// The read deadline only bounds a hang; it is well below the default
		// header timeout (10s), so hitting it also means the configured
		// 300ms did not apply.
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		got, err := io.ReadAll(conn)
		elapsed := time.Since(start)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("the server kept the slow connection open for %v", elapsed)
		}
		// Closed by the header timeout, which hangs up without answering,
		// not refused early for another reason (that would be a 4xx).
		if len(got) != 0 {
			t.Errorf("the slow connection got an answer instead of a timeout (after %v): %.200s", elapsed, got)
		}
		t.Logf("closed after %v (header timeout 300ms)", elapsed)
		// The server still serves others.
		if r := sg.do("GET", "/odata/Customers?$top=1", nil); r.Status != 200 {
			t.Errorf("after slowloris: %d", r.Status)
		}
	})

	t.Run("ServerTimeoutsConfigured", func(t *testing.T) {
		// The defaults reach the http.Server (not only the config).
		c, _, err := app.Load("serve", app.Sources{Env: func(string) string { return "" }})
		if err != nil {
			t.Fatal(err)
		}
		gc := c.Guard.WithDefaults()
		srv := &http.Server{}
		gc.ApplyServer(srv)
		if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != 30*time.Second ||
			srv.WriteTimeout != 120*time.Second || srv.IdleTimeout != 120*time.Second || srv.MaxHeaderBytes != 320<<10 {
			t.Errorf("server timeouts %v %v %v %v %d", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout, srv.MaxHeaderBytes)
		}
	})
}

func TestPoolSaturation(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	c := fixtureConfig(dsn)
	c.Guard.MaxConcurrentQueries = 1
	c.Guard.QueryQueue = 1
	c.Guard.QueryQueueWait = 200 * time.Millisecond
	g := start(t, c)

	// Hold the only slot: lock Orders in another session so that a gateway
	// read of Orders blocks inside the database while holding its slot.
	db := secOpen(t, dsn)
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE "Orders" IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	held := make(chan *response, 1)
	go func() { held <- g.do("GET", "/odata/Orders", nil) }()

	// Wait until the gateway's query is blocked on the lock.
	waitFor(t, 10*time.Second, "the gateway query never blocked", func() bool { return lockWaiters(t, db, "%") > 0 })

	// Fire concurrent requests: one may wait in the queue (200ms), the rest
	// are refused at once. None waits for the lock.
	const n = 6
	results := make([]*response, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			path := "/odata/Customers?$top=1"
			if i%2 == 1 {
				path = "/odata/Customers('ALFKI')"
			}
			results[i] = g.do("GET", path, nil)
		}(i)
	}
	// They fail fast instead of piling up: every one is answered while the
	// only slot is still held (its read still waits on the lock, which is
	// only released below), so none of them waited for the slot. (A request
	// that piled up could not be answered before the release: the bound
	// below only turns that hang into a failure.)
	burst := make(chan struct{})
	go func() { wg.Wait(); close(burst) }()
	select {
	case <-burst:
	case <-time.After(30 * time.Second):
		t.Fatal("the burst piled up behind the held slot instead of failing fast")
	}
	select {
	case r := <-held:
		t.Fatalf("the held request completed during the burst: %d %s", r.Status, r.Body)
	default:
	}
	if lockWaiters(t, db, "%") == 0 {
		t.Fatal("the held request no longer waits on the lock")
	}
	for i, r := range results {
		e := assertODataError(t, r, 503)
		if e["code"] != "Unavailable" {
			t.Errorf("request %d: code %v", i, e["code"])
		}
		if ra := r.Header.Get("Retry-After"); ra == "" {
			t.Errorf("request %d: 503 without Retry-After", i)
		}
	}
	// Writes are bounded by the same pool.
	assertODataError(t, g.do("PATCH", "/odata/Customers('ALFKI')", []byte(`{"City":"x"}`)), 503)
	// Probes that do not use the pool still answer.
	if r := g.do("GET", "/healthz", nil); r.Status != 200 {
		t.Errorf("healthz while saturated: %d", r.Status)
	}

	// Release the lock: the held request completes and the pool recovers.
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-held:
		if r.Status != 200 {
			t.Errorf("held request: %d %s", r.Status, r.Body)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("held request did not complete")
	}
	if r := g.do("GET", "/odata/Customers?$top=1", nil); r.Status != 200 {
		t.Errorf("after release: %d %s", r.Status, r.Body)
	}
	var city string
	secQueryRow(t, dsn, `SELECT "City" FROM "Customers" WHERE "CustomerID"='ALFKI'`, &city)
	if city != "Berlin" {
		t.Errorf("a refused write ran: City=%s", city)
	}
}
