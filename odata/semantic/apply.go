package semantic

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// Apply is a bound $apply with an aggregation step (groupby and/or
// aggregate). A $apply of filter steps only is folded into Query.Filter
// and leaves Query.Apply nil: its result is the set's own entities.
//
// The result is a collection of rows without key: the grouping properties
// (Group) followed by the aggregates, whose properties (Columns) are
// synthetic: Name is the property's or alias's name, Column the result
// column's name in the derived table ("g1", "a1", ...), Type its Edm type.
// The query's own $filter and $orderby refer to these columns, its
// Restrict (the caller's row filter) applies to the set's rows BEFORE the
// aggregation, like Where.
type Apply struct {
	// Where are the filter() steps before the aggregation, over the set's rows.
	Where []Expr
	// Group are the grouping properties, those reached through the same
	// navigation path next to each other (JSON nests them in one object).
	Group []Group
	// Aggregates are the aggregate expressions, in request order.
	Aggregates []Aggregate
	// Having are the filter() steps after the aggregation, over Columns.
	Having []Expr
	// Joins are the to-one navigations the grouping reads, each path once,
	// a path's prefix before the path.
	Joins []*Join
	// Columns are the result's properties: Group then Aggregates.
	Columns []*metadata.Property
}

// Join is a to-one navigation path that grouping properties read through:
// a LEFT JOIN of Nav.Target on Nav's join columns. A target row the caller
// may not read (Restrict, from Access.Reach) counts as absent, so its
// properties group as null.
type Join struct {
	Path     string // "Customer", "Customer/Region"
	Nav      *metadata.Navigation
	From     *Join // nil: the navigation starts at the queried set
	Restrict Expr  // the caller's row filter on Nav.Target (nil: none)
	Index    int   // position in Apply.Joins
	hidden   map[string]bool
}

// Group is one grouping property.
type Group struct {
	Path []string           // the navigation names before the property (nil for the set's own)
	Join *Join              // the join it is read through (nil for the set's own)
	P    *metadata.Property // the property read (of Join.Nav.Target, or of the set)
	Out  *metadata.Property // the result column
}

// AggMethod is an aggregation method.
type AggMethod string

// Aggregation methods; Count is "$count as alias".
const (
	Sum           AggMethod = "sum"
	Min           AggMethod = "min"
	Max           AggMethod = "max"
	Average       AggMethod = "average"
	CountDistinct AggMethod = "countdistinct"
	Count         AggMethod = "$count"
)

// Aggregate is one aggregate expression.
type Aggregate struct {
	Method AggMethod
	Expr   Expr // over the set's rows; nil for Count
	Alias  string
	Out    *metadata.Property // the result column (Type is the aggregate's type)
}

// Reads lists the properties of the queried set the aggregation reads
// (grouping properties of the set, the join columns of first-hop
// navigations, the expressions of Where and of the aggregates), so that
// the caller's hidden properties can be refused as in $filter.
func (a *Apply) Reads() []*metadata.Property {
	var out []*metadata.Property
	for _, g := range a.Group {
		if g.Join == nil {
			out = append(out, g.P)
		}
	}
	for _, j := range a.Joins {
		if j.From == nil {
			out = append(out, j.Nav.Local...)
		}
	}
	collect := func(e Expr) {
		OwnProps(e, func(p *metadata.Property, _ *metadata.Navigation) { out = append(out, p) })
	}
	for _, e := range a.Where {
		collect(e)
	}
	for _, g := range a.Aggregates {
		collect(g.Expr)
	}
	return out
}

// column resolves a property path of the result ("Customer/Country", an
// alias, a grouping property of the set); nil when the result has none.
func (a *Apply) column(path []string) *metadata.Property {
	name := strings.Join(path, "/")
	for _, g := range a.Group {
		if strings.Join(append(append([]string(nil), g.Path...), g.P.Name), "/") == name {
			return g.Out
		}
	}
	if len(path) == 1 {
		for _, g := range a.Aggregates {
			if g.Alias == name {
				return g.Out
			}
		}
	}
	return nil
}

// names lists the result's properties for messages.
func (a *Apply) names() string {
	var n []string
	for _, g := range a.Group {
		n = append(n, strings.Join(append(append([]string(nil), g.Path...), g.P.Name), "/"))
	}
	for _, g := range a.Aggregates {
		n = append(n, g.Alias)
	}
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ", ")
}

// applyBinder binds one $apply.
type applyBinder struct {
	set    *metadata.EntitySet
	lim    Limits
	access Access
	a      *Apply
	joins  map[string]*Join
	nodes  int
}

