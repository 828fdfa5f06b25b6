package server

import (
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/edm"
	"github.com/odatagw/odatagw/odata/jsonfmt"
	"github.com/odatagw/odatagw/odata/semantic"
)

// nextLinkTokenRoom bounds what a nextLink adds to the request's own URL
// (scheme, $skiptoken and a keyset of up to 16 sort values) plus the closing
// bytes of the page.
const nextLinkTokenRoom = 8 << 10

// readCollection answers one page of an entity set: at most the page's
// size in rows (semantic.Page) and at most MaxPageBytes of JSON, with a
// nextLink when the result goes on.
func (s *Server) readCollection(r *http.Request, req *odata.Request, q *semantic.Query, f format) response {
	page := semantic.NewPage(q, s.cfg.MaxPageSize, preferences(r).maxPageSize)
	start := time.Now()
	tracking, err := s.startTracking(r, q, page)
	if err != nil {
		return fail(err)
	}
	ctx := r.Context()
	if tracking || page.Track() != "" {
		// A walk that ends in a delta link reads what its change-log
		// position promises: the primary's rows, never a lagging replica's.
		ctx = adapters.OnPrimary(ctx)
	}
	var rows adapters.Rows
	var proj *projector
	endSQL := s.stage(r, "sql")
	if page.Size == 0 {
		// $top=0 (or $top reached): no rows, only the count when asked.
		n := adapters.NoCount
		if page.NeedCount {
			n, err = s.adapter.Count(ctx, q)
		}
		rows = adapters.EmptyRows{N: n}
	} else {
		dbq, idx := q.ForETag()
		dbq = withJoinColumns(q, dbq)
		if dbq.Count && !page.NeedCount { // an earlier page of the walk counted
			c := *dbq
			c.Count = false
			dbq = &c
		}
		if rows, err = s.adapter.Query(ctx, dbq, page.Fetch); err == nil {
			proj = newProjector(q, idx, rows.Columns()).mask(requestInfo(r).masked)
		}
	}
	endSQL(err)
	if err != nil {
		return fail(err)
	}
	if c := rows.Count(); page.NeedCount && c.N >= 0 {
		page.SetCount(c.N)
	}
	if c := rows.Count(); c.TimedOut {
		s.log.Warn().Str("request_id", requestInfo(r).id).Str("set", q.Set.Name).Bool("estimate", c.N >= 0).
			Msg("the count ran past count_timeout: answered with the planner's estimate (or none)")
	}
	onDone(r, func() { rows.Close() })
	// Fetch the first row before committing to a 200, so that most database
	// errors still get a proper error response.
	has := rows.Next()
	if !has && rows.Err() != nil {
		return fail(rows.Err())
	}
	timing(r, "db", start)
	if proj == nil {
		proj = newProjector(q, nil, rows.Columns())
	}
	h := http.Header{"Content-Type": {f.contentType()}}
	if page.PreferenceApplied {
		h.Add("Preference-Applied", "odata.maxpagesize="+strconv.FormatInt(page.Preferred, 10))
	}
	if tracking {
		h.Add("Preference-Applied", "odata.track-changes")
	}
	gz := acceptsGzip(r) && r.Method != http.MethodHead
	if gz {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
	}
	return response{header: h, stream: func(w http.ResponseWriter, commit func()) error {
		end := s.stage(r, "stream")
		err := s.spoolPage(w, r, gz, commit, func(out io.Writer) error {
			if len(q.Expand) > 0 {
				return s.writePageExpand(out, r, req, q, f, page, rows, proj, has)
			}
			return s.writePage(out, r, req, q, f, page, rows, proj, has)
		})
		end(err)
		return err
	}}
}

