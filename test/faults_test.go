package test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/odatagw/odatagw/server/app"
	"github.com/odatagw/odatagw/server/auth"
)

// Fault and abuse end-to-end tests (issue 11): what clients and operators
// see when things go wrong.

// sessionNames lists the application_name of every session connected to
// db's database other than db's own, sorted and without duplicates.
func sessionNames(t testing.TB, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT DISTINCT application_name FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// TestApplicationName: every database session of the gateway carries
// application_name=odatagw, so that operators can find (and terminate) them
// in pg_stat_activity; an application_name in the DSN wins.
func TestApplicationName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ suffix, want string }{
		{"", "odatagw"},
		{"&application_name=erp-gateway", "erp-gateway"},
	} {
		dsn := fixtureDSN(t)
		g := start(t, fixtureConfig(dsn+tc.suffix))
		if r := g.do("GET", "/odata/Customers?$top=1", nil); r.Status != 200 {
			t.Fatalf("read: %d %s", r.Status, r.Body)
		}
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			t.Fatal(err)
		}
		got := sessionNames(t, db)
		db.Close()
		if !reflect.DeepEqual(got, []string{tc.want}) {
			t.Errorf("DSN suffix %q: sessions named %q, want only %q", tc.suffix, got, tc.want)
		}
	}
}

// rawExchange writes raw to a new connection to the gateway and reads until
// the gateway closes it or hangs for limit (a bound for a hang, well below
// the 30 s read timeout, not a speed requirement). It returns the responses
// read and whether the gateway closed the connection.
func rawExchange(t testing.TB, g *gateway, raw string, limit time.Duration) (resps []*response, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", g.g.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(limit))
	all, err := io.ReadAll(c)
	var ne net.Error
	switch {
	case err == nil || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "connection reset"):
		closed = true
	case errors.As(err, &ne) && ne.Timeout():
	default:
		t.Fatalf("reading: %v", err)
	}
	br := bufio.NewReader(bytes.NewReader(all))
	for {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Close { // ReadResponse moves "Connection: close" there
			resp.Header.Set("Connection", "close")
		}
		resps = append(resps, &response{Status: resp.StatusCode, Header: resp.Header, Body: b})
	}
	return resps, closed
}

// TestDeclaredBodyTooLarge: a Content-Length over max_body_bytes is answered
// 413 at once, before any body byte is awaited, and the connection is closed
// (the rest of the declared body is never read).
func TestDeclaredBodyTooLarge(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	for _, method := range []string{"POST /odata/Customers", "PATCH /odata/Customers('ALFKI')"} {
		raw := method + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1073741824\r\n\r\n{}"
		resps, closed := rawExchange(t, g, raw, 10*time.Second)
		if len(resps) != 1 {
			t.Fatalf("%s: %d responses, want one 413 (a hang means the gateway waited for the body)", method, len(resps))
		}
		e := assertODataError(t, resps[0], 413)
		if e["code"] != "PayloadTooLarge" {
			t.Errorf("%s: code %v", method, e["code"])
		}
		if !closed || resps[0].Header.Get("Connection") != "close" {
			t.Errorf("%s: connection not closed (closed %v, Connection: %q)", method, closed, resps[0].Header.Get("Connection"))
		}
	}
}

