package mysql

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Flavor tells MySQL and MariaDB apart where their SQL differs.
type Flavor int

// Flavors.
const (
	MariaDB Flavor = iota
	MySQL
)

// Dialect returns the MySQL/MariaDB dialect for sqlgen. zone is the zone in
// which datetime columns (Property.LocalTime) are interpreted (nil: UTC).
//
// It relies on the session the adapter pins on every connection (see
// sessionParams): sql_mode with ANSI_QUOTES (so sqlgen's double-quoted
// identifiers are identifiers, as on PostgreSQL and SQLite) and
// NO_BACKSLASH_ESCAPES (so ESCAPE '\' is one backslash), time_zone
// '+00:00', utf8mb4.
//
// How OData semantics map to MySQL:
//   - placeholders are positional (?); sqlgen's numbered markers are
//     rebound (Rebind), repeating arguments used twice;
//   - every string column is compared, matched and sorted under a binary
//     collation without pad space (utf8mb4_nopad_bin on MariaDB,
//     utf8mb4_0900_bin on MySQL), converted to utf8mb4 first when stored in
//     another character set: MySQL's default collations ignore case and
//     trailing spaces, and results and order must equal PostgreSQL's under
//     the C collation (code point order); tolower/toupper and $search fold
//     case on purpose;
//   - decimal constants travel as text cast to DECIMAL(65,30) (a string
//     compared with a DECIMAL column would be compared as a double);
//     decimal division is exact to 30 decimal places
//     (div_precision_increment; PostgreSQL rounds non-terminating quotients
//     to about 20 significant digits instead), integer division truncates
//     (DIV);
//   - a Duration is a number of microseconds: date arithmetic uses
//     TIMESTAMPADD and TIMESTAMPDIFF;
//   - temporal constants are cast (DATETIME(6), DATE, TIME(6)); timestamp
//     columns are UTC through the pinned session zone; datetime columns
//     hold local times of zone: values and keysets are converted in Go,
//     expressions with CONVERT_TZ (which needs the server's time zone
//     tables unless zone is UTC);
//   - MySQL sorts NULLs first ascending and last descending, which is
//     OData's order; Duration values have no MySQL type and are refused.
func Dialect(flavor Flavor, zone *time.Location) sqlgen.Dialect {
	if zone == nil {
		zone = time.UTC
	}
	d := &dialect{flavor: flavor, zone: zone, collation: "utf8mb4_nopad_bin"}
	if flavor == MySQL {
		d.collation = "utf8mb4_0900_bin"
	}
	if zone != time.UTC {
		d.zoneLit = sqlgen.QuoteLiteral(zone.String())
	}
	return d
}

type dialect struct {
	flavor    Flavor
	zone      *time.Location
	zoneLit   string // quoted zone name; "" for UTC
	collation string // binary, no-pad collation of utf8mb4
}

func (d *dialect) Name() string {
	if d.flavor == MySQL {
		return "mysql"
	}
	return "mariadb"
}

// Placeholder returns a marker (NUL, number, NUL) that Rebind turns into
// "?". MySQL identifiers cannot contain NUL, and values are never in the
// text, so the marker cannot occur otherwise.
func (*dialect) Placeholder(n int) string { return "\x00" + strconv.Itoa(n) + "\x00" }

// Rebind implements sqlgen.Positional.
func (*dialect) Rebind(st sqlgen.Statement) sqlgen.Statement {
	if !strings.Contains(st.SQL, "\x00") {
		return st
	}
	var b strings.Builder
	b.Grow(len(st.SQL))
	args := make([]any, 0, len(st.Args))
	s := st.SQL
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		s = s[i+1:]
		j := strings.IndexByte(s, 0)
		n, _ := strconv.Atoi(s[:j])
		s = s[j+1:]
		b.WriteByte('?')
		args = append(args, st.Args[n-1])
	}
	return sqlgen.Statement{SQL: b.String(), Args: args}
}

