package salesforce

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/odatagw/odatagw/metadata"
)

// SetReport is what one entity set becomes in Salesforce. Errors are
// problems Salesforce refuses or that break records (missing key, invalid
// names); Warnings are problems that silently lose or change data.
type SetReport struct {
	Set      string        `json:"set"`
	Object   string        `json:"object"` // external object API name, Set__x
	Key      []string      `json:"key"`
	ReadOnly bool          `json:"readOnly"`
	Errors   []string      `json:"errors,omitempty"`
	Warnings []string      `json:"warnings,omitempty"`
	Fields   []FieldReport `json:"fields"`
	// Lookups are the relationships to define in Salesforce after sync, one
	// per foreign key to another exposed set.
	Lookups []Lookup `json:"lookups,omitempty"`
}

// Lookup is an External Lookup Relationship field a foreign key supports:
// on this object, Field (the referencing property's custom field) becomes a
// lookup to the External ID of Object. Composite foreign keys cannot be
// expressed (Salesforce's External ID of a composite key is not a column).
type Lookup struct {
	Field     string `json:"field"`  // e.g. customer_id__c
	Object    string `json:"object"` // e.g. customers__x
	Via       string `json:"via"`    // the foreign key's name
	Supported bool   `json:"supported"`
	Note      string `json:"note,omitempty"`
}

