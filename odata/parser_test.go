package odata

import (
	"errors"
	"strings"
	"testing"
)

// ok marks a case that must parse; any other value is the expected error offset.
const ok = -1

type parseCase struct {
	in      string
	want    string // canonical String() on success
	errAt   int    // ok, or the expected SyntaxError offset
	errText string // optional substring of the error message
}

var filterCases = []parseCase{
	// comparison and logical operators, precedence
	{in: "CustomerID eq 'ALFKI'", want: "CustomerID eq 'ALFKI'", errAt: ok},
	{in: "a eq 1 and b eq 2 or c eq 3", want: "a eq 1 and b eq 2 or c eq 3", errAt: ok},
	{in: "a eq 1 or b eq 2 and c eq 3", want: "a eq 1 or b eq 2 and c eq 3", errAt: ok},
	{in: "(a eq 1 or b eq 2) and c eq 3", want: "(a eq 1 or b eq 2) and c eq 3", errAt: ok},
	{in: "a eq 1 and (b eq 2 and c eq 3)", want: "a eq 1 and (b eq 2 and c eq 3)", errAt: ok},
	{in: "((a eq 1))", want: "a eq 1", errAt: ok},
	{in: "( true )", want: "true", errAt: ok},
	{in: "(Country eq 'USA' or Country eq 'UK') and CreditLimit gt 1000", want: "(Country eq 'USA' or Country eq 'UK') and CreditLimit gt 1000", errAt: ok},
	{in: "Name EQ 'Milk' AND Price LT 2.55", want: "Name eq 'Milk' and Price lt 2.55", errAt: ok},
	{in: "Name Eq 'Milk' OR Price Lt 2.55", want: "Name eq 'Milk' or Price lt 2.55", errAt: ok},
	{in: "a ne 1", want: "a ne 1", errAt: ok},
	{in: "a ge 1 and a le 2 and a gt 0 and a lt 3", want: "a ge 1 and a le 2 and a gt 0 and a lt 3", errAt: ok},
	{in: "Price add 2.45 eq 5.00", want: "Price add 2.45 eq 5.00", errAt: ok},
	{in: "a add b mul c", want: "a add b mul c", errAt: ok},
	{in: "(a add b) mul c", want: "(a add b) mul c", errAt: ok},
	{in: "a sub (b sub c)", want: "a sub (b sub c)", errAt: ok},
	{in: "a sub b sub c", want: "a sub b sub c", errAt: ok},
	{in: "(4 add 5) mod (4 sub 1) eq 0", want: "(4 add 5) mod (4 sub 1) eq 0", errAt: ok},
	{in: "Price div 2 eq 1 and Rating divby 2 eq 2.5", want: "Price div 2 eq 1 and Rating divby 2 eq 2.5", errAt: ok},
	{in: "a eq b eq c", want: "a eq b eq c", errAt: ok},
	{in: "a eq (b eq c)", want: "a eq (b eq c)", errAt: ok},
	{in: "Name\teq\t'x'", want: "Name eq 'x'", errAt: ok},
	{in: "Name  eq   'x'", want: "Name eq 'x'", errAt: ok},
	{in: " Name eq 'x' ", want: "Name eq 'x'", errAt: ok},
	{in: "a eq(1)", want: "a eq 1", errAt: ok},
	// unary
	{in: "not Active", want: "not Active", errAt: ok},
	{in: "NOT Active", want: "not Active", errAt: ok},
	{in: "not not Active", want: "not not Active", errAt: ok},
	{in: "not (a eq 1)", want: "not (a eq 1)", errAt: ok},
	{in: "not(a eq 1)", want: "not (a eq 1)", errAt: ok},
	{in: "not endswith(Name,'ilk')", want: "not endswith(Name,'ilk')", errAt: ok},
	{in: "not a eq true", want: "not a eq true", errAt: ok},
	{in: "-Price", want: "-Price", errAt: ok},
	{in: "- Price", want: "-Price", errAt: ok},
	{in: "-(a add 1)", want: "-(a add 1)", errAt: ok},
	{in: "- 1", want: "- 1", errAt: ok},
	{in: "- -1", want: "- -1", errAt: ok},
	{in: "--x", want: "--x", errAt: ok},
	{in: "-1 eq a", want: "-1 eq a", errAt: ok},
	{in: "a sub -1", want: "a sub -1", errAt: ok},
	{in: "-a mul b", want: "-a mul b", errAt: ok},
	// in
	{in: "Name in ('Milk', 'Cheese')", want: "Name in ('Milk','Cheese')", errAt: ok},
	{in: "Name in ( 'Milk' ,'Cheese' )", want: "Name in ('Milk','Cheese')", errAt: ok},
	{in: "Code in (1,null,-2)", want: "Code in (1,null,-2)", errAt: ok},
	{in: "Code IN (1)", want: "Code in (1)", errAt: ok},
	{in: "Code in ()", want: "Code in ()", errAt: ok},
	{in: "Code in (@p,@q)", want: "Code in (@p,@q)", errAt: ok},
	{in: "FirstName in (FirstName)", want: "FirstName in (FirstName)", errAt: ok},
	{in: "a in (1) eq true", want: "a in (1) eq true", errAt: ok},
	{in: "true eq (a in (1))", want: "true eq (a in (1))", errAt: ok},
	{in: "FirstName in (FirstName,LastName)", errAt: 23},
	{in: "FirstName in ('a',LastName)", errAt: 18},
	{in: "a in 'x'", errAt: 5, errText: "expected '(' after in"},
	{in: "a in (1,)", errAt: 8},
	{in: "a in (1", errAt: 7},
	// has
	{in: "style has Sales.Pattern'Yellow'", want: "style has Sales.Pattern'Yellow'", errAt: ok},
	// calls
	{in: "contains(Name,'red')", want: "contains(Name,'red')", errAt: ok},
	{in: "Contains( Name , 'red' )", want: "contains(Name,'red')", errAt: ok},
	{in: "STARTSWITH(Name,'A') eq true", want: "startswith(Name,'A') eq true", errAt: ok},
	{in: "substring(CompanyName,5,2)", want: "substring(CompanyName,5,2)", errAt: ok},
	{in: "now()", want: "now()", errAt: ok},
	{in: "maxdatetime( )", want: "maxdatetime()", errAt: ok},
	{in: "concat(concat(Street,'-'),City)", want: "concat(concat(Street,'-'),City)", errAt: ok},
	{in: "length(Name) eq 19", want: "length(Name) eq 19", errAt: ok},
	{in: "geo.distance(a,b) lt 1", want: "geo.distance(a,b) lt 1", errAt: ok},
	{in: "cast(Edm.String)", want: "cast(Edm.String)", errAt: ok},
	{in: "cast(Category,Edm.Boolean)", want: "cast(Category,Edm.Boolean)", errAt: ok},
	{in: "isof(Model.Customer)", want: "isof(Model.Customer)", errAt: ok},
	{in: "Null()", want: "null()", errAt: ok},
	{in: "f(a eq 1,not b)", want: "f(a eq 1,not b)", errAt: ok},
	{in: "contains(Name,'x'", errAt: 17, errText: "expected ',' or ')'"},
	{in: "contains(Name,)", errAt: 14},
	{in: "contains(,Name)", errAt: 9},
	{in: "any()", errAt: 3},
	{in: "all(x:true)", errAt: 3},
	// paths and lambdas
	{in: "Address/Street eq 'Hugo'", want: "Address/Street eq 'Hugo'", errAt: ok},
	{in: "Address/Model.AddressWithLocation/Location", want: "Address/Model.AddressWithLocation/Location", errAt: ok},
	{in: "Products/$count gt 0", want: "Products/$count gt 0", errAt: ok},
	{in: "Products/any()", want: "Products/any()", errAt: ok},
	{in: "Products/any( )", want: "Products/any()", errAt: ok},
	{in: "Products/ANY(p: p/Price gt 5)", want: "Products/any(p:p/Price gt 5)", errAt: ok},
	{in: "Products/all(p:p/Price gt 5 and p/Name ne null)", want: "Products/all(p:p/Price gt 5 and p/Name ne null)", errAt: ok},
	{in: "a/b/any(x:x/c/any(y:y eq 1))", want: "a/b/any(x:x/c/any(y:y eq 1))", errAt: ok},
	{in: "$it/Name eq 'x'", want: "$it/Name eq 'x'", errAt: ok},
	{in: "Orders/any(o:o/Total gt $it/Limit)", want: "Orders/any(o:o/Total gt $it/Limit)", errAt: ok},
	{in: "$it/Orders/any()", want: "$it/Orders/any()", errAt: ok},
	{in: "Products/all()", errAt: 13},
	{in: "Products/any(p p)", errAt: 15},
	{in: "Address /Street", errAt: 8},
	{in: "Address/ Street", errAt: 9},
	{in: "Address/'x'", errAt: 8},
	{in: "Address/", errAt: 8},
	{in: "Ünïcødé eq 1", want: "Ünïcødé eq 1", errAt: ok},
	{in: "_private eq 1", want: "_private eq 1", errAt: ok},
	{in: "and eq or", want: "and eq or", errAt: ok},
	// aliases (no alias map: Value nil)
	{in: "Name eq @p", want: "Name eq @p", errAt: ok},
	{in: "@p", want: "@p", errAt: ok},
	{in: "Name eq @", errAt: 8},
	// literals
	{in: "a eq null", want: "a eq null", errAt: ok},
	{in: "a eq tRUe", want: "a eq tRUe", errAt: ok},
	{in: "a eq FALSE", want: "a eq FALSE", errAt: ok},
	{in: "a eq 42", want: "a eq 42", errAt: ok},
	{in: "a eq +42", want: "a eq +42", errAt: ok},
	{in: "a eq 1.5", want: "a eq 1.5", errAt: ok},
	{in: "a eq -0.25", want: "a eq -0.25", errAt: ok},
	{in: "a eq 1e10", want: "a eq 1e10", errAt: ok},
	{in: "a eq 1.5E-3", want: "a eq 1.5E-3", errAt: ok},
	{in: "a eq -0.314e+1", want: "a eq -0.314e+1", errAt: ok},
	{in: "a eq INF", want: "a eq INF", errAt: ok},
	{in: "a eq -INF", want: "a eq -INF", errAt: ok},
	{in: "a eq NaN", want: "a eq NaN", errAt: ok},
	{in: "a eq 'O''Brien'", want: "a eq 'O''Brien'", errAt: ok},
	{in: "a eq ''", want: "a eq ''", errAt: ok},
	{in: "a eq ''''", want: "a eq ''''", errAt: ok},
	{in: "a eq 'Tom & Jerry (100%)'", want: "a eq 'Tom & Jerry (100%)'", errAt: ok},
	{in: "a eq 2024-01-15", want: "a eq 2024-01-15", errAt: ok},
	{in: "a eq 2024-02-29", want: "a eq 2024-02-29", errAt: ok},
	{in: "a eq 2000-02-29", want: "a eq 2000-02-29", errAt: ok},
	{in: "a eq 0000-01-01", want: "a eq 0000-01-01", errAt: ok},
	{in: "a eq -10000-04-01", want: "a eq -10000-04-01", errAt: ok},
	{in: "a eq 2024-01-15T10:30:00Z", want: "a eq 2024-01-15T10:30:00Z", errAt: ok},
	{in: "a eq 2024-01-15T10:30Z", want: "a eq 2024-01-15T10:30Z", errAt: ok},
	{in: "a eq 2024-01-15T10:30:00.123Z", want: "a eq 2024-01-15T10:30:00.123Z", errAt: ok},
	{in: "a eq 2024-01-15T10:30:00.123456789012+02:00", want: "a eq 2024-01-15T10:30:00.123456789012+02:00", errAt: ok},
	{in: "a eq 2024-01-15T10:30:00-05:30", want: "a eq 2024-01-15T10:30:00-05:30", errAt: ok},
	{in: "a eq 1972-06-30T23:59:60Z", want: "a eq 1972-06-30T23:59:60Z", errAt: ok},
	{in: "a eq 10:30:00.123", want: "a eq 10:30:00.123", errAt: ok},
	{in: "a eq 10:30", want: "a eq 10:30", errAt: ok},
	{in: "a eq duration'P1DT2H'", want: "a eq duration'P1DT2H'", errAt: ok},
	{in: "a eq duration'-P6DT23H59M59.9999S'", want: "a eq duration'-P6DT23H59M59.9999S'", errAt: ok},
	{in: "a eq P1DT2H", want: "a eq P1DT2H", errAt: ok},
	{in: "a eq PT0.5S", want: "a eq PT0.5S", errAt: ok},
	{in: "a eq -P1D", want: "a eq -P1D", errAt: ok},
	{in: "a eq 01234567-89ab-cdef-0123-456789abcdef", want: "a eq 01234567-89ab-cdef-0123-456789abcdef", errAt: ok},
	{in: "a eq DEADBEEF-89ab-cdef-0123-456789abcdef", want: "a eq DEADBEEF-89ab-cdef-0123-456789abcdef", errAt: ok},
	{in: "a eq binary'Zm9vYmFy'", want: "a eq binary'Zm9vYmFy'", errAt: ok},
	{in: "a eq binary'Zg=='", want: "a eq binary'Zg=='", errAt: ok},
	{in: "a eq binary''", want: "a eq binary''", errAt: ok},
	{in: "a eq Sales.Pattern'Solid,Yellow,-42'", want: "a eq Sales.Pattern'Solid,Yellow,-42'", errAt: ok},
	{in: "geo.length(geography'SRID=0;LineString(142.1 64.1,3.14 2.78)')", want: "geo.length(geography'SRID=0;LineString(142.1 64.1,3.14 2.78)')", errAt: ok},
	// literal errors
	{in: "a eq 'abc", errAt: 5, errText: "unterminated string literal"},
	{in: "a eq 'O'Brien'", errAt: 8},
	{in: "a eq 2024-13-01", errAt: 5, errText: "month"},
	{in: "a eq 2024-00-10", errAt: 5, errText: "month"},
	{in: "a eq 2023-02-29", errAt: 5, errText: "day"},
	{in: "a eq 1900-02-29", errAt: 5, errText: "day"},
	{in: "a eq 2024-04-31", errAt: 5, errText: "day"},
	{in: "a eq 2024-1-15", errAt: 5},
	{in: "a eq 02024-01-15", errAt: 5, errText: "year"},
	{in: "a eq 2024-01-15T24:00Z", errAt: 16, errText: "hour"},
	{in: "a eq 2024-01-15T10:60Z", errAt: 16, errText: "minute"},
	{in: "a eq 2024-01-15T10:30:61Z", errAt: 16, errText: "second"},
	{in: "a eq 2024-01-15T10:30:00.1234567890123Z", errAt: 16, errText: "fractional"},
	{in: "a eq 2024-01-15T10:30:00.Z", errAt: 16, errText: "fractional"},
	{in: "a eq 2024-01-15T10:30:00", errAt: 24, errText: "time zone"},
	{in: "a eq 2024-01-15T10:30:00 02:00", errAt: 24, errText: "%2B"},
	{in: "a eq 2024-01-15T10:30:00+2:00", errAt: 24, errText: "offset"},
	{in: "a eq 2024-01-15T10:30:00+24:00", errAt: 25, errText: "hour"},
	{in: "a eq 24:00:00", errAt: 5, errText: "hour"},
	{in: "a eq 10:3", errAt: 5},
	{in: "a eq 42.", errAt: 7},
	{in: "a eq .1", errAt: 5},
	{in: "a eq 1e", errAt: 6},
	{in: "a eq -0.314e1e2", errAt: 13},
	{in: "a eq 12abc", errAt: 7},
	{in: "a eq 1.5Mx", errAt: 8}, // 1.5M alone is a v2-style Decimal suffix (TestLiteralKinds)
	{in: "a eq duration'P1Y'", errAt: 14, errText: "duration"},
	{in: "a eq duration'P'", errAt: 14},
	{in: "a eq duration'PT'", errAt: 14},
	{in: "a eq binary'Zg='", errAt: 14},
	{in: "a eq binary'Z'", errAt: 13},
	{in: "a eq binary'Zh'", errAt: 13},
	{in: "a eq binary'a+b/'", errAt: 13},
	{in: "a eq X'1a2B'", errAt: 5, errText: "prefix"},
	{in: "a eq guid'01234567-89ab-cdef-0123-456789abcdef'", errAt: 5},
	{in: "a eq 01234g67-89ab-cdef-0123-456789abcdef", errAt: 10},
	{in: "a eq Sales.Pattern'Yel low'", errAt: 22},
	{in: "a eq Sales.Pattern'x", errAt: 18},
	{in: "a eq \"x\"", errAt: 5},
	{in: "a eq +", errAt: 5},
	// operators and structure
	{in: "Name equals 'x'", errAt: 5, errText: `unknown operator "equals"`},
	{in: "Name gt2011-05-14", errAt: 5, errText: `unknown operator "gt2011"`},
	{in: "Name eq'x'", errAt: 7, errText: "whitespace"},
	{in: "(a)eq 1", errAt: 3, errText: "whitespace before"},
	{in: "a eq 1 and", errAt: 10, errText: "expected an expression"},
	{in: "a eq", errAt: 4},
	{in: "", errAt: 0, errText: "expected an expression"},
	{in: "   ", errAt: 3},
	{in: "(a eq 1", errAt: 7, errText: "expected ')'"},
	{in: "(a equals 1)", errAt: 3, errText: "unknown operator"},
	{in: "a eq 1)", errAt: 6},
	{in: "a eq 1 b", errAt: 7, errText: "unknown operator"},
	{in: "not", errAt: 3},
	{in: "a eq 1,", errAt: 6},
	{in: "a eq 1 ; b", errAt: 7},
	{in: "a eq\n1", errAt: 4},
	{in: "a eq 'x'\xff", errAt: 8},
	{in: "\xff", errAt: 0},
	{in: "a eq =", errAt: 5},
	{in: strings.Repeat("x", 129) + " eq 1", errAt: 0, errText: "128"},
	{in: strings.Repeat("(", 300) + "1" + strings.Repeat(")", 300), errAt: 256, errText: "nested"},
	{in: strings.Repeat("not ", 300) + "a", errAt: 1024, errText: "nested"},
}

