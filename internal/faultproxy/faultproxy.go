// Package faultproxy is a TCP proxy in front of PostgreSQL that breaks
// connections at chosen points of the PostgreSQL wire protocol, for fault
// tests: a commit that never reaches the server, a commit whose answer never
// reaches the client, or every connection at once.
//
// It understands just enough of the protocol: the untyped startup message,
// then typed messages (one type byte, a 4-byte big-endian length that counts
// itself, the body) in both directions. Connections must not use TLS.
package faultproxy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
)

// Action is what the proxy does with a simple-query message ('Q').
type Action int

// Actions.
const (
	// Forward passes the message on.
	Forward Action = iota
	// DropBefore closes both sides without sending the message: the server
	// never sees it (for COMMIT: the transaction is rolled back).
	DropBefore
	// DropAfter sends the message, waits for the server's answer to it
	// (ReadyForQuery) and closes both sides without passing the answer on:
	// the server did it, the client never learns (for COMMIT: committed).
	DropAfter
)

// Proxy forwards connections from its listener to a target address.
type Proxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	onQuery func(sql string) Action
	conns   map[net.Conn]bool
	closed  bool
	wg      sync.WaitGroup
}

// Start listens on a free loopback port and forwards to target (host:port).
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// OnQuery sets the hook that decides what happens to each simple-query
// message; sql is its text (e.g. "COMMIT"). nil forwards everything.
func (p *Proxy) OnQuery(f func(sql string) Action) {
	p.mu.Lock()
	p.onQuery = f
	p.mu.Unlock()
}

// BreakAll closes every open connection (new ones are still accepted).
func (p *Proxy) BreakAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	err := p.ln.Close()
	p.BreakAll()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		if !p.track(client) || !p.track(server) {
			client.Close()
			server.Close()
			return
		}
		p.wg.Add(1)
		go p.serve(client, server)
	}
}

// session is one proxied connection.
type session struct {
	p              *Proxy
	client, server net.Conn
	once           sync.Once
	mu             sync.Mutex
	swallow        bool // DropAfter: the server's answer is not passed on
}

func (s *session) close() {
	s.once.Do(func() {
		s.client.Close()
		s.server.Close()
		s.p.untrack(s.client)
		s.p.untrack(s.server)
	})
}

func (p *Proxy) serve(client, server net.Conn) {
	defer p.wg.Done()
	s := &session{p: p, client: client, server: server}
	defer s.close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.close()
		s.fromServer()
	}()
	s.fromClient()
	s.close()
	<-done
}

// readMessage reads one typed message: type byte, length, body.
func readMessage(r io.Reader) ([]byte, error) {
	var head [5]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(head[1:])
	if n < 4 || n > 1<<30 {
		return nil, errors.New("faultproxy: bad message length")
	}
	msg := make([]byte, 5+n-4)
	copy(msg, head[:])
	_, err := io.ReadFull(r, msg[5:])
	return msg, err
}

// bufSize is the buffer of each direction: a page of rows is many small
// messages, forwarded in a few system calls.
const bufSize = 64 << 10

// flushIfIdle writes out w when r has nothing more buffered, i.e. before
// the next read would wait: messages are passed on in batches, never held.
func flushIfIdle(r *bufio.Reader, w *bufio.Writer) error {
	if r.Buffered() > 0 {
		return nil
	}
	return w.Flush()
}

func (s *session) fromClient() {
	in := bufio.NewReaderSize(s.client, bufSize)
	out := bufio.NewWriterSize(s.server, bufSize)
	// The startup message has no type byte: a length, then the body.
	var head [4]byte
	if _, err := io.ReadFull(in, head[:]); err != nil {
		return
	}
	n := binary.BigEndian.Uint32(head[:])
	if n < 8 || n > 1<<20 {
		return
	}
	startup := make([]byte, n)
	copy(startup, head[:])
	if _, err := io.ReadFull(in, startup[4:]); err != nil {
		return
	}
	if _, err := out.Write(startup); err != nil || flushIfIdle(in, out) != nil {
		return
	}
	for {
		msg, err := readMessage(in)
		if err != nil {
			return
		}
		action := Forward
		if msg[0] == 'Q' {
			s.p.mu.Lock()
			hook := s.p.onQuery
			s.p.mu.Unlock()
			if hook != nil {
				action = hook(strings.TrimRight(string(msg[5:]), "\x00"))
			}
		}
		switch action {
		case DropBefore:
			return
		case DropAfter:
			s.mu.Lock()
			s.swallow = true
			s.mu.Unlock()
		}
		if _, err := out.Write(msg); err != nil || flushIfIdle(in, out) != nil {
			return
		}
	}
}

func (s *session) fromServer() {
	in := bufio.NewReaderSize(s.server, bufSize)
	out := bufio.NewWriterSize(s.client, bufSize)
	for {
		msg, err := readMessage(in)
		if err != nil {
			return
		}
		s.mu.Lock()
		swallow := s.swallow
		s.mu.Unlock()
		if swallow {
			if msg[0] == 'Z' { // ReadyForQuery: the server has answered
				return
			}
			continue
		}
		if _, err := out.Write(msg); err != nil || flushIfIdle(in, out) != nil {
			return
		}
	}
}
