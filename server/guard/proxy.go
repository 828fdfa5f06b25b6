package guard

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies decides whether forwarded headers (Forwarded,
// X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host) may be believed: only
// when the direct peer (r.RemoteAddr) is inside one of the configured
// prefixes. A nil or empty TrustedProxies trusts nobody.
type TrustedProxies struct {
	prefixes []netip.Prefix
}

// NewTrustedProxies parses CIDRs ("10.0.0.0/8", "::1/128") and plain
// addresses ("127.0.0.1").
func NewTrustedProxies(cidrs []string) (*TrustedProxies, error) {
	t := &TrustedProxies{}
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		if c == "" {
			continue
		}
		if strings.Contains(c, "/") {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return nil, fmt.Errorf("guard: trusted proxy %q: %w", c, err)
			}
			t.prefixes = append(t.prefixes, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(c)
		if err != nil {
			return nil, fmt.Errorf("guard: trusted proxy %q: %w", c, err)
		}
		a = a.Unmap()
		t.prefixes = append(t.prefixes, netip.PrefixFrom(a, a.BitLen()))
	}
	return t, nil
}

func (t *TrustedProxies) contains(a netip.Addr) bool {
	if t == nil || !a.IsValid() {
		return false
	}
	a = a.Unmap()
	for _, p := range t.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

func remoteAddr(r *http.Request) netip.Addr {
	host := r.RemoteAddr
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// Trusted reports whether r came directly from a trusted proxy.
func (t *TrustedProxies) Trusted(r *http.Request) bool { return t.contains(remoteAddr(r)) }

// ClientIP is the address of the client. From a trusted proxy it walks the
// forwarded chain (Forwarded "for=" values, else X-Forwarded-For) from the
// right, skipping trusted proxies, and returns the first untrusted address
// (the leftmost when all are trusted); unparsable entries stop the walk at
// the last good address. Otherwise it is the host of r.RemoteAddr.
func (t *TrustedProxies) ClientIP(r *http.Request) string {
	peer := remoteAddr(r)
	fallback := r.RemoteAddr
	if peer.IsValid() {
		fallback = peer.String()
	}
	if !t.contains(peer) {
		return fallback
	}
	chain := forwardedValues(r, "for")
	if len(chain) == 0 {
		for _, h := range r.Header.Values("X-Forwarded-For") {
			for _, v := range strings.Split(h, ",") {
				chain = append(chain, strings.TrimSpace(v))
			}
		}
	}
	client := fallback
	for i := len(chain) - 1; i >= 0; i-- {
		a, ok := parseNodeAddr(chain[i])
		if !ok {
			break
		}
		client = a.String()
		if !t.contains(a) {
			break
		}
	}
	return client
}

// Scheme is "https" or "http": from a trusted proxy the last Forwarded
// "proto=" (else X-Forwarded-Proto) value when it is http or https, else
// "https" when r arrived over TLS.
func (t *TrustedProxies) Scheme(r *http.Request) string {
	if t.Trusted(r) {
		v := last(forwardedValues(r, "proto"))
		if v == "" {
			v = lastCSV(r.Header.Values("X-Forwarded-Proto"))
		}
		switch strings.ToLower(v) {
		case "https":
			return "https"
		case "http":
			return "http"
		}
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// Host is the host (and port) the client addressed: from a trusted proxy
// the last Forwarded "host=" (else X-Forwarded-Host) value when it is a
// syntactically valid host[:port], else r.Host.
func (t *TrustedProxies) Host(r *http.Request) string {
	if t.Trusted(r) {
		v := last(forwardedValues(r, "host"))
		if v == "" {
			v = lastCSV(r.Header.Values("X-Forwarded-Host"))
		}
		if validHost(v) {
			return v
		}
	}
	return r.Host
}

func last(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func lastCSV(hs []string) string {
	if len(hs) == 0 {
		return ""
	}
	parts := strings.Split(hs[len(hs)-1], ",")
	return strings.TrimSpace(parts[len(parts)-1])
}

// forwardedValues returns the values of parameter name in every element of
// the Forwarded headers (RFC 7239), in order, unquoted.
func forwardedValues(r *http.Request, name string) []string {
	var out []string
	for _, h := range r.Header.Values("Forwarded") {
		for _, elem := range splitQuoted(h, ',') {
			for _, pair := range splitQuoted(elem, ';') {
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), name) {
					continue
				}
				v = strings.TrimSpace(v)
				if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
					v = strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`)
				}
				out = append(out, v)
			}
		}
	}
	return out
}

// splitQuoted splits s at sep outside double quotes.
func splitQuoted(s string, sep byte) []string {
	var out []string
	inQ, start := false, 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && inQ:
			i++
		case s[i] == '"':
			inQ = !inQ
		case s[i] == sep && !inQ:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// parseNodeAddr parses an X-Forwarded-For entry or a Forwarded "for=" node:
// "1.2.3.4", "1.2.3.4:80", "[2001:db8::1]:443", "2001:db8::1".
func parseNodeAddr(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return a.Unmap(), true
	}
	if h, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(h); err == nil {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// validHost accepts host names, IPv4 and bracketed IPv6 with an optional
// numeric port.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	host, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return false
		}
		if _, err := netip.ParseAddr(h[1:end]); err != nil {
			return false
		}
		host, port = "", strings.TrimPrefix(h[end+1:], ":")
		if h[end+1:] != "" && !strings.HasPrefix(h[end+1:], ":") {
			return false
		}
	} else if i := strings.LastIndexByte(h, ':'); i >= 0 {
		host, port = h[:i], h[i+1:]
		if port == "" {
			return false
		}
	}
	for _, c := range port {
		if c < '0' || c > '9' {
			return false
		}
	}
	if len(port) > 5 {
		return false
	}
	for _, c := range host {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}
