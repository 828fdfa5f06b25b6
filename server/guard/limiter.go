package guard

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrSaturated is returned by Limiter.Acquire when a slot cannot be had in
// time: the expected wait exceeds the limit, the queue is full, or the wait
// ran out. The server answers 503 Service Unavailable with Retry-After.
var ErrSaturated = errors.New("guard: too many concurrent queries")

// Limiter admits database work. It has two lanes:
//
//   - the main lane: at most slots holders; a caller that finds them all
//     taken waits in a FIFO queue for at most wait. It is refused at once
//     when the queue is full (queue waiters) or when the wait it can expect
//     (its place in the queue times the mean time a slot is held, divided by
//     slots) is longer than wait: admission sheds only what it could not
//     serve in time anyway.
//   - the long lane: a holder whose work runs long moves there (Slot.Demote),
//     freeing its main slot for others. The long lane has few slots, so
//     expensive requests cannot starve cheap ones; when it is full, Demote
//     fails and the caller is expected to stop the work.
//
// It is safe for concurrent use.
type Limiter struct {
	slots   chan struct{}
	long    chan struct{}
	queue   int64
	wait    time.Duration
	waiting atomic.Int64
	now     func() time.Time

	mu       sync.Mutex
	meanHold time.Duration // moving average of main-lane hold times over about holdWindow
	lastHold time.Time     // when the last hold time was folded in
}

// holdWindow is the time over which hold times are averaged. An average
// over a number of holds instead (the last eight, say) spans a few
// milliseconds at hundreds of pages per second: one hold stretched by a GC
// pause or a busy CPU then doubles the expected wait of everyone in line,
// and admission sheds requests it would have served in time.
const holdWindow = time.Second

// NewLimiter returns a Limiter with the given main-lane slots (at least 1),
// a queue of at most queue waiters (0: no waiting) and a maximum wait (0: no
// waiting either). The long lane has max(1, slots/4) slots unless
// WithLongLane says otherwise.
func NewLimiter(slots, queue int, wait time.Duration) *Limiter {
	if slots < 1 {
		slots = 1
	}
	if queue < 0 {
		queue = 0
	}
	return &Limiter{slots: make(chan struct{}, slots), long: make(chan struct{}, max(1, slots/4)),
		queue: int64(queue), wait: wait, now: time.Now}
}

// Slot is an admitted unit of database work.
type Slot struct {
	l        *Limiter
	start    time.Time
	mu       sync.Mutex
	demoted  bool
	released bool
}

// Acquire takes a main-lane slot. It returns ErrSaturated when the slot
// cannot be had in time (see Limiter), and ctx.Err() when ctx ends first.
func (l *Limiter) Acquire(ctx context.Context) (*Slot, error) {
	select {
	case l.slots <- struct{}{}:
		return l.slot(), nil
	default:
	}
	if l.wait <= 0 || l.queue == 0 {
		return nil, ErrSaturated
	}
	// Join the queue only if there is room and the expected wait fits; a
	// CAS loop keeps the counter exact (never above queue, even
	// transiently, so Stats is truthful).
	for {
		w := l.waiting.Load()
		if w >= l.queue || l.expectedWait(w+1) > l.wait {
			return nil, ErrSaturated
		}
		if l.waiting.CompareAndSwap(w, w+1) {
			break
		}
	}
	defer l.waiting.Add(-1)
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return l.slot(), nil
	case <-t.C:
		return nil, ErrSaturated
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// expectedWait is the wait of the caller at place pos (1-based) in the
// queue: the slots free up at the mean hold time each.
func (l *Limiter) expectedWait(pos int64) time.Duration {
	l.mu.Lock()
	mean := l.meanHold
	l.mu.Unlock()
	return time.Duration(pos) * mean / time.Duration(cap(l.slots))
}

// WithLongLane sets the long lane's size (at least 1); call it before use.
func (l *Limiter) WithLongLane(n int) *Limiter {
	l.long = make(chan struct{}, max(1, n))
	return l
}

func (l *Limiter) slot() *Slot { return &Slot{l: l, start: l.now()} }

// Release frees the slot (in whichever lane it is); it is safe to call more
// than once.
func (s *Slot) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		return
	}
	s.released = true
	if s.demoted {
		<-s.l.long
		return
	}
	<-s.l.slots
	s.l.observe(s.l.now().Sub(s.start))
}

// Demote moves the slot to the long lane, freeing its main-lane slot. It
// reports false, and leaves the slot where it is, when the long lane is
// full (or the slot is released already); a demoted slot stays demoted.
func (s *Slot) Demote() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		return false
	}
	if s.demoted {
		return true
	}
	select {
	case s.l.long <- struct{}{}:
	default:
		return false
	}
	s.demoted = true
	<-s.l.slots
	return true
}

