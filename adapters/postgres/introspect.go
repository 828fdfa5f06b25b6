package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/odatagw/odatagw/metadata"
)

// Introspect reads the tables, views and materialized views of the given
// schemas from pg_catalog and maps their columns to Edm types.
//
// An empty schemas list means every non-system schema. System schemas
// (pg_catalog, information_schema, pg_toast*, pg_temp*) are never read, even
// when listed; a list holding only system schemas yields an empty Source. Partitioned tables are returned once (the parent); their
// partitions are skipped. Inheritance children are ordinary tables.
//
// Tables come back ordered by schema and name, columns in attnum order
// (dropped columns omitted). Views and materialized views carry no primary
// key: the configuration supplies one.
//
// Type mapping (after resolving domains to their base type; a domain's NOT
// NULL, typmod and default apply to the column):
//
//	int2 Int16, int4 Int32, int8 Int64, float4 Single, float8 Double, bool Boolean
//	numeric(p,s) Decimal(p,s); numeric without typmod Decimal with Variable
//	text String; varchar(n) String(n); char(n)/bpchar String(n) with FixedChar
//	date Date; time(p) TimeOfDay; interval(p) Duration (p = fractional digits, default 6)
//	timestamptz(p) DateTimeOffset; timestamp(p) DateTimeOffset with LocalTime
//	uuid Guid; bytea Binary
//	json, jsonb, xml, inet, cidr, macaddr, macaddr8, citext, name, "char",
//	enums and money: String, with a Note (money is read as its locale-formatted
//	text; expose numeric(…) through a view to get Edm.Decimal)
//
// Everything else (arrays, composite types, ranges, multiranges, geometric
// types, tsvector/tsquery, bit strings, timetz, oid types, pseudo types…)
// gets an empty Type and an Unsupported reason; metadata.Build skips it.
//
// DBType is the base type's name: the pg_catalog name for built-in types
// (int4, bpchar, timestamptz) and the schema-qualified, quoted-as-needed name
// for other types (enums, extension types such as public.citext), so that it
// can be used in a cast.
//
// Identity is set for identity columns (attidentity) and for serial columns
// (a default calling nextval(…), kept in Default). Generated is set for
// GENERATED ALWAYS AS (…) STORED columns, whose expression is not reported
// as a Default. Comments come from obj_description/col_description.
//
// Introspect fails only when a catalog query fails; an odd object never
// makes it fail.
func Introspect(ctx context.Context, db *sqlx.DB, schemas []string) (metadata.Source, error) {
	var src metadata.Source
	all := len(schemas) == 0
	schemas = introspectUserSchemas(schemas)
	if !all && len(schemas) == 0 {
		return src, nil
	}
	if schemas == nil {
		schemas = []string{}
	}

	cat, warns, err := probeCatalog(ctx, db)
	if err != nil {
		return src, err
	}
	src.Warnings = warns
	rels, err := introspectRelations(ctx, db, cat, all, schemas)
	if err != nil {
		return src, err
	}
	if len(rels) == 0 {
		return src, nil
	}
	oids := make([]int64, 0, len(rels))
	byOID := make(map[int64]*introspectRel, len(rels))
	for _, r := range rels {
		oids = append(oids, r.oid)
		byOID[r.oid] = r
	}
	cols, err := introspectColumns(ctx, db, cat, oids)
	if err != nil {
		return src, err
	}
	typeOIDs := make([]int64, 0, len(cols))
	seen := map[int64]bool{}
	for _, c := range cols {
		if !seen[c.typeOID] {
			seen[c.typeOID] = true
			typeOIDs = append(typeOIDs, c.typeOID)
		}
	}
	types, err := introspectTypes(ctx, db, typeOIDs)
	if err != nil {
		return src, err
	}
	for _, c := range cols {
		r := byOID[c.relOID]
		if r == nil {
			continue
		}
		r.table.Columns = append(r.table.Columns, introspectMapColumn(c, types))
	}
	if err := introspectConstraints(ctx, db, oids, byOID); err != nil {
		return src, err
	}
	for _, r := range rels {
		src.Tables = append(src.Tables, r.table)
	}
	return src, nil
}

