package guard

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestFramer follows request framing as net/http reads it, fed at once and
// byte by byte.
func TestFramer(t *testing.T) {
	fake := "GET /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
	cases := []struct {
		name, stream, line string
		both               bool
	}{
		{"both", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "POST /a HTTP/1.1", true},
		{"both, other order and case", "POST /a HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n", "POST /a HTTP/1.1", true},
		{"bare LF", "POST /a HTTP/1.1\nContent-Length: 5\nTransfer-Encoding: chunked\n\n", "POST /a HTTP/1.1", true},
		{"chunked only", "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "POST /a HTTP/1.1", false},
		{"after bodies that look like heads", "POST /a HTTP/1.1\r\nContent-Length: " + strconv.Itoa(len(fake)) + "\r\n\r\n" + fake +
			"GET /b HTTP/1.1\r\n\r\n" +
			"POST /c HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "POST /c HTTP/1.1", true},
		{"a fake head in a body is no head", "POST /a HTTP/1.1\r\nContent-Length: " + strconv.Itoa(len(fake)) + "\r\n\r\n" + fake, "GET /x HTTP/1.1", false},
		{"HTTP/1.0 ignores Transfer-Encoding", "POST /a HTTP/1.0\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "POST /a HTTP/1.0", false},
		{"another request line", "POST /a HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", "POST /b HTTP/1.1", false},
	}
	for _, tc := range cases {
		whole := &framer{}
		whole.feed([]byte(tc.stream))
		bytewise := &framer{}
		for i := 0; i < len(tc.stream); i++ {
			bytewise.feed([]byte{tc.stream[i]})
		}
		for how, f := range map[string]*framer{"at once": whole, "byte by byte": bytewise} {
			if got := f.bothLengths(tc.line); got != tc.both {
				t.Errorf("%s (%s): bothLengths(%q) = %v, want %v", tc.name, how, tc.line, got, tc.both)
			}
		}
	}
}

// TestFramingServer runs a real server with FramingListener, FramingContext
// and Framing, and sends raw requests.
func TestFramingServer(t *testing.T) {
	var mu sync.Mutex
	var served []string
	h := Framing(nil)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		served = append(served, r.Method+" "+r.URL.Path+" "+string(body))
		mu.Unlock()
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ConnContext: FramingContext}
	go srv.Serve(FramingListener(ln))
	defer srv.Close()

	exchange := func(raw string) (statuses []int, closed bool) {
		t.Helper()
		mu.Lock()
		served = nil
		mu.Unlock()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, raw)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		all, err := io.ReadAll(c)
		closed = err == nil
		br := bufio.NewReader(bytes.NewReader(all))
		for {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				break
			}
			io.Copy(io.Discard, resp.Body)
			statuses = append(statuses, resp.StatusCode)
		}
		return statuses, closed
	}
	smuggled := "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"

	// Both fields: 400, the connection closed, nothing served.
	st, closed := exchange("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled)
	if len(st) != 1 || st[0] != 400 || !closed || len(served) != 0 {
		t.Errorf("both: statuses %v, closed %v, served %q", st, closed, served)
	}
	// Chunked alone: served, then the connection is closed.
	st, closed = exchange("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" + smuggled)
	if len(st) != 1 || st[0] != 200 || !closed || strings.Join(served, "|") != "POST /a abc" {
		t.Errorf("chunked: statuses %v, closed %v, served %q", st, closed, served)
	}
	// Whitespace before the colon: net/http itself answers 400 and closes.
	st, closed = exchange("POST /a HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n" + smuggled)
	if len(st) != 1 || st[0] != 400 || !closed || len(served) != 0 {
		t.Errorf("whitespace: statuses %v, closed %v, served %q", st, closed, served)
	}
	// Content-Length bodies that look like heads keep the connection.
	fake := "POST /x HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
	st, _ = exchange("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: " + strconv.Itoa(len(fake)) + "\r\n\r\n" + fake +
		"POST /b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n" + smuggled)
	if len(st) != 2 || st[0] != 200 || st[1] != 200 || len(served) != 2 || served[1] != "POST /b ok" {
		t.Errorf("pipeline: statuses %v, served %q", st, served)
	}
}
