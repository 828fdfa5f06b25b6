package server

import (
	"bytes"
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/odata"
)

// $batch (OData 4.0 Protocol §11.7; JSON batch of OData 4.01 JSON Format
// §19). The requests run one after another, each through dispatch exactly
// as if it had come alone (same parsing, grants, limits and error table),
// under the batch's principal. A change set (multipart) or atomicity group
// (JSON) runs in one database transaction through adapters.Atomic: all of
// its changes are applied, or none. Without Prefer: odata.continue-on-error
// the batch stops at the first failed request or change set.
//
// Responses are streamed part by part, so memory stays at one response (a
// page is at most MaxPageBytes); a change set's responses are kept until
// its transaction has committed.

// batchResult is the recorded answer to one request (or to a whole failed
// change set), with the error behind a failure for the transaction's retry
// logic.
type batchResult struct {
	odata.BatchResponse
	err error
}

func newBatchResult(q *odata.BatchRequest, status int, header http.Header, body []byte, err error) *batchResult {
	return &batchResult{BatchResponse: odata.BatchResponse{Request: q, Status: status, Reason: http.StatusText(status),
		Header: header, Body: body}, err: err}
}

// recorder is the http.ResponseWriter a batch part is answered into.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }
func (w *recorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}

// batchTx carries a change set's transaction to the write handlers.
type batchTx struct{}

// writer is where a write handler writes: the change set's transaction
// inside a $batch change set, else the adapter (a transaction per write).
// reader is where r's reads go: its change set's transaction, whose reads
// see the change set's own writes ($1/orders reads the customer request $1
// created), else the adapter.
func (s *Server) reader(r *http.Request) adapters.Reader {
	if rd, ok := r.Context().Value(batchTx{}).(adapters.Reader); ok {
		return rd
	}
	return s.adapter
}

func (s *Server) writer(r *http.Request) adapters.Writer {
	if w, ok := r.Context().Value(batchTx{}).(adapters.Writer); ok {
		return w
	}
	return s.adapter
}

// inChangeSet reports a request of a change set: its database slot is the
// change set's.
// batchRefs holds the Content-ID references of the batch a request is part
// of (id → the created entity's URL).
type batchRefs struct{}

func inChangeSet(r *http.Request) bool {
	_, ok := r.Context().Value(batchTx{}).(adapters.Writer)
	return ok
}

func (s *Server) batch(r *http.Request, _ *odata.Request) response {
	data, err := s.readBytes(r)
	if err != nil {
		return fail(err)
	}
	ct := r.Header.Get("Content-Type")
	reqs, err := odata.ParseBatch(ct, data, s.cfg.MaxBatchRequests)
	var tooLarge *odata.BatchTooLarge
	var bad *odata.BatchError
	switch {
	case errors.As(err, &tooLarge):
		return fail(newHTTPError(http.StatusRequestEntityTooLarge, codePayloadTooLarge,
			"%s (guard.max_batch_requests); split it into several batches", tooLarge.Error()))
	case errors.As(err, &bad):
		if strings.HasPrefix(bad.Msg, "$batch needs Content-Type") {
			return fail(newHTTPError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType, "%s", bad.Msg))
		}
		return fail(newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "%s", bad.Msg))
	case err != nil:
		return fail(err)
	}
	mt, _, _ := mime.ParseMediaType(ct)
	asJSON := mt == "application/json"
	pref := preferences(r)
	h := http.Header{}
	if pref.continueOnError {
		h.Set("Preference-Applied", "odata.continue-on-error")
	}
	bw := odata.NewBatchWriter(asJSON)
	h.Set("Content-Type", bw.ContentType())
	return response{header: h, body: func(w http.ResponseWriter) {
		bw.Begin(w)
		s.runBatch(r, reqs, pref.continueOnError, asJSON, func(results []*batchResult, group bool) {
			rs := make([]*odata.BatchResponse, len(results))
			for i, res := range results {
				rs[i] = &res.BatchResponse
			}
			bw.Unit(rs, group)
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
		})
		bw.End()
	}}
}

// runBatch runs reqs in order, calling emit with each unit's results: a
// single request, or a change set (group true) whose results are either all
// successes or its failure.
func (s *Server) runBatch(r *http.Request, reqs []*odata.BatchRequest, continueOnError, perRequestGroupResults bool, emit func([]*batchResult, bool)) {
	refs := map[string]string{}  // Content-ID -> the entity's URL, for "$id" references
	outcome := map[string]bool{} // id or group -> succeeded
	for i := 0; i < len(reqs); {
		j := i + 1
		if g := reqs[i].Group; g != "" {
			for j < len(reqs) && reqs[j].Group == g {
				j++
			}
		}
		unit := reqs[i:j]
		i = j
		var results []*batchResult
		if dep := failedDependency(unit, outcome); dep != "" {
			for _, q := range unit {
				results = append(results, s.batchFailure(r, q, newHTTPError(http.StatusFailedDependency, codeFailedDependency,
					"not run: %s, which this request depends on, failed", dep)))
			}
		} else if unit[0].Group == "" {
			results = []*batchResult{s.runBatchRequest(r, unit[0], refs, j)}
		} else {
			results = s.runChangeSet(r, unit, refs, perRequestGroupResults, i-len(unit)+1)
		}
		ok := true
		for _, res := range results {
			ok = ok && !res.Failed()
		}
		for _, q := range unit {
			outcome[q.ID] = ok
		}
		if unit[0].Group != "" {
			outcome[unit[0].Group] = ok
		}
		emit(results, unit[0].Group != "")
		if !ok && !continueOnError {
			return
		}
	}
}

