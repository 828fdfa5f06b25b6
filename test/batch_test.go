package test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/faultproxy"
	"github.com/odatagw/odatagw/server/app"
)

// crlf turns a readable multipart text (LF line ends) into the wire form.
func crlf(s string) []byte { return []byte(strings.ReplaceAll(s, "\n", "\r\n")) }

var boundaryRE = regexp.MustCompile(`(batchresponse|changesetresponse)_[0-9a-f]{24}`)

// batchBody normalizes a multipart batch response for comparison: random
// boundaries become their prefix, CRLF becomes LF, BASE is the gateway.
func (g *gateway) batchBody(r *response) string {
	s := boundaryRE.ReplaceAllString(string(r.Body), "$1")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, g.base, "BASE")
}

func TestBatchMultipart(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	g := start(t, baseConfig(dsn))
	ct := "multipart/mixed; boundary=batch_1"

	// A read, then a change set whose second and third requests use the
	// entity the first created ($1), then a read of what was committed.
	r := g.do("POST", "/odata/$batch", crlf(`--batch_1
Content-Type: application/http
Content-Transfer-Encoding: binary

GET Customers('ALFKI')?$select=CustomerID,City HTTP/1.1
Accept: application/json


--batch_1
Content-Type: multipart/mixed; boundary=changeset_a

--changeset_a
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST Customers HTTP/1.1
Content-Type: application/json

{"CustomerID":"BATCH","Name":"Batch Co","CreatedAt":"2024-01-01T00:00:00Z"}
--changeset_a
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

PATCH $1 HTTP/1.1
Content-Type: application/json

{"City":"Bergen"}
--changeset_a
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 3

POST /odata/Orders HTTP/1.1
Content-Type: application/json
Prefer: return=minimal

{"CustomerID":"BATCH","OrderDate":"2024-05-02","Total":10}
--changeset_a--
--batch_1
Content-Type: application/http
Content-Transfer-Encoding: binary

GET `+g.base+`/odata/Customers('BATCH')?$select=City HTTP/1.1


--batch_1--
`), "Content-Type", ct)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/mixed; boundary=batchresponse_") {
		t.Fatalf("status %d, Content-Type %q: %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	want := `--batchresponse
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 200 OK
Content-Length: 132
Content-Type: application/json;odata.metadata=minimal
Odata-Version: 4.0

{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,City)/$entity","CustomerID":"ALFKI","City":"Berlin"}

--batchresponse
Content-Type: multipart/mixed; boundary=changesetresponse

--changesetresponse
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

HTTP/1.1 201 Created
Content-Type: application/json;odata.metadata=minimal
Location: BASE/odata/Customers(%27BATCH%27)
Odata-Entityid: BASE/odata/Customers(%27BATCH%27)
Odata-Version: 4.0

{"@odata.context":"BASE/odata/$metadata#Customers/$entity","CustomerID":"BATCH","Name":"Batch Co","City":null,"Country":null,"CreatedAt":"2024-01-01T00:00:00Z","CreditLimit":null,"Active":true}

--changesetresponse
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

HTTP/1.1 204 No Content
Odata-Version: 4.0


--changesetresponse
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 3

HTTP/1.1 204 No Content
Location: BASE/odata/Orders(20000)
Odata-Entityid: BASE/odata/Orders(20000)
Odata-Version: 4.0
Preference-Applied: return=minimal


--changesetresponse--
--batchresponse
Content-Type: application/http
Content-Transfer-Encoding: binary

HTTP/1.1 200 OK
Content-Length: 100
Content-Type: application/json;odata.metadata=minimal
Odata-Version: 4.0

{"@odata.context":"BASE/odata/$metadata#Customers(City)/$entity","City":"Bergen"}

--batchresponse--
`
	if got := g.batchBody(r); got != want {
		t.Errorf("batch response:\n%s\nwant:\n%s", got, want)
	}

	// A change set that fails half-way applies nothing and answers the
	// failing request alone; without continue-on-error the batch stops.
	failing := crlf(`--b
Content-Type: multipart/mixed; boundary=cs

--cs
Content-Type: application/http
Content-ID: a

POST Customers HTTP/1.1
Content-Type: application/json

{"CustomerID":"HALF","Name":"Half Co"}
--cs
Content-Type: application/http
Content-ID: b

POST Customers HTTP/1.1
Content-Type: application/json

{"CustomerID":"ALFKI","Name":"Duplicate"}
--cs--
--b
Content-Type: application/http

DELETE Customers('BATCH') HTTP/1.1


--b--
`)
	r = g.do("POST", "/odata/$batch", failing, "Content-Type", "multipart/mixed;boundary=b")
	want = `--batchresponse
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: b

HTTP/1.1 409 Conflict
Content-Language: en
Content-Length: 169
Content-Type: application/json;odata.metadata=minimal
Odata-Version: 4.0

{"error":{"code":"Conflict","message":"a row with the same unique values already exists (constraint Customers_pkey)","innererror":{"requestId":"RID"}}}

--batchresponse--
`
	rid := regexp.MustCompile(`"requestId":"[^"]*"`)
	if got := rid.ReplaceAllString(g.batchBody(r), `"requestId":"RID"`); r.Status != 200 || got != want {
		t.Errorf("failed change set: %d\n%s\nwant:\n%s", r.Status, got, want)
	}
	if n := rowCountWhere(t, dsn, `"Customers"`, `"CustomerID" IN ('HALF','BATCH')`); n != 1 {
		t.Errorf("after the failed change set: %d of HALF/BATCH stored, want BATCH only", n)
	}

	// With continue-on-error the rest runs (the DELETE fails: BATCH has an order).
	r = g.do("POST", "/odata/$batch", failing, "Content-Type", "multipart/mixed;boundary=b", "Prefer", "odata.continue-on-error")
	if got := g.batchBody(r); r.Header.Get("Preference-Applied") != "odata.continue-on-error" ||
		strings.Count(got, "HTTP/1.1 409 Conflict") != 2 || !strings.Contains(got, "violates a reference") {
		t.Errorf("continue-on-error: %q\n%s", r.Header.Get("Preference-Applied"), got)
	}
}

