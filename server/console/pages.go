package console

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/internal/sfbundle"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/metadata/salesforce"
)

// ---- Connect ----------------------------------------------------------

// connectData is the Connect page.
type connectData struct {
	ServiceURL string
	Configured bool     // public_url is set
	URLNotes   []string // why Salesforce may not reach the URL
	AuthModes  []string
	CSRF       bool
	Probe      *probeResult
	Bundle     bundleForm
	BundleErr  string
}

// bundleForm is the bundle form's state.
type bundleForm struct {
	sfbundle.Options
	Auths    []string
	Adapters []string
}

// probeResult is the answer of the public URL.
type probeResult struct {
	URL     string
	Status  int
	Ours    bool // the answer looks like this gateway's (OData-Version or its auth realm)
	Error   string
	Elapsed time.Duration
}

func (c *Console) connect(w http.ResponseWriter, r *http.Request, bundleErr error, status int) {
	u, configured := c.serviceURL(r)
	d := connectData{ServiceURL: u, Configured: configured, AuthModes: c.o.AuthModes, CSRF: c.o.CSRF,
		URLNotes: urlNotes(u, configured), Bundle: c.bundleForm(r, u)}
	if bundleErr != nil {
		d.BundleErr = bundleErr.Error()
	}
	if r.URL.Query().Get("probe") == "1" {
		// Only the configured URL: one derived from the request's Host
		// header would let the caller make the gateway fetch any address.
		if configured {
			d.Probe = c.probe(r.Context(), u)
		} else {
			d.Probe = &probeResult{URL: u + "/", Error: "public_url is not configured, so there is nothing to test: set public_url (--public-url) to the address Salesforce calls"}
		}
	}
	c.render(w, r, status, "connect", "Connect", "connect", d)
}

// urlNotes says what keeps Salesforce from calling the service URL.
func urlNotes(u string, configured bool) []string {
	var notes []string
	if !configured {
		notes = append(notes, "public_url is not configured: this is the URL as your browser reached the gateway. Set public_url (--public-url) to the address Salesforce calls.")
	}
	pu, err := url.Parse(u)
	if err != nil {
		return append(notes, "the URL does not parse: "+err.Error())
	}
	if pu.Scheme != "https" {
		notes = append(notes, "Salesforce named credentials call https only: put the gateway behind TLS (tls.cert_file) or a TLS-terminating proxy.")
	}
	host := pu.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && (ip.IsLoopback() || ip.IsPrivate() || ip.IsUnspecified() || ip.IsLinkLocalUnicast()) {
		notes = append(notes, "the host "+host+" is not reachable from Salesforce's cloud (loopback or private address); use a public name, or Private Connect.")
	}
	return notes
}

// probe fetches the service root as configured and reports the answer.
func (c *Console) probe(ctx context.Context, u string) *probeResult {
	res := &probeResult{URL: u + "/"}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, res.URL, nil)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	req.Header.Set("Accept", "application/json")
	start := c.o.Now()
	resp, err := c.o.Probe.Do(req)
	res.Elapsed = c.o.Now().Sub(start)
	if err != nil {
		// Not the raw error: it would tell what answers (or refuses) at
		// the address, and the kind is all an admin needs here.
		res.Error = probeFailure(err)
		return res
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	res.Status = resp.StatusCode
	res.Ours = resp.Header.Get("OData-Version") != "" || strings.Contains(resp.Header.Get("WWW-Authenticate"), `realm="odatagw"`)
	return res
}

// probeFailure says in a few words why a probe got no answer.
func probeFailure(err error) string {
	var dnsErr *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "no answer within 5 s"
	case errors.As(err, &dnsErr):
		return "the host name does not resolve"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "the connection was refused or could not be made"
	}
	return "the request failed (TLS, proxy or protocol error)"
}

var bundleAuths = []string{sfbundle.AuthBasic, sfbundle.AuthBasicHeader, sfbundle.AuthClientCredentials,
	sfbundle.AuthJWTBearer, sfbundle.AuthAPIKey, sfbundle.AuthAnonymous}

