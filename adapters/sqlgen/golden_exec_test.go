package sqlgen_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/postgres"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/adapters/sqlite"
	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

const pgOrdersDDL = `CREATE SCHEMA erp;
CREATE SEQUENCE seq;
CREATE TABLE erp.orders (order_no char(10) NOT NULL, line_no int NOT NULL, amount numeric(12,2),
	created timestamp, status text NOT NULL DEFAULT 'new', "we""ird" text, flag boolean, ship date,
	price float8, qty int, seq bigint NOT NULL DEFAULT nextval('seq'),
	total numeric GENERATED ALWAYS AS (amount * qty) STORED, uid uuid, dur interval, blob bytea, note text,
	code char(4), PRIMARY KEY (order_no, line_no));
INSERT INTO erp.orders (order_no, line_no, amount, created, status, qty, price, note, code, dur) VALUES
	('SO-1', 2, 12.50, '2024-03-31 03:30:00', 'mine', 3, 2.5, 'a 50%_off\ note', 'AB', '1 hour'),
	('SO-1', 7, NULL, NULL, 'open', NULL, NULL, NULL, NULL, NULL),
	('SO-2', 1, -1.5, '2024-10-27 02:30:00', 'open', 0, 0, 'x', 'A_', '2 hours')`

const sqliteOrdersDDL = `CREATE TABLE orders (order_no CHAR(10) NOT NULL, line_no INTEGER NOT NULL, amount NUMERIC(12,2),
	created TEXT, status TEXT NOT NULL DEFAULT 'new', "we""ird" TEXT, flag INTEGER, ship TEXT, price REAL,
	qty INTEGER, seq INTEGER NOT NULL DEFAULT 0, total NUMERIC GENERATED ALWAYS AS (amount * qty) STORED,
	uid TEXT, dur TEXT, blob BLOB, note TEXT, code CHAR(4), PRIMARY KEY (order_no, line_no));
INSERT INTO orders (order_no, line_no, amount, created, status, qty, price, note, code) VALUES
	('SO-1      ', 2, 12.50, '2024-03-31T01:30:00.000000Z', 'mine', 3, 2.5, 'a 50%_off\ note', 'AB  '),
	('SO-1      ', 7, NULL, NULL, 'open', NULL, NULL, NULL, NULL),
	('SO-2      ', 1, -1.5, '2024-10-27T01:30:00.000000Z', 'open', 0, 0, 'x', 'A_  ')`

const mysqlOrdersDDL = `CREATE TABLE orders (order_no char(10) NOT NULL, line_no int NOT NULL, amount decimal(12,2),
	created datetime(6), status varchar(20) NOT NULL DEFAULT 'new', "we""ird" text, flag boolean, ship date,
	price double, qty int, seq bigint NOT NULL DEFAULT 0,
	total decimal(30,2) GENERATED ALWAYS AS (amount * qty) STORED, uid char(36), dur varchar(40), "blob" blob, note text,
	code char(4), PRIMARY KEY (order_no, line_no));
INSERT INTO orders (order_no, line_no, amount, created, status, qty, price, note, code) VALUES
	('SO-1', 2, 12.50, '2024-03-31 03:30:00', 'mine', 3, 2.5, 'a 50%_off\ note', 'AB'),
	('SO-1', 7, NULL, NULL, 'open', NULL, NULL, NULL, NULL),
	('SO-2', 1, -1.5, '2024-10-27 02:30:00', 'open', 0, 0, 'x', 'A_')`

