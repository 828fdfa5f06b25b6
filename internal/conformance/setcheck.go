package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/metadata/csdl"
	"github.com/odatagw/odatagw/metadata/salesforce"
)

// Salesforce limits (reference §4).
const (
	maxPageRows  = 2000
	maxPageBytes = 8 << 20
	sampleTop    = 50
	checkTop     = 200
)

// setRun checks one entity set.
type setRun struct {
	*runner
	s            *csdl.EntitySet
	sample       []map[string]any // first page of the read check
	total        int64            // from /$count (or inline count)
	haveTotal    bool
	walk         []map[string]any // rows of the paging walk
	walkComplete bool             // walk saw every row exactly once
	keyHigh      []map[string]any // rows holding the highest numeric key values
}

func (sr *setRun) add(check string, st Status, req, reason string) {
	sr.runner.add(sr.s.Name, check, st, req, reason)
}

// salesforceView is s as package salesforce's rules see a set: a property
// whose type is not an Edm primitive metadata has keeps its declared type
// name (e.g. "Collection(Edm.String)"), which the rules report as unmapped.
func salesforceView(s *csdl.EntitySet) *metadata.EntitySet {
	ms := &metadata.EntitySet{Name: s.Name, Kind: metadata.KindTable}
	conv := map[*csdl.Property]*metadata.Property{}
	for _, p := range s.Properties {
		t := p.Edm
		if t == "" {
			t = metadata.Type(p.Type)
		}
		mp := &metadata.Property{Name: p.Name, Type: t, Nullable: p.Nullable, MaxLength: p.MaxLength,
			Precision: p.Precision, Scale: p.Scale, Variable: p.Variable}
		conv[p] = mp
		ms.Properties = append(ms.Properties, mp)
	}
	for _, k := range s.Key {
		ms.Key = append(ms.Key, conv[k])
	}
	return ms
}

// metadataChecks applies Salesforce's metadata rules and reports whether
// the runtime checks can run (they need a key).
func (sr *setRun) metadataChecks(req string) bool {
	rep := salesforce.ReportSet(salesforceView(sr.s))
	bad := 0
	if sr.s.KeyProblem != "" {
		sr.add("metadata: key", Fail, req, sr.s.KeyProblem)
		bad++
	}
	for _, e := range rep.Errors {
		sr.add("metadata: set", Fail, req, e)
		bad++
	}
	for _, w := range rep.Warnings {
		sr.add("metadata: set", Warn, req, w)
	}
	for _, f := range rep.Fields {
		for _, e := range f.Errors {
			sr.add("metadata: "+f.Property, Fail, req, e)
			bad++
		}
		for _, w := range f.Warnings {
			sr.add("metadata: "+f.Property, Warn, req, f.Type+": "+w)
		}
	}
	if bad == 0 {
		sr.add("metadata", Pass, req, fmt.Sprintf("%d properties, key %s", len(sr.s.Properties), strings.Join(rep.Key, ",")))
	}
	if len(sr.s.Key) == 0 {
		sr.add("runtime checks", Skip, "", "the set has no usable key")
		return false
	}
	return true
}

func (sr *setRun) run(ctx context.Context) {
	sr.step(sr.done, sr.s.Name, "read")
	if !sr.readCheck(ctx) {
		return
	}
	type step struct {
		name string
		run  func(context.Context)
	}
	steps := []step{
		{"select", sr.selectCheck}, {"top/skip", sr.topSkipCheck}, {"count", sr.countCheck},
		{"paging walk", sr.walkCheck}, {"orderby", sr.orderbyChecks}, {"filter", sr.filterChecks},
		{"and/or/not", sr.logicChecks}, {"key lookup", sr.keyChecks}, {"search", sr.searchCheck},
		{"SOQL", sr.soqlChecks},
	}
	if sr.s.ChangeTracking {
		steps = append(steps, step{"change tracking", sr.trackingCheck})
	}
	if sr.o.Writes {
		steps = append(steps, step{"writes", sr.writeChecks})
	}
	for _, st := range steps {
		if ctx.Err() != nil {
			sr.add("runtime checks", Skip, "", "interrupted: "+ctx.Err().Error())
			return
		}
		sr.step(sr.done, sr.s.Name, st.name)
		st.run(ctx)
	}
}