// TestInvalidUTF8Body: text a JSON decoder would silently replace with
// U+FFFD (invalid UTF-8, unpaired surrogate escapes), in a value or a member
// name, is answered 400 and nothing is stored or changed.
func TestInvalidUTF8Body(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	g := start(t, fixtureConfig(dsn))
	before := rowCount(t, dsn, `"Customers"`)
	for _, body := range []string{
		"{\"CustomerID\":\"U8A\",\"Name\":\"bad \xff byte\"}",
		"{\"CustomerID\":\"U8B\",\"Name\":\"\xed\xa0\x80\"}",
		`{"CustomerID":"U8C","Name":"lone \ud800 surrogate"}`,
		"{\"CustomerID\":\"U8D\",\"Name\":\"n\",\"City\xff\":\"x\"}",
	} {
		e := assertODataError(t, g.do("POST", "/odata/Customers", []byte(body)), 400)
		if e["code"] != "InvalidSyntax" {
			t.Errorf("%q: code %v", body, e["code"])
		}
	}
	r := g.do("PATCH", "/odata/Customers('ALFKI')", []byte("{\"Name\":\"Alfreds \xc3\x28\"}"))
	assertODataError(t, r, 400)
	if n := rowCount(t, dsn, `"Customers"`); n != before {
		t.Errorf("%d customers, was %d: a body with invalid text was stored", n, before)
	}
	var invalid int
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT count(*) FROM "Customers" WHERE "Name" LIKE '%' || U&'\FFFD' || '%'`).Scan(&invalid); err != nil || invalid != 0 {
		t.Errorf("%d names hold U+FFFD (%v)", invalid, err)
	}
}

// TestShutdownCancelsQueries: a request still running when the drain
// deadline passes is canceled, its query with it: PostgreSQL no longer runs
// it shortly after Shutdown returns (the test still holds the lock the query
// waits for), and the client gets 503 with Connection: close, never a 200.
func TestShutdownCancelsQueries(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	g, err := app.Start(context.Background(), fixtureConfig(dsn), discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	gw := &gateway{t: t, g: g, base: "http://" + g.Addr(), logs: func() string { return "" }}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE "Orders" IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	type result struct {
		status int
		header http.Header
		err    error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.Get(gw.base + "/odata/Orders?$top=5")
		if err != nil {
			done <- result{err: err}
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- result{status: resp.StatusCode, header: resp.Header}
	}()
	waiting := func() int { return lockWaiters(t, db, `%FROM "public"."Orders"%`) }
	waitFor(t, 10*time.Second, "the gateway's query never reached the lock", func() bool { return waiting() > 0 })

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := g.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shutdown with a request past the drain deadline: %v, want the deadline error", err)
	}
	waitFor(t, 10*time.Second, "the query kept running after shutdown", func() bool { return waiting() == 0 })
	var active int
	if err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
AND application_name = 'odatagw' AND state <> 'idle'`).Scan(&active); err != nil || active != 0 {
		t.Errorf("%d gateway sessions still busy (%v)", active, err)
	}
	r := <-done
	if r.err == nil && (r.status != 503 || r.header.Get("Retry-After") == "") {
		t.Errorf("the canceled request was answered %d (Retry-After %q), want 503", r.status, r.header.Get("Retry-After"))
	}
}

// TestSmuggledRequestRefused: a request with both Transfer-Encoding and
// Content-Length (net/http reads it chunked and drops Content-Length, so the
// bytes after the chunked body would be served as a second request) is
// answered 400 with Connection: close, and the request that follows is never
// served. A chunked request alone is served, and its connection closed.
func TestSmuggledRequestRefused(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	g := start(t, fixtureConfig(dsn))
	before := rowCount(t, dsn, `"Customers"`)
	entity := `{"CustomerID":"SMUG1","Name":"smuggled"}`
	chunked := strconv.FormatInt(int64(len(entity)), 16) + "\r\n" + entity + "\r\n0\r\n\r\n"
	smuggled := "DELETE /odata/Customers('ALFKI') HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, tc := range []struct{ name, head string }{
		{"Content-Length after", "Transfer-Encoding: chunked\r\nContent-Length: 4\r\n"},
		{"Content-Length before", "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"},
	} {
		raw := "POST /odata/Customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + tc.head + "\r\n" + chunked + smuggled
		resps, closed := rawExchange(t, g, raw, 10*time.Second)
		if len(resps) != 1 {
			t.Fatalf("%s: %d responses, want only a 400", tc.name, len(resps))
		}
		if e := assertODataError(t, resps[0], 400); e["code"] != "InvalidSyntax" {
			t.Errorf("%s: code %v", tc.name, e["code"])
		}
		if !closed || resps[0].Header.Get("Connection") != "close" {
			t.Errorf("%s: connection not closed (Connection: %q)", tc.name, resps[0].Header.Get("Connection"))
		}
	}
	if n := rowCount(t, dsn, `"Customers"`); n != before {
		t.Fatalf("%d customers, was %d: a refused or smuggled request was served", n, before)
	}
	// Chunked alone is fine, but nothing after it on the connection is served.
	raw := "POST /odata/Customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked + smuggled
	resps, closed := rawExchange(t, g, raw, 10*time.Second)
	if len(resps) != 1 || resps[0].Status != 201 || !closed {
		t.Fatalf("chunked: %d responses (first %v), closed %v", len(resps), resps, closed)
	}
	if n := rowCount(t, dsn, `"Customers"`); n != before+1 {
		t.Fatalf("%d customers, want %d: the request after a chunked body was served", n, before+1)
	}
}

