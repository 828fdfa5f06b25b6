package conformance

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
)

const csdlDoc = `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
 <edmx:DataServices>
  <Schema Namespace="Base.Types" Alias="B" xmlns="http://docs.oasis-open.org/odata/ns/edm">
   <EntityType Name="Entity" Abstract="true">
    <Key><PropertyRef Name="ID"/></Key>
    <Property Name="ID" Type="Edm.Int32" Nullable="false">
     <Annotation Term="Org.OData.Core.V1.Computed" Bool="true"/>
    </Property>
   </EntityType>
  </Schema>
  <Schema Namespace="My.Service" xmlns="http://docs.oasis-open.org/odata/ns/edm">
   <EntityType Name="Product" BaseType="B.Entity">
    <Property Name="Name" Type="Edm.String" MaxLength="max"/>
    <Property Name="Code" Type="Edm.String" MaxLength="12" Nullable="false"/>
    <Property Name="Price" Type="Edm.Decimal" Precision="12" Scale="variable"/>
    <Property Name="Weight" Type="Edm.Decimal"/>
    <Property Name="Stamp" Type="Edm.DateTimeOffset" Precision="6"/>
    <Property Name="Tags" Type="Collection(Edm.String)"/>
    <Property Name="Version" Type="Edm.Int64"/>
    <NavigationProperty Name="Category" Type="My.Service.Category"/>
   </EntityType>
   <EntityType Name="Keyless">
    <Property Name="A" Type="Edm.String"/>
   </EntityType>
   <EntityType Name="BadKey">
    <Key><PropertyRef Name="Missing"/></Key>
    <Property Name="A" Type="Edm.String"/>
   </EntityType>
   <EntityContainer Name="C">
    <EntitySet Name="Products" EntityType="My.Service.Product"/>
    <EntitySet Name="Keyless" EntityType="My.Service.Keyless"/>
    <EntitySet Name="BadKeys" EntityType="My.Service.BadKey"/>
    <EntitySet Name="Ghosts" EntityType="My.Service.Nope"/>
   </EntityContainer>
   <Annotations Target="My.Service.Product/Version">
    <Annotation Term="Core.Computed"/>
   </Annotations>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>`

func TestParseCSDL(t *testing.T) {
	version, sets, err := parseCSDL([]byte(csdlDoc))
	if err != nil {
		t.Fatal(err)
	}
	if version != "4.0" || len(sets) != 4 {
		t.Fatalf("version %q, %d sets", version, len(sets))
	}
	p := sets[0]
	if p.Name != "Products" || p.Type != "My.Service.Product" || len(p.Key) != 1 || p.Key[0].Name != "ID" {
		t.Fatalf("Products: %+v key %v", p, p.Key)
	}
	tests := []struct {
		name      string
		edm       metadata.Type
		typ       string
		nullable  bool
		maxLen    int
		precision int
		scale     int
		variable  bool
		computed  bool
	}{
		{"ID", metadata.Int32, "Edm.Int32", false, 0, 0, 0, false, true},
		{"Name", metadata.String, "Edm.String", true, -1, 0, 0, false, false},
		{"Code", metadata.String, "Edm.String", false, 12, 0, 0, false, false},
		{"Price", metadata.Decimal, "Edm.Decimal", true, 0, 12, 0, true, false},
		{"Weight", metadata.Decimal, "Edm.Decimal", true, 0, 0, 0, true, false},
		{"Stamp", metadata.DateTimeOffset, "Edm.DateTimeOffset", true, 0, 6, 0, false, false},
		{"Tags", "", "Collection(Edm.String)", true, 0, 0, 0, false, false},
		{"Version", metadata.Int64, "Edm.Int64", true, 0, 0, 0, false, true},
	}
	if len(p.Props) != len(tests) {
		t.Fatalf("Products has %d properties, want %d", len(p.Props), len(tests))
	}
	for i, tc := range tests {
		got := p.Props[i]
		if got.Name != tc.name || got.Edm != tc.edm || got.Type != tc.typ || got.Nullable != tc.nullable || got.MaxLength != tc.maxLen ||
			got.Precision != tc.precision || got.Scale != tc.scale || got.Variable != tc.variable || got.Computed != tc.computed {
			t.Errorf("property %d = %+v, want %+v", i, *got, tc)
		}
	}
	if len(sets[1].Key) != 0 || sets[1].keyProblem != "" {
		t.Errorf("Keyless: %+v", sets[1])
	}
	if !strings.Contains(sets[2].keyProblem, `"Missing"`) {
		t.Errorf("BadKeys problem = %q", sets[2].keyProblem)
	}
	if !strings.Contains(sets[3].keyProblem, "not declared") {
		t.Errorf("Ghosts problem = %q", sets[3].keyProblem)
	}
	// The Salesforce rules see the foreign model through toMetadata.
	ms := p.toMetadata()
	if len(ms.Key) != 1 || ms.Key[0].Name != "ID" || ms.Properties[6].Type != "Collection(Edm.String)" {
		t.Errorf("toMetadata: %+v", ms)
	}
}

func TestParseCSDLErrors(t *testing.T) {
	for _, doc := range []string{
		"not xml",
		`<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices/></edmx:Edmx>`,
		`<edmx:Edmx Version="4.0" xmlns:edmx="x"><edmx:DataServices><Schema Namespace="A"/></edmx:DataServices></edmx:Edmx>`,
		`<edmx:Edmx Version="4.0" xmlns:edmx="x"><edmx:DataServices><Schema Namespace="A"><EntityType Name="T"><Property Name="P" Type="Edm.String" MaxLength="ten"/></EntityType><EntityContainer Name="C"><EntitySet Name="Ts" EntityType="A.T"/></EntityContainer></Schema></edmx:DataServices></edmx:Edmx>`,
	} {
		if _, _, err := parseCSDL([]byte(doc)); err == nil {
			t.Errorf("parseCSDL accepted %q", doc)
		}
	}
}

func TestLiteralAndCompare(t *testing.T) {
	str := &prop{Name: "S", Edm: metadata.String}
	dec := &prop{Name: "D", Edm: metadata.Decimal}
	i64 := &prop{Name: "I", Edm: metadata.Int64}
	date := &prop{Name: "Dt", Edm: metadata.Date}
	dto := &prop{Name: "T", Edm: metadata.DateTimeOffset}
	b := &prop{Name: "B", Edm: metadata.Boolean}
	g := &prop{Name: "G", Edm: metadata.Guid}
	lits := []struct {
		p    *prop
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
		p    *prop
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
	name := &prop{Name: "Name", Edm: metadata.String}
	n := &prop{Name: "N", Edm: metadata.Int32}
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
	p := &prop{Name: "V", Edm: metadata.String}
	sr := &setRun{s: &eset{Key: []*prop{p}}}
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
