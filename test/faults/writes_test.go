//go:build faults

package faults

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/odatagw/odatagw/internal/faultproxy"
)

// outcome is what a writer was told.
type outcome int

const (
	acked      outcome = iota // 201
	refused                   // 503 with Retry-After: not applied
	refusedBad                // 503 without Retry-After
	unknown                   // 504 OutcomeUnknown
	failed500                 // 500: must never happen
	connLost                  // no answer (the gateway was killed, the connection broke)
	other                     // any other status
)

// fault is one kind of injected fault.
type fault struct {
	name string
	do   func(e *env) error
}

// commits makes the proxy act on the next n COMMITs.
func commits(e *env, n int32, a faultproxy.Action) error {
	var left atomic.Int32
	left.Store(n)
	e.proxy.OnQuery(func(sql string) faultproxy.Action {
		if strings.EqualFold(strings.TrimSpace(sql), "COMMIT") && left.Add(-1) >= 0 {
			return a
		}
		return faultproxy.Forward
	})
	return nil
}

var faults = []fault{
	{"pg_terminate_backend of the gateway's sessions", func(e *env) error {
		return execRetry(e.db, 30*time.Second, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'odatagw'`)
	}},
	{"COMMIT answers lost (committed, connection broken)", func(e *env) error { return commits(e, 3, faultproxy.DropAfter) }},
	{"PostgreSQL fast restart", func(e *env) error { return e.pg.restart("fast") }},
	{"all connections broken (proxy)", func(e *env) error { e.proxy.BreakAll(); return nil }},
	{"COMMITs dropped (never reached the server)", func(e *env) error { return commits(e, 3, faultproxy.DropBefore) }},
	{"PostgreSQL crash (immediate) restart", func(e *env) error { return e.pg.restart("immediate") }},
	{"gateway SIGKILL and restart", func(e *env) error {
		if _, ok, _ := e.gw.signal(syscall.SIGKILL, 10*time.Second); !ok {
			return fmt.Errorf("gateway did not die on SIGKILL")
		}
		return e.gw.start()
	}},
	{"gateway SIGTERM and restart", func(e *env) error {
		if _, ok, _ := e.gw.signal(syscall.SIGTERM, e.sz.drain+10*time.Second); !ok {
			return fmt.Errorf("gateway did not stop on SIGTERM")
		}
		return e.gw.start()
	}},
}

// writesUnderFaults: writers insert rows with unique markers while faults
// are injected; afterwards every acknowledged write is stored exactly once,
// nothing answered 503 is stored, and no answer was a 500.
func (e *env) writesUnderFaults() error {
	const sc = "writes under faults"
	if _, ok, _ := e.gw.signal(syscall.SIGTERM, e.sz.drain+10*time.Second); !ok {
		return fmt.Errorf("gateway did not stop on SIGTERM")
	}
	if err := e.gw.configure(e.proxied); err != nil {
		return err
	}
	if err := e.gw.start(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.sz.writes)
	defer cancel()
	var mu sync.Mutex
	told := map[string]outcome{}
	otherCodes := map[int]int{}
	var wg sync.WaitGroup
	for w := range e.sz.writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(1, 60*time.Second)
			for k := 0; ctx.Err() == nil; k++ {
				marker := fmt.Sprintf("w%d-%d", w, k)
				o, code := e.write(c, marker, w)
				mu.Lock()
				told[marker] = o
				if o == other {
					otherCodes[code]++
				}
				mu.Unlock()
				if o != acked {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	injected := map[string]int{}
	var injectErr error
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
		case <-time.After(e.sz.faultEvery):
			f := faults[i%len(faults)]
			if err := f.do(e); err != nil && injectErr == nil {
				injectErr = fmt.Errorf("%s: %v", f.name, err)
				e.activity()
			}
			injected[f.name]++
			continue
		}
		break
	}
	wg.Wait()
	e.proxy.OnQuery(nil)

	// What the database holds.
	stored := map[string]int{}
	rows, err := e.db.Query(`SELECT marker, count(*) FROM marks GROUP BY marker`)
	if err != nil {
		if err = execRetry(e.db, 60*time.Second, `SELECT 1`); err == nil {
			rows, err = e.db.Query(`SELECT marker, count(*) FROM marks GROUP BY marker`)
		}
		if err != nil {
			return err
		}
	}
	for rows.Next() {
		var m string
		var n int
		if err := rows.Scan(&m, &n); err != nil {
			rows.Close()
			return err
		}
		stored[m] = n
	}
	rows.Close()

	count := map[outcome]int{}
	storedAs := map[outcome]int{}
	lost, dups, strays := 0, 0, 0
	for m, o := range told {
		count[o]++
		if stored[m] > 0 {
			storedAs[o]++
		}
		if o == acked && stored[m] == 0 {
			lost++
		}
	}
	for m, n := range stored {
		if n > 1 {
			dups += n - 1
		}
		if _, ok := told[m]; !ok {
			strays++
		}
	}
	storedRows := 0
	for _, n := range stored {
		storedRows += n
	}
	for _, f := range faults {
		e.rep.fig(sc, "injected: "+f.name, injected[f.name])
	}
	if injectErr != nil {
		e.rep.check(sc, "fault injection", injectErr, "no error", false)
	}
	e.rep.fig(sc, "writers, duration", fmt.Sprintf("%d, %v", e.sz.writers, e.sz.writes))
	e.rep.fig(sc, "writes attempted", len(told))
	e.rep.fig(sc, "acknowledged (201)", count[acked])
	e.rep.fig(sc, "rows stored", storedRows)
	e.rep.check(sc, "acknowledged but not stored", lost, "0", lost == 0)
	e.rep.check(sc, "duplicates (rows beyond one per marker)", dups, "0", dups == 0)
	e.rep.check(sc, "stored rows nobody wrote", strays, "0", strays == 0)
	e.rep.check(sc, "500s", count[failed500], "0", count[failed500] == 0)
	e.rep.fig(sc, "503s (with Retry-After)", count[refused])
	e.rep.check(sc, "503s without Retry-After", count[refusedBad], "0", count[refusedBad] == 0)
	e.rep.check(sc, "503s stored", storedAs[refused]+storedAs[refusedBad], "0", storedAs[refused]+storedAs[refusedBad] == 0)
	e.rep.fig(sc, "504 OutcomeUnknown (stored)", fmt.Sprintf("%d (%d)", count[unknown], storedAs[unknown]))
	e.rep.fig(sc, "no answer: gateway killed or connection broken (stored)", fmt.Sprintf("%d (%d)", count[connLost], storedAs[connLost]))
	e.rep.check(sc, "other statuses", fmt.Sprint(count[other], " ", otherCodes), "0", count[other] == 0)
	return nil
}

// write POSTs one row and classifies the answer.
func (e *env) write(c *http.Client, marker string, writer int) (outcome, int) {
	body := fmt.Sprintf(`{"marker":%q,"writer":%d}`, marker, writer)
	req, _ := http.NewRequest("POST", e.gw.base()+"/odata/marks", bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return connLost, 0
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // the status tells the outcome
	switch code := resp.StatusCode; code {
	case 201:
		return acked, code
	case 503:
		if resp.Header.Get("Retry-After") == "" {
			return refusedBad, code
		}
		return refused, code
	case 504:
		return unknown, code
	case 500:
		return failed500, code
	default:
		return other, code
	}
}
