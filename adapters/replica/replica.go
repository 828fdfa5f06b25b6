// Package replica routes an adapter's reads to read replicas: Routed wraps
// the primary's adapter and one or more replicas' adapters. Query, Count and
// Model go to a healthy replica (round-robin); writes, change sets (Atomic),
// change tracking and reads marked with adapters.OnPrimary go to the
// primary. A background loop measures each replica's replay lag; a replica
// that does not answer or lags more than MaxLag is skipped, and reads fall
// back to the primary. Routed never logs: it reports through Options.Report.
package replica

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Replica is one read replica.
type Replica struct {
	// Name identifies the replica in reports (a DSN with its password masked).
	Name    string
	Adapter adapters.Adapter
	// Lag measures how far the replica's replay is behind its primary.
	Lag func(ctx context.Context) (time.Duration, error)
}

// Route says where a read went and why.
type Route struct {
	Replica string // "" when the primary served it
	// Reason is why the primary served a read: "forced" (adapters.OnPrimary),
	// "unhealthy" (no replica is healthy) or "error" (the replica failed the
	// read, which was retried on the primary).
	Reason string
}

// Health is a replica's state after a check.
type Health struct {
	Replica string
	Healthy bool
	Lag     time.Duration // when measured
	Err     error         // when the replica did not answer
	Changed bool          // the replica's health differs from the previous check
}

// Options configure Routed.
type Options struct {
	MaxLag   time.Duration // default 30s
	Interval time.Duration // between checks, default 5s
	// Report, when set, is called for each read's route (OnRoute) and after
	// each health check (OnHealth); calls may come from any goroutine.
	OnRoute  func(Route)
	OnHealth func(Health)
}

// Routed is an adapters.Adapter that sends reads to replicas.
type Routed struct {
	primary  adapters.Adapter
	replicas []*member
	opt      Options
	next     atomic.Uint64
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

type member struct {
	Replica
	healthy atomic.Bool
}

var _ adapters.Adapter = (*Routed)(nil)

// New wraps primary with replicas, checks them once and starts checking
// them every Interval until Close.
func New(ctx context.Context, primary adapters.Adapter, replicas []Replica, opt Options) *Routed {
	if opt.MaxLag <= 0 {
		opt.MaxLag = 30 * time.Second
	}
	if opt.Interval <= 0 {
		opt.Interval = 5 * time.Second
	}
	r := &Routed{primary: primary, opt: opt}
	for _, rep := range replicas {
		r.replicas = append(r.replicas, &member{Replica: rep})
	}
	r.CheckNow(ctx)
	bg, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(opt.Interval)
		defer t.Stop()
		for {
			select {
			case <-bg.Done():
				return
			case <-t.C:
				r.CheckNow(bg)
			}
		}
	}()
	return r
}

// CheckNow measures every replica's lag and updates its health.
func (r *Routed) CheckNow(ctx context.Context) {
	for _, m := range r.replicas {
		cctx, cancel := context.WithTimeout(ctx, max(r.opt.Interval, 2*time.Second))
		lag, err := m.Lag(cctx)
		cancel()
		ok := err == nil && lag <= r.opt.MaxLag
		was := m.healthy.Swap(ok)
		if r.opt.OnHealth != nil {
			r.opt.OnHealth(Health{Replica: m.Name, Healthy: ok, Lag: lag, Err: err, Changed: was != ok})
		}
	}
}

// Healthy lists the names of the replicas currently used for reads.
func (r *Routed) Healthy() []string {
	var out []string
	for _, m := range r.replicas {
		if m.healthy.Load() {
			out = append(out, m.Name)
		}
	}
	return out
}

// pick returns the next healthy replica (round-robin), nil when none is.
func (r *Routed) pick() *member {
	n := len(r.replicas)
	start := r.next.Add(1)
	for i := range n {
		m := r.replicas[(int(start)+i)%n]
		if m.healthy.Load() {
			return m
		}
	}
	return nil
}

func (r *Routed) route(rt Route) {
	if r.opt.OnRoute != nil {
		r.opt.OnRoute(rt)
	}
}

