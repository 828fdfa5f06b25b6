package csdl

import (
	"bytes"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
)

// facetModel complements testModel: a key in other than property order, a
// decimal with precision and variable scale, a described key property and
// descriptions with markup and non-ASCII text.
func facetModel() *metadata.Model {
	a := &metadata.Property{Name: "A", Column: "a", Type: metadata.String, MaxLength: 4000,
		Description: "Ünïcødé & <markup> \"quoted\""}
	b := &metadata.Property{Name: "B", Column: "b", Type: metadata.Guid}
	dec := &metadata.Property{Name: "Amount", Column: "amount", Type: metadata.Decimal, Nullable: true,
		Precision: 10, Variable: true}
	set := &metadata.EntitySet{Name: "Pairs", Table: "pairs", Kind: metadata.KindTable,
		Description: "line one\nline two", Properties: []*metadata.Property{a, b, dec}, Key: []*metadata.Property{b, a}}
	return metadata.NewModel("Test.Facets", nil, set)
}

// carried is what a $metadata document rendered by WriteMetadata tells a
// client about p of s: keys are never nullable, and a decimal without
// precision has variable scale.
func carried(s *metadata.EntitySet, p *metadata.Property) Property {
	want := Property{Name: p.Name, Type: p.Type.FullName(), Edm: p.Type, Nullable: p.Nullable && !s.IsKey(p),
		MaxLength: p.MaxLength, Description: p.Description}
	switch p.Type {
	case metadata.Decimal:
		want.Precision = p.Precision
		want.Variable = p.Variable || p.Precision == 0
		if !want.Variable {
			want.Scale = p.Scale
		}
	case metadata.DateTimeOffset, metadata.TimeOfDay, metadata.Duration:
		want.Precision = p.Precision
	}
	return want
}

func TestParseRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    *metadata.Model
	}{
		{"every type, with comments", testModel(true)},
		{"every type, plain", testModel(false)},
		{"facets", facetModel()},
		{"empty", metadata.NewModel("ns", nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteMetadata(&buf, tc.m); err != nil {
				t.Fatal(err)
			}
			doc, err := Parse(buf.Bytes())
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, buf.Bytes())
			}
			if doc.Version != "4.0" || doc.Container != tc.m.Namespace+"."+tc.m.Container {
				t.Errorf("version %q, container %q", doc.Version, doc.Container)
			}
			if len(doc.Sets) != len(tc.m.Sets) {
				t.Fatalf("%d sets, want %d", len(doc.Sets), len(tc.m.Sets))
			}
			for i, s := range tc.m.Sets {
				got := doc.Sets[i]
				if got.Name != s.Name || got.Type != tc.m.Namespace+"."+s.TypeName() ||
					got.Description != s.Description || got.KeyProblem != "" {
					t.Errorf("set %d = %q of %q, description %q, key problem %q", i, got.Name, got.Type, got.Description, got.KeyProblem)
				}
				if doc.Set(s.Name) != got {
					t.Errorf("Set(%q) does not find it", s.Name)
				}
				if len(got.Properties) != len(s.Properties) {
					t.Fatalf("%s: %d properties, want %d", s.Name, len(got.Properties), len(s.Properties))
				}
				for j, p := range s.Properties {
					if want := carried(s, p); *got.Properties[j] != want {
						t.Errorf("%s property %d = %+v,\nwant %+v", s.Name, j, *got.Properties[j], want)
					}
				}
				if len(got.Key) != len(s.Key) {
					t.Fatalf("%s: key %d properties, want %d", s.Name, len(got.Key), len(s.Key))
				}
				for k, p := range s.Key {
					if got.Key[k].Name != p.Name || got.Property(p.Name) != got.Key[k] || !got.IsKey(got.Key[k]) {
						t.Errorf("%s: key %d = %q, want %q, one of the properties", s.Name, k, got.Key[k].Name, p.Name)
					}
				}
			}
		})
	}
}

