package odata

import (
	"encoding/base64"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Hard safety limits of the parser. The binder enforces the configurable,
// lower limits; these only protect the parser itself.
const (
	// MaxInputLen is the longest option value (or path) the parser accepts.
	MaxInputLen = 1 << 20
	// MaxDepth is the deepest nesting (parentheses, unary operators, calls,
	// lambdas, alias references) the parser accepts.
	MaxDepth = 256
	// maxIdentLen is the odataIdentifier limit: 1 leading + 127 more characters.
	maxIdentLen = 128
)

var rawURLStrict = base64.RawURLEncoding.Strict()

// tokKind classifies the tokens of common expressions.
type tokKind uint8

const (
	tEOF    tokKind = iota
	tWord           // identifier or keyword; qualified names keep their dots ("Edm.String")
	tLit            // primitive literal
	tAlias          // @name
	tDollar         // $name ($count, $it, ...)
	tLParen         // (
	tRParen         // )
	tComma          // ,
	tSlash          // /
	tColon          // :
	tEq             // = (key predicates only)
	tStar           // *
	tMinus          // - that does not start a literal
)

var tokKindNames = [...]string{"end of input", "identifier", "literal", "alias", "$-name", "'('", "')'", "','", "'/'", "':'", "'='", "'*'", "'-'"}

// token is one lexeme of a common expression. Offsets are byte offsets in
// the decoded option text.
type token struct {
	kind  tokKind
	start int
	end   int
	space bool   // whitespace (SP or HTAB) precedes the token
	text  string // the source text
	lit   LiteralKind
	val   string // Literal.Value for tLit
}

// describe names the token for error messages.
func (t token) describe() string {
	switch t.kind {
	case tWord, tLit, tAlias, tDollar:
		return quoteText(t.text)
	}
	return tokKindNames[t.kind]
}

func quoteText(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return `"` + s + `"`
}

// lexer is a hand-written scanner over decoded expression text. It produces
// one token per call to next; errors carry the option name and the byte
// offset where the offending lexeme starts.
type lexer struct {
	s   string
	pos int
	opt string
}

func (l *lexer) errAt(off int, msg string) *SyntaxError {
	return &SyntaxError{Option: l.opt, Offset: off, Msg: msg}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// identStart reports whether an identifier may start at s[i] and returns the
// width of that character (identifierLeadingCharacter: ALPHA / "_" / Unicode L, Nl).
func identStart(s string, i int) (bool, int) {
	if i >= len(s) {
		return false, 0
	}
	c := s[i]
	if c < utf8.RuneSelf {
		return isAlpha(c) || c == '_', 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError {
		return false, w
	}
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r), w
}

// identPart reports whether s[i] continues an identifier (identifierCharacter:
// ALPHA / "_" / DIGIT / Unicode L, Nl, Nd, Mn, Mc, Pc, Cf).
func identPart(s string, i int) (bool, int) {
	if i >= len(s) {
		return false, 0
	}
	c := s[i]
	if c < utf8.RuneSelf {
		return isAlpha(c) || c == '_' || isDigit(c), 1
	}
	r, w := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError {
		return false, w
	}
	return unicode.In(r, unicode.L, unicode.Nl, unicode.Nd, unicode.Mn, unicode.Mc, unicode.Pc, unicode.Cf), w
}

// scanIdent returns the end of the odataIdentifier starting at i, or i if
// none starts there, and whether it exceeds the 128-character limit.
func scanIdent(s string, i int) (end int, tooLong bool) {
	ok, w := identStart(s, i)
	if !ok {
		return i, false
	}
	j, n := i+w, 1
	for {
		ok, w := identPart(s, j)
		if !ok {
			break
		}
		j += w
		n++
	}
	return j, n > maxIdentLen
}

// litBoundary reports whether a literal may end at s[i]: the next character
// must not continue an identifier, a number or a quoted form.
func litBoundary(s string, i int) bool {
	if i >= len(s) {
		return true
	}
	if ok, _ := identPart(s, i); ok {
		return false
	}
	switch s[i] {
	case '.', '\'', ':':
		return false
	}
	return true
}

// next scans the next token, skipping whitespace (SP / HTAB).
func (l *lexer) next() (token, error) {
	start := l.pos
	for l.pos < len(l.s) && isSpace(l.s[l.pos]) {
		l.pos++
	}
	t := token{start: l.pos, space: l.pos > start}
	if l.pos >= len(l.s) {
		t.kind, t.end = tEOF, l.pos
		return t, nil
	}
	s, i := l.s, l.pos
	c := s[i]
	single := func(k tokKind) (token, error) {
		t.kind, t.end, t.text = k, i+1, s[i:i+1]
		l.pos = i + 1
		return t, nil
	}
	switch c {
	case '(':
		return single(tLParen)
	case ')':
		return single(tRParen)
	case ',':
		return single(tComma)
	case '/':
		return single(tSlash)
	case ':':
		return single(tColon)
	case '=':
		return single(tEq)
	case '*':
		return single(tStar)
	case '@':
		end, long := scanIdent(s, i+1)
		if end == i+1 {
			return t, l.errAt(i, "expected a parameter alias name after '@'")
		}
		if long {
			return t, l.errAt(i+1, "identifier longer than 128 characters")
		}
		if end < len(s) && (s[end] == '.' || s[end] == '#' || s[end] == '/') {
			return t, &UnsupportedError{Option: l.opt, Feature: "annotation " + quoteText(s[i:])}
		}
		t.kind, t.end, t.text = tAlias, end, s[i:end]
		l.pos = end
		return t, nil
	case '$':
		end, long := scanIdent(s, i+1)
		if end == i+1 {
			return t, l.errAt(i, "unexpected '$'")
		}
		if long {
			return t, l.errAt(i+1, "identifier longer than 128 characters")
		}
		t.kind, t.end, t.text = tDollar, end, s[i:end]
		l.pos = end
		return t, nil
	case '[', '{':
		return t, &UnsupportedError{Option: l.opt, Feature: "JSON array and object literals"}
	case '"':
		return t, l.errAt(i, `unexpected '"': string literals are enclosed in single quotes`)
	}
	if c == '-' || c == '+' || c == '\'' || isDigit(c) {
		if c == '-' && !(i+1 < len(s) && (isDigit(s[i+1]) || s[i+1] == 'I' || s[i+1] == 'P')) {
			return single(tMinus)
		}
		if c == '+' && !(i+1 < len(s) && isDigit(s[i+1])) {
			return t, l.errAt(i, "unexpected '+' (a '+' in a query string means a space; encode a plus sign as %2B)")
		}
		if c == '-' && !isDigit(s[i+1]) {
			// -INF or a negative bare duration, else plain negation.
			if strings.HasPrefix(s[i:], "-INF") && litBoundary(s, i+4) {
				return l.literal(t, i+4, DoubleLit, s[i:i+4])
			}
			if n := matchDuration(s[i:], false); n > 0 && bareEnd(s, i+n) {
				return l.literal(t, i+n, DurationLit, s[i:i+n])
			}
			return single(tMinus)
		}
		return l.lexLiteral(t)
	}
	if ok, _ := identStart(s, i); ok {
		return l.lexWord(t)
	}
	if c >= utf8.RuneSelf {
		if r, _ := utf8.DecodeRuneInString(s[i:]); r == utf8.RuneError {
			return t, l.errAt(i, "invalid UTF-8")
		}
	}
	return t, l.errAt(i, "unexpected character "+quoteText(firstRune(s[i:])))
}

func firstRune(s string) string {
	_, w := utf8.DecodeRuneInString(s)
	return s[:w]
}

// bareEnd reports whether an unquoted literal may end at s[i] without being
// the prefix of an identifier, a qualified name or a call.
func bareEnd(s string, i int) bool {
	return litBoundary(s, i) && (i >= len(s) || s[i] != '(')
}

func (l *lexer) literal(t token, end int, kind LiteralKind, val string) (token, error) {
	t.kind, t.end, t.text, t.lit, t.val = tLit, end, l.s[t.start:end], kind, val
	l.pos = end
	return t, nil
}

// lexWord scans an identifier, a qualified name (dotted identifiers) or a
// literal that starts with a letter: null, true, false, INF, NaN, a guid,
// a bare duration, or a prefixed quoted literal (duration'..', binary'..',
// geography'..', geometry'..', Namespace.EnumType'..').
func (l *lexer) lexWord(t token) (token, error) {
	s, i := l.s, l.pos
	if n := matchGUID(s[i:]); n > 0 && litBoundary(s, i+n) {
		return l.literal(t, i+n, GuidLit, s[i:i+n])
	}
	if s[i] == 'P' {
		if n := matchDuration(s[i:], false); n > 0 && bareEnd(s, i+n) {
			return l.literal(t, i+n, DurationLit, s[i:i+n])
		}
	}
	end := i
	for {
		e, long := scanIdent(s, end)
		if long {
			return t, l.errAt(end, "identifier longer than 128 characters")
		}
		end = e
		if end < len(s) && s[end] == '.' {
			if ok, _ := identStart(s, end+1); ok {
				end++
				continue
			}
		}
		break
	}
	word := s[i:end]
	if end < len(s) && s[end] == '\'' {
		return l.lexPrefixed(t, word, end)
	}
	if end < len(s) && s[end] == '(' {
		// a call: null(), true() and INF() are function names, not literals
		t.kind, t.end, t.text = tWord, end, word
		l.pos = end
		return t, nil
	}
	switch {
	case word == "null":
		return l.literal(t, end, NullLit, word)
	case equalFoldASCII(word, "true"):
		return l.literal(t, end, BoolLit, "true")
	case equalFoldASCII(word, "false"):
		return l.literal(t, end, BoolLit, "false")
	case word == "INF" || word == "NaN":
		return l.literal(t, end, DoubleLit, word)
	}
	t.kind, t.end, t.text = tWord, end, word
	l.pos = end
	return t, nil
}

// scanQuoted returns the end (after the closing quote) of a quoted body that
// starts with the quote at q; ” inside is an escaped quote when escapes is
// true. It returns -1 when the quote is not closed.
func scanQuoted(s string, q int, escapes bool) int {
	for j := q + 1; j < len(s); j++ {
		if s[j] == '\'' {
			if escapes && j+1 < len(s) && s[j+1] == '\'' {
				j++
				continue
			}
			return j + 1
		}
	}
	return -1
}

// lexPrefixed scans word'...' literals; q is the offset of the quote.
func (l *lexer) lexPrefixed(t token, word string, q int) (token, error) {
	s := l.s
	end := scanQuoted(s, q, false)
	if end < 0 {
		return t, l.errAt(q, "unterminated "+word+" literal")
	}
	body := s[q+1 : end-1]
	if !litBoundary(s, end) {
		return t, l.errAt(end, "unexpected character after literal")
	}
	switch lowerASCII(word) {
	case "duration":
		if n := matchDuration(body, true); n != len(body) || n == 0 {
			return t, l.errAt(q+1, "invalid duration: expected [-]PnDTnHnMn.nS")
		}
		return l.literal(t, end, DurationLit, body)
	case "binary":
		b, off, ok := decodeBinary(body)
		if !ok {
			return t, l.errAt(q+1+off, "invalid base64url in binary literal")
		}
		return l.literal(t, end, BinaryLit, b)
	case "geography", "geometry":
		return l.literal(t, end, GeoLit, s[t.start:end])
	}
	if !strings.Contains(word, ".") {
		lw := lowerASCII(word)
		if _, isOp := binaryOps[lw]; isOp || lw == "in" || lw == "not" {
			return t, l.errAt(q, "expected whitespace after "+quoteText(word))
		}
		return t, l.errAt(t.start, "unknown literal prefix "+quoteText(word))
	}
	if off, ok := checkEnumMembers(body); !ok {
		return t, l.errAt(q+1+off, "invalid enumeration member")
	}
	return l.literal(t, end, EnumLit, s[t.start:end])
}

// checkEnumMembers validates singleEnumLiteral *( COMMA singleEnumLiteral ).
func checkEnumMembers(body string) (int, bool) {
	i := 0
	for {
		j := i
		if end, long := scanIdent(body, i); end > i {
			if long {
				return i, false
			}
			j = end
		} else {
			if j < len(body) && (body[j] == '-' || body[j] == '+') {
				j++
			}
			k := j
			for k < len(body) && isDigit(body[k]) {
				k++
			}
			if k == j {
				return i, false
			}
			j = k
		}
		if j == len(body) {
			return 0, true
		}
		if body[j] != ',' {
			return j, false
		}
		i = j + 1
	}
}

// lexLiteral scans literals that start with a quote, a digit or a sign:
// strings, guids, dates, date-times, times of day and numbers.
func (l *lexer) lexLiteral(t token) (token, error) {
	s, i := l.s, l.pos
	if s[i] == '\'' {
		end := scanQuoted(s, i, true)
		if end < 0 {
			return t, l.errAt(i, "unterminated string literal")
		}
		if !litBoundary(s, end) {
			return t, l.errAt(end, "unexpected character after string literal")
		}
		return l.literal(t, end, StringLit, unquote(s[i:end]))
	}
	if n := matchGUID(s[i:]); n > 0 && litBoundary(s, i+n) {
		return l.literal(t, i+n, GuidLit, s[i:i+n])
	}
	j := i
	if s[j] == '-' || s[j] == '+' {
		j++
	}
	k := j
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	switch {
	case k < len(s) && s[k] == '-' && k-j >= 4:
		if s[i] == '+' {
			return t, l.errAt(i, "invalid date: a year takes no '+' sign")
		}
		return l.lexDate(t, j)
	case k < len(s) && s[k] == ':' && k-j == 2 && j == i:
		end, msg := scanTimeOfDay(s, i)
		if msg != "" {
			return t, l.errAt(i, msg)
		}
		if !litBoundary(s, end) {
			return t, l.errAt(end, "unexpected character after time of day")
		}
		return l.literal(t, end, TimeOfDayLit, s[i:end])
	}
	kind := IntLit
	if k < len(s) && s[k] == '.' {
		if k+1 >= len(s) || !isDigit(s[k+1]) {
			return t, l.errAt(k, "invalid number: expected a digit after '.'")
		}
		k++
		for k < len(s) && isDigit(s[k]) {
			k++
		}
		kind = DecimalLit
	}
	if k < len(s) && (s[k] == 'e' || s[k] == 'E') {
		e := k + 1
		if e < len(s) && (s[e] == '+' || s[e] == '-') {
			e++
		}
		if e >= len(s) || !isDigit(s[e]) {
			return t, l.errAt(k, "invalid number: expected exponent digits")
		}
		for e < len(s) && isDigit(s[e]) {
			e++
		}
		k, kind = e, DoubleLit
	}
	if k < len(s) && litBoundary(s, k+1) {
		// A type suffix, as OData v2/v3 wrote literals and clients such as
		// the SAP Cloud SDK still do: 1L (Int64), 1.5m (Decimal), 2d / 2f
		// (Double, Single). It is accepted where unambiguous and dropped:
		// the binder types the number against what it meets.
		suffixed := kind
		switch s[k] {
		case 'L', 'l':
			if kind != IntLit {
				suffixed = -1
			}
		case 'M', 'm':
			suffixed = DecimalLit
		case 'D', 'd', 'F', 'f':
			suffixed = DoubleLit
		default:
			suffixed = -1
		}
		if suffixed >= 0 {
			tok, err := l.literal(t, k+1, suffixed, s[i:k])
			tok.text = s[i:k] // Raw: the number without its suffix
			return tok, err
		}
	}
	if !litBoundary(s, k) {
		return t, l.errAt(k, "invalid number: unexpected "+quoteText(firstRune(s[k:])))
	}
	return l.literal(t, k, kind, s[i:k])
}

// unquote removes the enclosing quotes of a string literal and undoubles ”.
func unquote(raw string) string {
	body := raw[1 : len(raw)-1]
	if !strings.Contains(body, "''") {
		return body
	}
	return strings.ReplaceAll(body, "''", "'")
}

// lexDate scans date [ "T" timeOfDay ( "Z" / SIGN hour ":" minute ) ];
// y is the offset of the first year digit (after an optional '-').
func (l *lexer) lexDate(t token, y int) (token, error) {
	s, i := l.s, l.pos
	end, msg := scanDate(s, y)
	if msg != "" {
		return t, l.errAt(i, msg)
	}
	if end < len(s) && (s[end] == 'T' || s[end] == 't') {
		e, msg := scanTimeOfDay(s, end+1)
		if msg != "" {
			return t, l.errAt(end+1, msg)
		}
		switch {
		case e < len(s) && (s[e] == 'Z' || s[e] == 'z'):
			e++
		case e < len(s) && (s[e] == '+' || s[e] == '-'):
			if !twoDigits(s, e+1) || e+3 >= len(s) || s[e+3] != ':' || !twoDigits(s, e+4) {
				return t, l.errAt(e, "invalid time zone offset: expected +hh:mm or -hh:mm")
			}
			if h := atoi2(s, e+1); h > 23 {
				return t, l.errAt(e+1, "invalid time zone offset: hour out of range")
			}
			if m := atoi2(s, e+4); m > 59 {
				return t, l.errAt(e+4, "invalid time zone offset: minute out of range")
			}
			e += 6
		default:
			msg := "expected time zone offset 'Z', '+hh:mm' or '-hh:mm'"
			if e+3 < len(s) && s[e] == ' ' && twoDigits(s, e+1) && s[e+3] == ':' {
				msg += " (a '+' in a query string means a space; encode it as %2B)"
			}
			return t, l.errAt(e, msg)
		}
		if !litBoundary(s, e) {
			return t, l.errAt(e, "unexpected character after date-time literal")
		}
		return l.literal(t, e, DateTimeOffsetLit, s[i:e])
	}
	if !litBoundary(s, end) {
		return t, l.errAt(end, "unexpected character after date literal")
	}
	return l.literal(t, end, DateLit, s[i:end])
}

func twoDigits(s string, i int) bool {
	return i+1 < len(s) && isDigit(s[i]) && isDigit(s[i+1])
}

func atoi2(s string, i int) int { return int(s[i]-'0')*10 + int(s[i+1]-'0') }

// scanDate validates year "-" month "-" day starting at the first year digit
// y and returns the end offset, or an error message.
func scanDate(s string, y int) (int, string) {
	k := y
	for k < len(s) && isDigit(s[k]) {
		k++
	}
	if k-y < 4 || (s[y] == '0' && k-y != 4) {
		return 0, "invalid date: year must have 4 digits, or more without a leading zero"
	}
	year := 0
	for _, c := range []byte(s[y:k]) {
		if year > 1e8 {
			return 0, "invalid date: year out of range"
		}
		year = year*10 + int(c-'0')
	}
	if y > 0 && s[y-1] == '-' {
		year = -year
	}
	if k >= len(s) || s[k] != '-' || !twoDigits(s, k+1) {
		return 0, "invalid date: expected YYYY-MM-DD"
	}
	month := atoi2(s, k+1)
	if month < 1 || month > 12 {
		return 0, "invalid date: month out of range"
	}
	if k+3 >= len(s) || s[k+3] != '-' || !twoDigits(s, k+4) {
		return 0, "invalid date: expected YYYY-MM-DD"
	}
	day := atoi2(s, k+4)
	if day < 1 || day > daysIn(year, month) {
		return 0, "invalid date: day out of range"
	}
	return k + 6, ""
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// scanTimeOfDay validates hour ":" minute [ ":" second [ "." 1*12DIGIT ] ]
// starting at i and returns the end offset, or an error message.
func scanTimeOfDay(s string, i int) (int, string) {
	if !twoDigits(s, i) || i+2 >= len(s) || s[i+2] != ':' || !twoDigits(s, i+3) {
		return 0, "invalid time: expected hh:mm[:ss[.fffffffffffff]]"
	}
	if atoi2(s, i) > 23 {
		return 0, "invalid time: hour out of range"
	}
	if atoi2(s, i+3) > 59 {
		return 0, "invalid time: minute out of range"
	}
	e := i + 5
	if e < len(s) && s[e] == ':' {
		if !twoDigits(s, e+1) {
			return 0, "invalid time: expected two-digit seconds"
		}
		if atoi2(s, e+1) > 60 {
			return 0, "invalid time: second out of range"
		}
		e += 3
		if e < len(s) && s[e] == '.' {
			f := e + 1
			for f < len(s) && isDigit(s[f]) {
				f++
			}
			if f == e+1 || f-e-1 > 12 {
				return 0, "invalid time: fractional seconds take 1 to 12 digits"
			}
			e = f
		}
	}
	return e, ""
}

// matchGUID returns 36 when s starts with 8-4-4-4-12 hex digits, else 0.
func matchGUID(s string) int {
	if len(s) < 36 {
		return 0
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return 0
			}
		default:
			if !isHex(s[i]) {
				return 0
			}
		}
	}
	return 36
}

// matchDuration returns the length of the durationValue at the start of s:
// [ "-" ] "P" [ 1*DIGIT "D" ] [ "T" [ 1*DIGIT "H" ] [ 1*DIGIT "M" ]
// [ 1*DIGIT [ "." 1*DIGIT ] "S" ] ], with at least one component (and at
// least one after "T"). Designators are upper-case unless fold is set.
// It returns 0 when s does not start with a duration.
func matchDuration(s string, fold bool) int {
	up := func(c byte) byte {
		if fold && c >= 'a' && c <= 'z' {
			return c - 'a' + 'A'
		}
		return c
	}
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	if i >= len(s) || up(s[i]) != 'P' {
		return 0
	}
	i++
	digits := func(j int) int {
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		return j
	}
	parts := 0
	if j := digits(i); j > i && j < len(s) && up(s[j]) == 'D' {
		i, parts = j+1, parts+1
	}
	if i < len(s) && up(s[i]) == 'T' {
		t, tparts := i+1, 0
		if j := digits(t); j > t && j < len(s) && up(s[j]) == 'H' {
			t, tparts = j+1, tparts+1
		}
		if j := digits(t); j > t && j < len(s) && up(s[j]) == 'M' {
			t, tparts = j+1, tparts+1
		}
		if j := digits(t); j > t {
			if j < len(s) && s[j] == '.' {
				if f := digits(j + 1); f > j+1 {
					j = f
				}
			}
			if j < len(s) && up(s[j]) == 'S' {
				t, tparts = j+1, tparts+1
			}
		}
		if tparts == 0 {
			return 0
		}
		i, parts = t, parts+tparts
	}
	if parts == 0 {
		return 0
	}
	return i
}

// decodeBinary validates binaryValue (base64url, padding optional) and
// returns the decoded bytes, or the offset of the first invalid character.
func decodeBinary(body string) (string, int, bool) {
	n := len(body)
	for n > 0 && body[n-1] == '=' {
		n--
	}
	pad := len(body) - n
	for i := 0; i < n; i++ {
		c := body[i]
		if !(isAlpha(c) || isDigit(c) || c == '-' || c == '_') {
			return "", i, false
		}
	}
	if n%4 == 1 || (pad > 0 && ((n+pad)%4 != 0 || pad > 2 || n%4 == 0)) {
		return "", n, false
	}
	out, err := rawURLStrict.DecodeString(body[:n])
	if err != nil {
		return "", n - 1, false
	}
	return string(out), 0, true
}

// lowerASCII lower-cases ASCII letters only: OData keywords and function
// names are ASCII, and Unicode case mapping must not turn other letters
// into keywords (or change identifier lengths).
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; c >= 'A' && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// equalFoldASCII reports whether s equals the lower-case ASCII word lower,
// ignoring ASCII case only.
func equalFoldASCII(s, lower string) bool {
	if len(s) != len(lower) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}
