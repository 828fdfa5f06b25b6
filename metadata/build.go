package metadata

import (
	"fmt"
	"hash/fnv"
	"sort"
	"strings"
	"time"
)

// Source is what an adapter's introspection found in the database: plain
// data, already mapped to Edm types by the adapter (which knows its types).
type Source struct {
	Tables []Table
	// Warnings are the introspection's own (e.g. catalog features the
	// database lacks); Build passes them on first.
	Warnings []Warning
}

// Table is one introspected table, view or materialized view.
type Table struct {
	Schema      string
	Name        string
	Kind        Kind
	Comment     string
	Columns     []Column
	PrimaryKey  []string // column names, in key order
	ForeignKeys []ForeignKeySource
	// NoSelect: the gateway's database role may not read the table (it is
	// skipped with a warning rather than synced by Salesforce and then
	// failing every query). NoWrite: the role may not insert, update or
	// delete (the set becomes read-only: 405 up front).
	NoSelect bool
	NoWrite  bool
}

// Column is one introspected column. Type is empty when the storage type
// has no Edm mapping; Unsupported then says why, and the column is skipped.
type Column struct {
	Name        string
	DBType      string
	Type        Type
	Unsupported string
	Nullable    bool
	MaxLength   int
	Precision   int
	Scale       int
	Variable    bool
	FixedChar   bool
	LocalTime   bool
	Default     string
	Identity    bool
	Generated   bool
	Comment     string
	// Note is an informational mapping remark (e.g. "enum mapped to String").
	Note string
}

// ForeignKeySource is an introspected foreign key, in storage names.
type ForeignKeySource struct {
	Name       string
	Columns    []string
	RefSchema  string
	RefTable   string
	RefColumns []string
}

// Overlay is the configuration applied on top of introspection.
type Overlay struct {
	Namespace string
	Zone      *time.Location
	// Sets is keyed by "schema.table" or by "table" (any schema).
	Sets map[string]SetOverlay
	// ReadOnly makes every set read-only.
	ReadOnly bool
	// NoNavigation leaves navigation properties out of the model.
	NoNavigation bool
	// MaxExpandDepth is the $expand depth the service allows, advertised
	// as Capabilities.ExpandRestrictions/MaxLevels (0: the default, 3).
	MaxExpandDepth int
	// FilterFunctions are the functions and operators $filter supports,
	// advertised in $metadata (Capabilities.FilterFunctions).
	FilterFunctions []string
}

// SetOverlay renames, hides or annotates one table or view.
type SetOverlay struct {
	Name     string   // OData name; must be a valid name
	Hide     bool     // not exposed
	Key      []string // column names; required for views without a key
	ReadOnly bool     // no writes
	Search   []string // column names $search matches (default: all strings)
	ETag     string   // column holding a row version
	ETagHash bool     // ETag = hash of the row
	// Count is how $count is answered: CountExact (default) or
	// CountEstimated (see EntitySet.Count).
	Count      Count
	Properties map[string]PropertyOverlay
	// Navigation renames or hides derived navigation properties, keyed by
	// the derived name.
	Navigation map[string]NavigationOverlay
}

// PropertyOverlay renames or hides one column.
type PropertyOverlay struct {
	Name     string
	Hide     bool
	ReadOnly bool
}

// MaxNameLength is the longest name Salesforce accepts as an API name.
const MaxNameLength = 40

// ValidName reports whether s is usable as both an OData identifier and a
// Salesforce API name: ASCII letters, digits and single underscores,
// starting with a letter, not ending with an underscore, at most 40 bytes.
func ValidName(s string) bool {
	if s == "" || len(s) > MaxNameLength {
		return false
	}
	prevUnderscore := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
			prevUnderscore = false
		case c >= '0' && c <= '9':
			if i == 0 {
				return false
			}
			prevUnderscore = false
		case c == '_':
			if i == 0 || prevUnderscore {
				return false
			}
			prevUnderscore = true
		default:
			return false
		}
	}
	return !prevUnderscore
}