// selectable lists properties that $select may name.
func (sr *setRun) selectable() []*csdl.Property {
	var out []*csdl.Property
	for _, p := range sr.s.Properties {
		if p.Type != "Edm.Stream" {
			out = append(out, p)
		}
	}
	return out
}

func names(ps []*csdl.Property) string {
	n := make([]string, len(ps))
	for i, p := range ps {
		n[i] = p.Name
	}
	return strings.Join(n, ",")
}

// keySelect is the key properties plus extra, without duplicates.
func (sr *setRun) keySelect(extra ...*csdl.Property) string {
	ps := slices.Clone(sr.s.Key)
	for _, p := range extra {
		if !slices.Contains(ps, p) {
			ps = append(ps, p)
		}
	}
	return names(ps)
}

// keyOf renders a row's key for messages and duplicate detection.
func (sr *setRun) keyOf(row map[string]any) string {
	parts := make([]string, len(sr.s.Key))
	for i, k := range sr.s.Key {
		v, ok := row[k.Name]
		if !ok {
			return "(no key)"
		}
		parts[i] = show(v)
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, ",") + ")"
}

// fetch GETs a collection and decodes it; on failure it adds a fail item.
func (sr *setRun) fetch(ctx context.Context, check string, params ...param) (*response, *page, bool) {
	resp, err := sr.c.get(ctx, sr.s.Name, params...)
	if err != nil {
		sr.add(check, Fail, resp.req, "request failed: "+err.Error())
		return resp, nil, false
	}
	if resp.status != http.StatusOK {
		sr.add(check, Fail, resp.req, bodyError(resp))
		return resp, nil, false
	}
	p, err := decodePage(resp)
	if err != nil {
		sr.add(check, Fail, resp.req, err.Error())
		return resp, nil, false
	}
	return resp, p, true
}

// readCheck is Salesforce's list-view read; its rows are the sample.
func (sr *setRun) readCheck(ctx context.Context) bool {
	sel := sr.selectable()
	resp, p, ok := sr.fetch(ctx, "read", param{"$select", names(sel)}, param{"$count", "true"}, param{"$top", strconv.Itoa(sampleTop)})
	if !ok {
		sr.add("runtime checks", Skip, "", "the basic read failed; nothing else can be verified")
		return false
	}
	var problems []string
	if len(p.rows) > sampleTop {
		problems = append(problems, fmt.Sprintf("%d rows for $top=%d", len(p.rows), sampleTop))
	}
	if !p.hasCount {
		problems = append(problems, "no @odata.count although $count=true")
	} else if p.count < int64(len(p.rows)) {
		problems = append(problems, fmt.Sprintf("@odata.count %d is less than the %d rows returned", p.count, len(p.rows)))
	}
	if v := resp.header.Get("OData-Version"); v != "" && v != "4.0" && v != "4.01" {
		problems = append(problems, "OData-Version header is "+v)
	}
	for i, row := range p.rows {
		for _, q := range sel {
			v, present := row[q.Name]
			if !present {
				problems = append(problems, fmt.Sprintf("row %d lacks selected property %s", i+1, q.Name))
				continue
			}
			if v == nil {
				if sr.s.IsKey(q) {
					problems = append(problems, fmt.Sprintf("row %d has a null key %s", i+1, q.Name))
				} else if !q.Nullable {
					problems = append(problems, fmt.Sprintf("row %d has null in non-nullable %s", i+1, q.Name))
				}
				continue
			}
			if kindOf(q) != kindNone {
				if _, err := compare(q, v, v); err != nil {
					problems = append(problems, fmt.Sprintf("row %d property %s: %v (declared %s)", i+1, q.Name, err, q.Type))
				}
			}
		}
		if len(problems) > 5 {
			break
		}
	}
	sr.sample = p.rows
	if p.hasCount {
		sr.total, sr.haveTotal = p.count, true
	}
	if len(problems) > 0 {
		sr.add("read", Fail, resp.req, strings.Join(problems, "; "))
	}
	if len(p.rows) == 0 {
		if len(problems) == 0 {
			sr.add("read", Warn, resp.req, "the set is empty: add rows to verify filters, sorting, paging and lookups")
		}
		sr.add("runtime checks", Skip, "", "no rows to sample values from")
		return false
	}
	if len(problems) > 0 {
		return true
	}
	sr.add("read", Pass, resp.req, fmt.Sprintf("%d rows, count %d", len(p.rows), p.count))
	return true
}

