package mysql_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/odatagw/odatagw/adapters/mysql"
	"github.com/odatagw/odatagw/internal/mytest"
	"github.com/odatagw/odatagw/metadata"
)

func TestIntrospect(t *testing.T) {
	t.Parallel()
	dsn := mytest.NewDB(t)
	ddl, err := os.ReadFile(filepath.Join("testdata", "types.sql"))
	if err != nil {
		t.Fatal(err)
	}
	mytest.MustExec(t, dsn, string(ddl))
	db := mytest.Open(t, dsn)
	src, err := mysql.Introspect(context.Background(), db, []string{dbName(dsn), "mysql"})
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]metadata.Table{}
	for _, tb := range src.Tables {
		tables[tb.Name] = tb
	}
	if len(tables) != 5 {
		t.Fatalf("tables %v", src.Tables)
	}
	types := tables["types"]
	if types.Comment != "all types" || len(types.PrimaryKey) != 1 || types.PrimaryKey[0] != "id" {
		t.Errorf("types table: %+v", types)
	}
	cols := map[string]metadata.Column{}
	for _, c := range types.Columns {
		cols[c.Name] = c
	}
	cases := []struct {
		col       string
		typ       metadata.Type
		maxLen    int
		prec      int
		scale     int
		nullable  bool
		fixed     bool
		local     bool
		identity  bool
		generated bool
		dbType    string
		unsup     bool
	}{
		{col: "id", typ: metadata.Int32, identity: true, dbType: "int"},
		{col: "flag", typ: metadata.Boolean, nullable: true, dbType: "tinyint"},
		{col: "b", typ: metadata.Boolean, dbType: "tinyint"},
		{col: "ti", typ: metadata.Int16, nullable: true, dbType: "tinyint"},
		{col: "tiu", typ: metadata.Int16, nullable: true, dbType: "tinyint"},
		{col: "si", typ: metadata.Int16, nullable: true, dbType: "smallint"},
		{col: "siu", typ: metadata.Int32, nullable: true, dbType: "smallint"},
		{col: "mi", typ: metadata.Int32, nullable: true, dbType: "mediumint"},
		{col: "i", typ: metadata.Int32, nullable: true, dbType: "int"},
		{col: "iu", typ: metadata.Int64, nullable: true, dbType: "int"},
		{col: "iz", typ: metadata.Int64, nullable: true, dbType: "int"},
		{col: "bi", typ: metadata.Int64, nullable: true, dbType: "bigint"},
		{col: "biu", typ: metadata.Decimal, prec: 20, nullable: true, dbType: "bigint"},
		{col: "dec", typ: metadata.Decimal, prec: 12, scale: 4, nullable: true, dbType: "decimal"},
		{col: "f", typ: metadata.Single, nullable: true, dbType: "float"},
		{col: "d", typ: metadata.Double, nullable: true, dbType: "double"},
		{col: "c", typ: metadata.String, maxLen: 6, fixed: true, nullable: true, dbType: "char"},
		{col: "vc", typ: metadata.String, maxLen: 20, nullable: true, dbType: "varchar"},
		{col: "vl", typ: metadata.String, maxLen: 20, nullable: true, dbType: "varchar character set latin1"},
		{col: "vb8", typ: metadata.String, maxLen: 20, nullable: true, dbType: "varchar collate utf8mb4_nopad_bin"},
		{col: "t", typ: metadata.String, nullable: true, dbType: "text"},
		{col: "e", typ: metadata.String, nullable: true, dbType: "enum"},
		{col: "s", typ: metadata.String, nullable: true, dbType: "set"},
		{col: "dt", typ: metadata.Date, nullable: true, dbType: "date"},
		{col: "dtm", typ: metadata.DateTimeOffset, prec: 6, local: true, nullable: true, dbType: "datetime"},
		{col: "ts", typ: metadata.DateTimeOffset, prec: 3, nullable: true, dbType: "timestamp"},
		{col: "tm", typ: metadata.TimeOfDay, prec: 6, nullable: true, dbType: "time"},
		{col: "y", typ: metadata.Int16, nullable: true, dbType: "year"},
		{col: "bn", typ: metadata.Binary, maxLen: 4, nullable: true, dbType: "binary"},
		{col: "vb", typ: metadata.Binary, maxLen: 16, nullable: true, dbType: "varbinary"},
		{col: "bl", typ: metadata.Binary, nullable: true, dbType: "blob"},
		{col: "bits", nullable: true, dbType: "bit", unsup: true},
		{col: "g", nullable: true, dbType: "point", unsup: true},
		{col: "gen", typ: metadata.Int32, nullable: true, generated: true, dbType: "int"},
	}
	for _, tc := range cases {
		c, ok := cols[tc.col]
		if !ok {
			t.Errorf("column %s missing", tc.col)
			continue
		}
		if (c.Unsupported != "") != tc.unsup {
			t.Errorf("%s: unsupported %q", tc.col, c.Unsupported)
		}
		if tc.unsup {
			continue
		}
		if c.Type != tc.typ || c.MaxLength != tc.maxLen || c.Precision != tc.prec || c.Scale != tc.scale ||
			c.Nullable != tc.nullable || c.FixedChar != tc.fixed || c.LocalTime != tc.local ||
			c.Identity != tc.identity || c.Generated != tc.generated || c.DBType != tc.dbType {
			t.Errorf("%s: got %+v", tc.col, c)
		}
	}
	if cols["id"].Comment != "row id" {
		t.Errorf("column comment %q", cols["id"].Comment)
	}
	if cols["b"].Default == "" {
		t.Errorf("b has no default")
	}
	if cols["j"].Type != metadata.String {
		t.Errorf("json column: %+v", cols["j"])
	}
	parent := tables["parent"]
	if len(parent.PrimaryKey) != 2 || parent.PrimaryKey[0] != "a" || parent.PrimaryKey[1] != "b" {
		t.Errorf("composite key %v", parent.PrimaryKey)
	}
	child := tables["child"]
	if len(child.ForeignKeys) != 1 || child.ForeignKeys[0].Name != "child_parent" || child.ForeignKeys[0].RefTable != "parent" ||
		len(child.ForeignKeys[0].Columns) != 2 || child.ForeignKeys[0].RefColumns[1] != "b" {
		t.Errorf("foreign keys %+v", child.ForeignKeys)
	}
	if v := tables["parent_view"]; v.Kind != metadata.KindView || len(v.PrimaryKey) != 0 || v.NoWrite {
		t.Errorf("updatable view %+v", v)
	}
	if v := tables["agg_view"]; !v.NoWrite {
		t.Errorf("aggregate view is writable: %+v", v)
	}
}

// dbName is the database of a mysql:// URL.
func dbName(dsn string) string {
	for i := len(dsn) - 1; i >= 0; i-- {
		if dsn[i] == '/' {
			return dsn[i+1:]
		}
	}
	return dsn
}
