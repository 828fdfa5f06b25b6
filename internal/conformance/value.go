package conformance

import (
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/metadata/csdl"
)

// kind groups Edm types by how the checker compares them.
type kind int

const (
	kindNone kind = iota // not compared (Binary, Duration, unsupported)
	kindString
	kindGuid
	kindNumber
	kindBool
	kindDate
	kindDateTime
	kindTime
)

func kindOf(p *csdl.Property) kind {
	switch p.Edm {
	case metadata.String:
		return kindString
	case metadata.Guid:
		return kindGuid
	case metadata.Boolean:
		return kindBool
	case metadata.Date:
		return kindDate
	case metadata.DateTimeOffset:
		return kindDateTime
	case metadata.TimeOfDay:
		return kindTime
	}
	if p.Edm.IsNumeric() {
		return kindNumber
	}
	return kindNone
}

// filterable reports whether Salesforce can filter and sort on p: a mapped
// comparable type, and not a Long Text Area string.
func filterable(p *csdl.Property) bool {
	k := kindOf(p)
	if k == kindNone || k == kindTime {
		return false
	}
	if k == kindString && (p.MaxLength > 255 || p.MaxLength < 0) {
		return false
	}
	return true
}

// ranged reports whether gt/ge/lt/le are checked on p.
func ranged(p *csdl.Property) bool {
	switch kindOf(p) {
	case kindNumber, kindDate, kindDateTime:
		return true
	}
	return false
}

// rat parses a JSON number (or, with IEEE754Compatible, a numeric string).
func rat(v any) (*big.Rat, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	case string:
		s = x
	default:
		return nil, fmt.Errorf("%v is not a number", show(v))
	}
	switch s { // OData's special Double/Single values, ordered as in IEEE 754
	case "INF":
		return new(big.Rat).SetFrac(new(big.Int).Exp(big.NewInt(10), big.NewInt(400), nil), big.NewInt(1)), nil
	case "-INF":
		return new(big.Rat).SetFrac(new(big.Int).Exp(big.NewInt(10), big.NewInt(400), nil), big.NewInt(-1)), nil
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a number", s)
	}
	return r, nil
}

func str(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%v is not a string", show(v))
	}
	return s, nil
}

func parseDate(v any) (string, error) {
	s, err := str(v)
	if err != nil {
		return "", err
	}
	if _, err := time.Parse("2006-01-02", s); err != nil {
		return "", fmt.Errorf("%q is not an Edm.Date (YYYY-MM-DD)", s)
	}
	return s, nil
}

func parseDateTime(v any) (time.Time, error) {
	s, err := str(v)
	if err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an Edm.DateTimeOffset", s)
	}
	return t, nil
}

// compare orders two non-null values of p's type: <0, 0, >0. Strings
// compare byte by byte; Guids case-insensitively; numbers exactly.
func compare(p *csdl.Property, a, b any) (int, error) {
	switch kindOf(p) {
	case kindString, kindTime:
		x, err := str(a)
		if err != nil {
			return 0, err
		}
		y, err := str(b)
		if err != nil {
			return 0, err
		}
		return strings.Compare(x, y), nil
	case kindGuid:
		x, err := str(a)
		if err != nil {
			return 0, err
		}
		y, err := str(b)
		if err != nil {
			return 0, err
		}
		return strings.Compare(strings.ToLower(x), strings.ToLower(y)), nil
	case kindNumber:
		x, err := rat(a)
		if err != nil {
			return 0, err
		}
		y, err := rat(b)
		if err != nil {
			return 0, err
		}
		return x.Cmp(y), nil
	case kindBool:
		x, ok1 := a.(bool)
		y, ok2 := b.(bool)
		if !ok1 || !ok2 {
			return 0, fmt.Errorf("%v / %v: not booleans", show(a), show(b))
		}
		switch {
		case x == y:
			return 0, nil
		case !x:
			return -1, nil
		}
		return 1, nil
	case kindDate:
		x, err := parseDate(a)
		if err != nil {
			return 0, err
		}
		y, err := parseDate(b)
		if err != nil {
			return 0, err
		}
		return strings.Compare(x, y), nil
	case kindDateTime:
		x, err := parseDateTime(a)
		if err != nil {
			return 0, err
		}
		y, err := parseDateTime(b)
		if err != nil {
			return 0, err
		}
		return x.Compare(y), nil
	}
	return 0, fmt.Errorf("type %s is not compared", p.Type)
}

