// Package console is the gateway's built-in web console for the people who
// connect Salesforce: the service root to paste, the Salesforce bundle to
// download (Connect), what each entity set becomes in Salesforce with a
// sample of rows and its change-tracking state (Objects), the Salesforce
// Connect checklist run against the gateway itself (Check) and the last
// requests with per-set latency (Traffic).
//
// Pages are rendered on the server with html/template (every name from the
// model is escaped); styles and the little progressive JavaScript are
// embedded and served from the console's own path, under a strict
// Content-Security-Policy (no inline script or style, nothing external).
//
// The console never changes data: it reads the model, asks the gateway's
// own API for samples and check requests through API (in process, as the
// console's caller, never with write methods), and its only POST runs the
// read-only checklist. It knows nothing of the server or the adapters: the
// server mounts it behind authentication and the admin role, and the
// composition root hands it functions (Tracking, Warnings).
package console

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/odatagw/odatagw/internal/conformance"
	"github.com/odatagw/odatagw/internal/sfbundle"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/metadata/salesforce"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// CSP is the Content-Security-Policy of every console response: only the
// console's own scripts, styles and images; forms post only to the console.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// TrackState is the change-tracking state of one set configured with
// track_changes (what `odatagw track status` shows).
type TrackState struct {
	Set       string
	Installed bool
	Entries   int64
	Oldest    time.Time
}

// Options are what the console shows and how it reaches the gateway.
type Options struct {
	// Path is where the console is mounted, e.g. "/console" (links are
	// relative to it).
	Path string
	// Root is the service root path, e.g. "/odata".
	Root string
	// PublicURL is the configured public_url (scheme://host[:port]); empty
	// when not configured.
	PublicURL string
	// AuthModes describe the configured authentication modes, e.g.
	// "HTTP Basic (2 users)"; empty means authentication is off.
	AuthModes []string
	// BundleAuth is the bundle's default External Credential protocol
	// (an sfbundle.Auth* constant) matching the gateway's authentication.
	BundleAuth string
	// CSRF tells whether the gateway requires the X-CSRF-Token handshake.
	CSRF bool
	// Version is the gateway's version.
	Version string
	// Model returns the current model snapshot.
	Model func() *metadata.Model
	// Warnings returns the introspection warnings (tables skipped or
	// renamed); nil: none.
	Warnings func() []metadata.Warning
	// Configured reports whether a set is configured with track_changes.
	Configured func(set string) bool
	// Tracking returns the change-tracking state of the sets configured
	// with track_changes; nil when the backend cannot track changes.
	Tracking func(ctx context.Context) ([]TrackState, error)
	// API returns a transport that runs requests through the gateway's own
	// handler in process, as the principal of the console request r. The
	// console uses it for GETs only (samples, the checklist).
	API func(r *http.Request) http.RoundTripper
	// Principal names the caller of a console request (for the record of
	// who ran a check); nil: nobody.
	Principal func(r *http.Request) string
	// Probe fetches the public URL for the reachability check; nil: a
	// client with a 5 s timeout that follows no redirect.
	Probe *http.Client
	// TrafficSize is how many requests Traffic keeps (default 500).
	TrafficSize int
	// Now is the clock; nil: time.Now.
	Now func() time.Time
}

// Console serves the console pages. Mount it with http.StripPrefix(Path).
type Console struct {
	o       Options
	pages   map[string]*template.Template
	static  http.Handler
	traffic *Traffic

	checkMu  sync.Mutex // held while a check runs
	resultMu sync.Mutex
	last     *checkRun
}

