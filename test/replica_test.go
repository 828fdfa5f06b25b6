package test

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/server/app"
)

// metricValue sums the samples of a Prometheus metric whose labels contain
// every one of labels (e.g. `target="replica"`); 0 when none.
func (g *gateway) metricValue(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	r := g.do("GET", "/metrics", nil)
	if r.Status != 200 {
		t.Fatalf("/metrics: %d", r.Status)
	}
	var sum float64
	for _, line := range strings.Split(string(r.Body), "\n") {
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		all := true
		for _, l := range labels {
			all = all && strings.Contains(rest, l)
		}
		if i := strings.LastIndexByte(rest, ' '); all && i >= 0 {
			v, err := strconv.ParseFloat(rest[i+1:], 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			sum += v
		}
	}
	return sum
}

// eventually polls cond every 50 ms until it holds or limit passes.
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", limit, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestReadReplica runs gateways against a real streaming replica: a
// throwaway primary cluster (wal_level=replica) and a hot standby taken
// from it with pg_basebackup -R, both started here on free loopback ports.
// Gateway "patient" tolerates any lag (read_max_lag 1h), so that a paused
// replay shows which reads the replica serves; gateway "strict" (1 s)
// skips the replica once it lags. Not parallel with its own steps: they
// pause, resume and stop the one standby in turn.
func TestReadReplica(t *testing.T) {
	t.Parallel()
	primary := pgtest.StartPrimary(t)
	pgtest.MustExec(t, primary.DSN("postgres"), `CREATE DATABASE app`)
	fixture, err := os.ReadFile(filepath.Join("testdata", "fixture.sql"))
	if err != nil {
		t.Fatal(err)
	}
	pdsn := primary.DSN("app")
	pgtest.MustExec(t, pdsn, string(fixture))
	trackCmd(t, "install", []string{"Orders"}, "--db", pdsn)
	standby := primary.StartStandby(t)
	sdsn := standby.DSN("app")
	pgtest.WaitReplay(t, pdsn, sdsn)

	config := func(maxLag time.Duration) app.Config {
		c := fixtureConfig(pdsn)
		c.ReadDB = []string{sdsn}
		c.ReadMaxLag = maxLag
		c.ReadCheckInterval = 100 * time.Millisecond
		c.Sets["Orders"] = app.SetConfig{TrackChanges: true}
		return c
	}
	patient := start(t, config(time.Hour))
	strict := start(t, config(time.Second))
	sdb, err := sql.Open("postgres", sdsn)
	if err != nil {
		t.Fatal(err)
	}
	defer sdb.Close()
	standbySQL := func(stmt string) {
		t.Helper()
		if _, err := sdb.Exec(stmt); err != nil {
			t.Fatalf("standby: %s: %v", stmt, err)
		}
	}
	routes := func(g *gateway, target string) float64 {
		return g.metricValue(t, "odatagw_read_routes_total", `target="`+target+`"`)
	}
	customer := func(id string) []byte {
		return []byte(`{"CustomerID":"` + id + `","Name":"Replica ` + id + `"}`)
	}
	track := []string{"Prefer", "odata.track-changes"}

	// Every kind of read goes to the replica while it is healthy.
	t.Run("reads on the replica", func(t *testing.T) {
		for _, tc := range []struct{ name, path, want string }{
			{"collection", "/odata/Customers?$select=CustomerID&$filter=Country eq 'Germany'", `"CustomerID":"ALFKI"`},
			{"count option", "/odata/Customers?$count=true&$top=0", `"@odata.count":`},
			{"$count", "/odata/Customers/$count", ""},
			{"entity", "/odata/Customers('ALFKI')", `"Name":"Alfreds Futterkiste"`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				before := routes(patient, "replica")
				r := patient.do("GET", tc.path, nil)
				if r.Status != 200 || !strings.Contains(string(r.Body), tc.want) {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				if after := routes(patient, "replica"); after <= before {
					t.Errorf("replica reads %v -> %v: not served by the replica", before, after)
				}
			})
		}
	})

	// Several replicas are used in turn: the same standby under two DSNs
	// (application_name odatagw and odatagw-second), each read counted for
	// one and the standby's sessions carrying both names.
	t.Run("round-robin", func(t *testing.T) {
		c := config(time.Hour)
		c.ReadDB = []string{sdsn, sdsn + "&application_name=odatagw-second"}
		g := start(t, c)
		per := func() (float64, float64) {
			return g.metricValue(t, "odatagw_read_routes_total", `replica="read_db[0]"`),
				g.metricValue(t, "odatagw_read_routes_total", `replica="read_db[1]"`)
		}
		a0, b0 := per()
		for range 10 {
			if r := g.do("GET", "/odata/Customers('ALFKI')", nil); r.Status != 200 {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		}
		a1, b1 := per()
		if a1-a0 != 5 || b1-b0 != 5 {
			t.Errorf("10 reads: %v on read_db[0], %v on read_db[1], want 5 and 5", a1-a0, b1-b0)
		}
		var names string
		if err := sdb.QueryRow(`SELECT string_agg(DISTINCT application_name, ',' ORDER BY application_name) FROM pg_stat_activity
			WHERE datname = 'app' AND application_name LIKE 'odatagw%'`).Scan(&names); err != nil || names != "odatagw,odatagw-second" {
			t.Errorf("standby sessions: %q %v", names, err)
		}
	})

	// A row written through the gateway appears on replica reads once
	// replayed.
	t.Run("writes replayed", func(t *testing.T) {
		if r := patient.do("POST", "/odata/Customers", customer("REP1")); r.Status != 201 {
			t.Fatalf("POST: %d %s", r.Status, r.Body)
		}
		pgtest.WaitReplay(t, pdsn, sdsn)
		before := routes(patient, "replica")
		if r := patient.do("GET", "/odata/Customers('REP1')", nil); r.Status != 200 {
			t.Fatalf("GET after replay: %d %s", r.Status, r.Body)
		}
		if routes(patient, "replica") <= before {
			t.Errorf("not read from the replica")
		}
	})

	// With replay paused: the patient gateway reads the replica's older
	// state (the write went to the primary, whose answer the POST
	// returned), except delta-link reads, which stay on the primary; the
	// strict gateway skips the lagging replica and reads the primary.
	t.Run("lagging replica", func(t *testing.T) {
		r := patient.do("GET", "/odata/Orders?$select=OrderID&$top=0", nil, track...)
		delta := link(t, r, "deltaLink")
		count := string(patient.do("GET", "/odata/Customers/$count", nil).Body)
		standbySQL(`SELECT pg_wal_replay_pause()`)
		defer standbySQL(`SELECT pg_wal_replay_resume()`)
		if r := patient.do("POST", "/odata/Customers", customer("REP2")); r.Status != 201 || !strings.Contains(string(r.Body), `"Name":"Replica REP2"`) {
			t.Fatalf("POST: %d %s", r.Status, r.Body)
		}
		if r := patient.do("PATCH", "/odata/Orders(10248)", []byte(`{"Status":"Lagged"}`)); r.Status != 204 {
			t.Fatalf("PATCH: %d %s", r.Status, r.Body)
		}
		if r := patient.do("GET", "/odata/Customers('REP2')", nil); r.Status != 404 {
			t.Errorf("patient: REP2 before replay: %d %s (want 404 from the paused replica)", r.Status, r.Body)
		}
		if got := string(patient.do("GET", "/odata/Customers/$count", nil).Body); got != count {
			t.Errorf("patient: $count %s, want the replica's %s", got, count)
		}
		r = patient.doURL("GET", delta, nil)
		if r.Status != 200 || !strings.Contains(string(r.Body), `{"OrderID":10248}`) {
			t.Errorf("delta poll (primary): %d %s", r.Status, r.Body)
		}
		eventually(t, 15*time.Second, "strict gateway marks the replica unhealthy", func() bool {
			return strict.metricValue(t, "odatagw_read_replica_healthy") == 0
		})
		before := strict.metricValue(t, "odatagw_read_routes_total", `target="primary"`, `reason="unhealthy"`)
		if r := strict.do("GET", "/odata/Customers('REP2')", nil); r.Status != 200 {
			t.Errorf("strict: REP2: %d %s (want 200 from the primary)", r.Status, r.Body)
		}
		if after := strict.metricValue(t, "odatagw_read_routes_total", `target="primary"`, `reason="unhealthy"`); after <= before {
			t.Errorf("fallback not counted: %v -> %v", before, after)
		}
		if !strings.Contains(strict.logs(), "read replica lags more than read_max_lag") {
			t.Errorf("no log line about the lagging replica")
		}
		if lag := strict.metricValue(t, "odatagw_read_replica_lag_seconds"); lag < 1 {
			t.Errorf("lag metric %v, want > 1s", lag)
		}
	})

	t.Run("caught up", func(t *testing.T) {
		pgtest.WaitReplay(t, pdsn, sdsn)
		if r := patient.do("GET", "/odata/Customers('REP2')", nil); r.Status != 200 {
			t.Errorf("patient: REP2 after replay: %d %s", r.Status, r.Body)
		}
		eventually(t, 15*time.Second, "strict gateway uses the replica again", func() bool {
			return strict.metricValue(t, "odatagw_read_replica_healthy") == 1
		})
		before := routes(strict, "replica")
		if r := strict.do("GET", "/odata/Customers('REP2')", nil); r.Status != 200 || routes(strict, "replica") <= before {
			t.Errorf("strict: not back on the replica: %d %s", r.Status, r.Body)
		}
	})

	// A stopped replica fails no read: the first reads after the stop
	// fail on the replica and are answered from the primary, later ones
	// skip it.
	t.Run("stopped replica", func(t *testing.T) {
		sdb.Close()
		standby.Stop()
		for i := range 10 {
			for _, g := range []*gateway{patient, strict} {
				if r := g.do("GET", "/odata/Customers?$count=true&$top=1", nil); r.Status != 200 {
					t.Fatalf("read %d with the replica down: %d %s", i, r.Status, r.Body)
				}
			}
			time.Sleep(30 * time.Millisecond)
		}
		if n := patient.metricValue(t, "odatagw_read_routes_total", `target="primary"`); n == 0 {
			t.Errorf("no read fell back to the primary")
		}
		if patient.metricValue(t, "odatagw_read_replica_healthy") != 0 {
			t.Errorf("stopped replica still healthy")
		}
		if !strings.Contains(patient.logs(), "read replica unreachable") {
			t.Errorf("no log line about the unreachable replica")
		}
		standby.Restart()
		eventually(t, 30*time.Second, "replica healthy after restart", func() bool {
			return patient.metricValue(t, "odatagw_read_replica_healthy") == 1
		})
		before := routes(patient, "replica")
		if r := patient.do("GET", "/odata/Customers('REP2')", nil); r.Status != 200 || routes(patient, "replica") <= before {
			t.Errorf("not back on the replica after restart: %d %s", r.Status, r.Body)
		}
	})
}