// foreignDoc is CSDL as other producers write it: several schemas, aliases,
// base types, annotations inline and external, facets WriteMetadata never
// writes and types metadata has no Type for.
const foreignDoc = `<?xml version="1.0" encoding="utf-8"?>
<edmx:Edmx Version="4.01" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">
 <edmx:Reference Uri="https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml">
  <edmx:Include Namespace="Org.OData.Core.V1" Alias="Vocab"/>
 </edmx:Reference>
 <edmx:DataServices>
  <Schema Namespace="Base.Types" Alias="B" xmlns="http://docs.oasis-open.org/odata/ns/edm">
   <EntityType Name="Entity" Abstract="true">
    <Key><PropertyRef Name="ID"/></Key>
    <Property Name="ID" Type="Edm.Int32" Nullable="false">
     <Annotation Term="Org.OData.Core.V1.Computed" Bool="true"/>
    </Property>
   </EntityType>
   <ComplexType Name="Address"><Property Name="City" Type="Edm.String"/></ComplexType>
  </Schema>
  <Schema Namespace="My.Service" xmlns="http://docs.oasis-open.org/odata/ns/edm">
   <EntityType Name="Product" BaseType="B.Entity">
    <Property Name="Name" Type="Edm.String" MaxLength="max">
     <Annotation Term="Vocab.Description"><String>The name</String></Annotation>
     <Annotation Term="Vocab.Description" Qualifier="de" String="Der Name"/>
    </Property>
    <Property Name="Code" Type="Edm.String" MaxLength="12" Nullable="false"/>
    <Property Name="Price" Type="Edm.Decimal" Precision="12" Scale="variable"/>
    <Property Name="Weight" Type="Edm.Decimal"/>
    <Property Name="Rate" Type="Edm.Decimal" Scale="floating"/>
    <Property Name="Stamp" Type="Edm.DateTimeOffset" Precision="6" Nullable="true"/>
    <Property Name="Tags" Type="Collection(Edm.String)"/>
    <Property Name="Homes" Type="Collection(B.Address)"/>
    <Property Name="Address" Type="B.Address"/>
    <Property Name="Photo" Type="Edm.Stream"/>
    <Property Name="Where" Type="Edm.GeographyPoint" SRID="4326"/>
    <Property Name="Version" Type="Edm.Int64"/>
    <Property Name="Locked" Type="Edm.Boolean">
     <Annotation Term="Core.Computed" Bool="false"/>
    </Property>
    <NavigationProperty Name="Category" Type="My.Service.Category"/>
    <Annotation Term="Vocab.Description" String="A product"/>
   </EntityType>
   <EntityType Name="Keyless">
    <Property Name="A" Type="Edm.String"/>
   </EntityType>
   <EntityType Name="BadKey">
    <Key><PropertyRef Name="Missing"/></Key>
    <Property Name="A" Type="Edm.String"/>
   </EntityType>
   <EntityType Name="Orphan" BaseType="My.Service.Nowhere">
    <Key><PropertyRef Name="A"/></Key>
    <Property Name="A" Type="Edm.String"/>
   </EntityType>
   <EntityContainer Name="C">
    <EntitySet Name="Products" EntityType="My.Service.Product"/>
    <EntitySet Name="Keyless" EntityType="My.Service.Keyless"/>
    <EntitySet Name="BadKeys" EntityType="My.Service.BadKey"/>
    <EntitySet Name="Ghosts" EntityType="My.Service.Nope"/>
    <EntitySet Name="Orphans" EntityType="My.Service.Orphan"/>
   </EntityContainer>
   <Annotations Target="My.Service.Product/Version">
    <Annotation Term="Core.Computed"/>
   </Annotations>
   <Annotations Target="B.Entity/ID">
    <Annotation Term="Vocab.Description" String="Identifier"/>
   </Annotations>
   <Annotations Target="My.Service.Product/Code" Qualifier="Tablet">
    <Annotation Term="Core.Computed"/>
   </Annotations>
  </Schema>
 </edmx:DataServices>
</edmx:Edmx>`

