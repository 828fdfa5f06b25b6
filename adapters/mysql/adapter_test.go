package mysql

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/internal/mytest"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		dsn                          string
		user, pass, net, addr, dbase string
		tls                          bool
		err                          string
	}{
		{dsn: "mysql://erp:s3cret@db.example:3307/erpnext", user: "erp", pass: "s3cret", net: "tcp", addr: "db.example:3307", dbase: "erpnext"},
		{dsn: "mariadb://root@127.0.0.1/test", user: "root", net: "tcp", addr: "127.0.0.1:3306", dbase: "test"},
		{dsn: "mysql://u:p%40ss@[::1]:3306/d", user: "u", pass: "p@ss", net: "tcp", addr: "[::1]:3306", dbase: "d"},
		{dsn: "mysql://u@/d?socket=/run/mysqld/mysqld.sock", user: "u", net: "unix", addr: "/run/mysqld/mysqld.sock", dbase: "d"},
		{dsn: "mysql://u@h/d?tls=true&timeout=5s", user: "u", net: "tcp", addr: "h:3306", dbase: "d", tls: true},
		{dsn: "mysql://u:topsecret@h/d?timeout=notaduration", err: "bad DSN parameters"},
		{dsn: "postgres://u@h/d", err: "is not mysql://"},
		{dsn: "mysql://u:topsecret@h:notaport/d", err: "bad DSN"},
		{dsn: "mysql://u@h/a/b", err: "contains a slash"},
	}
	for _, tc := range cases {
		cfg, err := ParseURL(tc.dsn)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "topsecret") {
				t.Errorf("%s: error %v, want %q without the password", tc.dsn, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.dsn, err)
			continue
		}
		if cfg.User != tc.user || cfg.Passwd != tc.pass || cfg.Net != tc.net || cfg.Addr != tc.addr || cfg.DBName != tc.dbase ||
			(cfg.TLS != nil) != tc.tls {
			t.Errorf("%s: got user %q pass %q net %q addr %q db %q tls %v", tc.dsn, cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName, cfg.TLS != nil)
		}
	}
}

