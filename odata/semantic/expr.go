package semantic

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// Typing rules (the contract sqlgen relies on):
//
//   - Identifiers resolve case-sensitively to *Prop; a case-only mismatch
//     gets a "did you mean" hint. Paths through to-one navigation are
//     *ToOne, lambda operators *Exists, properties of an enclosing
//     entity inside a lambda *Outer (nav.go); other paths with '/' are 400.
//   - Literals have a natural type (integer: Int32, Int64, then Decimal;
//     1.5: Decimal; 1e5/INF/NaN: Double) and adapt to the operand they meet:
//     5 against Edm.Decimal is Decimal 5, 1.5 against Edm.Double is Double,
//     300 against Edm.Byte stays Int32 (it does not fit). A string literal
//     meeting Edm.Guid must be a guid; a date-time literal meeting Edm.Date is
//     its UTC date; a date literal meeting Edm.DateTimeOffset is midnight UTC.
//   - Compare operands have the same type, except that numeric operands may
//     mix numeric types (a property is never wrapped in a conversion; the
//     backend compares numbers across types). Edm.Date against a
//     DateTimeOffset expression compares with date(expr).
//   - Comparisons with a null literal become IsNull (eq/ne) or constant
//     false (gt/ge/lt/le); null eq null is true. No Compare has a null operand.
//   - f(...) eq true becomes f(...) and (every argument is not null);
//     f(...) eq false becomes not f(...) and (every argument is not null), for
//     boolean canonical functions: eq is two-valued (null eq true is false,
//     also under not), while f itself is null when an argument is null.
//   - Sub-microsecond constants: both backends store DateTimeOffset and
//     TimeOfDay at microsecond precision, so a comparison of a non-constant
//     X with a constant C that has a non-zero part finer than a microsecond
//     is rewritten with c = C truncated to the microsecond: X gt C and
//     X ge C become X gt c; X le C and X lt C become X le c; X eq C is
//     false and X ne C is true (no stored value equals C; ne is
//     two-valued). Operators are mirrored when C is on the left. Such
//     values are dropped from in lists.
//   - now() (truncated to the microsecond), maxdatetime() and mindatetime()
//     are folded to constants.
//   - Arithmetic promotes numeric operands. A literal written with a
//     fraction or exponent (2.0, 2e0) is never narrowed to an integer type
//     as an arithmetic operand: the integer operand is promoted instead
//     (Qty div 2.0 is Decimal 2.5, Qty div 2e0 is Double). Arithmetic on
//     integer operands has type Int64 whatever their width (both backends
//     compute it in 64 bits; an Int32 product may leave the Int32 range).
//     div of integers is integer division, divby is Decimal (Double for
//     floating operands). Temporal
//     arithmetic: DateTimeOffset add/sub Duration, DateTimeOffset sub
//     DateTimeOffset (Duration). Arithmetic with null is a typed null.
//   - in: items are constants converted to X's type; numeric items that can
//     never equal a value of X's type are dropped; null sets HasNull.
//   - Function arguments that are null become Const{Null, T: parameter type}.

// binder binds the expressions of one query option against one entity set.
// It counts syntax nodes and nesting depth across everything it binds, so one
// binder is used per option ($filter, $orderby, ...).
type binder struct {
	set    *metadata.EntitySet
	option string
	lim    Limits
	// params are the named placeholders of BindFilter (nil for Bind). When
	// set, an alias is looked up here first and an alias without a value is
	// an error rather than null.
	params map[string]Const
	nodes  int
	// hidden are properties unknown to the caller (a set reached through
	// navigation, see Access): named, they are unknown properties.
	hidden map[string]bool
	// inExpand: the expression is a nested option of $expand, where $it
	// would be the outer entity (URL Conventions §5.1.2), not supported.
	inExpand bool
	// access is asked about the sets reached through navigation (nil: all
	// visible); noNav refuses navigation altogether (BindFilter).
	access      Access
	noNav       bool
	scopes      []scope // see nav.go; empty until a path is bound
	lambdas     int     // lambda operators around the expression being bound
	reachedSets map[*metadata.EntitySet]reached
	// scope, when set, resolves property paths against the result of an
	// aggregation ($apply) instead of the set.
	scope *Apply
	// computed are the properties of $compute: their aliases stand for
	// their expressions ($filter, $orderby).
	computed []*Computed
}

