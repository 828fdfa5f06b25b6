package odata

import (
	"strconv"
	"strings"
)

// ExpandItem is one $expand item: a navigation property path (or "*") with
// its nested options.
type ExpandItem struct {
	Span Span // of the whole item, options included, in the $expand text
	// Star is "*" (every navigation property of the type; Path is empty).
	Star bool
	// Path is the navigation property path as written: usually one
	// segment; type casts and complex properties give more (the binder
	// refuses what the model cannot have). "$value" is a path of its own.
	Path  []string
	Ref   bool // nav/$ref: references only
	Count bool // nav/$count: the number of related entities only
	// Options are the nested options in parentheses.
	Options ExpandOptions
}

// ExpandOptions are the options nested in an expand item's parentheses.
// Spans of the nodes in an option are relative to that option's value;
// At gives where each value starts within the $expand text.
type ExpandOptions struct {
	Filter    Expr
	Search    Search
	OrderBy   []OrderItem
	Select    []SelectItem
	HasSelect bool
	Top       *int64
	Skip      *int64
	Count     *bool
	Expand    []ExpandItem
	// Levels is $levels: nil when absent, -1 for max.
	Levels *int64
	// At is the offset, within the $expand text, of the value of each
	// option given, by canonical name ("$filter").
	At map[string]int
}

// maxExpandNesting bounds the parentheses of nested $expand options the
// parser descends into (the binder's depth limit is much lower).
const maxExpandNesting = 32

// ParseExpand parses a decoded $expand value (OData ABNF):
//
//	expand            = expandItem *( COMMA expandItem )
//	expandItem        = STAR [ ref / OPEN levels CLOSE ]
//	                  / "$value"
//	                  / expandPath [ ref   [ OPEN expandRefOption   *( SEMI expandRefOption )   CLOSE ]
//	                               / count [ OPEN expandCountOption *( SEMI expandCountOption ) CLOSE ]
//	                               /         OPEN expandOption      *( SEMI expandOption )      CLOSE ]
//	expandRefOption   = filter / search / orderby / skip / top / inlinecount
//	expandCountOption = filter / search
//	expandOption      = expandRefOption / select / expand / levels
//
// Option names are case-insensitive and may omit the '$' (4.01). aliases
// are the request's parameter aliases. Errors are *SyntaxError with Option
// "$expand" and the offset in s, or *UnsupportedError (annotations,
// $apply and $compute inside $expand).
func ParseExpand(s string, aliases map[string]string) ([]ExpandItem, error) {
	if len(s) > MaxInputLen {
		return nil, &SyntaxError{Option: "$expand", Offset: MaxInputLen, Msg: "input longer than 1 MiB"}
	}
	return parseExpandAt(s, 0, len(s), aliases, 0)
}

// expandErr is a syntax error at offset off of the $expand text.
func expandErr(off int, msg string) error {
	return &SyntaxError{Option: "$expand", Offset: off, Msg: msg}
}

// parseExpandAt parses the expand list s[start:end].
func parseExpandAt(s string, start, end int, aliases map[string]string, depth int) ([]ExpandItem, error) {
	if depth > maxExpandNesting {
		return nil, expandErr(start, "$expand is nested too deeply")
	}
	var items []ExpandItem
	i := start
	skip := func() {
		for i < end && isSpace(s[i]) {
			i++
		}
	}
	for {
		skip()
		item := ExpandItem{Span: Span{Start: i}}
		switch {
		case i < end && s[i] == '*':
			item.Star = true
			i++
		case i < end && s[i] == '@':
			return nil, &UnsupportedError{Option: "$expand", Feature: "annotations in $expand"}
		case strings.HasPrefix(s[i:end], "$value") && (i+6 == end || s[i+6] == ',' || isSpace(s[i+6])):
			item.Path = []string{"$value"}
			i += 6
		default:
			for {
				e, long := scanIdent(s[:end], i)
				if e == i {
					return nil, expandErr(i, "expected a navigation property, '*' or '$value'")
				}
				if long {
					return nil, expandErr(i, "identifier longer than 128 characters")
				}
				for e < end && s[e] == '.' { // qualified name (type cast)
					e2, _ := scanIdent(s[:end], e+1)
					if e2 == e+1 {
						if e+1 < end && s[e+1] == '*' {
							return nil, &UnsupportedError{Option: "$expand", Feature: "expanding operations (Namespace.*)"}
						}
						return nil, expandErr(e+1, "expected an identifier after '.'")
					}
					e = e2
				}
				item.Path = append(item.Path, s[i:e])
				i = e
				if i+1 < end && s[i] == '/' && s[i+1] != '$' && s[i+1] != '*' {
					i++
					continue
				}
				break
			}
		}
		// Suffixes: "/*" after a complex path, "/$ref", "/$count".
		if !item.Star && i+1 < end && s[i] == '/' && s[i+1] == '*' && len(item.Path) > 0 && item.Path[0] != "$value" {
			item.Star = true
			i += 2
		}
		if i < end && s[i] == '/' && item.Path != nil && item.Path[0] == "$value" {
			return nil, expandErr(i, "unexpected '/' after $value")
		}
		switch {
		case strings.HasPrefix(s[i:end], "/$ref"):
			item.Ref = true
			i += 5
		case strings.HasPrefix(s[i:end], "/$count") && !item.Star:
			item.Count = true
			i += 7
		case i < end && s[i] == '/':
			return nil, expandErr(i+1, "expected $ref, $count or a navigation property after '/'")
		}
		if i < end && s[i] == '(' {
			if item.Path != nil && item.Path[0] == "$value" {
				return nil, expandErr(i, "$value takes no options")
			}
			close, err := matchParen(s, i, end)
			if err != nil {
				return nil, err
			}
			if err := parseExpandOptions(s, i+1, close, &item, aliases, depth); err != nil {
				return nil, err
			}
			i = close + 1
		}
		item.Span.End = i
		items = append(items, item)
		skip()
		if i == end {
			return items, nil
		}
		if s[i] != ',' {
			return nil, expandErr(i, "expected ',' or end of $expand, found "+quoteText(firstRune(s[i:end])))
		}
		i++
	}
}

