package test

import (
	"bytes"
	"compress/gzip"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/odatagw/odatagw/server/app"
)

// rowCount counts rows of a table in the fixture database.
func rowCount(t testing.TB, dsn, table string) int {
	t.Helper()
	return rowCountWhere(t, dsn, table, "true")
}

// rowCountWhere counts the rows of table matching the SQL condition where.
func rowCountWhere(t testing.TB, dsn, table, where string) int {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM ` + table + ` WHERE ` + where).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreate(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	c := baseConfig(dsn)
	g := start(t, c)

	// Client-supplied key: 201, Location, the entity as stored (defaults included).
	r := g.do("POST", "/odata/Customers", []byte(`{"CustomerID":"NEWCO","Name":"New Co","City":"Oslo","Country":"Norway","CreatedAt":"2024-05-01T08:00:00Z","CreditLimit":2500.00,"Active":true,"@odata.type":"#odatagw.Customers"}`))
	g.expect(t, r, 201, `{"@odata.context":"BASE/odata/$metadata#Customers/$entity","CustomerID":"NEWCO","Name":"New Co","City":"Oslo","Country":"Norway","CreatedAt":"2024-05-01T08:00:00Z","CreditLimit":2500.00,"Active":true}`)
	if loc := r.Header.Get("Location"); loc != g.base+"/odata/Customers(%27NEWCO%27)" {
		t.Errorf("Location = %q", loc)
	}
	if r := g.do("GET", "/odata/Customers('NEWCO')?$select=CustomerID", nil); r.Status != 200 {
		t.Errorf("created entity not readable: %d", r.Status)
	}

	// Server-generated key (identity) and defaults: the response carries them.
	r = g.do("POST", "/odata/Orders", []byte(`{"CustomerID":"NEWCO","OrderDate":"2024-05-02","Total":199.90}`))
	g.expect(t, r, 201, `{"@odata.context":"BASE/odata/$metadata#Orders/$entity","OrderID":20000,"CustomerID":"NEWCO","OrderDate":"2024-05-02","Total":199.90,"Status":"Open"}`)
	if loc := r.Header.Get("Location"); loc != g.base+"/odata/Orders(20000)" {
		t.Errorf("Location = %q", loc)
	}

	// Edm.Date given as a date-time (Salesforce models Date as DateTime).
	r = g.do("POST", "/odata/Orders", []byte(`{"CustomerID":"NEWCO","OrderDate":"2024-05-03T00:00:00Z","Total":1}`))
	if r.Status != 201 || !strings.Contains(string(r.Body), `"OrderDate":"2024-05-03"`) {
		t.Fatalf("date-time into Date: %d %s", r.Status, r.Body)
	}

	// return=minimal: 204 with OData-EntityId.
	r = g.do("POST", "/odata/Customers", []byte(`{"CustomerID":"MINI","Name":"Minimal"}`), "Prefer", "return=minimal")
	if r.Status != 204 || len(r.Body) != 0 || r.Header.Get("OData-EntityId") != g.base+"/odata/Customers(%27MINI%27)" {
		t.Fatalf("return=minimal: %d %v %s", r.Status, r.Header, r.Body)
	}

	// Quoted key through the write path and the Location header.
	r = g.do("POST", "/odata/Customers", []byte(`{"CustomerID":"D'ARC","Name":"Jeanne"}`))
	if r.Status != 201 || r.Header.Get("Location") != g.base+"/odata/Customers(%27D%27%27ARC%27)" {
		t.Fatalf("quoted key: %d %v", r.Status, r.Header)
	}
	if r := g.doURL("GET", r.Header.Get("Location"), nil); r.Status != 200 {
		t.Fatalf("Location of a quoted key is not readable: %d %s", r.Status, r.Body)
	}

	// gzip request body (Salesforce "Compress Requests").
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(`{"CustomerID":"GZIP","Name":"Zipped"}`))
	zw.Close()
	r = g.do("POST", "/odata/Customers", buf.Bytes(), "Content-Encoding", "gzip")
	if r.Status != 201 {
		t.Fatalf("gzip body: %d %s", r.Status, r.Body)
	}
}

func TestUpdateAndDelete(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	g := start(t, baseConfig(dsn))

	// PATCH: partial, 204; the change is visible.
	r := g.do("PATCH", "/odata/Orders(10248)", []byte(`{"Status":"Shipped"}`))
	if r.Status != 204 || len(r.Body) != 0 {
		t.Fatalf("PATCH: %d %s", r.Status, r.Body)
	}
	g.expect(t, g.do("GET", "/odata/Orders(10248)?$select=OrderID,Status,Total", nil), 200,
		`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Total,Status)/$entity","OrderID":10248,"Total":100.50,"Status":"Shipped"}`)

	// Salesforce's UI edit sends every field, the key included (unchanged).
	r = g.do("PATCH", "/odata/Customers('ALFKI')", []byte(`{"CustomerID":"ALFKI","Name":"Alfreds Futterkiste","City":"Berlin","Country":"Germany","CreatedAt":"2019-03-01T00:00:00Z","CreditLimit":12000.00,"Active":true}`))
	if r.Status != 204 {
		t.Fatalf("full-field PATCH: %d %s", r.Status, r.Body)
	}
	// return=representation: 200 with the entity.
	r = g.do("PATCH", "/odata/Customers('O''BRIEN')", []byte(`{"City":"Cork"}`), "Prefer", "return=representation")
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers/$entity","CustomerID":"O'BRIEN","Name":"O'Brien & Sons","City":"Cork","Country":"Ireland","CreatedAt":"2024-01-15T23:59:59.999999Z","CreditLimit":null,"Active":false}`)
	// Percent-encoded quoted key in the path.
	r = g.do("PATCH", "/odata/Customers('O%27%27BRIEN')", []byte(`{"City":"Dublin"}`))
	if r.Status != 204 {
		t.Fatalf("PATCH with %%27%%27 key: %d %s", r.Status, r.Body)
	}
	// PUT: properties left out become null or their default.
	r = g.do("PUT", "/odata/Customers('BERGS')", []byte(`{"Name":"Berglunds"}`), "Prefer", "return=representation")
	if r.Status != 200 {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	m := r.json(t)
	if m["City"] != nil || m["Country"] != nil || m["CreditLimit"] != nil || m["Active"] != true || m["Name"] != "Berglunds" {
		t.Fatalf("PUT did not replace: %s", r.Body)
	}
	// MERGE and tunnelled methods.
	if r := g.do("MERGE", "/odata/Orders(10249)", []byte(`{"Status":"Invoiced"}`)); r.Status != 204 {
		t.Fatalf("MERGE: %d %s", r.Status, r.Body)
	}
	if r := g.do("POST", "/odata/Orders(10249)", []byte(`{"Status":"Open"}`), "X-HTTP-Method", "MERGE"); r.Status != 204 {
		t.Fatalf("POST + X-HTTP-Method MERGE: %d %s", r.Status, r.Body)
	}
	if r := g.do("POST", "/odata/Orders(10249)", []byte(`{"Status":"Open"}`), "X-HTTP-Method", "PATCH"); r.Status != 204 {
		t.Fatalf("POST + X-HTTP-Method PATCH: %d %s", r.Status, r.Body)
	}
	// Composite key.
	if r := g.do("PATCH", "/odata/order_lines(order_id=10248,line_no=1)", []byte(`{"quantity":5}`)); r.Status != 204 {
		t.Fatalf("composite PATCH: %d %s", r.Status, r.Body)
	}
	// Changing a key: 400, nothing changes.
	r = g.do("PATCH", "/odata/Orders(10250)", []byte(`{"OrderID":1,"Status":"Shipped"}`))
	assertODataError(t, r, 400)
	g.expect(t, g.do("GET", "/odata/Orders(10250)?$select=Status", nil), 200,
		`{"@odata.context":"BASE/odata/$metadata#Orders(Status)/$entity","Status":"Open"}`)
	// Missing key: 404 for PATCH, PUT and DELETE.
	for _, m := range []string{"PATCH", "PUT"} {
		assertODataError(t, g.do(m, "/odata/Orders(1)", []byte(`{"Status":"x","CustomerID":"ALFKI","OrderDate":"2024-01-01","Total":1}`)), 404)
	}
	assertODataError(t, g.do("DELETE", "/odata/Orders(1)", nil), 404)

	// DELETE: 204, then 404.
	if r := g.do("DELETE", "/odata/Orders(10253)", nil); r.Status != 204 {
		t.Fatalf("DELETE: %d %s", r.Status, r.Body)
	}
	assertODataError(t, g.do("GET", "/odata/Orders(10253)", nil), 404)
	assertODataError(t, g.do("DELETE", "/odata/Orders(10253)", nil), 404)
	if r := g.do("POST", "/odata/Orders(10252)", nil, "X-HTTP-Method", "DELETE"); r.Status != 204 {
		t.Fatalf("POST + X-HTTP-Method DELETE: %d %s", r.Status, r.Body)
	}
	if r := g.do("DELETE", "/odata/order_lines(order_id=10248,line_no=2)", nil); r.Status != 204 {
		t.Fatalf("composite DELETE: %d %s", r.Status, r.Body)
	}
}

