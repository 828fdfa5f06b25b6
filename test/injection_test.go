package test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// hostileValues is the injection corpus: SQL metacharacters, comment and
// statement terminators, LIKE wildcards, quotes of every dialect, encodings
// that confuse naive escaping, control characters, a sleep call and a very
// long value.
var hostileValues = []string{
	`'`,
	`''`,
	`'''`,
	`;`,
	`--`,
	`/*`,
	`*/`,
	`\`,
	`\'`,
	`%`,
	`_`,
	`%_%`,
	`) or 1 eq 1 --`,
	`') or 1 eq 1 --`,
	`' or '1'='1`,
	`' OR 1=1 --`,
	`'); DROP TABLE "Customers"; --`,
	`"; DROP TABLE "Customers"; --`,
	`x' UNION SELECT usename, passwd FROM pg_shadow --`,
	`'||pg_sleep(5)||'`,
	`'; SELECT pg_sleep(5); --`,
	`pg_sleep(5)`,
	`$1`,
	`$$`,
	`$tag$ x $tag$`,
	`@p`,
	`"`,
	"`",
	"`x`; DROP TABLE x",
	`[x]`,
	`:name`,
	`?`,
	`{claim:country}`,
	`Zürich Ümlaut 日本 🚀`,
	"\u202e\u0000\ufeff",
	"NUL\x00here",
	"CR\r\nLF",
	"tab\there",
	`%00`,
	`%27`,
	`&$filter=true`,
	`#`,
	`+`,
	strings.Repeat("A'", 3000),
}

// sqlLine is one logged SQL statement.
type sqlLine struct {
	SQL  string `json:"sql"`
	Args []any  `json:"args"`
}

// sqlSince returns the SQL statements logged after offset (a length of
// g.logs() taken before the request) and the new offset.
func (g *gateway) sqlSince(t testing.TB, offset int) ([]sqlLine, int) {
	t.Helper()
	logs := g.logs()
	var out []sqlLine
	for _, line := range strings.Split(logs[offset:], "\n") {
		if !strings.Contains(line, `"sql":`) {
			continue
		}
		var l sqlLine
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("bad log line %q: %v", line, err)
		}
		if l.SQL != "" {
			out = append(out, l)
		}
	}
	return out, len(logs)
}

// odataString renders v as an OData string literal, percent-encoded for a
// URL query or path.
func odataString(v string) string {
	return "%27" + pctEncode(strings.ReplaceAll(v, "'", "''")) + "%27"
}

