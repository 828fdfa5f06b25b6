package semantic

import (
	"fmt"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// This file binds what changes a relationship (OData 4.01 Protocol
// §11.4.6): the entity a reference names (PUT/POST …/$ref bodies, $id of
// DELETE …/$ref) and the foreign-key values the change writes.

// RefKey binds an entity reference (the @odata.id of a $ref body, or the
// $id of a DELETE …/$ref; target names it in errors) to the key of an
// entity of nav's target, in Target.Key order. refs resolves it as for
// @odata.bind. Errors are *Error of kind InvalidValue: not a URL of this
// service, not one entity by key, or an entity of another set.
func RefKey(nav *metadata.Navigation, ref, target string, refs RefPath) ([]Const, error) {
	key, msg := refKey(nav, ref, refs)
	if msg != "" {
		return nil, &Error{Kind: InvalidValue, Target: target, Msg: msg}
	}
	return key, nil
}

// LinkSide is the entity set whose foreign key a change of a relationship
// through nav writes, and the foreign-key properties: nav's own set (from)
// and Local for a to-one navigation, the target and Remote for a to-many
// one.
func LinkSide(nav *metadata.Navigation, from *metadata.EntitySet) (*metadata.EntitySet, []*metadata.Property) {
	if nav.Many {
		return nav.Target, nav.Remote
	}
	return from, nav.Local
}

// Link is what a change of the relationship nav (taken from an entity of
// from) writes to the entity that holds the foreign key (see LinkSide;
// key is that entity's key, in its set's Key order): the foreign-key
// properties get vals, the values of the properties they reference on the
// other side (in Local/Remote order); vals nil removes the relationship,
// the foreign key becomes null. Errors are *Error of kind InvalidValue
// (Target the property): a foreign key that may not be null, that is
// read-only, or that is part of the key and would change.
func Link(nav *metadata.Navigation, from *metadata.EntitySet, key, vals []Const) (Entity, error) {
	holder, fk := LinkSide(nav, from)
	values := Entity{}
	for i, p := range fk {
		v := Const{T: p.Type, Null: true}
		if vals != nil {
			if i >= len(vals) || vals[i].Null {
				return nil, &Error{Kind: InvalidValue, Target: p.Name,
					Msg: fmt.Sprintf("the referenced entity has no value for the relationship %s (%s is null)", nav.Name, p.Name)}
			}
			v = retype(vals[i], p.Type)
		}
		switch {
		case holder.IsKey(p):
			if j := keyIndex(holder, p); j >= len(key) || !v.Equal(key[j]) {
				what := "set"
				if v.Null {
					what = "remove"
				}
				return nil, &Error{Kind: InvalidValue, Target: p.Name,
					Msg: fmt.Sprintf("cannot %s the relationship %s of %s(%s): its foreign key %s is part of the key of %s, which cannot change",
						what, nav.Name, holder.Name, odata.FormatKey(KeyParts(holder, key), false), p.Name, holder.Name)}
			}
			continue // unchanged
		case p.ReadOnly:
			return nil, &Error{Kind: InvalidValue, Target: p.Name,
				Msg: fmt.Sprintf("the relationship %s cannot change: its foreign key %s is read-only", nav.Name, p.Name)}
		case v.Null && !p.Nullable:
			return nil, &Error{Kind: InvalidValue, Target: p.Name,
				Msg: fmt.Sprintf("the relationship %s cannot be removed: %s.%s cannot be null; reference another %s instead",
					nav.Name, holder.Name, p.Name, otherSide(nav, from).Name)}
		}
		values[p] = v
	}
	return values, nil
}

// otherSide is the set a relationship's foreign key refers to.
func otherSide(nav *metadata.Navigation, from *metadata.EntitySet) *metadata.EntitySet {
	if nav.Many {
		return from
	}
	return nav.Target
}
