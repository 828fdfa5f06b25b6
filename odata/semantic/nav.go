package semantic

import (
	"fmt"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// Navigation inside expressions: lambda operators (any, all) and paths
// through to-one navigation properties.
//
// Scopes. Every Exists and ToOne opens a scope: the entity reached
// through its navigation. Its Cond, X and Restrict are bound in that scope,
// where Prop reads a property of the reached entity and Outer{Up: n} one of
// the entity n scopes further out (the one the enclosing lambda ranges over,
// or the request's own entity, $it). The navigation itself starts from the
// entity Up scopes out of the scope the Exists or ToOne stands in (0: that
// scope's own entity).
//
// Name resolution inside a lambda body: a path that starts with the name of
// an enclosing lambda variable starts at that variable's entity; one that
// starts with $it, or with anything else, at the request's own entity (the
// implicit $it of URL Conventions 5.1.1.15): Customers?$filter=
// Orders/any(o: o/Total gt CreditLimit) compares an order's Total with the
// customer's CreditLimit.
//
// Visibility. For every set reached through navigation the binder asks
// Options.Access once: the row filter it returns becomes the Restrict of
// every Exists and ToOne that reaches the set (a lambda never sees rows
// the caller cannot read, so any() cannot reveal their existence, and a
// path through a row the caller cannot read is null), and the hidden
// properties are unknown there, exactly as at the top level. A navigation
// whose join reads a hidden property of the reached set is unknown too.
// The request's own set is the server's business: OwnProps lists what an
// expression reads of it, the join columns of navigations included.

// Outer reads a property of an enclosing scope's entity: Up scopes out
// (Up >= 1; Up 0 would be a Prop).
type Outer struct {
	P  *metadata.Property
	Up int
}

// Exists is a lambda operator. Without All it is true when some entity
// reached through Nav, that Restrict admits, satisfies Cond (nil: any
// entity at all); with All, when every such entity satisfies Cond (true:
// neither false nor null), which is also the case when there is none.
// It is never null. Nav starts from the entity Up scopes out; Restrict
// (the caller's row filter of Nav.Target, nil: none) and Cond are bound in
// the scope of the reached entity. A to-one navigation on the way to the
// collection (Customer/Orders/any(...)) is an Exists of its own whose Cond
// is the next one, with the same All.
type Exists struct {
	Nav      *metadata.Navigation
	Up       int
	Restrict Expr
	Cond     Expr
	All      bool
}

// ToOne is the value of X for the entity reached through the to-one
// navigation Nav (from the entity Up scopes out), or null when there is
// none: a null foreign key, or an entity Restrict (the caller's row filter
// of Nav.Target) does not admit. X is bound in the scope of the reached
// entity: a Prop, or another ToOne for a longer path.
type ToOne struct {
	Nav      *metadata.Navigation
	Up       int
	Restrict Expr
	X        Expr
}

func (e *Outer) Type() metadata.Type  { return e.P.Type }
func (e *Exists) Type() metadata.Type { return metadata.Boolean }
func (e *ToOne) Type() metadata.Type  { return e.X.Type() }

func (*Outer) boundExpr()  {}
func (*Exists) boundExpr() {}
func (*ToOne) boundExpr()  {}

// maxPathHops bounds the to-one navigation segments of one path
// (order/Customer/City has two): each one is a nested subquery.
const maxPathHops = metadata.MaxFilterLevels

// scope is one entity an expression can read: the request's own (index 0,
// named $it) or one reached through navigation (a lambda's, named after its
// variable, or a to-one hop's, unnamed).
type scope struct {
	set    *metadata.EntitySet
	name   string
	hidden map[string]bool
}

// reached is what Access said about a set.
type reached struct {
	restrict Expr
	hidden   map[string]bool
}

func (b *binder) initScopes() {
	if len(b.scopes) == 0 {
		b.scopes = []scope{{set: b.set, name: "$it", hidden: b.hidden}}
	}
}

func (b *binder) push(s scope) { b.scopes = append(b.scopes, s) }
func (b *binder) pop()         { b.scopes = b.scopes[:len(b.scopes)-1] }

// outerIt refuses $it inside a nested option of $expand: there it is the
// entity being expanded from (URL Conventions 4.0 §5.1.1.12), which the
// nested read cannot see.
func (b *binder) outerIt(path []string, span odata.Span) error {
	if b.inExpand && len(path) > 0 && path[0] == "$it" {
		return b.errorf(NotImplemented, span, "$it inside $expand options refers to the entity expanded from, which is not supported; name the expanded entity's properties directly")
	}
	return nil
}

// base finds the scope a path starts at and the segments that follow.
func (b *binder) base(path []string) (int, []string) {
	b.initScopes()
	if path[0] == "$it" {
		return 0, path[1:]
	}
	for i := len(b.scopes) - 1; i > 0; i-- {
		if b.scopes[i].name != "" && b.scopes[i].name == path[0] {
			return i, path[1:]
		}
	}
	return 0, path
}

// prop is the property name of a scope's set, nil when absent or hidden.
func (s scope) prop(name string) *metadata.Property {
	if s.hidden[name] {
		return nil
	}
	return s.set.Property(name)
}

// nav is the navigation property name of a scope's set, nil when absent or
// when its join reads a property hidden in the scope.
func (s scope) nav(name string) *metadata.Navigation {
	n := s.set.Navigation(name)
	if n == nil {
		return nil
	}
	for _, p := range n.Local {
		if s.hidden[p.Name] {
			return nil
		}
	}
	return n
}

// unknown is the error for a name that is neither a visible property nor a
// visible navigation of the scope's set.
func (b *binder) unknown(s scope, name string, span odata.Span) *Error {
	msg := fmt.Sprintf("%s has no property %s", s.set.Name, name)
	hint := ""
	if f := s.set.PropertyFold(name); f != nil && !s.hidden[f.Name] {
		hint = f.Name
	} else {
		for _, n := range s.set.Navigations {
			if strings.EqualFold(n.Name, name) && s.nav(n.Name) != nil {
				hint = n.Name
			}
		}
	}
	if hint == "" && len(b.scopes) > 1 && s.name == "$it" {
		// Inside a lambda body, a bare name is a property of $it; the
		// client may have meant the lambda variable's.
		for i := len(b.scopes) - 1; i > 0; i-- {
			in := b.scopes[i]
			if in.name != "" && (in.prop(name) != nil || in.nav(name) != nil) {
				hint = in.name + "/" + name
				break
			}
		}
	}
	if hint != "" {
		msg += "; did you mean " + hint + "?"
	}
	e := b.badf(span, "%s", msg)
	e.Target = name
	return e
}

// reach asks Access about set once per binding.
func (b *binder) reach(set *metadata.EntitySet) (reached, error) {
	if b.access == nil {
		return reached{}, nil
	}
	if r, ok := b.reachedSets[set]; ok {
		return r, nil
	}
	restrict, hidden, err := b.access.Reach(set)
	if err != nil {
		return reached{}, err
	}
	r := reached{restrict: restrict, hidden: hidden}
	if b.reachedSets == nil {
		b.reachedSets = map[*metadata.EntitySet]reached{}
	}
	b.reachedSets[set] = r
	return r, nil
}

// enterNav reaches nav's target from scope s: the target's visibility and
// the scope to push. A navigation whose join reads a property hidden in
// the target is unknown.
func (b *binder) enterNav(s scope, nav *metadata.Navigation, name string, span odata.Span) (reached, error) {
	if b.noNav {
		return reached{}, b.errorf(NotImplemented, span, "navigation (%s) is not supported in a row filter: it reads its own set only", name)
	}
	r, err := b.reach(nav.Target)
	if err != nil {
		return reached{}, err
	}
	for _, p := range nav.Remote {
		if r.hidden[p.Name] {
			e := b.badf(span, "%s has no property %s", s.set.Name, name)
			e.Target = name
			return reached{}, e
		}
	}
	return r, nil
}

// path binds a property path: a property of some scope's entity, possibly
// reached through to-one navigation (Customer/Country).
func (b *binder) path(n *odata.Ident) (operand, error) {
	if len(n.Path) == 0 {
		return operand{}, b.badf(n.Span, "empty property path")
	}
	if b.scope != nil { // the result of an aggregation ($apply)
		p, err := b.resultProperty(n.Path, n.Span)
		if err != nil {
			return operand{}, err
		}
		return operand{e: &Prop{P: p}, span: n.Span}, nil
	}
	if err := b.outerIt(n.Path, n.Span); err != nil {
		return operand{}, err
	}
	i, segs := b.base(n.Path)
	if c := computedAlias(b.computed, n.Path[0]); c != nil && i == 0 && len(segs) == len(n.Path) {
		if len(segs) > 1 {
			e := b.badf(n.Span, "property path %s is not supported: %s is a computed property of type %s",
				strings.Join(n.Path, "/"), c.Alias, c.Out.Type.FullName())
			e.Target = strings.Join(n.Path, "/")
			return operand{}, e
		}
		if len(b.scopes) > 1 {
			return operand{}, b.errorf(NotImplemented, n.Span, "computed property %s inside a lambda or path is not supported", c.Alias)
		}
		return operand{e: c.Expr, span: n.Span}, nil
	}
	if len(segs) == 0 {
		s := b.scopes[i]
		return operand{}, b.badf(n.Span, "lambda variable %s stands for an entity of %s; use one of its properties, e.g. %s/%s",
			n.Path[0], s.set.Name, n.Path[0], s.set.Key[0].Name)
	}
	e, err := b.member(i, segs, n, 0)
	if err != nil {
		return operand{}, err
	}
	return operand{e: e, span: n.Span}, nil
}

// member resolves segs from scope i as a value in the innermost scope.
func (b *binder) member(i int, segs []string, n *odata.Ident, hops int) (Expr, error) {
	s := b.scopes[i]
	up := len(b.scopes) - 1 - i
	name := segs[0]
	whole := strings.Join(n.Path, "/")
	if p := s.prop(name); p != nil {
		if len(segs) > 1 {
			e := b.badf(n.Span, "property path %s is not supported: %s is a primitive property of type %s",
				whole, p.Name, p.Type.FullName())
			e.Target = whole
			return nil, e
		}
		if up == 0 {
			return &Prop{P: p}, nil
		}
		return &Outer{P: p, Up: up}, nil
	}
	nav := s.nav(name)
	if nav == nil {
		if name == "$count" {
			return nil, b.errorf(NotImplemented, n.Span, "$count of a navigation path (%s) is not supported", whole)
		}
		return nil, b.unknown(s, name, n.Span)
	}
	switch {
	case nav.Many && len(segs) > 1 && segs[1] == "$count":
		return nil, b.errorf(NotImplemented, n.Span, "$count of a navigation path (%s) is not supported; use %s/any()", whole, name)
	case nav.Many:
		e := b.badf(n.Span, "%s is a collection of %s: use %s/any(x: ...) or %s/all(x: ...)", name, nav.Target.Name, name, name)
		e.Target = whole
		return nil, e
	case len(segs) == 1:
		e := b.badf(n.Span, "%s is a navigation property (a %s entity): use one of its properties, e.g. %s/%s",
			name, nav.Target.Name, name, nav.Target.Key[0].Name)
		e.Target = whole
		return nil, e
	}
	if hops+1 > maxPathHops {
		return nil, b.errorf(LimitExceeded, n.Span, "%s: path %s exceeds the maximum of %d navigation segments", b.option, whole, maxPathHops)
	}
	r, err := b.enterNav(s, nav, name, n.Span)
	if err != nil {
		return nil, err
	}
	b.push(scope{set: nav.Target, hidden: r.hidden})
	x, err := b.member(len(b.scopes)-1, segs[1:], n, hops+1)
	b.pop()
	if err != nil {
		return nil, err
	}
	return &ToOne{Nav: nav, Up: up, Restrict: r.restrict, X: x}, nil
}

// lambda binds path/any(v: body) and path/all(v: body).
func (b *binder) lambda(n *odata.Lambda, depth int) (operand, error) {
	if b.scope != nil {
		return operand{}, b.errorf(NotImplemented, n.Span, "lambda operators over the result of $apply are not supported")
	}
	if n.Path == nil || len(n.Path.Path) == 0 {
		return operand{}, b.badf(n.Span, "lambda operator %s needs a collection path", n.Op)
	}
	if b.noNav {
		return operand{}, b.errorf(NotImplemented, n.Span, "lambda operator %s is not supported in a row filter: it reads its own set only", n.Op)
	}
	if err := b.outerIt(n.Path.Path, n.Path.Span); err != nil {
		return operand{}, err
	}
	i, segs := b.base(n.Path.Path)
	if len(segs) == 0 {
		return operand{}, b.badf(n.Span, "lambda operator %s applies to a collection-valued navigation property, not to %s", n.Op, n.Path.Path[0])
	}
	if v := n.Variable; v != "" {
		for _, s := range b.scopes {
			if s.name == v {
				e := b.badf(n.Span, "lambda variable %s is already in use", v)
				e.Target = v
				return operand{}, e
			}
		}
		if v == "$it" {
			return operand{}, b.badf(n.Span, "$it cannot be a lambda variable")
		}
	}
	if b.lambdas >= b.lim.MaxLambdaDepth {
		return operand{}, b.errorf(LimitExceeded, n.Span, "%s exceeds the maximum lambda nesting depth of %d", b.option, b.lim.MaxLambdaDepth)
	}
	e, err := b.lambdaPath(i, segs, n, depth, 0)
	if err != nil {
		return operand{}, err
	}
	return operand{e: e, span: n.Span}, nil
}

func (b *binder) lambdaPath(i int, segs []string, n *odata.Lambda, depth, hops int) (Expr, error) {
	s := b.scopes[i]
	up := len(b.scopes) - 1 - i
	name := segs[0]
	whole := strings.Join(n.Path.Path, "/")
	nav := s.nav(name)
	if nav == nil {
		if p := s.prop(name); p != nil {
			e := b.badf(n.Span, "lambda operator %s applies to a collection; %s is a primitive property of type %s", n.Op, p.Name, p.Type.FullName())
			e.Target = whole
			return nil, e
		}
		return nil, b.unknown(s, name, n.Path.Span)
	}
	last := len(segs) == 1
	switch {
	case nav.Many && !last:
		e := b.badf(n.Span, "%s is a collection of %s: nest lambda operators, e.g. %s/any(x: x/%s)", name, nav.Target.Name, name, strings.Join(segs[1:], "/")+"/"+n.Op+"(...)")
		e.Target = whole
		return nil, e
	case !nav.Many && last:
		e := b.badf(n.Span, "lambda operator %s applies to a collection; %s is a single %s entity", n.Op, name, nav.Target.Name)
		e.Target = whole
		return nil, e
	}
	if hops+1 > maxPathHops {
		return nil, b.errorf(LimitExceeded, n.Span, "%s: path %s exceeds the maximum of %d navigation segments", b.option, whole, maxPathHops)
	}
	r, err := b.enterNav(s, nav, name, n.Path.Span)
	if err != nil {
		return nil, err
	}
	all := n.Op == "all"
	if !last {
		// A to-one hop before the collection: the lambda holds for the
		// related entity, and there is none when it is null (any is false,
		// all is true, as for an empty collection).
		b.push(scope{set: nav.Target, hidden: r.hidden})
		cond, err := b.lambdaPath(len(b.scopes)-1, segs[1:], n, depth, hops+1)
		b.pop()
		if err != nil {
			return nil, err
		}
		return &Exists{Nav: nav, Up: up, Restrict: r.restrict, Cond: cond, All: all}, nil
	}
	x := &Exists{Nav: nav, Up: up, Restrict: r.restrict, All: all}
	if n.Body == nil {
		return x, nil
	}
	b.push(scope{set: nav.Target, name: n.Variable, hidden: r.hidden})
	b.lambdas++
	o, err := b.operand(n.Body, depth+1)
	b.lambdas--
	b.pop()
	if err != nil {
		return nil, err
	}
	if o.isNull() {
		x.Cond = &Const{T: metadata.Boolean, Null: true}
		return x, nil
	}
	if t := o.e.Type(); t != metadata.Boolean {
		return nil, b.badf(o.span, "the body of lambda operator %s must be a Boolean expression, not %s", n.Op, t.FullName())
	}
	x.Cond = o.e
	return x, nil
}

// OwnProps calls f for every property of the query's own entity set that e
// reads: its properties at the top level, $it/... references inside lambda
// bodies and paths (Outer), and the join columns that a navigation starting
// from the set reads (with via set to the navigation). Properties of sets
// reached through navigation are not reported: the binder checked them
// against Access.
func OwnProps(e Expr, f func(p *metadata.Property, via *metadata.Navigation)) {
	ownProps(e, 0, f)
}

// ownProps walks e at scope depth d (0: the request's own entity).
func ownProps(e Expr, d int, f func(*metadata.Property, *metadata.Navigation)) {
	switch x := e.(type) {
	case nil, *Const:
	case *Prop:
		if d == 0 {
			f(x.P, nil)
		}
	case *Outer:
		if x.Up == d {
			f(x.P, nil)
		}
	case *Compare:
		ownProps(x.L, d, f)
		ownProps(x.R, d, f)
	case *IsNull:
		ownProps(x.X, d, f)
	case *Logical:
		ownProps(x.L, d, f)
		ownProps(x.R, d, f)
	case *Not:
		ownProps(x.X, d, f)
	case *Arith:
		ownProps(x.L, d, f)
		ownProps(x.R, d, f)
	case *Neg:
		ownProps(x.X, d, f)
	case *In:
		ownProps(x.X, d, f)
	case *Call:
		for _, a := range x.Args {
			ownProps(a, d, f)
		}
	case *Exists:
		if x.Up == d {
			for _, p := range x.Nav.Local {
				f(p, x.Nav)
			}
		}
		ownProps(x.Cond, d+1, f)
		ownProps(x.Restrict, d+1, f)
	case *ToOne:
		if x.Up == d {
			for _, p := range x.Nav.Local {
				f(p, x.Nav)
			}
		}
		ownProps(x.X, d+1, f)
		ownProps(x.Restrict, d+1, f)
	}
}

// Navigates reports whether e reads other sets through navigation (a
// lambda or a path through a navigation property): its result can then
// change when only those sets change.
func Navigates(e Expr) bool {
	found := false
	ownProps(e, 0, func(_ *metadata.Property, via *metadata.Navigation) {
		found = found || via != nil
	})
	return found
}
