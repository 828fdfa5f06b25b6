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

	mu    sync.Mutex
	byKey map[string]*list.Element // of *cached
	lru   *list.List               // front: most recently used

	// Evicted statements are closed off the request path: Stmt.Close
	// waits until every call running on the statement (one waiting for a
	// pool connection included) has finished, and that must stall neither
	// the request that evicts nor those waiting for the cache lock.
	closeMu sync.Mutex
	toClose []*sql.Stmt
	closers int            // goroutines closing, at most maxClosers
	closing sync.WaitGroup // background closes and prepares, for tests

	preparing map[string]bool // statements being prepared in the background (guarded by mu)
	closedN   int             // statements closed, for tests
}

// maxClosers bounds the goroutines that close evicted statements.
const maxClosers = 2

// closeLater queues st to be closed by a background goroutine.
func (c *stmtCache) closeLater(st *sql.Stmt) {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	c.toClose = append(c.toClose, st)
	if c.closers < maxClosers {
		c.closers++
		c.closing.Add(1)
		go c.closeQueued()
	}
}

func (c *stmtCache) closeQueued() {
	defer c.closing.Done()
	for {
		c.closeMu.Lock()
		if len(c.toClose) == 0 {
			c.closers--
			c.closeMu.Unlock()
			return
		}
		st := c.toClose[0]
		c.toClose[0] = nil
		c.toClose = c.toClose[1:]
		c.closeMu.Unlock()
		_ = st.Close() // closed on each connection once it is idle
		c.closeMu.Lock()
		c.closedN++
		c.closeMu.Unlock()
	}
}

type cached struct {
	query string
	stmt  *sql.Stmt
}

func newStmtCache(db *sql.DB, max int) *stmtCache {
	return &stmtCache{db: db, max: max, byKey: map[string]*list.Element{}, lru: list.New()}
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
		c.closeLater(st)
		c.lru.MoveToFront(el)
		return el.Value.(*cached).stmt, nil
	}
	c.byKey[query] = c.lru.PushFront(&cached{query: query, stmt: st})
	for c.lru.Len() > c.max {
		old := c.lru.Remove(c.lru.Back()).(*cached)
		delete(c.byKey, old.query)
		c.closeLater(old.stmt)
	}
	return st, nil
}

// lookup returns query's cached statement, nil when there is none.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[query]; ok {
		c.lru.MoveToFront(el)
		return el.Value.(*cached).stmt
	}
	return nil
}

// maxPreparing bounds the statements prepared in the background at once;
// beyond it a statement is prepared when it is next needed.
const maxPreparing = 4

// prepareLater prepares query on the pool in the background (see
// preparedRunner.stmt), once however many requests ask meanwhile.
func (c *stmtCache) prepareLater(query string) {
	c.mu.Lock()
	if c.preparing == nil {
		c.preparing = map[string]bool{}
	}
	if c.preparing[query] || len(c.preparing) >= maxPreparing {
		c.mu.Unlock()
		return
	}
	c.preparing[query] = true
	c.mu.Unlock()
	c.closing.Add(1)
	go func() {
		defer c.closing.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, _ = c.get(ctx, query) // a failure is retried when the statement is next needed
		c.mu.Lock()
		delete(c.preparing, query)
		c.mu.Unlock()
	}()
}

// drop forgets query's statement (e.g. after the table under it changed).
func (c *stmtCache) drop(query string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.byKey[query]; ok {
		c.lru.Remove(el)
		delete(c.byKey, query)
		c.closeLater(el.Value.(*cached).stmt)
	}
}

// reset forgets every statement (the model was reloaded).
func (c *stmtCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, el := range c.byKey {
		c.closeLater(el.Value.(*cached).stmt)
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

// stmt returns the prepared statement to run query with: on the pool, the
// cached one (prepared now when missing); in tx, the cached one bound to
// tx's connection, or nil when it is not cached yet. Preparing it then
// would take a second pool connection while tx holds one, and when every
// connection is held by a transaction doing the same (a burst of writes
// after a restart, the cache empty) nobody gets one: the pool deadlocks.
// So the statement runs unprepared in tx, and is prepared on the pool in
// the background for the next time.
func (p preparedRunner) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if p.tx == nil {
		return p.b.stmts.get(ctx, query)
	}
	st := p.b.stmts.lookup(query)
	if st == nil {
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
		return p.raw().QueryContext(ctx, query, args...)
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
		return p.raw().ExecContext(ctx, query, args...)
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