// stringColumn reports whether p is compared as text (everything exposed as
// Edm.String, json, enum and set included).
func stringColumn(p *metadata.Property) bool {
	return p.Type == metadata.String || p.Type == metadata.Guid
}

// castText are column types exposed as Edm.String (or Guid) that have no
// collation of their own: they are compared as their text.
var castText = map[string]bool{"json": true, "uuid": true, "inet4": true, "inet6": true}

// charsetOf is the character set of a text column as recorded in DBType by
// introspection ("varchar character set latin1"); "" means utf8mb4 or
// unknown.
func charsetOf(p *metadata.Property) string {
	_, cs, ok := strings.Cut(p.DBType, " character set ")
	if !ok {
		return ""
	}
	return cs
}

// exact reports whether p's own collation is the dialect's binary no-pad
// one: the raw column then compares exactly, and its indexes stay usable
// (an expression such as c COLLATE x hides them even when x is c's own).
func (d *dialect) exact(p *metadata.Property) bool {
	return strings.HasSuffix(p.DBType, " collate "+d.collation)
}

func (d *dialect) Column(ref string, p *metadata.Property, use sqlgen.Use) string {
	c := ref
	if stringColumn(p) && d.exact(p) {
		return c
	}
	if stringColumn(p) {
		switch cs := charsetOf(p); {
		case castText[p.DBType]:
			c = "CAST(" + c + " AS CHAR)"
		case cs != "" && cs != "utf8mb4":
			c = "CONVERT(" + c + " USING utf8mb4)"
		}
		return "(" + c + " COLLATE " + d.collation + ")"
	}
	if use == sqlgen.UseValue && p.LocalTime && p.Type == metadata.DateTimeOffset && d.zoneLit != "" {
		return "CONVERT_TZ(" + c + ", " + d.zoneLit + ", '+00:00')"
	}
	return c
}

// KeyEqual implements sqlgen.KeyEqualer: a key column with its own
// (case-insensitive, pad-space) collation, or of MariaDB's uuid type (which
// sorts in its own order, so it is ordered as text), gets the exact
// comparison plus the same comparison on the raw column, which its index
// serves. Exact
// equality implies equality under any collation, so the prefilter keeps
// every row the exact comparison keeps.
func (d *dialect) KeyEqual(p *metadata.Property, col, param string) string {
	if !stringColumn(p) || d.exact(p) || charsetOf(p) != "" || castText[p.DBType] && p.DBType != "uuid" {
		return col + " = " + param
	}
	return "(" + sqlgen.QuoteIdent(p.Column) + " = " + param + " AND " + col + " = " + param + ")"
}

const (
	dialectTimeFormat = "2006-01-02 15:04:05.999999"
	// dialectDecimal is the type of decimal constants: 35 integer and 30
	// fractional digits (MySQL's maximum scale).
	dialectDecimal = "DECIMAL(65,30)"
)

// dialectDecimalOK reports whether the decimal text fits DECIMAL(65,30).
func dialectDecimalOK(s string) bool {
	if strings.ContainsAny(s, "eE") {
		return false
	}
	s = strings.TrimLeft(s, "+-")
	intPart, frac, _ := strings.Cut(s, ".")
	intPart = strings.TrimLeft(intPart, "0")
	frac = strings.TrimRight(frac, "0")
	return len(intPart) <= 35 && len(frac) <= 30
}