func (ab *applyBinder) errorf(kind ErrorKind, span odata.Span, format string, args ...any) *Error {
	return &Error{Kind: kind, Option: "$apply", Span: span, Msg: fmt.Sprintf(format, args...)}
}

// bindApply binds o.Apply. It returns the bound aggregation (nil when the
// apply has only filter steps) and the filter of those steps (nil when the
// apply aggregates).
func bindApply(set *metadata.EntitySet, ap *odata.Apply, lim Limits, access Access) (*Apply, Expr, error) {
	ab := &applyBinder{set: set, lim: lim, access: access, a: &Apply{}, joins: map[string]*Join{}}
	aggregated := false
	for _, step := range ap.Steps {
		switch s := step.(type) {
		case *odata.FilterStep:
			e, err := ab.filter(s)
			if err != nil {
				return nil, nil, err
			}
			if aggregated {
				ab.a.Having = append(ab.a.Having, e)
			} else {
				ab.a.Where = append(ab.a.Where, e)
			}
		case *odata.GroupBy, *odata.Aggregate:
			if aggregated {
				return nil, nil, ab.errorf(NotImplemented, s.Pos(),
					"%s after an aggregation (groupby or aggregate) is not supported; only filter may follow it", trafoName(s))
			}
			aggregated = true
			if err := ab.aggregation(s); err != nil {
				return nil, nil, err
			}
		default:
			return nil, nil, ab.errorf(NotImplemented, step.Pos(), "transformation %s is not supported", step.String())
		}
	}
	if !aggregated {
		var f Expr
		for _, e := range ab.a.Where {
			if f == nil {
				f = e
			} else {
				f = &Logical{L: f, R: e}
			}
		}
		return nil, f, nil
	}
	return ab.a, nil, nil
}

func trafoName(t odata.Transformation) string {
	switch t.(type) {
	case *odata.GroupBy:
		return "groupby"
	case *odata.Aggregate:
		return "aggregate"
	}
	return "filter"
}

// filter binds a filter() step: over the set's rows before the
// aggregation, over the result's columns after it.
func (ab *applyBinder) filter(s *odata.FilterStep) (Expr, error) {
	b := &binder{set: ab.set, option: "$apply", lim: ab.lim, nodes: ab.nodes, access: ab.access}
	if len(ab.a.Columns) > 0 {
		b.scope = ab.a
	}
	e, err := b.boolExpr(s.Expr)
	ab.nodes = b.nodes
	return e, err
}

// aggregation binds groupby((...)[, aggregate(...)[/filter(...)]]) or
// aggregate(...).
func (ab *applyBinder) aggregation(step odata.Transformation) error {
	var agg *odata.Aggregate
	var having []*odata.FilterStep
	switch s := step.(type) {
	case *odata.Aggregate:
		agg = s
	case *odata.GroupBy:
		for i, t := range s.Then {
			switch n := t.(type) {
			case *odata.Aggregate:
				if i == 0 {
					agg = n
					continue
				}
			case *odata.FilterStep:
				if i > 0 {
					having = append(having, n)
					continue
				}
			}
			return ab.errorf(NotImplemented, t.Pos(),
				"inside groupby only aggregate(...), optionally followed by filter(...), is supported")
		}
		for _, id := range s.Props {
			if err := ab.group(id); err != nil {
				return err
			}
		}
		ab.orderGroups()
	}
	if agg != nil {
		for _, it := range agg.Items {
			if err := ab.aggregate(it); err != nil {
				return err
			}
		}
	}
	for i := range ab.a.Group {
		g := &ab.a.Group[i]
		out := *g.P
		out.Column = "g" + strconv.Itoa(i+1)
		out.Nullable = out.Nullable || g.Join != nil // an absent target groups as null
		g.Out = &out
		ab.a.Columns = append(ab.a.Columns, g.Out)
	}
	for i := range ab.a.Aggregates {
		ab.a.Columns = append(ab.a.Columns, ab.a.Aggregates[i].Out)
	}
	for _, f := range having {
		e, err := ab.filter(f)
		if err != nil {
			return err
		}
		ab.a.Having = append(ab.a.Having, e)
	}
	return nil
}

