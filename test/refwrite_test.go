package test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/odatagw/odatagw/server/app"
	"github.com/odatagw/odatagw/server/auth"
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
		{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":"Customers('ALFKI')?$select=Name"}`, 400,
			`{"error":{"code":"InvalidValue","message":"\"Customers('ALFKI')?$select=Name\" is not an entity URL: a reference names the entity only, without query options","target":"@odata.id","innererror":{"requestId":"RID"}}}`},
		{"POST", "/odata/Customers('ALFKI')/Orders/$ref?$id=Orders(10250)", `{"@odata.id":"Orders(10250)"}`, 400,
			`{"error":{"code":"InvalidQuery","message":"POST …/$ref takes the reference in its body ({\"@odata.id\": …}); $id names the reference DELETE removes","innererror":{"requestId":"RID"}}}`},
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

// TestRefWriteAccess: changing relationships needs update on the set whose
// foreign key changes and read on the sets of the path; every entity the
// change reads or writes is within the caller's row filter, a reference to
// an entity the caller cannot see is refused (PostgreSQL and MariaDB).
func TestRefWriteAccess(t *testing.T) {
	t.Parallel()
	policy := func(c *app.Config) {
		secJWT(c)
		c.Policy = auth.PolicyConfig{Sets: map[string]auth.SetRules{
			// Berlin sees ALFKI only.
			"Customers": {
				Grants:     []auth.Grant{{To: []string{"role:editor"}, Ops: []string{"update"}}},
				RowFilters: []auth.RowFilter{{To: []string{"*"}, Filter: "City eq {claim:city}"}},
			},
			"Orders": {
				Grants:     []auth.Grant{{To: []string{"role:editor"}, Ops: []string{"update"}}},
				Properties: []auth.PropertyRule{{Names: []string{"CustomerID"}, Write: []string{"role:linker"}}},
				RowFilters: []auth.RowFilter{{To: []string{"*"}, Filter: "Status ne 'Shipped'"}},
			},
		}}
	}
	token := func(roles ...string) []string {
		return []string{"Authorization", "Bearer " + secHS256(t, secClaims("ref", func(c jwt.MapClaims) {
			c["roles"] = roles
			c["city"] = "Berlin"
		}))}
	}
	pg := startFixture(t, policy)
	my, dsn := startMySQL(t, policy)
	mysqlNavigationRows(t, dsn)
	for name, g := range map[string]*gateway{"postgres": pg, "mariadb": my} {
		t.Run(name, func(t *testing.T) {
			linker, editor := token("editor", "linker"), token("editor")
			runRefSteps(t, g, []refStep{
				{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":"Customers('ANATR')"}`, 400,
					`{"error":{"code":"InvalidValue","message":"the reference names no entity: no Customers('ANATR') (it does not exist or you may not see it)","target":"@odata.id","innererror":{"requestId":"RID"}}}`},
				{"POST", "/odata/Customers('ALFKI')/Orders/$ref", `{"@odata.id":"Orders(10249)"}`, 400,
					`{"error":{"code":"InvalidValue","message":"the reference names no entity: no Orders(10249) (it does not exist or you may not see it)","target":"@odata.id","innererror":{"requestId":"RID"}}}`},
				{"POST", "/odata/Customers('ANATR')/Orders/$ref", `{"@odata.id":"Orders(10250)"}`, 404,
					`{"error":{"code":"NotFound","message":"no Customers entity with key ('ANATR')","innererror":{"requestId":"RID"}}}`},
				{"PUT", "/odata/Orders(10249)/Customer/$ref", `{"@odata.id":"Customers('ALFKI')"}`, 404,
					`{"error":{"code":"NotFound","message":"no Orders entity with key (10249)","innererror":{"requestId":"RID"}}}`},
				{"PATCH", "/odata/Customers('ANATR')/Orders(10250)", `{"Total":1}`, 404,
					`{"error":{"code":"NotFound","message":"no Customers entity with key ('ANATR')","innererror":{"requestId":"RID"}}}`},
				{"PATCH", "/odata/Customers('ALFKI')/Orders(10249)", `{"Total":1}`, 404,
					`{"error":{"code":"NotFound","message":"Orders(10249) is not in Customers('ALFKI')/Orders (or does not exist)","innererror":{"requestId":"RID"}}}`},
				{"PATCH", "/odata/Orders(10250)/Customer", `{"Name":"x"}`, 404,
					`{"error":{"code":"NotFound","message":"Orders(10250)/Customer not found","innererror":{"requestId":"RID"}}}`},
				{"PUT", "/odata/line_notes(1)/note_line/$ref", `{"@odata.id":"order_lines(order_id=10249,line_no=1)"}`, 403,
					`{"error":{"code":"Forbidden","message":"you may not update line_notes","innererror":{"requestId":"RID"}}}`},
				// Linking: the reference and the parent visible, update
				// on Orders and the right to write CustomerID.
				{"POST", "/odata/Customers('ALFKI')/Orders/$ref", `{"@odata.id":"Orders(10250)"}`, 204, ``},
				{"GET", "/odata/Customers('ALFKI')/Orders/$ref?$orderby=OrderID", ``, 200,
					`{"@odata.context":"BASE/odata/$metadata#Collection($ref)","value":[{"@odata.id":"BASE/odata/Orders(10248)"},{"@odata.id":"BASE/odata/Orders(10250)"},{"@odata.id":"BASE/odata/Orders(10253)"}]}`},
				{"PATCH", "/odata/Orders(10250)/Customer", `{"Name":"Alfreds F."}`, 204, ``},
				// A foreign key may not point at a customer the caller
				// cannot see, through @odata.bind or directly; hidden and
				// missing answer alike.
				{"PATCH", "/odata/Customers('ALFKI')/Orders(10248)", `{"Customer@odata.bind":"Customers('ANATR')"}`, 400,
					`{"error":{"code":"InvalidValue","message":"CustomerID refers to a Customers entity that does not exist or that you may not see","target":"CustomerID","innererror":{"requestId":"RID"}}}`},
				{"PATCH", "/odata/Orders(10253)", `{"CustomerID":"ANATR"}`, 400,
					`{"error":{"code":"InvalidValue","message":"CustomerID refers to a Customers entity that does not exist or that you may not see","target":"CustomerID","innererror":{"requestId":"RID"}}}`},
				{"PATCH", "/odata/Orders(10253)", `{"CustomerID":"NOPE"}`, 400,
					`{"error":{"code":"InvalidValue","message":"CustomerID refers to a Customers entity that does not exist or that you may not see","target":"CustomerID","innererror":{"requestId":"RID"}}}`},
				{"PATCH", "/odata/Orders(10253)", `{"CustomerID":"ALFKI"}`, 204, ``},
			}, linker...)
			runRefSteps(t, g, []refStep{
				{"PUT", "/odata/Orders(10248)/Customer/$ref", `{"@odata.id":"Customers('ALFKI')"}`, 403,
					`{"error":{"code":"Forbidden","message":"you may not write 1 of these properties","details":[{"code":"Forbidden","message":"you may not write property CustomerID","target":"CustomerID"}],"innererror":{"requestId":"RID"}}}`},
				{"PATCH", "/odata/Customers('ALFKI')/Orders(10248)", `{"Total":1}`, 204, ``},
			}, editor...)
			runRefSteps(t, g, []refStep{
				{"POST", "/odata/Customers('ALFKI')/Orders/$ref", `{"@odata.id":"Orders(10250)"}`, 403,
					`{"error":{"code":"Forbidden","message":"you may not update Orders","innererror":{"requestId":"RID"}}}`},
				{"PATCH", "/odata/Orders(10248)/Customer", `{"Name":"x"}`, 403,
					`{"error":{"code":"Forbidden","message":"you may not update Customers","innererror":{"requestId":"RID"}}}`},
			}, token()...)
		})
	}
}

