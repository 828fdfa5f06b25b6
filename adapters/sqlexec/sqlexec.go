// Package sqlexec runs the statements of adapters/sqlgen on a database/sql
// pool: streamed reads, counts in the same snapshot as the page, and writes
// as single transactions with ETag and row-filter checks and one retry on
// serialization failures. Backends (postgres, mysql, sqlite) supply the dialect,
// the row scanner and the error classifier.
package sqlexec

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Scanner converts one backend row into edm.Values.
type Scanner interface {
	// Dest returns the scan destinations, one per column; reused per row.
	Dest() []any
	// Convert fills vals from the destinations after a Scan.
	Convert(vals []edm.Value) error
}

// Backend is the backend-specific part of an executor.
type Backend struct {
	DB      *sql.DB
	Dialect sqlgen.Dialect
	// Classify maps a driver error to an *adapters.Error.
	Classify func(error) error
	// Retryable reports serialization failures and deadlocks.
	Retryable func(error) bool
	// NewScanner builds a scanner for the given columns.
	NewScanner func(cols []*metadata.Property) Scanner
	// ReadTx is used to read a count and a page in one snapshot.
	ReadTx *sql.TxOptions
	// WriteTx is used for writes (nil: the database default, READ
	// COMMITTED on PostgreSQL: concurrent unconditional updates queue on the
	// row lock and the last writer wins).
	WriteTx *sql.TxOptions
	// CheckedWriteTx is used for writes with an If-Match precondition
	// (REPEATABLE READ on PostgreSQL, so that a concurrent change between the
	// ETag check and the update fails and is retried, then answered 412).
	CheckedWriteTx *sql.TxOptions
	// Observe, when set, sees every statement.
	Observe func(sql string, args []any, d time.Duration, err error)
	// Lost reports whether err means the connection to the database broke,
	// so that what was in flight may or may not have run.
	Lost func(error) bool
	// TxID returns the id of tx's transaction and the incarnation of the
	// server that assigned it, taken before its commit so that a commit
	// whose answer is lost can be resolved (nil: unsupported).
	TxID func(ctx context.Context, tx *sql.Tx) (TxRef, error)
	// TxStatus asks, on a fresh connection, what became of transaction id:
	// "committed", "aborted" or "in progress", and the incarnation of the
	// server that answers. Its answer is believed only from the incarnation
	// that assigned the id: after a crash, ids whose WAL was never flushed
	// are handed out again, so another transaction may have committed
	// under the same id.
	TxStatus func(ctx context.Context, db *sql.DB, id int64) (status, incarnation string, err error)
	// ResolveFor bounds how long a lost commit is resolved (default 15 s,
	// enough for a database restart).
	ResolveFor time.Duration

	// Estimate returns the planner's row estimate for stmt, a SELECT
	// (nil: the backend has none; counts are then always exact).
	Estimate func(ctx context.Context, qr RowQuerier, stmt sqlgen.Statement) (int64, error)
	// Bounded runs fn, one statement on tx, under a statement timeout of d
	// and leaves tx usable whether or not fn timed out; it reports whether
	// fn's error was that timeout (nil: counts are not bounded).
	Bounded func(ctx context.Context, tx *sql.Tx, d time.Duration, fn func() error) (timedOut bool, err error)
	// CountTimeout bounds a page's count (0: no bound but the statement
	// timeout).
	CountTimeout time.Duration

	// Stale reports an error of a prepared statement whose table changed
	// under it (its plan no longer fits): the statement is dropped.
	Stale func(error) bool

	// NoReturning: the backend has no INSERT/UPDATE ... RETURNING (MySQL).
	// Writes then run without it and the row is read back in the same
	// transaction by its key: the written key values, else the generated
	// id (LastInsertId) for the one Identity key property.
	NoReturning bool

	stmts *stmtCache // nil: statements are not prepared (see PrepareStatements)
}

// TxRef names a write transaction for resolving a lost commit: its id and
// the incarnation of the server that assigned it (PostgreSQL: the
// postmaster's start time).
type TxRef struct {
	ID          int64
	Incarnation string
}

// RowQuerier runs a query returning at most one row (*sql.DB, *sql.Tx).
type RowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type queryer interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

func (b *Backend) observe(s sqlgen.Statement, start time.Time, err error) {
	if b.Observe != nil {
		b.Observe(s.SQL, s.Args, time.Since(start), err)
	}
}

func (b *Backend) classify(err error) error {
	if err == nil {
		return nil
	}
	return b.Classify(err)
}

// Query runs q; see adapters.Adapter.
func (b *Backend) Query(ctx context.Context, q *semantic.Query, limit int64) (adapters.Rows, error) {
	return b.query(ctx, nil, q, limit)
}

