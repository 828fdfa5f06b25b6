package semantic

import (
	"fmt"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// This file binds resource paths: Set, Set(key), key segments, navigation
// (Customers('ALFKI')/Orders(10248)/order_lines, Orders(1)/Customer), and
// what may end a path ($count, $ref, a property, its $value).
//
// A navigation path is read in steps, without joins: every entity the path
// passes through is a Hop, read by its key (or, after a to-one navigation,
// by the constraint of the navigation that led to it) within the caller's
// row filter; the values of the properties its next navigation joins on
// then constrain the next hop, and at last the target set (Related).

// Hop is one entity a navigation path passes through on its way to the
// Query's Set.
type Hop struct {
	Set *metadata.EntitySet
	// Key is the entity's key from the path (in Set.Key order); nil when the
	// entity was reached by a to-one navigation (it is then the one entity
	// the constraint from the hop before selects).
	Key []Const
	// Nav is the navigation followed from this entity.
	Nav *metadata.Navigation
	// Restrict is the caller's row filter on Set (Access.Reach).
	Restrict Expr
}

// Read is the query that reads the hop's entity: by its key when it has
// one, within the caller's row filter and via (the constraint from the hop
// before; nil for the first), selecting the properties Nav joins on (in
// Set order).
func (h *Hop) Read(via Expr) *Query {
	var sel []*metadata.Property
	for _, p := range h.Set.Properties {
		for _, l := range h.Nav.Local {
			if p == l {
				sel = append(sel, p)
				break
			}
		}
	}
	return &Query{Set: h.Set, Key: h.Key, Select: sel, Restrict: And(h.Restrict, via)}
}

// Related is the constraint a navigation puts on its target, given the
// values of its Local properties read from the source entity (in Local
// order): Remote[i] eq vals[i], each value typed as its Remote property.
// ok is false when a value is null: no entity is related.
func Related(nav *metadata.Navigation, vals []Const) (e Expr, ok bool) {
	for i, r := range nav.Remote {
		if i >= len(vals) || vals[i].Null {
			return nil, false
		}
		c := retype(vals[i], r.Type)
		e = And(e, &Compare{Op: Eq, L: &Prop{P: r}, R: &c})
	}
	return e, e != nil
}

// RelatedKey is the key of the one entity a to-one navigation leads to
// (in Target.Key order), when Remote is exactly the target's key; nil
// otherwise (or when a value is null).
func RelatedKey(nav *metadata.Navigation, vals []Const) []Const {
	t := nav.Target
	if len(nav.Remote) != len(t.Key) || len(vals) != len(nav.Remote) {
		return nil
	}
	key := make([]Const, len(t.Key))
	for i, r := range nav.Remote {
		j := keyIndex(t, r)
		if j < 0 || vals[i].Null || key[j].T != "" {
			return nil
		}
		key[j] = retype(vals[i], r.Type)
	}
	return key
}

// retype gives c the type t when both are integer types (a foreign key may
// be an integer of another width than the key it references).
func retype(c Const, t metadata.Type) Const {
	if c.T != t && isInteger(c.T) && isInteger(t) {
		c.T = t
	}
	return c
}

func isInteger(t metadata.Type) bool {
	switch t {
	case metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32, metadata.Int64:
		return true
	}
	return false
}

// And is a and b; either may be nil.
func And(a, b Expr) Expr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &Logical{L: a, R: b}
}

// Resource names what the query reads, for the $skiptoken's fingerprint:
// the set, or the navigation path that leads to it
// ("Customers('ALFKI')/Orders"), so that a token of one parent's
// collection is no token for another's.
func (q *Query) Resource() string {
	if len(q.Path) == 0 {
		return q.Set.Name
	}
	var b strings.Builder
	for i, h := range q.Path {
		if i == 0 {
			b.WriteString(h.Set.Name)
		}
		if h.Key != nil {
			b.WriteString("(" + odata.FormatKey(KeyParts(h.Set, h.Key), false) + ")")
		}
		b.WriteString("/" + h.Nav.Name)
	}
	return b.String()
}

// target is what a resource path addresses.
type target struct {
	set  *metadata.EntitySet
	key  []Const
	hops []Hop
	// entity: one entity (a key, or a to-one navigation: toOne, key nil).
	entity, toOne bool
	count, ref    bool
	prop          *metadata.Property
	raw           bool
}

