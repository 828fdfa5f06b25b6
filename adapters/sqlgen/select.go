package sqlgen

import (
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// TotalOrder is q's user order followed by the key properties it does not
// already sort by (ascending), so that the order is total. It is computed
// exactly like semantic.TotalOrder; keyset values follow its items.
func TotalOrder(q *semantic.Query) []semantic.Order {
	if q.Apply != nil {
		order, _ := semantic.TotalOrder(q)
		return order
	}
	out := make([]semantic.Order, 0, len(q.OrderBy)+len(q.Set.Key))
	out = append(out, q.OrderBy...)
	for _, k := range q.Set.Key {
		if !ordersBy(q.OrderBy, k) {
			out = append(out, semantic.Order{Expr: &semantic.Prop{P: k}})
		}
	}
	return out
}

func ordersBy(order []semantic.Order, p *metadata.Property) bool {
	for _, o := range order {
		if pr, ok := o.Expr.(*semantic.Prop); ok && pr.P == p {
			return true
		}
	}
	return false
}

// Select renders the page query of q.
//
// Columns are q.Select followed by the plain properties of TotalOrder(q)
// that are not selected, then the values of its to-one paths that have an
// Order.Carry descriptor (the executor needs them to build the next
// $skiptoken); the returned slice lists them in result order, a path's
// column as its Carry. Columns are read raw: the row scanner trims char(n)
// values and interprets local timestamps in the model zone.
//
// WHERE is Filter AND Search AND Restrict AND the keyset predicate for
// q.After AND key equality for q.Key. ORDER BY is TotalOrder(q) with NULLs
// lowest. OFFSET is q.Skip on the first page, q.After.Offset when the token
// is an offset (orders with expressions), and none after a keyset. LIMIT is
// limit (0 = none); $top is the caller's business.
//
// Errors: *adapters.Error of kind NotImplemented for expressions the
// backend cannot evaluate, Internal for a malformed query (a keyset whose
// length differs from the order, a key of the wrong length).
func Select(d Dialect, q *semantic.Query, limit int64) (Statement, []*metadata.Property, error) {
	if q.Within != nil {
		return within(d, q)
	}
	if q.Apply != nil {
		return selectApply(d, q, limit)
	}
	c := newCompiler(d, q.Set)
	order := TotalOrder(q)

	cols := make([]*metadata.Property, 0, len(q.Select)+len(order))
	cols = append(cols, q.Select...)
	if len(cols) == 0 {
		cols = append(cols, q.Set.Properties...)
	}
	for _, o := range order {
		if pr, ok := o.Expr.(*semantic.Prop); ok && !containsProp(cols, pr.P) {
			cols = append(cols, pr.P)
		}
	}

	var b strings.Builder
	b.Grow(256)
	b.WriteString("SELECT ")
	n := 0
	for i, p := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		if cp := q.Computed(p); cp != nil {
			s, err := c.computed(cp)
			if err != nil {
				return Statement{}, nil, err
			}
			b.WriteString(s)
			b.WriteString(" AS ")
			b.WriteString(QuoteIdent(carryAlias(q.Set, &n)))
			continue
		}
		b.WriteString(QuoteIdent(p.Column))
	}
	// The values of to-one paths in the order, read raw like the columns
	// they reach (Order.Carry describes them), for the next page's keyset.
	// Each gets an alias that names no column of the set: a subquery's
	// column is otherwise named after the column it reads, and ORDER BY
	// "name" would be ambiguous on a set that has its own "name".
	for _, o := range order {
		if t, ok := o.Expr.(*semantic.ToOne); ok && o.Carry != nil {
			s, err := c.pathColumn(t, true)
			if err != nil {
				return Statement{}, nil, err
			}
			b.WriteString(", ")
			b.WriteString(s)
			b.WriteString(" AS ")
			b.WriteString(QuoteIdent(carryAlias(q.Set, &n)))
			cols = append(cols, o.Carry)
		}
	}
	b.WriteString(" FROM ")
	b.WriteString(Table(q.Set))

	conds, err := c.readConds(q.Filter, q.Search, q.Restrict)
	if err != nil {
		return Statement{}, nil, err
	}
	if q.Key != nil {
		k, err := c.keyEq(q.Set, q.Key)
		if err != nil {
			return Statement{}, nil, err
		}
		conds = append(conds, k)
	}

	// ORDER BY items, rendered once and reused by the keyset predicate.
	items := make([]orderItem, len(order))
	for i, o := range order {
		it := orderItem{desc: o.Desc}
		if pr, ok := o.Expr.(*semantic.Prop); ok {
			it.sql, it.nullable, it.prop = c.col(pr.P, UseOrder), pr.P.Nullable, pr.P
		} else if t, ok := o.Expr.(*semantic.ToOne); ok && o.Carry != nil {
			// Ordered, and compared with keyset values, like a plain
			// property: its column's UseOrder form with ColumnParam values.
			s, err := c.pathColumn(t, false)
			if err != nil {
				return Statement{}, nil, err
			}
			it.sql, it.nullable, it.prop = s, true, o.Carry
		} else {
			v, err := c.value(o.Expr)
			if err != nil {
				return Statement{}, nil, err
			}
			it.sql, it.nullable = v.SQL, v.Nullable
		}
		items[i] = it
	}

	offset := q.Skip
	if q.After != nil {
		offset = 0
		if q.After.Values == nil {
			offset = q.After.Offset
		} else {
			k, err := c.keyset(items, q.After.Values)
			if err != nil {
				return Statement{}, nil, err
			}
			if k != "" {
				conds = append(conds, k)
			}
		}
	}
	writeWhere(&b, conds)

	if len(items) > 0 {
		b.WriteString(" ORDER BY ")
		for i, it := range items {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(d.OrderItem(it.sql, it.desc, it.nullable))
		}
	}
	if lo := d.LimitOffset(c.ps, limit, offset); lo != "" {
		b.WriteString(" ")
		b.WriteString(lo)
	}
	return Bind(d, b.String(), c.ps.Args()), cols, nil
}

