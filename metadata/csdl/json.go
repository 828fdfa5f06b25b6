package csdl

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"

	"github.com/odatagw/odatagw/metadata"
)

// WriteMetadataJSON writes the CSDL JSON document (OData CSDL JSON 4.01,
// "$Version": "4.0") for m: the same model, facets and annotations as
// WriteMetadata, in the JSON representation. Members appear in the order
// of the XML document; a property's $Type is left out for Edm.String and
// $Nullable for non-nullable properties (the CSDL JSON defaults).
func WriteMetadataJSON(w io.Writer, m *metadata.Model) error {
	bw := bufio.NewWriter(w)
	j := &jsonWriter{w: bw}
	j.raw(`{"$Version":"4.0","$EntityContainer":`)
	j.str(m.Namespace + "." + m.Container)
	j.raw(`,"$Reference":{`)
	j.str(jsonVocabulary(coreURI))
	j.raw(`:{"$Include":[{"$Namespace":"Org.OData.Core.V1","$Alias":"Core"}]},`)
	j.str(jsonVocabulary(capabilityURI))
	j.raw(`:{"$Include":[{"$Namespace":"Org.OData.Capabilities.V1","$Alias":"Capabilities"}]},`)
	j.str(jsonVocabulary(aggregationURI))
	j.raw(`:{"$Include":[{"$Namespace":"Org.OData.Aggregation.V1","$Alias":"Aggregation"}]}},`)
	j.str(m.Namespace)
	j.raw(`:{`)
	for _, s := range m.Sets {
		j.str(s.TypeName())
		j.raw(`:{"$Kind":"EntityType","$Key":[`)
		for i, k := range s.Key {
			j.comma(i)
			j.str(k.Name)
		}
		j.raw(`]`)
		for _, p := range s.Properties {
			j.raw(`,`)
			j.str(p.Name)
			j.raw(`:{`)
			writePropertyJSON(j, p, s.IsKey(p))
			j.raw(`}`)
		}
		for _, n := range s.Navigations {
			j.raw(`,`)
			j.str(n.Name)
			j.raw(`:{"$Kind":"NavigationProperty","$Type":`)
			j.str(m.Namespace + "." + n.Target.TypeName())
			if n.Many {
				j.raw(`,"$Collection":true`)
			} else if n.Nullable {
				j.raw(`,"$Nullable":true`)
			}
			if n.Partner != "" {
				j.raw(`,"$Partner":`)
				j.str(n.Partner)
			}
			if !n.Many {
				j.raw(`,"$ReferentialConstraint":{`)
				for i, p := range n.Local {
					j.comma(i)
					j.str(p.Name)
					j.raw(`:`)
					j.str(n.Remote[i].Name)
				}
				j.raw(`}`)
			}
			j.raw(`}`)
		}
		if s.Description != "" {
			j.raw(`,"@Core.Description":`)
			j.str(s.Description)
		}
		j.raw(`},`)
	}
	j.str(m.Container)
	j.raw(`:{"$Kind":"EntityContainer"`)
	for _, s := range m.Sets {
		j.raw(`,`)
		j.str(s.Name)
		j.raw(`:{"$Collection":true,"$Type":`)
		j.str(m.Namespace + "." + s.TypeName())
		if len(s.Navigations) > 0 {
			j.raw(`,"$NavigationPropertyBinding":{`)
			for i, n := range s.Navigations {
				j.comma(i)
				j.str(n.Name)
				j.raw(`:`)
				j.str(n.Target.Name)
			}
			j.raw(`}`)
		}
		for _, a := range setAnnotations(s) {
			j.raw(`,`)
			j.str("@" + a.name())
			j.raw(`:` + a.json)
		}
		j.raw(`}`)
	}
	if m.HasNavigation() {
		j.raw(`,"@Capabilities.ExpandRestrictions":{"Expandable":true,"MaxLevels":` + strconv.Itoa(m.ExpandLevels()) + `}`)
	}
	if len(m.FilterFunctions) > 0 {
		j.raw(`,"@Capabilities.FilterFunctions":[`)
		for i, f := range m.FilterFunctions {
			j.comma(i)
			j.str(f)
		}
		j.raw(`]`)
	}
	j.raw(`,"@Capabilities.BatchSupported":true,"@Capabilities.BatchContinueOnErrorSupported":true,` +
		`"@Capabilities.BatchSupportedFormats":["multipart/mixed","application/json"]}}}` + "\n")
	if j.err != nil {
		return j.err
	}
	return bw.Flush()
}

// jsonVocabulary is the CSDL JSON document of a vocabulary (.xml → .json).
func jsonVocabulary(xmlURI string) string { return xmlURI[:len(xmlURI)-len(".xml")] + ".json" }

func writePropertyJSON(j *jsonWriter, p *metadata.Property, key bool) {
	first := true
	member := func(name, value string) {
		if !first {
			j.raw(",")
		}
		first = false
		j.str(name)
		j.raw(":" + value)
	}
	if p.Type != metadata.String {
		member("$Type", strconv.Quote(p.Type.FullName()))
	}
	if p.Nullable && !key {
		member("$Nullable", "true")
	}
	if p.MaxLength > 0 {
		member("$MaxLength", strconv.Itoa(p.MaxLength))
	}
	switch p.Type {
	case metadata.Decimal:
		if p.Precision > 0 {
			member("$Precision", strconv.Itoa(p.Precision))
		}
		if p.Variable || p.Precision == 0 {
			member("$Scale", `"variable"`)
		} else {
			member("$Scale", strconv.Itoa(p.Scale))
		}
	case metadata.DateTimeOffset, metadata.TimeOfDay, metadata.Duration:
		if p.Precision > 0 {
			member("$Precision", strconv.Itoa(p.Precision))
		}
	}
	for _, term := range propertyTerms(p, key) {
		member("@"+term, "true")
	}
	if p.Description != "" {
		d, _ := json.Marshal(p.Description)
		member("@Core.Description", string(d))
	}
}

// jsonWriter keeps the first write error, like xmlWriter.
type jsonWriter struct {
	w   *bufio.Writer
	err error
}

func (j *jsonWriter) raw(s string) {
	if j.err == nil {
		_, j.err = j.w.WriteString(s)
	}
}

func (j *jsonWriter) str(s string) {
	b, _ := json.Marshal(s)
	j.raw(string(b))
}

func (j *jsonWriter) comma(i int) {
	if i > 0 {
		j.raw(",")
	}
}
