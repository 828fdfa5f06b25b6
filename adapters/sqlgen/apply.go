package sqlgen

import (
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Aggregator is implemented by dialects that render some aggregates of
// $apply in their own form (ok false: the default form, see Aggregate).
// arg is the rendered argument (nil for semantic.Count); t is the
// result's Edm type.
type Aggregator interface {
	Aggregate(m semantic.AggMethod, t metadata.Type, arg *Operand) (sql string, ok bool)
}

// Aggregate is the default form of an aggregate: SUM, MIN, MAX, AVG,
// COUNT(DISTINCT x) and COUNT(*).
func Aggregate(m semantic.AggMethod, arg *Operand) string {
	switch m {
	case semantic.Sum:
		return "SUM(" + arg.SQL + ")"
	case semantic.Min:
		return "MIN(" + arg.SQL + ")"
	case semantic.Max:
		return "MAX(" + arg.SQL + ")"
	case semantic.Average:
		return "AVG(" + arg.SQL + ")"
	case semantic.CountDistinct:
		return "COUNT(DISTINCT " + arg.SQL + ")"
	}
	return "COUNT(*)"
}

// The SQL of an aggregating $apply (semantic.Apply) is a derived table
// "r" whose columns are the result's (g1.. for the grouping properties,
// a1.. for the aggregates), and an outer query over it for the filter()
// steps after the aggregation, $filter, $orderby and paging:
//
//	SELECT "g1", "a1" FROM (
//	  SELECT <g> AS "g1", SUM(<x>) AS "a1"
//	  FROM "Orders" "t0" LEFT JOIN "Customers" "j1" ON "j1"."CustomerID" = "t0"."CustomerID" AND <row filter of Customers>
//	  WHERE <row filter of Orders> AND <filter() steps before the aggregation>
//	  GROUP BY <g>
//	) "r" WHERE <filter() after it> AND <$filter> ORDER BY <$orderby>, "g1" LIMIT/OFFSET
//
// The caller's row filter of the queried set (Query.Restrict) is in the
// inner WHERE: aggregates never see rows the caller cannot read. A
// grouping property is rendered in its ordering form (Column with
// UseOrder: MySQL's binary collation, so that groups are exact) and
// selected in that same form.

// selectApply renders the page query of an aggregating $apply.
func selectApply(d Dialect, q *semantic.Query, limit int64) (Statement, []*metadata.Property, error) {
	c := &compiler{d: d, ps: NewParams(d)}
	a := q.Apply
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, p := range a.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(p.Column))
	}
	b.WriteString(" FROM ")
	if err := c.aggregated(&b, q); err != nil {
		return Statement{}, nil, err
	}
	if err := c.outerWhere(&b, q); err != nil {
		return Statement{}, nil, err
	}
	order, _ := semantic.TotalOrder(q)
	for i, o := range order {
		if i == 0 {
			b.WriteString(" ORDER BY ")
		} else {
			b.WriteString(", ")
		}
		var sql string
		nullable := true
		if pr, ok := o.Expr.(*semantic.Prop); ok {
			sql, nullable = c.col(pr.P, UseOrder), pr.P.Nullable
		} else {
			v, err := c.value(o.Expr)
			if err != nil {
				return Statement{}, nil, err
			}
			sql, nullable = v.SQL, v.Nullable
		}
		b.WriteString(d.OrderItem(sql, o.Desc, nullable))
	}
	offset := q.Skip
	if q.After != nil {
		offset = q.After.Offset
	}
	if lo := d.LimitOffset(c.ps, limit, offset); lo != "" {
		b.WriteString(" ")
		b.WriteString(lo)
	}
	return Bind(d, b.String(), c.ps.Args()), a.Columns, nil
}

// matchingApply renders head over the rows of an aggregating $apply
// (Count, Matching): its filters, never paging.
func matchingApply(d Dialect, q *semantic.Query, head string) (Statement, error) {
	c := &compiler{d: d, ps: NewParams(d)}
	var b strings.Builder
	b.WriteString(head)
	if err := c.aggregated(&b, q); err != nil {
		return Statement{}, err
	}
	if err := c.outerWhere(&b, q); err != nil {
		return Statement{}, err
	}
	return Bind(d, b.String(), c.ps.Args()), nil
}

