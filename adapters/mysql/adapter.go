// Package mysql is the MySQL and MariaDB backend: introspection of
// information_schema into a metadata.Source, the SQL dialect, and an
// executor (go-sql-driver/mysql) that streams rows and classifies errors by
// MySQL error number.
//
// Where it differs from PostgreSQL:
//   - no RETURNING: writes run without it and the row is read back in the
//     same transaction (sqlexec.Backend.NoReturning), generated keys through
//     LAST_INSERT_ID;
//   - a connection lost during COMMIT answers OutcomeUnknown (504): MySQL
//     has no cheap equivalent of PostgreSQL's txid_status;
//   - If-Match writes run SERIALIZABLE (InnoDB's REPEATABLE READ does not
//     fail on a concurrent change; SERIALIZABLE makes the read a shared
//     lock, so a concurrent writer deadlocks, is retried and answered 412);
//   - the count estimate is EXPLAIN's row estimate (rows × filtered), and a
//     page's count is bounded with max_statement_time (MariaDB) or
//     max_execution_time (MySQL, SELECT only);
//   - table privileges are not introspected: a write the account may not
//     make fails with 403 when tried.
package mysql

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	drv "github.com/go-sql-driver/mysql"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/sqlexec"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

// Options configure the MySQL adapter.
type Options struct {
	DSN              string   // mysql://user:pass@host:3306/db[?params] or mariadb://…
	Schemas          []string // databases to expose; empty: the DSN's database
	StatementTimeout time.Duration
	MaxOpenConns     int
	MaxIdleConns     int
	Zone             *time.Location // zone of datetime columns
	// PreparedStatements keeps each statement prepared per connection (at
	// most StatementCache of them, default 512; the server's
	// max_prepared_stmt_count bounds them across all clients).
	PreparedStatements bool
	StatementCache     int
	CountTimeout       time.Duration
	Observe            func(sql string, args []any, d time.Duration, err error)
}

// DB is the MySQL adapter.
type DB struct {
	*sqlexec.Backend
	db      *sql.DB
	opt     Options
	flavor  Flavor
	version string
	dbName  string
	track   tracker
}

var _ adapters.Adapter = (*DB)(nil)

// sqlMode is pinned on every connection: strict (nothing is silently
// truncated or zeroed), ANSI_QUOTES (sqlgen quotes identifiers with double
// quotes), NO_BACKSLASH_ESCAPES (ESCAPE '\' is one backslash, as with
// PostgreSQL's standard_conforming_strings), NO_UNSIGNED_SUBTRACTION
// (unsigned columns minus a larger value are negative, not an error).
const sqlMode = "STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION," +
	"ANSI_QUOTES,NO_BACKSLASH_ESCAPES,NO_UNSIGNED_SUBTRACTION"

// Open connects to MySQL or MariaDB (told apart by VERSION()) and pins the
// session settings the gateway's semantics rely on.
func Open(ctx context.Context, opt Options) (*DB, error) {
	if opt.Zone == nil {
		opt.Zone = time.UTC
	}
	cfg, err := ParseURL(opt.DSN)
	if err != nil {
		return nil, err
	}
	db, flavor, version, err := openDB(ctx, cfg, opt.StatementTimeout)
	if err != nil {
		return nil, err
	}
	if opt.MaxOpenConns <= 0 {
		opt.MaxOpenConns = 16
	}
	if opt.MaxIdleConns <= 0 {
		opt.MaxIdleConns = opt.MaxOpenConns
	}
	db.SetMaxOpenConns(opt.MaxOpenConns)
	db.SetMaxIdleConns(opt.MaxIdleConns)
	// Below MySQL's default wait_timeout (8 h) and typical proxy idle limits.
	db.SetConnMaxIdleTime(5 * time.Minute)
	db.SetConnMaxLifetime(time.Hour)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("mysql: connect: %w", classify(err))
	}
	if opt.Zone != time.UTC {
		var ok sql.NullBool
		err := db.QueryRowContext(pctx, "SELECT CONVERT_TZ('2000-01-01 00:00:00', ?, '+00:00') IS NOT NULL", opt.Zone.String()).Scan(&ok)
		if err != nil || !ok.Bool {
			db.Close()
			return nil, fmt.Errorf("mysql: time zone %s is unknown to the server (load its time zone tables with mysql_tzinfo_to_sql, or use time_zone UTC)", opt.Zone)
		}
	}
	zone := opt.Zone
	b := &sqlexec.Backend{
		DB:             db,
		Dialect:        Dialect(flavor, zone),
		Classify:       classify,
		Retryable:      retryable,
		NewScanner:     func(cols []*metadata.Property) sqlexec.Scanner { return newScanner(cols, zone) },
		ReadTx:         &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true},
		CheckedWriteTx: &sql.TxOptions{Isolation: sql.LevelSerializable},
		Observe:        opt.Observe,
		Lost:           lost,
		Stale:          stale,
		Estimate:       estimate,
		Bounded:        bounder(flavor, opt.StatementTimeout),
		CountTimeout:   opt.CountTimeout,
		NoReturning:    true,
	}
	if opt.PreparedStatements {
		b.PrepareStatements(opt.StatementCache)
	}
	return &DB{Backend: b, db: db, opt: opt, flavor: flavor, version: version, dbName: cfg.DBName}, nil
}

