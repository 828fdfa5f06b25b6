package test

import (
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/mytest"
	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/server/app"
	"github.com/odatagw/odatagw/server/auth"
)

// Lambda operators (any, all) and paths through to-one navigation in
// $filter and $orderby, against the PostgreSQL and MariaDB fixtures:
// Customers <- Orders (Customer / Orders) <- order_lines (order /
// order_lines) <- line_notes (composite, nullable key: note_line /
// line_notes).

type lambdaCase struct {
	path, body string
}

func runLambdaCases(t *testing.T, g *gateway, cases []lambdaCase, headers ...string) {
	t.Helper()
	for _, tc := range cases {
		r := g.do("GET", tc.path, nil, headers...)
		g.expect(t, r, 200, tc.body)
	}
}

// expectError asserts a whole error response, the request id replaced by RID.
func expectError(t *testing.T, g *gateway, r *response, status int, body string) {
	t.Helper()
	r.Body = lambdaRIDRE.ReplaceAll(r.Body, []byte(`"requestId":"RID"`))
	g.expect(t, r, status, body)
}

var lambdaRIDRE = regexp.MustCompile(`"requestId":"[^"]*"`)

func ctx(set string) string { return `{"@odata.context":"BASE/odata/$metadata#` + set + `","value":[` }

func TestLambdaPostgres(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	g := start(t, fixtureConfig(dsn))
	ids := ctx("Customers(CustomerID)")
	runLambdaCases(t, g, []lambdaCase{
		{"/odata/Customers?$filter=Orders/any(o: o/Total gt 200)&$select=CustomerID,Name",
			ctx("Customers(CustomerID,Name)") + `{"CustomerID":"ALFKI","Name":"Alfreds Futterkiste"},{"CustomerID":"SALES","Name":"Sales & Marketing Ltd"}]}`},
		// all is true for a customer without orders.
		{"/odata/Customers?$filter=Orders/all(o: o/Status eq 'Open')&$select=CustomerID",
			ids + `{"CustomerID":"ACME-01"},{"CustomerID":"ANATR"},{"CustomerID":"BERGS"},{"CustomerID":"PCT"},{"CustomerID":"UNI"}]}`},
		{"/odata/Customers?$filter=Orders/any()&$select=CustomerID",
			ids + `{"CustomerID":"ALFKI"},{"CustomerID":"ANATR"},{"CustomerID":"O'BRIEN"},{"CustomerID":"SALES"}]}`},
		{"/odata/Customers?$filter=not Orders/any()&$select=CustomerID&$count=true",
			`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID)","@odata.count":4,"value":[{"CustomerID":"ACME-01"},{"CustomerID":"BERGS"},{"CustomerID":"PCT"},{"CustomerID":"UNI"}]}`},
		// $it: an order above the customer's credit limit.
		{"/odata/Customers?$filter=Orders/any(o: o/Total gt $it/CreditLimit)&$select=CustomerID",
			ids + `{"CustomerID":"SALES"}]}`},
		// Nested lambdas, down to the composite foreign key.
		{"/odata/Customers?$filter=Orders/any(o: o/order_lines/any(l: l/quantity gt 5))&$select=CustomerID",
			ids + `{"CustomerID":"ALFKI"}]}`},
		{"/odata/Orders?$filter=order_lines/any(l: l/line_notes/any(n: n/note eq 'fragile'))&$select=OrderID",
			ctx("Orders(OrderID)") + `{"OrderID":10249}]}`},
		{"/odata/order_lines?$filter=line_notes/all(n: startswith(n/note, 'g'))&$select=order_id,line_no",
			ctx("order_lines(order_id,line_no)") + `{"order_id":10248,"line_no":2}]}`},
		{"/odata/Customers?$filter=Orders/any(o: o/order_lines/any(l: l/line_notes/any(n: contains(n/note, 'noon') and o/Status eq 'Open')))&$select=CustomerID",
			ids + `{"CustomerID":"ALFKI"}]}`},
		// Paths through to-one navigation; a null navigation is null.
		{"/odata/Orders?$filter=Customer/Country eq 'Germany'&$select=OrderID",
			ctx("Orders(OrderID)") + `{"OrderID":10248},{"OrderID":10249},{"OrderID":10253}]}`},
		{"/odata/line_notes?$filter=note_line/quantity eq null&$select=note_id",
			ctx("line_notes(note_id)") + `{"note_id":4}]}`},
		{"/odata/line_notes?$filter=note_line/order/Customer/City eq 'Berlin'&$select=note_id",
			ctx("line_notes(note_id)") + `{"note_id":1},{"note_id":2},{"note_id":3}]}`},
		{"/odata/Orders?$filter=Customer/Orders/any(o: o/Status eq 'Shipped')&$select=OrderID",
			ctx("Orders(OrderID)") + `{"OrderID":10248},{"OrderID":10249},{"OrderID":10253}]}`},
		// On the collection of a navigation path.
		{"/odata/Customers('ALFKI')/Orders?$filter=order_lines/any()&$select=OrderID",
			ctx("Orders(OrderID)") + `{"OrderID":10248},{"OrderID":10249}]}`},
		{"/odata/order_lines?$orderby=line_notes/any() desc,order/Total&$select=order_id,line_no",
			ctx("order_lines(order_id,line_no)") + `{"order_id":10248,"line_no":1},{"order_id":10249,"line_no":1},{"order_id":10248,"line_no":2}]}`},
	})
	lambdaPaging(t, g)
	lambdaErrors(t, g)
	lambdaKeysetWalk(t, g, func(sql string) { pgtest.MustExec(t, dsn, sql) })
}