// TestRefWriteBatch: reference changes inside a change set, one under a
// customer created earlier in it ($c1) and one to a customer created
// earlier in it (REF2); read back after.
func TestRefWriteBatch(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	r := g.do("POST", "/odata/$batch", []byte(`{"requests":[
	 {"id":"c1","atomicityGroup":"g1","method":"POST","url":"Customers","body":{"CustomerID":"REF1","Name":"Ref One"},"headers":{"Prefer":"return=minimal"}},
	 {"id":"c2","atomicityGroup":"g1","method":"POST","url":"$c1/Orders/$ref","body":{"@odata.id":"Orders(10252)"}},
	 {"id":"c3","atomicityGroup":"g1","method":"PUT","url":"Orders(10251)/Customer/$ref","body":{"@odata.id":"Customers('BERGS')"}},
	 {"id":"c4","atomicityGroup":"g1","method":"DELETE","url":"line_notes(1)/note_line/$ref"},
	 {"id":"c5","atomicityGroup":"g1","method":"POST","url":"Customers","body":{"CustomerID":"REF2","Name":"Ref Two"},"headers":{"Prefer":"return=minimal"}},
	 {"id":"c6","atomicityGroup":"g1","method":"PUT","url":"Orders(10249)/Customer/$ref","body":{"@odata.id":"Customers('REF2')"}},
	 {"id":"c7","atomicityGroup":"g1","method":"PATCH","url":"Orders(10250)","body":{"Customer@odata.bind":"$c5"}},
	 {"id":"c8","atomicityGroup":"g1","method":"PUT","url":"Orders(10253)/Customer/$ref","body":{"@odata.id":"$c1"}},
	 {"id":"r1","dependsOn":["g1"],"method":"GET","url":"Orders?$filter=OrderID ge 10251 and OrderID le 10252&$select=OrderID,CustomerID"},
	 {"id":"r2","dependsOn":["g1"],"method":"GET","url":"line_notes(1)/note_line"},
	 {"id":"r3","dependsOn":["g1"],"method":"GET","url":"Orders(10249)?$select=CustomerID"},
	 {"id":"r4","dependsOn":["g1"],"method":"GET","url":"Orders?$filter=OrderID in (10250,10253)&$select=OrderID,CustomerID"}
	]}`))
	got := navRIDRE.ReplaceAllString(strings.ReplaceAll(string(r.Body), g.base, "BASE"), `"requestId":"RID"`)
	for _, want := range []string{
		`{"id":"c2","atomicityGroup":"g1","status":204`,
		`{"id":"c3","atomicityGroup":"g1","status":204`,
		`{"id":"c4","atomicityGroup":"g1","status":204`,
		`"body":{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,CustomerID)","value":[{"OrderID":10251,"CustomerID":"BERGS"},{"OrderID":10252,"CustomerID":"REF1"}]}}`,
		`{"id":"r2","status":204`,
		// A reference to a customer created earlier in the change set: the
		// change set's reads see its own writes.
		`{"id":"c6","atomicityGroup":"g1","status":204`,
		`"CustomerID":"REF2"}`,
		// Content-ID references in bodies: @odata.bind and @odata.id.
		`"value":[{"OrderID":10250,"CustomerID":"REF2"},{"OrderID":10253,"CustomerID":"REF1"}]`,
	} {
		if r.Status != 200 || !strings.Contains(got, want) {
			t.Errorf("batch: %d\n%s\nmissing %s", r.Status, got, want)
		}
	}
	// A failing reference change rolls the change set back.
	r = g.do("POST", "/odata/$batch", []byte(`{"requests":[
	 {"id":"c1","atomicityGroup":"g1","method":"PUT","url":"Orders(10250)/Customer/$ref","body":{"@odata.id":"Customers('ALFKI')"}},
	 {"id":"c2","atomicityGroup":"g1","method":"DELETE","url":"Orders(10250)/Customer/$ref"}
	]}`))
	if r.Status != 200 || !strings.Contains(string(r.Body), `"status":400`) {
		t.Errorf("failing change set: %d %s", r.Status, r.Body)
	}
	if r = g.do("GET", "/odata/Orders(10250)?$select=CustomerID", nil); !strings.Contains(string(r.Body), `"CustomerID":"REF2"`) { // as the first batch left it
		t.Errorf("the change set was not rolled back: %s", r.Body)
	}
}

