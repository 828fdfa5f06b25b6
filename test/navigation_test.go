package test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/odatagw/odatagw/internal/mytest"
	"github.com/odatagw/odatagw/server/app"
	"github.com/odatagw/odatagw/server/auth"
)

// The fixture's relationships (PostgreSQL and MariaDB alike):
//
//	Customers <- Orders (Customer / Orders) <- order_lines (order / order_lines)
//	<- line_notes (note_line / line_notes: composite, nullable; note 4 has none)

// TestNavigationPostgres and TestNavigationMariaDB read and write through
// navigation paths on both engines with the same expectations.
func TestNavigationPostgres(t *testing.T) {
	t.Parallel()
	navigationSuite(t, startFixture(t))
}

func TestNavigationMariaDB(t *testing.T) {
	t.Parallel()
	g, dsn := startMySQL(t)
	mysqlNavigationRows(t, dsn)
	navigationSuite(t, g)
}

// mysqlNavigationRows adds the PostgreSQL fixture's rows that the MariaDB
// fixture lacks and the navigation tests use.
func mysqlNavigationRows(t *testing.T, dsn string) {
	t.Helper()
	mytest.MustExec(t, dsn, `INSERT INTO "Customers" ("CustomerID","Name","City") VALUES ('SALES','Sales & Marketing Ltd','New York'), ('PCT','100% Real_Data\\Inc','London');
INSERT INTO "Orders" ("OrderID","CustomerID","OrderDate","Total","Status") VALUES (10251,'O''BRIEN','2023-12-31',0.00,'Cancelled'), (10253,'ALFKI','2024-01-15',42.00,'Open');`)
}

