// Package csdl renders a metadata.Model as the OData 4.0 service metadata
// document (CSDL XML, served at $metadata) and as the JSON service document
// (served at the service root). Parse reads a $metadata document back, from
// this or any other producer, as a client learns it (see Document).
//
// The XML is deliberately plain because Salesforce Connect parses it: one
// Schema, one EntityType per entity set with its Key and Properties, one
// EntityContainer; no navigation properties. Annotations come only from the
// standard Core and Capabilities vocabularies, for the client generators that
// read them (SAP Cloud SDK, odata2ts, Olingo): Core.Description for table and
// column comments; Core.Computed / Core.ComputedDefaultValue / Core.Immutable
// on properties the database computes or keys that cannot change; the
// Capabilities restrictions of read-only and unsearchable sets and the
// properties $orderby refuses; Capabilities.BatchSupported (multipart/mixed and JSON, continue-on-error). Output is
// deterministic: sets in model order (sorted by name), properties in storage
// column order.
package csdl

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"io"
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/metadata"
)

// Namespaces and the vocabulary reference used by the document.
const (
	EdmxNamespace  = "http://docs.oasis-open.org/odata/ns/edmx"
	EdmNamespace   = "http://docs.oasis-open.org/odata/ns/edm"
	coreURI        = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml"
	capabilityURI  = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Capabilities.V1.xml"
	aggregationURI = "https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Aggregation.V1.xml"
)

