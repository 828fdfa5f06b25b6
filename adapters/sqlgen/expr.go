package sqlgen

import (
	"math"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// compiler renders bound expressions with OData 4.01's null semantics
// (URL Conventions §5.1.1.1): the comparisons eq, ne, gt, ge, lt, le and in
// are two-valued (null eq null is true, a null operand of gt is false);
// and, or and not are three-valued exactly like SQL's (not null is null);
// functions of null are null, boolean ones included, and so is a null
// Boolean property. WHERE keeps a row only when the condition is true.
//
// Boolean expressions are rendered by pred with a strictness flag:
//
//   - strict=false (a "positive" position: the WHERE clause itself and
//     operands of and/or that are not under not) lets a comparison yield
//     NULL where OData says false, because WHERE and and/or treat NULL and
//     FALSE alike for the rows they keep; this keeps plain, index-friendly
//     comparisons;
//   - strict=true (under not, or used as a value) forces comparisons to a
//     two-valued result (COALESCE(p, FALSE) or a null-safe form), so that
//     "not (x gt 5)" keeps rows where x is null. Function calls and Boolean
//     properties are never forced: their null must stay null under not.
type compiler struct {
	d  Dialect
	ps *Params
	// qual qualifies column references ("" at the top level of a
	// statement, `"t1".` inside a correlated subquery).
	qual string
	// top qualifies the statement's own table from inside subqueries
	// (`"erp"."orders".`), topTable is its unqualified name (no alias may
	// take it); both are empty for statements without navigation.
	top, topTable string
	// outer holds the qualifications of the scopes enclosing the current
	// subquery, innermost last; aliases counts the aliases given (nav.go).
	outer   []string
	aliases int
}

// newCompiler returns a compiler for a statement over set (nil: none).
func newCompiler(d Dialect, set *metadata.EntitySet) *compiler {
	c := &compiler{d: d, ps: NewParams(d)}
	if set != nil {
		c.top, c.topTable = Table(set)+".", set.Table
	}
	return c
}

// col references p in the compiler's current scope.
func (c *compiler) col(p *metadata.Property, use Use) string {
	return c.d.Column(c.qual+QuoteIdent(p.Column), p, use)
}

var (
	maxDateTime = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
	minDateTime = time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)
)