// pctEncode percent-encodes every byte that is not unreserved.
func pctEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// searchPhrase renders v as a $search phrase (backslash escapes), encoded.
func searchPhrase(v string) string {
	v = strings.ReplaceAll(v, `\`, `\\`)
	v = strings.ReplaceAll(v, `"`, `\"`)
	return pctEncode(`"` + v + `"`)
}

// injectionProbe is one input position: build returns the request for a
// value; the harmless value's SQL is the reference.
type injectionProbe struct {
	name   string
	method string
	build  func(v string) (path string, body []byte, headers []string)
	// names: the value is a property name, never a literal; a hostile name
	// must be refused (4xx) before any SQL runs.
	names bool
}

func TestInjectionCorpus(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	g := start(t, fixtureConfig(dsn))
	tables := []string{`"Customers"`, `"Orders"`, `order_lines`, `all_types`, `"Weird Name-Table"`}
	counts := map[string]int{}
	for _, tb := range tables {
		counts[tb] = rowCount(t, dsn, tb)
	}

	const harmless = "harmless"
	probes := []injectionProbe{
		{name: "filter eq", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$filter=Name%20eq%20" + odataString(v), nil, nil
		}},
		{name: "filter ne on key", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$filter=CustomerID%20ne%20" + odataString(v) + "&$count=true", nil, nil
		}},
		{name: "filter contains", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$filter=contains(Name," + odataString(v) + ")", nil, nil
		}},
		{name: "filter startswith", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$filter=startswith(City," + odataString(v) + ")", nil, nil
		}},
		{name: "filter in", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$filter=Country%20in%20(" + odataString(v) + ",%27x%27)", nil, nil
		}},
		{name: "filter concat", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$filter=concat(Name," + odataString(v) + ")%20eq%20%27x%27", nil, nil
		}},
		{name: "parameter alias", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$filter=Name%20eq%20@p&@p=" + odataString(v), nil, nil
		}},
		{name: "count path filter", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers/$count?$filter=City%20eq%20" + odataString(v), nil, nil
		}},
		{name: "key segment", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers(" + odataString(v) + ")", nil, nil
		}},
		{name: "named key segment", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers(CustomerID=" + odataString(v) + ")", nil, nil
		}},
		{name: "search phrase", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$search=" + searchPhrase(v), nil, nil
		}},
		{name: "search word", method: "GET", build: func(v string) (string, []byte, []string) {
			w := strings.Map(func(r rune) rune {
				if strings.ContainsRune(" \t\r\n()\"", r) {
					return 'x'
				}
				return r
			}, v)
			return "/odata/Customers?$search=" + pctEncode(w), nil, nil
		}},
		{name: "orderby name", method: "GET", names: true, build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$orderby=" + pctEncode(v), nil, nil
		}},
		{name: "select name", method: "GET", names: true, build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$select=" + pctEncode(v), nil, nil
		}},
		{name: "filter property name", method: "GET", names: true, build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$filter=" + pctEncode(v) + "%20eq%201", nil, nil
		}},
		{name: "entity set name", method: "GET", names: true, build: func(v string) (string, []byte, []string) {
			return "/odata/" + pctEncode(v), nil, nil
		}},
		{name: "header X-Request-Id", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$top=1", nil, []string{"X-Request-Id", v}
		}},
		{name: "header Prefer", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$top=1", nil, []string{"Prefer", v}
		}},
		{name: "header Prefer maxpagesize", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$top=1", nil, []string{"Prefer", "odata.maxpagesize=" + v}
		}},
		{name: "header Accept", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$top=1", nil, []string{"Accept", v + ", application/json"}
		}},
		{name: "header X-CSRF-Token", method: "GET", build: func(v string) (string, []byte, []string) {
			return "/odata/Customers?$top=1", nil, []string{"X-CSRF-Token", v}
		}},
		{name: "header If-Match on PATCH", method: "PATCH", build: func(v string) (string, []byte, []string) {
			return "/odata/Orders(10248)", []byte(`{"Status":"Open"}`), []string{"If-Match", v}
		}},
		{name: "body value POST", method: "POST", build: func(v string) (string, []byte, []string) {
			b, _ := json.Marshal(map[string]any{"CustomerID": "ALFKI", "Name": v})
			return "/odata/Customers", b, nil // duplicate key: 409 after the INSERT
		}},
		{name: "body value PATCH", method: "PATCH", build: func(v string) (string, []byte, []string) {
			b, _ := json.Marshal(map[string]any{"Status": v})
			return "/odata/Orders(10251)", b, nil
		}},
		{name: "body name POST", method: "POST", names: true, build: func(v string) (string, []byte, []string) {
			b, _ := json.Marshal(map[string]any{"CustomerID": "ALFKI", "Name": "x", v: "y"})
			return "/odata/Customers", b, nil // the reference conflicts (409)
		}},
		{name: "body name PATCH", method: "PATCH", names: true, build: func(v string) (string, []byte, []string) {
			b, _ := json.Marshal(map[string]any{v: "y"})
			return "/odata/Orders(10251)", b, nil
		}},
	}

	offset := len(g.logs())
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			send := func(v string) (*response, []sqlLine) {
				path, body, headers := p.build(v)
				for i := 1; i < len(headers); i += 2 {
					if !validHeaderValue(headers[i]) {
						return nil, nil // net/http cannot send it: nothing to test
					}
				}
				r := g.do(p.method, path, body, headers...)
				var lines []sqlLine
				lines, offset = g.sqlSince(t, offset)
				return r, lines
			}
			refName := harmless
			if p.names {
				refName = "Name"
				if p.method != "GET" {
					refName = "City"
				}
				if p.name == "entity set name" {
					refName = "Customers"
				}
			}
			ref, refSQL := send(refName)
			if ref.Status >= 500 {
				t.Fatalf("reference request: %d %s", ref.Status, ref.Body)
			}
			if !p.names && len(refSQL) == 0 && ref.Status < 400 {
				t.Fatalf("the reference request ran no SQL: %d %s", ref.Status, ref.Body)
			}
			for _, v := range hostileValues {
				r, lines := send(v)
				_, reqBody, _ := p.build(v)
				body := reqBody != nil
				if r == nil {
					continue
				}
				label := fmt.Sprintf("%.40q", v)
				// 501 is allowed only where the value is syntax (a name
				// position): valid OData the gateway does not implement.
				if r.Status >= 500 && !(p.names && r.Status == 501) {
					t.Errorf("%s: status %d: %s", label, r.Status, r.Body)
					continue
				}
				// The corpus's pg_sleep calls never reach the SQL text (that
				// they were not executed is checked here, not by timing).
				for _, l := range lines {
					if strings.Contains(strings.ToLower(l.SQL), "pg_sleep") {
						t.Errorf("%s: pg_sleep in the SQL text (was something executed?): %s", label, l.SQL)
					}
				}
				if r.Status >= 400 {
					assertErrorNoInternals(t, r, v)
				}
				for _, l := range lines {
					if len(v) >= 4 && strings.Contains(l.SQL, v) {
						t.Errorf("%s: the value is part of the SQL text: %s", label, l.SQL)
					}
				}
				if p.names {
					// A hostile name is refused before any SQL, unless it
					// parses as a valid expression (e.g. a string literal in
					// $orderby), whose constants are then bound parameters.
					// (A body member name with '@' is an instance annotation
					// and ignored; the write then goes on without it.)
					annotation := body && strings.Contains(v, "@")
					if r.Status >= 400 && len(lines) > 0 && !annotation {
						t.Errorf("%s: status %d after %d SQL statements; want the refusal before any SQL", label, r.Status, len(lines))
					}
					if r.Status < 400 && len(lines) == 0 {
						t.Errorf("%s: %d without SQL", label, r.Status)
					}
					continue
				}
				if len(lines) == 0 {
					if r.Status < 400 {
						t.Errorf("%s: %d without SQL", label, r.Status)
					}
					continue // refused before any SQL (e.g. NUL, a too long key)
				}
				// Same statements as for the harmless value; a 4xx raised by
				// the database (e.g. 409) may stop after a prefix of them.
				if len(lines) > len(refSQL) || r.Status < 400 && len(lines) != len(refSQL) {
					t.Errorf("%s: %d statements, reference %d", label, len(lines), len(refSQL))
					continue
				}
				for i := range lines {
					if lines[i].SQL != refSQL[i].SQL {
						t.Errorf("%s: the SQL text changed:\n  ref: %s\n  got: %s", label, refSQL[i].SQL, lines[i].SQL)
					}
				}
			}
		})
	}

	// Values bound as parameters are stored and compared verbatim.
	t.Run("round trip", func(t *testing.T) {
		for i, v := range hostileValues {
			if strings.ContainsRune(v, 0) || len([]rune(v)) > 20 {
				continue // NUL is refused (400); Status is varchar(20)
			}
			b, _ := json.Marshal(map[string]any{"Status": v})
			if r := g.do("PATCH", "/odata/Orders(10251)", b); r.Status != 204 {
				t.Errorf("%d %.40q: PATCH %d %s", i, v, r.Status, r.Body)
				continue
			}
			var got string
			secQueryRow(t, dsn, `SELECT "Status" FROM "Orders" WHERE "OrderID" = 10251`, &got)
			if got != v {
				t.Errorf("stored %q, sent %q", got, v)
			}
			r := g.do("GET", "/odata/Orders?$select=OrderID&$filter=Status%20eq%20"+odataString(v), nil)
			if r.Status != 200 || !strings.Contains(string(r.Body), `"OrderID":10251`) {
				t.Errorf("%.40q: filter by the stored value: %d %s", v, r.Status, r.Body)
			}
		}
	})

	for _, tb := range tables {
		if n := rowCount(t, dsn, tb); n != counts[tb] {
			t.Errorf("table %s: %d rows, was %d", tb, n, counts[tb])
		}
	}
	// The database still has its tables (no DROP ran) and the gateway still
	// answers.
	if r := g.do("GET", "/odata/Customers/$count", nil); r.Status != 200 || string(r.Body) != fmt.Sprint(counts[`"Customers"`]) {
		t.Errorf("after the corpus: %d %s", r.Status, r.Body)
	}
	if t.Failed() {
		t.Logf("corpus of %d values through %d positions", len(hostileValues), len(probes))
	}
}