// query runs q in in (a change set's transaction, which the rows do not
// own), or on the pool when in is nil.
func (b *Backend) query(ctx context.Context, in *sql.Tx, q *semantic.Query, limit int64) (adapters.Rows, error) {
	stmt, cols, err := sqlgen.Select(b.Dialect, q, limit)
	if err != nil {
		return nil, err
	}
	r := &Rows{cols: cols, count: adapters.NoCount, b: b}
	tx := in // the count and the page in one snapshot
	if q.Count {
		if tx == nil {
			if tx, err = b.DB.BeginTx(ctx, b.ReadTx); err != nil {
				return nil, b.classify(err)
			}
			r.tx = tx
		}
		if r.count, err = b.count(ctx, tx, q, b.CountTimeout); err != nil {
			if r.tx != nil {
				_ = r.tx.Rollback()
			}
			return nil, b.classify(err)
		}
	}
	start := time.Now()
	sr, err := b.on(tx).QueryContext(ctx, stmt.SQL, stmt.Args...)
	b.observe(stmt, start, err)
	if err != nil {
		if r.tx != nil {
			_ = r.tx.Rollback()
		}
		return nil, b.classify(err)
	}
	r.rows = sr
	r.scan = b.NewScanner(cols)
	r.vals = make([]edm.Value, len(cols))
	return r, nil
}

// Count counts q's matching rows; see adapters.Adapter. It follows the
// set's strategy; the count is bounded by the statement timeout only (the
// count is the whole answer).
func (b *Backend) Count(ctx context.Context, q *semantic.Query) (adapters.Count, error) {
	c, err := b.count(ctx, nil, q, 0)
	return c, b.classify(err)
}

// count takes q's count in tx (nil: on the pool): the planner's estimate
// when the set's strategy allows it and the estimate reaches its threshold,
// else the exact count, bounded by limit when the backend can bound it in a
// transaction (past it: the estimate, or none). An error is returned only
// when the exact count failed otherwise.
func (b *Backend) count(ctx context.Context, tx *sql.Tx, q *semantic.Query, limit time.Duration) (adapters.Count, error) {
	var raw RowQuerier = b.DB // EXPLAIN is not worth preparing
	if tx != nil {
		raw = tx
	}
	estimate := func() (int64, bool) {
		if b.Estimate == nil {
			return 0, false
		}
		stmt, err := sqlgen.Matching(b.Dialect, q)
		if err != nil {
			return 0, false
		}
		start := time.Now()
		n, err := b.Estimate(ctx, raw, stmt)
		b.observe(sqlgen.Statement{SQL: "EXPLAIN " + stmt.SQL, Args: stmt.Args}, start, err)
		return n, err == nil
	}
	if q.Set.Count.Estimated && q.Apply == nil { // the rows of an aggregation are always counted
		if n, ok := estimate(); ok && n >= q.Set.Count.ExactBelow {
			return adapters.Count{N: n, Estimate: true}, nil
		}
	}
	stmt, err := sqlgen.Count(b.Dialect, q)
	if err != nil {
		return adapters.NoCount, err
	}
	var n int64
	exact := func() error {
		start := time.Now()
		err := b.on(tx).QueryRowContext(ctx, stmt.SQL, stmt.Args...).Scan(&n)
		b.observe(stmt, start, err)
		return err
	}
	if limit <= 0 || b.Bounded == nil || tx == nil {
		if err := exact(); err != nil {
			return adapters.NoCount, err
		}
		return adapters.Count{N: n}, nil
	}
	timedOut, err := b.Bounded(ctx, tx, limit, exact)
	switch {
	case timedOut:
		if est, ok := estimate(); ok {
			return adapters.Count{N: est, Estimate: true, TimedOut: true}, nil
		}
		return adapters.Count{N: -1, TimedOut: true}, nil
	case err != nil:
		return adapters.NoCount, err
	}
	return adapters.Count{N: n}, nil
}

// Rows streams a result set.
type Rows struct {
	b     *Backend
	rows  *sql.Rows
	tx    *sql.Tx
	cols  []*metadata.Property
	count adapters.Count
	scan  Scanner
	vals  []edm.Value
	err   error
}

// Columns implements adapters.Rows.
func (r *Rows) Columns() []*metadata.Property { return r.cols }

// Count implements adapters.Rows.
func (r *Rows) Count() adapters.Count { return r.count }

// Row implements adapters.Rows.
func (r *Rows) Row() []edm.Value { return r.vals }

