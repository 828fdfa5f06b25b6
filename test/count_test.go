package test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/server/app"
)

// TestCountOncePerWalk: with $count=true, the first page of a server-driven
// walk counts; every later page reports that count (carried in the
// $skiptoken) without counting again, even when rows are inserted during
// the walk. The count is the one taken at the start of the walk.
func TestCountOncePerWalk(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `CREATE TABLE w (id int PRIMARY KEY, status text NOT NULL);
INSERT INTO w SELECT g, CASE WHEN g % 3 = 0 THEN 'Open' ELSE 'Closed' END FROM generate_series(1, 3000) g;`)
	g := start(t, baseConfig(dsn))
	const open = 1000
	u := "/odata/w?$filter=status eq 'Open'&$count=true"
	logStart := len(g.logs())
	pages, rows := 0, 0
	for u != "" {
		p := g.getPage(t, u, "Prefer", "odata.maxpagesize=150")
		if p.status != 200 {
			t.Fatalf("page %d: %d %s", pages, p.status, p.response.Body)
		}
		if p.Count == nil || *p.Count != open {
			t.Fatalf("page %d: @odata.count %v, want %d on every page", pages, p.Count, open)
		}
		if pages == 1 {
			// Rows inserted during the walk, after its position: the walk
			// reads them, the count stays the one taken at the start.
			pgtest.MustExec(t, dsn, `INSERT INTO w SELECT g, 'Open' FROM generate_series(3001, 3090) g`)
		}
		rows += len(p.rows)
		pages++
		u = p.Next
	}
	if rows != open+90 || pages != 8 {
		t.Errorf("walk: %d rows in %d pages, want %d in 8", rows, pages, open+90)
	}
	if n := strings.Count(g.logs()[logStart:], "SELECT COUNT(*)"); n != 1 {
		t.Errorf("%d COUNT statements for the walk, want 1 (the first page's)", n)
	}
	// A walk that did not ask for the count gets none, and counts nothing.
	logStart = len(g.logs())
	p := g.getPage(t, "/odata/w?$filter=status eq 'Open'", "Prefer", "odata.maxpagesize=150")
	p = g.getPage(t, p.Next)
	if p.Count != nil || strings.Contains(g.logs()[logStart:], "SELECT COUNT(*)") {
		t.Errorf("a walk without $count counted: %v", p.Count)
	}
}

// TestCountStrategies: a set with count: estimated answers the planner's
// estimate when it expects count_exact_below rows or more, and counts
// exactly below; a count past count_timeout never sinks the page.
func TestCountStrategies(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `
CREATE TABLE est (id int PRIMARY KEY, status text NOT NULL);
INSERT INTO est SELECT g, CASE WHEN g % 3 = 0 THEN 'Open' ELSE 'Closed' END FROM generate_series(1, 200000) g;
CREATE TABLE exact_t (id int PRIMARY KEY);
INSERT INTO exact_t SELECT generate_series(1, 150000);
CREATE FUNCTION slow(i int) RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN PERFORM pg_sleep(0.002); RETURN i; END $$;
CREATE VIEW heavy AS SELECT id, slow(id) AS s FROM exact_t;
ANALYZE;`)
	c := baseConfig(dsn)
	c.Sets = map[string]app.SetConfig{"est": {Count: "estimated"}, "heavy": {Key: []string{"id"}}}
	c.CountTimeout = time.Minute // exact counts must not time out on a loaded test machine
	g := start(t, c)
	// The same database behind a gateway whose counts are bounded tightly.
	c.CountTimeout = 300 * time.Millisecond
	bounded := start(t, c)
	count := func(g *gateway, path string) (int64, string) {
		t.Helper()
		before := len(g.logs())
		p := g.getPage(t, path)
		if p.status != 200 || p.Count == nil {
			t.Fatalf("%s: %d, count %v: %s", path, p.status, p.Count, p.response.Body)
		}
		return *p.Count, g.logs()[before:]
	}
	within := func(got, want int64) bool { return got >= want*9/10 && got <= want*11/10 }

	n, logs := count(g, "/odata/est?$count=true&$top=1")
	if !within(n, 200000) || strings.Contains(logs, "SELECT COUNT(*)") {
		t.Errorf("estimated unfiltered: %d (want 200000 ±10%%, no COUNT)", n)
	}
	n, logs = count(g, "/odata/est?$filter=status eq 'Open'&$count=true&$top=1")
	// 66,666 is under the threshold of 100,000: counted, hence exact.
	if n != 66666 || !strings.Contains(logs, "SELECT COUNT(*)") {
		t.Errorf("estimated set, small result: %d (want exactly 66666 by COUNT)", n)
	}
	if r := g.do("GET", "/odata/est/$count", nil); !within(mustInt(t, string(r.Body)), 200000) {
		t.Errorf("/$count on an estimated set: %s", r.Body)
	}
	n, _ = count(g, "/odata/exact_t?$count=true&$top=1")
	if n != 150000 {
		t.Errorf("exact set: %d", n)
	}
	// A count that would take minutes: the page comes anyway, with the
	// estimate, and the log says so.
	n, logs = count(bounded, "/odata/heavy?$filter=s ge 0&$count=true&$top=5")
	if n <= 0 || !strings.Contains(logs, "count_timeout") {
		t.Errorf("timed-out count: %d; log %s", n, logs)
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("not a number: %q", s)
	}
	return n
}
