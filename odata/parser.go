package odata

import "strings"

// parser is a recursive-descent parser for common expressions with one
// token of lookahead. There is one method per precedence level, lowest
// first; each is preceded by the ABNF rule (odata-abnf-construction-rules)
// it implements. The ABNF states commonExpr as a flat, ambiguous rule; the
// grouping below follows the operator precedence of OData URL Conventions
// 5.1.1 as agreed in ast.go: or < and < comparison (eq ne gt ge lt le has in)
// < additive < multiplicative < unary (- not) < primary. Binary operators
// are left-associative.
type parser struct {
	lex     lexer
	tok     token
	depth   int
	aliases map[string]string // "@name" -> decoded alias value
	state   *aliasState
}

// aliasState is shared by a parser and the parsers of the alias values it
// resolves, to detect cycles and parse each alias only once.
type aliasState struct {
	resolving map[string]bool
	resolved  map[string]Expr
}

func newParser(s, opt string, aliases map[string]string, depth int) (*parser, error) {
	if len(s) > MaxInputLen {
		return nil, &SyntaxError{Option: opt, Offset: MaxInputLen, Msg: "input longer than 1 MiB"}
	}
	p := &parser{lex: lexer{s: s, opt: opt}, aliases: aliases, depth: depth}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errAt(off int, msg string) error { return p.lex.errAt(off, msg) }

// enter guards recursion; every enter is paired with a leave.
func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errAt(p.tok.start, "expression nested too deeply")
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// nextByte is the byte right after the current token (0 at the end).
func (p *parser) nextByte() byte {
	if p.tok.end < len(p.lex.s) {
		return p.lex.s[p.tok.end]
	}
	return 0
}

// unexpected reports the current token where want was expected. A word
// after whitespace where an operator could stand is reported as an unknown
// operator ("Name equals 'x'").
func (p *parser) unexpected(want string) error {
	t := p.tok
	if t.kind == tWord {
		if _, ok := binaryOps[lowerASCII(t.text)]; ok && !t.space {
			return p.errAt(t.start, "expected whitespace before "+quoteText(t.text))
		}
		if t.space {
			return p.errAt(t.start, "unknown operator "+quoteText(t.text))
		}
	}
	return p.errAt(t.start, "expected "+want+", found "+t.describe())
}

// ParseFilter parses a decoded $filter value (boolCommonExpr) without
// parameter aliases: every alias reference becomes an *Alias with nil Value.
// Errors are *SyntaxError (Option "$filter") or *UnsupportedError.
func ParseFilter(s string) (Expr, error) { return ParseExpr(s, nil) }

// ParseExpr parses a decoded common expression as $filter does. aliases maps
// "@name" (the key as in Options.Raw) to the decoded alias value; an alias is
// parsed as a common expression when first referenced (errors in it name the
// alias as Option), a referenced alias missing from the map becomes an
// *Alias with nil Value, and alias cycles are a *SyntaxError.
func ParseExpr(s string, aliases map[string]string) (Expr, error) {
	return parseExprText(s, "$filter", aliases, nil, 0)
}

func parseExprText(s, opt string, aliases map[string]string, st *aliasState, depth int) (Expr, error) {
	p, err := newParser(s, opt, aliases, depth)
	if err != nil {
		return nil, err
	}
	p.state = st
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.unexpected("end of input")
	}
	return x, nil
}

// ParseOrderBy parses a decoded $orderby value. Errors are *SyntaxError
// (Option "$orderby") or *UnsupportedError.
func ParseOrderBy(s string) ([]OrderItem, error) { return parseOrderBy(s, nil) }