// failedDependency names a dependency of unit's requests that failed.
func failedDependency(unit []*odata.BatchRequest, outcome map[string]bool) string {
	for _, q := range unit {
		for _, d := range q.DependsOn {
			if ok, seen := outcome[d]; seen && !ok {
				return d
			}
		}
	}
	return ""
}

// runChangeSet runs a change set in one transaction. On success every
// request has its response; on failure the answer is the failing request's
// response alone (multipart, OData 4.0 §11.7.4) or, for a JSON atomicity
// group (perRequest), that response plus 424 Failed Dependency for the
// group's other requests.
func (s *Server) runChangeSet(r *http.Request, unit []*odata.BatchRequest, refs map[string]string, perRequest bool, n int) []*batchResult {
	gr, gri, end := s.batchSubRequest(r, strconv.Itoa(n))
	defer end()
	checked := false
	for _, q := range unit {
		checked = checked || q.Header.Get("If-Match") != ""
	}
	fail := func(err error) []*batchResult { return []*batchResult{s.batchFailure(gr, nil, err)} }
	if err := s.acquire(gr, false); err != nil { // one slot: the transaction's connection
		return fail(err)
	}
	var results []*batchResult
	var failed *batchResult
	var local map[string]string
	errFailed := errors.New("a request of the change set failed")
	err := s.adapter.Atomic(gr.Context(), checked, func(w adapters.Writer) error {
		results, failed = results[:0], nil
		local = make(map[string]string, len(refs))
		for k, v := range refs {
			local[k] = v
		}
		ctx := context.WithValue(gr.Context(), batchTx{}, w)
		for n, q := range unit {
			res := s.runBatchRequest(gr.WithContext(ctx), q, local, n+1)
			results = append(results, res)
			if res.Failed() {
				failed = res
				if res.err != nil {
					return res.err // the transaction may retry a serialization failure or a lost connection
				}
				return errFailed
			}
		}
		return nil
	})
	outcome := "committed"
	if err != nil {
		outcome = "rolled back"
	}
	s.log.Info().Str("request_id", gri.id).Int("requests", len(unit)).Str("outcome", outcome).Msg("change set")
	switch {
	case err == nil:
		for k, v := range local {
			refs[k] = v
		}
		return results
	case failed == nil: // begin or commit failed, or the outcome is unknown
		return fail(err)
	case !perRequest:
		return []*batchResult{failed}
	}
	out := make([]*batchResult, 0, len(unit))
	for _, q := range unit {
		if q == failed.Request {
			out = append(out, failed)
			continue
		}
		out = append(out, s.batchFailure(gr, q, newHTTPError(http.StatusFailedDependency, codeFailedDependency,
			"not applied: request %s of the same atomicity group failed", failed.Request.ID)))
	}
	return out
}

// batchSubRequest derives the request a batch part (or change set) runs
// as: the batch's context, principal and connection facts, its own request
// state (slot, timings) and a request id "<batch id>-<suffix>".
// The caller ends it with end (after answering).
func (s *Server) batchSubRequest(r *http.Request, suffix string) (sub *http.Request, ri *reqInfo, end func()) {
	pri := requestInfo(r)
	ri = &reqInfo{id: pri.id + "-" + suffix, start: time.Now(), status: http.StatusOK, principal: pri.principal}
	ctx, cancel := context.WithCancelCause(context.WithValue(r.Context(), ctxKey{}, ri))
	ri.cancel = cancel
	return r.WithContext(ctx), ri, func() { ri.finish(); cancel(nil) }
}