// value is the driver value of a non-null constant and the cast it needs.
func (d *dialect) value(c semantic.Const) (any, string, error) {
	switch v := c.V.(type) {
	case bool:
		if v {
			return int64(1), "", nil
		}
		return int64(0), "", nil
	case int64:
		if c.T == metadata.Decimal {
			return strconv.FormatInt(v, 10), dialectDecimal, nil
		}
		return v, "", nil
	case []byte:
		return v, "", nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, "", sqlgen.NotImplemented("MySQL has no NaN or infinite floating point values")
		}
		return v, "", nil
	case string:
		if c.T == metadata.Decimal {
			if !dialectDecimalOK(v) {
				return nil, "", sqlgen.NotImplemented("decimal %s has more digits than MySQL's DECIMAL(65,30)", v)
			}
			return v, dialectDecimal, nil
		}
		if c.T == metadata.Guid {
			return strings.ToLower(v), "", nil
		}
		return v, "", nil
	case time.Time:
		switch c.T {
		case metadata.Date:
			return v.Format("2006-01-02"), "DATE", nil
		case metadata.DateTimeOffset:
			return v.UTC().Format(dialectTimeFormat), "DATETIME(6)", nil
		}
	case time.Duration:
		if c.T == metadata.TimeOfDay {
			t := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(v)
			return t.Format("15:04:05.999999"), "TIME(6)", nil
		}
		// A Duration (only ever a literal or the result of date
		// arithmetic: no MySQL column maps to it) is its number of
		// microseconds, like TIMESTAMPDIFF(MICROSECOND, ...) below.
		if v%time.Microsecond != 0 {
			return nil, "", sqlgen.NotImplemented("a duration finer than a microsecond is not supported on MySQL")
		}
		return int64(v / time.Microsecond), "", nil
	}
	return nil, "", sqlgen.NotImplemented("a %s constant of Go type %T is not supported", c.T.FullName(), c.V)
}

// nullCast is the cast of a typed NULL, so that it keeps its type in
// expressions.
var nullCast = map[metadata.Type]string{
	metadata.Decimal: dialectDecimal, metadata.Date: "DATE", metadata.DateTimeOffset: "DATETIME(6)",
	metadata.TimeOfDay: "TIME(6)", metadata.Int16: "SIGNED", metadata.Int32: "SIGNED", metadata.Int64: "SIGNED",
	metadata.Byte: "SIGNED", metadata.SByte: "SIGNED", metadata.Double: "DOUBLE", metadata.Single: "DOUBLE",
	metadata.Duration: "SIGNED",
}

func (d *dialect) Param(ps *sqlgen.Params, c semantic.Const) (string, error) {
	if c.Null {
		if typ, ok := nullCast[c.T]; ok {
			return "CAST(" + ps.Add(nil) + " AS " + typ + ")", nil
		}
		return ps.Add(nil), nil
	}
	v, typ, err := d.value(c)
	if err != nil {
		return "", err
	}
	if typ != "" {
		return "CAST(" + ps.Add(v) + " AS " + typ + ")", nil
	}
	return ps.Add(v), nil
}

// ColumnParam binds values for p's raw column: local times as wall clock
// in the model zone; everything else as Param.
func (d *dialect) ColumnParam(ps *sqlgen.Params, p *metadata.Property, c semantic.Const) (string, error) {
	if p.LocalTime && c.T == metadata.DateTimeOffset && !c.Null {
		if t, ok := c.V.(time.Time); ok {
			return "CAST(" + ps.Add(t.In(d.zone).Format(dialectTimeFormat)) + " AS DATETIME(6))", nil
		}
	}
	return d.Param(ps, c)
}