// literal renders a JSON value of p's type as an OData URL literal:
// quoted strings with embedded quotes doubled, 42, 100.50, true,
// 2024-01-15, 2024-01-15T10:30:00Z (date-times normalised to UTC).
func literal(p *csdl.Property, v any) (string, error) {
	if v == nil {
		return "null", nil
	}
	switch kindOf(p) {
	case kindString:
		s, err := str(v)
		if err != nil {
			return "", err
		}
		return "'" + strings.ReplaceAll(s, "'", "''") + "'", nil
	case kindGuid, kindTime:
		return str(v)
	case kindNumber:
		r, err := rat(v)
		if err != nil {
			return "", err
		}
		s := fmt.Sprint(v)
		if p.Edm == metadata.Decimal || p.Edm.IsIntegral() {
			if strings.ContainsAny(s, "eE") {
				if r.IsInt() {
					return r.Num().String(), nil
				}
				f, _ := new(big.Float).SetPrec(200).SetRat(r).Float64()
				return fmt.Sprint(f), nil
			}
		}
		return s, nil
	case kindBool:
		b, ok := v.(bool)
		if !ok {
			return "", fmt.Errorf("%v is not a boolean", show(v))
		}
		return fmt.Sprint(b), nil
	case kindDate:
		return parseDate(v)
	case kindDateTime:
		t, err := parseDateTime(v)
		if err != nil {
			return "", err
		}
		return t.UTC().Format(time.RFC3339Nano), nil
	}
	return "", fmt.Errorf("no literal for type %s", p.Type)
}

// show prints a value for a report, strings quoted so that padding shows.
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", x)
	}
	return fmt.Sprint(v)
}

// expr is a $filter expression the checker both sends and evaluates, so
// that every returned row can be verified in Go. Evaluation follows OData
// 4.0: eq/ne treat null as a value (null eq null is true, null ne 'x' is
// true); gt/ge/lt/le and the string functions are false on null; not
// negates. The checker only builds not() around eq, where SQL's three-valued
// NOT and OData agree on what a correct producer must return.
type expr interface {
	String() string
	eval(row map[string]any) (bool, error)
}

type cmpExpr struct {
	p   *csdl.Property
	op  string // eq ne gt ge lt le
	v   any    // nil = null
	lit string // literal override (e.g. a date-time literal against Edm.Date)
}

func (e *cmpExpr) String() string {
	lit := e.lit
	if lit == "" {
		lit, _ = literal(e.p, e.v)
	}
	return e.p.Name + " " + e.op + " " + lit
}

func (e *cmpExpr) eval(row map[string]any) (bool, error) {
	rv, ok := row[e.p.Name]
	if !ok {
		return false, fmt.Errorf("row lacks property %s", e.p.Name)
	}
	if e.v == nil || rv == nil {
		both := e.v == nil && rv == nil
		switch e.op {
		case "eq":
			return both, nil
		case "ne":
			return !both, nil
		}
		return false, nil
	}
	c, err := compare(e.p, rv, e.v)
	if err != nil {
		return false, err
	}
	switch e.op {
	case "eq":
		return c == 0, nil
	case "ne":
		return c != 0, nil
	case "gt":
		return c > 0, nil
	case "ge":
		return c >= 0, nil
	case "lt":
		return c < 0, nil
	case "le":
		return c <= 0, nil
	}
	return false, fmt.Errorf("unknown operator %s", e.op)
}

type fnExpr struct {
	fn  string // startswith endswith contains
	p   *csdl.Property
	arg string
}

func (e *fnExpr) String() string {
	return fmt.Sprintf("%s(%s,'%s')", e.fn, e.p.Name, strings.ReplaceAll(e.arg, "'", "''"))
}

func (e *fnExpr) eval(row map[string]any) (bool, error) { return e.match(row, false) }

// match evaluates the function, optionally ignoring case (to recognise a
// producer that matches case-insensitively).
func (e *fnExpr) match(row map[string]any, fold bool) (bool, error) {
	rv, ok := row[e.p.Name]
	if !ok {
		return false, fmt.Errorf("row lacks property %s", e.p.Name)
	}
	if rv == nil {
		return false, nil
	}
	s, err := str(rv)
	if err != nil {
		return false, err
	}
	arg := e.arg
	if fold {
		s, arg = strings.ToLower(s), strings.ToLower(arg)
	}
	switch e.fn {
	case "startswith":
		return strings.HasPrefix(s, arg), nil
	case "endswith":
		return strings.HasSuffix(s, arg), nil
	case "contains":
		return strings.Contains(s, arg), nil
	}
	return false, fmt.Errorf("unknown function %s", e.fn)
}

type logicExpr struct {
	op   string // and or
	l, r expr
}

func (e *logicExpr) String() string {
	return "(" + e.l.String() + " " + e.op + " " + e.r.String() + ")"
}

func (e *logicExpr) eval(row map[string]any) (bool, error) {
	l, err := e.l.eval(row)
	if err != nil {
		return false, err
	}
	r, err := e.r.eval(row)
	if err != nil {
		return false, err
	}
	if e.op == "and" {
		return l && r, nil
	}
	return l || r, nil
}

type notExpr struct{ e expr }

func (e *notExpr) String() string { return "not (" + e.e.String() + ")" }

func (e *notExpr) eval(row map[string]any) (bool, error) {
	v, err := e.e.eval(row)
	return !v, err
}
