package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/odatagw/odatagw/metadata/csdl"
)

// refs lists the properties an expression mentions.
func refs(e expr) []*csdl.Property {
	switch x := e.(type) {
	case *cmpExpr:
		return []*csdl.Property{x.p}
	case *fnExpr:
		return []*csdl.Property{x.p}
	case *logicExpr:
		return append(refs(x.l), refs(x.r)...)
	case *notExpr:
		return refs(x.e)
	}
	return nil
}

// runFilter sends f with $count=true and verifies every returned row
// satisfies it (evaluated in Go). mustMatch requires at least one row (the
// filter was built from a sampled row). When the paging walk saw every row,
// the count must equal the number of walked rows that satisfy f. soft turns
// a rejected request into a warning. It returns the count when known.
func (sr *setRun) runFilter(ctx context.Context, check string, f expr, mustMatch, soft bool) (int64, bool) {
	resp, err := sr.c.get(ctx, sr.s.Name, param{"$filter", f.String()}, param{"$select", sr.keySelect(refs(f)...)},
		param{"$count", "true"}, param{"$top", strconv.Itoa(checkTop)})
	if err != nil {
		sr.add(check, Fail, resp.req, "request failed: "+err.Error())
		return 0, false
	}
	if resp.status != http.StatusOK {
		st := Fail
		if soft && resp.status < 500 {
			st = Warn
		}
		sr.add(check, st, resp.req, bodyError(resp))
		return 0, false
	}
	pg, err := decodePage(resp)
	if err != nil {
		sr.add(check, Fail, resp.req, err.Error())
		return 0, false
	}
	if len(pg.rows) > checkTop {
		sr.add(check, Fail, resp.req, fmt.Sprintf("%d rows for $top=%d", len(pg.rows), checkTop))
		return 0, false
	}
	foldOnly := true
	var bad []string
	for _, row := range pg.rows {
		ok, err := f.eval(row)
		if err != nil {
			sr.add(check, Fail, resp.req, fmt.Sprintf("row %s: %v", sr.keyOf(row), err))
			return 0, false
		}
		if ok {
			continue
		}
		reason, fold := sr.diagnose(f, row)
		foldOnly = foldOnly && fold
		bad = append(bad, reason)
	}
	if len(bad) > 0 {
		st := Fail
		if foldOnly {
			if _, isFn := f.(*fnExpr); isFn {
				st = Warn
				bad = append(bad, "the producer matches case-insensitively; Salesforce treats external values as case-sensitive")
			}
		}
		more := ""
		if len(bad) > 3 {
			more = fmt.Sprintf(" (and %d more)", len(bad)-3)
			bad = bad[:3]
		}
		sr.add(check, st, resp.req, strings.Join(bad, "; ")+more)
		return 0, false
	}
	if mustMatch && len(pg.rows) == 0 {
		sr.add(check, Fail, resp.req, "no rows, although a sampled row satisfies the filter: Salesforce would not find the record")
		return 0, false
	}
	n, known := pg.count, pg.hasCount
	if !known && pg.next == "" && len(pg.rows) < checkTop {
		n, known = int64(len(pg.rows)), true
	}
	if known && sr.walkComplete {
		var want int64
		for _, row := range sr.walk {
			if ok, err := f.eval(row); err == nil && ok {
				want++
			}
		}
		if want != n {
			hint := ""
			if hasNullSemantics(f) {
				hint = " (OData: null ne 'x' is true, so ne and not(eq) include rows where the property is null)"
			}
			sr.add(check, Fail, resp.req, fmt.Sprintf("count %d, but %d of the %d rows seen by the paging walk satisfy the filter%s", n, want, len(sr.walk), hint))
			return n, known
		}
	}
	sr.add(check, Pass, resp.req, fmt.Sprintf("%d rows verified", len(pg.rows)))
	return n, known
}

func hasNullSemantics(f expr) bool {
	s := f.String()
	return strings.Contains(s, " ne ") || strings.HasPrefix(s, "not ") || strings.Contains(s, "not (")
}

