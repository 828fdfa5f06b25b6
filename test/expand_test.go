package test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/odatagw/odatagw/server/app"
	"github.com/odatagw/odatagw/server/auth"
)

// expandCase is one request and its whole expected response; both
// fixtures (PostgreSQL and MariaDB) answer it the same, because the
// requests filter to the rows the two fixtures share.
type expandCase struct {
	name, path string
	status     int
	body       string
}

var expandCases = []expandCase{
	{"to-many with nested options", "/odata/Customers?$filter=CustomerID in ('ALFKI','ANATR')&$select=CustomerID,Name" +
		"&$expand=Orders($filter=OrderID le 10250;$orderby=Total desc;$select=OrderID,Total;$count=true;$top=1)", 200,
		`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Name,Orders(OrderID,Total))","value":[` +
			`{"CustomerID":"ALFKI","Name":"Alfreds Futterkiste","Orders@odata.count":2,"Orders":[{"OrderID":10249,"Total":250.00}]},` +
			`{"CustomerID":"ANATR","Name":"Ana Trujillo","Orders@odata.count":1,"Orders":[{"OrderID":10250,"Total":99.99}]}]}`},
	{"nested $skip keeps the count of a parent whose rows are all skipped", "/odata/Customers?$filter=CustomerID in ('ALFKI','ANATR')&$select=CustomerID" +
		"&$expand=Orders($filter=OrderID le 10250;$skip=1;$count=true;$select=OrderID)", 200,
		`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Orders(OrderID))","value":[` +
			`{"CustomerID":"ALFKI","Orders@odata.count":2,"Orders":[{"OrderID":10249}]},` +
			`{"CustomerID":"ANATR","Orders@odata.count":1,"Orders":[]}]}`},
	{"to-one, parent $select without the foreign key", "/odata/Orders?$filter=OrderID le 10250&$select=OrderID&$expand=Customer($select=Name)", 200,
		`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Customer(Name))","value":[` +
			`{"OrderID":10248,"Customer":{"Name":"Alfreds Futterkiste"}},{"OrderID":10249,"Customer":{"Name":"Alfreds Futterkiste"}},` +
			`{"OrderID":10250,"Customer":{"Name":"Ana Trujillo"}}]}`},
	{"nested $expand over the composite key", "/odata/Orders?$filter=OrderID le 10249&$select=OrderID" +
		"&$expand=order_lines($select=line_no,sku;$expand=line_notes($select=note_id,note;$orderby=note_id desc))", 200,
		`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,order_lines(line_no,sku,line_notes(note_id,note)))","value":[` +
			`{"OrderID":10248,"order_lines":[{"line_no":1,"sku":"SKU-0001","line_notes":[{"note_id":2,"note":"deliver before noon"},{"note_id":1,"note":"gift wrap"}]},` +
			`{"line_no":2,"sku":"SKU-2","line_notes":[]}]},` +
			`{"OrderID":10249,"order_lines":[{"line_no":1,"sku":"SKU-0003","line_notes":[{"note_id":3,"note":"fragile"}]}]}]}`},
	{"three levels on a single entity", "/odata/Customers('ALFKI')?$select=CustomerID" +
		"&$expand=Orders($filter=OrderID le 10250;$select=OrderID;$expand=order_lines($select=line_no;$expand=line_notes($select=note)))", 200,
		`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Orders(OrderID,order_lines(line_no,line_notes(note))))/$entity","CustomerID":"ALFKI","Orders":[` +
			`{"OrderID":10248,"order_lines":[{"line_no":1,"line_notes":[{"note":"gift wrap"},{"note":"deliver before noon"}]},{"line_no":2,"line_notes":[]}]},` +
			`{"OrderID":10249,"order_lines":[{"line_no":1,"line_notes":[{"note":"fragile"}]}]}]}`},
	{"a null composite foreign key expands to null", "/odata/line_notes?$select=note_id&$expand=note_line($select=sku;$expand=order($select=Status))", 200,
		`{"@odata.context":"BASE/odata/$metadata#line_notes(note_id,note_line(sku,order(Status)))","value":[` +
			`{"note_id":1,"note_line":{"sku":"SKU-0001","order":{"Status":"Open"}}},{"note_id":2,"note_line":{"sku":"SKU-0001","order":{"Status":"Open"}}},` +
			`{"note_id":3,"note_line":{"sku":"SKU-0003","order":{"Status":"Shipped"}}},{"note_id":4,"note_line":null}]}`},
	{"references", "/odata/order_lines?$filter=order_id eq 10248&$select=line_no&$expand=line_notes/$ref,order/$ref", 200,
		`{"@odata.context":"BASE/odata/$metadata#order_lines(line_no,line_notes(),order())","value":[` +
			`{"line_no":1,"line_notes":[{"@odata.id":"BASE/odata/line_notes(1)"},{"@odata.id":"BASE/odata/line_notes(2)"}],"order":{"@odata.id":"BASE/odata/Orders(10248)"}},` +
			`{"line_no":2,"line_notes":[],"order":{"@odata.id":"BASE/odata/Orders(10248)"}}]}`},
	{"nav/$count and a to-one filter", "/odata/Orders?$filter=OrderID le 10250&$select=OrderID&$expand=order_lines/$count,Customer($filter=City eq 'Berlin';$select=City)", 200,
		`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,order_lines(),Customer(City))","value":[` +
			`{"OrderID":10248,"order_lines@odata.count":2,"Customer":{"City":"Berlin"}},{"OrderID":10249,"order_lines@odata.count":1,"Customer":{"City":"Berlin"}},` +
			`{"OrderID":10250,"order_lines@odata.count":0,"Customer":null}]}`},
	{"a lambda and a path in nested options, with paging by the path", "/odata/Customers?$filter=CustomerID in ('ALFKI','ANATR')&$select=CustomerID" +
		"&$expand=Orders($filter=order_lines/any(l: l/quantity gt 5) or Customer/City eq 'México D.F.';$orderby=Customer/Name desc,OrderID desc;$top=1;$select=OrderID)", 200,
		`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Orders(OrderID))","value":[` +
			`{"CustomerID":"ALFKI","Orders":[{"OrderID":10249}]},{"CustomerID":"ANATR","Orders":[{"OrderID":10250}]}]}`},
	{"4.01 names without $", "/odata/Orders(10250)?select=OrderID&expand=Customer(select=CustomerID)", 200,
		`{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Customer(CustomerID))/$entity","OrderID":10250,"Customer":{"CustomerID":"ANATR"}}`},
	{"unknown navigation", "/odata/Customers?$expand=orders", 400,
		`{"error":{"code":"InvalidQuery","message":"$expand:1:1: Customers has no navigation property orders; did you mean Orders?","target":"orders","innererror":{"requestId":"ID"}}}`},
	{"unknown property in a nested $filter", "/odata/Customers?$expand=Orders($filter=Totl gt 1)", 400,
		`{"error":{"code":"InvalidQuery","message":"$expand:1:16: $filter of Orders: Orders has no property Totl","target":"Totl","innererror":{"requestId":"ID"}}}`},
	{"depth limit", "/odata/Customers?$expand=Orders($expand=order_lines($expand=line_notes($expand=note_line)))", 400,
		`{"error":{"code":"LimitExceeded","message":"$expand:1:55: $expand exceeds the maximum depth of 3 levels","target":"$expand","innererror":{"requestId":"ID"}}}`},
	{"$top on a to-one navigation", "/odata/Orders?$expand=Customer($top=1)", 400,
		`{"error":{"code":"InvalidQuery","message":"$expand:1:15: Customer is a single entity (to-one navigation): $top does not apply","target":"Customer","innererror":{"requestId":"ID"}}}`},
	{"syntax error", "/odata/Orders?$expand=Customer($select=Name", 400,
		`{"error":{"code":"InvalidSyntax","message":"$expand:1:9: missing ')'","target":"$expand","innererror":{"requestId":"ID"}}}`},
	{"$it in a nested $filter (the outer entity)", "/odata/Orders?$expand=order_lines($filter=$it/Status eq 'Open')", 501,
		`{"error":{"code":"NotImplemented","message":"$expand:1:21: $filter of order_lines: $it inside $expand options refers to the entity expanded from, which is not supported; name the expanded entity's properties directly","target":"$expand","innererror":{"requestId":"ID"}}}`},
	{"$levels on a navigation to another set", "/odata/Orders?$expand=Customer($levels=2)", 400,
		`{"error":{"code":"InvalidQuery","message":"$expand:1:1: $levels applies to a recursive navigation (to the same entity set); Customer leads from Orders to Customers","target":"Customer","innererror":{"requestId":"ID"}}}`},
}

