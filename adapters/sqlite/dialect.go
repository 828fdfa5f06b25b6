package sqlite

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Storage conventions of the SQLite backend (the demo database and the
// introspection follow them; so do bind parameters):
//
//	Boolean            INTEGER 0/1
//	Byte..Int64        INTEGER
//	Decimal            NUMERIC(p,s) (NUMERIC affinity: integers stay exact,
//	                   other values are stored as binary doubles)
//	Single, Double     REAL
//	String             TEXT (char(n) values may carry trailing spaces)
//	Date               TEXT YYYY-MM-DD
//	DateTimeOffset     TEXT YYYY-MM-DDTHH:MM:SS.ffffffZ, UTC, exactly 6
//	                   fractional digits, so text order is time order
//	TimeOfDay          TEXT HH:MM:SS.ffffff
//	Guid               TEXT, lower case
//	Binary             BLOB
//
// Where SQLite cannot match PostgreSQL the dialect refuses with
// NotImplemented rather than return different rows:
//   - arithmetic whose result is Decimal (0.1 add 0.2 is not 0.3 in binary
//     floating point), decimal constants with more than 15 significant digits
//     that are not integers, NaN constants, mod on Single/Double;
//   - Duration values and any date/time arithmetic.
//
// Deviations that are documented rather than refused:
//   - tolower/toupper, and the case-insensitive $search, fold ASCII letters
//     only (SQLite's built-in lower/upper/LIKE);
//   - integer overflow in arithmetic yields a float instead of an error.
//
// contains/startswith/endswith are exact and case-sensitive (instr and
// substr, never LIKE, which ignores ASCII case in SQLite). String order is
// byte order (BINARY collation), like PostgreSQL under C or C.UTF-8.
func Dialect() sqlgen.Dialect { return dialect{} }

type dialect struct{}

// dialectTimeFormat is the storage format of DateTimeOffset values.
const dialectTimeFormat = "2006-01-02T15:04:05.000000Z"

func (dialect) Name() string { return "sqlite" }

func (dialect) Placeholder(n int) string { return "?" + strconv.Itoa(n) }

func (dialect) Column(ref string, p *metadata.Property, _ sqlgen.Use) string {
	c := ref
	if p.FixedChar {
		// Stored values may keep their padding; trailing spaces sort before
		// other characters, so trim for ordering as well.
		return "rtrim(" + c + ", ' ')"
	}
	return c
}

// dialectValue converts a non-null constant to its stored representation.
func dialectValue(c semantic.Const) (any, error) {
	switch v := c.V.(type) {
	case bool:
		if v {
			return int64(1), nil
		}
		return int64(0), nil
	case int64, []byte:
		return v, nil
	case float64:
		if math.IsNaN(v) {
			return nil, sqlgen.NotImplemented("NaN is not supported on SQLite")
		}
		return v, nil
	case string:
		if c.T == metadata.Guid {
			return strings.ToLower(v), nil
		}
		return v, nil
	case time.Time:
		switch c.T {
		case metadata.Date:
			return v.Format("2006-01-02"), nil
		case metadata.DateTimeOffset:
			return v.UTC().Format(dialectTimeFormat), nil
		}
	case time.Duration:
		if c.T == metadata.TimeOfDay {
			t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(v)
			return t.Format("15:04:05.000000"), nil
		}
		return nil, sqlgen.NotImplemented("%s is not supported on SQLite", c.T.FullName())
	}
	return nil, sqlgen.NotImplemented("a %s constant of Go type %T is not supported", c.T.FullName(), c.V)
}

// dialectDecimalOK reports whether SQLite represents the decimal text
// exactly enough: integers within int64 are exact; other values must have
// at most 15 significant digits (what a double round-trips).
func dialectDecimalOK(s string) bool {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return true
	}
	digits := strings.TrimLeft(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s), "0")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		return false
	}
	digits = strings.TrimRight(digits, "0")
	return len(digits) <= 15
}

