package semantic

import (
	"fmt"
	"testing"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

func i64(n int64) *int64 { return &n }

// TestPageSize: the page holds the smallest of the configured maximum, the
// client's preference and the rows still owed to $top, and fetches one
// probe row more unless $top ends the result on this page.
func TestPageSize(t *testing.T) {
	cases := []struct {
		name            string
		top             *int64
		returned        int64 // rows sent on earlier pages
		max, preferred  int
		size, fetch     int64
		preferenceShown bool
	}{
		{"configured maximum", nil, 0, 2000, 0, 2000, 2001, false},
		{"smaller preference", nil, 0, 2000, 100, 100, 101, true},
		{"larger preference is capped but acknowledged", nil, 0, 2000, 5000, 2000, 2001, true},
		{"top below the page", i64(26), 0, 2000, 0, 26, 26, false},
		{"top equal to the page", i64(2000), 0, 2000, 0, 2000, 2000, false},
		{"top above the page", i64(2500), 0, 2000, 0, 2000, 2001, false},
		{"rest of top on a later page", i64(2500), 2000, 2000, 0, 500, 500, false},
		{"top reached", i64(10), 10, 2000, 0, 0, 0, false},
		{"top zero", i64(0), 0, 2000, 0, 0, 0, false},
		{"top and preference", i64(250), 100, 2000, 100, 100, 101, true},
	}
	set := testModel().Set("Orders")
	for _, tc := range cases {
		q := &Query{Set: set, Top: tc.top}
		if tc.returned > 0 {
			q.After = &Keyset{Offset: 0, Returned: tc.returned}
		}
		p := NewPage(q, tc.max, tc.preferred)
		if p.Size != tc.size || p.Fetch != tc.fetch || p.PreferenceApplied != tc.preferenceShown {
			t.Errorf("%s: size %d fetch %d preference %v, want %d %d %v", tc.name,
				p.Size, p.Fetch, p.PreferenceApplied, tc.size, tc.fetch, tc.preferenceShown)
		}
	}
}

// TestPageNext: the next position is the total order's values of the last
// written row (keyset), or an offset when the order has an expression; no
// next page when the result ends or $top is reached.
func TestPageNext(t *testing.T) {
	m := testModel()
	orders, lines := m.Set("Orders"), m.Set("Lines")
	ordID, total := orders.Property("OrderID"), orders.Property("Total")
	oid, line, note := lines.Property("OrderID"), lines.Property("LineNo"), lines.Property("Note")

	type want struct {
		next     bool
		values   string // FormatConst of each value, or "offset N"
		returned int64
	}
	cases := []struct {
		name string
		q    *Query
		cols []*metadata.Property
		rows [][]edm.Value // written rows, in order
		more bool
		want want
	}{
		{name: "keyset on the key",
			q:    &Query{Set: orders},
			cols: []*metadata.Property{ordID, total},
			rows: [][]edm.Value{{{Int: 1}, {Text: []byte("9.50")}}, {{Int: 2}, {Text: []byte("1.00")}}},
			more: true, want: want{true, "[2:Int64]", 2}},
		{name: "keyset on a user order then the key, null included",
			q:    &Query{Set: orders, OrderBy: []Order{{Expr: &Prop{P: total}, Desc: true}}},
			cols: []*metadata.Property{ordID, total},
			rows: [][]edm.Value{{{Int: 7}, {Null: true}}},
			more: true, want: want{true, "[null:Decimal 7:Int64]", 1}},
		{name: "composite key, columns in another order",
			q:    &Query{Set: lines},
			cols: []*metadata.Property{note, line, oid},
			rows: [][]edm.Value{{{Text: []byte("a")}, {Int: 3}, {Int: 10248}}},
			more: true, want: want{true, "[10248:Int32 3:Int16]", 1}},
		{name: "later page counts earlier rows",
			q:    &Query{Set: orders, After: &Keyset{Values: []Const{{T: metadata.Int64, V: int64(2)}}, Returned: 2}},
			cols: []*metadata.Property{ordID},
			rows: [][]edm.Value{{{Int: 3}}},
			more: true, want: want{true, "[3:Int64]", 3}},
		{name: "an expression in the order: offset from $skip",
			q:    &Query{Set: lines, Skip: 5, OrderBy: []Order{{Expr: &Call{Fn: FnToLower, Args: []Expr{&Prop{P: note}}, T: metadata.String}}}},
			cols: []*metadata.Property{oid, line, note},
			rows: [][]edm.Value{{{Int: 1}, {Int: 1}, {}}, {{Int: 1}, {Int: 2}, {}}},
			more: true, want: want{true, "offset 7", 2}},
		{name: "offset from the token on a later page",
			q: &Query{Set: lines, Skip: 5, OrderBy: []Order{{Expr: &Call{Fn: FnToLower, Args: []Expr{&Prop{P: note}}, T: metadata.String}}},
				After: &Keyset{Offset: 7, Returned: 2}},
			cols: []*metadata.Property{oid, line, note},
			rows: [][]edm.Value{{{Int: 1}, {Int: 3}, {}}},
			more: true, want: want{true, "offset 8", 3}},
		{name: "the result ends here",
			q:    &Query{Set: orders},
			cols: []*metadata.Property{ordID},
			rows: [][]edm.Value{{{Int: 1}}},
			more: false, want: want{}},
		{name: "$top reached on this page",
			q:    &Query{Set: orders, Top: i64(1)},
			cols: []*metadata.Property{ordID},
			rows: [][]edm.Value{{{Int: 1}}},
			more: true, want: want{}},
	}
	for _, tc := range cases {
		p := NewPage(tc.q, 2000, 0)
		p.Columns(tc.cols)
		for _, r := range tc.rows {
			buf := append([]edm.Value(nil), r...)
			p.Keep(buf)
			for i := range buf { // the adapter reuses its buffers
				buf[i].Text = append(buf[i].Text[:0], "overwritten"...)
			}
		}
		ks := p.Next(int64(len(tc.rows)), tc.more)
		if (ks != nil) != tc.want.next {
			t.Errorf("%s: next %v, want %v", tc.name, ks, tc.want.next)
			continue
		}
		if ks == nil {
			continue
		}
		got := fmt.Sprintf("offset %d", ks.Offset)
		if ks.Values != nil {
			got = "["
			for i, v := range ks.Values {
				if i > 0 {
					got += " "
				}
				got += FormatConst(v)
			}
			got += "]"
		}
		if got != tc.want.values || ks.Returned != tc.want.returned {
			t.Errorf("%s: next %s returned %d, want %s returned %d", tc.name, got, ks.Returned, tc.want.values, tc.want.returned)
		}
	}
}

// A kept row owns its bytes: the next page starts after the row written,
// not after whatever the adapter's reused buffer holds later.
func TestPageKeepCopiesText(t *testing.T) {
	customers := testModel().Set("Customers")
	cid := customers.Property("CustomerID")
	p := NewPage(&Query{Set: customers}, 10, 0)
	p.Columns([]*metadata.Property{cid})
	buf := []edm.Value{{Text: []byte("ALFKI")}}
	p.Keep(buf)
	copy(buf[0].Text, "XXXXX")
	ks := p.Next(1, true)
	if got := ks.Values[0].V; got != "ALFKI" {
		t.Fatalf("kept %v", got)
	}
}

func TestConstOf(t *testing.T) {
	m := testModel()
	things := m.Set("Things")
	for _, tc := range []struct {
		prop string
		v    edm.Value
		want string
	}{
		{"Flag", edm.Value{Bool: true}, "true:Boolean"},
		{"I32", edm.Value{Int: -5}, "-5:Int32"},
		{"Price", edm.Value{Text: []byte("12.50")}, "12.50:Decimal"},
		{"Name", edm.Value{Text: []byte("O'Brien")}, "'O''Brien':String"},
		{"Name", edm.Value{Null: true}, "null:String"},
		{"Blob", edm.Value{Text: []byte{0xfb, 0xff}}, "-_8:Binary"},
	} {
		if got := FormatConst(ConstOf(things.Property(tc.prop), &tc.v)); got != tc.want {
			t.Errorf("ConstOf(%s) = %s, want %s", tc.prop, got, tc.want)
		}
	}
}

// TestPageCount: the first page of a walk counts; later pages report the
// count carried in the token and do not count again.
func TestPageCount(t *testing.T) {
	orders := testModel().Set("Orders")
	ordID := orders.Property("OrderID")
	cases := []struct {
		name      string
		count     bool
		after     *Keyset
		counted   int64 // given to SetCount when the page needs a count (-1: none)
		needCount bool
		report    int64 // -1: no @odata.count
	}{
		{"no $count", false, nil, -1, false, -1},
		{"first page", true, nil, 42, true, 42},
		{"first page, count failed", true, nil, -1, true, -1},
		{"later page carries it", true, &Keyset{Offset: 0, Returned: 2, Count: 42, Counted: true}, -1, false, 42},
		{"later page of a walk without count", true, &Keyset{Returned: 2}, 43, true, 43},
		{"$count dropped mid-walk", false, &Keyset{Returned: 2, Count: 42, Counted: true}, -1, false, -1},
	}
	for _, tc := range cases {
		q := &Query{Set: orders, Count: tc.count, After: tc.after}
		p := NewPage(q, 2, 0)
		if p.NeedCount != tc.needCount {
			t.Errorf("%s: NeedCount %v", tc.name, p.NeedCount)
		}
		if p.NeedCount && tc.counted >= 0 {
			p.SetCount(tc.counted)
		}
		n, ok := p.Count()
		if got := map[bool]int64{true: n, false: -1}[ok]; got != tc.report {
			t.Errorf("%s: reports %d, want %d", tc.name, got, tc.report)
		}
		p.Columns([]*metadata.Property{ordID})
		p.Keep([]edm.Value{{Int: 9}})
		next := p.Next(2, true)
		if want := tc.report >= 0 || tc.after != nil && tc.after.Counted; next.Counted != want {
			t.Errorf("%s: next token carries a count: %v, want %v", tc.name, next.Counted, want)
		}
	}
}

// The applied odata.maxpagesize is the one asked for (capped at the
// configured maximum), not the size $top made of this page.
func TestPagePreferredSize(t *testing.T) {
	set := testModel().Set("Orders")
	for _, tc := range []struct {
		top                   *int64
		max, preferred        int
		wantSize, wantApplied int64
	}{
		{i64(26), 2000, 100, 26, 100},
		{nil, 2000, 5000, 2000, 2000},
		{nil, 2000, 50, 50, 50},
	} {
		p := NewPage(&Query{Set: set, Top: tc.top}, tc.max, tc.preferred)
		if p.Size != tc.wantSize || p.Preferred != tc.wantApplied || !p.PreferenceApplied {
			t.Errorf("top %v, max %d, preferred %d: size %d applied %d", tc.top, tc.max, tc.preferred, p.Size, p.Preferred)
		}
	}
}
