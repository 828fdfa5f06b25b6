package app

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/postgres"
	"github.com/odatagw/odatagw/adapters/replica"
)

// withReplicas wraps the primary's adapter with the read replicas of
// c.ReadDB (adapters/replica), logging and counting where reads go.
// Replicas that cannot be opened at start are errors: a typo in read_db
// should not silently put every read on the primary.
func withReplicas(ctx context.Context, c Config, primary adapters.Adapter, log zerolog.Logger, reg *prometheus.Registry) (adapters.Adapter, error) {
	reads := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "odatagw_read_routes_total",
		Help: "Reads (queries, counts, introspection) by where they ran (target replica with its name, or primary) and why the primary: forced (delta links), unhealthy (no replica within read_max_lag), error (the replica failed, retried on the primary).",
	}, []string{"target", "replica", "reason"})
	healthy := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "odatagw_read_replica_healthy", Help: "1 when the read replica answers within read_max_lag, else 0.",
	}, []string{"replica"})
	lag := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "odatagw_read_replica_lag_seconds", Help: "The read replica's replay lag at the last check.",
	}, []string{"replica"})
	reg.MustRegister(reads, healthy, lag)

	zone, err := time.LoadLocation(c.TimeZone)
	if err != nil {
		return nil, err
	}
	var reps []replica.Replica
	closeAll := func() {
		for _, r := range reps {
			_ = r.Adapter.Close()
		}
	}
	for i, dsn := range c.ReadDB {
		if !isPostgresDSN(dsn) {
			closeAll()
			return nil, fmt.Errorf("read_db[%d]: not a PostgreSQL DSN", i)
		}
		db, err := postgres.Open(ctx, postgres.Options{
			DSN: dsn, Schemas: c.Schemas, StatementTimeout: c.StatementTimeout,
			MaxOpenConns: c.MaxOpenConns, Zone: zone, CountTimeout: max(c.CountTimeout, 0),
			PreparedStatements: c.PreparedStatements, Observe: sqlObserver(log.With().Int("read_db", i).Logger()),
		})
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("read_db[%d] %s: %w", i, maskDSN(dsn), err)
		}
		reps = append(reps, replica.Replica{Name: fmt.Sprintf("read_db[%d]", i), Adapter: db, Lag: db.ReplayLag})
		log.Info().Str("replica", maskDSN(dsn)).Int("index", i).Msg("read replica")
	}
	r := replica.New(ctx, primary, reps, replica.Options{
		MaxLag: c.ReadMaxLag, Interval: c.ReadCheckInterval,
		OnRoute: func(rt replica.Route) {
			switch {
			case rt.Replica != "":
				reads.WithLabelValues("replica", rt.Replica, "").Inc()
			default:
				reads.WithLabelValues("primary", "", rt.Reason).Inc()
				if rt.Reason == "error" {
					log.Warn().Msg("a read replica failed a read: answered from the primary; the replica is skipped until its next check")
				}
			}
		},
		OnHealth: func(h replica.Health) {
			v := 0.0
			if h.Healthy {
				v = 1
			}
			healthy.WithLabelValues(h.Replica).Set(v)
			if h.Err == nil {
				lag.WithLabelValues(h.Replica).Set(h.Lag.Seconds())
			}
			if !h.Changed && (h.Healthy || h.Err == nil && h.Lag <= c.ReadMaxLag) {
				return
			}
			switch {
			case h.Healthy:
				log.Info().Str("replica", h.Replica).Dur("lag", h.Lag).Msg("read replica healthy: reads go to it")
			case h.Err != nil && h.Changed:
				log.Warn().Str("replica", h.Replica).Err(h.Err).Msg("read replica unreachable: its reads fall back to the primary")
			case h.Changed:
				log.Warn().Str("replica", h.Replica).Dur("lag", h.Lag).Dur("read_max_lag", c.ReadMaxLag).
					Msg("read replica lags more than read_max_lag: its reads fall back to the primary")
			}
		},
	})
	return r.Wrap(), nil
}
