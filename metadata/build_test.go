package metadata_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/metadata"
)

func TestValidName(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"Customers", true},
		{"order_lines", true},
		{"A1_b2", true},
		{"x", true},
		{strings.Repeat("a", 40), true},
		{strings.Repeat("a", 41), false},
		{"", false},
		{"1abc", false},
		{"_abc", false},
		{"abc_", false},
		{"a__b", false},
		{"a b", false},
		{"a-b", false},
		{"Größe", false},
		{"a$b", false},
	}
	for _, tt := range tests {
		if got := metadata.ValidName(tt.in); got != tt.want {
			t.Errorf("ValidName(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestSanitizeName(t *testing.T) {
	long := strings.Repeat("very_long_table_name_", 3) // 63 chars
	tests := []struct {
		in   string
		want string // "" = only check validity and length
	}{
		{"Customers", "Customers"},
		{"order_lines", "order_lines"},
		{"Mixed Case", "Mixed_Case"},
		{"order-lines", "order_lines"},
		{"  spaced  out  ", "spaced_out"},
		{"2fa_codes", "X2fa_codes"},
		{"123", "X123"},
		{"a__b", "a_b"},
		{"a___b__c", "a_b_c"},
		{"trailing_", "trailing"},
		{"_leading", "leading"},
		{"Größe", "Gr_e"},
		{"Weird \"Quoted\" col", "Weird_Quoted_col"},
		{"???", "X"},
		{"", "X"},
		{long, ""},
		{"1" + long, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := metadata.SanitizeName(tt.in)
			if !metadata.ValidName(got) {
				t.Errorf("SanitizeName(%q) = %q is not a valid name", tt.in, got)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("SanitizeName(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := metadata.SanitizeName(tt.in); again != got {
				t.Errorf("not deterministic: %q then %q", got, again)
			}
		})
	}

	t.Run("long names keep a prefix and get a hash", func(t *testing.T) {
		a := metadata.SanitizeName(long + "alpha")
		b := metadata.SanitizeName(long + "beta")
		if len(a) != metadata.MaxNameLength || len(b) != metadata.MaxNameLength {
			t.Errorf("lengths %d, %d; want %d", len(a), len(b), metadata.MaxNameLength)
		}
		if a == b {
			t.Errorf("two long names sharing a prefix collide: %q", a)
		}
		if !strings.HasPrefix(a, "very_long_table_name_very_long") {
			t.Errorf("prefix lost: %q", a)
		}
		// A 41-character name of valid characters is shortened too.
		if got := metadata.SanitizeName(strings.Repeat("b", 41)); len(got) != 40 || !metadata.ValidName(got) {
			t.Errorf("41 chars: %q", got)
		}
	})
}

// col is a shorthand for a supported nullable String column.
func col(name string) metadata.Column {
	return metadata.Column{Name: name, DBType: "text", Type: metadata.String, Nullable: true, MaxLength: 50}
}

func intCol(name string) metadata.Column {
	return metadata.Column{Name: name, DBType: "int4", Type: metadata.Int32}
}

func table(schema, name string, kind metadata.Kind, key []string, cols ...metadata.Column) metadata.Table {
	return metadata.Table{Schema: schema, Name: name, Kind: kind, PrimaryKey: key, Columns: cols}
}

func setNames(m *metadata.Model) []string {
	var out []string
	for _, s := range m.Sets {
		out = append(out, s.Name)
	}
	return out
}

func propNames(s *metadata.EntitySet) []string {
	var out []string
	for _, p := range s.Properties {
		out = append(out, p.Name)
	}
	return out
}

func hasWarning(warns []metadata.Warning, object, fragment string) bool {
	for _, w := range warns {
		if w.Object == object && strings.Contains(w.Msg, fragment) {
			return true
		}
	}
	return false
}

func TestBuildNaming(t *testing.T) {
	tests := []struct {
		name      string
		tables    []metadata.Table
		wantSets  []string
		wantWarns []string // "object|fragment"
	}{
		{
			name:     "valid names unchanged",
			tables:   []metadata.Table{table("public", "Customers", metadata.KindTable, []string{"id"}, intCol("id"))},
			wantSets: []string{"Customers"},
		},
		{
			name: "invalid names sanitised with a warning",
			tables: []metadata.Table{
				table("public", "order lines", metadata.KindTable, []string{"id"}, intCol("id")),
				table("public", "2fa-codes", metadata.KindTable, []string{"id"}, intCol("id")),
			},
			wantSets: []string{"X2fa_codes", "order_lines"},
			wantWarns: []string{
				`public.order lines|exposed as "order_lines"`,
				`public.2fa-codes|exposed as "X2fa_codes"`,
			},
		},
		{
			name: "same table name in two schemas gets a schema prefix",
			tables: []metadata.Table{
				table("sales", "orders", metadata.KindTable, []string{"id"}, intCol("id")),
				table("archive", "orders", metadata.KindTable, []string{"id"}, intCol("id")),
				table("sales", "customers", metadata.KindTable, []string{"id"}, intCol("id")),
			},
			wantSets: []string{"archive_orders", "customers", "sales_orders"},
		},
		{
			name: "case-insensitive collision gets a numeric suffix",
			tables: []metadata.Table{
				table("public", "customers", metadata.KindTable, []string{"id"}, intCol("id")),
				table("public", "Customers", metadata.KindTable, []string{"id"}, intCol("id")),
			},
			wantSets:  []string{"Customers", "customers_2"},
			wantWarns: []string{`public.customers|exposed as "customers_2"`},
		},
		{
			name: "collision after sanitising",
			tables: []metadata.Table{
				table("", "a-b", metadata.KindTable, []string{"id"}, intCol("id")),
				table("", "a_b", metadata.KindTable, []string{"id"}, intCol("id")),
				table("", "a b", metadata.KindTable, []string{"id"}, intCol("id")),
			},
			// The table whose name is already valid keeps it.
			wantSets:  []string{"a_b", "a_b_2", "a_b_3"},
			wantWarns: []string{`a b|exposed as "a_b_2"`, `a-b|exposed as "a_b_3"`},
		},
		{
			name: "derived name never takes a valid name, whatever the order",
			tables: []metadata.Table{
				table("", "orders", metadata.KindTable, []string{"id"}, intCol("id")),
				table("", "ORDERS!", metadata.KindTable, []string{"id"}, intCol("id")),
			},
			wantSets:  []string{"ORDERS_2", "orders"},
			wantWarns: []string{`ORDERS!|exposed as "ORDERS_2"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, warns, err := metadata.Build(metadata.Source{Tables: tt.tables}, metadata.Overlay{})
			if err != nil {
				t.Fatal(err)
			}
			if got := setNames(m); !reflect.DeepEqual(got, tt.wantSets) {
				t.Errorf("sets %q, want %q", got, tt.wantSets)
			}
			for _, w := range tt.wantWarns {
				obj, frag, _ := strings.Cut(w, "|")
				if !hasWarning(warns, obj, frag) {
					t.Errorf("missing warning %s: ...%s... in %v", obj, frag, warns)
				}
			}
			for _, s := range m.Sets {
				if !metadata.ValidName(s.Name) {
					t.Errorf("invalid set name %q", s.Name)
				}
				if m.Set(s.Name) != s || m.SetFold(strings.ToUpper(s.Name)) == nil {
					t.Errorf("lookup of %q fails", s.Name)
				}
			}
		})
	}
}

func TestBuildPropertyNaming(t *testing.T) {
	src := metadata.Source{Tables: []metadata.Table{table("public", "t", metadata.KindTable, []string{"id"},
		intCol("id"), col("Name"), col("name"), col("order id"), col("order_id"), col("1st"),
		col(strings.Repeat("x", 45)))}}
	m, warns, err := metadata.Build(src, metadata.Overlay{})
	if err != nil {
		t.Fatal(err)
	}
	s := m.Set("t")
	got := propNames(s)
	// "order_id" keeps its name; the sanitised "order id" yields.
	want := []string{"id", "Name", "name_2", "order_id_2", "order_id", "X1st", metadata.SanitizeName(strings.Repeat("x", 45))}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("properties %q, want %q", got, want)
	}
	if !hasWarning(warns, "public.t.name", `exposed as "name_2"`) || !hasWarning(warns, "public.t.order id", `exposed as "order_id_2"`) {
		t.Errorf("no collision warning: %v", warns)
	}
	for i, p := range s.Properties {
		if p.Index != i || s.Property(p.Name) != p || s.PropertyFold(strings.ToUpper(p.Name)) != p {
			t.Errorf("property %q: index %d or lookup broken", p.Name, p.Index)
		}
	}
	if s.Properties[3].Column != "order id" {
		t.Errorf("storage column lost: %q", s.Properties[3].Column)
	}
}

func TestBuildConfiguredNamesWin(t *testing.T) {
	src := metadata.Source{Tables: []metadata.Table{
		table("a", "customers", metadata.KindTable, []string{"id"}, intCol("id"), col("Label"), col("x")),
		table("b", "cust_master", metadata.KindTable, []string{"id"}, intCol("id")),
		table("b", "customers", metadata.KindTable, []string{"id"}, intCol("id")),
	}}
	ov := metadata.Overlay{Sets: map[string]metadata.SetOverlay{
		"b.cust_master": {Name: "Customers"},
		"b.customers":   {Hide: true},
		"a.customers":   {Properties: map[string]metadata.PropertyOverlay{"x": {Name: "label"}}},
	}}
	m, warns, err := metadata.Build(src, ov)
	if err != nil {
		t.Fatal(err)
	}
	// b.customers is hidden, so a.customers needs no schema prefix; the
	// configured "Customers" wins the case-insensitive collision.
	if got := setNames(m); !reflect.DeepEqual(got, []string{"Customers", "customers_2"}) {
		t.Errorf("sets %q (warnings %v)", got, warns)
	}
	if s := m.Set("customers_2"); s == nil || s.Schema != "a" {
		t.Fatalf("a.customers: %+v", s)
	} else if got := propNames(s); !reflect.DeepEqual(got, []string{"id", "Label_2", "label"}) {
		t.Errorf("properties %q", got)
	}
}

func TestBuildDeterministic(t *testing.T) {
	var tables []metadata.Table
	for i := 0; i < 30; i++ {
		tables = append(tables, table(fmt.Sprintf("s%d", i%3), fmt.Sprintf("T %d", i%7), metadata.KindTable,
			[]string{"id"}, intCol("id"), col("a b"), col("A-B")))
	}
	build := func(ts []metadata.Table) string {
		m, warns, err := metadata.Build(metadata.Source{Tables: ts}, metadata.Overlay{})
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, s := range m.Sets {
			fmt.Fprintf(&b, "%s=%s.%s%q;", s.Name, s.Schema, s.Table, propNames(s))
		}
		fmt.Fprint(&b, warns)
		return b.String()
	}
	first := build(tables)
	rev := make([]metadata.Table, len(tables))
	for i := range tables {
		rev[len(tables)-1-i] = tables[i]
	}
	if again := build(rev); again != first {
		t.Errorf("input order changes the model:\n%s\n%s", first, again)
	}
}

func TestBuildOverlay(t *testing.T) {
	src := metadata.Source{Tables: []metadata.Table{
		table("erp", "customers", metadata.KindTable, []string{"customer_id"},
			col("customer_id"), col("name"), col("city"), col("secret"),
			metadata.Column{Name: "version", DBType: "int8", Type: metadata.Int64}),
		table("erp", "orders", metadata.KindTable, []string{"order_id"}, intCol("order_id"), col("customer_id")),
		table("erp", "audit", metadata.KindTable, []string{"id"}, intCol("id")),
		table("erp", "v_sales", metadata.KindView, nil, col("region"), intCol("year"), col("note")),
	}}
	src.Tables[1].ForeignKeys = []metadata.ForeignKeySource{{Name: "orders_customer_fk",
		Columns: []string{"customer_id"}, RefSchema: "erp", RefTable: "customers", RefColumns: []string{"customer_id"}}}
	src.Tables[0].ForeignKeys = []metadata.ForeignKeySource{{Name: "to_audit",
		Columns: []string{"name"}, RefSchema: "erp", RefTable: "audit", RefColumns: []string{"id"}}}
	ov := metadata.Overlay{
		Namespace: "erp",
		Zone:      time.FixedZone("CET", 3600),
		Sets: map[string]metadata.SetOverlay{
			"erp.customers": {
				Name:   "Customer",
				Search: []string{"name"},
				ETag:   "version",
				Properties: map[string]metadata.PropertyOverlay{
					"customer_id": {Name: "CustomerID"},
					"secret":      {Hide: true},
					"city":        {ReadOnly: true},
				},
			},
			"audit":   {Hide: true},
			"v_sales": {Key: []string{"region", "year"}, ETagHash: true},
			"orders":  {ReadOnly: true},
		},
	}
	m, _, err := metadata.Build(src, ov)
	if err != nil {
		t.Fatal(err)
	}
	if m.Namespace != "erp" || m.Zone.String() != "CET" || m.Container == "" {
		t.Errorf("namespace %q zone %v container %q", m.Namespace, m.Zone, m.Container)
	}
	if got := setNames(m); !reflect.DeepEqual(got, []string{"Customer", "orders", "v_sales"}) {
		t.Fatalf("sets %q", got)
	}
	c := m.Set("Customer")
	if c.Table != "customers" || c.Schema != "erp" || c.ReadOnly {
		t.Errorf("Customer: %+v", c)
	}
	if got := propNames(c); !reflect.DeepEqual(got, []string{"CustomerID", "name", "city", "version"}) {
		t.Errorf("Customer properties %q", got)
	}
	if len(c.Key) != 1 || c.Key[0].Name != "CustomerID" || c.Key[0].Column != "customer_id" || c.Key[0].Nullable {
		t.Errorf("Customer key %+v", c.Key)
	}
	if !c.Property("city").ReadOnly || c.Property("name").ReadOnly {
		t.Error("property read-only overlay not applied")
	}
	if len(c.Searchable) != 1 || c.Searchable[0].Name != "name" {
		t.Errorf("searchable %+v", c.Searchable)
	}
	if c.ETag != c.Property("version") || c.ETagHash {
		t.Errorf("etag %+v hash %v", c.ETag, c.ETagHash)
	}
	if len(c.ForeignKeys) != 0 {
		t.Errorf("foreign key to a hidden set kept: %+v", c.ForeignKeys)
	}

	o := m.Set("orders")
	if !o.ReadOnly {
		t.Error("orders not read-only")
	}
	if len(o.Searchable) != 1 || o.Searchable[0].Name != "customer_id" {
		t.Errorf("default searchable = all strings: %+v", o.Searchable)
	}
	wantFK := []metadata.ForeignKey{{Name: "orders_customer_fk", Properties: []*metadata.Property{o.Property("customer_id")},
		Target: "Customer", TargetKey: []string{"CustomerID"}}}
	if !reflect.DeepEqual(o.ForeignKeys, wantFK) {
		t.Errorf("orders FKs %+v", o.ForeignKeys)
	}

	v := m.Set("v_sales")
	if !v.ReadOnly || v.Kind != metadata.KindView || !v.ETagHash {
		t.Errorf("view: %+v", v)
	}
	if len(v.Key) != 2 || v.Key[0].Name != "region" || v.Key[1].Name != "year" || v.Key[0].Nullable {
		t.Errorf("view key %+v", v.Key)
	}
	if !v.IsKey(v.Property("year")) || v.IsKey(v.Property("note")) {
		t.Error("IsKey")
	}

	ro, _, err := metadata.Build(src, metadata.Overlay{ReadOnly: true, Sets: map[string]metadata.SetOverlay{"v_sales": {Key: []string{"region", "year"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range ro.Sets {
		if !s.ReadOnly {
			t.Errorf("global read-only: %s writable", s.Name)
		}
	}
	if ro.Namespace != "odatagw" || ro.Zone != time.UTC {
		t.Errorf("defaults: namespace %q zone %v", ro.Namespace, ro.Zone)
	}
}

func TestBuildSkips(t *testing.T) {
	unsupported := metadata.Column{Name: "tags", DBType: "_text", Unsupported: "array type _text has no Edm mapping"}
	noted := metadata.Column{Name: "doc", DBType: "jsonb", Type: metadata.String, Nullable: true, Note: "jsonb mapped to Edm.String"}
	gen := metadata.Column{Name: "total", DBType: "numeric", Type: metadata.Decimal, Precision: 10, Scale: 2, Generated: true, Nullable: true}
	dbl := metadata.Column{Name: "x", DBType: "float8", Type: metadata.Double}
	src := metadata.Source{Tables: []metadata.Table{
		table("s", "keyless_view", metadata.KindView, nil, intCol("id")),
		table("s", "keyless_matview", metadata.KindMaterializedView, nil, intCol("id")),
		table("s", "keyless_table", metadata.KindTable, nil, intCol("id")),
		table("s", "only_unsupported", metadata.KindTable, []string{"tags"}, unsupported),
		table("s", "unsupported_key", metadata.KindTable, []string{"tags"}, unsupported, intCol("id")),
		table("s", "double_key", metadata.KindTable, []string{"x"}, dbl),
		table("s", "ok", metadata.KindTable, []string{"id"}, intCol("id"), unsupported, noted, gen),
	}}
	m, warns, err := metadata.Build(src, metadata.Overlay{})
	if err != nil {
		t.Fatal(err)
	}
	if got := setNames(m); !reflect.DeepEqual(got, []string{"ok"}) {
		t.Errorf("sets %q, want only ok", got)
	}
	for _, w := range []struct{ obj, frag string }{
		{"s.keyless_view", "configure one with key"},
		{"s.keyless_matview", "no key"},
		{"s.keyless_table", "no primary key"},
		{"s.only_unsupported", "no column with a supported type"},
		{"s.unsupported_key", `key column "tags" is missing or unsupported`},
		{"s.double_key", "cannot be a key"},
		{"s.ok.tags", "array type _text"},
		{"s.ok.doc", "jsonb mapped to Edm.String"},
	} {
		if !hasWarning(warns, w.obj, w.frag) {
			t.Errorf("missing warning %s: ...%s... in %v", w.obj, w.frag, warns)
		}
	}
	ok := m.Set("ok")
	if got := propNames(ok); !reflect.DeepEqual(got, []string{"id", "doc", "total"}) {
		t.Errorf("ok properties %q", got)
	}
	if p := ok.Property("total"); !p.Generated || !p.ReadOnly || !p.ServerGenerated() {
		t.Errorf("generated column: %+v", p)
	}
	if p := ok.Property("id"); p.ServerGenerated() || p.ReadOnly {
		t.Errorf("plain column: %+v", p)
	}
	// An unsupported column without a reason gets a generic one.
	m2, warns2, err := metadata.Build(metadata.Source{Tables: []metadata.Table{
		table("", "t", metadata.KindTable, []string{"id"}, intCol("id"), metadata.Column{Name: "g", DBType: "geometry"}),
	}}, metadata.Overlay{})
	if err != nil || m2.Set("t") == nil || !hasWarning(warns2, "t.g", "geometry has no Edm mapping") {
		t.Errorf("generic reason: err %v warnings %v", err, warns2)
	}
}

func TestBuildConfigErrors(t *testing.T) {
	src := metadata.Source{Tables: []metadata.Table{
		table("erp", "customers", metadata.KindTable, []string{"id"}, intCol("id"), col("name"), intCol("n")),
		table("erp", "v", metadata.KindView, nil, intCol("id")),
	}}
	tests := []struct {
		name string
		sets map[string]metadata.SetOverlay
		want string
	}{
		{"invalid set name", map[string]metadata.SetOverlay{"customers": {Name: "bad name"}}, `entity set name "bad name"`},
		{"set name too long", map[string]metadata.SetOverlay{"customers": {Name: strings.Repeat("a", 41)}}, "not a valid name"},
		{"invalid property name", map[string]metadata.SetOverlay{"customers": {Properties: map[string]metadata.PropertyOverlay{"name": {Name: "_x"}}}}, `property name "_x"`},
		{"unknown column", map[string]metadata.SetOverlay{"customers": {Properties: map[string]metadata.PropertyOverlay{"nope": {Name: "Nope"}}}}, `has no column "nope"`},
		{"unmatched overlay key", map[string]metadata.SetOverlay{"erp.nothing": {ReadOnly: true}}, `"erp.nothing" matches no table`},
		{"wrong schema", map[string]metadata.SetOverlay{"other.customers": {ReadOnly: true}}, `"other.customers" matches no table`},
		{"configured key column missing", map[string]metadata.SetOverlay{"v": {Key: []string{"nope"}}}, `key column "nope"`},
		{"search column not a string", map[string]metadata.SetOverlay{"customers": {Search: []string{"n"}}}, `search column "n"`},
		{"etag column unknown", map[string]metadata.SetOverlay{"customers": {ETag: "nope"}}, `etag column "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := metadata.Build(src, metadata.Overlay{Sets: tt.sets})
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "config: ") {
				t.Errorf("err = %v, want a config error containing %q", err, tt.want)
			}
			if m != nil {
				t.Error("model returned with an error")
			}
		})
	}
}

func TestNewModel(t *testing.T) {
	b := &metadata.EntitySet{Name: "b"}
	a := &metadata.EntitySet{Name: "a", Properties: []*metadata.Property{{Name: "x"}, {Name: "Y"}}}
	m := metadata.NewModel("ns", nil, b, a)
	if got := setNames(m); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("sets %q", got)
	}
	if m.Zone != time.UTC || m.Set("a") != a || m.SetFold("B") != b || m.Set("B") != nil {
		t.Error("lookups")
	}
	if a.Property("Y").Index != 1 || a.PropertyFold("y") == nil || a.Property("y") != nil {
		t.Error("property lookups")
	}
}