// Released reports whether Release was called.
func (s *Slot) Released() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.released
}

// observe folds a main-lane hold time into the moving average, weighted by
// the time since the previous one (an exponential average over about
// holdWindow, however many holds end in it).
func (l *Limiter) observe(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.meanHold == 0 {
		l.meanHold, l.lastHold = d, now
		return
	}
	weight := 1 - math.Exp(-float64(max(now.Sub(l.lastHold), 0))/float64(holdWindow))
	l.meanHold += time.Duration(weight * float64(d-l.meanHold))
	l.lastHold = now
}

// Stats reports the main-lane slots in use and the requests waiting (for
// metrics).
func (l *Limiter) Stats() (inUse, waiting int) {
	return len(l.slots), int(l.waiting.Load())
}

// LongStats reports the long-lane slots in use and the lane's size.
func (l *Limiter) LongStats() (inUse, size int) { return len(l.long), cap(l.long) }

// RateLimiter is a per-key token bucket (key: the principal's name): each
// key may spend Burst requests at once and regains Rate per second. The
// number of tracked keys is bounded; when full, idle buckets (refilled to the
// burst, i.e. indistinguishable from new ones) are dropped first, then the
// least recently used. It is safe for concurrent use.
type RateLimiter struct {
	rate    float64
	burst   float64
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// NewRateLimiter returns a limiter allowing rate requests per second with the
// given burst per key, tracking at most maxKeys keys (default 10000 when
// <= 0). A rate <= 0 returns nil; a nil *RateLimiter allows everything.
func NewRateLimiter(rate float64, burst, maxKeys int) *RateLimiter {
	if rate <= 0 {
		return nil
	}
	if burst < 1 {
		burst = 1
	}
	if maxKeys <= 0 {
		maxKeys = 10000
	}
	return &RateLimiter{rate: rate, burst: float64(burst), maxKeys: maxKeys, now: time.Now,
		buckets: make(map[string]*bucket)}
}

// Allow spends one token of key. When none is left it returns false and the
// time until the next token (for Retry-After; the server answers 429).
func (rl *RateLimiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	if rl == nil {
		return true, 0
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	now := rl.now()
	b := rl.buckets[key]
	if b == nil {
		if len(rl.buckets) >= rl.maxKeys {
			rl.evict(now)
		}
		b = &bucket{tokens: rl.burst, last: now}
		rl.buckets[key] = b
	} else if el := now.Sub(b.last); el > 0 {
		b.tokens = min(rl.burst, b.tokens+el.Seconds()*rl.rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	need := (1 - b.tokens) / rl.rate
	return false, time.Duration(need * float64(time.Second))
}

// Peek reports whether key has a token left, without spending it (for
// limits charged only on failure, such as failed logins).
func (rl *RateLimiter) Peek(key string) (ok bool, retryAfter time.Duration) {
	if rl == nil {
		return true, 0
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	b := rl.buckets[key]
	if b == nil {
		return true, 0
	}
	tokens := b.tokens
	if el := rl.now().Sub(b.last); el > 0 {
		tokens = min(rl.burst, tokens+el.Seconds()*rl.rate)
	}
	if tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - tokens) / rl.rate * float64(time.Second))
}

// evict makes room for one key; mu must be held.
func (rl *RateLimiter) evict(now time.Time) {
	full := time.Duration(rl.burst / rl.rate * float64(time.Second))
	var oldestKey string
	var oldest time.Time
	for k, b := range rl.buckets {
		if now.Sub(b.last) >= full {
			delete(rl.buckets, k)
			continue
		}
		if oldestKey == "" || b.last.Before(oldest) {
			oldestKey, oldest = k, b.last
		}
	}
	if len(rl.buckets) >= rl.maxKeys && oldestKey != "" {
		delete(rl.buckets, oldestKey)
	}
}

// Len reports the number of tracked keys.
func (rl *RateLimiter) Len() int {
	if rl == nil {
		return 0
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return len(rl.buckets)
}

// RateLimit is middleware spending one token of key(r) (the principal's
// name; the server runs it after authentication) per request and answering
// 429 Too Many Requests with Retry-After when the bucket is empty. A nil rl
// allows everything.
func RateLimit(rl *RateLimiter, key func(*http.Request) string, onErr ErrorFunc) func(http.Handler) http.Handler {
	onErr = orDefault(onErr)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ok, wait := rl.Allow(key(r)); !ok {
				w.Header().Set("Retry-After", RetryAfter(wait))
				onErr(w, r, http.StatusTooManyRequests, "TooManyRequests", "rate limit exceeded")
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
