package test

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/server/app"
	"github.com/odatagw/odatagw/server/auth"
	"github.com/odatagw/odatagw/server/console"
)

// noRedirect sends a request without following a redirect.
func noRedirect(t *testing.T, g *gateway, method, path string, headers ...string) *response {
	t.Helper()
	req, err := http.NewRequest(method, g.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// consoleKeys configures API keys: one with the admin role, one without.
func consoleKeys(c *app.Config) {
	c.Auth.APIKeys = []auth.APIKey{
		{Name: "ops", Hash: auth.HashAPIKey("admin-key-0123456789"), Roles: []string{"admin"}},
		{Name: "salesforce", Hash: auth.HashAPIKey("reader-key-0123456789"), Roles: []string{"reader"}},
	}
}

// assertConsoleHeaders checks the API's security headers and the console's CSP.
func assertConsoleHeaders(t *testing.T, path string, r *response) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": console.CSP,
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
	}
	for k, v := range want {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s: %s = %q, want %q", path, k, got, v)
		}
	}
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(r.Header.Get("Content-Security-Policy"), d) {
			t.Errorf("%s: CSP lacks %s", path, d)
		}
	}
	if strings.Contains(r.Header.Get("Content-Security-Policy"), "unsafe-inline") {
		t.Errorf("%s: CSP allows inline code", path)
	}
}

func TestConsoleDemo(t *testing.T) {
	t.Parallel()
	g := start(t, demoConfig(t))
	// A request through the API, to be found under Traffic.
	if r := g.do("GET", "/odata/customers?$top=2&$filter=country eq 'CA'", nil); r.Status != 200 {
		t.Fatalf("API: %d %s", r.Status, r.Body)
	}
	count := func() string {
		r := g.do("GET", "/odata/customers/$count", nil)
		if r.Status != 200 {
			t.Fatalf("count: %d %s", r.Status, r.Body)
		}
		return string(r.Body)
	}
	before := count()

	if r := noRedirect(t, g, "GET", "/console"); r.Status != http.StatusMovedPermanently || r.Header.Get("Location") != "/console/" {
		t.Errorf("/console: %d %q", r.Status, r.Header.Get("Location"))
	}
	pages := []struct {
		path string
		want []string
	}{
		{"/console/", []string{"Connect Salesforce", g.base + "/odata", "public_url is not configured", "Authentication is off", "Download the bundle"}},
		{"/console/objects", []string{"customers__x", "order_lines__x", "products__x", "order_id, line_no", "off"}},
		{"/console/objects/customers", []string{"customer_id__c", "Text(", "First 5 rows", "C0000001"}},
		{"/console/objects/orders", []string{"orders__x", "Lookup candidates", "customers__x", "Navigation properties"}},
		{"/console/check", []string{"Run the check", "No check has run"}},
		{"/console/traffic", []string{"/odata/customers?$top=2&amp;$filter=country%20eq%20&#39;CA&#39;", `<th scope="row">customers</th>`, "anonymous"}},
		{"/console/static/console.css", []string{"nav a"}},
		{"/console/static/console.js", []string{"use strict"}},
	}
	for _, p := range pages {
		r := g.do("GET", p.path, nil)
		if r.Status != 200 {
			t.Fatalf("%s: %d\n%s", p.path, r.Status, r.Body)
		}
		assertConsoleHeaders(t, p.path, r)
		for _, s := range p.want {
			if !strings.Contains(string(r.Body), s) {
				t.Errorf("%s: missing %q", p.path, s)
			}
		}
	}
	// The console's own samples are not traffic.
	if r := g.do("GET", "/console/traffic", nil); strings.Contains(string(r.Body), "$top=5") {
		t.Error("the console's sample request shows under Traffic")
	}

	// The bundle, for the public URL typed into the form.
	q := url.Values{"form": {"1"}, "name": {"Demo"}, "url": {"https://erp.example.com/odata"}, "auth": {"basic"},
		"adapter": {"4.01"}, "writable": {"on"}, "server_paging": {"on"}, "search": {"on"}, "row_counts": {"on"}}
	r := g.do("GET", "/console/bundle.zip?"+q.Encode(), nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/zip" {
		t.Fatalf("bundle: %d %s", r.Status, r.Body)
	}
	zr, err := zip.NewReader(bytes.NewReader(r.Body), int64(len(r.Body)))
	if err != nil {
		t.Fatalf("bundle is not a zip: %v", err)
	}
	files := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		files[f.Name] = string(b)
	}
	for name, want := range map[string]string{
		"salesforce/sfdx-project.json": `"sourceApiVersion"`,
		"salesforce/force-app/main/default/namedCredentials/Demo.namedCredential-meta.xml":               "https://erp.example.com/odata",
		"salesforce/force-app/main/default/externalCredentials/Demo_Gateway.externalCredential-meta.xml": "<authenticationProtocol>Basic</authenticationProtocol>",
		"salesforce/force-app/main/default/dataSources/Demo.dataSource-meta.xml":                         "OData401",
		"salesforce/force-app/main/default/permissionsets/Demo_Gateway_Access.permissionset-meta.xml":    "Demo_Gateway",
		"salesforce/README.txt": "sf project deploy start",
	} {
		if !strings.Contains(files[name], want) {
			t.Errorf("bundle file %s lacks %q (files: %d)", name, want, len(files))
		}
	}
	if len(files) != 6 {
		t.Errorf("bundle has %d files", len(files))
	}

	// The check against the gateway itself, started from the console's page.
	r = noRedirect(t, g, "POST", "/console/check", "Origin", g.base)
	if r.Status != http.StatusSeeOther {
		t.Fatalf("run check: %d %s", r.Status, r.Body)
	}
	r = g.do("GET", "/console/check", nil)
	body := string(r.Body)
	for _, s := range []string{`id="check-summary"`, "passed</span>", "<strong>customers</strong>", "<strong>(service)</strong>", "GET /odata/$metadata"} {
		if !strings.Contains(body, s) {
			t.Errorf("check page lacks %q", s)
		}
	}
	if strings.Contains(body, `<tr class="fail">`) {
		t.Errorf("the demo fails the checklist:\n%s", body)
	}

	// No page accepts a write, and the data did not change.
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		for _, p := range []string{"/console/", "/console/objects", "/console/objects/customers", "/console/traffic", "/console/bundle.zip", "/console/check"} {
			if m == "POST" && p == "/console/check" {
				continue
			}
			r := g.do(m, p, []byte(`{"customer_id":"ZZZ","name":"x"}`), "Origin", g.base)
			if r.Status != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d", m, p, r.Status)
			}
		}
	}
	if r := g.do("POST", "/console/check", nil, "Origin", "https://evil.example"); r.Status != http.StatusForbidden {
		t.Errorf("cross-site check: %d", r.Status)
	}
	if after := count(); after != before {
		t.Errorf("customers: %s before, %s after", before, after)
	}
}