// OpenDB opens a pool on dsn (mysql:// or mariadb://) with the gateway's
// session settings (see Open), for tools and tests that run sqlgen
// statements directly; timeout is the statement timeout (0: none).
func OpenDB(ctx context.Context, dsn string, timeout time.Duration) (*sql.DB, Flavor, error) {
	cfg, err := ParseURL(dsn)
	if err != nil {
		return nil, 0, err
	}
	db, flavor, _, err := openDB(ctx, cfg, timeout)
	return db, flavor, err
}

func openDB(ctx context.Context, cfg *drv.Config, timeout time.Duration) (*sql.DB, Flavor, string, error) {
	flavor, version, err := probe(ctx, cfg)
	if err != nil {
		return nil, 0, "", err
	}
	session(cfg, flavor, timeout)
	conn, err := drv.NewConnector(cfg)
	if err != nil {
		return nil, 0, "", fmt.Errorf("mysql: %w", err)
	}
	return sql.OpenDB(conn), flavor, version, nil
}

// probe connects once without session settings to learn the server.
func probe(ctx context.Context, cfg *drv.Config) (Flavor, string, error) {
	c := cfg.Clone()
	conn, err := drv.NewConnector(c)
	if err != nil {
		return 0, "", fmt.Errorf("mysql: %w", err)
	}
	db := sql.OpenDB(conn)
	defer db.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var version string
	if err := db.QueryRowContext(pctx, "SELECT VERSION()").Scan(&version); err != nil {
		return 0, "", fmt.Errorf("mysql: connect: %w", classify(err))
	}
	flavor := MySQL
	if strings.Contains(strings.ToLower(version), "mariadb") {
		flavor = MariaDB
	}
	major, minor := versionNumbers(version)
	switch {
	case flavor == MariaDB && (major < 10 || major == 10 && minor < 5):
		return 0, "", fmt.Errorf("mysql: MariaDB %s is too old (10.5 or later is needed)", version)
	case flavor == MySQL && major < 8:
		return 0, "", fmt.Errorf("mysql: MySQL %s is too old (8.0 or later is needed)", version)
	}
	return flavor, version, nil
}

func versionNumbers(v string) (major, minor int) {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) >= 2 {
		major, _ = strconv.Atoi(parts[0])
		minor, _ = strconv.Atoi(strings.TrimLeftFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	}
	return major, minor
}

