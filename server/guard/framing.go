package guard

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Request smuggling through Transfer-Encoding (RFC 9112 section 6.1, 11.2).
//
// Go's net/http server accepts a request that carries both
// "Transfer-Encoding: chunked" and Content-Length: it reads the body chunked
// and deletes the Content-Length header, so a handler cannot see the
// conflict, and it then reads whatever follows the chunked body as the next
// request on the connection. A proxy in front that framed the message by
// Content-Length instead forwarded those bytes as body: they are a smuggled
// request. RFC 9112 says such a message "ought to be handled as an error"
// and that the server must close the connection after answering it.
//
// Framing, the middleware, closes the connection after every request with a
// chunked body (Connection: close), so nothing that follows a chunked body is
// ever served; and it answers 400 without reading the body when the request
// also declared Content-Length. Only the connection knows the latter: wrap
// plain-text listeners with FramingListener and set http.Server.ConnContext
// to FramingContext. The wrapped connection follows the request framing as
// the server reads it (heads, then Content-Length bodies) up to the first
// head with a Transfer-Encoding, which is the last request served on that
// connection, and remembers whether that head also had a Content-Length.
// TLS connections cannot be wrapped (net/http needs the *tls.Conn): there
// Framing still closes the connection after a chunked body, but a request
// with both fields is served by its chunked body, as RFC 9112 allows.

// FramingListener wraps ln so that FramingContext and Framing can tell, for
// each connection, whether a request declared both Transfer-Encoding and
// Content-Length. Use it only on plain-text listeners.
func FramingListener(ln net.Listener) net.Listener { return framingListener{ln} }

type framingListener struct{ net.Listener }

func (l framingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framingConn{Conn: c, f: &framer{}}, nil
}

type framingConn struct {
	net.Conn
	f *framer
}

func (c *framingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.f.feed(p[:n])
	return n, err
}

type framingKey struct{}

// FramingContext is an http.Server ConnContext hook: it makes the framing
// record of a connection from FramingListener available to Framing.
func FramingContext(ctx context.Context, c net.Conn) context.Context {
	if fc, ok := c.(*framingConn); ok {
		return context.WithValue(ctx, framingKey{}, fc.f)
	}
	return ctx
}

// Framing answers 400 with Connection: close, without calling next, when an
// HTTP/1 request with a chunked body also declared Content-Length (known on
// connections from FramingListener), and sets Connection: close on every
// other request with a chunked body. (net/http itself refuses obfuscations
// such as "Transfer-Encoding : chunked", a field name with whitespace.)
func Framing(onErr ErrorFunc) func(http.Handler) http.Handler {
	onErr = orDefault(onErr)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ProtoMajor != 1 || len(r.TransferEncoding) == 0 {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("Connection", "close")
			if f, ok := r.Context().Value(framingKey{}).(*framer); ok &&
				f.bothLengths(r.Method+" "+r.RequestURI+" "+r.Proto) {
				onErr(w, r, http.StatusBadRequest, "InvalidSyntax",
					"the request declares both Transfer-Encoding and Content-Length")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// maxFramingHead bounds the request head the framer buffers; beyond it the
// server has refused the request anyway (431) and the framer gives up.
const maxFramingHead = 1 << 20

// framer follows HTTP/1 request framing the way net/http reads it: a head
// (request line, header fields, empty line; lines end at LF, a CR before it
// is dropped), then a body of Content-Length bytes (none without it). It
// stops at the first head with a Transfer-Encoding (for HTTP/1.1 and later:
// net/http ignores the field in HTTP/1.0), or when it cannot be sure of the
// framing (obsolete line folding, an unusable Content-Length, an oversized
// head: net/http refuses most of these and closes the connection).
type framer struct {
	mu   sync.Mutex
	done bool
	skip int64  // body bytes still to pass
	head []byte // the head read so far
	line int    // where its current line starts

	teLine string // request line of the head with a Transfer-Encoding
	teCL   bool   // that head also had a Content-Length
}

func (f *framer) feed(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(p) > 0 && !f.done {
		if f.skip > 0 {
			n := int64(len(p))
			if n > f.skip {
				n = f.skip
			}
			f.skip -= n
			p = p[n:]
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			f.head = append(f.head, p...)
			p = nil
		} else {
			f.head = append(f.head, p[:i+1]...)
			p = p[i+1:]
			line := f.head[f.line:] // the line just completed, LF included
			switch {
			case len(line) > 2 || len(line) == 2 && line[0] != '\r':
				f.line = len(f.head)
			case f.line == 0:
				f.done = true // an empty request line: net/http refuses it
			default:
				f.endHead()
			}
		}
		if len(f.head) > maxFramingHead {
			f.done = true
		}
	}
	if f.done {
		f.head = nil
	}
}

// endHead handles the complete head in f.head.
func (f *framer) endHead() {
	lines := strings.Split(strings.TrimRight(string(f.head), "\r\n"), "\n")
	f.head, f.line = f.head[:0], 0
	if cap(f.head) > 4096 {
		f.head = nil // a long head (URL) does not pin memory for the connection's life
	}
	reqLine := strings.TrimSuffix(lines[0], "\r")
	var cl []string
	te := false
	for _, l := range lines[1:] {
		l = strings.TrimSuffix(l, "\r")
		if l != "" && (l[0] == ' ' || l[0] == '\t') {
			f.done = true // obsolete line folding: not worth following
			return
		}
		name, value, _ := strings.Cut(l, ":")
		switch {
		case strings.EqualFold(name, "Content-Length"):
			cl = append(cl, strings.TrimSpace(value))
		case strings.EqualFold(name, "Transfer-Encoding"):
			te = true
		}
	}
	if te && !strings.HasSuffix(reqLine, " HTTP/1.0") {
		f.teLine, f.teCL, f.done = reqLine, len(cl) > 0, true
		return
	}
	if len(cl) == 0 {
		return
	}
	n, err := strconv.ParseInt(cl[0], 10, 64)
	if err != nil || n < 0 || cl[0][0] == '+' {
		f.done = true
		return
	}
	for _, v := range cl[1:] {
		if v != cl[0] {
			f.done = true
			return
		}
	}
	f.skip = n
}

// bothLengths reports whether the head with a Transfer-Encoding whose
// request line is reqLine also declared a Content-Length.
func (f *framer) bothLengths(reqLine string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.teCL && f.teLine == reqLine
}
