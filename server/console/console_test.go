package console

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/internal/sfbundle"
	"github.com/odatagw/odatagw/metadata"
)

// hostile is a name that would run script if it reached the page unescaped.
const hostile = `Evil"><script>alert(1)</script>`

func testModel() *metadata.Model {
	id := &metadata.Property{Name: "ID", Column: "id", Type: metadata.Int32}
	name := &metadata.Property{Name: "Name", Column: "name", Type: metadata.String, MaxLength: 80, Nullable: true}
	cust := &metadata.EntitySet{Name: "Customers", Table: "customers", Kind: metadata.KindTable,
		Properties: []*metadata.Property{id, name}, Key: []*metadata.Property{id}}
	hid := &metadata.Property{Name: "K", Column: "k", Type: metadata.String, MaxLength: 10}
	bad := &metadata.Property{Name: hostile, Column: "x", Type: metadata.String, MaxLength: 10, Nullable: true}
	evil := &metadata.EntitySet{Name: hostile, Table: "evil", Kind: metadata.KindView, ReadOnly: true,
		Properties: []*metadata.Property{hid, bad}, Key: []*metadata.Property{hid}}
	return metadata.NewModel("ns", nil, cust, evil)
}

// fakeAPI answers the console's in-process requests: rows for
// GET /odata/<set>, with a hostile value.
type fakeAPI struct{ seen []string }

func (f *fakeAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	f.seen = append(f.seen, r.Method+" "+r.URL.String())
	body := `{"error":{"code":"NotFound","message":"no"}}`
	status := http.StatusNotFound
	switch r.URL.EscapedPath() {
	case "/odata/Customers":
		status = http.StatusOK
		body = `{"value":[{"ID":1,"Name":"<img src=x onerror=alert(2)>"},{"ID":2,"Name":null}]}`
	case "/odata/" + url.PathEscape(hostile):
		status = http.StatusOK
		body = `{"value":[{"K":"a"}]}` // the hostile property is hidden from the caller
	}
	return &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
}

func newTestConsole(t *testing.T, api http.RoundTripper) *Console {
	t.Helper()
	m := testModel()
	return New(Options{
		Path: "/console", Root: "/odata", Version: "test", AuthModes: []string{"HTTP Basic: 1 user"},
		Model:      func() *metadata.Model { return m },
		Warnings:   func() []metadata.Warning { return []metadata.Warning{{Object: "public." + hostile, Msg: "no key"}} },
		Configured: func(set string) bool { return set == "Customers" },
		Tracking: func(context.Context) ([]TrackState, error) {
			return []TrackState{{Set: "Customers", Installed: true, Entries: 3}}, nil
		},
		API: func(*http.Request) http.RoundTripper { return api },
	})
}

func get(t *testing.T, c *Console, target string) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, c, httptest.NewRequest(http.MethodGet, "http://gw.example"+target, nil))
}

func do(t *testing.T, c *Console, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	http.StripPrefix("/console", c).ServeHTTP(w, r)
	return w
}