// session pins the connection settings (the driver sets Params as system
// variables on every new connection).
func session(cfg *drv.Config, flavor Flavor, timeout time.Duration) {
	collation := "utf8mb4_nopad_bin"
	if flavor == MySQL {
		collation = "utf8mb4_0900_bin"
	}
	_ = cfg.Apply(drv.Charset("utf8mb4", ""))
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	// Adapters do not log: the driver's errors come back as values.
	cfg.Logger = &drv.NopLogger{}
	cfg.ClientFoundRows = true // UPDATE counts matched rows (sqlexec reads "no row" from it)
	cfg.InterpolateParams = false
	cfg.MultiStatements = false
	if cfg.ConnectionAttributes == "" {
		cfg.ConnectionAttributes = "program_name:odatagw"
	}
	if cfg.Params == nil {
		cfg.Params = map[string]string{}
	}
	cfg.Params["time_zone"] = "'+00:00'"
	// Constants compare exactly with each other too (columns carry an
	// explicit COLLATE, see Dialect).
	cfg.Params["collation_connection"] = "'" + collation + "'"
	cfg.Params["sql_mode"] = "'" + sqlMode + "'"
	// Decimal division keeps 30 decimal places (the default, 4, would round
	// "Total div 3" well before PostgreSQL does).
	cfg.Params["div_precision_increment"] = "30"
	if timeout > 0 {
		k, v := timeoutVar(flavor, timeout)
		cfg.Params[k] = v
	}
}

// timeoutVar is the session variable bounding a statement and its value.
func timeoutVar(flavor Flavor, d time.Duration) (string, string) {
	if flavor == MySQL {
		return "max_execution_time", strconv.FormatInt(max(d.Milliseconds(), 1), 10)
	}
	return "max_statement_time", strconv.FormatFloat(max(d.Seconds(), 0.001), 'f', 3, 64)
}

// Model introspects the configured databases (default: the DSN's) and
// builds the model.
func (d *DB) Model(ctx context.Context, ov metadata.Overlay) (*metadata.Model, []metadata.Warning, error) {
	schemas := d.opt.Schemas
	if len(schemas) == 0 {
		schemas = []string{d.dbName}
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
func (d *DB) Close() error { return d.db.Close() }

// SQL exposes the pool for tests and tools.
func (d *DB) SQL() *sql.DB { return d.db }

// Flavor is the server's flavor; Version its VERSION().
func (d *DB) Flavor() Flavor { return d.flavor }

// Version is the server's VERSION().
func (d *DB) Version() string { return d.version }

// scanner reads driver values into edm.Value slots.
type scanner struct {
	cols []*metadata.Property
	zone *time.Location
	raw  []any
	dest []any
}

func newScanner(cols []*metadata.Property, zone *time.Location) sqlexec.Scanner {
	s := &scanner{cols: cols, zone: zone, raw: make([]any, len(cols)), dest: make([]any, len(cols))}
	for i := range s.raw {
		s.dest[i] = &s.raw[i]
	}
	return s
}

func (s *scanner) Dest() []any { return s.dest }

func (s *scanner) Convert(vals []edm.Value) error {
	for i, p := range s.cols {
		v := &vals[i]
		*v = edm.Value{}
		if err := convert(p, s.raw[i], v, s.zone); err != nil {
			return adapters.Errorf(adapters.Internal, err, "cannot read column %s", p.Name)
		}
	}
	return nil
}

// convert maps a go-sql-driver/mysql value (text protocol: []byte; binary
// protocol: int64, uint64, float32, float64, []byte, time.Time) to an
// edm.Value.
func convert(p *metadata.Property, raw any, v *edm.Value, zone *time.Location) error {
	if raw == nil {
		v.Null = true
		return nil
	}
	switch p.Type {
	case metadata.Boolean:
		n, err := toInt(raw)
		if err != nil {
			return err
		}
		v.Bool = n != 0
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64:
		n, err := toInt(raw)
		if err != nil {
			return err
		}
		v.Int = n
	case metadata.Single, metadata.Double:
		switch x := raw.(type) {
		case float64:
			v.Float = x
		case float32:
			// Shortest text of the float32, as PostgreSQL prints float4.
			f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
			v.Float = f
		case int64:
			v.Float = float64(x)
		case []byte:
			f, err := strconv.ParseFloat(string(x), 64)
			if err != nil {
				return err
			}
			v.Float = f
		default:
			return fmt.Errorf("unexpected %T for floating point", raw)
		}
	case metadata.Date:
		t, ok := raw.(time.Time)
		if !ok {
			return fmt.Errorf("unexpected %T for a date", raw)
		}
		v.Time = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case metadata.DateTimeOffset:
		t, ok := raw.(time.Time)
		if !ok {
			return fmt.Errorf("unexpected %T for a timestamp", raw)
		}
		if p.LocalTime && zone != time.UTC {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), zone)
		}
		v.Time = t.UTC()
	case metadata.TimeOfDay:
		d, err := parseTimeOfDay(raw)
		if err != nil {
			return err
		}
		v.Dur = d
	case metadata.Decimal:
		switch x := raw.(type) {
		case []byte:
			v.Text = x
		case int64:
			v.Text = strconv.AppendInt(nil, x, 10)
		case uint64:
			v.Text = strconv.AppendUint(nil, x, 10)
		case float64:
			v.Text = strconv.AppendFloat(nil, x, 'f', -1, 64)
		default:
			return fmt.Errorf("unexpected %T for Decimal", raw)
		}
	default: // String, Guid, Binary
		switch x := raw.(type) {
		case []byte:
			v.Text = x
		case string:
			v.Text = []byte(x)
		case int64:
			v.Text = strconv.AppendInt(nil, x, 10)
		case uint64:
			v.Text = strconv.AppendUint(nil, x, 10)
		case float64:
			v.Text = strconv.AppendFloat(nil, x, 'g', -1, 64)
		case float32:
			v.Text = strconv.AppendFloat(nil, float64(x), 'g', -1, 32)
		case time.Time:
			v.Text = x.UTC().AppendFormat(nil, "2006-01-02 15:04:05.999999")
		default:
			return fmt.Errorf("unexpected %T for %s", raw, p.Type)
		}
		if p.FixedChar && p.Type == metadata.String {
			v.Text = trimRightSpace(v.Text)
		}
	}
	return nil
}

