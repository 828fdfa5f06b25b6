package odata

import "strings"

// This file parses $apply (OData Extension for Data Aggregation 4.0), the
// subset the gateway implements:
//
//	applyExpr      = applyTrafo *( "/" applyTrafo )
//	applyTrafo     = filterTrafo / groupbyTrafo / aggregateTrafo
//	filterTrafo    = "filter" OPEN BWS boolCommonExpr BWS CLOSE
//	groupbyTrafo   = "groupby" OPEN BWS groupbyList [ BWS COMMA BWS applyExpr ] BWS CLOSE
//	groupbyList    = OPEN BWS groupingProperty *( BWS COMMA BWS groupingProperty ) BWS CLOSE
//	aggregateTrafo = "aggregate" OPEN BWS aggregateExpr *( BWS COMMA BWS aggregateExpr ) BWS CLOSE
//	aggregateExpr  = commonExpr RWS "with" RWS aggregationMethod RWS "as" RWS alias
//	               / "$count" RWS "as" RWS alias
//
// Every other transformation of the specification (compute, concat,
// expand, search, identity, orderby, top, skip, topcount, ..., rollup in a
// groupby list, custom aggregates and methods, from) is valid syntax the
// gateway does not implement: an *UnsupportedError naming it.

// Apply is a parsed $apply: its transformations in order.
type Apply struct {
	Span  Span
	Steps []Transformation
}

// Transformation is one step of $apply.
type Transformation interface {
	Node
	trafoNode()
}

// FilterStep is filter(expr).
type FilterStep struct {
	Span Span
	Expr Expr
}

// GroupBy is groupby((props), then): Then is the apply expression applied
// to each group (usually one aggregate), empty when absent.
type GroupBy struct {
	Span  Span
	Props []*Ident
	Then  []Transformation
}

// Aggregate is aggregate(items).
type Aggregate struct {
	Span  Span
	Items []AggregateItem
}

// AggregateItem is "expr with method as alias", or "$count as alias"
// (Expr nil, Method "").
type AggregateItem struct {
	Span   Span
	Expr   Expr
	Method string // lower-case: sum, min, max, average, countdistinct
	Alias  string
}

func (n *FilterStep) Pos() Span { return n.Span }
func (n *GroupBy) Pos() Span    { return n.Span }
func (n *Aggregate) Pos() Span  { return n.Span }
func (n *Apply) Pos() Span      { return n.Span }
func (*FilterStep) trafoNode()  {}
func (*GroupBy) trafoNode()     {}
func (*Aggregate) trafoNode()   {}

// unsupportedTrafos are the transformations of the specification that the
// gateway does not implement (501 rather than 400).
var unsupportedTrafos = map[string]bool{
	"compute": true, "concat": true, "expand": true, "search": true, "identity": true,
	"orderby": true, "top": true, "skip": true, "nest": true, "topcount": true, "topsum": true,
	"toppercent": true, "bottomcount": true, "bottomsum": true, "bottompercent": true,
	"ancestors": true, "descendants": true, "traverse": true, "join": true, "outerjoin": true,
}

// aggregationMethods are the standard methods implemented.
var aggregationMethods = map[string]bool{"sum": true, "min": true, "max": true, "average": true, "countdistinct": true}

// ParseApply parses a decoded $apply value. Errors are *SyntaxError
// (Option "$apply") or *UnsupportedError naming the transformation.
func ParseApply(s string, aliases map[string]string) (*Apply, error) {
	p, err := newParser(s, "$apply", aliases, 0)
	if err != nil {
		return nil, err
	}
	steps, err := p.applySeq()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected("'/' or end of input")
	}
	return &Apply{Span: Span{0, len(s)}, Steps: steps}, nil
}