func navigationSuite(t *testing.T, g *gateway) {
	reads := []struct {
		name, path string
		status     int
		body       string
	}{
		{"to-one", "/odata/Orders(10248)/Customer?$select=CustomerID,Name", 200,
			`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Name)/$entity","CustomerID":"ALFKI","Name":"Alfreds Futterkiste"}`},
		{"to-one property", "/odata/Orders(10251)/Customer/Name", 200,
			`{"@odata.context":"BASE/odata/$metadata#Customers(%27O%27%27BRIEN%27)/Name","value":"O'Brien & Sons"}`},
		{"to-one raw value", "/odata/Orders(10251)/Customer/Name/$value", 200, `O'Brien & Sons`},
		{"to-many", "/odata/Customers('ALFKI')/Orders?$select=OrderID,Total", 200,
			`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Total)","value":[{"OrderID":10248,"Total":100.50},{"OrderID":10249,"Total":250.00},{"OrderID":10253,"Total":42.00}]}`},
		{"to-many with options", "/odata/Customers('ALFKI')/Orders?$select=OrderID&$filter=Total lt 200&$orderby=Total desc&$count=true&$top=1&$skip=1", 200,
			`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID)","@odata.count":2,"value":[{"OrderID":10253}]}`},
		{"to-many search", "/odata/Customers('ALFKI')/Orders?$select=OrderID&$search=Shipped", 200,
			`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID)","value":[{"OrderID":10249}]}`},
		{"to-many key segment", "/odata/Customers/ALFKI/Orders/$count", 200, `3`},
		{"count", "/odata/Customers('ALFKI')/Orders/$count?$filter=Status eq 'Open'", 200, `2`},
		{"empty", "/odata/Customers('BERGS')/Orders", 200, `{"@odata.context":"BASE/odata/$metadata#Orders","value":[]}`},
		{"entity of the collection", "/odata/Customers('ALFKI')/Orders(10249)?$select=OrderID,Status", 200,
			`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Status)/$entity","OrderID":10249,"Status":"Shipped"}`},
		{"entity not related", "/odata/Customers('ALFKI')/Orders(10250)", 404,
			`{"error":{"code":"NotFound","message":"no Orders entity with key (10250) in Customers('ALFKI')/Orders","innererror":{"requestId":"RID"}}}`},
		{"chain", "/odata/Customers('ALFKI')/Orders(10248)/order_lines?$select=order_id,line_no,sku", 200,
			`{"@odata.context":"BASE/odata/$metadata#order_lines(order_id,line_no,sku)","value":[{"order_id":10248,"line_no":1,"sku":"SKU-0001"},{"order_id":10248,"line_no":2,"sku":"SKU-2"}]}`},
		{"chain through a missing parent", "/odata/Customers('ANATR')/Orders(10248)/order_lines", 404,
			`{"error":{"code":"NotFound","message":"no Orders entity with key (10248)","innererror":{"requestId":"RID"}}}`},
		{"composite to-many", "/odata/order_lines(order_id=10248,line_no=1)/line_notes", 200,
			`{"@odata.context":"BASE/odata/$metadata#line_notes","value":[{"note_id":1,"order_id":10248,"line_no":1,"note":"gift wrap"},{"note_id":2,"order_id":10248,"line_no":1,"note":"deliver before noon"}]}`},
		{"composite to-one", "/odata/line_notes(3)/note_line?$select=order_id,line_no,quantity", 200,
			`{"@odata.context":"BASE/odata/$metadata#order_lines(order_id,line_no,quantity)/$entity","order_id":10249,"line_no":1,"quantity":10}`},
		{"composite to-one and back", "/odata/line_notes(3)/note_line/order/Customer/Orders/$count", 200, `3`},
		{"null foreign key", "/odata/line_notes(4)/note_line", 204, ``},
		{"null foreign key ref", "/odata/line_notes(4)/note_line/$ref", 204, ``},
		{"property of null", "/odata/line_notes(4)/note_line/sku", 404,
			`{"error":{"code":"NotFound","message":"note_line is null: it has no property sku","innererror":{"requestId":"RID"}}}`},
		{"through null", "/odata/line_notes(4)/note_line/order", 404,
			`{"error":{"code":"NotFound","message":"line_notes(4)/note_line is null: the path leads nowhere","innererror":{"requestId":"RID"}}}`},
		{"refs", "/odata/Customers('ALFKI')/Orders/$ref", 200,
			`{"@odata.context":"BASE/odata/$metadata#Collection($ref)","value":[{"@odata.id":"BASE/odata/Orders(10248)"},{"@odata.id":"BASE/odata/Orders(10249)"},{"@odata.id":"BASE/odata/Orders(10253)"}]}`},
		{"refs with options", "/odata/Customers('ALFKI')/Orders/$ref?$filter=Total gt 50&$count=true", 200,
			`{"@odata.context":"BASE/odata/$metadata#Collection($ref)","@odata.count":2,"value":[{"@odata.id":"BASE/odata/Orders(10248)"},{"@odata.id":"BASE/odata/Orders(10249)"}]}`},
		{"ref", "/odata/Orders(10251)/Customer/$ref", 200,
			`{"@odata.context":"BASE/odata/$metadata#$ref","@odata.id":"BASE/odata/Customers(%27O%27%27BRIEN%27)"}`},
		{"composite ref", "/odata/line_notes(1)/note_line/$ref", 200,
			`{"@odata.context":"BASE/odata/$metadata#$ref","@odata.id":"BASE/odata/order_lines(order_id=10248,line_no=1)"}`},
		{"missing parent", "/odata/Customers('NOPE')/Orders", 404,
			`{"error":{"code":"NotFound","message":"no Customers entity with key ('NOPE')","innererror":{"requestId":"RID"}}}`},
		{"unknown navigation", "/odata/Orders(10248)/Customr", 404,
			`{"error":{"code":"NotFound","message":"path:1:1: Orders has no property or navigation property Customr","target":"Customr","innererror":{"requestId":"RID"}}}`},
		{"key on to-one", "/odata/Orders(10248)/Customer('ALFKI')", 400,
			`{"error":{"code":"InvalidQuery","message":"path:1:9: Customer is a single-valued navigation property (to one Customers): it takes no key","target":"Customer","innererror":{"requestId":"RID"}}}`},
		{"$value on an entity", "/odata/Orders(10248)/Customer/$value", 400,
			`{"error":{"code":"InvalidQuery","message":"path:1:1: $value addresses the raw value of a property; Customer addresses an entity of Customers (entities have no raw value)","target":"$value","innererror":{"requestId":"RID"}}}`},
		{"navigation from a collection", "/odata/Customers/Orders", 400,
			`{"error":{"code":"InvalidQuery","message":"path:1:1: Customers is a collection: address one entity by its key before Orders, e.g. Customers(CustomerID=...)/Orders","target":"Orders","innererror":{"requestId":"RID"}}}`},
	}
	for _, tc := range reads {
		r := g.do("GET", tc.path, nil)
		if tc.status == 204 {
			if r.Status != 204 || len(r.Body) != 0 {
				t.Errorf("%s: %d %s, want 204 without a body", tc.name, r.Status, r.Body)
			}
			continue
		}
		got := strings.TrimSpace(navRIDRE.ReplaceAllString(g.normalize(r.Body), `"requestId":"RID"`))
		if r.Status != tc.status || got != tc.body {
			t.Errorf("%s: GET %s\n got: %d %s\nwant: %d %s", tc.name, tc.path, r.Status, got, tc.status, tc.body)
		}
	}

	// Server-driven paging keeps the navigation path and walks exactly.
	for _, path := range []string{"/odata/Customers('ALFKI')/Orders?$select=OrderID&$count=true", "/odata/Customers('ALFKI')/Orders/$ref"} {
		ids, pages := walkNav(t, g, path)
		if strings.Join(ids, ",") != "10248,10249,10253" || pages != 2 {
			t.Errorf("%s: walked %v in %d pages", path, ids, pages)
		}
	}

	// Writes through navigation and @odata.bind.
	r := g.do("POST", "/odata/Customers('ANATR')/Orders", []byte(`{"OrderDate":"2024-03-01","Total":1.00}`))
	if r.Status != 201 || r.json(t)["CustomerID"] != "ANATR" {
		t.Fatalf("POST through navigation: %d %s", r.Status, r.Body)
	}
	created := r.json(t)["OrderID"].(json.Number).String()
	expectNav(t, g, "GET", "/odata/Customers('ANATR')/Orders/$count", "", 200, `2`)
	expectNav(t, g, "POST", "/odata/Customers('ANATR')/Orders", `{"OrderDate":"2024-03-01","Total":1.00,"CustomerID":"ALFKI"}`, 400,
		`{"error":{"code":"InvalidValue","message":"property CustomerID is 'ALFKI', but the entity is created through the navigation Orders, which sets it to 'ANATR'","target":"CustomerID","details":[{"code":"InvalidValue","message":"property CustomerID is 'ALFKI', but the entity is created through the navigation Orders, which sets it to 'ANATR'","target":"CustomerID"}],"innererror":{"requestId":"RID"}}}`)
	expectNav(t, g, "POST", "/odata/Customers('NOPE')/Orders", `{"OrderDate":"2024-03-01","Total":1.00}`, 404,
		`{"error":{"code":"NotFound","message":"no Customers entity with key ('NOPE')","innererror":{"requestId":"RID"}}}`)
	expectNav(t, g, "POST", "/odata/Orders(10248)/Customer", `{"CustomerID":"X","Name":"x"}`, 405,
		`{"error":{"code":"MethodNotAllowed","message":"Customer is a single-valued navigation property: POST creates entities in collections","innererror":{"requestId":"RID"}}}`)
	expectNav(t, g, "PATCH", "/odata/Customers('ANATR')/Orders(10248)", `{"Total":1}`, 404,
		`{"error":{"code":"NotFound","message":"Orders(10248) is not in Customers('ANATR')/Orders (or does not exist)","innererror":{"requestId":"RID"}}}`)

	r = g.do("POST", "/odata/Orders", []byte(`{"OrderDate":"2024-03-02","Total":2.00,"Customer@odata.bind":"Customers('BERGS')"}`))
	if r.Status != 201 || r.json(t)["CustomerID"] != "BERGS" {
		t.Fatalf("POST with @odata.bind: %d %s", r.Status, r.Body)
	}
	r = g.do("POST", "/odata/Orders", []byte(`{"OrderDate":"2024-03-02","Total":3.00,"Customer@odata.bind":"`+g.base+`/odata/Customers('SALES')"}`))
	if r.Status != 201 || r.json(t)["CustomerID"] != "SALES" {
		t.Fatalf("POST with an absolute @odata.bind: %d %s", r.Status, r.Body)
	}
	expectNav(t, g, "PATCH", "/odata/Orders("+created+")", `{"Customer@odata.bind":"Customers('UNI')"}`, 204, ``)
	expectNav(t, g, "GET", "/odata/Orders("+created+")/Customer/$ref", "", 200,
		`{"@odata.context":"BASE/odata/$metadata#$ref","@odata.id":"BASE/odata/Customers(%27UNI%27)"}`)
	expectNav(t, g, "PATCH", "/odata/Orders("+created+")", `{"Customer":{"@id":"Customers('PCT')"}}`, 204, ``)
	expectNav(t, g, "GET", "/odata/Orders("+created+")?$select=CustomerID", "", 200,
		`{"@odata.context":"BASE/odata/$metadata#Orders(CustomerID)/$entity","CustomerID":"PCT"}`)
	expectNav(t, g, "PATCH", "/odata/line_notes(4)", `{"note_line@odata.bind":"order_lines(order_id=10249,line_no=1)"}`, 204, ``)
	expectNav(t, g, "GET", "/odata/order_lines(order_id=10249,line_no=1)/line_notes/$ref", "", 200,
		`{"@odata.context":"BASE/odata/$metadata#Collection($ref)","value":[{"@odata.id":"BASE/odata/line_notes(3)"},{"@odata.id":"BASE/odata/line_notes(4)"}]}`)
	expectNav(t, g, "PATCH", "/odata/line_notes(4)", `{"note_line@odata.bind":null}`, 204, ``)
	expectNav(t, g, "GET", "/odata/line_notes(4)/note_line", "", 204, ``)

	expectNav(t, g, "POST", "/odata/Orders", `{"OrderDate":"2024-03-02","Total":2.00,"CustomerID":"ALFKI","Custome@odata.bind":"Customers('BERGS')"}`, 400,
		`{"error":{"code":"InvalidValue","message":"Orders has no navigation property \"Custome\"","target":"Custome@odata.bind","details":[{"code":"InvalidValue","message":"Orders has no navigation property \"Custome\"","target":"Custome@odata.bind"}],"innererror":{"requestId":"RID"}}}`)
	expectNav(t, g, "PATCH", "/odata/Orders(10248)", `{"Customer@odata.bind":"Orders(10249)"}`, 400,
		`{"error":{"code":"InvalidValue","message":"Customer leads to Customers: \"Orders(10249)\" is not an entity of Customers","target":"Customer@odata.bind","details":[{"code":"InvalidValue","message":"Customer leads to Customers: \"Orders(10249)\" is not an entity of Customers","target":"Customer@odata.bind"}],"innererror":{"requestId":"RID"}}}`)
	expectNav(t, g, "PATCH", "/odata/Customers('ALFKI')", `{"Orders@odata.bind":["Orders(10250)"]}`, 501,
		`{"error":{"code":"NotImplemented","message":"binding entities to the collection-valued navigation property Orders is not supported; bind each Orders entity to this one through its own navigation property","target":"Orders@odata.bind","innererror":{"requestId":"RID"}}}`)
	expectNav(t, g, "POST", "/odata/Orders", `{"OrderDate":"2024-03-02","Total":2.00,"Customer":{"CustomerID":"NEW","Name":"New"}}`, 501,
		`{"error":{"code":"NotImplemented","message":"deep insert and deep update (an entity as the value of the navigation property Customer) are not supported; bind an existing entity with Customer@odata.bind","target":"Customer","innererror":{"requestId":"RID"}}}`)
	// A binding to an entity that does not exist breaks the foreign key: a
	// 4xx (409 on PostgreSQL, 400 on MariaDB, as a direct write), never a 500.
	r = g.do("PATCH", "/odata/Orders(10248)", []byte(`{"Customer@odata.bind":"Customers('NOPE')"}`))
	if r.Status != 409 && r.Status != 400 || !strings.Contains(string(r.Body), `"message":"the change`) {
		t.Errorf("bind to a missing entity: %d %s", r.Status, r.Body)
	}
}