func (sr *setRun) selectCheck(ctx context.Context) {
	var other *csdl.Property
	for _, p := range sr.selectable() {
		if !sr.s.IsKey(p) {
			other = p
			break
		}
	}
	resp, p, ok := sr.fetch(ctx, "$select", param{"$select", sr.keySelect(other)}, param{"$top", "5"})
	if !ok {
		return
	}
	want := map[string]bool{}
	for _, k := range sr.s.Key {
		want[k.Name] = true
	}
	if other != nil {
		want[other.Name] = true
	}
	var extra []string
	for _, row := range p.rows {
		for name := range want {
			if _, ok := row[name]; !ok {
				sr.add("$select", Fail, resp.req, "row lacks selected property "+name)
				return
			}
		}
		for name := range row {
			if !want[name] && !strings.Contains(name, "@") && !slices.Contains(extra, name) {
				extra = append(extra, name)
			}
		}
	}
	if len(extra) > 0 {
		slices.Sort(extra)
		sr.add("$select", Warn, resp.req, "returns properties that were not selected: "+strings.Join(extra, ", ")+" (larger pages, closer to the 8 MB limit)")
		return
	}
	sr.add("$select", Pass, resp.req, "")
}

// followUpTo follows p's nextLinks (on this service only) until p has n
// rows or the chain ends: a producer's server-driven pages may be smaller
// than the $top asked for. p.next becomes the last nextLink seen.
func (sr *setRun) followUpTo(ctx context.Context, p *page, n int) {
	for len(p.rows) < n && p.next != "" && strings.HasPrefix(p.next, sr.c.root+"/") {
		resp, err := sr.c.do(ctx, http.MethodGet, p.next, nil)
		if err != nil || resp.status != http.StatusOK {
			return
		}
		q, err := decodePage(resp)
		if err != nil {
			return
		}
		p.rows = append(p.rows, q.rows...)
		p.next = q.next
	}
}

func (sr *setRun) topSkipCheck(ctx context.Context) {
	sel := param{"$select", sr.keySelect()}
	respA, a, ok := sr.fetch(ctx, "$top", sel, param{"$top", "5"})
	if !ok {
		return
	}
	sr.followUpTo(ctx, a, 6)
	switch {
	case len(a.rows) > 5:
		sr.add("$top", Fail, respA.req, fmt.Sprintf("returned %d rows for $top=5: $top is ignored (Salesforce asks for LIMIT+1 rows and pages with $top/$skip)", len(a.rows)))
		return
	case sr.haveTotal && int64(len(a.rows)) < min(5, sr.total) && a.next == "":
		sr.add("$top", Fail, respA.req, fmt.Sprintf("returned %d rows for $top=5 of %d without a nextLink", len(a.rows), sr.total))
		return
	}
	sr.add("$top", Pass, respA.req, "")
	respB, b, ok := sr.fetch(ctx, "$skip", sel, param{"$skip", "2"}, param{"$top", "3"})
	if !ok {
		return
	}
	sr.followUpTo(ctx, b, 4)
	want := a.rows[min(2, len(a.rows)):]
	switch {
	case len(b.rows) > 3:
		sr.add("$skip", Fail, respB.req, fmt.Sprintf("returned %d rows for $top=3", len(b.rows)))
	case len(b.rows) != len(want) && !(len(b.rows) < len(want) && b.next != ""):
		sr.add("$skip", Fail, respB.req, fmt.Sprintf("$skip=2&$top=3 returned %d rows; $top=5 had %d rows after the first two", len(b.rows), len(want)))
	default:
		for i, row := range b.rows {
			if sr.keyOf(row) != sr.keyOf(want[i]) {
				sr.add("$skip", Fail, respB.req, fmt.Sprintf("row %d of $skip=2 is %s but row %d of $top=5 is %s: the default order is not stable (order by the key), so client-driven paging skips or repeats records", i+1, sr.keyOf(row), i+3, sr.keyOf(want[i])))
				return
			}
		}
		sr.add("$skip", Pass, respB.req, "consistent with $top")
	}
}

