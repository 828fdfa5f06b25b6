package odata

import (
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// The printer writes canonical OData: lower-case operators and function
// names, single spaces around binary operators, no spaces inside calls and
// lists, literals as written (Raw), and the minimal parentheses that the
// precedence levels of the parser need to rebuild an equal tree. The output
// is decoded text: percent-encode it before putting it into a URL.

// Precedence levels, lowest first.
const (
	precOr = iota + 1
	precAnd
	precCmp
	precAdd
	precMul
	precUnary
	precPrimary
)

func opPrec(op BinaryOp) int {
	switch {
	case op == OpOr:
		return precOr
	case op == OpAnd:
		return precAnd
	case op.IsComparison() || op == OpHas:
		return precCmp
	case op == OpAdd || op == OpSub:
		return precAdd
	}
	return precMul
}

func exprPrec(e Expr) int {
	switch n := e.(type) {
	case *Binary:
		return opPrec(n.Op)
	case *In:
		return precCmp
	case *Unary:
		return precUnary
	}
	return precPrimary
}

func writeExpr(b *strings.Builder, e Expr) {
	switch n := e.(type) {
	case nil:
		b.WriteString("null")
	case *Literal:
		b.WriteString(n.String())
	case *Ident:
		b.WriteString(n.String())
	case *Alias:
		b.WriteString(n.String())
	case *Binary:
		p := opPrec(n.Op)
		writeOperand(b, n.X, p)
		b.WriteByte(' ')
		b.WriteString(n.Op.String())
		b.WriteByte(' ')
		writeOperand(b, n.Y, p+1)
	case *Unary:
		if n.Op == OpNot {
			b.WriteString("not ")
		} else {
			b.WriteByte('-')
			if _, ok := n.X.(*Literal); ok {
				b.WriteByte(' ') // "- 1" is negation, "-1" a literal
			}
		}
		writeOperand(b, n.X, precUnary)
	case *Call:
		b.WriteString(n.Name)
		writeList(b, n.Args)
	case *In:
		writeOperand(b, n.X, precCmp)
		b.WriteString(" in ")
		writeList(b, n.List)
	case *Lambda:
		writeExpr(b, n.Path)
		b.WriteByte('/')
		b.WriteString(n.Op)
		b.WriteByte('(')
		if n.Variable != "" {
			b.WriteString(n.Variable)
			b.WriteByte(':')
			writeExpr(b, n.Body)
		}
		b.WriteByte(')')
	default:
		b.WriteString(e.String())
	}
}

func writeOperand(b *strings.Builder, e Expr, min int) {
	if exprPrec(e) < min {
		b.WriteByte('(')
		writeExpr(b, e)
		b.WriteByte(')')
		return
	}
	writeExpr(b, e)
}

func writeList(b *strings.Builder, list []Expr) {
	b.WriteByte('(')
	for i, e := range list {
		if i > 0 {
			b.WriteByte(',')
		}
		writeExpr(b, e)
	}
	b.WriteByte(')')
}

func exprString(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e)
	return b.String()
}

// String returns Raw, or for a Literal built without Raw, its canonical
// form derived from Kind and Value.
func (n *Literal) String() string {
	if n.Raw != "" {
		return n.Raw
	}
	switch n.Kind {
	case NullLit:
		return "null"
	case StringLit:
		return "'" + strings.ReplaceAll(n.Value, "'", "''") + "'"
	case DurationLit:
		return "duration'" + n.Value + "'"
	case BinaryLit:
		return "binary'" + base64.RawURLEncoding.EncodeToString([]byte(n.Value)) + "'"
	}
	return n.Value
}

// String returns the path with '/' separators.
func (n *Ident) String() string { return strings.Join(n.Path, "/") }

// String returns "@name".
func (n *Alias) String() string { return "@" + n.Name }

func (n *Binary) String() string { return exprString(n) }
func (n *Unary) String() string  { return exprString(n) }
func (n *Call) String() string   { return exprString(n) }
func (n *In) String() string     { return exprString(n) }
func (n *Lambda) String() string { return exprString(n) }

// String returns the item as "expr" or "expr desc".
func (o OrderItem) String() string {
	if o.Desc {
		return exprString(o.Expr) + " desc"
	}
	return exprString(o.Expr)
}

// String returns "*" or the property path.
func (s SelectItem) String() string {
	if s.Star {
		return "*"
	}
	return strings.Join(s.Path, "/")
}

// FormatOrderBy prints $orderby items in canonical form ("Name,City desc").
func FormatOrderBy(items []OrderItem) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.String()
	}
	return strings.Join(parts, ",")
}

// FormatSelect prints $select items in canonical form ("Name,Address/City").
func FormatSelect(items []SelectItem) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.String()
	}
	return strings.Join(parts, ",")
}

// FormatKey prints the content of a key predicate (without parentheses):
// "42", "'k'" or "a=1,b='x'" for a composite key. With escape, each value is
// percent-encoded for a URL path segment (names are identifiers and need
// none).
func FormatKey(parts []KeyPart, escape bool) string {
	var b strings.Builder
	for i, kp := range parts {
		if i > 0 {
			b.WriteByte(',')
		}
		if kp.Name != "" {
			b.WriteString(kp.Name)
			b.WriteByte('=')
		}
		v := exprString(kp.Value)
		if escape {
			v = url.PathEscape(v)
		}
		b.WriteString(v)
	}
	return b.String()
}

// Encode prints the query options as a query string (without '?') for a
// link that repeats the request, such as a nextLink: every option of Raw
// except those named in omit, in a canonical order ($filter, $search,
// $orderby, $select, $count, $top, then the others by name), each name and
// value percent-encoded except for the characters that are safe and
// readable in OData URLs.
func (o *Options) Encode(omit ...string) string {
	names := make([]string, 0, len(o.Raw))
outer:
	for name := range o.Raw {
		for _, x := range omit {
			if name == x {
				continue outer
			}
		}
		names = append(names, name)
	}
	sort.Slice(names, func(i, j int) bool {
		ri, rj := optionRank(names[i]), optionRank(names[j])
		return ri < rj || ri == rj && names[i] < names[j]
	})
	var b strings.Builder
	for i, name := range names {
		if i > 0 {
			b.WriteByte('&')
		}
		escapeQuery(&b, name)
		b.WriteByte('=')
		escapeQuery(&b, o.Raw[name])
	}
	return b.String()
}

func optionRank(name string) int {
	switch name {
	case "$filter":
		return 0
	case "$search":
		return 1
	case "$orderby":
		return 2
	case "$select":
		return 3
	case "$count":
		return 4
	case "$top":
		return 5
	}
	return 6
}

// escapeQuery percent-encodes a query component, keeping characters that
// are safe and readable in OData URLs ($ , ' ( ) : / @ * - . _ ~ !).
func escapeQuery(b *strings.Builder, s string) {
	const keep = "$,'():/@*-._~!"
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xF])
	}
}