// read runs fn on a replica when allowed and one is healthy, else (or when
// the replica fails with an error the primary might not have) on the
// primary.
func read[T any](ctx context.Context, r *Routed, fn func(adapters.Adapter) (T, error)) (T, error) {
	if adapters.IsOnPrimary(ctx) {
		r.route(Route{Reason: "forced"})
		return fn(r.primary)
	}
	m := r.pick()
	if m == nil {
		r.route(Route{Reason: "unhealthy"})
		return fn(r.primary)
	}
	v, err := fn(m.Adapter)
	if err == nil {
		r.route(Route{Replica: m.Name})
		return v, nil
	}
	if ctx.Err() != nil || !retryOnPrimary(err) {
		return v, err
	}
	// The replica broke (gone, restarting): mark it
	// unhealthy until the next check and answer from the primary.
	m.healthy.Store(false)
	r.route(Route{Reason: "error"})
	return fn(r.primary)
}

// retryOnPrimary reports an error that says nothing about the query
// itself: the replica is unavailable (refused or broken connection, shutting
// down or starting up).
func retryOnPrimary(err error) bool {
	return adapters.KindOf(err) == adapters.Unavailable
}

// Query implements adapters.Adapter.
func (r *Routed) Query(ctx context.Context, q *semantic.Query, limit int64) (adapters.Rows, error) {
	return read(ctx, r, func(a adapters.Adapter) (adapters.Rows, error) { return a.Query(ctx, q, limit) })
}

// Count implements adapters.Adapter.
func (r *Routed) Count(ctx context.Context, q *semantic.Query) (adapters.Count, error) {
	return read(ctx, r, func(a adapters.Adapter) (adapters.Count, error) { return a.Count(ctx, q) })
}

// Model introspects a healthy replica (the primary when none is).
func (r *Routed) Model(ctx context.Context, ov metadata.Overlay) (*metadata.Model, []metadata.Warning, error) {
	type result struct {
		m *metadata.Model
		w []metadata.Warning
	}
	res, err := read(ctx, r, func(a adapters.Adapter) (result, error) {
		m, w, err := a.Model(ctx, ov)
		return result{m, w}, err
	})
	return res.m, res.w, err
}

// Insert implements adapters.Writer on the primary.
func (r *Routed) Insert(ctx context.Context, w *adapters.Write) (adapters.Row, error) {
	return r.primary.Insert(ctx, w)
}

// Update implements adapters.Writer on the primary.
func (r *Routed) Update(ctx context.Context, w *adapters.Write) (adapters.Row, error) {
	return r.primary.Update(ctx, w)
}

// Delete implements adapters.Writer on the primary.
func (r *Routed) Delete(ctx context.Context, w *adapters.Write) error {
	return r.primary.Delete(ctx, w)
}

// Atomic runs a change set on the primary.
func (r *Routed) Atomic(ctx context.Context, checked bool, fn func(w adapters.Writer) error) error {
	return r.primary.Atomic(ctx, checked, fn)
}

// Ping checks the primary: readiness follows the primary, since reads
// fall back to it and writes need it.
func (r *Routed) Ping(ctx context.Context) error { return r.primary.Ping(ctx) }

// Close stops the checks and closes every adapter.
func (r *Routed) Close() error {
	r.stop()
	r.wg.Wait()
	errs := []error{r.primary.Close()}
	for _, m := range r.replicas {
		errs = append(errs, m.Adapter.Close())
	}
	return errors.Join(errs...)
}

// Primary is the primary's adapter (change tracking, administration).
func (r *Routed) Primary() adapters.Adapter { return r.primary }

// ResetStatements forgets prepared statements everywhere (after a reload).
func (r *Routed) ResetStatements() {
	for _, a := range r.all() {
		if rs, ok := a.(interface{ ResetStatements() }); ok {
			rs.ResetStatements()
		}
	}
}

func (r *Routed) all() []adapters.Adapter {
	out := []adapters.Adapter{r.primary}
	for _, m := range r.replicas {
		out = append(out, m.Adapter)
	}
	return out
}

// Tracking is a Routed whose primary tracks changes: the change log is
// read on the primary, in the same history as the writes.
type Tracking struct {
	*Routed
	adapters.ChangeTracker
}

// Wrap returns the Routed, as an adapters.ChangeTracker too when the
// primary is one.
func (r *Routed) Wrap() adapters.Adapter {
	if ct, ok := r.primary.(adapters.ChangeTracker); ok {
		return &Tracking{Routed: r, ChangeTracker: ct}
	}
	return r
}