// operand is a bound expression plus what the typing rules need to know
// about its origin.
type operand struct {
	e Expr
	// lit is the literal e came from; such a constant has its natural type
	// and adapts to the type of the operand it meets (see convertTo).
	lit *odata.Literal
	// text is set for a String parameter of BindFilter: it converts to the
	// other operand's type like literal text.
	text *string
	span odata.Span
}

func (o operand) flexible() bool { return o.lit != nil || o.text != nil }

func (o operand) isNull() bool {
	c, ok := o.e.(*Const)
	return ok && c.Null
}

// typeName is the type for messages ("null" for an untyped null).
func (o operand) typeName() string {
	if t := o.e.Type(); t != "" {
		return t.FullName()
	}
	return "null"
}

var errIncompatible = errors.New("incompatible types")

func (b *binder) errorf(kind ErrorKind, span odata.Span, format string, args ...any) *Error {
	return &Error{Kind: kind, Option: b.option, Span: span, Msg: fmt.Sprintf(format, args...)}
}

func (b *binder) badf(span odata.Span, format string, args ...any) *Error {
	return b.errorf(BadRequest, span, format, args...)
}

// enter counts one syntax node at the given depth against the limits.
func (b *binder) enter(span odata.Span, depth int) error {
	if depth > b.lim.MaxDepth {
		return b.errorf(LimitExceeded, span, "%s exceeds the maximum nesting depth of %d", b.option, b.lim.MaxDepth)
	}
	b.nodes++
	if b.nodes > b.lim.MaxNodes {
		return b.errorf(LimitExceeded, span, "%s exceeds the maximum of %d expression nodes", b.option, b.lim.MaxNodes)
	}
	return nil
}

// boolExpr binds a whole boolean expression ($filter, a restriction).
func (b *binder) boolExpr(e odata.Expr) (Expr, error) {
	o, err := b.operand(e, 1)
	if err != nil {
		return nil, err
	}
	if o.isNull() {
		// "$filter=null" selects nothing: null is not true.
		return &Const{T: metadata.Boolean, V: false}, nil
	}
	if t := o.e.Type(); t != metadata.Boolean {
		return nil, b.badf(o.span, "%s must be a Boolean expression, not %s", b.option, t.FullName())
	}
	return o.e, nil
}

// operand binds one expression node.
func (b *binder) operand(e odata.Expr, depth int) (operand, error) {
	if e == nil {
		return operand{}, b.badf(odata.Span{}, "missing expression")
	}
	span := e.Pos()
	if err := b.enter(span, depth); err != nil {
		return operand{}, err
	}
	switch n := e.(type) {
	case *odata.Literal:
		return b.literal(n)
	case *odata.Ident:
		return b.path(n)
	case *odata.Alias:
		return b.alias(n, depth)
	case *odata.Binary:
		return b.binary(n, depth)
	case *odata.Unary:
		return b.unary(n, depth)
	case *odata.Call:
		return b.call(n, depth)
	case *odata.In:
		return b.in(n, depth)
	case *odata.Lambda:
		return b.lambda(n, depth)
	}
	return operand{}, b.errorf(NotImplemented, span, "expression %T is not supported", e)
}

func (b *binder) literal(n *odata.Literal) (operand, error) {
	switch n.Kind {
	case odata.EnumLit:
		return operand{}, b.errorf(NotImplemented, n.Span, "enumeration literals are not supported: the model has no enumeration types")
	case odata.GeoLit:
		return operand{}, b.errorf(NotImplemented, n.Span, "geography and geometry literals are not supported")
	}
	c, err := literalConst(n)
	if err != nil {
		return operand{}, b.badf(n.Span, "invalid %s literal %s: %v", n.Kind, n.Raw, err)
	}
	return operand{e: c, lit: n, span: n.Span}, nil
}

