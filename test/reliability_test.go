package test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/odatagw/odatagw/internal/faultproxy"
	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/server/app"
)

// stalledReader sends a GET over a connection with a tiny receive buffer
// and never reads the answer: the gateway's writes block once the socket
// buffers are full.
func stalledReader(t *testing.T, addr, path string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	return conn
}

// metric returns the value of a Prometheus gauge or counter line.
func (g *gateway) metric(t *testing.T, name string) string {
	t.Helper()
	r := g.do("GET", "/metrics", nil)
	for _, line := range strings.Split(string(r.Body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	t.Fatalf("metric %s not found", name)
	return ""
}

// TestStalledReadersHoldNoSlot: clients that request a large page and never
// read it do not keep database slots: with two slots and four such clients,
// key lookups are still answered, the slots are free while the stalled
// clients wait, and each stalled client is cut off after the stall timeout.
func TestStalledReadersHoldNoSlot(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `CREATE TABLE big (id int PRIMARY KEY, t text NOT NULL);
INSERT INTO big SELECT g, repeat(md5(g::text), 110) FROM generate_series(1, 2000) g;`) // ~7 MB of JSON
	c := baseConfig(dsn)
	c.Guard.MaxConcurrentQueries = 2
	c.Guard.QueryQueue = 8
	c.Guard.QueryQueueWait = 5 * time.Second // time enough to read four pages, whatever the load
	c.Guard.WriteStallTimeout = 2 * time.Second
	g := start(t, c)
	addr := strings.TrimPrefix(g.base, "http://")
	for range 4 {
		stalledReader(t, addr, "/odata/big")
	}
	// The pages are read from the database, then the slots are free
	// although none of the four clients has read its page.
	waitFor(t, 30*time.Second, "slots still held by stalled readers", func() bool {
		return strings.Count(g.logs(), `FROM \"public\".\"big\"`) >= 4 && g.metric(t, "odatagw_db_slots_in_use") == "0"
	})
	for i := range 20 {
		if r := g.do("GET", "/odata/big(7)?$select=id", nil); r.Status != 200 {
			t.Fatalf("key lookup %d while readers stall: %d %s", i, r.Status, r.Body)
		}
	}
	// After the stall timeout the stalled connections are cut.
	waitFor(t, 20*time.Second, "stalled clients not cut", func() bool {
		return strings.Count(g.logs(), "client stopped reading") >= 4
	})
}

// TestBrokenPage: when the database fails while a page streams (here: the
// statement timeout), a page that had not sent its first bytes yet gets a
// proper error response; one that had (the 200 is out) is cut off before
// the JSON is complete, so no client can take it for a whole page.
func TestBrokenPage(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `
-- STABLE (a white lie) lets the planner compute it after the index scan.
CREATE FUNCTION slow(i int) RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN i; END $$;
CREATE TABLE nums (id int PRIMARY KEY);
INSERT INTO nums SELECT generate_series(1, 100000);
ANALYZE nums;
-- Rows stream in key order from the index, each slowed down: the first
-- arrive at once, the statement times out after a few hundred.
CREATE VIEW narrow AS SELECT id, slow(id) AS s FROM nums;
CREATE VIEW wide AS SELECT id, slow(id) AS s, repeat('x', 2000) AS pad FROM nums;`)
	c := baseConfig(dsn)
	c.Sets = map[string]app.SetConfig{"narrow": {Key: []string{"id"}}, "wide": {Key: []string{"id"}}}
	c.StatementTimeout = 800 * time.Millisecond
	g := start(t, c)

	// A few kilobytes before the timeout: nothing sent yet, a proper 504.
	assertODataError(t, g.do("GET", "/odata/narrow", nil), 504)

	// Hundreds of kilobytes before the timeout: the status was sent.
	conn, err := net.Dial("tcp", strings.TrimPrefix(g.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /odata/wide HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: the page should have started", resp.StatusCode)
	}
	body, err := io.ReadAll(resp.Body)
	if err == nil {
		t.Fatalf("the body ended cleanly (%d bytes): a broken page must end with a broken connection", len(body))
	}
	if len(body) < 32<<10 || json.Valid(body) {
		t.Fatalf("%d bytes, valid JSON %v: want a visibly truncated page", len(body), json.Valid(body))
	}
	waitFor(t, 10*time.Second, "the abort is not logged", func() bool {
		return strings.Contains(g.logs(), "page not delivered")
	})
}

// TestExpensiveReadsDoNotStarveCheapOnes: eight reads that would keep the
// database busy for minutes run at once on a gateway with four slots; key
// lookups are still answered. The expensive reads move to the small long
// lane or, when it is full, are stopped with 503 + Retry-After.
func TestExpensiveReadsDoNotStarveCheapOnes(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `
CREATE FUNCTION slow(i int) RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN i; END $$;
CREATE TABLE nums (id int PRIMARY KEY);
INSERT INTO nums SELECT generate_series(1, 100000);
CREATE VIEW heavy AS SELECT id, slow(id) AS s FROM nums;`)
	c := baseConfig(dsn)
	c.Sets = map[string]app.SetConfig{"heavy": {Key: []string{"id"}}}
	c.Guard.MaxConcurrentQueries = 4 // long lane: 1
	// Long enough that a key lookup on a loaded test machine never counts
	// as long; the expensive reads run for minutes.
	c.Guard.LongQueryAfter = time.Second
	c.StatementTimeout = 5 * time.Second
	g := start(t, c)
	statuses := make(chan *response, 8)
	for range 8 {
		go func() { statuses <- g.do("GET", "/odata/heavy?$filter=s eq -1", nil) }()
	}
	waitFor(t, 10*time.Second, "the expensive reads never started", func() bool {
		return strings.Count(g.logs(), `\"heavy\" WHERE`) >= 4
	})
	for i := range 20 {
		if r := g.do("GET", "/odata/nums(42)", nil); r.Status != 200 {
			t.Fatalf("key lookup %d while expensive reads run: %d %s", i, r.Status, r.Body)
		}
	}
	shed := 0
	for range 8 {
		r := <-statuses
		switch {
		case r.Status == 503 && r.Header.Get("Retry-After") != "":
			shed++
			assertODataError(t, r, 503)
		case r.Status == 504: // the one in the long lane, at the statement timeout
		default:
			t.Errorf("expensive read: %d %v %s", r.Status, r.Header, r.Body)
		}
	}
	if shed < 6 {
		t.Errorf("%d expensive reads stopped with 503; with a long lane of 1, at least 6 must be", shed)
	}
}