// diagnose explains why row does not satisfy f; fold reports whether it
// would satisfy it ignoring case.
func (sr *setRun) diagnose(f expr, row map[string]any) (reason string, fold bool) {
	switch x := f.(type) {
	case *cmpExpr:
		rv := row[x.p.Name]
		if x.op == "eq" && kindOf(x.p) == kindString && rv != nil && x.v != nil {
			got, _ := rv.(string)
			want, _ := x.v.(string)
			switch {
			case strings.TrimSpace(got) == strings.TrimSpace(want):
				return fmt.Sprintf("returned %s = %s for eq %s: values differ in padding; Salesforce drops records whose value differs from the filter value", x.p.Name, show(got), show(want)), false
			case strings.EqualFold(got, want):
				return fmt.Sprintf("returned %s = %s for eq %s: values differ in case; Salesforce drops records whose value differs from the filter value", x.p.Name, show(got), show(want)), false
			}
		}
		return fmt.Sprintf("row %s has %s = %s, which does not satisfy %s", sr.keyOf(row), x.p.Name, show(rv), f), false
	case *fnExpr:
		ok, _ := x.match(row, true)
		return fmt.Sprintf("row %s has %s = %s, which does not satisfy %s", sr.keyOf(row), x.p.Name, show(row[x.p.Name]), f), ok
	}
	var vals []string
	for _, p := range refs(f) {
		vals = append(vals, p.Name+" = "+show(row[p.Name]))
	}
	return fmt.Sprintf("row %s (%s) does not satisfy %s", sr.keyOf(row), strings.Join(vals, ", "), f), false
}

// sampleValue is the first non-null value of p in the sample.
func (sr *setRun) sampleValue(p *csdl.Property) any {
	for _, row := range sr.sample {
		if v := row[p.Name]; v != nil {
			return v
		}
	}
	return nil
}

// filterChecks runs eq/ne/null/range/function filters per filterable property.
func (sr *setRun) filterChecks(ctx context.Context) {
	for _, p := range sr.s.Properties {
		if !filterable(p) || ctx.Err() != nil {
			continue
		}
		v := sr.sampleValue(p)
		counts := map[string]int64{}
		run := func(op string, f expr, must, soft bool) {
			if n, ok := sr.runFilter(ctx, "$filter "+p.Name+" "+op, f, must, soft); ok {
				counts[op] = n
			}
		}
		if v != nil {
			if _, err := literal(p, v); err != nil {
				sr.add("$filter "+p.Name, Skip, "", "sampled value has no literal: "+err.Error())
				continue
			}
			run("eq", &cmpExpr{p: p, op: "eq", v: v}, true, false)
			run("ne", &cmpExpr{p: p, op: "ne", v: v}, false, false)
		}
		if p.Nullable {
			run("eq null", &cmpExpr{p: p, op: "eq"}, false, false)
			run("ne null", &cmpExpr{p: p, op: "ne"}, false, false)
		}
		if v != nil && kindOf(p) == kindBool {
			b, _ := v.(bool)
			run("eq "+strconv.FormatBool(!b), &cmpExpr{p: p, op: "eq", v: !b}, false, false)
		}
		if v != nil && ranged(p) {
			for _, op := range []string{"gt", "ge", "lt", "le"} {
				run(op, &cmpExpr{p: p, op: op, v: v}, op == "ge" || op == "le", false)
			}
			if kindOf(p) == kindDate {
				d, _ := v.(string)
				run("ge date-time literal", &cmpExpr{p: p, op: "ge", v: v, lit: d + "T00:00:00Z"}, true, true)
			}
		}
		if s, ok := v.(string); ok && kindOf(p) == kindString && s != "" {
			r := []rune(s)
			n := len(r)
			mid := r
			if n >= 3 {
				mid = r[1:min(n-1, 5)]
			}
			run("startswith", &fnExpr{fn: "startswith", p: p, arg: string(r[:min(3, n)])}, true, false)
			run("endswith", &fnExpr{fn: "endswith", p: p, arg: string(r[n-min(3, n):])}, true, false)
			run("contains", &fnExpr{fn: "contains", p: p, arg: string(mid)}, true, false)
		}
		if sr.walkComplete || !sr.haveTotal {
			continue // counts were verified against the walk, or cannot be
		}
		nulls := int64(0)
		if p.Nullable {
			nulls = counts["eq null"]
		}
		sums := []struct {
			name  string
			parts []string
			plus  int64
		}{
			{"eq + ne", []string{"eq", "ne"}, 0},
			{"eq null + ne null", []string{"eq null", "ne null"}, 0},
			{"lt + ge + nulls", []string{"lt", "ge"}, nulls},
			{"le + gt + nulls", []string{"le", "gt"}, nulls},
		}
		for _, s := range sums {
			total, ok := s.plus, true
			for _, part := range s.parts {
				c, have := counts[part]
				ok = ok && have
				total += c
			}
			if !ok || (strings.Contains(s.name, "nulls") && p.Nullable && !hasKey(counts, "eq null")) {
				continue
			}
			if total != sr.total {
				sr.add("$filter "+p.Name+" counts", Fail, "", fmt.Sprintf("%s = %d, but the set has %d rows (ne must include nulls; every row is either eq or ne)", s.name, total, sr.total))
			}
		}
	}
}

