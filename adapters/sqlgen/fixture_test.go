package sqlgen_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite" // driver "sqlite"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/mysql"
	"github.com/odatagw/odatagw/adapters/postgres"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/adapters/sqlite"
	"github.com/odatagw/odatagw/internal/mytest"
	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// The fixture: one table "items" with a column of every type the backends
// share, full of NULLs, boundary values and awkward strings.

type fixture struct {
	set   *metadata.EntitySet
	props map[string]*metadata.Property
	rows  []map[*metadata.Property]semantic.Const
}

func prop(name, column string, t metadata.Type, nullable bool) *metadata.Property {
	return &metadata.Property{Name: name, Column: column, Type: t, Nullable: nullable}
}

func newItemsSet() *metadata.EntitySet {
	id := prop("ID", "id", metadata.Int64, false)
	chr := prop("Chr", "chr", metadata.String, true)
	chr.FixedChar, chr.MaxLength, chr.DBType = true, 6, "bpchar"
	dec := prop("Dec", "dec", metadata.Decimal, true)
	dec.Precision, dec.Scale = 18, 4
	str := prop("Str", "str", metadata.String, true)
	name := prop("Name", "name", metadata.String, false)
	set := &metadata.EntitySet{
		Name: "Items", Table: "items", Kind: metadata.KindTable,
		Properties: []*metadata.Property{
			id,
			prop("I16", "i16", metadata.Int16, true),
			prop("I32", "i32", metadata.Int32, true),
			prop("I64", "i64", metadata.Int64, true),
			prop("Qty", "qty", metadata.Int32, true),
			dec,
			prop("Dbl", "dbl", metadata.Double, true),
			str,
			chr,
			name,
			prop("Flag", "flag", metadata.Boolean, true),
			prop("Day", "day", metadata.Date, true),
			prop("TS", "ts", metadata.DateTimeOffset, true),
			prop("Tod", "tod", metadata.TimeOfDay, true),
			prop("Uid", "uid", metadata.Guid, true),
			prop("Bin", "bin", metadata.Binary, true),
		},
		Key:        []*metadata.Property{id},
		Searchable: []*metadata.Property{str, name},
	}
	metadata.NewModel("test", time.UTC, set)
	return set
}

func c(t metadata.Type, v any) semantic.Const {
	if v == nil {
		return semantic.Const{T: t, Null: true}
	}
	return semantic.Const{T: t, V: v}
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func tod(s string) time.Duration {
	t, err := time.Parse("15:04:05.999999", s)
	if err != nil {
		panic(err)
	}
	return t.Sub(time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC))
}

