package csdl

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/odatagw/odatagw/internal/golden"
	"github.com/odatagw/odatagw/metadata"
)

// navModel: customers ← orders ← order_lines (composite key) ← line_notes
// (composite foreign key).
func navModel(t *testing.T) *metadata.Model {
	t.Helper()
	col := func(name string, typ metadata.Type, nullable bool) metadata.Column {
		return metadata.Column{Name: name, DBType: "x", Type: typ, Nullable: nullable}
	}
	fk := func(name string, cols []string, ref string, refCols ...string) []metadata.ForeignKeySource {
		return []metadata.ForeignKeySource{{Name: name, Columns: cols, RefTable: ref, RefColumns: refCols}}
	}
	src := metadata.Source{Tables: []metadata.Table{
		{Name: "customers", Kind: metadata.KindTable, PrimaryKey: []string{"customer_id"},
			Columns: []metadata.Column{col("customer_id", metadata.String, false)}},
		{Name: "orders", Kind: metadata.KindTable, PrimaryKey: []string{"order_id"},
			Columns:     []metadata.Column{col("order_id", metadata.Int64, false), col("customer_id", metadata.String, true)},
			ForeignKeys: fk("orders_customer", []string{"customer_id"}, "customers", "customer_id")},
		{Name: "order_lines", Kind: metadata.KindTable, PrimaryKey: []string{"order_id", "line_no"},
			Columns:     []metadata.Column{col("order_id", metadata.Int64, false), col("line_no", metadata.Int16, false)},
			ForeignKeys: fk("lines_order", []string{"order_id"}, "orders", "order_id")},
		{Name: "line_notes", Kind: metadata.KindTable, PrimaryKey: []string{"note_id"},
			Columns: []metadata.Column{col("note_id", metadata.Int64, false),
				col("order_id", metadata.Int64, false), col("line_no", metadata.Int16, false)},
			ForeignKeys: fk("note_line", []string{"order_id", "line_no"}, "order_lines", "order_id", "line_no")},
	}}
	m, _, err := metadata.Build(src, metadata.Overlay{FilterFunctions: []string{"all", "any", "contains"}})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWriteNavigation(t *testing.T) {
	m := navModel(t)
	var x, j bytes.Buffer
	if err := WriteMetadata(&x, m); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "navigation.xml"), x.Bytes())
	if err := WriteMetadataJSON(&j, m); err != nil {
		t.Fatal(err)
	}
	if !json.Valid(j.Bytes()) {
		t.Fatalf("CSDL JSON is not JSON:\n%s", j.Bytes())
	}
	golden.Assert(t, filepath.Join("testdata", "navigation.json"), j.Bytes())
	if _, err := Parse(x.Bytes()); err != nil {
		t.Errorf("Parse of a document with navigation properties: %v", err)
	}
}
