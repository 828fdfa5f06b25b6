package server

import (
	"bufio"
	"context"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/metadata/csdl"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/jsonfmt"
)

// serveOData dispatches every request under the service root.
func (s *Server) serveOData(w http.ResponseWriter, r *http.Request) {
	r, ri := withInfo(r)
	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	r, ri.cancel = r.WithContext(ctx), cancel
	defer ri.finish()
	s.respond(w, r, s.dispatch(r))
}

func (s *Server) dispatch(r *http.Request) response {
	if v := strings.TrimSpace(r.Header.Get("OData-MaxVersion")); v != "" {
		if major, _, _ := strings.Cut(v, "."); major != "" && major < "4" && len(major) == 1 {
			return fail(newHTTPError(http.StatusBadRequest, codeInvalidSyntax,
				"this service speaks OData 4.0; OData-MaxVersion %s is too low", v))
		}
	}
	rel := strings.TrimPrefix(r.URL.EscapedPath(), s.cfg.Root)
	if rel != "" && rel[0] != '/' { // "/odataX" is not under "/odata"
		return fail(newHTTPError(http.StatusNotFound, codeNotFound,
			"no resource at %s; the OData service root is %s/", r.URL.EscapedPath(), s.cfg.Root))
	}
	method, err := tunneledMethod(r)
	if err != nil {
		return fail(err)
	}
	end := s.stage(r, "parse")
	req, err := odata.ParseRequest(rel, r.URL.RawQuery)
	end(err)
	if err != nil {
		return fail(err)
	}
	switch req.Path.Kind {
	case odata.PathServiceRoot:
		return s.only(method, s.serviceDocument, http.MethodGet, http.MethodHead)(r, req)
	case odata.PathMetadata:
		return s.only(method, s.metadataDocument, http.MethodGet, http.MethodHead)(r, req)
	case odata.PathBatch:
		if (method == http.MethodHead || method == http.MethodGet) && s.cfg.CSRF.Enabled &&
			strings.EqualFold(r.Header.Get(s.cfg.CSRF.Header), "Fetch") {
			// SAP Cloud SDK fetches the CSRF token for a batch from the
			// batch URL itself (HEAD $batch): answer it, without a body.
			h := http.Header{}
			s.issueCSRF(r, h)
			return response{header: h}
		}
		return s.only(method, s.batch, http.MethodPost)(r, req)
	}
	if isRefPath(req.Path) {
		switch {
		case method != http.MethodGet && method != http.MethodHead:
			return s.writeRef(r, req, method)
		case req.Options.ID != "":
			return fail(newHTTPError(http.StatusBadRequest, codeInvalidQuery, "$id names the reference a DELETE …/$ref removes; GET does not take it"))
		}
	}
	switch method {
	case http.MethodGet, http.MethodHead:
		return s.read(r, req)
	case http.MethodPost:
		return s.create(r, req)
	case http.MethodPatch, "MERGE":
		return s.update(r, req, false)
	case http.MethodPut:
		return s.update(r, req, true)
	case http.MethodDelete:
		return s.remove(r, req)
	}
	return fail(methodNotAllowed([]string{"GET", "HEAD", "POST", "PATCH", "PUT", "DELETE"},
		"method %s is not allowed here", method))
}

// tunneledMethod is the request's method, or the one a POST tunnels in
// X-HTTP-Method (for clients and proxies that cannot send PATCH or DELETE).
func tunneledMethod(r *http.Request) (string, error) {
	tunneled := strings.ToUpper(strings.TrimSpace(r.Header.Get("X-HTTP-Method")))
	if r.Method != http.MethodPost || tunneled == "" {
		return r.Method, nil
	}
	switch tunneled {
	case "PATCH", "MERGE", "PUT", "DELETE":
		return tunneled, nil
	}
	return "", newHTTPError(http.StatusBadRequest, codeInvalidSyntax,
		"X-HTTP-Method %q is not supported (PATCH, MERGE, PUT, DELETE)", tunneled)
}

type handler func(r *http.Request, req *odata.Request) response

// only allows h for the given methods; others get 405 with Allow.
func (s *Server) only(method string, h handler, allowed ...string) handler {
	for _, m := range allowed {
		if m == method {
			return h
		}
	}
	return func(*http.Request, *odata.Request) response {
		return fail(methodNotAllowed(allowed, "method %s is not allowed on this resource", method))
	}
}

// methodNotAllowed is a 405 with its Allow header.
func methodNotAllowed(allow []string, format string, args ...any) *httpError {
	e := newHTTPError(http.StatusMethodNotAllowed, codeMethodNotAllowed, format, args...)
	e.header = http.Header{"Allow": {strings.Join(allow, ", ")}}
	return e
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
	ieee754   bool
	streaming bool          // the client asked for odata.streaming=true
	metadata  jsonfmt.Level // odata.metadata (also the 4.01 unprefixed "metadata")
}