var navRIDRE = regexp.MustCompile(`"requestId":"[^"]*"`)

// expectNav sends a request and compares status and whole body (request
// ids and the base URL normalised).
func expectNav(t *testing.T, g *gateway, method, path, body string, status int, want string) {
	t.Helper()
	var b []byte
	if body != "" {
		b = []byte(body)
	}
	r := g.do(method, path, b)
	got := strings.TrimSpace(navRIDRE.ReplaceAllString(g.normalize(r.Body), `"requestId":"RID"`))
	if r.Status != status || got != want {
		t.Errorf("%s %s\n got: %d %s\nwant: %d %s", method, path, r.Status, got, status, want)
	}
}

// walkNav follows the nextLinks of path with pages of two, returning the
// ids (OrderID or @odata.id's key) and the number of pages.
func walkNav(t *testing.T, g *gateway, path string) (ids []string, pages int) {
	t.Helper()
	next := g.base + path
	for next != "" && pages < 10 {
		r := g.doURL("GET", next, nil, "Prefer", "odata.maxpagesize=2")
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", next, r.Status, r.Body)
		}
		m := r.json(t)
		if c, ok := m["@odata.count"]; ok && c.(json.Number).String() != "3" {
			t.Errorf("page %d: count %v", pages, c)
		}
		for _, v := range m["value"].([]any) {
			e := v.(map[string]any)
			if id, ok := e["@odata.id"].(string); ok {
				ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(id, g.base+"/odata/Orders("), ")"))
			} else {
				ids = append(ids, e["OrderID"].(json.Number).String())
			}
		}
		next, _ = m["@odata.nextLink"].(string)
		if next != "" && !strings.HasPrefix(next, g.base+"/odata/Customers('ALFKI')/Orders") {
			t.Errorf("nextLink %s lost the navigation path", next)
		}
		pages++
	}
	return ids, pages
}