// requestID matches the request id of an error body.
var requestID = regexp.MustCompile(`"requestId":"[^"]*"`)

func runExpandCases(t *testing.T, g *gateway) {
	for _, tc := range expandCases {
		t.Run(tc.name, func(t *testing.T) {
			r := g.do("GET", tc.path, nil)
			r.Body = requestID.ReplaceAll(r.Body, []byte(`"requestId":"ID"`))
			g.expect(t, r, tc.status, tc.body)
		})
	}
}

func TestExpandPostgres(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	runExpandCases(t, g)
	// One SQL statement per level: Customers('ALFKI') -> Orders ->
	// order_lines -> line_notes is four statements, whatever the rows.
	t.Run("one statement per level", func(t *testing.T) {
		stmts := g.statements(func() {
			r := g.do("GET", expandCases[4].path, nil)
			if r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		want := []string{`."Customers"`, `."Orders"`, `."order_lines"`, `."line_notes"`}
		checkStatements(t, stmts, want)
		// A whole page of orders with their lines: two statements.
		stmts = g.statements(func() {
			if r := g.do("GET", "/odata/Orders?$expand=order_lines", nil); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		checkStatements(t, stmts, []string{`."Orders"`, `."order_lines"`})
	})
}

func TestExpandMariaDB(t *testing.T) {
	t.Parallel()
	g, _ := startMySQL(t)
	runExpandCases(t, g)
	t.Run("one statement per level", func(t *testing.T) {
		stmts := g.statements(func() {
			if r := g.do("GET", expandCases[4].path, nil); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		checkStatements(t, stmts, []string{`."Customers"`, `."Orders"`, `."order_lines"`, `."line_notes"`})
	})
}

// statements runs fn and returns the SQL statements the gateway logged
// meanwhile (the adapter's observer logs every statement it runs).
func (g *gateway) statements(fn func()) []string {
	before := len(g.logs())
	fn()
	var out []string
	for _, line := range strings.Split(g.logs()[before:], "\n") {
		var e struct {
			Message string `json:"message"`
			SQL     string `json:"sql"`
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Message == "sql" {
			out = append(out, e.SQL)
		}
	}
	return out
}

// checkStatements requires exactly one statement per item of want, in
// order, each reading from the named table.
func checkStatements(t *testing.T, stmts, want []string) {
	t.Helper()
	if len(stmts) != len(want) {
		t.Fatalf("%d SQL statements, want %d:\n%s", len(stmts), len(want), strings.Join(stmts, "\n"))
	}
	for i, w := range want {
		if !strings.Contains(stmts[i], w) {
			t.Errorf("statement %d does not read %s: %s", i+1, w, stmts[i])
		}
	}
}

// expandPaging: an expanded collection longer than the page size ends with
// a nextLink to the navigation path; the top-level nextLink keeps $expand.
func expandPaging(t *testing.T, g *gateway) {
	r := g.do("GET", "/odata/Customers('ALFKI')?$select=CustomerID&$expand=Orders($filter=OrderID le 10250;$select=OrderID;$orderby=OrderID;$top=5)", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Orders(OrderID))/$entity","CustomerID":"ALFKI",`+
		`"Orders":[{"OrderID":10248}],"Orders@odata.nextLink":"BASE/odata/Customers(%27ALFKI%27)/Orders?$filter=OrderID%20le%2010250&$orderby=OrderID&$select=OrderID&$top=4&$skip=1"}`)
	r = g.do("GET", "/odata/Customers?$filter=CustomerID in ('ALFKI','ANATR')&$select=CustomerID&$expand=Orders($filter=OrderID le 10250;$select=OrderID)", nil)
	body := r.json(t)
	next, _ := body["@odata.nextLink"].(string)
	if r.Status != 200 || !strings.Contains(next, "$expand=Orders(") {
		t.Fatalf("page 1: %d %s", r.Status, r.Body)
	}
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Orders(OrderID))","value":[`+
		`{"CustomerID":"ALFKI","Orders":[{"OrderID":10248}],"Orders@odata.nextLink":"BASE/odata/Customers(%27ALFKI%27)/Orders?$filter=OrderID%20le%2010250&$select=OrderID&$skip=1"}],`+
		`"@odata.nextLink":"`+g.normalize([]byte(next))+`"}`)
	r = g.doURL("GET", next, nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Orders(OrderID))","value":[`+
		`{"CustomerID":"ANATR","Orders":[{"OrderID":10250}]}]}`)
}

func TestExpandPagingPostgres(t *testing.T) {
	t.Parallel()
	expandPaging(t, startFixture(t, func(c *app.Config) { c.PageSize = 1 }))
}

func TestExpandPagingMariaDB(t *testing.T) {
	t.Parallel()
	g, _ := startMySQL(t, func(c *app.Config) { c.PageSize = 1 })
	expandPaging(t, g)
}

// expandPolicy: everybody reads everything, but Orders are row-filtered
// (no shipped orders) and their Total is for finance only.
func expandPolicy(c *app.Config) {
	secJWT(c)
	c.Policy = auth.PolicyConfig{Sets: map[string]auth.SetRules{
		"*": {Grants: []auth.Grant{{To: []string{"role:reader"}, Ops: []string{"read"}}}},
		"Orders": {
			Properties: []auth.PropertyRule{{Names: []string{"Total"}, Read: []string{"role:finance"}}},
			RowFilters: []auth.RowFilter{{To: []string{"*"}, Filter: "Status ne 'Shipped'"}},
		},
	}}
}

// expandSecurity: row filters and hidden properties apply inside
// expansions exactly as at the top level.
func expandSecurity(t *testing.T, g *gateway) {
	bearer := func(roles ...string) []string {
		return []string{"Authorization", "Bearer " + secHS256(t, secClaims("u", func(c jwt.MapClaims) { c["roles"] = roles }))}
	}
	reader, finance := bearer("reader"), bearer("reader", "finance")
	path := "/odata/Customers?$filter=CustomerID eq 'ALFKI'&$select=CustomerID&$expand=Orders($filter=OrderID le 10250)"
	r := g.do("GET", path, nil, reader...)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Orders(OrderID,CustomerID,OrderDate,Status))","value":[`+
		`{"CustomerID":"ALFKI","Orders":[{"OrderID":10248,"CustomerID":"ALFKI","OrderDate":"2024-01-15","Status":"Open"}]}]}`)
	r = g.do("GET", path, nil, finance...)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Orders())","value":[`+
		`{"CustomerID":"ALFKI","Orders":[{"OrderID":10248,"CustomerID":"ALFKI","OrderDate":"2024-01-15","Total":100.50,"Status":"Open"}]}]}`)
	// The filtered-out order is not reachable as a to-one target either.
	r = g.do("GET", "/odata/order_lines?$filter=order_id eq 10249&$select=line_no&$expand=order($select=OrderID)", nil, reader...)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#order_lines(line_no,order(OrderID))","value":[{"line_no":1,"order":null}]}`)
	for _, q := range []string{"$select=Total", "$filter=Total gt 1", "$orderby=Total"} {
		r = g.do("GET", "/odata/Customers?$expand=Orders("+q+")", nil, reader...)
		if r.Status != 400 || !strings.Contains(string(r.Body), "Orders has no property Total") {
			t.Errorf("hidden Total in a nested %s: %d %s", q, r.Status, r.Body)
		}
	}
	if r = g.do("GET", "/odata/Customers?$expand=Orders($select=Total)", nil, finance...); r.Status != 200 {
		t.Errorf("finance selects Total: %d %s", r.Status, r.Body)
	}
}

