package odata

// This file declares the syntax tree. Every node records the byte span of
// the text it came from, within the (percent-decoded) value of its query
// option or path segment. Nodes are produced by the parser and never
// mutated afterwards; String() prints canonical OData that parses back to
// an equal tree.

// Span is a half-open byte range [Start, End) in the decoded option text.
type Span struct{ Start, End int }

// Node is any syntax tree node.
type Node interface {
	Pos() Span
	String() string
}

// Expr is a common expression ($filter, $orderby items, key values).
type Expr interface {
	Node
	exprNode()
}

// LiteralKind classifies primitive literals as the ABNF spells them.
type LiteralKind int

// Literal kinds.
const (
	NullLit           LiteralKind = iota
	BoolLit                       // true, false
	IntLit                        // 42, -7 (no fraction, no exponent)
	DecimalLit                    // 1.5, -0.25
	DoubleLit                     // 1e10, 1.5E-3, INF, -INF, NaN
	StringLit                     // 'O''Brien' (Value holds the unescaped text)
	DateLit                       // 2024-01-15
	DateTimeOffsetLit             // 2024-01-15T10:30:00.123Z, ...+02:00
	TimeOfDayLit                  // 10:30:00.5
	DurationLit                   // duration'P1DT2H' or P1DT2H (4.01)
	GuidLit                       // 01234567-89ab-cdef-0123-456789abcdef
	BinaryLit                     // binary'AAEC' (Value holds the decoded bytes as a string)
	EnumLit                       // Namespace.Type'Member' (not bound: 501)
	GeoLit                        // geography'...'/geometry'...' (not bound: 501)
)

var literalKindNames = [...]string{"null", "boolean", "integer", "decimal", "double", "string", "date",
	"dateTimeOffset", "timeOfDay", "duration", "guid", "binary", "enum", "geo"}

func (k LiteralKind) String() string {
	if int(k) < len(literalKindNames) {
		return literalKindNames[k]
	}
	return "literal"
}

// Literal is a primitive literal. Raw is the literal exactly as written
// (canonical for printing); Value is its decoded content: the unescaped text
// for strings, the decoded bytes for binary, "true"/"false" for booleans
// (whatever their case), the text inside the quotes for duration'P1D', and
// Raw for everything else (numbers, dates and times stay text so no
// precision is lost here; the binder converts them against the expected type).
type Literal struct {
	Span  Span
	Kind  LiteralKind
	Raw   string
	Value string
}

// Ident is a property path: one or more identifiers separated by '/'.
// ($it and $root are not supported.)
type Ident struct {
	Span Span
	Path []string
}

// Alias is a parameter alias (@name) whose value, given as its own query
// option, was parsed into Value. String() prints "@name".
type Alias struct {
	Span  Span
	Name  string // without '@'
	Value Expr   // nil when the alias had no value (the binder treats it as null)
}

// BinaryOp is a binary operator.
type BinaryOp int

// Binary operators, lowest precedence first within the grouping of URL
// Conventions 5.1.1: or < and < comparison/has/in < additive < multiplicative.
const (
	OpOr BinaryOp = iota
	OpAnd
	OpEq
	OpNe
	OpGt
	OpGe
	OpLt
	OpLe
	OpHas
	OpAdd
	OpSub
	OpMul
	OpDiv
	OpDivBy
	OpMod
)

var binaryOpNames = [...]string{"or", "and", "eq", "ne", "gt", "ge", "lt", "le", "has", "add", "sub", "mul", "div", "divby", "mod"}

func (op BinaryOp) String() string { return binaryOpNames[op] }

// IsComparison reports whether op is eq, ne, gt, ge, lt or le.
func (op BinaryOp) IsComparison() bool { return op >= OpEq && op <= OpLe }

// IsArithmetic reports whether op is add, sub, mul, div, divby or mod.
func (op BinaryOp) IsArithmetic() bool { return op >= OpAdd && op <= OpMod }

// Binary is X op Y.
type Binary struct {
	Span Span
	Op   BinaryOp
	X, Y Expr
}

// UnaryOp is a prefix operator.
type UnaryOp int

// Unary operators.
const (
	OpNot UnaryOp = iota
	OpNeg
)

// Unary is "not X" or "-X".
type Unary struct {
	Span Span
	Op   UnaryOp
	X    Expr
}

// Call is a function call; Name is lower-cased (4.01 case-insensitivity).
// cast and isof are Calls too; their type-name argument is an Ident.
type Call struct {
	Span Span
	Name string
	Args []Expr
}

// In is "X in (a, b, ...)" (OData 4.01).
type In struct {
	Span Span
	X    Expr
	List []Expr
}

// Lambda is "path/any(v: expr)" or "path/all(v: expr)". It is parsed so that
// the binder can answer 501 with a precise message; Body may be nil for any().
type Lambda struct {
	Span     Span
	Path     *Ident
	Op       string // "any" or "all"
	Variable string
	Body     Expr
}

