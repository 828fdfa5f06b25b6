package jsonfmt

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

func TestEncodeRow(t *testing.T) {
	members := []Member{
		{Path: []string{"Customer", "Country"}, P: prop("Country", metadata.String)},
		{Path: []string{"Customer", "Region", "Name"}, P: prop("Name", metadata.String)},
		{Path: []string{"Status"}, P: prop("Status", metadata.String)},
		{Path: []string{"TotalSum"}, P: prop("TotalSum", metadata.Decimal), Dynamic: true},
		{Path: []string{"Count"}, P: prop("Count", metadata.Int64), Dynamic: true},
		{Path: []string{"Avg"}, P: prop("Avg", metadata.Double), Dynamic: true},
	}
	vals := []edm.Value{{Text: []byte("DE")}, {Null: true}, {Text: []byte("open")}, {Text: []byte("12.50")}, {Int: 3}, {Float: 2.5}}
	cases := []struct {
		opt  Options
		want string
	}{
		{Options{}, `{"Customer":{"Country":"DE","Region":{"Name":null}},"Status":"open","TotalSum@odata.type":"#Decimal","TotalSum":12.50,"Count@odata.type":"#Int64","Count":3,"Avg":2.5}`},
		{Options{IEEE754Compatible: true, Metadata: None}, `{"Customer":{"Country":"DE","Region":{"Name":null}},"Status":"open","TotalSum":"12.50","Count":"3","Avg":2.5}`},
		{Options{Metadata: Full}, `{"@odata.id":null,"Customer":{"Country":"DE","Region":{"Name":null}},"Status":"open","TotalSum@odata.type":"#Decimal","TotalSum":12.50,"Count@odata.type":"#Int64","Count":3,"Avg":2.5}`},
	}
	for _, c := range cases {
		var buf bytes.Buffer
		w := NewWriter(&buf, c.opt)
		w.BeginCollection("ctx", nil)
		w.EncodeRow(members, vals)
		w.WriteEncoded()
		w.EncodeRow(members[2:3], vals[2:3])
		w.WriteEncoded()
		w.EndCollection("")
		want := `{"@odata.context":"ctx","value":[` + c.want + `,{"Status":"open"}]}` + "\n"
		if c.opt.Metadata == None {
			want = `{"value":[` + c.want + `,{"Status":"open"}]}` + "\n"
		}
		if c.opt.Metadata == Full {
			want = `{"@odata.context":"ctx","value":[` + c.want + `,{"@odata.id":null,"Status":"open"}]}` + "\n"
		}
		if got := buf.String(); got != want {
			t.Errorf("%+v:\n got %s\nwant %s", c.opt, got, want)
		}
		if !json.Valid(buf.Bytes()) {
			t.Errorf("invalid JSON %s", buf.String())
		}
	}
}

func TestApplyContextURL(t *testing.T) {
	members := []Member{
		{Path: []string{"Customer", "Country"}},
		{Path: []string{"Customer", "Region", "Name"}},
		{Path: []string{"Customer", "Region", "Code"}},
		{Path: []string{"Status"}},
		{Path: []string{"TotalSum"}},
	}
	got := ApplyContextURL("http://h/odata/", "Orders", members)
	if want := "http://h/odata/$metadata#Orders(Customer(Country,Region(Name,Code)),Status,TotalSum)"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
