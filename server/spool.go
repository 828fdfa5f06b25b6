package server

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
)

// A spool carries a page from the goroutine that reads it from the database
// (the producer) to the handler goroutine that writes it to the client (the
// consumer). The producer never waits for the client: the database work, its
// connection and its admission slot end when the page has been read, not
// when a slow or stalled client has received it. What the client has not
// taken yet stays in memory, bounded by the page (writePage stops a page at
// MaxPageBytes).
type spool struct {
	mu     sync.Mutex
	ready  *sync.Cond
	chunks [][]byte // published, not yet taken by the consumer
	closed bool
	err    error // set by the producer: the page is broken, abort the response

	cur []byte // the chunk being filled; owned by the producer
}

const spoolChunk = 32 << 10

var chunkPool = sync.Pool{New: func() any { b := make([]byte, 0, spoolChunk); return &b }}

func newSpool() *spool {
	sp := &spool{}
	sp.ready = sync.NewCond(&sp.mu)
	return sp
}

// Write appends p (producer side). It never blocks on the consumer.
func (sp *spool) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if sp.cur == nil {
			sp.cur = (*chunkPool.Get().(*[]byte))[:0]
		}
		k := min(len(p), cap(sp.cur)-len(sp.cur))
		sp.cur = append(sp.cur, p[:k]...)
		p = p[k:]
		if len(sp.cur) == cap(sp.cur) {
			sp.publish()
		}
	}
	return n, nil
}

func (sp *spool) publish() {
	if len(sp.cur) == 0 {
		return
	}
	sp.mu.Lock()
	sp.chunks = append(sp.chunks, sp.cur)
	sp.mu.Unlock()
	sp.cur = nil
	sp.ready.Signal()
}

// close ends the page (producer side); err non-nil means it is broken.
func (sp *spool) close(err error) {
	if err == nil {
		sp.publish()
	}
	sp.mu.Lock()
	sp.closed, sp.err = true, err
	sp.mu.Unlock()
	sp.ready.Signal()
}

// errStalled is the consumer's error when the client took no data for the
// stall timeout.
var errStalled = errors.New("the client stopped reading")

// drain writes the page to w as it arrives (consumer side), calling commit
// (which sends the status) before the first byte, and giving each write
// stall to complete. It returns the producer's error, or the write error
// that made it stop (the rest of the page is then discarded), and whether
// commit was called.
func (sp *spool) drain(w http.ResponseWriter, stall time.Duration, commit func()) (committed bool, err error) {
	rc := http.NewResponseController(w)
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }()
	for {
		sp.mu.Lock()
		for len(sp.chunks) == 0 && !sp.closed {
			sp.ready.Wait()
		}
		chunks, closed, err := sp.chunks, sp.closed, sp.err
		sp.chunks = nil
		sp.mu.Unlock()
		if err != nil {
			recycle(chunks)
			return committed, err
		}
		if !committed {
			commit()
			committed = true
		}
		for i, c := range chunks {
			if stall > 0 {
				_ = rc.SetWriteDeadline(time.Now().Add(stall))
			}
			if _, werr := w.Write(c); werr != nil {
				recycle(chunks[i:])
				if isTimeout(werr) {
					werr = errStalled
				}
				return committed, werr
			}
			recycle(chunks[i : i+1])
		}
		if closed {
			return committed, nil
		}
	}
}

// isTimeout reports a write that missed its deadline.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &t) && t.Timeout()
}

func recycle(chunks [][]byte) {
	for _, c := range chunks {
		c = c[:0]
		chunkPool.Put(&c)
	}
}

// discard takes whatever is left once the consumer has stopped, so that the
// chunks return to the pool.
func (sp *spool) discard() {
	sp.mu.Lock()
	recycle(sp.chunks)
	sp.chunks = nil
	sp.mu.Unlock()
}

var _ io.Writer = (*spool)(nil)