func TestPagesRender(t *testing.T) {
	c := newTestConsole(t, &fakeAPI{})
	c.Traffic().Record(Exchange{Time: time.Now(), ID: "r1", Method: "GET", Path: "/odata/Customers?$top=1",
		Status: 200, Rows: 1, Duration: 3 * time.Millisecond, Principal: "ann", Set: "Customers"})
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/console/", []string{"Connect Salesforce", "http://gw.example/odata", "public_url is not configured", "HTTP Basic: 1 user", `action="/console/bundle.zip"`}},
		{"/console/objects", []string{"Customers__x", "<code>customers</code>", "delta", "installed; reload to serve delta links", "2 entity sets", "no key"}},
		{"/console/objects/Customers", []string{"ID__c", "Name__c", "Text(80)", "First 2 rows", "null"}},
		{"/console/check", []string{"Run the check", "No check has run"}},
		{"/console/traffic", []string{"/odata/Customers?$top=1", "ann", "<code>r1</code>", `<th scope="row">Customers</th>`}},
	} {
		w := get(t, c, tc.path)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: status %d\n%s", tc.path, w.Code, w.Body)
		}
		if got := w.Header().Get("Content-Security-Policy"); got != CSP {
			t.Errorf("%s: CSP %q", tc.path, got)
		}
		if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/html") {
			t.Errorf("%s: content type %q", tc.path, w.Header().Get("Content-Type"))
		}
		body := w.Body.String()
		for _, s := range tc.want {
			if !strings.Contains(body, s) {
				t.Errorf("%s: missing %q", tc.path, s)
			}
		}
		// Nothing inline: the CSP would block it anyway.
		for _, bad := range []string{"<script>", "style=", " onclick=", "<style"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: inline %q", tc.path, bad)
			}
		}
	}
	// The sample lists the objects page's row data, escaped.
	if body := get(t, c, "/console/objects/Customers").Body.String(); !strings.Contains(body, "&lt;img src=x onerror=alert(2)&gt;") {
		t.Errorf("sample value not escaped:\n%s", body)
	}
	// Static assets are embedded and typed.
	for path, typ := range map[string]string{"/console/static/console.css": "text/css", "/console/static/console.js": "text/javascript"} {
		w := get(t, c, path)
		if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), typ) || w.Body.Len() < 100 {
			t.Errorf("%s: %d %q %d bytes", path, w.Code, w.Header().Get("Content-Type"), w.Body.Len())
		}
	}
	if w := get(t, c, "/console/nope"); w.Code != http.StatusNotFound {
		t.Errorf("unknown page: %d", w.Code)
	}
	if w := get(t, c, "/console/objects/Nope"); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "no entity set named Nope") {
		t.Errorf("unknown set: %d %s", w.Code, w.Body)
	}
}

func TestHostileNamesEscaped(t *testing.T) {
	c := newTestConsole(t, &fakeAPI{})
	for _, path := range []string{"/console/objects", "/console/objects/" + url.PathEscape(hostile)} {
		w := get(t, c, path)
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d\n%s", path, w.Code, w.Body)
		}
		body := w.Body.String()
		if strings.Contains(body, "<script>alert(1)") || strings.Contains(body, `"><script`) {
			t.Fatalf("%s: unescaped name in\n%s", path, body)
		}
		if !strings.Contains(body, "Evil&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("%s: escaped name missing", path)
		}
	}
	// The link to the set is path-escaped inside the attribute.
	if body := get(t, c, "/console/objects").Body.String(); !strings.Contains(body, `href="/console/objects/Evil%22%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E"`) {
		t.Errorf("link not escaped:\n%s", body)
	}
	// A hostile value in the error of a failed request is escaped as well.
	w := get(t, c, "/console/bundle.zip?form=1&url=https://x/odata&name="+url.QueryEscape("<b>bold</b>"))
	if w.Code != http.StatusBadRequest || strings.Contains(w.Body.String(), "<b>bold</b>") || !strings.Contains(w.Body.String(), "&lt;b&gt;bold&lt;/b&gt;") {
		t.Errorf("bundle error: %d\n%s", w.Code, w.Body)
	}
}

