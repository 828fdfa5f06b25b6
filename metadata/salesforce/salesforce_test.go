package salesforce

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
)

func TestFieldType(t *testing.T) {
	tests := []struct {
		name                string
		typ                 metadata.Type
		maxLen, prec, scale int
		variable            bool
		want                string
		warn                string // substring of a warning; "" = no warnings
	}{
		{"string no maxlength", metadata.String, 0, 0, 0, false, "Text(128)", "Text(128)"},
		{"string 10", metadata.String, 10, 0, 0, false, "Text(10)", ""},
		{"string 255", metadata.String, 255, 0, 0, false, "Text(255)", ""},
		{"string 256", metadata.String, 256, 0, 0, false, "Long Text Area(256)", "cannot be used in SOQL WHERE"},
		{"string max", metadata.String, MaxLengthMax, 0, 0, false, "Long Text Area(131072)", "max"},
		{"string huge", metadata.String, 1 << 20, 0, 0, false, "Long Text Area(131072)", "truncated"},
		{"boolean", metadata.Boolean, 0, 0, 0, false, "Checkbox", ""},
		{"byte", metadata.Byte, 0, 0, 0, false, "Number", ""},
		{"sbyte", metadata.SByte, 0, 0, 0, false, "Number", ""},
		{"int16", metadata.Int16, 0, 0, 0, false, "Number", ""},
		{"int32", metadata.Int32, 0, 0, 0, false, "Number", ""},
		{"int64", metadata.Int64, 0, 0, 0, false, "Number", "18"},
		{"double", metadata.Double, 0, 0, 0, false, "Number", ""},
		{"single", metadata.Single, 0, 0, 0, false, "Number", ""},
		{"decimal 18,2", metadata.Decimal, 0, 18, 2, false, "Number(16,2)", ""},
		{"decimal 10,0", metadata.Decimal, 0, 10, 0, false, "Number(10,0)", ""},
		{"decimal 38,4", metadata.Decimal, 0, 38, 4, false, "Number(34,4)", "Precision 38 exceeds"},
		{"decimal variable", metadata.Decimal, 0, 0, 0, true, "Number", "default number of decimal places"},
		{"decimal precision variable", metadata.Decimal, 0, 20, 0, true, "Number", "Precision 20 exceeds"},
		{"date", metadata.Date, 0, 0, 0, false, "Date/Time", "zero time"},
		{"datetimeoffset ms", metadata.DateTimeOffset, 0, 3, 0, false, "Date/Time", ""},
		{"datetimeoffset us", metadata.DateTimeOffset, 0, 6, 0, false, "Date/Time", "sub-millisecond"},
		{"datetimeoffset undeclared", metadata.DateTimeOffset, 0, 0, 0, false, "Date/Time", "sub-millisecond"},
		{"guid", metadata.Guid, 0, 0, 0, false, "Text(36)", ""},
		{"binary", metadata.Binary, 0, 0, 0, false, "Text Area", "base64"},
		{"timeofday", metadata.TimeOfDay, 0, 0, 0, false, "Unsupported", "Edm.String"},
		{"duration", metadata.Duration, 0, 0, 0, false, "Unsupported", "Edm.Duration"},
		{"stream", "Stream", 0, 0, 0, false, "Unsupported", "Edm.Stream is not mapped"},
		{"enum", "NS.Color", 0, 0, 0, false, "Unsupported", "NS.Color is not mapped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, warns := FieldType(tc.typ, tc.maxLen, tc.prec, tc.scale, tc.variable)
			if got != tc.want {
				t.Errorf("type = %q, want %q", got, tc.want)
			}
			if tc.warn == "" {
				if len(warns) != 0 {
					t.Errorf("unexpected warnings %q", warns)
				}
				return
			}
			if !containsAny(warns, tc.warn) {
				t.Errorf("warnings %q lack %q", warns, tc.warn)
			}
		})
	}
}

