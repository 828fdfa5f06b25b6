package csdl

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/golden"
	"github.com/odatagw/odatagw/metadata"
)

// testModel has every Edm type, a composite key, a Variable decimal, a
// read-only view and comments that need escaping.
func testModel(withComments bool) *metadata.Model {
	prop := func(name string, t metadata.Type, nullable bool) *metadata.Property {
		return &metadata.Property{Name: name, Column: name, Type: t, Nullable: nullable}
	}
	id := prop("ID", metadata.Int64, false)
	id.Identity = true
	name := prop("Name", metadata.String, false)
	name.MaxLength = 100
	code := prop("Code", metadata.String, true)
	code.MaxLength, code.FixedChar = 2, true
	notes := prop("Notes", metadata.String, true)
	price := prop("Price", metadata.Decimal, false)
	price.Precision, price.Scale = 12, 2
	whole := prop("Whole", metadata.Decimal, true)
	whole.Precision = 7
	anyDec := prop("AnyDecimal", metadata.Decimal, true)
	anyDec.Variable = true
	created := prop("CreatedAt", metadata.DateTimeOffset, false)
	created.Precision = 6
	local := prop("LocalStamp", metadata.DateTimeOffset, true)
	local.Precision, local.LocalTime = 3, true
	secs := prop("Seconds", metadata.DateTimeOffset, true) // timestamptz(0)
	at := prop("At", metadata.TimeOfDay, true)
	at.Precision = 6
	dur := prop("Elapsed", metadata.Duration, true)
	dur.Precision = 6
	blob := prop("Blob", metadata.Binary, true)
	blob.MaxLength = 16
	every := &metadata.EntitySet{
		Name: "EveryType", Schema: "erp", Table: "every type", Kind: metadata.KindTable,
		Properties: []*metadata.Property{
			id, prop("Flag", metadata.Boolean, false), prop("Tiny", metadata.Byte, true), prop("Signed", metadata.SByte, true),
			prop("Small", metadata.Int16, true), prop("Int", metadata.Int32, true), name, code, notes,
			price, whole, anyDec, prop("Ratio", metadata.Single, true), prop("Amount", metadata.Double, true),
			prop("Day", metadata.Date, true), created, local, secs, at, dur, prop("Uid", metadata.Guid, true), blob,
		},
	}
	every.Key = []*metadata.Property{id}

	orderID := prop("OrderID", metadata.Int64, false)
	lineNo := prop("LineNo", metadata.Int16, false)
	qty := prop("Quantity", metadata.Int32, false)
	lines := &metadata.EntitySet{
		Name: "OrderLines", Schema: "erp", Table: "order_lines", Kind: metadata.KindTable,
		Properties: []*metadata.Property{orderID, lineNo, qty},
		Key:        []*metadata.Property{orderID, lineNo},
	}

	region := prop("Region", metadata.String, true) // nullable in the view, but a key
	region.MaxLength = 40
	total := prop("Total", metadata.Decimal, true)
	total.Precision, total.Scale = 14, 2
	view := &metadata.EntitySet{
		Name: "SalesByRegion", Schema: "erp", Table: "v_sales", Kind: metadata.KindView, ReadOnly: true,
		Properties: []*metadata.Property{region, total},
		Key:        []*metadata.Property{region},
	}
	if withComments {
		every.Description = `All types & "quotes" <here>`
		notes.Description = "Free text,\nmulti-line\tand 'quoted'"
		view.Description = "Sales per region (read-only view)"
	}
	return metadata.NewModel("odatagw", nil, view, every, lines)
}

