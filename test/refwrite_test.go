package test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/server/app"
)

// Changing relationships (OData 4.01 Protocol §11.4.6: PUT, POST and
// DELETE on …/$ref) and writing entities addressed through navigation paths
// (PATCH, PUT, DELETE Customers('ALFKI')/Orders(10248), Orders(1)/Customer),
// on the fixture's relationships (see navigation_test.go).

func TestRefWritePostgres(t *testing.T) {
	t.Parallel()
	refWriteSuite(t, startFixture(t, ordersETag))
}

func TestRefWriteMariaDB(t *testing.T) {
	t.Parallel()
	g, dsn := startMySQL(t, ordersETag)
	mysqlNavigationRows(t, dsn)
	refWriteSuite(t, g)
}

func ordersETag(c *app.Config) {
	if c.Sets == nil {
		c.Sets = map[string]app.SetConfig{}
	}
	c.Sets["Orders"] = app.SetConfig{ETagHash: true}
}

// refStep is one request and its whole expected answer.
type refStep struct {
	method, path, body string
	status             int
	want               string
}

var refETagRE = regexp.MustCompile(`"@odata.etag":"W/\\"[^"\\]*\\""`)

func runRefSteps(t *testing.T, g *gateway, steps []refStep, headers ...string) {
	t.Helper()
	for _, s := range steps {
		var b []byte
		if s.body != "" {
			b = []byte(strings.ReplaceAll(s.body, "BASE", g.base))
		}
		r := g.do(s.method, s.path, b, headers...)
		got := strings.TrimSpace(navRIDRE.ReplaceAllString(g.normalize(r.Body), `"requestId":"RID"`))
		got = refETagRE.ReplaceAllString(got, `"@odata.etag":"ETAG"`)
		if r.Status != s.status || got != s.want {
			t.Errorf("%s %s %s\n got: %d %s\nwant: %d %s", s.method, s.path, s.body, r.Status, got, s.status, s.want)
		}
	}
}

