package guard

import (
	"net/http"
	"strings"
)

// SecurityHeaders sets, before calling next, on every response:
//
//	X-Content-Type-Options: nosniff
//	Referrer-Policy: no-referrer
//	X-Frame-Options: DENY
//	Content-Security-Policy: default-src 'none'; frame-ancestors 'none'
//	Cache-Control: no-store          (handlers may override, e.g. for $metadata)
//	Strict-Transport-Security: max-age=31536000   (only when the request is HTTPS)
//
// A request is HTTPS when it arrived over TLS or, behind a trusted proxy
// (tp may be nil), when the proxy says so.
func SecurityHeaders(tp *TrustedProxies) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := w.Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
			h.Set("Cache-Control", "no-store")
			if tp.Scheme(r) == "https" {
				h.Set("Strict-Transport-Security", "max-age=31536000")
			}
			next.ServeHTTP(w, r)
		})
	}
}

// CORS methods, request headers and exposed headers.
const (
	corsMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
	corsAllowed = "Accept, Authorization, Content-Type, If-Match, If-None-Match, OData-Version, OData-MaxVersion, Prefer, X-API-Key, X-Requested-With"
	corsExpose  = "ETag, Location, OData-Version, OData-EntityId, Preference-Applied, Retry-After"
)

// CORS allows cross-origin browser requests from allowedOrigins (exact
// "scheme://host[:port]" matches, case-insensitive; "*" allows any origin,
// without credentials). With no origins it returns a pass-through: CORS is
// off. A preflight (OPTIONS with Origin and Access-Control-Request-Method)
// is answered here: 204 with the allowed methods and headers for an allowed
// origin, 403 otherwise; next is not called. Other requests from an allowed
// origin get Access-Control-Allow-Origin (and Allow-Credentials unless "*")
// and go on to next; requests from other origins go on without CORS
// headers, so browsers block the response.
func CORS(allowedOrigins []string) func(http.Handler) http.Handler {
	allowed := map[string]bool{}
	anyOrigin := false
	for _, o := range allowedOrigins {
		o = strings.TrimRight(strings.TrimSpace(o), "/")
		if o == "*" {
			anyOrigin = true
		} else if o != "" {
			allowed[strings.ToLower(o)] = true
		}
	}
	if !anyOrigin && len(allowed) == 0 {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin == "" {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Add("Vary", "Origin")
			ok := anyOrigin || allowed[strings.ToLower(origin)]
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			if preflight {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				if !ok {
					w.WriteHeader(http.StatusForbidden)
					return
				}
				setAllowOrigin(h, origin, anyOrigin && !allowed[strings.ToLower(origin)])
				h.Set("Access-Control-Allow-Methods", corsMethods)
				h.Set("Access-Control-Allow-Headers", corsAllowed)
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
			if ok {
				setAllowOrigin(h, origin, anyOrigin && !allowed[strings.ToLower(origin)])
				h.Set("Access-Control-Expose-Headers", corsExpose)
			}
			next.ServeHTTP(w, r)
		})
	}
}

func setAllowOrigin(h http.Header, origin string, wildcard bool) {
	if wildcard {
		h.Set("Access-Control-Allow-Origin", "*")
		return
	}
	h.Set("Access-Control-Allow-Origin", origin)
	h.Set("Access-Control-Allow-Credentials", "true")
}
