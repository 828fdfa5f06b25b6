// Package sqlite is the embedded backend (pure Go, modernc.org/sqlite): the
// demo ERP database odatagw serves when no --db is given, and any SQLite
// file that follows the storage conventions documented in dialect.go.
package sqlite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	sqlite3 "modernc.org/sqlite"
	sqlite3lib "modernc.org/sqlite/lib"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/sqlexec"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

// Options configure the SQLite adapter.
type Options struct {
	Path string
	// Observe, when set, sees every statement.
	Observe func(sql string, args []any, d time.Duration, err error)
}

// DB is the SQLite adapter.
type DB struct {
	*sqlexec.Backend
	db  *sqlx.DB
	opt Options
}

var _ adapters.Adapter = (*DB)(nil)

// Open opens (not creates) a SQLite database file.
func Open(ctx context.Context, opt Options) (*DB, error) {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + opt.Path + "?" + q.Encode()
	db, err := sqlx.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(4)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", opt.Path, err)
	}
	b := &sqlexec.Backend{
		DB:         db.DB,
		Dialect:    Dialect(),
		Classify:   classify,
		Retryable:  func(error) bool { return false },
		NewScanner: newScanner,
		Observe:    opt.Observe,
	}
	return &DB{Backend: b, db: db, opt: opt}, nil
}

// Model introspects the database and builds the model.
func (d *DB) Model(ctx context.Context, ov metadata.Overlay) (*metadata.Model, []metadata.Warning, error) {
	src, err := Introspect(ctx, d.db)
	if err != nil {
		return nil, nil, classify(err)
	}
	return metadata.Build(src, ov)
}

// Ping checks the database.
func (d *DB) Ping(ctx context.Context) error { return classify(d.db.PingContext(ctx)) }

// Close closes the database.
func (d *DB) Close() error { return d.db.Close() }

// SQLX exposes the pool for tests and tools.
func (d *DB) SQLX() *sqlx.DB { return d.db }

type scanner struct {
	cols []*metadata.Property
	raw  []any
	dest []any
}

func newScanner(cols []*metadata.Property) sqlexec.Scanner {
	s := &scanner{cols: cols, raw: make([]any, len(cols)), dest: make([]any, len(cols))}
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
		if err := convert(p, s.raw[i], v); err != nil {
			return adapters.Errorf(adapters.Internal, err, "cannot read column %s", p.Name)
		}
	}
	return nil
}

// convert maps a SQLite value to an edm.Value per the storage
// conventions (see dialect.go).
func convert(p *metadata.Property, raw any, v *edm.Value) error {
	if raw == nil {
		v.Null = true
		return nil
	}
	switch p.Type {
	case metadata.Boolean:
		switch x := raw.(type) {
		case int64:
			v.Bool = x != 0
		case float64:
			v.Bool = x != 0
		case string:
			v.Bool = x == "1" || strings.EqualFold(x, "true")
		case bool:
			v.Bool = x
		default:
			return fmt.Errorf("unexpected %T for Boolean", raw)
		}
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64:
		switch x := raw.(type) {
		case int64:
			v.Int = x
		case float64:
			v.Int = int64(x)
		case string:
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return err
			}
			v.Int = n
		default:
			return fmt.Errorf("unexpected %T for integer", raw)
		}
	case metadata.Single, metadata.Double:
		switch x := raw.(type) {
		case float64:
			v.Float = x
		case int64:
			v.Float = float64(x)
		case string:
			f, err := strconv.ParseFloat(x, 64)
			if err != nil {
				return err
			}
			v.Float = f
		default:
			return fmt.Errorf("unexpected %T for floating point", raw)
		}
	case metadata.Decimal:
		switch x := raw.(type) {
		case int64:
			v.Text = formatDecimal(float64(x), x, true, p)
		case float64:
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("non-finite decimal")
			}
			v.Text = formatDecimal(x, 0, false, p)
		case string:
			v.Text = []byte(x)
		case []byte:
			v.Text = x
		default:
			return fmt.Errorf("unexpected %T for Decimal", raw)
		}
	case metadata.Date:
		t, err := parseTime(raw, "2006-01-02")
		if err != nil {
			return err
		}
		v.Time = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	case metadata.DateTimeOffset:
		t, err := parseTime(raw, time.RFC3339Nano)
		if err != nil {
			return err
		}
		v.Time = t.UTC()
	case metadata.TimeOfDay:
		t, err := parseTime(raw, "15:04:05.999999999")
		if err != nil {
			return err
		}
		v.Dur = time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute +
			time.Duration(t.Second())*time.Second + time.Duration(t.Nanosecond())
	case metadata.Duration:
		s, ok := raw.(string)
		if !ok {
			return fmt.Errorf("unexpected %T for Duration", raw)
		}
		d, err := adapters.ParseISODuration(s)
		if err != nil {
			return err
		}
		v.Dur = d
	default: // String, Guid, Binary
		switch x := raw.(type) {
		case string:
			if p.FixedChar {
				x = strings.TrimRight(x, " ")
			}
			v.Text = []byte(x)
		case []byte:
			v.Text = x
		case int64:
			v.Text = strconv.AppendInt(nil, x, 10)
		case float64:
			v.Text = strconv.AppendFloat(nil, x, 'g', -1, 64)
		case time.Time:
			v.Text = x.UTC().AppendFormat(nil, time.RFC3339Nano)
		default:
			return fmt.Errorf("unexpected %T for %s", raw, p.Type)
		}
	}
	return nil
}