func TestBatchJSON(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	g := start(t, baseConfig(dsn))
	r := g.do("POST", "/odata/$batch", []byte(`{"requests":[
	 {"id":"r1","method":"get","url":"Customers('ANATR')?$select=Name"},
	 {"id":"c1","atomicityGroup":"g1","method":"POST","url":"Customers","body":{"CustomerID":"JSON1","Name":"Json One"},"headers":{"Prefer":"return=minimal"}},
	 {"id":"c2","atomicityGroup":"g1","method":"PATCH","url":"$c1","body":{"Country":"Norway"}},
	 {"id":"f1","atomicityGroup":"g2","method":"POST","url":"Customers","body":{"CustomerID":"JSON2","Name":"Json Two"}},
	 {"id":"f2","atomicityGroup":"g2","method":"POST","url":"Customers","body":{"CustomerID":"JSON1","Name":"again"}},
	 {"id":"d1","dependsOn":["g2"],"method":"DELETE","url":"Customers('JSON1')"},
	 {"id":"r2","dependsOn":["g1"],"method":"GET","url":"Customers('JSON1')?$select=Country"}
	]}`), "Prefer", "continue-on-error")
	want := `{"responses":[` +
		`{"id":"r1","status":200,"headers":{"content-type":"application/json;odata.metadata=minimal","odata-version":"4.0"},"body":{"@odata.context":"BASE/odata/$metadata#Customers(Name)/$entity","Name":"Ana Trujillo"}},` +
		`{"id":"c1","atomicityGroup":"g1","status":204,"headers":{"location":"BASE/odata/Customers(%27JSON1%27)","odata-entityid":"BASE/odata/Customers(%27JSON1%27)","odata-version":"4.0","preference-applied":"return=minimal"}},` +
		`{"id":"c2","atomicityGroup":"g1","status":204,"headers":{"odata-version":"4.0"}},` +
		`{"id":"f1","atomicityGroup":"g2","status":424,"headers":{"content-language":"en","content-type":"application/json;odata.metadata=minimal","odata-version":"4.0"},"body":{"error":{"code":"FailedDependency","message":"not applied: request f2 of the same atomicity group failed","innererror":{"requestId":"RID"}}}},` +
		`{"id":"f2","atomicityGroup":"g2","status":409,"headers":{"content-language":"en","content-type":"application/json;odata.metadata=minimal","odata-version":"4.0"},"body":{"error":{"code":"Conflict","message":"a row with the same unique values already exists (constraint Customers_pkey)","innererror":{"requestId":"RID"}}}},` +
		`{"id":"d1","status":424,"headers":{"content-language":"en","content-type":"application/json;odata.metadata=minimal","odata-version":"4.0"},"body":{"error":{"code":"FailedDependency","message":"not run: g2, which this request depends on, failed","innererror":{"requestId":"RID"}}}},` +
		`{"id":"r2","status":200,"headers":{"content-type":"application/json;odata.metadata=minimal","odata-version":"4.0"},"body":{"@odata.context":"BASE/odata/$metadata#Customers(Country)/$entity","Country":"Norway"}}` +
		"]}\n"
	rid := regexp.MustCompile(`"requestId":"[^"]*"`)
	got := rid.ReplaceAllString(strings.ReplaceAll(string(r.Body), g.base, "BASE"), `"requestId":"RID"`)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" || got != want {
		t.Errorf("JSON batch: %d %q\n%s\nwant:\n%s", r.Status, r.Header.Get("Content-Type"), got, want)
	}
	if n := rowCountWhere(t, dsn, `"Customers"`, `"CustomerID" = 'JSON2'`); n != 0 {
		t.Errorf("the failed atomicity group left JSON2 stored")
	}
}

