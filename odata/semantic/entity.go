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
//
// A binding of a to-one navigation property, "Customer@odata.bind":
// "Customers('ALFKI')" (or the 4.01 form "Customer": {"@id": "..."}), sets
// the navigation's foreign-key properties from the bound entity's key; refs
// turns the reference into a path relative to the service root (nil: every
// reference is taken as relative). null unbinds (the foreign key becomes
// null). A binding of an unknown navigation, to an entity of another set or
// that contradicts a property of the body is invalid; bindings of
// collection-valued navigations and deep inserts (a navigation property with
// an entity or entities as value) are NotImplemented. Other instance
// annotations (names containing '@') are skipped.
//
// Every problem becomes one entry of Details of a single *Error of kind
// InvalidValue, each with the property as Target; nothing is bound when any
// exists.
//
// An entity created through a navigation (POST Customers('ALFKI')/Orders,
// opt.Via) gets the navigation's foreign-key properties from the parent
// (opt.ViaValues); the body may repeat them, not contradict them.
func BindEntity(set *metadata.EntitySet, body *odata.Entity, mode WriteMode, key []Const, opt BodyOptions) (Entity, error) {
	refs := opt.Refs
	values := Entity{}
	var details []*Error
	reported := map[string]bool{}
	bad := func(target, format string, args ...any) {
		reported[target] = true
		details = append(details, &Error{Kind: InvalidValue, Msg: fmt.Sprintf(format, args...), Target: target})
	}
	var binds []binding
	for _, m := range body.Members {
		name := m.Name
		if at := strings.IndexByte(name, '@'); at >= 0 {
			if name[at+1:] == "odata.bind" {
				binds = append(binds, binding{Name: name[:at], Value: m.Value, member: name})
			}
			continue
		}
		p := set.Property(name)
		if p == nil {
			if nav := set.Navigation(name); nav != nil {
				ref, ok := idRef(m.Value)
				if !ok {
					return nil, &Error{Kind: NotImplemented, Target: name,
						Msg: fmt.Sprintf("deep insert and deep update (an entity as the value of the navigation property %s) are not supported; bind an existing entity with %s@odata.bind", name, name)}
				}
				binds = append(binds, binding{Name: name, Value: ref, member: name})
				continue
			}
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
	for _, b := range binds {
		if err := bindNavigation(set, b, mode, key, refs, values, reported, bad); err != nil {
			return nil, err
		}
	}
	if opt.Via != nil {
		for i, r := range opt.Via.Remote {
			v := retype(opt.ViaValues[i], r.Type)
			if have, ok := values[r]; ok && !have.Equal(v) {
				bad(r.Name, "property %s is %s, but the entity is created through the navigation %s, which sets it to %s",
					r.Name, have.Literal().String(), opt.Via.Name, v.Literal().String())
				continue
			}
			values[r] = v
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

// BodyOptions are what BindEntity needs besides the body.
type BodyOptions struct {
	// Refs resolves entity references (@odata.bind); nil takes them as
	// relative to the service root.
	Refs RefPath
	// Via is the navigation an entity is created through (the last of the
	// path's hops), ViaValues the values of its Local properties read from
	// the parent, in Local order.
	Via       *metadata.Navigation
	ViaValues []Const
}

// RefPath turns an entity reference of a request body (the value of
// Nav@odata.bind or of "@id") into a resource path relative to the service
// root ("Customers('ALFKI')", still percent-encoded); ok is false when the
// reference is not a URL of this service.
type RefPath func(ref string) (path string, ok bool)

// binding is a binding found in a body: Name is the navigation property,
// Value the reference (raw JSON), member the body's member name.
type binding struct {
	Name   string
	Value  json.RawMessage
	member string
}

// idRef is the "@id" of a 4.01 entity reference {"@id": "..."} (an object
// with nothing else but annotations); ok is false for anything else (a
// deep insert).
func idRef(raw json.RawMessage) (json.RawMessage, bool) {
	var obj map[string]json.RawMessage
	if jsonKind(bytes.TrimSpace(raw)) != "an object" || json.Unmarshal(raw, &obj) != nil {
		return nil, false
	}
	id, ok := obj["@id"]
	if !ok {
		id, ok = obj["@odata.id"]
	}
	for name := range obj {
		if !strings.HasPrefix(name, "@") {
			return nil, false
		}
	}
	return id, ok
}

// bindNavigation applies one binding to values: the foreign-key
// properties of a to-one navigation get the bound entity's key.
func bindNavigation(set *metadata.EntitySet, b binding, mode WriteMode, key []Const, refs RefPath, values Entity,
	reported map[string]bool, bad func(target, format string, args ...any)) error {
	nav := set.Navigation(b.Name)
	if nav == nil {
		switch {
		case set.Property(b.Name) != nil:
			bad(b.member, "%s is a property, not a navigation property: only navigation properties are bound", b.Name)
		default:
			msg := fmt.Sprintf("%s has no navigation property %q", set.Name, b.Name)
			for _, n := range set.Navigations {
				if strings.EqualFold(n.Name, b.Name) {
					msg += fmt.Sprintf(" (did you mean %q?)", n.Name)
				}
			}
			bad(b.member, "%s", msg)
		}
		return nil
	}
	if nav.Many {
		return &Error{Kind: NotImplemented, Target: b.member,
			Msg: fmt.Sprintf("binding entities to the collection-valued navigation property %s is not supported; bind each %s entity to this one through its own navigation property", nav.Name, nav.Target.Name)}
	}
	raw := bytes.TrimSpace(b.Value)
	vals := make([]Const, len(nav.Local))
	if string(raw) == "null" {
		for i, l := range nav.Local {
			vals[i] = Const{T: l.Type, Null: true}
		}
	} else {
		var ref string
		if jsonKind(raw) != "a string" || json.Unmarshal(raw, &ref) != nil {
			bad(b.member, "%s expects an entity reference (a URL such as \"%s(...)\"), got %s", b.member, nav.Target.Name, jsonKind(raw))
			return nil
		}
		target, msg := refKey(nav, ref, refs)
		if msg != "" {
			bad(b.member, "%s", msg)
			return nil
		}
		for i, r := range nav.Remote {
			j := keyIndex(nav.Target, r)
			if j < 0 {
				return &Error{Kind: NotImplemented, Target: b.member,
					Msg: fmt.Sprintf("binding %s is not supported: its foreign key references %s, which is not the key of %s", nav.Name, r.Name, nav.Target.Name)}
			}
			vals[i] = retype(target[j], nav.Local[i].Type)
		}
	}
	for i, l := range nav.Local {
		v := vals[i]
		if have, ok := values[l]; ok && !have.Equal(v) {
			bad(b.member, "%s sets %s to %s, but the body gives %s", b.member, l.Name, v.Literal().String(), have.Literal().String())
			continue
		}
		switch {
		case set.IsKey(l) && mode != Create:
			if !v.Equal(key[keyIndex(set, l)]) {
				bad(b.member, "%s would change the key property %s, which cannot be changed", b.member, l.Name)
			}
			continue
		case l.ReadOnly:
			bad(b.member, "%s sets the read-only property %s", b.member, l.Name)
			continue
		case v.Null && !l.Nullable:
			bad(b.member, "%s cannot be null: property %s is required", b.member, l.Name)
			reported[l.Name] = true
			continue
		}
		values[l] = v
	}
	return nil
}

// refKey binds an entity reference to the key of an entity of nav's target.
func refKey(nav *metadata.Navigation, ref string, refs RefPath) ([]Const, string) {
	rel := ref
	if refs != nil {
		var ok bool
		if rel, ok = refs(ref); !ok {
			return nil, fmt.Sprintf("%q is not a URL of this service", ref)
		}
	}
	if strings.ContainsAny(rel, "?#") {
		return nil, fmt.Sprintf("%q is not an entity URL: a reference names the entity only, without query options", ref)
	}
	req, err := odata.ParseRequest("/"+strings.TrimPrefix(rel, "/"), "")
	if err != nil {
		return nil, fmt.Sprintf("%q is not an entity URL: %v", ref, err)
	}
	path := req.Path
	if path.Kind != odata.PathEntity && path.Kind != odata.PathEntitySet || path.Set != nav.Target.Name {
		return nil, fmt.Sprintf("%s leads to %s: %q is not an entity of %s", nav.Name, nav.Target.Name, ref, nav.Target.Name)
	}
	t, err := walkPath(nav.Target, path, nil)
	if err != nil || !t.entity || len(t.hops) > 0 || t.prop != nil || t.ref {
		return nil, fmt.Sprintf("%q does not address one entity of %s by its key, e.g. %s(%s)", ref, nav.Target.Name, nav.Target.Name, keyExample(nav.Target))
	}
	return t.key, ""
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
