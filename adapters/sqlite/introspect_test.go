package sqlite

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/odatagw/odatagw/metadata"
)

const introspectFixture = `
CREATE TABLE every_type (
  id          INTEGER PRIMARY KEY,
  c_bool      BOOLEAN NOT NULL DEFAULT 0,
  c_bool2     bool,
  c_small     SMALLINT,
  c_tiny      TINYINT,
  c_int       INT NOT NULL,
  c_int4      integer,
  c_big       BIGINT,
  c_num       NUMERIC(12,2) DEFAULT 0,
  c_dec       decimal(7, 3),
  c_num_p     NUMERIC(5),
  c_num_var   NUMERIC,
  c_real      REAL,
  c_double    DOUBLE,
  c_doublep   double   precision,
  c_float     FLOAT,
  c_text      TEXT,
  c_varchar   VARCHAR(40) DEFAULT 'x''y',
  c_nvarchar  NVARCHAR(10),
  c_char      CHAR(3),
  c_character CHARACTER(2),
  c_date      DATE DEFAULT CURRENT_DATE,
  c_ts        TIMESTAMP,
  c_datetime  DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  c_tstz      TIMESTAMPTZ,
  c_time      TIME,
  c_uuid      UUID,
  c_blob      BLOB,
  c_json      JSON,
  c_none,
  c_gen_v     TEXT GENERATED ALWAYS AS (upper(c_text)) VIRTUAL,
  c_gen_s     INTEGER GENERATED ALWAYS AS (c_int * 2) STORED
);
CREATE TABLE "Parent Table" (
  a INTEGER NOT NULL,
  b TEXT NOT NULL,
  PRIMARY KEY (b, a)
);
CREATE TABLE child (
  id  BIGINT PRIMARY KEY,
  pa  INTEGER,
  pb  TEXT,
  cust TEXT REFERENCES Customers,
  c2  INTEGER REFERENCES every_type (id),
  FOREIGN KEY (pb, pa) REFERENCES "parent table" (b, a)
);
CREATE TABLE customers (code VARCHAR(10) PRIMARY KEY, name TEXT);
CREATE TABLE no_rowid (k INTEGER PRIMARY KEY, v TEXT) WITHOUT ROWID;
CREATE TABLE no_key (x INT, y TEXT);
CREATE VIEW child_view AS SELECT id, pa, pb || '!' AS label, count(*) OVER () AS n FROM child;
CREATE VIRTUAL TABLE docs USING fts5(title, body);
`

func introspectOpen(t *testing.T, ddl string) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("sqlite", filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(ddl); err != nil {
		t.Fatal(err)
	}
	return db
}

func introspectTable(t *testing.T, src metadata.Source, name string) *metadata.Table {
	t.Helper()
	for i := range src.Tables {
		if src.Tables[i].Name == name {
			return &src.Tables[i]
		}
	}
	t.Fatalf("table %q not introspected", name)
	return nil
}