func (b *binder) alias(n *odata.Alias, depth int) (operand, error) {
	if b.params != nil {
		if c, ok := b.params[n.Name]; ok {
			c := c
			o := operand{e: &c, span: n.Span}
			if !c.Null && c.T == metadata.String {
				if s, ok := c.V.(string); ok {
					o.text = &s
				}
			}
			if c.Null && c.T == "" {
				o.lit = &odata.Literal{Span: n.Span, Kind: odata.NullLit, Raw: "null", Value: "null"}
			}
			return o, nil
		}
		if n.Value == nil {
			return operand{}, b.badf(n.Span, "parameter @%s has no value", n.Name)
		}
	}
	if n.Value == nil {
		// An alias without a value is null (URL Conventions 5.1.1.14).
		null := &odata.Literal{Span: n.Span, Kind: odata.NullLit, Raw: "null", Value: "null"}
		return operand{e: &Const{Null: true}, lit: null, span: n.Span}, nil
	}
	o, err := b.operand(n.Value, depth+1)
	if err != nil {
		var be *Error
		if errors.As(err, &be) && be.Option == b.option && be.Kind != LimitExceeded {
			// The span is within the alias's own value.
			be.Option = "@" + n.Name
		}
		return operand{}, err
	}
	o.span = n.Span
	return o, nil
}

var cmpOps = map[odata.BinaryOp]CmpOp{
	odata.OpEq: Eq, odata.OpNe: Ne, odata.OpGt: Gt, odata.OpGe: Ge, odata.OpLt: Lt, odata.OpLe: Le,
}

var arithOps = map[odata.BinaryOp]ArithOp{
	odata.OpAdd: Add, odata.OpSub: Sub, odata.OpMul: Mul, odata.OpDiv: Div, odata.OpDivBy: DivBy, odata.OpMod: Mod,
}

func (b *binder) binary(n *odata.Binary, depth int) (operand, error) {
	if n.Op == odata.OpHas {
		return operand{}, b.errorf(NotImplemented, n.Span, "operator has is not supported: the model has no enumeration types")
	}
	// A chain of one operator (a or b or c ...) is one nesting level: the
	// left-associative spine does not count as depth.
	xDepth := depth + 1
	if xb, ok := n.X.(*odata.Binary); ok && xb.Op == n.Op {
		xDepth = depth
	}
	x, err := b.operand(n.X, xDepth)
	if err != nil {
		return operand{}, err
	}
	y, err := b.operand(n.Y, depth+1)
	if err != nil {
		return operand{}, err
	}
	var e Expr
	switch {
	case n.Op == odata.OpAnd || n.Op == odata.OpOr:
		l, err := b.boolOperand(x, n.Op.String())
		if err != nil {
			return operand{}, err
		}
		r, err := b.boolOperand(y, n.Op.String())
		if err != nil {
			return operand{}, err
		}
		e = &Logical{Or: n.Op == odata.OpOr, L: l, R: r}
		if n.Op == odata.OpOr {
			e = mergeEqualities(l, r, e)
		}
	case n.Op.IsComparison():
		e, err = b.compare(n, cmpOps[n.Op], x, y)
	case n.Op.IsArithmetic():
		e, err = b.arith(n, arithOps[n.Op], x, y)
	default:
		err = b.errorf(NotImplemented, n.Span, "operator %s is not supported", n.Op)
	}
	if err != nil {
		return operand{}, err
	}
	return operand{e: e, span: n.Span}, nil
}

// boolOperand checks an operand of and/or/not.
func (b *binder) boolOperand(o operand, op string) (Expr, error) {
	if o.isNull() {
		return &Const{T: metadata.Boolean, Null: true}, nil
	}
	if t := o.e.Type(); t != metadata.Boolean {
		return nil, b.badf(o.span, "operator %s needs Edm.Boolean operands, not %s", op, t.FullName())
	}
	return o.e, nil
}