// Count renders SELECT COUNT(*) with q's Filter, Search and Restrict only:
// never the keyset, key, $top or $skip.
func Count(d Dialect, q *semantic.Query) (Statement, error) {
	return matching(d, q, "SELECT COUNT(*) FROM ")
}

// Matching renders SELECT 1 over the rows Count counts: the statement whose
// row estimate (EXPLAIN) estimates the count.
func Matching(d Dialect, q *semantic.Query) (Statement, error) {
	return matching(d, q, "SELECT 1 FROM ")
}

func matching(d Dialect, q *semantic.Query, head string) (Statement, error) {
	if q.Apply != nil {
		return matchingApply(d, q, head)
	}
	c := newCompiler(d, q.Set)
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(Table(q.Set))
	conds, err := c.readConds(q.Filter, q.Search, q.Restrict)
	if err != nil {
		return Statement{}, err
	}
	writeWhere(&b, conds)
	return Bind(d, b.String(), c.ps.Args()), nil
}

func (c *compiler) readConds(filter semantic.Expr, search semantic.Search, restrict semantic.Expr) ([]string, error) {
	var conds []string
	if filter != nil {
		s, err := c.pred(filter, false)
		if err != nil {
			return nil, err
		}
		conds = append(conds, s)
	}
	if search != nil {
		s, err := c.search(search, false)
		if err != nil {
			return nil, err
		}
		conds = append(conds, s)
	}
	if restrict != nil {
		s, err := c.pred(restrict, false)
		if err != nil {
			return nil, err
		}
		conds = append(conds, s)
	}
	return conds, nil
}

func writeWhere(b *strings.Builder, conds []string) {
	for i, s := range conds {
		if i == 0 {
			b.WriteString(" WHERE ")
		} else {
			b.WriteString(" AND ")
		}
		if len(conds) > 1 {
			b.WriteString("(")
			b.WriteString(s)
			b.WriteString(")")
		} else {
			b.WriteString(s)
		}
	}
}

// keyEq renders key equality for a set's key values.
func (c *compiler) keyEq(set *metadata.EntitySet, key []semantic.Const) (string, error) {
	if len(key) != len(set.Key) {
		return "", internalf("sqlgen: %s has %d key properties, got %d values", set.Name, len(set.Key), len(key))
	}
	var b strings.Builder
	for i, p := range set.Key {
		if key[i].Null {
			return "", internalf("sqlgen: null key value for %s", p.Name)
		}
		v, err := c.d.ColumnParam(c.ps, p, key[i])
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString(" AND ")
		}
		col := c.col(p, UseOrder)
		if ke, ok := c.d.(KeyEqualer); ok {
			b.WriteString(ke.KeyEqual(p, col, v))
			continue
		}
		b.WriteString(col)
		b.WriteString(" = ")
		b.WriteString(v)
	}
	return b.String(), nil
}

