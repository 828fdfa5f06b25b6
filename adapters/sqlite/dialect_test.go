package sqlite

import (
	"database/sql"
	"math"
	"sort"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

func TestDialectDecimalOK(t *testing.T) {
	tests := []struct {
		s  string
		ok bool
	}{
		{"0", true}, {"-12.50", true}, {"9223372036854775807", true}, {"-9223372036854775808", true},
		{"99999999999.9999", true}, {"0.000000000000001", true}, {"123456789012345.0000", true},
		{"1234567890123456.5", false}, {"0.1234567890123456", false}, {"9223372036854775808", false}, {"1e5", false},
	}
	for _, tc := range tests {
		if got := dialectDecimalOK(tc.s); got != tc.ok {
			t.Errorf("dialectDecimalOK(%q) = %v, want %v", tc.s, got, tc.ok)
		}
	}
}

func TestDialectStorageForms(t *testing.T) {
	d := Dialect()
	tests := []struct {
		c    semantic.Const
		sql  string
		want any
	}{
		{semantic.Const{T: metadata.Boolean, V: true}, "?1", int64(1)},
		{semantic.Const{T: metadata.Boolean, V: false}, "?1", int64(0)},
		{semantic.Const{T: metadata.Decimal, V: "-12.50"}, "CAST(?1 AS NUMERIC)", "-12.50"},
		{semantic.Const{T: metadata.Date, V: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}, "?1", "2024-02-29"},
		{semantic.Const{T: metadata.DateTimeOffset, V: time.Date(2024, 3, 31, 1, 30, 0, 0, time.FixedZone("x", 7200))}, "?1", "2024-03-30T23:30:00.000000Z"},
		{semantic.Const{T: metadata.TimeOfDay, V: 12*time.Hour + 250*time.Millisecond}, "?1", "12:00:00.250000"},
		{semantic.Const{T: metadata.Guid, V: "0123ABCD-89AB-CDEF-0123-456789ABCDEF"}, "?1", "0123abcd-89ab-cdef-0123-456789abcdef"},
		{semantic.Const{T: metadata.Double, V: math.Inf(1)}, "?1", math.Inf(1)},
	}
	for _, tc := range tests {
		ps := sqlgen.NewParams(d)
		s, err := d.Param(ps, tc.c)
		if err != nil {
			t.Fatalf("%s: %v", tc.c.T, err)
		}
		if s != tc.sql || ps.Args()[0] != tc.want {
			t.Errorf("%s: %s %#v, want %s %#v", tc.c.T, s, ps.Args()[0], tc.sql, tc.want)
		}
	}
	refused := []semantic.Const{
		{T: metadata.Double, V: math.NaN()},
		{T: metadata.Duration, V: time.Hour},
		{T: metadata.Decimal, V: "0.12345678901234567"},
	}
	for _, c := range refused {
		if _, err := d.Param(sqlgen.NewParams(d), c); adapters.KindOf(err) != adapters.NotImplemented {
			t.Errorf("%s %v: want NotImplemented, got %v", c.T, c.V, err)
		}
	}
	op := sqlgen.Operand{SQL: "x", Type: metadata.Decimal}
	if _, err := d.Arith(semantic.Add, metadata.Decimal, op, op); adapters.KindOf(err) != adapters.NotImplemented {
		t.Errorf("decimal add: %v", err)
	}
}

// TestDialectOrderInStorage checks on a real SQLite database that the
// storage forms sort like the values (text order = time order) and that
// decimal parameters compare numerically with NUMERIC columns.
func TestDialectOrderInStorage(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, ts TEXT, amount NUMERIC(12,4))`); err != nil {
		t.Fatal(err)
	}
	d := Dialect()
	base := time.Date(2024, 3, 31, 1, 59, 59, 999999000, time.UTC)
	instants := []time.Time{base, base.Add(time.Microsecond), base.Add(-time.Hour * 24 * 400), base.Add(time.Second / 2),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)}
	amounts := []string{"10", "9.5", "-100.25", "0.0001", "100", "2"}
	for i, ts := range instants {
		ps := sqlgen.NewParams(d)
		a, _ := d.Param(ps, semantic.Const{T: metadata.DateTimeOffset, V: ts})
		b, _ := d.Param(ps, semantic.Const{T: metadata.Decimal, V: amounts[i]})
		if _, err := db.Exec("INSERT INTO t VALUES ("+dialectItoa(i)+", "+a+", "+b+")", ps.Args()...); err != nil {
			t.Fatal(err)
		}
	}
	ids := func(q string, args ...any) []int {
		rows, err := db.Query(q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []int
		for rows.Next() {
			var id int
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, id)
		}
		return out
	}
	want := []int{0, 1, 2, 3, 4, 5}
	sort.Slice(want, func(i, j int) bool { return instants[want[i]].Before(instants[want[j]]) })
	if got := ids(`SELECT id FROM t ORDER BY ts`); !dialectEqual(got, want) {
		t.Errorf("text order %v, time order %v", got, want)
	}
	ps := sqlgen.NewParams(d)
	p, _ := d.Param(ps, semantic.Const{T: metadata.Decimal, V: "9.75"})
	if got := ids(`SELECT id FROM t WHERE amount > `+p+` ORDER BY id`, ps.Args()...); !dialectEqual(got, []int{0, 4}) {
		t.Errorf("amount > 9.75: %v", got)
	}
}

func dialectItoa(i int) string { return string(rune('0' + i)) }

func dialectEqual(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
