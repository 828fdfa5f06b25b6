package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"strings"
	"time"
)

// CSRF tokens are stateless: base64url(expiry unix seconds | HMAC-SHA256(key,
// "csrf" | principal | expiry)[:16]). They are bound to the authenticated
// principal (not to a cookie), so they work whether or not the client
// replays cookies, and any replica sharing the key accepts them.

func (s *Server) csrfToken(principal string, exp time.Time) string {
	var buf [8 + 16]byte
	binary.BigEndian.PutUint64(buf[:8], uint64(exp.Unix()))
	mac := hmac.New(sha256.New, s.cfg.TokenKey)
	mac.Write([]byte("csrf\x00"))
	mac.Write([]byte(principal))
	mac.Write([]byte{0})
	mac.Write(buf[:8])
	copy(buf[8:], mac.Sum(nil)[:16])
	return base64.RawURLEncoding.EncodeToString(buf[:])
}

func (s *Server) csrfValid(principal, token string, now time.Time) bool {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(raw) != 24 {
		return false
	}
	exp := time.Unix(int64(binary.BigEndian.Uint64(raw[:8])), 0)
	if now.After(exp) {
		return false
	}
	want := s.csrfToken(principal, exp)
	return hmac.Equal([]byte(want), []byte(token))
}

// issueCSRF answers "X-CSRF-Token: Fetch" on reads (the service document,
// $metadata and any resource) by adding a token to h.
func (s *Server) issueCSRF(r *http.Request, h http.Header) {
	if !s.cfg.CSRF.Enabled || !strings.EqualFold(r.Header.Get(s.cfg.CSRF.Header), "Fetch") {
		return
	}
	name := ""
	if p := requestInfo(r).principal; p != nil {
		name = p.Name
	}
	h.Set(s.cfg.CSRF.Header, s.csrfToken(name, s.now().Add(s.cfg.CSRF.TTL)))
	h.Add("Cache-Control", "no-store")
}

// checkCSRF rejects a write without a valid token (403, "X-CSRF-Token: Required").
func (s *Server) checkCSRF(r *http.Request) error {
	if !s.cfg.CSRF.Enabled {
		return nil
	}
	name := ""
	if p := requestInfo(r).principal; p != nil {
		name = p.Name
	}
	if s.csrfValid(name, r.Header.Get(s.cfg.CSRF.Header), s.now()) {
		return nil
	}
	e := newHTTPError(http.StatusForbidden, codeForbidden,
		"CSRF token missing, invalid or expired: fetch one with a GET and header %s: Fetch", s.cfg.CSRF.Header)
	e.header = http.Header{http.CanonicalHeaderKey(s.cfg.CSRF.Header): {"Required"}}
	return e
}