func TestConsoleOffWithAuth(t *testing.T) {
	t.Parallel()
	c := demoConfig(t)
	consoleKeys(&c)
	g := start(t, c)
	r := g.do("GET", "/console/", nil, "X-API-Key", "admin-key-0123456789")
	if r.Status != http.StatusNotFound {
		t.Errorf("console with auth, not enabled: %d", r.Status)
	}
	if r := g.do("GET", "/odata/customers?$top=1", nil, "X-API-Key", "admin-key-0123456789"); r.Status != 200 {
		t.Errorf("API: %d", r.Status)
	}
}

func TestConsoleOffWhenDisabled(t *testing.T) {
	t.Parallel()
	c := demoConfig(t)
	off := false
	c.Console.Enabled = &off
	g := start(t, c)
	if r := g.do("GET", "/console/", nil); r.Status != http.StatusNotFound {
		t.Errorf("console disabled: %d", r.Status)
	}
}

func TestConsoleAdminOnly(t *testing.T) {
	t.Parallel()
	c := demoConfig(t)
	consoleKeys(&c)
	on := true
	c.Console.Enabled = &on
	c.Console.Path = "/admin/console"
	g := start(t, c)
	for _, p := range []string{"/admin/console/", "/admin/console/objects", "/admin/console/static/console.js", "/admin/console/bundle.zip"} {
		r := g.do("GET", p, nil)
		if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s without credentials: %d %q", p, r.Status, r.Header.Get("WWW-Authenticate"))
		}
		if r := g.do("GET", p, nil, "X-API-Key", "wrong-key-0123456789"); r.Status != http.StatusUnauthorized {
			t.Errorf("%s with a wrong key: %d", p, r.Status)
		}
		if r := g.do("GET", p, nil, "X-API-Key", "reader-key-0123456789"); r.Status != http.StatusForbidden {
			t.Errorf("%s as a non-admin: %d", p, r.Status)
		}
	}
	admin := []string{"X-API-Key", "admin-key-0123456789"}
	// Salesforce's reader makes a request: it shows under Traffic with its principal.
	if r := g.do("GET", "/odata/products?$top=1", nil, "X-API-Key", "reader-key-0123456789"); r.Status != 200 {
		t.Fatalf("API as reader: %d %s", r.Status, r.Body)
	}
	for path, want := range map[string]string{
		"/admin/console/":                    "API keys in header X-API-Key: 2 keys",
		"/admin/console/objects":             "products__x",
		"/admin/console/objects/products":    "First 5 rows",
		"/admin/console/traffic":             "salesforce",
		"/admin/console/check":               "Run the check",
		"/admin/console/static/console.css":  "nav a",
		"/admin/console/objects/order_lines": "order_lines__x",
	} {
		r := g.do("GET", path, nil, admin...)
		if r.Status != 200 {
			t.Errorf("%s as admin: %d %s", path, r.Status, r.Body)
			continue
		}
		assertConsoleHeaders(t, path, r)
		if !strings.Contains(string(r.Body), want) {
			t.Errorf("%s lacks %q", path, want)
		}
	}
	// The bundle form defaults to the gateway's authentication.
	if r := g.do("GET", "/admin/console/", nil, admin...); !strings.Contains(string(r.Body), `<option value="api-key" selected>`) {
		t.Error("bundle auth does not default to api-key")
	}
	// The check runs as the admin (its in-process requests are authenticated).
	if r := g.do("POST", "/admin/console/check", nil, "X-API-Key", "reader-key-0123456789", "Origin", g.base); r.Status != http.StatusForbidden {
		t.Errorf("check as non-admin: %d", r.Status)
	}
	if r := noRedirect(t, g, "POST", "/admin/console/check", append(admin, "Origin", g.base)...); r.Status != http.StatusSeeOther {
		t.Fatalf("check as admin: %d %s", r.Status, r.Body)
	}
	r := g.do("GET", "/admin/console/check", nil, admin...)
	if body := string(r.Body); !strings.Contains(body, "by ops") || strings.Contains(body, `<tr class="fail">`) || !strings.Contains(body, "passed</span>") {
		t.Errorf("check results:\n%s", body)
	}
	// The old default path is not the console.
	if r := g.do("GET", "/console/", nil, admin...); r.Status != http.StatusNotFound {
		t.Errorf("/console/ with path moved: %d", r.Status)
	}
}