func TestRebind(t *testing.T) {
	t.Parallel()
	d := Dialect(MariaDB, nil).(*dialect)
	cases := []struct {
		sql      string
		args     []any
		wantSQL  string
		wantArgs []any
	}{
		{"SELECT 1", nil, "SELECT 1", nil},
		{"a = " + d.Placeholder(1), []any{"x"}, "a = ?", []any{"x"}},
		{"a = " + d.Placeholder(1) + " OR (a = " + d.Placeholder(1) + " AND b > " + d.Placeholder(2) + ")", []any{"x", 5},
			"a = ? OR (a = ? AND b > ?)", []any{"x", "x", 5}},
		{"b = " + d.Placeholder(2) + " AND a = " + d.Placeholder(1), []any{"x", 5}, "b = ? AND a = ?", []any{5, "x"}},
		{`"we?ird" = ` + d.Placeholder(10), []any{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, `"we?ird" = ?`, []any{9}},
	}
	for _, tc := range cases {
		got := d.Rebind(sqlgen.Statement{SQL: tc.sql, Args: tc.args})
		if got.SQL != tc.wantSQL || len(got.Args) != len(tc.wantArgs) {
			t.Errorf("%q: got %q %v", tc.sql, got.SQL, got.Args)
			continue
		}
		for i := range got.Args {
			if got.Args[i] != tc.wantArgs[i] {
				t.Errorf("%q: args %v, want %v", tc.sql, got.Args, tc.wantArgs)
			}
		}
	}
}

// openTest opens a fresh database with the gateway's session.
func openTest(t *testing.T, ddl string) (*sql.DB, string) {
	t.Helper()
	dsn := mytest.NewDB(t)
	if ddl != "" {
		mytest.MustExec(t, dsn, ddl)
	}
	db, _, err := OpenDB(context.Background(), dsn, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, dsn
}

// TestClassifyServerErrors provokes each classified error on a real server
// and checks its kind (no fabricated driver errors).
func TestClassifyServerErrors(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t, `
CREATE TABLE p (id int PRIMARY KEY, name varchar(3) NOT NULL, amount decimal(4,1) CHECK (amount >= 0));
CREATE TABLE c (id int PRIMARY KEY, p int, FOREIGN KEY (p) REFERENCES p (id));
INSERT INTO p VALUES (1, 'a', 1);
INSERT INTO c VALUES (1, 1);`)
	cases := []struct {
		sql       string
		kind      adapters.ErrorKind
		retryable bool
	}{
		{"INSERT INTO p VALUES (1, 'b', 1)", adapters.Conflict, false},
		{"INSERT INTO c VALUES (2, 99)", adapters.Constraint, false},
		{"DELETE FROM p WHERE id = 1", adapters.Conflict, false},
		{"INSERT INTO p VALUES (2, 'toolong', 1)", adapters.Constraint, false},
		{"INSERT INTO p VALUES (3, NULL, 1)", adapters.Constraint, false},
		{"INSERT INTO p (id) VALUES (4)", adapters.Constraint, false},
		{"INSERT INTO p VALUES (5, 'x', -1)", adapters.Constraint, false},
		{"INSERT INTO p VALUES (6, 'x', 12345)", adapters.Constraint, false},
		{"INSERT INTO p VALUES (7, 'x', 'abc')", adapters.Constraint, false},
		{"SELECT 9223372036854775807 + 1", adapters.Constraint, false},
		{"SET STATEMENT max_statement_time = 0.05 FOR SELECT SLEEP(1)", adapters.Timeout, false},
		{"SELECT * FROM no_such_table", adapters.Internal, false},
	}
	for _, tc := range cases {
		var err error
		if strings.HasPrefix(tc.sql, "SELECT") || strings.HasPrefix(tc.sql, "SET STATEMENT") {
			var x any
			err = db.QueryRow(tc.sql).Scan(&x)
		} else {
			_, err = db.Exec(tc.sql)
		}
		if err == nil {
			t.Errorf("%s: no error", tc.sql)
			continue
		}
		if k := adapters.KindOf(classify(err)); k != tc.kind {
			t.Errorf("%s: kind %d, want %d (%v)", tc.sql, k, tc.kind, err)
		}
		if retryable(err) != tc.retryable || lost(err) {
			t.Errorf("%s: retryable %v lost %v", tc.sql, retryable(err), lost(err))
		}
	}

	// A lock wait timeout (1205) is retryable.
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec("UPDATE p SET name = 'z' WHERE id = 1"); err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SET innodb_lock_wait_timeout = 1"); err != nil {
		t.Fatal(err)
	}
	_, err = conn.ExecContext(ctx, "UPDATE p SET name = 'y' WHERE id = 1")
	if !retryable(err) || adapters.KindOf(classify(err)) != adapters.Unavailable {
		t.Errorf("lock wait: retryable %v, kind %d (%v)", retryable(err), adapters.KindOf(classify(err)), err)
	}

	// A killed connection is lost (and Unavailable).
	var id int64
	if err := conn.QueryRowContext(ctx, "SELECT CONNECTION_ID()").Scan(&id); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("KILL ?", id); err != nil {
		t.Fatal(err)
	}
	var one int
	err = conn.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	if err == nil || !lost(err) || adapters.KindOf(classify(err)) != adapters.Unavailable {
		t.Errorf("killed connection: lost %v kind %d (%v)", lost(err), adapters.KindOf(classify(err)), err)
	}
}

