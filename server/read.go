package server

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/metadata/csdl"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/jsonfmt"
	"github.com/odatagw/odatagw/odata/semantic"
	"github.com/odatagw/odatagw/server/auth"
)

// serveOData dispatches every request under the service root.
func (s *Server) serveOData(w http.ResponseWriter, r *http.Request) {
	if v := strings.TrimSpace(r.Header.Get("OData-MaxVersion")); v != "" {
		if major, _, _ := strings.Cut(v, "."); major != "" && major < "4" && len(major) == 1 {
			s.writeError(w, r, newHTTPError(http.StatusBadRequest, codeInvalidSyntax,
				"this service speaks OData 4.0; OData-MaxVersion %s is too low", v))
			return
		}
	}
	rel := strings.TrimPrefix(r.URL.EscapedPath(), s.cfg.Root)
	if rel != "" && rel[0] != '/' { // "/odataX" is not under "/odata"
		s.writeError(w, r, newHTTPError(http.StatusNotFound, codeNotFound,
			"no resource at %s; the OData service root is %s/", r.URL.EscapedPath(), s.cfg.Root))
		return
	}
	// A NUL character cannot be stored in or compared with PostgreSQL text;
	// refuse it here instead of sending it to the database (request bodies
	// get the same treatment in jsonValue).
	if strings.Contains(rel, "%00") || strings.Contains(r.URL.RawQuery, "%00") {
		s.writeError(w, r, newHTTPError(http.StatusBadRequest, codeInvalidSyntax,
			"the URL contains a NUL character (%%00), which no value may contain"))
		return
	}
	method := r.Method
	if method == http.MethodPost {
		if tunneled := strings.ToUpper(strings.TrimSpace(r.Header.Get("X-HTTP-Method"))); tunneled != "" {
			switch tunneled {
			case "PATCH", "MERGE", "PUT", "DELETE":
				method = tunneled
			default:
				s.writeError(w, r, newHTTPError(http.StatusBadRequest, codeInvalidSyntax,
					"X-HTTP-Method %q is not supported (PATCH, MERGE, PUT, DELETE)", tunneled))
				return
			}
		}
	}
	req, err := odata.ParseRequest(rel, r.URL.RawQuery)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	switch req.Path.Kind {
	case odata.PathServiceRoot:
		if !s.allowMethods(w, r, method, http.MethodGet, http.MethodHead) {
			return
		}
		s.serviceDocument(w, r)
	case odata.PathMetadata:
		if !s.allowMethods(w, r, method, http.MethodGet, http.MethodHead) {
			return
		}
		s.metadataDocument(w, r, req)
	case odata.PathBatch:
		s.writeError(w, r, newHTTPError(http.StatusNotImplemented, codeNotImplemented,
			"$batch is not supported; send each request on its own"))
	default:
		switch method {
		case http.MethodGet, http.MethodHead:
			s.read(w, r, req)
		case http.MethodPost:
			s.create(w, r, req)
		case http.MethodPatch, "MERGE", http.MethodPut:
			s.update(w, r, req, method == http.MethodPut)
		case http.MethodDelete:
			s.remove(w, r, req)
		default:
			e := newHTTPError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "method %s is not allowed here", method)
			e.header = http.Header{"Allow": {"GET, HEAD, POST, PATCH, PUT, DELETE"}}
			s.writeError(w, r, e)
		}
	}
}

func (s *Server) allowMethods(w http.ResponseWriter, r *http.Request, method string, allowed ...string) bool {
	for _, m := range allowed {
		if m == method {
			return true
		}
	}
	e := newHTTPError(http.StatusMethodNotAllowed, codeMethodNotAllowed, "method %s is not allowed on this resource", method)
	e.header = http.Header{"Allow": {strings.Join(allowed, ", ")}}
	s.writeError(w, r, e)
	return false
}