// lambdaPaging walks Orders ordered by a path, two rows a page: the pages
// are exact (an order by a path pages by keyset) and end.
func lambdaPaging(t *testing.T, g *gateway) {
	t.Helper()
	next := "/odata/Orders?$orderby=Customer/Name desc,OrderID&$select=OrderID,CustomerID"
	want := []string{
		`{"OrderID":10252,"CustomerID":"SALES"},{"OrderID":10251,"CustomerID":"O'BRIEN"}`,
		`{"OrderID":10250,"CustomerID":"ANATR"},{"OrderID":10248,"CustomerID":"ALFKI"}`,
		`{"OrderID":10249,"CustomerID":"ALFKI"},{"OrderID":10253,"CustomerID":"ALFKI"}`,
	}
	walkPages(t, g, next, want)
}

// lambdaKeysetWalk: a walk ordered by a path pages by keyset, so rows
// inserted before its position between two pages neither repeat a row nor
// skip one (an offset would return the last row of the first page again).
func lambdaKeysetWalk(t *testing.T, g *gateway, exec func(sql string)) {
	t.Helper()
	const path = "/odata/Orders?$orderby=Customer/Name desc,OrderID&$select=OrderID,CustomerID"
	whole := g.do("GET", path, nil)
	rows := whole.json(t)["value"].([]any)
	if whole.Status != 200 || len(rows) < 3 {
		t.Fatalf("whole: %d %s", whole.Status, whole.Body)
	}
	var want []string
	for _, r := range rows {
		want = append(want, string(r.(map[string]any)["OrderID"].(json.Number)))
	}
	first := rows[0].(map[string]any)["CustomerID"].(string)
	got, next := walkOrderIDs(t, g, path, 2, 1)
	// A new order of the first row's customer sorts right after it: before
	// the walk's position.
	exec(`INSERT INTO "Orders" ("OrderID","CustomerID","OrderDate","Total","Status") VALUES (30000,'` +
		strings.ReplaceAll(first, "'", "''") + `','2024-03-01',5,'Open')`)
	rest, _ := walkOrderIDs(t, g, next, 2, 100)
	if got = append(got, rest...); !slices.Equal(got, want) {
		t.Errorf("walk with an insert before its position: %v, want %v", got, want)
	}
}

// walkOrderIDs follows at most pages pages of size rows from path and
// returns the OrderIDs read and the next link ("" at the end).
func walkOrderIDs(t *testing.T, g *gateway, path string, size, pages int, headers ...string) ([]string, string) {
	t.Helper()
	var ids []string
	for range pages {
		r := g.do("GET", path, nil, append([]string{"Prefer", "odata.maxpagesize=" + strconv.Itoa(size)}, headers...)...)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		m := r.json(t)
		for _, row := range m["value"].([]any) {
			ids = append(ids, string(row.(map[string]any)["OrderID"].(json.Number)))
		}
		link, _ := m["@odata.nextLink"].(string)
		if link == "" {
			return ids, ""
		}
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		path = u.RequestURI()
	}
	return ids, path
}

