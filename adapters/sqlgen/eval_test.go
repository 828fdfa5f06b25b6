package sqlgen_test

import (
	"bytes"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// evaluator is an independent, in-memory reading of OData filter semantics
// over bound trees, written from the spec rather than from the SQL:
//
//   - every boolean expression is two-valued: a comparison (other than
//     eq/ne) or a string predicate with a null operand is false, and not()
//     negates that false; a null Boolean property used as a condition is
//     false;
//   - eq/ne compare null as a value;
//   - arithmetic and functions of null are null; division and modulo by
//     zero are null (the gateway's documented choice);
//   - integers divide truncating, mod has the sign of the dividend; round is
//     half away from zero; substring/indexof are 0-based over characters;
//     trim removes spaces; date/time parts are taken in UTC.
//
// asciiCase makes tolower/toupper fold ASCII letters only (SQLite's
// documented deviation).
type evaluator struct {
	asciiCase bool
	floatDiv  floatDiv
	now       time.Time
}

type row = map[*metadata.Property]semantic.Const

func null(t metadata.Type) semantic.Const { return semantic.Const{T: t, Null: true} }

func boolC(b bool) semantic.Const { return semantic.Const{T: metadata.Boolean, V: b} }

// test is the two-valued truth of a boolean expression.
func (ev *evaluator) test(e semantic.Expr, r row) bool {
	v := ev.eval(e, r)
	return !v.Null && v.V.(bool)
}

func (ev *evaluator) eval(e semantic.Expr, r row) semantic.Const {
	switch e := e.(type) {
	case *semantic.Prop:
		v := r[e.P]
		if e.P.FixedChar && !v.Null {
			v.V = strings.TrimRight(v.V.(string), " ")
		}
		return v
	case *semantic.Const:
		return *e
	case *semantic.Compare:
		l, rr := ev.eval(e.L, r), ev.eval(e.R, r)
		switch e.Op {
		case semantic.Eq, semantic.Ne:
			eq := l.Null && rr.Null || !l.Null && !rr.Null && compare(l, rr) == 0
			return boolC(eq == (e.Op == semantic.Eq))
		}
		if l.Null || rr.Null {
			return boolC(false)
		}
		n := compare(l, rr)
		switch e.Op {
		case semantic.Gt:
			return boolC(n > 0)
		case semantic.Ge:
			return boolC(n >= 0)
		case semantic.Lt:
			return boolC(n < 0)
		default:
			return boolC(n <= 0)
		}
	case *semantic.IsNull:
		return boolC(ev.eval(e.X, r).Null != e.Not)
	case *semantic.Logical:
		// OData 4.01 §5.1.1.1.7-8: null is unknown (Kleene logic).
		l, rr := ev.eval(e.L, r), ev.eval(e.R, r)
		lt, lf := !l.Null && l.V.(bool), !l.Null && !l.V.(bool)
		rt, rf := !rr.Null && rr.V.(bool), !rr.Null && !rr.V.(bool)
		if e.Or {
			switch {
			case lt || rt:
				return boolC(true)
			case lf && rf:
				return boolC(false)
			}
			return semantic.Const{T: metadata.Boolean, Null: true}
		}
		switch {
		case lf || rf:
			return boolC(false)
		case lt && rt:
			return boolC(true)
		}
		return semantic.Const{T: metadata.Boolean, Null: true}
	case *semantic.Not:
		// §5.1.1.1.9: not null is null.
		x := ev.eval(e.X, r)
		if x.Null {
			return x
		}
		return boolC(!x.V.(bool))
	case *semantic.In:
		x := ev.eval(e.X, r)
		if x.Null {
			return boolC(e.HasNull)
		}
		for _, v := range e.Values {
			if compare(x, v) == 0 {
				return boolC(true)
			}
		}
		return boolC(false)
	case *semantic.Arith:
		return ev.arith(e, ev.eval(e.L, r), ev.eval(e.R, r))
	case *semantic.Neg:
		x := ev.eval(e.X, r)
		if x.Null {
			return x
		}
		switch v := x.V.(type) {
		case int64:
			x.V = -v
		case float64:
			x.V = -v
		case string:
			x.V = new(big.Rat).Neg(rat(v)).FloatString(10)
		}
		return x
	case *semantic.Call:
		return ev.call(e, r)
	}
	panic(fmt.Sprintf("evaluator: %T", e))
}

func rat(s string) *big.Rat {
	q, ok := new(big.Rat).SetString(s)
	if !ok {
		panic("bad decimal " + s)
	}
	return q
}

// compare orders two non-null values of the same Edm type.
func compare(a, b semantic.Const) int {
	if a.T != b.T && a.T.IsNumeric() && b.T.IsNumeric() {
		// Mixed numeric operands (the binder may leave them mixed): compare
		// as doubles when either is floating, else exactly.
		if a.T == metadata.Double || a.T == metadata.Single || b.T == metadata.Double || b.T == metadata.Single {
			return compare(semantic.Const{T: metadata.Double, V: toFloat(a)}, semantic.Const{T: metadata.Double, V: toFloat(b)})
		}
		return toRat(a).Cmp(toRat(b))
	}
	switch x := a.V.(type) {
	case bool:
		y := b.V.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case int64:
		y := b.V.(int64)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case float64:
		y := b.V.(float64)
		switch {
		case math.IsNaN(x) || math.IsNaN(y): // PostgreSQL: NaN equals NaN and sorts above every number
			switch {
			case math.IsNaN(x) && math.IsNaN(y):
				return 0
			case math.IsNaN(x):
				return 1
			}
			return -1
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	case string:
		if a.T == metadata.Decimal {
			return rat(x).Cmp(rat(b.V.(string)))
		}
		return strings.Compare(x, b.V.(string))
	case []byte:
		return bytes.Compare(x, b.V.([]byte))
	case time.Time:
		return x.Compare(b.V.(time.Time))
	case time.Duration:
		y := b.V.(time.Duration)
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	panic(fmt.Sprintf("compare %T", a.V))
}

func (ev *evaluator) arith(e *semantic.Arith, l, r semantic.Const) semantic.Const {
	if l.Null || r.Null {
		return null(e.T)
	}
	switch e.T {
	case metadata.Double, metadata.Single:
		x, y := toFloat(l), toFloat(r)
		switch e.Op {
		case semantic.Add:
			return semantic.Const{T: e.T, V: x + y}
		case semantic.Sub:
			return semantic.Const{T: e.T, V: x - y}
		case semantic.Mul:
			return semantic.Const{T: e.T, V: x * y}
		case semantic.Div, semantic.DivBy:
			if y == 0 {
				return ev.divByZero(e.T, x)
			}
			return semantic.Const{T: e.T, V: x / y}
		}
	case metadata.Decimal:
		x, y := toRat(l), toRat(r)
		var z big.Rat
		switch e.Op {
		case semantic.Add:
			z.Add(x, y)
		case semantic.Sub:
			z.Sub(x, y)
		case semantic.Mul:
			z.Mul(x, y)
		case semantic.Div, semantic.DivBy:
			// Exact quotient: only exact divisions are generated (PostgreSQL
			// rounds non-terminating quotients).
			if y.Sign() == 0 {
				return null(e.T)
			}
			z.Quo(x, y)
		default:
			panic("decimal " + e.Op.String() + " is not generated")
		}
		return semantic.Const{T: e.T, V: z.FloatString(12)}
	default:
		x, y := l.V.(int64), r.V.(int64)
		switch e.Op {
		case semantic.Add:
			return semantic.Const{T: e.T, V: x + y}
		case semantic.Sub:
			return semantic.Const{T: e.T, V: x - y}
		case semantic.Mul:
			return semantic.Const{T: e.T, V: x * y}
		case semantic.Div:
			if y == 0 {
				return null(e.T)
			}
			return semantic.Const{T: e.T, V: x / y} // Go truncates toward zero
		case semantic.Mod:
			if y == 0 {
				return null(e.T)
			}
			return semantic.Const{T: e.T, V: x % y} // sign of the dividend
		}
	}
	panic("arith " + e.Op.String() + " on " + string(e.T))
}

// divByZero is x divided by zero as the engine computes it: IEEE 754
// where it can (the sign of x, compared the engine's way: PostgreSQL's NaN
// is above every number), else null.
func (ev *evaluator) divByZero(t metadata.Type, x float64) semantic.Const {
	pos := math.IsNaN(x) || x > 0
	switch {
	case ev.floatDiv == divToNull:
		return null(t)
	case pos:
		return semantic.Const{T: t, V: math.Inf(1)}
	case x < 0:
		return semantic.Const{T: t, V: math.Inf(-1)}
	case ev.floatDiv == divNoNaN:
		return null(t)
	}
	return semantic.Const{T: t, V: math.NaN()}
}

func toFloat(c semantic.Const) float64 {
	switch v := c.V.(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	case string:
		f, _ := rat(v).Float64()
		return f
	}
	panic("toFloat")
}

func toRat(c semantic.Const) *big.Rat {
	switch v := c.V.(type) {
	case int64:
		return new(big.Rat).SetInt64(v)
	case string:
		return rat(v)
	}
	panic("toRat")
}

func (ev *evaluator) call(e *semantic.Call, r row) semantic.Const {
	switch e.Fn {
	case semantic.FnNow:
		return semantic.Const{T: metadata.DateTimeOffset, V: ev.now}
	}
	args := make([]semantic.Const, len(e.Args))
	for i, a := range e.Args {
		args[i] = ev.eval(a, r)
		if args[i].Null {
			return null(e.T) // functions of null are null, boolean ones too
		}
	}
	str := func(i int) string { return args[i].V.(string) }
	num := func(i int) int64 { return args[i].V.(int64) }
	switch e.Fn {
	case semantic.FnContains:
		return boolC(strings.Contains(str(0), str(1)))
	case semantic.FnStartsWith:
		return boolC(strings.HasPrefix(str(0), str(1)))
	case semantic.FnEndsWith:
		return boolC(strings.HasSuffix(str(0), str(1)))
	case semantic.FnLength:
		return semantic.Const{T: e.T, V: int64(utf8.RuneCountInString(str(0)))}
	case semantic.FnIndexOf:
		i := strings.Index(str(0), str(1))
		if i >= 0 {
			i = utf8.RuneCountInString(str(0)[:i])
		}
		return semantic.Const{T: e.T, V: int64(i)}
	case semantic.FnSubstring:
		rs := []rune(str(0))
		start := max(0, num(1))
		if start > int64(len(rs)) {
			start = int64(len(rs))
		}
		end := int64(len(rs))
		if len(args) == 3 {
			end = min(end, start+max(0, num(2)))
		}
		return semantic.Const{T: e.T, V: string(rs[start:end])}
	case semantic.FnToLower, semantic.FnToUpper:
		up := e.Fn == semantic.FnToUpper
		if !ev.asciiCase {
			if up {
				return semantic.Const{T: e.T, V: strings.ToUpper(str(0))}
			}
			return semantic.Const{T: e.T, V: strings.ToLower(str(0))}
		}
		b := []byte(str(0))
		for i, ch := range b {
			if up && ch >= 'a' && ch <= 'z' {
				b[i] = ch - 32
			} else if !up && ch >= 'A' && ch <= 'Z' {
				b[i] = ch + 32
			}
		}
		return semantic.Const{T: e.T, V: string(b)}
	case semantic.FnTrim:
		return semantic.Const{T: e.T, V: strings.Trim(str(0), " ")}
	case semantic.FnConcat:
		return semantic.Const{T: e.T, V: str(0) + str(1)}
	case semantic.FnYear, semantic.FnMonth, semantic.FnDay, semantic.FnHour, semantic.FnMinute, semantic.FnSecond,
		semantic.FnFractionalSeconds, semantic.FnDate, semantic.FnTime, semantic.FnTotalOffsetMinutes:
		var t time.Time
		switch v := args[0].V.(type) {
		case time.Time:
			t = v.UTC()
		case time.Duration:
			t = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(v)
		}
		i := func(n int) semantic.Const { return semantic.Const{T: e.T, V: int64(n)} }
		switch e.Fn {
		case semantic.FnYear:
			return i(t.Year())
		case semantic.FnMonth:
			return i(int(t.Month()))
		case semantic.FnDay:
			return i(t.Day())
		case semantic.FnHour:
			return i(t.Hour())
		case semantic.FnMinute:
			return i(t.Minute())
		case semantic.FnSecond:
			return i(t.Second())
		case semantic.FnTotalOffsetMinutes:
			return i(0)
		case semantic.FnFractionalSeconds:
			return semantic.Const{T: metadata.Decimal, V: new(big.Rat).SetFrac64(int64(t.Nanosecond()/1000), 1000000).FloatString(6)}
		case semantic.FnDate:
			return semantic.Const{T: metadata.Date, V: time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)}
		case semantic.FnTime:
			return semantic.Const{T: metadata.TimeOfDay, V: t.Sub(time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC))}
		}
	case semantic.FnRound, semantic.FnFloor, semantic.FnCeiling:
		switch v := args[0].V.(type) {
		case int64:
			return args[0]
		case float64:
			switch e.Fn {
			case semantic.FnFloor:
				v = math.Floor(v)
			case semantic.FnCeiling:
				v = math.Ceil(v)
			default:
				v = math.Round(v) // half away from zero
			}
			return semantic.Const{T: e.T, V: v}
		case string:
			q := rat(v)
			fl := new(big.Int).Quo(q.Num(), q.Denom()) // truncated toward zero
			tr := new(big.Rat).SetInt(fl)
			frac := new(big.Rat).Sub(q, tr)
			switch e.Fn {
			case semantic.FnFloor:
				if frac.Sign() < 0 {
					tr.Sub(tr, big.NewRat(1, 1))
				}
			case semantic.FnCeiling:
				if frac.Sign() > 0 {
					tr.Add(tr, big.NewRat(1, 1))
				}
			default:
				if new(big.Rat).Abs(frac).Cmp(big.NewRat(1, 2)) >= 0 {
					tr.Add(tr, big.NewRat(int64(frac.Sign()), 1))
				}
			}
			return semantic.Const{T: e.T, V: tr.FloatString(0)}
		}
	}
	panic("evaluator: function " + string(e.Fn))
}

// orderLess compares two rows by a total order, NULLs lowest.
func (ev *evaluator) orderLess(order []semantic.Order, a, b row) bool {
	for _, o := range order {
		x, y := ev.eval(o.Expr, a), ev.eval(o.Expr, b)
		n := 0
		switch {
		case x.Null && y.Null:
		case x.Null:
			n = -1
		case y.Null:
			n = 1
		default:
			n = compare(x, y)
		}
		if o.Desc {
			n = -n
		}
		if n != 0 {
			return n < 0
		}
	}
	return false
}

func (ev *evaluator) sorted(order []semantic.Order, rows []row) []row {
	out := append([]row(nil), rows...)
	sort.SliceStable(out, func(i, j int) bool { return ev.orderLess(order, out[i], out[j]) })
	return out
}