// TestBounded: a count past its bound reports the timeout, and the
// transaction, its snapshot and the session's own timeout survive.
func TestBounded(t *testing.T) {
	t.Parallel()
	db, _ := openTest(t, "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1), (2)")
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Fatal(n, err)
	}
	if _, err := db.Exec("INSERT INTO t VALUES (3)"); err != nil { // after the snapshot
		t.Fatal(err)
	}
	bound := bounder(MariaDB, 0)
	cases := []struct {
		sql      string
		timedOut bool
	}{
		{"SELECT SLEEP(2)", true},
		{"SELECT COUNT(*) FROM t", false},
	}
	for _, tc := range cases {
		start := time.Now()
		timedOut, err := bound(ctx, tx, 100*time.Millisecond, func() error {
			var x any
			return tx.QueryRow(tc.sql).Scan(&x)
		})
		if timedOut != tc.timedOut || err != nil {
			t.Errorf("%s: timedOut %v err %v", tc.sql, timedOut, err)
		}
		if time.Since(start) > 1500*time.Millisecond {
			t.Errorf("%s: not bounded (%v)", tc.sql, time.Since(start))
		}
	}
	if err := tx.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 2 {
		t.Errorf("snapshot after the timeout: %d %v", n, err)
	}
	var limit float64
	if err := tx.QueryRow("SELECT @@max_statement_time").Scan(&limit); err != nil || limit != 0 {
		t.Errorf("session timeout not restored: %v %v", limit, err)
	}
}

// TestSchemas: --schemas may name several databases of one server; sets
// of each are exposed and queried by their qualified names.
func TestSchemas(t *testing.T) {
	t.Parallel()
	dsn1 := mytest.NewDB(t)
	dsn2 := mytest.NewDB(t)
	mytest.MustExec(t, dsn1, "CREATE TABLE a (id int PRIMARY KEY, v varchar(5)); INSERT INTO a VALUES (1, 'one')")
	mytest.MustExec(t, dsn2, "CREATE TABLE b (id int PRIMARY KEY, v varchar(5)); INSERT INTO b VALUES (2, 'two')")
	name := func(dsn string) string { return dsn[strings.LastIndex(dsn, "/")+1:] }
	ctx := context.Background()
	for _, tc := range []struct {
		schemas []string
		sets    []string
	}{
		{nil, []string{"a"}},
		{[]string{name(dsn1), name(dsn2)}, []string{"a", "b"}},
		{[]string{name(dsn2), "information_schema"}, []string{"b"}},
	} {
		db, err := Open(ctx, Options{DSN: dsn1, Schemas: tc.schemas})
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := db.Model(ctx, metadata.Overlay{})
		if err != nil {
			db.Close()
			t.Fatal(err)
		}
		var got []string
		for _, s := range m.Sets {
			got = append(got, s.Name)
			rows, err := db.Query(ctx, &semantic.Query{Set: s, Select: s.Properties}, 0)
			if err != nil {
				t.Errorf("%s: %v", s.Name, err)
				continue
			}
			if !rows.Next() || rows.Row()[1].Null {
				t.Errorf("%s: no row (%v)", s.Name, rows.Err())
			}
			rows.Close()
		}
		db.Close()
		if strings.Join(got, ",") != strings.Join(tc.sets, ",") {
			t.Errorf("schemas %v: sets %v, want %v", tc.schemas, got, tc.sets)
		}
	}
	// A database that does not exist fails Open, with a classified error.
	_, err := Open(ctx, Options{DSN: dsn1 + "_missing"})
	var ae *adapters.Error
	if err == nil || !errors.As(err, &ae) {
		t.Errorf("open of a missing database: %v", err)
	}
}

// TestZone: datetime columns in a named zone need the server's time zone
// tables (CONVERT_TZ); without them Open says so instead of answering
// wrong instants.
func TestZone(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	db, dsn := openTest(t, "")
	var known sql.NullString
	if err := db.QueryRow("SELECT CONVERT_TZ('2000-01-01 00:00:00', 'Europe/Berlin', '+00:00')").Scan(&known); err != nil {
		t.Fatal(err)
	}
	a, err := Open(context.Background(), Options{DSN: dsn, Zone: berlin})
	switch {
	case known.Valid && err != nil:
		t.Errorf("zone tables loaded, but Open failed: %v", err)
	case !known.Valid && (err == nil || !strings.Contains(err.Error(), "time zone tables")):
		t.Errorf("no zone tables: Open answered %v", err)
	}
	if a != nil {
		a.Close()
	}
}