// outerWhere writes the WHERE over the derived table: the filter() steps
// after the aggregation and $filter.
func (c *compiler) outerWhere(b *strings.Builder, q *semantic.Query) error {
	c.qual = ""
	var conds []string
	for _, e := range append(append([]semantic.Expr(nil), q.Apply.Having...), q.Filter) {
		if e == nil {
			continue
		}
		s, err := c.pred(e, false)
		if err != nil {
			return err
		}
		conds = append(conds, s)
	}
	writeWhere(b, conds)
	return nil
}

// joinAlias is the alias of a grouping join: "j1", "j2", ... (correlated
// subqueries of navigation in expressions take "t1", "t2", ...; the
// queried set is "t0").
func joinAlias(j *semantic.Join) string { return QuoteIdent("j" + strconv.Itoa(j.Index+1)) }

// aggregated writes the derived table "(SELECT ... GROUP BY ...) r".
func (c *compiler) aggregated(b *strings.Builder, q *semantic.Query) error {
	a := q.Apply
	base := QuoteIdent("t0")
	b.WriteString("(SELECT ")
	groups := make([]string, len(a.Group))
	for i, g := range a.Group {
		ref := base
		if g.Join != nil {
			ref = joinAlias(g.Join)
		}
		groups[i] = c.d.Column(ref+"."+QuoteIdent(g.P.Column), g.P, UseOrder)
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(groups[i])
		b.WriteString(" AS ")
		b.WriteString(QuoteIdent(g.Out.Column))
	}
	c.qual = base + "."
	for i, g := range a.Aggregates {
		if i > 0 || len(groups) > 0 {
			b.WriteString(", ")
		}
		var arg *Operand
		if g.Expr != nil {
			var op Operand
			if pr, ok := g.Expr.(*semantic.Prop); ok && (g.Method == semantic.Min || g.Method == semantic.Max) {
				op = Operand{SQL: c.col(pr.P, UseOrder), Type: pr.P.Type, Nullable: pr.P.Nullable, Prop: pr.P}
			} else {
				var err error
				if op, err = c.value(g.Expr); err != nil {
					return err
				}
			}
			arg = &op
		}
		sql, ok := "", false
		if ag, is := c.d.(Aggregator); is {
			sql, ok = ag.Aggregate(g.Method, g.Out.Type, arg)
		}
		if !ok {
			sql = Aggregate(g.Method, arg)
		}
		b.WriteString(sql)
		b.WriteString(" AS ")
		b.WriteString(QuoteIdent(g.Out.Column))
	}
	b.WriteString(" FROM ")
	b.WriteString(Table(q.Set))
	b.WriteString(" ")
	b.WriteString(base)
	for _, j := range a.Joins {
		alias := joinAlias(j)
		from := base
		if j.From != nil {
			from = joinAlias(j.From)
		}
		b.WriteString(" LEFT JOIN ")
		b.WriteString(Table(j.Nav.Target))
		b.WriteString(" ")
		b.WriteString(alias)
		b.WriteString(" ON ")
		b.WriteString(strings.Join(c.joinConds(j.Nav, from+".", alias+"."), " AND "))
		if j.Restrict != nil {
			c.qual = alias + "."
			s, err := c.pred(j.Restrict, false)
			if err != nil {
				return err
			}
			b.WriteString(" AND (")
			b.WriteString(s)
			b.WriteString(")")
		}
	}
	c.qual = base + "."
	var conds []string
	for _, e := range append(append([]semantic.Expr(nil), a.Where...), q.Restrict) {
		if e == nil {
			continue
		}
		s, err := c.pred(e, false)
		if err != nil {
			return err
		}
		conds = append(conds, s)
	}
	writeWhere(b, conds)
	if len(groups) > 0 {
		b.WriteString(" GROUP BY ")
		b.WriteString(strings.Join(groups, ", "))
	}
	b.WriteString(") ")
	b.WriteString(QuoteIdent("r"))
	c.qual = ""
	return nil
}