// SanitizeName turns any storage name into a valid name, deterministically.
// Valid names come back unchanged. Otherwise runs of other characters become
// one underscore, leading digits get an "X" prefix, and a name that had to be
// shortened gets a short hash of the original so that two long names sharing
// a prefix stay distinct.
func SanitizeName(s string) string {
	if ValidName(s) {
		return s
	}
	var b strings.Builder
	pendingUnderscore := false
	for _, r := range s {
		ok := r < 128 && (r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
		if !ok {
			pendingUnderscore = b.Len() > 0
			continue
		}
		if pendingUnderscore {
			b.WriteByte('_')
			pendingUnderscore = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if out == "" {
		out = "X"
	}
	if out[0] >= '0' && out[0] <= '9' {
		out = "X" + out
	}
	if len(out) > MaxNameLength {
		h := fnv.New32a()
		h.Write([]byte(s))
		suffix := fmt.Sprintf("_%06x", h.Sum32()&0xffffff)
		out = strings.TrimRight(out[:MaxNameLength-len(suffix)], "_") + suffix
	}
	return out
}

// Name ranks: on a case-insensitive collision the lower rank keeps its name.
const (
	rankConfigured = iota // named in the overlay
	rankStorage           // the storage name, already valid
	rankDerived           // sanitised or schema-prefixed
)

// nameRequest is a wanted name and how strongly it is held.
type nameRequest struct {
	want string
	rank int
}

// assignNames gives every request a name that is unique ignoring case. Names
// are granted by rank, then in request order, and a loser gets a numeric
// suffix. So a configured or already valid name never yields to a derived
// one: adding a table "order lines" does not rename an existing set
// "order_lines" (Salesforce mappings would break).
func assignNames(reqs []nameRequest) []string {
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return reqs[order[a]].rank < reqs[order[b]].rank })
	out := make([]string, len(reqs))
	taken := map[string]bool{}
	// Pass 1: every request whose name is free gets it, by rank.
	for _, i := range order {
		if k := strings.ToLower(reqs[i].want); !taken[k] {
			taken[k] = true
			out[i] = reqs[i].want
		}
	}
	// Pass 2: the losers get suffixes, avoiding every granted name.
	for _, i := range order {
		if out[i] == "" {
			out[i] = uniqueName(reqs[i].want, taken)
		}
	}
	return out
}

// uniqueName returns name, or name with a numeric suffix, so that it does
// not collide case-insensitively with taken (Salesforce API names ignore case).
func uniqueName(name string, taken map[string]bool) string {
	if !taken[strings.ToLower(name)] {
		taken[strings.ToLower(name)] = true
		return name
	}
	for i := 2; ; i++ {
		suffix := fmt.Sprintf("_%d", i)
		base := name
		if len(base)+len(suffix) > MaxNameLength {
			base = strings.TrimRight(base[:MaxNameLength-len(suffix)], "_")
		}
		cand := base + suffix
		if !taken[strings.ToLower(cand)] {
			taken[strings.ToLower(cand)] = true
			return cand
		}
	}
}

// Build maps an introspected source and a config overlay to a model. It never
// fails on odd storage: unsupported columns, keyless views, bad names and
// collisions are skipped or renamed with a Warning. It fails only when the
// overlay itself is wrong (an invalid configured name, a configured key or
// column that does not exist).
func Build(src Source, ov Overlay) (*Model, []Warning, error) {
	warns := append([]Warning(nil), src.Warnings...)
	warn := func(obj, format string, args ...any) {
		warns = append(warns, Warning{Object: obj, Msg: fmt.Sprintf(format, args...)})
	}
	ns := ov.Namespace
	if ns == "" {
		ns = "odatagw"
	}
	zone := ov.Zone
	if zone == nil {
		zone = time.UTC
	}

	tables := append([]Table(nil), src.Tables...)
	sort.SliceStable(tables, func(i, j int) bool {
		if tables[i].Schema != tables[j].Schema {
			return tables[i].Schema < tables[j].Schema
		}
		return tables[i].Name < tables[j].Name
	})
	var sets []*EntitySet
	byStorage := map[string]*EntitySet{} // "schema.table" -> set
	colNames := map[*EntitySet]map[string]*Property{}
	setOverlays := map[*EntitySet]SetOverlay{}
	setObjs := map[*EntitySet]string{}
	usedOverlays := map[string]bool{}

	type visibleTable struct {
		t   Table
		so  SetOverlay
		obj string
	}
	var visible []visibleTable
	for _, t := range tables {
		so, key, ok := lookupOverlay(ov.Sets, t.Schema, t.Name)
		if ok {
			usedOverlays[key] = true
		}
		if so.Hide {
			continue
		}
		if t.NoSelect {
			warn(qualified(t.Schema, t.Name), "skipped: the gateway's database role has no SELECT privilege on it")
			continue
		}
		visible = append(visible, visibleTable{t: t, so: so, obj: qualified(t.Schema, t.Name)})
	}
	// Table names exposed from more than one schema get a schema prefix.
	schemasOf := map[string]int{}
	for _, v := range visible {
		schemasOf[v.t.Name]++
	}
	setReqs := make([]nameRequest, len(visible))
	for i, v := range visible {
		if name := v.so.Name; name != "" {
			if !ValidName(name) {
				return nil, nil, fmt.Errorf("config: entity set name %q for %s is not a valid name (letters, digits, single underscores, starts with a letter, at most %d characters)", name, v.obj, MaxNameLength)
			}
			setReqs[i] = nameRequest{want: name, rank: rankConfigured}
			continue
		}
		base, rank := v.t.Name, rankStorage
		if schemasOf[v.t.Name] > 1 && v.t.Schema != "" {
			base, rank = v.t.Schema+"_"+v.t.Name, rankDerived
		}
		name := SanitizeName(base)
		if name != base {
			warn(v.obj, "name %q is not a valid Salesforce API name; exposed as %q", base, name)
			rank = rankDerived
		}
		setReqs[i] = nameRequest{want: name, rank: rank}
	}
	setNames := assignNames(setReqs)

	for vi, v := range visible {
		t, so, obj := v.t, v.so, v.obj
		name := setNames[vi]
		if name != setReqs[vi].want {
			warn(obj, "entity set name %q is taken; exposed as %q", setReqs[vi].want, name)
		}

		set := &EntitySet{
			Name: name, Schema: t.Schema, Table: t.Name, Kind: t.Kind,
			Description: t.Comment,
			ReadOnly:    ov.ReadOnly || so.ReadOnly || t.Kind != KindTable || t.NoWrite,
		}
		if t.NoWrite && t.Kind == KindTable && !ov.ReadOnly && !so.ReadOnly {
			warn(obj, "read-only: the gateway's database role may not insert, update or delete it")
		}
		cols := map[string]*Property{}
		var exposed []Column
		var propReqs []nameRequest
		for _, c := range t.Columns {
			cobj := obj + "." + c.Name
			po := so.Properties[c.Name]
			if po.Hide {
				continue
			}
			if c.Type == "" {
				reason := c.Unsupported
				if reason == "" {
					reason = "type " + c.DBType + " has no Edm mapping"
				}
				warn(cobj, "column skipped: %s", reason)
				continue
			}
			if c.Note != "" {
				warn(cobj, "%s", c.Note)
			}
			req := nameRequest{want: po.Name, rank: rankConfigured}
			if req.want != "" {
				if !ValidName(req.want) {
					return nil, nil, fmt.Errorf("config: property name %q for %s is not a valid name", req.want, cobj)
				}
			} else {
				req = nameRequest{want: SanitizeName(c.Name), rank: rankStorage}
				if req.want != c.Name {
					warn(cobj, "name %q is not a valid Salesforce API name; exposed as %q", c.Name, req.want)
					req.rank = rankDerived
				}
			}
			exposed = append(exposed, c)
			propReqs = append(propReqs, req)
		}
		propNames := assignNames(propReqs)
		for ci, c := range exposed {
			po := so.Properties[c.Name]
			pname := propNames[ci]
			if pname != propReqs[ci].want {
				warn(obj+"."+c.Name, "property name %q is taken; exposed as %q", propReqs[ci].want, pname)
			}
			p := &Property{
				Name: pname, Column: c.Name, Type: c.Type, Nullable: c.Nullable,
				MaxLength: c.MaxLength, Precision: c.Precision, Scale: c.Scale, Variable: c.Variable,
				Description: c.Comment, DBType: c.DBType, FixedChar: c.FixedChar, LocalTime: c.LocalTime,
				Default: c.Default, Identity: c.Identity, Generated: c.Generated,
				ReadOnly: c.Generated || po.ReadOnly,
			}
			set.Properties = append(set.Properties, p)
			cols[c.Name] = p
		}
		for colName := range so.Properties {
			if _, ok := cols[colName]; !ok && !so.Properties[colName].Hide {
				found := false
				for _, c := range t.Columns {
					if c.Name == colName {
						found = true
					}
				}
				if !found {
					return nil, nil, fmt.Errorf("config: %s has no column %q", obj, colName)
				}
			}
		}
		if len(set.Properties) == 0 {
			warn(obj, "skipped: no column with a supported type")
			continue
		}

		keyCols := t.PrimaryKey
		if len(so.Key) > 0 {
			keyCols = so.Key
		}
		if len(keyCols) == 0 {
			if t.Kind == KindTable {
				warn(obj, "skipped: table has no primary key (configure key: [...] for it)")
			} else {
				warn(obj, "skipped: %s has no key; configure one with key: [...]", t.Kind)
			}
			continue
		}
		var keyErr string
		for _, kc := range keyCols {
			p := cols[kc]
			if p == nil {
				keyErr = fmt.Sprintf("key column %q is missing or unsupported", kc)
				break
			}
			if p.Type == Double || p.Type == Single || p.Type == Binary {
				keyErr = fmt.Sprintf("key column %q has type %s, which cannot be a key", kc, p.Type.FullName())
				break
			}
			p.Nullable = false
			set.Key = append(set.Key, p)
		}
		if keyErr != "" {
			if len(so.Key) > 0 {
				return nil, nil, fmt.Errorf("config: %s: %s", obj, keyErr)
			}
			warn(obj, "skipped: %s", keyErr)
			continue
		}

		if len(so.Search) > 0 {
			for _, sc := range so.Search {
				p := cols[sc]
				if p == nil || p.Type != String {
					return nil, nil, fmt.Errorf("config: %s: search column %q is not an exposed string column", obj, sc)
				}
				set.Searchable = append(set.Searchable, p)
			}
		} else {
			for _, p := range set.Properties {
				if p.Type == String {
					set.Searchable = append(set.Searchable, p)
				}
			}
		}
		if so.ETag != "" {
			p := cols[so.ETag]
			if p == nil {
				return nil, nil, fmt.Errorf("config: %s: etag column %q is not exposed", obj, so.ETag)
			}
			set.ETag = p
		}
		set.ETagHash = so.ETagHash && set.ETag == nil
		set.Count = so.Count

		sets = append(sets, set)
		setOverlays[set] = so
		setObjs[set] = obj
		byStorage[qualified(t.Schema, t.Name)] = set
		colNames[set] = cols
	}
	for key := range ov.Sets {
		if !usedOverlays[key] {
			return nil, nil, fmt.Errorf("config: sets: %q matches no table or view in the exposed schemas", key)
		}
	}

	// Foreign keys between exposed sets.
	for _, t := range tables {
		set := byStorage[qualified(t.Schema, t.Name)]
		if set == nil {
			continue
		}
		for _, fk := range t.ForeignKeys {
			target := byStorage[qualified(fk.RefSchema, fk.RefTable)]
			if target == nil {
				continue
			}
			f := ForeignKey{Name: fk.Name, Target: target.Name}
			ok := true
			for i, c := range fk.Columns {
				p := colNames[set][c]
				tp := colNames[target][fk.RefColumns[i]]
				if p == nil || tp == nil {
					ok = false
					break
				}
				f.Properties = append(f.Properties, p)
				f.TargetKey = append(f.TargetKey, tp.Name)
			}
			if ok {
				set.ForeignKeys = append(set.ForeignKeys, f)
			}
		}
	}

	m := &Model{Namespace: ns, Container: "Container", Sets: sets, Zone: zone, MaxExpandDepth: ov.MaxExpandDepth,
		FilterFunctions: ov.FilterFunctions}
	m.index()
	if !ov.NoNavigation {
		if err := deriveNavigations(sets, setOverlays, setObjs); err != nil {
			return nil, nil, err
		}
		m.index()
	}
	return m, warns, nil
}

func qualified(schema, name string) string {
	if schema == "" {
		return name
	}
	return schema + "." + name
}

func lookupOverlay(sets map[string]SetOverlay, schema, table string) (SetOverlay, string, bool) {
	if so, ok := sets[qualified(schema, table)]; ok {
		return so, qualified(schema, table), true
	}
	if so, ok := sets[table]; ok {
		return so, table, true
	}
	return SetOverlay{}, "", false
}
