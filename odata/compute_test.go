package odata

import (
	"errors"
	"testing"
)

func TestParseCompute(t *testing.T) {
	cases := []struct{ in, want string }{
		{"Total mul 2 as Double", "Total mul 2 as Double"},
		{"Total  mul 2 as  T , concat(Name,'x')  as  N", "Total mul 2 as T,concat(Name,'x') as N"},
		{"year(OrderDate) as Y,Customer/Name as CN", "year(OrderDate) as Y,Customer/Name as CN"},
		{"Name eq @p as IsP", "Name eq @p as IsP"},
		{"(Total add 1) mul 2 as as", "(Total add 1) mul 2 as as"}, // "as" is a valid alias
		{"cast(Total,Edm.Int64) as I", "cast(Total,Edm.Int64) as I"},
	}
	for _, c := range cases {
		items, err := ParseCompute(c.in, map[string]string{"@p": "'x'"})
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := FormatCompute(items); got != c.want {
			t.Errorf("%q: printed %q, want %q", c.in, got, c.want)
		}
		again, err := ParseCompute(FormatCompute(items), map[string]string{"@p": "'x'"})
		if err != nil || FormatCompute(again) != c.want {
			t.Errorf("%q: reparse: %v %v", c.in, again, err)
		}
	}
}

func TestParseComputeSpans(t *testing.T) {
	items, err := ParseCompute("Total mul 2 as T, year(D) as Y", nil)
	if err != nil {
		t.Fatal(err)
	}
	if items[0].Span != (Span{0, 16}) || items[0].AliasSpan != (Span{15, 16}) || items[0].Expr.Pos() != (Span{0, 11}) {
		t.Errorf("item 0: %+v", items[0])
	}
	if items[1].Span != (Span{18, 30}) || items[1].AliasSpan != (Span{29, 30}) || items[1].Alias != "Y" {
		t.Errorf("item 1: %+v", items[1])
	}
}

func TestParseComputeErrors(t *testing.T) {
	cases := []struct {
		in  string
		off int
	}{
		{"", 0},
		{"Total", 5},
		{"Total as", 8},
		{"Total as T.U", 9},
		{"Total as 1", 9},
		{"Total as T,", 11},
		{"Total as T x", 11},
		{"Total AS T", 6},
		{"Total mul as T", 13},
		{"Total as T;Price as P", 10},
	}
	for _, c := range cases {
		_, err := ParseCompute(c.in, nil)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: want *SyntaxError, got %v", c.in, err)
			continue
		}
		if se.Option != "$compute" || se.Offset != c.off {
			t.Errorf("%q: %v, want offset %d", c.in, se, c.off)
		}
	}
}

func TestParseRequestCompute(t *testing.T) {
	req, err := ParseRequest("/Orders", "$compute=Total%20mul%202%20as%20T&$select=OrderID,T&$top=2")
	if err != nil {
		t.Fatal(err)
	}
	o := req.Options
	if len(o.Compute) != 1 || o.Compute[0].Alias != "T" || len(o.Unsupported) != 0 {
		t.Fatalf("compute %v, unsupported %v", o.Compute, o.Unsupported)
	}
	// nextLinks keep $compute.
	if got := o.Encode(); got != "$select=OrderID,T&$top=2&$compute=Total%20mul%202%20as%20T" {
		t.Errorf("Encode = %s", got)
	}
	// 4.01: without '$'
	if req, err = ParseRequest("/Orders", "compute=1%20as%20One"); err != nil || len(req.Options.Compute) != 1 {
		t.Errorf("compute without $: %v %v", req, err)
	}
}
