package test

// `odatagw check` against the real gateway: it must pass on the fixtures
// (PostgreSQL, MariaDB) and on the embedded demo database (SQLite), writes included,
// and it must notice when the same gateway's answers are broken on the way
// back by a proxy that injects one fault of a kind peers are known for.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/internal/conformance"
	"github.com/odatagw/odatagw/server/app"
)

// runCheck runs the checker and returns its items.
func runCheck(t testing.TB, o conformance.Options) []conformance.Item {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	items, err := conformance.Check(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// checkFailures lists the failed items, one per line.
func checkFailures(items []conformance.Item) string {
	var b strings.Builder
	for _, it := range items {
		if it.Status == conformance.Fail {
			fmt.Fprintf(&b, "  [%s] %s: %s -- %s\n", it.Set, it.Check, it.Request, it.Reason)
		}
	}
	return b.String()
}

// hasCheck reports whether a check of that name (prefix) ran with status st.
func hasCheck(items []conformance.Item, set, prefix string, st conformance.Status) bool {
	for _, it := range items {
		if it.Set == set && strings.HasPrefix(it.Check, prefix) && it.Status == st {
			return true
		}
	}
	return false
}

func TestCheckAgainstGateway(t *testing.T) {
	t.Parallel()
	demo := func(t *testing.T, c *app.Config) {
		c.DB = ""
		c.DemoPath = t.TempDir() + "/demo.sqlite"
		c.LogLevel = "warn"
	}
	cases := []struct {
		name    string
		g       func(t *testing.T) *gateway
		maxRows int
		sets    []string // that must have run the whole checklist, writes included
	}{
		{"fixture on PostgreSQL", func(t *testing.T) *gateway { return startFixture(t) }, 0,
			[]string{"Customers", "Orders", "order_lines", "all_types"}},
		{"fixture with 3-row server pages", func(t *testing.T) *gateway {
			return startFixture(t, func(c *app.Config) { c.PageSize = 3; c.LogLevel = "warn" })
		}, 0, []string{"Customers", "Orders", "order_lines"}},
		{"fixture on MariaDB", func(t *testing.T) *gateway {
			g, _ := startMySQL(t, func(c *app.Config) { c.LogLevel = "warn" })
			return g
		}, 0, []string{"Customers", "Orders", "order_lines", "all_types", "codes"}},
		{"demo database on SQLite", func(t *testing.T) *gateway {
			c := baseConfig("")
			demo(t, &c)
			return start(t, c)
		}, 2500, []string{"customers", "orders", "order_lines", "products"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // each case has its own gateway and database
			g := tc.g(t)
			items := runCheck(t, conformance.Options{URL: g.base + "/odata", Writes: true, MaxRows: tc.maxRows})
			s := conformance.Summarize(items)
			if s.Failed > 0 {
				t.Fatalf("odatagw check finds %d failures in odatagw:\n%s", s.Failed, checkFailures(items))
			}
			if s.Passed < 100 {
				t.Fatalf("only %d checks passed: the checklist did not run", s.Passed)
			}
			for _, set := range tc.sets {
				for _, c := range []string{"read", "$top", "$count=true", "$count=false", "paging: nextLink",
					"key lookup ($filter)", "key lookup (form-encoded)", "$search", "write: create", "write: update", "write: delete", "write: gone after delete"} {
					if !hasCheck(items, set, c, conformance.Pass) {
						t.Errorf("%s: no passing %q", set, c)
					}
				}
			}
			for _, c := range []string{"unknown entity set", "invalid $filter", "service document"} {
				if !hasCheck(items, "", c, conformance.Pass) {
					t.Errorf("no passing service check %q", c)
				}
			}
			if tc.maxRows == 0 && !hasCheck(items, "Customers", "paging: total = count", conformance.Pass) {
				t.Error("the full walk of Customers did not match its count")
			}
			// Quoted keys are exercised where the data has one.
			if tc.maxRows == 0 && !hasCheck(items, "Customers", "key lookup with quote", conformance.Pass) {
				t.Error("no passing quoted-key lookup on Customers (O'BRIEN)")
			}
		})
	}
}

// breakingProxy forwards to the gateway and lets fault rewrite the
// exchange: req may change the outgoing query; resp the status and body.
type fault struct {
	name string
	req  func(rawQuery string) string
	resp func(r *http.Request, status int, h http.Header, body []byte) (int, []byte)
	// want: a failed check whose name starts with one of these (on any set).
	want []string
}

func breakingProxy(t *testing.T, g *gateway, f fault) string {
	t.Helper()
	client := &http.Client{Timeout: 60 * time.Second}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.RawQuery
		if f.req != nil {
			q = f.req(q)
		}
		u := g.base + r.URL.EscapedPath()
		if q != "" {
			u += "?" + q
		}
		out, err := http.NewRequestWithContext(r.Context(), r.Method, u, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		out.URL.Opaque = r.URL.EscapedPath() // keep the escaping
		out.Host = r.Host                    // nextLinks point back at the proxy
		for k, vs := range r.Header {
			if k != "Accept-Encoding" {
				out.Header[k] = vs
			}
		}
		resp, err := client.Do(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		status := resp.StatusCode
		if f.resp != nil {
			status, body = f.resp(r, status, resp.Header, body)
		}
		for k, vs := range resp.Header {
			if k != "Content-Length" {
				w.Header()[k] = vs
			}
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func isCollection(h http.Header, body []byte) bool {
	return strings.HasPrefix(h.Get("Content-Type"), "application/json") && bytes.Contains(body, []byte(`"value":[`))
}

var (
	countRe      = regexp.MustCompile(`"@odata\.count":(\d+)`)
	customerIDRe = regexp.MustCompile(`("CustomerID":"[^"]*)"`)
)

func TestCheckCatchesBrokenResponses(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) { c.PageSize = 5; c.LogLevel = "warn" })
	faults := []fault{
		{name: "clean proxy"}, // the proxy itself is transparent: no failures
		{name: "char(n) padding on the key", want: []string{"key lookup", "$filter CustomerID eq", "read"},
			resp: func(r *http.Request, st int, h http.Header, b []byte) (int, []byte) {
				return st, customerIDRe.ReplaceAll(b, []byte(`$1   "`))
			}},
		{name: "count one too high", want: []string{"$count=true", "paging: count", "paging: total"},
			resp: func(r *http.Request, st int, h http.Header, b []byte) (int, []byte) {
				return st, countRe.ReplaceAllFunc(b, func(m []byte) []byte {
					n, _ := strconv.Atoi(string(countRe.FindSubmatch(m)[1]))
					return []byte(`"@odata.count":` + strconv.Itoa(n+1))
				})
			}},
		{name: "$top ignored", want: []string{"$top"},
			req: func(q string) string {
				return regexp.MustCompile(`(^|&)(%24|\$)top=\d+`).ReplaceAllString(q, "")
			}},
		{name: "$count=false rejected", want: []string{"$count=false"},
			resp: func(r *http.Request, st int, h http.Header, b []byte) (int, []byte) {
				if strings.Contains(r.URL.RawQuery, "count=false") {
					h.Set("Content-Type", "application/json")
					return 400, []byte(`{"error":{"code":"BadRequest","message":"$count=false is not supported"}}`)
				}
				return st, b
			}},
		{name: "nextLink on another host", want: []string{"paging: nextLink", "paging: page size"},
			resp: func(r *http.Request, st int, h http.Header, b []byte) (int, []byte) {
				return st, bytes.ReplaceAll(b, []byte(`"@odata.nextLink":"http://`+r.Host), []byte(`"@odata.nextLink":"http://internal.invalid:8080`))
			}},
		{name: "HTML error pages", want: []string{"unknown entity set", "invalid $filter", "key segment"},
			resp: func(r *http.Request, st int, h http.Header, b []byte) (int, []byte) {
				if st >= 400 {
					h.Set("Content-Type", "text/html")
					return st, []byte("<html><body>Error</body></html>")
				}
				return st, b
			}},
		{name: "desc ignored", want: []string{"$orderby"},
			req: func(q string) string { return strings.ReplaceAll(q, "%20desc", "") }},
		{name: "rows beyond $top on one page", want: []string{"$top", "paging"},
			resp: func(r *http.Request, st int, h http.Header, b []byte) (int, []byte) {
				// A page that repeats its first row at the end.
				if !isCollection(h, b) {
					return st, b
				}
				i := bytes.Index(b, []byte(`"value":[{`))
				if i < 0 {
					return st, b
				}
				j := bytes.Index(b[i:], []byte(`}`))
				row := b[i+len(`"value":[`) : i+j+1]
				k := bytes.LastIndex(b, []byte(`]`))
				return st, append(append(append([]byte{}, b[:k]...), append([]byte(","), row...)...), b[k:]...)
			}},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			t.Parallel() // each fault has its own proxy; the checks only read
			u := breakingProxy(t, g, f)
			items := runCheck(t, conformance.Options{URL: u + "/odata", Sets: []string{"Customers", "Orders"}})
			fails := checkFailures(items)
			if f.want == nil {
				if fails != "" {
					t.Fatalf("the transparent proxy fails:\n%s", fails)
				}
				return
			}
			if fails == "" {
				t.Fatalf("odatagw check did not notice %q", f.name)
			}
			for _, it := range items {
				if it.Status != conformance.Fail {
					continue
				}
				for _, w := range f.want {
					if strings.HasPrefix(it.Check, w) {
						return
					}
				}
			}
			t.Fatalf("%q: no failed check named %q; failures:\n%s", f.name, f.want, fails)
		})
	}
}
