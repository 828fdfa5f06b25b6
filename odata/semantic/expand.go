package semantic

import (
	"fmt"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// Expand is one bound $expand item: a navigation property of the parent
// set and the nested read of its target set.
type Expand struct {
	Nav *metadata.Navigation
	// Ref asks for references only (nav/$ref): each related entity as its
	// @odata.id.
	Ref bool
	// CountOnly asks for the number of related entities only (nav/$count).
	CountOnly bool
	// Query is the nested read of Nav.Target: Select (the key only for
	// Ref), Filter, Search, Restrict (the caller's row filter on the
	// target), OrderBy, Top, Skip, Count and its own Expand. Key and After
	// are never set.
	Query *Query
	// Options is the syntax of the item's nested options (printed into the
	// nextLink of an expanded collection).
	Options *odata.ExpandOptions
	// Hidden are the target's properties hidden from the caller (Access):
	// unknown in the nested options and never in Select.
	Hidden map[string]bool
	// Star: the item came from "*" (not named), so a navigation the caller
	// may not follow is left out rather than refused.
	Star bool
}

// Within restricts the read of an expansion's target set to the rows
// related to a page of parents and pages each parent's rows separately:
// rows whose Props equal one of Values (one value per Props item), numbered
// per distinct Props value in the query's total order, and only those
// numbered Skip+1 ... Skip+Limit are returned (Limit 0: all), ordered by
// Props then that order. With Count, each row also carries the number of
// its parent's matching rows (the adapter adds a column after the others).
type Within struct {
	Props  []*metadata.Property
	Values [][]Const
	Skip   int64
	Limit  int64
	Count  bool
}

// bindExpand binds the $expand items of a request on set.
func bindExpand(m *metadata.Model, set *metadata.EntitySet, o *odata.Options, lim Limits, acc Access) ([]*Expand, error) {
	if o.DeltaToken != "" {
		return nil, &Error{Kind: NotImplemented, Option: "$expand", Msg: "$expand is not supported with $deltatoken: delta responses list entities without their expansions"}
	}
	if err := checkLength(o.Raw, "$expand", lim); err != nil {
		return nil, err
	}
	b := &expandBinder{lim: lim, acc: acc}
	return b.items(set, o.Expand, 1, 0, nil)
}

type expandBinder struct {
	lim   Limits
	acc   Access
	count int // items bound so far
}

func (b *expandBinder) errf(kind ErrorKind, span odata.Span, target, format string, args ...any) *Error {
	return &Error{Kind: kind, Option: "$expand", Span: span, Target: target, Msg: fmt.Sprintf(format, args...)}
}

// items binds the items of one $expand list; base is the offset of the
// list's text within the request's $expand value.
//
// hidden are set's properties hidden from the caller (nil at the top
// level, whose hidden properties the server checks: see JoinHidden).
func (b *expandBinder) items(set *metadata.EntitySet, items []odata.ExpandItem, depth, base int, hidden map[string]bool) ([]*Expand, error) {
	var out []*Expand
	seen := map[*metadata.Navigation]bool{}
	// Explicit items first, then "*" adds the navigations not named.
	for _, star := range []bool{false, true} {
		for i := range items {
			it := &items[i]
			if it.Star != star {
				continue
			}
			span := odata.Span{Start: base + it.Span.Start, End: base + it.Span.End}
			if depth > b.lim.MaxExpandDepth {
				return nil, b.errf(LimitExceeded, span, "", "$expand exceeds the maximum depth of %d levels", b.lim.MaxExpandDepth)
			}
			var navs []*metadata.Navigation
			switch {
			case it.Star && len(it.Path) == 0:
				navs = set.Navigations
			case it.Star:
				return nil, b.errf(BadRequest, span, strings.Join(it.Path, "/"), "%s has no complex property %s", set.Name, it.Path[0])
			default:
				nav, err := b.nav(set, it, span)
				if err != nil {
					return nil, err
				}
				navs = []*metadata.Navigation{nav}
			}
			if it.Options.Levels != nil {
				if it.Star {
					return nil, b.errf(NotImplemented, span, "", "$levels with * is not supported; name the navigation property")
				}
				lv, err := b.levels(it, navs[0], set, depth, span)
				if err != nil {
					return nil, err
				}
				it = lv
			}
			for _, nav := range navs {
				if seen[nav] {
					if star {
						continue
					}
					return nil, b.errf(BadRequest, span, nav.Name, "%s is expanded twice", nav.Name)
				}
				seen[nav] = true
				b.count++
				if b.count > b.lim.MaxExpandItems {
					return nil, b.errf(LimitExceeded, span, "", "$expand exceeds the maximum of %d expanded navigation properties", b.lim.MaxExpandItems)
				}
				if JoinHidden(nav, hidden) {
					if star {
						continue // * expands what the caller may follow
					}
					return nil, b.errf(BadRequest, span, nav.Name, "%s has no navigation property %s", set.Name, nav.Name)
				}
				e, err := b.item(set, nav, it, depth, base, star)
				if err != nil {
					return nil, err
				}
				if e == nil {
					continue // "*" and a set the caller may not read
				}
				e.Star = star
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// levels rewrites an item with $levels=n (a recursive expansion of a
// navigation whose target is its own set: managers of managers) as n
// nested expansions of the same navigation, each with the item's other
// options (URL Conventions §5.1.3: nested options apply at every level).
// max is as deep as the depth limit allows from here; a larger n is the
// depth limit's error. The syntax tree is not changed: the item is copied.
func (b *expandBinder) levels(it *odata.ExpandItem, nav *metadata.Navigation, set *metadata.EntitySet, depth int, span odata.Span) (*odata.ExpandItem, error) {
	if nav.Target != set {
		return nil, b.errf(BadRequest, span, nav.Name,
			"$levels applies to a recursive navigation (to the same entity set); %s leads from %s to %s", nav.Name, set.Name, nav.Target.Name)
	}
	n := *it.Options.Levels
	if n < 0 { // max
		n = int64(b.lim.MaxExpandDepth - depth + 1)
	}
	if n < 1 {
		return nil, b.errf(BadRequest, span, nav.Name, "$levels must be at least 1")
	}
	if int64(depth)+n-1 > int64(b.lim.MaxExpandDepth) {
		return nil, b.errf(LimitExceeded, span, "", "$expand exceeds the maximum depth of %d levels ($levels=%d)", b.lim.MaxExpandDepth, n)
	}
	var build func(n int64) odata.ExpandItem
	build = func(n int64) odata.ExpandItem {
		c := *it
		c.Options.Levels = nil
		if n > 1 {
			c.Options.Expand = append(append([]odata.ExpandItem(nil), it.Options.Expand...), build(n-1))
		}
		return c
	}
	out := build(n)
	return &out, nil
}

// JoinHidden reports whether nav joins on a property of its own set that
// hidden hides: following it would tell the property's values, so for the
// caller the navigation does not exist.
func JoinHidden(nav *metadata.Navigation, hidden map[string]bool) bool {
	for _, p := range nav.Local {
		if hidden[p.Name] {
			return true
		}
	}
	return false
}

// nav resolves the navigation property an item names.
func (b *expandBinder) nav(set *metadata.EntitySet, it *odata.ExpandItem, span odata.Span) (*metadata.Navigation, error) {
	name := it.Path[0]
	if len(it.Path) > 1 || name == "$value" || strings.Contains(name, ".") {
		path := strings.Join(it.Path, "/")
		if name == "$value" {
			return nil, b.errf(BadRequest, span, name, "%s has no stream property to expand", set.Name)
		}
		if strings.Contains(name, ".") {
			return nil, b.errf(NotImplemented, span, path, "type casts in $expand are not supported")
		}
		if set.Navigation(name) != nil {
			return nil, b.errf(BadRequest, span, path, "%s is a navigation property: nest $expand to go further (%s($expand=%s))",
				name, name, strings.Join(it.Path[1:], "/"))
		}
		return nil, b.errf(BadRequest, span, path, "%s has no complex property %s", set.Name, name)
	}
	if nav := set.Navigation(name); nav != nil {
		return nav, nil
	}
	if set.Property(name) != nil {
		return nil, b.errf(BadRequest, span, name, "%s is a property of %s, not a navigation property: select it with $select", name, set.Name)
	}
	msg := fmt.Sprintf("%s has no navigation property %s", set.Name, name)
	for _, n := range set.Navigations {
		if strings.EqualFold(n.Name, name) {
			msg += "; did you mean " + n.Name + "?"
			break
		}
	}
	if len(set.Navigations) == 0 {
		msg += " (it has none)"
	}
	return nil, b.errf(BadRequest, span, name, "%s", msg)
}

// item binds the nested options of one expanded navigation.
//
// For an item of "*" (star), a target the caller may not read is left out:
// item returns nil and no error.
func (b *expandBinder) item(set *metadata.EntitySet, nav *metadata.Navigation, it *odata.ExpandItem, depth, base int, star bool) (*Expand, error) {
	target := nav.Target
	var restrict Expr
	var hidden map[string]bool
	if b.acc != nil {
		var err error
		if restrict, hidden, err = b.acc.Reach(target); err != nil {
			if star {
				return nil, nil
			}
			return nil, err
		}
	}
	// A navigation joining on a property hidden in the target would tell
	// its values (the parent side: see items).
	for _, p := range nav.Remote {
		if hidden[p.Name] {
			if star {
				return nil, nil
			}
			return nil, b.errf(BadRequest, odata.Span{Start: base + it.Span.Start, End: base + it.Span.End}, nav.Name,
				"%s has no navigation property %s", set.Name, nav.Name)
		}
	}
	o := &it.Options
	e := &Expand{Nav: nav, Ref: it.Ref, CountOnly: it.Count, Options: o, Hidden: hidden}
	q := &Query{Set: target, Restrict: restrict}
	e.Query = q
	// rebase moves a nested error onto the $expand text.
	rebase := func(name string, err error) error {
		be, ok := err.(*Error)
		if !ok {
			return err
		}
		at := base + o.At[name]
		out := *be
		out.Option = "$expand"
		out.Span = odata.Span{Start: at + be.Span.Start, End: at + be.Span.End}
		out.Msg = strings.TrimPrefix(out.Msg, "$expand ")
		if be.Option != "$expand" {
			out.Msg = name + " of " + nav.Name + ": " + out.Msg
		}
		return &out
	}
	if !nav.Many {
		for _, name := range []string{"$orderby", "$top", "$skip", "$count", "$search"} {
			if _, given := o.At[name]; given {
				return nil, b.errf(BadRequest, odata.Span{Start: base + o.At[name]}, nav.Name,
					"%s is a single entity (to-one navigation): %s does not apply", nav.Name, name)
			}
		}
		if it.Count {
			return nil, b.errf(BadRequest, odata.Span{Start: base + it.Span.Start, End: base + it.Span.End}, nav.Name,
				"%s is a single entity (to-one navigation): /$count does not apply", nav.Name)
		}
	}
	var err error
	if q.Select, q.SelectExplicit, err = bindSelectItems(target, o.Select, o.HasSelect, hidden); err != nil {
		return nil, rebase("$select", err)
	}
	if it.Ref || it.Count {
		q.Select, q.SelectExplicit = target.Key, true
	}
	if o.Filter != nil {
		fb := &binder{set: target, option: "$filter", lim: b.lim, hidden: hidden, access: b.acc, inExpand: true}
		if q.Filter, err = fb.boolExpr(o.Filter); err != nil {
			return nil, rebase("$filter", err)
		}
	}
	if o.Search != nil {
		sb := &binder{set: target, option: "$search", lim: b.lim, hidden: hidden}
		if q.Search, err = sb.search(o.Search, 1); err != nil {
			return nil, rebase("$search", err)
		}
		q.Search = pruneHidden(q.Search, hidden)
	}
	if len(o.OrderBy) > 0 {
		if q.OrderBy, err = bindOrderByHidden(target, o.OrderBy, b.lim, b.acc, hidden, "$orderby", true); err != nil {
			return nil, rebase("$orderby", err)
		}
	}
	if o.Top != nil {
		top := *o.Top
		q.Top = &top
	}
	if o.Skip != nil {
		q.Skip = *o.Skip
	}
	if o.Count != nil {
		q.Count = *o.Count
	}
	if len(o.Expand) > 0 {
		if q.Expand, err = b.items(target, o.Expand, depth+1, base+o.At["$expand"], hidden); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// pruneHidden drops hidden properties from the search terms.
func pruneHidden(s Search, hidden map[string]bool) Search {
	if len(hidden) == 0 {
		return s
	}
	switch x := s.(type) {
	case *SearchTerm:
		t := &SearchTerm{Text: x.Text}
		for _, p := range x.Props {
			if !hidden[p.Name] {
				t.Props = append(t.Props, p)
			}
		}
		return t
	case *SearchAnd:
		return &SearchAnd{L: pruneHidden(x.L, hidden), R: pruneHidden(x.R, hidden)}
	case *SearchOr:
		return &SearchOr{L: pruneHidden(x.L, hidden), R: pruneHidden(x.R, hidden)}
	case *SearchNot:
		return &SearchNot{X: pruneHidden(x.X, hidden)}
	}
	return s
}

// ValuesIn is the filter "props equal one of values" (each value in props
// order, none null): an In for one property, else an or of ands of
// equalities. values must not be empty.
func ValuesIn(props []*metadata.Property, values [][]Const) Expr {
	if len(props) == 1 {
		vals := make([]Const, len(values))
		for i, v := range values {
			vals[i] = v[0]
		}
		return &In{X: &Prop{P: props[0]}, Values: vals}
	}
	var or Expr
	for _, v := range values {
		var and Expr
		for i, p := range props {
			c := v[i]
			var eq Expr = &Compare{Op: Eq, L: &Prop{P: p}, R: &c}
			if and != nil {
				eq = &Logical{L: and, R: eq}
			}
			and = eq
		}
		if or != nil {
			and = &Logical{Or: true, L: or, R: and}
		}
		or = and
	}
	return or
}
