// Package postgres is the PostgreSQL backend: introspection of tables and
// views into a metadata.Source, the SQL dialect, and an executor (sqlx +
// lib/pq) that streams rows and classifies errors by SQLSTATE.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/sqlexec"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

// Options configure the PostgreSQL adapter.
type Options struct {
	DSN              string
	Schemas          []string
	StatementTimeout time.Duration // per statement; 0 = none
	MaxOpenConns     int
	MaxIdleConns     int
	Zone             *time.Location // zone of timestamp-without-time-zone columns
	// PreparedStatements prepares each statement once per connection and
	// reuses it (at most StatementCache of them, default 512). Turn it off
	// behind PgBouncer in transaction mode.
	PreparedStatements bool
	StatementCache     int
	// CountTimeout bounds the count of a page; past it the page gets the
	// planner's estimate (0: only the statement timeout bounds it).
	CountTimeout time.Duration
	// Observe, when set, is called after each statement with its SQL, args
	// and duration (the server logs it at debug level).
	Observe func(sql string, args []any, d time.Duration, err error)
}

// DB is the PostgreSQL adapter.
type DB struct {
	*sqlexec.Backend
	db  *sqlx.DB
	opt Options
}

var _ adapters.Adapter = (*DB)(nil)

// Open connects to PostgreSQL. Session settings that the gateway's
// semantics rely on (UTC time zone, ISO date and interval styles, statement
// timeout) are pinned on every connection through the DSN.
func Open(ctx context.Context, opt Options) (*DB, error) {
	if opt.Zone == nil {
		opt.Zone = time.UTC
	}
	dsn, err := sessionDSN(opt.DSN, opt.StatementTimeout)
	if err != nil {
		return nil, err
	}
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if opt.MaxOpenConns <= 0 {
		opt.MaxOpenConns = 16
	}
	if opt.MaxIdleConns <= 0 {
		opt.MaxIdleConns = opt.MaxOpenConns
	}
	db.SetMaxOpenConns(opt.MaxOpenConns)
	db.SetMaxIdleConns(opt.MaxIdleConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: connect: %w", classify(err))
	}
	zone := opt.Zone
	b := &sqlexec.Backend{
		DB:             db.DB,
		Dialect:        Dialect(zone),
		Classify:       classify,
		Retryable:      retryable,
		NewScanner:     func(cols []*metadata.Property) sqlexec.Scanner { return newScanner(cols, zone) },
		ReadTx:         &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		CheckedWriteTx: &sql.TxOptions{Isolation: sql.LevelRepeatableRead},
		Observe:        opt.Observe,
		Lost:           lost,
		Stale:          stale,
		Estimate:       estimate,
		Bounded:        bounded,
		CountTimeout:   opt.CountTimeout,
		// The postmaster's start time names the server's incarnation: after
		// a crash, transaction ids whose WAL was never flushed are assigned
		// again, so txid_status is believed only from the same incarnation.
		TxID: func(ctx context.Context, tx *sql.Tx) (sqlexec.TxRef, error) {
			var ref sqlexec.TxRef
			err := tx.QueryRowContext(ctx, "SELECT txid_current(), pg_postmaster_start_time()::text").Scan(&ref.ID, &ref.Incarnation)
			return ref, err
		},
		TxStatus: func(ctx context.Context, db *sql.DB, id int64) (string, string, error) {
			var status sql.NullString
			var incarnation string
			err := db.QueryRowContext(ctx, "SELECT txid_status($1::bigint), pg_postmaster_start_time()::text", id).Scan(&status, &incarnation)
			return status.String, incarnation, err
		},
	}
	if opt.PreparedStatements {
		b.PrepareStatements(opt.StatementCache)
	}
	return &DB{Backend: b, db: db, opt: opt}, nil
}

