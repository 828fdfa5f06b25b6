package server

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// response is what a handler returns; respond writes it. Handlers never
// write to the http.ResponseWriter themselves, so that every answer gets the
// same headers, every error the same table (classify) and every resource a
// handler holds (rows, a database slot) is released once.
type response struct {
	status int         // 0 means 200
	header http.Header // set on the response, errors included
	// body writes the payload after the headers; nil for none. It is not
	// called for HEAD requests or when err is set.
	body func(w io.Writer)
	// close releases what the handler holds; respond always calls it,
	// after the body.
	close func()
	err   error
}

// fail is the response for err.
func fail(err error) response { return response{err: err} }

// then returns res with release run after res's own close (a database
// slot is released after the rows read under it are closed).
func (res response) then(release func()) response {
	if inner := res.close; inner != nil {
		res.close = func() { inner(); release() }
	} else {
		res.close = release
	}
	return res
}

// respond writes res: its headers, OData-Version and Server-Timing, then
// the status and the body, or the error through writeError.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, res response) {
	if res.close != nil {
		defer res.close()
	}
	h := w.Header()
	for k, v := range res.header {
		h[k] = v
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
