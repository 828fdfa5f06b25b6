package odata

import "strings"

// ComputeItem is one "expr as alias" of $compute (OData 4.01 URL
// Conventions §5.1.5).
type ComputeItem struct {
	Span  Span
	Expr  Expr
	Alias string
	// AliasSpan is where the alias is written.
	AliasSpan Span
}

// ParseCompute parses a decoded $compute value:
//
//	compute     = computeItem *( COMMA computeItem )
//	computeItem = commonExpr RWS "as" RWS computedProperty
//
// computedProperty is a simple identifier. Errors are *SyntaxError with
// Option "$compute".
func ParseCompute(s string, aliases map[string]string) ([]ComputeItem, error) {
	p, err := newParser(s, "$compute", aliases, 0)
	if err != nil {
		return nil, err
	}
	var items []ComputeItem
	for {
		start := p.tok.start
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if !p.keyword("as") {
			return nil, p.unexpected("\"as\" and an alias")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tWord || !p.tok.space || strings.Contains(p.tok.text, ".") {
			if p.tok.kind == tEOF {
				return nil, p.unexpected("an alias")
			}
			return nil, p.errAt(p.tok.start, "expected an alias (a simple identifier), found "+quoteText(p.tok.text))
		}
		items = append(items, ComputeItem{Span: Span{start, p.tok.end}, Expr: x, Alias: p.tok.text, AliasSpan: Span{p.tok.start, p.tok.end}})
		if err := p.advance(); err != nil {
			return nil, err
		}
		switch p.tok.kind {
		case tComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		case tEOF:
			return items, nil
		}
		return nil, p.unexpected("',' or end of input")
	}
}

// String prints "expr as alias".
func (it ComputeItem) String() string { return exprString(it.Expr) + " as " + it.Alias }

// FormatCompute prints $compute items in canonical form.
func FormatCompute(items []ComputeItem) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = it.String()
	}
	return strings.Join(parts, ",")
}
