package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/edm"
	"github.com/odatagw/odatagw/odata/jsonfmt"
	"github.com/odatagw/odatagw/odata/semantic"
	"github.com/odatagw/odatagw/server/auth"
)

// bind binds an already parsed request and applies the caller's
// authorization (permission and row filter) for op.
func (s *Server) bind(r *http.Request, req *odata.Request, op auth.Op) (q *semantic.Query, err error) {
	end := s.stage(r, "bind")
	defer func() { end(err) }()
	start := time.Now()
	q, err = semantic.Bind(s.Model(), req, semantic.Options{Limits: s.cfg.Limits, Tokens: s.tokens, Access: access{s, r}})
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
		if len(q.Path) > 0 {
			// The navigation that leads here joins on properties of q.Set:
			// hidden from the caller, it does not exist for them (see
			// semantic.Access, which checks the sets before).
			nav, hidden := q.Path[len(q.Path)-1].Nav, s.policy.HiddenProperties(ri.principal, q.Set.Name)
			for _, p := range nav.Remote {
				if hidden[p.Name] {
					prev := q.Path[len(q.Path)-1].Set
					return nil, newHTTPError(http.StatusNotFound, codeNotFound, "%s has no navigation property %s", prev.Name, nav.Name)
				}
			}
		}
		if op == auth.Read {
			masked, err := applyHidden(q, s.policy.HiddenProperties(ri.principal, q.Set.Name))
			if err != nil {
				return nil, err
			}
			ri.masked = masked
		}
	}
	timing(r, "bind", start)
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

// acquire takes a database slot for the request's database work (released
// by releaseEarly or once the request is answered, see onDone). A request
// still holding it after LongQueryAfter moves to the limiter's long lane;
// when that is full, a read (stoppable) is canceled and answered 503 with
// Retry-After, while a write goes on in the main lane.
func (s *Server) acquire(r *http.Request, stoppable bool) error {
	if s.dbLimit == nil || inChangeSet(r) { // a change set's requests share its slot
		return nil
	}
	slot, err := s.dbLimit.Acquire(r.Context())
	if err != nil {
		e := newHTTPError(http.StatusServiceUnavailable, codeUnavailable, "the gateway is at capacity; retry shortly")
		e.header = http.Header{"Retry-After": {"1"}}
		return e
	}
	onDone(r, slot.Release)
	if s.cfg.LongQueryAfter > 0 {
		ri := requestInfo(r)
		t := time.AfterFunc(s.cfg.LongQueryAfter, func() {
			if !slot.Demote() && !slot.Released() && stoppable && ri.cancel != nil {
				ri.cancel(errLongLaneFull)
			}
		})
		onDone(r, func() { t.Stop() })
	}
	return nil
}

// errLongLaneFull is the cause of a read canceled because it ran long while
// the long lane was full.
var errLongLaneFull = errors.New("too many long-running queries")

// read answers GET and HEAD on an entity set, an entity or a $count.
func (s *Server) read(r *http.Request, req *odata.Request) response {
	f, err := negotiate(r, req)
	rest := req.Path.Rest
	plain := req.Path.Kind == odata.PathCount || len(rest) > 0 && (rest[len(rest)-1] == "$value" || rest[len(rest)-1] == "$count") // text, not JSON
	if err != nil && !plain {
		return fail(err)
	}
	q, err := s.bind(r, req, auth.Read)
	if err != nil {
		return fail(err)
	}
	if len(q.Path) > 0 && req.Options.DeltaToken != "" {
		return fail(newHTTPError(http.StatusNotImplemented, codeNotImplemented,
			"delta links are not supported on navigation paths; track changes of %s itself", q.Set.Name))
	}
	var res response
	if err := s.acquire(r, true); err != nil {
		res = fail(err)
	} else {
		null := false
		if len(q.Path) > 0 {
			null, err = s.follow(r, q)
		}
		switch {
		case err != nil:
			res = fail(err)
		case null:
			res = nullNavigation(q)
		case req.Options.DeltaToken != "":
			res = s.readDelta(r, req, q, f)
		case q.CountOnly:
			res = s.readCount(r, q)
		case q.Key != nil || q.Single:
			res = s.readEntity(r, q, f)
		default:
			res = s.readCollection(r, req, q, f)
		}
	}
	if res.header == nil {
		res.header = http.Header{}
	}
	s.issueCSRF(r, res.header)
	return res
}

