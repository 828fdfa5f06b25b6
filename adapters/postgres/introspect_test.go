package postgres

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/odatagw/odatagw/internal/golden"
	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/metadata"
)

// introspectFixtureDB returns a fresh database loaded with testdata/fixture.sql.
func introspectFixtureDB(t *testing.T) *sqlx.DB {
	t.Helper()
	dsn := pgtest.NewDB(t)
	ddl, err := os.ReadFile(filepath.Join("testdata", "fixture.sql"))
	if err != nil {
		t.Fatal(err)
	}
	pgtest.MustExec(t, dsn, string(ddl))
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// introspectGolden renders a Source for review: one line per table header,
// foreign key and column, zero-valued fields left out.
func introspectGolden(t *testing.T, src metadata.Source) []byte {
	t.Helper()
	var b bytes.Buffer
	line := func(indent string, v any) {
		rv := reflect.ValueOf(v)
		b.WriteString(indent + "{")
		first := true
		for i := 0; i < rv.NumField(); i++ {
			f := rv.Field(i)
			if f.IsZero() || f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct {
				continue
			}
			js, err := json.Marshal(f.Interface())
			if err != nil {
				t.Fatal(err)
			}
			if !first {
				b.WriteString(", ")
			}
			first = false
			b.WriteString(rv.Type().Field(i).Name + ": ")
			b.Write(js)
		}
		b.WriteString("}\n")
	}
	for _, tb := range src.Tables {
		line("", tb)
		for _, c := range tb.Columns {
			line("    column ", c)
		}
		for _, fk := range tb.ForeignKeys {
			line("    fkey ", fk)
		}
	}
	return b.Bytes()
}

func introspectFind(t *testing.T, src metadata.Source, schema, name string) *metadata.Table {
	t.Helper()
	for i := range src.Tables {
		if src.Tables[i].Schema == schema && src.Tables[i].Name == name {
			return &src.Tables[i]
		}
	}
	t.Fatalf("table %s.%s not introspected", schema, name)
	return nil
}

func TestIntrospect(t *testing.T) {
	db := introspectFixtureDB(t)
	ctx := context.Background()
	// pg_catalog is listed on purpose: system schemas are never read.
	src, err := Introspect(ctx, db, []string{"inv", "Odd Schema", "pg_catalog", "inv"})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("golden", func(t *testing.T) {
		golden.Assert(t, filepath.Join("testdata", "introspect.golden"), introspectGolden(t, src))
	})

	t.Run("tables", func(t *testing.T) {
		var got []string
		for _, tb := range src.Tables {
			got = append(got, tb.Schema+"."+tb.Name+":"+string(tb.Kind))
		}
		want := []string{
			"Odd Schema.Mixed Case:table",
			"inv.base_item:table",
			"inv.child:table",
			"inv.every_type:table",
			"inv.item_stats:materialized view",
			"inv.item_view:view",
			"inv.keys_and_gen:table",
			"inv.measurement_notes:table",
			"inv.measurements:table",
			"inv.no_key:table",
			"inv.parent:table",
			"inv.special_item:table",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("tables:\n got %q\nwant %q", got, want)
		}
	})

	t.Run("columns", func(t *testing.T) {
		et := introspectFind(t, src, "inv", "every_type")
		cols := map[string]metadata.Column{}
		var order []string
		for _, c := range et.Columns {
			cols[c.Name] = c
			order = append(order, c.Name)
		}
		if order[0] != "id" || order[len(order)-1] != "c_after_drop" || cols["to_drop"].Name != "" {
			t.Errorf("column order / dropped column: %q", order)
		}
		tests := []struct {
			col  string
			want metadata.Column
		}{
			{"id", metadata.Column{DBType: "int4", Type: metadata.Int32}},
			{"c_int2", metadata.Column{DBType: "int2", Type: metadata.Int16}},
			{"c_int8", metadata.Column{DBType: "int8", Type: metadata.Int64, Nullable: true}},
			{"c_num", metadata.Column{DBType: "numeric", Type: metadata.Decimal, Precision: 12, Scale: 2, Default: "0"}},
			{"c_num_var", metadata.Column{DBType: "numeric", Type: metadata.Decimal, Variable: true, Nullable: true}},
			{"c_num_p", metadata.Column{DBType: "numeric", Type: metadata.Decimal, Precision: 7, Nullable: true}},
			{"c_real", metadata.Column{DBType: "float4", Type: metadata.Single, Nullable: true}},
			{"c_double", metadata.Column{DBType: "float8", Type: metadata.Double, Nullable: true}},
			{"c_bool", metadata.Column{DBType: "bool", Type: metadata.Boolean, Default: "true"}},
			{"c_text", metadata.Column{DBType: "text", Type: metadata.String, Nullable: true, Comment: "Free text & <notes>"}},
			{"c_varchar", metadata.Column{DBType: "varchar", Type: metadata.String, MaxLength: 40, Nullable: true}},
			{"c_varchar_nl", metadata.Column{DBType: "varchar", Type: metadata.String, Nullable: true}},
			{"c_char", metadata.Column{DBType: "bpchar", Type: metadata.String, MaxLength: 3, FixedChar: true, Nullable: true}},
			{"c_char1", metadata.Column{DBType: "bpchar", Type: metadata.String, MaxLength: 1, FixedChar: true, Nullable: true}},
			{"c_date", metadata.Column{DBType: "date", Type: metadata.Date, Nullable: true, Default: "CURRENT_DATE"}},
			{"c_ts", metadata.Column{DBType: "timestamp", Type: metadata.DateTimeOffset, Precision: 6, LocalTime: true, Nullable: true}},
			{"c_ts3", metadata.Column{DBType: "timestamp", Type: metadata.DateTimeOffset, Precision: 3, LocalTime: true, Nullable: true}},
			{"c_tstz", metadata.Column{DBType: "timestamptz", Type: metadata.DateTimeOffset, Precision: 6, Nullable: true, Default: "now()"}},
			{"c_tstz0", metadata.Column{DBType: "timestamptz", Type: metadata.DateTimeOffset, Precision: 0, Nullable: true}},
			{"c_time", metadata.Column{DBType: "time", Type: metadata.TimeOfDay, Precision: 6, Nullable: true}},
			{"c_time2", metadata.Column{DBType: "time", Type: metadata.TimeOfDay, Precision: 2, Nullable: true}},
			{"c_interval", metadata.Column{DBType: "interval", Type: metadata.Duration, Precision: 6, Nullable: true}},
			{"c_interval3", metadata.Column{DBType: "interval", Type: metadata.Duration, Precision: 3, Nullable: true}},
			{"c_uuid", metadata.Column{DBType: "uuid", Type: metadata.Guid, Nullable: true, Default: "gen_random_uuid()"}},
			{"c_bytea", metadata.Column{DBType: "bytea", Type: metadata.Binary, Nullable: true}},
			{"c_enum", metadata.Column{DBType: "inv.mood", Type: metadata.String, Nullable: true, Default: "'ok'::inv.mood", Note: "enum inv.mood mapped to Edm.String"}},
			{"c_domain", metadata.Column{DBType: "varchar", Type: metadata.String, MaxLength: 12, Default: "'none'::character varying"}},
			{"c_domain2", metadata.Column{DBType: "varchar", Type: metadata.String, MaxLength: 12, Default: "'none'::character varying"}},
			{"c_domain_num", metadata.Column{DBType: "numeric", Type: metadata.Decimal, Precision: 9, Scale: 2}},
			{"c_odd_default", metadata.Column{DBType: "text", Type: metadata.String, Nullable: true, Default: "('x'::text || lower('Y'::text))"}},
		}
		for _, tt := range tests {
			t.Run(tt.col, func(t *testing.T) {
				got, ok := cols[tt.col]
				if !ok {
					t.Fatalf("column %s missing", tt.col)
				}
				tt.want.Name = tt.col
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("\n got %+v\nwant %+v", got, tt.want)
				}
			})
		}
	})

	t.Run("string with note", func(t *testing.T) {
		et := introspectFind(t, src, "inv", "every_type")
		want := map[string]string{
			"c_json": "json", "c_jsonb": "jsonb", "c_xml": "xml", "c_inet": "inet", "c_cidr": "cidr",
			"c_macaddr": "macaddr", "c_money": "money", "c_citext": "public.citext",
		}
		for _, c := range et.Columns {
			db, ok := want[c.Name]
			if !ok {
				continue
			}
			delete(want, c.Name)
			if c.Type != metadata.String || c.DBType != db || c.Note == "" || c.Unsupported != "" {
				t.Errorf("%s: got %+v, want String with a note and DBType %q", c.Name, c, db)
			}
		}
		if len(want) > 0 {
			t.Errorf("columns missing: %v", want)
		}
	})

	t.Run("unsupported", func(t *testing.T) {
		et := introspectFind(t, src, "inv", "every_type")
		want := map[string]string{
			"c_timetz": "time with time zone", "c_int_arr": "array", "c_text_arr2": "array",
			"c_composite": "composite", "c_range": "range", "c_tsrange": "range",
			"c_point": "point", "c_polygon": "polygon", "c_tsvector": "tsvector", "c_bit": "bit",
			"c_varbit": "varbit", "c_oid": "oid", "c_domain_arr": "array",
		}
		for _, c := range et.Columns {
			frag, ok := want[c.Name]
			if !ok {
				continue
			}
			delete(want, c.Name)
			if c.Type != "" || !strings.Contains(c.Unsupported, frag) {
				t.Errorf("%s: got Type %q Unsupported %q, want unsupported mentioning %q", c.Name, c.Type, c.Unsupported, frag)
			}
		}
		if len(want) > 0 {
			t.Errorf("columns missing: %v", want)
		}
	})

	t.Run("identity serial generated", func(t *testing.T) {
		kg := introspectFind(t, src, "inv", "keys_and_gen")
		if !reflect.DeepEqual(kg.PrimaryKey, []string{"line", "id"}) {
			t.Errorf("composite key order: %q", kg.PrimaryKey)
		}
		tests := []struct {
			col                         string
			identity, generated, hasDef bool
		}{
			{"id", true, true, false}, // GENERATED ALWAYS AS IDENTITY: never writable
			{"line", true, false, false},
			{"serial_col", true, false, true},
			{"big_serial", true, false, true},
			{"qty", false, false, false},
			{"amount", false, true, false},
		}
		for _, tt := range tests {
			var c *metadata.Column
			for i := range kg.Columns {
				if kg.Columns[i].Name == tt.col {
					c = &kg.Columns[i]
				}
			}
			if c == nil {
				t.Fatalf("column %s missing", tt.col)
			}
			if c.Identity != tt.identity || c.Generated != tt.generated || (c.Default != "") != tt.hasDef {
				t.Errorf("%s: Identity %v Generated %v Default %q; want %v %v default=%v",
					tt.col, c.Identity, c.Generated, c.Default, tt.identity, tt.generated, tt.hasDef)
			}
		}
	})

	t.Run("keys", func(t *testing.T) {
		child := introspectFind(t, src, "inv", "child")
		wantFK := []metadata.ForeignKeySource{
			{Name: "child_other_fk", Columns: []string{"other_id"}, RefSchema: "Odd Schema", RefTable: "Mixed Case", RefColumns: []string{"Key Col"}},
			{Name: "child_parent_fk", Columns: []string{"pb", "pa"}, RefSchema: "inv", RefTable: "parent", RefColumns: []string{"b", "a"}},
		}
		if !reflect.DeepEqual(child.ForeignKeys, wantFK) {
			t.Errorf("child FKs:\n got %+v\nwant %+v", child.ForeignKeys, wantFK)
		}
		if p := introspectFind(t, src, "inv", "parent"); !reflect.DeepEqual(p.PrimaryKey, []string{"b", "a"}) {
			t.Errorf("parent key %q", p.PrimaryKey)
		}
		notes := introspectFind(t, src, "inv", "measurement_notes")
		if len(notes.ForeignKeys) != 1 || notes.ForeignKeys[0].RefTable != "measurements" {
			t.Errorf("FK to a partitioned table: %+v (want exactly one, to the parent)", notes.ForeignKeys)
		}
		m := introspectFind(t, src, "inv", "measurements")
		if !reflect.DeepEqual(m.PrimaryKey, []string{"id", "taken"}) {
			t.Errorf("partitioned parent key %q", m.PrimaryKey)
		}
		for _, v := range []string{"item_view", "item_stats", "no_key"} {
			if k := introspectFind(t, src, "inv", v).PrimaryKey; k != nil {
				t.Errorf("%s: key %q, want none", v, k)
			}
		}
		si := introspectFind(t, src, "inv", "special_item")
		if len(si.Columns) != 3 || si.Columns[2].Name != "extra" {
			t.Errorf("inherited table columns: %+v", si.Columns)
		}
		mc := introspectFind(t, src, "Odd Schema", "Mixed Case")
		if mc.Columns[1].Name != `Weird "Quoted" col` || !reflect.DeepEqual(mc.PrimaryKey, []string{"Key Col"}) {
			t.Errorf("quoted names: %+v key %q", mc.Columns, mc.PrimaryKey)
		}
	})

	t.Run("comments", func(t *testing.T) {
		if c := introspectFind(t, src, "inv", "every_type").Comment; c != "One column per type" {
			t.Errorf("table comment %q", c)
		}
		if c := introspectFind(t, src, "inv", "item_view").Comment; c != "Items, upper-cased" {
			t.Errorf("view comment %q", c)
		}
	})

	t.Run("builds", func(t *testing.T) {
		ov := metadata.Overlay{Sets: map[string]metadata.SetOverlay{"inv.item_view": {Key: []string{"id"}}}}
		m, warns, err := metadata.Build(src, ov)
		if err != nil {
			t.Fatal(err)
		}
		if m.Set("item_view") == nil || m.Set("every_type") == nil || m.Set("Mixed_Case") == nil {
			t.Errorf("sets missing from the built model: %v", m.Sets)
		}
		if m.Set("no_key") != nil || m.Set("item_stats") != nil {
			t.Error("keyless objects must be skipped")
		}
		if len(warns) == 0 {
			t.Error("expected warnings for unsupported columns")
		}
	})
}

