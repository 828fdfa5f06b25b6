package conformance

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/metadata/csdl"
	"github.com/odatagw/odatagw/metadata/salesforce"
)

// The Salesforce rules see a foreign type by its declared name, and the
// key and facets as declared.
func TestSalesforceView(t *testing.T) {
	doc, err := csdl.Parse([]byte(`<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
<edmx:DataServices><Schema Namespace="S" xmlns="http://docs.oasis-open.org/odata/ns/edm">
 <EntityType Name="T"><Key><PropertyRef Name="ID"/></Key>
  <Property Name="ID" Type="Edm.Int32" Nullable="false"/>
  <Property Name="Name" Type="Edm.String" MaxLength="max"/>
  <Property Name="Price" Type="Edm.Decimal" Precision="12" Scale="variable"/>
  <Property Name="Tags" Type="Collection(Edm.String)"/>
 </EntityType>
 <EntityContainer Name="C"><EntitySet Name="Ts" EntityType="S.T"/></EntityContainer>
</Schema></edmx:DataServices></edmx:Edmx>`))
	if err != nil {
		t.Fatal(err)
	}
	ms := salesforceView(doc.Sets[0])
	if ms.Name != "Ts" || len(ms.Key) != 1 || ms.Key[0] != ms.Properties[0] || ms.Key[0].Nullable {
		t.Errorf("set %q, key %+v", ms.Name, ms.Key)
	}
	for i, want := range []metadata.Property{
		{Name: "ID", Type: metadata.Int32},
		{Name: "Name", Type: metadata.String, Nullable: true, MaxLength: -1},
		{Name: "Price", Type: metadata.Decimal, Nullable: true, Precision: 12, Variable: true},
		{Name: "Tags", Type: "Collection(Edm.String)", Nullable: true},
	} {
		if got := *ms.Properties[i]; got != want {
			t.Errorf("property %d = %+v, want %+v", i, got, want)
		}
	}
	rep := salesforce.ReportSet(ms)
	if len(rep.Fields) != 4 || rep.Fields[3].Type != salesforce.Unsupported {
		t.Errorf("Salesforce report: %+v", rep.Fields)
	}
}

// A $metadata document that does not parse fails the metadata check and
// stops the run.
func TestMetadataNotCSDL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		io.WriteString(w, "<html><body>Welcome</body></html>")
	}))
	defer srv.Close()
	items, err := Check(context.Background(), Options{URL: srv.URL + "/odata"})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].Check != "metadata" || items[0].Status != Fail ||
		!strings.HasPrefix(items[0].Reason, "$metadata: not CSDL XML") {
		t.Errorf("items: %s", dump(items))
	}
}

func TestLiteralAndCompare(t *testing.T) {
	str := &csdl.Property{Name: "S", Edm: metadata.String}
	dec := &csdl.Property{Name: "D", Edm: metadata.Decimal}
	i64 := &csdl.Property{Name: "I", Edm: metadata.Int64}
	date := &csdl.Property{Name: "Dt", Edm: metadata.Date}
	dto := &csdl.Property{Name: "T", Edm: metadata.DateTimeOffset}
	b := &csdl.Property{Name: "B", Edm: metadata.Boolean}
	g := &csdl.Property{Name: "G", Edm: metadata.Guid}
	lits := []struct {
		p    *csdl.Property
		v    any
		want string
	}{
		{str, "O'Neil", "'O''Neil'"},
		{str, "", "''"},
		{dec, json.Number("100.50"), "100.50"},
		{dec, json.Number("1e2"), "100"},
		{i64, json.Number("9007199254740993"), "9007199254740993"},
		{date, "2024-01-15", "2024-01-15"},
		{dto, "2024-01-15T11:30:00.123+01:00", "2024-01-15T10:30:00.123Z"},
		{b, true, "true"},
		{g, "0E984725-C51C-4BF4-9960-E1C80E27ABA0", "0E984725-C51C-4BF4-9960-E1C80E27ABA0"},
		{str, nil, "null"},
	}
	for _, tc := range lits {
		got, err := literal(tc.p, tc.v)
		if err != nil || got != tc.want {
			t.Errorf("literal(%s, %v) = %q, %v; want %q", tc.p.Edm, tc.v, got, err, tc.want)
		}
	}
	if _, err := literal(date, "15.01.2024"); err == nil {
		t.Errorf("literal accepted a bad date")
	}
	cmps := []struct {
		p    *csdl.Property
		a, b any
		want int
	}{
		{str, "B", "a", -1}, // byte order: upper case first
		{str, "a", "a", 0},
		{dec, json.Number("2.50"), json.Number("2.5"), 0},
		{dec, json.Number("10"), json.Number("9.99"), 1},
		{i64, json.Number("9007199254740993"), json.Number("9007199254740992"), 1}, // beyond float64
		{i64, "12", json.Number("12"), 0},                                          // IEEE754Compatible strings
		{dto, "2024-01-15T11:30:00+01:00", "2024-01-15T10:30:00Z", 0},
		{dto, "2024-01-15T10:30:00.001Z", "2024-01-15T10:30:00Z", 1},
		{date, "2024-01-15", "2024-02-01", -1},
		{b, false, true, -1},
		{g, "0e984725-c51c-4bf4-9960-e1c80e27aba0", "0E984725-C51C-4BF4-9960-E1C80E27ABA0", 0},
	}
	for _, tc := range cmps {
		got, err := compare(tc.p, tc.a, tc.b)
		if err != nil || got != tc.want {
			t.Errorf("compare(%s, %v, %v) = %d, %v; want %d", tc.p.Edm, tc.a, tc.b, got, err, tc.want)
		}
	}
	if _, err := compare(dec, "abc", json.Number("1")); err == nil {
		t.Errorf("compare accepted a non-number")
	}
}

