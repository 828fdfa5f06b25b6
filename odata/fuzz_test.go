package odata

import (
	"strings"
	"testing"
)

// abnfSeeds returns the decoded inputs of the OASIS cases for rules.
func abnfSeeds(f *testing.F, rules func(string) bool) []string {
	f.Helper()
	cases := loadABNFCases(f)
	var seeds []string
	for _, c := range cases {
		if !rules(c.Rule) {
			continue
		}
		if s, _, valid := unescape(c.Input, false); valid {
			seeds = append(seeds, s)
		}
	}
	return seeds
}

// checkSpans requires every node span to lie within the input.
func checkSpans(t *testing.T, in string, e Expr) {
	t.Helper()
	walk(e, func(x Expr) {
		sp := x.Pos()
		if sp.Start < 0 || sp.Start > sp.End || sp.End > len(in) {
			t.Fatalf("%q: span %v of %s outside the input", in, sp, x)
		}
	})
}

func FuzzParseFilter(f *testing.F) {
	for _, c := range filterCases {
		f.Add(c.in)
	}
	for _, c := range unsupportedCases {
		f.Add(c.in)
	}
	for _, s := range abnfSeeds(f, func(r string) bool { return abnfExprRules[r] || abnfLiteralRules[r] != nil }) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		x, err := ParseFilter(in)
		if err != nil {
			return
		}
		checkSpans(t, in, x)
		printed := x.String()
		y, err := ParseFilter(printed)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", in, printed, err)
		}
		if again := y.String(); again != printed {
			t.Fatalf("%q printed as %q, reparsed and printed as %q", in, printed, again)
		}
	})
}

func FuzzParseSearch(f *testing.F) {
	for _, c := range searchCases {
		f.Add(c.in)
	}
	for _, s := range abnfSeeds(f, func(r string) bool { return r == "searchExpr" }) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		x, err := ParseSearch(in)
		if err != nil {
			return
		}
		printed := x.String()
		y, err := ParseSearch(printed)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", in, printed, err)
		}
		if again := y.String(); again != printed {
			t.Fatalf("%q printed as %q, reparsed and printed as %q", in, printed, again)
		}
	})
}

func FuzzParseRequest(f *testing.F) {
	f.Add("/Customers('O%27%27Brien')", "$filter=Name+eq+@p&@p='x'&$top=5&$orderby=Name desc")
	f.Add("/order_lines(order_id=1,line_no=2)", "$select=a,b/c&$search=a OR b&$count=false")
	f.Add("/Customers/$count", "$expand=Orders&x=1&@a=@b&@b=@a&$filter=@a")
	f.Add("/Orders", "$apply=filter(a eq @p)/groupby((C/d,e),aggregate(x with sum as S,$count as N))/filter(S gt 1)&@p=1")
	f.Add("/Orders", "$compute=Total mul 2 as T,concat(Name,@p) as N&$select=OrderID,T&$orderby=T desc&$filter=N ne 'x'&@p='y'")
	f.Add("/Orders", "compute=year(OrderDate) as Y,Customer/Name as C")
	f.Fuzz(func(t *testing.T, path, query string) {
		req, err := ParseRequest(path, query)
		if err != nil {
			return
		}
		o := req.Options
		if o.Filter != nil {
			_ = o.Filter.String()
		}
		if o.OrderBy != nil {
			printed := FormatOrderBy(o.OrderBy)
			if _, err := parseOrderBy(printed, nil); err != nil && !strings.Contains(err.Error(), "@") {
				t.Fatalf("orderby %q printed as %q: %v", o.Raw["$orderby"], printed, err)
			}
		}
		if o.Expand != nil {
			printed := FormatExpand(o.Expand)
			if _, err := ParseExpand(printed, nil); err != nil && !strings.Contains(printed, "@") {
				t.Fatalf("expand %q printed as %q: %v", o.Raw["$expand"], printed, err)
			}
		}
		if o.Apply != nil {
			// The canonical form parses back to itself.
			printed := o.Apply.String()
			a, err := ParseApply(printed, nil)
			if err != nil && !strings.Contains(err.Error(), "@") || err == nil && a.String() != printed {
				t.Fatalf("apply %q printed as %q: %v", o.Raw["$apply"], printed, err)
			}
		}
		if o.Compute != nil {
			// The canonical form parses back to itself.
			printed := FormatCompute(o.Compute)
			items, err := ParseCompute(printed, nil)
			if err != nil && !strings.Contains(err.Error(), "@") || err == nil && FormatCompute(items) != printed {
				t.Fatalf("compute %q printed as %q: %v", o.Raw["$compute"], printed, err)
			}
		}
		if o.HasSelect {
			printed := FormatSelect(o.Select)
			items, err := ParseSelect(printed)
			if err != nil || FormatSelect(items) != printed {
				t.Fatalf("select %q printed as %q: %v", o.Raw["$select"], printed, err)
			}
		}
	})
}

func FuzzParseExpand(f *testing.F) {
	f.Add("Orders($filter=Total gt 5;$expand=order_lines($top=1;$select=sku)),Customer/$ref")
	f.Add("*($levels=max),Orders/$count($search=\"a b\")")
	f.Add("Orders($orderby=Total desc;$skip=1;$count=true;$search=x OR y)")
	for _, s := range abnfSeeds(f, func(r string) bool { return r == "expand" }) {
		f.Add(strings.TrimPrefix(strings.TrimPrefix(s, "$"), "expand="))
	}
	f.Fuzz(func(t *testing.T, in string) {
		items, err := ParseExpand(in, nil)
		if err != nil {
			return
		}
		for _, it := range items {
			if it.Span.Start < 0 || it.Span.Start > it.Span.End || it.Span.End > len(in) {
				t.Fatalf("%q: item span %v outside the input", in, it.Span)
			}
		}
		printed := FormatExpand(items)
		again, err := ParseExpand(printed, nil)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", in, printed, err)
		}
		if p2 := FormatExpand(again); p2 != printed {
			t.Fatalf("%q printed as %q, reparsed and printed as %q", in, printed, p2)
		}
	})
}