// sessionDSN adds the session parameters the gateway relies on.
func sessionDSN(dsn string, timeout time.Duration) (string, error) {
	params := map[string]string{
		"TimeZone":      "UTC",
		"DateStyle":     "ISO",
		"IntervalStyle": "iso_8601",
		// LIKE patterns are rendered with ESCAPE '\': that literal means a
		// single backslash only with standard strings (the default since 9.1).
		"standard_conforming_strings": "on",
		// One round trip per parameterised statement (Parse, Bind, Execute
		// together) instead of lib/pq's default prepare-then-execute; every
		// parameter carries an explicit cast in the SQL, and []byte values
		// (bytea) travel in binary.
		"binary_parameters": "yes",
		// Names the gateway's sessions in pg_stat_activity (operators find
		// and terminate them by it); the DSN's own application_name wins.
		"application_name": "odatagw",
	}
	if timeout > 0 {
		params["statement_timeout"] = fmt.Sprint(timeout.Milliseconds())
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("postgres: bad DSN: %v", redactErr(err))
		}
		q := u.Query()
		for k, v := range params {
			if q.Get(k) == "" {
				q.Set(k, v)
			}
		}
		if q.Get("sslmode") == "" && (u.Hostname() == "127.0.0.1" || u.Hostname() == "localhost" || u.Hostname() == "::1" || u.Hostname() == "") {
			q.Set("sslmode", "disable")
		}
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	var b strings.Builder
	b.WriteString(dsn)
	for k, v := range params {
		if !strings.Contains(dsn, k+"=") {
			fmt.Fprintf(&b, " %s=%s", k, v)
		}
	}
	return b.String(), nil
}

func redactErr(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return "unparsable"
}

// Model introspects the configured schemas and builds the model.
func (d *DB) Model(ctx context.Context, ov metadata.Overlay) (*metadata.Model, []metadata.Warning, error) {
	schemas := d.opt.Schemas
	if len(schemas) == 0 {
		schemas = []string{"public"}
	}
	src, err := Introspect(ctx, d.db, schemas)
	if err != nil {
		return nil, nil, classify(err)
	}
	if ov.Zone == nil {
		ov.Zone = d.opt.Zone
	}
	return metadata.Build(src, ov)
}

// Ping checks the connection.
func (d *DB) Ping(ctx context.Context) error { return classify(d.db.PingContext(ctx)) }

// Close closes the pool.
// Close closes the pool. A connection the server or the network already
// broke cannot say goodbye (its Terminate message meets a reset socket):
// that is not a failure to close.
func (d *DB) Close() error {
	err := d.db.Close()
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// SQLX exposes the pool for tests and tools.
func (d *DB) SQLX() *sqlx.DB { return d.db }

// scanner reads lib/pq values into edm.Value slots.
type scanner struct {
	cols  []*metadata.Property
	zone  *time.Location
	dest  []any
	slots []slot
}

// slot is one column's scan destination; only the field of the column's
// type is used. One slice of them is one allocation per query instead of
// one per type.
type slot struct {
	b boolSlot
	i intSlot
	f floatSlot
	t timeSlot
	r rawText
}

// Typed scan slots: database/sql hands a sql.Scanner the driver's value as
// it is, so a slot that expects lib/pq's type takes it with a type switch.
// sql.NullInt64 and sql.NullFloat64 instead convert through convertAssign,
// which uses reflection for int64 and float64. Other source types (none
// from lib/pq for these columns) go the sql.Null* way.
type intSlot struct {
	v     int64
	valid bool
}

func (s *intSlot) Scan(src any) error {
	switch x := src.(type) {
	case int64:
		s.v, s.valid = x, true
	case nil:
		s.v, s.valid = 0, false
	default:
		var n sql.NullInt64
		if err := n.Scan(src); err != nil {
			return err
		}
		s.v, s.valid = n.Int64, n.Valid
	}
	return nil
}

type floatSlot struct {
	v     float64
	valid bool
}

func (s *floatSlot) Scan(src any) error {
	switch x := src.(type) {
	case float64:
		s.v, s.valid = x, true
	case nil:
		s.v, s.valid = 0, false
	default:
		var n sql.NullFloat64
		if err := n.Scan(src); err != nil {
			return err
		}
		s.v, s.valid = n.Float64, n.Valid
	}
	return nil
}

type boolSlot struct {
	v     bool
	valid bool
}

func (s *boolSlot) Scan(src any) error {
	switch x := src.(type) {
	case bool:
		s.v, s.valid = x, true
	case nil:
		s.v, s.valid = false, false
	default:
		var n sql.NullBool
		if err := n.Scan(src); err != nil {
			return err
		}
		s.v, s.valid = n.Bool, n.Valid
	}
	return nil
}

type timeSlot struct {
	v     time.Time
	valid bool
}

func (s *timeSlot) Scan(src any) error {
	switch x := src.(type) {
	case time.Time:
		s.v, s.valid = x, true
	case nil:
		s.v, s.valid = time.Time{}, false
	default:
		var n sql.NullTime
		if err := n.Scan(src); err != nil {
			return err
		}
		s.v, s.valid = n.Time, n.Valid
	}
	return nil
}

// rawText receives text-form values (strings, numerics, uuids, bytea, ...)
// into a buffer reused from row to row, and records NULL explicitly:
// database/sql's RawBytes cannot tell an empty string from NULL when the
// driver returns strings (lib/pq does for text, varchar and char).
type rawText struct {
	b    []byte
	null bool
}

func (t *rawText) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		t.b, t.null = t.b[:0], true
	case string:
		t.b, t.null = append(t.b[:0], v...), false
	case []byte:
		t.b, t.null = append(t.b[:0], v...), false
	default:
		return fmt.Errorf("postgres: unexpected %T for a text-form value", src)
	}
	return nil
}

