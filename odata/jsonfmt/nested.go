package jsonfmt

import (
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

// Nested is an expanded navigation property of an entity ($expand).
type Nested struct {
	Name string // the navigation property
	Many bool   // a collection (else a single entity, or null)
	// Entities are the related entities (a to-one navigation has at most
	// one; none is written as null).
	Entities []Entity
	// Count, when set, is written as Name@odata.count (before the value).
	Count *int64
	// CountOnly writes only Name@odata.count (nav/$count).
	CountOnly bool
	// NextLink, when set, is written as Name@odata.nextLink after the
	// collection: the collection goes on there.
	NextLink string
}

// Entity is one entity inside an expansion.
type Entity struct {
	// ID is the entity's id: written as @odata.id for a reference (Ref)
	// and at odata.metadata=full.
	ID string
	// Ref writes the entity as a reference ({"@odata.id": ID}) only.
	Ref bool
	// TypeName is the entity's qualified type name (@odata.type at Full).
	TypeName string
	Cols     []*metadata.Property
	Vals     []edm.Value
	ETag     string
	Nested   []Nested
}

// EncodeEntityNested is EncodeEntity for a collection member with expanded
// navigation properties, written after its properties.
func (w *Writer) EncodeEntityNested(cols []*metadata.Property, vals []edm.Value, etag string, nested []Nested) int {
	w.buf = w.buf[:0]
	if w.rows > 0 {
		w.buf = append(w.buf, ',')
	}
	w.buf = w.appendMembers(append(w.buf, '{'), cols, vals, etag, true)
	w.buf = w.appendNested(w.buf, nested, w.buf[len(w.buf)-1] != '{')
	w.buf = append(w.buf, '}')
	return len(w.buf)
}

// AppendSingleEntityNested is AppendSingleEntity with expanded navigation
// properties.
func AppendSingleEntityNested(b []byte, opt Options, id, contextURL string, cols []*metadata.Property, vals []edm.Value, etag string, nested []Nested) []byte {
	w := Writer{opt: opt, id: id}
	b = w.appendContext(append(b, '{'), contextURL)
	b = w.appendMembers(b, cols, vals, etag, false)
	b = w.appendNested(b, nested, b[len(b)-1] != '{' && b[len(b)-1] != ',')
	return append(b, "}\n"...)
}

// appendNested appends the expanded navigation properties; more says
// whether members were written before (a comma is needed).
func (w *Writer) appendNested(b []byte, nested []Nested, more bool) []byte {
	sep := func(b []byte) []byte {
		if more {
			b = append(b, ',')
		}
		more = true
		return b
	}
	for i := range nested {
		n := &nested[i]
		if n.Count != nil {
			b = append(appendString(sep(b), n.Name+"@odata.count"), ':')
			b = w.appendCount(b, *n.Count)
		}
		if n.CountOnly {
			continue
		}
		b = append(appendString(sep(b), n.Name), ':')
		switch {
		case n.Many:
			b = append(b, '[')
			for j := range n.Entities {
				if j > 0 {
					b = append(b, ',')
				}
				b = w.appendNestedEntity(b, &n.Entities[j])
			}
			b = append(b, ']')
		case len(n.Entities) == 0:
			b = append(b, "null"...)
		default:
			b = w.appendNestedEntity(b, &n.Entities[0])
		}
		if n.NextLink != "" {
			b = append(appendString(sep(b), n.Name+"@odata.nextLink"), ':')
			b = appendString(b, n.NextLink)
		}
	}
	return b
}

func (w *Writer) appendNestedEntity(b []byte, e *Entity) []byte {
	if e.Ref {
		b = append(b, `{"@odata.id":`...)
		b = appendString(b, e.ID)
		return append(b, '}')
	}
	b = append(b, '{')
	typeName := w.opt.TypeName
	w.opt.TypeName, w.id = e.TypeName, e.ID
	b = w.appendMembers(b, e.Cols, e.Vals, e.ETag, false)
	w.opt.TypeName = typeName
	b = w.appendNested(b, e.Nested, b[len(b)-1] != '{')
	return append(b, '}')
}

// ExpandContext is the part of a context URL that lists a projection and
// expanded navigation properties (OData JSON Format 4.01 §10): each
// selected property by name, each expansion as Name(nested) or Name() when
// the nested list is empty. It returns "" when both are empty.
type ExpandContext struct {
	Name     string
	Selected []*metadata.Property // nil: every property
	Nested   []ExpandContext
}

// ContextURLExpand is ContextURL for a response with expanded navigation
// properties: "$metadata#Customers(Name,Orders(OrderID,order_lines()))".
func ContextURLExpand(serviceRoot, set string, selected []*metadata.Property, expanded []ExpandContext, entity bool) string {
	if len(expanded) == 0 {
		return ContextURL(serviceRoot, set, selected, entity)
	}
	var b strings.Builder
	b.WriteString(serviceRoot)
	b.WriteString("$metadata#")
	b.WriteString(set)
	b.WriteByte('(')
	writeSelectList(&b, selected, expanded)
	b.WriteByte(')')
	if entity {
		b.WriteString("/$entity")
	}
	return b.String()
}

func writeSelectList(b *strings.Builder, selected []*metadata.Property, expanded []ExpandContext) {
	first := true
	for _, p := range selected {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(p.Name)
	}
	for _, e := range expanded {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(e.Name)
		b.WriteByte('(')
		writeSelectList(b, e.Selected, e.Nested)
		b.WriteByte(')')
	}
}