// WriteMetadata writes the CSDL XML (EDMX 4.0) document for m to w.
//
// Facets: Nullable="false" for non-nullable properties (always for keys);
// MaxLength when declared (> 0); for Edm.Decimal, Precision and Scale when
// Precision is declared, and Scale="variable" when the decimal is Variable or
// has no declared precision (the CSDL default scale would be 0); for
// Edm.DateTimeOffset, Edm.TimeOfDay and Edm.Duration, Precision = fractional
// second digits when > 0 (the CSDL default is 0). Comments become
// Core.Description annotations, and only then is the Core vocabulary
// referenced. The only errors are w's.
func WriteMetadata(w io.Writer, m *metadata.Model) error {
	bw := bufio.NewWriter(w)
	x := &xmlWriter{w: bw}
	x.raw(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	x.raw(`<edmx:Edmx Version="4.0" xmlns:edmx="` + EdmxNamespace + `">` + "\n")
	x.raw(`  <edmx:Reference Uri="` + coreURI + `">` + "\n")
	x.raw(`    <edmx:Include Namespace="Org.OData.Core.V1" Alias="Core"/>` + "\n")
	x.raw("  </edmx:Reference>\n")
	x.raw(`  <edmx:Reference Uri="` + capabilityURI + `">` + "\n")
	x.raw(`    <edmx:Include Namespace="Org.OData.Capabilities.V1" Alias="Capabilities"/>` + "\n")
	x.raw("  </edmx:Reference>\n")
	x.raw(`  <edmx:Reference Uri="` + aggregationURI + `">` + "\n")
	x.raw(`    <edmx:Include Namespace="Org.OData.Aggregation.V1" Alias="Aggregation"/>` + "\n")
	x.raw("  </edmx:Reference>\n")
	x.raw("  <edmx:DataServices>\n")
	x.raw(`    <Schema Namespace="`)
	x.attr(m.Namespace)
	x.raw(`" xmlns="` + EdmNamespace + `">` + "\n")
	for _, s := range m.Sets {
		writeEntityType(x, m.Namespace, s)
	}
	x.raw(`      <EntityContainer Name="`)
	x.attr(m.Container)
	x.raw(`">` + "\n")
	for _, s := range m.Sets {
		x.raw(`        <EntitySet Name="`)
		x.attr(s.Name)
		x.raw(`" EntityType="`)
		x.attr(m.Namespace + "." + s.TypeName())
		annotations := setAnnotations(s)
		if len(annotations) == 0 && len(s.Navigations) == 0 {
			x.raw(`"/>` + "\n")
			continue
		}
		x.raw(`">` + "\n")
		for _, n := range s.Navigations {
			x.raw(`          <NavigationPropertyBinding Path="`)
			x.attr(n.Name)
			x.raw(`" Target="`)
			x.attr(n.Target.Name)
			x.raw(`"/>` + "\n")
		}
		for _, a := range annotations {
			x.raw(`          <Annotation Term="` + a.name() + `">` + a.xml + "</Annotation>\n")
		}
		x.raw("        </EntitySet>\n")
	}
	if m.HasNavigation() {
		x.raw(`        <Annotation Term="Capabilities.ExpandRestrictions"><Record>` +
			`<PropertyValue Property="Expandable" Bool="true"/>` +
			`<PropertyValue Property="MaxLevels" Int="` + strconv.Itoa(m.ExpandLevels()) + `"/>` +
			"</Record></Annotation>\n")
	}
	if len(m.FilterFunctions) > 0 {
		x.raw(`        <Annotation Term="Capabilities.FilterFunctions"><Collection>`)
		for _, f := range m.FilterFunctions {
			x.raw("<String>" + escapeXML(f) + "</String>")
		}
		x.raw("</Collection></Annotation>\n")
	}
	x.raw(`        <Annotation Term="Capabilities.BatchSupported" Bool="true"/>` + "\n")
	x.raw(`        <Annotation Term="Capabilities.BatchContinueOnErrorSupported" Bool="true"/>` + "\n")
	x.raw(`        <Annotation Term="Capabilities.BatchSupportedFormats">` +
		`<Collection><String>multipart/mixed</String><String>application/json</String></Collection></Annotation>` + "\n")
	x.raw("      </EntityContainer>\n")
	x.raw("    </Schema>\n")
	x.raw("  </edmx:DataServices>\n")
	x.raw("</edmx:Edmx>\n")
	if x.err != nil {
		return x.err
	}
	return bw.Flush()
}

// setAnnotation is one Capabilities annotation of an entity set, as CSDL
// XML (the Annotation's content) and as CSDL JSON (the member's value).
type setAnnotation struct {
	term  string // without the vocabulary's alias
	xml   string
	json  string
	vocab string // the vocabulary's alias; "" is Capabilities
}

// name is the annotation's qualified term.
func (a setAnnotation) name() string {
	if a.vocab == "" {
		return "Capabilities." + a.term
	}
	return a.vocab + "." + a.term
}

// applySupported is the Aggregation.ApplySupported annotation of every set:
// the $apply transformations the gateway implements, without rollup.
var applySupported = setAnnotation{vocab: "Aggregation", term: "ApplySupported",
	xml: `<Record><PropertyValue Property="Transformations"><Collection>` +
		`<String>filter</String><String>groupby</String><String>aggregate</String></Collection></PropertyValue>` +
		`<PropertyValue Property="Rollup" EnumMember="Aggregation.RollupType/None"/></Record>`,
	json: `{"Transformations":["filter","groupby","aggregate"],"Rollup":"None"}`}

// setAnnotations are the Capabilities annotations of s: the restrictions of
// a read-only set, Searchable false for a set without searchable
// properties, and the properties $orderby refuses (binary).
func setAnnotations(s *metadata.EntitySet) []setAnnotation {
	var out []setAnnotation
	if s.ReadOnly {
		for _, r := range [...]struct{ term, prop string }{
			{"InsertRestrictions", "Insertable"}, {"UpdateRestrictions", "Updatable"}, {"DeleteRestrictions", "Deletable"},
		} {
			out = append(out, setAnnotation{term: r.term,
				xml:  `<Record><PropertyValue Property="` + r.prop + `" Bool="false"/></Record>`,
				json: `{"` + r.prop + `":false}`})
		}
	}
	if len(s.Searchable) == 0 {
		out = append(out, setAnnotation{term: "SearchRestrictions",
			xml:  `<Record><PropertyValue Property="Searchable" Bool="false"/></Record>`,
			json: `{"Searchable":false}`})
	}
	var xmlPaths, jsonPaths string
	for _, p := range s.Properties {
		if p.Type == metadata.Binary { // $orderby refuses them
			name := escapeXML(p.Name)
			xmlPaths += "<PropertyPath>" + name + "</PropertyPath>"
			if jsonPaths != "" {
				jsonPaths += ","
			}
			q, _ := json.Marshal(p.Name)
			jsonPaths += string(q)
		}
	}
	if xmlPaths != "" {
		out = append(out, setAnnotation{term: "SortRestrictions",
			xml:  `<Record><PropertyValue Property="NonSortableProperties"><Collection>` + xmlPaths + `</Collection></PropertyValue></Record>`,
			json: `{"NonSortableProperties":[` + jsonPaths + `]}`})
	}
	if s.Tracked {
		out = append(out, setAnnotation{term: "ChangeTracking",
			xml:  `<Record><PropertyValue Property="Supported" Bool="true"/></Record>`,
			json: `{"Supported":true}`})
	}
	// $filter works on every set and property; through navigation (paths
	// and lambdas) it follows at most 8 to-one segments in one path.
	filter := setAnnotation{term: "FilterRestrictions",
		xml:  `<Record><PropertyValue Property="Filterable" Bool="true"/><PropertyValue Property="RequiresFilter" Bool="false"/></Record>`,
		json: `{"Filterable":true,"RequiresFilter":false}`}
	if len(s.Navigations) > 0 {
		filter.xml = `<Record><PropertyValue Property="Filterable" Bool="true"/><PropertyValue Property="RequiresFilter" Bool="false"/>` +
			`<PropertyValue Property="MaxLevels" Int="` + strconv.Itoa(metadata.MaxFilterLevels) + `"/></Record>`
		filter.json = `{"Filterable":true,"RequiresFilter":false,"MaxLevels":` + strconv.Itoa(metadata.MaxFilterLevels) + `}`
	}
	out = append(out, filter, applySupported)
	return out
}

// propertyTerms are the Core annotations (Bool true) of p: Computed when
// the database computes it and clients cannot write it,
// ComputedDefaultValue when the database computes it if a create leaves it
// out, Immutable for a key that is given on create and never changed.
func propertyTerms(p *metadata.Property, key bool) []string {
	var terms []string
	switch {
	case p.ReadOnly && (p.Identity || p.Generated):
		terms = append(terms, "Core.Computed")
	case p.Identity || p.Default != "":
		terms = append(terms, "Core.ComputedDefaultValue")
	}
	if key && !p.ReadOnly {
		terms = append(terms, "Core.Immutable")
	}
	return terms
}

func escapeXML(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func writeEntityType(x *xmlWriter, ns string, s *metadata.EntitySet) {
	x.raw(`      <EntityType Name="`)
	x.attr(s.TypeName())
	x.raw(`">` + "\n")
	x.raw("        <Key>\n")
	for _, k := range s.Key {
		x.raw(`          <PropertyRef Name="`)
		x.attr(k.Name)
		x.raw(`"/>` + "\n")
	}
	x.raw("        </Key>\n")
	for _, p := range s.Properties {
		writeProperty(x, p, s.IsKey(p))
	}
	for _, n := range s.Navigations {
		writeNavigation(x, ns, n)
	}
	if s.Description != "" {
		writeDescription(x, "        ", s.Description)
	}
	x.raw("      </EntityType>\n")
}

// writeNavigation writes a NavigationProperty: a to-one one with its
// ReferentialConstraint (the foreign key), Nullable="false" when every
// foreign-key property is; a to-many one as a collection.
func writeNavigation(x *xmlWriter, ns string, n *metadata.Navigation) {
	x.raw(`        <NavigationProperty Name="`)
	x.attr(n.Name)
	x.raw(`" Type="`)
	if n.Many {
		x.attr("Collection(" + ns + "." + n.Target.TypeName() + ")")
	} else {
		x.attr(ns + "." + n.Target.TypeName())
	}
	x.raw(`"`)
	if !n.Many && !n.Nullable {
		x.raw(` Nullable="false"`)
	}
	if n.Partner != "" {
		x.raw(` Partner="`)
		x.attr(n.Partner)
		x.raw(`"`)
	}
	if n.Many {
		x.raw("/>\n")
		return
	}
	x.raw(">\n")
	for i, p := range n.Local {
		x.raw(`          <ReferentialConstraint Property="`)
		x.attr(p.Name)
		x.raw(`" ReferencedProperty="`)
		x.attr(n.Remote[i].Name)
		x.raw(`"/>` + "\n")
	}
	x.raw("        </NavigationProperty>\n")
}

func writeProperty(x *xmlWriter, p *metadata.Property, key bool) {
	x.raw(`        <Property Name="`)
	x.attr(p.Name)
	x.raw(`" Type="`)
	x.attr(p.Type.FullName())
	x.raw(`"`)
	if !p.Nullable || key {
		x.raw(` Nullable="false"`)
	}
	if p.MaxLength > 0 {
		x.raw(` MaxLength="` + strconv.Itoa(p.MaxLength) + `"`)
	}
	switch p.Type {
	case metadata.Decimal:
		if p.Precision > 0 {
			x.raw(` Precision="` + strconv.Itoa(p.Precision) + `"`)
		}
		switch {
		case p.Variable || p.Precision == 0:
			x.raw(` Scale="variable"`)
		default:
			x.raw(` Scale="` + strconv.Itoa(p.Scale) + `"`)
		}
	case metadata.DateTimeOffset, metadata.TimeOfDay, metadata.Duration:
		if p.Precision > 0 {
			x.raw(` Precision="` + strconv.Itoa(p.Precision) + `"`)
		}
	}
	terms := propertyTerms(p, key)
	if p.Description == "" && len(terms) == 0 {
		x.raw("/>\n")
		return
	}
	x.raw(">\n")
	for _, term := range terms {
		x.raw(`          <Annotation Term="` + term + `" Bool="true"/>` + "\n")
	}
	if p.Description != "" {
		writeDescription(x, "          ", p.Description)
	}
	x.raw("        </Property>\n")
}

func writeDescription(x *xmlWriter, indent, text string) {
	x.raw(indent + `<Annotation Term="Core.Description" String="`)
	x.attr(text)
	x.raw(`"/>` + "\n")
}

// xmlWriter keeps the first write error so that rendering code stays linear.
type xmlWriter struct {
	w   *bufio.Writer
	err error
}

func (x *xmlWriter) raw(s string) {
	if x.err == nil {
		_, x.err = x.w.WriteString(s)
	}
}

// attr writes s escaped for a double-quoted attribute value: markup
// characters, quotes, and tab/newline/CR as character references so that
// attribute-value normalisation keeps them. Characters not allowed in XML
// become U+FFFD.
func (x *xmlWriter) attr(s string) {
	if x.err == nil {
		x.err = xml.EscapeText(x.w, []byte(s))
	}
}

// ServiceDocument is the JSON service document.
type ServiceDocument struct {
	Context string        `json:"@odata.context"`
	Value   []ServiceItem `json:"value"`
}

// ServiceItem is one entry of the service document.
type ServiceItem struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	URL  string `json:"url"`
}

// WriteServiceDocument writes the JSON service document listing every entity
// set of m (relative URLs, model order); contextURL is the absolute URL of
// the $metadata document, e.g. "https://host/odata/$metadata". The only
// errors are w's.
func WriteServiceDocument(w io.Writer, m *metadata.Model, contextURL string) error {
	doc := ServiceDocument{Context: contextURL, Value: make([]ServiceItem, 0, len(m.Sets))}
	for _, s := range m.Sets {
		doc.Value = append(doc.Value, ServiceItem{Name: s.Name, Kind: "EntitySet", URL: s.Name})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