func (dialect) Param(ps *sqlgen.Params, c semantic.Const) (string, error) {
	switch c.T {
	case metadata.Duration:
		return "", sqlgen.NotImplemented("%s is not supported on SQLite", c.T.FullName())
	case metadata.Decimal:
		if c.Null {
			return "CAST(" + ps.Add(nil) + " AS NUMERIC)", nil
		}
		s, _ := c.V.(string)
		if !dialectDecimalOK(s) {
			return "", sqlgen.NotImplemented("decimal %s has more digits than SQLite stores exactly", s)
		}
		return "CAST(" + ps.Add(s) + " AS NUMERIC)", nil
	}
	if c.Null {
		return ps.Add(nil), nil
	}
	v, err := dialectValue(c)
	if err != nil {
		return "", err
	}
	return ps.Add(v), nil
}

func (d dialect) ColumnParam(ps *sqlgen.Params, _ *metadata.Property, c semantic.Const) (string, error) {
	return d.Param(ps, c)
}

func (d dialect) In(ps *sqlgen.Params, x sqlgen.Operand, t metadata.Type, vals []semantic.Const) (string, error) {
	var b strings.Builder
	b.WriteString(x.SQL)
	b.WriteString(" IN (")
	for i, v := range vals {
		s, err := d.Param(ps, v)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(s)
	}
	b.WriteString(")")
	return b.String(), nil
}

func (dialect) NullSafeEqual(l, r string, negate bool) string {
	if negate {
		return l + " IS NOT " + r
	}
	return l + " IS " + r
}

func (dialect) Bool(v bool) string {
	if v {
		return "TRUE"
	}
	return "FALSE"
}

func (dialect) Arith(op semantic.ArithOp, t metadata.Type, l, r sqlgen.Operand) (string, error) {
	switch {
	case t == metadata.Decimal:
		return "", sqlgen.NotImplemented("decimal arithmetic is not supported on SQLite (decimals are stored as binary floating point)")
	case !t.IsNumeric():
		return "", sqlgen.NotImplemented("%s arithmetic is not supported on SQLite", t.FullName())
	}
	ls, rs := l.SQL, r.SQL
	floating := t == metadata.Double || t == metadata.Single
	if floating {
		if l.Type != t {
			ls = "CAST(" + ls + " AS REAL)"
		}
		if r.Type != t {
			rs = "CAST(" + rs + " AS REAL)"
		}
	}
	switch op {
	case semantic.Add:
		return "(" + ls + " + " + rs + ")", nil
	case semantic.Sub:
		return "(" + ls + " - " + rs + ")", nil
	case semantic.Mul:
		return "(" + ls + " * " + rs + ")", nil
	case semantic.Div, semantic.DivBy:
		if floating && l.Type == t {
			ls = "CAST(" + ls + " AS REAL)" // a REAL column may hold an integral value
		}
		if floating {
			// IEEE 754: x/0 is infinite with x's sign (9e999 overflows to
			// Inf); SQLite has no NaN, so 0/0 is null.
			return "(CASE WHEN " + rs + " = 0 THEN (CASE WHEN " + ls + " > 0 THEN 9e999 WHEN " + ls + " < 0 THEN -9e999 END)" +
				" ELSE " + ls + " / NULLIF(" + rs + ", 0) END)", nil
		}
		return "(" + ls + " / NULLIF(" + rs + ", 0))", nil
	case semantic.Mod:
		if floating {
			return "", sqlgen.NotImplemented("mod on %s is not supported", t.FullName())
		}
		return "(" + ls + " % NULLIF(" + rs + ", 0))", nil
	}
	return "", sqlgen.NotImplemented("operator %s is not supported", op)
}

func (dialect) Neg(x sqlgen.Operand) (string, error) {
	if !x.Type.IsNumeric() {
		return "", sqlgen.NotImplemented("negation of %s is not supported on SQLite", x.Type.FullName())
	}
	return "(-" + x.SQL + ")", nil
}

