package test

import (
	"bufio"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/odatagw/odatagw/server/app"
)

// gatewayProcessEnv names, in a copy of the test binary that TestMain runs
// as a gateway process, the odatagw arguments (separated by \x1f).
const gatewayProcessEnv = "ODATAGW_TEST_GATEWAY_PROCESS"

func TestMain(m *testing.M) {
	if args := os.Getenv(gatewayProcessEnv); args != "" {
		os.Exit(app.Main(strings.Split(args, "\x1f"), nil, os.Stdout, os.Stderr, os.Getenv))
	}
	os.Exit(m.Run())
}

var servingRE = regexp.MustCompile(`"addr":"([0-9.:]+)".*"message":"odatagw serving"`)

// startProcess runs `odatagw serve --config <yaml>` as a separate OS
// process (this test binary, through TestMain) and returns a gateway
// talking to it over HTTP; the process gets SIGTERM when the test ends.
func startProcess(t *testing.T, yaml string) *gateway {
	t.Helper()
	path := filepath.Join(t.TempDir(), "odatagw.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = []string{gatewayProcessEnv + "=" + strings.Join([]string{"serve", "--config", path}, "\x1f")}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{mu: make(chanMutex, 1)}
	addr := make(chan string, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			logs.Write(append(sc.Bytes(), '\n'))
			if m := servingRE.FindSubmatch(sc.Bytes()); m != nil {
				addr <- string(m[1])
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { wg.Wait(); done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("gateway process: %v", err)
			}
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("gateway process did not stop on SIGTERM")
		}
		if t.Failed() {
			t.Logf("gateway process log:\n%s", logs.String())
		}
	})
	select {
	case a := <-addr:
		return &gateway{t: t, base: "http://" + a, logs: logs.String}
	case <-time.After(60 * time.Second):
		t.Fatalf("gateway process did not start:\n%s", logs.String())
	}
	return nil
}

// TestGatewayProcesses: two gateway processes sharing token_key (and
// nothing else) behind a load balancer that alternates between them: one
// walk's pages, the delta polls that follow and the CSRF handshake each
// go to either, and every answer is the same as from one gateway.
func TestGatewayProcesses(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	trackCmd(t, "install", []string{"Orders"}, "--db", dsn)
	yaml := fmt.Sprintf(`listen: 127.0.0.1:0
db: %q
token_key: %q
csrf: {enabled: true}
log_format: json
guard: {rate_per_second: -1}
sets:
  Orders: {track_changes: true}
`, dsn, testKey)
	gws := []*gateway{startProcess(t, yaml), startProcess(t, yaml)}
	// on sends a request to gateway i%2, rewriting the other's base URL in
	// links (the load balancer's public URL in production).
	on := func(i int, method, u string, body []byte, headers ...string) *response {
		t.Helper()
		g, other := gws[i%2], gws[(i+1)%2]
		u = strings.Replace(u, other.base, g.base, 1)
		if !strings.HasPrefix(u, "http") {
			u = g.base + u
		}
		return g.doURL(method, u, body, headers...)
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	track := []string{"Prefer", "odata.track-changes,odata.maxpagesize=2"}
	orderID := regexp.MustCompile(`"OrderID":(\d+)`)

	// A tracked walk, its pages alternating between the processes; its
	// delta link, then the delta polls, alternating too.
	var walked []string
	next, req := "/odata/Orders?$select=OrderID,Status&$orderby=OrderID", 0
	var delta string
	for next != "" {
		r := on(req, "GET", next, nil, track...)
		if r.Status != 200 {
			t.Fatalf("page %d on process %d: %d %s", req, req%2, r.Status, r.Body)
		}
		for _, m := range orderID.FindAllStringSubmatch(string(r.Body), -1) {
			walked = append(walked, m[1])
		}
		next, delta = "", ""
		if m := deltaLinkRE.FindStringSubmatch(string(r.Body)); m != nil {
			if m[1] == "nextLink" {
				next = m[2]
			} else {
				delta = m[2]
			}
		}
		req++
	}
	var want string
	if err := db.QueryRow(`SELECT string_agg("OrderID"::text, ',' ORDER BY "OrderID") FROM "Orders"`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(walked, ","); got != want || req < 3 || delta == "" {
		t.Fatalf("walk over %d pages: %s (want %s), delta link %q", req, got, want, delta)
	}
	for i, tc := range []struct {
		change string
		want   string // the poll's value
	}{
		{`UPDATE "Orders" SET "Status" = 'Polled A' WHERE "OrderID" = 10248`, `[{"OrderID":10248,"Status":"Polled A"}]`},
		{`UPDATE "Orders" SET "Status" = 'Polled B' WHERE "OrderID" = 10249`, `[{"OrderID":10249,"Status":"Polled B"}]`},
		{`DELETE FROM "Orders" WHERE "OrderID" = 10250`, `[{"@odata.context":"BASE/odata/$metadata#Orders/$deletedEntity","id":"BASE/odata/Orders(10250)","reason":"deleted"}]`},
		{`SELECT 1`, `[]`},
	} {
		if _, err := db.Exec(tc.change); err != nil {
			t.Fatal(err)
		}
		r := on(req+i, "GET", delta, nil)
		g := gws[(req+i)%2]
		body := g.normalize(r.Body)
		if r.Status != 200 || !strings.Contains(body, `"value":`+tc.want+`,"@odata.deltaLink"`) {
			t.Fatalf("poll %d on process %d: %d %s\nwant value %s", i, (req+i)%2, r.Status, body, tc.want)
		}
		delta = link(t, r, "deltaLink")
	}

	// CSRF: a token fetched from one process is accepted by the other; no
	// token is refused by both.
	for i := range 2 {
		fetch := on(i, "GET", "/odata/", nil, "X-CSRF-Token", "Fetch")
		token := fetch.Header.Get("X-CSRF-Token")
		if token == "" {
			t.Fatalf("process %d issued no CSRF token: %v", i%2, fetch.Header)
		}
		body := []byte(fmt.Sprintf(`{"Status":"csrf %d"}`, i))
		if r := on(i+1, "PATCH", "/odata/Orders(10251)", body, "X-CSRF-Token", token); r.Status != 204 {
			t.Fatalf("token of process %d on process %d: %d %s", i%2, (i+1)%2, r.Status, r.Body)
		}
		if r := on(i+1, "PATCH", "/odata/Orders(10251)", []byte(`{"Status":"no token"}`)); r.Status != 403 || r.Header.Get("X-CSRF-Token") != "Required" {
			t.Fatalf("no token on process %d: %d %v", (i+1)%2, r.Status, r.Header)
		}
	}
	var status string
	if err := db.QueryRow(`SELECT "Status" FROM "Orders" WHERE "OrderID" = 10251`).Scan(&status); err != nil || status != "csrf 1" {
		t.Fatalf("Status %q %v", status, err)
	}
}
