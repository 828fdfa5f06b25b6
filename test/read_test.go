package test

import (
	"encoding/json"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/golden"
)

func TestServiceDocumentAndMetadata(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	r := g.do("GET", "/odata/", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || r.Header.Get("OData-Version") != "4.0" {
		t.Fatalf("service document: %d %v %s", r.Status, r.Header, r.Body)
	}
	golden.Assert(t, filepath.Join("testdata", "service.golden.json"), []byte(g.normalize(r.Body)))
	for _, path := range []string{"/odata", "/odata/"} {
		if r := g.do("GET", path, nil); r.Status != 200 {
			t.Errorf("GET %s = %d", path, r.Status)
		}
	}

	r = g.do("GET", "/odata/$metadata", nil, "Accept", "application/xml")
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/xml" {
		t.Fatalf("$metadata: %d %v\n%s", r.Status, r.Header, r.Body)
	}
	golden.Assert(t, filepath.Join("testdata", "metadata.golden.xml"), r.Body)
	// Skipped objects are named in the log.
	logs := g.logs()
	for _, want := range []string{"keyless_view", "c_array"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log does not mention skipped %s", want)
		}
	}
}

func TestReadCollections(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	cases := []struct {
		name, path string
		status     int
		body       string
	}{
		{"list view probe", "/odata/Customers?$select=CustomerID,Name&$count=true&$top=3", 200,
			`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Name)","@odata.count":8,"value":[{"CustomerID":"ACME-01","Name":"ACME-01 Widgets"},{"CustomerID":"ALFKI","Name":"Alfreds Futterkiste"},{"CustomerID":"ANATR","Name":"Ana Trujillo"}]}`},
		{"count false, skip", "/odata/Customers?$select=CustomerID&$count=false&$skip=6&$top=5", 200,
			`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID)","value":[{"CustomerID":"SALES"},{"CustomerID":"UNI"}]}`},
		{"orderby nulls first ascending", "/odata/Customers?$select=CustomerID,City&$orderby=City&$top=3", 200,
			`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,City)","value":[{"CustomerID":"BERGS","City":null},{"CustomerID":"ALFKI","City":"Berlin"},{"CustomerID":"ACME-01","City":"Chicago"}]}`},
		{"orderby desc nulls last, two keys", "/odata/Customers?$select=CustomerID,Country&$orderby=Country desc,CustomerID desc&$skip=5", 200,
			`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Country)","value":[{"CustomerID":"O'BRIEN","Country":"Ireland"},{"CustomerID":"ALFKI","Country":"Germany"},{"CustomerID":"UNI","Country":null}]}`},
		{"top zero with count", "/odata/Orders?$top=0&$count=true", 200,
			`{"@odata.context":"BASE/odata/$metadata#Orders","@odata.count":6,"value":[]}`},
		{"composite key set", "/odata/order_lines", 200,
			`{"@odata.context":"BASE/odata/$metadata#order_lines","value":[{"order_id":10248,"line_no":1,"sku":"SKU-0001","quantity":2,"unit_price":25.25},{"order_id":10248,"line_no":2,"sku":"SKU-2","quantity":1,"unit_price":50.00},{"order_id":10249,"line_no":1,"sku":"SKU-0003","quantity":10,"unit_price":25.00}]}`},
		{"view with configured key", "/odata/open_orders?$orderby=Total desc", 200,
			`{"@odata.context":"BASE/odata/$metadata#open_orders","value":[{"OrderID":10248,"CustomerID":"ALFKI","Total":100.50},{"OrderID":10250,"CustomerID":"ANATR","Total":99.99},{"OrderID":10253,"CustomerID":"ALFKI","Total":42.00}]}`},
		{"sanitised names", "/odata/Weird_Name_Table", 200,
			`{"@odata.context":"BASE/odata/$metadata#Weird_Name_Table","value":[{"id":1,"X2nd_col":"second","Name_x":"x"}]}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g.expect(t, g.do("GET", tc.path, nil), tc.status, tc.body)
		})
	}
}

func TestValuesExactlyAsStored(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	r := g.do("GET", "/odata/all_types?$orderby=id", nil)
	golden.Assert(t, filepath.Join("testdata", "all_types.golden.json"), []byte(g.normalize(r.Body)))
	if r.Status != 200 {
		t.Fatalf("status %d", r.Status)
	}
	// Spot checks that state the contract, independent of the golden file.
	body := string(r.Body)
	for _, want := range []string{
		`"c_bigint":9223372036854775807`,                   // Int64 as a number, exact
		`"c_numeric":123456789.123`,                        // decimal from text, never float
		`"c_numvar":3.14159265358979323846264338327950288`, // unconstrained numeric, all digits
		`"c_tstz":"2024-01-15T10:30:00.123456Z"`,           // microseconds kept, UTC
		`"c_ts":"2024-01-15T10:30:00.5Z"`,                  // timestamp without zone, read in UTC
		`"c_date":"2024-02-29"`,
		`"c_char":"ab"`,                                   // char(n) right-trimmed
		`"c_uuid":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`, // lower-case guid
		`"c_bytea":"AP8Q"`,                                // base64url
		`"c_time":"23:59:59.999999"`,
		`"c_interval":"P1DT2H3M4.5S"`,
		`"c_enum":"happy"`,
		`"c_text":"quote ' and \"dq\" \\ back"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("missing %s", want)
		}
	}
	if strings.Contains(body, "c_array") {
		t.Error("array column should be skipped")
	}
	r = g.do("GET", "/odata/all_types(1)?$select=c_bigint,c_numeric", nil, "Accept", "application/json;odata.metadata=minimal;IEEE754Compatible=true")
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#all_types(c_bigint,c_numeric)/$entity","c_bigint":"9223372036854775807","c_numeric":"123456789.123"}`)
}