func TestIntrospectSchemas(t *testing.T) {
	db := introspectFixtureDB(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		schemas []string
		want    []string // schemas present
	}{
		{"all user schemas", nil, []string{"Odd Schema", "hidden", "inv"}},
		{"one", []string{"hidden"}, []string{"hidden"}},
		{"system only", []string{"pg_catalog", "information_schema"}, nil},
		{"unknown", []string{"nope"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := Introspect(ctx, db, tt.schemas)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tb := range src.Tables {
				if len(got) == 0 || got[len(got)-1] != tb.Schema {
					got = append(got, tb.Schema)
				}
				if strings.HasPrefix(tb.Schema, "pg_") || tb.Schema == "information_schema" {
					t.Errorf("system table %s.%s returned", tb.Schema, tb.Name)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("schemas %q, want %q", got, tt.want)
			}
		})
	}
}

// TestDemoERPSQL loads testdata/demo_erp.sql (the docker-compose seed) and
// checks that it introspects to the same shape as the SQLite demo database.
func TestDemoERPSQL(t *testing.T) {
	dsn := pgtest.NewDB(t)
	seed, err := os.ReadFile(filepath.Join("testdata", "demo_erp.sql"))
	if err != nil {
		t.Fatal(err)
	}
	pgtest.MustExec(t, dsn, string(seed))
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	counts := []struct {
		query    string
		min, max int
	}{
		{"SELECT count(*) FROM customers", 1000, 1000},
		{"SELECT count(*) FROM products", 200, 200},
		{"SELECT count(*) FROM orders", 10000, 10000},
		{"SELECT count(*) FROM order_lines", 27000, 33000},
		{"SELECT count(*) FROM customers WHERE city = 'O''Fallon'", 1, 999},
		{"SELECT count(*) FROM customers WHERE customer_id = 'C''QUOTE1'", 1, 1},
		{"SELECT count(*) FROM orders WHERE customer_id = 'C''QUOTE1'", 1, 9999},
		{"SELECT count(*) FROM customers WHERE city IN ('São Paulo', 'Zürich')", 1, 999},
		{"SELECT count(*) FROM customers WHERE email IS NULL", 1, 999},
		{"SELECT count(*) FROM orders WHERE shipped_at IS NULL", 1, 9999},
		{"SELECT count(*) FROM orders o WHERE total <> (SELECT sum(quantity * unit_price) FROM order_lines l WHERE l.order_id = o.order_id)", 0, 0},
	}
	for _, c := range counts {
		var n int
		if err := db.Get(&n, c.query); err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		if n < c.min || n > c.max {
			t.Errorf("%s = %d, want [%d, %d]", c.query, n, c.min, c.max)
		}
	}
	var next int64
	if err := db.Get(&next, "INSERT INTO orders (customer_id, order_date) VALUES ('C0000001', '2024-01-01') RETURNING order_id"); err != nil {
		t.Fatal(err)
	}
	if next != 10001 {
		t.Errorf("generated order_id %d, want 10001", next)
	}

	src, err := Introspect(context.Background(), db, []string{"public"})
	if err != nil {
		t.Fatal(err)
	}
	m, warns, err := metadata.Build(src, metadata.Overlay{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings: %v", warns)
	}
	var sets []string
	for _, s := range m.Sets {
		sets = append(sets, s.Name)
		for _, p := range s.Properties {
			if p.Type == metadata.String && p.MaxLength == 0 {
				t.Errorf("%s.%s: String without MaxLength", s.Name, p.Name)
			}
		}
	}
	if !reflect.DeepEqual(sets, []string{"customers", "order_lines", "orders", "products"}) {
		t.Errorf("sets %q", sets)
	}
	if p := m.Set("orders").Property("order_id"); p == nil || p.Type != metadata.Int64 || !p.Identity {
		t.Errorf("orders.order_id: %+v", p)
	}
	if ol := m.Set("order_lines"); len(ol.Key) != 2 || len(ol.ForeignKeys) != 2 {
		t.Errorf("order_lines key %v, foreign keys %v", ol.Key, ol.ForeignKeys)
	}
}