// TestGoldenExecutes runs every golden statement that a dialect accepts
// against a real table of the same shape (inside a rolled-back
// transaction), so that the golden SQL is known to be valid and typed.
func TestGoldenExecutes(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, pgOrdersDDL)
	pg, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	lite, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "orders.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	if _, err := lite.Exec(sqliteOrdersDDL); err != nil {
		t.Fatal(err)
	}

	run := func(t *testing.T, db *sql.DB, d sqlgen.Dialect, o *orders, noReturning bool) {
		for _, tc := range goldenCases(o) {
			st, _, err := render(d, tc)
			if noReturning && tc.op == "update" && err == nil {
				st, err = sqlgen.UpdateExec(d, tc.w) // as sqlexec runs it
			}
			if err != nil {
				if k := adapters.KindOf(err); k != adapters.NotImplemented && k != adapters.Constraint {
					t.Errorf("%s: %v", tc.name, err)
				}
				continue
			}
			tx, err := db.Begin()
			if err != nil {
				t.Fatal(err)
			}
			rows, err := tx.Query(st.SQL, st.Args...)
			if err == nil {
				for rows.Next() {
				}
				err = rows.Err()
				rows.Close()
			}
			switch {
			case tc.name == "insert_default_values":
				// The statement is valid; the table requires its key.
				if msg := strings.ToLower(fmt.Sprint(err)); err == nil || !strings.Contains(msg, "not null") &&
					!strings.Contains(msg, "not-null") && !strings.Contains(msg, "doesn't have a default value") {
					t.Errorf("%s: want a not-null violation, got %v", tc.name, err)
				}
			case err != nil:
				t.Errorf("%s: %v\n%s\n%#v", tc.name, err, st.SQL, st.Args)
			}
			_ = tx.Rollback()
		}
	}
	t.Run("postgres", func(t *testing.T) { run(t, pg, postgres.Dialect(berlin), newOrders(), false) })
	t.Run("sqlite", func(t *testing.T) {
		o := newOrders()
		o.set.Schema = ""
		run(t, lite, sqlite.Dialect(), o, false)
	})
	t.Run("mariadb", func(t *testing.T) {
		my := openMySQL(t, mysqlOrdersDDL)
		o := newOrders()
		o.set.Schema = "" // the test's own database
		run(t, my.db, my.d, o, true)
	})

	// Local timestamps (PostgreSQL): stored in Berlin time, filtered and
	// paged as UTC instants whatever the session zone.
	t.Run("local_time", func(t *testing.T) {
		if _, err := pg.Exec(`SET TIME ZONE 'Asia/Kolkata'`); err != nil {
			t.Fatal(err)
		}
		o := newOrders()
		d := postgres.Dialect(berlin)
		instant := time.Date(2024, 3, 31, 1, 30, 0, 0, time.UTC) // 03:30 CEST
		cases := []struct {
			name   string
			filter semantic.Expr
			want   []int64
		}{
			{"eq instant", cmp(semantic.Eq, pr(o.created), k(metadata.DateTimeOffset, instant)), []int64{2}},
			{"hour in UTC", cmp(semantic.Eq, call(semantic.FnHour, metadata.Int32, pr(o.created)), k(metadata.Int32, int64(1))), []int64{2, 1}},
			{"date in UTC", cmp(semantic.Eq, call(semantic.FnDate, metadata.Date, pr(o.created)), k(metadata.Date, day("2024-10-27"))), []int64{1}},
			{"in instants", &semantic.In{X: pr(o.created), Values: []semantic.Const{c(metadata.DateTimeOffset, instant)}}, []int64{2}},
			{"fixed char eq exact", cmp(semantic.Eq, pr(o.code), k(metadata.String, "AB")), []int64{2}},
			{"fixed char eq padded", cmp(semantic.Eq, pr(o.code), k(metadata.String, "AB ")), nil},
			{"fixed char length", cmp(semantic.Eq, call(semantic.FnLength, metadata.Int32, pr(o.code)), k(metadata.Int32, int64(2))), []int64{2, 1}},
			{"like escapes", call(semantic.FnContains, metadata.Boolean, pr(o.note), k(metadata.String, `50%_off\`)), []int64{2}},
			{"like escapes miss", call(semantic.FnContains, metadata.Boolean, pr(o.note), k(metadata.String, `5_%`)), nil},
		}
		for _, tc := range cases {
			q := &semantic.Query{Set: o.set, Select: []*metadata.Property{o.lineNo}, Filter: tc.filter}
			st, _, err := sqlgen.Select(d, q, 0)
			if err != nil {
				t.Fatal(err)
			}
			got, err := (&backend{db: pg}).ids(st)
			if err != nil {
				// line_no is int4: scan through int64 conversion below.
				t.Fatalf("%s: %v\n%s", tc.name, err, st.SQL)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %v want %v\n%s", tc.name, got, tc.want, st.SQL)
			}
		}
		// Keyset after the instant in descending created order: the row
		// with the earlier instant, then the NULL one.
		q := &semantic.Query{Set: o.set, Select: []*metadata.Property{o.lineNo},
			OrderBy: []semantic.Order{{Expr: pr(o.created), Desc: true}},
			After:   &semantic.Keyset{Values: []semantic.Const{c(metadata.DateTimeOffset, instant), c(metadata.String, "SO-1"), c(metadata.Int32, int64(2))}}}
		st, _, err := sqlgen.Select(d, q, 0)
		if err != nil {
			t.Fatal(err)
		}
		got, err := (&backend{db: pg}).ids(st)
		if err != nil || !slices.Equal(got, []int64{7}) {
			t.Errorf("keyset over local time: %v %v\n%s", got, err, st.SQL)
		}
	})
}