// TestNavigationAccess: row filters, hidden properties and permissions
// apply to every set a navigation path reaches (PostgreSQL and MariaDB).
func TestNavigationAccess(t *testing.T) {
	t.Parallel()
	policy := func(c *app.Config) {
		secJWT(c)
		c.Policy = auth.PolicyConfig{Sets: map[string]auth.SetRules{
			"Customers": {RowFilters: []auth.RowFilter{{To: []string{"*"}, Filter: "City eq {claim:city}"}}},
			"Orders": {Grants: []auth.Grant{{To: []string{"role:sales"}, Ops: []string{"insert"}}}, Properties: []auth.PropertyRule{
				{Names: []string{"Total"}, Read: []string{"role:finance"}},
				{Names: []string{"CustomerID"}, Read: []string{"role:sales"}},
			}},
			"order_lines": {Grants: []auth.Grant{{To: []string{"role:warehouse"}, Ops: []string{"read"}}}},
		}}
	}
	token := func(roles ...string) []string {
		return []string{"Authorization", "Bearer " + secHS256(t, secClaims("nav", func(c jwt.MapClaims) {
			c["roles"] = roles
			c["city"] = "Berlin"
		}))}
	}
	pg := startFixture(t, policy)
	my, dsn := startMySQL(t, policy)
	mysqlNavigationRows(t, dsn)
	for name, g := range map[string]*gateway{"postgres": pg, "mariadb": my} {
		cases := []struct {
			name   string
			roles  []string
			path   string
			status int
			body   string
		}{
			{"parent visible", []string{"sales"}, "/odata/Customers('ALFKI')/Orders?$select=OrderID", 200,
				`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID)","value":[{"OrderID":10248},{"OrderID":10249},{"OrderID":10253}]}`},
			{"parent hidden by the row filter", []string{"sales"}, "/odata/Customers('ANATR')/Orders", 404,
				`{"error":{"code":"NotFound","message":"no Customers entity with key ('ANATR')","innererror":{"requestId":"RID"}}}`},
			{"count under a hidden parent", []string{"sales"}, "/odata/Customers('ANATR')/Orders/$count", 404,
				`{"error":{"code":"NotFound","message":"no Customers entity with key ('ANATR')","innererror":{"requestId":"RID"}}}`},
			{"to-one target hidden by the row filter", []string{"sales"}, "/odata/Orders(10250)/Customer", 204, ``},
			{"to-one target visible", []string{"sales"}, "/odata/Orders(10248)/Customer?$select=CustomerID", 200,
				`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID)/$entity","CustomerID":"ALFKI"}`},
			{"hidden properties of the target", []string{"sales"}, "/odata/Customers('ALFKI')/Orders(10248)", 200,
				`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,CustomerID,OrderDate,Status)/$entity","OrderID":10248,"CustomerID":"ALFKI","OrderDate":"2024-01-15","Status":"Open"}`},
			{"hidden property in $filter", []string{"sales"}, "/odata/Customers('ALFKI')/Orders?$filter=Total gt 1", 400,
				`{"error":{"code":"InvalidQuery","message":"Orders has no property Total","target":"Total","innererror":{"requestId":"RID"}}}`},
			{"hidden join property, to-one", []string{"finance"}, "/odata/Orders(10248)/Customer", 404,
				`{"error":{"code":"NotFound","message":"path:1:1: Orders has no navigation property Customer","target":"Customer","innererror":{"requestId":"RID"}}}`},
			{"hidden join property, to-many", []string{"finance"}, "/odata/Customers('ALFKI')/Orders", 404,
				`{"error":{"code":"NotFound","message":"Customers has no navigation property Orders","innererror":{"requestId":"RID"}}}`},
			{"no read permission on the target", []string{"sales"}, "/odata/Orders(10248)/order_lines", 403,
				`{"error":{"code":"Forbidden","message":"you may not read order_lines","innererror":{"requestId":"RID"}}}`},
			{"no read permission on a hop", []string{"sales"}, "/odata/order_lines(order_id=10248,line_no=1)/line_notes", 403,
				`{"error":{"code":"Forbidden","message":"you may not read order_lines","innererror":{"requestId":"RID"}}}`},
			{"permitted", []string{"sales", "warehouse"}, "/odata/Customers('ALFKI')/Orders(10248)/order_lines/$count", 200, `2`},
			// $expand follows the same rule: a navigation joining on a
			// hidden property (Orders.CustomerID for finance) does not exist.
			{"expand over a hidden join property, to-one", []string{"finance"}, "/odata/Orders?$select=OrderID&$expand=Customer($select=CustomerID)", 400,
				`{"error":{"code":"InvalidQuery","message":"Orders has no navigation property Customer","innererror":{"requestId":"RID"}}}`},
			{"expand over a hidden join property, reference", []string{"finance"}, "/odata/Orders?$select=OrderID&$expand=Customer/$ref", 400,
				`{"error":{"code":"InvalidQuery","message":"Orders has no navigation property Customer","innererror":{"requestId":"RID"}}}`},
			{"expand over a hidden join property, to-many", []string{"finance"}, "/odata/Customers?$select=CustomerID&$expand=Orders($select=OrderID)", 400,
				`{"error":{"code":"InvalidQuery","message":"$expand:1:1: Customers has no navigation property Orders","target":"Orders","innererror":{"requestId":"RID"}}}`},
			{"expand * leaves out what may not be followed", []string{"finance"}, "/odata/Orders(10248)?$select=OrderID&$expand=*", 200,
				`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID)/$entity","OrderID":10248}`},
			{"expand over a hidden join property, nested", []string{"finance"}, "/odata/Customers?$select=CustomerID&$expand=Orders($expand=Customer)", 400,
				`{"error":{"code":"InvalidQuery","message":"$expand:1:1: Customers has no navigation property Orders","target":"Orders","innererror":{"requestId":"RID"}}}`},
			{"expand with a visible join", []string{"sales"}, "/odata/Orders?$filter=OrderID eq 10248&$select=OrderID&$expand=Customer($select=CustomerID)", 200,
				`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Customer(CustomerID))","value":[{"OrderID":10248,"Customer":{"CustomerID":"ALFKI"}}]}`},
		}
		for _, tc := range cases {
			r := g.do("GET", tc.path, nil, token(tc.roles...)...)
			got := strings.TrimSpace(navRIDRE.ReplaceAllString(g.normalize(r.Body), `"requestId":"RID"`))
			if r.Status != tc.status || got != tc.body {
				t.Errorf("%s: %s: GET %s\n got: %d %s\nwant: %d %s", name, tc.name, tc.path, r.Status, got, tc.status, tc.body)
			}
		}
		// Inside a change set as outside: a literal parent key must name an
		// entity the caller can see (ANATR is not in Berlin).
		batch := `{"requests":[{"id":"1","atomicityGroup":"g","method":"POST","url":"Customers('ANATR')/Orders",` +
			`"headers":{"Content-Type":"application/json"},"body":{"OrderDate":"2024-05-01","Total":7}}]}`
		r := g.do("POST", "/odata/$batch", []byte(batch), append(token("sales", "finance"), "Content-Type", "application/json")...)
		if r.Status != 200 || !strings.Contains(string(r.Body), `"status":404`) || strings.Contains(string(r.Body), `"status":201`) {
			t.Errorf("%s: POST under a hidden parent in a change set: %d %s", name, r.Status, r.Body)
		}
		// Creating through a hidden parent is refused like reading it.
		r = g.do("POST", "/odata/Customers('ANATR')/Orders", []byte(`{"OrderDate":"2024-03-01","Total":1}`), token("sales")...)
		if r.Status != 404 {
			t.Errorf("%s: POST under a hidden parent: %d %s", name, r.Status, r.Body)
		}
	}
}

