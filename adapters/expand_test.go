package adapters_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/edm"
	"github.com/odatagw/odatagw/odata/semantic"
)

// shop: customers(id) ← orders(id, customer_id nullable, product_id) → products(id).
func shop(t *testing.T) *metadata.Model {
	t.Helper()
	col := func(name string, typ metadata.Type, nullable bool) metadata.Column {
		return metadata.Column{Name: name, DBType: "x", Type: typ, Nullable: nullable}
	}
	fk := func(name, c, ref string) metadata.ForeignKeySource {
		return metadata.ForeignKeySource{Name: name, Columns: []string{c}, RefTable: ref, RefColumns: []string{"id"}}
	}
	m, _, err := metadata.Build(metadata.Source{Tables: []metadata.Table{
		{Name: "customers", Kind: metadata.KindTable, PrimaryKey: []string{"id"}, Columns: []metadata.Column{col("id", metadata.Int64, false)}},
		{Name: "products", Kind: metadata.KindTable, PrimaryKey: []string{"id"}, Columns: []metadata.Column{col("id", metadata.Int64, false), col("name", metadata.String, false)}},
		{Name: "orders", Kind: metadata.KindTable, PrimaryKey: []string{"id"},
			Columns:     []metadata.Column{col("id", metadata.Int64, false), col("customer_id", metadata.Int64, true), col("product_id", metadata.Int64, false)},
			ForeignKeys: []metadata.ForeignKeySource{fk("o_c", "customer_id", "customers"), fk("o_p", "product_id", "products")}},
	}}, metadata.Overlay{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// fakeDB answers expansion reads from in-memory tables (rows in key order)
// and records every query.
type fakeDB struct {
	rows    map[string][][]int64 // by set: values in property order (0 = null for nullable columns)
	queries []*semantic.Query
}

func (f *fakeDB) Query(_ context.Context, q *semantic.Query, _ int64) (adapters.Rows, error) {
	f.queries = append(f.queries, q)
	w := q.Within
	cols := append([]*metadata.Property(nil), q.Set.Properties...)
	if w.Count {
		cols = append(cols, adapters.CountColumn)
	}
	var out [][]edm.Value
	for _, v := range w.Values {
		var match [][]edm.Value
		for _, r := range f.rows[q.Set.Name] {
			row := make([]edm.Value, len(cols))
			for i, p := range q.Set.Properties {
				row[i] = edm.Value{Int: r[i], Null: r[i] == 0 && p.Nullable}
			}
			ok := true
			for i, p := range w.Props {
				c := semantic.ConstOf(p, &row[indexOf(cols, p)])
				if c.Null || fmt.Sprint(c.V) != fmt.Sprint(v[i].V) {
					ok = false
				}
			}
			if ok {
				match = append(match, row)
			}
		}
		for i, row := range match {
			if w.Count {
				row[len(cols)-1] = edm.Value{Int: int64(len(match))}
			}
			n := int64(i + 1)
			if n > w.Skip && (w.Limit == 0 || n <= w.Skip+w.Limit) {
				out = append(out, row)
			}
		}
	}
	return &fakeRows{cols: cols, rows: out, i: -1}, nil
}

type fakeRows struct {
	cols []*metadata.Property
	rows [][]edm.Value
	i    int
}

func (r *fakeRows) Columns() []*metadata.Property { return r.cols }
func (r *fakeRows) Count() adapters.Count         { return adapters.NoCount }
func (r *fakeRows) Next() bool                    { r.i++; return r.i < len(r.rows) }
func (r *fakeRows) Row() []edm.Value              { return r.rows[r.i] }
func (r *fakeRows) Err() error                    { return nil }
func (r *fakeRows) Close() error                  { return nil }

func indexOf(cols []*metadata.Property, p *metadata.Property) int {
	for i, c := range cols {
		if c == p {
			return i
		}
	}
	return -1
}

func bindExpand(t *testing.T, m *metadata.Model, set, expand string) *semantic.Query {
	t.Helper()
	req, err := odata.ParseRequest("/"+set, "$expand="+expand)
	if err != nil {
		t.Fatal(err)
	}
	q, err := semantic.Bind(m, req, semantic.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func TestExpand(t *testing.T) {
	m := shop(t)
	db := &fakeDB{rows: map[string][][]int64{
		"orders":   {{1, 10, 100}, {2, 10, 101}, {3, 10, 100}, {4, 0, 101}, {5, 11, 100}},
		"products": {{100, 0}, {101, 0}},
	}}
	q := bindExpand(t, m, "customers", "orders($select=id;$count=true;$expand=product($select=name))")
	parents := []*adapters.Node{
		{Columns: m.Set("customers").Properties, Values: []edm.Value{{Int: 10}}},
		{Columns: m.Set("customers").Properties, Values: []edm.Value{{Int: 11}}},
		{Columns: m.Set("customers").Properties, Values: []edm.Value{{Int: 12}}},
	}
	if err := adapters.Expand(context.Background(), db, q.Expand, parents, adapters.ExpandOptions{PageCap: 2}); err != nil {
		t.Fatal(err)
	}
	// One query per level, whatever the number of parents.
	if len(db.queries) != 2 {
		t.Fatalf("%d queries, want 2 (orders, products)", len(db.queries))
	}
	oq := db.queries[0]
	if oq.Within.Limit != 3 || len(oq.Within.Values) != 3 || !oq.Within.Count {
		t.Errorf("orders read: limit %d (want the cap + 1), %d parent values, count %v", oq.Within.Limit, len(oq.Within.Values), oq.Within.Count)
	}
	// The nested $select leaves product_id out; the read has it.
	if indexOf(oq.Select, m.Set("orders").Property("product_id")) < 0 {
		t.Errorf("the orders read does not select the join column product_id: %v", oq.Select)
	}
	x := parents[0].Expanded[0]
	if len(x.Rows) != 2 || !x.More || x.Next != 2 || x.Count != 3 {
		t.Errorf("customer 10: %d rows, more %v next %d count %d; want 2 rows cut at the cap, next 2, count 3", len(x.Rows), x.More, x.Next, x.Count)
	}
	if got := x.Rows[1].Expanded[0].Rows[0].Values[0].Int; got != 101 {
		t.Errorf("order 2's product = %d", got)
	}
	if x := parents[2].Expanded[0]; len(x.Rows) != 0 || x.More || x.Count != 0 {
		t.Errorf("customer 12 without orders: %+v", x)
	}
	// Two products for three orders: one read, distinct values.
	if pq := db.queries[1]; len(pq.Within.Values) != 2 || pq.Within.Limit != 0 {
		t.Errorf("products read: %d values, limit %d", len(pq.Within.Values), pq.Within.Limit)
	}

	// A null foreign key reads nothing and expands to nothing.
	db.queries = nil
	q = bindExpand(t, m, "orders", "customer")
	orphan := []*adapters.Node{{Columns: m.Set("orders").Properties, Values: []edm.Value{{Int: 4}, {Null: true}, {Int: 101}}}}
	if err := adapters.Expand(context.Background(), db, q.Expand, orphan, adapters.ExpandOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(db.queries) != 0 || len(orphan[0].Expanded[0].Rows) != 0 {
		t.Errorf("null foreign key: %d queries, %d rows", len(db.queries), len(orphan[0].Expanded[0].Rows))
	}

	// The memory bound fails the expansion instead of growing.
	q = bindExpand(t, m, "customers", "orders")
	err := adapters.Expand(context.Background(), db, q.Expand, parents, adapters.ExpandOptions{MaxRows: 2})
	if adapters.KindOf(err) != adapters.Invalid {
		t.Errorf("past MaxRows: %v", err)
	}
}