// applySeq parses applyTrafo *( "/" applyTrafo ).
func (p *parser) applySeq() ([]Transformation, error) {
	var steps []Transformation
	for {
		t, err := p.applyTrafo()
		if err != nil {
			return nil, err
		}
		steps = append(steps, t)
		if p.tok.kind != tSlash {
			return steps, nil
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
}

func (p *parser) applyTrafo() (Transformation, error) {
	t := p.tok
	if t.kind != tWord || p.nextByte() != '(' {
		return nil, p.unexpected("a transformation such as filter(...), groupby(...) or aggregate(...)")
	}
	name := lowerASCII(t.text)
	switch {
	case name == "filter", name == "groupby", name == "aggregate":
	case unsupportedTrafos[name]:
		return nil, &UnsupportedError{Option: "$apply", Feature: "transformation " + name}
	case strings.Contains(name, "."):
		return nil, &UnsupportedError{Option: "$apply", Feature: "custom transformation " + t.text}
	default:
		return nil, p.errAt(t.start, "unknown transformation "+quoteText(t.text))
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil { // '('
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var step Transformation
	switch name {
	case "filter":
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		step = &FilterStep{Expr: x}
	case "groupby":
		g, err := p.groupBy()
		if err != nil {
			return nil, err
		}
		step = g
	case "aggregate":
		a := &Aggregate{}
		for {
			it, err := p.aggregateItem()
			if err != nil {
				return nil, err
			}
			a.Items = append(a.Items, it)
			if p.tok.kind != tComma {
				break
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		step = a
	}
	if p.tok.kind != tRParen {
		return nil, p.unexpected("')'")
	}
	sp := Span{t.start, p.tok.end}
	switch s := step.(type) {
	case *FilterStep:
		s.Span = sp
	case *GroupBy:
		s.Span = sp
	case *Aggregate:
		s.Span = sp
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return step, nil
}

// groupBy parses the inside of groupby( ... ) up to, not including, ')'.
func (p *parser) groupBy() (*GroupBy, error) {
	g := &GroupBy{}
	if p.tok.kind != tLParen {
		return nil, p.unexpected("'(' starting the list of grouping properties")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	for {
		if p.tok.kind == tWord && p.nextByte() == '(' {
			if lowerASCII(p.tok.text) == "rollup" {
				return nil, &UnsupportedError{Option: "$apply", Feature: "rollup"}
			}
			return nil, p.unexpected("a grouping property")
		}
		if p.tok.kind != tWord {
			return nil, p.unexpected("a grouping property")
		}
		x, err := p.parsePath()
		if err != nil {
			return nil, err
		}
		id, ok := x.(*Ident)
		if !ok {
			return nil, p.errAt(x.Pos().Start, "expected a grouping property")
		}
		g.Props = append(g.Props, id)
		if p.tok.kind == tComma {
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		}
		if p.tok.kind != tRParen {
			return nil, p.unexpected("',' or ')'")
		}
		break
	}
	if err := p.advance(); err != nil { // past the list's ')'
		return nil, err
	}
	if p.tok.kind == tComma {
		if err := p.advance(); err != nil {
			return nil, err
		}
		then, err := p.applySeq()
		if err != nil {
			return nil, err
		}
		g.Then = then
	}
	return g, nil
}

// aggregateItem parses one aggregateExpr.
func (p *parser) aggregateItem() (AggregateItem, error) {
	start := p.tok.start
	var it AggregateItem
	if p.tok.kind == tDollar && p.tok.text == "$count" {
		if err := p.advance(); err != nil {
			return it, err
		}
	} else {
		x, err := p.parseOr()
		if err != nil {
			return it, err
		}
		it.Expr = x
		if !p.keyword("with") {
			if p.keyword("as") {
				return it, p.errAt(p.tok.start, "expected \"with\" and an aggregation method before \"as\"")
			}
			if p.tok.kind == tComma || p.tok.kind == tRParen {
				if id, ok := x.(*Ident); ok {
					return it, &UnsupportedError{Option: "$apply", Feature: "custom aggregate " + id.String()}
				}
			}
			return it, p.unexpected("\"with\"")
		}
		if err := p.advance(); err != nil {
			return it, err
		}
		if p.tok.kind != tWord || !p.tok.space {
			return it, p.unexpected("an aggregation method")
		}
		m := p.tok.text
		switch lm := lowerASCII(m); {
		case aggregationMethods[lm]:
			it.Method = lm
		case strings.Contains(m, "."):
			return it, &UnsupportedError{Option: "$apply", Feature: "custom aggregation method " + m}
		default:
			return it, p.errAt(p.tok.start, "unknown aggregation method "+quoteText(m)+" (sum, min, max, average, countdistinct)")
		}
		if err := p.advance(); err != nil {
			return it, err
		}
	}
	if !p.keyword("as") {
		if p.keyword("from") {
			return it, &UnsupportedError{Option: "$apply", Feature: "from in aggregate"}
		}
		return it, p.unexpected("\"as\" and an alias")
	}
	if err := p.advance(); err != nil {
		return it, err
	}
	if p.tok.kind != tWord || !p.tok.space || strings.Contains(p.tok.text, ".") {
		return it, p.unexpected("an alias (a simple identifier)")
	}
	it.Alias = p.tok.text
	it.Span = Span{start, p.tok.end}
	if err := p.advance(); err != nil {
		return it, err
	}
	if p.keyword("from") {
		return it, &UnsupportedError{Option: "$apply", Feature: "from in aggregate"}
	}
	return it, nil
}

// keyword reports whether the current token is the word kw (case-sensitive,
// as the ABNF spells keywords) preceded by whitespace.
func (p *parser) keyword(kw string) bool {
	return p.tok.kind == tWord && p.tok.space && p.tok.text == kw
}

// String prints the apply expression in canonical form.
func (a *Apply) String() string {
	var b strings.Builder
	writeSteps(&b, a.Steps)
	return b.String()
}

func (n *FilterStep) String() string { return "filter(" + exprString(n.Expr) + ")" }

func (n *GroupBy) String() string {
	var b strings.Builder
	writeTrafo(&b, n)
	return b.String()
}

func (n *Aggregate) String() string {
	var b strings.Builder
	writeTrafo(&b, n)
	return b.String()
}

// String prints "expr with method as alias" or "$count as alias".
func (it AggregateItem) String() string {
	if it.Expr == nil {
		return "$count as " + it.Alias
	}
	return exprString(it.Expr) + " with " + it.Method + " as " + it.Alias
}

func writeSteps(b *strings.Builder, steps []Transformation) {
	for i, s := range steps {
		if i > 0 {
			b.WriteByte('/')
		}
		writeTrafo(b, s)
	}
}

func writeTrafo(b *strings.Builder, t Transformation) {
	switch n := t.(type) {
	case *FilterStep:
		b.WriteString(n.String())
	case *GroupBy:
		b.WriteString("groupby((")
		for i, id := range n.Props {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(id.String())
		}
		b.WriteByte(')')
		if len(n.Then) > 0 {
			b.WriteByte(',')
			writeSteps(b, n.Then)
		}
		b.WriteByte(')')
	case *Aggregate:
		b.WriteString("aggregate(")
		for i, it := range n.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(it.String())
		}
		b.WriteByte(')')
	}
}
