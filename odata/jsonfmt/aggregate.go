package jsonfmt

import (
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

// Member is one column of a row of an aggregated result ($apply): the
// property path (navigation names, then the property's name), the property
// whose type formats the value, and whether it is a dynamic property (an
// aggregate's alias). Members read through the same navigation path must be
// next to each other: they nest into one object,
// {"Customer":{"Country":"DE"}}.
type Member struct {
	Path    []string
	P       *metadata.Property
	Dynamic bool
}

// ApplyContextURL is the @odata.context of an aggregated result:
// serviceRoot + "$metadata#" + set + the projection, navigation paths in
// the nested form: Orders(Customer(Country),Status,TotalSum).
func ApplyContextURL(serviceRoot, set string, members []Member) string {
	var b strings.Builder
	b.WriteString(serviceRoot)
	b.WriteString("$metadata#")
	b.WriteString(set)
	b.WriteByte('(')
	writeProjection(&b, members, 0)
	b.WriteByte(')')
	return b.String()
}

// writeProjection writes the members' names at depth, nesting those with a
// longer path under their navigation name.
func writeProjection(b *strings.Builder, members []Member, depth int) {
	for i := 0; i < len(members); {
		if i > 0 {
			b.WriteByte(',')
		}
		m := members[i]
		name := m.Path[depth]
		if len(m.Path) == depth+1 {
			b.WriteString(name)
			i++
			continue
		}
		j := i
		for j < len(members) && len(members[j].Path) > depth+1 && members[j].Path[depth] == name {
			j++
		}
		b.WriteString(name)
		b.WriteByte('(')
		writeProjection(b, members[i:j], depth+1)
		b.WriteByte(')')
		i = j
	}
}

// EncodeRow renders one row of an aggregated result into the scratch
// buffer, like EncodeEntity (WriteEncoded writes it). Rows of an
// aggregation have no id: at odata.metadata=full they carry
// "@odata.id":null. Dynamic members whose JSON value does not tell their
// type (anything but String, Boolean and Double) are annotated with
// "<name>@odata.type" unless the level is None.
func (w *Writer) EncodeRow(members []Member, vals []edm.Value) int {
	w.buf = w.buf[:0]
	if w.rows > 0 {
		w.buf = append(w.buf, ',')
	}
	w.buf = w.appendRow(w.buf, members, vals)
	return len(w.buf)
}

func (w *Writer) appendRow(b []byte, members []Member, vals []edm.Value) []byte {
	b = append(b, '{')
	first := []bool{true} // per open object: nothing written yet
	sep := func(b []byte) []byte {
		top := len(first) - 1
		if !first[top] {
			b = append(b, ',')
		}
		first[top] = false
		return b
	}
	if w.opt.Metadata == Full {
		b = append(sep(b), `"@odata.id":null`...)
	}
	var open []string // navigation names of the open nested objects
	for i, m := range members {
		nav := m.Path[:len(m.Path)-1]
		common := 0
		for common < len(open) && common < len(nav) && open[common] == nav[common] {
			common++
		}
		for len(open) > common {
			b = append(b, '}')
			open, first = open[:len(open)-1], first[:len(first)-1]
		}
		for _, n := range nav[common:] {
			b = append(appendString(sep(b), n), ':', '{')
			open, first = append(open, n), append(first, true)
		}
		name := m.Path[len(m.Path)-1]
		if m.Dynamic && !vals[i].Null && w.opt.Metadata != None {
			switch m.P.Type {
			case metadata.String, metadata.Boolean, metadata.Double:
			default:
				b = appendString(sep(b), name+"@odata.type")
				b = append(b, `:"#`...)
				b = append(b, strings.TrimPrefix(string(m.P.Type), "Edm.")...)
				b = append(b, '"')
			}
		}
		b = append(appendString(sep(b), name), ':')
		b = w.AppendValue(b, m.P, &vals[i])
	}
	for range open {
		b = append(b, '}')
	}
	return append(b, '}')
}
