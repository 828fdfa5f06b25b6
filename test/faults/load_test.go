//go:build faults

package faults

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// newClient is an HTTP client for n concurrent load clients, each keeping
// its connection alive.
func newClient(n int, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		MaxIdleConns: n + 8, MaxIdleConnsPerHost: n + 8, IdleConnTimeout: 30 * time.Second,
		DisableCompression: true,
	}}
}

// stats collects the answers of a load: status counts, transport errors
// and the latencies of the successful ones.
type stats struct {
	mu    sync.Mutex
	codes map[int]int
	errs  int
	lat   []time.Duration
	// Answers to requests sent before since go to warm instead (nil: no
	// warm-up).
	since time.Time
	warm  *stats
}

func newStats() *stats { return &stats{codes: map[int]int{}} }

// withWarmUp makes s count only requests sent from since on; earlier ones
// go to s.warm.
func (s *stats) withWarmUp(since time.Time) *stats {
	s.since, s.warm = since, newStats()
	return s
}

func (s *stats) add(code int, sent time.Time, err error) {
	if s.warm != nil && sent.Before(s.since) {
		s.warm.add(code, sent, err)
		return
	}
	d := time.Since(sent)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs++
		return
	}
	s.codes[code]++
	if code < 300 {
		s.lat = append(s.lat, d)
	}
}

func (s *stats) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.errs
	for _, c := range s.codes {
		n += c
	}
	return n
}

func (s *stats) count(code int) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.codes[code]
}

// failed counts the answers that are not 2xx, transport errors included.
func (s *stats) failed() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.errs
	for c, k := range s.codes {
		if c >= 300 {
			n += k
		}
	}
	return n
}

// pct is the p-th percentile (0..100) of the successful answers' latency.
func (s *stats) pct(p float64) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lat) == 0 {
		return 0
	}
	sort.Slice(s.lat, func(i, j int) bool { return s.lat[i] < s.lat[j] })
	i := int(p / 100 * float64(len(s.lat)-1))
	return s.lat[i]
}

func (s *stats) codesString() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var keys []int
	for c := range s.codes {
		keys = append(keys, c)
	}
	sort.Ints(keys)
	var b strings.Builder
	for _, c := range keys {
		fmt.Fprintf(&b, "%d×%d ", c, s.codes[c])
	}
	if s.errs > 0 {
		fmt.Fprintf(&b, "err×%d", s.errs)
	}
	return strings.TrimSpace(b.String())
}

// get sends a GET and reads the whole body; it returns the status and
// the Retry-After of a 503 (0 when absent).
func get(ctx context.Context, c *http.Client, url string) (int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return 0, 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	var after time.Duration
	if resp.StatusCode == 503 {
		if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			after = time.Duration(n) * time.Second
		}
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return resp.StatusCode, after, err
	}
	return resp.StatusCode, after, nil
}

// loop runs n clients, each sending GETs of url() one after another until
// ctx ends, into st. After a 503 a client waits as Retry-After says (at
// most 2 s), as a well-behaved client does; after other failures 20 ms.
func loop(ctx context.Context, n int, c *http.Client, url func(i int) string, st *stats) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; ctx.Err() == nil; k++ {
				start := time.Now()
				code, after, err := get(ctx, c, url(i*1_000_003+k))
				if ctx.Err() != nil {
					return // cut by the end of the run: not an answer
				}
				st.add(code, start, err)
				switch {
				case after > 0:
					sleep(ctx, min(after, 2*time.Second))
				case err != nil || code >= 500:
					sleep(ctx, 20*time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// loadavg is the machine's 1-minute load average (other processes
// included), as /proc/loadavg says.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// stalledReader sends a GET over a connection with a tiny receive buffer
// and never reads the answer.
func stalledReader(addr, path string) (net.Conn, error) {
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write([]byte("GET " + path + " HTTP/1.1\r\nHost: " + addr + "\r\n\r\n")); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// row is one line of the figures table.
type row struct {
	scenario, figure, value, criterion string
	pass                               *bool // nil: a figure without a criterion
}

// report is the figures table of a run.
type report struct {
	mu   sync.Mutex
	rows []row
}

func (r *report) fig(scenario, figure string, value any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, row{scenario: scenario, figure: figure, value: fmt.Sprint(value)})
}

// check adds a figure with its pass criterion; it reports whether it passed.
func (r *report) check(scenario, figure string, value any, criterion string, ok bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rows = append(r.rows, row{scenario: scenario, figure: figure, value: fmt.Sprint(value), criterion: criterion, pass: &ok})
	return ok
}

func (r *report) failures() []row {
	var out []row
	for _, x := range r.rows {
		if x.pass != nil && !*x.pass {
			out = append(out, x)
		}
	}
	return out
}

// markdown renders the table.
func (r *report) markdown(header string) string {
	var b strings.Builder
	b.WriteString(header)
	b.WriteString("\n| scenario | figure | value | pass criterion | |\n|---|---|---|---|---|\n")
	for _, x := range r.rows {
		mark := ""
		if x.pass != nil {
			mark = "pass"
			if !*x.pass {
				mark = "**FAIL**"
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", x.scenario, x.figure, x.value, x.criterion, mark)
	}
	return b.String()
}

// text renders the table for a terminal.
func (r *report) text() string {
	w := [4]int{}
	for _, x := range r.rows {
		for i, s := range []string{x.scenario, x.figure, x.value, x.criterion} {
			w[i] = max(w[i], len([]rune(s)))
		}
	}
	var b strings.Builder
	for _, x := range r.rows {
		mark := ""
		if x.pass != nil {
			mark = "ok"
			if !*x.pass {
				mark = "FAIL"
			}
		}
		fmt.Fprintf(&b, "%-*s  %-*s  %*s  %-*s  %s\n", w[0], x.scenario, w[1], x.figure, w[2], x.value, w[3], x.criterion, mark)
	}
	return b.String()
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o644) }