func TestExprEval(t *testing.T) {
	name := &csdl.Property{Name: "Name", Edm: metadata.String}
	n := &csdl.Property{Name: "N", Edm: metadata.Int32}
	rowA := map[string]any{"Name": "Alfreds", "N": json.Number("5")}
	rowNull := map[string]any{"Name": nil, "N": nil}
	tests := []struct {
		e        expr
		text     string
		wantA    bool
		wantNull bool
	}{
		{&cmpExpr{p: name, op: "eq", v: "Alfreds"}, "Name eq 'Alfreds'", true, false},
		{&cmpExpr{p: name, op: "eq", v: "alfreds"}, "Name eq 'alfreds'", false, false},
		{&cmpExpr{p: name, op: "ne", v: "x"}, "Name ne 'x'", true, true},
		{&cmpExpr{p: name, op: "eq"}, "Name eq null", false, true},
		{&cmpExpr{p: name, op: "ne"}, "Name ne null", true, false},
		{&cmpExpr{p: n, op: "gt", v: json.Number("4")}, "N gt 4", true, false},
		{&cmpExpr{p: n, op: "le", v: json.Number("4")}, "N le 4", false, false},
		{&cmpExpr{p: n, op: "ge", v: json.Number("5"), lit: "5.0"}, "N ge 5.0", true, false},
		{&fnExpr{fn: "startswith", p: name, arg: "Alf"}, "startswith(Name,'Alf')", true, false},
		{&fnExpr{fn: "endswith", p: name, arg: "O'"}, "endswith(Name,'O''')", false, false},
		{&fnExpr{fn: "contains", p: name, arg: "lfr"}, "contains(Name,'lfr')", true, false},
		{&notExpr{e: &cmpExpr{p: name, op: "eq", v: "Alfreds"}}, "not (Name eq 'Alfreds')", false, true},
		{&logicExpr{op: "and", l: &cmpExpr{p: n, op: "eq", v: json.Number("5")}, r: &fnExpr{fn: "contains", p: name, arg: "fr"}},
			"(N eq 5 and contains(Name,'fr'))", true, false},
		{&logicExpr{op: "or", l: &cmpExpr{p: n, op: "eq"}, r: &cmpExpr{p: n, op: "eq", v: json.Number("5")}},
			"(N eq null or N eq 5)", true, true},
	}
	for _, tc := range tests {
		if got := tc.e.String(); got != tc.text {
			t.Errorf("String() = %q, want %q", got, tc.text)
		}
		if got, err := tc.e.eval(rowA); err != nil || got != tc.wantA {
			t.Errorf("%s on rowA = %v, %v; want %v", tc.text, got, err, tc.wantA)
		}
		if got, err := tc.e.eval(rowNull); err != nil || got != tc.wantNull {
			t.Errorf("%s on null row = %v, %v; want %v", tc.text, got, err, tc.wantNull)
		}
	}
	if _, err := (&cmpExpr{p: name, op: "eq", v: "x"}).eval(map[string]any{}); err == nil {
		t.Errorf("eval on a row without the property succeeded")
	}
	folded, _ := (&fnExpr{fn: "startswith", p: name, arg: "alf"}).match(rowA, true)
	if !folded {
		t.Errorf("case-folded match failed")
	}
}

func TestCheckOrder(t *testing.T) {
	p := &csdl.Property{Name: "V", Edm: metadata.String}
	sr := &setRun{s: &csdl.EntitySet{Key: []*csdl.Property{p}}}
	rows := func(vs ...any) []map[string]any {
		var out []map[string]any
		for _, v := range vs {
			out = append(out, map[string]any{"V": v})
		}
		return out
	}
	tests := []struct {
		name string
		rows []map[string]any
		desc bool
		want Status
		text string
	}{
		{"byte order asc", rows(nil, "A", "B", "a"), false, Pass, ""},
		{"byte order desc", rows("a", "B", "A", nil), true, Pass, ""},
		{"case-insensitive", rows("A", "a", "B"), false, Warn, "case-insensitive"},
		{"collation", rows("ab", "a-c"), false, Warn, "collation"},
		{"wrong", rows("b", "a", "c"), false, Fail, `"b" comes before "a"`},
		{"desc reversed", rows("A", "B"), true, Fail, "descending"},
		{"nulls last asc", rows("A", nil), false, Warn, "nulls sort last"},
		{"nulls first desc", rows(nil, "A"), true, Warn, "nulls sort first"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st, reason := sr.checkOrder(p, tc.rows, tc.desc)
			if st != tc.want || !strings.Contains(reason, tc.text) {
				t.Errorf("checkOrder = %s %q, want %s ~%q", st, reason, tc.want, tc.text)
			}
		})
	}
}