func TestBundleDownload(t *testing.T) {
	c := newTestConsole(t, &fakeAPI{})
	q := url.Values{"form": {"1"}, "name": {"Acme"}, "url": {"https://erp.example.com/odata"}, "adapter": {"4.01"},
		"auth": {"basic"}, "writable": {"on"}, "server_paging": {"on"}, "timeout": {"90"}}
	w := get(t, c, "/console/bundle.zip?"+q.Encode())
	if w.Code != http.StatusOK {
		t.Fatalf("status %d\n%s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/zip" {
		t.Errorf("content type %q", ct)
	}
	if cd := w.Header().Get("Content-Disposition"); cd != `attachment; filename="Acme-salesforce-bundle.zip"` {
		t.Errorf("disposition %q", cd)
	}
	zr, err := zip.NewReader(bytes.NewReader(w.Body.Bytes()), int64(w.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	want, err := sfbundle.Files(sfbundle.Options{Name: "Acme", URL: "https://erp.example.com/odata", Adapter: "4.01",
		Auth: "basic", Writable: true, ServerPaging: true, Timeout: 90})
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(want) {
		t.Fatalf("zip has %d files, want %d", len(zr.File), len(want))
	}
	for i, f := range zr.File {
		if f.Name != "salesforce/"+want[i].Path {
			t.Errorf("file %d: %s, want salesforce/%s", i, f.Name, want[i].Path)
		}
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		rc.Close()
		if string(got) != want[i].Content {
			t.Errorf("%s: content differs from sfbundle.Files", f.Name)
		}
	}
	// Options are validated by sfbundle: a plain http URL is refused on the
	// Connect page with the reason, the form keeps what was typed.
	w = get(t, c, "/console/bundle.zip?form=1&name=Acme&url=http%3A%2F%2Ferp.example.com%2Fodata")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "must be an absolute https URL") ||
		!strings.Contains(w.Body.String(), `value="http://erp.example.com/odata"`) {
		t.Errorf("bad URL: %d\n%s", w.Code, w.Body)
	}
	// Without the form, the defaults for this gateway: the URL is the one
	// the request reached (http here), which the bundle refuses.
	if w := get(t, c, "/console/bundle.zip"); w.Code != http.StatusBadRequest {
		t.Errorf("default bundle over http: %d", w.Code)
	}
}

func TestReadOnly(t *testing.T) {
	api := &fakeAPI{}
	c := newTestConsole(t, api)
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		for _, path := range []string{"/console/", "/console/objects", "/console/objects/Customers", "/console/traffic", "/console/bundle.zip", "/console/static/console.js"} {
			w := do(t, c, httptest.NewRequest(m, "http://gw.example"+path, strings.NewReader(`{"Name":"x"}`)))
			if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") == "" {
				t.Errorf("%s %s: %d", m, path, w.Code)
			}
		}
	}
	for _, s := range api.seen {
		if !strings.HasPrefix(s, "GET ") {
			t.Errorf("the console sent %s", s)
		}
	}
	// The check's transport refuses writes whatever asks for them.
	if _, err := (readOnly{api}).RoundTrip(httptest.NewRequest(http.MethodPost, "http://x/odata/Customers", nil)); err == nil {
		t.Error("readOnly let a POST through")
	}
	// A cross-site form post cannot start the check.
	r := httptest.NewRequest(http.MethodPost, "http://gw.example/console/check", nil)
	r.Header.Set("Origin", "https://evil.example")
	if w := do(t, c, r); w.Code != http.StatusForbidden {
		t.Errorf("cross-site check: %d", w.Code)
	}
	r = httptest.NewRequest(http.MethodPost, "http://gw.example/console/check", nil)
	r.Header.Set("Sec-Fetch-Site", "cross-site")
	if w := do(t, c, r); w.Code != http.StatusForbidden {
		t.Errorf("cross-site check (fetch metadata): %d", w.Code)
	}
}

// brokenAPI answers every request with a server error.
type brokenAPI struct{}

func (brokenAPI) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/odata/broken-transport" {
		return nil, errors.New("boom")
	}
	return &http.Response{StatusCode: http.StatusInternalServerError, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"error":{"code":"InternalError","message":"<b>database down</b>"}}`)), Request: r}, nil
}

func TestCheckShowsFailuresWithResponses(t *testing.T) {
	c := newTestConsole(t, brokenAPI{})
	r := httptest.NewRequest(http.MethodPost, "http://gw.example/console/check", nil)
	r.Header.Set("Origin", "http://gw.example")
	w := do(t, c, r)
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/console/check" {
		t.Fatalf("run: %d %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	body := get(t, c, "/console/check").Body.String()
	for _, s := range []string{`id="check-summary"`, "failed</span>", "GET /odata/$metadata", "Response 500",
		"&lt;b&gt;database down&lt;/b&gt;", `<tr class="fail">`} {
		if !strings.Contains(body, s) {
			t.Errorf("check page lacks %q\n%s", s, body)
		}
	}
	if strings.Contains(body, "gateway.internal") {
		t.Error("the internal host leaks into the page")
	}
	// The sample of a set shows the API's error instead of rows.
	if body := get(t, c, "/console/objects/Customers").Body.String(); !strings.Contains(body, "500 Internal Server Error: InternalError: &lt;b&gt;database down") {
		t.Errorf("sample error:\n%s", body)
	}
}

func TestProbe(t *testing.T) {
	ours := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/odata/" {
			t.Errorf("probe path %q", r.URL.Path)
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="odatagw"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	defer ours.Close()
	c := New(Options{Path: "/console", Root: "/odata", PublicURL: ours.URL, Model: func() *metadata.Model { return testModel() }})
	body := get(t, c, "/console/?probe=1").Body.String()
	if !strings.Contains(body, "<strong>Reachable</strong>: GET "+ours.URL+"/odata/ answered 401") || !strings.Contains(body, "from an OData service") {
		t.Errorf("probe:\n%s", body)
	}
	if !strings.Contains(body, "https only") || !strings.Contains(body, "not reachable from Salesforce") {
		t.Errorf("notes on an http loopback URL missing:\n%s", body)
	}
	ours.Close()
	body = get(t, c, "/console/?probe=1").Body.String()
	if !strings.Contains(body, "<strong>Not reachable</strong>") || !strings.Contains(body, "refused or could not be made") ||
		strings.Contains(body, "connection refused") {
		t.Errorf("probe of a closed port (a short reason, not the raw error):\n%s", body)
	}

	// Without public_url nothing is fetched: the URL would come from the
	// request's Host header, which the caller chooses.
	fetched := false
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fetched = true }))
	defer other.Close()
	c = New(Options{Path: "/console", Root: "/odata", Model: func() *metadata.Model { return testModel() }})
	req := httptest.NewRequest("GET", "/console/?probe=1", nil)
	req.Host = strings.TrimPrefix(other.URL, "http://")
	rec := do(t, c, req)
	if fetched || !strings.Contains(rec.Body.String(), "public_url is not configured, so there is nothing to test") {
		t.Errorf("a probe without public_url fetched %v:\n%s", fetched, rec.Body.String())
	}
}

func TestTraffic(t *testing.T) {
	tr := NewTraffic(3)
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := 1; i <= 5; i++ {
		tr.Record(Exchange{Time: now.Add(time.Duration(i) * time.Second), ID: string(rune('0' + i)), Set: "A", Status: 200, Duration: time.Duration(i) * time.Millisecond})
	}
	got := tr.Snapshot()
	if len(got) != 3 || got[0].ID != "3" || got[2].ID != "5" {
		t.Fatalf("ring: %+v", got)
	}
	long := Exchange{Path: strings.Repeat("x", 2*maxPath)}
	tr.Record(long)
	if p := tr.Snapshot()[2].Path; len(p) > maxPath+len("…") {
		t.Errorf("path kept %d bytes", len(p))
	}

	var ex []Exchange
	for i := 1; i <= 100; i++ {
		status := 200
		if i%10 == 0 {
			status = 500
		}
		ex = append(ex, Exchange{Time: now.Add(-time.Duration(i) * 6 * time.Second), Set: "A", Status: status, Rows: 2, Duration: time.Duration(i) * time.Millisecond})
	}
	ex = append(ex, Exchange{Time: now, Status: 200, Duration: time.Second})
	st := Stats(ex, now)
	if len(st) != 2 || st[0].Set != "A" || st[1].Set != "" {
		t.Fatalf("stats: %+v", st)
	}
	a := st[0]
	if a.Requests != 100 || a.Errors != 10 || a.Rows != 200 || a.P50 != 50*time.Millisecond || a.P95 != 95*time.Millisecond ||
		a.P99 != 99*time.Millisecond || a.Max != 100*time.Millisecond {
		t.Errorf("A: %+v", a)
	}
	if a.PerMinute != 10 { // 50 requests in the last five minutes
		t.Errorf("per minute %v", a.PerMinute)
	}
}

func TestShownBody(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(`{"error":"é"}`))
	_ = zw.Close()
	cases := []struct {
		name string
		h    http.Header
		body []byte
		want string
	}{
		{"plain", http.Header{}, []byte(`{"a":1}`), `{"a":1}`},
		{"gzip is shown decompressed", http.Header{"Content-Encoding": {"gzip"}}, gz.Bytes(), `{"error":"é"}`},
		{"broken gzip", http.Header{"Content-Encoding": {"gzip"}}, []byte("xx"), "(2 bytes of gzip that do not decompress)"},
		{"invalid UTF-8", http.Header{}, []byte("a\xffb"), "a\uFFFDb"},
		{"long", http.Header{}, bytes.Repeat([]byte("x"), recordedBody+10), strings.Repeat("x", recordedBody) + fmt.Sprintf("… (%d bytes)", recordedBody+10)},
	}
	for _, tc := range cases {
		if got := shownBody(tc.h, tc.body); got != tc.want {
			t.Errorf("%s: %.80q, want %.80q", tc.name, got, tc.want)
		}
	}
}