func (s *Server) readCount(r *http.Request, q *semantic.Query) response {
	start := time.Now()
	end := s.stage(r, "sql")
	n, err := s.adapter.Count(r.Context(), q)
	end(err)
	if err != nil {
		return fail(err)
	}
	releaseEarly(r)
	timing(r, "db", start)
	text := strconv.FormatInt(n.N, 10)
	return response{
		header: http.Header{"Content-Type": {"text/plain"}, "Content-Length": {strconv.Itoa(len(text))}},
		body:   func(w http.ResponseWriter) { _, _ = io.WriteString(w, text) },
	}
}

// entityURL is the canonical URL of an entity: Set(key) with literals.
func (s *Server) entityURL(r *http.Request, set *metadata.EntitySet, key []semantic.Const) string {
	return s.serviceRootURL(r) + url.PathEscape(set.Name) + "(" + odata.FormatKey(semantic.KeyParts(set, key), true) + ")"
}

// selected is the projection a context URL names: nil when the response
// has every property.
func selected(q *semantic.Query) []*metadata.Property {
	if q.SelectExplicit {
		return q.Select
	}
	return nil
}

func (s *Server) readEntity(r *http.Request, q *semantic.Query, f format) response {
	start := time.Now()
	dbq, idx := q.ForETag()
	dbq = withJoinColumns(q, dbq)
	end := s.stage(r, "sql")
	rows, err := s.adapter.Query(r.Context(), dbq, 1)
	end(err)
	if err != nil {
		return fail(err)
	}
	onDone(r, func() { rows.Close() })
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fail(err)
		}
		if q.Single { // a to-one navigation whose entity the caller cannot see
			return nullNavigation(q)
		}
		where := ""
		if len(q.Path) > 0 {
			where = " in " + q.Resource()
		}
		return fail(newHTTPError(http.StatusNotFound, codeNotFound, "no %s entity with key (%s)%s",
			q.Set.Name, odata.FormatKey(semantic.KeyParts(q.Set, q.Key), false), where))
	}
	timing(r, "db", start)
	requestInfo(r).rows = 1
	cols, vals := rows.Columns(), rows.Row()
	if q.Ref {
		body := jsonfmt.AppendRef(nil, f.jsonOptions(s, q.Set), s.refContext(r, false), s.entityURL(r, q.Set, adapters.KeyOf(q.Set, adapters.Row{Columns: cols, Values: vals})))
		releaseEarly(r)
		return response{header: http.Header{"Content-Type": {f.contentType()}, "Content-Length": {strconv.Itoa(len(body))}},
			body: func(w http.ResponseWriter) { _, _ = w.Write(body) }}
	}
	etag := edm.ETag(s.cfg.TokenKey, q.Set, cols, vals)
	if q.Property != nil {
		return s.propertyResult(r, q, f, newProjector(q, idx, cols).values(vals)[0], etag)
	}
	h := http.Header{"Content-Type": {f.contentType()}}
	if etag != "" {
		h.Set("ETag", etag)
		if inm := r.Header.Get("If-None-Match"); inm == "*" || inm != "" && edm.ETagMatches(inm, etag) {
			releaseEarly(r)
			return response{status: http.StatusNotModified, header: http.Header{"ETag": {etag}}}
		}
	}
	pr := newProjector(q, idx, cols).mask(requestInfo(r).masked)
	ctx := s.contextURL(r, q, true)
	id := ""
	if f.metadata == jsonfmt.Full && q.Key != nil {
		id = s.entityURL(r, q.Set, q.Key)
	}
	var nested []jsonfmt.Nested
	if len(q.Expand) > 0 {
		node := &adapters.Node{Columns: cols, Values: adapters.CopyRow(vals)}
		rows.Close() // the expansions' reads need no second connection
		if err := s.expand(r, q, []*adapters.Node{node}); err != nil {
			return fail(err)
		}
		if adapters.Emitted(node, map[*adapters.Node]int64{}) > s.cfg.MaxExpandEntities {
			return fail(s.errTooLarge("the entity with its expansions"))
		}
		vals, nested = node.Values, s.nested(r, f, q.Set, node)
	}
	body := jsonfmt.AppendSingleEntityNested(make([]byte, 0, 1024), f.jsonOptions(s, q.Set), id, ctx, pr.cols, pr.values(vals), etag, nested)
	if len(nested) > 0 && int64(len(body)) > s.cfg.MaxPageBytes {
		return fail(s.errTooLarge("the entity with its expansions"))
	}
	releaseEarly(r) // the entity is in memory: a slow client holds no database slot
	h.Set("Content-Length", strconv.Itoa(len(body)))
	return response{header: h, body: func(w http.ResponseWriter) { _, _ = w.Write(body) }}
}