func newScanner(cols []*metadata.Property, zone *time.Location) sqlexec.Scanner {
	n := len(cols)
	s := &scanner{cols: cols, zone: zone, dest: make([]any, n), slots: make([]slot, n)}
	for i, p := range cols {
		switch sl := &s.slots[i]; p.Type {
		case metadata.Boolean:
			s.dest[i] = &sl.b
		case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64:
			s.dest[i] = &sl.i
		case metadata.Single, metadata.Double:
			s.dest[i] = &sl.f
		case metadata.Date, metadata.DateTimeOffset, metadata.TimeOfDay:
			s.dest[i] = &sl.t
		default: // String, Decimal, Guid, Binary, Duration
			s.dest[i] = &sl.r
		}
	}
	return s
}

func (s *scanner) Dest() []any { return s.dest }

func (s *scanner) Convert(vals []edm.Value) error {
	for i, p := range s.cols {
		v := &vals[i]
		*v = edm.Value{}
		switch p.Type {
		case metadata.Boolean:
			v.Null, v.Bool = !s.slots[i].b.valid, s.slots[i].b.v
		case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64:
			v.Null, v.Int = !s.slots[i].i.valid, s.slots[i].i.v
		case metadata.Single, metadata.Double:
			v.Null, v.Float = !s.slots[i].f.valid, s.slots[i].f.v
		case metadata.Date:
			v.Null = !s.slots[i].t.valid
			t := s.slots[i].t.v
			v.Time = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		case metadata.DateTimeOffset:
			v.Null = !s.slots[i].t.valid
			t := s.slots[i].t.v
			if p.LocalTime {
				t = localToUTC(t, s.zone)
			}
			v.Time = t.UTC()
		case metadata.TimeOfDay:
			v.Null = !s.slots[i].t.valid
			t := s.slots[i].t.v
			v.Dur = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
				time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
		case metadata.Duration:
			raw := &s.slots[i].r
			v.Null = raw.null
			if !raw.null {
				d, err := adapters.ParseISODuration(string(raw.b))
				if err != nil {
					return adapters.Errorf(adapters.Internal, err, "cannot read an interval value")
				}
				v.Dur = d
			}
		default:
			raw := &s.slots[i].r
			v.Null = raw.null
			if !raw.null {
				v.Text = raw.b
				if p.FixedChar {
					v.Text = trimRightSpace(v.Text)
				}
			}
		}
	}
	return nil
}