func (b *binder) unary(n *odata.Unary, depth int) (operand, error) {
	x, err := b.operand(n.X, depth+1)
	if err != nil {
		return operand{}, err
	}
	if n.Op == odata.OpNot {
		e, err := b.boolOperand(x, "not")
		if err != nil {
			return operand{}, err
		}
		return operand{e: &Not{X: e}, span: n.Span}, nil
	}
	// Unary minus.
	if x.isNull() {
		return x, nil
	}
	if x.lit != nil {
		if neg := negateLiteral(x.lit, n.Span); neg != nil {
			return b.literal(neg)
		}
	}
	t := x.e.Type()
	if !t.IsNumeric() && t != metadata.Duration {
		return operand{}, b.badf(n.Span, "operator - is not defined for %s", t.FullName())
	}
	return operand{e: &Neg{X: x.e}, span: n.Span}, nil
}

// negateLiteral returns the literal with its sign flipped, or nil when the
// literal is not numeric or a duration.
func negateLiteral(l *odata.Literal, span odata.Span) *odata.Literal {
	switch l.Kind {
	case odata.IntLit, odata.DecimalLit, odata.DoubleLit, odata.DurationLit:
	default:
		return nil
	}
	raw := literalText(l)
	if strings.EqualFold(raw, "NaN") {
		return &odata.Literal{Span: span, Kind: l.Kind, Raw: raw, Value: raw}
	}
	switch {
	case strings.HasPrefix(raw, "-"):
		raw = raw[1:]
	case strings.HasPrefix(raw, "+"):
		raw = "-" + raw[1:]
	default:
		raw = "-" + raw
	}
	return &odata.Literal{Span: span, Kind: l.Kind, Raw: raw, Value: raw}
}

// convertible reports whether a constant of type from may be converted to
// type to when it meets an operand of that type.
func convertible(from, to metadata.Type) bool {
	switch {
	case from == to:
		return true
	case from.IsNumeric() && to.IsNumeric():
		return true
	case from == metadata.String && to == metadata.Guid:
		return true
	case (from == metadata.Date || from == metadata.DateTimeOffset) && (to == metadata.Date || to == metadata.DateTimeOffset):
		return true
	}
	return false
}

// convertTo adapts a flexible operand (literal or String parameter) to type
// t. A numeric value that does not fit t keeps its natural type (the caller
// compares mixed numeric types); a fixed operand is returned unchanged.
// It returns errIncompatible when no conversion applies, or a message error
// when the text is not a valid value of t.
func convertTo(o operand, t metadata.Type) (Expr, error) {
	src := o.e.Type()
	if src == t || o.isNull() {
		return o.e, nil
	}
	var text string
	switch {
	case o.lit != nil:
		if !convertible(src, t) {
			return nil, errIncompatible
		}
		text = literalText(o.lit)
	case o.text != nil:
		text = *o.text
	default:
		return o.e, nil
	}
	v, err := parseValue(text, t)
	if errors.Is(err, errNotRepresentable) {
		return o.e, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s is not a valid %s", quoteText(text), t.FullName())
	}
	return &Const{T: t, V: v}, nil
}

