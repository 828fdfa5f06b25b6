package odata

import (
	"errors"
	"strings"
	"testing"
)

func TestParseExpand(t *testing.T) {
	cases := []struct {
		in, want string // want: canonical print; "" = same as in
	}{
		{"Orders", ""},
		{" Customer , Orders ", "Customer,Orders"},
		{"*", ""},
		{"*/$ref", ""},
		{"*($levels=2)", ""},
		{"Orders/$ref", ""},
		{"Orders/$count", ""},
		{"Orders/$count($filter=Total gt 5;$search=a)", "Orders/$count($filter=Total gt 5;$search=a)"},
		{"Orders/$ref($filter=Total gt 5;$top=1)", ""},
		{"Orders($top=2;$skip=1;$count=true)", "Orders($count=true;$top=2;$skip=1)"},
		{"Orders(top=2;SKIP=1;$Count=TRUE)", "Orders($count=true;$top=2;$skip=1)"},
		{"Orders($select=OrderID,Total;$orderby=Total desc,OrderID)", "Orders($orderby=Total desc,OrderID;$select=OrderID,Total)"},
		{"Orders($filter=Status eq 'a;b)' and Total gt 1)", ""},
		{"Orders($filter=Status in ('x','y'))", ""},
		{"Orders($search=\"a;(b\")", ""},
		{"Orders($expand=order_lines($expand=line_notes($select=note)))", ""},
		{"Orders($expand=order_lines/$ref,Customer)", ""},
		{"Category($levels=4),Category($levels=max)", ""},
		{"Items($select=Quantity;$expand=Product($select=Name,Price);@c=15)", "Items($select=Quantity;$expand=Product($select=Name,Price))"},
		{"Address/Country", ""},
		{"Model.VipCustomer/Address/*", ""},
		{"$value,Thumbnail", ""},
		{"Orders($filter=Total gt @p)", ""},
	}
	for _, tc := range cases {
		items, err := ParseExpand(tc.in, map[string]string{"@p": "5"})
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		want := tc.want
		if want == "" {
			want = tc.in
		}
		got := FormatExpand(items)
		if got != want {
			t.Errorf("%q printed as %q, want %q", tc.in, got, want)
			continue
		}
		again, err := ParseExpand(got, map[string]string{"@p": "5"})
		if err != nil || FormatExpand(again) != got {
			t.Errorf("%q: reprint %q does not round-trip: %v", tc.in, got, err)
		}
	}
}

func TestParseExpandSpans(t *testing.T) {
	in := "Customer,Orders($filter=Total gt 5;$expand=order_lines($top=1))"
	items, err := ParseExpand(in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Fatalf("%d items", len(items))
	}
	if got := in[items[0].Span.Start:items[0].Span.End]; got != "Customer" {
		t.Errorf("span of item 0 = %q", got)
	}
	if got := in[items[1].Span.Start:items[1].Span.End]; got != "Orders($filter=Total gt 5;$expand=order_lines($top=1))" {
		t.Errorf("span of item 1 = %q", got)
	}
	o := items[1].Options
	at := o.At["$filter"]
	if sp := o.Filter.Pos(); in[at+sp.Start:at+sp.End] != "Total gt 5" {
		t.Errorf("filter span %v at %d = %q", sp, at, in[at+sp.Start:at+sp.End])
	}
	nested := o.Expand[0]
	eat := o.At["$expand"]
	if got := in[eat+nested.Span.Start : eat+nested.Span.End]; got != "order_lines($top=1)" {
		t.Errorf("nested span = %q", got)
	}
}

func TestParseExpandErrors(t *testing.T) {
	cases := []struct {
		in    string
		at    int
		text  string
		unsup bool
	}{
		{"", 0, "expected a navigation property", false},
		{"Orders,", 7, "expected a navigation property", false},
		{"Orders(", 6, "missing ')'", false},
		{"Orders($top=x)", 12, "$top: expected a non-negative integer", false},
		{"Orders($filter=Total gt)", 23, "$filter:", false},
		{"Orders($foo=1)", 7, "unknown option", false},
		{"Orders($top=1;$top=2)", 14, "duplicate option $top", false},
		{"Orders/$ref($select=Name)", 12, "not allowed", false},
		{"Orders/$ref($levels=4)", 12, "not allowed", false},
		{"Orders/$count($count=true)", 14, "not allowed", false},
		{"Orders/$ref($expand=x)", 12, "not allowed", false},
		{"*($top=1)", 2, "not allowed", false},
		{"Orders x", 7, "expected ','", false},
		{"Orders($levels=04)", 15, "$levels", false},
		{"Orders($filter=Name eq 'x)", 23, "unterminated", false},
		{"Orders($expand=Items($expand=Product/))", 37, "expected $ref", false},
		{"Orders)", 6, "expected ','", false},
		{"@Core.Messages", 0, "annotations", true},
		{"Orders($apply=groupby((a)))", 0, "$apply", true},
		{"Orders($expand=" + strings.Repeat("a($expand=", 40) + "b" + strings.Repeat(")", 41), 0, "nested too deeply", false},
	}
	for _, tc := range cases {
		_, err := ParseExpand(tc.in, nil)
		if err == nil {
			t.Errorf("%q: parsed", tc.in)
			continue
		}
		var se *SyntaxError
		var ue *UnsupportedError
		switch {
		case tc.unsup:
			if !errors.As(err, &ue) || !strings.Contains(ue.Error(), tc.text) {
				t.Errorf("%q: %v, want unsupported %q", tc.in, err, tc.text)
			}
		case !errors.As(err, &se):
			t.Errorf("%q: %T %v", tc.in, err, err)
		case se.Option != "$expand" || !strings.Contains(se.Msg, tc.text) || (tc.at != 0 && se.Offset != tc.at):
			t.Errorf("%q: %s at %d, want %q at %d", tc.in, se.Msg, se.Offset, tc.text, tc.at)
		}
	}
}

func TestParseRequestExpand(t *testing.T) {
	req, err := ParseRequest("/Customers", "expand=Orders($top=1)&$select=Name")
	if err != nil {
		t.Fatal(err)
	}
	if got := FormatExpand(req.Options.Expand); got != "Orders($top=1)" {
		t.Errorf("expand = %q", got)
	}
	if len(req.Options.Unsupported) != 0 {
		t.Errorf("unsupported = %v", req.Options.Unsupported)
	}
	if enc := req.Options.Encode(); enc != "$select=Name&$expand=Orders($top%3D1)" {
		t.Errorf("Encode = %q", enc)
	}
}
