package server

import (
	"strconv"
	"time"

	"github.com/odatagw/odatagw/server/guard"
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	rows      *prometheus.CounterVec
	passwords *prometheus.CounterVec
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "odatagw_requests_total", Help: "HTTP requests by method and status code.",
		}, []string{"method", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "odatagw_request_duration_seconds", Help: "HTTP request latency by method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120},
		}, []string{"method"}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "odatagw_rows_total", Help: "Rows returned, by entity set.",
		}, []string{"set"}),
		passwords: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "odatagw_password_checks_total",
			Help: "Basic passwords checked with bcrypt (ok, fail) or refused before the check (throttled, busy).",
		}, []string{"outcome"}),
	}
	reg.MustRegister(m.requests, m.duration, m.rows, m.passwords)
	return m
}

func (m *metrics) passwordCheck(outcome string) { m.passwords.WithLabelValues(outcome).Inc() }

// knownMethods bounds the method label: any other method string (clients
// can send anything) is counted as OTHER.
var knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true,
	"MERGE": true, "DELETE": true, "OPTIONS": true}

func (m *metrics) observe(method string, status int, set string, d time.Duration, rows int64) {
	if !knownMethods[method] {
		method = "OTHER"
	}
	m.requests.WithLabelValues(method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method).Observe(d.Seconds())
	if set != "" && rows > 0 {
		m.rows.WithLabelValues(set).Add(float64(rows))
	}
}

// admissionMetrics exposes the database admission limiter: slots in use and
// requests waiting for one (gauges read at scrape time).
func admissionMetrics(reg *prometheus.Registry, l *guard.Limiter) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "odatagw_db_slots_in_use", Help: "Database slots held by requests (admission limiter).",
		}, func() float64 { in, _ := l.Stats(); return float64(in) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "odatagw_db_slots_waiting", Help: "Requests waiting for a database slot.",
		}, func() float64 { _, w := l.Stats(); return float64(w) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "odatagw_db_long_lane_in_use", Help: "Long-running requests in the limiter's long lane.",
		}, func() float64 { in, _ := l.LongStats(); return float64(in) }),
	)
}

func itoa(n int) string { return strconv.Itoa(n) }
