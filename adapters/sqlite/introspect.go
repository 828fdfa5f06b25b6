package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/odatagw/odatagw/metadata"
)

// Introspect reads the tables and views of the main database from
// sqlite_schema and the table_xinfo / foreign_key_list pragmas, and maps
// declared column types to Edm types following the storage conventions the
// SQLite dialect relies on:
//
//	BOOLEAN, BOOL                          Boolean        INTEGER 0/1
//	SMALLINT, INT2, TINYINT                Int16
//	INT, INTEGER, INT4, MEDIUMINT          Int32
//	BIGINT, INT8                           Int64
//	INTEGER PRIMARY KEY (rowid alias)      Int64, Identity
//	NUMERIC(p,s), DECIMAL(p,s)             Decimal(p,s)   NUMERIC affinity; no (p,s): Variable
//	REAL, DOUBLE [PRECISION], FLOAT        Double
//	TEXT, CLOB, VARCHAR(n), NVARCHAR(n)    String(n)
//	CHAR(n), CHARACTER(n), NCHAR(n)        String(n), FixedChar
//	DATE                                   Date           TEXT YYYY-MM-DD
//	TIMESTAMP, DATETIME, TIMESTAMPTZ       DateTimeOffset TEXT YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC), Precision 6
//	TIME                                   TimeOfDay      TEXT HH:MM:SS.ffffff, Precision 6
//	UUID                                   Guid           TEXT, lower case
//	BLOB                                   Binary
//
// Any other declared type, and a column without a declared type (common in
// views), is mapped to String with a Note. DBType is the declared type as
// written (upper-cased, "" when none).
//
// Defaults are reported verbatim; generated columns (table_xinfo hidden 2 or
// 3) are Generated and never carry a Default. Virtual tables, their shadow
// tables and sqlite_* internal tables are skipped. Views get no primary key.
// Foreign keys are named "<table>_<columns>_fkey" (SQLite keeps no names);
// a foreign key that omits the referenced columns refers to the parent's
// primary key. Schema is always "".
//
// Introspect fails only when a catalog query fails.
func Introspect(ctx context.Context, db *sqlx.DB) (metadata.Source, error) {
	var src metadata.Source
	objs, err := introspectObjects(ctx, db)
	if err != nil {
		return src, err
	}
	for _, o := range objs {
		t := metadata.Table{Name: o.name, Kind: metadata.KindTable}
		if o.kind == "view" {
			t.Kind = metadata.KindView
		}
		if err := introspectColumns(ctx, db, &t, o); err != nil {
			return src, err
		}
		src.Tables = append(src.Tables, t)
	}
	// Foreign keys need the referenced tables' primary keys.
	// SQLite names are case-insensitive: references are resolved to the
	// table's own spelling.
	pks := map[string]*metadata.Table{}
	for i := range src.Tables {
		pks[strings.ToLower(src.Tables[i].Name)] = &src.Tables[i]
	}
	for i := range src.Tables {
		t := &src.Tables[i]
		if t.Kind != metadata.KindTable {
			continue
		}
		fks, err := introspectForeignKeys(ctx, db, t.Name, pks)
		if err != nil {
			return src, err
		}
		t.ForeignKeys = fks
	}
	return src, nil
}

type introspectObject struct {
	name         string
	kind         string // "table" or "view"
	withoutRowid bool
}