func TestBatchErrors(t *testing.T) {
	t.Parallel()
	no := false
	g := startFixture(t, func(c *app.Config) {
		c.Guard.MaxBatchRequests = 3
		c.Sets["Orders"] = app.SetConfig{Insert: &no}
	})
	part := func(req string) string {
		return "--b\r\nContent-Type: application/http\r\n\r\n" + req + "\r\n\r\n"
	}
	mp := "multipart/mixed; boundary=b"
	cases := []struct {
		name        string
		ct, body    string
		status      int
		contains    string
		partsStatus []string
	}{
		{"no content type", "text/plain", "x", 415, "multipart/mixed", nil},
		{"no boundary", "multipart/mixed", "x", 400, "boundary", nil},
		{"malformed request line", mp, part("GETCustomers") + "--b--\r\n", 400, "malformed request line", nil},
		{"GET in a change set", mp, "--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\n\r\nGET Customers HTTP/1.1\r\n\r\n\r\n--c--\r\n--b--\r\n", 400, "only changes", nil},
		{"too many", mp, strings.Repeat(part("GET Customers HTTP/1.1"), 4) + "--b--\r\n", 413, "at most 3", nil},
		{"malformed JSON", "application/json", `{"requests":[{"id":"1","method":"GET"}]}`, 400, "needs method and url", nil},
		{"forward dependency", "application/json", `{"requests":[{"id":"1","method":"GET","url":"Customers","dependsOn":["2"]},{"id":"2","method":"GET","url":"Customers"}]}`, 400, "not an earlier request", nil},
		{"split group", "application/json", `{"requests":[{"id":"1","atomicityGroup":"g","method":"DELETE","url":"Customers('X')"},{"id":"2","method":"GET","url":"Customers"},{"id":"3","atomicityGroup":"g","method":"DELETE","url":"Customers('Y')"}]}`, 400, "adjacent", nil},
		{"parts answered like standalone requests", mp,
			part("GET Nope HTTP/1.1") + part("GET Customers?$filter=Name%20eqq%201 HTTP/1.1") + part("POST Orders HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{}") + "--b--\r\n",
			200, "", []string{"404 Not Found"}},
		{"continue past errors", mp,
			part("GET http://elsewhere.example/odata/Customers HTTP/1.1") + part("POST $batch HTTP/1.1") + part("POST Orders HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{}") + "--b--\r\n",
			200, "", []string{"400 Bad Request", "400 Bad Request", "403 Forbidden"}},
	}
	for _, tc := range cases {
		headers := []string{"Content-Type", tc.ct}
		if tc.name == "continue past errors" {
			headers = append(headers, "Prefer", "odata.continue-on-error")
		}
		r := g.do("POST", "/odata/$batch", []byte(tc.body), headers...)
		if r.Status != tc.status || !strings.Contains(string(r.Body), tc.contains) {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
			continue
		}
		if tc.partsStatus != nil {
			got := regexp.MustCompile(`HTTP/1\.1 (\d+ [A-Za-z ]+)\r\n`).FindAllStringSubmatch(string(r.Body), -1)
			var statuses []string
			for _, m := range got {
				statuses = append(statuses, m[1])
			}
			if strings.Join(statuses, ",") != strings.Join(tc.partsStatus, ",") {
				t.Errorf("%s: parts %v, want %v\n%s", tc.name, statuses, tc.partsStatus, r.Body)
			}
		}
	}
	if r := g.do("GET", "/odata/$batch", nil); r.Status != 405 || r.Header.Get("Allow") != "POST" {
		t.Errorf("GET $batch: %d Allow %q", r.Status, r.Header.Get("Allow"))
	}
}