func TestIntrospect(t *testing.T) {
	db := introspectOpen(t, introspectFixture)
	src, err := Introspect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}

	var names []string
	for _, tb := range src.Tables {
		names = append(names, tb.Name+":"+string(tb.Kind))
		if tb.Schema != "" {
			t.Errorf("%s: schema %q, want empty", tb.Name, tb.Schema)
		}
	}
	wantNames := []string{"Parent Table:table", "child:table", "child_view:view", "customers:table",
		"every_type:table", "no_key:table", "no_rowid:table"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("tables (virtual and shadow tables must be skipped):\n got %q\nwant %q", names, wantNames)
	}

	et := introspectTable(t, src, "every_type")
	S := metadata.String
	want := []metadata.Column{
		{Name: "id", DBType: "INTEGER", Type: metadata.Int64, Identity: true},
		{Name: "c_bool", DBType: "BOOLEAN", Type: metadata.Boolean, Default: "0"},
		{Name: "c_bool2", DBType: "BOOL", Type: metadata.Boolean, Nullable: true},
		{Name: "c_small", DBType: "SMALLINT", Type: metadata.Int16, Nullable: true},
		{Name: "c_tiny", DBType: "TINYINT", Type: metadata.Int16, Nullable: true},
		{Name: "c_int", DBType: "INT", Type: metadata.Int32},
		{Name: "c_int4", DBType: "INTEGER", Type: metadata.Int32, Nullable: true},
		{Name: "c_big", DBType: "BIGINT", Type: metadata.Int64, Nullable: true},
		{Name: "c_num", DBType: "NUMERIC(12,2)", Type: metadata.Decimal, Precision: 12, Scale: 2, Nullable: true, Default: "0"},
		{Name: "c_dec", DBType: "DECIMAL(7, 3)", Type: metadata.Decimal, Precision: 7, Scale: 3, Nullable: true},
		{Name: "c_num_p", DBType: "NUMERIC(5)", Type: metadata.Decimal, Precision: 5, Nullable: true},
		{Name: "c_num_var", DBType: "NUMERIC", Type: metadata.Decimal, Variable: true, Nullable: true},
		{Name: "c_real", DBType: "REAL", Type: metadata.Double, Nullable: true},
		{Name: "c_double", DBType: "DOUBLE", Type: metadata.Double, Nullable: true},
		{Name: "c_doublep", DBType: "DOUBLE PRECISION", Type: metadata.Double, Nullable: true},
		{Name: "c_float", DBType: "FLOAT", Type: metadata.Double, Nullable: true},
		{Name: "c_text", DBType: "TEXT", Type: S, Nullable: true},
		{Name: "c_varchar", DBType: "VARCHAR(40)", Type: S, MaxLength: 40, Nullable: true, Default: "'x''y'"},
		{Name: "c_nvarchar", DBType: "NVARCHAR(10)", Type: S, MaxLength: 10, Nullable: true},
		{Name: "c_char", DBType: "CHAR(3)", Type: S, MaxLength: 3, FixedChar: true, Nullable: true},
		{Name: "c_character", DBType: "CHARACTER(2)", Type: S, MaxLength: 2, FixedChar: true, Nullable: true},
		{Name: "c_date", DBType: "DATE", Type: metadata.Date, Nullable: true, Default: "CURRENT_DATE"},
		{Name: "c_ts", DBType: "TIMESTAMP", Type: metadata.DateTimeOffset, Precision: 6, Nullable: true},
		{Name: "c_datetime", DBType: "DATETIME", Type: metadata.DateTimeOffset, Precision: 6, Nullable: true,
			Default: "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"},
		{Name: "c_tstz", DBType: "TIMESTAMPTZ", Type: metadata.DateTimeOffset, Precision: 6, Nullable: true},
		{Name: "c_time", DBType: "TIME", Type: metadata.TimeOfDay, Precision: 6, Nullable: true},
		{Name: "c_uuid", DBType: "UUID", Type: metadata.Guid, Nullable: true},
		{Name: "c_blob", DBType: "BLOB", Type: metadata.Binary, Nullable: true},
		{Name: "c_json", DBType: "JSON", Type: S, Nullable: true, Note: "declared type JSON mapped to Edm.String"},
		{Name: "c_none", DBType: "", Type: S, Nullable: true, Note: "no declared type; mapped to Edm.String"},
		{Name: "c_gen_v", DBType: "TEXT", Type: S, Nullable: true, Generated: true},
		{Name: "c_gen_s", DBType: "INTEGER", Type: metadata.Int32, Nullable: true, Generated: true},
	}
	if len(et.Columns) != len(want) {
		t.Fatalf("every_type: %d columns, want %d: %+v", len(et.Columns), len(want), et.Columns)
	}
	for i, w := range want {
		if !reflect.DeepEqual(et.Columns[i], w) {
			t.Errorf("column %d:\n got %+v\nwant %+v", i, et.Columns[i], w)
		}
	}
	if !reflect.DeepEqual(et.PrimaryKey, []string{"id"}) {
		t.Errorf("every_type key %q", et.PrimaryKey)
	}

	keys := []struct {
		table string
		want  []string
	}{
		{"Parent Table", []string{"b", "a"}},
		{"child", []string{"id"}},
		{"no_rowid", []string{"k"}},
		{"no_key", nil},
		{"child_view", nil},
	}
	for _, k := range keys {
		if got := introspectTable(t, src, k.table).PrimaryKey; !reflect.DeepEqual(got, k.want) {
			t.Errorf("%s: key %q, want %q", k.table, got, k.want)
		}
	}
	// WITHOUT ROWID: an INTEGER primary key is an ordinary Int32 column.
	if c := introspectTable(t, src, "no_rowid").Columns[0]; c.Type != metadata.Int32 || c.Identity {
		t.Errorf("WITHOUT ROWID key: %+v", c)
	}
	// BIGINT PRIMARY KEY is not a rowid alias.
	if c := introspectTable(t, src, "child").Columns[0]; c.Type != metadata.Int64 || c.Identity {
		t.Errorf("BIGINT key: %+v", c)
	}

	wantFK := []metadata.ForeignKeySource{
		{Name: "child_c2_fkey", Columns: []string{"c2"}, RefTable: "every_type", RefColumns: []string{"id"}},
		{Name: "child_cust_fkey", Columns: []string{"cust"}, RefTable: "customers", RefColumns: []string{"code"}},
		{Name: "child_pb_pa_fkey", Columns: []string{"pb", "pa"}, RefTable: "Parent Table", RefColumns: []string{"b", "a"}},
	}
	if got := introspectTable(t, src, "child").ForeignKeys; !reflect.DeepEqual(got, wantFK) {
		t.Errorf("child FKs:\n got %+v\nwant %+v", got, wantFK)
	}

	view := introspectTable(t, src, "child_view")
	var vt []string
	for _, c := range view.Columns {
		vt = append(vt, c.Name+":"+string(c.Type))
	}
	if !reflect.DeepEqual(vt, []string{"id:Int64", "pa:Int32", "label:String", "n:String"}) {
		t.Errorf("view columns %q", vt)
	}

	m, _, err := metadata.Build(src, metadata.Overlay{Sets: map[string]metadata.SetOverlay{"child_view": {Key: []string{"id"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if s := m.Set("child"); s == nil || len(s.ForeignKeys) != 3 {
		t.Errorf("built child set: %+v", s)
	}
}

func TestIntrospectMapType(t *testing.T) {
	tests := []struct {
		decl string
		want metadata.Column
	}{
		{"varchar( 25 )", metadata.Column{DBType: "VARCHAR( 25 )", Type: metadata.String, MaxLength: 25}},
		{"numeric(3,5)", metadata.Column{DBType: "NUMERIC(3,5)", Type: metadata.Decimal, Precision: 5, Scale: 5}},
		{"numeric(x)", metadata.Column{DBType: "NUMERIC(X)", Type: metadata.Decimal, Variable: true}},
		{"character varying(9)", metadata.Column{DBType: "CHARACTER VARYING(9)", Type: metadata.String, MaxLength: 9}},
		{"int8", metadata.Column{DBType: "INT8", Type: metadata.Int64}},
		{"unsigned big int", metadata.Column{DBType: "UNSIGNED BIG INT", Type: metadata.Int64}},
		{"clob", metadata.Column{DBType: "CLOB", Type: metadata.String}},
		{"interval", metadata.Column{DBType: "INTERVAL", Type: metadata.String, Note: "declared type INTERVAL mapped to Edm.String"}},
	}
	for _, tt := range tests {
		t.Run(tt.decl, func(t *testing.T) {
			var c metadata.Column
			introspectMapType(&c, tt.decl)
			if !reflect.DeepEqual(c, tt.want) {
				t.Errorf("\n got %+v\nwant %+v", c, tt.want)
			}
		})
	}
}
