package console

import (
	"sort"
	"sync"
	"time"
)

// Exchange is one request the gateway answered, as the Traffic page lists it.
type Exchange struct {
	Time      time.Time // when it arrived
	ID        string    // request id (X-Request-Id), to find it in the log
	Method    string
	Path      string // escaped path with the query
	Status    int
	Rows      int64
	Duration  time.Duration
	Principal string
	Code      string // OData error code, "" on success
	Set       string // entity set, "" when none
}

// maxPath bounds the path kept per request (long $filter).
const maxPath = 1000

// Traffic keeps the last requests in a ring. It is safe for concurrent use.
type Traffic struct {
	mu   sync.Mutex
	ring []Exchange
	next int
	full bool
}

// NewTraffic keeps the last n requests (default 500).
func NewTraffic(n int) *Traffic {
	if n <= 0 {
		n = 500
	}
	return &Traffic{ring: make([]Exchange, n)}
}

// Record adds a request, dropping the oldest when full.
func (t *Traffic) Record(e Exchange) {
	if len(e.Path) > maxPath {
		e.Path = e.Path[:maxPath] + "…"
	}
	t.mu.Lock()
	t.ring[t.next] = e
	t.next++
	if t.next == len(t.ring) {
		t.next, t.full = 0, true
	}
	t.mu.Unlock()
}

// Snapshot returns the kept requests, oldest first.
func (t *Traffic) Snapshot() []Exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.full {
		return append([]Exchange(nil), t.ring[:t.next]...)
	}
	out := make([]Exchange, 0, len(t.ring))
	out = append(out, t.ring[t.next:]...)
	return append(out, t.ring[:t.next]...)
}

// SetStats are one set's figures over the kept requests.
type SetStats struct {
	Set       string // "" for requests without a set ($metadata, service document, $batch)
	Requests  int
	Errors    int     // status >= 400
	PerMinute float64 // requests per minute over the last five minutes
	Rows      int64
	P50       time.Duration
	P95       time.Duration
	P99       time.Duration
	Max       time.Duration
}

// rateWindow is the window of SetStats.PerMinute.
const rateWindow = 5 * time.Minute

// Stats computes per-set figures over ex (any order), sets by name, the
// requests without a set last.
func Stats(ex []Exchange, now time.Time) []SetStats {
	bySet := map[string][]Exchange{}
	for _, e := range ex {
		bySet[e.Set] = append(bySet[e.Set], e)
	}
	out := make([]SetStats, 0, len(bySet))
	for set, list := range bySet {
		s := SetStats{Set: set, Requests: len(list)}
		ds := make([]time.Duration, len(list))
		recent := 0
		for i, e := range list {
			ds[i] = e.Duration
			s.Rows += e.Rows
			if e.Status >= 400 {
				s.Errors++
			}
			if now.Sub(e.Time) <= rateWindow {
				recent++
			}
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		s.P50, s.P95, s.P99, s.Max = percentile(ds, 50), percentile(ds, 95), percentile(ds, 99), ds[len(ds)-1]
		s.PerMinute = float64(recent) / rateWindow.Minutes()
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].Set == "") != (out[j].Set == "") {
			return out[j].Set == ""
		}
		return out[i].Set < out[j].Set
	})
	return out
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}
