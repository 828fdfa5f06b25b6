package adapters

import (
	"context"
	"fmt"
	"strings"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Querier runs a bound query (Adapter.Query).
type Querier interface {
	Query(ctx context.Context, q *semantic.Query, limit int64) (Rows, error)
}

// Node is a row held in memory with its expansions: a parent of an
// expansion, or a related row read by one.
type Node struct {
	Columns []*metadata.Property // shared by the rows of one read
	Values  []edm.Value          // the node's own copy
	// Expanded holds one Expansion per item of the query's Expand, in
	// order (filled by Expand).
	Expanded []*Expansion
}

// Expansion is what one expanded navigation property holds for one parent.
type Expansion struct {
	Expand *semantic.Expand
	// Rows are the related rows in order: at most one for a to-one
	// navigation, at most the per-parent cap for a to-many one.
	Rows []*Node
	// Count is the number of related rows that match (with the nested
	// $count or nav/$count), -1 otherwise.
	Count int64
	// More is set when a to-many collection goes on after Rows (it was
	// cut at the per-parent cap): Next is then the $skip of its rest.
	More bool
	Next int64
}

// Emitted is how many entities n's expansions put into a response, nested
// ones included. A related row shared by several parents (the customer of
// many orders) is read once but written under each of them, so this can be
// far more than the rows read; memo (node → count) makes it linear in the
// rows read.
func Emitted(n *Node, memo map[*Node]int64) int64 {
	if c, ok := memo[n]; ok {
		return c
	}
	var c int64
	for _, x := range n.Expanded {
		for _, row := range x.Rows {
			c += 1 + Emitted(row, memo)
			if c < 0 { // overflow: a pathological fan-out
				c = 1 << 62
			}
		}
	}
	memo[n] = c
	return c
}

// CopyRow copies a row out of a Rows (whose byte slices are reused).
func CopyRow(vals []edm.Value) []edm.Value {
	out := make([]edm.Value, len(vals))
	copy(out, vals)
	for i := range out {
		if out[i].Text != nil {
			out[i].Text = append([]byte(nil), out[i].Text...)
		}
	}
	return out
}

// ExpandOptions bound an expansion.
type ExpandOptions struct {
	// PageCap is the most rows of one to-many collection returned per
	// parent; more end the collection with a nextLink (default 2000).
	PageCap int64
	// Batch is the most distinct parents of one read (default 1000): a
	// level with more parents is read in several queries.
	Batch int
	// MaxRows bounds the rows held in memory for one call (default
	// 200,000); past it the expansion fails (kind Invalid).
	MaxRows int
}

// Expand reads the expansions exp of the parents (rows of set) and hangs
// the related rows under them, level by level: for each expanded
// navigation property ONE query on its target set for all the parents (or
// one per Batch of them), restricted to the parents' join values and paged
// per parent in the database (semantic.Within), then the same for the
// nested expansions of the rows just read. Parents' Columns must include
// the navigation's Local properties. No N+1: the number of queries is the
// number of expand items per level, not the number of rows.
func Expand(ctx context.Context, qr Querier, exp []*semantic.Expand, parents []*Node, opt ExpandOptions) error {
	if opt.PageCap <= 0 {
		opt.PageCap = 2000
	}
	if opt.Batch <= 0 {
		opt.Batch = 1000
	}
	if opt.MaxRows <= 0 {
		opt.MaxRows = 200000
	}
	held := 0
	return expandLevel(ctx, qr, exp, parents, opt, &held)
}

func expandLevel(ctx context.Context, qr Querier, exp []*semantic.Expand, parents []*Node, opt ExpandOptions, held *int) error {
	if len(exp) == 0 || len(parents) == 0 {
		return nil
	}
	for _, p := range parents {
		p.Expanded = make([]*Expansion, len(exp))
	}
	for i, e := range exp {
		children, err := expandOne(ctx, qr, i, e, parents, opt, held)
		if err != nil {
			return err
		}
		if err := expandLevel(ctx, qr, e.Query.Expand, children, opt, held); err != nil {
			return err
		}
	}
	return nil
}

// expandOne fills Expanded[i] of every parent and returns the rows read.
func expandOne(ctx context.Context, qr Querier, i int, e *semantic.Expand, parents []*Node, opt ExpandOptions, held *int) ([]*Node, error) {
	nav := e.Nav
	nq := e.Query
	counted := nq.Count || e.CountOnly
	// Each parent's join values; parents sharing them share the read.
	type group struct {
		values  []semantic.Const
		parents []*Node
	}
	groups := map[string]*group{}
	var order []*group
	for _, p := range parents {
		x := &Expansion{Expand: e, Count: -1}
		if counted {
			x.Count = 0
		}
		p.Expanded[i] = x
		vals, ok := joinValues(nav.Local, nav.Remote, p)
		if !ok {
			continue // a null foreign key: nothing related
		}
		k := valuesKey(vals)
		g := groups[k]
		if g == nil {
			g = &group{values: vals}
			groups[k] = g
			order = append(order, g)
		}
		g.parents = append(g.parents, p)
	}
	if len(order) == 0 {
		return nil, nil
	}
	// Per-parent paging of a to-many collection: the nested $skip, then
	// at most $top rows, and at most PageCap (+1 to learn there is more).
	w := semantic.Within{Props: nav.Remote}
	limit := int64(0)
	if nav.Many {
		w.Skip, w.Count = nq.Skip, counted
		limit = opt.PageCap + 1
		if nq.Top != nil && *nq.Top <= opt.PageCap {
			limit = *nq.Top
		}
		if e.CountOnly || limit == 0 { // nav/$count, $top=0: the count only
			if !counted {
				return nil, nil
			}
			limit, w.Skip = 1, 0
		}
		w.Limit = limit
	}
	var children []*Node
	for start := 0; start < len(order); start += opt.Batch {
		batch := order[start:min(start+opt.Batch, len(order))]
		w := w
		w.Values = make([][]semantic.Const, len(batch))
		for j, g := range batch {
			w.Values[j] = g.values
		}
		q := *nq
		q.Count, q.Expand, q.Within, q.After, q.Key = false, nil, &w, nil, nil
		q.Select = JoinColumns(nq.Select, nq.Expand)
		rows, err := qr.Query(ctx, &q, 0)
		if err != nil {
			return nil, err
		}
		err = func() error {
			defer rows.Close()
			cols := rows.Columns()
			remote := make([]int, len(nav.Remote))
			for j, rp := range nav.Remote {
				remote[j] = indexOf(cols, rp)
				if remote[j] < 0 {
					return Errorf(Internal, nil, "expand %s: the read of %s lacks column %s", nav.Name, nav.Target.Name, rp.Name)
				}
			}
			countAt, rnAt := indexOf(cols, CountColumn), indexOf(cols, RowNumberColumn)
			for rows.Next() {
				vals := CopyRow(rows.Row())
				*held++
				if *held > opt.MaxRows {
					return Errorf(Invalid, nil, "$expand reads more than %d related rows for one page: ask for fewer rows ($top, a smaller page) or expand less", opt.MaxRows)
				}
				key := make([]semantic.Const, len(remote))
				for j, at := range remote {
					key[j] = semantic.ConstOf(nav.Remote[j], &vals[at])
				}
				g := groups[valuesKey(key)]
				if g == nil {
					continue // cannot happen: the read is restricted to these values
				}
				node := &Node{Columns: cols, Values: vals}
				added := false
				for _, p := range g.parents {
					x := p.Expanded[i]
					if countAt >= 0 {
						x.Count = vals[countAt].Int
					}
					switch {
					case e.CountOnly || nq.Top != nil && *nq.Top == 0:
					case rnAt >= 0 && vals[rnAt].Int <= nq.Skip: // skipped: carries the count only
					case !nav.Many:
						if len(x.Rows) == 0 {
							x.Rows = append(x.Rows, node)
							added = true
						}
					case int64(len(x.Rows)) < opt.PageCap:
						x.Rows = append(x.Rows, node)
						added = true
					default:
						x.More = true
						x.Next = nq.Skip + opt.PageCap
					}
				}
				if added {
					children = append(children, node)
				}
			}
			return rows.Err()
		}()
		if err != nil {
			return nil, err
		}
	}
	return children, nil
}

// JoinColumns returns sel followed by the Local properties of exp's
// navigations that sel lacks: the columns a read must have so that its
// rows can be expanded (a $select may leave them out; they are read, not
// written).
func JoinColumns(sel []*metadata.Property, exp []*semantic.Expand) []*metadata.Property {
	out := sel
	for _, e := range exp {
		for _, p := range e.Nav.Local {
			if indexOf(out, p) < 0 {
				if len(out) == len(sel) {
					out = append([]*metadata.Property(nil), sel...)
				}
				out = append(out, p)
			}
		}
	}
	return out
}

// joinValues returns the parent's Local values as constants of the Remote
// properties' types; ok is false when one is null.
func joinValues(local, remote []*metadata.Property, p *Node) ([]semantic.Const, bool) {
	out := make([]semantic.Const, len(local))
	for j, lp := range local {
		at := indexOf(p.Columns, lp)
		if at < 0 || p.Values[at].Null {
			return nil, false
		}
		out[j] = semantic.ConstOf(remote[j], &p.Values[at])
	}
	return out, true
}

// valuesKey is a map key for join values.
func valuesKey(vals []semantic.Const) string {
	var b strings.Builder
	for _, c := range vals {
		fmt.Fprintf(&b, "%v\x00", c.V)
	}
	return b.String()
}

func indexOf(cols []*metadata.Property, p *metadata.Property) int {
	for i, c := range cols {
		if c == p {
			return i
		}
	}
	return -1
}