func walkPages(t *testing.T, g *gateway, next string, want []string) {
	t.Helper()
	for i, rows := range want {
		r := g.do("GET", next, nil, "Prefer", "odata.maxpagesize=2")
		body := ctx("Orders(OrderID,CustomerID)") + rows + "]"
		m := r.json(t)
		link, _ := m["@odata.nextLink"].(string)
		if i < len(want)-1 {
			if link == "" {
				t.Fatalf("page %d has no nextLink: %s", i, r.Body)
			}
			body += `,"@odata.nextLink":"BASE/odata/Orders?$orderby=Customer/Name%20desc,OrderID&$select=OrderID,CustomerID&$skiptoken=TOKEN"`
		}
		g.expect(t, r, 200, body+"}")
		if link == "" {
			return
		}
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		next = u.RequestURI()
	}
	t.Fatalf("the walk goes on after %d pages", len(want))
}

func lambdaErrors(t *testing.T, g *gateway) {
	t.Helper()
	cases := []struct {
		path   string
		status int
		body   string
	}{
		{"/odata/Customers?$filter=Invoices/any()", 400, `{"error":{"code":"InvalidQuery","message":"$filter:1:1: Customers has no property Invoices","target":"Invoices","innererror":{"requestId":"RID"}}}`},
		{"/odata/Customers?$filter=Name/any(n: n eq 'x')", 400, `{"error":{"code":"InvalidQuery","message":"$filter:1:1: lambda operator any applies to a collection; Name is a primitive property of type Edm.String","target":"Name","innererror":{"requestId":"RID"}}}`},
		{"/odata/Orders?$filter=Customer/any()", 400, `{"error":{"code":"InvalidQuery","message":"$filter:1:1: lambda operator any applies to a collection; Customer is a single Customers entity","target":"Customer","innererror":{"requestId":"RID"}}}`},
		{"/odata/Customers?$filter=Orders/any(o: Total gt 1)", 400, `{"error":{"code":"InvalidQuery","message":"$filter:1:15: Customers has no property Total; did you mean o/Total?","target":"Total","innererror":{"requestId":"RID"}}}`},
		{"/odata/Customers?$filter=Orders/Total gt 1", 400, `{"error":{"code":"InvalidQuery","message":"$filter:1:1: Orders is a collection of Orders: use Orders/any(x: ...) or Orders/all(x: ...)","target":"Orders/Total","innererror":{"requestId":"RID"}}}`},
		{"/odata/Customers?$filter=Orders/any(o: o/order_lines/any(o: true))", 400, `{"error":{"code":"InvalidQuery","message":"$filter:1:15: lambda variable o is already in use","target":"o","innererror":{"requestId":"RID"}}}`},
		{"/odata/Customers?$filter=Orders/any(o: o/order_lines/any(l: l/line_notes/any(n: n/note_line/order/order_lines/any())))", 400,
			`{"error":{"code":"LimitExceeded","message":"$filter:1:56: $filter exceeds the maximum lambda nesting depth of 3","target":"$filter","innererror":{"requestId":"RID"}}}`},
		{"/odata/Customers?$filter=Orders/$count gt 1", 501, `{"error":{"code":"NotImplemented","message":"$filter:1:1: $count of a navigation path (Orders/$count) is not supported; use Orders/any()","target":"$filter","innererror":{"requestId":"RID"}}}`},
	}
	for _, tc := range cases {
		r := g.do("GET", tc.path, nil)
		expectError(t, g, r, tc.status, tc.body)
	}
}