func TestKeyLookups(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	cases := []struct {
		name, path string
		status     int
		body       string
	}{
		{"string key", "/odata/Customers('ALFKI')?$select=CustomerID,City", 200,
			`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,City)/$entity","CustomerID":"ALFKI","City":"Berlin"}`},
		{"quote doubled", "/odata/Customers('O''BRIEN')?$select=CustomerID", 200,
			`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID)/$entity","CustomerID":"O'BRIEN"}`},
		{"quote percent-encoded", "/odata/Customers(%27O%27%27BRIEN%27)?$select=CustomerID", 200,
			`{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID)/$entity","CustomerID":"O'BRIEN"}`},
		{"numeric key", "/odata/Orders(10248)", 200,
			`{"@odata.context":"BASE/odata/$metadata#Orders/$entity","OrderID":10248,"CustomerID":"ALFKI","OrderDate":"2024-01-15","Total":100.50,"Status":"Open"}`},
		{"composite key", "/odata/order_lines(order_id=10248,line_no=2)", 200,
			`{"@odata.context":"BASE/odata/$metadata#order_lines/$entity","order_id":10248,"line_no":2,"sku":"SKU-2","quantity":1,"unit_price":50.00}`},
		{"missing key", "/odata/Orders(1)", 404, ""},
		{"case matters", "/odata/Customers('alfki')", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := g.do("GET", tc.path, nil)
			if tc.body == "" {
				if r.Status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
				}
				assertODataError(t, r, tc.status)
				return
			}
			g.expect(t, r, tc.status, tc.body)
		})
	}
}

func TestCountPath(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	r := g.do("GET", "/odata/Customers/$count", nil)
	if r.Status != 200 || string(r.Body) != "8" || r.Header.Get("Content-Type") != "text/plain" {
		t.Fatalf("$count: %d %q %v", r.Status, r.Body, r.Header)
	}
	r = g.do("GET", "/odata/Customers/$count?$filter=Country%20eq%20%27USA%27", nil)
	if r.Status != 200 || string(r.Body) != "2" {
		t.Fatalf("$count with filter: %d %q", r.Status, r.Body)
	}
}

