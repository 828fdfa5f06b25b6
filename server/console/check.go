package console

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/odatagw/odatagw/internal/conformance"
)

// checkRun is one run of the checklist.
type checkRun struct {
	Started  time.Time
	Duration time.Duration
	By       string
	Summary  conformance.Summary
	Groups   []checkGroup
	Error    string
}

// checkGroup is the items of one set ("" for the service).
type checkGroup struct {
	Set    string
	Failed int
	Warned int
	Items  []checkItem
}

// checkItem is one check with, for failures and warnings, the exchange
// that decided it.
type checkItem struct {
	conformance.Item
	Response *exchange
}

// exchange is a recorded response of the check's transport.
type exchange struct {
	Status int
	Header string
	Body   string
}

type checkData struct {
	Last    *checkRun
	Running bool
	Busy    bool
}

func (c *Console) lastRun() *checkRun {
	c.resultMu.Lock()
	defer c.resultMu.Unlock()
	return c.last
}

func (c *Console) check(w http.ResponseWriter, r *http.Request, status int) {
	running := !c.checkMu.TryLock()
	if !running {
		c.checkMu.Unlock()
	}
	c.render(w, r, status, "check", "Check", "check", checkData{Last: c.lastRun(), Running: running, Busy: status == http.StatusConflict})
}

// runCheck runs the Salesforce Connect checklist against the gateway
// itself (reads only: no scratch rows), one run at a time.
func (c *Console) runCheck(w http.ResponseWriter, r *http.Request) {
	if !sameOrigin(r) {
		c.fail(w, r, http.StatusForbidden, "The check can only be started from the console's own page.")
		return
	}
	if c.o.API == nil {
		c.fail(w, r, http.StatusServiceUnavailable, "The check is not available.")
		return
	}
	if !c.checkMu.TryLock() {
		c.check(w, r, http.StatusConflict)
		return
	}
	defer c.checkMu.Unlock()
	_ = r.ParseForm()
	var sets []string
	if s := strings.TrimSpace(r.PostForm.Get("set")); s != "" {
		sets = []string{s}
	}
	ctx, cancel := context.WithTimeoutCause(r.Context(), checkDeadline, errTimeout)
	defer cancel()
	rec := &recorder{rt: readOnly{c.o.API(r)}, seen: map[string]*exchange{}}
	run := &checkRun{Started: c.o.Now(), By: c.principal(r)}
	items, err := conformance.Check(ctx, c.conformanceOptions(rec, sets))
	run.Duration = c.o.Now().Sub(run.Started).Round(time.Millisecond)
	if err != nil {
		run.Error = err.Error()
	}
	if cause := context.Cause(ctx); cause != nil && errors.Is(cause, errTimeout) {
		run.Error = fmt.Sprintf("%v (%s); the results are partial", errTimeout, checkDeadline)
	}
	run.Summary = conformance.Summarize(items)
	run.Groups = group(items, rec)
	c.resultMu.Lock()
	c.last = run
	c.resultMu.Unlock()
	// Post/redirect/get: a reload does not run the check again.
	http.Redirect(w, r, c.o.Path+"/check", http.StatusSeeOther)
}

// group orders the items by set (service first, then by name) and attaches
// the recorded response to each failure and warning.
func group(items []conformance.Item, rec *recorder) []checkGroup {
	idx := map[string]int{}
	var groups []checkGroup
	for _, it := range items {
		i, ok := idx[it.Set]
		if !ok {
			i = len(groups)
			idx[it.Set] = i
			groups = append(groups, checkGroup{Set: it.Set})
		}
		ci := checkItem{Item: it}
		ci.Request = strings.Replace(it.Request, " "+internalBase, " ", 1)
		switch it.Status {
		case conformance.Fail:
			groups[i].Failed++
			ci.Response = rec.lookup(it.Request)
		case conformance.Warn:
			groups[i].Warned++
		}
		groups[i].Items = append(groups[i].Items, ci)
	}
	sort.SliceStable(groups, func(a, b int) bool {
		if groups[a].Set == "" || groups[b].Set == "" {
			return groups[a].Set == ""
		}
		return groups[a].Set < groups[b].Set
	})
	return groups
}

// readOnly refuses anything but GET and HEAD: the console never writes.
type readOnly struct{ rt http.RoundTripper }

func (t readOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return nil, fmt.Errorf("console: %s refused, the console only reads", req.Method)
	}
	return t.rt.RoundTrip(req)
}

// maxRecorded bounds the responses a run keeps (the newest win) and
// recordedBody what is kept of each body.
const (
	maxRecorded  = 2000
	recordedBody = 4 << 10
)

// recorder keeps the responses of a check by request ("METHOD URL" as the
// checker prints it), so that a failure can show what the gateway answered.
type recorder struct {
	rt    http.RoundTripper
	mu    sync.Mutex
	seen  map[string]*exchange
	order []string
}

func (rc *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := rc.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, rerr := io.ReadAll(resp.Body)
	resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	ex := &exchange{Status: resp.StatusCode, Header: headerText(resp.Header), Body: shownBody(resp.Header, body)}
	key := displayKey(req.Method, req.URL.String())
	rc.mu.Lock()
	if _, ok := rc.seen[key]; !ok {
		rc.order = append(rc.order, key)
		if len(rc.order) > maxRecorded {
			delete(rc.seen, rc.order[0])
			rc.order = rc.order[1:]
		}
	}
	rc.seen[key] = ex
	rc.mu.Unlock()
	return resp, nil
}

// shownBody is what the page shows of a response body: decompressed (the
// checker asks for gzip), valid UTF-8, at most recordedBody bytes.
func shownBody(h http.Header, body []byte) string {
	total := len(body)
	if strings.EqualFold(h.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return fmt.Sprintf("(%d bytes of gzip that do not decompress)", total)
		}
		body, _ = io.ReadAll(io.LimitReader(zr, recordedBody+1))
		total = -1 // unknown without reading it all
	}
	if len(body) <= recordedBody {
		return strings.ToValidUTF8(string(body), "\uFFFD")
	}
	more := "…"
	if total >= 0 {
		more = fmt.Sprintf("… (%d bytes)", total)
	}
	return strings.ToValidUTF8(string(body[:recordedBody]), "") + more
}

func (rc *recorder) lookup(request string) *exchange {
	if request == "" {
		return nil
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if ex, ok := rc.seen[request]; ok {
		return ex
	}
	// The checker shortens long URLs for display: match the prefix.
	if i := strings.Index(request, "… ("); i > 0 {
		p := request[:i]
		for k, ex := range rc.seen {
			if strings.HasPrefix(k, p) {
				return ex
			}
		}
	}
	return nil
}

// displayKey is how the checker prints a request: the method and the URL
// with the query unescaped.
func displayKey(method, u string) string {
	if du, err := url.PathUnescape(u); err == nil {
		u = du
	}
	return method + " " + u
}

func headerText(h http.Header) string {
	var keys []string
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		switch k {
		case "Content-Type", "OData-Version", "Preference-Applied", "Www-Authenticate", "Retry-After", "Location", "Etag":
			fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(h[k], ", "))
		}
	}
	return b.String()
}