// fixture columns, in Items property order after ID.
var (
	fxI16  = []any{nil, int64(0), int64(-32768), int64(32767), int64(1), int64(-1), int64(7)}
	fxI32  = []any{nil, int64(0), int64(math.MinInt32), int64(math.MaxInt32), int64(42), int64(-42), int64(5)}
	fxI64  = []any{nil, int64(0), int64(math.MinInt64), int64(math.MaxInt64), int64(1) << 40, int64(-3), int64(5)}
	fxQty  = []any{nil, int64(0), int64(3), int64(-7), int64(10), int64(1), int64(-1), int64(999)}
	fxDec  = []any{nil, "0", "-1.5", "2.5", "12345678901.2345", "-99999999999.9999", "0.0001", "1", "3.5000", "-0.5"}
	fxDbl  = []any{nil, 0.0, -0.5, 0.5, 1.5, 2.5, -2.5, 1e300, -1e300, 3.141592653589793, 0.1, 1e-300, 2.0}
	fxStr  = []any{nil, "", "abc", "ABC", "Abc", "O'Brien", "100%", "a_b", `back\slash`, "é", "日本", "😀 emoji", " padded ", "x') OR 1=1 --", "%", "_", `\`, "abcabc", "naïve café", "a%b_c"}
	fxChr  = []any{nil, "ab", "ab  ", "", "é", "x%_\\", "ABCDEF", "a'b", "ab\t"}
	fxName = []any{"n0", "N1", "name", "Name", "", "日本語", "z", "a b", "'", "--"}
	fxFlag = []any{nil, true, false}
	fxDay  = []any{nil, day("2024-02-29"), day("2023-02-28"), day("2024-12-31"), day("0001-01-01"), day("9999-12-31"), day("2024-03-31"), day("2024-01-31")}
	fxTS   = []any{nil, ts("2024-02-29T23:59:59.999999Z"), ts("2024-03-31T01:30:00Z"), ts("2024-10-27T00:59:59.5Z"),
		ts("2000-01-01T00:00:00Z"), ts("1970-01-01T00:00:00.000001Z"), ts("2024-03-10T10:30:00.123456Z"), ts("2099-12-31T12:00:00Z")}
	fxTod = []any{nil, tod("00:00:00"), tod("23:59:59.999999"), tod("12:30:15.25"), tod("01:02:03.000004")}
	fxUid = []any{nil, "00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff", "0123abcd-89ab-cdef-0123-456789abcdef", "a0000000-0000-0000-0000-000000000001"}
	fxBin = []any{nil, []byte{}, []byte{0}, []byte{0xff, 0x01}, []byte("abc"), []byte{0x00, 0x27, 0x5c}}
)

// newFixture builds 48 rows that cycle through the value lists with
// different strides, so that values combine in many ways and every column
// has NULLs.
func newFixture() *fixture {
	set := newItemsSet()
	f := &fixture{set: set, props: map[string]*metadata.Property{}}
	for _, p := range set.Properties {
		f.props[p.Name] = p
	}
	cols := map[string][]any{"I16": fxI16, "I32": fxI32, "I64": fxI64, "Qty": fxQty, "Dec": fxDec, "Dbl": fxDbl,
		"Str": fxStr, "Chr": fxChr, "Name": fxName, "Flag": fxFlag, "Day": fxDay, "TS": fxTS, "Tod": fxTod,
		"Uid": fxUid, "Bin": fxBin}
	for i := 0; i < 48; i++ {
		row := map[*metadata.Property]semantic.Const{f.props["ID"]: c(metadata.Int64, int64(i+1))}
		for k, p := range set.Properties[1:] {
			vals := cols[p.Name]
			v := vals[(i*(k+1)+i/len(vals))%len(vals)]
			row[p] = c(p.Type, v)
		}
		f.rows = append(f.rows, row)
	}
	return f
}

const pgItemsDDL = `CREATE TABLE "items" (
	"id" bigint PRIMARY KEY, "i16" smallint, "i32" integer, "i64" bigint, "qty" integer,
	"dec" numeric(18,4), "dbl" double precision, "str" text, "chr" char(6), "name" text NOT NULL,
	"flag" boolean, "day" date, "ts" timestamptz, "tod" time, "uid" uuid, "bin" bytea)`

const sqliteItemsDDL = `CREATE TABLE "items" (
	"id" INTEGER PRIMARY KEY, "i16" INTEGER, "i32" INTEGER, "i64" INTEGER, "qty" INTEGER,
	"dec" NUMERIC(18,4), "dbl" REAL, "str" TEXT, "chr" CHAR(6), "name" TEXT NOT NULL,
	"flag" INTEGER, "day" TEXT, "ts" TEXT, "tod" TEXT, "uid" TEXT, "bin" BLOB)`

const mysqlItemsDDL = `CREATE TABLE "items" (
	"id" bigint PRIMARY KEY, "i16" smallint, "i32" int, "i64" bigint, "qty" int,
	"dec" decimal(18,4), "dbl" double, "str" text, "chr" char(6), "name" text NOT NULL,
	"flag" boolean, "day" date, "ts" datetime(6), "tod" time(6), "uid" char(36), "bin" varbinary(64))`

// backend is one database under test.
type backend struct {
	name string
	d    sqlgen.Dialect
	db   *sql.DB
	// asciiCase: tolower/toupper fold ASCII only (SQLite).
	asciiCase bool
	// noReturning: writes have no RETURNING (MySQL).
	noReturning bool
	// floatDiv is what a floating-point division by zero gives.
	floatDiv floatDiv
}

// floatDiv says how an engine divides a float by zero.
type floatDiv int

const (
	divIEEE   floatDiv = iota // ±Infinity, 0/0 NaN (PostgreSQL)
	divNoNaN                  // ±Infinity, 0/0 null: no NaN (SQLite)
	divToNull                 // null: no infinities (MySQL)
)

// openMySQL creates a MySQL/MariaDB database (default collation
// utf8mb4_general_ci: case-insensitive, pad space) and opens it with the
// gateway's session settings.
func openMySQL(t testing.TB, ddl string) *backend {
	t.Helper()
	dsn := mytest.NewDB(t)
	mytest.MustExec(t, dsn, ddl)
	db, flavor, err := mysql.OpenDB(context.Background(), dsn, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	d := mysql.Dialect(flavor, time.UTC)
	return &backend{name: d.Name(), d: d, db: db, noReturning: true, floatDiv: divToNull}
}

func openPostgres(t testing.TB, ddl string) *backend {
	t.Helper()
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, ddl)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// A session zone far from UTC: date/time functions must not depend on it.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`SET TIME ZONE 'America/St_Johns'`); err != nil {
		t.Fatal(err)
	}
	return &backend{name: "postgres", d: postgres.Dialect(time.UTC), db: db}
}

func openSQLite(t testing.TB, ddl string) *backend {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "items.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(ddl); err != nil {
		t.Fatal(err)
	}
	return &backend{name: "sqlite", d: sqlite.Dialect(), db: db, asciiCase: true, floatDiv: divNoNaN}
}

// load inserts the fixture through sqlgen.Insert (so writes are exercised
// too). On SQLite char(n) values are stored padded, as PostgreSQL does.
func (b *backend) load(t testing.TB, f *fixture) {
	t.Helper()
	for _, row := range f.rows {
		w := &adapters.Write{Set: f.set, Values: map[*metadata.Property]semantic.Const{}}
		for p, v := range row {
			if b.name == "sqlite" && p.FixedChar && !v.Null {
				v.V = fmt.Sprintf("%-6s", v.V.(string))
			}
			w.Values[p] = v
		}
		st, _, err := sqlgen.Insert(b.d, w)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := b.db.Query(st.SQL, st.Args...)
		if err != nil {
			t.Fatalf("%s insert: %v\n%s", b.name, err, st.SQL)
		}
		rows.Close()
	}
}

// ids runs a statement whose first column is the int64 key.
func (b *backend) ids(st sqlgen.Statement) ([]int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := b.db.QueryContext(ctx, st.SQL, st.Args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	dest := make([]any, len(cols))
	for i := range dest {
		dest[i] = new(any)
	}
	var out []int64
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		switch v := (*dest[0].(*any)).(type) {
		case int64:
			out = append(out, v)
		default:
			return nil, fmt.Errorf("key column scanned as %T", v)
		}
	}
	return out, rows.Err()
}

func fmtIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return "[" + strings.Join(s, " ") + "]"
}