// TestNavigationBatch runs navigation paths inside a $batch, including
// creation under an entity created earlier in the same change set ($c1).
func TestNavigationBatch(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	r := g.do("POST", "/odata/$batch", []byte(`{"requests":[
	 {"id":"r1","method":"GET","url":"Customers('ALFKI')/Orders/$count"},
	 {"id":"c1","atomicityGroup":"g1","method":"POST","url":"Customers","body":{"CustomerID":"NAV1","Name":"Nav One"},"headers":{"Prefer":"return=minimal"}},
	 {"id":"c2","atomicityGroup":"g1","method":"POST","url":"$c1/Orders","body":{"OrderDate":"2024-05-01","Total":7},"headers":{"Prefer":"return=minimal"}},
	 {"id":"r2","dependsOn":["g1"],"method":"GET","url":"Customers('NAV1')/Orders?$select=CustomerID,Total"}
	]}`))
	got := navRIDRE.ReplaceAllString(strings.ReplaceAll(string(r.Body), g.base, "BASE"), `"requestId":"RID"`)
	for _, want := range []string{
		`{"id":"r1","status":200,"headers":{"content-type":"text/plain","odata-version":"4.0"},"body":"3"}`,
		`{"id":"c2","atomicityGroup":"g1","status":204,"headers":{"location":"BASE/odata/Orders(20000)"`,
		`"body":{"@odata.context":"BASE/odata/$metadata#Orders(CustomerID,Total)","value":[{"CustomerID":"NAV1","Total":7.00}]}}`,
	} {
		if r.Status != 200 || !strings.Contains(got, want) {
			t.Errorf("batch: %d\n%s\nmissing %s", r.Status, got, want)
		}
	}
}