func TestParseForeign(t *testing.T) {
	doc, err := Parse([]byte(foreignDoc))
	if err != nil {
		t.Fatal(err)
	}
	if doc.Version != "4.01" || doc.Container != "My.Service.C" || len(doc.Sets) != 5 {
		t.Fatalf("version %q, container %q, %d sets", doc.Version, doc.Container, len(doc.Sets))
	}
	p := doc.Sets[0]
	if p.Name != "Products" || p.Type != "My.Service.Product" || p.Description != "A product" || p.KeyProblem != "" ||
		len(p.Key) != 1 || p.Key[0] != p.Property("ID") {
		t.Fatalf("Products: %+v key %v", p, p.Key)
	}
	want := []Property{
		{Name: "ID", Type: "Edm.Int32", Edm: metadata.Int32, Description: "Identifier", Computed: true},
		{Name: "Name", Type: "Edm.String", Edm: metadata.String, Nullable: true, MaxLength: -1, Description: "The name"},
		{Name: "Code", Type: "Edm.String", Edm: metadata.String, MaxLength: 12},
		{Name: "Price", Type: "Edm.Decimal", Edm: metadata.Decimal, Nullable: true, Precision: 12, Variable: true},
		{Name: "Weight", Type: "Edm.Decimal", Edm: metadata.Decimal, Nullable: true, Variable: true},
		{Name: "Rate", Type: "Edm.Decimal", Edm: metadata.Decimal, Nullable: true, Variable: true},
		{Name: "Stamp", Type: "Edm.DateTimeOffset", Edm: metadata.DateTimeOffset, Nullable: true, Precision: 6},
		{Name: "Tags", Type: "Collection(Edm.String)", Nullable: true},
		{Name: "Homes", Type: "Collection(Base.Types.Address)", Nullable: true},
		{Name: "Address", Type: "Base.Types.Address", Nullable: true},
		{Name: "Photo", Type: "Edm.Stream", Nullable: true},
		{Name: "Where", Type: "Edm.GeographyPoint", Nullable: true},
		{Name: "Version", Type: "Edm.Int64", Edm: metadata.Int64, Nullable: true, Computed: true},
		{Name: "Locked", Type: "Edm.Boolean", Edm: metadata.Boolean, Nullable: true},
	}
	if len(p.Properties) != len(want) {
		t.Fatalf("Products has %d properties, want %d", len(p.Properties), len(want))
	}
	for i, w := range want {
		if got := *p.Properties[i]; got != w {
			t.Errorf("property %d = %+v,\nwant %+v", i, got, w)
		}
	}
	if p.Property("Category") != nil || p.Property("Nope") != nil {
		t.Error("Property found a property that is not structural or not there")
	}
	if s := doc.Sets[1]; len(s.Key) != 0 || s.KeyProblem != "" || len(s.Properties) != 1 {
		t.Errorf("Keyless: %+v", s)
	}
	for _, tc := range []struct {
		set, problem string
	}{
		{"BadKeys", `key property "Missing" is not a property of My.Service.BadKey`},
		{"Ghosts", "entity type My.Service.Nope is not declared"},
		{"Orphans", "entity type My.Service.Nowhere is not declared"},
	} {
		if s := doc.Set(tc.set); s == nil || s.KeyProblem != tc.problem || len(s.Key) != 0 {
			t.Errorf("%s: %+v, want key problem %q", tc.set, s, tc.problem)
		}
	}
	if doc.Set("products") != nil {
		t.Error("Set ignores case")
	}
}

// wrap puts schema content into an EDMX document.
func wrap(schema string) string {
	return `<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>` +
		`<Schema Namespace="A" xmlns="http://docs.oasis-open.org/odata/ns/edm">` + schema +
		`</Schema></edmx:DataServices></edmx:Edmx>`
}

// withProperty is a one-set document whose type has the given Property element.
func withProperty(property string) string {
	return wrap(`<EntityType Name="T"><Key><PropertyRef Name="ID"/></Key><Property Name="ID" Type="Edm.Int32"/>` +
		property + `</EntityType><EntityContainer Name="C"><EntitySet Name="Ts" EntityType="A.T"/></EntityContainer>`)
}