var unsupportedCases = []struct{ in, feature string }{
	{"endswith($it,'.com')", "$it"},
	{"$this eq 'Hugo'", "$this"},
	{"$root/People", "$root"},
	{"Name in ['Milk','Cheese']", "JSON"},
	{"Price/@Measures.Currency eq 'EUR'", "annotation"},
	{"Products/Model.BestProduct()/Name", "bound function"},
	{"Model.ProductsByColor(color='green')", "function"},
	{"Items/$filter(Age gt 3)", "$filter"},
	{"Products/$count($filter=Price gt 5.00) gt 2", "$count with options"},
	{"f(x)/y", "path after function call"},
}

func checkErr(t *testing.T, in string, err error, wantAt int, wantText, wantOpt string) {
	t.Helper()
	var se *SyntaxError
	if !errors.As(err, &se) {
		t.Errorf("%q: want *SyntaxError at %d, got %v", in, wantAt, err)
		return
	}
	if se.Offset != wantAt {
		t.Errorf("%q: error offset %d, want %d (%v)", in, se.Offset, wantAt, err)
	}
	if se.Option != wantOpt {
		t.Errorf("%q: error option %q, want %q", in, se.Option, wantOpt)
	}
	if wantText != "" && !strings.Contains(se.Msg, wantText) {
		t.Errorf("%q: error %q does not contain %q", in, se.Msg, wantText)
	}
}