func TestLambdaMariaDB(t *testing.T) {
	t.Parallel()
	g, dsn := startMySQL(t)
	ids := ctx("Customers(CustomerID)")
	runLambdaCases(t, g, []lambdaCase{
		{"/odata/Customers?$filter=Orders/any(o: o/Total gt 200)&$select=CustomerID,Name",
			ctx("Customers(CustomerID,Name)") + `{"CustomerID":"ALFKI","Name":"Alfreds Futterkiste"}]}`},
		{"/odata/Customers?$filter=Orders/all(o: o/Status eq 'Open')&$select=CustomerID",
			ids + `{"CustomerID":"ANATR"},{"CustomerID":"BERGS"},{"CustomerID":"O'BRIEN"},{"CustomerID":"UNI"}]}`},
		// Exact comparison inside the lambda, as at the top level.
		{"/odata/Customers?$filter=Orders/any(o: o/Status eq 'open')&$select=CustomerID", ids + `]}`},
		{"/odata/Customers?$filter=Orders/any()&$select=CustomerID",
			ids + `{"CustomerID":"ALFKI"},{"CustomerID":"ANATR"}]}`},
		{"/odata/Customers?$filter=Orders/any(o: o/order_lines/any(l: l/quantity gt 5))&$select=CustomerID",
			ids + `{"CustomerID":"ALFKI"}]}`},
		{"/odata/Orders?$filter=order_lines/any(l: l/line_notes/any(n: n/note eq 'fragile'))&$select=OrderID",
			ctx("Orders(OrderID)") + `{"OrderID":10249}]}`},
		{"/odata/order_lines?$filter=line_notes/all(n: startswith(n/note, 'g'))&$select=order_id,line_no",
			ctx("order_lines(order_id,line_no)") + `{"order_id":10248,"line_no":2}]}`},
		{"/odata/Orders?$filter=Customer/City eq 'Berlin'&$select=OrderID",
			ctx("Orders(OrderID)") + `{"OrderID":10248},{"OrderID":10249}]}`},
		{"/odata/line_notes?$filter=note_line/quantity eq null&$select=note_id",
			ctx("line_notes(note_id)") + `{"note_id":4}]}`},
		{"/odata/line_notes?$filter=note_line/order/Customer/City eq 'Berlin'&$select=note_id",
			ctx("line_notes(note_id)") + `{"note_id":1},{"note_id":2},{"note_id":3}]}`},
	})
	walkPages(t, g, "/odata/Orders?$orderby=Customer/Name desc,OrderID&$select=OrderID,CustomerID", []string{
		`{"OrderID":10250,"CustomerID":"ANATR"},{"OrderID":10248,"CustomerID":"ALFKI"}`,
		`{"OrderID":10249,"CustomerID":"ALFKI"}`,
	})
	lambdaKeysetWalk(t, g, func(sql string) { mytest.MustExec(t, dsn, sql) })

	// MariaDB's case-insensitive collation accepts a foreign key 'alfki'
	// for the customer 'ALFKI'; the gateway's relation is exact everywhere
	// (lambdas and paths here, navigation paths and $expand alike): order
	// 20001 has no customer.
	g2, dsn := startMySQL(t)
	mytest.MustExec(t, dsn, `INSERT INTO "Orders" ("OrderID","CustomerID","OrderDate","Total","Status") VALUES (20001,'alfki','2024-03-01',5,'Open')`)
	runLambdaCases(t, g2, []lambdaCase{
		{"/odata/Customers?$filter=Orders/any(o: o/OrderID eq 20001)&$select=CustomerID", ids + `]}`},
		{"/odata/Orders?$filter=OrderID eq 20001 and Customer/CustomerID eq 'ALFKI'&$select=OrderID", ctx("Orders(OrderID)") + `]}`},
	})
	if r := g2.do("GET", "/odata/Orders(20001)/Customer", nil); r.Status != 204 {
		t.Errorf("Orders(20001)/Customer: %d %s", r.Status, r.Body)
	}
	r := g2.do("GET", "/odata/Orders?$filter=OrderID eq 20001&$select=OrderID&$expand=Customer($select=CustomerID)", nil)
	if !strings.Contains(string(r.Body), `"Customer":null`) {
		t.Errorf("$expand=Customer of order 20001: %d %s", r.Status, r.Body)
	}
	r = g2.do("GET", "/odata/Orders?$apply=filter(OrderID eq 20001)/groupby((Customer/CustomerID))", nil)
	if !strings.Contains(string(r.Body), `"Customer":{"CustomerID":null}`) {
		t.Errorf("$apply grouping order 20001 by its customer: %d %s", r.Status, r.Body)
	}
}