// baseURL is scheme://host of the service as the client sees it.
func (s *Server) baseURL(r *http.Request) string {
	if s.cfg.PublicURL != "" {
		return s.cfg.PublicURL
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if s.cfg.TrustedProxies != nil {
		scheme, host = s.cfg.TrustedProxies.Scheme(r), s.cfg.TrustedProxies.Host(r)
	}
	return scheme + "://" + host
}

func (s *Server) serviceRootURL(r *http.Request) string { return s.baseURL(r) + s.cfg.Root + "/" }

// format is the negotiated response format of a data request.
type format struct {
	ieee754 bool
}

// negotiate picks JSON for data responses: $format wins over Accept; any
// JSON media type (with any OData parameters), */* and application/* are
// accepted; anything else is 406.
func negotiate(r *http.Request, req *odata.Request) (format, error) {
	var f format
	if fv := req.Options.Format; fv != "" {
		mt, params, err := mime.ParseMediaType(fv)
		if strings.EqualFold(fv, "json") || err == nil && mt == "application/json" {
			f.ieee754 = strings.EqualFold(params["ieee754compatible"], "true")
			return f, nil
		}
		return f, newHTTPError(http.StatusNotAcceptable, codeNotAcceptable,
			"$format=%s is not supported; this service produces JSON only", fv)
	}
	accept := r.Header.Get("Accept")
	if strings.TrimSpace(accept) == "" {
		return f, nil
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(q, 64); err != nil || v <= 0 {
				continue // q=0 (in any spelling) means "not acceptable"
			}
		}
		switch mt {
		case "application/json", "*/*", "application/*":
			f.ieee754 = strings.EqualFold(params["ieee754compatible"], "true")
			return f, nil
		}
	}
	return f, newHTTPError(http.StatusNotAcceptable, codeNotAcceptable,
		"cannot produce %q; this service produces application/json", accept)
}

func contentType(f format) string {
	ct := "application/json;odata.metadata=minimal;odata.streaming=true"
	if f.ieee754 {
		ct += ";IEEE754Compatible=true"
	}
	return ct
}

func (s *Server) serviceDocument(w http.ResponseWriter, r *http.Request) {
	s.maybeIssueCSRF(w, r)
	w.Header().Set("Content-Type", "application/json;odata.metadata=minimal")
	w.Header().Set("OData-Version", "4.0")
	root := s.serviceRootURL(r)
	if r.Method == http.MethodHead {
		return
	}
	if err := csdl.WriteServiceDocument(w, s.Model(), root+"$metadata"); err != nil {
		s.log.Warn().Err(err).Msg("writing service document")
	}
}