// assertODataError checks an OData error body with no internals in it.
func assertODataError(t testing.TB, r *response, status int) map[string]any {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("error content type %q", r.Header.Get("Content-Type"))
	}
	if r.Header.Get("Content-Language") != "en" {
		t.Errorf("error without Content-Language: en")
	}
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok || e["code"] == "" || e["message"] == "" {
		t.Fatalf("not an OData error: %s", r.Body)
	}
	low := strings.ToLower(string(r.Body))
	for _, leak := range []string{"select ", "pq:", "sqlstate", "goroutine", ".go:", "panic", "sqlite"} {
		if strings.Contains(low, leak) {
			t.Fatalf("error body leaks %q: %s", leak, r.Body)
		}
	}
	return e
}

func TestErrors(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	cases := []struct {
		method, path string
		status       int
		code, target string
		msgPart      string
	}{
		{"GET", "/odata/NoSuchSet?$select=Id&$count=true&$top=26", 404, "NotFound", "", "NoSuchSet"},
		{"GET", "/odata/customers", 404, "NotFound", "", "Customers"},
		{"GET", "/odata/Customers?$filter=Nope%20eq%201", 400, "InvalidQuery", "Nope", "Nope"},
		{"GET", "/odata/Customers?$select=Nope", 400, "InvalidQuery", "Nope", "Nope"},
		{"GET", "/odata/Customers?$filter=Name%20eq", 400, "InvalidSyntax", "$filter", "$filter:1:"},
		{"GET", "/odata/Customers?$filter=Active%20eq%20'x'", 400, "InvalidQuery", "", "Edm.Boolean"},
		{"GET", "/odata/Customers?$top=-1", 400, "InvalidSyntax", "$top", "$top"},
		{"GET", "/odata/Customers?$top=abc", 400, "InvalidSyntax", "$top", "$top"},
		{"GET", "/odata/Customers?$foo=1", 400, "InvalidSyntax", "", "$foo"},
		{"GET", "/odata/Customers?$expand=Nope", 400, "InvalidQuery", "Nope", "no navigation property Nope"},
		{"GET", "/odata/Customers?$apply=topcount(2,CreditLimit)", 501, "NotImplemented", "", "transformation topcount"},
		{"GET", "/odata/Customers('ALFKI')/Name/x", 400, "InvalidQuery", "", "x"}, // only $value may follow a property (TestPropertyPaths)
		{"GET", "/odata/Orders('x')", 400, "InvalidQuery", "", ""},
		{"GET", "/odata/Customers?$format=xml", 406, "NotAcceptable", "", "JSON"},
		{"POST", "/odata/$batch", 415, "UnsupportedMediaType", "", "$batch needs Content-Type"},
		{"PUT", "/odata/$metadata", 405, "MethodNotAllowed", "", ""},
		{"GET", "/elsewhere", 404, "NotFound", "", "/odata/"},
		{"GET", "/odata/$1", 404, "NotFound", "", "$1"},
		{"GET", "/odata/$crossjoin(Customers,Orders)", 501, "NotImplemented", "", "$crossjoin"},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := g.do(tc.method, tc.path, nil)
			e := assertODataError(t, r, tc.status)
			if e["code"] != tc.code {
				t.Errorf("code %v, want %s", e["code"], tc.code)
			}
			if tc.target != "" && e["target"] != tc.target {
				t.Errorf("target %v, want %s", e["target"], tc.target)
			}
			if !strings.Contains(e["message"].(string), tc.msgPart) {
				t.Errorf("message %q does not mention %q", e["message"], tc.msgPart)
			}
		})
	}
	// 406 for a format it does not produce, via Accept.
	r := g.do("GET", "/odata/Customers", nil, "Accept", "application/atom+xml")
	assertODataError(t, r, 406)
	// Accept variants it does produce.
	for _, a := range []string{"application/json", "application/json;odata.metadata=minimal", "*/*", "application/json;odata.metadata=minimal;odata.streaming=true", "text/html, */*;q=0.8"} {
		if r := g.do("GET", "/odata/Customers?$top=1", nil, "Accept", a); r.Status != 200 {
			t.Errorf("Accept %q: %d", a, r.Status)
		}
	}
	if r := g.do("GET", "/odata/Customers?$top=1&$format=json", nil); r.Status != 200 {
		t.Errorf("$format=json: %d", r.Status)
	}
}