func TestUpsertWhenConfigured(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) { c.Upsert = true })
	r := g.do("PATCH", "/odata/Customers('UPS')", []byte(`{"Name":"Upserted"}`), "Prefer", "return=representation")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"CustomerID":"UPS"`) {
		t.Fatalf("upsert: %d %s", r.Status, r.Body)
	}
}

func TestWriteValidation(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	g := start(t, fixtureConfig(dsn))
	before := rowCount(t, dsn, `"Customers"`)
	cases := []struct {
		name, method, path, body string
		status                   int
		targets                  []string
		msg                      string
	}{
		{"unknown property", "POST", "/odata/Customers", `{"CustomerID":"X1","Name":"n","Nope":1}`, 400, []string{"Nope"}, "no property"},
		{"case-different property", "POST", "/odata/Customers", `{"CustomerID":"X1","name":"n"}`, 400, []string{"name", "Name"}, ""},
		{"wrong JSON type", "POST", "/odata/Customers", `{"CustomerID":"X1","Name":"n","Active":"yes"}`, 400, []string{"Active"}, "Edm.Boolean"},
		{"too long", "POST", "/odata/Customers", `{"CustomerID":"ELEVENCHARS","Name":"n"}`, 400, []string{"CustomerID"}, "MaxLength 10"},
		{"decimal scale", "POST", "/odata/Customers", `{"CustomerID":"X1","Name":"n","CreditLimit":1.234}`, 400, []string{"CreditLimit"}, "decimal places"},
		{"decimal precision", "POST", "/odata/Customers", `{"CustomerID":"X1","Name":"n","CreditLimit":12345678901234567.0}`, 400, []string{"CreditLimit"}, "integer digits"},
		{"invalid date", "POST", "/odata/Orders", `{"CustomerID":"ALFKI","OrderDate":"2024-02-30","Total":1}`, 400, []string{"OrderDate"}, "valid date"},
		{"invalid date-time", "POST", "/odata/Customers", `{"CustomerID":"X1","Name":"n","CreatedAt":"yesterday"}`, 400, []string{"CreatedAt"}, "date-time"},
		{"null into non-nullable", "POST", "/odata/Customers", `{"CustomerID":"X1","Name":null}`, 400, []string{"Name"}, "cannot be null"},
		{"missing required", "POST", "/odata/Customers", `{"CustomerID":"X1"}`, 400, []string{"Name"}, "required"},
		{"missing key not generated", "POST", "/odata/Customers", `{"Name":"n"}`, 400, []string{"CustomerID"}, "key property"},
		{"several problems", "POST", "/odata/Customers", `{"CustomerID":"X1","Name":5,"Active":1,"Nope":true}`, 400, []string{"Name", "Active", "Nope"}, "3 invalid"},
		{"int out of range", "POST", "/odata/order_lines", `{"order_id":10248,"line_no":40000,"sku":"a","quantity":1,"unit_price":1}`, 400, []string{"line_no"}, "out of range"},
		{"malformed JSON", "POST", "/odata/Customers", `{"CustomerID":"X1",`, 400, nil, "malformed JSON"},
		{"JSON with position", "POST", "/odata/Customers", `{"CustomerID" "X1"}`, 400, nil, "byte 14"},
		{"not an object", "POST", "/odata/Customers", `["CustomerID"]`, 400, nil, "JSON object"},
		{"trailing data", "POST", "/odata/Customers", `{"CustomerID":"X1","Name":"n"} {}`, 400, nil, "after the JSON"},
		{"duplicate member", "POST", "/odata/Customers", `{"CustomerID":"X1","Name":"a","Name":"b"}`, 400, nil, "twice"},
		{"POST to an entity", "POST", "/odata/Customers('ALFKI')", `{"Name":"n"}`, 405, nil, "entity set"},
		{"PATCH without key", "PATCH", "/odata/Customers", `{"Name":"n"}`, 405, nil, "needs a key"},
		{"read-only view", "POST", "/odata/open_orders", `{"OrderID":1}`, 405, nil, "read-only"},
		{"unique violation", "POST", "/odata/Customers", `{"CustomerID":"ALFKI","Name":"dup"}`, 409, nil, "already exists"},
		{"foreign key violation", "POST", "/odata/Orders", `{"CustomerID":"NOBODY","OrderDate":"2024-01-01","Total":1}`, 409, nil, "Orders_CustomerID_fkey"},
		{"referenced row delete", "DELETE", "/odata/Customers('ANATR')", ``, 409, nil, "reference"},
		{"check violation", "POST", "/odata/Orders", `{"CustomerID":"ALFKI","OrderDate":"2024-01-01","Total":-1}`, 400, nil, "check constraint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			r := g.do(tc.method, tc.path, body)
			e := assertODataError(t, r, tc.status)
			msg := fmt.Sprint(e["message"])
			if tc.msg != "" && !strings.Contains(msg, tc.msg) && !strings.Contains(string(r.Body), tc.msg) {
				t.Errorf("message %q does not mention %q", msg, tc.msg)
			}
			if tc.status == 405 && r.Header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			for _, target := range tc.targets {
				if !strings.Contains(string(r.Body), `"target":"`+target+`"`) {
					t.Errorf("no detail targets %s: %s", target, r.Body)
				}
			}
		})
	}
	if after := rowCount(t, dsn, `"Customers"`); after != before {
		t.Fatalf("rejected writes changed the table: %d rows, was %d", after, before)
	}
	if n := rowCount(t, dsn, `"Orders"`); n != 6 {
		t.Fatalf("rejected writes changed Orders: %d rows", n)
	}
	// Media type and size.
	r := g.do("POST", "/odata/Customers", []byte(`CustomerID=X`), "Content-Type", "application/x-www-form-urlencoded")
	assertODataError(t, r, 415)
	big := append([]byte(`{"CustomerID":"X2","Name":"`), bytes.Repeat([]byte("a"), 9<<20)...)
	big = append(big, `"}`...)
	assertODataError(t, g.do("POST", "/odata/Customers", big), 413)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(big)
	zw.Close()
	assertODataError(t, g.do("POST", "/odata/Customers", gz.Bytes(), "Content-Encoding", "gzip"), 413)
	assertODataError(t, g.do("POST", "/odata/Customers", []byte("not gzip"), "Content-Encoding", "gzip"), 400)
	if after := rowCount(t, dsn, `"Customers"`); after != before {
		t.Fatalf("rejected writes changed the table: %d rows, was %d", after, before)
	}
}

func TestETagsAndIfMatch(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) {
		c.Sets["Customers"] = app.SetConfig{ETagHash: true}
	})
	r := g.do("GET", "/odata/Customers('ALFKI')", nil)
	etag := r.Header.Get("ETag")
	if !strings.HasPrefix(etag, `W/"`) || !strings.Contains(string(r.Body), `"@odata.etag":`) {
		t.Fatalf("no ETag: %v %s", r.Header, r.Body)
	}
	// One entity, one ETag, whatever the projection.
	for _, sel := range []string{"?$select=Name", "?$select=CustomerID", "?$select=City,Active"} {
		if got := g.do("GET", "/odata/Customers('ALFKI')"+sel, nil).Header.Get("ETag"); got != etag {
			t.Errorf("ETag with %s = %s, want %s", sel, got, etag)
		}
	}
	coll := g.do("GET", "/odata/Customers?$select=Name&$filter=CustomerID%20eq%20'ALFKI'", nil)
	if !strings.Contains(string(coll.Body), `"@odata.etag":"`+strings.ReplaceAll(etag, `"`, `\"`)+`"`) {
		t.Errorf("collection ETag differs from the entity's %s: %s", etag, coll.Body)
	}
	if strings.Contains(string(coll.Body), `"City"`) {
		t.Errorf("$select=Name returned other properties: %s", coll.Body)
	}
	// Collections carry @odata.etag per entity.
	if r := g.do("GET", "/odata/Customers?$top=1", nil); !strings.Contains(string(r.Body), `"@odata.etag"`) {
		t.Fatalf("collection lacks @odata.etag: %s", r.Body)
	}
	// If-Match is optional (Salesforce does not send it).
	if r := g.do("PATCH", "/odata/Customers('ANATR')", []byte(`{"City":"Puebla"}`)); r.Status != 204 {
		t.Fatalf("PATCH without If-Match: %d", r.Status)
	}
	// Wrong If-Match: 412 and nothing changes.
	r = g.do("PATCH", "/odata/Customers('ALFKI')", []byte(`{"City":"Hamburg"}`), "If-Match", `W/"stale"`)
	assertODataError(t, r, 412)
	// Right If-Match: 204 and a new ETag.
	r = g.do("PATCH", "/odata/Customers('ALFKI')", []byte(`{"City":"Hamburg"}`), "If-Match", etag)
	if r.Status != 204 || r.Header.Get("ETag") == etag || r.Header.Get("ETag") == "" {
		t.Fatalf("PATCH with If-Match: %d %v", r.Status, r.Header)
	}
	// The old ETag no longer matches, for DELETE either.
	assertODataError(t, g.do("DELETE", "/odata/Customers('ALFKI')", nil, "If-Match", etag), 412)

	// Concurrent PATCHes with the same If-Match: exactly one wins.
	etag = g.do("GET", "/odata/Customers('BERGS')", nil).Header.Get("ETag")
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = g.do("PATCH", "/odata/Customers('BERGS')", []byte(fmt.Sprintf(`{"City":"C%d"}`, i)), "If-Match", etag).Status
		}(i)
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case 204:
			won++
		case 412:
		default:
			t.Errorf("concurrent PATCH status %d", s)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent PATCHes with one If-Match succeeded (statuses %v)", won, statuses)
	}
	// Without If-Match, concurrent PATCHes all succeed (last writer wins).
	for i := range statuses {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = g.do("PATCH", "/odata/Customers('SALES')", []byte(fmt.Sprintf(`{"City":"C%d"}`, i))).Status
		}(i)
	}
	wg.Wait()
	for _, s := range statuses {
		if s != 204 {
			t.Fatalf("concurrent PATCH without If-Match: %v", statuses)
		}
	}
}

