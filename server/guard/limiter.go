package guard

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// ErrSaturated is returned by Limiter.Acquire when the pool and its queue are
// full or the wait for a slot exceeded the limit. The server answers
// 503 Service Unavailable with a Retry-After header.
var ErrSaturated = errors.New("guard: too many concurrent queries")

// Limiter bounds concurrent database work: at most max holders, at most
// queue waiters, each waiting at most wait. Requests beyond that fail fast
// with ErrSaturated instead of piling up. It is safe for concurrent use.
type Limiter struct {
	slots   chan struct{}
	queue   int64
	wait    time.Duration
	waiting atomic.Int64
}

// NewLimiter returns a Limiter with the given slots (at least 1), a queue of
// queue waiters (0: no waiting, fail at once when all slots are taken) and a
// maximum wait (0: no waiting either).
func NewLimiter(slots, queue int, wait time.Duration) *Limiter {
	if slots < 1 {
		slots = 1
	}
	if queue < 0 {
		queue = 0
	}
	return &Limiter{slots: make(chan struct{}, slots), queue: int64(queue), wait: wait}
}

// Acquire takes a slot. On success it returns release, which frees the slot
// and is safe to call more than once. It returns ErrSaturated when the queue
// is full or no slot freed up within the wait, and ctx.Err() when ctx ends
// first.
func (l *Limiter) Acquire(ctx context.Context) (release func(), err error) {
	select {
	case l.slots <- struct{}{}:
		return l.releaser(), nil
	default:
	}
	if l.wait <= 0 || l.queue == 0 {
		return nil, ErrSaturated
	}
	// Join the queue only if there is room; a CAS loop keeps the counter
	// exact (never above queue, even transiently, so Stats is truthful).
	for {
		w := l.waiting.Load()
		if w >= l.queue {
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
		return l.releaser(), nil
	case <-t.C:
		return nil, ErrSaturated
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *Limiter) releaser() func() {
	var once sync.Once
	return func() { once.Do(func() { <-l.slots }) }
}

// Stats reports the slots in use and the requests waiting (for metrics).
func (l *Limiter) Stats() (inUse, waiting int) {
	return len(l.slots), int(l.waiting.Load())
}

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
