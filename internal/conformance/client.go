package conformance

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxBody bounds what the checker reads from one response; anything larger
// than the 8 MB Salesforce limit is a failure anyway.
const maxBody = 64 << 20

// client sends requests the way Salesforce Connect does: JSON Accept,
// OData-MaxVersion 4.0, gzip accepted, Basic or Bearer credentials.
type client struct {
	root    string // service root without trailing slash, no user info
	user    string
	pass    string
	bearer  string
	hc      *http.Client
	timeout time.Duration
}

// param is one query option, kept in order.
type param struct{ k, v string }

// response is a fully read HTTP response.
type response struct {
	req    string // "GET <url>" for the report, never with credentials
	status int
	header http.Header
	body   []byte // decompressed
	wire   int    // body bytes as received (before gunzip)
}

// url builds root + "/" + path + "?" + query, escaping values like
// Salesforce does (%20 for space, %27 for the quote), keeping "$" and "," readable.
func (c *client) url(path string, params ...param) string {
	u := c.root + "/" + path
	if len(params) == 0 {
		return u
	}
	parts := make([]string, len(params))
	for i, p := range params {
		parts[i] = p.k + "=" + escapeQuery(p.v)
	}
	return u + "?" + strings.Join(parts, "&")
}

func escapeQuery(s string) string {
	e := strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
	return strings.NewReplacer("%24", "$", "%2C", ",").Replace(e)
}

// keyPath is Set(key) with the literal percent-encoded as a path segment.
func keyPath(set, keyLiteral string) string {
	return set + "(" + url.PathEscape(keyLiteral) + ")"
}

// display is a readable form of a request URL (query unescaped).
func display(method, u string) string {
	if du, err := url.PathUnescape(u); err == nil {
		u = du
	}
	if len(u) > maxDisplay {
		u = fmt.Sprintf("%s… (%d bytes)", u[:maxDisplay], len(u))
	}
	return method + " " + u
}

// maxDisplay bounds the URL a report shows (long IN lists run to hundreds
// of kilobytes).
const maxDisplay = 1000

// maxRetries is how often a request answered 429 or 503 with Retry-After
// is retried (a well-behaved client waits as told instead of counting the
// throttling as a failure).
const maxRetries = 5

func (c *client) do(ctx context.Context, method, u string, body []byte) (*response, error) {
	for attempt := 0; ; attempt++ {
		resp, err := c.doOnce(ctx, method, u, body)
		if err != nil || attempt >= maxRetries || (resp.status != http.StatusTooManyRequests && resp.status != http.StatusServiceUnavailable) {
			return resp, err
		}
		wait, perr := strconv.Atoi(resp.header.Get("Retry-After"))
		if perr != nil {
			return resp, nil // no advice: report the status as it is
		}
		if wait < 1 {
			wait = 1
		}
		if wait > 30 {
			wait = 30
		}
		select {
		case <-ctx.Done():
			return resp, ctx.Err()
		case <-time.After(time.Duration(wait) * time.Second):
		}
	}
}

func (c *client) doOnce(ctx context.Context, method, u string, body []byte) (*response, error) {
	resp := &response{req: display(method, u)}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return resp, err
	}
	if strings.HasSuffix(req.URL.Path, "/$metadata") {
		// Salesforce asks for CSDL XML; some producers (SAP CAP) answer
		// Accept: application/json on $metadata with CSDL JSON.
		req.Header.Set("Accept", "application/xml")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	req.Header.Set("OData-MaxVersion", "4.0")
	if p, ok := ctx.Value(preferKey{}).(string); ok {
		req.Header.Set("Prefer", p)
	}
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("User-Agent", "odatagw-check")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case c.bearer != "":
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	case c.user != "" || c.pass != "":
		req.SetBasicAuth(c.user, c.pass)
	}
	hr, err := c.hc.Do(req)
	if err != nil {
		return resp, scrub(err)
	}
	defer hr.Body.Close()
	resp.status = hr.StatusCode
	resp.header = hr.Header
	raw, err := io.ReadAll(io.LimitReader(hr.Body, maxBody+1))
	if err != nil {
		return resp, fmt.Errorf("reading body: %w", scrub(err))
	}
	resp.wire = len(raw)
	if strings.EqualFold(hr.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return resp, fmt.Errorf("bad gzip body: %w", err)
		}
		raw, err = io.ReadAll(io.LimitReader(zr, maxBody+1))
		if err != nil {
			return resp, fmt.Errorf("bad gzip body: %w", err)
		}
	}
	if len(raw) > maxBody {
		return resp, fmt.Errorf("response body over %d MB", maxBody>>20)
	}
	resp.body = raw
	return resp, nil
}

