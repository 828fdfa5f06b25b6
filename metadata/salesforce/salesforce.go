// Package salesforce holds the rules Salesforce Connect's OData 4.0 adapter
// applies to a service's metadata: how each Edm type becomes a Salesforce
// field type, which names Salesforce accepts as API names, and what in a
// model will hurt once it is synced (missing keys, Text(128) truncation,
// precision over 18 digits, char(n) padding, unsupported types).
//
// Everything here is pure data and functions over package metadata; the
// facts come from the project's reference note
// (../shared/reference/salesforce-connect.md, sections 3 and 8), which
// distinguishes confirmed Salesforce behaviour from inference. Messages say
// "probably" where the reference only infers.
package salesforce

import (
	"fmt"
	"strings"

	"github.com/odatagw/odatagw/metadata"
)

// Salesforce field type names (as shown in Setup).
const (
	Text          = "Text"
	LongTextArea  = "Long Text Area"
	TextArea      = "Text Area"
	Checkbox      = "Checkbox"
	Number        = "Number"
	DateTime      = "Date/Time"
	Unsupported   = "Unsupported"
	DefaultText   = 128    // Text length Salesforce uses when Edm.String has no MaxLength
	MaxText       = 255    // longest Text field; longer strings become Long Text Area
	MaxLongText   = 131072 // longest Long Text Area
	MaxDigits     = 18     // total digits of a Salesforce Number field
	MaxNameLength = metadata.MaxNameLength
)

// MaxLengthMax is the maxLength argument of FieldType for MaxLength="max".
const MaxLengthMax = -1

// Mapping is one row of Salesforce's OData 4.0 type mapping table.
type Mapping struct {
	Edm        metadata.Type `json:"edm"`
	Salesforce string        `json:"salesforce"`
	Note       string        `json:"note,omitempty"`
}

// Mappings is Salesforce's OData 4.0 / 4.01 type mapping (reference §3.1),
// in the order of the Salesforce help page. Types not listed are not mapped.
var Mappings = []Mapping{
	{metadata.String, "Text(n) / Long Text Area(n)", "Text(128) when MaxLength is missing; Long Text Area when MaxLength > 255"},
	{metadata.Boolean, Checkbox, "checkboxes are never null; null probably shows as false"},
	{metadata.Byte, Number, ""},
	{metadata.SByte, Number, ""},
	{metadata.Int16, Number, ""},
	{metadata.Int32, Number, ""},
	{metadata.Int64, Number, "Salesforce numbers hold 18 digits"},
	{metadata.Decimal, Number, "declare Precision <= 18 and Scale"},
	{metadata.Double, Number, ""},
	{metadata.Single, Number, ""},
	{metadata.Date, DateTime, "date-time with a zero time part"},
	{metadata.DateTimeOffset, DateTime, "millisecond precision"},
	{metadata.Guid, Text + "(36)", ""},
	{metadata.Binary, TextArea, "value shown as base64"},
}

