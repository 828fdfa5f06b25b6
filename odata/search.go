package odata

import "strings"

// $search grammar (ABNF searchExpr, OData 4.01), lowest precedence first:
//
//	searchOrExpr  = searchAndExpr *( RWS "OR" RWS searchAndExpr )
//	searchAndExpr = searchNotExpr *( RWS [ "AND" RWS ] searchNotExpr )
//	searchNotExpr = "NOT" RWS searchNotExpr / searchPrimary
//	searchPrimary = searchParenExpr / searchPhrase / searchWord
//
// AND, OR and NOT are operators only in upper case and only where an
// operator can stand and a term follows; elsewhere they are words. A word is
// a run of characters other than whitespace, '(', ')' and '"'.

type searchTokKind uint8

const (
	sEOF searchTokKind = iota
	sWord
	sPhrase
	sLParen
	sRParen
)

type searchTok struct {
	kind       searchTokKind
	start, end int
	space      bool
	text       string // word text, or unescaped phrase text
}

func isSearchSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func searchErr(off int, msg string) error {
	return &SyntaxError{Option: "$search", Offset: off, Msg: msg}
}

func lexSearch(s string) ([]searchTok, error) {
	var toks []searchTok
	i := 0
	for {
		ws := i
		for i < len(s) && isSearchSpace(s[i]) {
			i++
		}
		t := searchTok{start: i, space: i > ws}
		if i >= len(s) {
			t.kind, t.end = sEOF, i
			return append(toks, t), nil
		}
		switch c := s[i]; c {
		case '(', ')':
			t.kind = sLParen
			if c == ')' {
				t.kind = sRParen
			}
			i++
		case '"':
			var b strings.Builder
			j := i + 1
			closed := false
			for j < len(s) {
				c := s[j]
				if c == '\\' && j+1 < len(s) && (s[j+1] == '"' || s[j+1] == '\\') {
					b.WriteByte(s[j+1])
					j += 2
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				b.WriteByte(c)
				j++
			}
			if !closed {
				return nil, searchErr(i, "unterminated phrase: expected '\"'")
			}
			if j == i+1 {
				return nil, searchErr(i, "empty phrase")
			}
			t.kind, t.text = sPhrase, b.String()
			i = j + 1
		default:
			j := i
			for j < len(s) && !isSearchSpace(s[j]) && s[j] != '(' && s[j] != ')' && s[j] != '"' {
				j++
			}
			t.kind, t.text = sWord, s[i:j]
			i = j
		}
		t.end = i
		toks = append(toks, t)
	}
}

type searchParser struct {
	toks  []searchTok
	i     int
	depth int
}

func (p *searchParser) tok() searchTok { return p.toks[p.i] }

func (p *searchParser) peek() searchTok {
	if p.i+1 < len(p.toks) {
		return p.toks[p.i+1]
	}
	return p.toks[len(p.toks)-1]
}

func termStart(t searchTok) bool { return t.kind == sWord || t.kind == sPhrase || t.kind == sLParen }

// isKeyword reports whether the current token is the operator kw: upper
// case, followed by whitespace (or '(') and a term.
func (p *searchParser) isKeyword(kw string) bool {
	t := p.tok()
	if t.kind != sWord || t.text != kw {
		return false
	}
	n := p.peek()
	return termStart(n) && (n.space || n.kind == sLParen)
}

// ParseSearch parses a decoded $search value. Errors are *SyntaxError with
// Option "$search".
func ParseSearch(s string) (Search, error) {
	if len(s) > MaxInputLen {
		return nil, searchErr(MaxInputLen, "input longer than 1 MiB")
	}
	toks, err := lexSearch(s)
	if err != nil {
		return nil, err
	}
	p := &searchParser{toks: toks}
	x, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t := p.tok(); t.kind != sEOF {
		return nil, searchErr(t.start, "unexpected ')'")
	}
	return x, nil
}

// parseOr implements searchOrExpr = RWS "OR" RWS searchExpr.
func (p *searchParser) parseOr() (Search, error) {
	x, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for p.tok().space && p.isKeyword("OR") {
		p.i++
		y, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		x = &SearchBinary{Span: Span{x.Pos().Start, y.Pos().End}, Or: true, X: x, Y: y}
	}
	return x, nil
}

// parseAnd implements searchAndExpr = RWS [ "AND" RWS ] searchExpr: an
// explicit AND, or whitespace between two terms.
func (p *searchParser) parseAnd() (Search, error) {
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for {
		t := p.tok()
		switch {
		case t.space && p.isKeyword("AND"):
			p.i++
		case t.space && p.isKeyword("OR"):
			return x, nil
		case termStart(t):
			prev := p.toks[p.i-1]
			if !t.space && t.kind != sLParen && prev.kind != sRParen {
				return nil, searchErr(t.start, "expected whitespace between search terms")
			}
		default:
			return x, nil
		}
		y, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		x = &SearchBinary{Span: Span{x.Pos().Start, y.Pos().End}, X: x, Y: y}
	}
}

// parseNot implements searchNegateExpr = "NOT" RWS searchExpr.
func (p *searchParser) parseNot() (Search, error) {
	if !p.isKeyword("NOT") {
		return p.parsePrimary()
	}
	start := p.tok().start
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > MaxDepth {
		return nil, searchErr(start, "search expression nested too deeply")
	}
	p.i++
	x, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	return &SearchNot{Span: Span{start, x.Pos().End}, X: x}, nil
}

// parsePrimary implements
//
//	searchParenExpr = OPEN BWS searchExpr BWS CLOSE
//	searchPhrase    = quotation-mark 1*qchar-no-AMP-DQUOTE quotation-mark
//	searchWord      = 1*( any character but whitespace, '(', ')', '"' )
func (p *searchParser) parsePrimary() (Search, error) {
	t := p.tok()
	switch t.kind {
	case sWord, sPhrase:
		p.i++
		return &SearchTerm{Span: Span{t.start, t.end}, Text: t.text, Phrase: t.kind == sPhrase}, nil
	case sLParen:
		p.depth++
		defer func() { p.depth-- }()
		if p.depth > MaxDepth {
			return nil, searchErr(t.start, "search expression nested too deeply")
		}
		p.i++
		x, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		c := p.tok()
		if c.kind != sRParen {
			return nil, searchErr(c.start, "expected ')'")
		}
		p.i++
		switch n := x.(type) {
		case *SearchTerm:
			n.Span = Span{t.start, c.end}
		case *SearchBinary:
			n.Span = Span{t.start, c.end}
		case *SearchNot:
			n.Span = Span{t.start, c.end}
		}
		return x, nil
	case sEOF:
		return nil, searchErr(t.start, "expected a search term, found end of input")
	}
	return nil, searchErr(t.start, "expected a search term, found ')'")
}

const (
	searchPrecOr = iota + 1
	searchPrecAnd
	searchPrecNot
	searchPrecTerm
)

func searchPrec(x Search) int {
	switch n := x.(type) {
	case *SearchBinary:
		if n.Or {
			return searchPrecOr
		}
		return searchPrecAnd
	case *SearchNot:
		return searchPrecNot
	}
	return searchPrecTerm
}

func writeSearch(b *strings.Builder, x Search, min int) {
	if x == nil {
		return
	}
	if searchPrec(x) < min {
		b.WriteByte('(')
		writeSearch(b, x, 0)
		b.WriteByte(')')
		return
	}
	switch n := x.(type) {
	case *SearchTerm:
		switch {
		case n.Phrase:
			b.WriteByte('"')
			b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(n.Text))
			b.WriteByte('"')
		case n.Text == "AND" || n.Text == "OR" || n.Text == "NOT":
			// A keyword used as a word stays a word inside parentheses.
			b.WriteString("(" + n.Text + ")")
		default:
			b.WriteString(n.Text)
		}
	case *SearchBinary:
		p := searchPrec(n)
		writeSearch(b, n.X, p)
		if n.Or {
			b.WriteString(" OR ")
		} else {
			b.WriteString(" AND ")
		}
		writeSearch(b, n.Y, p+1)
	case *SearchNot:
		b.WriteString("NOT ")
		writeSearch(b, n.X, searchPrecNot)
	}
}

func searchString(x Search) string {
	var b strings.Builder
	writeSearch(&b, x, 0)
	return b.String()
}

// String prints the term: a word as written, a phrase quoted and escaped.
func (n *SearchTerm) String() string { return searchString(n) }

// String prints "X AND Y" or "X OR Y" (implicit AND is printed explicitly).
func (n *SearchBinary) String() string { return searchString(n) }

// String prints "NOT X".
func (n *SearchNot) String() string { return searchString(n) }