// scrub removes the URL (which could carry user info) from transport errors.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// preferKey carries a Prefer header for the requests of a context.
type preferKey struct{}

// withPrefer makes the requests of ctx send Prefer: p.
func withPrefer(ctx context.Context, p string) context.Context {
	return context.WithValue(ctx, preferKey{}, p)
}

// get is do(GET) with the root-relative path and params.
func (c *client) get(ctx context.Context, path string, params ...param) (*response, error) {
	return c.do(ctx, http.MethodGet, c.url(path, params...), nil)
}

func (r *response) mediaType() string {
	mt, _, _ := mime.ParseMediaType(r.header.Get("Content-Type"))
	return mt
}

func (r *response) isJSON() bool {
	mt := r.mediaType()
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// page is a decoded collection response.
type page struct {
	rows     []map[string]any // values use json.Number for numbers
	count    int64
	hasCount bool
	next     string
}

// decodePage parses an OData JSON collection. @odata.count may be a number
// or, with IEEE754Compatible, a string.
func decodePage(r *response) (*page, error) {
	if !r.isJSON() {
		return nil, fmt.Errorf("Content-Type is %q, not application/json", r.header.Get("Content-Type"))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &top); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %v", err)
	}
	raw, ok := top["value"]
	if !ok {
		return nil, errors.New(`body has no "value" array`)
	}
	p := &page{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&p.rows); err != nil {
		return nil, fmt.Errorf(`"value" is not an array of objects: %v`, err)
	}
	if c, ok := top["@odata.count"]; ok {
		s := strings.Trim(string(c), `"`)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("@odata.count %s is not a non-negative integer", c)
		}
		p.count, p.hasCount = n, true
	}
	if nl, ok := top["@odata.nextLink"]; ok {
		if err := json.Unmarshal(nl, &p.next); err != nil {
			return nil, fmt.Errorf("@odata.nextLink is not a string")
		}
	}
	return p, nil
}

// decodeEntity parses a single-entity JSON object.
func decodeEntity(r *response) (map[string]any, error) {
	if !r.isJSON() {
		return nil, fmt.Errorf("Content-Type is %q, not application/json", r.header.Get("Content-Type"))
	}
	var e map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&e); err != nil {
		return nil, fmt.Errorf("body is not a JSON object: %v", err)
	}
	return e, nil
}

// odataError reports whether r carries an OData JSON error object, and the
// reason when it does not.
func odataError(r *response) (msg string, ok bool) {
	if !r.isJSON() {
		ct := r.header.Get("Content-Type")
		if ct == "" {
			ct = "none"
		}
		return fmt.Sprintf("error body is not OData JSON (Content-Type %s): %s", ct, snippet(r.body)), false
	}
	var e struct {
		Error *struct {
			Code    any    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == nil {
		return "error body lacks the OData error object {\"error\":{\"code\",\"message\"}}: " + snippet(r.body), false
	}
	if e.Error.Message == "" {
		return "OData error has an empty message", false
	}
	return e.Error.Message, true
}

// snippet shortens a body for a report line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	if s == "" {
		return "(empty body)"
	}
	return s
}

// bodyError describes an unexpected status, with the OData error message when present.
func bodyError(r *response) string {
	msg, ok := odataError(r)
	if ok {
		return fmt.Sprintf("HTTP %d: %s", r.status, msg)
	}
	return fmt.Sprintf("HTTP %d: %s", r.status, snippet(r.body))
}