func (d *dialect) In(ps *sqlgen.Params, x sqlgen.Operand, _ metadata.Type, vals []semantic.Const) (string, error) {
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

func (*dialect) NullSafeEqual(l, r string, negate bool) string {
	if negate {
		return "NOT (" + l + " <=> " + r + ")"
	}
	return "(" + l + " <=> " + r + ")"
}

func (*dialect) Bool(v bool) string {
	if v {
		return "TRUE"
	}
	return "FALSE"
}

func (d *dialect) Arith(op semantic.ArithOp, t metadata.Type, l, r sqlgen.Operand) (string, error) {
	if t == metadata.DateTimeOffset || t == metadata.Duration || t == metadata.Date {
		return dateArith(op, l, r)
	}
	if !t.IsNumeric() {
		return "", sqlgen.NotImplemented("%s arithmetic is not supported on MySQL", t.FullName())
	}
	ls, rs := l.SQL, r.SQL
	if t == metadata.Double || t == metadata.Single {
		// int / int is a DECIMAL division in MySQL: make it floating point.
		if l.Type != metadata.Double && l.Type != metadata.Single {
			ls = "CAST(" + ls + " AS DOUBLE)"
		}
		if r.Type != metadata.Double && r.Type != metadata.Single {
			rs = "CAST(" + rs + " AS DOUBLE)"
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
		switch {
		case t.IsIntegral():
			return "(" + ls + " DIV NULLIF(" + rs + ", 0))", nil
		case t == metadata.Decimal:
			// Exact to 30 decimal places (the session's
			// div_precision_increment, see sessionParams).
			return "(" + ls + " / NULLIF(" + rs + ", 0))", nil
		}
		return "(" + ls + " / NULLIF(" + rs + ", 0))", nil
	case semantic.Mod:
		if t == metadata.Double || t == metadata.Single {
			return "", sqlgen.NotImplemented("mod on %s is not supported", t.FullName())
		}
		return "(" + ls + " % NULLIF(" + rs + ", 0))", nil
	}
	return "", sqlgen.NotImplemented("operator %s is not supported", op)
}

// dateArith is the date and time arithmetic PostgreSQL's dialect accepts:
// DateTimeOffset ± Duration, DateTimeOffset − DateTimeOffset and Duration ±
// Duration. A Duration is a number of microseconds (see value), so that it
// compares and adds like one; a DateTimeOffset is a UTC DATETIME(6).
func dateArith(op semantic.ArithOp, l, r sqlgen.Operand) (string, error) {
	dto, dur := metadata.DateTimeOffset, metadata.Duration
	switch {
	case op == semantic.Add && l.Type == dto && r.Type == dur:
		return "TIMESTAMPADD(MICROSECOND, " + r.SQL + ", " + l.SQL + ")", nil
	case op == semantic.Sub && l.Type == dto && r.Type == dur:
		return "TIMESTAMPADD(MICROSECOND, -(" + r.SQL + "), " + l.SQL + ")", nil
	case op == semantic.Sub && l.Type == dto && r.Type == dto:
		return "TIMESTAMPDIFF(MICROSECOND, " + r.SQL + ", " + l.SQL + ")", nil
	case op == semantic.Add && l.Type == dur && r.Type == dur:
		return "(" + l.SQL + " + " + r.SQL + ")", nil
	case op == semantic.Sub && l.Type == dur && r.Type == dur:
		return "(" + l.SQL + " - " + r.SQL + ")", nil
	}
	return "", sqlgen.NotImplemented("%s %s %s is not supported", l.Type.FullName(), op, r.Type.FullName())
}

func (*dialect) Neg(x sqlgen.Operand) (string, error) {
	if x.Type == metadata.Duration {
		return "(-" + x.SQL + ")", nil
	}
	if !x.Type.IsNumeric() {
		return "", sqlgen.NotImplemented("negation of %s is not supported on MySQL", x.Type.FullName())
	}
	return "(-" + x.SQL + ")", nil
}

// dialectText collates a string operand that is not a column (a
// parameter, a function result) binary, so that it compares exactly.
func (d *dialect) text(o sqlgen.Operand) string {
	if o.Type != metadata.String {
		return "CAST(" + o.SQL + " AS CHAR)"
	}
	return o.SQL
}

func (d *dialect) Call(ps *sqlgen.Params, fn semantic.Func, t metadata.Type, args []sqlgen.Operand) (string, error) {
	arg := func(i int) string { return args[i].SQL }
	switch fn {
	case semantic.FnContains, semantic.FnStartsWith, semantic.FnEndsWith:
		if len(args) != 2 {
			break
		}
		a, b := d.bin(args[0]), d.bin(args[1])
		switch fn {
		case semantic.FnContains:
			return "LOCATE(" + b + ", " + a + ") > 0", nil
		case semantic.FnStartsWith:
			return "LEFT(" + a + ", CHAR_LENGTH(" + b + ")) = " + b, nil
		default:
			return "RIGHT(" + a + ", CHAR_LENGTH(" + b + ")) = " + b, nil
		}
	case semantic.FnLength:
		return "CHAR_LENGTH(" + arg(0) + ")", nil
	case semantic.FnIndexOf:
		return "(LOCATE(" + d.bin(args[1]) + ", " + d.bin(args[0]) + ") - 1)", nil
	case semantic.FnCast:
		if len(args) != 1 {
			break
		}
		switch {
		case t == metadata.String:
			return "CAST(" + arg(0) + " AS CHAR)", nil
		case t == metadata.Double || t == metadata.Single:
			return "(" + arg(0) + " + 0E0)", nil
		case t == metadata.Decimal:
			return "CAST(" + arg(0) + " AS DECIMAL(65,0))", nil // from an integer: no fraction
		case t.IsIntegral():
			return "CAST(" + arg(0) + " AS SIGNED)", nil
		}
	case semantic.FnMatchesPattern: // PCRE on MariaDB, ICU on MySQL; case-sensitive under the binary collation
		return "(" + d.bin(args[0]) + " REGEXP " + d.bin(args[1]) + ")", nil
	case semantic.FnSubstring:
		if len(args) < 2 || len(args) > 3 {
			break
		}
		start := dialectClamp(args[1])
		if len(args) == 2 {
			return "SUBSTRING(" + arg(0) + ", " + start + " + 1)", nil
		}
		return "SUBSTRING(" + arg(0) + ", " + start + " + 1, " + dialectClamp(args[2]) + ")", nil
	case semantic.FnToLower:
		return "LOWER(" + arg(0) + ")", nil
	case semantic.FnToUpper:
		return "UPPER(" + arg(0) + ")", nil
	case semantic.FnTrim:
		return "TRIM(BOTH ' ' FROM " + arg(0) + ")", nil
	case semantic.FnConcat:
		if len(args) != 2 {
			break
		}
		return "CONCAT(" + d.text(args[0]) + ", " + d.text(args[1]) + ")", nil
	case semantic.FnYear, semantic.FnMonth, semantic.FnDay, semantic.FnHour, semantic.FnMinute, semantic.FnSecond:
		if !temporal(args[0].Type) {
			break
		}
		name := map[semantic.Func]string{semantic.FnYear: "YEAR", semantic.FnMonth: "MONTH", semantic.FnDay: "DAYOFMONTH",
			semantic.FnHour: "HOUR", semantic.FnMinute: "MINUTE", semantic.FnSecond: "SECOND"}[fn]
		return name + "(" + arg(0) + ")", nil
	case semantic.FnFractionalSeconds:
		if !temporal(args[0].Type) {
			break
		}
		return "(MICROSECOND(" + arg(0) + ") * 0.000001)", nil
	case semantic.FnDate:
		if args[0].Type == metadata.Date {
			return arg(0), nil
		}
		if args[0].Type != metadata.DateTimeOffset {
			break
		}
		return "CAST(" + arg(0) + " AS DATE)", nil
	case semantic.FnTime:
		if args[0].Type == metadata.TimeOfDay {
			return arg(0), nil
		}
		if args[0].Type != metadata.DateTimeOffset {
			break
		}
		return "CAST(" + arg(0) + " AS TIME(6))", nil
	case semantic.FnTotalOffsetMinutes:
		return "(CASE WHEN " + arg(0) + " IS NULL THEN NULL ELSE 0 END)", nil
	case semantic.FnRound, semantic.FnFloor, semantic.FnCeiling:
		x := args[0]
		if x.Type.IsIntegral() {
			return x.SQL, nil
		}
		switch fn {
		case semantic.FnFloor:
			return "FLOOR(" + x.SQL + ")", nil
		case semantic.FnCeiling:
			return "CEILING(" + x.SQL + ")", nil
		}
		if x.Type == metadata.Decimal {
			return "ROUND(" + x.SQL + ")", nil // exact values round half away from zero
		}
		return "(CASE WHEN ABS(" + x.SQL + " - TRUNCATE(" + x.SQL + ", 0)) >= 0.5 THEN TRUNCATE(" + x.SQL + ", 0) + SIGN(" + x.SQL +
			") ELSE TRUNCATE(" + x.SQL + ", 0) END)", nil
	}
	return "", sqlgen.NotImplemented("function %s with %d arguments is not supported on MySQL", fn, len(args))
}

// bin collates a string expression binary without padding (columns
// already are; parameters and function results take the connection's
// collation, which is the same, but an explicit one wins over a column's
// implicit one in every combination).
func (d *dialect) bin(o sqlgen.Operand) string {
	s := o.SQL
	if o.Prop != nil && stringColumn(o.Prop) || strings.HasSuffix(s, " COLLATE "+d.collation+")") && strings.HasPrefix(s, "(") {
		return s // a column (see Column): exact already
	}
	return "(" + s + " COLLATE " + d.collation + ")"
}

func temporal(t metadata.Type) bool {
	return t == metadata.DateTimeOffset || t == metadata.Date || t == metadata.TimeOfDay
}

// dialectClamp renders a 0-based substring index or length clamped at 0
// (sqlgen clamps constants).
func dialectClamp(o sqlgen.Operand) string {
	if o.Const != nil {
		return o.SQL
	}
	return "(CASE WHEN " + o.SQL + " < 0 THEN 0 ELSE " + o.SQL + " END)"
}

// Match uses LIKE with an escaped pattern under the binary collation
// (case- and trailing-space-sensitive; LIKE never pads).
func (d *dialect) Match(ps *sqlgen.Params, fn semantic.Func, x sqlgen.Operand, pattern string) (string, error) {
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
	return d.bin(x) + ` LIKE ` + ps.Add(pat) + ` ESCAPE '\'`, nil
}

// Search folds case with LOWER on both sides (Unicode case folding,
// accents stay significant, like PostgreSQL's ILIKE).
func (*dialect) Search(ps *sqlgen.Params, x sqlgen.Operand, text string) (string, error) {
	if x.Type != metadata.String {
		return "", sqlgen.NotImplemented("$search on %s is not supported", x.Type.FullName())
	}
	return "LOWER(" + x.SQL + `) LIKE LOWER(` + ps.Add("%"+sqlgen.EscapeLike(text)+"%") + `) ESCAPE '\'`, nil
}

// OrderItem relies on MySQL's default: NULLs first ascending, last
// descending.
func (*dialect) OrderItem(x string, desc, _ bool) string {
	if desc {
		return x + " DESC"
	}
	return x
}

func (*dialect) LimitOffset(ps *sqlgen.Params, limit, offset int64) string {
	switch {
	case limit > 0 && offset > 0:
		return "LIMIT " + ps.Add(limit) + " OFFSET " + ps.Add(offset)
	case limit > 0:
		return "LIMIT " + ps.Add(limit)
	case offset > 0:
		return "LIMIT 18446744073709551615 OFFSET " + ps.Add(offset)
	}
	return ""
}

func (*dialect) SetDefault(*metadata.Property) string { return "DEFAULT" }

// NullBool is a NULL in a boolean position (MySQL has no BOOLEAN cast).
func (*dialect) NullBool() string { return "(NULL AND TRUE)" }

func (*dialect) DefaultValues() string { return "() VALUES ()" }

// Aggregate implements sqlgen.Aggregator: an average whose result is
// Edm.Double is computed in DOUBLE (AVG of an integer column is otherwise
// a DECIMAL rounded to div_precision_increment fractional digits). Other
// aggregates take the default form; the average of a DECIMAL column has
// the column's scale + div_precision_increment (30 in the adapter's
// sessions) fractional digits, at most 38 digits in all.
func (d *dialect) Aggregate(m semantic.AggMethod, t metadata.Type, arg *sqlgen.Operand) (string, bool) {
	if m == semantic.Average && t == metadata.Double {
		return "AVG(CAST(" + arg.SQL + " AS DOUBLE))", true
	}
	return "", false
}