func trimRightSpace(b []byte) []byte {
	n := len(b)
	for n > 0 && b[n-1] == ' ' {
		n--
	}
	return b[:n]
}

// classify maps driver errors to adapters.Error kinds by SQLSTATE; the
// client-safe message never contains SQL text or values.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var ae *adapters.Error
	if errors.As(err, &ae) {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return adapters.Errorf(adapters.Canceled, err, "request canceled")
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return adapters.Errorf(adapters.Timeout, err, "the database did not answer in time")
	}
	if errors.Is(err, sql.ErrNoRows) {
		return adapters.Errorf(adapters.NotFound, err, "not found")
	}
	var pe *pq.Error
	if !errors.As(err, &pe) {
		if lost(err) || errors.Is(err, sql.ErrTxDone) {
			// Nothing was committed (a lost commit is resolved by sqlexec
			// before it gets here): safe to retry.
			return adapters.Errorf(adapters.Unavailable, err, "database connection lost")
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			return adapters.Errorf(adapters.Unavailable, err, "database unavailable")
		}
		return adapters.Errorf(adapters.Internal, err, "database error")
	}
	code := string(pe.Code)
	e := &adapters.Error{Cause: err, Constraint: pe.Constraint}
	switch {
	case code == "23505":
		e.Kind, e.Msg = adapters.Conflict, "a row with the same unique values already exists"
		if pe.Constraint != "" {
			e.Msg += " (constraint " + pe.Constraint + ")"
		}
	case code == "23503":
		e.Kind, e.Msg = adapters.Conflict, "the change violates a reference to another row"
		if pe.Constraint != "" {
			e.Msg += " (constraint " + pe.Constraint + ")"
		}
	case code == "23502":
		e.Kind, e.Msg = adapters.Constraint, "a required value is missing"
		if pe.Column != "" {
			e.Msg += " (column " + pe.Column + ")"
		}
	case code == "23514":
		e.Kind, e.Msg = adapters.Constraint, "the change violates a check constraint"
		if pe.Constraint != "" {
			e.Msg += " (constraint " + pe.Constraint + ")"
		}
	case strings.HasPrefix(code, "23"):
		e.Kind, e.Msg = adapters.Constraint, "the change violates a constraint"
	case code == "22001":
		e.Kind, e.Msg = adapters.Constraint, "a value is too long for its column"
	case code == "22003":
		e.Kind, e.Msg = adapters.Constraint, "a numeric value is out of range"
	case code == "22012":
		e.Kind, e.Msg = adapters.Constraint, "division by zero"
	case strings.HasPrefix(code, "22"):
		e.Kind, e.Msg = adapters.Constraint, "a value is not valid for its column"
	case code == "40001" || code == "40P01":
		e.Kind, e.Msg = adapters.Unavailable, "the database could not serialize concurrent changes; retry"
	case code == "57014":
		e.Kind, e.Msg = adapters.Timeout, "the query took too long and was canceled"
	case strings.HasPrefix(code, "08") || code == "53300" || code == "57P01" || code == "57P02" || code == "57P03":
		e.Kind, e.Msg = adapters.Unavailable, "database unavailable"
	case code == "0A000": // see stale: the statement is prepared anew on the retry
		e.Kind, e.Msg = adapters.Unavailable, "the table changed under the statement; retry"
	case code == "42501":
		e.Kind, e.Msg = adapters.Forbidden, "the gateway's database role lacks a privilege for this operation"
	case code == "25006":
		e.Kind, e.Msg = adapters.Forbidden, "the database is read-only"
	default:
		e.Kind, e.Msg = adapters.Internal, "database error"
	}
	return e
}

// estimate is the planner's row estimate for stmt (EXPLAIN, top plan node).
func estimate(ctx context.Context, qr sqlexec.RowQuerier, stmt sqlgen.Statement) (int64, error) {
	var plan []byte
	if err := qr.QueryRowContext(ctx, "EXPLAIN (FORMAT JSON) "+stmt.SQL, stmt.Args...).Scan(&plan); err != nil {
		return 0, err
	}
	var out []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		}
	}
	if err := json.Unmarshal(plan, &out); err != nil || len(out) != 1 {
		return 0, fmt.Errorf("postgres: unexpected EXPLAIN output: %v", err)
	}
	return int64(out[0].Plan.Rows), nil
}