// spoolPage runs produce (which reads the page from the database and writes
// it as JSON) on its own goroutine into a spool, and writes the spool to the
// client as it fills. When produce returns, the rows are closed and the
// database slot released (releaseEarly), whether or not the client has read
// the page.
//
// The status is committed (commit) with the first bytes of the page. A page
// that breaks before (the database fails while the first 32 KiB are read)
// returns the error, which the client then gets as a proper error response.
// Once committed, a broken page, or a client that takes no data for the
// write stall timeout, is cut off: the connection closes before the JSON is
// complete, so a truncated page can never pass for a whole one.
func (s *Server) spoolPage(w http.ResponseWriter, r *http.Request, gz bool, commit func(), produce func(io.Writer) error) error {
	sp := newSpool()
	done := make(chan struct{})
	go func() {
		defer close(done)
		var err error
		defer func() {
			if v := recover(); v != nil {
				s.log.Error().Str("request_id", requestInfo(r).id).Interface("panic", v).Msg("panic while reading a page")
				err = errPanic
			}
			releaseEarly(r)
			sp.close(err)
		}()
		var out io.Writer = sp
		var zw *gzip.Writer
		if gz {
			zw = gzip.NewWriter(sp)
			out = zw
		}
		if err = produce(out); err == nil && zw != nil {
			err = zw.Close()
		}
	}()
	committed, err := sp.drain(w, s.cfg.WriteStall, commit)
	<-done
	sp.discard()
	if err != nil && !committed && !errors.Is(err, errPanic) {
		return err
	}
	if err != nil {
		ri := requestInfo(r)
		if errors.Is(err, errStalled) {
			s.log.Warn().Str("request_id", ri.id).Dur("stall", s.cfg.WriteStall).Msg("client stopped reading; connection cut")
		} else if !errors.Is(err, errPanic) {
			s.log.Warn().Str("request_id", ri.id).Err(err).Msg("page not delivered")
		}
		// Headers are out: abort so the client cannot mistake a truncated
		// body for a complete page.
		panic(http.ErrAbortHandler)
	}
	return nil
}

var errPanic = errors.New("panic while reading a page")

// writePage streams the rows of a page whose first row has been fetched
// (has), stopping at the page size or before a row that would push the
// body over MaxPageBytes, and ends it with the count and the nextLink. An
// error means the page is broken (the database failed while streaming).
func (s *Server) writePage(w io.Writer, r *http.Request, req *odata.Request, q *semantic.Query, f format,
	page *semantic.Page, rows adapters.Rows, proj *projector, has bool) error {
	ri := requestInfo(r)
	jw := jsonfmt.NewWriter(w, f.jsonOptions(s, q.Set))
	var count *int64
	if n, ok := page.Count(); ok {
		count = &n
	}
	ctxURL := jsonfmt.ContextURL(s.serviceRootURL(r), q.Set.Name, selected(q), false)
	var members []jsonfmt.Member // the shape of an aggregated result's rows
	switch {
	case q.Ref:
		ctxURL = s.refContext(r, true)
	case q.Apply != nil:
		members = applyMembers(q.Apply)
		ctxURL = jsonfmt.ApplyContextURL(s.serviceRootURL(r), q.Set.Name, members)
	}
	jw.BeginCollection(ctxURL, count)
	// Room kept for the closing bytes and the nextLink, which is at most the
	// request's own options plus a token.
	reserve := int64(len(r.URL.RawQuery)+len(r.URL.Path)+len(s.cfg.PublicURL)+len(r.Host)) + nextLinkTokenRoom
	cols := rows.Columns()
	page.Columns(cols)
	var written int64
	more := false
	for has {
		vals := rows.Row()
		if written == page.Size {
			more = true
			break
		}
		var n int
		if q.Ref {
			n = jw.EncodeRef(s.entityURL(r, q.Set, adapters.KeyOf(q.Set, adapters.Row{Columns: cols, Values: vals})))
		} else if members != nil {
			n = jw.EncodeRow(members, vals)
		} else {
			etag := edm.ETag(s.cfg.TokenKey, q.Set, cols, vals) // over the stored row, hidden values included
			if f.metadata == jsonfmt.Full {
				jw.EntityID(s.entityURL(r, q.Set, adapters.KeyOf(q.Set, adapters.Row{Columns: cols, Values: vals})))
			}
			n = jw.EncodeEntity(proj.cols, proj.values(vals), etag)
		}
		if written > 0 && jw.Written()+int64(n)+reserve > s.cfg.MaxPageBytes {
			more = true // this row starts the next page
			break
		}
		jw.WriteEncoded()
		written++
		page.Keep(vals)
		has = rows.Next()
	}
	if err := rows.Err(); !has && err != nil {
		return err
	}
	ri.rows = written
	next, delta := "", ""
	if ks := page.Next(written, more); ks != nil {
		next = s.nextLink(r, req, s.tokens.Encode(semantic.Fingerprint(q.Resource(), req), *ks))
	} else if pos := page.Track(); pos != "" {
		delta = s.deltaLink(r, req, q.Set, semantic.Delta{Since: pos, Issued: s.now()})
	}
	jw.EndDelta(next, delta)
	return jw.Err()
}

// nextLink is the absolute URL of the next page: the request's own path and
// the options that shape the result, plus the signed $skiptoken.
func (s *Server) nextLink(r *http.Request, req *odata.Request, token string) string {
	query := req.Options.Encode("$skip", "$skiptoken")
	if query != "" {
		query += "&"
	}
	return s.serviceRootURL(r) + strings.TrimPrefix(r.URL.EscapedPath(), s.cfg.Root+"/") + "?" + query + "$skiptoken=" + token
}