func (sr *setRun) countCheck(ctx context.Context) {
	respA, a, ok := sr.fetch(ctx, "$count=true", param{"$select", sr.keySelect()}, param{"$count", "true"}, param{"$top", "1"})
	if ok {
		if !a.hasCount {
			sr.add("$count=true", Fail, respA.req, "no @odata.count (SOQL COUNT() and batch Apex need it)")
			ok = false
		} else {
			sr.total, sr.haveTotal = a.count, true
			sr.add("$count=true", Pass, respA.req, strconv.FormatInt(a.count, 10))
		}
	}
	respB, err := sr.c.get(ctx, sr.s.Name+"/$count")
	switch {
	case err != nil:
		sr.add("/$count", Fail, respB.req, "request failed: "+err.Error())
	case respB.status != http.StatusOK:
		sr.add("/$count", Fail, respB.req, bodyError(respB))
	default:
		n, perr := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(string(respB.body), "\ufeff")), 10, 64)
		switch {
		case perr != nil:
			sr.add("/$count", Fail, respB.req, "body is not a plain integer: "+snippet(respB.body))
		case ok && n != a.count:
			sr.add("/$count", Fail, respB.req, fmt.Sprintf("/$count says %d but @odata.count says %d", n, a.count))
		case ok:
			sr.add("/$count", Pass, respB.req, fmt.Sprintf("%d, equal to @odata.count", n))
		default:
			sr.add("/$count", Pass, respB.req, strconv.FormatInt(n, 10))
			sr.total, sr.haveTotal = n, true
		}
	}
	respC, err := sr.c.get(ctx, sr.s.Name, param{"$select", sr.keySelect()}, param{"$count", "false"}, param{"$top", "1"})
	if err != nil {
		sr.add("$count=false", Fail, respC.req, "request failed: "+err.Error())
		return
	}
	if respC.status != http.StatusOK {
		sr.add("$count=false", Fail, respC.req, "rejected: "+bodyError(respC)+" (Salesforce's 4.0 adapter sends $count=false on every query when Request Row Counts is off)")
		return
	}
	c, err := decodePage(respC)
	switch {
	case err != nil:
		sr.add("$count=false", Fail, respC.req, err.Error())
	case c.hasCount:
		sr.add("$count=false", Warn, respC.req, "@odata.count present although $count=false (wasted work on every query)")
	case len(c.rows) > 1:
		sr.add("$count=false", Fail, respC.req, fmt.Sprintf("%d rows for $top=1", len(c.rows)))
	default:
		sr.add("$count=false", Pass, respC.req, "")
	}
}