// runBatchRequest answers one request of a batch into a recorder.
func (s *Server) runBatchRequest(parent *http.Request, q *odata.BatchRequest, refs map[string]string, n int) *batchResult {
	suffix := q.ID
	if suffix == "" || len(suffix) > 32 {
		suffix = strconv.Itoa(n)
	}
	pr, ri, end := s.batchSubRequest(parent, suffix)
	defer end()
	target, err := s.batchTarget(parent, q.URL, refs)
	if err != nil {
		return s.batchFailure(pr, q, err)
	}
	// Bodies may name entities created earlier in the batch by Content-ID
	// too ("customer@odata.bind": "$1"): refPath resolves them.
	ctx := context.WithValue(pr.Context(), batchRefs{}, refs)
	sub, err := http.NewRequestWithContext(ctx, q.Method, target.String(), bytes.NewReader(q.Body))
	if err != nil {
		return s.batchFailure(pr, q, newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "malformed request in $batch: %s %s", q.Method, q.URL))
	}
	sub.Header = http.Header(q.Header).Clone()
	sub.Header.Del("Accept-Encoding") // parts are never compressed
	for _, name := range []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", s.cfg.CSRF.Header} {
		if v := parent.Header.Values(name); len(v) > 0 && sub.Header.Get(name) == "" {
			sub.Header[http.CanonicalHeaderKey(name)] = v
		}
	}
	sub.Host, sub.RemoteAddr, sub.TLS, sub.ContentLength = parent.Host, parent.RemoteAddr, parent.TLS, int64(len(q.Body))
	rec := &recorder{header: http.Header{}}
	s.respond(rec, sub, s.dispatch(sub))
	switch {
	case rec.status == 0 && ri.errMsg != "": // the batch's client went away: the answer goes nowhere
		rec.status = http.StatusServiceUnavailable
	case rec.status == 0:
		rec.status = http.StatusOK
	}
	rec.header.Del("Server-Timing") // the batch's own timing is what counts
	res := newBatchResult(q, rec.status, rec.header, rec.body.Bytes(), nil)
	if res.Failed() {
		res.err = ri.err
	}
	if q.ID != "" && (rec.status == http.StatusCreated || rec.status == http.StatusNoContent) {
		if loc := rec.header.Get("Location"); loc != "" {
			refs[q.ID] = loc
		}
	}
	d := time.Since(ri.start)
	s.metrics.observe(q.Method, rec.status, ri.set, d, ri.rows)
	s.recordTraffic(pr, q.Method, target.EscapedPath(), target.RawQuery, ri, rec.status, d)
	ev := s.log.Info()
	if rec.status >= 500 {
		ev = s.log.Warn()
	}
	ev = ev.Str("request_id", ri.id).Str("method", q.Method).Str("path", target.EscapedPath()).
		Int("status", rec.status).Dur("duration", d).Int64("rows", ri.rows).Int("bytes", rec.body.Len())
	if ri.principal != nil && ri.principal.Name != "" {
		ev = ev.Str("principal", ri.principal.Name)
	}
	if ri.errMsg != "" {
		ev = ev.Str("error", ri.errMsg)
	}
	ev.Msg("batch request")
	return res
}

// batchFailure is the recorded error answer for q (nil: a change set).
func (s *Server) batchFailure(r *http.Request, q *odata.BatchRequest, err error) *batchResult {
	rec := &recorder{header: http.Header{}}
	s.writeError(rec, r, err)
	if rec.status == 0 || rec.status == 499 {
		rec.status = http.StatusServiceUnavailable // the batch's client went away: the answer goes nowhere
	}
	return newBatchResult(q, rec.status, rec.header, rec.body.Bytes(), err)
}

// batchTarget resolves a part's URL against the service root: an absolute
// URL of this service, an absolute path under the root, a path relative to
// the root, or "$<id>[/...]" naming the entity an earlier request created.
func (s *Server) batchTarget(r *http.Request, raw string, refs map[string]string) (*url.URL, error) {
	if strings.HasPrefix(raw, "$") && !strings.HasPrefix(raw, "$metadata") && !strings.HasPrefix(raw, "$batch") {
		id, rest := raw[1:], ""
		if i := strings.IndexAny(id, "/?"); i >= 0 {
			id, rest = id[:i], id[i:]
		}
		loc, ok := refs[id]
		if !ok {
			return nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax,
				"$%s names no entity created earlier in this batch (Content-ID)", id)
		}
		raw = loc + rest
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "malformed URL in $batch: %q", raw)
	}
	root := s.cfg.Root + "/"
	switch {
	case u.IsAbs() || u.Host != "":
		base, _ := url.Parse(s.serviceRootURL(r))
		if !strings.EqualFold(u.Host, base.Host) || !strings.HasPrefix(u.EscapedPath(), root) && u.EscapedPath() != s.cfg.Root {
			return nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax,
				"a $batch request may only address this service (%s), not %s", s.serviceRootURL(r), raw)
		}
	case strings.HasPrefix(u.Path, "/"):
		if !strings.HasPrefix(u.EscapedPath(), root) && u.EscapedPath() != s.cfg.Root {
			return nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax,
				"a $batch request may only address this service (%s), not %s", root, raw)
		}
	default:
		u, err = url.Parse(root + raw)
		if err != nil {
			return nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "malformed URL in $batch: %q", raw)
		}
	}
	if strings.TrimPrefix(u.EscapedPath(), root) == "$batch" {
		return nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "a $batch cannot hold another $batch")
	}
	return &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}, nil
}
