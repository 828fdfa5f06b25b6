package server

// The web console (package server/console) is mounted here: behind the
// same middleware and authentication as the API, for principals with the
// console role only when authentication is on. Its samples and checks run
// through the gateway's own handler in process, as the console's caller,
// and only with GET/HEAD; requests under the service root are recorded for
// its Traffic page.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/odatagw/odatagw/server/auth"
	"github.com/odatagw/odatagw/server/console"
)

// ConsoleConfig mounts the web console (nil Deps.Console: no console).
type ConsoleConfig struct {
	// Path is where the console is served (default /console).
	Path string
	// Role is the role a principal needs when authentication is on
	// (default admin).
	Role string
}

// internalPrincipal carries, in the context of the console's in-process
// requests, the principal they run as. The key is unexported: no client
// request can carry it.
type internalPrincipal struct{}

// mountConsole adds the console's routes.
func (s *Server) mountConsole(r *mux.Router, o console.Options) {
	path := "/" + strings.Trim(s.cfg.Console.Path, "/")
	if path == "/" {
		path = "/console"
	}
	if s.cfg.Console.Role == "" {
		s.cfg.Console.Role = "admin"
	}
	o.Path, o.Root = path, s.cfg.Root
	if o.Model == nil {
		o.Model = s.Model
	}
	o.API = s.internalTransport
	o.Principal = func(r *http.Request) string {
		if p := requestInfo(r).principal; p != nil && p != auth.Anonymous {
			return p.Name
		}
		return ""
	}
	s.console = console.New(o)
	h := s.authenticate(s.consoleGate(http.StripPrefix(path, s.console)))
	r.Handle(path, http.RedirectHandler(path+"/", http.StatusMovedPermanently))
	r.PathPrefix(path + "/").Handler(h)
}

// consoleGate lets through principals with the console role when
// authentication is on (anonymous callers get the 401 challenge, so that a
// browser asks for credentials); without authentication everyone who
// reaches the gateway is let through, as for the API.
func (s *Server) consoleGate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.auth != nil && s.auth.Enabled() {
			p := requestInfo(r).principal
			if p == nil || !p.HasRole(s.cfg.Console.Role) {
				s.writeError(w, r, &auth.Error{Status: http.StatusForbidden, Code: codeForbidden,
					Msg:    "the console is for principals with the role " + s.cfg.Console.Role,
					Reason: fmt.Sprintf("console: principal lacks role %q", s.cfg.Console.Role)})
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// internalTransport runs requests through the gateway's handler in
// process, as the principal of the console request r: the policy applies
// as for that caller, the rate limit does not, and they are not recorded
// as traffic. Only GET and HEAD pass.
func (s *Server) internalTransport(r *http.Request) http.RoundTripper {
	p := requestInfo(r).principal
	if p == nil {
		p = auth.Anonymous
	}
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			return nil, fmt.Errorf("console: %s is not allowed in process", req.Method)
		}
		in := req.Clone(context.WithValue(req.Context(), internalPrincipal{}, p))
		in.Host = req.URL.Host
		in.RequestURI = req.URL.RequestURI()
		in.RemoteAddr = "127.0.0.1:0"
		if in.Body == nil {
			in.Body = http.NoBody
		}
		rec := &recorder{header: http.Header{}}
		s.handler.ServeHTTP(rec, in)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		return &http.Response{
			Status: fmt.Sprintf("%d %s", rec.status, http.StatusText(rec.status)), StatusCode: rec.status,
			Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: rec.header,
			Body: readCloser{strings.NewReader(rec.body.String())}, ContentLength: int64(rec.body.Len()), Request: req,
		}, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type readCloser struct{ *strings.Reader }

func (readCloser) Close() error { return nil }

// recordTraffic adds a request under the service root to the console's
// Traffic page (not the console's own in-process requests).
func (s *Server) recordTraffic(r *http.Request, method, path, query string, ri *reqInfo, status int, d time.Duration) {
	if s.console == nil || r.Context().Value(internalPrincipal{}) != nil {
		return
	}
	if path != s.cfg.Root && !strings.HasPrefix(path, s.cfg.Root+"/") {
		return
	}
	if query != "" {
		path += "?" + query
	}
	e := console.Exchange{Time: ri.start, ID: ri.id, Method: method, Path: path, Status: status,
		Rows: ri.rows, Duration: d, Code: ri.errMsg, Set: ri.set}
	if ri.principal != nil {
		e.Principal = ri.principal.Name
	}
	s.console.Traffic().Record(e)
}