func toInt(raw any) (int64, error) {
	switch x := raw.(type) {
	case int64:
		return x, nil
	case uint64:
		if x > 1<<63-1 {
			return 0, fmt.Errorf("unsigned value %d is beyond Int64", x)
		}
		return int64(x), nil
	case []byte:
		return strconv.ParseInt(string(x), 10, 64)
	case float64:
		return int64(x), nil
	}
	return 0, fmt.Errorf("unexpected %T for an integer", raw)
}

// parseTimeOfDay reads a TIME value ("hh:mm:ss[.ffffff]"); MySQL's TIME
// is an interval (-838:59:59 to 838:59:59): values outside a day fail.
func parseTimeOfDay(raw any) (time.Duration, error) {
	var s string
	switch x := raw.(type) {
	case []byte:
		s = string(x)
	case string:
		s = x
	case time.Time:
		return time.Duration(x.Hour())*time.Hour + time.Duration(x.Minute())*time.Minute +
			time.Duration(x.Second())*time.Second + time.Duration(x.Nanosecond()), nil
	default:
		return 0, fmt.Errorf("unexpected %T for a time of day", raw)
	}
	hms, frac, _ := strings.Cut(s, ".")
	parts := strings.Split(hms, ":")
	if len(parts) != 3 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	h, err1 := strconv.Atoi(parts[0])
	m, err2 := strconv.Atoi(parts[1])
	sec, err3 := strconv.Atoi(parts[2])
	if err1 != nil || err2 != nil || err3 != nil || h < 0 || h > 23 {
		return 0, fmt.Errorf("time %q is not a time of day", s)
	}
	d := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(sec)*time.Second
	if frac != "" {
		f, err := strconv.ParseFloat("0."+frac, 64)
		if err != nil {
			return 0, err
		}
		d += time.Duration(f*1e6+0.5) * time.Microsecond
	}
	return d, nil
}

func trimRightSpace(b []byte) []byte {
	n := len(b)
	for n > 0 && b[n-1] == ' ' {
		n--
	}
	return b[:n]
}

