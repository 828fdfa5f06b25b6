package sqlexec

import (
	"container/list"
	"context"
	"database/sql"
	"sync"
	"time"
)

// stmtCache prepares each statement text once and keeps at most max of
// them, dropping the least recently used first. A *sql.Stmt is prepared on
// each pool connection the first time it runs there and re-prepared on new
// connections (after a reconnect) by database/sql itself; the statements are
// the same across requests of one query shape because every value is a
// bind parameter.
type stmtCache struct {
	db  *sql.DB
	max int

	mu      sync.Mutex
	byKey   map[string]*list.Element // of *cached
	lru     *list.List               // front: most recently used
	pending map[string]bool          // being prepared in the background (prepareLater)
}

type cached struct {
	query string
	stmt  *sql.Stmt
}

func newStmtCache(db *sql.DB, max int) *stmtCache {
	return &stmtCache{db: db, max: max, byKey: map[string]*list.Element{}, lru: list.New(), pending: map[string]bool{}}
}

// lookup returns query's statement when it is already prepared.
func (c *stmtCache) lookup(query string) (*sql.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[query]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*cached).stmt, true
	}
	return nil, false
}

// prepareLater prepares query on the pool in the background, once. A
// transaction cannot prepare a pool-wide statement itself: DB.Prepare needs
// a free connection, and a transaction waiting for one while it holds its
// own can deadlock a busy (or one-connection) pool.
func (c *stmtCache) prepareLater(query string) {
	c.mu.Lock()
	if c.pending[query] {
		c.mu.Unlock()
		return
	}
	c.pending[query] = true
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = c.get(ctx, query) // a failure is retried by the next miss
		c.mu.Lock()
		delete(c.pending, query)
		c.mu.Unlock()
	}()
}

// get returns the prepared statement for query, preparing it when needed.
func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	if el, ok := c.byKey[query]; ok {
		c.lru.MoveToFront(el)
		st := el.Value.(*cached).stmt
		c.mu.Unlock()
		return st, nil
	}
	c.mu.Unlock()
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[query]; ok { // prepared meanwhile by another request
		_ = st.Close()
		c.lru.MoveToFront(el)
		return el.Value.(*cached).stmt, nil
	}
	c.byKey[query] = c.lru.PushFront(&cached{query: query, stmt: st})
	for c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*cached)
		delete(c.byKey, old.query)
		_ = old.stmt.Close() // closed on each connection once it is idle
	}
	return st, nil
}

// drop forgets query's statement (e.g. after the table under it changed).
func (c *stmtCache) drop(query string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[query]; ok {
		c.lru.Remove(el)
		delete(c.byKey, query)
		_ = el.Value.(*cached).stmt.Close()
	}
}

// reset forgets every statement (the model was reloaded).
func (c *stmtCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range c.byKey {
		_ = el.Value.(*cached).stmt.Close()
	}
	c.byKey = map[string]*list.Element{}
	c.lru.Init()
}

// len reports the number of cached statements.
func (c *stmtCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// preparedRunner runs statements through the cache, on the pool or in tx.
type preparedRunner struct {
	b  *Backend
	tx *sql.Tx
}

func (p preparedRunner) raw() queryer {
	if p.tx != nil {
		return p.tx
	}
	return p.b.DB
}

// stmt returns query's prepared statement; nil (and no error) when a
// transaction should run the text unprepared this time (see prepareLater).
func (p preparedRunner) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if p.tx == nil {
		return p.b.stmts.get(ctx, query)
	}
	st, ok := p.b.stmts.lookup(query)
	if !ok {
		p.b.stmts.prepareLater(query)
		return nil, nil
	}
	return p.tx.StmtContext(ctx, st), nil // closed with the transaction
}

func (p preparedRunner) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.tx.QueryContext(ctx, query, args...)
	}
	rows, err := st.QueryContext(ctx, args...)
	p.forgetStale(query, err)
	return rows, err
}

// forgetStale drops query's statement when err says its plan no longer
// fits the table (it changed under it): the next request prepares it anew.
func (p preparedRunner) forgetStale(query string, err error) {
	if err != nil && p.b.Stale != nil && p.b.Stale(err) {
		p.b.stmts.drop(query)
	}
}

func (p preparedRunner) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := p.stmt(ctx, query)
	if err != nil || st == nil {
		// *sql.Row carries its error only when made by database/sql: run
		// the text, which fails the same way (or works unprepared).
		return p.raw().QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

func (p preparedRunner) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return p.tx.ExecContext(ctx, query, args...)
	}
	res, err := st.ExecContext(ctx, args...)
	p.forgetStale(query, err)
	return res, err
}

// on is where a statement runs: the pool (tx nil) or tx, through the
// statement cache when the backend prepares statements.
func (b *Backend) on(tx *sql.Tx) queryer {
	switch {
	case b.stmts != nil:
		return preparedRunner{b: b, tx: tx}
	case tx != nil:
		return tx
	}
	return b.DB
}

// CachedStatements is the number of prepared statements kept (0 when the
// backend does not prepare statements).
func (b *Backend) CachedStatements() int {
	if b.stmts == nil {
		return 0
	}
	return b.stmts.len()
}

// ResetStatements forgets every prepared statement; call it when the model
// was reloaded, since a table under a statement may have changed.
func (b *Backend) ResetStatements() {
	if b.stmts != nil {
		b.stmts.reset()
	}
}

// PrepareStatements makes the backend prepare each statement once and reuse
// it, keeping at most max (0: 512) prepared statements. Call it before use.
// Leave it off in front of a pooler in transaction mode (PgBouncer), which
// cannot keep prepared statements across transactions.
func (b *Backend) PrepareStatements(max int) {
	if max <= 0 {
		max = 512
	}
	b.stmts = newStmtCache(b.DB, max)
}
