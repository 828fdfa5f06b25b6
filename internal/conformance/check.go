// Package conformance is the OData/Salesforce conformance checker behind
// `odatagw check`: it exercises any OData 4.0 producer the way Salesforce
// Connect's OData 4.0 adapter does and verifies the answers, not just the
// status codes.
//
// It reads $metadata (CSDL XML, with metadata/csdl.Parse), applies
// Salesforce's metadata rules (package metadata/salesforce), then runs per
// entity set the checklist of reference section 7: $select/$top/$skip,
// $orderby per sortable property (verifying the order), eq/ne/range/null
// filters built from sampled values (verifying every returned row in Go),
// string functions, and/or/not, $count both ways, key lookups (including
// quoted keys), $search, a full server-driven paging walk, negative probes
// and, when asked, a create/update/delete round trip on a scratch row it
// always removes again.
//
// Credentials are sent as Basic or Bearer and never printed.
package conformance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/odatagw/odatagw/metadata/csdl"
)

// Options configure a run.
type Options struct {
	URL      string // service root, e.g. https://erp.example.com/odata
	User     string // Basic credentials (also taken from user info in URL)
	Password string
	Bearer   string // Bearer token; wins over Basic
	Writes   bool   // also create/update/delete a scratch row per set
	JSON     bool   // Run prints the items as a JSON array
	Sets     []string
	// MaxRows caps the paging walk per set (default 20000); counts are
	// compared with the walk only when the set fits.
	MaxRows    int
	Timeout    time.Duration // per request; default 60s
	HTTPClient *http.Client  // default: a client without redirects to other hosts
	// Progress, when set, is told each step before it runs (and once at
	// the end, with Done == Total); the checker never prints progress itself.
	Progress func(Step)
}

// Step is a progress report: Done of Total units finished (the service
// checks, then each selected set; Total is 0 until $metadata is read), and
// the check about to run on Set ("" for the service).
type Step struct {
	Done, Total int
	Set, Check  string
}

// Status of one check.
type Status string

// Statuses, in increasing severity (skip is informational).
const (
	Pass Status = "pass"
	Warn Status = "warn"
	Fail Status = "fail"
	Skip Status = "skip"
)

// Item is one line of the report.
type Item struct {
	Set     string `json:"set"` // "" for service-level checks
	Check   string `json:"check"`
	Status  Status `json:"status"`
	Request string `json:"request,omitempty"` // method and URL
	Reason  string `json:"reason,omitempty"`
}

// Summary counts items by status.
type Summary struct{ Passed, Warned, Failed, Skipped int }

// Summarize counts items.
func Summarize(items []Item) Summary {
	var s Summary
	for _, it := range items {
		switch it.Status {
		case Pass:
			s.Passed++
		case Warn:
			s.Warned++
		case Fail:
			s.Failed++
		case Skip:
			s.Skipped++
		}
	}
	return s
}