// MySQL error numbers the adapter classifies.
const (
	erDupEntry             = 1062
	erRowIsReferenced      = 1451
	erNoReferencedRow      = 1452
	erRowIsReferenced2     = 1217
	erNoReferencedRow2     = 1216
	erDataTooLong          = 1406
	erBadNull              = 1048
	erNoDefault            = 1364
	erOutOfRange           = 1264
	erTruncated            = 1265
	erTruncatedWrong       = 1292
	erIncorrectValue       = 1366
	erValueOutOfRange      = 1690
	erDivByZero            = 1365
	erCheckFailedMySQL     = 3819
	erConstraintFailed     = 4025
	erLockDeadlock         = 1213
	erLockWaitTimeout      = 1205
	erStatementTimeout     = 1969 // MariaDB max_statement_time
	erQueryTimeout         = 3024 // MySQL max_execution_time
	erQueryInterrupted     = 1317
	erTableAccessDenied    = 1142
	erColumnAccessDenied   = 1143
	erDBAccessDenied       = 1044
	erReadOnly             = 1290
	erReadOnlyTx           = 1792
	erNeedReprepare        = 1615
	erConCount             = 1040
	erServerShutdown       = 1053
	erConnectionKilled     = 1927
	erServerGone           = 2006
	erServerLost           = 2013
	erLockAbortedByWsrep   = 1180 // Galera: commit failed
	erUnknownComError      = 1047
	erServerIsInShutdown   = 3169
	erCantConnect          = 2003
	erReadOnlyInnodb       = 1874
	erLockTableFull        = 1206
	erTooManyLockedTables  = 1220
	erSubqueryNo1Row       = 1242
	erWrongValueForType    = 1411
	erInvalidJSONText      = 3140
	erTruncatedWrongValue2 = 1367
)

// classify maps driver errors to adapters.Error kinds by MySQL error
// number; the client-safe message never contains SQL text or values.
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
	var me *drv.MySQLError
	if !errors.As(err, &me) {
		if lost(err) || errors.Is(err, sql.ErrTxDone) {
			return adapters.Errorf(adapters.Unavailable, err, "database connection lost")
		}
		return adapters.Errorf(adapters.Internal, err, "database error")
	}
	e := &adapters.Error{Cause: err}
	switch me.Number {
	case erDupEntry:
		e.Kind, e.Msg = adapters.Conflict, "a row with the same unique values already exists"
	case erRowIsReferenced, erRowIsReferenced2:
		e.Kind, e.Msg = adapters.Conflict, "the row is referenced by another row"
	case erNoReferencedRow, erNoReferencedRow2:
		e.Kind, e.Msg = adapters.Constraint, "the change refers to a row that does not exist"
	case erBadNull, erNoDefault:
		e.Kind, e.Msg = adapters.Constraint, "a required value is missing"
	case erDataTooLong:
		e.Kind, e.Msg = adapters.Constraint, "a value is too long for its column"
	case erOutOfRange, erValueOutOfRange:
		e.Kind, e.Msg = adapters.Constraint, "a numeric value is out of range"
	case erDivByZero:
		e.Kind, e.Msg = adapters.Constraint, "division by zero"
	case erCheckFailedMySQL, erConstraintFailed:
		e.Kind, e.Msg = adapters.Constraint, "the change violates a check constraint"
	case erTruncated, erTruncatedWrong, erIncorrectValue, erWrongValueForType, erInvalidJSONText, erTruncatedWrongValue2:
		e.Kind, e.Msg = adapters.Constraint, "a value is not valid for its column"
	case erLockDeadlock, erLockWaitTimeout, erLockAbortedByWsrep:
		e.Kind, e.Msg = adapters.Unavailable, "the database could not serialize concurrent changes; retry"
	case erStatementTimeout, erQueryTimeout:
		e.Kind, e.Msg = adapters.Timeout, "the query took too long and was canceled"
	case erQueryInterrupted:
		e.Kind, e.Msg = adapters.Canceled, "the query was interrupted"
	case erTableAccessDenied, erColumnAccessDenied, erDBAccessDenied:
		e.Kind, e.Msg = adapters.Forbidden, "the gateway's database account lacks a privilege for this operation"
	case erReadOnly, erReadOnlyTx, erReadOnlyInnodb:
		e.Kind, e.Msg = adapters.Forbidden, "the database is read-only"
	case erNeedReprepare:
		e.Kind, e.Msg = adapters.Unavailable, "the table changed under the statement; retry"
	case erConCount, erServerShutdown, erConnectionKilled, erServerGone, erServerLost, erServerIsInShutdown,
		erCantConnect, erUnknownComError, erLockTableFull, erTooManyLockedTables:
		e.Kind, e.Msg = adapters.Unavailable, "database unavailable"
	case erSubqueryNo1Row:
		e.Kind, e.Msg = adapters.Internal, "database error"
	default:
		e.Kind, e.Msg = adapters.Internal, "database error"
	}
	return e
}

