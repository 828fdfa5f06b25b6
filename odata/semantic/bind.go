package semantic

import (
	"errors"
	"fmt"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// Options configure Bind.
type Options struct {
	// Limits bound the size of expressions; zero fields take DefaultLimits.
	Limits Limits
	// Tokens decodes $skiptoken; nil means $skiptoken is rejected with 400.
	Tokens *TokenCodec
	// Access is the caller's view of the sets a query reaches through
	// navigation; nil means every set, row and property.
	Access Access
}

// Access is what the caller may see of a set reached through navigation
// ($expand, a navigation path, a lambda, a path in $filter or $orderby,
// $apply over a navigation): the binder asks about every set a navigation
// reaches and, for a navigation path, the sets the path starts from and
// passes through (their rows and join properties must be readable too).
// The rules for the set a request finally reads are the server's own.
type Access interface {
	// Reach returns the row filter to AND into every read of set (nil:
	// none) and the names of the properties hidden from the caller (they
	// are unknown properties there, exactly as at the top level), or an
	// error that fails the request (the caller may not read set; the
	// server answers it with its own status, e.g. 403).
	Reach(set *metadata.EntitySet) (restrict Expr, hidden map[string]bool, err error)
}

// withDefaults fills zero (or negative) limits from DefaultLimits.
func (l Limits) withDefaults() Limits {
	def := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	return Limits{
		MaxExprLength:  def(l.MaxExprLength, DefaultLimits.MaxExprLength),
		MaxNodes:       def(l.MaxNodes, DefaultLimits.MaxNodes),
		MaxDepth:       def(l.MaxDepth, DefaultLimits.MaxDepth),
		MaxInList:      def(l.MaxInList, DefaultLimits.MaxInList),
		MaxOrderBy:     def(l.MaxOrderBy, DefaultLimits.MaxOrderBy),
		MaxExpandDepth: def(l.MaxExpandDepth, DefaultLimits.MaxExpandDepth),
		MaxExpandItems: def(l.MaxExpandItems, DefaultLimits.MaxExpandItems),
		MaxLambdaDepth: def(l.MaxLambdaDepth, DefaultLimits.MaxLambdaDepth),
	}
}

// Bind binds a parsed read request (PathEntitySet, PathEntity or PathCount)
// to the model. It never mutates req. The path may go on through
// navigation properties (Query.Path, see navpath.go) and end with $count,
// $ref, a property or its $value. Errors are *Error:
//   - NotFound: unknown entity set (with a "did you mean" hint when only the
//     case differs), or a path segment that is no property or navigation
//     property;
//   - NotImplemented: an unsupported system query option (named), unknown
//     $-segments, $count of a navigation path in an expression, cast/isof,
//     geo functions, has, enum and geo literals;
//   - LimitExceeded: an expression over Options.Limits (the message names
//     the limit);
//   - BadRequest: everything else (unknown property, type mismatch, bad
//     literal, bad key, invalid $skiptoken).
//
// $skiptoken is decoded into Query.After against TotalOrder(q) and the
// request's Fingerprint.
func Bind(m *metadata.Model, req *odata.Request, opt Options) (*Query, error) {
	lim := opt.Limits.withDefaults()
	path := req.Path
	switch path.Kind {
	case odata.PathEntitySet, odata.PathEntity, odata.PathCount:
	default:
		return nil, &Error{Kind: BadRequest, Option: "path", Msg: "the resource path does not address an entity set"}
	}
	set := m.Set(path.Set)
	if set == nil {
		msg := fmt.Sprintf("entity set %s not found", path.Set)
		if f := m.SetFold(path.Set); f != nil {
			msg += "; did you mean " + f.Name + "?"
		}
		return nil, &Error{Kind: NotFound, Option: "path", Msg: msg, Target: path.Set}
	}
	t, err := walkPath(set, path, opt.Access)
	if err != nil {
		return nil, err
	}
	o := &req.Options
	if o.Apply != nil {
		if _, ok := o.Raw["$expand"]; ok {
			return nil, &Error{Kind: NotImplemented, Option: "$expand", Msg: "$expand together with $apply is not supported"}
		}
	}
	if o.Compute != nil && o.Apply != nil {
		return nil, &Error{Kind: NotImplemented, Option: "$compute", Msg: "$compute together with $apply is not supported"}
	}
	if len(o.Unsupported) > 0 {
		name := o.Unsupported[0]
		return nil, &Error{Kind: NotImplemented, Option: name, Msg: "system query option " + name + " is not supported"}
	}
	if o.ID != "" && (!t.ref || t.entity) {
		return nil, &Error{Kind: NotImplemented, Option: "$id",
			Msg: "$id is supported only to remove an entity reference from a collection: DELETE …/navigation/$ref?$id=Set(key)"}
	}
	set = t.set
	q := &Query{Set: set, CountOnly: t.count, Path: t.hops, Single: t.toOne, Ref: t.ref}
	if t.entity {
		if name := collectionOption(o); name != "" {
			what := set.Name + "(key)"
			if len(t.hops) > 0 {
				what = "the path"
			}
			return nil, &Error{Kind: BadRequest, Option: name,
				Msg: name + " applies to collections; " + what + " addresses a single entity"}
		}
		q.Key = t.key
		if t.prop != nil {
			if o.Compute != nil {
				return nil, &Error{Kind: BadRequest, Option: "$compute",
					Msg: "the path addresses the property " + t.prop.Name + ", not an entity: drop $compute"}
			}
			if o.HasSelect {
				return nil, &Error{Kind: BadRequest, Option: "$select",
					Msg: "the path addresses the property " + t.prop.Name + ", not an entity: drop $select"}
			}
			q.Property, q.RawValue, q.Select = t.prop, t.raw, []*metadata.Property{t.prop}
			return q, nil
		}
	}
	var applied Expr // the filter steps of a $apply without aggregation
	if o.Apply != nil {
		if t.ref {
			return nil, &Error{Kind: NotImplemented, Option: "$apply", Msg: "$apply on entity references ($ref) is not supported"}
		}
		if t.toOne {
			return nil, &Error{Kind: BadRequest, Option: "$apply", Msg: "$apply applies to collections; the path addresses a single entity"}
		}
		if applied, err = bindApplyOption(q, o, lim, opt.Access); err != nil {
			return nil, err
		}
	}
	if o.Compute != nil {
		if t.ref {
			return nil, &Error{Kind: BadRequest, Option: "$compute", Msg: "$compute does not apply to entity references ($ref)"}
		}
		if err := checkLength(o.Raw, "$compute", lim); err != nil {
			return nil, err
		}
		if q.Compute, err = bindCompute(set, o.Compute, lim, opt.Access); err != nil {
			return nil, err
		}
	}
	if t.ref {
		if o.HasSelect {
			return nil, &Error{Kind: BadRequest, Option: "$select", Msg: "$select does not apply to entity references ($ref)"}
		}
		q.Select = append([]*metadata.Property(nil), set.Key...)
	} else if q.Apply == nil {
		if q.Select, q.SelectExplicit, err = bindSelectComputed(set, o, q.Compute); err != nil {
			return nil, err
		}
	}
	if o.Filter != nil {
		if err := checkLength(o.Raw, "$filter", lim); err != nil {
			return nil, err
		}
		b := &binder{set: set, option: "$filter", lim: lim, access: opt.Access, scope: q.Apply, computed: q.Compute}
		if q.Filter, err = b.boolExpr(o.Filter); err != nil {
			return nil, err
		}
	}
	if applied != nil {
		if q.Filter != nil {
			applied = &Logical{L: applied, R: q.Filter}
		}
		q.Filter = applied
	}
	if o.Search != nil {
		if err := checkLength(o.Raw, "$search", lim); err != nil {
			return nil, err
		}
		b := &binder{set: set, option: "$search", lim: lim}
		if q.Search, err = b.search(o.Search, 1); err != nil {
			return nil, err
		}
	}
	if len(o.OrderBy) > 0 {
		if err := checkLength(o.Raw, "$orderby", lim); err != nil {
			return nil, err
		}
		if q.Apply != nil {
			q.OrderBy, err = bindApplyOrderBy(set, q.Apply, o.OrderBy, lim)
		} else {
			q.OrderBy, err = bindOrderByComputed(set, o.OrderBy, lim, opt.Access, q.Compute)
		}
		if err != nil {
			return nil, err
		}
	}
	if o.Top != nil {
		if *o.Top < 0 {
			return nil, &Error{Kind: BadRequest, Option: "$top", Msg: "$top must not be negative"}
		}
		top := *o.Top
		q.Top = &top
	}
	if o.Skip != nil {
		if *o.Skip < 0 {
			return nil, &Error{Kind: BadRequest, Option: "$skip", Msg: "$skip must not be negative"}
		}
		q.Skip = *o.Skip
	}
	if o.Count != nil {
		q.Count = *o.Count
	}
	if len(o.Expand) > 0 {
		if q.Expand, err = bindExpand(m, set, o, lim, opt.Access); err != nil {
			return nil, err
		}
	}
	if o.SkipToken != "" {
		if opt.Tokens == nil {
			return nil, &Error{Kind: BadRequest, Option: "$skiptoken", Msg: "$skiptoken is not accepted by this service"}
		}
		order, _ := TotalOrder(q)
		if q.Apply != nil {
			// An aggregated result pages by offset.
			q.After, err = opt.Tokens.decode(Fingerprint(q.Resource(), req), o.SkipToken, nil, true)
		} else {
			q.After, err = opt.Tokens.Decode(Fingerprint(q.Resource(), req), o.SkipToken, order)
		}
		if err != nil {
			return nil, err
		}
	}
	return q, nil
}

// restError answers a path segment that names nothing of set.
func restError(set *metadata.EntitySet, rest []string) *Error {
	first := rest[0]
	if i := strings.IndexByte(first, '('); i > 0 {
		first = first[:i]
	}
	if strings.HasPrefix(first, "$") {
		return &Error{Kind: NotImplemented, Option: "path", Target: first,
			Msg: "path segment " + first + " is not supported"}
	}
	msg := fmt.Sprintf("%s has no property or navigation property %s", set.Name, first)
	if f := set.PropertyFold(first); f != nil {
		msg += "; did you mean " + f.Name + "?"
	} else {
		for _, n := range set.Navigations {
			if strings.EqualFold(n.Name, first) {
				msg += "; did you mean " + n.Name + "?"
				break
			}
		}
	}
	return &Error{Kind: NotFound, Option: "path", Target: first, Msg: msg}
}

// checkLength enforces MaxExprLength on an option's raw text.
func checkLength(raw map[string]string, option string, lim Limits) error {
	if n := len(raw[option]); n > lim.MaxExprLength {
		return &Error{Kind: LimitExceeded, Option: option,
			Msg: fmt.Sprintf("%s exceeds the maximum length of %d bytes", option, lim.MaxExprLength)}
	}
	return nil
}

// BindFilter binds a boolean expression against set outside a request, e.g.
// an authorization restriction (Query.Restrict). params supply the values of
// aliases (@name): typed constants; a String parameter compared with a
// property of another type is converted like a literal (400 when it cannot
// be). An alias that is neither in params nor has a value is a 400.
// Navigation (lambda operators, paths through navigation properties) is
// NotImplemented here: such an expression would read other sets without
// their own rules. Errors are *Error with Option "$filter".
func BindFilter(set *metadata.EntitySet, e odata.Expr, lim Limits, params map[string]Const) (Expr, error) {
	lim = lim.withDefaults()
	if params == nil {
		params = map[string]Const{}
	}
	if e != nil && e.Pos().End > lim.MaxExprLength {
		return nil, &Error{Kind: LimitExceeded, Option: "$filter",
			Msg: fmt.Sprintf("$filter exceeds the maximum length of %d bytes", lim.MaxExprLength)}
	}
	b := &binder{set: set, option: "$filter", lim: lim, params: params, noNav: true}
	return b.boolExpr(e)
}

// bindKey binds a key predicate to constants in set.Key order.
func bindKey(set *metadata.EntitySet, path odata.Path) ([]Const, error) {
	bad := func(format string, args ...any) *Error {
		return &Error{Kind: BadRequest, Option: "path", Span: path.KeySpan, Msg: fmt.Sprintf(format, args...)}
	}
	parts := path.Key
	if len(parts) == 0 {
		return nil, bad("empty key predicate")
	}
	values := make([]odata.Expr, len(set.Key))
	if len(parts) == 1 && parts[0].Name == "" {
		if len(set.Key) != 1 {
			return nil, bad("%s has a key of %d properties (%s); name each one, e.g. %s(%s)",
				set.Name, len(set.Key), keyNames(set), set.Name, keyExample(set))
		}
		values[0] = parts[0].Value
	} else {
		for _, kp := range parts {
			if kp.Name == "" {
				return nil, bad("a key predicate with several values must name each key property: %s(%s)", set.Name, keyExample(set))
			}
			idx := -1
			for i, k := range set.Key {
				if k.Name == kp.Name {
					idx = i
				}
			}
			if idx < 0 {
				msg := fmt.Sprintf("%s is not a key property of %s (key: %s)", kp.Name, set.Name, keyNames(set))
				for _, k := range set.Key {
					if strings.EqualFold(k.Name, kp.Name) {
						msg += "; did you mean " + k.Name + "?"
					}
				}
				e := bad("%s", msg)
				e.Target = kp.Name
				return nil, e
			}
			if values[idx] != nil {
				e := bad("key property %s is given twice", kp.Name)
				e.Target = kp.Name
				return nil, e
			}
			values[idx] = kp.Value
		}
		for i, k := range set.Key {
			if values[i] == nil {
				e := bad("key property %s is missing (key: %s)", k.Name, keyNames(set))
				e.Target = k.Name
				return nil, e
			}
		}
	}
	out := make([]Const, len(set.Key))
	for i, k := range set.Key {
		c, err := keyValue(k, values[i], path.KeySpan)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func keyValue(k *metadata.Property, v odata.Expr, keySpan odata.Span) (Const, error) {
	span := keySpan
	if v != nil {
		span = v.Pos()
	}
	bad := func(format string, args ...any) (Const, error) {
		return Const{}, &Error{Kind: BadRequest, Option: "path", Span: span, Target: k.Name, Msg: fmt.Sprintf(format, args...)}
	}
	for depth := 0; depth < 8; depth++ {
		a, ok := v.(*odata.Alias)
		if !ok {
			break
		}
		v = a.Value
	}
	lit, ok := v.(*odata.Literal)
	if !ok || lit == nil {
		return bad("the value of key property %s must be a literal", k.Name)
	}
	if lit.Kind == odata.NullLit {
		return bad("key property %s cannot be null", k.Name)
	}
	c, err := literalConst(lit)
	if err != nil {
		return bad("invalid %s literal %s: %v", lit.Kind, lit.Raw, err)
	}
	e, err := convertTo(operand{e: c, lit: lit, span: span}, k.Type)
	if err != nil {
		if errors.Is(err, errIncompatible) {
			return bad("key property %s has type %s; %s is %s", k.Name, k.Type.FullName(), lit.Raw, c.T.FullName())
		}
		return bad("key property %s: %v", k.Name, err)
	}
	out := e.(*Const)
	if out.T != k.Type {
		return bad("key value %s does not fit key property %s of type %s", lit.Raw, k.Name, k.Type.FullName())
	}
	return *out, nil
}

func keyNames(set *metadata.EntitySet) string {
	names := make([]string, len(set.Key))
	for i, k := range set.Key {
		names[i] = k.Name
	}
	return strings.Join(names, ", ")
}

func keyExample(set *metadata.EntitySet) string {
	parts := make([]string, len(set.Key))
	for i, k := range set.Key {
		parts[i] = k.Name + "=..."
	}
	return strings.Join(parts, ",")
}

// bindSelect resolves $select into properties in set order.
func bindSelect(set *metadata.EntitySet, o *odata.Options) ([]*metadata.Property, bool, error) {
	return bindSelectItems(set, o.Select, o.HasSelect, nil)
}

// bindSelectItems resolves $select items into properties in set order;
// hidden properties are unknown (and left out of "*" and of the default).
func bindSelectItems(set *metadata.EntitySet, items []odata.SelectItem, has bool, hidden map[string]bool) ([]*metadata.Property, bool, error) {
	all := make([]*metadata.Property, 0, len(set.Properties))
	for _, p := range set.Properties {
		if !hidden[p.Name] {
			all = append(all, p)
		}
	}
	if len(all) == 0 {
		all = append(all, set.Key...) // the key stays readable, as at the top level
	}
	if !has || len(items) == 0 {
		return all, len(hidden) > 0 && len(all) != len(set.Properties), nil
	}
	chosen := make(map[*metadata.Property]bool)
	star := false
	for _, it := range items {
		if it.Star {
			star = true
			continue
		}
		if len(it.Path) != 1 {
			name := strings.Join(it.Path, "/")
			return nil, false, &Error{Kind: BadRequest, Option: "$select", Span: it.Span, Target: name,
				Msg: "select path " + name + " is not supported: select properties by name"}
		}
		name := it.Path[0]
		p := set.Property(name)
		if p == nil || hidden[p.Name] {
			msg := fmt.Sprintf("%s has no property %s", set.Name, name)
			if f := set.PropertyFold(name); f != nil && !hidden[f.Name] {
				msg += "; did you mean " + f.Name + "?"
			}
			return nil, false, &Error{Kind: BadRequest, Option: "$select", Span: it.Span, Target: name, Msg: msg}
		}
		chosen[p] = true
	}
	if star {
		return all, len(hidden) > 0 && len(all) != len(set.Properties), nil
	}
	var out []*metadata.Property
	for _, p := range set.Properties {
		if chosen[p] {
			out = append(out, p)
		}
	}
	return out, true, nil
}

// bindOrderByComputed binds $orderby items, where the aliases of
// $compute stand for their expressions; nodes and depth are counted over
// all items together.
func bindOrderByComputed(set *metadata.EntitySet, items []odata.OrderItem, lim Limits, access Access, computed []*Computed) ([]Order, error) {
	return bindOrderByWith(set, items, lim, access, nil, "$orderby", false, computed)
}

// bindSelectComputed is bindSelect where $select may name the computed
// properties (they follow the set's properties, in $compute order): all of
// them are returned when $select is absent or has "*".
func bindSelectComputed(set *metadata.EntitySet, o *odata.Options, computed []*Computed) ([]*metadata.Property, bool, error) {
	if len(computed) == 0 {
		return bindSelect(set, o)
	}
	rest, chosen, star := selectComputed(computed, o.Select)
	if o.HasSelect && len(rest) == 0 && !star {
		return chosen, true, nil // only computed properties
	}
	sel, explicit, err := bindSelectItems(set, rest, o.HasSelect, nil)
	if err != nil {
		return nil, false, err
	}
	if !o.HasSelect {
		chosen = selectAllComputed(computed)
	}
	return append(append([]*metadata.Property(nil), sel...), chosen...), explicit, nil
}

func selectAllComputed(cs []*Computed) []*metadata.Property {
	out := make([]*metadata.Property, len(cs))
	for i, c := range cs {
		out[i] = c.Out
	}
	return out
}

// bindOrderByHidden is bindOrderBy with hidden properties unknown, errors
// reported for option.
func bindOrderByHidden(set *metadata.EntitySet, items []odata.OrderItem, lim Limits, access Access, hidden map[string]bool, option string, inExpand bool) ([]Order, error) {
	return bindOrderByWith(set, items, lim, access, hidden, option, inExpand, nil)
}

func bindOrderByWith(set *metadata.EntitySet, items []odata.OrderItem, lim Limits, access Access, hidden map[string]bool, option string, inExpand bool, computed []*Computed) ([]Order, error) {
	if len(items) > lim.MaxOrderBy {
		return nil, &Error{Kind: LimitExceeded, Option: option, Span: items[lim.MaxOrderBy].Span,
			Msg: fmt.Sprintf("$orderby exceeds the maximum of %d items", lim.MaxOrderBy)}
	}
	b := &binder{set: set, option: option, lim: lim, hidden: hidden, access: access, inExpand: inExpand, computed: computed}
	out := make([]Order, 0, len(items))
	for _, it := range items {
		o, err := b.operand(it.Expr, 1)
		if err != nil {
			return nil, err
		}
		if o.isNull() {
			return nil, b.badf(it.Span, "cannot order by null")
		}
		if t := o.e.Type(); t == metadata.Binary {
			e := b.badf(it.Span, "cannot order by %s", t.FullName())
			if p, ok := o.e.(*Prop); ok {
				e.Target = p.P.Name
			}
			return nil, e
		}
		out = append(out, Order{Expr: o.e, Desc: it.Desc, Carry: carry(o.e)})
	}
	return out, nil
}

// carry is the descriptor of the column carrying the value of e when e is
// a path through to-one navigation ending in a property (see Order.Carry),
// nil otherwise.
func carry(e Expr) *metadata.Property {
	leaf := PathLeaf(e)
	if leaf == nil {
		return nil
	}
	c := *leaf
	c.Nullable = true
	return &c
}

// PathLeaf is the property a path through to-one navigation (a *ToOne
// whose X is, through nested ToOnes, a *Prop) ends in; nil when e is not
// such a path.
func PathLeaf(e Expr) *metadata.Property {
	t, ok := e.(*ToOne)
	if !ok {
		return nil
	}
	for {
		switch x := t.X.(type) {
		case *Prop:
			return x.P
		case *ToOne:
			t = x
		default:
			return nil
		}
	}
}

// keysetCols returns, for each item of a total order, the property that
// types its value in a keyset position: the property itself for a plain
// property, Carry for a to-one path. ok is false when an item has neither
// (an expression): the order is then paged by offset.
func keysetCols(order []Order) (cols []*metadata.Property, ok bool) {
	cols = make([]*metadata.Property, len(order))
	for i, o := range order {
		switch {
		case o.Carry != nil:
			cols[i] = o.Carry
		default:
			p, isProp := o.Expr.(*Prop)
			if !isProp {
				return nil, false
			}
			cols[i] = p.P
		}
	}
	return cols, true
}

// search binds a $search tree; every term matches set.Searchable.
func (b *binder) search(s odata.Search, depth int) (Search, error) {
	if s == nil {
		return nil, b.badf(odata.Span{}, "missing search expression")
	}
	if err := b.enter(s.Pos(), depth); err != nil {
		return nil, err
	}
	switch n := s.(type) {
	case *odata.SearchTerm:
		return &SearchTerm{Text: n.Text, Props: b.set.Searchable}, nil
	case *odata.SearchNot:
		x, err := b.search(n.X, depth+1)
		if err != nil {
			return nil, err
		}
		return &SearchNot{X: x}, nil
	case *odata.SearchBinary:
		l, err := b.search(n.X, depth+1)
		if err != nil {
			return nil, err
		}
		r, err := b.search(n.Y, depth+1)
		if err != nil {
			return nil, err
		}
		if n.Or {
			return &SearchOr{L: l, R: r}, nil
		}
		return &SearchAnd{L: l, R: r}, nil
	}
	return nil, b.errorf(NotImplemented, s.Pos(), "search expression %T is not supported", s)
}

// keySegment reports whether seg, the segment after set in a path, is a
// key value (key as segment): not a $-segment and not a property name, on a
// set with a single key property.
func keySegment(set *metadata.EntitySet, seg string) bool {
	return len(set.Key) == 1 && !strings.HasPrefix(seg, "$") && set.Property(seg) == nil && set.Navigation(seg) == nil
}

// bindKeySegment converts a key segment (percent-decoded, never quoted) to
// the key property's type.
func bindKeySegment(set *metadata.EntitySet, seg string) ([]Const, error) {
	k := set.Key[0]
	if k.Type == metadata.String {
		return []Const{{T: k.Type, V: seg}}, nil
	}
	v, err := parseValue(seg, k.Type)
	if err != nil {
		return nil, &Error{Kind: BadRequest, Option: "path", Target: k.Name,
			Msg: fmt.Sprintf("key segment %s is not a valid %s (key property %s)", quoteText(seg), k.Type.FullName(), k.Name)}
	}
	return []Const{{T: k.Type, V: v}}, nil
}

// collectionOption names the first query option present in o that only a
// collection takes ("" when none).
func collectionOption(o *odata.Options) string {
	switch {
	case o.Filter != nil:
		return "$filter"
	case o.Search != nil:
		return "$search"
	case len(o.OrderBy) > 0:
		return "$orderby"
	case o.Top != nil:
		return "$top"
	case o.Skip != nil:
		return "$skip"
	case o.Count != nil:
		return "$count"
	case o.SkipToken != "":
		return "$skiptoken"
	case o.Apply != nil:
		return "$apply"
	}
	return ""
}

// TotalOrder returns the order rows are returned in: the user's OrderBy
// followed, ascending, by the key properties not already ordered on as
// plain properties. keyset is true when every item is a plain *Prop or a
// to-one path with its Carry column, so that a page position can be
// carried as the last row's values; otherwise paging falls back to an
// offset.
func TotalOrder(q *Query) (items []Order, keyset bool) {
	items = append(items, q.OrderBy...)
	if q.Apply != nil {
		// An aggregated result has no key: its grouping properties are
		// unique per row, and pages go by offset.
		for _, g := range q.Apply.Group {
			if !ordersByProp(q.OrderBy, g.Out) {
				items = append(items, Order{Expr: &Prop{P: g.Out}})
			}
		}
		return items, false
	}
	keyset = true
	seen := make(map[*metadata.Property]bool)
	for _, o := range q.OrderBy {
		if p, ok := o.Expr.(*Prop); ok {
			seen[p.P] = true
		} else if o.Carry == nil {
			keyset = false
		}
	}
	for _, k := range q.Set.Key {
		if !seen[k] {
			items = append(items, Order{Expr: &Prop{P: k}})
		}
	}
	return items, keyset
}

func ordersByProp(order []Order, p *metadata.Property) bool {
	for _, o := range order {
		if pr, ok := o.Expr.(*Prop); ok && pr.P == p {
			return true
		}
	}
	return false
}

// bindApplyOption binds $apply into q (Apply, Select) and refuses the
// options that do not combine with it. It returns the filter of an apply
// without aggregation (to be ANDed before $filter).
func bindApplyOption(q *Query, o *odata.Options, lim Limits, access Access) (Expr, error) {
	if err := checkLength(o.Raw, "$apply", lim); err != nil {
		return nil, err
	}
	a, f, err := bindApply(q.Set, o.Apply, lim, access)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return f, nil
	}
	switch {
	case o.HasSelect:
		return nil, &Error{Kind: NotImplemented, Option: "$select",
			Msg: "$select together with an aggregating $apply is not supported: the result has the grouping properties and aliases"}
	case o.Search != nil:
		return nil, &Error{Kind: NotImplemented, Option: "$search",
			Msg: "$search together with an aggregating $apply is not supported; filter in $apply instead"}
	}
	q.Apply, q.Select = a, a.Columns
	return nil, nil
}