// value renders a value expression.
func (c *compiler) value(e semantic.Expr) (Operand, error) {
	switch e := e.(type) {
	case *semantic.Prop:
		return Operand{SQL: c.col(e.P, UseValue), Type: e.P.Type, Nullable: e.P.Nullable, Prop: e.P}, nil
	case *semantic.Outer:
		ref, err := c.outerRef(e.Up)
		if err != nil {
			return Operand{}, err
		}
		return Operand{SQL: c.d.Column(ref+QuoteIdent(e.P.Column), e.P, UseValue), Type: e.P.Type, Nullable: e.P.Nullable, Prop: e.P}, nil
	case *semantic.ToOne:
		return c.related(e)
	case *semantic.Exists:
		s, err := c.exists(e)
		if err != nil {
			return Operand{}, err
		}
		return Operand{SQL: "(" + s + ")", Type: metadata.Boolean}, nil
	case *semantic.Const:
		s, err := c.d.Param(c.ps, *e)
		if err != nil {
			return Operand{}, err
		}
		return Operand{SQL: s, Type: e.T, Nullable: e.Null, Const: e}, nil
	case *semantic.Arith:
		l, err := c.value(e.L)
		if err != nil {
			return Operand{}, err
		}
		r, err := c.value(e.R)
		if err != nil {
			return Operand{}, err
		}
		s, err := c.d.Arith(e.Op, e.T, l, r)
		if err != nil {
			return Operand{}, err
		}
		nullable := l.Nullable || r.Nullable
		if e.Op == semantic.Div || e.Op == semantic.DivBy || e.Op == semantic.Mod {
			nullable = nullable || !nonZeroConst(r.Const)
		}
		return Operand{SQL: s, Type: e.T, Nullable: nullable}, nil
	case *semantic.Neg:
		x, err := c.value(e.X)
		if err != nil {
			return Operand{}, err
		}
		s, err := c.d.Neg(x)
		if err != nil {
			return Operand{}, err
		}
		return Operand{SQL: s, Type: x.Type, Nullable: x.Nullable}, nil
	case *semantic.Call:
		switch e.Fn {
		case semantic.FnNow:
			return c.value(&semantic.Const{T: metadata.DateTimeOffset, V: semantic.Now().UTC().Truncate(time.Microsecond)})
		case semantic.FnMaxDateTime:
			return c.value(&semantic.Const{T: metadata.DateTimeOffset, V: maxDateTime})
		case semantic.FnMinDateTime:
			return c.value(&semantic.Const{T: metadata.DateTimeOffset, V: minDateTime})
		case semantic.FnContains, semantic.FnStartsWith, semantic.FnEndsWith, semantic.FnMatchesPattern:
			// Used as a value (compared, in a list, ordered by): null when an
			// argument is null, and parenthesised because the rendering may
			// itself be a comparison (strpos(a, b) > 0).
			s, err := c.pred(e, true)
			return Operand{SQL: "(" + s + ")", Type: metadata.Boolean, Nullable: true}, err
		}
		in := e.Args
		if e.Fn == semantic.FnSubstring {
			in = clampSubstring(in)
		}
		args, nullable, err := c.values(in)
		if err != nil {
			return Operand{}, err
		}
		s, err := c.d.Call(c.ps, e.Fn, e.T, args)
		if err != nil {
			return Operand{}, err
		}
		return Operand{SQL: s, Type: e.T, Nullable: nullable}, nil
	case *semantic.Compare, *semantic.IsNull, *semantic.In:
		// Comparisons are rendered two-valued here (strict): never null.
		s, err := c.pred(e, true)
		if err != nil {
			return Operand{}, err
		}
		return Operand{SQL: "(" + s + ")", Type: metadata.Boolean}, nil
	case *semantic.Logical, *semantic.Not:
		// and/or/not are three-valued: null when a function or a Boolean
		// property under them is.
		s, err := c.pred(e, true)
		if err != nil {
			return Operand{}, err
		}
		return Operand{SQL: "(" + s + ")", Type: metadata.Boolean, Nullable: true}, nil
	case nil:
		return Operand{}, internalf("sqlgen: nil expression")
	}
	return Operand{}, NotImplemented("expression %T is not supported", e)
}

func (c *compiler) values(es []semantic.Expr) ([]Operand, bool, error) {
	out := make([]Operand, len(es))
	nullable := false
	for i, a := range es {
		o, err := c.value(a)
		if err != nil {
			return nil, false, err
		}
		out[i] = o
		nullable = nullable || o.Nullable
	}
	return out, nullable, nil
}

// clampSubstring replaces constant index and length arguments of substring
// by Int32 constants clamped to [0, MaxInt32-1]: OData leaves negative
// values undefined and the backends disagree on them, so they count as 0.
func clampSubstring(args []semantic.Expr) []semantic.Expr {
	out := append([]semantic.Expr(nil), args...)
	for i := 1; i < len(out); i++ {
		k, ok := out[i].(*semantic.Const)
		if !ok || k.Null {
			continue
		}
		n, ok := k.V.(int64)
		if !ok {
			continue
		}
		out[i] = &semantic.Const{T: metadata.Int32, V: max(0, min(n, math.MaxInt32-1))}
	}
	return out
}

func nonZeroConst(k *semantic.Const) bool {
	if k == nil || k.Null {
		return false
	}
	switch v := k.V.(type) {
	case int64:
		return v != 0
	case float64:
		return v != 0
	case string:
		for i := 0; i < len(v); i++ {
			if v[i] >= '1' && v[i] <= '9' {
				return true
			}
			if v[i] == 'e' || v[i] == 'E' {
				return false
			}
		}
	}
	return false
}

