// Package semantic binds a syntax tree from package odata to a metadata.Model
// and produces a typed Query: names resolved, Edm types assigned and checked,
// numeric operands promoted, null comparisons normalised, limits enforced.
// Binding never mutates the syntax tree.
//
// Package semantic knows nothing about SQL or HTTP.
package semantic

import (
	"fmt"
	"slices"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// Query is one bound read request against an entity set.
type Query struct {
	Set *metadata.EntitySet
	// Key is set for a key lookup (Set(key)); values are in Set.Key order.
	Key []Const
	// Select lists the properties to return, in Set.Properties order.
	// It is every property when $select is absent or "*".
	Select []*metadata.Property
	// SelectExplicit is true when $select named properties (it shapes
	// @odata.context).
	SelectExplicit bool
	Filter         Expr // nil when absent
	Search         Search
	// Restrict is a row filter imposed by authorization; it is ANDed into
	// every read, count, page and key lookup and is not part of the user's
	// query (never echoed in links).
	Restrict Expr
	// OrderBy is the user's $orderby (may be empty). Adapters append the key
	// properties not already present so that the order is total.
	OrderBy []Order
	Top     *int64 // $top; nil = no limit
	Skip    int64  // $skip
	Count   bool   // $count=true
	// CountOnly is set for Set/$count.
	CountOnly bool
	// Property is set for a request of one property of an entity
	// (Set(key)/Name); Select is then just that property. RawValue is set
	// for its raw value (Set(key)/Name/$value).
	Property *metadata.Property
	RawValue bool
	// After is the keyset position decoded from $skiptoken: rows strictly
	// after it in the total order. Nil on the first page.
	After *Keyset
	// Path lists the entities a navigation path passes through before Set
	// (Customers('ALFKI')/Orders: one hop, Customers('ALFKI') and its
	// navigation Orders); nil when the path starts at Set. The server reads
	// them first (Hop.Read) and ANDs the constraint they put on Set
	// (Related) into Restrict; a missing hop is a 404.
	Path []Hop
	// Single is set when the path ends with a to-one navigation
	// (Orders(1)/Customer): one entity, or none (null), without a key in
	// the path.
	Single bool
	// Ref is set for entity references ($ref): Select is the key.
	Ref bool
	// Expand lists the navigation properties to expand ($expand), each
	// with its nested query.
	Expand []*Expand
	// Within is set on the nested read of an expansion: the rows related
	// to a page of parents, paged per parent (see Within).
	Within *Within
	// Apply is the aggregation of $apply (nil: none). Select is then its
	// Columns; Filter, OrderBy, Top, Skip and Count apply to its result.
	Apply *Apply
	// Compute lists the computed properties of $compute in request order.
	// Those returned are at the end of Select (their Out); $filter and
	// $orderby hold their expressions where they name them.
	Compute []*Computed
}

// Order is one sort key.
type Order struct {
	Expr Expr
	Desc bool
	// Carry is set, by the binder of $orderby, on an item that is a path
	// through to-one navigation ending in a property (Customer/Name): the
	// descriptor of the extra column that carries the path's value in the
	// page's rows, so that the page's position is a keyset. It is a copy of
	// the target property (typed, and read from the raw column, exactly like
	// it), nullable (a path may reach no entity), and a pointer distinct from
	// every property of the model. nil on every other item.
	Carry *metadata.Property
}

// Keyset is a position in a total order: the sort values of the last row
// returned (one per item of the total order: user OrderBy then the key
// properties not already in it), or an Offset when the order has
// expressions whose values are not carried.
type Keyset struct {
	Values []Const
	Offset int64 // used when Values is nil
	// Returned is the number of rows sent on earlier pages, so that $top
	// bounds the total across pages.
	Returned int64
	// Count is the @odata.count taken on the walk's first page (when
	// Counted): later pages report it instead of counting again, like the
	// snapshot the walk reads.
	Count   int64
	Counted bool
	// Track is the change-log position taken on the first page of a walk
	// that asked for change tracking (0: none); the last page's delta link
	// starts there, so that nothing changed during the walk is missed.
	Track string
}

// Expr is a bound, typed expression. Type is the Edm type of its value;
// boolean expressions have type metadata.Boolean.
type Expr interface {
	Type() metadata.Type
	boundExpr()
}

// Prop reads a property of the current entity.
type Prop struct{ P *metadata.Property }

// Const is a typed constant. When Null is false, V holds, by Type:
//
//	Boolean                        bool
//	Byte, SByte, Int16/32/64       int64
//	Decimal                        string (canonical decimal text, e.g. "-12.50")
//	Single, Double                 float64 (may be ±Inf or NaN)
//	String                         string
//	Date                           time.Time (midnight UTC of the date)
//	DateTimeOffset                 time.Time (in UTC)
//	TimeOfDay                      time.Duration since midnight
//	Duration                       time.Duration
//	Guid                           string (lower-case canonical form)
//	Binary                         []byte
type Const struct {
	T    metadata.Type
	Null bool
	V    any
}

// CmpOp is a comparison operator.
type CmpOp int

// Comparison operators.
const (
	Eq CmpOp = iota
	Ne
	Gt
	Ge
	Lt
	Le
)

var cmpNames = [...]string{"eq", "ne", "gt", "ge", "lt", "le"}

func (op CmpOp) String() string { return cmpNames[op] }

// Compare is L op R; both operands have the same type after promotion and
// neither is a null constant (comparisons with null are rewritten to IsNull
// or to constant false). OData semantics: for eq/ne null equals null and
// differs from any value; for gt/ge/lt/le a null operand makes the result false.
type Compare struct {
	Op   CmpOp
	L, R Expr
}

// IsNull is "X eq null" (or "X ne null" when Not).
type IsNull struct {
	X   Expr
	Not bool
}

// Logical is L and R / L or R.
type Logical struct {
	Or   bool
	L, R Expr
}

// Not is logical negation. OData: not of a comparison with a null operand
// is still evaluated on the comparison's two-valued result.
type Not struct{ X Expr }

// ArithOp is an arithmetic operator.
type ArithOp int

// Arithmetic operators.
const (
	Add ArithOp = iota
	Sub
	Mul
	Div   // on integers: truncating integer division
	DivBy // always decimal/floating division (4.01)
	Mod
)

var arithNames = [...]string{"add", "sub", "mul", "div", "divby", "mod"}

func (op ArithOp) String() string { return arithNames[op] }

// Arith is L op R with result type T (operands promoted to T, except for
// date/time arithmetic where T says the result type).
type Arith struct {
	Op   ArithOp
	L, R Expr
	T    metadata.Type
}

// Neg is unary minus.
type Neg struct{ X Expr }

// In is "X in (values)"; HasNull is set when the list contained null.
type In struct {
	X       Expr
	Values  []Const // non-null, converted to X's type
	HasNull bool
}

// Func identifies a canonical function.
type Func string

// Canonical functions the binder accepts.
const (
	FnContains           Func = "contains"
	FnStartsWith         Func = "startswith"
	FnEndsWith           Func = "endswith"
	FnLength             Func = "length"
	FnIndexOf            Func = "indexof"
	FnSubstring          Func = "substring"
	FnToLower            Func = "tolower"
	FnToUpper            Func = "toupper"
	FnTrim               Func = "trim"
	FnConcat             Func = "concat"
	FnMatchesPattern     Func = "matchespattern"
	FnYear               Func = "year"
	FnMonth              Func = "month"
	FnDay                Func = "day"
	FnHour               Func = "hour"
	FnMinute             Func = "minute"
	FnSecond             Func = "second"
	FnFractionalSeconds  Func = "fractionalseconds"
	FnDate               Func = "date"
	FnTime               Func = "time"
	FnTotalOffsetMinutes Func = "totaloffsetminutes"
	FnNow                Func = "now"
	FnMaxDateTime        Func = "maxdatetime"
	FnMinDateTime        Func = "mindatetime"
	FnRound              Func = "round"
	FnFloor              Func = "floor"
	FnCeiling            Func = "ceiling"
)

// Call is a canonical function call with its result type.
type Call struct {
	Fn   Func
	Args []Expr
	T    metadata.Type
}

func (e *Prop) Type() metadata.Type    { return e.P.Type }
func (e *Const) Type() metadata.Type   { return e.T }
func (e *Compare) Type() metadata.Type { return metadata.Boolean }
func (e *IsNull) Type() metadata.Type  { return metadata.Boolean }
func (e *Logical) Type() metadata.Type { return metadata.Boolean }
func (e *Not) Type() metadata.Type     { return metadata.Boolean }
func (e *Arith) Type() metadata.Type   { return e.T }
func (e *Neg) Type() metadata.Type     { return e.X.Type() }
func (e *In) Type() metadata.Type      { return metadata.Boolean }
func (e *Call) Type() metadata.Type    { return e.T }

func (*Prop) boundExpr()    {}
func (*Const) boundExpr()   {}
func (*Compare) boundExpr() {}
func (*IsNull) boundExpr()  {}
func (*Logical) boundExpr() {}
func (*Not) boundExpr()     {}
func (*Arith) boundExpr()   {}
func (*Neg) boundExpr()     {}
func (*In) boundExpr()      {}
func (*Call) boundExpr()    {}

// Search is a bound $search expression.
type Search interface{ boundSearch() }

// SearchTerm matches entities where any of Props contains Text,
// case-insensitively (the $search case policy).
type SearchTerm struct {
	Text  string
	Props []*metadata.Property
}

// SearchAnd, SearchOr and SearchNot combine terms.
type (
	SearchAnd struct{ L, R Search }
	SearchOr  struct{ L, R Search }
	SearchNot struct{ X Search }
)

func (*SearchTerm) boundSearch() {}
func (*SearchAnd) boundSearch()  {}
func (*SearchOr) boundSearch()   {}
func (*SearchNot) boundSearch()  {}

// Error is a binding error: the request is well-formed but does not fit the
// model or the limits. Kind says how the server should answer.
type Error struct {
	Kind   ErrorKind
	Option string     // "$filter", "$select", "path", ...
	Span   odata.Span // where in the option's text
	Msg    string
	Target string // the offending name, when there is one
	// Details lists the individual problems of an InvalidValue error (one
	// per property of a request body), each with its Target.
	Details []*Error
}

// ErrorKind classifies binding errors.
type ErrorKind int

// Binding error kinds.
const (
	BadRequest     ErrorKind = iota // 400: unknown property, type mismatch, bad literal
	NotFound                        // 404: unknown entity set
	NotImplemented                  // 501: valid but unsupported (lambda, cast, ...)
	LimitExceeded                   // 400: a configured limit; Msg names it
	InvalidValue                    // 400: a request body whose values do not fit the model (see Details)
)

func (e *Error) Error() string {
	if e.Option == "" {
		return e.Msg
	}
	return fmt.Sprintf("%s:1:%d: %s", e.Option, e.Span.Start+1, e.Msg)
}

// Limits bound the size of what a client may ask for. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	MaxExprLength int // bytes of one $filter/$orderby/$search value (default 262144, the URL limit)
	MaxNodes      int // syntax nodes in one expression (default 60000: a SOQL IN list of ~15,000 keys arrives as an or-chain of eq)
	MaxDepth      int // nesting depth (default 100)
	MaxInList     int // items in one "in" list (default 10000)
	MaxOrderBy    int // $orderby items (default 16)
	// MaxExpandDepth is how deep $expand may nest (default 3: Customers ->
	// Orders -> order_lines -> line_notes).
	MaxExpandDepth int
	// MaxExpandItems bounds the expanded navigation properties of one
	// request, all levels together (default 32).
	MaxExpandItems int
	// MaxLambdaDepth bounds lambda operators nested in one another
	// (Orders/any(o: o/order_lines/any(l: ...)) is 2; default 3).
	MaxLambdaDepth int
}

