package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/server/app"
)

// TestClientLeniency covers protocol details real OData clients trip over
// (SAP Cloud SDK, SAP CAP, odata2ts, Olingo, conformance suites).
func TestClientLeniency(t *testing.T) {
	t.Parallel()
	g := startFixture(t)

	t.Run("Int64 literals with an L suffix (SAP Cloud SDK)", func(t *testing.T) {
		for _, p := range []string{"/odata/Orders(10248L)", "/odata/Orders(OrderID=10248L)"} {
			if r := g.do("GET", p, nil); r.Status != 200 || !strings.Contains(string(r.Body), `"OrderID":10248`) {
				t.Errorf("%s: %d %s", p, r.Status, r.Body)
			}
		}
		p := g.getPage(t, "/odata/Orders?$filter=OrderID lt 10250L and Total gt 100.5m&$select=OrderID")
		if p.status != 200 || len(p.rows) != 1 {
			t.Errorf("suffixed literals in $filter: %d %v", p.status, p.rows)
		}
	})

	t.Run("odata.streaming only when asked for (SAP CAP)", func(t *testing.T) {
		r := g.do("GET", "/odata/Customers?$top=1", nil, "Accept", "application/json")
		if ct := r.Header.Get("Content-Type"); ct != "application/json;odata.metadata=minimal" {
			t.Errorf("Content-Type %q", ct)
		}
		r = g.do("GET", "/odata/Customers('ALFKI')", nil, "Accept", "application/json;odata.streaming=true")
		if ct := r.Header.Get("Content-Type"); ct != "application/json;odata.metadata=minimal;odata.streaming=true" {
			t.Errorf("asked for streaming: Content-Type %q", ct)
		}
	})

	t.Run("IEEE754Compatible on write responses", func(t *testing.T) {
		r := g.do("POST", "/odata/Orders", []byte(`{"CustomerID":"ALFKI","OrderDate":"2024-06-01","Total":"12.30"}`),
			"Accept", "application/json;IEEE754Compatible=true")
		if r.Status != 201 || !strings.Contains(r.Header.Get("Content-Type"), "IEEE754Compatible=true") ||
			!strings.Contains(string(r.Body), `"Total":"12.30"`) || !strings.Contains(string(r.Body), `"OrderID":"2`) {
			t.Errorf("POST: %d %v %s", r.Status, r.Header, r.Body)
		}
		r = g.do("PATCH", "/odata/Orders(10250)", []byte(`{"Status":"Held"}`),
			"Accept", "application/json;IEEE754Compatible=true", "Prefer", "return=representation")
		if r.Status != 200 || !strings.Contains(string(r.Body), `"OrderID":"10250"`) || !strings.Contains(string(r.Body), `"Total":"99.99"`) {
			t.Errorf("PATCH: %d %s", r.Status, r.Body)
		}
	})

	t.Run("collection options on a single entity are 400", func(t *testing.T) {
		for _, o := range []string{"$skip=5", "$top=1", "$filter=Total gt 1", "$orderby=Total", "$search=x", "$count=true"} {
			r := g.do("GET", "/odata/Orders(10248)?"+o, nil)
			e := assertODataError(t, r, 400)
			if name, _, _ := strings.Cut(o, "="); e["target"] != name {
				t.Errorf("%s: target %v", o, e["target"])
			}
		}
		if r := g.do("GET", "/odata/Orders(10248)?$select=Total", nil); r.Status != 200 {
			t.Errorf("$select on an entity: %d", r.Status)
		}
	})

	t.Run("Preference-Applied says what was asked and applied", func(t *testing.T) {
		if r := g.do("PATCH", "/odata/Orders(10250)", []byte(`{"Status":"Open"}`)); r.Status != 204 || r.Header.Get("Preference-Applied") != "" {
			t.Errorf("PATCH without Prefer: %d, Preference-Applied %q", r.Status, r.Header.Get("Preference-Applied"))
		}
		if r := g.do("PATCH", "/odata/Orders(10250)", []byte(`{"Status":"Open"}`), "Prefer", "return=minimal"); r.Header.Get("Preference-Applied") != "return=minimal" {
			t.Errorf("PATCH with return=minimal: Preference-Applied %q", r.Header.Get("Preference-Applied"))
		}
		r := g.do("GET", "/odata/Orders?$top=2", nil, "Prefer", "odata.maxpagesize=5")
		if got := r.Header.Get("Preference-Applied"); got != "odata.maxpagesize=5" {
			t.Errorf("maxpagesize 5 with $top=2: Preference-Applied %q", got)
		}
	})

	t.Run("key as segment", func(t *testing.T) {
		if r := g.do("GET", "/odata/Orders/10248", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"OrderID":10248`) ||
			!strings.Contains(string(r.Body), `$entity`) {
			t.Errorf("Orders/10248: %d %s", r.Status, r.Body)
		}
		if r := g.do("GET", "/odata/Customers/ALFKI?$select=Name", nil); r.Status != 200 || !strings.Contains(string(r.Body), `"Name":"Alfreds Futterkiste"`) {
			t.Errorf("Customers/ALFKI: %d %s", r.Status, r.Body)
		}
		if r := g.do("PATCH", "/odata/Orders/10249", []byte(`{"Status":"Shipped"}`)); r.Status != 204 {
			t.Errorf("PATCH Orders/10249: %d %s", r.Status, r.Body)
		}
		assertODataError(t, g.do("GET", "/odata/Orders/abc", nil), 400)
		assertODataError(t, g.do("GET", "/odata/Orders/99999", nil), 404)
		if r := g.do("GET", "/odata/Orders/$count", nil); r.Status != 200 {
			t.Errorf("$count is still $count: %d", r.Status)
		}
	})
}

// TestIfNoneMatch: a GET whose If-None-Match names the entity's current
// ETag (or *) is answered 304 Not Modified without a body.
func TestIfNoneMatch(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) { c.Sets["Customers"] = app.SetConfig{ETagHash: true} })
	r := g.do("GET", "/odata/Customers('ANATR')", nil)
	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatalf("no ETag: %v", r.Header)
	}
	for _, inm := range []string{etag, `W/"other", ` + etag, "*"} {
		r = g.do("GET", "/odata/Customers('ANATR')", nil, "If-None-Match", inm)
		if r.Status != 304 || len(r.Body) != 0 || r.Header.Get("ETag") != etag {
			t.Errorf("If-None-Match %s: %d %q", inm, r.Status, r.Body)
		}
	}
	if r = g.do("GET", "/odata/Customers('ANATR')", nil, "If-None-Match", `W/"other"`); r.Status != 200 {
		t.Errorf("another ETag: %d", r.Status)
	}
}

// TestPropertyPaths: Set(key)/Name answers the property (204 when null),
// Set(key)/Name/$value its raw value (404 when null).
func TestPropertyPaths(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	g.expect(t, g.do("GET", "/odata/Customers('ALFKI')/Name", nil), 200,
		`{"@odata.context":"BASE/odata/$metadata#Customers(%27ALFKI%27)/Name","value":"Alfreds Futterkiste"}`) // the key as in Location
	g.expect(t, g.do("GET", "/odata/Orders/10248/Total", nil), 200,
		`{"@odata.context":"BASE/odata/$metadata#Orders(10248)/Total","value":100.50}`)
	r := g.do("GET", "/odata/Customers('ALFKI')/Name/$value", nil, "Accept", "text/plain")
	if r.Status != 200 || string(r.Body) != "Alfreds Futterkiste" || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Errorf("$value: %d %v %q", r.Status, r.Header, r.Body)
	}
	if r := g.do("GET", "/odata/Orders(10248)/OrderDate/$value", nil); string(r.Body) != "2024-01-15" {
		t.Errorf("date $value: %d %q", r.Status, r.Body)
	}
	if r := g.do("GET", "/odata/Customers('BERGS')/City", nil); r.Status != 204 || len(r.Body) != 0 {
		t.Errorf("null property: %d %q", r.Status, r.Body)
	}
	assertODataError(t, g.do("GET", "/odata/Customers('BERGS')/City/$value", nil), 404)
	assertODataError(t, g.do("GET", "/odata/Customers('NOPE1')/Name", nil), 404)
	assertODataError(t, g.do("GET", "/odata/Customers('ALFKI')/Name?$select=City", nil), 400)
	assertODataError(t, g.do("PUT", "/odata/Customers('ALFKI')/Name", []byte(`{"value":"x"}`)), 501)
}

// TestMetadataFormats: $metadata is CSDL XML by default and for XML or
// wildcard Accept headers (Salesforce), CSDL JSON when asked for explicitly.
func TestMetadataFormats(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	for _, tc := range []struct {
		query, accept string
		json          bool
	}{
		{"", "", false},
		{"", "application/xml", false},
		{"", "*/*", false},
		{"", "application/json, application/xml", false},
		{"", "application/json", true},
		{"?$format=json", "", true},
		{"?$format=application/json", "application/xml", true},
		{"?$format=xml", "application/json", false},
	} {
		var h []string
		if tc.accept != "" {
			h = []string{"Accept", tc.accept}
		}
		r := g.do("GET", "/odata/$metadata"+tc.query, nil, h...)
		isJSON := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
		if r.Status != 200 || isJSON != tc.json || isJSON && !strings.Contains(string(r.Body), `"$EntityContainer"`) {
			t.Errorf("%s Accept %q: %d %s json=%v", tc.query, tc.accept, r.Status, r.Header.Get("Content-Type"), isJSON)
		}
	}
	assertODataError(t, g.do("GET", "/odata/$metadata?$format=atom", nil), 406)
}

// TestMetadataLevels: odata.metadata=full adds @odata.type, @odata.id,
// @odata.editLink and property types; none keeps only count and nextLink;
// an unknown level is 406.
func TestMetadataLevels(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	full := "application/json;odata.metadata=full"
	r := g.do("GET", "/odata/Orders?$select=OrderID,Total,Status&$orderby=OrderID&$count=true", nil, "Accept", full, "Prefer", "odata.maxpagesize=1")
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Total,Status)","@odata.count":6,"value":[`+
		`{"@odata.type":"#odatagw.Orders","@odata.id":"BASE/odata/Orders(10248)","@odata.editLink":"BASE/odata/Orders(10248)",`+
		`"OrderID@odata.type":"#Int64","OrderID":10248,"Total@odata.type":"#Decimal","Total":100.50,"Status":"Open"}],`+
		`"@odata.nextLink":"BASE/odata/Orders?$orderby=OrderID&$select=OrderID,Total,Status&$count=true&$skiptoken=TOKEN"}`)
	if ct := r.Header.Get("Content-Type"); ct != full {
		t.Errorf("Content-Type %q", ct)
	}
	r = g.do("GET", "/odata/Customers('ALFKI')?$select=CustomerID,Active,CreatedAt&$format=application/json;odata.metadata=full", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,CreatedAt,Active)/$entity",`+
		`"@odata.type":"#odatagw.Customers","@odata.id":"BASE/odata/Customers(%27ALFKI%27)","@odata.editLink":"BASE/odata/Customers(%27ALFKI%27)",`+
		`"CustomerID":"ALFKI","CreatedAt@odata.type":"#DateTimeOffset","CreatedAt":"2019-03-01T10:15:30.123456Z","Active":true}`)

	none := "application/json;odata.metadata=none"
	r = g.do("GET", "/odata/Orders?$select=OrderID&$orderby=OrderID&$count=true", nil, "Accept", none, "Prefer", "odata.maxpagesize=1")
	g.expect(t, r, 200, `{"@odata.count":6,"value":[{"OrderID":10248}],`+
		`"@odata.nextLink":"BASE/odata/Orders?$orderby=OrderID&$select=OrderID&$count=true&$skiptoken=TOKEN"}`)
	if ct := r.Header.Get("Content-Type"); ct != none {
		t.Errorf("Content-Type %q", ct)
	}
	r = g.do("GET", "/odata/Customers('ALFKI')/Name", nil, "Accept", none)
	g.expect(t, r, 200, `{"value":"Alfreds Futterkiste"}`)

	// A write answers at the level asked for.
	r = g.do("POST", "/odata/Customers", []byte(`{"CustomerID":"FULL","Name":"Full Co","CreatedAt":"2024-01-01T00:00:00Z"}`), "Accept", full)
	g.expect(t, r, 201, `{"@odata.context":"BASE/odata/$metadata#Customers/$entity","@odata.type":"#odatagw.Customers",`+
		`"@odata.id":"BASE/odata/Customers(%27FULL%27)","@odata.editLink":"BASE/odata/Customers(%27FULL%27)",`+
		`"CustomerID":"FULL","Name":"Full Co","City":null,"Country":null,"CreatedAt@odata.type":"#DateTimeOffset","CreatedAt":"2024-01-01T00:00:00Z","CreditLimit":null,"Active":true}`)

	assertODataError(t, g.do("GET", "/odata/Customers?$format=application/json;odata.metadata=most", nil), 406)
	assertODataError(t, g.do("GET", "/odata/Customers", nil, "Accept", "application/json;odata.metadata=most"), 406)
}

// TestOData401Requests: what the 4.01 adapter may send. Options without
// '$' and in any case; OData-MaxVersion 4.01 answered with the 4.0 payloads
// (OData-Version 4.0); a SOQL IN list of thousands of keys as a 200 KB
// or-chain in the URL.
func TestOData401Requests(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	r := g.do("GET", "/odata/Orders?select=OrderID&FILTER=Total%20gt%2050&orderBy=OrderID&top=2&count=true", nil, "OData-MaxVersion", "4.01")
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID)","@odata.count":4,"value":[{"OrderID":10248},{"OrderID":10249}]}`)
	if v := r.Header.Get("OData-Version"); v != "4.0" {
		t.Errorf("OData-Version %q", v)
	}
	r = g.do("GET", "/odata/Orders?$select=OrderID&orderby=OrderID&filter=Total%20gt%2050", nil, "Prefer", "odata.maxpagesize=1")
	if !strings.Contains(string(r.Body), `"@odata.nextLink":"`+g.base+`/odata/Orders?$filter=Total%20gt%2050&$orderby=OrderID&$select=OrderID&$skiptoken=`) {
		t.Errorf("nextLink not in canonical $-form: %s", r.Body)
	}
	assertODataError(t, g.do("GET", "/odata/Orders?top=1&$top=2", nil), 400)

	// 7,500 keys or-ed: about 200 KB of URL.
	var b strings.Builder
	for i := 0; i < 7500; i++ {
		if i > 0 {
			b.WriteString("%20or%20")
		}
		fmt.Fprintf(&b, "OrderID%%20eq%%20%d", 6+i*7) // never one of the fixture's orders
	}
	b.WriteString("%20or%20OrderID%20eq%2010250%20or%20OrderID%20eq%2010252")
	if b.Len() < 190<<10 || b.Len() > 240<<10 {
		t.Fatalf("URL of %d bytes, want about 200 KB", b.Len())
	}
	r = g.do("GET", "/odata/Orders?$select=OrderID&$count=true&$filter="+b.String(), nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID)","@odata.count":2,"value":[{"OrderID":10250},{"OrderID":10252}]}`)
	if !strings.Contains(g.logs(), `= ANY(`) {
		t.Errorf("the or-chain was not sent as one list")
	}
}