func TestRowVersionETag(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) {
		c.Sets["Customers"] = app.SetConfig{ETag: "CreatedAt"}
	})
	full := g.do("GET", "/odata/Customers('ALFKI')", nil)
	etag := full.Header.Get("ETag")
	if etag != `W/"2019-03-01T10:15:30.123456Z"` {
		t.Fatalf("row-version ETag = %q", etag)
	}
	r := g.do("GET", "/odata/Customers('ALFKI')?$select=Name", nil)
	if r.Header.Get("ETag") != etag {
		t.Fatalf("ETag without the version column selected = %q", r.Header.Get("ETag"))
	}
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(Name)/$entity","@odata.etag":"W/\"2019-03-01T10:15:30.123456Z\"","Name":"Alfreds Futterkiste"}`)
	assertODataError(t, g.do("PATCH", "/odata/Customers('ALFKI')", []byte(`{"City":"x"}`), "If-Match", `W/"2000-01-01T00:00:00Z"`), 412)
	if r := g.do("PATCH", "/odata/Customers('ALFKI')", []byte(`{"City":"x"}`), "If-Match", etag); r.Status != 204 {
		t.Fatalf("PATCH with the row-version ETag: %d %s", r.Status, r.Body)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) { c.CSRF.Enabled = true })
	// A write without a token: 403 and X-CSRF-Token: Required.
	r := g.do("POST", "/odata/Customers", []byte(`{"CustomerID":"CSRF1","Name":"n"}`))
	assertODataError(t, r, 403)
	if r.Header.Get("X-CSRF-Token") != "Required" {
		t.Fatalf("no X-CSRF-Token: Required: %v", r.Header)
	}
	// Fetch a token on the service document, then write with it.
	r = g.do("GET", "/odata/", nil, "X-CSRF-Token", "Fetch")
	token := r.Header.Get("X-CSRF-Token")
	if r.Status != 200 || token == "" || token == "Fetch" {
		t.Fatalf("fetch: %d %v", r.Status, r.Header)
	}
	if r := g.do("POST", "/odata/Customers", []byte(`{"CustomerID":"CSRF1","Name":"n"}`), "X-CSRF-Token", token); r.Status != 201 {
		t.Fatalf("write with token: %d %s", r.Status, r.Body)
	}
	// $metadata also hands out tokens; a stale (edited) token is rejected.
	r = g.do("GET", "/odata/$metadata", nil, "X-CSRF-Token", "Fetch")
	if r.Header.Get("X-CSRF-Token") == "" {
		t.Fatal("no token from $metadata")
	}
	r = g.do("PATCH", "/odata/Customers('ALFKI')", []byte(`{"City":"x"}`), "X-CSRF-Token", flip(token))
	assertODataError(t, r, 403)
	if r.Header.Get("X-CSRF-Token") != "Required" {
		t.Fatal("stale token: no Required header")
	}
	// Reads need no token.
	if r := g.do("GET", "/odata/Customers?$top=1", nil); r.Status != 200 {
		t.Fatalf("read: %d", r.Status)
	}
}

func TestAuditLog(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	g.do("PATCH", "/odata/Orders(10248)", []byte(`{"Status":"Shipped"}`))
	g.do("DELETE", "/odata/Orders(1)", nil)
	logs := g.logs()
	for _, want := range []string{
		`"audit":"update","request_id":`, `"principal":"anonymous","set":"Orders","key":"10248","outcome":"ok"`,
		`"audit":"delete"`, `"key":"1","outcome":"NotFound"`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
}

// TestWritesOnSQLite runs the Salesforce create/edit/delete cycle on the
// embedded demo database.
func TestWritesOnSQLite(t *testing.T) {
	t.Parallel()
	c := demoConfig(t)
	c.Sets = map[string]app.SetConfig{"customers": {ETagHash: true}}
	g := start(t, c)

	r := g.do("POST", "/odata/customers", []byte(`{"customer_id":"SF0001","name":"From Salesforce","country":"DE","created_at":"2024-05-01T08:00:00.123456Z","credit_limit":2500.5,"active":true}`))
	if r.Status != 201 || !strings.Contains(string(r.Body), `"credit_limit":2500.50`) || !strings.Contains(string(r.Body), `"created_at":"2024-05-01T08:00:00.123456Z"`) {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	r = g.do("POST", "/odata/orders", []byte(`{"customer_id":"SF0001","order_date":"2024-05-02","status":"Open","total":10}`))
	if r.Status != 201 || !strings.Contains(r.Header.Get("Location"), "/odata/orders(") {
		t.Fatalf("create with generated key: %d %v %s", r.Status, r.Header, r.Body)
	}
	loc := r.Header.Get("Location")
	if r := g.doURL("PATCH", loc, []byte(`{"status":"Shipped"}`)); r.Status != 204 {
		t.Fatalf("patch: %d %s", r.Status, r.Body)
	}
	if r := g.doURL("GET", loc, nil); !strings.Contains(string(r.Body), `"status":"Shipped"`) {
		t.Fatalf("patch not visible: %s", r.Body)
	}
	assertODataError(t, g.do("POST", "/odata/customers", []byte(`{"customer_id":"SF0001","name":"dup","country":"DE","created_at":"2024-05-01T08:00:00Z","credit_limit":1,"active":true}`)), 409)
	assertODataError(t, g.do("POST", "/odata/orders", []byte(`{"customer_id":"NOBODY","order_date":"2024-05-02","status":"Open","total":10}`)), 409)
	assertODataError(t, g.do("POST", "/odata/customers", []byte(`{"customer_id":"SF0002"}`)), 400)
	etag := g.do("GET", "/odata/customers('SF0001')", nil).Header.Get("ETag")
	assertODataError(t, g.do("PATCH", "/odata/customers('SF0001')", []byte(`{"city":"x"}`), "If-Match", `W/"old"`), 412)
	if r := g.do("PATCH", "/odata/customers('SF0001')", []byte(`{"city":"x"}`), "If-Match", etag); r.Status != 204 {
		t.Fatalf("If-Match on SQLite: %d %s", r.Status, r.Body)
	}
	if r := g.doURL("DELETE", loc, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	assertODataError(t, g.doURL("GET", loc, nil), 404)
	// Quoted key on SQLite.
	if r := g.do("GET", "/odata/customers('C''QUOTE1')?$select=customer_id", nil); r.Status != 200 {
		t.Fatalf("quoted key: %d %s", r.Status, r.Body)
	}
}