// Next implements adapters.Rows.
func (r *Rows) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	if err := r.rows.Scan(r.scan.Dest()...); err != nil {
		r.err = r.b.classify(err)
		return false
	}
	if err := r.scan.Convert(r.vals); err != nil {
		r.err = err
		return false
	}
	return true
}

// Err implements adapters.Rows.
func (r *Rows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.b.classify(r.rows.Err())
}

// Close implements adapters.Rows.
func (r *Rows) Close() error {
	err := r.rows.Close()
	if r.tx != nil {
		if cerr := r.tx.Commit(); err == nil {
			err = cerr
		}
	}
	return r.b.classify(err)
}

// queryRow runs a statement expected to return at most one row.
func (b *Backend) queryRow(ctx context.Context, tx *sql.Tx, stmt sqlgen.Statement, cols []*metadata.Property) (adapters.Row, bool, error) {
	start := time.Now()
	sr, err := b.on(tx).QueryContext(ctx, stmt.SQL, stmt.Args...)
	b.observe(stmt, start, err)
	if err != nil {
		return adapters.Row{}, false, err
	}
	defer sr.Close()
	if !sr.Next() {
		return adapters.Row{}, false, sr.Err()
	}
	sc := b.NewScanner(cols)
	if err := sr.Scan(sc.Dest()...); err != nil {
		return adapters.Row{}, false, err
	}
	vals := make([]edm.Value, len(cols))
	if err := sc.Convert(vals); err != nil {
		return adapters.Row{}, false, err
	}
	// Values may alias scanner buffers: copy byte slices.
	for i := range vals {
		if vals[i].Text != nil {
			vals[i].Text = append([]byte(nil), vals[i].Text...)
		}
	}
	return adapters.Row{Columns: cols, Values: vals}, true, sr.Err()
}

// read fetches the row with the given key (and restriction), all columns.
func (b *Backend) read(ctx context.Context, tx *sql.Tx, set *metadata.EntitySet, key []semantic.Const, restrict semantic.Expr) (adapters.Row, bool, error) {
	q := &semantic.Query{Set: set, Key: key, Select: set.Properties, Restrict: restrict}
	stmt, cols, err := sqlgen.Select(b.Dialect, q, 1)
	if err != nil {
		return adapters.Row{}, false, err
	}
	return b.queryRow(ctx, tx, stmt, cols[:len(set.Properties)])
}

// inTx runs fn in a write transaction. It retries once on a serialization
// failure or deadlock, and once when the connection broke before the
// commit (the transaction then certainly did not commit). When the
// connection breaks during the commit itself, the outcome is found out
// (resolveCommit) instead of guessed: nil when the transaction committed.
func (b *Backend) inTx(ctx context.Context, checked bool, fn func(tx *sql.Tx) error) error {
	opts := b.WriteTx
	if checked && b.CheckedWriteTx != nil {
		opts = b.CheckedWriteTx
	}
	var err error
	for attempt := 0; attempt < 2; attempt++ {
		var tx *sql.Tx
		tx, err = b.DB.BeginTx(ctx, opts)
		if err != nil {
			if b.lost(err) && attempt == 0 {
				continue
			}
			return b.classify(err)
		}
		xid := TxRef{ID: -1}
		if b.TxID != nil {
			xid, err = b.TxID(ctx, tx)
		}
		if err == nil {
			err = fn(tx)
		}
		if err == nil {
			err = tx.Commit()
			if err == nil {
				return nil
			}
			if b.lost(err) {
				return b.resolveCommit(ctx, xid, err)
			}
		} else {
			_ = tx.Rollback()
		}
		if !b.lost(err) && (b.Retryable == nil || !b.Retryable(err)) {
			break
		}
	}
	return b.classify(err)
}

func (b *Backend) lost(err error) bool { return b.Lost != nil && b.Lost(err) }

// resolveCommit finds out what became of transaction xid, whose commit was
// sent but whose answer was lost with the connection: nil when it
// committed; Unavailable (safe to retry) when it was rolled back;
// OutcomeUnknown when the database could not tell within ResolveFor, or
// when the server restarted meanwhile (its answer about the id may then be
// about another transaction).
func (b *Backend) resolveCommit(ctx context.Context, xid TxRef, cause error) error {
	unknown := adapters.Errorf(adapters.OutcomeUnknown, cause,
		"the database connection broke while the change was being committed and its outcome could not be determined; check before retrying")
	if xid.ID < 0 || b.TxStatus == nil {
		return unknown
	}
	limit := b.ResolveFor
	if limit <= 0 {
		limit = 15 * time.Second
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), limit)
	defer cancel()
	wait := 50 * time.Millisecond
	for {
		status, incarnation, err := b.TxStatus(rctx, b.DB, xid.ID)
		switch {
		case err == nil && incarnation != xid.Incarnation:
			return unknown
		case err == nil && status == "committed":
			return nil
		case err == nil && status == "aborted":
			return adapters.Errorf(adapters.Unavailable, cause,
				"the database connection broke during the commit; the change was not applied")
		}
		select {
		case <-rctx.Done():
			return unknown
		case <-time.After(wait):
		}
		wait = min(2*wait, time.Second)
	}
}