func (s *Server) metadataDocument(w http.ResponseWriter, r *http.Request, req *odata.Request) {
	if f := req.Options.Format; f != "" && f != "xml" && !strings.HasPrefix(f, "application/xml") {
		s.writeError(w, r, newHTTPError(http.StatusNotAcceptable, codeNotAcceptable,
			"$metadata is available as CSDL XML only ($format=xml)"))
		return
	}
	s.maybeIssueCSRF(w, r)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("OData-Version", "4.0")
	if r.Method == http.MethodHead {
		return
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	if err := csdl.WriteMetadata(bw, s.Model()); err != nil {
		s.log.Warn().Err(err).Msg("writing $metadata")
	}
	_ = bw.Flush()
}

// bind parses nothing: it binds an already parsed request and applies the
// caller's authorization (permission and row filter) for op.
func (s *Server) bind(r *http.Request, req *odata.Request, op auth.Op) (*semantic.Query, error) {
	start := time.Now()
	q, err := semantic.Bind(s.Model(), req, semantic.Options{Limits: s.cfg.Limits, Tokens: s.tokens})
	if err != nil {
		return nil, err
	}
	ri := requestInfo(r)
	ri.set = q.Set.Name
	if err := s.authorize(r, q.Set, op); err != nil {
		return nil, err
	}
	if s.policy != nil {
		restrict, err := s.policy.RowFilter(ri.principal, q.Set)
		if err != nil {
			return nil, err
		}
		q.Restrict = restrict
		if op == auth.Read {
			masked, err := applyHidden(q, s.policy.HiddenProperties(ri.principal, q.Set.Name))
			if err != nil {
				return nil, err
			}
			ri.masked = masked
		}
	}
	ri.timing = append(ri.timing, fmt.Sprintf("bind;dur=%.3f", msSince(start)))
	return q, nil
}

// authorize checks that the principal may do op on set.
func (s *Server) authorize(r *http.Request, set *metadata.EntitySet, op auth.Op) error {
	ri := requestInfo(r)
	if s.policy != nil {
		if !s.policy.Allow(ri.principal, set.Name, op) {
			return newHTTPError(http.StatusForbidden, codeForbidden, "you may not %s %s", op, set.Name)
		}
		return nil
	}
	if p, ok := s.cfg.Permissions[set.Name]; ok {
		allowed := map[auth.Op]bool{auth.Read: p.Read, auth.Insert: p.Insert, auth.Update: p.Update, auth.Delete: p.Delete}[op]
		if !allowed {
			return newHTTPError(http.StatusForbidden, codeForbidden, "%s is not permitted on %s by the configuration", op, set.Name)
		}
	}
	return nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// acquire takes a database slot; the release func must be called.
func (s *Server) acquire(r *http.Request) (func(), error) {
	if s.dbLimit == nil {
		return func() {}, nil
	}
	release, err := s.dbLimit.Acquire(r.Context())
	if err != nil {
		e := newHTTPError(http.StatusServiceUnavailable, codeUnavailable, "the gateway is at capacity; retry shortly")
		e.header = http.Header{"Retry-After": {"1"}}
		return nil, e
	}
	return release, nil
}

func (s *Server) read(w http.ResponseWriter, r *http.Request, req *odata.Request) {
	f, err := negotiate(r, req)
	if err != nil && req.Path.Kind != odata.PathCount {
		s.writeError(w, r, err)
		return
	}
	q, err := s.bind(r, req, auth.Read)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.maybeIssueCSRF(w, r)
	release, err := s.acquire(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer release()
	switch {
	case q.CountOnly:
		s.readCount(w, r, q)
	case q.Key != nil:
		s.readEntity(w, r, q, f)
	default:
		s.readCollection(w, r, req, q, f)
	}
}

func (s *Server) readCount(w http.ResponseWriter, r *http.Request, q *semantic.Query) {
	start := time.Now()
	n, err := s.adapter.Count(r.Context(), q)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ri := requestInfo(r)
	ri.timing = append(ri.timing, fmt.Sprintf("db;dur=%.3f", msSince(start)))
	w.Header().Set("Server-Timing", strings.Join(ri.timing, ", "))
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("OData-Version", "4.0")
	_, _ = io.WriteString(w, strconv.FormatInt(n, 10))
}

func (s *Server) contextURL(r *http.Request, q *semantic.Query, entity bool) string {
	b := s.serviceRootURL(r) + "$metadata#" + q.Set.Name
	if q.SelectExplicit {
		names := make([]string, len(q.Select))
		for i, p := range q.Select {
			names[i] = p.Name
		}
		b += "(" + strings.Join(names, ",") + ")"
	}
	if entity {
		b += "/$entity"
	}
	return b
}

// entityURL is the canonical URL of an entity: Set(key) with literals.
func (s *Server) entityURL(r *http.Request, set *metadata.EntitySet, key []semantic.Const) string {
	return s.serviceRootURL(r) + url.PathEscape(set.Name) + "(" + keyPredicate(set, key) + ")"
}

// keyPredicate renders key values as a URL key predicate, percent-encoded.
func keyPredicate(set *metadata.EntitySet, key []semantic.Const) string {
	lit := func(c semantic.Const) string { return url.PathEscape(formatLiteral(c)) }
	if len(set.Key) == 1 {
		return lit(key[0])
	}
	parts := make([]string, len(key))
	for i, p := range set.Key {
		parts[i] = p.Name + "=" + lit(key[i])
	}
	return strings.Join(parts, ",")
}

func (s *Server) readEntity(w http.ResponseWriter, r *http.Request, q *semantic.Query, f format) {
	start := time.Now()
	dbq, idx := forETag(q)
	rows, err := s.adapter.Query(r.Context(), dbq, 1)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.writeError(w, r, newHTTPError(http.StatusNotFound, codeNotFound, "no %s entity with key (%s)",
			q.Set.Name, keyPredicateText(q.Set, q.Key)))
		return
	}
	ri := requestInfo(r)
	ri.timing = append(ri.timing, fmt.Sprintf("db;dur=%.3f", msSince(start)))
	ri.rows = 1
	cols, vals := rows.Columns(), rows.Row()
	etag := adapters.ETag(s.cfg.TokenKey, q.Set, cols, vals)
	h := w.Header()
	h.Set("Content-Type", contentType(f))
	h.Set("OData-Version", "4.0")
	h.Set("Server-Timing", strings.Join(ri.timing, ", "))
	if etag != "" {
		h.Set("ETag", etag)
	}
	if r.Method == http.MethodHead {
		return
	}
	pr := newProjector(q, idx, cols).mask(requestInfo(r).masked)
	jw := jsonfmt.NewWriter(w, jsonfmt.Options{IEEE754Compatible: f.ieee754})
	jw.SingleEntity(s.contextURL(r, q, true), pr.cols, pr.values(vals), etag)
}

func keyPredicateText(set *metadata.EntitySet, key []semantic.Const) string {
	if len(set.Key) == 1 {
		return formatLiteral(key[0])
	}
	parts := make([]string, len(key))
	for i, p := range set.Key {
		parts[i] = p.Name + "=" + formatLiteral(key[i])
	}
	return strings.Join(parts, ",")
}

// forETag returns the query to run so that ETags can be computed (a hash
// ETag needs every property, a row-version ETag its column), and the
// positions, among that query's columns, of the properties the client
// selected; nil positions mean the query is q itself and the first
// len(q.Select) columns are the output.
func forETag(q *semantic.Query) (*semantic.Query, []int) {
	set := q.Set
	var need []*metadata.Property
	switch {
	case set.ETagHash && len(q.Select) < len(set.Properties):
		need = set.Properties
	case set.ETag != nil && !containsProp(q.Select, set.ETag):
		need = append(append([]*metadata.Property(nil), q.Select...), set.ETag)
	default:
		return q, nil
	}
	wide := *q
	wide.Select = need
	idx := make([]int, len(q.Select))
	for i, p := range q.Select {
		for j, c := range need {
			if c == p {
				idx[i] = j
				break
			}
		}
	}
	return &wide, idx
}

func containsProp(list []*metadata.Property, p *metadata.Property) bool {
	for _, x := range list {
		if x == p {
			return true
		}
	}
	return false
}

// projector picks the client's columns out of a widened row without
// allocating per row.
type projector struct {
	idx    []int
	cols   []*metadata.Property
	vals   []adapters.Value
	masked []int // output positions written as null (hidden from the caller)
}

// mask makes the given properties come out as null.
func (pr *projector) mask(props map[*metadata.Property]bool) *projector {
	for i, c := range pr.cols {
		if props[c] {
			pr.masked = append(pr.masked, i)
		}
	}
	return pr
}

func newProjector(q *semantic.Query, idx []int, cols []*metadata.Property) *projector {
	pr := &projector{idx: idx}
	if idx == nil {
		if len(cols) >= len(q.Select) { // an empty page has no columns
			pr.cols = cols[:len(q.Select)]
		}
		return pr
	}
	pr.cols = make([]*metadata.Property, len(idx))
	pr.vals = make([]adapters.Value, len(idx))
	for i, j := range idx {
		pr.cols[i] = cols[j]
	}
	return pr
}

func (pr *projector) values(row []adapters.Value) []adapters.Value {
	out := row[:len(pr.cols)]
	if pr.idx != nil {
		for i, j := range pr.idx {
			pr.vals[i] = row[j]
		}
		out = pr.vals
	}
	for _, i := range pr.masked {
		out[i] = adapters.Value{Null: true}
	}
	return out
}

// maxPageSizePreference reads Prefer: odata.maxpagesize=N (0 when absent).
func maxPageSizePreference(r *http.Request) int {
	for _, v := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(v, ",") {
			part = strings.TrimSpace(part)
			name, val, ok := strings.Cut(part, "=")
			if !ok {
				continue
			}
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "odata.maxpagesize" || name == "maxpagesize" {
				n, err := strconv.Atoi(strings.Trim(strings.TrimSpace(val), `"`))
				if err == nil && n > 0 {
					return n
				}
			}
		}
	}
	return 0
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(params), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}

// nextLinkTokenRoom bounds what a nextLink adds to the request's own URL
// (scheme, $skiptoken and a keyset of up to 16 sort values) plus the closing
// bytes of the page.
const nextLinkTokenRoom = 8 << 10

func (s *Server) readCollection(w http.ResponseWriter, r *http.Request, req *odata.Request, q *semantic.Query, f format) {
	ri := requestInfo(r)
	// Page size: the configured maximum, the client's preference and the
	// rows still owed to $top, whichever is smallest.
	pageSize := int64(s.cfg.MaxPageSize)
	pref := maxPageSizePreference(r)
	prefApplied := false
	if pref > 0 && int64(pref) < pageSize {
		pageSize, prefApplied = int64(pref), true
	} else if pref > 0 {
		prefApplied = true
	}
	var returned int64
	if q.After != nil {
		returned = q.After.Returned
	}
	owed := int64(-1)
	if q.Top != nil {
		owed = *q.Top - returned
		if owed < 0 {
			owed = 0
		}
		if owed < pageSize {
			pageSize = owed
		}
	}
	// One extra row tells whether a next page exists, unless $top already
	// ends the result on this page.
	limit := pageSize + 1
	if owed >= 0 && owed <= pageSize {
		limit = pageSize
	}
	start := time.Now()
	var rows adapters.Rows
	var proj *projector
	var err error
	if pageSize == 0 {
		// $top=0 (or $top reached): no rows, only the count when asked.
		var n int64 = -1
		if q.Count {
			n, err = s.adapter.Count(r.Context(), q)
		}
		rows = emptyRows{count: n}
	} else {
		dbq, idx := forETag(q)
		rows, err = s.adapter.Query(r.Context(), dbq, limit)
		if err == nil {
			proj = newProjector(q, idx, rows.Columns()).mask(requestInfo(r).masked)
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	defer rows.Close()
	// Fetch the first row before committing to a 200, so that most database
	// errors still get a proper error response.
	has := rows.Next()
	if !has {
		if err := rows.Err(); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	ri.timing = append(ri.timing, fmt.Sprintf("db;dur=%.3f", msSince(start)))

	h := w.Header()
	h.Set("Content-Type", contentType(f))
	h.Set("OData-Version", "4.0")
	h.Set("Server-Timing", strings.Join(ri.timing, ", "))
	if prefApplied {
		h.Set("Preference-Applied", "odata.maxpagesize="+strconv.FormatInt(pageSize, 10))
	}
	if r.Method == http.MethodHead {
		return
	}
	var out io.Writer = w
	var gz *gzip.Writer
	if acceptsGzip(r) {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
		gz = gzip.NewWriter(w)
		out = gz
	}
	bw := bufio.NewWriterSize(out, 32<<10)
	jw := jsonfmt.NewWriter(bw, jsonfmt.Options{IEEE754Compatible: f.ieee754})
	var count *int64
	if q.Count {
		n := rows.Count()
		count = &n
	}
	jw.BeginCollection(s.contextURL(r, q, false), count)

	// Room kept for the closing bytes and the nextLink, which is at most the
	// request's own options plus a token.
	reserve := int64(len(r.URL.RawQuery)+len(r.URL.Path)+len(s.cfg.PublicURL)+len(r.Host)) + nextLinkTokenRoom
	cols := rows.Columns()
	if proj == nil {
		proj = newProjector(q, nil, cols)
	}
	var written int64
	more := false
	// The nextLink's keyset needs the last written row's sort and key
	// columns only (none for offset tokens): copy just those per row.
	keep := tokenColumns(q, cols)
	last := make([]adapters.Value, len(cols))
	for has {
		vals := rows.Row()
		if written == pageSize {
			more = true
			break
		}
		etag := adapters.ETag(s.cfg.TokenKey, q.Set, cols, vals)
		n := jw.EncodeEntity(proj.cols, proj.values(vals), etag)
		if written > 0 && jw.Written()+int64(n)+reserve > s.cfg.MaxPageBytes {
			more = true // this row starts the next page
			break
		}
		jw.WriteEncoded()
		written++
		copyColumns(last, vals, keep)
		has = rows.Next()
	}
	if !has {
		if err := rows.Err(); err != nil {
			// Headers are out: abort so the client cannot mistake a truncated
			// body for a complete page.
			s.log.Warn().Str("request_id", ri.id).Err(err).Msg("error while streaming rows")
			panic(http.ErrAbortHandler)
		}
	}
	ri.rows = written
	next := ""
	if more && (owed < 0 || written < owed) {
		next = s.nextLink(r, req, q, cols, last, returned+written)
	}
	jw.EndCollection(next)
	_ = bw.Flush()
	if gz != nil {
		_ = gz.Close()
	}
}

// tokenColumns are the positions in cols of the properties a keyset token
// carries (the total order); nil when the order falls back to offsets.
func tokenColumns(q *semantic.Query, cols []*metadata.Property) []int {
	order, keyset := semantic.TotalOrder(q)
	if !keyset {
		return nil
	}
	idx := make([]int, 0, len(order))
	for _, o := range order {
		p := o.Expr.(*semantic.Prop).P
		for j, c := range cols {
			if c == p {
				idx = append(idx, j)
				break
			}
		}
	}
	return idx
}

// copyColumns copies the values at idx from src into dst, owning their bytes
// (src's buffers are reused by the next row).
func copyColumns(dst, src []adapters.Value, idx []int) {
	for _, i := range idx {
		text := dst[i].Text[:0]
		dst[i] = src[i]
		if src[i].Text != nil {
			dst[i].Text = append(text, src[i].Text...)
		}
	}
}

// nextLink builds the absolute URL of the next page: the original options
// that shape the result plus a signed $skiptoken positioned after last.
func (s *Server) nextLink(r *http.Request, req *odata.Request, q *semantic.Query, cols []*metadata.Property, last []adapters.Value, returned int64) string {
	order, keyset := semantic.TotalOrder(q)
	var ks semantic.Keyset
	ks.Returned = returned
	if keyset {
		ks.Values = make([]semantic.Const, len(order))
		for i, o := range order {
			p := o.Expr.(*semantic.Prop).P
			for j, c := range cols {
				if c == p {
					ks.Values[i] = adapters.ToConst(c, &last[j])
					break
				}
			}
		}
	} else {
		base := q.Skip
		if q.After != nil {
			base = q.After.Offset
		}
		prevReturned := int64(0)
		if q.After != nil {
			prevReturned = q.After.Returned
		}
		ks.Offset = base + (returned - prevReturned)
	}
	token := s.tokens.Encode(semantic.Fingerprint(q.Set.Name, req), ks)

	keys := make([]string, 0, len(req.Options.Raw))
	for k := range req.Options.Raw {
		switch k {
		case "$skiptoken", "$skip":
			continue
		}
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return optionRank(keys[i]) < optionRank(keys[j]) || optionRank(keys[i]) == optionRank(keys[j]) && keys[i] < keys[j]
	})
	var b strings.Builder
	b.WriteString(s.serviceRootURL(r))
	b.WriteString(strings.TrimPrefix(r.URL.EscapedPath(), s.cfg.Root+"/"))
	sep := byte('?')
	for _, k := range keys {
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(escapeQuery(k))
		b.WriteByte('=')
		b.WriteString(escapeQuery(req.Options.Raw[k]))
	}
	b.WriteByte(sep)
	b.WriteString("$skiptoken=")
	b.WriteString(token)
	return b.String()
}

func optionRank(k string) int {
	switch k {
	case "$filter":
		return 0
	case "$search":
		return 1
	case "$orderby":
		return 2
	case "$select":
		return 3
	case "$count":
		return 4
	case "$top":
		return 5
	}
	return 6
}

// escapeQuery percent-encodes a query component, keeping characters that
// are safe and readable in OData URLs ($ , ' ( ) : / @ *).
func escapeQuery(s string) string {
	const keep = "$,'():/@*-._~!"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

// emptyRows is the result of a page that cannot have rows ($top=0).
type emptyRows struct{ count int64 }

func (emptyRows) Columns() []*metadata.Property { return nil }
func (e emptyRows) Count() int64                { return e.count }
func (emptyRows) Next() bool                    { return false }
func (emptyRows) Row() []adapters.Value         { return nil }
func (emptyRows) Err() error                    { return nil }
func (emptyRows) Close() error                  { return nil }
