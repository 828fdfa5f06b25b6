package server

import (
	"bufio"
	"compress/gzip"
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
	var rows adapters.Rows
	var proj *projector
	var err error
	if page.Size == 0 {
		// $top=0 (or $top reached): no rows, only the count when asked.
		var n int64 = -1
		if q.Count {
			n, err = s.adapter.Count(r.Context(), q)
		}
		rows = emptyRows{count: n}
	} else {
		dbq, idx := forETag(q)
		if rows, err = s.adapter.Query(r.Context(), dbq, page.Fetch); err == nil {
			proj = newProjector(q, idx, rows.Columns()).mask(requestInfo(r).masked)
		}
	}
	if err != nil {
		return fail(err)
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
		h.Set("Preference-Applied", "odata.maxpagesize="+strconv.FormatInt(page.Size, 10))
	}
	gz := acceptsGzip(r) && r.Method != http.MethodHead
	if gz {
		h.Set("Content-Encoding", "gzip")
		h.Add("Vary", "Accept-Encoding")
	}
	return response{header: h, body: func(w io.Writer) {
		var zw *gzip.Writer
		if gz {
			zw = gzip.NewWriter(w)
			w = zw
		}
		bw := bufio.NewWriterSize(w, 32<<10)
		// Not deferred: when writePage aborts the response, nothing more
		// may reach the client.
		s.writePage(bw, r, req, q, f, page, rows, proj, has)
		_ = bw.Flush()
		if zw != nil {
			_ = zw.Close()
		}
	}}
}

// writePage streams the rows of a page whose first row has been fetched
// (has), stopping at the page size or before a row that would push the
// body over MaxPageBytes, and ends it with the count and the nextLink.
func (s *Server) writePage(w io.Writer, r *http.Request, req *odata.Request, q *semantic.Query, f format,
	page *semantic.Page, rows adapters.Rows, proj *projector, has bool) {
	ri := requestInfo(r)
	jw := jsonfmt.NewWriter(w, jsonfmt.Options{IEEE754Compatible: f.ieee754})
	var count *int64
	if q.Count {
		n := rows.Count()
		count = &n
	}
	jw.BeginCollection(jsonfmt.ContextURL(s.serviceRootURL(r), q.Set.Name, selected(q), false), count)
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
		etag := edm.ETag(s.cfg.TokenKey, q.Set, cols, vals) // over the stored row, hidden values included
		n := jw.EncodeEntity(proj.cols, proj.values(vals), etag)
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
		// Headers are out: abort so the client cannot mistake a truncated
		// body for a complete page.
		s.log.Warn().Str("request_id", ri.id).Err(err).Msg("error while streaming rows")
		panic(http.ErrAbortHandler)
	}
	ri.rows = written
	next := ""
	if ks := page.Next(written, more); ks != nil {
		next = s.nextLink(r, req, s.tokens.Encode(semantic.Fingerprint(q.Set.Name, req), *ks))
	}
	jw.EndCollection(next)
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