func (b *Backend) checkRestrict(ctx context.Context, tx *sql.Tx, set *metadata.EntitySet, row adapters.Row, restrict semantic.Expr) error {
	if restrict == nil {
		return nil
	}
	_, ok, err := b.read(ctx, tx, set, adapters.KeyOf(set, row), restrict)
	if err != nil {
		return err
	}
	if !ok {
		return adapters.Errorf(adapters.Forbidden, nil, "the row would be outside the rows you may access")
	}
	return nil
}

// Insert implements adapters.Adapter.
func (b *Backend) Insert(ctx context.Context, w *adapters.Write) (adapters.Row, error) {
	var out adapters.Row
	err := b.inTx(ctx, false, func(tx *sql.Tx) error {
		var err error
		out, err = b.insert(ctx, tx, w)
		return err
	})
	return out, err
}

func (b *Backend) insert(ctx context.Context, tx *sql.Tx, w *adapters.Write) (adapters.Row, error) {
	if b.NoReturning {
		return b.insertExec(ctx, tx, w)
	}
	stmt, cols, err := sqlgen.Insert(b.Dialect, w)
	if err != nil {
		return adapters.Row{}, err
	}
	row, ok, err := b.queryRow(ctx, tx, stmt, cols)
	if err != nil {
		return adapters.Row{}, err
	}
	if !ok {
		return adapters.Row{}, adapters.Errorf(adapters.Internal, nil, "insert returned no row")
	}
	if err := b.checkRestrict(ctx, tx, w.Set, row, w.Restrict); err != nil {
		return adapters.Row{}, err
	}
	return row, nil
}

func checkETag(w *adapters.Write, row adapters.Row) error {
	set, ifMatch := w.Set, w.IfMatch
	if ifMatch == "" || ifMatch == "*" {
		return nil
	}
	etag := edm.ETag(w.ETagKey, set, row.Columns, row.Values)
	if etag == "" || !edm.ETagMatches(ifMatch, etag) {
		return adapters.Errorf(adapters.PreconditionFailed, nil, "the entity was changed by someone else (ETag mismatch)")
	}
	return nil
}

// Update implements adapters.Adapter.
func (b *Backend) Update(ctx context.Context, w *adapters.Write) (adapters.Row, error) {
	var out adapters.Row
	checked := w.IfMatch != "" && w.IfMatch != "*"
	err := b.inTx(ctx, checked, func(tx *sql.Tx) error {
		var err error
		out, err = b.update(ctx, tx, w)
		return err
	})
	return out, err
}

func (b *Backend) update(ctx context.Context, tx *sql.Tx, w *adapters.Write) (adapters.Row, error) {
	cur, ok, err := b.read(ctx, tx, w.Set, w.Key, semantic.And(w.Restrict, w.Via))
	if err != nil {
		return adapters.Row{}, err
	}
	if !ok {
		if w.Upsert && w.IfMatch == "" {
			ins := *w
			ins.Values = make(map[*metadata.Property]semantic.Const, len(w.Values)+len(w.Key))
			for p, v := range w.Values {
				ins.Values[p] = v
			}
			for i, k := range w.Set.Key {
				ins.Values[k] = w.Key[i]
			}
			return b.insert(ctx, tx, &ins)
		}
		if w.IfMatch == "*" { // RFC 7232: If-Match * needs a current entity
			return adapters.Row{}, adapters.Errorf(adapters.PreconditionFailed, nil, "If-Match: * but no %s entity with this key exists", w.Set.Name)
		}
		return adapters.Row{}, adapters.Errorf(adapters.NotFound, nil, "no %s entity with this key", w.Set.Name)
	}
	if err := checkETag(w, cur); err != nil {
		return adapters.Row{}, err
	}
	if len(w.Values) == 0 && !w.Replace {
		return cur, nil
	}
	var row adapters.Row
	if b.NoReturning {
		row, ok, err = b.updateExec(ctx, tx, w)
	} else {
		var stmt sqlgen.Statement
		var cols []*metadata.Property
		if stmt, cols, err = sqlgen.Update(b.Dialect, w); err != nil {
			return adapters.Row{}, err
		}
		row, ok, err = b.queryRow(ctx, tx, stmt, cols)
	}
	if err != nil {
		return adapters.Row{}, err
	}
	if !ok {
		return adapters.Row{}, adapters.Errorf(adapters.NotFound, nil, "no %s entity with this key", w.Set.Name)
	}
	if err := b.checkRestrict(ctx, tx, w.Set, row, w.Restrict); err != nil {
		return adapters.Row{}, err
	}
	return row, nil
}