// propertyResult answers Set(key)/Name (JSON: context and value; 204 when
// null) and Set(key)/Name/$value (the raw value: text/plain, or
// application/octet-stream for binary; 404 when null).
func (s *Server) propertyResult(r *http.Request, q *semantic.Query, f format, v edm.Value, etag string) response {
	p := q.Property
	var buf bytes.Buffer
	h := http.Header{}
	if etag != "" {
		h.Set("ETag", etag)
	}
	switch {
	case q.RawValue && v.Null:
		return response{header: h, err: newHTTPError(http.StatusNotFound, codeNotFound, "%s is null: it has no raw value", p.Name)}
	case v.Null:
		return response{status: http.StatusNoContent, header: h}
	case q.RawValue:
		h.Set("Content-Type", "text/plain;charset=utf-8")
		if p.Type == metadata.Binary {
			h.Set("Content-Type", "application/octet-stream")
		}
		buf.Write(jsonfmt.AppendRaw(nil, p, &v))
	default:
		h.Set("Content-Type", f.contentType())
		ctx := s.serviceRootURL(r) + "$metadata#" + q.Set.Name + "(" + odata.FormatKey(semantic.KeyParts(q.Set, q.Key), true) + ")/" + p.Name
		jsonfmt.NewWriter(&buf, f.jsonOptions(s, q.Set)).SingleValue(ctx, p, &v)
	}
	releaseEarly(r)
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	return response{header: h, body: func(w http.ResponseWriter) { _, _ = w.Write(buf.Bytes()) }}
}

// projector picks the client's columns out of a widened row without
// allocating per row.
type projector struct {
	idx    []int
	cols   []*metadata.Property
	vals   []edm.Value
	masked []int // output positions written as null (hidden from the caller)
}

// mask makes the given properties come out as null.
func (pr *projector) mask(props map[*metadata.Property]bool) *projector {
	for i, c := range pr.cols {
		if props[c] {
			pr.masked = append(pr.masked, i)
		}
	}
	if len(pr.masked) > 0 && pr.vals == nil {
		pr.vals = make([]edm.Value, len(pr.cols)) // masking must not write into the adapter's row
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
	pr.vals = make([]edm.Value, len(idx))
	for i, j := range idx {
		pr.cols[i] = cols[j]
	}
	return pr
}

// values returns the output columns of row. The row itself is never
// changed: its values still serve the ETag and the next page's position.
func (pr *projector) values(row []edm.Value) []edm.Value {
	switch {
	case pr.idx != nil:
		for i, j := range pr.idx {
			pr.vals[i] = row[j]
		}
	case pr.masked != nil:
		copy(pr.vals, row[:len(pr.cols)])
	default:
		return row[:len(pr.cols)]
	}
	for _, i := range pr.masked {
		pr.vals[i] = edm.Value{Null: true}
	}
	return pr.vals
}