// TestLambdaAuthorization: a lambda never sees rows the caller's row filter
// hides (any() would reveal that they exist), a path through a hidden row is
// null, and hidden properties are unknown inside lambdas and paths exactly
// as at the top level.
func TestLambdaAuthorization(t *testing.T) {
	t.Parallel()
	const readerKey, financeKey = "ak_reader_0123456789abcdef0123456789", "ak_finance_0123456789abcdef012345678"
	g := startFixture(t, func(c *app.Config) {
		c.Auth.APIKeys = []auth.APIKey{
			{Name: "reader", Hash: auth.HashAPIKey(readerKey), Roles: []string{"reader"}},
			{Name: "finance", Hash: auth.HashAPIKey(financeKey), Roles: []string{"reader", "finance"}},
		}
		c.Policy = auth.PolicyConfig{Sets: map[string]auth.SetRules{
			"order_lines": {Grants: []auth.Grant{{To: []string{"role:reader"}, Ops: []string{"read"}}}},
			"line_notes":  {Grants: []auth.Grant{{To: []string{"role:finance"}, Ops: []string{"read"}}}},
			"Orders": {
				Grants:     []auth.Grant{{To: []string{"role:reader"}, Ops: []string{"read"}}},
				RowFilters: []auth.RowFilter{{To: []string{"*"}, Filter: "Status eq 'Open'"}},
				Properties: []auth.PropertyRule{{Names: []string{"Total"}, Read: []string{"role:finance"}}},
			},
			"Customers": {
				Grants:     []auth.Grant{{To: []string{"role:reader"}, Ops: []string{"read"}}},
				RowFilters: []auth.RowFilter{{To: []string{"*"}, Filter: "Country ne 'Mexico'"}},
				Properties: []auth.PropertyRule{{Names: []string{"CreditLimit"}, Read: []string{"role:finance"}}},
			},
		}}
	})
	reader := []string{"X-API-Key", readerKey}
	finance := []string{"X-API-Key", financeKey}
	ids := ctx("Customers(CustomerID)")
	runLambdaCases(t, g, []lambdaCase{
		// Only open orders exist for the caller: O'BRIEN's and SALES's do
		// not count (ANATR is hidden itself).
		{"/odata/Customers?$filter=Orders/any()&$select=CustomerID", ids + `{"CustomerID":"ALFKI"}]}`},
		{"/odata/Customers?$filter=Orders/all(o: o/Status eq 'Open') and Orders/any()&$select=CustomerID", ids + `{"CustomerID":"ALFKI"}]}`},
		{"/odata/Customers?$filter=Orders/any(o: o/OrderID eq 10249)&$select=CustomerID", ids + `]}`},
		// ANATR is hidden: the path from its order is null.
		{"/odata/Orders?$filter=Customer/Name eq null&$select=OrderID", ctx("Orders(OrderID)") + `{"OrderID":10250}]}`},
		{"/odata/Orders?$orderby=Customer/Name,OrderID&$select=OrderID", ctx("Orders(OrderID)") + `{"OrderID":10250},{"OrderID":10248},{"OrderID":10253}]}`},
	}, reader...)
	// Walked a row a page, from the null path on (keyset positions).
	if ids, _ := walkOrderIDs(t, g, "/odata/Orders?$orderby=Customer/Name,OrderID&$select=OrderID", 1, 10, reader...); !slices.Equal(ids, []string{"10250", "10248", "10253"}) {
		t.Errorf("walk through a hidden customer: %v", ids)
	}
	runLambdaCases(t, g, []lambdaCase{
		{"/odata/Customers?$filter=Orders/any(o: o/Total gt 100)&$select=CustomerID", ids + `{"CustomerID":"ALFKI"}]}`},
		{"/odata/Customers?$filter=Orders/any(o: o/Total lt $it/CreditLimit)&$select=CustomerID", ids + `{"CustomerID":"ALFKI"}]}`},
	}, finance...)

	// Hidden properties are unknown inside lambdas and paths: the answer is
	// the one for a property that does not exist (a 400 naming it), as at
	// the top level.
	top := g.do("GET", "/odata/Orders?$filter=Total gt 100", nil, reader...)
	expectError(t, g, top, 400, `{"error":{"code":"InvalidQuery","message":"Orders has no property Total","target":"Total","innererror":{"requestId":"RID"}}}`)
	hidden := []struct{ path, hidden, body string }{
		{"/odata/Customers?$filter=Orders/any(o: o/Total gt 100)", "Total",
			`{"error":{"code":"InvalidQuery","message":"$filter:1:15: Orders has no property Total","target":"Total","innererror":{"requestId":"RID"}}}`},
		{"/odata/Customers?$filter=Orders/all(o: o/order_lines/any() or o/Total gt 100)", "Total",
			`{"error":{"code":"InvalidQuery","message":"$filter:1:38: Orders has no property Total","target":"Total","innererror":{"requestId":"RID"}}}`},
		{"/odata/order_lines?$filter=order/Total gt 100", "Total",
			`{"error":{"code":"InvalidQuery","message":"$filter:1:1: Orders has no property Total","target":"Total","innererror":{"requestId":"RID"}}}`},
		{"/odata/order_lines?$orderby=order/Total", "Total",
			`{"error":{"code":"InvalidQuery","message":"$orderby:1:1: Orders has no property Total","target":"Total","innererror":{"requestId":"RID"}}}`},
		{"/odata/Orders?$filter=Customer/CreditLimit gt 5", "CreditLimit",
			`{"error":{"code":"InvalidQuery","message":"$filter:1:1: Customers has no property CreditLimit","target":"CreditLimit","innererror":{"requestId":"RID"}}}`},
	}
	for _, h := range hidden {
		r := g.do("GET", h.path, nil, reader...)
		expectError(t, g, r, 400, h.body)
		fake := strings.Repeat("Z", len(h.hidden))
		r = g.do("GET", strings.Replace(h.path, h.hidden, fake, 1), nil, reader...)
		expectError(t, g, r, 400, strings.ReplaceAll(h.body, h.hidden, fake))
	}
	// $it inside a lambda reads the request's own set: its hidden
	// properties are refused by the same check as at the top level.
	r := g.do("GET", "/odata/Customers?$filter=Orders/any(o: o/OrderID gt 1 and $it/CreditLimit gt 5)", nil, reader...)
	expectError(t, g, r, 400, `{"error":{"code":"InvalidQuery","message":"Customers has no property CreditLimit","target":"CreditLimit","innererror":{"requestId":"RID"}}}`)
	top = g.do("GET", "/odata/Customers?$filter=CreditLimit gt 5", nil, reader...)
	expectError(t, g, top, 400, `{"error":{"code":"InvalidQuery","message":"Customers has no property CreditLimit","target":"CreditLimit","innererror":{"requestId":"RID"}}}`)
	// A set the caller may not read cannot be reached through navigation.
	r = g.do("GET", "/odata/order_lines?$filter=line_notes/any()", nil, reader...)
	expectError(t, g, r, 403, `{"error":{"code":"Forbidden","message":"you may not read line_notes","innererror":{"requestId":"RID"}}}`)
	r = g.do("GET", "/odata/order_lines?$filter=line_notes/any()&$select=order_id,line_no", nil, finance...)
	g.expect(t, r, 200, ctx("order_lines(order_id,line_no)")+`{"order_id":10248,"line_no":1},{"order_id":10249,"line_no":1}]}`)

	r = g.do("GET", "/odata/Orders?$filter=Customer/creditlimit gt 5", nil, reader...)
	if r.Status != 400 || strings.Contains(string(r.Body), "did you mean") {
		t.Errorf("case hint towards a hidden property: %d %s", r.Status, r.Body)
	}
}