// skipQuoted returns the index of the quote closing the one at s[i]: a
// string literal in single quotes (a doubled quote is a closing and an
// opening one) or a
// $search phrase ("…" with backslash escapes).
func skipQuoted(s string, i, end int) (int, error) {
	if s[i] == '\'' {
		j := strings.IndexByte(s[i+1:end], '\'')
		if j < 0 {
			return 0, expandErr(i, "unterminated string literal")
		}
		return i + 1 + j, nil
	}
	j := i + 1
	for j < end && s[j] != '"' {
		if s[j] == '\\' {
			j++
		}
		j++
	}
	if j >= end {
		return 0, expandErr(i, "unterminated phrase")
	}
	return j, nil
}

// matchParen returns the index of the ')' closing the '(' at s[open],
// skipping quoted texts.
func matchParen(s string, open, end int) (int, error) {
	depth := 0
	for i := open; i < end; i++ {
		switch s[i] {
		case '\'', '"':
			j, err := skipQuoted(s, i, end)
			if err != nil {
				return 0, err
			}
			i = j
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i, nil
			}
		}
	}
	return 0, expandErr(open, "missing ')'")
}

// splitOptions splits s[start:end] at ';' outside parentheses and quotes.
func splitOptions(s string, start, end int) ([][2]int, error) {
	var parts [][2]int
	from := start
	for i := start; i < end; i++ {
		var err error
		switch s[i] {
		case '\'', '"':
			i, err = skipQuoted(s, i, end)
		case '(':
			i, err = matchParen(s, i, end)
		case ')':
			return nil, expandErr(i, "unbalanced ')'")
		case ';':
			parts = append(parts, [2]int{from, i})
			from = i + 1
		}
		if err != nil {
			return nil, err
		}
	}
	return append(parts, [2]int{from, end}), nil
}

// parseExpandOptions parses the options s[start:end] of item.
func parseExpandOptions(s string, start, end int, item *ExpandItem, aliases map[string]string, depth int) error {
	parts, err := splitOptions(s, start, end)
	if err != nil {
		return err
	}
	o := &item.Options
	o.At = map[string]int{}
	for _, p := range parts {
		a, b := p[0], p[1]
		for a < b && isSpace(s[a]) {
			a++
		}
		eq := strings.IndexByte(s[a:b], '=')
		if eq < 0 {
			return expandErr(a, "expected name=value in the options of "+itemName(item))
		}
		rawName := s[a : a+eq]
		name := lowerASCII(rawName)
		if name != "" && name[0] == '@' {
			continue // a parameter alias scoped to the item: values are taken from the request
		}
		if name == "" || name[0] != '$' {
			name = "$" + name
		}
		v, at := s[a+eq+1:b], a+eq+1
		if _, dup := o.At[name]; dup {
			return expandErr(a, "duplicate option "+name+" in the options of "+itemName(item))
		}
		allowed := expandOptionNames
		switch {
		case item.Count:
			allowed = expandCountOptions
		case item.Ref:
			allowed = expandRefOptions
		case item.Star:
			allowed = map[string]bool{"$levels": true}
		}
		switch name {
		case "$apply", "$compute":
			return &UnsupportedError{Option: "$expand", Feature: name + " inside $expand"}
		}
		if !allowed[name] {
			if expandOptionNames[name] {
				return expandErr(a, name+" is not allowed in the options of "+itemName(item))
			}
			return expandErr(a, "unknown option "+quoteText(rawName)+" in the options of "+itemName(item))
		}
		o.At[name] = at
		if err := o.set(name, v, at, aliases, depth); err != nil {
			return err
		}
	}
	return nil
}

