package conformance

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/metadata"
)

// The CSDL XML subset the checker reads. encoding/xml matches local names,
// so the edmx/edm namespaces need no spelling out.
type edmxDoc struct {
	XMLName xml.Name     `xml:"Edmx"`
	Version string       `xml:"Version,attr"`
	Schemas []schemaElem `xml:"DataServices>Schema"`
}

type schemaElem struct {
	Namespace   string            `xml:"Namespace,attr"`
	Alias       string            `xml:"Alias,attr"`
	EntityTypes []entityTypeElem  `xml:"EntityType"`
	Containers  []containerElem   `xml:"EntityContainer"`
	Annotations []annotationsElem `xml:"Annotations"`
}

type entityTypeElem struct {
	Name     string `xml:"Name,attr"`
	BaseType string `xml:"BaseType,attr"`
	Key      *struct {
		Refs []struct {
			Name string `xml:"Name,attr"`
		} `xml:"PropertyRef"`
	} `xml:"Key"`
	Properties []propertyElem `xml:"Property"`
}

type propertyElem struct {
	Name        string           `xml:"Name,attr"`
	Type        string           `xml:"Type,attr"`
	Nullable    string           `xml:"Nullable,attr"`
	MaxLength   string           `xml:"MaxLength,attr"`
	Precision   string           `xml:"Precision,attr"`
	Scale       string           `xml:"Scale,attr"`
	Annotations []annotationElem `xml:"Annotation"`
}

type annotationElem struct {
	Term string `xml:"Term,attr"`
	Bool string `xml:"Bool,attr"`
}

type annotationsElem struct {
	Target      string           `xml:"Target,attr"`
	Annotations []annotationElem `xml:"Annotation"`
}

type containerElem struct {
	Name string `xml:"Name,attr"`
	Sets []struct {
		Name       string `xml:"Name,attr"`
		EntityType string `xml:"EntityType,attr"`
	} `xml:"EntitySet"`
}

// eset is an entity set as the checker sees it.
type eset struct {
	Name   string
	Type   string // qualified entity type name
	Key    []*prop
	Props  []*prop
	byName map[string]*prop
	// keyProblem is set when the key could not be resolved.
	keyProblem string
}

// prop is a structural property from $metadata.
type prop struct {
	Name      string
	Type      string        // as declared, e.g. "Edm.String"
	Edm       metadata.Type // "" when not an Edm primitive
	Nullable  bool
	MaxLength int // 0 = undeclared, -1 = max
	Precision int
	Scale     int
	Variable  bool
	Computed  bool // Core.Computed: the service supplies the value
}

func (s *eset) prop(name string) *prop { return s.byName[name] }

func (s *eset) isKey(p *prop) bool {
	for _, k := range s.Key {
		if k == p {
			return true
		}
	}
	return false
}

// toMetadata converts the set for the salesforce rules.
func (s *eset) toMetadata() *metadata.EntitySet {
	ms := &metadata.EntitySet{Name: s.Name, Kind: metadata.KindTable}
	conv := map[*prop]*metadata.Property{}
	for _, p := range s.Props {
		t := p.Edm
		if t == "" {
			t = metadata.Type(p.Type)
		}
		mp := &metadata.Property{Name: p.Name, Type: t, Nullable: p.Nullable, MaxLength: p.MaxLength,
			Precision: p.Precision, Scale: p.Scale, Variable: p.Variable}
		conv[p] = mp
		ms.Properties = append(ms.Properties, mp)
	}
	for _, k := range s.Key {
		ms.Key = append(ms.Key, conv[k])
	}
	return ms
}

