package odata

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// BatchRequest is one request of a $batch (OData 4.0 Protocol §11.7,
// multipart/mixed; OData 4.01 JSON Format §19, application/json).
type BatchRequest struct {
	// ID is the Content-ID (multipart) or id (JSON); "" when absent.
	ID     string
	Method string
	// URL as sent: absolute, absolute path, relative to the service root,
	// or starting with "$<id>" (a reference to an earlier request's entity).
	URL    string
	Header textproto.MIMEHeader
	Body   []byte
	// Group is the change set (multipart) or atomicity group (JSON) the
	// request belongs to; "" for none. Members of a group are adjacent.
	Group string
	// DependsOn lists ids of requests or groups that must have succeeded
	// (JSON only).
	DependsOn []string
}

// BatchError is a malformed $batch body (answered 400).
type BatchError struct{ Msg string }

func (e *BatchError) Error() string { return e.Msg }

func batchErrorf(format string, args ...any) error {
	return &BatchError{Msg: fmt.Sprintf(format, args...)}
}

// ParseBatch reads a $batch body of the given Content-Type: multipart/mixed
// with a boundary, or application/json. At most maxRequests requests are
// accepted (0: no limit); more is an error of kind *BatchTooLarge.
func ParseBatch(contentType string, body []byte, maxRequests int) ([]*BatchRequest, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return nil, batchErrorf("$batch needs Content-Type multipart/mixed;boundary=... or application/json, not %q", contentType)
	}
	var reqs []*BatchRequest
	switch mt {
	case "multipart/mixed":
		if params["boundary"] == "" {
			return nil, batchErrorf("multipart/mixed $batch without a boundary parameter")
		}
		reqs, err = parseMultipartBatch(body, params["boundary"], maxRequests)
	case "application/json":
		reqs, err = parseJSONBatch(body, maxRequests)
	default:
		return nil, batchErrorf("$batch needs Content-Type multipart/mixed;boundary=... or application/json, not %q", mt)
	}
	if err != nil {
		return nil, err
	}
	return reqs, nil
}

// BatchTooLarge is a batch with more requests than allowed.
type BatchTooLarge struct{ Max int }

func (e *BatchTooLarge) Error() string {
	return fmt.Sprintf("a $batch may hold at most %d requests", e.Max)
}

func parseMultipartBatch(body []byte, boundary string, max int) ([]*BatchRequest, error) {
	var out []*BatchRequest
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	changeSets := 0
	for {
		part, err := mr.NextRawPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, batchErrorf("malformed multipart $batch body: %v", err)
		}
		ct := part.Header.Get("Content-Type")
		mt, params, _ := mime.ParseMediaType(ct)
		switch mt {
		case "application/http":
			r, err := parseHTTPPart(part, part.Header)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		case "multipart/mixed":
			changeSets++
			group := fmt.Sprintf("changeset%d", changeSets)
			inner := multipart.NewReader(part, params["boundary"])
			n := 0
			for {
				ip, err := inner.NextRawPart()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return nil, batchErrorf("malformed change set in $batch: %v", err)
				}
				if imt, _, _ := mime.ParseMediaType(ip.Header.Get("Content-Type")); imt != "application/http" {
					return nil, batchErrorf("a change set may hold only application/http parts, not %q", ip.Header.Get("Content-Type"))
				}
				r, err := parseHTTPPart(ip, ip.Header)
				if err != nil {
					return nil, err
				}
				if r.Method == "GET" || r.Method == "HEAD" {
					return nil, batchErrorf("a change set may hold only changes, not %s %s", r.Method, r.URL)
				}
				r.Group = group
				out = append(out, r)
				n++
				if max > 0 && len(out) > max {
					return nil, &BatchTooLarge{Max: max}
				}
			}
			if n == 0 {
				return nil, batchErrorf("empty change set in $batch")
			}
		default:
			return nil, batchErrorf("a $batch part must be application/http or multipart/mixed, not %q", ct)
		}
		if max > 0 && len(out) > max {
			return nil, &BatchTooLarge{Max: max}
		}
	}
	if err := checkIDs(out); err != nil {
		return nil, err
	}
	return out, nil
}

