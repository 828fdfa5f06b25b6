package test

import (
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/pgtest"
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