// bounded runs fn under a statement timeout of d inside a savepoint, so
// that a timeout leaves tx (and its snapshot) usable; rolling back to the
// savepoint also restores the session's statement timeout.
func bounded(ctx context.Context, tx *sql.Tx, d time.Duration, fn func() error) (bool, error) {
	ms := max(d.Milliseconds(), 1)
	if _, err := tx.ExecContext(ctx, "SAVEPOINT odatagw_count; SET LOCAL statement_timeout = "+strconv.FormatInt(ms, 10)); err != nil {
		return false, err
	}
	err := fn()
	if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT odatagw_count"); rerr != nil {
		return false, rerr
	}
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "57014" && ctx.Err() == nil {
		return true, nil // canceled by the timeout, not by the client
	}
	return false, err
}

// stale reports SQLSTATE 0A000, which a prepared statement gets when its
// table changed under it ("cached plan must not change result type"); the
// gateway's own SQL uses no unsupported feature, so that is its meaning here.
func stale(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "0A000"
}

// lost reports whether err means the connection to PostgreSQL broke (or
// could not be made): driver and network error values, and the SQLSTATEs of
// connection failure (class 08) and of the server terminating the session
// (57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot connect now).
func lost(err error) bool {
	var ne net.Error // dial and socket failures, connection refused included
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, sql.ErrConnDone), errors.As(err, &ne), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code.Class() == "08" || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return false
}

// retryable reports whether err is a serialization failure or deadlock.
func retryable(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "40001" || pe.Code == "40P01"
	}
	return false
}

// localToUTC reads the wall clock of t (a timestamp without time zone) in
// zone the way PostgreSQL's "AT TIME ZONE" does, so that values the gateway
// returns and values it filters on agree: a time that occurs twice (the hour
// repeated when clocks fall back) takes the offset in force after the
// transition, and a time that does not exist (skipped when clocks spring
// forward) takes the offset in force before it. time.Date promises neither.
func localToUTC(t time.Time, zone *time.Location) time.Time {
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	_, before := wall.Add(-26 * time.Hour).In(zone).Zone()
	_, after := wall.Add(26 * time.Hour).In(zone).Zone()
	fits := func(off int) (time.Time, bool) {
		u := wall.Add(-time.Duration(off) * time.Second)
		l := u.In(zone)
		return u, l.Year() == wall.Year() && l.YearDay() == wall.YearDay() && l.Hour() == wall.Hour() &&
			l.Minute() == wall.Minute() && l.Second() == wall.Second()
	}
	ua, okAfter := fits(after)
	ub, okBefore := fits(before)
	switch {
	case okAfter: // unambiguous, or ambiguous: the offset after the transition
		return ua
	case okBefore:
		return ub
	}
	return wall.Add(-time.Duration(before) * time.Second) // in a gap: the offset before it
}

// ReplayLag measures how far this server, a streaming standby, is behind
// its primary: 0 when it is not in recovery or has replayed all the WAL it
// received, else the age of the last transaction it replayed
// (now() - pg_last_xact_replay_timestamp()). A standby that has received
// WAL it has not replayed and has replayed no transaction yet reports an
// error, as unknown lag.
func (d *DB) ReplayLag(ctx context.Context) (time.Duration, error) {
	var secs sql.NullFloat64
	err := d.db.QueryRowContext(ctx, `SELECT CASE
	WHEN NOT pg_is_in_recovery() THEN 0
	WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
	ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 END`).Scan(&secs)
	if err != nil {
		return 0, classify(err)
	}
	if !secs.Valid {
		return 0, adapters.Errorf(adapters.Unavailable, nil, "replay lag unknown: the standby has replayed no transaction yet")
	}
	return time.Duration(max(secs.Float64, 0) * float64(time.Second)), nil
}
