package csdl

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/metadata"
)

// Document is what a client learns from a $metadata document: the EDMX
// version and the service's entity sets, each with its entity type flattened
// (base type properties first). Navigation properties, operations, complex
// and enumeration type definitions are not read.
type Document struct {
	Version   string       // Edmx Version attribute, e.g. "4.0"
	Container string       // qualified entity container name, e.g. "odatagw.Container"
	Sets      []*EntitySet // in document order
}

// Set returns the entity set with the given name, or nil.
func (d *Document) Set(name string) *EntitySet {
	for _, s := range d.Sets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// EntitySet is an entity set together with its entity type.
type EntitySet struct {
	Name        string
	Type        string      // qualified entity type name, aliases resolved
	Description string      // Core.Description of the entity type
	Properties  []*Property // structural properties, base type's first, each type's in document order
	Key         []*Property // in PropertyRef order; empty if the type declares none or KeyProblem is set
	// ChangeTracking: the set is annotated Capabilities.ChangeTracking
	// with Supported true (inline on the EntitySet element).
	ChangeTracking bool
	// KeyProblem says why the key could not be resolved: the entity type
	// (or a base type) is not declared, or a PropertyRef names no
	// structural property. "" when the key, if any, resolved.
	KeyProblem string
}

// Property returns the structural property with the given name, or nil.
func (s *EntitySet) Property(name string) *Property {
	for _, p := range s.Properties {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// IsKey reports whether p is part of the set's key.
func (s *EntitySet) IsKey(p *Property) bool {
	for _, k := range s.Key {
		if k == p {
			return true
		}
	}
	return false
}

// Property is a structural property with its facets. The facet fields mean
// what they mean in metadata.Property, except that MaxLength is -1 for
// MaxLength="max".
type Property struct {
	Name string
	// Type is the Type attribute with aliases resolved, e.g. "Edm.String",
	// "Collection(Edm.String)", "My.Service.Address".
	Type      string
	Edm       metadata.Type // the primitive type if metadata has it, else ""
	Nullable  bool
	MaxLength int  // 0 = not declared, -1 = "max"
	Precision int  // 0 = not declared
	Scale     int  // 0 when not declared or Variable
	Variable  bool // Scale="variable" (or "floating"), or an Edm.Decimal declaring neither Precision nor Scale
	// Description is the Core.Description annotation ("" = none).
	Description string
	// Computed is the Core.Computed annotation: the service supplies the value.
	Computed bool
}

// Parse reads a CSDL XML (EDMX) $metadata document. Element names are matched
// without their namespaces. Annotations are read inline and from Annotations
// elements; only unqualified Core.Description and Core.Computed are
// understood, and the alias Core is taken to mean Org.OData.Core.V1 even
// without a reference that declares it.
//
// Parse fails on a document that is not EDMX XML or has no Schema, on a
// number of entity containers other than one, on two entity sets of the same
// name, on a property declared twice in a type and its base types, on a base
// type cycle, and on a property whose Type is missing, unqualified or an
// unknown Edm type, or whose Nullable or integer facets do not parse. An
// entity type that is not declared or a key that names no property is not an
// error: the set is kept with its KeyProblem.
func Parse(data []byte) (*Document, error) {
	var x xEdmx
	if err := xml.Unmarshal(data, &x); err != nil {
		return nil, fmt.Errorf("not CSDL XML: %v", err)
	}
	if len(x.Schemas) == 0 {
		return nil, fmt.Errorf("no Schema in edmx:DataServices")
	}
	r := &reader{
		aliases: map[string]string{},
		types:   map[string]*xEntityType{},
		notes:   map[string]map[string]string{},
	}
	for _, ref := range x.References {
		for _, inc := range ref.Includes {
			if inc.Alias != "" {
				r.aliases[inc.Alias] = inc.Namespace
			}
		}
	}
	for _, sc := range x.Schemas {
		if sc.Alias != "" {
			r.aliases[sc.Alias] = sc.Namespace
		}
	}
	doc := &Document{Version: x.Version}
	var container *xContainer
	containers := 0
	for i := range x.Schemas {
		sc := &x.Schemas[i]
		for j := range sc.EntityTypes {
			et := &sc.EntityTypes[j]
			name := sc.Namespace + "." + et.Name
			r.types[name] = et
			r.note(name, et.Annotations)
			for _, p := range et.Properties {
				r.note(name+"/"+p.Name, p.Annotations)
			}
		}
		for _, a := range sc.Annotations {
			if a.Qualifier == "" {
				r.note(r.qualifyPath(a.Target), a.Annotations)
			}
		}
		for j := range sc.Containers {
			container = &sc.Containers[j]
			doc.Container = sc.Namespace + "." + container.Name
			containers++
		}
	}
	if containers != 1 {
		return nil, fmt.Errorf("%d entity containers, want exactly one", containers)
	}
	for _, es := range container.Sets {
		if doc.Set(es.Name) != nil {
			return nil, fmt.Errorf("entity set %s is declared twice", es.Name)
		}
		s, err := r.entitySet(es.Name, r.qualify(es.EntityType))
		if err != nil {
			return nil, err
		}
		for _, a := range es.Annotations {
			term := r.qualify(a.Term)
			if ns, local, _ := cutLast(a.Term); ns == "Capabilities" && r.aliases["Capabilities"] == "" {
				term = capabilitiesNamespace + "." + local
			}
			if a.Qualifier == "" && term == capabilitiesNamespace+".ChangeTracking" && a.recordBool("Supported") {
				s.ChangeTracking = true
			}
		}
		doc.Sets = append(doc.Sets, s)
	}
	return doc, nil
}

// reader holds what Parse collects from all schemas before it builds sets.
type reader struct {
	aliases map[string]string            // alias -> namespace
	types   map[string]*xEntityType      // qualified name -> entity type
	notes   map[string]map[string]string // target path -> qualified term -> value
}

// entitySet builds the set name of the entity type typeName (qualified).
func (r *reader) entitySet(name, typeName string) (*EntitySet, error) {
	s := &EntitySet{Name: name, Type: typeName, Description: r.notes[typeName][coreDescription]}
	// The type and its base types, base first.
	var chain []string
	for n := typeName; n != ""; {
		for _, seen := range chain {
			if seen == n {
				return nil, fmt.Errorf("entity type %s: base type cycle", typeName)
			}
		}
		et := r.types[n]
		if et == nil {
			s.KeyProblem = fmt.Sprintf("entity type %s is not declared", n)
			break
		}
		chain = append([]string{n}, chain...)
		n = r.qualify(et.BaseType)
	}
	var keyRefs []xPropertyRef
	for _, tn := range chain {
		et := r.types[tn]
		for _, pe := range et.Properties {
			if s.Property(pe.Name) != nil {
				return nil, fmt.Errorf("entity type %s: property %s is declared twice", tn, pe.Name)
			}
			p, err := r.property(pe)
			if err != nil {
				return nil, fmt.Errorf("entity type %s: property %s: %v", tn, pe.Name, err)
			}
			for _, target := range []string{tn + "/" + p.Name, typeName + "/" + p.Name} {
				notes := r.notes[target]
				if d, ok := notes[coreDescription]; ok {
					p.Description = d
				}
				if c, ok := notes[coreComputed]; ok {
					p.Computed = c == "" || c == "true"
				}
			}
			s.Properties = append(s.Properties, p)
		}
		if et.Key != nil {
			keyRefs = et.Key.Refs
		}
	}
	if s.KeyProblem != "" {
		return s, nil
	}
	for _, ref := range keyRefs {
		p := s.Property(ref.Name)
		if p == nil {
			s.KeyProblem = fmt.Sprintf("key property %q is not a property of %s", ref.Name, typeName)
			s.Key = nil
			break
		}
		s.Key = append(s.Key, p)
	}
	return s, nil
}

// property reads a Property element, without its annotations.
func (r *reader) property(pe xProperty) (*Property, error) {
	p := &Property{Name: pe.Name}
	var err error
	if p.Type, p.Edm, err = r.propertyType(pe.Type); err != nil {
		return nil, err
	}
	switch pe.Nullable {
	case "", "true":
		p.Nullable = true
	case "false":
	default:
		return nil, fmt.Errorf("not a boolean: Nullable=%q", pe.Nullable)
	}
	if strings.EqualFold(pe.MaxLength, "max") {
		p.MaxLength = -1
	} else if p.MaxLength, err = facet("MaxLength", pe.MaxLength); err != nil {
		return nil, err
	}
	if p.Precision, err = facet("Precision", pe.Precision); err != nil {
		return nil, err
	}
	switch strings.ToLower(pe.Scale) {
	case "variable", "floating":
		p.Variable = true
	default:
		if p.Scale, err = facet("Scale", pe.Scale); err != nil {
			return nil, err
		}
	}
	if p.Edm == metadata.Decimal && pe.Precision == "" && pe.Scale == "" {
		// CSDL would mean scale 0, but producers that leave both
		// facets out mean an unconstrained decimal.
		p.Variable = true
	}
	return p, nil
}

// facet parses an integer facet; "" is 0.
func facet(attr, v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("not a non-negative integer: %s=%q", attr, v)
	}
	return n, nil
}

// propertyType resolves a Type attribute: the type name with aliases
// resolved and, for a single-valued primitive type metadata has, that type.
func (r *reader) propertyType(t string) (string, metadata.Type, error) {
	if t == "" {
		return "", "", fmt.Errorf("no Type attribute")
	}
	name, collection := strings.CutPrefix(t, "Collection(")
	if collection {
		var closed bool
		if name, closed = strings.CutSuffix(name, ")"); !closed {
			return "", "", fmt.Errorf("unclosed Collection: Type=%q", t)
		}
	}
	ns, local, ok := cutLast(name)
	switch {
	case !ok:
		return "", "", fmt.Errorf("not a qualified name: Type=%q", t)
	case ns != "Edm":
		name = r.qualify(name)
	case !primitives[local] && !otherEdmTypes[local]:
		return "", "", fmt.Errorf("unknown Edm type: Type=%q", t)
	}
	if collection {
		return "Collection(" + name + ")", "", nil
	}
	var edm metadata.Type
	if ns == "Edm" && primitives[local] {
		edm = metadata.Type(local)
	}
	return name, edm, nil
}

// qualify replaces a leading alias in a qualified name by its namespace.
func (r *reader) qualify(name string) string {
	if ns, local, ok := cutLast(name); ok {
		if full, ok := r.aliases[ns]; ok {
			return full + "." + local
		}
	}
	return name
}

// qualifyPath qualifies the first segment of an annotation target path
// such as "Alias.Type/Property".
func (r *reader) qualifyPath(target string) string {
	first, rest, found := strings.Cut(target, "/")
	if found {
		return r.qualify(first) + "/" + rest
	}
	return r.qualify(first)
}

// The terms Parse understands, by qualified name.
const (
	coreNamespace   = "Org.OData.Core.V1"
	coreDescription = coreNamespace + ".Description"
	coreComputed    = coreNamespace + ".Computed"

	capabilitiesNamespace = "Org.OData.Capabilities.V1"
)

// note records the unqualified annotations of target by qualified term.
func (r *reader) note(target string, as []xAnnotation) {
	for _, a := range as {
		if a.Qualifier != "" {
			continue
		}
		term := r.qualify(a.Term)
		if ns, local, _ := cutLast(a.Term); ns == "Core" && r.aliases["Core"] == "" {
			term = coreNamespace + "." + local
		}
		if r.notes[target] == nil {
			r.notes[target] = map[string]string{}
		}
		r.notes[target][term] = a.value()
	}
}

// cutLast splits a qualified name at its last dot.
func cutLast(name string) (namespace, local string, ok bool) {
	i := strings.LastIndex(name, ".")
	if i <= 0 {
		return "", name, false
	}
	return name[:i], name[i+1:], true
}

// primitives are the Edm types metadata has a Type for.
var primitives = map[string]bool{
	"Boolean": true, "Byte": true, "SByte": true, "Int16": true, "Int32": true, "Int64": true,
	"Decimal": true, "Single": true, "Double": true, "String": true, "Date": true,
	"DateTimeOffset": true, "TimeOfDay": true, "Duration": true, "Guid": true, "Binary": true,
}

// otherEdmTypes are the remaining types of the Edm namespace (CSDL 4.01
// section 4.4): valid, but without a metadata.Type.
var otherEdmTypes = map[string]bool{
	"Stream": true, "Untyped": true, "PrimitiveType": true, "ComplexType": true, "EntityType": true,
	"AnnotationPath": true, "PropertyPath": true, "NavigationPropertyPath": true,
	"AnyPropertyPath": true, "ModelElementPath": true,
	"Geography": true, "GeographyPoint": true, "GeographyLineString": true, "GeographyPolygon": true,
	"GeographyMultiPoint": true, "GeographyMultiLineString": true, "GeographyMultiPolygon": true, "GeographyCollection": true,
	"Geometry": true, "GeometryPoint": true, "GeometryLineString": true, "GeometryPolygon": true,
	"GeometryMultiPoint": true, "GeometryMultiLineString": true, "GeometryMultiPolygon": true, "GeometryCollection": true,
}

// The CSDL XML subset Parse reads. encoding/xml matches local names when a
// tag has no namespace, so edmx and edm elements need no spelling out.
type xEdmx struct {
	XMLName    xml.Name `xml:"Edmx"`
	Version    string   `xml:"Version,attr"`
	References []struct {
		Includes []struct {
			Namespace string `xml:"Namespace,attr"`
			Alias     string `xml:"Alias,attr"`
		} `xml:"Include"`
	} `xml:"Reference"`
	Schemas []xSchema `xml:"DataServices>Schema"`
}

type xSchema struct {
	Namespace   string        `xml:"Namespace,attr"`
	Alias       string        `xml:"Alias,attr"`
	EntityTypes []xEntityType `xml:"EntityType"`
	Containers  []xContainer  `xml:"EntityContainer"`
	Annotations []struct {
		Target      string        `xml:"Target,attr"`
		Qualifier   string        `xml:"Qualifier,attr"`
		Annotations []xAnnotation `xml:"Annotation"`
	} `xml:"Annotations"`
}

type xEntityType struct {
	Name     string `xml:"Name,attr"`
	BaseType string `xml:"BaseType,attr"`
	Key      *struct {
		Refs []xPropertyRef `xml:"PropertyRef"`
	} `xml:"Key"`
	Properties  []xProperty   `xml:"Property"`
	Annotations []xAnnotation `xml:"Annotation"`
}

type xPropertyRef struct {
	Name string `xml:"Name,attr"`
}

type xProperty struct {
	Name        string        `xml:"Name,attr"`
	Type        string        `xml:"Type,attr"`
	Nullable    string        `xml:"Nullable,attr"`
	MaxLength   string        `xml:"MaxLength,attr"`
	Precision   string        `xml:"Precision,attr"`
	Scale       string        `xml:"Scale,attr"`
	Annotations []xAnnotation `xml:"Annotation"`
}

type xContainer struct {
	Name string `xml:"Name,attr"`
	Sets []struct {
		Name        string        `xml:"Name,attr"`
		EntityType  string        `xml:"EntityType,attr"`
		Annotations []xAnnotation `xml:"Annotation"`
	} `xml:"EntitySet"`
}

// xAnnotation is an annotation with a constant String or Bool value, as an
// attribute or as a child element.
type xAnnotation struct {
	Term       string `xml:"Term,attr"`
	Qualifier  string `xml:"Qualifier,attr"`
	String     string `xml:"String,attr"`
	Bool       string `xml:"Bool,attr"`
	StringElem string `xml:"String"`
	BoolElem   string `xml:"Bool"`
	Record     struct {
		Values []struct {
			Property string `xml:"Property,attr"`
			Bool     string `xml:"Bool,attr"`
		} `xml:"PropertyValue"`
	} `xml:"Record"`
}

// recordBool is the Bool value of property name of the annotation's record.
func (a xAnnotation) recordBool(name string) bool {
	for _, v := range a.Record.Values {
		if v.Property == name {
			return v.Bool == "true"
		}
	}
	return false
}

func (a xAnnotation) value() string {
	for _, v := range []string{a.String, a.Bool, a.StringElem, a.BoolElem} {
		if v != "" {
			return v
		}
	}
	return ""
}