func (n *Literal) Pos() Span { return n.Span }
func (n *Ident) Pos() Span   { return n.Span }
func (n *Alias) Pos() Span   { return n.Span }
func (n *Binary) Pos() Span  { return n.Span }
func (n *Unary) Pos() Span   { return n.Span }
func (n *Call) Pos() Span    { return n.Span }
func (n *In) Pos() Span      { return n.Span }
func (n *Lambda) Pos() Span  { return n.Span }

func (*Literal) exprNode() {}
func (*Ident) exprNode()   {}
func (*Alias) exprNode()   {}
func (*Binary) exprNode()  {}
func (*Unary) exprNode()   {}
func (*Call) exprNode()    {}
func (*In) exprNode()      {}
func (*Lambda) exprNode()  {}

// OrderItem is one $orderby item.
type OrderItem struct {
	Span Span
	Expr Expr
	Desc bool
}

// SelectItem is one $select item: a property path or "*".
type SelectItem struct {
	Span Span
	Star bool
	Path []string
}

// Search is a $search expression.
type Search interface {
	Node
	searchNode()
}

// SearchTerm is a word or a "quoted phrase" (Phrase true; Text unescaped).
type SearchTerm struct {
	Span   Span
	Text   string
	Phrase bool
}

// SearchBinary is "X AND Y" (also implicit AND between adjacent terms) or "X OR Y".
type SearchBinary struct {
	Span Span
	Or   bool
	X, Y Search
}

// SearchNot is "NOT X".
type SearchNot struct {
	Span Span
	X    Search
}

func (n *SearchTerm) Pos() Span   { return n.Span }
func (n *SearchBinary) Pos() Span { return n.Span }
func (n *SearchNot) Pos() Span    { return n.Span }
func (*SearchTerm) searchNode()   {}
func (*SearchBinary) searchNode() {}
func (*SearchNot) searchNode()    {}

// KeyPart is one key value in a key predicate: "(42)", "('k')" or
// "(a=1,b='x')". Name is empty for the single-value form.
type KeyPart struct {
	Name  string
	Value Expr // *Literal or *Alias
}

// PathKind says what the resource path addresses.
type PathKind int

// Resource path kinds.
const (
	PathServiceRoot PathKind = iota // "/" (service document)
	PathMetadata                    // "/$metadata"
	PathBatch                       // "/$batch"
	PathEntitySet                   // "/Set"
	PathEntity                      // "/Set(key)"
	PathCount                       // "/Set/$count"
)

// Path is a parsed resource path relative to the service root.
type Path struct {
	Kind    PathKind
	Set     string    // entity set name as written (decoded)
	Key     []KeyPart // PathEntity only
	KeySpan Span      // span of the key predicate within the decoded segment
	// Rest holds any further segments (property access, $value, $ref,
	// $count, navigation, key segments), decoded.
	Rest []string
	// Segments are Rest parsed, one per segment: a name and an optional key
	// predicate ("Orders(10248)", "line_notes(1)").
	Segments []Segment
}

// Segment is one segment of Path.Rest: Name is an identifier, or the whole
// segment when it is not one ("$count", "$ref", "$value", a key segment
// such as "ALFKI" is also a Name). Key is the key predicate after the
// identifier, if any, with KeySpan its span in the segment. Err is set when
// the segment starts as identifier( but its key predicate does not parse
// (a *SyntaxError); the binder reports it only where it expects a
// navigation with a key, since the segment may also be a key value.
type Segment struct {
	Name    string
	Key     []KeyPart
	KeySpan Span
	Err     error
}

// Options are the system query options of a request.
type Options struct {
	Filter     Expr        // $filter
	Search     Search      // $search
	OrderBy    []OrderItem // $orderby
	Select     []SelectItem
	HasSelect  bool
	Top        *int64 // $top
	Skip       *int64 // $skip
	Count      *bool  // $count=true|false
	SkipToken  string // $skiptoken, opaque
	Format     string // $format value as written ("" if absent)
	DeltaToken string
	// ID is $id: the entity reference a DELETE of a collection's $ref
	// removes (Customers('A')/Orders/$ref?$id=Orders(1)); "" when absent.
	ID string
	// Expand is $expand (nil when absent).
	Expand []ExpandItem
	Apply  *Apply // $apply (Data Aggregation), nil when absent
	// Compute is $compute (nil when absent).
	Compute []ComputeItem
	// Unsupported lists valid system query options the gateway does not
	// implement ($levels, $index, $schemaversion, ...),
	// in the order given; the server answers 501 naming the first.
	Unsupported []string
	// Custom holds custom query options (names without '$' or '@'), raw values.
	Custom map[string]string
	// Raw keeps every option's decoded value by canonical name ("$filter",
	// "@p", "x"); nextLinks are built from it.
	Raw map[string]string
}

// Request is a parsed request URL.
type Request struct {
	Path    Path
	Options Options
}