func TestRequestIDAndHealth(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	r := g.do("GET", "/odata/Customers?$top=1", nil, "X-Request-Id", "abc-123")
	if r.Header.Get("X-Request-Id") != "abc-123" {
		t.Errorf("request id not echoed: %v", r.Header)
	}
	r = g.do("GET", "/odata/Customers?$top=1", nil)
	if len(r.Header.Get("X-Request-Id")) < 8 {
		t.Errorf("no generated request id")
	}
	if !strings.Contains(g.logs(), `"request_id":"abc-123"`) {
		t.Error("access log lacks the request id")
	}
	if r := g.do("GET", "/healthz", nil); r.Status != 200 {
		t.Errorf("healthz %d", r.Status)
	}
	if r := g.do("GET", "/readyz", nil); r.Status != 200 {
		t.Errorf("readyz %d", r.Status)
	}
}

func TestODataVersionHeaders(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	for _, v := range []string{"4.0", "4.01", "4"} {
		if r := g.do("GET", "/odata/Customers?$top=1", nil, "OData-MaxVersion", v); r.Status != 200 || r.Header.Get("OData-Version") != "4.0" {
			t.Errorf("OData-MaxVersion %s: %d %v", v, r.Status, r.Header)
		}
	}
	for _, v := range []string{"3.0", "2.0"} {
		assertODataError(t, g.do("GET", "/odata/Customers?$top=1", nil, "OData-MaxVersion", v), 400)
	}
}

// TestDoubleDivisionByZero: Edm.Double divides by zero per IEEE 754 where
// the database can represent the result (PostgreSQL: ±INF, NaN for 0/0;
// MariaDB has no infinities: null, and INF literals are 501); integer and
// decimal division by a zero literal is a 400.
func TestDoubleDivisionByZero(t *testing.T) {
	t.Parallel()
	pg := startFixture(t)
	my, _ := startMySQL(t)
	ids := func(g *gateway, filter string) (int, string) {
		r := g.do("GET", "/odata/all_types?$select=id&$orderby=id&$filter="+url.QueryEscape(filter), nil)
		if r.Status != 200 {
			return r.Status, string(r.Body)
		}
		var p struct{ Value []struct{ ID json.Number } }
		if err := json.Unmarshal(r.Body, &p); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, v := range p.Value {
			out = append(out, v.ID.String())
		}
		return 200, strings.Join(out, ",")
	}
	cases := []struct {
		g      *gateway
		filter string
		status int
		want   string // ids, or a piece of the error
	}{
		{pg, "c_double div 0 eq INF", 200, "1"},
		{pg, "c_double div 0 eq -INF", 200, "2"},
		{pg, "c_double div 0 eq null", 200, "3"},
		{pg, "c_double divby 0.0 gt 1e308", 200, "1"},
		{pg, "(c_double sub c_double) div 0 eq NaN", 200, "1,2"},
		{pg, "c_bigint div 0 eq 1", 400, "Edm.Int64 division by zero is undefined"},
		{pg, "c_numeric div 0.0 eq 1", 400, "Edm.Decimal division by zero is undefined"},
		{my, "c_double div 0 eq null", 200, "1,2,3"},
		{my, "c_double div 0 eq INF", 501, "MySQL has no NaN or infinite"},
		{my, "c_bigint div 0 eq 1", 400, "division by zero is undefined"},
	}
	for _, tc := range cases {
		status, got := ids(tc.g, tc.filter)
		if status != tc.status || (status == 200 && got != tc.want) || (status != 200 && !strings.Contains(got, tc.want)) {
			t.Errorf("%s: %d %s, want %d %s", tc.filter, status, got, tc.status, tc.want)
		}
	}
}