// Every type in the mapping table is mapped to something other than
// Unsupported by FieldType, and vice versa for the table's Salesforce column.
func TestMappingsAgreeWithFieldType(t *testing.T) {
	for _, m := range Mappings {
		got, _ := FieldType(m.Edm, 10, 10, 2, false)
		if got == Unsupported {
			t.Errorf("%s is in Mappings but FieldType says Unsupported", m.Edm)
		}
		if !strings.HasPrefix(m.Salesforce, strings.SplitN(got, "(", 2)[0]) {
			t.Errorf("%s: table says %q, FieldType says %q", m.Edm, m.Salesforce, got)
		}
	}
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		want []string // substrings, one per expected message; nil = valid
	}{
		{"Customers", nil},
		{"Order_Detail", nil},
		{"A1", nil},
		{strings.Repeat("a", 40), nil},
		{strings.Repeat("a", 41), []string{"41 characters"}},
		{"", []string{"empty"}},
		{"1abc", []string{"start with a letter"}},
		{"_abc", []string{"start with a letter"}},
		{"abc_", []string{"ends with an underscore"}},
		{"a__b", []string{"double underscore"}},
		{"order-lines", []string{"'-'"}},
		{"Größe", []string{"'ö'", "'ß'"}},
		{"has space", []string{"' '"}},
		{"Id", []string{"standard external-object field Id"}},
		{"externalid", []string{"ExternalId"}},
		{"DisplayUrl", []string{"DisplayUrl"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckName(tc.name)
			if tc.want == nil {
				if got != nil {
					t.Fatalf("CheckName(%q) = %q, want valid", tc.name, got)
				}
				if !metadata.ValidName(tc.name) {
					t.Fatalf("metadata.ValidName(%q) disagrees", tc.name)
				}
				return
			}
			for _, w := range tc.want {
				if !containsAny(got, w) {
					t.Errorf("CheckName(%q) = %q, lacks %q", tc.name, got, w)
				}
			}
		})
	}
}

func testModel() *metadata.Model {
	cust := &metadata.EntitySet{Name: "Customers", Kind: metadata.KindTable}
	id := &metadata.Property{Name: "CustomerID", Type: metadata.String, MaxLength: 10, FixedChar: true}
	name := &metadata.Property{Name: "Name", Type: metadata.String, Nullable: true}
	limit := &metadata.Property{Name: "CreditLimit", Type: metadata.Decimal, Precision: 38, Scale: 2, Nullable: true}
	active := &metadata.Property{Name: "Active", Type: metadata.Boolean, Nullable: true}
	at := &metadata.Property{Name: "At", Type: metadata.TimeOfDay, Nullable: true}
	cust.Properties = []*metadata.Property{id, name, limit, active, at}
	cust.Key = []*metadata.Property{id}

	lines := &metadata.EntitySet{Name: "Order_Lines_View", Kind: metadata.KindView, ReadOnly: true}
	o := &metadata.Property{Name: "OrderID", Type: metadata.Int32}
	p := &metadata.Property{Name: "ProductID", Type: metadata.Int32}
	q := &metadata.Property{Name: "Qty", Type: metadata.Int32}
	lines.Properties = []*metadata.Property{o, p, q}
	lines.Key = []*metadata.Property{o, p}

	bad := &metadata.EntitySet{Name: "bad__set", Kind: metadata.KindTable}
	bad.Properties = []*metadata.Property{
		{Name: "id", Type: metadata.Int32},
		{Name: "ID", Type: metadata.Int32},
		{Name: "a_very_long_property_name_that_is_too_long", Type: metadata.String, MaxLength: 20},
	}
	return metadata.NewModel("ns", nil, cust, lines, bad)
}

func TestReport(t *testing.T) {
	rep := Report(testModel())
	if len(rep) != 3 {
		t.Fatalf("got %d reports", len(rep))
	}
	by := map[string]SetReport{}
	for _, r := range rep {
		by[r.Set] = r
	}
	c := by["Customers"]
	if c.Object != "Customers__x" || len(c.Errors) != 0 || strings.Join(c.Key, ",") != "CustomerID" {
		t.Errorf("Customers report: %+v", c)
	}
	if !containsAny(c.Warnings, "char(n)") {
		t.Errorf("Customers: no char(n) key warning in %q", c.Warnings)
	}
	fields := map[string]FieldReport{}
	for _, f := range c.Fields {
		fields[f.Property] = f
	}
	wantFields := []struct{ prop, field, sf, warn string }{
		{"CustomerID", "CustomerID__c", "Text(10)", "right-trimmed"},
		{"Name", "Name__c", "Text(128)", "Text(128)"},
		{"CreditLimit", "CreditLimit__c", "Number(36,2)", "Precision 38"},
		{"Active", "Active__c", "Checkbox", "never null"},
		{"At", "At__c", "Unsupported", "Edm.TimeOfDay"},
	}
	for _, w := range wantFields {
		f := fields[w.prop]
		if f.Field != w.field || f.Type != w.sf || !containsAny(f.Warnings, w.warn) {
			t.Errorf("%s: got %+v, want field %s type %s warning ~%q", w.prop, f, w.field, w.sf, w.warn)
		}
	}
	if !fields["CustomerID"].Key || fields["Name"].Key {
		t.Errorf("key flags wrong")
	}

	l := by["Order_Lines_View"]
	if !containsAny(l.Warnings, "composite key (OrderID, ProductID)") || !containsAny(l.Warnings, "read-only view") {
		t.Errorf("Order_Lines_View warnings: %q", l.Warnings)
	}

	b := by["bad__set"]
	if !containsAny(b.Errors, "double underscore") || !containsAny(b.Errors, "no key") {
		t.Errorf("bad__set errors: %q", b.Errors)
	}
	if !containsAny(b.Fields[1].Errors, "only in case") || !containsAny(b.Fields[2].Errors, "42 characters") {
		t.Errorf("bad__set field errors: %+v", b.Fields)
	}
	ne, nw := Problems(rep)
	if ne != 4 || nw < 7 {
		t.Errorf("Problems = %d errors, %d warnings", ne, nw)
	}
}