type orderItem struct {
	sql      string
	desc     bool
	nullable bool
	prop     *metadata.Property // nil for expressions; a path's Carry
}

// keyset renders "the row comes strictly after values in the total order"
// with NULLs lowest (ascending: NULLs first; descending: NULLs last):
//
//	(c1 > v1) OR (c1 = v1 AND c2 > v2) OR ...
//
// where, per item, "after v" is: asc, v null -> c IS NOT NULL; asc -> c > v;
// desc, v null -> nothing; desc -> c < v (OR c IS NULL when nullable), and
// "equal to v" is c IS NULL for a null v. When every item has the same
// direction, no column is nullable and no value is null, the row
// comparison (c1, c2) > (v1, v2) is used instead (index-friendly).
func (c *compiler) keyset(items []orderItem, vals []semantic.Const) (string, error) {
	if len(vals) != len(items) {
		return "", internalf("sqlgen: keyset has %d values for %d order items", len(vals), len(items))
	}
	ph := make([]string, len(items))
	for i, it := range items {
		if vals[i].Null {
			continue
		}
		var err error
		if it.prop != nil {
			ph[i], err = c.d.ColumnParam(c.ps, it.prop, vals[i])
		} else {
			ph[i], err = c.d.Param(c.ps, vals[i])
		}
		if err != nil {
			return "", err
		}
	}

	simple := len(items) > 1
	for i, it := range items {
		if it.nullable || vals[i].Null || it.desc != items[0].desc {
			simple = false
		}
	}
	if simple {
		op := " > "
		if items[0].desc {
			op = " < "
		}
		var l, r []string
		for i, it := range items {
			l = append(l, it.sql)
			r = append(r, ph[i])
		}
		return "(" + strings.Join(l, ", ") + ")" + op + "(" + strings.Join(r, ", ") + ")", nil
	}

	var terms []string
	var eqs []string
	for i, it := range items {
		var after string
		switch {
		case !it.desc && vals[i].Null:
			after = it.sql + " IS NOT NULL"
		case !it.desc:
			after = it.sql + " > " + ph[i]
		case vals[i].Null:
			// nothing sorts after NULL in a descending, NULLs-last order
		case it.nullable:
			after = "(" + it.sql + " < " + ph[i] + " OR " + it.sql + " IS NULL)"
		default:
			after = it.sql + " < " + ph[i]
		}
		if after != "" {
			parts := append(append([]string(nil), eqs...), after)
			t := strings.Join(parts, " AND ")
			if len(parts) > 1 {
				t = "(" + t + ")"
			}
			terms = append(terms, t)
		}
		if vals[i].Null {
			eqs = append(eqs, it.sql+" IS NULL")
		} else {
			eqs = append(eqs, it.sql+" = "+ph[i])
		}
	}
	switch len(terms) {
	case 0:
		return c.d.Bool(false), nil
	case 1:
		return terms[0], nil
	}
	return "(" + strings.Join(terms, " OR ") + ")", nil
}

// carryAlias is the next alias "p1", "p2", ... (counted in n) that is not
// the name of a column of set, compared case-insensitively.
func carryAlias(set *metadata.EntitySet, n *int) string {
	for {
		*n++
		a := "p" + strconv.Itoa(*n)
		taken := false
		for _, p := range set.Properties {
			if strings.EqualFold(p.Column, a) {
				taken = true
			}
		}
		if !taken {
			return a
		}
	}
}

func containsProp(ps []*metadata.Property, p *metadata.Property) bool {
	for _, x := range ps {
		if x == p {
			return true
		}
	}
	return false
}

// computed renders the value of a computed property ($compute): a plain
// property or a to-one path's property raw, as its column is read (Out is
// a copy of the property), any other expression in its value form, as in
// $filter (a dialect that cannot evaluate it refuses it the same way).
func (c *compiler) computed(cp *semantic.Computed) (string, error) {
	switch e := cp.Expr.(type) {
	case *semantic.Prop:
		return c.qual + QuoteIdent(e.P.Column), nil
	case *semantic.ToOne:
		if semantic.PathLeaf(e) != nil {
			return c.pathColumn(e, true)
		}
	}
	v, err := c.value(cp.Expr)
	return v.SQL, err
}
