package jsonfmt

import (
	"strings"

	"github.com/odatagw/odatagw/metadata"
)

// ContextURL is the @odata.context of a response about entity set set:
// serviceRoot + "$metadata#" + set, with the selected properties in
// parentheses when the response carries a projection (selected non-nil),
// and "/$entity" for a single entity (OData JSON Format 4.0 §10).
func ContextURL(serviceRoot, set string, selected []*metadata.Property, entity bool) string {
	var b strings.Builder
	b.WriteString(serviceRoot)
	b.WriteString("$metadata#")
	b.WriteString(set)
	if selected != nil {
		b.WriteByte('(')
		for i, p := range selected {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(p.Name)
		}
		b.WriteByte(')')
	}
	if entity {
		b.WriteString("/$entity")
	}
	return b.String()
}
