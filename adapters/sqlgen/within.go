package sqlgen

import (
	"strings"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Aliases of the window columns of an expansion's read (within). They
// cannot collide with the model's columns in the subquery's select list
// because the outer query names only those it selected.
const (
	rowNumberAlias = "odatagw_rn"
	countAlias     = "odatagw_count"
	subqueryAlias  = "odatagw_w"
)

// within renders the read of an expansion's target set (q.Within): the rows
// whose Within.Props equal one of Within.Values, with q's Filter, Search
// and Restrict, ordered by Props and then TotalOrder(q).
//
// When each parent's rows are paged (Limit or Skip) or counted (Count),
// the rows are numbered per parent with a window function, which
// PostgreSQL, MariaDB 10.2+, MySQL 8 and SQLite 3.25+ all have:
//
//	SELECT cols[, "odatagw_count"] FROM (
//	  SELECT cols, ROW_NUMBER() OVER (PARTITION BY props ORDER BY order) AS "odatagw_rn"
//	         [, COUNT(*) OVER (PARTITION BY props) AS "odatagw_count"]
//	  FROM t WHERE props IN values AND filter ...) AS "odatagw_w"
//	WHERE "odatagw_rn" > skip AND "odatagw_rn" <= skip + limit
//	ORDER BY props, "odatagw_rn"
//
// so that the database returns at most Limit rows per parent. Columns are
// q.Select, then the Props and the order's properties not selected, then
// (with Count) adapters.CountColumn, and with Count and Skip
// adapters.RowNumberColumn: a parent's first row then comes even when
// skipped, so that its count is known (the caller drops it). q.Key, q.After and q.Skip are not
// used (Within.Skip pages per parent).
func within(d Dialect, q *semantic.Query) (Statement, []*metadata.Property, error) {
	w := q.Within
	if len(w.Props) == 0 || len(w.Values) == 0 {
		return Statement{}, nil, internalf("sqlgen: an expansion read without parent values")
	}
	c := newCompiler(d, q.Set) // nested options may follow navigation (lambdas, paths)
	order := TotalOrder(q)
	cols := append([]*metadata.Property(nil), q.Select...)
	if len(cols) == 0 {
		cols = append(cols, q.Set.Properties...)
	}
	for _, p := range w.Props {
		if !containsProp(cols, p) {
			cols = append(cols, p)
		}
	}
	for _, o := range order {
		if pr, ok := o.Expr.(*semantic.Prop); ok && !containsProp(cols, pr.P) {
			cols = append(cols, pr.P)
		}
	}
	conds, err := c.readConds(q.Filter, q.Search, q.Restrict)
	if err != nil {
		return Statement{}, nil, err
	}
	in, err := c.pred(semantic.ValuesIn(w.Props, w.Values), false)
	if err != nil {
		return Statement{}, nil, err
	}
	conds = append([]string{in}, conds...)

	// The parents' columns, then the total order.
	var parts []string
	for _, p := range w.Props {
		parts = append(parts, c.col(p, UseOrder))
	}
	var orderSQL, tail []string // tail: the order items after the parents' columns
	for _, o := range order {
		if pr, ok := o.Expr.(*semantic.Prop); ok {
			item := d.OrderItem(c.col(pr.P, UseOrder), o.Desc, pr.P.Nullable)
			orderSQL = append(orderSQL, item)
			if !containsProp(w.Props, pr.P) {
				tail = append(tail, item)
			}
			continue
		}
		v, err := c.value(o.Expr)
		if err != nil {
			return Statement{}, nil, err
		}
		orderSQL = append(orderSQL, d.OrderItem(v.SQL, o.Desc, v.Nullable))
		tail = append(tail, orderSQL[len(orderSQL)-1])
	}

	var b strings.Builder
	b.Grow(512)
	windowed := w.Limit > 0 || w.Skip > 0 || w.Count
	if !windowed {
		b.WriteString("SELECT ")
		writeColumns(&b, cols)
		b.WriteString(" FROM ")
		b.WriteString(Table(q.Set))
		writeWhere(&b, conds)
		b.WriteString(" ORDER BY ")
		for i, p := range w.Props {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(d.OrderItem(parts[i], false, p.Nullable))
		}
		for _, o := range tail {
			b.WriteString(", ")
			b.WriteString(o)
		}
		return Bind(d, b.String(), c.ps.Args()), cols, nil
	}

	partition := strings.Join(parts, ", ")
	b.WriteString("SELECT ")
	writeColumns(&b, cols)
	if w.Count {
		b.WriteString(", ")
		b.WriteString(QuoteIdent(countAlias))
	}
	if w.Count && w.Skip > 0 {
		b.WriteString(", ")
		b.WriteString(QuoteIdent(rowNumberAlias))
	}
	b.WriteString(" FROM (SELECT ")
	writeColumns(&b, cols)
	b.WriteString(", ROW_NUMBER() OVER (PARTITION BY ")
	b.WriteString(partition)
	b.WriteString(" ORDER BY ")
	b.WriteString(strings.Join(orderSQL, ", "))
	b.WriteString(") AS ")
	b.WriteString(QuoteIdent(rowNumberAlias))
	if w.Count {
		b.WriteString(", COUNT(*) OVER (PARTITION BY ")
		b.WriteString(partition)
		b.WriteString(") AS ")
		b.WriteString(QuoteIdent(countAlias))
	}
	b.WriteString(" FROM ")
	b.WriteString(Table(q.Set))
	writeWhere(&b, conds)
	b.WriteString(") ")
	b.WriteString(QuoteIdent(subqueryAlias))
	rn := QuoteIdent(subqueryAlias) + "." + QuoteIdent(rowNumberAlias)
	var bounds []string
	if w.Skip > 0 {
		ph, err := d.Param(c.ps, semantic.Const{T: metadata.Int64, V: w.Skip})
		if err != nil {
			return Statement{}, nil, err
		}
		bounds = append(bounds, rn+" > "+ph)
	}
	if w.Limit > 0 {
		ph, err := d.Param(c.ps, semantic.Const{T: metadata.Int64, V: w.Skip + w.Limit})
		if err != nil {
			return Statement{}, nil, err
		}
		bounds = append(bounds, rn+" <= "+ph)
	}
	skipCounted := w.Count && w.Skip > 0
	if skipCounted {
		// A parent whose rows are all skipped still needs its count: its
		// first row comes too, marked by its row number.
		page := strings.Join(bounds, " AND ")
		if len(bounds) > 1 {
			page = "(" + page + ")"
		}
		bounds = []string{page + " OR " + rn + " = 1"}
	}
	writeWhere(&b, bounds)
	b.WriteString(" ORDER BY ")
	for _, p := range w.Props {
		b.WriteString(QuoteIdent(subqueryAlias) + "." + QuoteIdent(p.Column))
		b.WriteString(", ")
	}
	b.WriteString(rn)
	if w.Count {
		cols = append(cols, adapters.CountColumn)
	}
	if skipCounted {
		cols = append(cols, adapters.RowNumberColumn)
	}
	return Bind(d, b.String(), c.ps.Args()), cols, nil
}

func writeColumns(b *strings.Builder, cols []*metadata.Property) {
	for i, p := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(p.Column))
	}
}