// TestPathOrderETag: a page ordered by a navigation path (or a $compute
// alias of one) reads the path's value as an extra column; the entities'
// ETags are still their own, and If-Match with them works.
func TestPathOrderETag(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) { c.Sets["Orders"] = app.SetConfig{ETagHash: true} })
	want := g.do("GET", "/odata/Orders(10248)", nil).Header.Get("ETag")
	if want == "" {
		t.Fatal("no ETag")
	}
	for _, u := range []string{
		"/odata/Orders?$filter=OrderID eq 10248&$orderby=Customer/City",
		"/odata/Orders?$filter=OrderID eq 10248&$compute=Customer/City as cc&$orderby=cc",
		"/odata/Customers('ALFKI')/Orders?$filter=OrderID eq 10248&$orderby=Customer/City desc",
	} {
		r := g.do("GET", u, nil)
		var page struct {
			Value []map[string]any `json:"value"`
		}
		if err := json.Unmarshal(r.Body, &page); err != nil || len(page.Value) != 1 {
			t.Fatalf("GET %s: %d %s", u, r.Status, r.Body)
		}
		got, _ := page.Value[0]["@odata.etag"].(string)
		if got != want {
			t.Errorf("GET %s: @odata.etag %s, want the entity's %s", u, got, want)
		}
		if p := g.do("PATCH", "/odata/Orders(10248)", []byte(`{"Status":"Open"}`), "If-Match", got); p.Status != 204 {
			t.Errorf("PATCH with the ETag of %s: %d %s", u, p.Status, p.Body)
		}
		want = g.do("GET", "/odata/Orders(10248)", nil).Header.Get("ETag")
	}
}