func TestExpandSecurityPostgres(t *testing.T) {
	t.Parallel()
	expandSecurity(t, startFixture(t, expandPolicy))
}

func TestExpandSecurityMariaDB(t *testing.T) {
	t.Parallel()
	g, _ := startMySQL(t, expandPolicy)
	expandSecurity(t, g)
}

// TestExpandFanOutBounded: a related row shared by many parents is read once
// but written under each; the response stays bounded
// (limits.max_expand_entities, here 5,000). On the demo every product has
// about 150 order lines, so expanding product → lines → product → lines
// writes about 150 × 151 entities: one such product is refused with a clear
// 400 (single entity or first of a page), and a page of products whose
// expansions are large but bounded (150 × 12) ends early with a nextLink
// that walks on.
func TestExpandFanOutBounded(t *testing.T) {
	t.Parallel()
	c := demoConfig(t)
	c.Limits.MaxExpandEntities = 5_000 // the demo's products have ~150 lines each
	g := start(t, c)
	const tooLarge = `"code":"LimitExceeded"`
	for _, p := range []string{
		"/odata/products?$top=1&$select=product_id&$expand=order_lines($select=line_no;$expand=product($select=sku;$expand=order_lines($select=line_no)))",
		"/odata/products(1)?$select=product_id&$expand=order_lines($select=line_no;$expand=product($select=sku;$expand=order_lines($select=line_no)))",
	} {
		r := g.do("GET", p, nil)
		if r.Status != 400 || !strings.Contains(string(r.Body), tooLarge) {
			t.Errorf("GET %s: %d %.300s", p, r.Status, r.Body)
		}
	}
	// About 150 lines × (1 product + 10 lines) per product: a few products
	// per page, and the walk goes on.
	next := "/odata/products?$select=product_id&$orderby=product_id&$top=5" +
		"&$expand=order_lines($select=line_no;$expand=product($select=sku;$expand=order_lines($top=10;$select=line_no)))"
	var ids []float64
	pages := 0
	for next != "" && pages < 10 {
		var r *response
		if strings.HasPrefix(next, "http") {
			r = g.doURL("GET", next, nil)
		} else {
			r = g.do("GET", next, nil)
		}
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %.300s", next, r.Status, r.Body)
		}
		var body struct {
			Value []struct {
				ProductID float64 `json:"product_id"`
			} `json:"value"`
			Next string `json:"@odata.nextLink"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil {
			t.Fatal(err)
		}
		if len(body.Value) == 0 || len(body.Value) > 4 {
			t.Errorf("page %d has %d products, want 1..4 (bounded by the expanded entities)", pages, len(body.Value))
		}
		for _, v := range body.Value {
			ids = append(ids, v.ProductID)
		}
		next = body.Next
		pages++
	}
	if fmt.Sprint(ids) != "[1 2 3 4 5]" || pages < 2 {
		t.Errorf("walked %v in %d pages, want products 1..5 over several pages", ids, pages)
	}
}

// TestNavigationOff: navigation: false leaves navigation properties out of
// $metadata, and everything that follows them is an unknown name.
func TestNavigationOff(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) { c.Navigation = false })
	md := string(g.do("GET", "/odata/$metadata", nil).Body)
	for _, s := range []string{"NavigationProperty", "ExpandRestrictions"} {
		if strings.Contains(md, s) {
			t.Errorf("$metadata has %s", s)
		}
	}
	for _, p := range []string{"/odata/Customers?$expand=Orders", "/odata/Orders?$filter=Customer/City eq 'Berlin'", "/odata/Orders(10248)/Customer"} {
		if r := g.do("GET", p, nil); r.Status != 400 && r.Status != 404 {
			t.Errorf("GET %s: %d %s", p, r.Status, r.Body)
		}
	}
}

// TestExpandLevels: $levels on a self-referencing foreign key (an org
// chart) expands the same navigation recursively, with the item's options at
// every level; max stops at the depth limit.
func TestExpandLevels(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE staff (id int PRIMARY KEY, name text NOT NULL, manager_id int REFERENCES staff);
		INSERT INTO staff VALUES (1, 'Ada', NULL), (2, 'Bob', 1), (3, 'Cy', 2), (4, 'Di', 3), (5, 'Ed', 3)`); err != nil {
		t.Fatal(err)
	}
	g := start(t, fixtureConfig(dsn))
	cases := []struct{ path, want string }{
		{"/odata/staff(5)?$select=name&$expand=manager($levels=2;$select=name)",
			`{"@odata.context":"BASE/odata/$metadata#staff(name,manager(name,manager(name)))/$entity","name":"Ed","manager":{"name":"Cy","manager":{"name":"Bob"}}}`},
		{"/odata/staff(5)?$select=name&$expand=manager($levels=max;$select=name)",
			`{"@odata.context":"BASE/odata/$metadata#staff(name,manager(name,manager(name,manager(name))))/$entity","name":"Ed","manager":{"name":"Cy","manager":{"name":"Bob","manager":{"name":"Ada"}}}}`},
		{"/odata/staff(1)?$select=name&$expand=staff($levels=2;$select=name;$orderby=id desc)",
			`{"@odata.context":"BASE/odata/$metadata#staff(name,staff(name,staff(name)))/$entity","name":"Ada","staff":[{"name":"Bob","staff":[{"name":"Cy"}]}]}`},
	}
	for _, tc := range cases {
		r := g.do("GET", tc.path, nil)
		if got := strings.TrimSpace(g.normalize(r.Body)); r.Status != 200 || got != tc.want {
			t.Errorf("GET %s:\n got %d %s\nwant %s", tc.path, r.Status, got, tc.want)
		}
	}
	if r := g.do("GET", "/odata/staff?$expand=manager($levels=4)", nil); r.Status != 400 || !strings.Contains(string(r.Body), "LimitExceeded") {
		t.Errorf("$levels beyond the depth limit: %d %s", r.Status, r.Body)
	}
}
