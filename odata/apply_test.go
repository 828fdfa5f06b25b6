package odata

import (
	"errors"
	"testing"
)

func TestParseApply(t *testing.T) {
	cases := []struct{ in, want string }{
		{"filter(Total gt 100)", "filter(Total gt 100)"},
		{"groupby((CustomerID))", "groupby((CustomerID))"},
		{"groupby( ( CustomerID , Status ) )", "groupby((CustomerID,Status))"},
		{"groupby((Customer/Country),aggregate(Total with sum as TotalSum))",
			"groupby((Customer/Country),aggregate(Total with sum as TotalSum))"},
		{"aggregate(Total with sum as TotalSum, Total with average as Avg, CustomerID with countdistinct as N, $count as Count)",
			"aggregate(Total with sum as TotalSum,Total with average as Avg,CustomerID with countdistinct as N,$count as Count)"},
		{"aggregate(Total mul 2 with max as M)", "aggregate(Total mul 2 with max as M)"},
		{"filter(Status eq 'open')/groupby((CustomerID),aggregate(Total with MIN as Low))/filter(Low gt 5)",
			"filter(Status eq 'open')/groupby((CustomerID),aggregate(Total with min as Low))/filter(Low gt 5)"},
		{"groupby((A),aggregate($count as N)/filter(N gt 1))", "groupby((A),aggregate($count as N)/filter(N gt 1))"},
		{"filter(Name eq @p)", "filter(Name eq @p)"},
	}
	for _, c := range cases {
		a, err := ParseApply(c.in, map[string]string{"@p": "'x'"})
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := a.String(); got != c.want {
			t.Errorf("%q: printed %q, want %q", c.in, got, c.want)
		}
		// The canonical form parses back to the same print.
		b, err := ParseApply(a.String(), map[string]string{"@p": "'x'"})
		if err != nil || b.String() != c.want {
			t.Errorf("%q: reparse of %q: %v %v", c.in, a.String(), b, err)
		}
	}
}

func TestParseApplySpans(t *testing.T) {
	a, err := ParseApply("filter(X eq 1)/groupby((A,B/C),aggregate(T with sum as S))", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Steps[0].Pos(); got != (Span{0, 14}) {
		t.Errorf("filter span %v", got)
	}
	g := a.Steps[1].(*GroupBy)
	if g.Pos() != (Span{15, 58}) || g.Props[1].Span != (Span{26, 29}) {
		t.Errorf("groupby span %v, prop span %v", g.Pos(), g.Props[1].Span)
	}
	it := g.Then[0].(*Aggregate).Items[0]
	if it.Span != (Span{41, 56}) || it.Alias != "S" || it.Method != "sum" {
		t.Errorf("item %+v", it)
	}
}

func TestParseApplyErrors(t *testing.T) {
	syntax := []struct {
		in  string
		off int
	}{
		{"", 0},
		{"filter", 0},
		{"filter(X eq 1", 13},
		{"filter(X eq 1)/", 15},
		{"frobnicate(X)", 0},
		{"groupby(A)", 8},
		{"groupby((A)", 11},
		{"groupby(())", 9},
		{"aggregate(X as Y)", 12},
		{"aggregate(X with sum)", 20},
		{"aggregate(X with total as Y)", 17},
		{"aggregate(X with sum as Y.Z)", 24},
		{"aggregate($count)", 16},
		{"filter(X eq 1) x", 15},
	}
	for _, c := range syntax {
		_, err := ParseApply(c.in, nil)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: want *SyntaxError, got %v", c.in, err)
			continue
		}
		if se.Option != "$apply" || se.Offset != c.off {
			t.Errorf("%q: %v, want offset %d", c.in, se, c.off)
		}
	}
	unsupported := map[string]string{
		"compute(X add 1 as Y)":                    "transformation compute",
		"topcount(2,Total)":                        "transformation topcount",
		"concat(identity,aggregate($count as N))":  "transformation concat",
		"expand(Customer,filter(Country eq 'DE'))": "transformation expand",
		"search(x)":                                      "transformation search",
		"filter(X eq 1)/identity()":                      "transformation identity",
		"groupby((rollup(A,B)))":                         "rollup",
		"aggregate(Forecast)":                            "custom aggregate Forecast",
		"aggregate(X with Custom.m as Y)":                "custom aggregation method Custom.m",
		"aggregate(X with sum as Y from Z with average)": "from in aggregate",
		"NS.MyTrafo(1)":                                  "custom transformation NS.MyTrafo",
	}
	for in, feature := range unsupported {
		_, err := ParseApply(in, nil)
		var ue *UnsupportedError
		if !errors.As(err, &ue) || ue.Feature != feature || ue.Option != "$apply" {
			t.Errorf("%q: want unsupported %q, got %v", in, feature, err)
		}
	}
}

func TestParseRequestApply(t *testing.T) {
	req, err := ParseRequest("/Orders", "$apply=groupby((Status),aggregate(Total%20with%20sum%20as%20S))&$top=2")
	if err != nil {
		t.Fatal(err)
	}
	if req.Options.Apply == nil || len(req.Options.Unsupported) != 0 {
		t.Fatalf("apply %v, unsupported %v", req.Options.Apply, req.Options.Unsupported)
	}
	if got := req.Options.Encode(); got != "$top=2&$apply=groupby((Status),aggregate(Total%20with%20sum%20as%20S))" {
		t.Errorf("Encode = %s", got)
	}
	// 4.01: without '$'
	if req, err = ParseRequest("/Orders", "apply=aggregate($count%20as%20N)"); err != nil || req.Options.Apply == nil {
		t.Errorf("apply without $: %v %v", req, err)
	}
}