// Run checks the service and writes the report to out (text, or JSON when
// o.JSON). failed is true when any check failed; err is non-nil only when
// the options are unusable or out cannot be written (a service that cannot
// be reached is a failed check, not an error). Exit status for a CLI:
// err -> 2, failed -> 1, else 0.
func Run(ctx context.Context, o Options, out io.Writer) (failed bool, err error) {
	items, err := Check(ctx, o)
	if err != nil {
		return false, err
	}
	s := Summarize(items)
	if o.JSON {
		if items == nil {
			items = []Item{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(items)
	} else {
		err = WriteText(out, redact(o.URL), items)
	}
	return s.Failed > 0, err
}

// WriteText prints items grouped by set (service-level first) with a
// summary line "N passed, N warned, N failed".
func WriteText(w io.Writer, service string, items []Item) error {
	var b strings.Builder
	fmt.Fprintf(&b, "odatagw check %s\n", service)
	var order []string
	groups := map[string][]Item{}
	for _, it := range items {
		if _, ok := groups[it.Set]; !ok {
			order = append(order, it.Set)
		}
		groups[it.Set] = append(groups[it.Set], it)
	}
	width := 0
	for _, it := range items {
		width = max(width, len(it.Check))
	}
	width = min(width, 44)
	for _, set := range order {
		name := set
		if name == "" {
			name = "(service)"
		}
		fmt.Fprintf(&b, "\n%s\n", name)
		for _, it := range groups[set] {
			fmt.Fprintf(&b, "  %-4s  %-*s  %s\n", strings.ToUpper(string(it.Status)), width, it.Check, it.Request)
			if it.Reason != "" && it.Status != Pass {
				fmt.Fprintf(&b, "        %s\n", it.Reason)
			}
		}
	}
	s := Summarize(items)
	fmt.Fprintf(&b, "\n%d passed, %d warned, %d failed", s.Passed, s.Warned, s.Failed)
	if s.Skipped > 0 {
		fmt.Fprintf(&b, ", %d skipped", s.Skipped)
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// redact removes user info from a URL for display.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(invalid URL)"
	}
	u.User = nil
	return u.String()
}

// Check runs every check and returns the items in execution order. It fails
// only when the options are unusable.
func Check(ctx context.Context, o Options) ([]Item, error) {
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("check: %q is not an absolute http(s) service URL", redact(o.URL))
	}
	if u.RawQuery != "" {
		return nil, errors.New("check: the service URL must not have a query")
	}
	user, pass := o.User, o.Password
	if u.User != nil && user == "" && pass == "" {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	u.User = nil
	if o.MaxRows <= 0 {
		o.MaxRows = 20000
	}
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 || req.URL.Host != via[0].URL.Host {
				return http.ErrUseLastResponse // never forward credentials elsewhere
			}
			return nil
		}}
	}
	r := &runner{
		c: &client{root: strings.TrimRight(u.String(), "/"), user: user, pass: pass, bearer: o.Bearer, hc: hc, timeout: o.Timeout},
		o: o,
	}
	r.run(ctx)
	if r.total == 0 {
		r.total = 1 // $metadata failed: that was the only unit
	}
	r.step(r.total, "", "")
	return r.items, nil
}

// runner accumulates items.
type runner struct {
	c     *client
	o     Options
	items []Item
	done  int // units finished, for Options.Progress
	total int
}

// step reports progress: the check about to run.
func (r *runner) step(done int, set, check string) {
	r.done = done
	if r.o.Progress != nil {
		r.o.Progress(Step{Done: done, Total: r.total, Set: set, Check: check})
	}
}

func (r *runner) add(set, check string, st Status, req, reason string) {
	r.items = append(r.items, Item{Set: set, Check: check, Status: st, Request: req, Reason: reason})
}

func (r *runner) run(ctx context.Context) {
	r.step(0, "", "metadata")
	resp, err := r.c.get(ctx, "$metadata")
	if err != nil {
		r.add("", "metadata", Fail, resp.req, "request failed: "+err.Error())
		return
	}
	if resp.status != http.StatusOK {
		r.add("", "metadata", Fail, resp.req, bodyError(resp))
		return
	}
	doc, err := csdl.Parse(resp.body)
	if err != nil {
		r.add("", "metadata", Fail, resp.req, "$metadata: "+err.Error())
		return
	}
	if doc.Version != "4.0" && doc.Version != "4.01" {
		r.add("", "metadata", Warn, resp.req, fmt.Sprintf("EDMX Version %q: Salesforce's OData 4.0 adapter expects 4.0", doc.Version))
	} else {
		r.add("", "metadata", Pass, resp.req, fmt.Sprintf("EDMX %s, %d entity sets", doc.Version, len(doc.Sets)))
	}
	if len(doc.Sets) == 0 {
		r.add("", "metadata", Fail, resp.req, "no entity sets: nothing to sync")
		return
	}
	metaReq := resp.req

	sets := doc.Sets
	selected := sets
	if len(r.o.Sets) > 0 {
		selected = nil
		for _, n := range r.o.Sets {
			if s := doc.Set(n); s != nil {
				selected = append(selected, s)
			} else {
				r.add(n, "metadata", Fail, metaReq, "no entity set of this name in $metadata")
			}
		}
	}
	r.total = 1 + len(selected)
	r.step(0, "", "service document")
	r.serviceChecks(ctx, sets)
	for i, s := range selected {
		r.step(1+i, s.Name, "metadata")
		if ctx.Err() != nil {
			r.add(s.Name, "run", Skip, "", "interrupted: "+ctx.Err().Error())
			continue
		}
		sr := &setRun{runner: r, s: s}
		if sr.metadataChecks(metaReq) {
			sr.run(ctx)
		}
	}
}
