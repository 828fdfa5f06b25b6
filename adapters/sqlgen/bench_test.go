package sqlgen_test

import (
	"testing"
	"time"

	"github.com/odatagw/odatagw/adapters/postgres"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/adapters/sqlite"
	"github.com/odatagw/odatagw/metadata"
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