// dialectFields are the substr positions of date/time fields per storage
// format (1-based start, length).
var dialectFields = map[metadata.Type]map[semantic.Func][2]int{
	metadata.DateTimeOffset: {
		semantic.FnYear: {1, 4}, semantic.FnMonth: {6, 2}, semantic.FnDay: {9, 2},
		semantic.FnHour: {12, 2}, semantic.FnMinute: {15, 2}, semantic.FnSecond: {18, 2},
		semantic.FnFractionalSeconds: {20, 7}, semantic.FnDate: {1, 10}, semantic.FnTime: {12, 15},
	},
	metadata.Date: {semantic.FnYear: {1, 4}, semantic.FnMonth: {6, 2}, semantic.FnDay: {9, 2}},
	metadata.TimeOfDay: {
		semantic.FnHour: {1, 2}, semantic.FnMinute: {4, 2}, semantic.FnSecond: {7, 2},
		semantic.FnFractionalSeconds: {9, 7},
	},
}

func (dialect) Call(ps *sqlgen.Params, fn semantic.Func, t metadata.Type, args []sqlgen.Operand) (string, error) {
	arg := func(i int) string { return args[i].SQL }
	switch fn {
	case semantic.FnContains:
		return "instr(" + arg(0) + ", " + arg(1) + ") > 0", nil
	case semantic.FnStartsWith:
		return "substr(" + arg(0) + ", 1, length(" + arg(1) + ")) = " + arg(1), nil
	case semantic.FnEndsWith:
		// substr(x, -0) is the whole string, hence the empty-suffix case.
		return "(substr(" + arg(0) + ", -length(" + arg(1) + ")) = " + arg(1) +
			" OR (length(" + arg(1) + ") = 0 AND " + arg(0) + " IS NOT NULL))", nil
	case semantic.FnLength:
		return "length(" + arg(0) + ")", nil
	case semantic.FnIndexOf:
		return "(instr(" + arg(0) + ", " + arg(1) + ") - 1)", nil
	case semantic.FnCast: // integers are 64-bit already; decimals are exact text or integers
		if len(args) != 1 {
			break
		}
		switch {
		case t == metadata.String && args[0].Type == metadata.String:
			return arg(0), nil
		case t == metadata.String:
			return "CAST(" + arg(0) + " AS TEXT)", nil
		case t == metadata.Double || t == metadata.Single:
			return "CAST(" + arg(0) + " AS REAL)", nil
		case t.IsIntegral() || t == metadata.Decimal:
			return arg(0), nil
		}
	case semantic.FnMatchesPattern: // regexp(), registered by this package: Go's RE2 syntax
		return "(" + arg(0) + " REGEXP " + arg(1) + ")", nil
	case semantic.FnSubstring:
		if len(args) < 2 || len(args) > 3 {
			break
		}
		start := dialectClamp(args[1])
		if len(args) == 2 {
			return "substr(" + arg(0) + ", " + start + " + 1)", nil
		}
		return "substr(" + arg(0) + ", " + start + " + 1, " + dialectClamp(args[2]) + ")", nil
	case semantic.FnToLower:
		return "lower(" + arg(0) + ")", nil
	case semantic.FnToUpper:
		return "upper(" + arg(0) + ")", nil
	case semantic.FnTrim:
		return "trim(" + arg(0) + ", ' ')", nil
	case semantic.FnConcat:
		if len(args) != 2 {
			break
		}
		return "(" + arg(0) + " || " + arg(1) + ")", nil
	case semantic.FnYear, semantic.FnMonth, semantic.FnDay, semantic.FnHour, semantic.FnMinute, semantic.FnSecond,
		semantic.FnFractionalSeconds, semantic.FnDate, semantic.FnTime:
		x := args[0]
		if (fn == semantic.FnDate && x.Type == metadata.Date) || (fn == semantic.FnTime && x.Type == metadata.TimeOfDay) {
			return x.SQL, nil
		}
		f, ok := dialectFields[x.Type][fn]
		if !ok {
			break
		}
		s := "substr(" + x.SQL + ", " + strconv.Itoa(f[0]) + ", " + strconv.Itoa(f[1]) + ")"
		switch fn {
		case semantic.FnDate, semantic.FnTime:
			return s, nil
		case semantic.FnFractionalSeconds:
			return "CAST(" + s + " AS REAL)", nil
		}
		return "CAST(" + s + " AS INTEGER)", nil
	case semantic.FnTotalOffsetMinutes:
		if args[0].Type != metadata.DateTimeOffset {
			break
		}
		return "(CASE WHEN " + arg(0) + " IS NULL THEN NULL ELSE 0 END)", nil
	case semantic.FnRound, semantic.FnFloor, semantic.FnCeiling:
		x := args[0]
		if x.Type.IsIntegral() {
			return x.SQL, nil
		}
		switch fn {
		case semantic.FnFloor:
			return "floor(" + x.SQL + ")", nil
		case semantic.FnCeiling:
			return "ceil(" + x.SQL + ")", nil
		}
		// SQLite's round(x) adds 0.5 first, which is wrong next to .5.
		return "(CASE WHEN abs(" + x.SQL + " - trunc(" + x.SQL + ")) >= 0.5 THEN trunc(" + x.SQL + ") + sign(" + x.SQL +
			") ELSE trunc(" + x.SQL + ") END)", nil
	}
	return "", sqlgen.NotImplemented("function %s on %s is not supported on SQLite", fn, dialectArgTypes(args))
}