// parseCSDL reads a $metadata document into entity sets (in document order).
func parseCSDL(data []byte) (version string, sets []*eset, err error) {
	var doc edmxDoc
	if err := xml.Unmarshal(data, &doc); err != nil {
		return "", nil, fmt.Errorf("$metadata is not CSDL XML: %v", err)
	}
	if len(doc.Schemas) == 0 {
		return doc.Version, nil, fmt.Errorf("$metadata has no Schema")
	}
	types := map[string]*entityTypeElem{}
	computed := map[string]bool{} // "Ns.Type/Prop"
	alias := map[string]string{}  // alias -> namespace
	for i := range doc.Schemas {
		sc := &doc.Schemas[i]
		if sc.Alias != "" {
			alias[sc.Alias] = sc.Namespace
		}
	}
	qualify := func(name string) string {
		if i := strings.LastIndex(name, "."); i > 0 {
			if ns, ok := alias[name[:i]]; ok {
				return ns + name[i:]
			}
		}
		return name
	}
	var containers []containerElem
	for i := range doc.Schemas {
		sc := &doc.Schemas[i]
		for j := range sc.EntityTypes {
			et := &sc.EntityTypes[j]
			types[sc.Namespace+"."+et.Name] = et
			for _, p := range et.Properties {
				if isComputed(p.Annotations) {
					computed[sc.Namespace+"."+et.Name+"/"+p.Name] = true
				}
			}
		}
		for _, a := range sc.Annotations {
			if isComputed(a.Annotations) {
				t := a.Target
				if i := strings.Index(t, "/"); i > 0 {
					t = qualify(t[:i]) + t[i:]
				}
				computed[t] = true
			}
		}
		containers = append(containers, sc.Containers...)
	}
	if len(containers) == 0 {
		return doc.Version, nil, fmt.Errorf("$metadata has no EntityContainer")
	}
	for _, c := range containers {
		for _, es := range c.Sets {
			tn := qualify(es.EntityType)
			s := &eset{Name: es.Name, Type: tn, byName: map[string]*prop{}}
			// Walk the type and its base types (base first).
			var chain []*entityTypeElem
			var chainNames []string
			seen := map[string]bool{}
			for n := tn; n != "" && !seen[n]; {
				seen[n] = true
				et := types[n]
				if et == nil {
					s.keyProblem = fmt.Sprintf("entity type %s is not declared", n)
					break
				}
				chain = append([]*entityTypeElem{et}, chain...)
				chainNames = append([]string{n}, chainNames...)
				n = qualify(et.BaseType)
			}
			var keyRefs []string
			for i, et := range chain {
				for _, pe := range et.Properties {
					p, perr := newProp(pe)
					if perr != nil {
						return doc.Version, nil, fmt.Errorf("entity type %s: %v", chainNames[i], perr)
					}
					p.Computed = computed[chainNames[i]+"/"+p.Name] || computed[tn+"/"+p.Name]
					s.Props = append(s.Props, p)
					s.byName[p.Name] = p
				}
				if et.Key != nil {
					keyRefs = keyRefs[:0]
					for _, r := range et.Key.Refs {
						keyRefs = append(keyRefs, r.Name)
					}
				}
			}
			for _, r := range keyRefs {
				p := s.byName[r]
				if p == nil {
					s.keyProblem = fmt.Sprintf("key property %q is not a property of %s", r, tn)
					s.Key = nil
					break
				}
				s.Key = append(s.Key, p)
			}
			sets = append(sets, s)
		}
	}
	return doc.Version, sets, nil
}

func isComputed(as []annotationElem) bool {
	for _, a := range as {
		if a.Term == "Org.OData.Core.V1.Computed" || a.Term == "Core.Computed" {
			return a.Bool == "" || a.Bool == "true"
		}
	}
	return false
}

func newProp(pe propertyElem) (*prop, error) {
	p := &prop{Name: pe.Name, Type: pe.Type, Nullable: pe.Nullable != "false"}
	if strings.HasPrefix(pe.Type, "Edm.") {
		p.Edm = metadata.Type(strings.TrimPrefix(pe.Type, "Edm."))
	}
	var err error
	atoi := func(attr, v string) int {
		if v == "" || err != nil {
			return 0
		}
		n, e := strconv.Atoi(v)
		if e != nil || n < 0 {
			err = fmt.Errorf("property %s: %s=%q is not a non-negative integer", pe.Name, attr, v)
		}
		return n
	}
	if strings.EqualFold(pe.MaxLength, "max") {
		p.MaxLength = -1
	} else {
		p.MaxLength = atoi("MaxLength", pe.MaxLength)
	}
	p.Precision = atoi("Precision", pe.Precision)
	switch strings.ToLower(pe.Scale) {
	case "variable", "floating":
		p.Variable = true
	default:
		p.Scale = atoi("Scale", pe.Scale)
	}
	if p.Edm == metadata.Decimal && pe.Precision == "" && pe.Scale == "" {
		p.Variable = true
	}
	return p, err
}
