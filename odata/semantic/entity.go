package semantic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// WriteMode says which rules an entity body is bound under.
type WriteMode int

// Write modes.
const (
	Create  WriteMode = iota // POST: required properties must be present
	Patch                    // PATCH/MERGE: only what is sent changes
	Replace                  // PUT: required properties must be present; the key comes from the URL
)

// Entity is a bound request body: the values to write, by property.
type Entity map[*metadata.Property]Const

// BindEntity binds a parsed request body to set under mode. key is the
// entity's key from the URL (Patch and Replace; nil for Create): a key
// property in the body must repeat it (Salesforce sends every field on
// edit), not change it.
//
// Values are converted by the same value parser as URL literals: numbers
// from JSON numbers or strings (IEEE754Compatible clients send Int64 and
// Decimal as strings), booleans from JSON true and false, every other type
// from a JSON string; then they are checked against the property's facets
// (MaxLength, Precision, Scale) and its writability.
// Instance annotations (names containing '@') are skipped.
//
// Every problem becomes one entry of Details of a single *Error of kind
// InvalidValue, each with the property as Target; nothing is bound when any
// exists.
func BindEntity(set *metadata.EntitySet, body *odata.Entity, mode WriteMode, key []Const) (Entity, error) {
	values := Entity{}
	var details []*Error
	reported := map[string]bool{}
	bad := func(target, format string, args ...any) {
		reported[target] = true
		details = append(details, &Error{Kind: InvalidValue, Msg: fmt.Sprintf(format, args...), Target: target})
	}
	for _, m := range body.Members {
		name := m.Name
		if strings.Contains(name, "@") {
			continue
		}
		p := set.Property(name)
		if p == nil {
			if f := set.PropertyFold(name); f != nil {
				bad(name, "%s has no property %q (did you mean %q?)", set.Name, name, f.Name)
			} else {
				bad(name, "%s has no property %q", set.Name, name)
			}
			continue
		}
		c, msg := jsonConst(p, m.Value)
		switch {
		case msg != "":
			bad(name, "%s", msg)
		case set.IsKey(p) && mode != Create:
			if !c.Equal(key[keyIndex(set, p)]) {
				bad(name, "key property %s cannot be changed", name)
			}
		case p.ReadOnly && p.Generated:
			bad(name, "property %s is computed by the database and cannot be written", name)
		case p.ReadOnly:
			bad(name, "property %s is read-only", name)
		case c.Null && !p.Nullable:
			bad(name, "property %s cannot be null", name)
		default:
			values[p] = c
		}
	}
	if mode != Patch {
		for _, p := range set.Properties {
			if _, ok := values[p]; ok || reported[p.Name] || p.Nullable || p.ServerGenerated() || p.ReadOnly {
				continue
			}
			switch {
			case set.IsKey(p) && mode == Replace: // comes from the URL
			case set.IsKey(p):
				bad(p.Name, "key property %s is required: the database does not generate it", p.Name)
			default:
				bad(p.Name, "property %s is required", p.Name)
			}
		}
	}
	switch len(details) {
	case 0:
		return values, nil
	case 1:
		e := *details[0]
		e.Details = details
		return nil, &e
	}
	return nil, &Error{Kind: InvalidValue, Details: details,
		Msg: fmt.Sprintf("the request body has %d invalid properties", len(details))}
}

func keyIndex(set *metadata.EntitySet, p *metadata.Property) int {
	for i, k := range set.Key {
		if k == p {
			return i
		}
	}
	return -1
}

// Equal reports whether c and d are the same value: nulls are equal,
// decimals compare numerically, instants as instants.
func (c Const) Equal(d Const) bool {
	if c.Null || d.Null {
		return c.Null == d.Null
	}
	switch x := c.V.(type) {
	case time.Time:
		y, ok := d.V.(time.Time)
		return ok && x.Equal(y)
	case []byte:
		y, ok := d.V.([]byte)
		return ok && bytes.Equal(x, y)
	case string:
		y, ok := d.V.(string)
		if !ok {
			return false
		}
		if c.T == metadata.Decimal {
			rx, okx := new(big.Rat).SetString(x)
			ry, oky := new(big.Rat).SetString(y)
			return okx && oky && rx.Cmp(ry) == 0
		}
		return x == y
	}
	return c.V == d.V
}

// jsonKinds describes, per type, what a JSON value must look like; the
// text is part of the error message ("property X expects <kind> (Edm.T)").
var jsonKinds = map[metadata.Type]string{
	metadata.Boolean:        "true or false",
	metadata.Byte:           "an integer",
	metadata.SByte:          "an integer",
	metadata.Int16:          "an integer",
	metadata.Int32:          "an integer",
	metadata.Int64:          "an integer",
	metadata.Decimal:        "a decimal number",
	metadata.Single:         "a number",
	metadata.Double:         "a number",
	metadata.String:         "a string",
	metadata.Guid:           "a GUID string",
	metadata.Binary:         "a base64 string",
	metadata.Date:           "a date string YYYY-MM-DD",
	metadata.DateTimeOffset: "a date-time string",
	metadata.TimeOfDay:      "a time of day HH:MM:SS",
	metadata.Duration:       "an ISO 8601 duration such as P1DT2H",
}

