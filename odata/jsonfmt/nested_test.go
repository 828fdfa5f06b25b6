package jsonfmt

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

func TestNested(t *testing.T) {
	id := prop("ID", metadata.Int32)
	name := prop("Name", metadata.String)
	total := prop("Total", metadata.Decimal)
	n2 := int64(2)
	orders := Nested{Name: "Orders", Many: true, Count: &n2, NextLink: "http://h/odata/Customers('A')/Orders?$skip=1",
		Entities: []Entity{{ID: "http://h/odata/Orders(1)", TypeName: "NS.Orders", Cols: []*metadata.Property{id, total},
			Vals: []edm.Value{{Int: 1}, {Text: []byte("9.50")}}, ETag: `W/"x"`,
			Nested: []Nested{{Name: "Lines", Many: true}, {Name: "Owner"}, {Name: "Notes", CountOnly: true, Count: &n2}}}}}
	refs := Nested{Name: "Refs", Many: true, Entities: []Entity{{Ref: true, ID: "http://h/odata/Orders(1)"}}}
	one := Nested{Name: "Best", Entities: []Entity{{Cols: []*metadata.Property{name}, Vals: []edm.Value{{Text: []byte("b")}}}}}

	var buf bytes.Buffer
	w := NewWriter(&buf, Options{})
	w.BeginCollection("http://h/odata/$metadata#Customers(Orders())", nil)
	w.EncodeEntityNested([]*metadata.Property{name}, []edm.Value{{Text: []byte("a")}}, "", []Nested{orders, refs, one})
	w.WriteEncoded()
	w.EncodeEntityNested(nil, nil, "", []Nested{{Name: "Orders", Many: true}})
	w.WriteEncoded()
	w.EndCollection("")
	want := `{"@odata.context":"http://h/odata/$metadata#Customers(Orders())","value":[` +
		`{"Name":"a","Orders@odata.count":2,"Orders":[{"@odata.etag":"W/\"x\"","ID":1,"Total":9.50,"Lines":[],"Owner":null,"Notes@odata.count":2}],` +
		`"Orders@odata.nextLink":"http://h/odata/Customers('A')/Orders?$skip=1",` +
		`"Refs":[{"@odata.id":"http://h/odata/Orders(1)"}],"Best":{"Name":"b"}},{"Orders":[]}]}` + "\n"
	if got := buf.String(); got != want {
		t.Errorf("collection:\n got %s\nwant %s", got, want)
	}
	if !json.Valid(buf.Bytes()) {
		t.Errorf("not JSON")
	}

	// Full: nested ids and types; None: no etag, no context.
	full := AppendSingleEntityNested(nil, Options{Metadata: Full, TypeName: "NS.Customers"}, "http://h/odata/Customers('A')",
		"ctx", []*metadata.Property{name}, []edm.Value{{Text: []byte("a")}}, "", []Nested{orders})
	if !json.Valid(full) || !bytes.Contains(full, []byte(`"Orders":[{"@odata.type":"#NS.Orders","@odata.id":"http://h/odata/Orders(1)","@odata.etag":"W/\"x\"","@odata.editLink":"http://h/odata/Orders(1)","ID@odata.type":"#Int32","ID":1`)) {
		t.Errorf("full: %s", full)
	}
	none := AppendSingleEntityNested(nil, Options{Metadata: None}, "", "ctx", nil, nil, "", []Nested{one})
	if string(none) != `{"Best":{"Name":"b"}}`+"\n" {
		t.Errorf("none: %s", none)
	}
}

func TestContextURLExpand(t *testing.T) {
	a := &metadata.Property{Name: "A"}
	b := &metadata.Property{Name: "B"}
	cases := []struct {
		selected []*metadata.Property
		expanded []ExpandContext
		entity   bool
		want     string
	}{
		{nil, nil, false, "http://h/odata/$metadata#Customers"},
		{nil, []ExpandContext{{Name: "Orders"}}, false, "http://h/odata/$metadata#Customers(Orders())"},
		{[]*metadata.Property{a}, []ExpandContext{{Name: "Orders", Selected: []*metadata.Property{b},
			Nested: []ExpandContext{{Name: "Lines"}}}}, true, "http://h/odata/$metadata#Customers(A,Orders(B,Lines()))/$entity"},
	}
	for _, tc := range cases {
		if got := ContextURLExpand("http://h/odata/", "Customers", tc.selected, tc.expanded, tc.entity); got != tc.want {
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}