// TestRefWriteSQLite: reference changes and a write through a navigation
// path on the embedded demo.
func TestRefWriteSQLite(t *testing.T) {
	t.Parallel()
	g := start(t, demoConfig(t))
	runRefSteps(t, g, []refStep{
		{"PUT", "/odata/orders(1243)/customer/$ref", `{"@odata.id":"customers('C0000002')"}`, 204, ``},
		{"GET", "/odata/orders(1243)/customer/$ref", ``, 200,
			`{"@odata.context":"BASE/odata/$metadata#$ref","@odata.id":"BASE/odata/customers(%27C0000002%27)"}`},
		{"POST", "/odata/customers('C0000001')/orders/$ref", `{"@odata.id":"BASE/odata/orders(1243)"}`, 204, ``},
		{"GET", "/odata/orders(1243)/customer/$ref", ``, 200,
			`{"@odata.context":"BASE/odata/$metadata#$ref","@odata.id":"BASE/odata/customers(%27C0000001%27)"}`},
		{"DELETE", "/odata/customers('C0000001')/orders/$ref?$id=orders(1243)", ``, 400,
			`{"error":{"code":"InvalidValue","message":"the relationship orders cannot be removed: orders.customer_id cannot be null; reference another customers instead","target":"customer_id","innererror":{"requestId":"RID"}}}`},
		{"PUT", "/odata/orders(1243)/customer/$ref", `{"@odata.id":"customers('NOPE')"}`, 400,
			`{"error":{"code":"InvalidValue","message":"the reference names no entity: no customers('NOPE') (it does not exist or you may not see it)","target":"@odata.id","innererror":{"requestId":"RID"}}}`},
		{"PATCH", "/odata/customers('C0000002')/orders(1243)", `{"total":1}`, 404,
			`{"error":{"code":"NotFound","message":"orders(1243) is not in customers('C0000002')/orders (or does not exist)","innererror":{"requestId":"RID"}}}`},
		{"PATCH", "/odata/customers('C0000001')/orders(1243)", `{"total":1}`, 204, ``},
		{"GET", "/odata/customers('C0000001')/orders(1243)?$select=total", ``, 200,
			`{"@odata.context":"BASE/odata/$metadata#orders(total)/$entity","total":1.00}`},
	})
}

