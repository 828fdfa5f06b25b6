//go:build faults

package faults

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"
)

// admission: 64, 128 and 256 clients read 2,000-row pages for a while;
// at most 1% may be refused, and the gateway's peak RSS stays under 150 MB.
func (e *env) admission() error {
	const sc = "admission"
	for _, n := range []int{64, 128, 256} {
		name := fmt.Sprintf("%s, %d clients", sc, n)
		pid := e.gw.pid()
		exact := resetPeakRSS(pid)
		// The clients connect and the first second or two of the step are
		// a burst (all of them at once, on new connections): counted apart,
		// the criterion is about the steady state.
		warmUp := e.sz.admission / 5
		st := newStats().withWarmUp(time.Now().Add(warmUp))
		ctx, cancel := context.WithTimeout(context.Background(), warmUp+e.sz.admission)
		var peak int64
		done := make(chan struct{})
		go func() { // sampled as well, in case clear_refs is not allowed
			defer close(done)
			for ctx.Err() == nil {
				peak = max(peak, procStatusKB(pid, "VmRSS"))
				time.Sleep(100 * time.Millisecond)
			}
		}()
		load := loadavg()
		loop(ctx, n, newClient(n, 60*time.Second), func(int) string { return e.gw.base() + "/odata/items" }, st)
		elapsed := time.Since(st.since)
		cancel()
		<-done
		if exact {
			peak = max(peak, procStatusKB(pid, "VmHWM"))
		}
		total := st.total()
		refused := st.count(503)
		share := 0.0
		if total > 0 {
			share = 100 * float64(refused) / float64(total)
		}
		e.rep.fig(name, "machine load average (1 min) before / after", load+" / "+loadavg())
		e.rep.fig(name, fmt.Sprintf("warm-up (first %v, not counted): served, refused", warmUp), fmt.Sprintf("%d, %d", st.warm.count(200), st.warm.count(503)))
		e.rep.fig(name, fmt.Sprintf("pages served (200) in %v", e.sz.admission), st.count(200))
		e.rep.check(name, "refused (503)", fmt.Sprintf("%d of %d (%.2f%%)", refused, total, share), "≤ 1%", total > 0 && share <= 1)
		e.rep.check(name, "other failures", st.failed()-refused, "0", st.failed()-refused == 0)
		e.rep.fig(name, "throughput", fmt.Sprintf("%.0f pages/s", float64(st.count(200))/elapsed.Seconds()))
		e.rep.fig(name, "p50 / p99", ms(st.pct(50))+" / "+ms(st.pct(99)))
		rss := fmt.Sprintf("%.0f MB", float64(peak)/1024)
		if n == 256 {
			e.rep.check(name, "gateway peak RSS", rss, "< 150 MB", peak > 0 && peak < 150*1024)
		} else {
			e.rep.fig(name, "gateway peak RSS", rss)
		}
		time.Sleep(time.Second) // let the idle connections close
	}
	return nil
}