// TestRelationshipsSQLite: navigation paths, $ref, $expand, lambdas, POST
// through a navigation and @odata.bind on the embedded demo (SQLite).
func TestRelationshipsSQLite(t *testing.T) {
	t.Parallel()
	g := start(t, demoConfig(t))
	reads := []struct{ path, want string }{
		{"/odata/orders(1243)/customer?$select=customer_id,name",
			`{"@odata.context":"BASE/odata/$metadata#customers(customer_id,name)/$entity","customer_id":"C0000001","name":"Vandelay Corp 1"}`},
		{"/odata/customers('C0000001')/orders/$count", `12`},
		{"/odata/customers('C0000001')/orders?$top=2&$select=order_id&$orderby=order_id",
			`{"@odata.context":"BASE/odata/$metadata#orders(order_id)","value":[{"order_id":1243},{"order_id":1858}]}`},
		{"/odata/orders(1243)/customer/$ref",
			`{"@odata.context":"BASE/odata/$metadata#$ref","@odata.id":"BASE/odata/customers(%27C0000001%27)"}`},
		{"/odata/order_lines(order_id=1243,line_no=1)/product?$select=sku",
			`{"@odata.context":"BASE/odata/$metadata#products(sku)/$entity","sku":"SKU-000118"}`},
		{"/odata/customers?$top=2&$select=customer_id&$orderby=customer_id&$expand=orders($select=order_id;$orderby=order_id;$top=1)",
			`{"@odata.context":"BASE/odata/$metadata#customers(customer_id,orders(order_id))","value":[` +
				`{"customer_id":"C'QUOTE1","orders":[{"order_id":260}]},{"customer_id":"C0000001","orders":[{"order_id":1243}]}]}`},
		{"/odata/customers?$filter=orders/any(o: o/total gt 30000) and country eq 'JP'&$select=customer_id&$top=2&$orderby=customer_id",
			`{"@odata.context":"BASE/odata/$metadata#customers(customer_id)","value":[{"customer_id":"C0000012"},{"customer_id":"C0000015"}]}`},
	}
	for _, tc := range reads {
		r := g.do("GET", tc.path, nil)
		if got := strings.TrimSpace(g.normalize(r.Body)); r.Status != 200 || got != tc.want {
			t.Errorf("GET %s:\n got %d %s\nwant %s", tc.path, r.Status, got, tc.want)
		}
	}
	r := g.do("POST", "/odata/customers('C0000001')/orders", []byte(`{"order_id":90001,"order_date":"2024-06-01"}`), "Content-Type", "application/json")
	if r.Status != 201 || !strings.Contains(string(r.Body), `"customer_id":"C0000001"`) {
		t.Fatalf("POST through the navigation: %d %s", r.Status, r.Body)
	}
	r = g.do("PATCH", "/odata/orders(90001)", []byte(`{"customer@odata.bind":"customers('C0000002')"}`), "Content-Type", "application/json")
	if r.Status != 204 {
		t.Fatalf("PATCH with @odata.bind: %d %s", r.Status, r.Body)
	}
	if r = g.do("GET", "/odata/orders(90001)/customer/$ref", nil); !strings.Contains(string(r.Body), "C0000002") {
		t.Errorf("after the bind: %d %s", r.Status, r.Body)
	}
	if r = g.do("PATCH", "/odata/orders(90001)", []byte(`{"custmer@odata.bind":"customers('C0000002')"}`), "Content-Type", "application/json"); r.Status != 400 {
		t.Errorf("unknown binding: %d %s", r.Status, r.Body)
	}
}
