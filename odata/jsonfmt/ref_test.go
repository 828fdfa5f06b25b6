package jsonfmt

import (
	"bytes"
	"testing"
)

func TestReferences(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{})
	n := int64(3)
	w.BeginCollection("https://h/odata/$metadata#Collection($ref)", &n)
	w.EncodeRef("https://h/odata/Orders(1)")
	w.WriteEncoded()
	if size := w.EncodeRef(`https://h/odata/Customers('a"b')`); size <= 0 {
		t.Fatal("EncodeRef sized 0")
	}
	w.WriteEncoded()
	w.EndCollection("https://h/odata/Customers('x')/Orders/$ref?$skiptoken=t")
	want := `{"@odata.context":"https://h/odata/$metadata#Collection($ref)","@odata.count":3,"value":[` +
		`{"@odata.id":"https://h/odata/Orders(1)"},{"@odata.id":"https://h/odata/Customers('a\"b')"}],` +
		`"@odata.nextLink":"https://h/odata/Customers('x')/Orders/$ref?$skiptoken=t"}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
	for _, tc := range []struct {
		opt  Options
		want string
	}{
		{Options{}, `{"@odata.context":"https://h/odata/$metadata#$ref","@odata.id":"https://h/odata/Customers('ALFKI')"}` + "\n"},
		{Options{Metadata: None}, `{"@odata.id":"https://h/odata/Customers('ALFKI')"}` + "\n"},
	} {
		if got := string(AppendRef(nil, tc.opt, "https://h/odata/$metadata#$ref", "https://h/odata/Customers('ALFKI')")); got != tc.want {
			t.Errorf("AppendRef = %s, want %s", got, tc.want)
		}
	}
}