var (
	expandOptionNames = map[string]bool{"$filter": true, "$search": true, "$orderby": true, "$skip": true,
		"$top": true, "$count": true, "$select": true, "$expand": true, "$levels": true}
	expandRefOptions   = map[string]bool{"$filter": true, "$search": true, "$orderby": true, "$skip": true, "$top": true, "$count": true}
	expandCountOptions = map[string]bool{"$filter": true, "$search": true}
)

func itemName(item *ExpandItem) string {
	if item.Star {
		return "*"
	}
	return strings.Join(item.Path, "/")
}

// set parses one nested option value v, which starts at offset at of the
// $expand text; errors are rebased onto the $expand text.
func (o *ExpandOptions) set(name, v string, at int, aliases map[string]string, depth int) error {
	var err error
	switch name {
	case "$filter":
		o.Filter, err = ParseExpr(v, aliases)
	case "$search":
		o.Search, err = ParseSearch(v)
	case "$orderby":
		o.OrderBy, err = parseOrderBy(v, aliases)
	case "$select":
		o.Select, err = ParseSelect(v)
		o.HasSelect = err == nil
	case "$top":
		o.Top, err = parseCount(name, v)
	case "$skip":
		o.Skip, err = parseCount(name, v)
	case "$count":
		var b bool
		switch {
		case equalFoldASCII(v, "true"):
			b = true
		case equalFoldASCII(v, "false"):
		default:
			return expandErr(at, "$count: expected true or false")
		}
		o.Count = &b
	case "$levels":
		if equalFoldASCII(v, "max") {
			n := int64(-1)
			o.Levels = &n
			return nil
		}
		if len(v) > 1 && v[0] == '0' || v == "0" {
			return expandErr(at, "$levels: expected a positive integer or max")
		}
		o.Levels, err = parseCount(name, v)
	case "$expand":
		o.Expand, err = parseExpandAt(v, 0, len(v), aliases, depth+1)
	}
	if err != nil {
		if se, ok := err.(*SyntaxError); ok {
			msg := se.Msg
			if se.Option != "$expand" {
				msg = name + ": " + msg
			}
			return expandErr(at+se.Offset, msg)
		}
	}
	return err
}

// FormatExpand prints $expand items in canonical form:
// "Orders($filter=Total gt 100;$orderby=OrderDate desc;$top=2;$expand=order_lines)".
// Nested options come in a fixed order ($filter, $search, $orderby,
// $select, $count, $top, $skip, $expand, $levels).
func FormatExpand(items []ExpandItem) string {
	var b strings.Builder
	writeExpand(&b, items)
	return b.String()
}

func writeExpand(b *strings.Builder, items []ExpandItem) {
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.Join(it.Path, "/"))
		if it.Star {
			if len(it.Path) > 0 {
				b.WriteByte('/')
			}
			b.WriteByte('*')
		}
		if it.Ref {
			b.WriteString("/$ref")
		}
		if it.Count {
			b.WriteString("/$count")
		}
		opts := it.Options.Pairs()
		if len(opts) == 0 {
			continue
		}
		b.WriteByte('(')
		for j, kv := range opts {
			if j > 0 {
				b.WriteByte(';')
			}
			b.WriteString(kv[0])
			b.WriteByte('=')
			b.WriteString(kv[1])
		}
		b.WriteByte(')')
	}
}

// Pairs returns the options as canonical name/value pairs, in the order
// FormatExpand prints them (decoded text).
func (o *ExpandOptions) Pairs() [][2]string {
	var out [][2]string
	if o.Filter != nil {
		out = append(out, [2]string{"$filter", o.Filter.String()})
	}
	if o.Search != nil {
		out = append(out, [2]string{"$search", o.Search.String()})
	}
	if len(o.OrderBy) > 0 {
		out = append(out, [2]string{"$orderby", FormatOrderBy(o.OrderBy)})
	}
	if o.HasSelect {
		out = append(out, [2]string{"$select", FormatSelect(o.Select)})
	}
	if o.Count != nil {
		out = append(out, [2]string{"$count", strconv.FormatBool(*o.Count)})
	}
	if o.Top != nil {
		out = append(out, [2]string{"$top", strconv.FormatInt(*o.Top, 10)})
	}
	if o.Skip != nil {
		out = append(out, [2]string{"$skip", strconv.FormatInt(*o.Skip, 10)})
	}
	if len(o.Expand) > 0 {
		out = append(out, [2]string{"$expand", FormatExpand(o.Expand)})
	}
	if o.Levels != nil {
		v := "max"
		if *o.Levels >= 0 {
			v = strconv.FormatInt(*o.Levels, 10)
		}
		out = append(out, [2]string{"$levels", v})
	}
	return out
}

// EncodePairs prints name/value pairs as a query string (percent-encoded
// like Options.Encode), e.g. for the nextLink of an expanded collection.
func EncodePairs(pairs [][2]string) string {
	var b strings.Builder
	for i, kv := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		escapeQuery(&b, kv[0])
		b.WriteByte('=')
		escapeQuery(&b, kv[1])
	}
	return b.String()
}