// formatOf reads the OData parameters of an accepted JSON media type; ok is
// false for an odata.metadata level that does not exist.
func formatOf(params map[string]string) (f format, ok bool) {
	f = format{
		ieee754:   strings.EqualFold(params["ieee754compatible"], "true"),
		streaming: strings.EqualFold(params["odata.streaming"], "true"),
	}
	level := params["odata.metadata"]
	if level == "" {
		level = params["metadata"]
	}
	switch strings.ToLower(level) {
	case "", "minimal":
	case "full":
		f.metadata = jsonfmt.Full
	case "none":
		f.metadata = jsonfmt.None
	default:
		return f, false
	}
	return f, true
}

// jsonOptions are the writer options of f for entities of set.
func (f format) jsonOptions(s *Server, set *metadata.EntitySet) jsonfmt.Options {
	return jsonfmt.Options{IEEE754Compatible: f.ieee754, Metadata: f.metadata, TypeName: s.Model().Namespace + "." + set.Name}
}

// negotiate picks JSON for data responses: $format wins over Accept; any
// JSON media type (with any OData parameters), */* and application/* are
// accepted; anything else is 406.
func negotiate(r *http.Request, req *odata.Request) (format, error) {
	var f format
	if fv := req.Options.Format; fv != "" {
		mt, params, err := mime.ParseMediaType(fv)
		if strings.EqualFold(fv, "json") || err == nil && mt == "application/json" {
			if f, ok := formatOf(params); ok {
				return f, nil
			}
			return f, newHTTPError(http.StatusNotAcceptable, codeNotAcceptable,
				"odata.metadata=%s is not a metadata level (minimal, full, none)", params["odata.metadata"]+params["metadata"])
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
			if f, ok := formatOf(params); ok {
				return f, nil
			}
		}
	}
	return f, newHTTPError(http.StatusNotAcceptable, codeNotAcceptable,
		"cannot produce %q; this service produces application/json", accept)
}

// contentType is the response's media type. odata.streaming=true is sent
// only when the client asked for it: some clients (SAP CAP) take a response
// that says it for a binary stream.
func (f format) contentType() string {
	ct := "application/json;odata.metadata=minimal"
	switch f.metadata {
	case jsonfmt.Full:
		ct = "application/json;odata.metadata=full"
	case jsonfmt.None:
		ct = "application/json;odata.metadata=none"
	}
	if f.streaming {
		ct += ";odata.streaming=true"
	}
	if f.ieee754 {
		ct += ";IEEE754Compatible=true"
	}
	return ct
}

func (s *Server) serviceDocument(r *http.Request, _ *odata.Request) response {
	h := http.Header{"Content-Type": {"application/json;odata.metadata=minimal"}}
	s.issueCSRF(r, h)
	root := s.serviceRootURL(r)
	return response{header: h, body: func(w http.ResponseWriter) {
		if err := csdl.WriteServiceDocument(w, s.Model(), root+"$metadata"); err != nil {
			s.log.Warn().Err(err).Msg("writing service document")
		}
	}}
}

func (s *Server) metadataDocument(r *http.Request, req *odata.Request) response {
	asJSON, err := metadataAsJSON(r, req)
	if err != nil {
		return fail(err)
	}
	write, ct := csdl.WriteMetadata, "application/xml"
	if asJSON {
		write, ct = csdl.WriteMetadataJSON, "application/json"
	}
	h := http.Header{"Content-Type": {ct}}
	s.issueCSRF(r, h)
	return response{header: h, body: func(w http.ResponseWriter) {
		bw := bufio.NewWriterSize(w, 32<<10)
		if err := write(bw, s.Model()); err != nil {
			s.log.Warn().Err(err).Msg("writing $metadata")
		}
		_ = bw.Flush()
	}}
}

// metadataAsJSON decides the format of $metadata: CSDL XML (what Salesforce
// and every 4.0 client reads) unless $format asks for JSON, or Accept names
// JSON and neither XML nor a wildcard (OData 4.01 CSDL JSON).
func metadataAsJSON(r *http.Request, req *odata.Request) (bool, error) {
	switch f := strings.ToLower(req.Options.Format); {
	case f == "":
	case f == "xml" || strings.HasPrefix(f, "application/xml"):
		return false, nil
	case f == "json" || strings.HasPrefix(f, "application/json"):
		return true, nil
	default:
		return false, newHTTPError(http.StatusNotAcceptable, codeNotAcceptable,
			"$metadata is available as CSDL XML ($format=xml) or CSDL JSON ($format=json)")
	}
	json := false
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		switch {
		case err != nil:
		case mt == "application/json":
			json = true
		case strings.Contains(mt, "xml") || strings.Contains(mt, "*"):
			return false, nil
		}
	}
	return json, nil
}