// Delete implements adapters.Adapter.
func (b *Backend) Delete(ctx context.Context, w *adapters.Write) error {
	checked := w.IfMatch != "" && w.IfMatch != "*"
	return b.inTx(ctx, checked, func(tx *sql.Tx) error { return b.delete(ctx, tx, w) })
}

func (b *Backend) delete(ctx context.Context, tx *sql.Tx, w *adapters.Write) error {
	if w.IfMatch != "" {
		cur, ok, err := b.read(ctx, tx, w.Set, w.Key, semantic.And(w.Restrict, w.Via))
		if err != nil {
			return err
		}
		if !ok {
			if w.IfMatch == "*" { // RFC 7232: If-Match * needs a current entity
				return adapters.Errorf(adapters.PreconditionFailed, nil, "If-Match: * but no %s entity with this key exists", w.Set.Name)
			}
			return adapters.Errorf(adapters.NotFound, nil, "no %s entity with this key", w.Set.Name)
		}
		if err := checkETag(w, cur); err != nil {
			return err
		}
	}
	stmt, err := sqlgen.Delete(b.Dialect, w)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := b.on(tx).ExecContext(ctx, stmt.SQL, stmt.Args...)
	b.observe(stmt, start, err)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return adapters.Errorf(adapters.NotFound, nil, "no %s entity with this key", w.Set.Name)
	}
	return nil
}

// exec runs a statement that returns no rows.
func (b *Backend) exec(ctx context.Context, tx *sql.Tx, stmt sqlgen.Statement) (sql.Result, error) {
	start := time.Now()
	res, err := b.on(tx).ExecContext(ctx, stmt.SQL, stmt.Args...)
	b.observe(stmt, start, err)
	return res, err
}

// insertExec inserts without RETURNING and reads the row back by its key
// (see NoReturning).
func (b *Backend) insertExec(ctx context.Context, tx *sql.Tx, w *adapters.Write) (adapters.Row, error) {
	stmt, err := sqlgen.InsertExec(b.Dialect, w)
	if err != nil {
		return adapters.Row{}, err
	}
	res, err := b.exec(ctx, tx, stmt)
	if err != nil {
		return adapters.Row{}, err
	}
	key := make([]semantic.Const, len(w.Set.Key))
	for i, k := range w.Set.Key {
		if v, ok := w.Values[k]; ok {
			key[i] = v
			continue
		}
		id, err := res.LastInsertId()
		if err != nil || !k.Identity || id == 0 {
			return adapters.Row{}, adapters.Errorf(adapters.Internal, err,
				"the database generated key property %s, which cannot be read back without RETURNING", k.Name)
		}
		key[i] = semantic.Const{T: k.Type, V: id}
		if k.Type == metadata.Decimal {
			key[i].V = strconv.FormatInt(id, 10)
		}
	}
	row, ok, err := b.read(ctx, tx, w.Set, key, nil)
	if err != nil {
		return adapters.Row{}, err
	}
	if !ok {
		return adapters.Row{}, adapters.Errorf(adapters.Internal, nil, "the inserted row could not be read back")
	}
	if err := b.checkRestrict(ctx, tx, w.Set, row, w.Restrict); err != nil {
		return adapters.Row{}, err
	}
	return row, nil
}

// updateExec updates without RETURNING and reads the row back by its
// (possibly new) key; ok is false when no row matched (see NoReturning).
// The backend must count matched rows, not changed ones (MySQL's
// CLIENT_FOUND_ROWS).
func (b *Backend) updateExec(ctx context.Context, tx *sql.Tx, w *adapters.Write) (adapters.Row, bool, error) {
	stmt, err := sqlgen.UpdateExec(b.Dialect, w)
	if err != nil {
		return adapters.Row{}, false, err
	}
	res, err := b.exec(ctx, tx, stmt)
	if err != nil {
		return adapters.Row{}, false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return adapters.Row{}, false, err
	}
	key := append([]semantic.Const(nil), w.Key...)
	for i, k := range w.Set.Key {
		if v, ok := w.Values[k]; ok {
			key[i] = v
		}
	}
	return b.read(ctx, tx, w.Set, key, nil)
}
