package semantic

import (
	"strconv"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// Computed is one computed property of $compute (OData 4.01 URL
// Conventions §5.1.5): a value expression over the queried set, returned
// as a dynamic property named Alias when $select is absent, is "*" or
// names it, and usable by name in $filter and $orderby (the binder
// substitutes Expr there).
type Computed struct {
	Alias string
	Expr  Expr
	// Out describes the value in the page's rows and the response: Name is
	// Alias, Column a name of its own ("c1", "c2", ...; the SQL gives the
	// column an alias that names no column of the set), Type the
	// expression's Edm type, Dynamic set. When Expr is a plain property it
	// is a copy of that property (the storage facts the scanners need).
	// It is a pointer distinct from every property of the model.
	Out *metadata.Property
}

// Computed returns the computed property whose Out is p, nil when p is
// none.
func (q *Query) Computed(p *metadata.Property) *Computed {
	if !p.Dynamic {
		return nil
	}
	for _, c := range q.Compute {
		if c.Out == p {
			return c
		}
	}
	return nil
}

// computedAlias returns the computed property named name, nil when none.
func computedAlias(cs []*Computed, name string) *Computed {
	for _, c := range cs {
		if c.Alias == name {
			return c
		}
	}
	return nil
}

// bindCompute binds $compute items over set. Aliases must not name a
// property or navigation property of set, nor be given twice; an
// expression must have a type (not null). Expressions do not see the other
// aliases.
func bindCompute(set *metadata.EntitySet, items []odata.ComputeItem, lim Limits, access Access) ([]*Computed, error) {
	b := &binder{set: set, option: "$compute", lim: lim, access: access}
	out := make([]*Computed, 0, len(items))
	for i, it := range items {
		alias := it.Alias
		collides := func(what string) *Error {
			e := b.badf(it.AliasSpan, "alias %s collides with %s", alias, what)
			e.Target = alias
			return e
		}
		switch {
		case set.Property(alias) != nil:
			return nil, collides("a property of " + set.Name)
		case set.Navigation(alias) != nil:
			return nil, collides("a navigation property of " + set.Name)
		case computedAlias(out, alias) != nil:
			return nil, collides("another computed property")
		}
		o, err := b.operand(it.Expr, 1)
		if err != nil {
			return nil, err
		}
		if o.isNull() {
			return nil, b.badf(it.Expr.Pos(), "the value of computed property %s must have a type: null has none", alias)
		}
		c := &Computed{Alias: alias, Expr: o.e}
		var p metadata.Property
		if pr, ok := o.e.(*Prop); ok {
			p = *pr.P // keeps the storage facts (char(n), local time, decimal scale)
		} else if leaf := PathLeaf(o.e); leaf != nil {
			p = *leaf
			p.Nullable = true
		} else {
			p = metadata.Property{Type: o.e.Type(), Nullable: true, Variable: o.e.Type() == metadata.Decimal}
		}
		p.Name, p.Column, p.Index, p.Dynamic = alias, "c"+strconv.Itoa(i+1), -1, true
		p.ReadOnly, p.Default, p.Identity, p.Generated = true, "", false, false
		c.Out = &p
		out = append(out, c)
	}
	return out, nil
}

// selectComputed splits $select items into those naming computed
// properties (returned, in $compute order) and the others.
func selectComputed(cs []*Computed, items []odata.SelectItem) (rest []odata.SelectItem, chosen []*metadata.Property, star bool) {
	named := map[*Computed]bool{}
	for _, it := range items {
		if it.Star {
			star = true
		}
		if len(it.Path) == 1 {
			if c := computedAlias(cs, it.Path[0]); c != nil {
				named[c] = true
				continue
			}
		}
		rest = append(rest, it)
	}
	for _, c := range cs {
		if star || named[c] {
			chosen = append(chosen, c.Out)
		}
	}
	return rest, chosen, star
}
