package test

import (
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/odatagw/odatagw/internal/faultproxy"
	"github.com/odatagw/odatagw/internal/mytest"
)

// myProxy is a TCP proxy in front of MySQL/MariaDB that breaks a
// connection at a text query (COM_QUERY: COMMIT, START TRANSACTION): before
// it reaches the server (DropBefore) or after the server answered it, with
// the answer withheld (DropAfter). It reads the MySQL packet framing (3-byte
// little-endian length, sequence byte, payload); connections must not use
// TLS or compression (the gateway's defaults on 127.0.0.1).
type myProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	hook   func(query string) faultproxy.Action
}

func startMyProxy(t *testing.T, dsn string) (*myProxy, string) {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &myProxy{ln: ln, target: u.Host}
	go p.accept()
	t.Cleanup(func() { ln.Close() })
	u.Host = ln.Addr().String()
	return p, u.String()
}

func (p *myProxy) onQuery(h func(string) faultproxy.Action) {
	p.mu.Lock()
	p.hook = h
	p.mu.Unlock()
}

func (p *myProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		go p.serve(c, s)
	}
}

func readPacket(r io.Reader) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := int(h[0]) | int(h[1])<<8 | int(h[2])<<16
	buf := make([]byte, 4+n)
	copy(buf, h[:])
	_, err := io.ReadFull(r, buf[4:])
	return buf, err
}

func (p *myProxy) serve(client, server net.Conn) {
	var swallow atomic.Bool
	closeBoth := func() { client.Close(); server.Close() }
	go func() { // server -> client
		defer closeBoth()
		for {
			pkt, err := readPacket(server)
			if err != nil {
				return
			}
			if swallow.Load() {
				return // the server answered; the client never learns
			}
			if _, err := client.Write(pkt); err != nil {
				return
			}
		}
	}()
	defer closeBoth()
	for {
		pkt, err := readPacket(client)
		if err != nil {
			return
		}
		action := faultproxy.Forward
		if len(pkt) > 5 && pkt[4] == 0x03 { // COM_QUERY
			p.mu.Lock()
			if p.hook != nil {
				action = p.hook(string(pkt[5:]))
			}
			p.mu.Unlock()
		}
		switch action {
		case faultproxy.DropBefore:
			return
		case faultproxy.DropAfter:
			swallow.Store(true)
		}
		if _, err := server.Write(pkt); err != nil {
			return
		}
	}
}

// TestMySQLWriteAnswers: the reliability rules on MySQL/MariaDB. A
// connection lost before the commit is retried transparently; lost during
// the commit, the gateway cannot find out what happened (MySQL has no
// txid_status) and says so: 504 OutcomeUnknown, whether the server
// committed or not. Never a 500, never "retry" (503) for a write that may be
// stored.
func TestMySQLWriteAnswers(t *testing.T) {
	t.Parallel()
	dsn := mysqlFixtureDSN(t)
	proxy, viaProxy := startMyProxy(t, dsn)
	c := baseConfig(viaProxy)
	g := start(t, c)
	db := mytest.Open(t, dsn)
	stored := func(id string) int {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM "Customers" WHERE "CustomerID" = ?`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	post := func(id string) *response {
		return g.do("POST", "/odata/Customers", []byte(`{"CustomerID":"`+id+`","Name":"Fault `+id+`"}`))
	}
	isCommit := func(q string) bool { return strings.EqualFold(strings.TrimSpace(q), "COMMIT") }

	cases := []struct {
		id     string
		match  func(string) bool
		action faultproxy.Action
		status int
		stored int
	}{
		{"LOST1", isCommit, faultproxy.DropAfter, 504, 1},                                                                  // committed, answer lost
		{"LOST2", isCommit, faultproxy.DropBefore, 504, 0},                                                                 // never committed: still unknown to the gateway
		{"LOST3", func(q string) bool { return strings.HasPrefix(q, "START TRANSACTION") }, faultproxy.DropBefore, 201, 1}, // before: retried
	}
	for _, tc := range cases {
		proxy.onQuery(once(tc.match, tc.action))
		r := post(tc.id)
		proxy.onQuery(nil)
		if r.Status != tc.status {
			t.Errorf("%s: %d, want %d: %s", tc.id, r.Status, tc.status, r.Body)
		}
		if tc.status == 504 && !strings.Contains(string(r.Body), `"OutcomeUnknown"`) {
			t.Errorf("%s: %s", tc.id, r.Body)
		}
		if n := stored(tc.id); n != tc.stored {
			t.Errorf("%s stored %d times, want %d", tc.id, n, tc.stored)
		}
	}
	// The gateway keeps working on fresh connections.
	if r := post("AFTER"); r.Status != 201 {
		t.Errorf("after the faults: %d %s", r.Status, r.Body)
	}
	if strings.Contains(g.logs(), `"status":500`) {
		t.Errorf("a 500 was answered")
	}
}