func hasKey(m map[string]int64, k string) bool {
	_, ok := m[k]
	return ok
}

// logicChecks combines sampled values with and/or/not.
func (sr *setRun) logicChecks(ctx context.Context) {
	row := sr.sample[0]
	k := sr.s.Key[0]
	kv := row[k.Name]
	var p2 *csdl.Property
	for _, p := range sr.s.Properties {
		if !sr.s.IsKey(p) && filterable(p) && row[p.Name] != nil {
			p2 = p
			break
		}
	}
	if p2 == nil || kv == nil {
		sr.add("$filter and/or/not", Skip, "", "no second filterable property with a value in the first row")
		return
	}
	a := row[p2.Name]
	b := a
	for _, r := range sr.sample {
		if v := r[p2.Name]; v != nil {
			if c, err := compare(p2, v, a); err == nil && c != 0 {
				b = v
				break
			}
		}
	}
	keyEq := &cmpExpr{p: k, op: "eq", v: kv}
	eqA := &cmpExpr{p: p2, op: "eq", v: a}
	eqB := &cmpExpr{p: p2, op: "eq", v: b}
	sr.runFilter(ctx, "$filter and", &logicExpr{op: "and", l: keyEq, r: eqA}, true, false)
	sr.runFilter(ctx, "$filter or", &logicExpr{op: "or", l: eqA, r: eqB}, true, false)
	n, ok := sr.runFilter(ctx, "$filter not", &notExpr{e: eqA}, false, false)
	if ok && !sr.walkComplete {
		if ne, ok2 := sr.countOf(ctx, &cmpExpr{p: p2, op: "ne", v: a}); ok2 && ne != n {
			sr.add("$filter not", Fail, "", fmt.Sprintf("not (%s) counts %d rows but %s ne ... counts %d: they must agree (nulls included)", eqA, n, p2.Name, ne))
		}
	}
	sr.runFilter(ctx, "$filter nested", &logicExpr{op: "and", l: &logicExpr{op: "or", l: eqA, r: eqB}, r: &notExpr{e: keyEq}}, false, false)
}

// countOf asks for the inline count of a filter.
func (sr *setRun) countOf(ctx context.Context, f expr) (int64, bool) {
	resp, err := sr.c.get(ctx, sr.s.Name, param{"$filter", f.String()}, param{"$select", sr.keySelect()}, param{"$count", "true"}, param{"$top", "1"})
	if err != nil || resp.status != http.StatusOK {
		return 0, false
	}
	pg, err := decodePage(resp)
	if err != nil || !pg.hasCount {
		return 0, false
	}
	return pg.count, true
}

// keyPredicate renders Set(key) content: a single literal or name=literal pairs.
func (sr *setRun) keyPredicate(row map[string]any) (string, error) {
	if len(sr.s.Key) == 1 {
		return literal(sr.s.Key[0], row[sr.s.Key[0].Name])
	}
	parts := make([]string, len(sr.s.Key))
	for i, k := range sr.s.Key {
		lit, err := literal(k, row[k.Name])
		if err != nil {
			return "", err
		}
		parts[i] = k.Name + "=" + lit
	}
	return strings.Join(parts, ","), nil
}

func (sr *setRun) keyFilter(row map[string]any) expr {
	var f expr
	for _, k := range sr.s.Key {
		e := &cmpExpr{p: k, op: "eq", v: row[k.Name]}
		if f == nil {
			f = e
		} else {
			f = &logicExpr{op: "and", l: f, r: e}
		}
	}
	return f
}

// sameKey reports whether got carries exactly want's key (strings byte for byte).
func (sr *setRun) sameKey(got, want map[string]any) bool {
	for _, k := range sr.s.Key {
		g, w := got[k.Name], want[k.Name]
		if g == nil || w == nil {
			return false
		}
		if kindOf(k) == kindString {
			if g != w {
				return false
			}
			continue
		}
		if c, err := compare(k, g, w); err != nil || c != 0 {
			return false
		}
	}
	return true
}