// bundleForm reads the bundle options from the query (the form is a GET);
// without "form=1" the defaults for this gateway.
func (c *Console) bundleForm(r *http.Request, serviceURL string) bundleForm {
	q := r.URL.Query()
	o := sfbundle.Options{Name: "ERP", URL: serviceURL, Adapter: sfbundle.Adapter401, Auth: c.o.BundleAuth,
		Writable: true, ServerPaging: true, Search: true, RequestRowCounts: true, CSRF: c.o.CSRF,
		Timeout: sfbundle.DefaultTimeout}
	if q.Get("form") == "1" {
		str := func(k string, p *string) {
			if q.Has(k) {
				*p = strings.TrimSpace(q.Get(k))
			}
		}
		str("name", &o.Name)
		str("label", &o.Label)
		str("url", &o.URL)
		str("adapter", &o.Adapter)
		str("auth", &o.Auth)
		str("token_url", &o.TokenURL)
		str("scope", &o.Scope)
		str("api_key_header", &o.APIKeyHeader)
		str("private_connect", &o.PrivateConnect)
		o.Writable = q.Get("writable") == "on"
		o.ServerPaging = q.Get("server_paging") == "on"
		o.Search = q.Get("search") == "on"
		o.RequestRowCounts = q.Get("row_counts") == "on"
		o.CSRF = q.Get("csrf") == "on"
		o.Compress = q.Get("compress") == "on"
		if t := q.Get("timeout"); t != "" {
			n, err := strconv.Atoi(t)
			if err != nil {
				n = -1 // refused by sfbundle with its message
			}
			o.Timeout = n
		}
	}
	return bundleForm{Options: o, Auths: bundleAuths, Adapters: []string{sfbundle.Adapter401, sfbundle.Adapter40}}
}

// bundle answers the Salesforce bundle (sfbundle.Files) as a zip.
func (c *Console) bundle(w http.ResponseWriter, r *http.Request) {
	u, _ := c.serviceURL(r)
	form := c.bundleForm(r, u)
	files, err := sfbundle.Files(form.Options)
	if err != nil {
		c.connect(w, r, err, http.StatusBadRequest)
		return
	}
	zipped, err := zipFiles(files)
	if err != nil {
		c.fail(w, r, http.StatusInternalServerError, "The bundle could not be zipped.")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/zip")
	// The name passed salesforce.CheckName: letters, digits and underscores.
	h.Set("Content-Disposition", `attachment; filename="`+form.Name+`-salesforce-bundle.zip"`)
	h.Set("Content-Length", strconv.Itoa(len(zipped)))
	if r.Method != http.MethodHead {
		_, _ = w.Write(zipped)
	}
}

// zipFiles zips the bundle below a folder "salesforce/" (what
// `odatagw salesforce-bundle` writes by default).
func zipFiles(files []sfbundle.File) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: "salesforce/" + f.Path, Method: zip.Deflate, Modified: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			return nil, err
		}
		if _, err := io.WriteString(fw, f.Content); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// ---- Objects ----------------------------------------------------------

// objectRow is one set on the Objects page.
type objectRow struct {
	Set      string
	Object   string
	Storage  string
	Kind     string
	Key      string
	Fields   int
	ReadOnly bool
	Errors   int
	Warnings int
	Tracking string
}

type objectsData struct {
	Rows          []objectRow
	Introspection []metadata.Warning
	TrackingErr   string
}

func storage(s *metadata.EntitySet) string {
	if s.Schema == "" {
		return s.Table
	}
	return s.Schema + "." + s.Table
}

// tracking describes the change-tracking state of each set.
func (c *Console) tracking(ctx context.Context, m *metadata.Model) (map[string]string, map[string]TrackState, error) {
	desc := map[string]string{}
	states := map[string]TrackState{}
	var err error
	if c.o.Tracking != nil {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var st []TrackState
		st, err = c.o.Tracking(ctx)
		for _, s := range st {
			states[s.Set] = s
		}
	}
	for _, s := range m.Sets {
		configured := c.o.Configured != nil && c.o.Configured(s.Name)
		st, known := states[s.Name]
		switch {
		case s.Tracked:
			desc[s.Name] = "delta links served"
		case !configured:
			desc[s.Name] = "off"
		case known && st.Installed:
			desc[s.Name] = "installed; reload to serve delta links"
		case known:
			desc[s.Name] = "configured, not installed: run odatagw track install"
		default:
			desc[s.Name] = "configured, state unknown"
		}
	}
	return desc, states, err
}

func (c *Console) objects(w http.ResponseWriter, r *http.Request) {
	m := c.o.Model()
	desc, _, err := c.tracking(r.Context(), m)
	d := objectsData{}
	if err != nil {
		d.TrackingErr = err.Error()
	}
	if c.o.Warnings != nil {
		d.Introspection = c.o.Warnings()
	}
	for _, s := range sortedSets(m) {
		rep := report(s)
		errs, warns := salesforce.Problems([]salesforce.SetReport{rep})
		d.Rows = append(d.Rows, objectRow{Set: s.Name, Object: rep.Object, Storage: storage(s), Kind: string(s.Kind),
			Key: strings.Join(rep.Key, ", "), Fields: len(rep.Fields), ReadOnly: s.ReadOnly,
			Errors: errs, Warnings: warns, Tracking: desc[s.Name]})
	}
	c.render(w, r, http.StatusOK, "objects", "Objects", "objects", d)
}