// TestMatchesPattern: matchesPattern runs in the database (PostgreSQL's ~,
// SQLite's REGEXP with Go's RE2), case-sensitive; a malformed pattern is 400.
func TestMatchesPattern(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	r := g.do("GET", "/odata/Customers?$select=CustomerID&$filter=matchesPattern(CustomerID,'^A[LN]')", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID)","value":[{"CustomerID":"ALFKI"},{"CustomerID":"ANATR"}]}`)
	r = g.do("GET", "/odata/Customers?$select=CustomerID&$filter=not%20matchesPattern(CustomerID,'^[A-Z]')%20and%20matchesPattern(CustomerID,'^[a-z]')", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID)","value":[]}`)
	assertODataError(t, g.do("GET", "/odata/Customers?$filter=matchesPattern(CustomerID,'a(')", nil), 400)

	c := app.Default()
	c.Listen = "127.0.0.1:0"
	c.DemoPath = t.TempDir() + "/demo.sqlite"
	c.TokenKey = testKey
	c.LogLevel = "warn"
	demo := start(t, c)
	r = demo.do("GET", "/odata/products?$select=product_id&$top=3&$filter=matchesPattern(sku,'^[A-Z]{3}-')", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"product_id"`) {
		t.Errorf("SQLite matchesPattern: %d %s", r.Status, r.Body)
	}
	r = demo.do("GET", "/odata/products?$count=true&$top=0&$filter=matchesPattern(sku,'^[a-z]{3}-')", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"@odata.count":0`) {
		t.Errorf("SQLite matchesPattern is case-sensitive: %d %s", r.Status, r.Body)
	}
}

// TestCastAndIsof: cast and isof on primitive values; the one-argument
// (entity) forms are 501.
func TestCastAndIsof(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	r := g.do("GET", "/odata/Orders?$select=OrderID&$filter=cast(OrderID,Edm.String)%20eq%20'10249'%20or%20cast(Total,Edm.Decimal)%20gt%201000", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID)","value":[{"OrderID":10249},{"OrderID":10252}]}`)
	r = g.do("GET", "/odata/Orders/$count?$filter=isof(Total,Edm.Decimal)%20and%20not%20isof(OrderID,Edm.Int32)", nil)
	if r.Status != 200 || string(r.Body) != "6" {
		t.Errorf("isof: %d %s", r.Status, r.Body)
	}
	assertODataError(t, g.do("GET", "/odata/Orders?$filter=isof(odatagw.Orders)", nil), 501)
	assertODataError(t, g.do("GET", "/odata/Orders?$filter=cast(Status,Edm.Int32)%20eq%201", nil), 501)
	assertODataError(t, g.do("GET", "/odata/Orders?$filter=cast(Status,Edm.Nope)%20eq%201", nil), 501)
}
