// Package metadata is the entity model odatagw serves: entity sets, their
// properties, keys and foreign keys, together with the storage mapping
// (schema, table and column names) that the adapters need.
//
// A Model is built once from an introspected Source plus a config Overlay
// (see Build) and is immutable afterwards; a reload builds a new Model and
// swaps it atomically. Package metadata knows nothing about URLs or SQL.
package metadata

import (
	"sort"
	"strings"
	"time"
)

// Type is an Edm primitive type name without the "Edm." prefix.
type Type string

// The Edm primitive types the gateway maps storage types to.
const (
	Boolean        Type = "Boolean"
	Byte           Type = "Byte"
	SByte          Type = "SByte"
	Int16          Type = "Int16"
	Int32          Type = "Int32"
	Int64          Type = "Int64"
	Decimal        Type = "Decimal"
	Single         Type = "Single"
	Double         Type = "Double"
	String         Type = "String"
	Date           Type = "Date"
	DateTimeOffset Type = "DateTimeOffset"
	TimeOfDay      Type = "TimeOfDay"
	Duration       Type = "Duration"
	Guid           Type = "Guid"
	Binary         Type = "Binary"
)

// FullName is the qualified name, e.g. "Edm.Int32".
func (t Type) FullName() string { return "Edm." + string(t) }

// IsIntegral reports whether t is one of the integer types.
func (t Type) IsIntegral() bool {
	switch t {
	case Byte, SByte, Int16, Int32, Int64:
		return true
	}
	return false
}

// IsNumeric reports whether t is an integer, decimal or floating-point type.
func (t Type) IsNumeric() bool {
	return t.IsIntegral() || t == Decimal || t == Single || t == Double
}

// Kind says what a storage object is.
type Kind string

// Storage object kinds.
const (
	KindTable            Kind = "table"
	KindView             Kind = "view"
	KindMaterializedView Kind = "materialized view"
)

// Model is an immutable snapshot of everything the service exposes.
type Model struct {
	Namespace string // CSDL schema namespace, e.g. "odatagw"
	Container string // entity container name
	Sets      []*EntitySet
	// Zone is the time zone in which timestamp-without-time-zone columns
	// are interpreted. Never nil in a built model (UTC by default).
	Zone *time.Location
	// MaxExpandDepth is the $expand depth the service allows (0: the
	// default, 3); $metadata advertises it.
	MaxExpandDepth int
	// FilterFunctions are the functions and operators $filter supports
	// (nil: not advertised).
	FilterFunctions []string

	byName map[string]*EntitySet
	byFold map[string]*EntitySet
}

// Set returns the entity set with the given OData name, or nil.
func (m *Model) Set(name string) *EntitySet { return m.byName[name] }

// SetFold returns the entity set whose name equals name ignoring case, or nil.
// It is used for "did you mean" hints only; names are case-sensitive.
func (m *Model) SetFold(name string) *EntitySet { return m.byFold[strings.ToLower(name)] }

// EntitySet is one exposed table or view with its entity type.
type EntitySet struct {
	Name        string // OData name of the set (and of its entity type)
	Schema      string // storage schema ("" for SQLite)
	Table       string // storage table name
	Kind        Kind
	Description string
	Properties  []*Property  // in storage column order
	Key         []*Property  // never empty in a built model
	ForeignKeys []ForeignKey // from the storage catalog
	// Navigations are the navigation properties derived from foreign keys
	// between exposed sets (see Build), sorted by name.
	Navigations []*Navigation
	ReadOnly    bool // views, or configured read-only
	// Searchable lists the properties $search matches against.
	Searchable []*Property
	// ETag, when set, is the property whose value is the row version
	// (optimistic concurrency); ETagHash means a hash of all properties.
	ETag     *Property
	ETagHash bool
	// Count says how $count and @odata.count are answered.
	Count Count
	// Tracked: changes are captured (odatagw track install) and configured
	// to be served as delta links (track_changes). Set by the composition
	// root before the model is published.
	Tracked bool

	byName map[string]*Property
	byFold map[string]*Property
	byNav  map[string]*Navigation
}

// Count is a set's count strategy. With Estimated, a count the planner
// expects to reach ExactBelow rows or more is answered with the planner's
// estimate instead of counting; smaller ones are counted exactly.
type Count struct {
	Estimated  bool
	ExactBelow int64
}

// TypeName is the name of the entity type of the set.
func (s *EntitySet) TypeName() string { return s.Name }

// Property returns the property with the given OData name, or nil.
func (s *EntitySet) Property(name string) *Property { return s.byName[name] }

// Navigation returns the navigation property with the given name, or nil.
func (s *EntitySet) Navigation(name string) *Navigation { return s.byNav[name] }