// walkCheck follows server-driven paging to the end (or MaxRows).
func (sr *setRun) walkCheck(ctx context.Context) {
	const (
		cSize  = "paging: page size"
		cLink  = "paging: nextLink"
		cDup   = "paging: no duplicates"
		cCount = "paging: count on every page"
		cTotal = "paging: total = count"
	)
	root, _ := url.Parse(sr.c.root)
	next := sr.c.url(sr.s.Name, param{"$select", names(sr.selectable())}, param{"$count", "true"})
	firstReq := display(http.MethodGet, next)
	failed := map[string]bool{}
	fail := func(check string, st Status, req, reason string) {
		if !failed[check] {
			failed[check] = true
			sr.add(check, st, req, reason)
		}
	}
	seen := map[string]bool{}
	visited := map[string]bool{}
	var (
		pages, maxRows, maxBytes, dups int
		firstCount                     int64 = -1
		complete                       bool
		stopped                        bool
	)
	for {
		visited[next] = true
		resp, err := sr.c.do(ctx, http.MethodGet, next, nil)
		if err != nil {
			fail(cSize, Fail, resp.req, fmt.Sprintf("page %d: request failed: %v", pages+1, err))
			return
		}
		if resp.status != http.StatusOK {
			fail(cSize, Fail, resp.req, fmt.Sprintf("page %d: %s", pages+1, bodyError(resp)))
			return
		}
		p, err := decodePage(resp)
		if err != nil {
			fail(cSize, Fail, resp.req, fmt.Sprintf("page %d: %v", pages+1, err))
			return
		}
		pages++
		maxRows, maxBytes = max(maxRows, len(p.rows)), max(maxBytes, len(resp.body))
		if len(p.rows) > maxPageRows {
			fail(cSize, Fail, resp.req, fmt.Sprintf("page %d has %d rows; Salesforce accepts at most %d per page", pages, len(p.rows), maxPageRows))
		}
		if len(resp.body) > maxPageBytes {
			fail(cSize, Fail, resp.req, fmt.Sprintf("page %d is %d bytes; Salesforce rejects responses over 8 MB (\"The OData query result was too large\")", pages, len(resp.body)))
		}
		switch {
		case !p.hasCount:
			fail(cCount, Fail, resp.req, fmt.Sprintf("page %d has no @odata.count; batch Apex with a QueryLocator needs it on every page", pages))
		case firstCount < 0:
			firstCount = p.count
		case p.count != firstCount:
			fail(cCount, Fail, resp.req, fmt.Sprintf("@odata.count changed from %d to %d on page %d", firstCount, p.count, pages))
		}
		for _, row := range p.rows {
			k := sr.keyOf(row)
			if seen[k] {
				dups++
				fail(cDup, Fail, resp.req, fmt.Sprintf("key %s returned again on page %d: Salesforce shows the record twice (and misses another)", k, pages))
				continue
			}
			seen[k] = true
			sr.walk = append(sr.walk, row)
		}
		if len(sr.walk) >= sr.o.MaxRows {
			stopped = p.next != ""
			complete = !stopped
			break
		}
		if p.next == "" {
			complete = true
			break
		}
		nu, err := url.Parse(p.next)
		if err != nil {
			fail(cLink, Fail, resp.req, fmt.Sprintf("page %d: nextLink %q is not a URL", pages, p.next))
			return
		}
		if !nu.IsAbs() {
			fail(cLink, Fail, resp.req, fmt.Sprintf("nextLink %q is relative; Salesforce follows nextLink verbatim and needs an absolute URL", p.next))
			base, _ := url.Parse(next)
			nu = base.ResolveReference(nu)
		} else if nu.Host != root.Host || !strings.HasPrefix(nu.Path, root.Path) {
			fail(cLink, Fail, resp.req, fmt.Sprintf("nextLink %q leaves the service root %s; a Named Credential only authenticates its own URL (configure the external base URL)", p.next, sr.c.root))
		}
		if len(p.rows) == 0 {
			fail(cLink, Fail, resp.req, fmt.Sprintf("page %d is empty but has a nextLink", pages))
			return
		}
		next = nu.String()
		if visited[next] {
			fail(cLink, Fail, resp.req, fmt.Sprintf("nextLink on page %d repeats an earlier page: endless paging", pages))
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
	if !failed[cSize] {
		sr.add(cSize, Pass, firstReq, fmt.Sprintf("%d pages, at most %d rows and %d bytes per page", pages, maxRows, maxBytes))
	}
	if !failed[cLink] {
		reason := "single page"
		if pages > 1 {
			reason = fmt.Sprintf("%d absolute nextLinks followed", pages-1)
		}
		sr.add(cLink, Pass, firstReq, reason)
	}
	if !failed[cDup] {
		sr.add(cDup, Pass, firstReq, fmt.Sprintf("%d distinct keys", len(seen)))
	}
	if !failed[cCount] {
		sr.add(cCount, Pass, firstReq, "")
	}
	switch {
	case stopped:
		sr.add(cTotal, Skip, firstReq, fmt.Sprintf("walk stopped after %d rows (max rows); counts are checked by sums instead", len(sr.walk)))
	case firstCount >= 0 && int64(len(sr.walk)+dups) != firstCount:
		sr.add(cTotal, Fail, firstReq, fmt.Sprintf("walking all pages returned %d rows but @odata.count is %d", len(sr.walk)+dups, firstCount))
	case sr.haveTotal && int64(len(sr.walk)+dups) != sr.total:
		sr.add(cTotal, Fail, firstReq, fmt.Sprintf("walking all pages returned %d rows but the count is %d", len(sr.walk)+dups, sr.total))
	case firstCount >= 0:
		sr.add(cTotal, Pass, firstReq, fmt.Sprintf("%d rows", len(sr.walk)))
	}
	sr.walkComplete = complete && dups == 0 && !failed[cLink]
}

// orderbyChecks sorts by each sortable property both ways and verifies the order.
func (sr *setRun) orderbyChecks(ctx context.Context) {
	for _, p := range sr.s.Properties {
		if !filterable(p) {
			continue
		}
		for _, desc := range []bool{false, true} {
			ob, name := p.Name, "$orderby "+p.Name+" asc"
			if desc {
				ob, name = p.Name+" desc", "$orderby "+p.Name+" desc"
			}
			resp, pg, ok := sr.fetch(ctx, name, param{"$orderby", ob}, param{"$select", sr.keySelect(p)}, param{"$top", strconv.Itoa(checkTop)})
			if !ok {
				continue
			}
			if len(pg.rows) > checkTop {
				sr.add(name, Fail, resp.req, fmt.Sprintf("%d rows for $top=%d", len(pg.rows), checkTop))
				continue
			}
			st, reason := sr.checkOrder(p, pg.rows, desc)
			sr.add(name, st, resp.req, reason)
		}
	}
}

// checkOrder verifies rows are sorted by p (OData: null is lowest). Strings
// must follow byte order; an order that only matches a case-insensitive or
// collation order is a warning, since Salesforce shows whatever order the
// producer returns but its keyset-style paging and $skip expectations assume
// one consistent order.
func (sr *setRun) checkOrder(p *csdl.Property, rows []map[string]any, desc bool) (Status, string) {
	var vals []any
	nullsWrong := false
	seenNull, seenNonNull := false, false
	for _, row := range rows {
		v, ok := row[p.Name]
		if !ok {
			return Fail, "row lacks property " + p.Name
		}
		if v == nil {
			seenNull = true
			nullsWrong = nullsWrong || (!desc && seenNonNull)
			continue
		}
		seenNonNull = true
		nullsWrong = nullsWrong || (desc && seenNull)
		vals = append(vals, v)
	}
	ordered := func(cmp func(a, b any) (int, error)) (int, error) {
		for i := 1; i < len(vals); i++ {
			c, err := cmp(vals[i-1], vals[i])
			if err != nil {
				return i, err
			}
			if (!desc && c > 0) || (desc && c < 0) {
				return i, nil
			}
		}
		return -1, nil
	}
	bad, err := ordered(func(a, b any) (int, error) { return compare(p, a, b) })
	if err != nil {
		return Fail, err.Error()
	}
	dir := "ascending"
	if desc {
		dir = "descending"
	}
	if bad >= 0 {
		if kindOf(p) == kindString || kindOf(p) == kindGuid {
			for _, alt := range []struct {
				name string
				key  func(string) string
			}{
				{"case-insensitive", strings.ToLower},
				{"a linguistic collation (case, spaces and punctuation ignored)", collationKey},
			} {
				if i, _ := ordered(func(a, b any) (int, error) {
					return strings.Compare(alt.key(a.(string)), alt.key(b.(string))), nil
				}); i < 0 {
					return Warn, fmt.Sprintf("%s order follows %s, not byte order (%s before %s); Salesforce shows the producer's order, but keep it consistent with how eq and ranges compare", dir, alt.name, show(vals[bad-1]), show(vals[bad]))
				}
			}
		}
		return Fail, fmt.Sprintf("not in %s order: %s comes before %s", dir, show(vals[bad-1]), show(vals[bad]))
	}
	if nullsWrong {
		where := "last in ascending"
		if desc {
			where = "first in descending"
		}
		return Warn, fmt.Sprintf("nulls sort %s order; OData treats null as the lowest value (first ascending, last descending)", where)
	}
	return Pass, fmt.Sprintf("%d rows in order", len(rows))
}

func collationKey(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}