// jsonConst converts one JSON value to a constant of p's type through
// parseValue, the parser of URL literals; msg says what is wrong when it
// cannot.
func jsonConst(p *metadata.Property, raw json.RawMessage) (c Const, msg string) {
	c = Const{T: p.Type}
	raw = bytes.TrimSpace(raw)
	if string(raw) == "null" {
		c.Null = true
		return c, ""
	}
	kind, ok := jsonKinds[p.Type]
	if !ok {
		return c, fmt.Sprintf("property %s has type %s, which cannot be written", p.Name, p.Type.FullName())
	}
	want := func() (Const, string) {
		return c, fmt.Sprintf("property %s expects %s (%s), got %s", p.Name, kind, p.Type.FullName(), jsonKind(raw))
	}
	var text string
	switch jsonKind(raw) {
	case "a string":
		if err := json.Unmarshal(raw, &text); err != nil || p.Type == metadata.Boolean {
			return want()
		}
		// json.Unmarshal silently replaced such text with U+FFFD.
		if off, why := odata.InvalidText(raw); off >= 0 {
			return c, fmt.Sprintf("property %s: the value %s", p.Name, why)
		}
	case "a boolean":
		if p.Type != metadata.Boolean {
			return want()
		}
		text = string(raw)
	case "a number":
		if !p.Type.IsNumeric() {
			return want()
		}
		text = string(raw)
	default:
		return want()
	}
	switch p.Type {
	case metadata.Decimal:
		canon, msg := fitDecimal(p, text)
		c.V = canon
		return c, msg
	case metadata.String:
		if p.MaxLength > 0 && utf8.RuneCountInString(text) > p.MaxLength {
			return c, fmt.Sprintf("property %s: %d characters exceed MaxLength %d", p.Name, utf8.RuneCountInString(text), p.MaxLength)
		}
		c.V = text
		return c, ""
	}
	v, err := parseValue(text, p.Type)
	switch {
	case errors.Is(err, errNotRepresentable) && integral(text):
		return c, fmt.Sprintf("property %s: %s is out of range for %s", p.Name, text, p.Type.FullName())
	case errors.Is(err, errNotRepresentable) || err != nil && p.Type.IsNumeric():
		return want()
	case err != nil:
		return c, fmt.Sprintf("property %s: %q is not a valid %s", p.Name, text, validName[p.Type])
	}
	if b, ok := v.([]byte); ok && p.MaxLength > 0 && len(b) > p.MaxLength {
		return c, fmt.Sprintf("property %s: %d bytes exceed MaxLength %d", p.Name, len(b), p.MaxLength)
	}
	c.V = v
	return c, ""
}

// validName completes "is not a valid ..." for text that has the right
// JSON kind but not the right form.
var validName = map[metadata.Type]string{
	metadata.Guid:           "GUID",
	metadata.Binary:         "base64 value",
	metadata.Date:           "date (YYYY-MM-DD)",
	metadata.DateTimeOffset: "date-time (e.g. 2024-01-15T10:30:00Z)",
	metadata.TimeOfDay:      "time of day (HH:MM:SS)",
	metadata.Duration:       "duration (e.g. P1DT2H)",
}

// integral reports whether text is a number with an integer value.
func integral(text string) bool {
	d, ok := decimalText(text)
	return ok && strings.Trim(d[strings.IndexByte(d+".", '.'):], ".0") == ""
}

// jsonKind names the kind of a JSON value as error messages say it.
func jsonKind(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// fitDecimal checks text against p's Precision and Scale and returns its
// canonical plain form: no exponent, no trailing fractional zeros (1.500
// has scale 1). The work is linear in the input whatever the exponent,
// which decimalText bounds: a 9-byte "1e-999999" costs nothing.
func fitDecimal(p *metadata.Property, text string) (string, string) {
	if !validNumber(text) {
		return "", fmt.Sprintf("property %s expects a decimal number, got %q", p.Name, text)
	}
	d, ok := decimalText(text)
	if !ok {
		return "", fmt.Sprintf("property %s: %s is out of range", p.Name, text)
	}
	neg := strings.HasPrefix(d, "-")
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(d, "-"), ".")
	frac = strings.TrimRight(frac, "0")
	intPart = strings.TrimLeft(intPart, "0")
	if intPart == "" && frac == "" {
		return "0", ""
	}
	if p.Precision > 0 && !p.Variable {
		if len(frac) > p.Scale {
			return "", fmt.Sprintf("property %s: %s has %d decimal places; at most %d allowed (Scale)", p.Name, text, len(frac), p.Scale)
		}
		if len(intPart) > p.Precision-p.Scale {
			return "", fmt.Sprintf("property %s: %s has %d integer digits; at most %d allowed (Precision %d, Scale %d)",
				p.Name, text, len(intPart), p.Precision-p.Scale, p.Precision, p.Scale)
		}
	} else if len(intPart)+len(frac) > maxDecimalExponent {
		return "", fmt.Sprintf("property %s: %s has more than %d digits", p.Name, text, maxDecimalExponent)
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if intPart == "" {
		intPart = "0"
	}
	b.WriteString(intPart)
	if frac != "" {
		b.WriteByte('.')
		b.WriteString(frac)
	}
	return b.String(), ""
}

// JSONConst converts one JSON value (as a database serialises a column,
// e.g. a change log's key) to a constant of p's type, by the rules of
// request bodies.
func JSONConst(p *metadata.Property, raw json.RawMessage) (Const, error) {
	c, msg := jsonConst(p, raw)
	if msg != "" {
		return c, fmt.Errorf("%s", msg)
	}
	return c, nil
}
