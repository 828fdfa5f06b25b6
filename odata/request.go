package odata

import (
	"strconv"
	"strings"
)

// systemOptions lists the system query options the parser recognises
// (lower-case, with '$'). Supported ones are parsed into Options fields;
// the others are recorded in Options.Unsupported.
var systemOptions = map[string]bool{
	"$filter": true, "$orderby": true, "$select": true, "$search": true,
	"$top": true, "$skip": true, "$count": true, "$skiptoken": true,
	"$format": true, "$deltatoken": true, "$expand": true, "$apply": true,
	"$compute": true,
	// valid OData, not implemented (501)
	"$levels": false,
	"$index":  false, "$schemaversion": false, "$id": false,
}

// withoutDollar are the system query options also recognised without '$'
// (OData 4.01 Protocol §11.2.1), in any case: top=2, Select=Name. Names
// that are more likely a client's own parameter ($id, $index, $levels,
// $schemaversion) are left to be custom options when written without '$'.
var withoutDollar = map[string]bool{
	"$filter": true, "$orderby": true, "$select": true, "$search": true, "$top": true, "$skip": true,
	"$count": true, "$skiptoken": true, "$deltatoken": true, "$format": true, "$expand": true,
	"$apply": true, "$compute": true,
}

// queryOption is one decoded name=value pair of the query string.
type queryOption struct {
	name  string // canonical: lower-case for $-options
	value string
}

// ParseRequest parses a request URL: escapedPath is the resource path
// relative to the service root, still percent-encoded ("", "/", "/$metadata",
// "/Customers('O%27%27Brien')", "/order_lines(order_id=1,line_no=2)",
// "/Customers/$count", ...); rawQuery is r.URL.RawQuery.
//
// The query string is split on '&'; names and values are decoded form-style
// ('+' is a space, %XX a byte). System options ($-names, and the 4.01
// forms without '$' listed in withoutDollar) are matched
// case-insensitively and may appear once (top=1 and $top=2 together are a
// duplicate); unknown $-options are a
// *SyntaxError; $levels, $index and $schemaversion are recorded in
// Options.Unsupported ($id goes to Options.ID); "@name" options are
// parameter aliases, parsed when $filter, $orderby or a key refers to them;
// other names are custom options. Options.Raw keeps every decoded value.
//
// Errors are *SyntaxError (Option "path", "query", or the query option's
// canonical name; Offset in the decoded value, or in the raw text for bad
// percent-encoding) or *UnsupportedError.
func ParseRequest(escapedPath, rawQuery string) (*Request, error) {
	if len(rawQuery) > MaxInputLen {
		return nil, &SyntaxError{Option: "query", Offset: MaxInputLen, Msg: "query string longer than 1 MiB"}
	}
	opts, err := splitQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	req := &Request{Options: Options{Raw: make(map[string]string, len(opts))}}
	aliases := map[string]string{}
	for _, o := range opts {
		if _, dup := req.Options.Raw[o.name]; dup {
			switch {
			case o.name[0] == '$':
				return nil, &SyntaxError{Option: o.name, Msg: "duplicate system query option " + o.name}
			case o.name[0] == '@':
				return nil, &SyntaxError{Option: o.name, Msg: "duplicate parameter alias " + o.name}
			}
			continue // custom option: the first occurrence wins
		}
		req.Options.Raw[o.name] = o.value
		if o.name[0] == '@' {
			aliases[o.name] = o.value
		}
	}
	if req.Path, err = parsePath(escapedPath, aliases); err != nil {
		return nil, err
	}
	for _, o := range opts {
		if req.Options.Raw[o.name] != o.value {
			continue // a later duplicate custom option
		}
		if err := req.Options.set(o, aliases); err != nil {
			return nil, err
		}
	}
	return req, nil
}

// set stores one query option into o.
func (o *Options) set(q queryOption, aliases map[string]string) error {
	name, v := q.name, q.value
	var err error
	switch name {
	case "$id":
		if v == "" {
			return &SyntaxError{Option: name, Msg: "expected the URL of an entity"}
		}
		o.ID = v
	case "$filter":
		o.Filter, err = ParseExpr(v, aliases)
	case "$orderby":
		o.OrderBy, err = parseOrderBy(v, aliases)
	case "$select":
		o.Select, err = ParseSelect(v)
		o.HasSelect = err == nil
	case "$search":
		o.Search, err = ParseSearch(v)
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
			return &SyntaxError{Option: name, Msg: "expected true or false"}
		}
		o.Count = &b
	case "$skiptoken":
		o.SkipToken = v
	case "$format":
		o.Format = v
	case "$deltatoken":
		o.DeltaToken = v
	case "$expand":
		o.Expand, err = ParseExpand(v, aliases)
	case "$apply":
		o.Apply, err = ParseApply(v, aliases)
	case "$compute":
		o.Compute, err = ParseCompute(v, aliases)
	default:
		switch {
		case name[0] == '$':
			o.Unsupported = append(o.Unsupported, name)
		case name[0] == '@':
			// aliases are parsed where referenced
		default:
			if o.Custom == nil {
				o.Custom = map[string]string{}
			}
			o.Custom[name] = v
		}
	}
	return err
}

