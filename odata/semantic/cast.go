package semantic

import (
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// FnCast converts its argument to the Call's type (cast with a primitive
// target type).
const FnCast Func = "cast"

// integralRank orders the integer types by width for widening.
var integralRank = map[metadata.Type]int{
	metadata.Byte: 1, metadata.SByte: 1, metadata.Int16: 2, metadata.Int32: 3, metadata.Int64: 4,
}

// widens reports whether a value of type from is assignable to type to
// without loss (OData's numeric promotion): equal types, a wider integer,
// Decimal, Single or Double from an integer, Double from Single.
func widens(from, to metadata.Type) bool {
	switch {
	case from == to:
		return true
	case from.IsIntegral() && to.IsIntegral():
		return integralRank[from] < integralRank[to] || from == metadata.Byte && to != metadata.SByte
	case from.IsIntegral():
		return to == metadata.Decimal || to == metadata.Single || to == metadata.Double
	case from == metadata.Single:
		return to == metadata.Double
	}
	return false
}

// castsToString are the types whose text form every backend writes alike.
var castsToString = map[metadata.Type]bool{
	metadata.String: true, metadata.Byte: true, metadata.SByte: true, metadata.Int16: true,
	metadata.Int32: true, metadata.Int64: true, metadata.Guid: true, metadata.Date: true,
}

// primitiveType reads a type name argument of cast or isof ("Edm.Int32").
func (b *binder) primitiveType(e odata.Expr) (metadata.Type, bool, error) {
	id, ok := e.(*odata.Ident)
	if !ok || len(id.Path) != 1 {
		return "", false, b.badf(e.Pos(), "expected a type name such as Edm.String")
	}
	name := id.Path[0]
	if !strings.HasPrefix(name, "Edm.") {
		return "", false, nil // an entity or complex type
	}
	t := metadata.Type(strings.TrimPrefix(name, "Edm."))
	for _, k := range typeCodes {
		if k == t {
			return t, true, nil
		}
	}
	return "", false, b.errorf(NotImplemented, e.Pos(), "type %s is not supported", name)
}

// castOrIsof binds cast(x, Edm.T) and isof(x, Edm.T) on primitive values.
// isof is decided from the static type (x's type is T or widens to it; a
// null is of no type). cast keeps x when it already has type T, converts
// literals, widens numbers, and turns integers, strings, GUIDs and dates
// into strings; other conversions are 501. The one-argument forms (about
// the current entity) and entity types are 501: the model has no type
// hierarchy.
func (b *binder) castOrIsof(n *odata.Call, name string, depth int) (operand, error) {
	if len(n.Args) != 2 {
		return operand{}, b.errorf(NotImplemented, n.Span, "function %s is supported on a primitive value only: %s(value, Edm.Type)", name, name)
	}
	t, ok, err := b.primitiveType(n.Args[1])
	if err != nil {
		return operand{}, err
	}
	if !ok {
		return operand{}, b.errorf(NotImplemented, n.Span, "function %s with an entity or complex type is not supported: the model has no derived types", name)
	}
	x, err := b.operand(n.Args[0], depth+1)
	if err != nil {
		return operand{}, err
	}
	if name == "isof" {
		is := !x.isNull() && widens(x.e.Type(), t)
		return operand{e: &Const{T: metadata.Boolean, V: is}, span: n.Span}, nil
	}
	switch from := x.e.Type(); {
	case x.isNull():
		return operand{e: &Const{T: t, Null: true}, span: n.Span}, nil
	case from == t:
		return operand{e: x.e, span: n.Span}, nil
	case x.flexible():
		if e, err := convertTo(x, t); err == nil && e.Type() == t {
			return operand{e: e, span: n.Span}, nil
		}
		if t == metadata.String && castsToString[from] {
			break
		}
		return operand{}, b.badf(n.Span, "cannot cast %s to %s", x.typeName(), t.FullName())
	case widens(from, t), t == metadata.String && castsToString[from]:
	default:
		return operand{}, b.errorf(NotImplemented, n.Span, "cast from %s to %s is not supported", from.FullName(), t.FullName())
	}
	return operand{e: &Call{Fn: FnCast, Args: []Expr{x.e}, T: t}, span: n.Span}, nil
}
