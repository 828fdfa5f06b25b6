package test

import (
	"bytes"
	"database/sql"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/internal/conformance"
	"github.com/odatagw/odatagw/internal/mytest"
	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/server/app"
)

// trackCmd runs `odatagw track <verb>` with a config tracking the given
// storage tables; extra are more flags (--db, --demo-path).
func trackCmd(t *testing.T, verb string, tables []string, extra ...string) string {
	t.Helper()
	cfg := "sets:\n"
	for _, tbl := range tables {
		cfg += "  " + tbl + ":\n    track_changes: true\n"
	}
	path := filepath.Join(t.TempDir(), "track.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args := append([]string{"track", verb, "--config", path}, extra...)
	if code := app.Main(args, nil, &out, &errb, noEnv); code != 0 {
		t.Fatalf("track %s: exit %d: %s", verb, code, errb.String())
	}
	return out.String()
}

var deltaLinkRE = regexp.MustCompile(`"@odata\.(deltaLink|nextLink)":"([^"]+)"`)

// link returns the delta link (or nextLink) of a response.
func link(t *testing.T, r *response, kind string) string {
	t.Helper()
	for _, m := range deltaLinkRE.FindAllStringSubmatch(string(r.Body), -1) {
		if m[1] == kind {
			return m[2]
		}
	}
	t.Fatalf("no @odata.%s in %d %s", kind, r.Status, r.Body)
	return ""
}

func TestChangeTracking(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	if out := trackCmd(t, "install", []string{"Orders"}, "--db", dsn); !regexp.MustCompile(`Orders\s+true\s+0\s+-`).MatchString(out) {
		t.Fatalf("track install printed:\n%s", out)
	}
	trackCmd(t, "install", []string{"Orders"}, "--db", dsn) // idempotent
	clk := newClock()
	c := fixtureConfig(dsn)
	c.Sets["Orders"] = app.SetConfig{TrackChanges: true}
	c.Sets["Customers"] = app.SetConfig{TrackChanges: true} // configured, not installed: not offered
	c.Now = clk.Now
	g := start(t, c)
	if !strings.Contains(g.logs(), `"set":"Customers","message":"track_changes is configured but not installed`) {
		t.Errorf("no warning about Customers")
	}
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(stmt string) {
		t.Helper()
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	track := []string{"Prefer", "odata.track-changes"}

	md := string(g.do("GET", "/odata/$metadata", nil).Body)
	orders := md[strings.Index(md, `<EntitySet Name="Orders"`):]
	orders = orders[:strings.Index(orders, "</EntitySet>")]
	if !strings.Contains(orders, `<Annotation Term="Capabilities.ChangeTracking"><Record><PropertyValue Property="Supported" Bool="true"/></Record></Annotation>`) ||
		strings.Count(md, "ChangeTracking") != 1 {
		t.Errorf("$metadata: ChangeTracking only on Orders:\n%s", orders)
	}

	// Salesforce's handshake: $top=0, an empty page and a delta link that
	// keeps the defining $filter and $select but not $top or $count.
	r := g.do("GET", "/odata/Orders?$select=OrderID,Status&$filter=Total%20gt%2050&$count=true&$top=0", nil, track...)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Status)","@odata.count":4,"value":[],`+
		`"@odata.deltaLink":"BASE/odata/Orders?$filter=Total%20gt%2050&$select=OrderID,Status&$deltatoken=TOKEN"}`)
	if pa := r.Header.Get("Preference-Applied"); pa != "odata.track-changes" {
		t.Errorf("Preference-Applied %q", pa)
	}
	delta := link(t, r, "deltaLink")

	// Nothing changed: empty value and a new delta link.
	r = g.doURL("GET", delta, nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Status)/$delta","value":[],`+
		`"@odata.deltaLink":"BASE/odata/Orders?$filter=Total%20gt%2050&$select=OrderID,Status&$deltatoken=TOKEN"}`)
	delta = link(t, r, "deltaLink")

	// Changes by direct SQL: an insert, two updates of one row (collapsed),
	// a delete, a row that leaves the filter, and a row changed outside
	// the filter before and after (not matching: reported as changed).
	exec(`INSERT INTO "Orders" ("OrderID","CustomerID","OrderDate","Total","Status") VALUES (30000,'ALFKI','2024-07-01',75,'Open')`)
	exec(`UPDATE "Orders" SET "Status" = 'Packed' WHERE "OrderID" = 10249`)
	exec(`UPDATE "Orders" SET "Status" = 'Shipped again' WHERE "OrderID" = 10249`)
	exec(`DELETE FROM "Orders" WHERE "OrderID" = 10250`)
	exec(`UPDATE "Orders" SET "Total" = 10 WHERE "OrderID" = 10248`)
	r = g.doURL("GET", delta, nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Status)/$delta","value":[`+
		`{"@odata.context":"BASE/odata/$metadata#Orders/$deletedEntity","id":"BASE/odata/Orders(10248)","reason":"changed"},`+
		`{"OrderID":10249,"Status":"Shipped again"},`+
		`{"@odata.context":"BASE/odata/$metadata#Orders/$deletedEntity","id":"BASE/odata/Orders(10250)","reason":"deleted"},`+
		`{"OrderID":30000,"Status":"Open"}],`+
		`"@odata.deltaLink":"BASE/odata/Orders?$filter=Total%20gt%2050&$select=OrderID,Status&$deltatoken=TOKEN"}`)
	delta = link(t, r, "deltaLink")

	// The gateway's own writes, and a transaction open across a poll: not
	// in the poll it was open for, in the next one once committed.
	if w := g.do("PATCH", "/odata/Orders(10252)", []byte(`{"Status":"Paid"}`)); w.Status != 204 {
		t.Fatalf("PATCH: %d %s", w.Status, w.Body)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE "Orders" SET "Status" = 'Late' WHERE "OrderID" = 30000`); err != nil {
		t.Fatal(err)
	}
	r = g.doURL("GET", delta, nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Status)/$delta","value":[{"OrderID":10252,"Status":"Paid"}],`+
		`"@odata.deltaLink":"BASE/odata/Orders?$filter=Total%20gt%2050&$select=OrderID,Status&$deltatoken=TOKEN"}`)
	delta = link(t, r, "deltaLink")
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r = g.doURL("GET", delta, nil)
	if !strings.Contains(string(r.Body), `{"OrderID":30000,"Status":"Late"}`) {
		t.Fatalf("the transaction open across the poll was lost: %s", r.Body)
	}
	delta = link(t, r, "deltaLink")

	// Many changes: pages of Prefer odata.maxpagesize with nextLinks, the
	// last one with the delta link; every change exactly once.
	// Keys of different lengths (7 < 85 < 913 < 30001 ...): pages must
	// follow the keys' order, not their text's.
	exec(`INSERT INTO "Orders" ("CustomerID","OrderDate","Total","Status") SELECT 'ALFKI', '2024-08-01', 100 + g, 'Bulk' FROM generate_series(1, 19) g`)
	exec(`INSERT INTO "Orders" ("OrderID","CustomerID","OrderDate","Total","Status") SELECT id, 'ALFKI', '2024-08-01', 100, 'Bulk' FROM unnest(ARRAY[7, 85, 913, 4000, 123456, 9999999]) id`)
	seen := map[string]int{}
	next, pages := delta, 0
	for next != "" {
		r = g.doURL("GET", next, nil, "Prefer", "odata.maxpagesize=10")
		pages++
		for _, m := range regexp.MustCompile(`"OrderID":(\d+),"Status":"Bulk"`).FindAllStringSubmatch(string(r.Body), -1) {
			seen[m[1]]++
		}
		next = ""
		if strings.Contains(string(r.Body), `"@odata.nextLink"`) {
			next = link(t, r, "nextLink")
		} else {
			delta = link(t, r, "deltaLink")
		}
	}
	if pages != 3 || len(seen) != 25 {
		t.Errorf("bulk changes: %d pages, %d distinct rows (want 3, 25)", pages, len(seen))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("row %s reported %d times", id, n)
		}
	}

	// A walk with tracking: the delta link comes on the last page only,
	// from the position taken before the first, so a change made during the
	// walk is in the next delta.
	r = g.do("GET", "/odata/Orders?$select=OrderID&$filter=Status%20eq%20'Bulk'", nil, "Prefer", "odata.track-changes, odata.maxpagesize=20")
	if strings.Contains(string(r.Body), "deltaLink") || r.Header.Values("Preference-Applied") == nil {
		t.Fatalf("first page of a tracked walk: %v %s", r.Header, r.Body)
	}
	exec(`UPDATE "Orders" SET "Total" = 999 WHERE "OrderID" = 20001`)
	r = g.doURL("GET", link(t, r, "nextLink"), nil, "Prefer", "odata.track-changes, odata.maxpagesize=20")
	walkDelta := link(t, r, "deltaLink")
	if r = g.doURL("GET", walkDelta, nil); !strings.Contains(string(r.Body), `{"OrderID":20001}`) {
		t.Errorf("a change during the walk is not in its delta: %s", r.Body)
	}

	// Tampered, foreign and expired links; untracked sets ignore the preference.
	assertODataError(t, g.doURL("GET", strings.Replace(delta, "deltatoken=", "deltatoken=x", 1), nil), 400)
	assertODataError(t, g.doURL("GET", strings.Replace(delta, "Total%20gt%2050", "Total%20gt%2051", 1), nil), 400)
	assertODataError(t, g.doURL("GET", delta+"&$top=1", nil), 400)
	r = g.do("GET", "/odata/Customers?$top=0", nil, track...)
	if r.Status != 200 || r.Header.Get("Preference-Applied") != "" || strings.Contains(string(r.Body), "deltaLink") {
		t.Errorf("untracked set: %v %s", r.Header, r.Body)
	}
	clk.Advance(7*24*time.Hour + time.Minute)
	e := assertODataError(t, g.doURL("GET", delta, nil), 410)
	if e["code"] != "Gone" {
		t.Errorf("expired link: %v", e)
	}

	// status, then remove: the triggers and the log are gone.
	if out := trackCmd(t, "status", []string{"Orders"}, "--db", dsn); !regexp.MustCompile(`Orders\s+true\s+[1-9]\d*\s+\d{4}-`).MatchString(out) {
		t.Errorf("track status:\n%s", out)
	}
	if out := trackCmd(t, "remove", []string{"Orders"}, "--db", dsn); !regexp.MustCompile(`Orders\s+false`).MatchString(out) {
		t.Errorf("track remove:\n%s", out)
	}
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM pg_trigger WHERE tgname = 'odatagw_track'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("triggers left after remove: %d %v", n, err)
	}
	exec(`UPDATE "Orders" SET "Total" = 1 WHERE "OrderID" = 10249`) // writes work without the log
}