// stalledReaders: clients request a ~6 MB page and never read it; a probe
// of key lookups must keep answering as it did without them.
func (e *env) stalledReaders() error {
	const sc = "stalled readers"
	base := e.probe(context.Background(), e.sz.probe)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range e.sz.stalled {
		c, err := stalledReader(e.gw.addr, "/odata/big")
		if err != nil {
			return err
		}
		conns = append(conns, c)
	}
	// The pages are read from the database into memory, then the slots are
	// free although no staller reads.
	asked := time.Now()
	pid := e.gw.pid()
	exact := resetPeakRSS(pid)
	freedc := make(chan time.Duration, 1)
	go func() {
		time.Sleep(200 * time.Millisecond) // the requests have arrived
		for time.Since(asked) < 30*time.Second {
			// The probe's two clients hold at most two slots.
			if n := e.gw.metric("odatagw_db_slots_in_use"); n >= 0 && n <= 2 {
				freedc <- time.Since(asked)
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		freedc <- -1
	}()
	with := e.probe(context.Background(), e.sz.probe)
	freed := <-freedc
	rss := procStatusKB(pid, "VmRSS")
	if exact {
		rss = procStatusKB(pid, "VmHWM")
	}
	e.rep.fig(sc, "probe without stallers: p50 / p99, failed", fmt.Sprintf("%s / %s, %d of %d", ms(base.pct(50)), ms(base.pct(99)), base.failed(), base.total()))
	e.rep.check(sc, fmt.Sprintf("probe with %d stallers: failed (503 or other)", e.sz.stalled), fmt.Sprintf("%d of %d", with.failed(), with.total()), "0", with.total() > 0 && with.failed() == 0)
	e.rep.check(sc, "probe with stallers: p50 / p99", ms(with.pct(50))+" / "+ms(with.pct(99)), "p99 < 1 s", with.pct(99) < time.Second)
	e.rep.check(sc, "stallers' database slots all free after", freed.Round(100*time.Millisecond), "≤ 15 s (they never read)", freed >= 0 && freed <= 15*time.Second)
	e.rep.fig(sc, "gateway peak RSS with the stallers' pages in memory", fmt.Sprintf("%.0f MB", float64(rss)/1024))
	return nil
}

// orFilter is the expensive request: a 400-term or of
// quantity mul unit_price eq -N (no row matches, every row is computed).
func orFilter() string {
	terms := make([]string, 400)
	for i := range terms {
		terms[i] = fmt.Sprintf("quantity mul unit_price eq -%d", i+1)
	}
	return "/odata/lines?$filter=" + url.QueryEscape(strings.Join(terms, " or "))
}

// expensiveReads: 8 clients send the expensive filter again and again; a
// probe of key lookups must keep answering.
func (e *env) expensiveReads() error {
	const sc = "expensive reads"
	ctx, cancel := context.WithTimeout(context.Background(), e.sz.expensive)
	defer cancel()
	heavy := newStats()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		loop(ctx, e.sz.expensiveReq, newClient(e.sz.expensiveReq, 5*time.Minute), func(int) string { return e.gw.base() + orFilter() }, heavy)
	}()
	time.Sleep(e.sz.expensive / 8) // the expensive queries are running
	pr := e.probe(ctx, e.sz.expensive)
	cancel()
	wg.Wait()
	gone := e.waitBackendsGone("lines", 30*time.Second)
	e.rep.fig(sc, fmt.Sprintf("%d clients of a 400-term or (%d rows): answers", e.sz.expensiveReq, e.sz.lines), heavy.codesString())
	ok := pr.total() - pr.failed()
	rate := 0.0
	if pr.total() > 0 {
		rate = 100 * float64(ok) / float64(pr.total())
	}
	e.rep.check(sc, "probe success", fmt.Sprintf("%d of %d (%.1f%%)", ok, pr.total(), rate), "100%", pr.total() > 0 && pr.failed() == 0)
	e.rep.check(sc, "probe p50 / p99", ms(pr.pct(50))+" / "+ms(pr.pct(99)), "p99 < 2 s", pr.pct(99) < 2*time.Second)
	e.rep.check(sc, "expensive queries left in PostgreSQL after the clients left", fmt.Sprintf("none after %v", gone.Round(100*time.Millisecond)), "gone within 10 s", gone < 10*time.Second)
	return nil
}

// activeBackends returns the pids of the gateway's active backends whose
// query mentions table.
func (e *env) activeBackends(table string) ([]int, error) {
	rows, err := e.db.Query(`SELECT pid FROM pg_stat_activity WHERE application_name = 'odatagw' AND state = 'active' AND query LIKE '%' || $1 || '%'`, `"`+table+`"`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var pids []int
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		pids = append(pids, pid)
	}
	return pids, rows.Err()
}

// waitBackendsGone waits until no backend of the gateway works on table;
// it returns how long that took (limit when they never went).
func (e *env) waitBackendsGone(table string, limit time.Duration) time.Duration {
	start := time.Now()
	for time.Since(start) < limit {
		if pids, err := e.activeBackends(table); err == nil && len(pids) == 0 {
			return time.Since(start)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return limit
}

// shutdown: SIGTERM while an expensive query runs; the gateway cancels it
// at the drain deadline, so its backend is gone soon after.
func (e *env) shutdown() error {
	const sc = "shutdown"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	answer := make(chan int, 1)
	go func() {
		code, _, _ := get(ctx, newClient(1, 5*time.Minute), e.gw.base()+orFilter())
		answer <- code
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		pids, err := e.activeBackends("lines")
		if err == nil && len(pids) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the long query never showed up in pg_stat_activity")
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	exitc := make(chan time.Duration, 1)
	go func() {
		d, _, _ := e.gw.signal(syscall.SIGTERM, 2*time.Minute)
		exitc <- d
	}()
	gone := e.waitBackendsGone("lines", 2*time.Minute)
	exit := <-exitc
	code := <-answer
	bound := e.sz.drain + 5*time.Second + 2*time.Second // drain, cancel grace, slack
	e.rep.fig(sc, "drain period (shutdown_timeout)", e.sz.drain)
	e.rep.check(sc, "SIGTERM → backend gone from pg_stat_activity", gone.Round(100*time.Millisecond), fmt.Sprintf("≤ %v", bound), gone <= bound)
	e.rep.fig(sc, "SIGTERM → process exited", exit.Round(100*time.Millisecond))
	e.rep.check(sc, "the long request's answer", code, "503", code == 503)
	return e.gw.start()
}
