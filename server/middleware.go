package server

// The middleware around every request: request id, access log and metrics,
// panic recovery, authentication and per-principal rate limits.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/server/auth"
	"github.com/odatagw/odatagw/server/guard"
)

// reqInfo is per-request state shared by the middleware and handlers.
type reqInfo struct {
	id        string
	start     time.Time
	status    int
	bytes     int64
	rows      int64
	set       string
	principal *auth.Principal
	masked    map[*metadata.Property]bool // hidden properties the client selected: written as null
	errMsg    string
	traceID   string // OpenTelemetry trace id, when tracing
	err       error  // the error answered, for $batch change sets
	timing    []string
	done      []func() // releases registered by onDone
	// cancel stops the request's database work with a cause (the long-lane
	// watchdog); set for requests under the service root.
	cancel context.CancelCauseFunc
}

type ctxKey struct{}

func requestInfo(r *http.Request) *reqInfo {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return ri
	}
	return &reqInfo{}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

func (s *Server) requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !validRequestID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		ri := &reqInfo{id: id, start: time.Now(), status: http.StatusOK}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri)))
	})
}

// statusWriter records the status and the bytes written.
type statusWriter struct {
	http.ResponseWriter
	ri          *reqInfo
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.ri.status = code
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	n, err := w.ResponseWriter.Write(b)
	w.ri.bytes += int64(n)
	return n, err
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := requestInfo(r)
		sw := &statusWriter{ResponseWriter: w, ri: ri}
		next.ServeHTTP(sw, r)
		d := time.Since(ri.start)
		s.metrics.observe(r.Method, ri.status, ri.set, d, ri.rows)
		s.recordTraffic(r, r.Method, r.URL.EscapedPath(), r.URL.RawQuery, ri, ri.status, d)
		ev := s.log.Info()
		if ri.status >= 500 {
			ev = s.log.Warn()
		}
		ev = ev.Str("request_id", ri.id).Str("method", r.Method).Str("path", r.URL.EscapedPath()).
			Int("status", ri.status).Dur("duration", d).Int64("rows", ri.rows).Int64("bytes", ri.bytes)
		if ri.set != "" {
			ev = ev.Str("set", ri.set)
		}
		if ri.principal != nil && ri.principal.Name != "" {
			ev = ev.Str("principal", ri.principal.Name)
		}
		if ri.errMsg != "" {
			ev = ev.Str("error", ri.errMsg)
		}
		if ri.traceID != "" {
			ev = ev.Str("trace_id", ri.traceID)
		}
		ev.Msg("request")
	})
}

func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				ri := requestInfo(r)
				s.log.Error().Str("request_id", ri.id).Interface("panic", v).Stack().Msg("panic recovered")
				if sw, ok := w.(*statusWriter); ok && sw.wroteHeader {
					// Too late for an error response: cut the connection so the
					// client sees a broken response, not a truncated valid one.
					panic(http.ErrAbortHandler)
				}
				s.writeError(w, r, newHTTPError(http.StatusInternalServerError, codeInternal,
					"Internal error. Quote request id %s to the operator.", ri.id))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// guardError writes guard middleware errors as OData error bodies.
func (s *Server) guardError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	s.writeError(w, r, &httpError{status: status, code: code, msg: msg})
}

// authenticate resolves the principal and applies the rate limit.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := requestInfo(r)
		if p, ok := r.Context().Value(internalPrincipal{}).(*auth.Principal); ok {
			// The console's in-process request, as the console's caller.
			ri.principal = p
			next.ServeHTTP(w, r)
			return
		}
		p := auth.Anonymous
		if s.auth != nil && s.auth.Enabled() {
			var err error
			p, err = s.auth.AuthenticateWith(r, s.passwordGate(r))
			if err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		ri.principal = p
		if s.rate != nil {
			key := p.Name
			if p == auth.Anonymous {
				key = "ip:" + s.clientIP(r)
			}
			if ok, retry := s.rate.Allow(key); !ok {
				e := newHTTPError(http.StatusTooManyRequests, codeTooManyRequests, "rate limit exceeded; retry later")
				e.header = http.Header{"Retry-After": {retryAfterSeconds(retry)}}
				s.writeError(w, r, e)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// passwordGate guards the bcrypt check of a Basic password (and only that:
// remembered verifications, JWTs and API keys are cheap and never get here).
// Failures are budgeted per client address and user name, so that guessing
// one user's password neither locks out other users nor other credentials
// from that address; beyond the budget 429 comes before any bcrypt work. At
// most s.bcrypt's slots check passwords at once, briefly queued; beyond
// that 503, so that a flood of wrong passwords cannot take all the CPU.
func (s *Server) passwordGate(r *http.Request) auth.PasswordGate {
	return func(user string) (func(bool), error) {
		key := s.clientIP(r) + "\x00" + user
		if ok, retry := s.authFail.Peek(key); !ok {
			s.metrics.passwordCheck("throttled")
			e := newHTTPError(http.StatusTooManyRequests, codeTooManyRequests, "too many failed authentications; retry later")
			e.header = http.Header{"Retry-After": {retryAfterSeconds(retry)}}
			return nil, e
		}
		var slot *guard.Slot
		if s.bcrypt != nil {
			var err error
			if slot, err = s.bcrypt.Acquire(r.Context()); err != nil {
				s.metrics.passwordCheck("busy")
				e := newHTTPError(http.StatusServiceUnavailable, codeUnavailable, "too many password checks at once; retry shortly")
				e.header = http.Header{"Retry-After": {"1"}}
				return nil, e
			}
		}
		return func(ok bool) {
			if slot != nil {
				slot.Release()
			}
			if ok {
				s.metrics.passwordCheck("ok")
				return
			}
			s.metrics.passwordCheck("fail")
			s.authFail.Allow(key)
		}, nil
	}
}

func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.TrustedProxies != nil {
		return s.cfg.TrustedProxies.ClientIP(r)
	}
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	return host
}

func retryAfterSeconds(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	return itoa(secs)
}
