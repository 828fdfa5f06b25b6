package postgres

import (
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Dialect returns the PostgreSQL dialect for sqlgen. zone is the zone in
// which timestamp-without-time-zone columns (Property.LocalTime) are
// interpreted; it must be a named IANA zone (time.LoadLocation), nil meaning
// UTC. The zone name is the only text from outside the model that appears in
// SQL, as a quoted literal.
//
// How OData semantics map to PostgreSQL:
//   - every constant is a bind parameter cast to its type ($1::numeric,
//     $1::date, $1::timestamptz, ...); decimals travel as text, never float;
//   - in-lists are x = ANY($n::type[]) with one text-array parameter;
//   - char(n) columns are compared and processed as text (x::text drops the
//     padding) but sorted, keyset-compared and key-matched on the raw column
//     (bpchar ignores trailing spaces, so the order is the same and indexes
//     stay usable);
//   - local timestamps are converted to instants with AT TIME ZONE zone in
//     expressions; ordering and keyset comparisons use the raw column with
//     the instant converted back to local time (exact except for local times
//     that fall into a DST gap, which cannot be stored meaningfully anyway);
//   - date/time functions work in UTC (x AT TIME ZONE 'UTC') whatever the
//     session time zone; round is half away from zero for numeric and
//     double alike; string comparison and sorting follow the column
//     collation (byte order under C and C.UTF-8).
func Dialect(zone *time.Location) sqlgen.Dialect {
	name := "UTC"
	if zone != nil {
		name = zone.String()
	}
	return &dialect{zone: sqlgen.QuoteLiteral(name)}
}

type dialect struct {
	zone string // quoted zone literal
}

func (*dialect) Name() string { return "postgres" }

func (*dialect) Placeholder(n int) string { return "$" + strconv.Itoa(n) }

func (d *dialect) Column(ref string, p *metadata.Property, use sqlgen.Use) string {
	c := ref
	if textCast(p) {
		// json, jsonb, enums, xml, inet, ... exposed as Edm.String have no
		// text operators (jsonb = text fails): they are compared, searched
		// and sorted as their text form, which is what the client sees.
		return c + "::text"
	}
	if use == sqlgen.UseOrder {
		return c
	}
	switch {
	case p.FixedChar:
		return c + "::text"
	case p.LocalTime && p.Type == metadata.DateTimeOffset:
		return "(" + c + " AT TIME ZONE " + d.zone + ")"
	}
	return c
}

// textCast reports whether p is an Edm.String stored in a type other than
// text, varchar, char(n) or citext (see introspectStringTypes and enums).
// An empty DBType (a model not built by introspection) counts as text.
func textCast(p *metadata.Property) bool {
	if p.Type != metadata.String || p.FixedChar {
		return false
	}
	switch p.DBType {
	case "", "text", "varchar":
		return false
	}
	return p.DBType != "citext" && !strings.HasSuffix(p.DBType, ".citext")
}

// dialectTypes maps Edm types to PostgreSQL cast targets.
var dialectTypes = map[metadata.Type]string{
	metadata.Boolean:        "boolean",
	metadata.Byte:           "int2",
	metadata.SByte:          "int2",
	metadata.Int16:          "int2",
	metadata.Int32:          "int4",
	metadata.Int64:          "int8",
	metadata.Decimal:        "numeric",
	metadata.Single:         "float4",
	metadata.Double:         "float8",
	metadata.String:         "text",
	metadata.Date:           "date",
	metadata.DateTimeOffset: "timestamptz",
	metadata.TimeOfDay:      "time",
	metadata.Duration:       "interval",
	metadata.Guid:           "uuid",
	metadata.Binary:         "bytea",
}

func dialectType(t metadata.Type) (string, error) {
	if s, ok := dialectTypes[t]; ok {
		return s, nil
	}
	return "", sqlgen.NotImplemented("type %s is not supported on PostgreSQL", t.FullName())
}

// dialectText is the PostgreSQL input text of a non-null constant.
func dialectText(c semantic.Const) (string, error) {
	switch v := c.V.(type) {
	case bool:
		return strconv.FormatBool(v), nil
	case int64:
		return strconv.FormatInt(v, 10), nil
	case float64:
		switch {
		case math.IsInf(v, 1):
			return "Infinity", nil
		case math.IsInf(v, -1):
			return "-Infinity", nil
		case math.IsNaN(v):
			return "NaN", nil
		}
		return strconv.FormatFloat(v, 'g', -1, 64), nil
	case string:
		return v, nil
	case []byte:
		return `\x` + hex.EncodeToString(v), nil
	case time.Time:
		switch c.T {
		case metadata.Date:
			return v.Format("2006-01-02"), nil
		case metadata.DateTimeOffset:
			return v.UTC().Format("2006-01-02T15:04:05.999999Z07:00"), nil
		}
	case time.Duration:
		switch c.T {
		case metadata.TimeOfDay:
			return dialectTimeOfDay(v), nil
		case metadata.Duration:
			return strconv.FormatInt(v.Microseconds(), 10) + " microseconds", nil
		}
	}
	return "", sqlgen.NotImplemented("a %s constant of Go type %T is not supported", c.T.FullName(), c.V)
}

func dialectTimeOfDay(v time.Duration) string {
	t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(v)
	return t.Format("15:04:05.999999")
}

func (d *dialect) Param(ps *sqlgen.Params, c semantic.Const) (string, error) {
	typ, err := dialectType(c.T)
	if err != nil {
		return "", err
	}
	if c.Null {
		return ps.Add(nil) + "::" + typ, nil
	}
	var v any
	switch x := c.V.(type) {
	case string:
		if err := textValue(x, ""); err != nil {
			return "", err
		}
		v = x
	case bool, int64, []byte:
		v = x
	default:
		s, err := dialectText(c)
		if err != nil {
			return "", err
		}
		v = s
	}
	return ps.Add(v) + "::" + typ, nil
}

func (d *dialect) ColumnParam(ps *sqlgen.Params, p *metadata.Property, c semantic.Const) (string, error) {
	switch {
	case p.FixedChar && c.T == metadata.String && !c.Null:
		s, _ := c.V.(string)
		if err := textValue(s, p.Name); err != nil {
			return "", err
		}
		return ps.Add(s) + "::bpchar", nil
	case textCast(p) && c.T == metadata.String:
		// An untyped parameter: PostgreSQL infers text when it is compared
		// with Column(p, ...) (which is c::text) and the column's own type
		// (jsonb, an enum, ...) when it is assigned by INSERT or UPDATE.
		if c.Null {
			return ps.Add(nil), nil
		}
		s, _ := c.V.(string)
		if err := textValue(s, p.Name); err != nil {
			return "", err
		}
		return ps.Add(s), nil
	case p.LocalTime && c.T == metadata.DateTimeOffset:
		s, err := d.Param(ps, c)
		if err != nil {
			return "", err
		}
		return "(" + s + " AT TIME ZONE " + d.zone + ")", nil
	case c.T == metadata.String && !c.Null:
		if err := textValue(c.V.(string), p.Name); err != nil {
			return "", err
		}
	}
	return d.Param(ps, c)
}

// textValue refuses text PostgreSQL cannot hold: the NUL character, which
// no text, varchar or char value may contain (SQLSTATE 22021 if it were
// sent). target names the property when the value is bound to one.
func textValue(s, target string) error {
	if strings.IndexByte(s, 0) < 0 {
		return nil
	}
	e := &adapters.Error{Kind: adapters.Invalid, Target: target,
		Msg: "PostgreSQL text cannot contain the NUL character (U+0000)"}
	if target != "" {
		e.Msg = "property " + target + ": " + e.Msg
	}
	return e
}

func (d *dialect) In(ps *sqlgen.Params, x sqlgen.Operand, t metadata.Type, vals []semantic.Const) (string, error) {
	typ, err := dialectType(t)
	if err != nil {
		return "", err
	}
	arr := make(pq.StringArray, len(vals))
	for i, v := range vals {
		if arr[i], err = dialectText(v); err != nil {
			return "", err
		}
		if err := textValue(arr[i], ""); err != nil {
			return "", err
		}
	}
	return x.SQL + " = ANY(" + ps.Add(arr) + "::" + typ + "[])", nil
}

func (*dialect) NullSafeEqual(l, r string, negate bool) string {
	if negate {
		return l + " IS DISTINCT FROM " + r
	}
	return l + " IS NOT DISTINCT FROM " + r
}

func (*dialect) Bool(v bool) string {
	if v {
		return "TRUE"
	}
	return "FALSE"
}

func (d *dialect) Arith(op semantic.ArithOp, t metadata.Type, l, r sqlgen.Operand) (string, error) {
	switch {
	case t == metadata.DateTimeOffset || t == metadata.Duration || t == metadata.Date:
		ok := op == semantic.Add && (l.Type == metadata.DateTimeOffset && r.Type == metadata.Duration ||
			l.Type == metadata.Duration && r.Type == metadata.Duration) ||
			op == semantic.Sub && (l.Type == metadata.DateTimeOffset && (r.Type == metadata.Duration || r.Type == metadata.DateTimeOffset) ||
				l.Type == metadata.Duration && r.Type == metadata.Duration)
		if !ok {
			return "", sqlgen.NotImplemented("%s %s %s is not supported", l.Type.FullName(), op, r.Type.FullName())
		}
		sym := " + "
		if op == semantic.Sub {
			sym = " - "
		}
		return "(" + l.SQL + sym + r.SQL + ")", nil
	case !t.IsNumeric():
		return "", sqlgen.NotImplemented("arithmetic on %s is not supported", t.FullName())
	}
	typ, err := dialectType(t)
	if err != nil {
		return "", err
	}
	want := t
	if t.IsIntegral() {
		// Integer arithmetic runs in bigint, as on SQLite: Int16/Int32
		// results that leave their range are not an error.
		want, typ = metadata.Int64, "int8"
	}
	ls, rs := l.SQL, r.SQL
	if l.Type != want {
		ls = "CAST(" + ls + " AS " + typ + ")"
	}
	if r.Type != want {
		rs = "CAST(" + rs + " AS " + typ + ")"
	}
	switch op {
	case semantic.Add:
		return "(" + ls + " + " + rs + ")", nil
	case semantic.Sub:
		return "(" + ls + " - " + rs + ")", nil
	case semantic.Mul:
		return "(" + ls + " * " + rs + ")", nil
	case semantic.Div, semantic.DivBy:
		if t == metadata.Double || t == metadata.Single {
			// IEEE 754: x/0 is Infinity with x's sign, 0/0 NaN (PostgreSQL
			// raises an error instead).
			return "(CASE WHEN " + rs + " = 0 THEN (CASE WHEN " + ls + " > 0 THEN 'Infinity'::" + typ +
				" WHEN " + ls + " < 0 THEN '-Infinity'::" + typ + " WHEN " + ls + " = 0 THEN 'NaN'::" + typ +
				" END) ELSE " + ls + " / NULLIF(" + rs + ", 0) END)", nil
		}
		// integer / integer truncates toward zero in PostgreSQL.
		return "(" + ls + " / NULLIF(" + rs + ", 0))", nil
	case semantic.Mod:
		if t == metadata.Double || t == metadata.Single {
			return "", sqlgen.NotImplemented("mod on %s is not supported", t.FullName())
		}
		return "(" + ls + " % NULLIF(" + rs + ", 0))", nil
	}
	return "", sqlgen.NotImplemented("operator %s is not supported", op)
}

func (*dialect) Neg(x sqlgen.Operand) (string, error) {
	if !x.Type.IsNumeric() && x.Type != metadata.Duration {
		return "", sqlgen.NotImplemented("negation of %s is not supported", x.Type.FullName())
	}
	return "(-" + x.SQL + ")", nil
}

func (d *dialect) Call(ps *sqlgen.Params, fn semantic.Func, t metadata.Type, args []sqlgen.Operand) (string, error) {
	arg := func(i int) string { return args[i].SQL }
	switch fn {
	case semantic.FnContains, semantic.FnStartsWith, semantic.FnEndsWith:
		if len(args) != 2 {
			break
		}
		switch fn {
		case semantic.FnContains:
			return "strpos(" + arg(0) + ", " + arg(1) + ") > 0", nil
		case semantic.FnStartsWith:
			return "starts_with(" + arg(0) + ", " + arg(1) + ")", nil
		default:
			return "right(" + arg(0) + ", length(" + arg(1) + ")) = " + arg(1), nil
		}
	case semantic.FnLength:
		return "length(" + arg(0) + ")", nil
	case semantic.FnIndexOf:
		return "(strpos(" + arg(0) + ", " + arg(1) + ") - 1)", nil
	case semantic.FnCast:
		if ty, ok := castTypes[t]; ok && len(args) == 1 {
			return "CAST(" + arg(0) + " AS " + ty + ")", nil
		}
	case semantic.FnMatchesPattern: // POSIX advanced regular expression, case-sensitive
		return "(" + arg(0) + " ~ " + arg(1) + ")", nil
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
		return "btrim(" + arg(0) + ", ' ')", nil
	case semantic.FnConcat:
		if len(args) != 2 {
			break
		}
		return "(" + dialectAsText(args[0]) + " || " + dialectAsText(args[1]) + ")", nil
	case semantic.FnYear, semantic.FnMonth, semantic.FnDay, semantic.FnHour, semantic.FnMinute, semantic.FnSecond:
		x, err := dialectUTC(args[0])
		if err != nil {
			return "", err
		}
		field := map[semantic.Func]string{semantic.FnYear: "YEAR", semantic.FnMonth: "MONTH", semantic.FnDay: "DAY",
			semantic.FnHour: "HOUR", semantic.FnMinute: "MINUTE", semantic.FnSecond: "SECOND"}[fn]
		e := "EXTRACT(" + field + " FROM " + x + ")"
		if fn == semantic.FnSecond {
			e = "floor(" + e + ")"
		}
		return "CAST(" + e + " AS integer)", nil
	case semantic.FnFractionalSeconds:
		x, err := dialectUTC(args[0])
		if err != nil {
			return "", err
		}
		typ, err := dialectType(t)
		if err != nil {
			return "", err
		}
		return "CAST((EXTRACT(MICROSECONDS FROM " + x + ") % 1000000) / 1000000 AS " + typ + ")", nil
	case semantic.FnDate:
		if args[0].Type == metadata.Date {
			return arg(0), nil
		}
		x, err := dialectUTC(args[0])
		if err != nil {
			return "", err
		}
		return "CAST(" + x + " AS date)", nil
	case semantic.FnTime:
		if args[0].Type == metadata.TimeOfDay {
			return arg(0), nil
		}
		x, err := dialectUTC(args[0])
		if err != nil {
			return "", err
		}
		return "CAST(" + x + " AS time)", nil
	case semantic.FnTotalOffsetMinutes:
		// Instants are stored and returned in UTC: the offset is 0.
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
		if x.Type == metadata.Decimal {
			return "round(" + x.SQL + ")", nil // numeric rounds half away from zero
		}
		// round(double precision) rounds half to even: do it by hand.
		return "(CASE WHEN abs(" + x.SQL + " - trunc(" + x.SQL + ")) >= 0.5 THEN trunc(" + x.SQL + ") + sign(" + x.SQL +
			") ELSE trunc(" + x.SQL + ") END)", nil
	}
	return "", sqlgen.NotImplemented("function %s with %d arguments is not supported on PostgreSQL", fn, len(args))
}

// dialectClamp renders a 0-based substring index or length clamped at 0
// (negative values count as 0 on every backend; sqlgen clamps constants).
func dialectClamp(o sqlgen.Operand) string {
	if o.Const != nil {
		return o.SQL
	}
	return "(CASE WHEN " + o.SQL + " < 0 THEN 0 ELSE CAST(" + o.SQL + " AS int4) END)"
}

// Match uses LIKE with an escaped pattern (case-sensitive in PostgreSQL and
// usable by a text_pattern_ops or C-collation index for startswith).
func (*dialect) Match(ps *sqlgen.Params, fn semantic.Func, x sqlgen.Operand, pattern string) (string, error) {
	if err := textValue(pattern, ""); err != nil {
		return "", err
	}
	pat := sqlgen.EscapeLike(pattern)
	switch fn {
	case semantic.FnContains:
		pat = "%" + pat + "%"
	case semantic.FnStartsWith:
		pat += "%"
	case semantic.FnEndsWith:
		pat = "%" + pat
	default:
		return "", sqlgen.NotImplemented("function %s is not a string match", fn)
	}
	return x.SQL + ` LIKE ` + ps.Add(pat) + `::text ESCAPE '\'`, nil
}

func dialectAsText(o sqlgen.Operand) string {
	if o.Type == metadata.String {
		return o.SQL
	}
	return "CAST(" + o.SQL + " AS text)"
}

// dialectUTC renders a temporal operand so that EXTRACT sees UTC fields.
func dialectUTC(o sqlgen.Operand) (string, error) {
	switch o.Type {
	case metadata.DateTimeOffset:
		return "(" + o.SQL + " AT TIME ZONE 'UTC')", nil
	case metadata.Date, metadata.TimeOfDay:
		return o.SQL, nil
	}
	return "", sqlgen.NotImplemented("date/time function on %s is not supported", o.Type.FullName())
}

func (*dialect) Search(ps *sqlgen.Params, x sqlgen.Operand, text string) (string, error) {
	if x.Type != metadata.String {
		return "", sqlgen.NotImplemented("$search on %s is not supported", x.Type.FullName())
	}
	if err := textValue(text, ""); err != nil {
		return "", err
	}
	return x.SQL + ` ILIKE ` + ps.Add("%"+sqlgen.EscapeLike(text)+"%") + `::text ESCAPE '\'`, nil
}

func (*dialect) OrderItem(x string, desc, nullable bool) string {
	switch {
	case !nullable && !desc:
		return x
	case !nullable:
		return x + " DESC"
	case desc:
		return x + " DESC NULLS LAST"
	}
	return x + " NULLS FIRST"
}

func (*dialect) LimitOffset(ps *sqlgen.Params, limit, offset int64) string {
	s := ""
	if limit > 0 {
		s = "LIMIT " + ps.Add(limit)
	}
	if offset > 0 {
		if s != "" {
			s += " "
		}
		s += "OFFSET " + ps.Add(offset)
	}
	return s
}

func (*dialect) SetDefault(*metadata.Property) string { return "DEFAULT" }

func (*dialect) NullBool() string { return "CAST(NULL AS BOOLEAN)" }

func (*dialect) DefaultValues() string { return "DEFAULT VALUES" }

// castTypes are the SQL types of cast targets (semantic.FnCast).
var castTypes = map[metadata.Type]string{
	metadata.Byte: "smallint", metadata.SByte: "smallint", metadata.Int16: "smallint", metadata.Int32: "integer",
	metadata.Int64: "bigint", metadata.Decimal: "numeric", metadata.Single: "real", metadata.Double: "double precision",
	metadata.String: "text",
}