// PropertyFold returns the property whose name matches ignoring case, or nil.
func (s *EntitySet) PropertyFold(name string) *Property {
	return s.byFold[strings.ToLower(name)]
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

// Property is one structural property of an entity type.
type Property struct {
	Name        string // OData name
	Column      string // storage column name
	Index       int    // position in EntitySet.Properties
	Type        Type
	Nullable    bool
	MaxLength   int  // 0 = not declared
	Precision   int  // Decimal: total digits (0 = unconstrained); temporal: fractional-second digits
	Scale       int  // Decimal scale when !ScaleVariable
	Variable    bool // Decimal with Scale="variable" (unconstrained numeric)
	Dynamic     bool // a $compute alias in a response, never a model property: JSON annotates its type
	Description string
	// Storage facts the adapters need.
	DBType    string // storage type name as introspected, e.g. "bpchar", "timestamp"
	FixedChar bool   // char(n): values returned right-trimmed, compared unpadded
	LocalTime bool   // timestamp without time zone, interpreted in Model.Zone
	// Write facts.
	Default   string // default expression ("" = none)
	Identity  bool   // identity or serial: the database generates it
	Generated bool   // GENERATED ALWAYS AS (...) STORED: never writable
	ReadOnly  bool   // configured or Generated
}

// ServerGenerated reports whether the database supplies a value when an
// insert leaves the property out.
func (p *Property) ServerGenerated() bool {
	return p.Identity || p.Generated || p.Default != ""
}

// ForeignKey is a storage foreign key between two exposed sets.
type ForeignKey struct {
	Name       string
	Properties []*Property // in the referencing set
	Target     string      // OData name of the referenced set
	TargetKey  []string    // OData names of the referenced properties
}

// Navigation is a navigation property: a foreign key seen from one of its
// two ends. On the referencing set it is to-one (Many false) and names the
// referenced row; on the referenced set it is to-many and names the
// referencing rows. Local[i] = Remote[i] is the join, for every i.
type Navigation struct {
	Name   string
	Target *EntitySet
	Many   bool
	// Nullable: a to-one navigation may be absent (a foreign-key property
	// is nullable). Always false for to-many ones.
	Nullable bool
	Partner  string // the name of the navigation in the opposite direction on Target ("" when hidden)
	// Local are properties of the navigation's own set, Remote the
	// corresponding properties of Target. For a to-one navigation Local
	// are the foreign-key properties (its ReferentialConstraint).
	Local, Remote []*Property
	Constraint    string // the storage foreign key's name
}

// Warning is a problem found while building the model that did not stop it.
type Warning struct {
	Object string // "schema.table" or "schema.table.column"
	Msg    string
}

func (w Warning) String() string { return w.Object + ": " + w.Msg }

func (m *Model) index() {
	m.byName = make(map[string]*EntitySet, len(m.Sets))
	m.byFold = make(map[string]*EntitySet, len(m.Sets))
	sort.Slice(m.Sets, func(i, j int) bool { return m.Sets[i].Name < m.Sets[j].Name })
	for _, s := range m.Sets {
		m.byName[s.Name] = s
		m.byFold[strings.ToLower(s.Name)] = s
		s.byName = make(map[string]*Property, len(s.Properties))
		s.byFold = make(map[string]*Property, len(s.Properties))
		for i, p := range s.Properties {
			p.Index = i
			s.byName[p.Name] = p
			s.byFold[strings.ToLower(p.Name)] = p
		}
		s.byNav = make(map[string]*Navigation, len(s.Navigations))
		for _, n := range s.Navigations {
			s.byNav[n.Name] = n
		}
	}
}

// NewModel assembles a model from already-built sets (tests and tools);
// Build is the normal constructor.
func NewModel(namespace string, zone *time.Location, sets ...*EntitySet) *Model {
	if zone == nil {
		zone = time.UTC
	}
	m := &Model{Namespace: namespace, Container: "Container", Sets: sets, Zone: zone}
	m.index()
	return m
}

// MaxFilterLevels is how many navigation segments one path in $filter or
// $orderby may follow (Capabilities.FilterRestrictions/MaxLevels).
const MaxFilterLevels = 8

// ExpandLevels is the $expand depth advertised in $metadata.
func (m *Model) ExpandLevels() int {
	if m.MaxExpandDepth > 0 {
		return m.MaxExpandDepth
	}
	return 3
}

// HasNavigation reports whether any set has a navigation property.
func (m *Model) HasNavigation() bool {
	for _, s := range m.Sets {
		if len(s.Navigations) > 0 {
			return true
		}
	}
	return false
}