// throughProxy returns dsn with its host replaced by a fault proxy in front
// of the real server.
func throughProxy(t *testing.T, dsn string) (*faultproxy.Proxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	p, err := faultproxy.Start(u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	u.Host = p.Addr()
	return p, u.String()
}

// once returns a proxy hook that applies action to the first query for
// which match holds, and forwards everything else.
func once(match func(sql string) bool, action faultproxy.Action) func(string) faultproxy.Action {
	var mu sync.Mutex
	done := false
	return func(sql string) faultproxy.Action {
		mu.Lock()
		defer mu.Unlock()
		if !done && match(sql) {
			done = true
			return action
		}
		return faultproxy.Forward
	}
}

func isCommit(sql string) bool { return strings.EqualFold(strings.TrimSpace(sql), "COMMIT") }

// TestWriteAnswersAreTruthful: when the connection to the database breaks
// during a write, the answer says what happened: the entity when the commit
// went through although its answer was lost; 503 + Retry-After (and nothing
// stored) when it did not; a transparent retry when the connection broke
// before the commit. Never a 500, never "retry" for a stored write.
func TestWriteAnswersAreTruthful(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	proxy, viaProxy := throughProxy(t, dsn)
	g := start(t, fixtureConfig(viaProxy))
	stored := func(id string) int {
		return rowCountWhere(t, dsn, `"Customers"`, `"CustomerID" = '`+id+`'`)
	}
	post := func(id string) *response {
		return g.do("POST", "/odata/Customers", []byte(`{"CustomerID":"`+id+`","Name":"Fault `+id+`"}`))
	}

	// The server commits, the answer is lost: 201 with the stored entity.
	proxy.OnQuery(once(isCommit, faultproxy.DropAfter))
	r := post("LOST1")
	if r.Status != 201 || !strings.Contains(string(r.Body), `"CustomerID":"LOST1"`) {
		t.Fatalf("commit done, answer lost: %d %s", r.Status, r.Body)
	}
	if n := stored("LOST1"); n != 1 {
		t.Fatalf("LOST1 stored %d times", n)
	}

	// The commit never reaches the server: rolled back, 503, safe to retry.
	proxy.OnQuery(once(isCommit, faultproxy.DropBefore))
	r = post("LOST2")
	assertODataError(t, r, 503)
	if r.Header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After: %v", r.Header)
	}
	if n := stored("LOST2"); n != 0 {
		t.Fatalf("LOST2 stored %d times after a 503", n)
	}
	proxy.OnQuery(nil)
	if r := post("LOST2"); r.Status != 201 {
		t.Fatalf("retry after the 503: %d %s", r.Status, r.Body)
	}

	// The connection breaks before the commit: nothing was applied, the
	// gateway retries on a fresh connection by itself.
	proxy.OnQuery(once(func(sql string) bool { return strings.Contains(sql, "txid_current") }, faultproxy.DropBefore))
	if r := post("LOST3"); r.Status != 201 {
		t.Fatalf("connection lost before the commit: %d %s", r.Status, r.Body)
	}
	if n := stored("LOST3"); n != 1 {
		t.Fatalf("LOST3 stored %d times", n)
	}

	// Updates and deletes too.
	proxy.OnQuery(once(isCommit, faultproxy.DropAfter))
	if r := g.do("PATCH", "/odata/Customers('LOST1')", []byte(`{"City":"Oslo"}`)); r.Status != 204 {
		t.Fatalf("update, answer lost: %d %s", r.Status, r.Body)
	}
	proxy.OnQuery(once(isCommit, faultproxy.DropAfter))
	if r := g.do("DELETE", "/odata/Customers('LOST1')", nil); r.Status != 204 {
		t.Fatalf("delete, answer lost: %d %s", r.Status, r.Body)
	}
	if n := stored("LOST1"); n != 0 {
		t.Fatalf("LOST1 still stored after the delete")
	}
	if strings.Contains(g.logs(), `"status":500`) {
		t.Errorf("a 500 was answered")
	}
}