// Parsed CSDL, for checking the document against the model.
type edmx struct {
	XMLName    xml.Name `xml:"http://docs.oasis-open.org/odata/ns/edmx Edmx"`
	Version    string   `xml:"Version,attr"`
	References []struct {
		URI     string `xml:"Uri,attr"`
		Include struct {
			Namespace string `xml:"Namespace,attr"`
			Alias     string `xml:"Alias,attr"`
		} `xml:"Include"`
	} `xml:"Reference"`
	Schemas []struct {
		Namespace   string `xml:"Namespace,attr"`
		EntityTypes []struct {
			Name string `xml:"Name,attr"`
			Key  []struct {
				Name string `xml:"Name,attr"`
			} `xml:"Key>PropertyRef"`
			Properties []struct {
				Name        string       `xml:"Name,attr"`
				Type        string       `xml:"Type,attr"`
				Nullable    *string      `xml:"Nullable,attr"`
				MaxLength   *string      `xml:"MaxLength,attr"`
				Precision   *string      `xml:"Precision,attr"`
				Scale       *string      `xml:"Scale,attr"`
				Annotations []annotation `xml:"Annotation"`
			} `xml:"Property"`
			Annotations []annotation `xml:"Annotation"`
		} `xml:"http://docs.oasis-open.org/odata/ns/edm EntityType"`
		Container struct {
			Name string `xml:"Name,attr"`
			Sets []struct {
				Name       string `xml:"Name,attr"`
				EntityType string `xml:"EntityType,attr"`
			} `xml:"EntitySet"`
		} `xml:"EntityContainer"`
	} `xml:"DataServices>Schema"`
}

type annotation struct {
	Term   string `xml:"Term,attr"`
	String string `xml:"String,attr"`
}

func str(p *string) string {
	if p == nil {
		return "<absent>"
	}
	return *p
}

func TestWriteMetadata(t *testing.T) {
	for _, tt := range []struct {
		file     string
		comments bool
	}{
		{"metadata.xml", true},
		{"metadata_plain.xml", false},
	} {
		t.Run(tt.file, func(t *testing.T) {
			m := testModel(tt.comments)
			var buf bytes.Buffer
			if err := WriteMetadata(&buf, m); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", tt.file), buf.Bytes())

			var again bytes.Buffer
			if err := WriteMetadata(&again, m); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
				t.Error("output not deterministic")
			}

			// Well-formed: the whole document tokenizes.
			dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
			for {
				_, err := dec.Token()
				if err != nil {
					if err.Error() != "EOF" {
						t.Fatalf("not well-formed: %v", err)
					}
					break
				}
			}
			var doc edmx
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			checkAgainstModel(t, doc, m, tt.comments)
		})
	}
}

func checkAgainstModel(t *testing.T, doc edmx, m *metadata.Model, comments bool) {
	t.Helper()
	if doc.Version != "4.0" || len(doc.Schemas) != 1 {
		t.Fatalf("version %q, %d schemas", doc.Version, len(doc.Schemas))
	}
	if len(doc.References) != 3 || doc.References[0].Include.Alias != "Core" || doc.References[1].Include.Alias != "Capabilities" ||
		doc.References[2].Include.Alias != "Aggregation" {
		t.Errorf("references %+v, want Core, Capabilities and Aggregation", doc.References)
	}
	sc := doc.Schemas[0]
	if sc.Namespace != m.Namespace || sc.Container.Name != m.Container {
		t.Errorf("namespace %q container %q", sc.Namespace, sc.Container.Name)
	}
	if len(sc.EntityTypes) != len(m.Sets) || len(sc.Container.Sets) != len(m.Sets) {
		t.Fatalf("%d entity types, %d entity sets, want %d", len(sc.EntityTypes), len(sc.Container.Sets), len(m.Sets))
	}
	for i, s := range m.Sets {
		et := sc.EntityTypes[i]
		es := sc.Container.Sets[i]
		if et.Name != s.Name || es.Name != s.Name || es.EntityType != m.Namespace+"."+s.Name {
			t.Errorf("set %d: type %q, set %q -> %q", i, et.Name, es.Name, es.EntityType)
		}
		if len(et.Key) != len(s.Key) {
			t.Errorf("%s: %d key refs, want %d", s.Name, len(et.Key), len(s.Key))
		}
		for k := range s.Key {
			if k < len(et.Key) && et.Key[k].Name != s.Key[k].Name {
				t.Errorf("%s: key %d = %q, want %q", s.Name, k, et.Key[k].Name, s.Key[k].Name)
			}
		}
		if (len(et.Annotations) == 1 && et.Annotations[0].String == s.Description) != (s.Description != "") {
			t.Errorf("%s: annotations %+v, description %q", s.Name, et.Annotations, s.Description)
		}
		if len(et.Properties) != len(s.Properties) {
			t.Fatalf("%s: %d properties, want %d", s.Name, len(et.Properties), len(s.Properties))
		}
		for j, p := range s.Properties {
			xp := et.Properties[j]
			if xp.Name != p.Name || xp.Type != p.Type.FullName() {
				t.Errorf("%s.%s: name %q type %q", s.Name, p.Name, xp.Name, xp.Type)
			}
			wantNullable := "<absent>"
			if !p.Nullable || s.IsKey(p) {
				wantNullable = "false"
			}
			if str(xp.Nullable) != wantNullable {
				t.Errorf("%s.%s: Nullable %s, want %s", s.Name, p.Name, str(xp.Nullable), wantNullable)
			}
			wantMax := "<absent>"
			if p.MaxLength > 0 {
				wantMax = strconv.Itoa(p.MaxLength)
			}
			if str(xp.MaxLength) != wantMax {
				t.Errorf("%s.%s: MaxLength %s, want %s", s.Name, p.Name, str(xp.MaxLength), wantMax)
			}
			wantPrec, wantScale := "<absent>", "<absent>"
			switch p.Type {
			case metadata.Decimal:
				if p.Precision > 0 {
					wantPrec = strconv.Itoa(p.Precision)
				}
				wantScale = strconv.Itoa(p.Scale)
				if p.Variable || p.Precision == 0 {
					wantScale = "variable"
				}
			case metadata.DateTimeOffset, metadata.TimeOfDay, metadata.Duration:
				if p.Precision > 0 {
					wantPrec = strconv.Itoa(p.Precision)
				}
			}
			if str(xp.Precision) != wantPrec || str(xp.Scale) != wantScale {
				t.Errorf("%s.%s: Precision %s Scale %s, want %s %s", s.Name, p.Name,
					str(xp.Precision), str(xp.Scale), wantPrec, wantScale)
			}
			var want []string
			switch {
			case p.ReadOnly && (p.Identity || p.Generated):
				want = append(want, "Core.Computed")
			case p.Identity || p.Default != "":
				want = append(want, "Core.ComputedDefaultValue")
			}
			if s.IsKey(p) && !p.ReadOnly {
				want = append(want, "Core.Immutable")
			}
			if p.Description != "" {
				want = append(want, "Core.Description="+p.Description)
			}
			var got []string
			for _, a := range xp.Annotations {
				if a.Term == "Core.Description" {
					got = append(got, a.Term+"="+a.String)
				} else {
					got = append(got, a.Term)
				}
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%s.%s: annotations %v, want %v", s.Name, p.Name, got, want)
			}
		}
	}
}