// FieldType returns the Salesforce field type an external-object field of
// Edm type t gets on Validate and Sync, and the warnings that matter for it.
// maxLength is the declared MaxLength (0 = not declared, MaxLengthMax =
// "max"); precision and scale are the declared facets (precision 0 = not
// declared; for DateTimeOffset precision is the fractional-second digits);
// variable reports Scale="variable". A type Salesforce does not map yields
// Unsupported with a warning. FieldType never fails.
func FieldType(t metadata.Type, maxLength, precision, scale int, variable bool) (sfType string, warnings []string) {
	switch t {
	case metadata.String:
		switch {
		case maxLength == 0:
			return fmt.Sprintf("%s(%d)", Text, DefaultText), []string{
				fmt.Sprintf("no MaxLength: Salesforce creates Text(%d) and longer values are truncated; declare MaxLength", DefaultText)}
		case maxLength < 0:
			return fmt.Sprintf("%s(%d)", LongTextArea, MaxLongText), []string{
				"MaxLength=\"max\" probably becomes Long Text Area, which SOQL cannot filter or sort on"}
		case maxLength <= MaxText:
			return fmt.Sprintf("%s(%d)", Text, maxLength), nil
		case maxLength <= MaxLongText:
			return fmt.Sprintf("%s(%d)", LongTextArea, maxLength), []string{
				fmt.Sprintf("MaxLength %d > %d: Long Text Area cannot be used in SOQL WHERE or ORDER BY (filters, sorting, lookups)", maxLength, MaxText)}
		default:
			return fmt.Sprintf("%s(%d)", LongTextArea, MaxLongText), []string{
				fmt.Sprintf("MaxLength %d exceeds Long Text Area's %d characters: longer values are truncated; it cannot be filtered or sorted", maxLength, MaxLongText)}
		}
	case metadata.Boolean:
		return Checkbox, nil
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32:
		return Number, nil
	case metadata.Int64:
		return Number, []string{"Edm.Int64 holds 19 digits but a Salesforce Number holds 18: values beyond ±999999999999999999 lose precision"}
	case metadata.Single, metadata.Double:
		return Number, nil
	case metadata.Decimal:
		var w []string
		if variable || precision == 0 {
			w = append(w, "Decimal without fixed Precision/Scale (Scale=\"variable\" or no Precision): Salesforce picks a default number of decimal places (reportedly Number(14,4)) and rounds values; declare Precision and Scale")
			if precision > MaxDigits {
				w = append(w, fmt.Sprintf("Precision %d exceeds Salesforce's %d digits: larger values lose precision or fail", precision, MaxDigits))
			}
			return Number, w
		}
		if precision > MaxDigits {
			w = append(w, fmt.Sprintf("Precision %d exceeds Salesforce's %d digits: larger values lose precision or fail", precision, MaxDigits))
		}
		if scale > precision {
			scale = precision
		}
		return fmt.Sprintf("%s(%d,%d)", Number, precision-scale, scale), w
	case metadata.Date:
		return DateTime, []string{"Edm.Date becomes a Date/Time field with a zero time part; filters may arrive as date-time literals"}
	case metadata.DateTimeOffset:
		if precision >= 1 && precision <= 3 {
			return DateTime, nil
		}
		return DateTime, []string{"Salesforce Date/Time keeps milliseconds: sub-millisecond digits are truncated, so eq filters on this field may not round-trip"}
	case metadata.Guid:
		return Text + "(36)", nil
	case metadata.Binary:
		return TextArea, []string{"Edm.Binary becomes Text Area showing base64; it cannot be filtered or sorted"}
	case metadata.TimeOfDay, metadata.Duration:
		return Unsupported, []string{fmt.Sprintf("%s is not in Salesforce's OData 4.0 type mapping and is probably skipped on sync; expose it as Edm.String with a MaxLength (e.g. '10:30:00')", t.FullName())}
	}
	name := string(t)
	if !strings.Contains(name, ".") && !strings.HasPrefix(name, "Collection(") {
		name = "Edm." + name
	}
	return Unsupported, []string{fmt.Sprintf("type %s is not mapped by Salesforce Connect and is skipped on sync", name)}
}

// Reserved are the standard fields of every external object; a property of
// the same name (ignoring case) is confusing at best.
var Reserved = []string{"Id", "ExternalId", "DisplayUrl"}

// CheckName returns the reasons name is not usable as a Salesforce API name
// (nil when it is fine): ASCII letters, digits and single underscores,
// starting with a letter, not ending with an underscore, at most 40
// characters, and not one of the Reserved standard field names.
func CheckName(name string) []string {
	errs, warns := checkName(name)
	return append(errs, warns...)
}

// checkName splits CheckName's findings into errors (Salesforce refuses the
// name or mangles it on sync) and warnings (reserved names).
func checkName(name string) (errs, warns []string) {
	if name == "" {
		return []string{"name is empty"}, nil
	}
	if n := len([]rune(name)); n > MaxNameLength {
		errs = append(errs, fmt.Sprintf("name is %d characters long; Salesforce API names have at most %d (sync truncates it and loses the mapping)", n, MaxNameLength))
	}
	c := name[0]
	if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z') {
		errs = append(errs, "name must start with a letter")
	}
	var bad []string
	seen := map[rune]bool{}
	for _, r := range name {
		ok := r < 128 && (r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_')
		if !ok && !seen[r] {
			seen[r] = true
			bad = append(bad, fmt.Sprintf("%q", r))
		}
	}
	if len(bad) > 0 {
		errs = append(errs, "name contains characters other than ASCII letters, digits and underscores: "+strings.Join(bad, " "))
	}
	if strings.Contains(name, "__") {
		errs = append(errs, "name contains a double underscore (reserved for Salesforce suffixes such as __c and __x)")
	}
	if strings.HasSuffix(name, "_") {
		errs = append(errs, "name ends with an underscore")
	}
	for _, r := range Reserved {
		if strings.EqualFold(name, r) {
			warns = append(warns, fmt.Sprintf("name %q collides with the standard external-object field %s", name, r))
		}
	}
	return errs, warns
}

// ObjectName is the API name of the external object for an entity set.
func ObjectName(set string) string { return set + "__x" }

// FieldName is the API name of the custom field for a property.
func FieldName(property string) string { return property + "__c" }
