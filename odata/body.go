package odata

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
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
		tok, err := dec.Token()
		if err != nil {
			return nil, syntax(err)
		}
		name := tok.(string) // inside an object the decoder only yields names here
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, syntax(err)
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
