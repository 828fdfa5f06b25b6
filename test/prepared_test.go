package test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/pgtest"
)

// preparedRequests covers every statement shape the gateway runs: pages,
// counts, keysets, key lookups, /$count and writes.
var preparedRequests = []struct{ method, path, body string }{
	{"GET", "/odata/Customers?$select=CustomerID,Name&$count=true&$top=3", ""},
	{"GET", "/odata/Customers?$filter=Country eq 'Germany' or City eq null&$orderby=City desc", ""},
	{"GET", "/odata/Customers('ALFKI')", ""},
	{"GET", "/odata/Customers/$count?$filter=startswith(Name,'A')", ""},
	{"GET", "/odata/Orders?$filter=Total gt 50 and OrderDate ge 2024-01-01&$orderby=Total", ""},
	{"GET", "/odata/order_lines(order_id=10248,line_no=2)", ""},
	{"POST", "/odata/Customers", `{"CustomerID":"PREP1","Name":"Prepared","CreatedAt":"2024-05-01T08:00:00Z"}`},
	{"PATCH", "/odata/Customers('PREP1')", `{"City":"Bergen"}`},
	{"GET", "/odata/Customers('PREP1')", ""},
	{"DELETE", "/odata/Customers('PREP1')", ""},
}

// TestPreparedStatementsSameResults: with statements prepared and reused,
// or run one by one (behind PgBouncer), every answer is the same.
func TestPreparedStatementsSameResults(t *testing.T) {
	t.Parallel()
	answers := map[bool][]string{}
	for _, prepared := range []bool{true, false} {
		c := fixtureConfig(fixtureDSN(t))
		c.PreparedStatements = prepared
		g := start(t, c)
		for range 2 { // the second round runs the prepared statements again
			for _, rq := range preparedRequests {
				var body []byte
				if rq.body != "" {
					body = []byte(rq.body)
				}
				r := g.do(rq.method, rq.path, body)
				answers[prepared] = append(answers[prepared], fmt.Sprintf("%s %s %d %s", rq.method, rq.path, r.Status, g.normalize(r.Body)))
			}
		}
		if n := g.g.Adapter.(interface{ CachedStatements() int }).CachedStatements(); prepared && n == 0 || !prepared && n != 0 {
			t.Errorf("prepared=%v: %d cached statements", prepared, n)
		}
	}
	for i := range answers[true] {
		if answers[true][i] != answers[false][i] {
			t.Errorf("prepared and unprepared differ:\n  %s\n  %s", answers[true][i], answers[false][i])
		}
	}
}

// TestPreparedStatementsSurviveReconnectsAndReloads: prepared statements
// are prepared again on new connections (the old ones broke) and after the
// model is reloaded with a changed table.
func TestPreparedStatementsSurviveReconnectsAndReloads(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	proxy, viaProxy := throughProxy(t, dsn)
	g := start(t, fixtureConfig(viaProxy))
	get := func(path string, want int) *response {
		t.Helper()
		r := g.do("GET", path, nil)
		if r.Status != want {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		return r
	}
	get("/odata/Customers('ALFKI')", 200)
	get("/odata/Customers?$top=2&$count=true", 200)
	proxy.BreakAll() // every pooled connection, with its prepared statements, is gone
	for i := range 3 {
		r := g.do("GET", "/odata/Customers('ALFKI')", nil)
		if r.Status == 503 && i < 2 { // a broken pooled connection may answer one retryable 503
			continue
		}
		if r.Status != 200 {
			t.Fatalf("after the connections broke: %d %s", r.Status, r.Body)
		}
		break
	}
	get("/odata/Customers?$top=2&$count=true", 200)

	// The table changes and the gateway reloads its model: the statements
	// are prepared anew for the new shape.
	pgtest.MustExec(t, dsn, `ALTER TABLE "Customers" ADD COLUMN "Segment" text DEFAULT 'smb'`)
	if err := g.g.Reload(context.Background()); err != nil {
		t.Fatal(err)
	}
	if r := get("/odata/Customers('ALFKI')", 200); !strings.Contains(string(r.Body), `"Segment":"smb"`) {
		t.Fatalf("after the reload: %s", r.Body)
	}
	// A change under a prepared statement without a reload: one retryable
	// answer at most, then the statement is prepared anew.
	pgtest.MustExec(t, dsn, `ALTER TABLE "Customers" ALTER COLUMN "Segment" TYPE varchar(20)`)
	for i := range 3 {
		r := g.do("GET", "/odata/Customers('ALFKI')", nil)
		if r.Status == 503 && r.Header.Get("Retry-After") != "" && i < 2 {
			continue
		}
		if r.Status != 200 {
			t.Fatalf("after a change under a prepared statement: %d %s", r.Status, r.Body)
		}
		break
	}
}
