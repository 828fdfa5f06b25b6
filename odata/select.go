package odata

// ParseSelect parses a decoded $select value:
//
//	select     = selectItem *( COMMA selectItem )
//	selectItem = STAR / selectPath
//	selectPath = identifier *( "/" identifier )   ; identifiers may be qualified
//
// Whitespace around commas is tolerated. Nested options ("Address($select=..)"),
// "Namespace.*" and annotations are *UnsupportedError; anything else that
// does not match is a *SyntaxError with Option "$select".
func ParseSelect(s string) ([]SelectItem, error) {
	const opt = "$select"
	if len(s) > MaxInputLen {
		return nil, &SyntaxError{Option: opt, Offset: MaxInputLen, Msg: "input longer than 1 MiB"}
	}
	errAt := func(off int, msg string) error { return &SyntaxError{Option: opt, Offset: off, Msg: msg} }
	var items []SelectItem
	i := 0
	skipSpace := func() {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
	}
	for {
		skipSpace()
		start := i
		item := SelectItem{}
		switch {
		case i < len(s) && s[i] == '*':
			item.Star = true
			i++
		case i < len(s) && s[i] == '@':
			return nil, &UnsupportedError{Option: opt, Feature: "annotations in $select"}
		default:
			for {
				seg := i
				for {
					end, long := scanIdent(s, i)
					if end == i {
						if i == seg {
							return nil, errAt(i, "expected a property name or '*'")
						}
						return nil, errAt(i, "expected an identifier after '.'")
					}
					if long {
						return nil, errAt(i, "identifier longer than 128 characters")
					}
					i = end
					if i < len(s) && s[i] == '.' {
						if i+1 < len(s) && s[i+1] == '*' {
							return nil, &UnsupportedError{Option: opt, Feature: "selecting operations (Namespace.*)"}
						}
						i++
						continue
					}
					break
				}
				item.Path = append(item.Path, s[seg:i])
				if i < len(s) && s[i] == '/' {
					i++
					if i < len(s) && s[i] == '@' {
						return nil, &UnsupportedError{Option: opt, Feature: "annotations in $select"}
					}
					continue
				}
				break
			}
			if i < len(s) && s[i] == '(' {
				return nil, &UnsupportedError{Option: opt, Feature: "options or parameters in $select items"}
			}
		}
		item.Span = Span{start, i}
		items = append(items, item)
		skipSpace()
		if i == len(s) {
			return items, nil
		}
		if s[i] != ',' {
			return nil, errAt(i, "expected ',' or end of input, found "+quoteText(firstRune(s[i:])))
		}
		i++
	}
}