func TestWriteTextAndJSON(t *testing.T) {
	rep := Report(testModel())
	var buf bytes.Buffer
	if err := WriteText(&buf, rep); err != nil {
		t.Fatal(err)
	}
	text := buf.String()
	for _, want := range []string{
		"Customers -> Customers__x (key: CustomerID)",
		"Order_Lines_View -> Order_Lines_View__x (key: OrderID, ProductID, read-only)",
		"bad__set -> bad__set__x (key: none)",
		"* CustomerID",
		"Text(10)",
		"ERROR no key",
		"3 entity sets, 4 errors,",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text report lacks %q:\n%s", want, text)
		}
	}
	buf.Reset()
	if err := WriteJSON(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var back []SetReport
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if len(back) != 3 || back[0].Fields[0].Field != rep[0].Fields[0].Field || back[0].Fields[0].Type != rep[0].Fields[0].Type {
		t.Errorf("JSON round trip differs: %+v", back)
	}
	if !strings.Contains(buf.String(), `"object": "Customers__x"`) {
		t.Errorf("JSON lacks object name:\n%s", buf.String())
	}
}

func containsAny(msgs []string, sub string) bool {
	for _, m := range msgs {
		if strings.Contains(m, sub) {
			return true
		}
	}
	return false
}

func TestReportLookups(t *testing.T) {
	parent := &metadata.Property{Name: "CustomerID", Type: metadata.String, MaxLength: 10}
	child := &metadata.Property{Name: "Cust", Type: metadata.String, MaxLength: 10}
	a := &metadata.Property{Name: "A", Type: metadata.Int32}
	b := &metadata.Property{Name: "B", Type: metadata.Int32}
	set := &metadata.EntitySet{Name: "Orders", Kind: metadata.KindTable, Properties: []*metadata.Property{child, a, b},
		Key: []*metadata.Property{a},
		ForeignKeys: []metadata.ForeignKey{
			{Name: "orders_cust_fkey", Properties: []*metadata.Property{child}, Target: "Customers", TargetKey: []string{parent.Name}},
			{Name: "orders_ab_fkey", Properties: []*metadata.Property{a, b}, Target: "Lines", TargetKey: []string{"X", "Y"}},
		}}
	r := ReportSet(set)
	want := []Lookup{
		{Field: "Cust__c", Object: "Customers__x", Via: "orders_cust_fkey", Supported: true},
		{Field: "A__c, B__c", Object: "Lines__x", Via: "orders_ab_fkey", Supported: false,
			Note: "composite foreign key: Salesforce lookups match one field against the parent's External ID"},
	}
	if len(r.Lookups) != len(want) {
		t.Fatalf("lookups %+v", r.Lookups)
	}
	for i := range want {
		if r.Lookups[i] != want[i] {
			t.Errorf("lookup %d = %+v, want %+v", i, r.Lookups[i], want[i])
		}
	}
	var buf strings.Builder
	if err := WriteText(&buf, []SetReport{r}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "LOOKUP Cust__c -> External Lookup Relationship to Customers__x (foreign key orders_cust_fkey)") ||
		!strings.Contains(buf.String(), "LOOKUP A__c, B__c -> Lines__x: not possible") {
		t.Fatalf("text report:\n%s", buf.String())
	}
}