// formatDecimal prints a NUMERIC-affinity value with the declared scale
// when that is exact, else with every digit it has. SQLite does not enforce
// the scale, and the printed value is also the keyset position of the next
// page: rounding it would make "after 0.3000" select the stored
// 0.30000000000000004 again, forever.
func formatDecimal(f float64, i int64, isInt bool, p *metadata.Property) []byte {
	if isInt && (p.Variable || p.Precision == 0) {
		return strconv.AppendInt(nil, i, 10)
	}
	if !p.Variable && p.Precision > 0 {
		b := strconv.AppendFloat(nil, f, 'f', p.Scale, 64)
		if g, err := strconv.ParseFloat(string(b), 64); err == nil && g == f {
			return b
		}
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64)
}

func parseTime(raw any, layout string) (time.Time, error) {
	switch x := raw.(type) {
	case time.Time:
		return x, nil
	case string:
		if layout == time.RFC3339Nano {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t, nil
			}
			// tolerate "YYYY-MM-DD HH:MM:SS[.f]" written by other tools: UTC
			return time.ParseInLocation("2006-01-02 15:04:05.999999999", x, time.UTC)
		}
		return time.ParseInLocation(layout, x, time.UTC)
	case []byte:
		return parseTime(string(x), layout)
	}
	return time.Time{}, fmt.Errorf("unexpected %T for a date/time", raw)
}

// classify maps SQLite errors to adapters.Error kinds by result code.
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
	var se *sqlite3.Error
	if !errors.As(err, &se) {
		return adapters.Errorf(adapters.Internal, err, "database error")
	}
	switch se.Code() {
	case sqlite3lib.SQLITE_CONSTRAINT_UNIQUE, sqlite3lib.SQLITE_CONSTRAINT_PRIMARYKEY:
		return adapters.Errorf(adapters.Conflict, err, "a row with the same unique values already exists")
	case sqlite3lib.SQLITE_CONSTRAINT_FOREIGNKEY:
		return adapters.Errorf(adapters.Conflict, err, "the change violates a reference to another row")
	case sqlite3lib.SQLITE_CONSTRAINT_NOTNULL:
		return adapters.Errorf(adapters.Constraint, err, "a required value is missing")
	case sqlite3lib.SQLITE_CONSTRAINT_CHECK:
		return adapters.Errorf(adapters.Constraint, err, "the change violates a check constraint")
	case sqlite3lib.SQLITE_BUSY, sqlite3lib.SQLITE_LOCKED:
		return adapters.Errorf(adapters.Unavailable, err, "the database is busy; retry")
	case sqlite3lib.SQLITE_INTERRUPT:
		return adapters.Errorf(adapters.Canceled, err, "request canceled")
	case sqlite3lib.SQLITE_READONLY:
		return adapters.Errorf(adapters.Forbidden, err, "the database is read-only")
	}
	if se.Code()&0xff == sqlite3lib.SQLITE_CONSTRAINT {
		return adapters.Errorf(adapters.Constraint, err, "the change violates a constraint")
	}
	if strings.Contains(se.Error(), "invalid regular expression") { // regexp(), matchesPattern
		return adapters.Errorf(adapters.Constraint, err, "matchesPattern: the pattern is not a valid regular expression")
	}
	return adapters.Errorf(adapters.Internal, err, "database error")
}
