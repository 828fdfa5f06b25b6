package odata

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

// Member is one member of a JSON request body: its name and its value as
// raw JSON (the binder converts it against the property's type).
type Member struct {
	Name  string
	Value json.RawMessage
}

// Entity is a parsed entity request body (POST, PATCH, PUT): one JSON
// object, members in the order written. Instance annotations (names with
// '@', such as "@odata.etag" or "Name@odata.type") are members like any
// other; the binder skips them.
type Entity struct {
	Members []Member
}

// ParseEntity parses an entity request body. It accepts exactly one JSON
// object with distinct member names and nothing after it. Errors are
// *SyntaxError with Option "body" and Offset the byte offset in data.
func ParseEntity(data []byte) (*Entity, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	bad := func(msg string) error {
		return &SyntaxError{Option: "body", Offset: int(dec.InputOffset()), Msg: msg}
	}
	syntax := func(err error) error {
		var se *json.SyntaxError
		switch {
		case errors.As(err, &se):
			return &SyntaxError{Option: "body", Offset: int(se.Offset), Msg: "malformed JSON: " + se.Error()}
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return bad("malformed JSON: unexpected end of input")
		}
		return bad("malformed JSON")
	}
	tok, err := dec.Token()
	if err != nil {
		return nil, syntax(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		start := len(data) - len(bytes.TrimLeft(data, " \t\r\n"))
		return nil, &SyntaxError{Option: "body", Offset: start, Msg: "expected a JSON object"}
	}
	ent := &Entity{}
	seen := map[string]bool{}
	for dec.More() {
		start := int(dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		name := tok.(string) // inside an object the decoder only yields names here
		// encoding/json replaces invalid UTF-8 and unpaired surrogate escapes
		// with U+FFFD: check the raw text, so that nothing is stored altered.
		if off, why := InvalidText(data[start:dec.InputOffset()]); off >= 0 {
			return nil, &SyntaxError{Option: "body", Offset: start + off, Msg: "a member name " + why}
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntax(err)
		}
		if off, why := InvalidText(raw); off >= 0 {
			return nil, &SyntaxError{Option: "body", Offset: int(dec.InputOffset()) - len(raw) + off,
				Msg: "the value of " + quote(name) + " " + why}
		}
		if seen[name] {
			return nil, bad("property " + quote(name) + " appears twice in the body")
		}
		seen[name] = true
		ent.Members = append(ent.Members, Member{Name: name, Value: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, syntax(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, bad("unexpected data after the JSON object")
	}
	return ent, nil
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// InvalidText finds what a JSON decoder would silently replace with U+FFFD in
// raw JSON text: a byte sequence that is not UTF-8, or a \u escape of an
// unpaired surrogate. It returns the offset in raw and what is wrong, or -1
// when the text is clean. raw must be well-formed JSON (outside strings
// JSON has no backslashes, so escapes are found without tracking quotes).
func InvalidText(raw []byte) (offset int, why string) {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw) && raw[i+1] == 'u':
			r := hex4(raw[i+2:])
			switch {
			case r >= 0xD800 && r <= 0xDBFF:
				if len(raw) >= i+12 && raw[i+6] == '\\' && raw[i+7] == 'u' {
					if lo := hex4(raw[i+8:]); lo >= 0xDC00 && lo <= 0xDFFF {
						i += 12
						continue
					}
				}
				return i, "contains an unpaired surrogate escape (" + string(raw[i:i+6]) + ")"
			case r >= 0xDC00 && r <= 0xDFFF:
				return i, "contains an unpaired surrogate escape (" + string(raw[i:i+6]) + ")"
			}
			i += 6
		case c == '\\':
			i += 2
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				return i, "is not valid UTF-8"
			}
			i += size
		}
	}
	return -1, ""
}

// hex4 is the value of the four hex digits at the start of b, or -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// ParseEntityRef parses the body of a request that writes an entity
// reference (PUT or POST …/$ref): a JSON object whose "@odata.id" (or, in
// OData 4.01, "@id") is the referenced entity's URL. Other annotations
// ("@odata.context") are skipped; properties are an error, as is a missing
// id or one that is not a non-empty string. Errors are *SyntaxError with
// Option "body".
func ParseEntityRef(data []byte) (string, error) {
	ent, err := ParseEntity(data)
	if err != nil {
		return "", err
	}
	var id string
	found := false
	for _, m := range ent.Members {
		switch {
		case m.Name == "@odata.id" || m.Name == "@id":
			var s string
			if json.Unmarshal(m.Value, &s) != nil || s == "" {
				return "", &SyntaxError{Option: "body", Msg: m.Name + " must be a non-empty string: the URL of the referenced entity"}
			}
			if found && s != id {
				return "", &SyntaxError{Option: "body", Msg: "@odata.id and @id name different entities"}
			}
			id, found = s, true
		case strings.HasPrefix(m.Name, "@"):
		default:
			return "", &SyntaxError{Option: "body", Msg: "an entity reference has no properties (found " + quote(m.Name) + "); send {\"@odata.id\":\"Set(key)\"}"}
		}
	}
	if !found {
		return "", &SyntaxError{Option: "body", Msg: "the entity reference has no @odata.id: send {\"@odata.id\":\"Set(key)\"}"}
	}
	return id, nil
}