// pred renders a boolean expression; see compiler for strict.
func (c *compiler) pred(e semantic.Expr, strict bool) (string, error) {
	switch e := e.(type) {
	case *semantic.Compare:
		return c.compare(e, strict)
	case *semantic.IsNull:
		x, err := c.value(e.X)
		if err != nil {
			return "", err
		}
		if e.Not {
			return x.SQL + " IS NOT NULL", nil
		}
		return x.SQL + " IS NULL", nil
	case *semantic.Logical:
		// A chain of the same operator (Salesforce's IN lists arrive as
		// thousands of or-ed eq) is rendered as a balanced tree: its depth
		// stays logarithmic (SQLite refuses expressions deeper than 1000).
		var parts []string
		for _, x := range flattenLogical(e, e.Or, nil) {
			p, err := c.pred(x, strict)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		op := " AND "
		if e.Or {
			op = " OR "
		}
		return balanced(parts, op), nil
	case *semantic.Not:
		x, err := c.pred(e.X, true)
		if err != nil {
			return "", err
		}
		return "NOT (" + x + ")", nil
	case *semantic.In:
		return c.in(e, strict)
	case *semantic.Exists:
		return c.exists(e) // two-valued
	case *semantic.ToOne, *semantic.Outer:
		if e.Type() != metadata.Boolean {
			return "", internalf("sqlgen: %s operand used as a condition", e.Type())
		}
		x, err := c.value(e)
		if err != nil {
			return "", err
		}
		return x.SQL, nil // null (no related entity, a null property) stays unknown, also under not
	case *semantic.Call:
		switch e.Fn {
		case semantic.FnContains, semantic.FnStartsWith, semantic.FnEndsWith:
		case semantic.FnMatchesPattern:
			args, _, err := c.values(e.Args)
			if err != nil {
				return "", err
			}
			return c.d.Call(c.ps, e.Fn, metadata.Boolean, args) // three-valued, like contains
		default:
			return "", internalf("sqlgen: function %s is not boolean", e.Fn)
		}
		if len(e.Args) != 2 {
			return "", internalf("sqlgen: %s takes 2 arguments", e.Fn)
		}
		if k, ok := e.Args[1].(*semantic.Const); ok {
			if k.Null {
				return c.d.NullBool(), nil // a function of null is null
			}
			pat, ok := k.V.(string)
			if !ok {
				return "", internalf("sqlgen: %s pattern is %T", e.Fn, k.V)
			}
			x, err := c.value(e.Args[0])
			if err != nil {
				return "", err
			}
			s, err := c.d.Match(c.ps, e.Fn, x, pat)
			if err != nil {
				return "", err
			}
			return s, nil // three-valued: null stays null under not
		}
		args, nullable, err := c.values(e.Args)
		if err != nil {
			return "", err
		}
		s, err := c.d.Call(c.ps, e.Fn, metadata.Boolean, args)
		if err != nil {
			return "", err
		}
		_ = nullable
		return s, nil // three-valued: null stays null under not
	case *semantic.Prop, *semantic.Const:
		if e.Type() != metadata.Boolean {
			return "", internalf("sqlgen: %s operand used as a condition", e.Type())
		}
		if k, ok := e.(*semantic.Const); ok && k.Null {
			return c.d.NullBool(), nil
		}
		x, err := c.value(e)
		if err != nil {
			return "", err
		}
		return x.SQL, nil // a null Boolean property is unknown, also under not
	case nil:
		return "", internalf("sqlgen: nil condition")
	}
	return "", internalf("sqlgen: %T used as a condition", e)
}

// twoValued wraps a possibly-NULL predicate when strictness demands it.
func (c *compiler) twoValued(s string, nullable, strict bool) string {
	if nullable && strict {
		return "COALESCE(" + s + ", " + c.d.Bool(false) + ")"
	}
	return s
}

var cmpSQL = [...]string{" = ", " <> ", " > ", " >= ", " < ", " <= "}

func (c *compiler) compare(e *semantic.Compare, strict bool) (string, error) {
	if int(e.Op) < 0 || int(e.Op) >= len(cmpSQL) {
		return "", internalf("sqlgen: unknown comparison %d", e.Op)
	}
	l, err := c.value(e.L)
	if err != nil {
		return "", err
	}
	r, err := c.value(e.R)
	if err != nil {
		return "", err
	}
	nullable := l.Nullable || r.Nullable
	switch e.Op {
	case semantic.Eq:
		// null eq x is false and null eq null is true: a plain = is exact
		// when at most one side can be NULL and NULL counts as false here.
		if !nullable || (!strict && !(l.Nullable && r.Nullable)) {
			return l.SQL + " = " + r.SQL, nil
		}
		return c.d.NullSafeEqual(l.SQL, r.SQL, false), nil
	case semantic.Ne:
		if !nullable {
			return l.SQL + " <> " + r.SQL, nil
		}
		return c.d.NullSafeEqual(l.SQL, r.SQL, true), nil
	}
	return c.twoValued(l.SQL+cmpSQL[e.Op]+r.SQL, nullable, strict), nil
}

func (c *compiler) in(e *semantic.In, strict bool) (string, error) {
	if len(e.Values) == 0 && !e.HasNull {
		return c.d.Bool(false), nil
	}
	x, err := c.value(e.X)
	if err != nil {
		return "", err
	}
	if len(e.Values) == 0 {
		return x.SQL + " IS NULL", nil
	}
	for _, v := range e.Values {
		if v.Null {
			return "", internalf("sqlgen: null inside an in-list (use HasNull)")
		}
	}
	s, err := c.d.In(c.ps, x, e.Values[0].T, e.Values)
	if err != nil {
		return "", err
	}
	if e.HasNull {
		return "(" + s + " OR " + x.SQL + " IS NULL)", nil
	}
	return c.twoValued(s, x.Nullable, strict), nil
}

// search renders a bound $search expression.
func (c *compiler) search(s semantic.Search, strict bool) (string, error) {
	switch s := s.(type) {
	case *semantic.SearchTerm:
		if len(s.Props) == 0 {
			return c.d.Bool(false), nil
		}
		out := ""
		for i, p := range s.Props {
			x := Operand{SQL: c.col(p, UseValue), Type: p.Type, Nullable: p.Nullable, Prop: p}
			t, err := c.d.Search(c.ps, x, s.Text)
			if err != nil {
				return "", err
			}
			t = c.twoValued(t, p.Nullable, strict)
			if i > 0 {
				out += " OR "
			}
			out += t
		}
		if len(s.Props) > 1 {
			out = "(" + out + ")"
		}
		return out, nil
	case *semantic.SearchAnd:
		l, err := c.search(s.L, strict)
		if err != nil {
			return "", err
		}
		r, err := c.search(s.R, strict)
		if err != nil {
			return "", err
		}
		return "(" + l + " AND " + r + ")", nil
	case *semantic.SearchOr:
		l, err := c.search(s.L, strict)
		if err != nil {
			return "", err
		}
		r, err := c.search(s.R, strict)
		if err != nil {
			return "", err
		}
		return "(" + l + " OR " + r + ")", nil
	case *semantic.SearchNot:
		x, err := c.search(s.X, true)
		if err != nil {
			return "", err
		}
		return "NOT (" + x + ")", nil
	}
	return "", internalf("sqlgen: unknown search node %T", s)
}

// flattenLogical collects the operands of a chain of and (or) nodes.
func flattenLogical(e semantic.Expr, or bool, out []semantic.Expr) []semantic.Expr {
	if l, ok := e.(*semantic.Logical); ok && l.Or == or {
		out = flattenLogical(l.L, or, out)
		return flattenLogical(l.R, or, out)
	}
	return append(out, e)
}

// balanced joins parts with op, parenthesised as a balanced binary tree.
func balanced(parts []string, op string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	mid := len(parts) / 2
	return "(" + balanced(parts[:mid], op) + op + balanced(parts[mid:], op) + ")"
}
