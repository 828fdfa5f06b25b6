package odata

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"sort"
	"strings"
)

// BatchResponse is the answer to one request of a $batch, or, with Request
// nil, to a whole change set that failed before any request answered.
type BatchResponse struct {
	Request *BatchRequest
	Status  int
	Reason  string              // the status line's reason phrase ("OK")
	Header  map[string][]string // canonical names
	Body    []byte
}

// Failed reports an error answer.
func (r *BatchResponse) Failed() bool { return r.Status >= 400 }

// BatchWriter writes a $batch response as it is produced: multipart/mixed
// (OData 4.0 Protocol §11.7.4) or the 4.01 JSON form, one unit (a request,
// or a change set) at a time.
type BatchWriter struct {
	w        io.Writer
	json     bool
	boundary string
	n        int // JSON responses written
}

// NewBatchWriter prepares a response, as JSON when asJSON; Begin gives it
// the writer.
func NewBatchWriter(asJSON bool) *BatchWriter {
	return &BatchWriter{json: asJSON, boundary: "batchresponse_" + randomHex()}
}

// ContentType is the response's media type.
func (bw *BatchWriter) ContentType() string {
	if bw.json {
		return "application/json"
	}
	return "multipart/mixed; boundary=" + bw.boundary
}

// Begin starts writing the response to w.
func (bw *BatchWriter) Begin(w io.Writer) {
	bw.w = w
	if bw.json {
		_, _ = io.WriteString(bw.w, `{"responses":[`)
	}
}

// End closes the response.
func (bw *BatchWriter) End() {
	if bw.json {
		_, _ = io.WriteString(bw.w, "]}\n")
		return
	}
	_, _ = fmt.Fprintf(bw.w, "--%s--\r\n", bw.boundary)
}

// Unit writes the responses of one unit; a change set that succeeded is
// nested in its own multipart (changeSet true).
func (bw *BatchWriter) Unit(rs []*BatchResponse, changeSet bool) {
	var b bytes.Buffer
	switch {
	case bw.json:
		bw.jsonUnit(&b, rs)
	case changeSet && len(rs) > 0 && !rs[0].Failed():
		cs := "changesetresponse_" + randomHex()
		fmt.Fprintf(&b, "--%s\r\nContent-Type: multipart/mixed; boundary=%s\r\n\r\n", bw.boundary, cs)
		for _, r := range rs {
			writeHTTPPart(&b, cs, r)
		}
		fmt.Fprintf(&b, "--%s--\r\n", cs)
	default:
		for _, r := range rs {
			writeHTTPPart(&b, bw.boundary, r)
		}
	}
	_, _ = bw.w.Write(b.Bytes())
}

func sortedNames(h map[string][]string, skip string) []string {
	names := make([]string, 0, len(h))
	for k := range h {
		if k != skip {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	return names
}

func writeHTTPPart(b *bytes.Buffer, boundary string, r *BatchResponse) {
	fmt.Fprintf(b, "--%s\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n", boundary)
	if r.Request != nil && r.Request.ID != "" {
		fmt.Fprintf(b, "Content-ID: %s\r\n", r.Request.ID)
	}
	fmt.Fprintf(b, "\r\nHTTP/1.1 %d %s\r\n", r.Status, r.Reason)
	for _, k := range sortedNames(r.Header, "") {
		for _, v := range r.Header[k] {
			fmt.Fprintf(b, "%s: %s\r\n", k, v)
		}
	}
	b.WriteString("\r\n")
	b.Write(r.Body)
	b.WriteString("\r\n")
}

func (bw *BatchWriter) jsonUnit(b *bytes.Buffer, rs []*BatchResponse) {
	for _, r := range rs {
		if bw.n > 0 {
			b.WriteByte(',')
		}
		bw.n++
		b.WriteByte('{')
		if r.Request != nil && r.Request.ID != "" {
			b.WriteString(`"id":`)
			writeJSONString(b, r.Request.ID)
			b.WriteByte(',')
			if r.Request.Group != "" {
				b.WriteString(`"atomicityGroup":`)
				writeJSONString(b, r.Request.Group)
				b.WriteByte(',')
			}
		}
		fmt.Fprintf(b, `"status":%d`, r.Status)
		if names := sortedNames(r.Header, "Content-Length"); len(names) > 0 { // the body is embedded
			b.WriteString(`,"headers":{`)
			for i, k := range names {
				if i > 0 {
					b.WriteByte(',')
				}
				writeJSONString(b, strings.ToLower(k))
				b.WriteByte(':')
				writeJSONString(b, strings.Join(r.Header[k], ", "))
			}
			b.WriteByte('}')
		}
		if body := bytes.TrimSpace(r.Body); len(body) > 0 {
			b.WriteString(`,"body":`)
			var ct string
			if v := r.Header["Content-Type"]; len(v) > 0 {
				ct = v[0]
			}
			if mt, _, _ := mime.ParseMediaType(ct); mt == "application/json" && json.Valid(body) {
				b.Write(body)
			} else {
				writeJSONString(b, string(r.Body))
			}
		}
		b.WriteByte('}')
	}
}

func writeJSONString(b *bytes.Buffer, s string) {
	out, _ := json.Marshal(s)
	b.Write(out)
}

func randomHex() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