// lost reports whether err means the connection broke (or could not be
// made): driver and network error values, and the server's shutdown and
// killed-connection errors.
func lost(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, drv.ErrInvalidConn), errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, sql.ErrConnDone), errors.As(err, &ne),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	var me *drv.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case erServerShutdown, erConnectionKilled, erServerGone, erServerLost, erServerIsInShutdown:
			return true
		}
	}
	return false
}

// retryable reports deadlocks and lock wait timeouts (retried once, then
// 503).
func retryable(err error) bool {
	var me *drv.MySQLError
	if errors.As(err, &me) {
		return me.Number == erLockDeadlock || me.Number == erLockWaitTimeout || me.Number == erLockAbortedByWsrep
	}
	return false
}

// stale reports error 1615: a prepared statement whose table changed.
func stale(err error) bool {
	var me *drv.MySQLError
	return errors.As(err, &me) && me.Number == erNeedReprepare
}

// estimate is EXPLAIN's estimate for stmt: rows × filtered of the first
// (driving) table.
func estimate(ctx context.Context, qr sqlexec.RowQuerier, stmt sqlgen.Statement) (int64, error) {
	type querier interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}
	q, ok := qr.(querier)
	if !ok {
		return 0, fmt.Errorf("mysql: EXPLAIN needs a querier")
	}
	rows, err := q.QueryContext(ctx, "EXPLAIN "+stmt.SQL, stmt.Args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	if !rows.Next() {
		return 0, fmt.Errorf("mysql: EXPLAIN returned no row")
	}
	vals := make([]sql.NullString, len(cols))
	dest := make([]any, len(cols))
	for i := range vals {
		dest[i] = &vals[i]
	}
	if err := rows.Scan(dest...); err != nil {
		return 0, err
	}
	n, filtered := -1.0, 100.0
	for i, c := range cols {
		switch strings.ToLower(c) {
		case "rows":
			if f, err := strconv.ParseFloat(vals[i].String, 64); err == nil {
				n = f
			}
		case "filtered":
			if f, err := strconv.ParseFloat(vals[i].String, 64); err == nil {
				filtered = f
			}
		}
	}
	if n < 0 {
		return 0, fmt.Errorf("mysql: EXPLAIN has no row estimate")
	}
	return int64(n * filtered / 100), rows.Err()
}

// bounder runs a count under a session statement timeout of d and restores
// the pinned one; a timeout is a statement error, so the transaction and
// its snapshot stay usable. MySQL's max_execution_time bounds SELECTs only,
// which counts are.
func bounder(flavor Flavor, pinned time.Duration) func(ctx context.Context, tx *sql.Tx, d time.Duration, fn func() error) (bool, error) {
	name, restore := timeoutVar(flavor, pinned)
	if pinned <= 0 {
		restore = "0"
	}
	return func(ctx context.Context, tx *sql.Tx, d time.Duration, fn func() error) (bool, error) {
		_, v := timeoutVar(flavor, d)
		if _, err := tx.ExecContext(ctx, "SET SESSION "+name+" = "+v); err != nil {
			return false, err
		}
		err := fn()
		if _, rerr := tx.ExecContext(context.WithoutCancel(ctx), "SET SESSION "+name+" = "+restore); rerr != nil {
			return false, rerr
		}
		var me *drv.MySQLError
		if errors.As(err, &me) && (me.Number == erStatementTimeout || me.Number == erQueryTimeout) && ctx.Err() == nil {
			return true, nil
		}
		return false, err
	}
}
