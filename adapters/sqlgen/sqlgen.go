// Package sqlgen turns bound queries and writes into SQL text plus bind
// arguments through a small Dialect. It is the one place where SQL is
// assembled, and it follows three rules:
//
//   - identifiers come only from the model (Property.Column,
//     EntitySet.Schema/Table) and are always quoted with embedded quotes
//     doubled (QuoteIdent);
//   - every value from a request is a bind parameter, typed by the dialect;
//     the SQL text never depends on a value, only on the shape of the query;
//   - OData's two-valued logic is decided here, on the typed tree: eq/ne
//     treat null as a value (null eq null is true, null ne 5 is true), every
//     other comparison and every function with a null operand is false, and
//     that false is fixed before any not() so that not(x gt 5) keeps rows
//     where x is null.
//
// Expressions that a backend cannot evaluate exactly are refused with an
// *adapters.Error of kind NotImplemented; nothing is evaluated in memory.
// Division, integer division and modulo by zero yield null on every backend
// (the divisor is wrapped in NULLIF), so such rows simply do not match.
package sqlgen

import (
	"fmt"
	"strings"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Statement is SQL text with its bind arguments, ready for database/sql.
type Statement struct {
	SQL  string
	Args []any
}

// Use says where a column reference appears, so that a dialect can pick a
// form that keeps indexes usable where ordering is concerned and a form with
// OData value semantics where values are inspected.
type Use int

const (
	// UseValue is a column read by a filter, a function or arithmetic:
	// char(n) columns without their padding, local timestamps as instants.
	UseValue Use = iota
	// UseOrder is a column in ORDER BY, in a keyset predicate or in a key
	// equality; its order must be the order of its UseValue form (NULLs
	// aside), and ColumnParam values compare with it.
	UseOrder
)

// Operand is a rendered value expression handed to a dialect.
type Operand struct {
	SQL      string
	Type     metadata.Type
	Nullable bool               // may evaluate to NULL
	Const    *semantic.Const    // set when the operand is a constant
	Prop     *metadata.Property // set when the operand is a plain property
}

// Dialect is what differs between backends. Methods that take *Params add
// bind arguments through it and return SQL text that refers to them by
// placeholder; returned fragments are self-contained (parenthesised where
// precedence could matter). Errors are *adapters.Error values, of kind
// NotImplemented for expressions the backend cannot evaluate exactly.
type Dialect interface {
	// Name is a short backend name ("postgres", "sqlite") used in messages
	// and golden files.
	Name() string
	// Placeholder is the text of bind parameter n (1-based). It must be a
	// numbered form so that a parameter can be referenced more than once and
	// in any order ($n, ?n). A dialect whose driver knows only positional
	// placeholders (MySQL's ?) returns a marker here and implements
	// Positional.
	Placeholder(n int) string
	// Column references p; ref is the plain reference to its column,
	// QuoteIdent(p.Column) or qualified by a table or alias inside
	// correlated subqueries (Ref).
	Column(ref string, p *metadata.Property, use Use) string
	// Param binds a typed constant (nulls included) and returns its SQL.
	Param(ps *Params, c semantic.Const) (string, error)
	// ColumnParam binds a value to be compared with Column(p, UseOrder) or
	// stored into p's column (keyset values, key lookups, writes).
	ColumnParam(ps *Params, p *metadata.Property, c semantic.Const) (string, error)
	// In renders "x is one of vals" for a non-empty list of non-null
	// constants of type t; the result is NULL only when x is NULL.
	In(ps *Params, x Operand, t metadata.Type, vals []semantic.Const) (string, error)
	// NullSafeEqual renders l = r (or l <> r when negate) with null treated
	// as a value; the result is never NULL.
	NullSafeEqual(l, r string, negate bool) string
	// Bool is the literal for true or false.
	Bool(v bool) string
	// Arith renders l op r with result type t (operands may have narrower
	// numeric types than t). Division and modulo by zero must yield NULL,
	// except a floating-point division, which yields ±Infinity (and NaN for
	// 0/0) where the engine has them.
	Arith(op semantic.ArithOp, t metadata.Type, l, r Operand) (string, error)
	// Neg renders unary minus.
	Neg(x Operand) (string, error)
	// Call renders a canonical function other than now, maxdatetime and
	// mindatetime (sqlgen binds those as constants). contains, startswith
	// and endswith (with a non-constant pattern here, see Match) are exact
	// and case-sensitive; the result of any function may be NULL only when
	// an argument is NULL. Constant substring arguments arrive already
	// clamped to 0 <= n < 2^31 as Int32 constants; others must be clamped at
	// 0 by the dialect (negative index or length count as 0).
	Call(ps *Params, fn semantic.Func, t metadata.Type, args []Operand) (string, error)
	// Match renders contains, startswith or endswith of x with a constant,
	// non-null pattern (not yet bound: the dialect binds what it needs, e.g.
	// a LIKE pattern escaped with EscapeLike). Exact and case-sensitive;
	// NULL only when x is NULL.
	Match(ps *Params, fn semantic.Func, x Operand, pattern string) (string, error)
	// Search renders a case-insensitive "x contains text" ($search); NULL
	// only when x is NULL.
	Search(ps *Params, x Operand, text string) (string, error)
	// OrderItem renders one ORDER BY item: ascending puts NULLs first,
	// descending puts them last (OData orders null lowest).
	OrderItem(x string, desc, nullable bool) string
	// LimitOffset renders the LIMIT/OFFSET tail; limit 0 means no limit and
	// offset 0 no offset. It returns "" when both are 0.
	LimitOffset(ps *Params, limit, offset int64) string
	// SetDefault renders the value that resets p to its default in an
	// UPDATE (DEFAULT where the backend allows it).
	SetDefault(p *metadata.Property) string
	// NullBool is the unknown truth value as an expression
	// (CAST(NULL AS BOOLEAN) where the backend has that cast).
	NullBool() string
	// DefaultValues is the tail of an INSERT that writes no column
	// ("DEFAULT VALUES", or "() VALUES ()" on MySQL).
	DefaultValues() string
}

// Positional is implemented by dialects whose driver binds parameters by
// position only: Placeholder returns a marker that cannot occur in the
// rest of the SQL text, and Rebind turns a finished statement into the
// driver's form, repeating arguments that are referenced more than once.
type Positional interface {
	Rebind(Statement) Statement
}

// KeyEqualer is implemented by dialects that render the equality of a key
// column with a key value in their own form. col is Column(p, UseOrder) and
// param ColumnParam's result; the form must be exactly "col = param"
// (MySQL adds an index-friendly prefilter in the column's own collation).
type KeyEqualer interface {
	KeyEqual(p *metadata.Property, col, param string) string
}

// Bind is the statement for d: sql with args, rebound for positional
// dialects (see Positional). Every statement sqlgen returns went through it.
func Bind(d Dialect, sql string, args []any) Statement {
	st := Statement{SQL: sql, Args: args}
	if p, ok := d.(Positional); ok {
		return p.Rebind(st)
	}
	return st
}

// Params collects the bind arguments of one statement.
type Params struct {
	d    Dialect
	args []any
}

// NewParams returns an empty argument list for d.
func NewParams(d Dialect) *Params { return &Params{d: d} }

// Add appends v and returns its placeholder.
func (ps *Params) Add(v any) string {
	ps.args = append(ps.args, v)
	return ps.d.Placeholder(len(ps.args))
}

// Args returns the arguments added so far.
func (ps *Params) Args() []any { return ps.args }

// QuoteIdent quotes a model identifier for SQL: wrapped in double quotes,
// embedded double quotes doubled. PostgreSQL and SQLite use this form, and so
// does MySQL/MariaDB with the ANSI_QUOTES sql_mode the adapter pins.
func QuoteIdent(name string) string {
	if !strings.Contains(name, `"`) {
		return `"` + name + `"`
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// QuoteLiteral quotes a string as an SQL literal with embedded single quotes
// doubled. It is only for texts that come from configuration (a time zone
// name), never for request values, which are always bind parameters.
func QuoteLiteral(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// Table is the quoted, schema-qualified name of the set's table.
func Table(set *metadata.EntitySet) string {
	if set.Schema == "" {
		return QuoteIdent(set.Table)
	}
	return QuoteIdent(set.Schema) + "." + QuoteIdent(set.Table)
}

// EscapeLike escapes %, _ and \ with a backslash for a LIKE pattern used
// with ESCAPE '\'.
func EscapeLike(s string) string {
	if !strings.ContainsAny(s, `%_\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 4)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '%', '_', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// NotImplemented returns the error for an expression a backend cannot
// evaluate exactly.
func NotImplemented(format string, args ...any) error {
	return &adapters.Error{Kind: adapters.NotImplemented, Msg: fmt.Sprintf(format, args...)}
}

func internalf(format string, args ...any) error {
	return &adapters.Error{Kind: adapters.Internal, Msg: fmt.Sprintf(format, args...)}
}