// parseHTTPPart reads one application/http part: a request line, headers,
// an empty line and the body.
func parseHTTPPart(part io.Reader, mimeHeader textproto.MIMEHeader) (*BatchRequest, error) {
	br := bufio.NewReader(part)
	tp := textproto.NewReader(br)
	line, err := tp.ReadLine()
	for err == nil && strings.TrimSpace(line) == "" { // tolerate leading blank lines
		line, err = tp.ReadLine()
	}
	if err != nil {
		return nil, batchErrorf("a $batch part holds no request line")
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !strings.HasPrefix(proto, "HTTP/1.") || target == "" {
		return nil, batchErrorf("malformed request line in $batch: %q (want METHOD URL HTTP/1.1)", line)
	}
	hdr, err := tp.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, batchErrorf("malformed headers in a $batch part: %v", err)
	}
	body, err := io.ReadAll(br)
	if err != nil {
		return nil, batchErrorf("malformed $batch part body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = nil
	}
	r := &BatchRequest{Method: strings.ToUpper(method), URL: target, Header: hdr, Body: body}
	if r.Header == nil {
		r.Header = textproto.MIMEHeader{}
	}
	// Content-ID is a MIME header of the part; some clients put it among
	// the request's headers instead.
	r.ID = mimeHeader.Get("Content-ID")
	if r.ID == "" {
		r.ID = r.Header.Get("Content-ID")
	}
	return r, nil
}

// jsonBatch is the 4.01 JSON batch request body.
type jsonBatch struct {
	Requests []struct {
		ID             string            `json:"id"`
		AtomicityGroup string            `json:"atomicityGroup"`
		DependsOn      []string          `json:"dependsOn"`
		Method         string            `json:"method"`
		URL            string            `json:"url"`
		Headers        map[string]string `json:"headers"`
		Body           json.RawMessage   `json:"body"`
	} `json:"requests"`
}

func parseJSONBatch(body []byte, max int) ([]*BatchRequest, error) {
	var b jsonBatch
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&b); err != nil {
		return nil, batchErrorf("malformed JSON $batch body: %v", err)
	}
	if b.Requests == nil {
		return nil, batchErrorf(`a JSON $batch body is {"requests":[...]}`)
	}
	if max > 0 && len(b.Requests) > max {
		return nil, &BatchTooLarge{Max: max}
	}
	out := make([]*BatchRequest, 0, len(b.Requests))
	seen := map[string]bool{}
	closed := map[string]bool{} // groups already ended: members must be adjacent
	prevGroup := ""
	for i, jr := range b.Requests {
		if jr.ID == "" {
			return nil, batchErrorf("request %d of the $batch has no id", i+1)
		}
		if jr.Method == "" || jr.URL == "" {
			return nil, batchErrorf("request %s of the $batch needs method and url", jr.ID)
		}
		for _, d := range jr.DependsOn {
			if !seen[d] {
				return nil, batchErrorf("request %s depends on %q, which is not an earlier request or group", jr.ID, d)
			}
		}
		if jr.AtomicityGroup != prevGroup && prevGroup != "" {
			closed[prevGroup] = true
		}
		if jr.AtomicityGroup != "" && closed[jr.AtomicityGroup] {
			return nil, batchErrorf("the requests of atomicity group %q must be adjacent", jr.AtomicityGroup)
		}
		prevGroup = jr.AtomicityGroup
		h := textproto.MIMEHeader{}
		for k, v := range jr.Headers {
			h.Set(k, v)
		}
		r := &BatchRequest{ID: jr.ID, Method: strings.ToUpper(jr.Method), URL: jr.URL, Header: h,
			Group: jr.AtomicityGroup, DependsOn: jr.DependsOn}
		if len(jr.Body) > 0 && !bytes.Equal(jr.Body, []byte("null")) {
			r.Body = jr.Body
			mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
			if jr.Body[0] == '"' && mt != "" && mt != "application/json" {
				var s string // a non-JSON body travels as a JSON string
				if err := json.Unmarshal(jr.Body, &s); err != nil {
					return nil, batchErrorf("request %s: malformed body", jr.ID)
				}
				r.Body = []byte(s)
			}
			if h.Get("Content-Type") == "" {
				h.Set("Content-Type", "application/json")
			}
		}
		if r.Group != "" && (r.Method == "GET" || r.Method == "HEAD") {
			return nil, batchErrorf("atomicity group %q may hold only changes, not %s %s", r.Group, r.Method, r.URL)
		}
		out = append(out, r)
		seen[jr.ID] = true
		if jr.AtomicityGroup != "" {
			seen[jr.AtomicityGroup] = true
		}
	}
	if err := checkIDs(out); err != nil {
		return nil, err
	}
	return out, nil
}

// checkIDs rejects two requests with the same id.
func checkIDs(reqs []*BatchRequest) error {
	seen := map[string]bool{}
	for _, r := range reqs {
		if r.ID == "" {
			continue
		}
		if seen[r.ID] {
			return batchErrorf("two requests of the $batch have the id %q", r.ID)
		}
		seen[r.ID] = true
	}
	return nil
}
