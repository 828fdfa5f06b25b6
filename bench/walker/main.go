// Command walker is the W8 client of the load benchmark (bench/run.sh): each
// of -c clients walks a collection by following @odata.nextLink for -pages
// pages, again and again for -d, and the whole walk is timed. It prints one
// line in the format of bench/lua/report.lua (BENCH_RESULT {json}), where a
// "request" is a whole walk, so run.sh handles it like a wrk result.
//
// With -walks N it walks N times on one client and exits (the SQL capture).
// It is its own module so that the gateway's import rules and builds never
// see it; it uses only the standard library.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"
)

type walkResult struct {
	dur    time.Duration
	pages  int
	bytes  int64
	err    error
	counts []int64 // @odata.count of each page that had one
}

func main() {
	first := flag.String("url", "", "first page (absolute URL)")
	pages := flag.Int("pages", 40, "pages per walk (the first page included)")
	clients := flag.Int("c", 8, "concurrent clients")
	dur := flag.Duration("d", 15*time.Second, "measurement duration")
	warmup := flag.Duration("warmup", 0, "warm-up before measuring (walks not counted)")
	walks := flag.Int("walks", 0, "walk this many times on one client and exit (overrides -c, -d)")
	flag.Parse()
	if *first == "" {
		fmt.Fprintln(os.Stderr, "walker: -url is required")
		os.Exit(2)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *clients + 1, DisableCompression: true},
		Timeout: 120 * time.Second}
	if *walks > 0 {
		for i := 0; i < *walks; i++ {
			r := walk(client, *first, *pages)
			if r.err != nil {
				fmt.Fprintln(os.Stderr, "walker:", r.err)
				os.Exit(1)
			}
			fmt.Fprintf(os.Stderr, "walker: %d pages in %v, counts %v\n", r.pages, r.dur, r.counts)
		}
		return
	}
	if *warmup > 0 {
		run(client, *first, *pages, *clients, *warmup)
	}
	start := time.Now()
	res := run(client, *first, *pages, *clients, *dur)
	report(res, time.Since(start), *pages)
}

// run walks with n clients until d has passed; a walk started before the end
// is finished and counted.
func run(client *http.Client, first string, pages, n int, d time.Duration) []walkResult {
	end := time.Now().Add(d)
	var mu sync.Mutex
	var all []walkResult
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				r := walk(client, first, pages)
				mu.Lock()
				all = append(all, r)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return all
}

var (
	nextKey  = []byte(`"@odata.nextLink":`)
	countKey = []byte(`"@odata.count":`)
)

// walk fetches up to pages pages starting at first.
func walk(client *http.Client, first string, pages int) walkResult {
	var r walkResult
	start := time.Now()
	u, err := url.Parse(first)
	if err != nil {
		r.err = err
		return r
	}
	var body bytes.Buffer
	for r.pages < pages {
		req, _ := http.NewRequest(http.MethodGet, u.String(), nil)
		req.Header.Set("Accept", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			r.err = err
			break
		}
		body.Reset()
		_, err = io.Copy(&body, resp.Body)
		resp.Body.Close()
		if err != nil {
			r.err = err
			break
		}
		if resp.StatusCode != http.StatusOK {
			r.err = fmt.Errorf("page %d: status %d: %.200s", r.pages+1, resp.StatusCode, body.Bytes())
			break
		}
		r.pages++
		r.bytes += int64(body.Len())
		b := body.Bytes()
		// @odata.count comes before "value", the nextLink after it: look
		// only where they can be instead of decoding the whole page.
		head := b[:min(len(b), 512)]
		if i := bytes.Index(head, countKey); i >= 0 {
			rest := head[i+len(countKey):]
			j := bytes.IndexAny(rest, ",}")
			if j > 0 {
				if n, err := strconv.ParseInt(string(bytes.Trim(rest[:j], `" `)), 10, 64); err == nil {
					r.counts = append(r.counts, n)
				}
			}
		}
		if r.pages == pages {
			break
		}
		tail := b[max(0, len(b)-4096):]
		i := bytes.LastIndex(tail, nextKey)
		if i < 0 {
			r.err = fmt.Errorf("walk ended after %d pages (no nextLink)", r.pages)
			break
		}
		var link string
		dec := json.NewDecoder(bytes.NewReader(tail[i+len(nextKey):]))
		if err := dec.Decode(&link); err != nil {
			r.err = fmt.Errorf("page %d: bad nextLink: %v", r.pages, err)
			break
		}
		next, err := url.Parse(link)
		if err != nil {
			r.err = err
			break
		}
		if !next.IsAbs() && !bytes.HasPrefix([]byte(link), []byte("/")) {
			// relative to the service root: the path up to the last '/'
			base := *u
			base.RawQuery = ""
			next = base.ResolveReference(next)
		} else {
			next = u.ResolveReference(next)
		}
		u = next
	}
	r.dur = time.Since(start)
	return r
}

func report(res []walkResult, elapsed time.Duration, pages int) {
	var ok []float64
	var errs, pageSum int
	var bytesSum int64
	countPages, countVaries := 0, false
	var firstErr error
	for _, r := range res {
		pageSum += r.pages
		bytesSum += r.bytes
		if r.err != nil {
			errs++
			if firstErr == nil {
				firstErr = r.err
			}
			continue
		}
		ok = append(ok, float64(r.dur.Microseconds())/1000)
		countPages += len(r.counts)
		for _, c := range r.counts {
			if c != r.counts[0] {
				countVaries = true
			}
		}
	}
	sort.Float64s(ok)
	pct := func(p float64) float64 {
		if len(ok) == 0 {
			return 0
		}
		i := int(float64(len(ok))*p+0.5) - 1
		return ok[min(max(i, 0), len(ok)-1)]
	}
	mean, maxv := 0.0, 0.0
	for _, v := range ok {
		mean += v
		maxv = max(maxv, v)
	}
	if len(ok) > 0 {
		mean /= float64(len(ok))
	}
	secs := elapsed.Seconds()
	out := map[string]any{
		"requests": len(res), "duration_s": secs, "rps": float64(len(ok)) / secs, "rps_all": float64(len(res)) / secs,
		"p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99), "mean_ms": mean, "max_ms": maxv,
		"errors": errs, "non2xx": 0, "timeouts": 0, "bytes": bytesSum,
		"pages_per_walk": pages, "pages": pageSum, "pages_per_s": float64(pageSum) / secs,
		"count_pages": countPages, "count_varies": countVaries,
	}
	line, _ := json.Marshal(out)
	fmt.Printf("BENCH_RESULT %s\n", line)
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "walker: first error:", firstErr)
	}
}