// TestRefWriteIfMatch: a reference change is a change of the entity that
// holds the foreign key, so If-Match (and require_if_match) apply to it.
func TestRefWriteIfMatch(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) {
		c.Sets["Orders"] = app.SetConfig{ETagHash: true}
		c.RequireIfMatch = true
	})
	body := []byte(`{"@odata.id":"Customers('ANATR')"}`)
	if r := g.do("PUT", "/odata/Orders(10248)/Customer/$ref", body); r.Status != 428 {
		t.Errorf("without If-Match: %d %s", r.Status, r.Body)
	}
	if r := g.do("PUT", "/odata/Orders(10248)/Customer/$ref", body, "If-Match", `W/"stale"`); r.Status != 412 {
		t.Errorf("stale If-Match: %d %s", r.Status, r.Body)
	}
	etag := g.do("GET", "/odata/Orders(10248)", nil).Header.Get("ETag")
	if r := g.do("PUT", "/odata/Orders(10248)/Customer/$ref", body, "If-Match", etag); r.Status != 204 {
		t.Errorf("current If-Match: %d %s", r.Status, r.Body)
	}
	// The collection side: If-Match names the referenced order.
	add := []byte(`{"@odata.id":"Orders(10248)"}`)
	if r := g.do("POST", "/odata/Customers('ALFKI')/Orders/$ref", add, "If-Match", etag); r.Status != 412 {
		t.Errorf("POST …/$ref with the order's old ETag: %d %s", r.Status, r.Body)
	}
	etag = g.do("GET", "/odata/Orders(10248)", nil).Header.Get("ETag")
	if r := g.do("POST", "/odata/Customers('ALFKI')/Orders/$ref", add, "If-Match", etag); r.Status != 204 {
		t.Errorf("POST …/$ref with the current ETag: %d %s", r.Status, r.Body)
	}
	if r := g.do("GET", "/odata/Orders(10248)?$select=CustomerID", nil); !strings.Contains(string(r.Body), `"CustomerID":"ALFKI"`) {
		t.Errorf("after the relink: %s", r.Body)
	}
}