// DefaultLimits are the documented defaults.
var DefaultLimits = Limits{MaxExprLength: 256 << 10, MaxNodes: 60000, MaxDepth: 100, MaxInList: 10000, MaxOrderBy: 16,
	MaxExpandDepth: 3, MaxExpandItems: 32, MaxLambdaDepth: 3}

// Now is the clock used for now(); tests may replace it.
var Now = func() time.Time { return time.Now().UTC() }

// KeysIn is the filter "the key is one of keys" (each in Set.Key order):
// an In for a single-property key, else an or of ands of equalities. keys
// must not be empty.
func KeysIn(set *metadata.EntitySet, keys [][]Const) Expr {
	return ValuesIn(set.Key, keys)
}

// ForETag returns the read that lets ETags be computed for q's rows (a hash
// ETag needs every property, a row-version ETag its column), and the
// positions, among that read's columns, of the properties the client
// selected; nil positions mean the read is q itself and the first
// len(q.Select) columns are the output. Aggregated rows have no ETag.
func (q *Query) ForETag() (*Query, []int) {
	if q.Apply != nil {
		return q, nil
	}
	set := q.Set
	var need []*metadata.Property
	own := len(q.Select)
	for _, p := range q.Select {
		if p.Dynamic {
			own-- // computed ($compute): kept after the set's properties
		}
	}
	switch {
	case set.ETagHash && own < len(set.Properties):
		need = append([]*metadata.Property(nil), set.Properties...)
		for _, p := range q.Select {
			if p.Dynamic {
				need = append(need, p)
			}
		}
	case set.ETag != nil && !slices.Contains(q.Select, set.ETag):
		need = append(append([]*metadata.Property(nil), q.Select...), set.ETag)
	default:
		return q, nil
	}
	wide := *q
	wide.Select = need
	idx := make([]int, len(q.Select))
	for i, p := range q.Select {
		idx[i] = slices.Index(need, p)
	}
	return &wide, idx
}