func quoteText(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// promote returns the wider of two numeric types in the order
// Byte < SByte < Int16 < Int32 < Int64 < Decimal < Single < Double.
func promote(a, b metadata.Type) metadata.Type {
	if numericRank(a) >= numericRank(b) {
		return a
	}
	return b
}

func numericRank(t metadata.Type) int {
	switch t {
	case metadata.Byte:
		return 1
	case metadata.SByte:
		return 2
	case metadata.Int16:
		return 3
	case metadata.Int32:
		return 4
	case metadata.Int64:
		return 5
	case metadata.Decimal:
		return 6
	case metadata.Single:
		return 7
	case metadata.Double:
		return 8
	}
	return 0
}

// unify converts two non-null operands to comparable types. Flexible
// operands adapt to the other side; numeric types may remain mixed (the
// constant side takes the promoted type when it cannot take the other's);
// an Edm.Date meets an Edm.DateTimeOffset on its date part.
func unify(x, y operand) (Expr, Expr, error) {
	xt, yt := x.e.Type(), y.e.Type()
	var l, r Expr
	var err error
	switch {
	case x.flexible() && y.flexible():
		if xt.IsNumeric() && yt.IsNumeric() {
			t := promote(xt, yt)
			if l, err = convertTo(x, t); err != nil {
				return nil, nil, err
			}
			if r, err = convertTo(y, t); err != nil {
				return nil, nil, err
			}
			break
		}
		l = x.e
		if r, err = convertTo(y, xt); err != nil {
			r = y.e
			if l, err = convertTo(x, yt); err != nil {
				return nil, nil, err
			}
		}
	case x.flexible():
		r = y.e
		if l, err = convertTo(x, yt); err != nil {
			return nil, nil, err
		}
	case y.flexible():
		l = x.e
		if r, err = convertTo(y, xt); err != nil {
			return nil, nil, err
		}
	default:
		l, r = x.e, y.e
	}
	return fixedCompat(l, r)
}

// fixedCompat checks that two bound operands can be compared.
func fixedCompat(l, r Expr) (Expr, Expr, error) {
	lt, rt := l.Type(), r.Type()
	switch {
	case lt == rt:
		return l, r, nil
	case lt.IsNumeric() && rt.IsNumeric():
		return l, r, nil
	case lt == metadata.Date && rt == metadata.DateTimeOffset:
		return l, toDate(r), nil
	case lt == metadata.DateTimeOffset && rt == metadata.Date:
		return toDate(l), r, nil
	}
	return nil, nil, errIncompatible
}

// toDate converts a DateTimeOffset expression to its UTC date.
func toDate(e Expr) Expr {
	if c, ok := e.(*Const); ok && !c.Null {
		if t, ok := c.V.(time.Time); ok {
			return &Const{T: metadata.Date, V: truncateToDate(t)}
		}
	}
	return &Call{Fn: FnDate, Args: []Expr{e}, T: metadata.Date}
}

func (b *binder) compare(n *odata.Binary, op CmpOp, x, y operand) (Expr, error) {
	xn, yn := x.isNull(), y.isNull()
	switch {
	case xn && yn:
		return &Const{T: metadata.Boolean, V: op == Eq}, nil
	case xn || yn:
		z := x
		if xn {
			z = y
		}
		if op != Eq && op != Ne {
			// Ordering comparisons with null are false.
			return &Const{T: metadata.Boolean, V: false}, nil
		}
		if c, ok := z.e.(*Const); ok {
			// A non-null constant never equals null.
			return &Const{T: metadata.Boolean, V: op == Ne && !c.Null}, nil
		}
		return &IsNull{X: z.e, Not: op == Ne}, nil
	}
	l, r, err := unify(x, y)
	if err != nil {
		if errors.Is(err, errIncompatible) {
			return nil, b.badf(n.Span, "cannot compare %s with %s", x.typeName(), y.typeName())
		}
		return nil, b.badf(n.Span, "%v", err)
	}
	t := l.Type()
	if t == metadata.Binary && op != Eq && op != Ne {
		return nil, b.badf(n.Span, "operator %s is not defined for Edm.Binary", op)
	}
	if e := subMicrosecondCompare(op, l, r); e != nil {
		return e, nil
	}
	if op == Eq && t == metadata.Boolean {
		// contains(x,'a') eq true -> contains(x,'a'); eq false -> not contains(x,'a').
		if e := normaliseBoolCall(l, r); e != nil {
			return e, nil
		}
		if e := normaliseBoolCall(r, l); e != nil {
			return e, nil
		}
	}
	return &Compare{Op: op, L: l, R: r}, nil
}

// mirror is the operator that gives the same result with the operands
// swapped: a lt b is b gt a.
var mirror = [...]CmpOp{Eq: Eq, Ne: Ne, Gt: Lt, Ge: Le, Lt: Gt, Le: Ge}

// subMicrosecond splits a DateTimeOffset or TimeOfDay constant into its
// value truncated to the microsecond, and reports whether a non-zero part
// finer than a microsecond was cut off. ok is false for other constants.
func subMicrosecond(e Expr) (trunc *Const, finer, ok bool) {
	c, isConst := e.(*Const)
	if !isConst || c.Null {
		return nil, false, false
	}
	switch v := c.V.(type) {
	case time.Time:
		if c.T != metadata.DateTimeOffset {
			return nil, false, false
		}
		// Nanosecond is in [0, 1e9) also before year 1, so this floors.
		ns := time.Duration(v.Nanosecond() % int(time.Microsecond))
		return &Const{T: c.T, V: v.Add(-ns)}, ns != 0, true
	case time.Duration:
		if c.T != metadata.TimeOfDay {
			return nil, false, false
		}
		ns := v % time.Microsecond // a time of day is not negative
		return &Const{T: c.T, V: v - ns}, ns != 0, true
	}
	return nil, false, false
}

// subMicrosecondCompare rewrites a comparison of a non-constant
// DateTimeOffset/TimeOfDay operand X with a constant C that has a non-zero
// part finer than a microsecond (both backends store microseconds), with
// c = C truncated to the microsecond, so that the result is exact:
// X gt C is X gt c, X le C is X le c, X ge C is X gt c, X lt C is X le c,
// X eq C is false, X ne C is true. It returns nil when the rule does not
// apply.
func subMicrosecondCompare(op CmpOp, l, r Expr) Expr {
	x, k := l, r
	xop := op // the operator as "x xop k"
	_, swapped := l.(*Const)
	if swapped {
		x, k, xop = r, l, mirror[op]
	}
	if _, ok := x.(*Const); ok {
		return nil
	}
	c, finer, ok := subMicrosecond(k)
	if !ok || !finer {
		return nil
	}
	switch xop {
	case Eq:
		return &Const{T: metadata.Boolean, V: false}
	case Ne:
		return &Const{T: metadata.Boolean, V: true}
	case Ge:
		xop = Gt
	case Lt:
		xop = Le
	}
	if swapped {
		return &Compare{Op: mirror[xop], L: c, R: x}
	}
	return &Compare{Op: xop, L: x, R: c}
}

func normaliseBoolCall(call, val Expr) Expr {
	c, ok := call.(*Call)
	if !ok {
		return nil
	}
	k, ok := val.(*Const)
	if !ok || k.Null {
		return nil
	}
	var out Expr = c
	if v, _ := k.V.(bool); !v {
		out = &Not{X: c}
	}
	// eq is two-valued: guard with "every argument is not null" so that a
	// null argument yields false rather than null (which "not" keeps null).
	for _, a := range c.Args {
		if ka, ok := a.(*Const); ok {
			if ka.Null {
				return &Const{T: metadata.Boolean, V: false}
			}
			continue
		}
		out = &Logical{L: out, R: &IsNull{X: a, Not: true}}
	}
	return out
}

func (b *binder) arith(n *odata.Binary, op ArithOp, x, y operand) (Expr, error) {
	xn, yn := x.isNull(), y.isNull()
	if xn || yn {
		if xn && yn {
			return nil, b.badf(n.Span, "operator %s needs at least one operand that is not null", op)
		}
		z := x
		if xn {
			z = y
		}
		t := z.e.Type()
		switch {
		case t.IsNumeric():
			t = arithType(op, t, t)
		case (t == metadata.DateTimeOffset || t == metadata.Duration) && (op == Add || op == Sub):
		default:
			return nil, b.badf(n.Span, "operator %s is not defined for %s", op, t.FullName())
		}
		// Arithmetic with null is null.
		return &Const{T: t, Null: true}, nil
	}
	xt, yt := x.e.Type(), y.e.Type()
	if xt.IsNumeric() && yt.IsNumeric() {
		// A literal written with a fraction or an exponent keeps its
		// natural type against an integer operand: 5 div 2.0 is 2.5, not
		// integer division. The integer side is promoted instead.
		if fractionalLiteral(x) && yt.IsIntegral() {
			x.lit = nil
		}
		if fractionalLiteral(y) && xt.IsIntegral() {
			y.lit = nil
		}
		l, r, err := unify(x, y)
		if err != nil {
			return nil, b.badf(n.Span, "%v", err)
		}
		t := arithType(op, l.Type(), r.Type())
		// Division by zero is an error for integers and decimals; for
		// Edm.Double and Edm.Single it follows IEEE 754 (INF, -INF, NaN),
		// as far as the database can represent them (see the dialects).
		if (op == Div || op == DivBy || op == Mod) && isZero(r) && !(op != Mod && (t == metadata.Double || t == metadata.Single)) {
			return nil, b.badf(n.Span, "division by zero: %s division by zero is undefined (only Edm.Double and Edm.Single divide by zero, to INF or NaN)", t.FullName())
		}
		return &Arith{Op: op, L: l, R: r, T: t}, nil
	}
	// Date/time arithmetic: DateTimeOffset add/sub Duration, and
	// DateTimeOffset sub DateTimeOffset. A date literal on either side of a
	// DateTimeOffset subtraction is read as midnight UTC.
	if op == Add || op == Sub {
		l, r := x.e, y.e
		if xt == metadata.DateTimeOffset && y.lit != nil && yt == metadata.Date && op == Sub {
			r, _ = convertTo(y, metadata.DateTimeOffset)
		}
		if yt == metadata.DateTimeOffset && x.lit != nil && xt == metadata.Date && op == Sub {
			l, _ = convertTo(x, metadata.DateTimeOffset)
		}
		lt, rt := l.Type(), r.Type()
		switch {
		case lt == metadata.DateTimeOffset && rt == metadata.Duration:
			return &Arith{Op: op, L: l, R: r, T: metadata.DateTimeOffset}, nil
		case lt == metadata.DateTimeOffset && rt == metadata.DateTimeOffset && op == Sub:
			return &Arith{Op: op, L: l, R: r, T: metadata.Duration}, nil
		}
	}
	return nil, b.badf(n.Span, "operator %s is not defined for %s and %s", op, x.typeName(), y.typeName())
}

// fractionalLiteral reports whether o is a numeric literal written with a
// fraction or an exponent (1.0, 2e0, INF, NaN), as opposed to an integer
// literal.
func fractionalLiteral(o operand) bool {
	return o.lit != nil && (o.lit.Kind == odata.DecimalLit || o.lit.Kind == odata.DoubleLit)
}

// arithType is the result type of numeric arithmetic on operands of types
// l and r: integer operands give Int64 (both backends evaluate integer
// arithmetic in 64 bits, so an Int32 product may exceed the Int32 range),
// except that divby of integers is Decimal; otherwise the promoted type.
func arithType(op ArithOp, l, r metadata.Type) metadata.Type {
	t := promote(l, r)
	if t.IsIntegral() {
		if op == DivBy {
			return metadata.Decimal
		}
		return metadata.Int64
	}
	return t
}

// isZero reports whether e is a numeric constant equal to zero.
func isZero(e Expr) bool {
	c, ok := e.(*Const)
	if !ok || c.Null {
		return false
	}
	switch v := c.V.(type) {
	case int64:
		return v == 0
	case float64:
		return v == 0
	case string:
		return c.T == metadata.Decimal && strings.Trim(v, "-0.") == ""
	}
	return false
}

func (b *binder) in(n *odata.In, depth int) (operand, error) {
	x, err := b.operand(n.X, depth+1)
	if err != nil {
		return operand{}, err
	}
	if len(n.List) == 0 {
		return operand{}, b.badf(n.Span, "the list of operator in is empty")
	}
	if len(n.List) > b.lim.MaxInList {
		return operand{}, b.errorf(LimitExceeded, n.Span, "%s: in list exceeds the maximum of %d items", b.option, b.lim.MaxInList)
	}
	out := &In{X: x.e}
	xt := x.e.Type()
	for _, item := range n.List {
		o, err := b.operand(item, depth+1)
		if err != nil {
			return operand{}, err
		}
		c, ok := o.e.(*Const)
		if !ok {
			return operand{}, b.badf(o.span, "the items of an in list must be literals")
		}
		if c.Null {
			out.HasNull = true
			continue
		}
		if xt == "" {
			continue // null in (...): only HasNull matters
		}
		v, err := b.inValue(o, c, xt)
		if err != nil {
			return operand{}, err
		}
		if v == nil {
			continue
		}
		if _, fixed := x.e.(*Const); !fixed {
			if _, finer, _ := subMicrosecond(v); finer {
				continue // no stored value can equal it
			}
		}
		out.Values = append(out.Values, *v)
	}
	if xt == "" || x.isNull() {
		return operand{e: &Const{T: metadata.Boolean, V: out.HasNull}, span: n.Span}, nil
	}
	if len(out.Values) == 0 && !out.HasNull {
		// No item can equal a value of X's type.
		return operand{e: &Const{T: metadata.Boolean, V: false}, span: n.Span}, nil
	}
	return operand{e: out, span: n.Span}, nil
}

// inValue converts one in-list constant to type t; nil means the value can
// never equal a value of type t (e.g. 1.5 against Edm.Int32) and is dropped.
func (b *binder) inValue(o operand, c *Const, t metadata.Type) (*Const, error) {
	if c.T == t {
		return c, nil
	}
	var e Expr
	var err error
	if o.flexible() {
		e, err = convertTo(o, t)
	} else if convertible(c.T, t) {
		text := constText(c)
		o.text = &text
		e, err = convertTo(o, t)
	} else {
		err = errIncompatible
	}
	if errors.Is(err, errIncompatible) {
		return nil, b.badf(o.span, "cannot compare %s with %s", t.FullName(), c.T.FullName())
	}
	if err != nil {
		return nil, b.badf(o.span, "%v", err)
	}
	k := e.(*Const)
	if k.T != t {
		if k.T.IsNumeric() && t.IsNumeric() {
			return nil, nil
		}
		return nil, b.badf(o.span, "cannot compare %s with %s", t.FullName(), k.T.FullName())
	}
	return k, nil
}

// constText prints a non-null constant as text parseValue reads back.
func constText(c *Const) string {
	switch v := c.V.(type) {
	case bool:
		return strconv.FormatBool(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return formatFloat(v)
	case string:
		return v
	case time.Time:
		if c.T == metadata.Date {
			return v.UTC().Format("2006-01-02")
		}
		return v.UTC().Format("2006-01-02T15:04:05.999999999Z07:00")
	case time.Duration:
		if c.T == metadata.TimeOfDay {
			return formatTimeOfDay(v)
		}
		return formatDuration(v)
	case []byte:
		return base64.RawURLEncoding.EncodeToString(v)
	}
	return fmt.Sprint(c.V)
}

// mergeEqualities folds "p eq c1 or p eq c2" (and "p in (...) or p eq c")
// on one property into one In: what SOQL's IN becomes in Salesforce's
// URLs is a chain of thousands of or-ed equalities, which the database
// plans far better as one list (= ANY on PostgreSQL). Under OData's null
// semantics both forms are false for a null p, so the meaning is the same.
// Anything else is returned as or.
func mergeEqualities(l, r, or Expr) Expr {
	lp, lvals, lin := equalities(l)
	rp, rvals, _ := equalities(r)
	if lp == nil || rp == nil || lp.P != rp.P {
		return or
	}
	if lin != nil { // l is owned by this binding: extend it
		lin.Values = append(lin.Values, rvals...)
		return lin
	}
	return &In{X: lp, Values: append(append(make([]Const, 0, len(lvals)+len(rvals)), lvals...), rvals...)}
}

// equalities reads e as "property equals one of values": a comparison of a
// property with a non-null constant of its own type, or an In on a
// property without null. in is e itself when it is such an In.
func equalities(e Expr) (p *Prop, values []Const, in *In) {
	switch x := e.(type) {
	case *Compare:
		if x.Op != Eq {
			return nil, nil, nil
		}
		prop, pok := x.L.(*Prop)
		c, cok := x.R.(*Const)
		if !pok || !cok {
			prop, pok = x.R.(*Prop)
			c, cok = x.L.(*Const)
		}
		if pok && cok && !c.Null && c.T == prop.P.Type {
			return prop, []Const{*c}, nil
		}
	case *In:
		if prop, ok := x.X.(*Prop); ok && !x.HasNull {
			return prop, x.Values, x
		}
	}
	return nil, nil, nil
}
