//go:build faults

package faults

import (
	"context"
	"database/sql"
	"time"

	_ "github.com/lib/pq" // driver
	"github.com/odatagw/odatagw/internal/pgtest"
)

// cluster is a throwaway PostgreSQL cluster (pgtest.StartCluster: initdb in
// a temp dir, on a free loopback port), owned by the harness so that it can
// restart and crash it.
type cluster struct{ *pgtest.Cluster }

func startCluster() (*cluster, error) {
	c, err := pgtest.StartCluster("-c max_connections=300")
	if err != nil {
		return nil, err
	}
	return &cluster{c}, nil
}

// restart restarts the server: mode "fast" (clean shutdown, sessions
// terminated) or "immediate" (a crash: no checkpoint, recovery on start).
func (c *cluster) restart(mode string) error { return c.RestartMode(mode) }

// remove stops the server (immediately) and deletes the cluster.
func (c *cluster) remove() { c.Remove() }

// dsn is the address of database db on the cluster, direct (no proxy).
func (c *cluster) dsn(db string) string { return c.DSN(db) }

func (c *cluster) addr() string { return c.Addr() }

// admin opens a direct pool on db for the harness's own queries (not named
// odatagw, so that terminating the gateway's sessions spares it).
func (c *cluster) admin(db string) (*sql.DB, error) {
	pool, err := sql.Open("postgres", c.dsn(db)+"&application_name=faults-harness")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return pool, pool.PingContext(ctx)
}

// execRetry runs a statement on db, retrying any failure (the server may
// be restarting) until limit has passed.
func execRetry(db *sql.DB, limit time.Duration, query string, args ...any) error {
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		_, err := db.ExecContext(ctx, query, args...)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