// keyChecks looks rows up the way record pages do ($filter on the key) and
// by key segment, including a key with a quote.
func (sr *setRun) keyChecks(ctx context.Context) {
	sr.lookup(ctx, "key lookup", sr.sample[0])
	sr.formEncodedLookup(ctx, sr.sample[0])
	if len(sr.s.Key) != 1 || kindOf(sr.s.Key[0]) != kindString {
		return
	}
	k := sr.s.Key[0]
	var quoted map[string]any
	for _, rows := range [][]map[string]any{sr.sample, sr.walk} {
		for _, row := range rows {
			if s, ok := row[k.Name].(string); ok && strings.Contains(s, "'") {
				quoted = row
				break
			}
		}
		if quoted != nil {
			break
		}
	}
	if quoted != nil {
		sr.lookup(ctx, "key lookup with quote", quoted)
	}
	probe := "O'Neil~404"
	if k.MaxLength > 0 && k.MaxLength < len(probe) {
		probe = "O'Q"[:min(3, k.MaxLength)]
	}
	lit, _ := literal(k, probe)
	resp, err := sr.c.get(ctx, keyPath(sr.s.Name, lit))
	const name = "key segment, missing key with quote"
	switch {
	case err != nil:
		sr.add(name, Fail, resp.req, "request failed: "+err.Error())
	case resp.status == http.StatusNotFound:
		if msg, ok := odataError(resp); !ok {
			sr.add(name, Fail, resp.req, "404 without an OData error: "+msg)
		} else {
			sr.add(name, Pass, resp.req, "404: "+msg)
		}
	case resp.status == http.StatusOK:
		sr.add(name, Warn, resp.req, "200 for a key that should not exist; does the producer unescape '' correctly?")
	default:
		sr.add(name, Fail, resp.req, bodyError(resp)+" (want 404 with an OData error; quotes in keys are doubled: 'O''Neil')")
	}
}

// formEncodedLookup sends the key lookup the way java.net.URLEncoder
// writes a query (+ for a space, %24 for $, %27 for the quote). Whether
// Salesforce encodes so is unconfirmed, so a rejection is a warning; a
// wrong answer is a failure.
func (sr *setRun) formEncodedLookup(ctx context.Context, row map[string]any) {
	const name = "key lookup (form-encoded)"
	q := url.Values{}
	q.Set("$filter", sr.keyFilter(row).String())
	q.Set("$select", sr.keySelect())
	q.Set("$top", "1")
	resp, err := sr.c.do(ctx, http.MethodGet, sr.c.url(sr.s.Name)+"?"+q.Encode(), nil)
	if err != nil {
		sr.add(name, Fail, resp.req, "request failed: "+err.Error())
		return
	}
	if resp.status == http.StatusBadRequest {
		sr.add(name, Warn, resp.req, bodyError(resp)+" (rejects + for a space or %24 for $; accept both encodings of a query)")
		return
	}
	if resp.status != http.StatusOK {
		sr.add(name, Fail, resp.req, bodyError(resp))
		return
	}
	pg, err := decodePage(resp)
	switch {
	case err != nil:
		sr.add(name, Fail, resp.req, err.Error())
	case len(pg.rows) != 1 || !sr.sameKey(pg.rows[0], row):
		sr.add(name, Fail, resp.req, fmt.Sprintf("%d rows for the key of %s when + encodes the spaces: the query was decoded differently", len(pg.rows), sr.keyOf(row)))
	default:
		sr.add(name, Pass, resp.req, sr.keyOf(row))
	}
}

func (sr *setRun) lookup(ctx context.Context, name string, row map[string]any) {
	f := sr.keyFilter(row)
	resp, pg, ok := sr.fetch(ctx, name+" ($filter)", param{"$filter", f.String()}, param{"$select", names(sr.selectable())}, param{"$count", "true"}, param{"$top", "1"})
	if ok {
		switch {
		case len(pg.rows) != 1:
			sr.add(name+" ($filter)", Fail, resp.req, fmt.Sprintf("%d rows for the key of %s: record pages would not open", len(pg.rows), sr.keyOf(row)))
		case !sr.sameKey(pg.rows[0], row):
			sr.add(name+" ($filter)", Fail, resp.req, fmt.Sprintf("returned key %s for %s: the key must come back byte for byte or Salesforce drops the record", sr.keyOf(pg.rows[0]), sr.keyOf(row)))
		case pg.hasCount && pg.count != 1:
			sr.add(name+" ($filter)", Fail, resp.req, fmt.Sprintf("@odata.count %d for a key lookup", pg.count))
		default:
			sr.add(name+" ($filter)", Pass, resp.req, sr.keyOf(row))
		}
	}
	pred, err := sr.keyPredicate(row)
	if err != nil {
		sr.add(name+" (segment)", Skip, "", err.Error())
		return
	}
	resp, err = sr.c.get(ctx, keyPath(sr.s.Name, pred))
	switch {
	case err != nil:
		sr.add(name+" (segment)", Fail, resp.req, "request failed: "+err.Error())
		return
	case resp.status != http.StatusOK:
		sr.add(name+" (segment)", Fail, resp.req, bodyError(resp))
		return
	}
	e, err := decodeEntity(resp)
	switch {
	case err != nil:
		sr.add(name+" (segment)", Fail, resp.req, err.Error())
	case !sr.sameKey(e, row):
		sr.add(name+" (segment)", Fail, resp.req, fmt.Sprintf("returned key %s for %s", sr.keyOf(e), sr.keyOf(row)))
	default:
		sr.add(name+" (segment)", Pass, resp.req, sr.keyOf(row))
	}
}

