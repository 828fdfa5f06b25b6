package sqlgen_test

import (
	"testing"
	"time"

	"github.com/odatagw/odatagw/adapters/postgres"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/adapters/sqlite"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// BenchmarkRenderSelect renders the queries Salesforce Connect typically
// sends: a filtered, ordered page with a keyset token, a key lookup, and an
// external-lookup style "in" list of 100 keys.
func BenchmarkRenderSelect(b *testing.B) {
	f := newFixture()
	p := f.props
	page := &semantic.Query{Set: f.set, Select: f.set.Properties,
		Filter: &semantic.Logical{
			L: cmp(semantic.Eq, pr(p["Name"]), k(metadata.String, "Open")),
			R: &semantic.Logical{Or: true,
				L: cmp(semantic.Gt, pr(p["Dec"]), k(metadata.Decimal, "100.00")),
				R: call(semantic.FnContains, metadata.Boolean, pr(p["Str"]), k(metadata.String, "acme"))}},
		OrderBy: []semantic.Order{{Expr: pr(p["TS"]), Desc: true}},
		After: &semantic.Keyset{Values: []semantic.Const{
			c(metadata.DateTimeOffset, time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)), c(metadata.Int64, int64(4711))}},
	}
	lookup := &semantic.Query{Set: f.set, Select: f.set.Properties, Key: []semantic.Const{c(metadata.Int64, int64(42))}}
	in := &semantic.In{X: pr(p["ID"])}
	for i := range 100 {
		in.Values = append(in.Values, c(metadata.Int64, int64(i*7)))
	}
	list := &semantic.Query{Set: f.set, Select: f.set.Properties, Filter: in}
	cases := []struct {
		name string
		q    *semantic.Query
	}{{"page", page}, {"lookup", lookup}, {"in100", list}}
	for _, d := range []sqlgen.Dialect{postgres.Dialect(time.UTC), sqlite.Dialect()} {
		for _, tc := range cases {
			b.Run(d.Name()+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := sqlgen.Select(d, tc.q, 501); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPipeline measures the whole request path before the database:
// parse the URL, bind it to the model, render PostgreSQL SQL, for the
// filters Salesforce Connect typically sends (list view, detail lookup by
// External ID, related list, range + boolean, free-text-off search).
func BenchmarkPipeline(b *testing.B) {
	f := newFixture()
	m := metadata.NewModel("ns", time.UTC, f.set)
	d := postgres.Dialect(time.UTC)
	queries := map[string]string{
		"listview":   "$select=ID,Name,Str,Dec&$count=true&$top=26",
		"detail":     "$filter=Name%20eq%20'O''Brien'&$select=ID,Name,Str,Dec,TS&$count=true&$top=1",
		"related":    "$filter=Name%20eq%20'ALFKI'&$orderby=TS%20desc&$select=ID,Dec,TS&$count=true&$top=6",
		"range":      "$filter=Dec%20gt%201000%20and%20Flag%20eq%20true%20and%20TS%20ge%202024-01-01T00:00:00Z&$select=ID,Dec&$top=201",
		"search-or":  "$filter=contains(Name,'Alfreds')%20or%20contains(Str,'Alfreds')&$select=ID,Name&$count=true&$top=26",
		"in-list-40": "$filter=Name%20in%20('a1','a2','a3','a4','a5','a6','a7','a8','a9','a10','b1','b2','b3','b4','b5','b6','b7','b8','b9','b10','c1','c2','c3','c4','c5','c6','c7','c8','c9','c10','d1','d2','d3','d4','d5','d6','d7','d8','d9','d10')&$select=ID",
	}
	for name, raw := range queries {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req, err := odata.ParseRequest("/"+f.set.Name, raw)
				if err != nil {
					b.Fatal(err)
				}
				q, err := semantic.Bind(m, req, semantic.Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := sqlgen.Select(d, q, 27); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
