package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// response is what a handler returns; respond writes it. Handlers never
// write to the http.ResponseWriter themselves, so that every answer gets the
// same headers and every error the same table (classify).
//
// What a handler holds while the response is written (a database slot,
// open rows) is registered with onDone as soon as it is taken, not carried
// in the response: it is then released even when the handler or the body
// writer panics.
type response struct {
	status int         // 0 means 200
	header http.Header // added to the response, errors included
	// body writes the payload after the headers; nil for none. It is not
	// called for HEAD requests or when err is set.
	body func(w http.ResponseWriter)
	// stream, instead of body, writes a payload that may still fail before
	// its first byte: it calls commit (which sends the status) before
	// writing, and an error it returns without having committed is answered
	// as an error response.
	stream func(w http.ResponseWriter, commit func()) error
	err    error
}

// fail is the response for err.
func fail(err error) response { return response{err: err} }

// onDone registers release to run once the request is answered (or its
// handler panicked), after the body is written; the last registered runs
// first, so rows are closed before the slot they were read under is freed.
func onDone(r *http.Request, release func()) {
	ri := requestInfo(r)
	ri.done = append(ri.done, release)
}

// releaseEarly gives back what the request holds (rows, the database slot)
// once its database work is done and the response is in memory or being
// spooled: a slow client then holds nothing the database needs.
func releaseEarly(r *http.Request) { requestInfo(r).finish() }

// finish runs what onDone registered; a second call does nothing.
func (ri *reqInfo) finish() {
	for i := len(ri.done) - 1; i >= 0; i-- {
		ri.done[i]()
	}
	ri.done = nil
}

// withInfo returns r with request state attached (the requestID middleware
// normally did that already).
func withInfo(r *http.Request) (*http.Request, *reqInfo) {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return r, ri
	}
	ri := &reqInfo{start: time.Now(), status: http.StatusOK}
	return r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri)), ri
}

// respond writes res: its headers, OData-Version and Server-Timing, then
// the status and the body, or the error through writeError.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, res response) {
	h := w.Header()
	for k, v := range res.header {
		h[k] = append(h[k], v...)
	}
	if res.err != nil {
		s.writeError(w, r, res.err)
		return
	}
	h.Set("OData-Version", "4.0")
	if t := requestInfo(r).timing; len(t) > 0 {
		h.Set("Server-Timing", strings.Join(t, ", "))
	}
	status := res.status
	if status == 0 {
		status = http.StatusOK
	}
	if res.stream != nil && r.Method != http.MethodHead {
		if err := res.stream(w, func() { w.WriteHeader(status) }); err != nil {
			h.Del("Preference-Applied")
			s.writeError(w, r, err)
		}
		return
	}
	w.WriteHeader(status)
	if res.body != nil && r.Method != http.MethodHead {
		res.body(w)
	}
}

// timing records a stage's duration for the Server-Timing header.
func timing(r *http.Request, stage string, start time.Time) {
	ri := requestInfo(r)
	ri.timing = append(ri.timing, fmt.Sprintf("%s;dur=%.3f", stage, float64(time.Since(start).Microseconds())/1000))
}