// FieldReport is what one property becomes.
type FieldReport struct {
	Property string   `json:"property"`
	Field    string   `json:"field"` // custom field API name, Property__c
	Edm      string   `json:"edm"`   // e.g. "Edm.String"
	Type     string   `json:"type"`  // Salesforce field type, e.g. "Text(60)"
	Key      bool     `json:"key,omitempty"`
	Nullable bool     `json:"nullable"`
	Errors   []string `json:"errors,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// Problems counts errors and warnings over all reports.
func Problems(r []SetReport) (errors, warnings int) {
	for _, s := range r {
		errors += len(s.Errors)
		warnings += len(s.Warnings)
		for _, f := range s.Fields {
			errors += len(f.Errors)
			warnings += len(f.Warnings)
		}
	}
	return errors, warnings
}

// Report describes every entity set of m, in m's set order.
func Report(m *metadata.Model) []SetReport {
	out := make([]SetReport, 0, len(m.Sets))
	for _, s := range m.Sets {
		out = append(out, ReportSet(s))
	}
	return out
}

// ReportSet describes one entity set. It accepts sets that a built model
// never contains (no key, invalid names), as read from a foreign producer's
// $metadata: those are exactly what it reports.
func ReportSet(s *metadata.EntitySet) SetReport {
	r := SetReport{Set: s.Name, Object: ObjectName(s.Name), ReadOnly: s.ReadOnly}
	errs, warns := checkName(s.Name)
	r.Errors = append(r.Errors, prefix("entity set name: ", errs)...)
	r.Warnings = append(r.Warnings, prefix("entity set name: ", warns)...)
	for _, k := range s.Key {
		r.Key = append(r.Key, k.Name)
	}
	switch {
	case len(s.Key) == 0:
		r.Errors = append(r.Errors, "no key: Salesforce derives the External ID from the entity key; without one it concatenates all columns and sync fails or records cannot be opened")
	case len(s.Key) > 1:
		r.Warnings = append(r.Warnings, fmt.Sprintf("composite key (%s): the External ID is built from all key properties; lookups from other objects need the composite value, prefer a single key", strings.Join(r.Key, ", ")))
	}
	for _, fk := range s.ForeignKeys {
		l := Lookup{Object: ObjectName(fk.Target), Via: fk.Name, Supported: len(fk.Properties) == 1}
		names := make([]string, len(fk.Properties))
		for i, p := range fk.Properties {
			names[i] = FieldName(p.Name)
		}
		l.Field = strings.Join(names, ", ")
		if !l.Supported {
			l.Note = "composite foreign key: Salesforce lookups match one field against the parent's External ID"
		}
		r.Lookups = append(r.Lookups, l)
	}
	if s.ReadOnly && s.Kind != "" && s.Kind != metadata.KindTable {
		r.Warnings = append(r.Warnings, fmt.Sprintf("read-only %s: do not expect create/edit/delete from Salesforce on this object", s.Kind))
	}
	folded := map[string]string{}
	for _, p := range s.Properties {
		f := FieldReport{Property: p.Name, Field: FieldName(p.Name), Edm: p.Type.FullName(), Key: isKey(s, p), Nullable: p.Nullable}
		if strings.Contains(string(p.Type), ".") || strings.HasPrefix(string(p.Type), "Collection(") {
			f.Edm = string(p.Type)
		}
		f.Type, f.Warnings = FieldType(p.Type, p.MaxLength, p.Precision, p.Scale, p.Variable)
		ne, nw := checkName(p.Name)
		f.Errors = append(f.Errors, ne...)
		f.Warnings = append(f.Warnings, nw...)
		if prev, ok := folded[strings.ToLower(p.Name)]; ok {
			f.Errors = append(f.Errors, fmt.Sprintf("name differs from %q only in case; Salesforce API names ignore case", prev))
		} else {
			folded[strings.ToLower(p.Name)] = p.Name
		}
		if p.FixedChar {
			f.Warnings = append(f.Warnings, "char(n) column: values must be returned right-trimmed and compared unpadded, or eq filters from Salesforce miss rows")
			if f.Key {
				r.Warnings = append(r.Warnings, fmt.Sprintf("key %s is char(n): the External ID must round-trip byte for byte, so padding must never reach Salesforce", p.Name))
			}
		}
		if p.Type == metadata.Boolean && p.Nullable {
			f.Warnings = append(f.Warnings, "nullable Boolean: Salesforce checkboxes are never null; null probably shows as false")
		}
		if f.Key {
			switch {
			case f.Type == Unsupported:
				r.Errors = append(r.Errors, fmt.Sprintf("key %s has a type Salesforce does not map", p.Name))
			case p.Type == metadata.Binary, p.Type == metadata.String && (p.MaxLength > MaxText || p.MaxLength < 0):
				r.Errors = append(r.Errors, fmt.Sprintf("key %s becomes %s, which Salesforce cannot filter on: record pages cannot look it up", p.Name, f.Type))
			}
		}
		r.Fields = append(r.Fields, f)
	}
	return r
}

func isKey(s *metadata.EntitySet, p *metadata.Property) bool {
	for _, k := range s.Key {
		if k == p {
			return true
		}
	}
	return false
}

func prefix(p string, msgs []string) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = p + m
	}
	return out
}

// WriteText prints the reports for people: per set the object name, key and
// problems, then one line per property with its Salesforce field and type,
// followed by that property's problems. It ends with a summary line.
func WriteText(w io.Writer, reports []SetReport) error {
	var b strings.Builder
	for i, r := range reports {
		if i > 0 {
			b.WriteByte('\n')
		}
		ro := ""
		if r.ReadOnly {
			ro = ", read-only"
		}
		key := strings.Join(r.Key, ", ")
		if key == "" {
			key = "none"
		}
		fmt.Fprintf(&b, "%s -> %s (key: %s%s)\n", r.Set, r.Object, key, ro)
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "  ERROR %s\n", e)
		}
		for _, wn := range r.Warnings {
			fmt.Fprintf(&b, "  WARN  %s\n", wn)
		}
		for _, l := range r.Lookups {
			if l.Supported {
				fmt.Fprintf(&b, "  LOOKUP %s -> External Lookup Relationship to %s (foreign key %s)\n", l.Field, l.Object, l.Via)
			} else {
				fmt.Fprintf(&b, "  LOOKUP %s -> %s: not possible (%s)\n", l.Field, l.Object, l.Note)
			}
		}
		pw, fw, ew := 0, 0, 0
		for _, f := range r.Fields {
			pw = max(pw, len(f.Property))
			fw = max(fw, len(f.Field))
			ew = max(ew, len(f.Edm))
		}
		for _, f := range r.Fields {
			k := " "
			if f.Key {
				k = "*"
			}
			fmt.Fprintf(&b, "  %s %-*s  %-*s  %-*s  %s\n", k, pw, f.Property, fw, f.Field, ew, f.Edm, f.Type)
			for _, e := range f.Errors {
				fmt.Fprintf(&b, "      ERROR %s\n", e)
			}
			for _, wn := range f.Warnings {
				fmt.Fprintf(&b, "      WARN  %s\n", wn)
			}
		}
	}
	ne, nw := Problems(reports)
	fmt.Fprintf(&b, "\n%d entity sets, %d errors, %d warnings\n", len(reports), ne, nw)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteJSON prints the reports as an indented JSON array.
func WriteJSON(w io.Writer, reports []SetReport) error {
	if reports == nil {
		reports = []SetReport{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(reports)
}
