package server

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/edm"
	"github.com/odatagw/odatagw/odata/jsonfmt"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Change tracking (OData 4.01 Protocol §11.3, answered in the 4.0 JSON
// form; Salesforce External Change Data Capture). A read of a tracked set
// with Prefer: odata.track-changes ends with @odata.deltaLink instead of a
// nextLink; the link's $deltatoken holds the change-log position taken
// before the walk's first page was read (carried by the nextLinks), so
// that nothing changed during the walk is missed. A GET of a delta link
// lists the rows changed since, each once with its current state, rows
// deleted or no longer matching the defining $filter as deleted entities,
// and ends with the next delta link.

// changeTracker is the adapter's change log, nil when the backend has none.
func (s *Server) changeTracker() adapters.ChangeTracker {
	ct, _ := s.adapter.(adapters.ChangeTracker)
	return ct
}

// startTracking applies Prefer: odata.track-changes to a collection read:
// on a tracked set, the first page of a walk takes the change log's
// position (before anything is read). It reports whether the preference
// is applied; later pages apply it when the walk carries a position.
func (s *Server) startTracking(r *http.Request, q *semantic.Query, page *semantic.Page) (bool, error) {
	if !preferences(r).trackChanges || !q.Set.Tracked || len(q.Path) > 0 || q.Ref || len(q.Expand) > 0 || q.Apply != nil ||
		len(q.Compute) > 0 {
		// A delta response lists entities with their own properties only:
		// with $expand or $compute the preference is not applied (no delta
		// link); nor on navigation paths, nor for aggregates.
		return false, nil
	}
	if semantic.Navigates(q.Filter) {
		// The change log of q.Set does not see changes of the sets a
		// lambda or a navigation path reads: no delta link.
		return false, nil
	}
	if page.Track() != "" {
		return true, nil
	}
	ct := s.changeTracker()
	if q.After != nil || ct == nil { // a walk that began without tracking
		return false, nil
	}
	pos, err := ct.ChangePosition(r.Context())
	if err != nil {
		return false, err
	}
	page.SetTrack(pos)
	return true, nil
}

// deltaLink is the absolute delta link for d of the defining query of req
// on set: its $filter, $search and $select, and the signed $deltatoken.
func (s *Server) deltaLink(r *http.Request, req *odata.Request, set *metadata.EntitySet, d semantic.Delta) string {
	var omit []string
	for name := range req.Options.Raw {
		keep := strings.HasPrefix(name, "@")
		for _, k := range semantic.DeltaLinkOptions {
			keep = keep || name == k
		}
		if !keep {
			omit = append(omit, name)
		}
	}
	query := req.Options.Encode(omit...)
	if query != "" {
		query += "&"
	}
	token := s.tokens.EncodeDelta(semantic.DeltaFingerprint(set.Name, req), d)
	return s.serviceRootURL(r) + strings.TrimPrefix(r.URL.EscapedPath(), s.cfg.Root+"/") + "?" + query + "$deltatoken=" + token
}

// readDelta answers a GET of a delta link.
func (s *Server) readDelta(r *http.Request, req *odata.Request, q *semantic.Query, f format) response {
	o := &req.Options
	switch {
	case q.Key != nil || q.CountOnly || q.Property != nil:
		return fail(newHTTPError(http.StatusBadRequest, codeInvalidQuery, "$deltatoken applies to an entity set"))
	case o.Top != nil || o.Skip != nil || len(o.OrderBy) > 0 || o.Count != nil || o.SkipToken != "" || len(o.Compute) > 0:
		return fail(newHTTPError(http.StatusBadRequest, codeInvalidQuery,
			"a delta link takes no $top, $skip, $orderby, $count, $compute or $skiptoken: use it as it was given"))
	}
	d, err := s.tokens.DecodeDelta(semantic.DeltaFingerprint(q.Set.Name, req), o.DeltaToken)
	if err != nil {
		return fail(err)
	}
	ct := s.changeTracker()
	if !q.Set.Tracked || ct == nil {
		return fail(newHTTPError(http.StatusGone, codeGone,
			"changes of %s are no longer tracked; start again with Prefer: odata.track-changes", q.Set.Name))
	}
	if age := s.now().Sub(d.Issued); age > s.cfg.TrackRetention {
		return fail(newHTTPError(http.StatusGone, codeGone,
			"this delta link is %s old, older than the change log keeps (track_retention %s); start again with Prefer: odata.track-changes",
			age.Round(time.Minute), s.cfg.TrackRetention))
	}
	start := time.Now()
	ctx := r.Context()
	upto := d.Upto
	if upto == "" { // first page of this answer: where the next delta starts
		if upto, err = ct.ChangePosition(ctx); err != nil {
			return fail(err)
		}
	}
	size := s.cfg.MaxPageSize
	if p := preferences(r).maxPageSize; p > 0 && p < size {
		size = p
	}
	changes, err := ct.Changes(ctx, q.Set, d.Since, d.After, size+1)
	if err != nil {
		return fail(err)
	}
	more := len(changes) > size
	if more {
		changes = changes[:size]
	}
	matching, existing, err := s.changedRows(r, q, changes)
	if err != nil {
		return fail(err)
	}
	releaseEarly(r)
	timing(r, "db", start)

	root := s.serviceRootURL(r)
	var buf bytes.Buffer
	jw := jsonfmt.NewWriter(&buf, f.jsonOptions(s, q.Set))
	jw.BeginCollection(jsonfmt.ContextURL(root, q.Set.Name, selected(q), false)+"/$delta", nil)
	deleted := jsonfmt.ContextURL(root, q.Set.Name, nil, false) + "/$deletedEntity"
	reserve := int64(len(r.URL.RawQuery)+len(r.URL.Path)+len(root)) + nextLinkTokenRoom
	written, after := 0, d.After
	for _, c := range changes {
		id := s.entityURL(r, q.Set, c.Key)
		var n int
		k := keyString(q.Set, c.Key)
		switch row, ok := matching[k]; {
		case ok:
			if f.metadata == jsonfmt.Full {
				jw.EntityID(id)
			}
			n = jw.EncodeEntity(row.cols, row.vals, row.etag)
		case existing[k]:
			n = jw.EncodeDeleted(deleted, id, "changed")
		default:
			n = jw.EncodeDeleted(deleted, id, "deleted")
		}
		if written > 0 && jw.Written()+int64(n)+reserve > s.cfg.MaxPageBytes {
			more = true
			break
		}
		jw.WriteEncoded()
		written++
		after = c.Cursor
	}
	requestInfo(r).rows = int64(written)
	next, delta := "", ""
	if more {
		next = s.deltaLink(r, req, q.Set, semantic.Delta{Since: d.Since, Upto: upto, After: after, Issued: d.Issued})
	} else {
		delta = s.deltaLink(r, req, q.Set, semantic.Delta{Since: upto, Issued: s.now()})
	}
	jw.EndDelta(next, delta)
	h := http.Header{"Content-Type": {f.contentType()}, "Content-Length": {strconv.Itoa(buf.Len())}}
	return response{header: h, body: func(w http.ResponseWriter) { _, _ = w.Write(buf.Bytes()) }}
}

// changedRow is the current state of a changed row, projected.
type changedRow struct {
	cols []*metadata.Property
	vals []edm.Value
	etag string
}

// changedRows reads the current state of the changed rows: those that
// match the defining query (and the caller's row filter), projected to
// its $select plus the key; and the keys of those that still exist at all.
func (s *Server) changedRows(r *http.Request, q *semantic.Query, changes []adapters.Change) (map[string]changedRow, map[string]bool, error) {
	matching, existing := map[string]changedRow{}, map[string]bool{}
	if len(changes) == 0 {
		return matching, existing, nil
	}
	keys := make([][]semantic.Const, len(changes))
	for i, c := range changes {
		keys[i] = c.Key
	}
	in := semantic.KeysIn(q.Set, keys)
	and := func(a, b semantic.Expr) semantic.Expr {
		if a == nil {
			return b
		}
		return &semantic.Logical{L: a, R: b}
	}
	// The defining query's rows: its $select with every key property.
	mq := *q
	mq.Filter, mq.Count, mq.After, mq.Top, mq.Skip, mq.OrderBy = and(q.Filter, in), false, nil, nil, 0, nil
	mq.Select = withKey(q.Set, q.Select)
	dbq, idx := mq.ForETag()
	// The rows must be at least as recent as the change log just read:
	// the primary's, never a lagging replica's.
	ctx := adapters.OnPrimary(r.Context())
	rows, err := s.adapter.Query(ctx, dbq, 0)
	if err != nil {
		return nil, nil, err
	}
	proj := newProjector(&mq, idx, rows.Columns()).mask(requestInfo(r).masked)
	for rows.Next() {
		cols, vals := rows.Columns(), rows.Row()
		row := changedRow{cols: proj.cols, etag: edm.ETag(s.cfg.TokenKey, q.Set, cols, vals)}
		row.vals = append([]edm.Value(nil), proj.values(vals)...)
		for i := range row.vals { // values may alias the scanner's buffers
			if row.vals[i].Text != nil {
				row.vals[i].Text = append([]byte(nil), row.vals[i].Text...)
			}
		}
		matching[keyString(q.Set, adapters.KeyOf(q.Set, adapters.Row{Columns: cols, Values: vals}))] = row
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, nil, err
	}
	rows.Close()
	// Rows that exist but no longer match the defining query.
	eq := semantic.Query{Set: q.Set, Select: q.Set.Key, Filter: in, Restrict: q.Restrict}
	rows, err = s.adapter.Query(ctx, &eq, 0)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		existing[keyString(q.Set, adapters.KeyOf(q.Set, adapters.Row{Columns: rows.Columns(), Values: rows.Row()}))] = true
	}
	return matching, existing, rows.Err()
}

// withKey is sel (in set order) with the key properties added.
func withKey(set *metadata.EntitySet, sel []*metadata.Property) []*metadata.Property {
	has := map[*metadata.Property]bool{}
	for _, p := range sel {
		has[p] = true
	}
	for _, k := range set.Key {
		has[k] = true
	}
	var out []*metadata.Property
	for _, p := range set.Properties {
		if has[p] {
			out = append(out, p)
		}
	}
	return out
}

// keyString identifies a key for matching rows to changes.
func keyString(set *metadata.EntitySet, key []semantic.Const) string {
	return odata.FormatKey(semantic.KeyParts(set, key), false)
}