// walkPath binds the resource path after the entity set: the key, key
// segments, navigation segments and what ends the path.
func walkPath(set *metadata.EntitySet, path odata.Path, acc Access) (*target, error) {
	t := &target{set: set}
	rest, segs := path.Rest, path.Segments
	if len(segs) != len(rest) { // a hand-built path
		segs = make([]odata.Segment, len(rest))
		for i, r := range rest {
			segs[i].Name = r
		}
	}
	switch path.Kind {
	case odata.PathCount:
		t.count = true
		return t, nil
	case odata.PathEntity:
		key, err := bindKey(set, path)
		if err != nil {
			return nil, err
		}
		t.key, t.entity = key, true
	}
	for i := 0; i < len(rest); i++ {
		name, seg, last := rest[i], segs[i], i == len(rest)-1
		if !t.entity { // a collection: $count, $ref or a key segment
			switch {
			case name == "$count" && last:
				t.count = true
				return t, nil
			case name == "$ref" && last:
				t.ref = true
				return t, nil
			case keySegment(t.set, name):
				k, err := bindKeySegment(t.set, name)
				if err != nil {
					return nil, err
				}
				t.key, t.entity = k, true
				continue
			}
			what := t.set.Name
			if len(t.hops) > 0 {
				what = "the navigation " + t.hops[len(t.hops)-1].Nav.Name
			}
			msg := fmt.Sprintf("%s is a collection: address one entity by its key before %s, e.g. %s(%s)/%s",
				what, name, lastName(t), keyExample(t.set), name)
			if strings.HasPrefix(name, "$") {
				msg = fmt.Sprintf("%s cannot follow the collection %s", name, lastName(t))
			}
			return nil, &Error{Kind: BadRequest, Option: "path", Target: name, Msg: msg}
		}
		if nav := t.set.Navigation(seg.Name); nav != nil {
			if seg.Err != nil {
				return nil, seg.Err
			}
			if err := t.follow(nav, seg, acc); err != nil {
				return nil, err
			}
			continue
		}
		if p := t.set.Property(name); p != nil {
			switch {
			case last:
				t.prop = p
			case i == len(rest)-2 && rest[i+1] == "$value":
				t.prop, t.raw = p, true
			case rest[i+1] == "$value":
				return nil, &Error{Kind: BadRequest, Option: "path", Target: rest[i+2],
					Msg: fmt.Sprintf("nothing may follow %s/$value", name)}
			default:
				return nil, &Error{Kind: BadRequest, Option: "path", Target: rest[i+1],
					Msg: fmt.Sprintf("only $value may follow the property %s, not %s", name, rest[i+1])}
			}
			return t, nil
		}
		switch name {
		case "$ref":
			if !last {
				return nil, &Error{Kind: BadRequest, Option: "path", Target: rest[i+1], Msg: "nothing may follow $ref"}
			}
			t.ref = true
			return t, nil
		case "$value":
			return nil, &Error{Kind: BadRequest, Option: "path", Target: name,
				Msg: fmt.Sprintf("$value addresses the raw value of a property; %s addresses an entity of %s (entities have no raw value)", lastName(t), t.set.Name)}
		case "$count":
			return nil, &Error{Kind: BadRequest, Option: "path", Target: name,
				Msg: fmt.Sprintf("$count applies to collections; %s addresses a single entity", lastName(t))}
		}
		return nil, restError(t.set, rest[i:])
	}
	return t, nil
}

// lastName names the last thing the walk reached, for messages.
func lastName(t *target) string {
	if len(t.hops) > 0 {
		return t.hops[len(t.hops)-1].Nav.Name
	}
	return t.set.Name
}

// follow takes the navigation nav (segment seg) from the entity t addresses.
func (t *target) follow(nav *metadata.Navigation, seg odata.Segment, acc Access) error {
	var restrict Expr
	if acc != nil {
		r, hidden, err := acc.Reach(t.set)
		if err != nil {
			return err
		}
		restrict = r
		// A navigation joining on a property hidden from the caller would
		// tell its values: it does not exist for the caller, like the
		// property (and the hop before must not be joined on one either).
		joins := nav.Local
		if len(t.hops) > 0 {
			joins = append(append([]*metadata.Property(nil), joins...), t.hops[len(t.hops)-1].Nav.Remote...)
		}
		for _, p := range joins {
			if hidden[p.Name] {
				return unknownNavigation(t.set, nav.Name)
			}
		}
	}
	t.hops = append(t.hops, Hop{Set: t.set, Key: t.key, Nav: nav, Restrict: restrict})
	t.set, t.key, t.toOne, t.entity = nav.Target, nil, false, false
	if !nav.Many {
		if seg.Key != nil {
			return &Error{Kind: BadRequest, Option: "path", Span: seg.KeySpan, Target: nav.Name,
				Msg: fmt.Sprintf("%s is a single-valued navigation property (to one %s): it takes no key", nav.Name, nav.Target.Name)}
		}
		t.entity, t.toOne = true, true
		return nil
	}
	if seg.Key != nil {
		key, err := bindKey(nav.Target, odata.Path{Key: seg.Key, KeySpan: seg.KeySpan})
		if err != nil {
			return err
		}
		t.key, t.entity = key, true
	}
	return nil
}

// unknownNavigation is the 404 of a segment that names no property or
// navigation property.
func unknownNavigation(set *metadata.EntitySet, name string) *Error {
	return &Error{Kind: NotFound, Option: "path", Target: name,
		Msg: fmt.Sprintf("%s has no navigation property %s", set.Name, name)}
}
