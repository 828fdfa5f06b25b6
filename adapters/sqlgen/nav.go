package sqlgen

import (
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Navigation in expressions renders as correlated subqueries, so that the
// statement's FROM clause, its row count and its paging stay those of the
// request's own set:
//
//	any:  EXISTS (SELECT 1 FROM <target> "t1" WHERE <join> AND <restrict> AND <cond>)
//	all:  NOT EXISTS (SELECT 1 FROM <target> "t1" WHERE <join> AND <restrict> AND NOT COALESCE(<cond>, FALSE))
//	path: (SELECT <value> FROM <target> "t1" WHERE <join> AND <restrict>)
//
// <join> is "t1".remote = <outer>.local for each column pair of the
// navigation's foreign key, compared raw (the database's own equality, the
// one its foreign key uses; a NULL part matches nothing, so a null foreign
// key reaches no entity). A to-one navigation reaches at most one row (its
// remote columns are the target's key), so the path subquery is a scalar:
// NULL when there is no related row or the caller's row filter (restrict)
// hides it, which is OData's null for a null navigation. all is false as
// soon as one visible row's condition is false or null (COALESCE), true for
// an empty collection. EXISTS is never NULL.
//
// Inner tables get the aliases "t1", "t2", ... in the order they appear;
// the statement's own table, which has no alias, is referred to from inside
// by its (schema-qualified) table name. An alias hides the table's own name
// inside its subquery, so a set that references itself works; an alias
// equal to the statement's table name is skipped.

// enter opens the scope of a correlated subquery: it returns the reference
// of the scope up levels out (where the navigation starts), the new alias,
// and a function that restores the compiler's scope.
func (c *compiler) enter(up int) (from, alias string, leave func(), err error) {
	cur := c.qual
	if cur == "" {
		if c.top == "" {
			return "", "", nil, internalf("sqlgen: navigation outside a statement over a set")
		}
		cur = c.top
	}
	switch {
	case up == 0:
		from = cur
	case up <= len(c.outer):
		from = c.outer[len(c.outer)-up]
	default:
		return "", "", nil, internalf("sqlgen: navigation %d scopes out of %d", up, len(c.outer))
	}
	for {
		c.aliases++
		name := "t" + strconv.Itoa(c.aliases)
		if name != c.topTable {
			alias = QuoteIdent(name)
			break
		}
	}
	saved, savedOuter := c.qual, c.outer
	c.outer = append(c.outer[:len(c.outer):len(c.outer)], cur)
	c.qual = alias + "."
	return from, alias, func() { c.qual, c.outer = saved, savedOuter }, nil
}

// outerRef is the qualification of the scope up levels out (up >= 1).
func (c *compiler) outerRef(up int) (string, error) {
	if up < 1 || up > len(c.outer) {
		return "", internalf("sqlgen: reference %d scopes out of %d", up, len(c.outer))
	}
	return c.outer[len(c.outer)-up], nil
}

// joinConds are the conditions joining nav's target (columns qualified by
// to, e.g. `"t1".`) to the rows it is entered from (qualified by from): for
// each column pair the columns' own equality (index-friendly) and, where
// the dialect compares differently (MySQL's case-insensitive collations),
// its exact comparison too. Lambdas, paths and $apply's grouping joins so
// follow the same relation as navigation paths and $expand, which compare
// key values exactly.
func (c *compiler) joinConds(nav *metadata.Navigation, from, to string) []string {
	conds := make([]string, 0, len(nav.Local))
	for i, l := range nav.Local {
		r := nav.Remote[i]
		rawR, rawL := to+QuoteIdent(r.Column), from+QuoteIdent(l.Column)
		cond := rawR + " = " + rawL
		if exR, exL := c.d.Column(rawR, r, UseOrder), c.d.Column(rawL, l, UseOrder); exR != rawR || exL != rawL {
			cond = "(" + cond + " AND " + exR + " = " + exL + ")"
		}
		conds = append(conds, cond)
	}
	return conds
}

// navFrom renders " FROM <target> <alias>" and the conditions <join> and
// <restrict> (in the new scope) for nav entered from the reference from.
func (c *compiler) navFrom(nav *metadata.Navigation, from, alias string, restrict semantic.Expr) (string, []string, error) {
	if len(nav.Local) == 0 || len(nav.Local) != len(nav.Remote) {
		return "", nil, internalf("sqlgen: navigation %s has %d local and %d remote properties", nav.Name, len(nav.Local), len(nav.Remote))
	}
	conds := c.joinConds(nav, from, alias+".")
	if restrict != nil {
		s, err := c.pred(restrict, false)
		if err != nil {
			return "", nil, err
		}
		conds = append(conds, "("+s+")")
	}
	return " FROM " + Table(nav.Target) + " " + alias, conds, nil
}

// exists renders a lambda operator.
func (c *compiler) exists(e *semantic.Exists) (string, error) {
	if e.All && e.Cond == nil {
		return c.d.Bool(true), nil // every entity satisfies no condition
	}
	from, alias, leave, err := c.enter(e.Up)
	if err != nil {
		return "", err
	}
	defer leave()
	head, conds, err := c.navFrom(e.Nav, from, alias, e.Restrict)
	if err != nil {
		return "", err
	}
	if e.Cond != nil {
		s, err := c.pred(e.Cond, false)
		if err != nil {
			return "", err
		}
		switch _, twoValued := e.Cond.(*semantic.Exists); {
		case !e.All:
			conds = append(conds, "("+s+")")
		case twoValued:
			conds = append(conds, "NOT ("+s+")")
		default:
			// all: a row whose condition is false or null disproves it.
			conds = append(conds, "NOT COALESCE("+s+", "+c.d.Bool(false)+")")
		}
	}
	sql := "EXISTS (SELECT 1" + head + " WHERE " + strings.Join(conds, " AND ") + ")"
	if e.All {
		sql = "NOT " + sql
	}
	return sql, nil
}

// related renders the value of a path through a to-one navigation.
func (c *compiler) related(e *semantic.ToOne) (Operand, error) {
	from, alias, leave, err := c.enter(e.Up)
	if err != nil {
		return Operand{}, err
	}
	defer leave()
	head, conds, err := c.navFrom(e.Nav, from, alias, e.Restrict)
	if err != nil {
		return Operand{}, err
	}
	x, err := c.value(e.X)
	if err != nil {
		return Operand{}, err
	}
	sql := "(SELECT " + x.SQL + head + " WHERE " + strings.Join(conds, " AND ") + ")"
	return Operand{SQL: sql, Type: x.Type, Nullable: true}, nil
}

// pathColumn renders a path through to-one navigation ending in a property
// (an order item with an Order.Carry descriptor) as a scalar subquery
// reading the property's column raw (raw: the page's extra column, scanned
// like the column itself) or in its UseOrder form (ORDER BY and the keyset
// predicate, compared with ColumnParam values of the Carry descriptor, as
// a plain property is).
func (c *compiler) pathColumn(e *semantic.ToOne, raw bool) (string, error) {
	from, alias, leave, err := c.enter(e.Up)
	if err != nil {
		return "", err
	}
	defer leave()
	head, conds, err := c.navFrom(e.Nav, from, alias, e.Restrict)
	if err != nil {
		return "", err
	}
	var x string
	switch n := e.X.(type) {
	case *semantic.Prop:
		if raw {
			x = c.qual + QuoteIdent(n.P.Column)
		} else {
			x = c.col(n.P, UseOrder)
		}
	case *semantic.ToOne:
		if x, err = c.pathColumn(n, raw); err != nil {
			return "", err
		}
	default:
		return "", internalf("sqlgen: path ending in %T is not a column", e.X)
	}
	return "(SELECT " + x + head + " WHERE " + strings.Join(conds, " AND ") + ")", nil
}