// orderGroups puts grouping properties read through the same navigation
// path next to each other (stable: by the first use of each path).
func (ab *applyBinder) orderGroups() {
	rank := map[string]int{}
	for _, g := range ab.a.Group {
		k := strings.Join(g.Path, "/")
		if _, ok := rank[k]; !ok {
			rank[k] = len(rank)
		}
	}
	var out []Group
	for r := 0; r < len(rank); r++ {
		for _, g := range ab.a.Group {
			if rank[strings.Join(g.Path, "/")] == r {
				out = append(out, g)
			}
		}
	}
	ab.a.Group = out
}

// maxGroupPath bounds the navigation hops of a grouping property.
const maxGroupPath = 4

// group binds one grouping property: a property of the set, or a path of
// to-one navigations ending in a property of the last target.
func (ab *applyBinder) group(id *odata.Ident) error {
	set := ab.set
	var join *Join
	path := id.Path
	for i, seg := range path[:len(path)-1] {
		nav := set.Navigation(seg)
		if nav == nil {
			if set.Property(seg) != nil {
				return ab.unknown(id, "%s is a primitive property of %s, not a navigation property", seg, set.Name)
			}
			return ab.unknown(id, "%s has no navigation property %s", set.Name, seg)
		}
		if nav.Many {
			return ab.errorf(NotImplemented, id.Span,
				"grouping by a property of the to-many navigation %s is not supported", strings.Join(path[:i+1], "/"))
		}
		if i+1 > maxGroupPath {
			return ab.errorf(NotImplemented, id.Span, "grouping paths of more than %d navigation steps are not supported", maxGroupPath)
		}
		j, err := ab.join(strings.Join(path[:i+1], "/"), nav, join, id)
		if err != nil {
			return err
		}
		join, set = j, nav.Target
	}
	name := path[len(path)-1]
	p := set.Property(name)
	hidden := join != nil && join.hidden[name]
	if p == nil || hidden {
		if set.Navigation(name) != nil && !hidden {
			return ab.errorf(NotImplemented, id.Span, "grouping by the navigation property %s is not supported: group by its properties, e.g. %s/<property>", id.String(), id.String())
		}
		msg := fmt.Sprintf("%s has no property %s", set.Name, name)
		if f := set.PropertyFold(name); f != nil && !hidden {
			msg += "; did you mean " + f.Name + "?"
		}
		return ab.unknown(id, "%s", msg)
	}
	for _, g := range ab.a.Group {
		if g.P == p && g.Join == join {
			return ab.unknown(id, "grouping property %s is given twice", id.String())
		}
	}
	var nav []string
	if len(path) > 1 {
		nav = append(nav, path[:len(path)-1]...)
	}
	ab.a.Group = append(ab.a.Group, Group{Path: nav, Join: join, P: p})
	return nil
}

func (ab *applyBinder) unknown(id *odata.Ident, format string, args ...any) *Error {
	e := ab.errorf(BadRequest, id.Span, format, args...)
	e.Target = id.String()
	return e
}

// join returns the join for path, asking Access once per path.
func (ab *applyBinder) join(path string, nav *metadata.Navigation, from *Join, id *odata.Ident) (*Join, error) {
	if j, ok := ab.joins[path]; ok {
		return j, nil
	}
	j := &Join{Path: path, Nav: nav, From: from, Index: len(ab.a.Joins)}
	// A hop joining on a property hidden in the set it starts from would
	// tell that property's values (the first hop's own foreign key is
	// checked with the set's other reads, Apply.Reads).
	if from != nil && JoinHidden(nav, from.hidden) {
		return nil, ab.unknown(id, "%s has no navigation property %s", ab.setOf(from).Name, nav.Name)
	}
	if ab.access != nil {
		r, hidden, err := ab.access.Reach(nav.Target)
		if err != nil {
			return nil, err
		}
		for _, p := range nav.Remote {
			if hidden[p.Name] {
				return nil, ab.unknown(id, "%s has no navigation property %s", ab.setOf(from).Name, nav.Name)
			}
		}
		j.Restrict, j.hidden = r, hidden
	}
	ab.joins[path] = j
	ab.a.Joins = append(ab.a.Joins, j)
	return j, nil
}

func (ab *applyBinder) setOf(j *Join) *metadata.EntitySet {
	if j == nil {
		return ab.set
	}
	return j.Nav.Target
}