type objectData struct {
	Report     salesforce.SetReport
	Storage    string
	Kind       string
	Navigation []*metadata.Navigation
	Tracking   string
	Track      *TrackState
	Sample     *sample
}

// sample is the first rows of a set as the console's caller reads them.
type sample struct {
	URL     string
	Columns []string
	Rows    [][]string
	Error   string
}

func (c *Console) object(w http.ResponseWriter, r *http.Request, name string) {
	m := c.o.Model()
	s := m.Set(name)
	if s == nil {
		c.fail(w, r, http.StatusNotFound, "There is no entity set named "+name+".")
		return
	}
	desc, states, _ := c.tracking(r.Context(), m)
	d := objectData{Report: report(s), Storage: storage(s), Kind: string(s.Kind), Navigation: s.Navigations,
		Tracking: desc[s.Name], Sample: c.sample(r, s)}
	if st, ok := states[s.Name]; ok {
		d.Track = &st
	}
	c.render(w, r, http.StatusOK, "object", s.Name, "objects", d)
}

// sampleRows is how many rows the Objects page shows.
const sampleRows = 5

// sample reads the first rows of s through the gateway's own API, as the
// console's caller (the policy's row filters and hidden properties apply).
func (c *Console) sample(r *http.Request, s *metadata.EntitySet) *sample {
	path := c.o.Root + "/" + url.PathEscape(s.Name)
	sm := &sample{URL: path + "?$top=" + strconv.Itoa(sampleRows)}
	if c.o.API == nil {
		sm.Error = "samples are not available"
		return sm
	}
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, internalBase+sm.URL, nil)
	if err != nil {
		sm.Error = err.Error()
		return sm
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.o.API(r).RoundTrip(req)
	if err != nil {
		sm.Error = err.Error()
		return sm
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if resp.StatusCode != http.StatusOK {
		sm.Error = fmt.Sprintf("%d %s: %s", resp.StatusCode, http.StatusText(resp.StatusCode), errorMessage(body))
		return sm
	}
	var doc struct {
		Value []map[string]json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		sm.Error = "the answer is not OData JSON: " + err.Error()
		return sm
	}
	for _, p := range s.Properties {
		if len(doc.Value) > 0 {
			if _, ok := doc.Value[0][p.Name]; !ok {
				continue // hidden from the caller
			}
		}
		sm.Columns = append(sm.Columns, p.Name)
	}
	for _, row := range doc.Value {
		cells := make([]string, len(sm.Columns))
		for i, col := range sm.Columns {
			cells[i] = cell(row[col])
		}
		sm.Rows = append(sm.Rows, cells)
	}
	return sm
}

// cell shows one JSON value: strings unquoted, null as "null", cut at 200
// characters.
func cell(v json.RawMessage) string {
	var out string
	var s string
	if v == nil || string(v) == "null" {
		return "null"
	}
	if err := json.Unmarshal(v, &s); err == nil {
		out = s
	} else {
		out = string(v)
	}
	if r := []rune(out); len(r) > 200 {
		out = string(r[:200]) + "…"
	}
	return out
}

// errorMessage is the message of an OData error body (or the body's start).
func errorMessage(body []byte) string {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return e.Error.Code + ": " + e.Error.Message
	}
	if len(body) > 300 {
		body = body[:300]
	}
	return string(body)
}

// ---- Traffic ----------------------------------------------------------

type trafficData struct {
	Recent []Exchange
	Sets   []SetStats
	Kept   int
	Window time.Duration
}

// trafficShown is how many requests the Traffic page lists.
const trafficShown = 100

func (c *Console) trafficPage(w http.ResponseWriter, r *http.Request) {
	all := c.traffic.Snapshot()
	d := trafficData{Kept: len(all), Sets: Stats(all, c.o.Now())}
	if len(all) > 0 {
		d.Window = c.o.Now().Sub(all[0].Time).Round(time.Second)
	}
	for i := len(all) - 1; i >= 0 && len(d.Recent) < trafficShown; i-- {
		d.Recent = append(d.Recent, all[i])
	}
	c.render(w, r, http.StatusOK, "traffic", "Traffic", "traffic", d)
}