func TestParseFilter(t *testing.T) {
	for _, c := range filterCases {
		x, err := ParseFilter(c.in)
		if c.errAt != ok {
			checkErr(t, c.in, err, c.errAt, c.errText, "$filter")
			continue
		}
		if err != nil {
			t.Errorf("%q: unexpected error %v", c.in, err)
			continue
		}
		if got := x.String(); got != c.want {
			t.Errorf("%q: String() = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseFilterUnsupported(t *testing.T) {
	for _, c := range unsupportedCases {
		_, err := ParseFilter(c.in)
		var ue *UnsupportedError
		if !errors.As(err, &ue) {
			t.Errorf("%q: want *UnsupportedError, got %v", c.in, err)
			continue
		}
		if ue.Option != "$filter" || !strings.Contains(ue.Feature, c.feature) {
			t.Errorf("%q: got %+v, want feature containing %q", c.in, ue, c.feature)
		}
	}
}

// TestPrecedenceTree checks the shape of the tree, not only its printing.
func TestPrecedenceTree(t *testing.T) {
	cases := []struct {
		in   string
		want string // fully parenthesised
	}{
		{"a or b and c", "(a or (b and c))"},
		{"a and b or c", "((a and b) or c)"},
		{"a eq 1 and b", "((a eq 1) and b)"},
		{"a add b eq c mul d", "((a add b) eq (c mul d))"},
		{"a sub b sub c", "((a sub b) sub c)"},
		{"not a eq b", "((not a) eq b)"},
		{"-a add b", "((-a) add b)"},
		{"a in (1,2) and b has c", "((a in (1,2)) and (b has c))"},
		{"a mul b mod c", "((a mul b) mod c)"},
		{"a or b or c", "((a or b) or c)"},
	}
	for _, c := range cases {
		x, err := ParseFilter(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := fullParens(x); got != c.want {
			t.Errorf("%q: tree %s, want %s", c.in, got, c.want)
		}
	}
}

func fullParens(e Expr) string {
	switch n := e.(type) {
	case *Binary:
		return "(" + fullParens(n.X) + " " + n.Op.String() + " " + fullParens(n.Y) + ")"
	case *Unary:
		if n.Op == OpNot {
			return "(not " + fullParens(n.X) + ")"
		}
		return "(-" + fullParens(n.X) + ")"
	case *In:
		parts := make([]string, len(n.List))
		for i, x := range n.List {
			parts[i] = fullParens(x)
		}
		return "(" + fullParens(n.X) + " in (" + strings.Join(parts, ",") + "))"
	}
	return e.String()
}

func TestLiteralKinds(t *testing.T) {
	cases := []struct {
		in    string
		kind  LiteralKind
		value string
	}{
		{"null", NullLit, "null"},
		{"TRUE", BoolLit, "true"},
		{"False", BoolLit, "false"},
		{"42", IntLit, "42"},
		{"-7", IntLit, "-7"},
		{"+7", IntLit, "+7"},
		{"1.5", DecimalLit, "1.5"},
		{"1e10", DoubleLit, "1e10"},
		{"-INF", DoubleLit, "-INF"},
		{"INF", DoubleLit, "INF"},
		{"NaN", DoubleLit, "NaN"},
		{"'O''Brien'", StringLit, "O'Brien"},
		{"''''", StringLit, "'"},
		{"2024-01-15", DateLit, "2024-01-15"},
		{"2024-01-15T10:30:00.123Z", DateTimeOffsetLit, "2024-01-15T10:30:00.123Z"},
		{"2024-01-15t10:30z", DateTimeOffsetLit, "2024-01-15t10:30z"},
		{"10:30:00.123", TimeOfDayLit, "10:30:00.123"},
		{"duration'P1DT2H'", DurationLit, "P1DT2H"},
		{"Duration'p1d'", DurationLit, "p1d"},
		{"P1DT2H", DurationLit, "P1DT2H"},
		{"-PT1M", DurationLit, "-PT1M"},
		{"01234567-89ab-cdef-0123-456789abcdef", GuidLit, "01234567-89ab-cdef-0123-456789abcdef"},
		{"binary'Zm9vYmFy'", BinaryLit, "foobar"},
		{"binary'Zm8='", BinaryLit, "fo"},
		{"binary'AAEC'", BinaryLit, "\x00\x01\x02"},
		{"Ns.Color'Red'", EnumLit, "Ns.Color'Red'"},
		{"geography'SRID=0;Point(142.1 64.1)'", GeoLit, "geography'SRID=0;Point(142.1 64.1)'"},
	}
	for _, c := range cases {
		x, err := ParseFilter(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		lit, isLit := x.(*Literal)
		if !isLit {
			t.Errorf("%q: got %T, want *Literal", c.in, x)
			continue
		}
		if lit.Kind != c.kind || lit.Value != c.value || lit.Raw != c.in {
			t.Errorf("%q: got kind %v value %q raw %q, want %v %q %q", c.in, lit.Kind, lit.Value, lit.Raw, c.kind, c.value, c.in)
		}
		if lit.Span != (Span{0, len(c.in)}) {
			t.Errorf("%q: span %v", c.in, lit.Span)
		}
	}
	// Type suffixes of OData v2/v3 (the SAP Cloud SDK writes 1L): accepted,
	// typed, and dropped from Raw.
	for _, c := range []struct {
		in, raw string
		kind    LiteralKind
	}{
		{"50L", "50", IntLit}, {"-9223372036854775808l", "-9223372036854775808", IntLit},
		{"1.5m", "1.5", DecimalLit}, {"2M", "2", DecimalLit},
		{"2.5d", "2.5", DoubleLit}, {"1e3D", "1e3", DoubleLit}, {"0.1f", "0.1", DoubleLit},
	} {
		x, err := ParseFilter(c.in)
		lit, isLit := x.(*Literal)
		if err != nil || !isLit || lit.Kind != c.kind || lit.Raw != c.raw || lit.Value != c.raw || lit.Span != (Span{0, len(c.in)}) {
			t.Errorf("%q: %#v, %v; want %v %q", c.in, x, err, c.kind, c.raw)
		}
	}
	for _, in := range []string{"1.5L", "1e3L", "2x", "1Lx", "1LL"} {
		if _, err := ParseFilter(in); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
	// Words that look like literals but are not.
	for _, in := range []string{"P", "PT", "P1Day", "Nullable", "nulls", "TRUEs", "INFO", "P1D.x", "Pa"} {
		x, err := ParseFilter(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if _, isIdent := x.(*Ident); !isIdent {
			t.Errorf("%q: got %T, want *Ident", in, x)
		}
	}
}

func TestSpans(t *testing.T) {
	in := "(a eq 1) and contains(Name,'x')"
	x, err := ParseFilter(in)
	if err != nil {
		t.Fatal(err)
	}
	and := x.(*Binary)
	checks := []struct {
		n    Node
		want string
	}{
		{and, in},
		{and.X, "(a eq 1)"},
		{and.X.(*Binary).X, "a"},
		{and.X.(*Binary).Y, "1"},
		{and.Y, "contains(Name,'x')"},
		{and.Y.(*Call).Args[1], "'x'"},
	}
	for _, c := range checks {
		sp := c.n.Pos()
		if got := in[sp.Start:sp.End]; got != c.want {
			t.Errorf("span of %s = %q, want %q", c.n, got, c.want)
		}
	}
	items, err := ParseOrderBy("Name desc, City")
	if err != nil {
		t.Fatal(err)
	}
	if items[0].Span != (Span{0, 9}) || items[1].Span != (Span{11, 15}) {
		t.Errorf("orderby spans %v %v", items[0].Span, items[1].Span)
	}
	l, err := ParseFilter("Orders/any(o:o/Total gt 5)")
	if err != nil {
		t.Fatal(err)
	}
	lam := l.(*Lambda)
	if lam.Span != (Span{0, 26}) || lam.Path.Span != (Span{0, 6}) || lam.Body.Pos() != (Span{13, 25}) {
		t.Errorf("lambda spans %v %v %v", lam.Span, lam.Path.Span, lam.Body.Pos())
	}
}

func TestAliases(t *testing.T) {
	aliases := map[string]string{
		"@p":    "'O''Brien'",
		"@q":    "@p",
		"@list": "1",
		"@bad":  "1 eq",
		"@a":    "@b",
		"@b":    "@a",
		"@self": "x eq @self",
		"@expr": "Price add 1",
	}
	x, err := ParseExpr("Name eq @q and Qty eq @list and @expr gt 2 and @missing eq null", aliases)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := x.String(), "Name eq @q and Qty eq @list and @expr gt 2 and @missing eq null"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	var found []string
	walk(x, func(e Expr) {
		if a, isAlias := e.(*Alias); isAlias {
			v := "<nil>"
			if a.Value != nil {
				v = a.Value.String()
			}
			found = append(found, a.Name+"="+v)
		}
	})
	want := "q=@p,list=1,expr=Price add 1,missing=<nil>"
	if got := strings.Join(found, ","); got != want {
		t.Errorf("aliases %s, want %s", got, want)
	}
	q := findAlias(x, "q")
	if inner, isAlias := q.Value.(*Alias); !isAlias || inner.Value == nil || inner.Value.(*Literal).Value != "O'Brien" {
		t.Errorf("@q value: %#v", q.Value)
	}
	errCases := []struct {
		in, opt string
		at      int
	}{
		{"a eq @bad", "@bad", 4},
		{"a eq @a", "@b", 0},
		{"@self", "@self", 5},
	}
	for _, c := range errCases {
		_, err := ParseExpr(c.in, aliases)
		checkErr(t, c.in, err, c.at, "", c.opt)
	}
}

func walk(e Expr, f func(Expr)) {
	if e == nil {
		return
	}
	f(e)
	switch n := e.(type) {
	case *Binary:
		walk(n.X, f)
		walk(n.Y, f)
	case *Unary:
		walk(n.X, f)
	case *Call:
		for _, a := range n.Args {
			walk(a, f)
		}
	case *In:
		walk(n.X, f)
		for _, a := range n.List {
			walk(a, f)
		}
	case *Lambda:
		walk(n.Body, f)
	}
}

func findAlias(e Expr, name string) *Alias {
	var found *Alias
	walk(e, func(x Expr) {
		if a, isAlias := x.(*Alias); isAlias && a.Name == name && found == nil {
			found = a
		}
	})
	return found
}

var orderByCases = []parseCase{
	{in: "Name", want: "Name", errAt: ok},
	{in: "Name asc", want: "Name", errAt: ok},
	{in: "Name\tasc", want: "Name", errAt: ok},
	{in: "Name DESC", want: "Name desc", errAt: ok},
	{in: "Name asc,Rating,ReleaseDate desc", want: "Name,Rating,ReleaseDate desc", errAt: ok},
	{in: "Name desc, City", want: "Name desc,City", errAt: ok},
	{in: "Cost ge Revenue asc", want: "Cost ge Revenue", errAt: ok},
	{in: "length(Name) desc", want: "length(Name) desc", errAt: ok},
	{in: "asc asc", want: "asc", errAt: ok},
	{in: "desc", want: "desc", errAt: ok},
	{in: "Address/City desc", want: "Address/City desc", errAt: ok},
	{in: "Name up", errAt: 5, errText: "unknown operator"},
	{in: "Name,", errAt: 5},
	{in: ",Name", errAt: 0},
	{in: "Name asc desc", errAt: 9},
	{in: "", errAt: 0},
}

func TestParseOrderBy(t *testing.T) {
	for _, c := range orderByCases {
		items, err := ParseOrderBy(c.in)
		if c.errAt != ok {
			checkErr(t, c.in, err, c.errAt, c.errText, "$orderby")
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := FormatOrderBy(items); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
}

var selectCases = []parseCase{
	{in: "*", want: "*", errAt: ok},
	{in: "CustomerID,Name,City", want: "CustomerID,Name,City", errAt: ok},
	{in: "CustomerID, Name", want: "CustomerID,Name", errAt: ok},
	{in: "Address/Street", want: "Address/Street", errAt: ok},
	{in: "Address/Model.AddressWithLocation/Location", want: "Address/Model.AddressWithLocation/Location", errAt: ok},
	{in: "Name,*", want: "Name,*", errAt: ok},
	{in: "", errAt: 0},
	{in: "Name,", errAt: 5},
	{in: "Name,,City", errAt: 5},
	{in: "Name City", errAt: 5},
	{in: "Address/", errAt: 8},
	{in: "1abc", errAt: 0},
	{in: "Name.", errAt: 5},
	{in: "Na-me", errAt: 2},
}

func TestParseSelect(t *testing.T) {
	for _, c := range selectCases {
		items, err := ParseSelect(c.in)
		if c.errAt != ok {
			checkErr(t, c.in, err, c.errAt, c.errText, "$select")
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got := FormatSelect(items); got != c.want {
			t.Errorf("%q: got %q, want %q", c.in, got, c.want)
		}
	}
	for _, in := range []string{"Address($select=Street)", "Model.*", "@Core.Messages", "Fn(a,b)"} {
		var ue *UnsupportedError
		if _, err := ParseSelect(in); !errors.As(err, &ue) {
			t.Errorf("%q: want *UnsupportedError, got %v", in, err)
		}
	}
	items, err := ParseSelect("a, b/c")
	if err != nil || items[1].Span != (Span{3, 6}) || len(items[1].Path) != 2 {
		t.Errorf("select spans: %v %+v", err, items)
	}
}

// TestRoundTrip parses the canonical form of every successful case and
// requires the same canonical form again (the printer is the oracle).
func TestRoundTrip(t *testing.T) {
	for _, c := range filterCases {
		if c.errAt != ok {
			continue
		}
		x, err := ParseFilter(c.want)
		if err != nil {
			t.Errorf("reparse %q: %v", c.want, err)
			continue
		}
		if got := x.String(); got != c.want {
			t.Errorf("reparse %q: got %q", c.want, got)
		}
	}
	for _, c := range orderByCases {
		if c.errAt != ok {
			continue
		}
		items, err := ParseOrderBy(c.want)
		if err != nil || FormatOrderBy(items) != c.want {
			t.Errorf("reparse orderby %q: %v %q", c.want, err, FormatOrderBy(items))
		}
	}
	for _, c := range selectCases {
		if c.errAt != ok {
			continue
		}
		items, err := ParseSelect(c.want)
		if err != nil || FormatSelect(items) != c.want {
			t.Errorf("reparse select %q: %v %q", c.want, err, FormatSelect(items))
		}
	}
	for _, c := range searchCases {
		if c.errAt != ok {
			continue
		}
		x, err := ParseSearch(c.want)
		if err != nil || x.String() != c.want {
			t.Errorf("reparse search %q: %v", c.want, err)
		}
	}
}

// TestPrinterLiteralWithoutRaw covers literals built by code, not the parser.
func TestPrinterLiteralWithoutRaw(t *testing.T) {
	cases := []struct {
		lit  Literal
		want string
	}{
		{Literal{Kind: StringLit, Value: "O'Brien"}, "'O''Brien'"},
		{Literal{Kind: NullLit}, "null"},
		{Literal{Kind: IntLit, Value: "5"}, "5"},
		{Literal{Kind: DurationLit, Value: "P1D"}, "duration'P1D'"},
	}
	for _, c := range cases {
		if got := c.lit.String(); got != c.want {
			t.Errorf("%+v: got %q, want %q", c.lit, got, c.want)
		}
		x, err := ParseFilter(c.want)
		if err != nil {
			t.Errorf("%q: %v", c.want, err)
			continue
		}
		if lit := x.(*Literal); lit.Kind != c.lit.Kind || (c.lit.Value != "" && lit.Value != c.lit.Value) {
			t.Errorf("%q: reparsed as %+v", c.want, lit)
		}
	}
}

func TestLimits(t *testing.T) {
	huge := strings.Repeat("a", MaxInputLen+1)
	if _, err := ParseFilter(huge); err == nil {
		t.Error("ParseFilter accepted more than MaxInputLen bytes")
	}
	if _, err := ParseOrderBy(huge); err == nil {
		t.Error("ParseOrderBy accepted more than MaxInputLen bytes")
	}
	if _, err := ParseSelect(huge); err == nil {
		t.Error("ParseSelect accepted more than MaxInputLen bytes")
	}
	if _, err := ParseSearch(huge); err == nil {
		t.Error("ParseSearch accepted more than MaxInputLen bytes")
	}
	if _, err := ParseRequest("/"+huge, ""); err == nil {
		t.Error("ParseRequest accepted a path longer than MaxInputLen")
	}
	// A chain of 300 aliases exceeds MaxDepth.
	aliases := map[string]string{}
	for i := 0; i < 300; i++ {
		aliases["@a"+itoa(int64(i))] = "@a" + itoa(int64(i+1))
	}
	_, err := ParseExpr("@a0", aliases)
	var se *SyntaxError
	if !errors.As(err, &se) || !strings.Contains(se.Msg, "nested too deeply") {
		t.Errorf("alias chain: got %v", err)
	}
	// Just below the limit parses.
	deep := strings.Repeat("(", MaxDepth-1) + "1" + strings.Repeat(")", MaxDepth-1)
	if _, err := ParseFilter(deep); err != nil {
		t.Errorf("depth %d: %v", MaxDepth-1, err)
	}
}
