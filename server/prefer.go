package server

import (
	"net/http"
	"strconv"
	"strings"
)

// prefer holds the preferences of a Prefer header (RFC 7240, OData 4.0
// Protocol §8.2.8) that the gateway honours.
type prefer struct {
	maxPageSize int    // odata.maxpagesize (also the unprefixed maxpagesize); 0 when absent or invalid
	ret         string // return=minimal|representation, lower-case; "" when absent
	// continueOnError: odata.continue-on-error (4.01: continue-on-error),
	// absent or "true"; "false" turns it off.
	continueOnError bool
	trackChanges    bool // odata.track-changes (4.01: track-changes)
}

// preferences parses every Prefer header of r. Names are case-insensitive;
// the first occurrence of a preference wins; values may be quoted;
// parameters after ';' are ignored.
func preferences(r *http.Request) prefer {
	var p prefer
	seenPage, seenReturn := false, false
	for _, v := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(v, ",") {
			pref, _, _ := strings.Cut(part, ";")
			name, val, _ := strings.Cut(pref, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			val = strings.Trim(strings.TrimSpace(val), `"`)
			switch name {
			case "odata.maxpagesize", "maxpagesize":
				if !seenPage {
					if n, err := strconv.Atoi(val); err == nil && n > 0 {
						p.maxPageSize, seenPage = n, true
					}
				}
			case "odata.track-changes", "track-changes":
				p.trackChanges = true
			case "odata.continue-on-error", "continue-on-error":
				p.continueOnError = val == "" || strings.EqualFold(val, "true")
			case "return":
				if !seenReturn {
					p.ret, seenReturn = strings.ToLower(val), true
				}
			}
		}
	}
	return p
}

// acceptsGzip reports whether Accept-Encoding allows gzip (q > 0).
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		k, v, ok := strings.Cut(strings.TrimSpace(params), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return err == nil && q > 0
		}
		return true
	}
	return false
}