// aggregate binds one aggregate expression and types its result:
//
//	sum            integers up to Int32 -> Int64; Int64 and Decimal -> Decimal; Single, Double keep their type
//	average        integers, Single, Double -> Double; Decimal -> Decimal
//	min, max       the type of the expression (not Boolean, Binary, Guid)
//	countdistinct  Int64
//	$count         Int64
func (ab *applyBinder) aggregate(it odata.AggregateItem) error {
	alias := it.Alias
	if ab.set.Property(alias) != nil || ab.set.Navigation(alias) != nil {
		e := ab.errorf(BadRequest, it.Span, "alias %s collides with a property of %s", alias, ab.set.Name)
		e.Target = alias
		return e
	}
	for _, g := range ab.a.Aggregates {
		if g.Alias == alias {
			e := ab.errorf(BadRequest, it.Span, "alias %s is given twice", alias)
			e.Target = alias
			return e
		}
	}
	out := &metadata.Property{Name: alias, Column: "a" + strconv.Itoa(len(ab.a.Aggregates)+1), Nullable: true, Variable: true}
	g := Aggregate{Method: AggMethod(it.Method), Alias: alias, Out: out}
	if it.Expr == nil {
		g.Method = Count
		out.Type, out.Nullable = metadata.Int64, false
		ab.a.Aggregates = append(ab.a.Aggregates, g)
		return nil
	}
	b := &binder{set: ab.set, option: "$apply", lim: ab.lim, nodes: ab.nodes, access: ab.access}
	o, err := b.operand(it.Expr, 1)
	ab.nodes = b.nodes
	if err != nil {
		return err
	}
	if o.isNull() {
		return ab.errorf(BadRequest, it.Span, "cannot aggregate null")
	}
	g.Expr = o.e
	t := o.e.Type()
	bad := func(what string) error {
		return ab.errorf(BadRequest, it.Expr.Pos(), "%s needs %s; %s is %s", it.Method, what, it.Expr.String(), t.FullName())
	}
	numeric := t.IsIntegral() || t == metadata.Decimal || t == metadata.Single || t == metadata.Double
	switch g.Method {
	case Sum:
		if !numeric {
			return bad("a numeric expression")
		}
		switch {
		case t == metadata.Int64 || t == metadata.Decimal:
			out.Type = metadata.Decimal
		case t.IsIntegral():
			out.Type = metadata.Int64
		default:
			out.Type = t
		}
	case Average:
		if !numeric {
			return bad("a numeric expression")
		}
		out.Type = metadata.Double
		if t == metadata.Decimal {
			out.Type = metadata.Decimal
		}
	case Min, Max:
		switch t {
		case metadata.Boolean, metadata.Binary, metadata.Guid, metadata.Duration:
			return bad("an expression with a totally ordered domain (numbers, strings, dates and times)")
		}
		if p, ok := o.e.(*Prop); ok {
			c := *p.P // keeps the storage facts the scanner and dialect need
			c.Name, c.Column, c.Nullable = alias, out.Column, true
			out = &c
			g.Out = out
		}
		out.Type = t
	case CountDistinct:
		if t == metadata.Binary {
			return bad("a value that can be compared")
		}
		out.Type, out.Nullable = metadata.Int64, false
	}
	if out.Type == metadata.Decimal && g.Method == Sum {
		// A sum keeps the scale of a decimal column (the scanner of an
		// engine that sums in binary floating point prints it with that
		// scale where that is exact).
		if p, ok := o.e.(*Prop); ok && p.P.Type == metadata.Decimal && !p.P.Variable {
			out.Variable, out.Precision, out.Scale = false, 38, p.P.Scale
		}
	}
	ab.a.Aggregates = append(ab.a.Aggregates, g)
	return nil
}

// bindApplyOrderBy binds $orderby over the result of an aggregation.
func bindApplyOrderBy(set *metadata.EntitySet, a *Apply, items []odata.OrderItem, lim Limits) ([]Order, error) {
	if len(items) > lim.MaxOrderBy {
		return nil, &Error{Kind: LimitExceeded, Option: "$orderby", Span: items[lim.MaxOrderBy].Span,
			Msg: fmt.Sprintf("$orderby exceeds the maximum of %d items", lim.MaxOrderBy)}
	}
	b := &binder{set: set, option: "$orderby", lim: lim, scope: a}
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
			return nil, b.badf(it.Span, "cannot order by %s", t.FullName())
		}
		out = append(out, Order{Expr: o.e, Desc: it.Desc})
	}
	return out, nil
}

// resultProperty resolves a property path against the result of an
// aggregation (binder.scope).
func (b *binder) resultProperty(path []string, span odata.Span) (*metadata.Property, error) {
	if p := b.scope.column(path); p != nil {
		return p, nil
	}
	name := strings.Join(path, "/")
	e := b.badf(span, "%s is not a property of the $apply result (it has: %s)", name, b.scope.names())
	e.Target = name
	return nil, e
}