// TestBatchChangeSetUnderFaults: a change set whose connection breaks is
// answered truthfully, like a single write: committed although the answer
// was lost -> every response; not committed -> one 503 and nothing stored;
// broken before anything ran -> retried transparently, applied once.
func TestBatchChangeSetUnderFaults(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	proxy, viaProxy := throughProxy(t, dsn)
	g := start(t, fixtureConfig(viaProxy))
	changeSet := func(a, b string) *response {
		body := `--b
Content-Type: multipart/mixed; boundary=cs

--cs
Content-Type: application/http

POST Customers HTTP/1.1
Content-Type: application/json

{"CustomerID":"` + a + `","Name":"Fault"}
--cs
Content-Type: application/http

POST Customers HTTP/1.1
Content-Type: application/json

{"CustomerID":"` + b + `","Name":"Fault"}
--cs--
--b--
`
		return g.do("POST", "/odata/$batch", crlf(body), "Content-Type", "multipart/mixed; boundary=b")
	}
	stored := func(a, b string) int {
		return rowCountWhere(t, dsn, `"Customers"`, `"CustomerID" IN ('`+a+`','`+b+`')`)
	}
	statuses := func(r *response) string {
		var out []string
		for _, m := range regexp.MustCompile(`HTTP/1\.1 (\d+)`).FindAllStringSubmatch(string(r.Body), -1) {
			out = append(out, m[1])
		}
		return strings.Join(out, ",")
	}

	proxy.OnQuery(once(isCommit, faultproxy.DropAfter))
	if r := changeSet("CS1A", "CS1B"); statuses(r) != "201,201" || stored("CS1A", "CS1B") != 2 {
		t.Errorf("committed, answer lost: %s, %d stored\n%s", statuses(r), stored("CS1A", "CS1B"), r.Body)
	}
	proxy.OnQuery(once(isCommit, faultproxy.DropBefore))
	if r := changeSet("CS2A", "CS2B"); statuses(r) != "503" || !strings.Contains(string(r.Body), "Retry-After:") || stored("CS2A", "CS2B") != 0 {
		t.Errorf("commit never arrived: %s, %d stored\n%s", statuses(r), stored("CS2A", "CS2B"), r.Body)
	}
	proxy.OnQuery(once(func(sql string) bool { return strings.Contains(sql, "txid_current") }, faultproxy.DropBefore))
	if r := changeSet("CS3A", "CS3B"); statuses(r) != "201,201" || stored("CS3A", "CS3B") != 2 {
		t.Errorf("lost before anything ran: %s, %d stored\n%s", statuses(r), stored("CS3A", "CS3B"), r.Body)
	}
	if strings.Contains(g.logs(), `"status":500`) {
		t.Errorf("a 500 was answered")
	}
}