func introspectObjects(ctx context.Context, db *sqlx.DB) ([]introspectObject, error) {
	// table_list classifies virtual and shadow tables and WITHOUT ROWID.
	type listed struct {
		kind string
		wr   bool
	}
	info := map[string]listed{}
	rows, err := db.QueryContext(ctx, `SELECT name, type, wr FROM pragma_table_list WHERE schema = 'main'`)
	if err != nil {
		return nil, fmt.Errorf("introspect: table list: %w", err)
	}
	for rows.Next() {
		var name, kind string
		var wr int
		if err := rows.Scan(&name, &kind, &wr); err != nil {
			rows.Close()
			return nil, fmt.Errorf("introspect: table list: %w", err)
		}
		info[name] = listed{kind: kind, wr: wr != 0}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("introspect: table list: %w", err)
	}

	rows, err = db.QueryContext(ctx, `SELECT type, name FROM sqlite_schema
		WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name <> 'odatagw_changes'
		ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("introspect: sqlite_schema: %w", err)
	}
	defer rows.Close()
	var out []introspectObject
	for rows.Next() {
		var o introspectObject
		if err := rows.Scan(&o.kind, &o.name); err != nil {
			return nil, fmt.Errorf("introspect: sqlite_schema: %w", err)
		}
		l, ok := info[o.name]
		if ok && l.kind != "table" && l.kind != "view" {
			continue // virtual or shadow table
		}
		o.withoutRowid = l.wr
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("introspect: sqlite_schema: %w", err)
	}
	return out, nil
}

func introspectColumns(ctx context.Context, db *sqlx.DB, t *metadata.Table, o introspectObject) error {
	rows, err := db.QueryContext(ctx,
		`SELECT name, type, "notnull", dflt_value, pk, hidden FROM pragma_table_xinfo(?) ORDER BY cid`, o.name)
	if err != nil {
		return fmt.Errorf("introspect %s: columns: %w", o.name, err)
	}
	defer rows.Close()
	type pkCol struct {
		pos  int
		name string
	}
	var pk []pkCol
	for rows.Next() {
		var (
			name, decl    string
			notNull       bool
			def           sql.NullString
			pkPos, hidden int
		)
		if err := rows.Scan(&name, &decl, &notNull, &def, &pkPos, &hidden); err != nil {
			return fmt.Errorf("introspect %s: columns: %w", o.name, err)
		}
		if hidden == 1 {
			continue // hidden column of a virtual table
		}
		c := metadata.Column{Name: name, Nullable: !notNull}
		introspectMapType(&c, decl)
		switch hidden {
		case 2, 3:
			c.Generated = true
		default:
			if def.Valid {
				c.Default = def.String
			}
		}
		if pkPos > 0 && t.Kind == metadata.KindTable {
			pk = append(pk, pkCol{pkPos, name})
		}
		t.Columns = append(t.Columns, c)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("introspect %s: columns: %w", o.name, err)
	}
	sort.Slice(pk, func(i, j int) bool { return pk[i].pos < pk[j].pos })
	for _, p := range pk {
		t.PrimaryKey = append(t.PrimaryKey, p.name)
	}
	// A single INTEGER primary key of a rowid table aliases the rowid.
	if len(pk) == 1 && !o.withoutRowid {
		for i := range t.Columns {
			c := &t.Columns[i]
			if c.Name == pk[0].name && c.DBType == "INTEGER" {
				c.Type = metadata.Int64
				c.Identity = true
				c.Nullable = false
				c.Note = ""
			}
		}
	}
	return nil
}

// introspectMapType maps a declared type; see Introspect for the table.
func introspectMapType(c *metadata.Column, decl string) {
	decl = strings.ToUpper(strings.Join(strings.Fields(decl), " "))
	c.DBType = decl
	base, args := decl, []int(nil)
	if i := strings.IndexByte(decl, '('); i >= 0 {
		base = strings.TrimSpace(decl[:i])
		inner := decl[i+1:]
		if j := strings.IndexByte(inner, ')'); j >= 0 {
			inner = inner[:j]
		}
		for _, a := range strings.Split(inner, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(a))
			if err != nil {
				args = nil
				break
			}
			args = append(args, n)
		}
	}
	arg := func(i int) int {
		if i < len(args) && args[i] > 0 {
			return args[i]
		}
		return 0
	}
	switch base {
	case "BOOLEAN", "BOOL":
		c.Type = metadata.Boolean
	case "SMALLINT", "INT2", "TINYINT":
		c.Type = metadata.Int16
	case "INT", "INTEGER", "INT4", "MEDIUMINT":
		c.Type = metadata.Int32
	case "BIGINT", "INT8", "UNSIGNED BIG INT":
		c.Type = metadata.Int64
	case "NUMERIC", "DECIMAL":
		c.Type = metadata.Decimal
		if len(args) == 0 {
			c.Variable = true
			return
		}
		c.Precision, c.Scale = arg(0), arg(1)
		if c.Scale > c.Precision {
			c.Precision = c.Scale
		}
	case "REAL", "DOUBLE", "DOUBLE PRECISION", "FLOAT":
		c.Type = metadata.Double
	case "TEXT", "CLOB", "VARCHAR", "NVARCHAR", "CHARACTER VARYING", "VARYING CHARACTER", "NATIVE CHARACTER":
		c.Type = metadata.String
		c.MaxLength = arg(0)
	case "CHAR", "CHARACTER", "NCHAR":
		c.Type = metadata.String
		c.MaxLength = arg(0)
		c.FixedChar = true
	case "DATE":
		c.Type = metadata.Date
	case "TIMESTAMP", "DATETIME", "TIMESTAMPTZ":
		c.Type = metadata.DateTimeOffset
		c.Precision = 6
	case "TIME":
		c.Type = metadata.TimeOfDay
		c.Precision = 6
	case "UUID":
		c.Type = metadata.Guid
	case "BLOB":
		c.Type = metadata.Binary
	case "":
		c.Type = metadata.String
		c.Note = "no declared type; mapped to Edm.String"
	default:
		c.Type = metadata.String
		c.Note = "declared type " + decl + " mapped to Edm.String"
	}
}

func introspectForeignKeys(ctx context.Context, db *sqlx.DB, table string, tables map[string]*metadata.Table) ([]metadata.ForeignKeySource, error) {
	rows, err := db.QueryContext(ctx,
		`SELECT id, seq, "table", "from", "to" FROM pragma_foreign_key_list(?) ORDER BY id, seq`, table)
	if err != nil {
		return nil, fmt.Errorf("introspect %s: foreign keys: %w", table, err)
	}
	defer rows.Close()
	var out []metadata.ForeignKeySource
	lastID := -1
	for rows.Next() {
		var (
			id, seq  int
			ref, frm string
			to       sql.NullString
		)
		if err := rows.Scan(&id, &seq, &ref, &frm, &to); err != nil {
			return nil, fmt.Errorf("introspect %s: foreign keys: %w", table, err)
		}
		if id != lastID {
			out = append(out, metadata.ForeignKeySource{RefTable: ref})
			lastID = id
		}
		fk := &out[len(out)-1]
		fk.Columns = append(fk.Columns, frm)
		fk.RefColumns = append(fk.RefColumns, to.String)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("introspect %s: foreign keys: %w", table, err)
	}
	valid := out[:0]
	for _, fk := range out {
		parent := tables[strings.ToLower(fk.RefTable)]
		if parent != nil {
			fk.RefTable = parent.Name
		}
		if fk.RefColumns[0] == "" {
			// REFERENCES parent without columns: the parent's primary key.
			if parent == nil || len(parent.PrimaryKey) != len(fk.Columns) {
				continue
			}
			fk.RefColumns = append([]string(nil), parent.PrimaryKey...)
		}
		fk.Name = table + "_" + strings.Join(fk.Columns, "_") + "_fkey"
		valid = append(valid, fk)
	}
	sort.SliceStable(valid, func(i, j int) bool { return valid[i].Name < valid[j].Name })
	if len(valid) == 0 {
		return nil, nil
	}
	return valid, nil
}
