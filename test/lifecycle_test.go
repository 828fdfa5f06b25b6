package test

import (
	"context"
	"database/sql"
	"net/http"
	"testing"
	"time"

	"github.com/odatagw/odatagw/server/app"
)

// TestGracefulShutdownDrains holds a row lock so that a PATCH is in flight,
// shuts the gateway down, releases the lock, and checks that the request
// completed and the shutdown waited for it.
func TestGracefulShutdownDrains(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	c := fixtureConfig(dsn)
	g, err := app.Start(context.Background(), c, discardLogger())
	if err != nil {
		t.Fatal(err)
	}
	gw := &gateway{t: t, g: g, base: "http://" + g.Addr(), logs: func() string { return "" }}

	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`SELECT 1 FROM "Orders" WHERE "OrderID" = 10248 FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	status := make(chan int, 1)
	go func() { status <- gw.do("PATCH", "/odata/Orders(10248)", []byte(`{"Status":"Drained"}`)).Status }()
	// Wait until the PATCH is waiting on the row lock.
	waitFor(t, 10*time.Second, "the PATCH never waited on the row lock", func() bool {
		return lockWaiters(t, db, `%"Orders"%`) > 0
	})
	shutdown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		shutdown <- g.Shutdown(ctx)
	}()
	select {
	case err := <-shutdown:
		t.Fatalf("shutdown returned while a request was in flight: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if s := <-status; s != 204 {
		t.Fatalf("in-flight PATCH finished with %d", s)
	}
	if err := <-shutdown; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	var st string
	if err := db.QueryRow(`SELECT "Status" FROM "Orders" WHERE "OrderID" = 10248`).Scan(&st); err != nil || st != "Drained" {
		t.Fatalf("the drained write did not land: %q %v", st, err)
	}
}

// TestSetPermissions checks the per-set insert/update/delete switches that
// apply without authentication.
func TestSetPermissions(t *testing.T) {
	t.Parallel()
	no := false
	g := startFixture(t, func(c *app.Config) {
		c.Sets["Orders"] = app.SetConfig{Delete: &no, Insert: &no}
	})
	assertODataError(t, g.do("DELETE", "/odata/Orders(10248)", nil), 403)
	assertODataError(t, g.do("POST", "/odata/Orders", []byte(`{"CustomerID":"ALFKI","OrderDate":"2024-01-01","Total":1}`)), 403)
	if r := g.do("PATCH", "/odata/Orders(10248)", []byte(`{"Status":"Shipped"}`)); r.Status != 204 {
		t.Fatalf("update still allowed: %d %s", r.Status, r.Body)
	}
	// read_only: 405 with Allow, for every write method.
	g2 := startFixture(t, func(c *app.Config) { c.ReadOnly = true })
	for _, m := range []string{"POST", "PATCH", "PUT", "DELETE"} {
		path := "/odata/Orders(10248)"
		if m == "POST" {
			path = "/odata/Orders"
		}
		r := g2.do(m, path, []byte(`{"Status":"x"}`))
		assertODataError(t, r, 405)
		if r.Header.Get("Allow") == "" {
			t.Errorf("%s: no Allow header", m)
		}
	}
}

// TestClientDisconnectCancelsQuery blocks a read behind a table lock, lets
// the client give up, and checks that PostgreSQL no longer runs the
// gateway's query (lib/pq cancels it when the request context ends).
func TestClientDisconnectCancelsQuery(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	g := start(t, fixtureConfig(dsn))
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE "Orders" IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	waiting := func() int { return lockWaiters(t, db, `%FROM "public"."Orders"%`) }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, "GET", g.base+"/odata/Orders?$top=5", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for waiting() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the gateway's query never reached the lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel() // the client disconnects
	<-done
	deadline = time.Now().Add(5 * time.Second)
	for waiting() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the query kept running after the client went away")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