// leakMarkers are fragments of SQL, driver errors and Go internals that an
// error body must never contain.
var leakMarkers = []string{`select "`, `from "`, `where "`, `"public"."`, "pq:", "sqlstate", "syntax error at or near",
	"duplicate key value", "violates", "goroutine", ".go:", "panic", "sqlite", "runtime error", "nil pointer"}

// assertErrorNoInternals checks an OData error body that may echo the
// client's own value v: every string in the body, with v (raw or
// quote-doubled) removed, must be free of leakMarkers.
func assertErrorNoInternals(t testing.TB, r *response, v string) {
	t.Helper()
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("error content type %q: %s", r.Header.Get("Content-Type"), r.Body)
	}
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok || e["code"] == "" || e["message"] == "" {
		t.Fatalf("not an OData error: %s", r.Body)
	}
	var texts []string
	var collect func(x any)
	collect = func(x any) {
		switch y := x.(type) {
		case string:
			texts = append(texts, y)
		case map[string]any:
			for k, z := range y {
				texts = append(texts, k)
				collect(z)
			}
		case []any:
			for _, z := range y {
				collect(z)
			}
		}
	}
	collect(m)
	for _, text := range texts {
		for _, f := range []string{strings.ReplaceAll(v, "'", "''"), v, fmt.Sprintf("%q", v)} {
			if f != "" {
				text = strings.ReplaceAll(text, f, "<v>")
			}
		}
		low := strings.ToLower(text)
		for _, leak := range leakMarkers {
			if strings.Contains(low, leak) {
				t.Errorf("error body leaks %q: %s", leak, r.Body)
			}
		}
	}
}

// validHeaderValue reports whether net/http can send v as a header value.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}