// TestChangeTrackingSQLite: the embedded demo tracks changes too.
func TestChangeTrackingSQLite(t *testing.T) {
	t.Parallel()
	demo := filepath.Join(t.TempDir(), "demo.sqlite")
	trackCmd(t, "install", []string{"orders"}, "--demo-path", demo)
	c := app.Default()
	c.Listen = "127.0.0.1:0"
	c.DemoPath = demo
	c.TokenKey = testKey
	c.Guard.RatePerSecond = -1
	c.LogLevel = "warn"
	c.Sets = map[string]app.SetConfig{"orders": {TrackChanges: true}}
	g := start(t, c)
	if md := string(g.do("GET", "/odata/$metadata", nil).Body); strings.Contains(md, "odatagw_") {
		t.Errorf("$metadata exposes the change log")
	}
	r := g.do("GET", "/odata/orders?$select=order_id,status&$filter=status%20ne%20'Cancelled'&$top=0", nil, "Prefer", "odata.track-changes")
	delta := link(t, r, "deltaLink")
	db, err := sql.Open("sqlite", demo)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{
		`UPDATE orders SET status = 'Packed' WHERE order_id = 2`,
		`UPDATE orders SET status = 'Cancelled' WHERE order_id = 3`,
		`DELETE FROM order_lines WHERE order_id = 4`,
		`DELETE FROM orders WHERE order_id = 4`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if w := g.do("PATCH", "/odata/orders(1)", []byte(`{"status":"Paid"}`)); w.Status != 204 {
		t.Fatalf("PATCH: %d %s", w.Status, w.Body)
	}
	r = g.doURL("GET", delta, nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#orders(order_id,status)/$delta","value":[`+
		`{"order_id":1,"status":"Paid"},{"order_id":2,"status":"Packed"},`+
		`{"@odata.context":"BASE/odata/$metadata#orders/$deletedEntity","id":"BASE/odata/orders(3)","reason":"changed"},`+
		`{"@odata.context":"BASE/odata/$metadata#orders/$deletedEntity","id":"BASE/odata/orders(4)","reason":"deleted"}],`+
		`"@odata.deltaLink":"BASE/odata/orders?$filter=status%20ne%20'Cancelled'&$select=order_id,status&$deltatoken=TOKEN"}`)

	// Delta responses list the entities' own properties: with $compute the
	// preference is not applied, and a delta link takes no $compute.
	r = g.do("GET", "/odata/orders?$compute=order_id%20mod%202%20as%20m&$select=order_id,m&$top=0", nil, "Prefer", "odata.track-changes")
	if r.Status != 200 || strings.Contains(string(r.Body), "deltaLink") || r.Header.Get("Preference-Applied") != "" {
		t.Errorf("$compute with track-changes: %d %s %v", r.Status, r.Body, r.Header)
	}
	d := link(t, g.doURL("GET", delta, nil), "deltaLink")
	if r = g.doURL("GET", d+"&$compute=order_id%20mod%202%20as%20m", nil); r.Status != 400 {
		t.Errorf("a delta link with $compute: %d %s", r.Status, r.Body)
	}
}

// TestCheckChangeTracking: `odatagw check` runs Salesforce's handshake and
// one poll on sets that $metadata says are tracked.
func TestCheckChangeTracking(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	trackCmd(t, "install", []string{"Orders"}, "--db", dsn)
	c := fixtureConfig(dsn)
	c.Sets["Orders"] = app.SetConfig{TrackChanges: true}
	c.LogLevel = "warn"
	g := start(t, c)
	items := runCheck(t, conformance.Options{URL: g.base + "/odata", Sets: []string{"Orders", "Customers"}})
	if !hasCheck(items, "Orders", "change tracking", conformance.Pass) {
		t.Errorf("no passing change-tracking check on Orders:\n%s", checkFailures(items))
	}
	for _, it := range items {
		if it.Set == "Customers" && it.Check == "change tracking" {
			t.Errorf("change tracking checked on an untracked set: %+v", it)
		}
	}
}

// TestChangeTrackingCompositeKey: a composite key, and an update that
// changes the key: the old key is reported deleted, the new one changed.
func TestChangeTrackingCompositeKey(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	trackCmd(t, "install", []string{"order_lines"}, "--db", dsn)
	c := fixtureConfig(dsn)
	c.Sets["order_lines"] = app.SetConfig{TrackChanges: true}
	c.LogLevel = "warn"
	g := start(t, c)
	r := g.do("GET", "/odata/order_lines?$select=quantity&$top=0", nil, "Prefer", "odata.track-changes")
	delta := link(t, r, "deltaLink")
	pgtest.MustExec(t, dsn, `UPDATE order_lines SET line_no = 9 WHERE order_id = 10248 AND line_no = 1;
UPDATE order_lines SET quantity = 11 WHERE order_id = 10249 AND line_no = 1`)
	r = g.doURL("GET", delta, nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#order_lines(quantity)/$delta","value":[`+
		`{"@odata.context":"BASE/odata/$metadata#order_lines/$deletedEntity","id":"BASE/odata/order_lines(order_id=10248,line_no=1)","reason":"deleted"},`+
		`{"order_id":10249,"line_no":1,"quantity":11},{"order_id":10248,"line_no":9,"quantity":2}],`+ // the change log's (jsonb) order
		`"@odata.deltaLink":"BASE/odata/order_lines?$select=quantity&$deltatoken=TOKEN"}`)
}

// TestChangeTrackingMySQL: the same delta links on MariaDB, with a change
// made by a transaction that is still open during a poll (its sequence
// number is lower than a change committed before the poll): the next poll
// reports it.
func TestChangeTrackingMySQL(t *testing.T) {
	t.Parallel()
	dsn := mysqlFixtureDSN(t)
	if out := trackCmd(t, "install", []string{"Orders"}, "--db", dsn); !regexp.MustCompile(`Orders\s+true\s+0\s+-`).MatchString(out) {
		t.Fatalf("track install printed:\n%s", out)
	}
	c := baseConfig(dsn)
	c.Sets = map[string]app.SetConfig{"open_orders": {Key: []string{"OrderID"}}, "Orders": {TrackChanges: true}}
	g := start(t, c)
	if md := string(g.do("GET", "/odata/$metadata", nil).Body); strings.Contains(md, "odatagw_") ||
		strings.Count(md, `<Annotation Term="Capabilities.ChangeTracking">`) != 1 {
		t.Errorf("$metadata shows the change log or misses the annotation")
	}
	track := []string{"Prefer", "odata.track-changes"}
	r := g.do("GET", "/odata/Orders?$select=OrderID,Status&$filter=Total%20gt%2050&$top=0", nil, track...)
	delta := link(t, r, "deltaLink")

	w1, w2 := mytest.Open(t, dsn), mytest.Open(t, dsn)
	slow, err := w1.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = slow.Rollback() })
	if _, err := slow.Exec(`UPDATE "Orders" SET "Status" = 'Slow' WHERE "OrderID" = 10250`); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`INSERT INTO "Orders" ("OrderID","CustomerID","OrderDate","Total","Status") VALUES (30000,'ALFKI','2024-07-01',75,'Open')`,
		`UPDATE "Orders" SET "Status" = 'Packed' WHERE "OrderID" = 10249`,
		`UPDATE "Orders" SET "Total" = 10 WHERE "OrderID" = 10248`,
		`DELETE FROM "order_lines" WHERE "order_id" = 10249`,
	} {
		if _, err := w2.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if w := g.do("PATCH", "/odata/Orders(30000)", []byte(`{"Status":"Paid"}`)); w.Status != 204 {
		t.Fatalf("PATCH: %d %s", w.Status, w.Body)
	}
	r = g.doURL("GET", delta, nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Status)/$delta","value":[`+
		`{"@odata.context":"BASE/odata/$metadata#Orders/$deletedEntity","id":"BASE/odata/Orders(10248)","reason":"changed"},`+
		`{"OrderID":10249,"Status":"Packed"},{"OrderID":30000,"Status":"Paid"}],`+
		`"@odata.deltaLink":"BASE/odata/Orders?$filter=Total%20gt%2050&$select=OrderID,Status&$deltatoken=TOKEN"}`)
	delta = link(t, r, "deltaLink")
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	// The position stayed at the open transaction's change, so the changes
	// numbered after it are listed again (with their current state).
	r = g.doURL("GET", delta, nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Status)/$delta","value":[`+
		`{"@odata.context":"BASE/odata/$metadata#Orders/$deletedEntity","id":"BASE/odata/Orders(10248)","reason":"changed"},`+
		`{"OrderID":10249,"Status":"Packed"},{"OrderID":10250,"Status":"Slow"},{"OrderID":30000,"Status":"Paid"}],`+
		`"@odata.deltaLink":"BASE/odata/Orders?$filter=Total%20gt%2050&$select=OrderID,Status&$deltatoken=TOKEN"}`)
	r = g.doURL("GET", link(t, r, "deltaLink"), nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Status)/$delta","value":[],`+
		`"@odata.deltaLink":"BASE/odata/Orders?$filter=Total%20gt%2050&$select=OrderID,Status&$deltatoken=TOKEN"}`)
	if out := trackCmd(t, "remove", []string{"Orders"}, "--db", dsn); !strings.Contains(out, "false") {
		t.Errorf("track remove printed:\n%s", out)
	}
}