// searchWord picks a word from a sampled string the way Salesforce sends
// search text: punctuation other than hyphens removed.
func (sr *setRun) searchWord() string {
	for _, row := range sr.sample {
		for _, p := range sr.s.Properties {
			s, ok := row[p.Name].(string)
			if !ok || kindOf(p) != kindString {
				continue
			}
			for _, w := range strings.Fields(s) {
				w = strings.Map(func(r rune) rune {
					if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' {
						return r
					}
					return -1
				}, w)
				if len([]rune(w)) >= 3 {
					return w
				}
			}
		}
	}
	return "test"
}

func (sr *setRun) searchCheck(ctx context.Context) {
	resp, err := sr.c.get(ctx, sr.s.Name, param{"$search", sr.searchWord()}, param{"$select", sr.keySelect()}, param{"$count", "true"}, param{"$top", "26"})
	switch {
	case err != nil:
		sr.add("$search", Fail, resp.req, "request failed: "+err.Error())
	case resp.status == http.StatusNotImplemented || (resp.status >= 400 && resp.status < 500):
		sr.add("$search", Warn, resp.req, bodyError(resp)+": leave Salesforce search (or free-text search) off for this data source")
	case resp.status != http.StatusOK:
		sr.add("$search", Fail, resp.req, bodyError(resp))
	default:
		if pg, err := decodePage(resp); err != nil {
			sr.add("$search", Fail, resp.req, err.Error())
		} else {
			sr.add("$search", Pass, resp.req, fmt.Sprintf("%d rows", len(pg.rows)))
		}
	}
}

// serviceChecks probes the service document and error handling.
func (r *runner) serviceChecks(ctx context.Context, sets []*csdl.EntitySet) {
	resp, err := r.c.do(ctx, http.MethodGet, r.c.root+"/", nil)
	switch {
	case err != nil:
		r.add("", "service document", Warn, resp.req, "request failed: "+err.Error())
	case resp.status != http.StatusOK:
		r.add("", "service document", Warn, resp.req, bodyError(resp))
	default:
		var doc struct {
			Value []struct {
				Name string `json:"name"`
			} `json:"value"`
		}
		if err := json.Unmarshal(resp.body, &doc); err != nil || !resp.isJSON() {
			r.add("", "service document", Warn, resp.req, "not an OData JSON service document")
			break
		}
		listed := map[string]bool{}
		for _, v := range doc.Value {
			listed[v.Name] = true
		}
		var missing []string
		for _, s := range sets {
			if !listed[s.Name] {
				missing = append(missing, s.Name)
			}
		}
		if len(missing) > 0 {
			r.add("", "service document", Warn, resp.req, "does not list "+strings.Join(missing, ", "))
		} else {
			r.add("", "service document", Pass, resp.req, "")
		}
	}

	expectError := func(check string, resp *response, err error, want int, why string) {
		switch {
		case err != nil:
			r.add("", check, Fail, resp.req, "request failed: "+err.Error())
		case resp.status != want:
			r.add("", check, Fail, resp.req, fmt.Sprintf("want %d with an OData error, got %s%s", want, bodyError(resp), why))
		default:
			if msg, ok := odataError(resp); ok {
				r.add("", check, Pass, resp.req, fmt.Sprintf("%d: %s", want, msg))
			} else {
				r.add("", check, Fail, resp.req, msg)
			}
		}
	}
	resp, err = r.c.get(ctx, "NoSuchSet_odatagw_check", param{"$select", "Id"}, param{"$count", "true"}, param{"$top", "26"})
	expectError("unknown entity set", resp, err, http.StatusNotFound, "")
	for _, s := range sets {
		if len(s.Key) == 0 {
			continue
		}
		resp, err = r.c.get(ctx, s.Name, param{"$filter", "NoSuchProperty_odatagw eq 1"}, param{"$select", s.Key[0].Name}, param{"$count", "true"}, param{"$top", "26"})
		why := ""
		if err == nil && resp.status == http.StatusOK {
			why = " (an invalid filter was ignored: Salesforce would show unfiltered rows)"
		}
		expectError("invalid $filter", resp, err, http.StatusBadRequest, why)
		break
	}
}