// parseCount parses $top/$skip: 1*DIGIT, at most the int64 range.
func parseCount(opt, v string) (*int64, error) {
	if v == "" {
		return nil, &SyntaxError{Option: opt, Msg: "expected a non-negative integer"}
	}
	for i := 0; i < len(v); i++ {
		if !isDigit(v[i]) {
			return nil, &SyntaxError{Option: opt, Offset: i, Msg: "expected a non-negative integer, found " + quoteText(firstRune(v[i:]))}
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, &SyntaxError{Option: opt, Msg: "integer out of range"}
	}
	return &n, nil
}

// splitQuery splits and decodes the query string, classifying names.
func splitQuery(raw string) ([]queryOption, error) {
	var opts []queryOption
	for len(raw) > 0 {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if part == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(part, "=")
		name, off, ok := unescape(rawName, true)
		if !ok {
			return nil, &SyntaxError{Option: "query", Offset: off, Msg: "invalid percent-encoding in query option name"}
		}
		if name == "" {
			return nil, &SyntaxError{Option: "query", Msg: "empty query option name"}
		}
		if bare := "$" + lowerASCII(name); name[0] != '$' && name[0] != '@' && withoutDollar[bare] {
			name = bare // OData 4.01: system query options may omit the '$'
		}
		switch name[0] {
		case '$':
			name = lowerASCII(name)
			if _, known := systemOptions[name]; !known {
				return nil, &SyntaxError{Option: name, Msg: "unknown system query option " + quoteText(name)}
			}
		case '@':
			if end, _ := scanIdent(name, 1); end == 1 || end != len(name) {
				return nil, &SyntaxError{Option: name, Offset: 1, Msg: "invalid parameter alias name"}
			}
		}
		value, off, ok := unescape(rawValue, true)
		if !ok {
			return nil, &SyntaxError{Option: name, Offset: off, Msg: "invalid percent-encoding"}
		}
		opts = append(opts, queryOption{name: name, value: value})
	}
	return opts, nil
}

// unescape decodes %XX sequences (and '+' as a space when form is set). On
// a malformed escape it returns the offset of the '%'.
func unescape(s string, form bool) (string, int, bool) {
	n := strings.IndexByte(s, '%')
	if n < 0 && (!form || strings.IndexByte(s, '+') < 0) {
		return s, 0, true
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return "", i, false
			}
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '+' && form:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return string(b), 0, true
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// parsePath parses the resource path:
//
//	resourcePath = "" / "/" / "/$metadata" / "/$batch"
//	             / "/" entitySetName [ keyPredicate ] *( "/" segment )
//
// Segments are split on '/' before decoding ('+' stays a plus). "/Set/$count"
// is PathCount; any other further segments go to Path.Rest. Offsets of errors
// are in the decoded first segment, or in the raw path for bad escapes.
func parsePath(escaped string, aliases map[string]string) (Path, error) {
	var path Path
	if len(escaped) > MaxInputLen {
		return path, &SyntaxError{Option: "path", Offset: MaxInputLen, Msg: "path longer than 1 MiB"}
	}
	rest := strings.TrimPrefix(escaped, "/")
	if rest == "" {
		return path, nil // PathServiceRoot
	}
	base := len(escaped) - len(rest)
	rawSegs := strings.Split(rest, "/")
	if len(rawSegs) > 1 && rawSegs[len(rawSegs)-1] == "" {
		rawSegs = rawSegs[:len(rawSegs)-1] // tolerate one trailing slash
	}
	segs := make([]string, len(rawSegs))
	for i, rs := range rawSegs {
		seg, off, ok := unescape(rs, false)
		if !ok {
			return path, &SyntaxError{Option: "path", Offset: base + off, Msg: "invalid percent-encoding"}
		}
		if seg == "" {
			return path, &SyntaxError{Option: "path", Offset: base, Msg: "empty path segment"}
		}
		segs[i] = seg
		base += len(rs) + 1
	}
	first := segs[0]
	switch first {
	case "$metadata", "$batch":
		path.Kind = PathMetadata
		if first == "$batch" {
			path.Kind = PathBatch
		}
		if len(segs) > 1 {
			return path, &SyntaxError{Option: "path", Offset: len(first), Msg: "unexpected segment after " + first}
		}
		return path, nil
	}
	if first[0] == '$' {
		// OData's own resources at the service root are valid but not
		// implemented (501); any other $-name names nothing (the binder
		// answers 404 for an unknown entity set).
		name := first
		if i := strings.IndexByte(name, '('); i >= 0 {
			name = name[:i]
		}
		switch name {
		case "$crossjoin", "$all", "$entity", "$root", "$id":
			return path, &UnsupportedError{Option: "path", Feature: "path segment " + quoteText(first)}
		}
		path.Set, path.Kind = first, PathEntitySet
		if len(segs) > 1 {
			path.Rest, path.Segments = segs[1:], parseSegments(segs[1:], aliases)
		}
		return path, nil
	}
	end, long := scanIdent(first, 0)
	if end == 0 {
		return path, &SyntaxError{Option: "path", Msg: "expected an entity set name"}
	}
	if long {
		return path, &SyntaxError{Option: "path", Msg: "identifier longer than 128 characters"}
	}
	path.Set, path.Kind = first[:end], PathEntitySet
	if end < len(first) {
		if first[end] != '(' {
			return path, &SyntaxError{Option: "path", Offset: end, Msg: "expected '(' or '/' after the entity set name"}
		}
		key, err := parseKey(first, end, aliases)
		if err != nil {
			return path, err
		}
		path.Kind, path.Key, path.KeySpan = PathEntity, key, Span{end, len(first)}
	}
	if len(segs) > 1 {
		path.Rest, path.Segments = segs[1:], parseSegments(segs[1:], aliases)
		if path.Kind == PathEntitySet && len(path.Rest) == 1 && path.Rest[0] == "$count" {
			path.Kind, path.Rest, path.Segments = PathCount, nil, nil
		}
	}
	return path, nil
}

// parseSegments parses the segments after the first one: an identifier
// with an optional key predicate (navigation segments), anything else kept
// whole as the Name.
func parseSegments(segs []string, aliases map[string]string) []Segment {
	out := make([]Segment, len(segs))
	for i, seg := range segs {
		out[i].Name = seg
		end, long := scanIdent(seg, 0)
		if end == 0 || long || end == len(seg) || seg[end] != '(' {
			continue
		}
		out[i].Name = seg[:end]
		key, err := parseKey(seg, end, aliases)
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i].Key, out[i].KeySpan = key, Span{end, len(seg)}
	}
	return out
}

// parseKey parses the key predicate seg[open:], which must end the segment:
//
//	keyPredicate     = simpleKey / compoundKey
//	simpleKey        = OPEN ( parameterAlias / keyPropertyValue ) CLOSE
//	compoundKey      = OPEN keyValuePair *( COMMA keyValuePair ) CLOSE
//	keyValuePair     = primitiveKeyProperty EQ ( parameterAlias / keyPropertyValue )
//	keyPropertyValue = primitiveLiteral
func parseKey(seg string, open int, aliases map[string]string) ([]KeyPart, error) {
	p, err := newParser(seg, "path", aliases, 0)
	if err != nil {
		return nil, err
	}
	p.lex.pos = open + 1 // after '('
	if err := p.advance(); err != nil {
		return nil, err
	}
	var parts []KeyPart
	for {
		var part KeyPart
		if p.tok.kind == tWord && p.nextByte() == '=' {
			part.Name = p.tok.text
			if strings.Contains(part.Name, ".") {
				return nil, p.errAt(p.tok.start, "expected a key property name")
			}
			for _, q := range parts {
				if q.Name == part.Name {
					return nil, p.errAt(p.tok.start, "duplicate key property "+quoteText(part.Name))
				}
			}
			if err := p.advance(); err != nil { // '='
				return nil, err
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
		if len(parts) > 0 && (part.Name == "") != (parts[0].Name == "") {
			return nil, p.errAt(p.tok.start, "expected name=value in a compound key")
		}
		switch p.tok.kind {
		case tLit, tAlias:
			v, err := p.parsePrimary()
			if err != nil {
				return nil, err
			}
			part.Value = v
		default:
			return nil, p.unexpected("a key value (literal or parameter alias)")
		}
		parts = append(parts, part)
		switch p.tok.kind {
		case tComma:
			if len(parts) == 1 && parts[0].Name == "" {
				return nil, p.errAt(p.tok.start, "expected ')' after a single key value")
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		case tRParen:
			if p.tok.end != len(seg) {
				return nil, p.errAt(p.tok.end, "unexpected text after the key predicate")
			}
			return parts, nil
		}
		return nil, p.unexpected("',' or ')'")
	}
}