func TestWriteMetadataEmptyModel(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMetadata(&buf, metadata.NewModel("ns", nil)); err != nil {
		t.Fatal(err)
	}
	var doc edmx
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Schemas) != 1 || doc.Schemas[0].Namespace != "ns" || len(doc.Schemas[0].EntityTypes) != 0 {
		t.Errorf("empty model: %s", buf.Bytes())
	}
}

type failWriter struct{ n int }

var errWrite = errors.New("write failed")

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errWrite
	}
	f.n--
	return len(p), nil
}

func TestWriteErrors(t *testing.T) {
	m := testModel(true)
	if err := WriteMetadata(&failWriter{}, m); !errors.Is(err, errWrite) {
		t.Errorf("WriteMetadata: err %v, want the writer's error", err)
	}
	if err := WriteServiceDocument(&failWriter{}, m, "x"); !errors.Is(err, errWrite) {
		t.Errorf("WriteServiceDocument: err %v, want the writer's error", err)
	}
}

func TestWriteServiceDocument(t *testing.T) {
	m := testModel(false)
	ctx := "https://example.com/odata/$metadata"
	var buf bytes.Buffer
	if err := WriteServiceDocument(&buf, m, ctx); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "service.json"), buf.Bytes())

	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["@odata.context"] != ctx {
		t.Errorf("context %v", doc["@odata.context"])
	}
	vals, _ := doc["value"].([]any)
	if len(vals) != len(m.Sets) {
		t.Fatalf("%d entries, want %d", len(vals), len(m.Sets))
	}
	for i, s := range m.Sets {
		e, _ := vals[i].(map[string]any)
		if e["name"] != s.Name || e["kind"] != "EntitySet" || e["url"] != s.Name {
			t.Errorf("entry %d: %v", i, e)
		}
	}

	buf.Reset()
	if err := WriteServiceDocument(&buf, metadata.NewModel("ns", nil), ctx); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(`"value":[]`)) {
		t.Errorf("empty model: %s", buf.Bytes())
	}
}