// orderby     = orderbyItem *( COMMA orderbyItem )
// orderbyItem = commonExpr [ RWS ( "asc" / "desc" ) ]
func parseOrderBy(s string, aliases map[string]string) ([]OrderItem, error) {
	p, err := newParser(s, "$orderby", aliases, 0)
	if err != nil {
		return nil, err
	}
	var items []OrderItem
	for {
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		item := OrderItem{Span: x.Pos(), Expr: x}
		if p.tok.kind == tWord && p.tok.space {
			switch lowerASCII(p.tok.text) {
			case "desc":
				item.Desc = true
				fallthrough
			case "asc":
				item.Span.End = p.tok.end
				if err := p.advance(); err != nil {
					return nil, err
				}
			}
		}
		items = append(items, item)
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

var binaryOps = map[string]BinaryOp{
	"or": OpOr, "and": OpAnd,
	"eq": OpEq, "ne": OpNe, "gt": OpGt, "ge": OpGe, "lt": OpLt, "le": OpLe, "has": OpHas,
	"add": OpAdd, "sub": OpSub,
	"mul": OpMul, "div": OpDiv, "divby": OpDivBy, "mod": OpMod,
}

// peekOp reports whether the current token is a binary operator word (case-
// insensitive) of the level accepted by want, preceded by whitespace (RWS).
// "in" is reported as (OpHas, true, true) only when in is set.
func (p *parser) peekOp(want func(BinaryOp) bool, in bool) (op BinaryOp, isIn, ok bool) {
	if p.tok.kind != tWord || !p.tok.space {
		return 0, false, false
	}
	w := lowerASCII(p.tok.text)
	if in && w == "in" {
		return 0, true, true
	}
	op, ok = binaryOps[w]
	if !ok || !want(op) {
		return 0, false, false
	}
	return op, false, true
}

// skipOperator consumes an operator word and requires RWS after it (a
// parenthesis may follow directly).
func (p *parser) skipOperator() error {
	word := p.tok
	if err := p.advance(); err != nil {
		return err
	}
	if !p.tok.space && p.tok.kind != tLParen && p.tok.kind != tEOF {
		return p.errAt(p.tok.start, "expected whitespace after "+quoteText(word.text))
	}
	return nil
}

func isOr(op BinaryOp) bool  { return op == OpOr }
func isAnd(op BinaryOp) bool { return op == OpAnd }
func isCmp(op BinaryOp) bool { return op.IsComparison() || op == OpHas }
func isAdd(op BinaryOp) bool { return op == OpAdd || op == OpSub }
func isMul(op BinaryOp) bool { return op >= OpMul && op <= OpMod }

func binary(op BinaryOp, x, y Expr) Expr {
	return &Binary{Span: Span{x.Pos().Start, y.Pos().End}, Op: op, X: x, Y: y}
}

// leftAssoc parses one left-associative binary precedence level: operands
// from next, joined by the operators isOp accepts.
func (p *parser) leftAssoc(isOp func(BinaryOp) bool, next func() (Expr, error)) (Expr, error) {
	x, err := next()
	if err != nil {
		return nil, err
	}
	for {
		op, _, ok := p.peekOp(isOp, false)
		if !ok {
			return x, nil
		}
		if err := p.skipOperator(); err != nil {
			return nil, err
		}
		y, err := next()
		if err != nil {
			return nil, err
		}
		x = binary(op, x, y)
	}
}

// parseOr implements
//
//	boolCommonExpr = commonExpr [ orExpr ]
//	orExpr         = RWS "or" RWS boolCommonExpr
func (p *parser) parseOr() (Expr, error) { return p.leftAssoc(isOr, p.parseAnd) }

// parseAnd implements
//
//	andExpr = RWS "and" RWS boolCommonExpr
func (p *parser) parseAnd() (Expr, error) { return p.leftAssoc(isAnd, p.parseComparison) }

// parseComparison implements
//
//	eqExpr  = RWS "eq"  RWS commonExpr   (likewise ne, lt, le, gt, ge)
//	hasExpr = RWS "has" RWS enumLiteral   (any additive expression here)
//	inExpr  = RWS "in"  RWS ( listExpr / commonExpr )   (listExpr only)
func (p *parser) parseComparison() (Expr, error) {
	x, err := p.parseAdditive()
	if err != nil {
		return nil, err
	}
	for {
		op, isIn, ok := p.peekOp(isCmp, true)
		if !ok {
			return x, nil
		}
		if err := p.skipOperator(); err != nil {
			return nil, err
		}
		if isIn {
			if x, err = p.parseInList(x); err != nil {
				return nil, err
			}
			continue
		}
		y, err := p.parseAdditive()
		if err != nil {
			return nil, err
		}
		x = binary(op, x, y)
	}
}

// parseInList implements
//
//	listExpr = OPEN BWS [ primitiveLiteral BWS *( COMMA BWS primitiveLiteral BWS ) ] CLOSE
//
// A list of two or more items may hold only literals (including negative
// numbers) and parameter aliases; a single item may be any expression,
// since "(x)" is also a parenExpr.
func (p *parser) parseInList(x Expr) (Expr, error) {
	if p.tok.kind != tLParen {
		return nil, p.unexpected("'(' after in")
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil {
		return nil, err
	}
	list := []Expr{}
	for p.tok.kind != tRParen {
		item, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if !isListItem(item) && (len(list) > 0 || p.tok.kind == tComma) {
			off := item.Pos().Start
			if len(list) == 0 {
				off = p.tok.start
			}
			return nil, p.errAt(off, "an in list of several items may contain only literals and parameter aliases")
		}
		list = append(list, item)
		if p.tok.kind == tComma {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind == tRParen {
				return nil, p.unexpected("a literal")
			}
			continue
		}
		if p.tok.kind != tRParen {
			return nil, p.unexpected("',' or ')'")
		}
	}
	end := p.tok.end
	if err := p.advance(); err != nil {
		return nil, err
	}
	return &In{Span: Span{x.Pos().Start, end}, X: x, List: list}, nil
}

func isListItem(e Expr) bool {
	switch e.(type) {
	case *Literal, *Alias:
		return true
	}
	return false
}

// parseAdditive implements
//
//	addExpr = RWS "add" RWS commonExpr
//	subExpr = RWS "sub" RWS commonExpr
func (p *parser) parseAdditive() (Expr, error) { return p.leftAssoc(isAdd, p.parseMultiplicative) }

// parseMultiplicative implements
//
//	mulExpr   = RWS "mul"   RWS commonExpr
//	divExpr   = RWS "div"   RWS commonExpr
//	divbyExpr = RWS "divby" RWS commonExpr
//	modExpr   = RWS "mod"   RWS commonExpr
func (p *parser) parseMultiplicative() (Expr, error) { return p.leftAssoc(isMul, p.parseUnary) }

// parseUnary implements
//
//	negateExpr = "-" BWS commonExpr
//	notExpr    = "not" RWS boolCommonExpr
//
// "-" directly followed by a number is a negative literal (lexer); "not" is
// reserved: it is always the operator. RWS after "not" may be replaced by an
// opening parenthesis.
func (p *parser) parseUnary() (Expr, error) {
	var op UnaryOp
	switch {
	case p.tok.kind == tMinus:
		op = OpNeg
	case p.tok.kind == tWord && equalFoldASCII(p.tok.text, "not"):
		op = OpNot
	default:
		return p.parsePrimary()
	}
	start := p.tok.start
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if op == OpNot {
		if err := p.skipOperator(); err != nil {
			return nil, err
		}
	} else if err := p.advance(); err != nil {
		return nil, err
	}
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	return &Unary{Span: Span{start, x.Pos().End}, Op: op, X: x}, nil
}

// parsePrimary implements the operand alternatives of commonExpr:
//
//	primitiveLiteral / parameterAlias / parenExpr / methodCallExpr /
//	castExpr / isofExpr / firstMemberExpr (property paths, $count, lambdas)
//	parenExpr = OPEN BWS commonExpr BWS CLOSE
//
// $it starts a path when a '/' follows ($it/Name); $it alone, $this, $root,
// JSON literals, annotations and bound functions are *UnsupportedError.
func (p *parser) parsePrimary() (Expr, error) {
	t := p.tok
	switch t.kind {
	case tLit:
		lit := &Literal{Span: Span{t.start, t.end}, Kind: t.lit, Raw: t.text, Value: t.val}
		if err := p.advance(); err != nil {
			return nil, err
		}
		return lit, nil
	case tAlias:
		if err := p.advance(); err != nil {
			return nil, err
		}
		return p.resolveAlias(t)
	case tLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tRParen {
			return nil, p.unexpected("')'")
		}
		x = withSpan(x, Span{t.start, p.tok.end})
		if err := p.advance(); err != nil {
			return nil, err
		}
		return x, nil
	case tWord:
		if p.nextByte() == '(' {
			return p.parseCall()
		}
		return p.parsePath()
	case tDollar:
		if t.text == "$it" && p.nextByte() == '/' {
			// $it/Name, $it/Orders/any(...): a path from the current
			// instance (the binder resolves it, also inside lambdas).
			return p.parsePath()
		}
		switch t.text {
		case "$it", "$this", "$root":
			return nil, &UnsupportedError{Option: p.lex.opt, Feature: t.text}
		}
	}
	return nil, p.unexpected("an expression")
}

// withSpan widens the span of a parenthesised expression to include the
// parentheses; the node is fresh from this parse, so nothing else sees it.
// Shared alias values are returned unchanged.
func withSpan(x Expr, sp Span) Expr {
	switch n := x.(type) {
	case *Literal:
		n.Span = sp
	case *Ident:
		n.Span = sp
	case *Alias:
		n.Span = sp
	case *Binary:
		n.Span = sp
	case *Unary:
		n.Span = sp
	case *Call:
		n.Span = sp
	case *In:
		n.Span = sp
	case *Lambda:
		n.Span = sp
	}
	return x
}

// parseCall implements every call form by one rule (the binder checks
// names and arity):
//
//	methodCallExpr = name OPEN BWS [ commonExpr *( BWS COMMA BWS commonExpr ) ] BWS CLOSE
//	isofExpr       = "isof" OPEN BWS [ commonExpr BWS COMMA BWS ] optionallyQualifiedTypeName BWS CLOSE
//	castExpr       = "cast" OPEN BWS [ commonExpr BWS COMMA BWS ] optionallyQualifiedTypeName BWS CLOSE
//
// The type name of cast/isof is an *Ident whose path segment may be qualified.
func (p *parser) parseCall() (Expr, error) {
	name := p.tok
	lname := lowerASCII(name.text)
	if lname == "any" || lname == "all" {
		return nil, p.errAt(name.end, "lambda operator "+lname+" must follow a collection path")
	}
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil { // to '('
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var args []Expr
	for p.tok.kind != tRParen {
		if p.tok.kind == tWord && p.nextByte() == '=' && strings.Contains(name.text, ".") {
			return nil, &UnsupportedError{Option: p.lex.opt, Feature: "function " + name.text}
		}
		arg, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		args = append(args, arg)
		if p.tok.kind == tComma {
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind == tRParen {
				return nil, p.unexpected("an expression")
			}
			continue
		}
		if p.tok.kind != tRParen {
			return nil, p.unexpected("',' or ')'")
		}
	}
	end := p.tok.end
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tSlash && !p.tok.space {
		return nil, &UnsupportedError{Option: p.lex.opt, Feature: "path after function call " + lname}
	}
	return &Call{Span: Span{name.start, end}, Name: lname, Args: args}, nil
}

// parsePath implements the supported subset of firstMemberExpr:
//
//	memberPath = identifier *( "/" ( identifier / "$count" ) ) [ "/" ( anyExpr / allExpr ) ]
//
// where identifier may be qualified (Namespace.Name, a type cast segment).
func (p *parser) parsePath() (Expr, error) {
	id := &Ident{Span: Span{p.tok.start, p.tok.end}, Path: []string{p.tok.text}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	for p.tok.kind == tSlash && !p.tok.space {
		if err := p.advance(); err != nil {
			return nil, err
		}
		t := p.tok
		if t.space {
			return nil, p.errAt(t.start, "unexpected whitespace after '/'")
		}
		switch t.kind {
		case tWord:
			if p.nextByte() == '(' {
				switch op := lowerASCII(t.text); op {
				case "any", "all":
					return p.parseLambda(id, op)
				}
				return nil, &UnsupportedError{Option: p.lex.opt, Feature: "bound function " + t.text}
			}
		case tDollar:
			if t.text != "$count" {
				return nil, &UnsupportedError{Option: p.lex.opt, Feature: "path segment " + t.text}
			}
			if p.nextByte() == '(' {
				return nil, &UnsupportedError{Option: p.lex.opt, Feature: "$count with options"}
			}
		case tAlias:
			return nil, &UnsupportedError{Option: p.lex.opt, Feature: "annotation " + quoteText(t.text)}
		default:
			return nil, p.unexpected("a property name after '/'")
		}
		id.Path = append(id.Path, t.text)
		id.Span.End = t.end
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	return id, nil
}

// parseLambda implements
//
//	anyExpr = "any" OPEN BWS [ lambdaVariableExpr BWS COLON BWS lambdaPredicateExpr ] BWS CLOSE
//	allExpr = "all" OPEN BWS   lambdaVariableExpr BWS COLON BWS lambdaPredicateExpr   BWS CLOSE
func (p *parser) parseLambda(path *Ident, op string) (Expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	if err := p.advance(); err != nil { // to '('
		return nil, err
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	l := &Lambda{Path: path, Op: op}
	if p.tok.kind != tRParen || op == "all" {
		if p.tok.kind != tWord || strings.Contains(p.tok.text, ".") {
			return nil, p.unexpected("a lambda variable name")
		}
		l.Variable = p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tColon {
			return nil, p.unexpected("':'")
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		body, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		l.Body = body
		if p.tok.kind != tRParen {
			return nil, p.unexpected("')'")
		}
	}
	l.Span = Span{path.Span.Start, p.tok.end}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return l, nil
}

// resolveAlias turns an alias reference into an *Alias, parsing its value
// (parameterValue = commonExpr) on first reference.
func (p *parser) resolveAlias(t token) (Expr, error) {
	a := &Alias{Span: Span{t.start, t.end}, Name: t.text[1:]}
	raw, ok := p.aliases[t.text]
	if !ok {
		return a, nil
	}
	if p.state == nil {
		p.state = &aliasState{resolving: map[string]bool{}, resolved: map[string]Expr{}}
	}
	if v, ok := p.state.resolved[t.text]; ok {
		a.Value = v
		return a, nil
	}
	if p.depth+1 > MaxDepth {
		return nil, p.errAt(t.start, "parameter aliases nested too deeply")
	}
	if p.state.resolving[t.text] {
		return nil, p.errAt(t.start, "parameter alias "+t.text+" refers to itself")
	}
	p.state.resolving[t.text] = true
	v, err := parseExprText(raw, t.text, p.aliases, p.state, p.depth+1)
	delete(p.state.resolving, t.text)
	if err != nil {
		return nil, err
	}
	p.state.resolved[t.text] = v
	a.Value = v
	return a, nil
}
