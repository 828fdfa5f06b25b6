package csdl

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/odatagw/odatagw/internal/golden"
	"github.com/odatagw/odatagw/metadata"
)

// TestWriteMetadataJSON: the CSDL JSON document is valid JSON, says what
// the XML says (every set, key, property, facet and annotation), and is
// pinned by a golden file.
func TestWriteMetadataJSON(t *testing.T) {
	m := testModel(true)
	var buf bytes.Buffer
	if err := WriteMetadataJSON(&buf, m); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "metadata.json"), buf.Bytes())
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	if doc["$Version"] != "4.0" || doc["$EntityContainer"] != m.Namespace+"."+m.Container {
		t.Errorf("header %v %v", doc["$Version"], doc["$EntityContainer"])
	}
	schema := doc[m.Namespace].(map[string]any)
	container := schema[m.Container].(map[string]any)
	for _, s := range m.Sets {
		es, ok := container[s.Name].(map[string]any)
		if !ok || es["$Collection"] != true || es["$Type"] != m.Namespace+"."+s.TypeName() {
			t.Errorf("entity set %s: %v", s.Name, es)
		}
		if got, want := es["@Capabilities.InsertRestrictions"] != nil, s.ReadOnly; got != want {
			t.Errorf("%s: InsertRestrictions %v, read-only %v", s.Name, got, want)
		}
		et := schema[s.TypeName()].(map[string]any)
		if et["$Kind"] != "EntityType" || len(et["$Key"].([]any)) != len(s.Key) {
			t.Errorf("entity type %s: %v", s.Name, et)
		}
		for _, p := range s.Properties {
			jp, ok := et[p.Name].(map[string]any)
			if !ok {
				t.Errorf("%s.%s missing", s.Name, p.Name)
				continue
			}
			typ, _ := jp["$Type"].(string)
			if typ == "" {
				typ = "Edm.String"
			}
			nullable, _ := jp["$Nullable"].(bool)
			if typ != p.Type.FullName() || nullable != (p.Nullable && !s.IsKey(p)) {
				t.Errorf("%s.%s: type %s nullable %v", s.Name, p.Name, typ, nullable)
			}
			if p.MaxLength > 0 && jp["$MaxLength"] != float64(p.MaxLength) {
				t.Errorf("%s.%s: MaxLength %v", s.Name, p.Name, jp["$MaxLength"])
			}
			for _, term := range propertyTerms(p, s.IsKey(p)) {
				if jp["@"+term] != true {
					t.Errorf("%s.%s: no @%s", s.Name, p.Name, term)
				}
			}
			if p.Description != "" && jp["@Core.Description"] != p.Description {
				t.Errorf("%s.%s: description %v", s.Name, p.Name, jp["@Core.Description"])
			}
		}
	}
	if container["@Capabilities.BatchSupported"] != true {
		t.Error("no BatchSupported")
	}
	var empty bytes.Buffer
	if err := WriteMetadataJSON(&empty, metadata.NewModel("ns", nil)); err != nil || !json.Valid(empty.Bytes()) {
		t.Errorf("empty model: %v %s", err, empty.Bytes())
	}
}