// TestIndexUse: on a key column whose collation is already binary no-pad,
// key lookups, keyset pages and prefix matches use the primary key (the
// column is not wrapped in COLLATE); on a case-insensitive column the
// comparison stays exact at the price of the index.
func TestIndexUse(t *testing.T) {
	t.Parallel()
	db, dsn := openTest(t, `
CREATE TABLE k (code varchar(20) COLLATE utf8mb4_nopad_bin PRIMARY KEY, label varchar(20) NOT NULL, KEY (label));
INSERT INTO k WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 900)
  SELECT CONCAT('K', LPAD(i, 5, '0')), CONCAT('L', i) FROM n;
CREATE TABLE ci (name varchar(20) PRIMARY KEY, n int NOT NULL);
INSERT INTO ci SELECT label, 1 FROM k;
CREATE TABLE u (id uuid PRIMARY KEY, n int NOT NULL);
INSERT INTO u SELECT UUID(), 1 FROM k;
INSERT INTO u VALUES ('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 2);
ANALYZE TABLE k, ci, u;`)
	ctx := context.Background()
	a, err := Open(ctx, Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	m, _, err := a.Model(ctx, metadata.Overlay{})
	if err != nil {
		t.Fatal(err)
	}
	ci, set, u := m.Sets[0], m.Sets[1], m.Sets[2]
	if set.Name != "k" || ci.Name != "ci" || u.Name != "u" {
		t.Fatalf("sets %s, %s, %s", ci.Name, set.Name, u.Name)
	}
	code, label := set.Properties[0], set.Properties[1]
	s := func(v string) semantic.Const { return semantic.Const{T: metadata.String, V: v} }
	cases := []struct {
		name  string
		q     *semantic.Query
		limit int64
		index bool // EXPLAIN names the PRIMARY key as a const/range access
	}{
		{"key lookup", &semantic.Query{Set: set, Select: set.Properties, Key: []semantic.Const{s("K00042")}}, 1, true},
		{"keyset page", &semantic.Query{Set: set, Select: set.Properties, After: &semantic.Keyset{Values: []semantic.Const{s("K00890")}}}, 5, true},
		{"startswith", &semantic.Query{Set: set, Select: set.Properties, Filter: &semantic.Call{Fn: semantic.FnStartsWith, T: metadata.Boolean,
			Args: []semantic.Expr{&semantic.Prop{P: code}, &semantic.Const{T: metadata.String, V: "K0089"}}}}, 5, true},
		{"key lookup, case-insensitive key", &semantic.Query{Set: ci, Select: ci.Properties, Key: []semantic.Const{s("L42")}}, 1, true},
		{"key lookup, uuid key", &semantic.Query{Set: u, Select: u.Properties, Key: []semantic.Const{{T: metadata.Guid, V: "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"}}}, 1, true},
		{"case-insensitive column", &semantic.Query{Set: set, Select: set.Properties, Filter: &semantic.Compare{Op: semantic.Eq,
			L: &semantic.Prop{P: label}, R: &semantic.Const{T: metadata.String, V: "L42"}}}, 5, false},
	}
	for _, tc := range cases {
		if tc.q.Key != nil { // the lookup also finds its row, exactly
			rows, err := a.Query(ctx, tc.q, tc.limit)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if !rows.Next() {
				t.Errorf("%s: no row (%v)", tc.name, rows.Err())
			}
			rows.Close()
		}
		st, _, err := sqlgen.Select(a.Dialect, tc.q, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := db.Query("EXPLAIN "+st.SQL, st.Args...)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		cols, _ := rows.Columns()
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if !rows.Next() {
			t.Fatalf("%s: no plan", tc.name)
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		plan := map[string]string{}
		for i, c := range cols {
			plan[strings.ToLower(c)] = vals[i].String
		}
		used := plan["key"] == "PRIMARY" && (plan["type"] == "const" || plan["type"] == "range" || plan["type"] == "eq_ref")
		if used != tc.index {
			t.Errorf("%s: plan %v\n%s", tc.name, plan, st.SQL)
		}
	}
}
