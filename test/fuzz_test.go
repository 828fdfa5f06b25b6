package test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fuzzMethods are the methods FuzzHandler picks from (by the fuzzed byte).
var fuzzMethods = []string{"GET", "GET", "GET", "HEAD", "POST", "PATCH", "PUT", "DELETE", "MERGE", "OPTIONS"}

// fuzzTarget turns a fuzzed string into a request target under /odata/
// that net/http can carry: bytes a request line cannot hold are
// percent-encoded, and a '%' not followed by two hex digits becomes %25, so
// that every input reaches the gateway (not Go's URL parser).
func fuzzTarget(s string) string {
	var b strings.Builder
	b.WriteString("/odata/")
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b.WriteByte(c)
		case c <= ' ' || c >= 0x7f || c == '%' || c == '#' || c == '"' || c == '<' || c == '>' || c == '\\' ||
			c == '^' || c == '`' || c == '{' || c == '|' || c == '}':
			fmt.Fprintf(&b, "%%%02X", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

var fuzzClient = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4},
}

// FuzzHandler drives the whole gateway over HTTP with fuzzed methods,
// URLs and bodies. One gateway on a fixture database serves every input of
// a fuzzing process. Invariants: no 5xx except 501 (a 503 would mean the
// pool saturated, which one request at a time never does), every error is
// an OData error body without internals, and the recovery middleware never
// fires (a panic would be a 500).
func FuzzHandler(f *testing.F) {
	g := startFixture(f)
	seeds := []struct {
		method uint8
		target string
		body   string
	}{
		{0, "", ""},
		{0, "$metadata", ""},
		{0, "Customers?$select=CustomerID,Name,City&$top=26&$count=true", ""},
		{0, "Customers?$select=CustomerID,Name&$filter=Name eq 'O''Brien & Sons'&$orderby=Name asc,CustomerID desc&$top=26", ""},
		{0, "Customers?$filter=(CreatedAt ge 2020-01-01T00:00:00Z and CreatedAt lt 2024-12-31T23:59:59.999Z) or City eq null", ""},
		{0, "Customers?$filter=contains(Name,'%25') or startswith(City,'B') or endswith(Country,'a')", ""},
		{0, "Customers?$filter=CustomerID in ('ALFKI','ANATR')&$count=true&$top=0", ""},
		{0, "Customers?$filter=tolower(Name) eq 'acme' and length(City) gt 3", ""},
		{0, "Customers?$search=\"Alfreds\" OR Berlin", ""},
		{0, "Customers('ALFKI')", ""},
		{0, "Customers('O''BRIEN')?$select=Name", ""},
		{0, "Customers(CustomerID='ALFKI')", ""},
		{0, "Customers/$count?$filter=Active eq true", ""},
		{0, "Orders?$filter=OrderDate ge 2024-01-01 and Total gt 100.5&$orderby=OrderDate desc", ""},
		{0, "Orders?$filter=Total add 1 gt 2 mul 3 and year(OrderDate) eq 2024", ""},
		{0, "Orders(10248)", ""},
		{0, "order_lines(order_id=10248,line_no=1)", ""},
		{0, "all_types?$filter=c_uuid eq A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11 or c_bytea eq binary'AP8Q'", ""},
		{0, "all_types?$filter=c_interval gt duration'PT1H' and c_time lt 12:00:00", ""},
		{0, "Customers?$filter=Name eq @p&@p='ALFKI'", ""},
		{0, "Customers?$skiptoken=AUuTAzNFtirdAwEBCQVCRVJHU47Liuc5tswN8SN8NlNCozY", ""},
		{0, "Customers?$expand=Orders", ""},
		{0, "Customers?$expand=Orders($filter=Total gt 1;$orderby=OrderID desc;$top=1;$count=true;$expand=order_lines($select=sku),Customer/$ref)", ""},
		{0, "Orders?$filter=Customer/City eq 'Berlin'&$orderby=Customer/Name desc&$expand=*", ""},
		{0, "Customers?$filter=Orders/any(o: o/order_lines/all(l: l/quantity gt 1))", ""},
		{0, "Customers('ALFKI')/Orders?$top=1&$count=true&$expand=order_lines/$count", ""},
		{0, "Orders(10248)/Customer/$ref", ""},
		{0, "line_notes(4)/note_line/order/Customer/Name/$value", ""},
		{0, "Orders?$apply=filter(Total gt 1)/groupby((Customer/Country,Status),aggregate(Total with sum as S,$count as N))&$orderby=S desc&$top=2", ""},
		{4, "Customers('ALFKI')/Orders", `{"OrderDate":"2024-05-02","Total":1}`},
		{5, "Orders(10249)", `{"Customer@odata.bind":"Customers('ANATR')"}`},
		{3, "Customers?$top=1", ""},
		{4, "Customers", `{"CustomerID":"FZ1","Name":"Fuzz","Country":"Norway","CreditLimit":1.5,"Active":true}`},
		{4, "Orders", `{"CustomerID":"ALFKI","OrderDate":"2024-05-02","Total":199.90}`},
		{4, "Orders", `{"CustomerID":"ALFKI","OrderDate":"2024-05-02T00:00:00Z","Total":"1e400"}`},
		{5, "Customers('ALFKI')", `{"City":"Berlin","CreditLimit":12000.00}`},
		{5, "Orders(10249)", `{"Status":null}`},
		{6, "Customers('BERGS')", `{"Name":"Berglunds snabbköp","Country":"Sweden"}`},
		{7, "Orders(10252)", ""},
		{7, "Customers('UNI')", ""},
		{8, "Orders(10250)", `{"Total":-1}`},
		{4, "Customers", `{"CustomerID":"FZ2","Name":"x","@odata.type":"#x","Name@odata.type":"String"}`},
		{4, "Customers", `[{"CustomerID":"FZ3"}]`},
		{5, "Customers('ALFKI')", `{"City":"\u0000"}`},
	}
	for _, s := range seeds {
		f.Add(s.method, s.target, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, m uint8, target string, body []byte) {
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		if len(target) > 4096 || len(body) > 1<<16 {
			return
		}
		var rd io.Reader
		if len(body) > 0 {
			rd = bytes.NewReader(body)
		}
		path := fuzzTarget(target)
		req, err := http.NewRequest(method, g.base+"/", rd)
		if err != nil {
			t.Fatal(err)
		}
		host := strings.TrimPrefix(g.base, "http://")
		p, q, hasQuery := strings.Cut(path, "?")
		req.URL.Opaque = "//" + host + p
		if hasQuery {
			req.URL.RawQuery = q
		}
		if len(body) > 0 {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := fuzzClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s %s: reading: %v", method, path, err)
		}
		if resp.StatusCode >= 500 && resp.StatusCode != 501 {
			t.Fatalf("%s %s (body %q): status %d: %s", method, path, body, resp.StatusCode, b)
		}
		if resp.StatusCode < 400 || method == "HEAD" {
			return
		}
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s %s: error %d with content type %q: %s", method, path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
		}
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" || e.Error.Message == "" {
			t.Fatalf("%s %s: %d is not an OData error: %s", method, path, resp.StatusCode, b)
		}
		low := strings.ToLower(e.Error.Message)
		for _, leak := range []string{"pq:", "sqlstate", "goroutine", ".go:", "panic", "runtime error", `"public".`, "syntax error at or near"} {
			if strings.Contains(low, leak) && !strings.Contains(strings.ToLower(target+string(body)), leak) {
				t.Fatalf("%s %s: error leaks %q: %s", method, path, leak, b)
			}
		}
	})
}