func refWriteSuite(t *testing.T, g *gateway) {
	const (
		ref1 = `{"@odata.context":"BASE/odata/$metadata#$ref","@odata.id":"BASE/odata/`
	)
	runRefSteps(t, g, []refStep{
		// PUT a to-one reference: relative, absolute, 4.01 "@id".
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":"Customers('ANATR')"}`, 204, ``},
		{"GET", "/odata/Orders(10248)/Customer/$ref", ``, 200, ref1 + `Customers(%27ANATR%27)"}`},
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@odata.context":"BASE/odata/$metadata#$ref","@odata.id":"BASE/odata/Customers('BERGS')"}`, 204, ``},
		{"GET", "/odata/Orders(10248)?$select=CustomerID", ``, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(CustomerID)/$entity","@odata.etag":"ETAG","CustomerID":"BERGS"}`},
		{"PUT", "/odata/Customers('O''BRIEN')/Orders(10251)/Customer/$ref", `{"@id":"/odata/Customers/ALFKI"}`, 204, ``},
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@id":"Customers('ALFKI')"}`, 204, ``},
		{"GET", "/odata/Customers('ALFKI')/Orders/$ref?$orderby=OrderID", ``, 200,
			`{"@odata.context":"BASE/odata/$metadata#Collection($ref)","value":[{"@odata.id":"BASE/odata/Orders(10248)"},{"@odata.id":"BASE/odata/Orders(10249)"},{"@odata.id":"BASE/odata/Orders(10251)"},{"@odata.id":"BASE/odata/Orders(10253)"}]}`},
		// Bad references and bodies.
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":"Customers('NOPE')"}`, 400,
			`{"error":{"code":"InvalidValue","message":"the reference names no entity: no Customers('NOPE') (it does not exist or you may not see it)","target":"@odata.id","innererror":{"requestId":"RID"}}}`},
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":"Orders(10249)"}`, 400,
			`{"error":{"code":"InvalidValue","message":"Customer leads to Customers: \"Orders(10249)\" is not an entity of Customers","target":"@odata.id","innererror":{"requestId":"RID"}}}`},
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":"Customers"}`, 400,
			`{"error":{"code":"InvalidValue","message":"\"Customers\" does not address one entity of Customers by its key, e.g. Customers(CustomerID=...)","target":"@odata.id","innererror":{"requestId":"RID"}}}`},
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":"http://elsewhere.example/odata/Customers('ALFKI')"}`, 400,
			`{"error":{"code":"InvalidValue","message":"\"http://elsewhere.example/odata/Customers('ALFKI')\" is not a URL of this service","target":"@odata.id","innererror":{"requestId":"RID"}}}`},
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `{}`, 400,
			`{"error":{"code":"InvalidSyntax","message":"request body, byte 0: the entity reference has no @odata.id: send {\"@odata.id\":\"Set(key)\"}","target":"body","innererror":{"requestId":"RID"}}}`},
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":5}`, 400,
			`{"error":{"code":"InvalidSyntax","message":"request body, byte 0: @odata.id must be a non-empty string: the URL of the referenced entity","target":"body","innererror":{"requestId":"RID"}}}`},
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":"Customers('ALFKI')","Name":"x"}`, 400,
			`{"error":{"code":"InvalidSyntax","message":"request body, byte 0: an entity reference has no properties (found \"Name\"); send {\"@odata.id\":\"Set(key)\"}","target":"body","innererror":{"requestId":"RID"}}}`},
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `not json`, 400,
			`{"error":{"code":"InvalidSyntax","message":"request body, byte 2: malformed JSON: invalid character 'o' in literal null (expecting 'u')","target":"body","innererror":{"requestId":"RID"}}}`},
		{"PUT", "/odata/Orders(99999)/Customer/$ref", `{"@odata.id":"Customers('ALFKI')"}`, 404,
			`{"error":{"code":"NotFound","message":"no Orders entity with key (99999)","innererror":{"requestId":"RID"}}}`},
		// DELETE a to-one reference whose foreign key is NOT NULL.
		{"DELETE", "/odata/Orders(10248)/Customer/$ref", ``, 400,
			`{"error":{"code":"InvalidValue","message":"the relationship Customer cannot be removed: Orders.CustomerID cannot be null; reference another Customers instead","target":"CustomerID","innererror":{"requestId":"RID"}}}`},
		// POST and DELETE references of a to-many navigation.
		{"POST", "/odata/Customers('ALFKI')/Orders/$ref", `{"@odata.id":"Orders(10250)"}`, 204, ``},
		{"GET", "/odata/Orders(10250)/Customer/$ref", ``, 200, ref1 + `Customers(%27ALFKI%27)"}`},
		{"POST", "/odata/Customers('ALFKI')/Orders/$ref", `{"@odata.id":"Orders(99999)"}`, 400,
			`{"error":{"code":"InvalidValue","message":"the reference names no entity: no Orders(99999) (it does not exist or you may not see it)","target":"@odata.id","innererror":{"requestId":"RID"}}}`},
		{"POST", "/odata/Customers('ALFKI')/Orders/$ref", `{"@odata.id":"Customers('ANATR')"}`, 400,
			`{"error":{"code":"InvalidValue","message":"Orders leads to Orders: \"Customers('ANATR')\" is not an entity of Orders","target":"@odata.id","innererror":{"requestId":"RID"}}}`},
		{"POST", "/odata/Customers('NOPE')/Orders/$ref", `{"@odata.id":"Orders(10250)"}`, 404,
			`{"error":{"code":"NotFound","message":"no Customers entity with key ('NOPE')","innererror":{"requestId":"RID"}}}`},
		{"DELETE", "/odata/Customers('ALFKI')/Orders/$ref?$id=Orders(10248)", ``, 400,
			`{"error":{"code":"InvalidValue","message":"the relationship Orders cannot be removed: Orders.CustomerID cannot be null; reference another Customers instead","target":"CustomerID","innererror":{"requestId":"RID"}}}`},
		{"DELETE", "/odata/Customers('ALFKI')/Orders(10248)/$ref", ``, 400,
			`{"error":{"code":"InvalidValue","message":"the relationship Orders cannot be removed: Orders.CustomerID cannot be null; reference another Customers instead","target":"CustomerID","innererror":{"requestId":"RID"}}}`},
		{"DELETE", "/odata/Customers('ALFKI')/Orders/$ref", ``, 400,
			`{"error":{"code":"InvalidQuery","message":"DELETE of the references of Orders removes one: name it with $id (Orders/$ref?$id=Orders(key)) or by key (Orders(key)/$ref)","innererror":{"requestId":"RID"}}}`},
		{"DELETE", "/odata/Customers('ALFKI')/Orders/$ref?$id=Customers('ALFKI')", ``, 400,
			`{"error":{"code":"InvalidValue","message":"Orders leads to Orders: \"Customers('ALFKI')\" is not an entity of Orders","target":"$id","innererror":{"requestId":"RID"}}}`},
		{"GET", "/odata/Customers('ALFKI')/Orders/$ref?$id=Orders(10248)", ``, 400,
			`{"error":{"code":"InvalidQuery","message":"$id names the reference a DELETE …/$ref removes; GET does not take it","innererror":{"requestId":"RID"}}}`},
		{"POST", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":"Customers('ALFKI')"}`, 405,
			`{"error":{"code":"MethodNotAllowed","message":"Customer is a single-valued navigation property: PUT sets its reference, DELETE removes it","innererror":{"requestId":"RID"}}}`},
		{"PATCH", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":"Customers('ALFKI')"}`, 405,
			`{"error":{"code":"MethodNotAllowed","message":"Customer is a single-valued navigation property: PUT sets its reference, DELETE removes it","innererror":{"requestId":"RID"}}}`},
		{"PUT", "/odata/Customers('ALFKI')/Orders/$ref", `{"@odata.id":"Orders(10250)"}`, 405,
			`{"error":{"code":"MethodNotAllowed","message":"Orders is a collection-valued navigation property: POST adds a reference, DELETE …/$ref?$id=Orders(key) removes one","innererror":{"requestId":"RID"}}}`},
		{"DELETE", "/odata/Orders(10248)/$ref", ``, 405,
			`{"error":{"code":"MethodNotAllowed","message":"references of Orders are read-only; change a relationship through a navigation property: Orders(key)/<navigation>/$ref","innererror":{"requestId":"RID"}}}`},
		// Composite keys: line_notes → order_lines (nullable).
		{"PUT", "/odata/line_notes(1)/note_line/$ref", `{"@odata.id":"order_lines(order_id=10249,line_no=1)"}`, 204, ``},
		{"GET", "/odata/line_notes(1)/note_line/$ref", ``, 200, ref1 + `order_lines(order_id=10249,line_no=1)"}`},
		{"DELETE", "/odata/line_notes(1)/note_line/$ref", ``, 204, ``},
		{"GET", "/odata/line_notes(1)/note_line", ``, 204, ``},
		{"GET", "/odata/line_notes(1)?$select=order_id,line_no", ``, 200, `{"@odata.context":"BASE/odata/$metadata#line_notes(order_id,line_no)/$entity","order_id":null,"line_no":null}`},
		{"POST", "/odata/order_lines(order_id=10248,line_no=2)/line_notes/$ref", `{"@odata.id":"line_notes(4)"}`, 204, ``},
		{"GET", "/odata/order_lines(order_id=10248,line_no=2)/line_notes/$ref", ``, 200, `{"@odata.context":"BASE/odata/$metadata#Collection($ref)","value":[{"@odata.id":"BASE/odata/line_notes(4)"}]}`},
		{"DELETE", "/odata/order_lines(order_id=10249,line_no=1)/line_notes(2)/$ref", ``, 404,
			`{"error":{"code":"NotFound","message":"line_notes(2) is not in order_lines(order_id=10249,line_no=1)/line_notes (or does not exist)","innererror":{"requestId":"RID"}}}`},
		{"DELETE", "/odata/order_lines(order_id=10248,line_no=2)/line_notes/$ref?$id=line_notes(4)", ``, 204, ``},
		{"DELETE", "/odata/order_lines(order_id=10248,line_no=1)/line_notes(2)/$ref", ``, 204, ``},
		{"GET", "/odata/order_lines(order_id=10248,line_no=1)/line_notes/$count", ``, 200, `0`},
		// A foreign key that is part of the key cannot move.
		{"POST", "/odata/Orders(10249)/order_lines/$ref", `{"@odata.id":"order_lines(order_id=10248,line_no=1)"}`, 400,
			`{"error":{"code":"InvalidValue","message":"cannot set the relationship order_lines of order_lines(order_id=10248,line_no=1): its foreign key order_id is part of the key of order_lines, which cannot change","target":"order_id","innererror":{"requestId":"RID"}}}`},
		{"DELETE", "/odata/order_lines(order_id=10248,line_no=1)/order/$ref", ``, 400,
			`{"error":{"code":"InvalidValue","message":"cannot remove the relationship order of order_lines(order_id=10248,line_no=1): its foreign key order_id is part of the key of order_lines, which cannot change","target":"order_id","innererror":{"requestId":"RID"}}}`},
		// Entities through navigation paths.
		{"PATCH", "/odata/Customers('ALFKI')/Orders(10249)", `{"Status":"Held"}`, 204, ``},
		{"GET", "/odata/Orders(10249)?$select=Status", ``, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(Status)/$entity","@odata.etag":"ETAG","Status":"Held"}`},
		{"PATCH", "/odata/Customers('ANATR')/Orders(10249)", `{"Status":"Lost"}`, 404,
			`{"error":{"code":"NotFound","message":"Orders(10249) is not in Customers('ANATR')/Orders (or does not exist)","innererror":{"requestId":"RID"}}}`},
		{"PATCH", "/odata/Customers('NOPE')/Orders(10249)", `{"Status":"Lost"}`, 404,
			`{"error":{"code":"NotFound","message":"no Customers entity with key ('NOPE')","innererror":{"requestId":"RID"}}}`},
		{"PUT", "/odata/Customers('ALFKI')/Orders(10249)", `{"CustomerID":"ALFKI","OrderDate":"2024-01-17","Total":251.00}`, 204, ``},
		{"GET", "/odata/Orders(10249)?$select=OrderDate,Total,Status", ``, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderDate,Total,Status)/$entity","@odata.etag":"ETAG","OrderDate":"2024-01-17","Total":251.00,"Status":"Open"}`},
		{"PATCH", "/odata/Orders(10248)/Customer", `{"City":"Hamburg"}`, 204, ``},
		{"GET", "/odata/Customers('ALFKI')?$select=City", ``, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(City)/$entity","City":"Hamburg"}`},
		{"PATCH", "/odata/line_notes(1)/note_line", `{"quantity":3}`, 404,
			`{"error":{"code":"NotFound","message":"line_notes(1)/note_line is null: there is no entity to change","innererror":{"requestId":"RID"}}}`},
		{"PATCH", "/odata/Orders(10248)/order_lines(order_id=10248,line_no=2)", `{"quantity":3}`, 204, ``},
		{"PATCH", "/odata/Orders(10249)/order_lines(order_id=10248,line_no=2)", `{"quantity":4}`, 404,
			`{"error":{"code":"NotFound","message":"order_lines(order_id=10248,line_no=2) is not in Orders(10249)/order_lines (or does not exist)","innererror":{"requestId":"RID"}}}`},
		{"GET", "/odata/order_lines(order_id=10248,line_no=2)?$select=quantity", ``, 200, `{"@odata.context":"BASE/odata/$metadata#order_lines(quantity)/$entity","quantity":3}`},
		// Moving the entity out of the parent through the path is allowed,
		// as in a direct PATCH.
		{"PATCH", "/odata/Customers('ALFKI')/Orders(10253)", `{"CustomerID":"BERGS"}`, 204, ``},
		{"GET", "/odata/Orders(10253)/Customer/$ref", ``, 200, ref1 + `Customers(%27BERGS%27)"}`},
		{"DELETE", "/odata/Customers('ALFKI')/Orders(10253)", ``, 404,
			`{"error":{"code":"NotFound","message":"Orders(10253) is not in Customers('ALFKI')/Orders (or does not exist)","innererror":{"requestId":"RID"}}}`},
		{"DELETE", "/odata/Customers('BERGS')/Orders(10253)", ``, 204, ``},
		{"GET", "/odata/Orders(10253)", ``, 404,
			`{"error":{"code":"NotFound","message":"no Orders entity with key (10253)","innererror":{"requestId":"RID"}}}`},
		{"POST", "/odata/Orders(10248)/Customer", `{"CustomerID":"X","Name":"x"}`, 405,
			`{"error":{"code":"MethodNotAllowed","message":"Customer is a single-valued navigation property: POST creates entities in collections","innererror":{"requestId":"RID"}}}`},
		{"PATCH", "/odata/Customers('ALFKI')/Orders", `{"Status":"x"}`, 405,
			`{"error":{"code":"MethodNotAllowed","message":"update needs a key: Orders(key)","innererror":{"requestId":"RID"}}}`},
	})
	// If-Match through a navigation path, as on the entity's own URL.
	r := g.do("GET", "/odata/Customers('ALFKI')/Orders(10248)", nil)
	etag := r.Header.Get("ETag")
	if r.Status != 200 || etag == "" {
		t.Fatalf("no ETag: %d %v %s", r.Status, r.Header, r.Body)
	}
	r = g.do("PATCH", "/odata/Customers('ALFKI')/Orders(10248)", []byte(`{"Status":"Checked"}`), "If-Match", `W/"stale"`)
	if r.Status != 412 {
		t.Errorf("stale If-Match: %d %s", r.Status, r.Body)
	}
	r = g.do("PATCH", "/odata/Customers('ALFKI')/Orders(10248)", []byte(`{"Status":"Checked"}`), "If-Match", etag, "Prefer", "return=representation")
	if r.Status != 200 || !strings.Contains(string(r.Body), `"Status":"Checked"`) || r.Header.Get("ETag") == etag {
		t.Errorf("If-Match: %d %v %s", r.Status, r.Header, r.Body)
	}
	r = g.do("DELETE", "/odata/Customers('ALFKI')/Orders(10248)", nil, "If-Match", etag)
	if r.Status != 412 {
		t.Errorf("DELETE with a stale If-Match: %d %s", r.Status, r.Body)
	}
}