func dialectArgTypes(args []sqlgen.Operand) string {
	s := make([]string, len(args))
	for i, a := range args {
		s[i] = a.Type.FullName()
	}
	return strings.Join(s, ", ")
}

// dialectClamp renders a 0-based substring index or length clamped at 0
// (sqlgen clamps constants).
func dialectClamp(o sqlgen.Operand) string {
	if o.Const != nil {
		return o.SQL
	}
	return "(CASE WHEN " + o.SQL + " < 0 THEN 0 ELSE " + o.SQL + " END)"
}

// Match binds the pattern once and uses the exact instr/substr forms of
// Call (LIKE would ignore ASCII case).
func (d dialect) Match(ps *sqlgen.Params, fn semantic.Func, x sqlgen.Operand, pattern string) (string, error) {
	p := sqlgen.Operand{SQL: ps.Add(pattern), Type: metadata.String, Const: &semantic.Const{T: metadata.String, V: pattern}}
	return d.Call(ps, fn, metadata.Boolean, []sqlgen.Operand{x, p})
}

func (dialect) Search(ps *sqlgen.Params, x sqlgen.Operand, text string) (string, error) {
	if x.Type != metadata.String {
		return "", sqlgen.NotImplemented("$search on %s is not supported", x.Type.FullName())
	}
	// LIKE folds ASCII case only: the documented $search policy here.
	return x.SQL + ` LIKE ` + ps.Add("%"+sqlgen.EscapeLike(text)+"%") + ` ESCAPE '\'`, nil
}

// OrderItem relies on SQLite's default: NULLs first ascending, last
// descending.
func (dialect) OrderItem(x string, desc, _ bool) string {
	if desc {
		return x + " DESC"
	}
	return x
}

func (dialect) LimitOffset(ps *sqlgen.Params, limit, offset int64) string {
	switch {
	case limit > 0 && offset > 0:
		return "LIMIT " + ps.Add(limit) + " OFFSET " + ps.Add(offset)
	case limit > 0:
		return "LIMIT " + ps.Add(limit)
	case offset > 0:
		return "LIMIT -1 OFFSET " + ps.Add(offset)
	}
	return ""
}

// SetDefault inlines the column's default expression as introspected from
// the schema (SQLite has no DEFAULT in UPDATE ... SET).
func (dialect) SetDefault(p *metadata.Property) string {
	if p.Default == "" {
		return "NULL"
	}
	return "(" + p.Default + ")"
}

func (dialect) NullBool() string { return "CAST(NULL AS BOOLEAN)" }

func (dialect) DefaultValues() string { return "DEFAULT VALUES" }
