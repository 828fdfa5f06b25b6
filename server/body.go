package server

import (
	"compress/gzip"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/odatagw/odatagw/server/guard"
)

// readBody reads a JSON request body: Content-Type must be JSON (415),
// Content-Encoding gzip is inflated, and the (inflated) size is capped
// (413). Parsing it is odata.ParseEntity's job.
func (s *Server) readBody(r *http.Request) ([]byte, error) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return nil, newHTTPError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
				"request bodies must be application/json, not %q", ct)
		}
	}
	return s.readBytes(r)
}

// readBytes reads a request body of any type: Content-Encoding gzip is
// inflated, and the (inflated) size is capped (413).
func (s *Server) readBytes(r *http.Request) ([]byte, error) {
	limit := s.cfg.MaxBodyBytes
	var body io.Reader = http.MaxBytesReader(nil, r.Body, limit)
	notGzip := newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "the request body is not valid gzip")
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, notGzip
		}
		defer zr.Close()
		body = io.LimitReader(zr, limit+1)
	default:
		return nil, newHTTPError(http.StatusUnsupportedMediaType, codeUnsupportedMediaType,
			"Content-Encoding %q is not supported (gzip is)", enc)
	}
	data, err := io.ReadAll(body)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || int64(len(data)) > limit:
		return nil, newHTTPError(http.StatusRequestEntityTooLarge, codePayloadTooLarge, "%s", guard.BodyTooLargeMsg(limit))
	case errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, notGzip
	case err != nil:
		return nil, newHTTPError(http.StatusBadRequest, codeInvalidSyntax, "cannot read the request body")
	}
	return data, nil
}
