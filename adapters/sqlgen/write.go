package sqlgen

import (
	"strings"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Insert renders INSERT ... RETURNING every property of the set (raw, in
// Set.Properties order, which is the returned slice). Columns are written in
// Set.Properties order for the properties present in w.Values; with no
// value at all it inserts DEFAULT VALUES.
//
// Errors: Constraint when w.Values names a read-only or generated property.
func Insert(d Dialect, w *adapters.Write) (Statement, []*metadata.Property, error) {
	return insert(d, w, true)
}

// InsertExec renders the INSERT of Insert without RETURNING, for backends
// that have none (MySQL): the executor reads the row back by its key.
func InsertExec(d Dialect, w *adapters.Write) (Statement, error) {
	st, _, err := insert(d, w, false)
	return st, err
}

func insert(d Dialect, w *adapters.Write, returning bool) (Statement, []*metadata.Property, error) {
	ps := NewParams(d)
	var cols, vals []string
	for _, p := range w.Set.Properties {
		v, ok := w.Values[p]
		if !ok {
			continue
		}
		if err := writable(p); err != nil {
			return Statement{}, nil, err
		}
		s, err := d.ColumnParam(ps, p, v)
		if err != nil {
			return Statement{}, nil, err
		}
		cols = append(cols, QuoteIdent(p.Column))
		vals = append(vals, s)
	}
	if err := unknownValues(w); err != nil {
		return Statement{}, nil, err
	}
	var b strings.Builder
	b.WriteString("INSERT INTO ")
	b.WriteString(Table(w.Set))
	if len(cols) == 0 {
		b.WriteString(" ")
		b.WriteString(d.DefaultValues())
	} else {
		b.WriteString(" (")
		b.WriteString(strings.Join(cols, ", "))
		b.WriteString(") VALUES (")
		b.WriteString(strings.Join(vals, ", "))
		b.WriteString(")")
	}
	if returning {
		writeReturning(&b, w.Set)
	}
	return Bind(d, b.String(), ps.Args()), w.Set.Properties, nil
}

// Update renders UPDATE ... SET ... WHERE key [AND Restrict AND Via] RETURNING every
// property (raw, in Set.Properties order). A PATCH sets the properties in
// w.Values; a PUT (w.Replace) also resets every other writable non-key
// property to its default, or NULL when it has none. Identity and
// read-only properties are left alone on PUT. The statement returns no row
// when the key does not exist or the row does not match Restrict before the
// write; checking Restrict after the write is the executor's job (read the
// row back with Select inside the same transaction).
//
// Errors: Constraint when w.Values names a read-only or generated property;
// Internal for a key of the wrong length.
func Update(d Dialect, w *adapters.Write) (Statement, []*metadata.Property, error) {
	return update(d, w, true)
}

// UpdateExec renders the UPDATE of Update without RETURNING, for backends
// that have none (MySQL): it affects no row when Update would return none,
// and the executor reads the row back by its key.
func UpdateExec(d Dialect, w *adapters.Write) (Statement, error) {
	st, _, err := update(d, w, false)
	return st, err
}

func update(d Dialect, w *adapters.Write, returning bool) (Statement, []*metadata.Property, error) {
	c := &compiler{d: d, ps: NewParams(d)}
	var sets []string
	for _, p := range w.Set.Properties {
		v, ok := w.Values[p]
		if ok {
			if err := writable(p); err != nil {
				return Statement{}, nil, err
			}
			s, err := d.ColumnParam(c.ps, p, v)
			if err != nil {
				return Statement{}, nil, err
			}
			sets = append(sets, QuoteIdent(p.Column)+" = "+s)
			continue
		}
		if !w.Replace || w.Set.IsKey(p) || p.ReadOnly || p.Generated || p.Identity {
			continue
		}
		if p.Default != "" {
			sets = append(sets, QuoteIdent(p.Column)+" = "+d.SetDefault(p))
		} else {
			sets = append(sets, QuoteIdent(p.Column)+" = NULL")
		}
	}
	if err := unknownValues(w); err != nil {
		return Statement{}, nil, err
	}
	if len(sets) == 0 {
		// Nothing to change: a no-op assignment still returns the row.
		k := QuoteIdent(w.Set.Key[0].Column)
		sets = append(sets, k+" = "+k)
	}
	where, err := c.writeWhere(w)
	if err != nil {
		return Statement{}, nil, err
	}
	var b strings.Builder
	b.WriteString("UPDATE ")
	b.WriteString(Table(w.Set))
	b.WriteString(" SET ")
	b.WriteString(strings.Join(sets, ", "))
	b.WriteString(where)
	if returning {
		writeReturning(&b, w.Set)
	}
	return Bind(d, b.String(), c.ps.Args()), w.Set.Properties, nil
}

// Delete renders DELETE ... WHERE key [AND Restrict AND Via]; it affects
// no row when the key does not exist or the row does not match them.
func Delete(d Dialect, w *adapters.Write) (Statement, error) {
	c := &compiler{d: d, ps: NewParams(d)}
	where, err := c.writeWhere(w)
	if err != nil {
		return Statement{}, err
	}
	return Bind(d, "DELETE FROM "+Table(w.Set)+where, c.ps.Args()), nil
}

func (c *compiler) writeWhere(w *adapters.Write) (string, error) {
	k, err := c.keyEq(w.Set, w.Key)
	if err != nil {
		return "", err
	}
	cond := semantic.And(w.Restrict, w.Via)
	if cond == nil {
		return " WHERE " + k, nil
	}
	r, err := c.pred(cond, false)
	if err != nil {
		return "", err
	}
	return " WHERE " + k + " AND (" + r + ")", nil
}

func writeReturning(b *strings.Builder, set *metadata.EntitySet) {
	b.WriteString(" RETURNING ")
	for i, p := range set.Properties {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(QuoteIdent(p.Column))
	}
}

func writable(p *metadata.Property) error {
	if p.Generated || p.ReadOnly {
		return &adapters.Error{Kind: adapters.Constraint, Msg: "property " + p.Name + " is read-only"}
	}
	return nil
}

// unknownValues rejects values for properties that are not in the set (a
// caller bug that would otherwise be silently dropped).
func unknownValues(w *adapters.Write) error {
	for p := range w.Values {
		if p.Index < 0 || p.Index >= len(w.Set.Properties) || w.Set.Properties[p.Index] != p {
			return internalf("sqlgen: property %s is not a property of %s", p.Name, w.Set.Name)
		}
	}
	return nil
}
