package postgres

import (
	"database/sql"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// dialectConsts are constants of every type with the text PostgreSQL
// prints for them (session TimeZone UTC).
var dialectConsts = []struct {
	c    semantic.Const
	cast string
	text string
}{
	{semantic.Const{T: metadata.Boolean, V: true}, "boolean", "true"},
	{semantic.Const{T: metadata.Int16, V: int64(-32768)}, "int2", "-32768"},
	{semantic.Const{T: metadata.Int32, V: int64(math.MaxInt32)}, "int4", "2147483647"},
	{semantic.Const{T: metadata.Int64, V: int64(math.MinInt64)}, "int8", "-9223372036854775808"},
	{semantic.Const{T: metadata.Decimal, V: "-12345678901234567890.123456789"}, "numeric", "-12345678901234567890.123456789"},
	{semantic.Const{T: metadata.Double, V: 0.1}, "float8", "0.1"},
	{semantic.Const{T: metadata.Double, V: math.Inf(-1)}, "float8", "-Infinity"},
	{semantic.Const{T: metadata.Double, V: math.NaN()}, "float8", "NaN"},
	{semantic.Const{T: metadata.String, V: `it's 50% \ "q" 日本😀`}, "text", `it's 50% \ "q" 日本😀`},
	{semantic.Const{T: metadata.Date, V: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}, "date", "2024-02-29"},
	{semantic.Const{T: metadata.DateTimeOffset, V: time.Date(2024, 3, 31, 1, 30, 0, 123456000, time.UTC)}, "timestamptz", "2024-03-31 01:30:00.123456+00"},
	{semantic.Const{T: metadata.TimeOfDay, V: 23*time.Hour + 59*time.Minute + 59*time.Second + 999999*time.Microsecond}, "time", "23:59:59.999999"},
	{semantic.Const{T: metadata.Duration, V: 26*time.Hour + time.Microsecond}, "interval", "26:00:00.000001"},
	{semantic.Const{T: metadata.Guid, V: "0123abcd-89ab-cdef-0123-456789abcdef"}, "uuid", "0123abcd-89ab-cdef-0123-456789abcdef"},
	{semantic.Const{T: metadata.Binary, V: []byte{0, '\'', 0xff}}, "bytea", `\x0027ff`},
}

func TestDialectParamCasts(t *testing.T) {
	d := Dialect(time.UTC)
	for _, tc := range dialectConsts {
		ps := sqlgen.NewParams(d)
		s, err := d.Param(ps, tc.c)
		if err != nil {
			t.Fatalf("%s: %v", tc.c.T, err)
		}
		if want := "$1::" + tc.cast; s != want {
			t.Errorf("%s: Param = %q, want %q", tc.c.T, s, want)
		}
		if _, isFloat := ps.Args()[0].(float64); isFloat {
			t.Errorf("%s: bound as float64; decimals and doubles travel as text", tc.c.T)
		}
		ps = sqlgen.NewParams(d)
		s, err = d.Param(ps, semantic.Const{T: tc.c.T, Null: true})
		if err != nil || s != "$1::"+tc.cast || ps.Args()[0] != nil {
			t.Errorf("%s null: %q %v %v", tc.c.T, s, ps.Args(), err)
		}
	}
}

// TestDialectParamsOnServer binds every constant alone and inside an
// in-list and checks what PostgreSQL makes of it.
func TestDialectParamsOnServer(t *testing.T) {
	db, err := sql.Open("postgres", pgtest.NewDB(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(`SET TIME ZONE 'UTC'`); err != nil {
		t.Fatal(err)
	}
	d := Dialect(time.UTC)
	for _, tc := range dialectConsts {
		ps := sqlgen.NewParams(d)
		v, err := d.Param(ps, tc.c)
		if err != nil {
			t.Fatal(err)
		}
		x := sqlgen.Operand{SQL: v, Type: tc.c.T}
		in, err := d.In(ps, x, tc.c.T, []semantic.Const{tc.c, tc.c})
		if err != nil {
			t.Fatal(err)
		}
		var text string
		var member bool
		q := "SELECT CAST(" + v + " AS text), " + in
		if err := db.QueryRow(q, ps.Args()...).Scan(&text, &member); err != nil {
			t.Errorf("%s: %v\n%s", tc.c.T, err, q)
			continue
		}
		if text != tc.text {
			t.Errorf("%s: server reads %q, want %q", tc.c.T, text, tc.text)
		}
		if !member && tc.c.T != metadata.Double { // NaN = NaN is true in PostgreSQL too, but keep floats out
			t.Errorf("%s: value not found in its own in-list: %s", tc.c.T, q)
		}
	}
}

func TestDialectColumnAndZone(t *testing.T) {
	zone := time.FixedZone("Odd'Zone", 3600)
	d := Dialect(zone)
	fixed := &metadata.Property{Column: `co"de`, Type: metadata.String, FixedChar: true}
	local := &metadata.Property{Column: "created", Type: metadata.DateTimeOffset, LocalTime: true}
	tests := []struct {
		p    *metadata.Property
		use  sqlgen.Use
		want string
	}{
		{fixed, sqlgen.UseValue, `"co""de"::text`},
		{fixed, sqlgen.UseOrder, `"co""de"`},
		{local, sqlgen.UseValue, `("created" AT TIME ZONE 'Odd''Zone')`},
		{local, sqlgen.UseOrder, `"created"`},
	}
	for _, tc := range tests {
		if got := d.Column(sqlgen.QuoteIdent(tc.p.Column), tc.p, tc.use); got != tc.want {
			t.Errorf("Column(%s, %d) = %s, want %s", tc.p.Column, tc.use, got, tc.want)
		}
	}
	ps := sqlgen.NewParams(d)
	if got, _ := d.ColumnParam(ps, fixed, semantic.Const{T: metadata.String, V: "A"}); got != "$1::bpchar" {
		t.Errorf("fixed-char ColumnParam = %s", got)
	}
	if got, _ := d.ColumnParam(ps, local, semantic.Const{T: metadata.DateTimeOffset, V: time.Unix(0, 0)}); got != "($2::timestamptz AT TIME ZONE 'Odd''Zone')" {
		t.Errorf("local ColumnParam = %s", got)
	}
}

func TestDialectMatch(t *testing.T) {
	d := Dialect(nil)
	x := sqlgen.Operand{SQL: `"s"`, Type: metadata.String}
	tests := []struct {
		fn      semantic.Func
		pattern string
		want    string
	}{
		{semantic.FnContains, `50%_\`, `%50\%\_\\%`},
		{semantic.FnStartsWith, "a'b", "a'b%"},
		{semantic.FnEndsWith, "", "%"},
	}
	for _, tc := range tests {
		ps := sqlgen.NewParams(d)
		s, err := d.Match(ps, tc.fn, x, tc.pattern)
		if err != nil {
			t.Fatal(err)
		}
		if s != `"s" LIKE $1::text ESCAPE '\'` || ps.Args()[0] != tc.want {
			t.Errorf("%s(%q): %s %q", tc.fn, tc.pattern, s, ps.Args()[0])
		}
	}
}

func TestDialectRefusals(t *testing.T) {
	d := Dialect(time.UTC)
	dbl := sqlgen.Operand{SQL: "x", Type: metadata.Double}
	date := sqlgen.Operand{SQL: "d", Type: metadata.Date}
	_, err := d.Arith(semantic.Mod, metadata.Double, dbl, dbl)
	if adapters.KindOf(err) != adapters.NotImplemented {
		t.Errorf("double mod: %v", err)
	}
	_, err = d.Arith(semantic.Add, metadata.Date, date, date)
	if adapters.KindOf(err) != adapters.NotImplemented || !strings.Contains(err.Error(), "Edm.Date") {
		t.Errorf("date add date: %v", err)
	}
	var arr pq.StringArray
	ps := sqlgen.NewParams(d)
	if _, err := d.In(ps, dbl, metadata.Double, []semantic.Const{{T: metadata.Double, V: math.Inf(1)}}); err != nil {
		t.Fatal(err)
	}
	arr = ps.Args()[0].(pq.StringArray)
	if arr[0] != "Infinity" {
		t.Errorf("in-list infinity %q", arr[0])
	}
}