// TestFailedLoginsSpareGoodCredentials: failed Basic logins are budgeted per
// client address and user name and only checked with bcrypt within that
// budget; remembered credentials, other users, JWTs and API keys from the
// same address are not blocked by them. Under a flood of wrong passwords
// from many addresses, verified callers never check a password at all
// (odatagw_password_checks_total counts every bcrypt check), so they never
// wait for one.
func TestFailedLoginsSpareGoodCredentials(t *testing.T) {
	t.Parallel()
	c := fixtureConfig(fixtureDSN(t))
	c.Auth.Basic = []auth.BasicUser{{Name: "alice", Hash: secHash(t, "alice-password")}, {Name: "bob", Hash: secHash(t, "bob-password")}}
	c.Auth.JWT.HMACSecrets = []auth.HMACKey{{Secret: secHMACSecret}}
	c.Auth.JWT.Issuer, c.Auth.JWT.Audience = secIssuer, []string{secAudience}
	c.Policy.Sets = map[string]auth.SetRules{"*": {Grants: []auth.Grant{{To: []string{"user:alice", "user:bob", "user:svc"}, Ops: []string{"all"}}}}}
	c.Guard.AuthFailPerSecond, c.Guard.AuthFailBurst = 0.01, 3
	c.TrustedProxies = []string{"127.0.0.1"}
	g := start(t, c)
	// An own client, whose idle connections are closed before the shutdown
	// (which waits 5 s for connections that never sent a request).
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	get := func(addr string, hdr ...string) int {
		req, err := http.NewRequest("GET", g.base+"/odata/Customers?$top=1&$select=CustomerID", nil)
		if err != nil {
			t.Error(err)
			return 0
		}
		req.Header.Set("X-Forwarded-For", addr)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	alice := []string{"Authorization", basicHeader("alice", "alice-password")}
	jwtHdr := []string{"Authorization", "Bearer " + secHS256(t, secClaims("svc"))}
	wrong := func(user string, i int) []string {
		return []string{"Authorization", basicHeader(user, fmt.Sprint("guess-", i))}
	}

	if s := get("10.0.0.1", alice...); s != 200 {
		t.Fatalf("alice: %d", s)
	}
	var statuses []int
	for i := 0; i < 6; i++ {
		statuses = append(statuses, get("10.0.0.1", wrong("alice", i)...))
	}
	if fmt.Sprint(statuses) != "[401 401 401 429 429 429]" {
		t.Fatalf("wrong passwords from one address: %v", statuses)
	}
	for _, tc := range []struct {
		name, addr string
		hdr        []string
		want       int
	}{
		{"alice's remembered password, same address", "10.0.0.1", alice, 200},
		{"a JWT, same address", "10.0.0.1", jwtHdr, 200},
		{"bob's password, same address", "10.0.0.1", []string{"Authorization", basicHeader("bob", "bob-password")}, 200},
		{"a wrong password for alice from elsewhere", "10.0.0.2", wrong("alice", 99), 401},
		{"still throttled: alice from 10.0.0.1", "10.0.0.1", wrong("alice", 100), 429},
	} {
		if s := get(tc.addr, tc.hdr...); s != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, s, tc.want)
		}
	}

	// A flood of wrong passwords from 40 addresses, with good requests.
	var mu sync.Mutex
	bad := map[int]int{}
	var good []int
	var wg sync.WaitGroup
	for a := 0; a < 40; a++ {
		for i := 0; i < 6; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				user := []string{"alice", "mallory"}[i%2]
				s := get(fmt.Sprintf("192.0.2.%d", a), wrong(user, i)...)
				mu.Lock()
				bad[s]++
				mu.Unlock()
			}()
		}
	}
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := get("10.0.0.1", [][]string{alice, jwtHdr}[i%2]...)
			mu.Lock()
			good = append(good, s)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for _, s := range good {
		if s != 200 {
			t.Fatalf("good requests during the flood: %v", good)
		}
	}
	if bad[200] != 0 || bad[401]+bad[429]+bad[503] != 240 {
		t.Fatalf("wrong passwords answered %v", bad)
	}
	// Structurally: the 40 good requests (and the earlier ones) checked no
	// password; only alice's and bob's first logins did.
	checks := passwordChecks(t, g)
	if checks["ok"] != 2 {
		t.Errorf("%d successful password checks, want 2 (the first login of alice and of bob): %v", checks["ok"], checks)
	}
	if checks["fail"] != 3+1+bad[401] || checks["throttled"] != 4+bad[429] || checks["busy"] != bad[503] {
		t.Errorf("password checks %v do not match the answers %v", checks, bad)
	}
}

// passwordChecks reads odatagw_password_checks_total by outcome from /metrics.
func passwordChecks(t testing.TB, g *gateway) map[string]int {
	t.Helper()
	r := g.do("GET", "/metrics", nil)
	if r.Status != 200 {
		t.Fatalf("/metrics: %d", r.Status)
	}
	out := map[string]int{}
	for _, line := range strings.Split(string(r.Body), "\n") {
		if rest, ok := strings.CutPrefix(line, `odatagw_password_checks_total{outcome="`); ok {
			outcome, n, _ := strings.Cut(rest, `"} `)
			v, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("metric line %q", line)
			}
			out[outcome] = v
		}
	}
	return out
}
