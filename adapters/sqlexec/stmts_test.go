package sqlexec

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/lib/pq" // driver
	"github.com/odatagw/odatagw/internal/pgtest"
)

// TestEvictionDoesNotWaitForBusyStatements: a statement evicted from the
// cache (or dropped, or reset) while a call on it runs is closed in the
// background (database/sql's Stmt.Close waits for the call); the request
// that evicts it, and every other request needing the cache, go on at once.
// The statement is closed once the call has finished.
func TestEvictionDoesNotWaitForBusyStatements(t *testing.T) {
	dsn := pgtest.NewDB(t)
	const busy = "SELECT pg_sleep(1.5)"
	evictions := []struct {
		name  string
		evict func(c *stmtCache) error
	}{
		{"evicted by a new statement", func(c *stmtCache) error {
			_, err := c.get(context.Background(), "SELECT 2")
			return err
		}},
		{"dropped", func(c *stmtCache) error { c.drop(busy); return nil }},
		{"reset", func(c *stmtCache) error { c.reset(); return nil }},
	}
	for _, tc := range evictions {
		t.Run(tc.name, func(t *testing.T) {
			db, err := sql.Open("postgres", dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			c := newStmtCache(db, 1)
			st, err := c.get(context.Background(), busy)
			if err != nil {
				t.Fatal(err)
			}
			running := make(chan error, 1)
			go func() {
				_, err := st.ExecContext(context.Background())
				running <- err
			}()
			time.Sleep(300 * time.Millisecond) // the call is running

			start := time.Now()
			if err := tc.evict(c); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("evicting a busy statement took %v: it waited for the call on it", d)
			}
			if n := c.len(); n > 1 {
				t.Errorf("cache holds %d statements, want at most 1", n)
			}
			if err := <-running; err != nil {
				t.Errorf("the call on the evicted statement failed: %v", err)
			}
			c.closing.Wait()
			c.closeMu.Lock()
			closed := c.closedN
			c.closeMu.Unlock()
			if closed != 1 {
				t.Errorf("%d statements closed, want the evicted one", closed)
			}
		})
	}
}