func TestParseErrors(t *testing.T) {
	var rendered bytes.Buffer
	if err := WriteMetadata(&rendered, testModel(true)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"empty", "", "not CSDL XML"},
		{"not XML", "not xml", "not CSDL XML"},
		{"JSON", `{"$Version":"4.0"}`, "not CSDL XML"},
		{"no Edmx", `<Schema Namespace="A"/>`, "not CSDL XML"},
		{"truncated", rendered.String()[:rendered.Len()/2], "not CSDL XML"},
		{"no DataServices", `<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"/>`, "no Schema"},
		{"no Schema", `<edmx:Edmx Version="4.0" xmlns:edmx="x"><edmx:DataServices/></edmx:Edmx>`, "no Schema"},
		{"no container", wrap(`<EntityType Name="T"/>`), "0 entity containers"},
		{"two containers", wrap(`<EntityContainer Name="C"/><EntityContainer Name="D"/>`), "2 entity containers"},
		{"set twice", wrap(`<EntityType Name="T"/><EntityContainer Name="C"><EntitySet Name="Ts" EntityType="A.T"/><EntitySet Name="Ts" EntityType="A.T"/></EntityContainer>`),
			"entity set Ts is declared twice"},
		{"base type cycle", wrap(`<EntityType Name="T" BaseType="A.U"/><EntityType Name="U" BaseType="A.T"/><EntityContainer Name="C"><EntitySet Name="Ts" EntityType="A.T"/></EntityContainer>`),
			"base type cycle"},
		{"property twice", wrap(`<EntityType Name="B"><Property Name="P" Type="Edm.Int32"/></EntityType><EntityType Name="T" BaseType="A.B"><Property Name="P" Type="Edm.String"/></EntityType><EntityContainer Name="C"><EntitySet Name="Ts" EntityType="A.T"/></EntityContainer>`),
			"entity type A.T: property P is declared twice"},
		{"no type", withProperty(`<Property Name="P"/>`), "property P: no Type attribute"},
		{"unknown Edm type", withProperty(`<Property Name="P" Type="Edm.Text"/>`), `unknown Edm type: Type="Edm.Text"`},
		{"unknown element type", withProperty(`<Property Name="P" Type="Collection(Edm.Text)"/>`), "unknown Edm type"},
		{"unqualified type", withProperty(`<Property Name="P" Type="String"/>`), "not a qualified name"},
		{"unclosed collection", withProperty(`<Property Name="P" Type="Collection(Edm.String"/>`), "unclosed Collection"},
		{"empty collection", withProperty(`<Property Name="P" Type="Collection()"/>`), "not a qualified name"},
		{"nullable", withProperty(`<Property Name="P" Type="Edm.String" Nullable="no"/>`), `not a boolean: Nullable="no"`},
		{"max length", withProperty(`<Property Name="P" Type="Edm.String" MaxLength="ten"/>`), `MaxLength="ten"`},
		{"negative precision", withProperty(`<Property Name="P" Type="Edm.Decimal" Precision="-1"/>`), `Precision="-1"`},
		{"scale", withProperty(`<Property Name="P" Type="Edm.Decimal" Precision="9" Scale="some"/>`), `Scale="some"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse = %+v, %v; want an error containing %q", doc, err, tc.want)
			}
			if err != nil && doc != nil {
				t.Errorf("Parse returned a document with error %v", err)
			}
		})
	}
}

// FuzzParse checks that Parse never panics and that what it returns keeps
// its contract.
func FuzzParse(f *testing.F) {
	var rendered bytes.Buffer
	if err := WriteMetadata(&rendered, testModel(true)); err != nil {
		f.Fatal(err)
	}
	f.Add(rendered.Bytes())
	f.Add([]byte(foreignDoc))
	f.Add([]byte(withProperty(`<Property Name="P" Type="Collection(B.X)" MaxLength="max" Scale="variable"/>`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Parse(data)
		if err != nil {
			return
		}
		for _, s := range doc.Sets {
			if s.KeyProblem != "" && len(s.Key) != 0 {
				t.Errorf("%s: key %v despite %q", s.Name, s.Key, s.KeyProblem)
			}
			for _, k := range s.Key {
				if s.Property(k.Name) != k {
					t.Errorf("%s: key %s is not one of the properties", s.Name, k.Name)
				}
			}
			if doc.Set(s.Name) != s {
				t.Errorf("set %s is not unique", s.Name)
			}
		}
	})
}