// introspectUserSchemas drops system schemas and duplicates, keeping order.
func introspectUserSchemas(schemas []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range schemas {
		if introspectSystemSchema(s) || seen[s] {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

func introspectSystemSchema(s string) bool {
	return s == "pg_catalog" || s == "information_schema" ||
		strings.HasPrefix(s, "pg_toast") || strings.HasPrefix(s, "pg_temp_")
}

type introspectRel struct {
	oid   int64
	table metadata.Table
}

// catalog says which optional catalog columns the database has.
// PostgreSQL 12+ has them all; PostgreSQL-compatible engines (CockroachDB,
// YugabyteDB, …) may lack some, and introspection then does without them,
// with a warning, rather than failing.
type catalog struct {
	relispartition, attidentity, attgenerated bool
}

// catalogColumns are the optional catalog columns probeCatalog looks for,
// with what is lost without each.
var catalogColumns = []struct {
	table, column, without string
	has                    func(*catalog) *bool
}{
	{"pg_class", "relispartition", "partitions of partitioned tables are listed as tables of their own", func(c *catalog) *bool { return &c.relispartition }},
	{"pg_attribute", "attidentity", "identity columns are not recognised as generated (creates must then supply them)", func(c *catalog) *bool { return &c.attidentity }},
	{"pg_attribute", "attgenerated", "generated columns are not recognised (writes to them fail in the database)", func(c *catalog) *bool { return &c.attgenerated }},
}

// probeCatalog finds which optional catalog columns exist.
func probeCatalog(ctx context.Context, db *sqlx.DB) (catalog, []metadata.Warning, error) {
	var cat catalog
	rows, err := db.QueryContext(ctx, `SELECT c.relname, a.attname FROM pg_catalog.pg_attribute a
		JOIN pg_catalog.pg_class c ON c.oid = a.attrelid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'pg_catalog' AND c.relname IN ('pg_class', 'pg_attribute') AND NOT a.attisdropped`)
	if err != nil {
		return cat, nil, fmt.Errorf("introspect catalog: %w", err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			return cat, nil, fmt.Errorf("introspect catalog: %w", err)
		}
		have[t+"."+c] = true
	}
	if err := rows.Err(); err != nil {
		return cat, nil, fmt.Errorf("introspect catalog: %w", err)
	}
	var warns []metadata.Warning
	for _, cc := range catalogColumns {
		ok := have[cc.table+"."+cc.column]
		*cc.has(&cat) = ok
		if !ok {
			warns = append(warns, metadata.Warning{Object: "pg_catalog." + cc.table + "." + cc.column,
				Msg: "not in this database's catalog: " + cc.without})
		}
	}
	return cat, warns, nil
}

// introspectRelationsSQL lists the relations, without what cat lacks.
func introspectRelationsSQL(cat catalog) string {
	partition := "\n  AND NOT c.relispartition"
	if !cat.relispartition {
		partition = ""
	}
	return `
SELECT c.oid::int8, n.nspname, c.relname, c.relkind::text,
       coalesce(obj_description(c.oid, 'pg_class'), ''),
       has_table_privilege(c.oid, 'SELECT'),
       has_table_privilege(c.oid, 'INSERT') OR has_table_privilege(c.oid, 'UPDATE') OR has_table_privilege(c.oid, 'DELETE')
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm')` + partition + `
  AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\_%'
  AND ($1 OR n.nspname = ANY($2::text[]))
ORDER BY n.nspname, c.relname`
}

func introspectRelations(ctx context.Context, db *sqlx.DB, cat catalog, all bool, schemas []string) ([]*introspectRel, error) {
	rows, err := db.QueryContext(ctx, introspectRelationsSQL(cat), all, pq.Array(schemas))
	if err != nil {
		return nil, fmt.Errorf("introspect relations: %w", err)
	}
	defer rows.Close()
	var out []*introspectRel
	for rows.Next() {
		r := &introspectRel{}
		var kind string
		var canSelect, canWrite bool
		if err := rows.Scan(&r.oid, &r.table.Schema, &r.table.Name, &kind, &r.table.Comment, &canSelect, &canWrite); err != nil {
			return nil, fmt.Errorf("introspect relations: %w", err)
		}
		r.table.NoSelect, r.table.NoWrite = !canSelect, !canWrite
		switch kind {
		case "v":
			r.table.Kind = metadata.KindView
		case "m":
			r.table.Kind = metadata.KindMaterializedView
		default:
			r.table.Kind = metadata.KindTable
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("introspect relations: %w", err)
	}
	return out, nil
}

type introspectCol struct {
	relOID    int64
	name      string
	notNull   bool
	typeOID   int64
	typmod    int
	identity  string
	generated string
	def       string
	comment   string
}

// introspectColumnsSQL lists the columns, without what cat lacks.
func introspectColumnsSQL(cat catalog) string {
	identity, generated := "a.attidentity::text", "a.attgenerated::text"
	if !cat.attidentity {
		identity = "''"
	}
	if !cat.attgenerated {
		generated = "''"
	}
	return `
SELECT a.attrelid::int8, a.attname, a.attnotnull, a.atttypid::int8, a.atttypmod,
       ` + identity + `, ` + generated + `,
       coalesce(pg_catalog.pg_get_expr(d.adbin, d.adrelid), ''),
       coalesce(pg_catalog.col_description(a.attrelid, a.attnum), '')
FROM pg_catalog.pg_attribute a
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`
}

func introspectColumns(ctx context.Context, db *sqlx.DB, cat catalog, oids []int64) ([]introspectCol, error) {
	rows, err := db.QueryContext(ctx, introspectColumnsSQL(cat), pq.Array(oids))
	if err != nil {
		return nil, fmt.Errorf("introspect columns: %w", err)
	}
	defer rows.Close()
	var out []introspectCol
	for rows.Next() {
		var c introspectCol
		if err := rows.Scan(&c.relOID, &c.name, &c.notNull, &c.typeOID, &c.typmod,
			&c.identity, &c.generated, &c.def, &c.comment); err != nil {
			return nil, fmt.Errorf("introspect columns: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("introspect columns: %w", err)
	}
	return out, nil
}

type introspectType struct {
	name     string // typname
	schema   string // nspname
	typtype  string // b base, c composite, d domain, e enum, p pseudo, r range, m multirange
	category string // typcategory
	base     int64  // typbasetype (domains)
	typmod   int    // typtypmod (domains)
	notNull  bool   // typnotnull (domains)
	def      string // typdefault (domains)
}

// introspectTypesSQL loads the given types and, for domains, every type down
// their typbasetype chain.
const introspectTypesSQL = `
WITH RECURSIVE chain(oid) AS (
    SELECT t.oid FROM pg_catalog.pg_type t WHERE t.oid = ANY($1::oid[])
  UNION
    SELECT t.typbasetype FROM pg_catalog.pg_type t JOIN chain ON t.oid = chain.oid
    WHERE t.typbasetype <> 0
)
SELECT t.oid::int8, t.typname, n.nspname, t.typtype::text, t.typcategory::text,
       t.typbasetype::int8, t.typtypmod, t.typnotnull, coalesce(t.typdefault, '')
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.oid IN (SELECT oid FROM chain)`

func introspectTypes(ctx context.Context, db *sqlx.DB, oids []int64) (map[int64]*introspectType, error) {
	rows, err := db.QueryContext(ctx, introspectTypesSQL, pq.Array(oids))
	if err != nil {
		return nil, fmt.Errorf("introspect types: %w", err)
	}
	defer rows.Close()
	out := map[int64]*introspectType{}
	for rows.Next() {
		var oid int64
		t := &introspectType{}
		if err := rows.Scan(&oid, &t.name, &t.schema, &t.typtype, &t.category,
			&t.base, &t.typmod, &t.notNull, &t.def); err != nil {
			return nil, fmt.Errorf("introspect types: %w", err)
		}
		out[oid] = t
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("introspect types: %w", err)
	}
	return out, nil
}

// introspectMapColumn resolves the column's domains and maps its base type.
func introspectMapColumn(c introspectCol, types map[int64]*introspectType) metadata.Column {
	col := metadata.Column{
		Name:     c.name,
		Nullable: !c.notNull,
		Comment:  c.comment,
	}
	typmod := c.typmod
	def := c.def
	t := types[c.typeOID]
	for depth := 0; t != nil && t.typtype == "d" && depth < 64; depth++ {
		if t.notNull {
			col.Nullable = false
		}
		if typmod < 0 {
			typmod = t.typmod
		}
		if def == "" {
			def = t.def
		}
		t = types[t.base]
	}
	if t == nil || t.typtype == "d" {
		col.DBType = "unknown"
		col.Unsupported = "type could not be resolved"
		return col
	}
	col.DBType = introspectTypeName(t)

	switch {
	case c.generated == "s":
		col.Generated = true
	case c.generated != "":
		// Future kinds of generated columns (e.g. virtual): not writable either.
		col.Generated = true
	default:
		col.Default = def
	}
	if c.identity == "a" || c.identity == "d" {
		col.Identity = true
	}
	if c.identity == "a" {
		// GENERATED ALWAYS AS IDENTITY: PostgreSQL refuses client values
		// (without OVERRIDING SYSTEM VALUE), so it is never writable.
		col.Generated = true
	}
	if strings.HasPrefix(col.Default, "nextval(") {
		col.Identity = true
	}
	introspectMapType(&col, t, typmod)
	return col
}

// introspectTypeName is the pg_catalog name of built-in types and a
// qualified, quoted-as-needed name for all others.
func introspectTypeName(t *introspectType) string {
	if t.schema == "pg_catalog" {
		return t.name
	}
	return introspectMaybeQuote(t.schema) + "." + introspectMaybeQuote(t.name)
}

// introspectMaybeQuote quotes an identifier only when PostgreSQL would need it.
func introspectMaybeQuote(s string) string {
	ok := s != ""
	for i := 0; i < len(s) && ok; i++ {
		c := s[i]
		ok = c >= 'a' && c <= 'z' || c == '_' || (i > 0 && (c >= '0' && c <= '9' || c == '$'))
	}
	if ok {
		return s
	}
	return pq.QuoteIdentifier(s)
}

// introspectStringTypes are mapped to Edm.String with a Note.
var introspectStringTypes = map[string]string{
	"json":     "json mapped to Edm.String (JSON text)",
	"jsonb":    "jsonb mapped to Edm.String (JSON text)",
	"xml":      "xml mapped to Edm.String",
	"inet":     "inet mapped to Edm.String",
	"cidr":     "cidr mapped to Edm.String",
	"macaddr":  "macaddr mapped to Edm.String",
	"macaddr8": "macaddr8 mapped to Edm.String",
	"money":    "money mapped to Edm.String (locale-formatted text); expose it as numeric through a view for Edm.Decimal",
	"name":     "name mapped to Edm.String",
	"char":     `"char" mapped to Edm.String`,
}

// introspectMapType sets Type and facets (or Unsupported) from the base type.
func introspectMapType(col *metadata.Column, t *introspectType, typmod int) {
	unsupported := func(reason string) { col.Unsupported = reason }
	switch t.typtype {
	case "e":
		col.Type = metadata.String
		col.Note = "enum " + col.DBType + " mapped to Edm.String"
		return
	case "c":
		unsupported("composite type " + col.DBType + " has no Edm mapping")
		return
	case "r", "m":
		unsupported("range type " + col.DBType + " has no Edm mapping")
		return
	case "p":
		unsupported("pseudo-type " + col.DBType + " has no Edm mapping")
		return
	}
	if t.category == "A" {
		unsupported("array type " + col.DBType + " has no Edm mapping")
		return
	}
	if t.schema != "pg_catalog" {
		if t.name == "citext" {
			col.Type = metadata.String
			col.Note = "citext mapped to Edm.String (comparisons stay case-insensitive)"
			return
		}
		unsupported("type " + col.DBType + " has no Edm mapping")
		return
	}
	switch t.name {
	case "int2":
		col.Type = metadata.Int16
	case "int4":
		col.Type = metadata.Int32
	case "int8":
		col.Type = metadata.Int64
	case "float4":
		col.Type = metadata.Single
	case "float8":
		col.Type = metadata.Double
	case "bool":
		col.Type = metadata.Boolean
	case "numeric":
		col.Type = metadata.Decimal
		if typmod < 4 {
			col.Variable = true
			return
		}
		p := ((typmod - 4) >> 16) & 0xffff
		// The scale is an 11-bit two's complement number (negative scales
		// and scales above the precision exist since PostgreSQL 15).
		s := (((typmod - 4) & 0x7ff) ^ 1024) - 1024
		switch {
		case s < 0:
			col.Precision, col.Scale = p-s, 0
			col.Note = fmt.Sprintf("numeric(%d,%d) declared as Edm.Decimal(%d,0)", p, s, p-s)
		case s > p:
			col.Precision, col.Scale = s, s
			col.Note = fmt.Sprintf("numeric(%d,%d) declared as Edm.Decimal(%d,%d)", p, s, s, s)
		default:
			col.Precision, col.Scale = p, s
		}
	case "text":
		col.Type = metadata.String
	case "varchar":
		col.Type = metadata.String
		if typmod >= 4 {
			col.MaxLength = typmod - 4
		}
	case "bpchar":
		col.Type = metadata.String
		col.FixedChar = true
		if typmod >= 4 {
			col.MaxLength = typmod - 4
		}
	case "date":
		col.Type = metadata.Date
	case "timestamptz":
		col.Type = metadata.DateTimeOffset
		col.Precision = introspectFracDigits(typmod)
	case "timestamp":
		col.Type = metadata.DateTimeOffset
		col.LocalTime = true
		col.Precision = introspectFracDigits(typmod)
	case "time":
		col.Type = metadata.TimeOfDay
		col.Precision = introspectFracDigits(typmod)
	case "interval":
		col.Type = metadata.Duration
		p := 6
		if typmod >= 0 && typmod&0xffff != 0xffff {
			p = typmod & 0xffff
		}
		col.Precision = p
	case "uuid":
		col.Type = metadata.Guid
	case "bytea":
		col.Type = metadata.Binary
	case "timetz":
		unsupported("time with time zone has no Edm mapping")
	default:
		if note, ok := introspectStringTypes[t.name]; ok {
			col.Type = metadata.String
			col.Note = note
			if t.name == "name" {
				col.MaxLength = 63
			}
			if t.name == "char" {
				col.MaxLength = 1
			}
			return
		}
		unsupported("type " + col.DBType + " has no Edm mapping")
	}
}

// introspectFracDigits is the fractional-second precision of a temporal typmod.
func introspectFracDigits(typmod int) int {
	if typmod < 0 || typmod > 6 {
		return 6
	}
	return typmod
}

// introspectConstraintsSQL lists primary and foreign keys with their column
// names in key order. Constraints cloned onto partitions (conparentid <> 0)
// are left out.
const introspectConstraintsSQL = `
SELECT c.conrelid::int8, c.conname, c.contype::text,
       array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(num, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.num
             ORDER BY k.ord)::text[],
       coalesce(fn.nspname, ''), coalesce(fc.relname, ''),
       array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(num, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.num
             ORDER BY k.ord)::text[]
FROM pg_catalog.pg_constraint c
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = c.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE c.conrelid = ANY($1::oid[]) AND c.contype IN ('p', 'f') AND c.conparentid = 0
ORDER BY c.conrelid, c.contype DESC, c.conname`

func introspectConstraints(ctx context.Context, db *sqlx.DB, oids []int64, byOID map[int64]*introspectRel) error {
	rows, err := db.QueryContext(ctx, introspectConstraintsSQL, pq.Array(oids))
	if err != nil {
		return fmt.Errorf("introspect constraints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			rel                 int64
			name, kind          string
			cols, refCols       pq.StringArray
			refSchema, refTable string
		)
		if err := rows.Scan(&rel, &name, &kind, &cols, &refSchema, &refTable, &refCols); err != nil {
			return fmt.Errorf("introspect constraints: %w", err)
		}
		r := byOID[rel]
		if r == nil || len(cols) == 0 {
			continue
		}
		switch kind {
		case "p":
			if r.table.Kind == metadata.KindTable {
				r.table.PrimaryKey = append([]string(nil), cols...)
			}
		case "f":
			if len(refCols) != len(cols) {
				continue
			}
			r.table.ForeignKeys = append(r.table.ForeignKeys, metadata.ForeignKeySource{
				Name: name, Columns: append([]string(nil), cols...),
				RefSchema: refSchema, RefTable: refTable,
				RefColumns: append([]string(nil), refCols...),
			})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("introspect constraints: %w", err)
	}
	for _, r := range byOID {
		sort.SliceStable(r.table.ForeignKeys, func(i, j int) bool {
			return r.table.ForeignKeys[i].Name < r.table.ForeignKeys[j].Name
		})
	}
	return nil
}