// New builds a console.
func New(o Options) *Console {
	o.Path = "/" + strings.Trim(o.Path, "/")
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Probe == nil {
		o.Probe = &http.Client{Timeout: 5 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.BundleAuth == "" {
		o.BundleAuth = sfbundle.AuthBasic
	}
	sub, _ := fs.Sub(staticFS, "static")
	c := &Console{o: o, pages: parsePages(), static: http.StripPrefix("/static/", http.FileServer(http.FS(sub))),
		traffic: NewTraffic(o.TrafficSize)}
	return c
}

// Traffic is the console's record of recent requests (the server adds to it).
func (c *Console) Traffic() *Traffic { return c.traffic }

var funcs = template.FuncMap{
	"join": strings.Join,
	"ms": func(d time.Duration) string {
		return fmt.Sprintf("%.1f", float64(d.Microseconds())/1000)
	},
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "–"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"clock":      func(t time.Time) string { return t.UTC().Format("15:04:05.000") },
	"pathEscape": url.PathEscape,
	"lower":      strings.ToLower,
	"statusClass": func(code int) string {
		switch {
		case code >= 500:
			return "bad"
		case code >= 400:
			return "warn"
		}
		return "ok"
	},
}

// parsePages parses each page together with the layout.
func parsePages() map[string]*template.Template {
	pages := map[string]*template.Template{}
	for _, name := range []string{"connect", "objects", "object", "check", "traffic", "error"} {
		t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
		pages[name] = t
	}
	return pages
}

// page is what every template gets.
type page struct {
	Title   string
	Nav     string // the active navigation entry
	Base    string // the console's path with a trailing slash
	Version string
	Data    any
}

// ServeHTTP routes below the console path (already stripped).
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("Cache-Control", "no-store")
	p := r.URL.Path
	if strings.HasPrefix(p, "/static/") {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			c.methodNotAllowed(w, r, "GET, HEAD")
			return
		}
		h.Set("Cache-Control", "no-cache")
		c.static.ServeHTTP(w, r)
		return
	}
	if r.Method == http.MethodPost && p == "/check" {
		c.runCheck(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		allow := "GET, HEAD"
		if p == "/check" {
			allow = "GET, HEAD, POST"
		}
		c.methodNotAllowed(w, r, allow)
		return
	}
	switch {
	case p == "" || p == "/":
		c.connect(w, r, nil, http.StatusOK)
	case p == "/bundle.zip":
		c.bundle(w, r)
	case p == "/objects":
		c.objects(w, r)
	case strings.HasPrefix(p, "/objects/"):
		c.object(w, r, strings.TrimPrefix(p, "/objects/"))
	case p == "/check":
		c.check(w, r, http.StatusOK)
	case p == "/traffic":
		c.trafficPage(w, r)
	default:
		c.fail(w, r, http.StatusNotFound, "No console page here.")
	}
}

func (c *Console) methodNotAllowed(w http.ResponseWriter, r *http.Request, allow string) {
	w.Header().Set("Allow", allow)
	c.fail(w, r, http.StatusMethodNotAllowed, "The console is read-only: this page does not accept "+r.Method+".")
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	c.render(w, r, status, "error", "Error", "", msg)
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	var b strings.Builder
	err := c.pages[name].Execute(&b, page{Title: title, Nav: nav, Base: c.o.Path + "/", Version: c.o.Version, Data: data})
	if err != nil {
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString("<!doctype html><title>console error</title><p>The page could not be rendered.</p>")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(b.String()))
	}
}

// serviceURL is the service root to paste into Salesforce: public_url plus
// the root when configured, else as this request reached the gateway.
func (c *Console) serviceURL(r *http.Request) (u string, configured bool) {
	if c.o.PublicURL != "" {
		return strings.TrimRight(c.o.PublicURL, "/") + c.o.Root, true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + c.o.Root, false
}

// sortedSets returns the model's sets by name.
func sortedSets(m *metadata.Model) []*metadata.EntitySet {
	sets := append([]*metadata.EntitySet(nil), m.Sets...)
	sort.Slice(sets, func(i, j int) bool { return sets[i].Name < sets[j].Name })
	return sets
}

// sameOrigin refuses cross-site form posts (the console's only POST runs
// the read-only checklist, but nobody else's page should start it).
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// errTimeout is the check's deadline.
var errTimeout = errors.New("the check took longer than its deadline")

// internalBase is the scheme and host of the console's in-process requests.
const internalBase = "http://gateway.internal"

// checkDeadline bounds one checklist run.
const checkDeadline = 3 * time.Minute

// conformanceOptions are the checklist's options for a run against the
// gateway itself: read-only (no scratch rows), walks capped.
func (c *Console) conformanceOptions(rt http.RoundTripper, sets []string) conformance.Options {
	return conformance.Options{
		URL: internalBase + c.o.Root, Sets: sets, MaxRows: 5000, Timeout: 60 * time.Second,
		HTTPClient: &http.Client{Transport: rt},
	}
}

func (c *Console) principal(r *http.Request) string {
	if c.o.Principal == nil {
		return ""
	}
	return c.o.Principal(r)
}

// report is the Salesforce view of one set.
func report(s *metadata.EntitySet) salesforce.SetReport { return salesforce.ReportSet(s) }
