package sqlgen_test

import (
	"testing"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/postgres"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/adapters/sqlite"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

func TestQuoteIdent(t *testing.T) {
	tests := []struct{ in, want string }{
		{"id", `"id"`},
		{`we"ird`, `"we""ird"`},
		{`"`, `""""`},
		{`a"; DROP TABLE x; --`, `"a""; DROP TABLE x; --"`},
		{"", `""`},
	}
	for _, tc := range tests {
		if got := sqlgen.QuoteIdent(tc.in); got != tc.want {
			t.Errorf("QuoteIdent(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
	if got := sqlgen.QuoteLiteral("it's"); got != "'it''s'" {
		t.Errorf("QuoteLiteral = %s", got)
	}
}

func TestEscapeLike(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "abc"}, {"%", `\%`}, {"_", `\_`}, {`\`, `\\`}, {`a%b_c\d`, `a\%b\_c\\d`}, {"日本%", `日本\%`},
	}
	for _, tc := range tests {
		if got := sqlgen.EscapeLike(tc.in); got != tc.want {
			t.Errorf("EscapeLike(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestTotalOrderMatchesSemantic keeps sqlgen's total order identical to the
// binder's (keyset tokens carry one value per item of it).
func TestTotalOrderMatchesSemantic(t *testing.T) {
	o := newOrders()
	orders := [][]semantic.Order{
		nil,
		{{Expr: pr(o.amount), Desc: true}},
		{{Expr: pr(o.lineNo)}},
		{{Expr: pr(o.lineNo), Desc: true}, {Expr: pr(o.orderNo)}},
		{{Expr: call(semantic.FnLength, metadata.Int32, pr(o.note))}, {Expr: pr(o.orderNo), Desc: true}},
	}
	for i, ob := range orders {
		q := &semantic.Query{Set: o.set, OrderBy: ob}
		want, _ := semantic.TotalOrder(q)
		got := sqlgen.TotalOrder(q)
		if len(got) != len(want) {
			t.Fatalf("#%d: %d items, semantic has %d", i, len(got), len(want))
		}
		for j := range got {
			gp, gok := got[j].Expr.(*semantic.Prop)
			wp, wok := want[j].Expr.(*semantic.Prop)
			if got[j].Desc != want[j].Desc || gok != wok || gok && gp.P != wp.P || !gok && got[j].Expr != want[j].Expr {
				t.Errorf("#%d item %d differs", i, j)
			}
		}
	}
}

func TestMalformedInput(t *testing.T) {
	o := newOrders()
	for _, d := range []sqlgen.Dialect{postgres.Dialect(nil), sqlite.Dialect()} {
		tests := []struct {
			name string
			run  func() error
			kind adapters.ErrorKind
		}{
			{"keyset length", func() error {
				_, _, err := sqlgen.Select(d, &semantic.Query{Set: o.set, Select: o.set.Properties,
					After: &semantic.Keyset{Values: []semantic.Const{c(metadata.Int32, int64(1))}}}, 0)
				return err
			}, adapters.Internal},
			{"key length", func() error {
				_, err := sqlgen.Delete(d, &adapters.Write{Set: o.set, Key: []semantic.Const{c(metadata.String, "a")}})
				return err
			}, adapters.Internal},
			{"null key", func() error {
				_, _, err := sqlgen.Select(d, &semantic.Query{Set: o.set, Select: o.set.Properties,
					Key: []semantic.Const{c(metadata.String, nil), c(metadata.Int32, int64(1))}}, 0)
				return err
			}, adapters.Internal},
			{"foreign property", func() error {
				_, _, err := sqlgen.Insert(d, &adapters.Write{Set: o.set, Values: map[*metadata.Property]semantic.Const{
					prop("X", "x", metadata.Int32, true): c(metadata.Int32, int64(1))}})
				return err
			}, adapters.Internal},
			{"generated property", func() error {
				_, _, err := sqlgen.Insert(d, &adapters.Write{Set: o.set, Values: map[*metadata.Property]semantic.Const{
					o.total: c(metadata.Decimal, "1")}})
				return err
			}, adapters.Constraint},
			{"non-boolean condition", func() error {
				_, _, err := sqlgen.Select(d, &semantic.Query{Set: o.set, Select: o.set.Properties, Filter: pr(o.qty)}, 0)
				return err
			}, adapters.Internal},
		}
		for _, tc := range tests {
			err := tc.run()
			if err == nil || adapters.KindOf(err) != tc.kind {
				t.Errorf("%s %s: got %v (kind %d), want kind %d", d.Name(), tc.name, err, adapters.KindOf(err), tc.kind)
			}
		}
	}
}

// TestCountIgnoresPaging: the count never carries the keyset, key, $skip or
// $top (the FROST-Server shrinking-count bug).
func TestCountIgnoresPaging(t *testing.T) {
	o := newOrders()
	q := &semantic.Query{Set: o.set, Select: o.set.Properties, Skip: 10,
		OrderBy: []semantic.Order{{Expr: pr(o.qty)}},
		After:   &semantic.Keyset{Values: []semantic.Const{c(metadata.Int32, int64(1)), c(metadata.String, "A"), c(metadata.Int32, int64(1))}}}
	for _, d := range []sqlgen.Dialect{postgres.Dialect(nil), sqlite.Dialect()} {
		st, err := sqlgen.Count(d, q)
		if err != nil {
			t.Fatal(err)
		}
		want := `SELECT COUNT(*) FROM "erp"."orders"`
		if st.SQL != want || len(st.Args) != 0 {
			t.Errorf("%s: %s %v", d.Name(), st.SQL, st.Args)
		}
	}
}
