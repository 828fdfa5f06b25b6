package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"

	"github.com/odatagw/odatagw/metadata"
)

// Introspect reads the tables and views of the given databases from
// information_schema and maps their columns to Edm types. Tables come back
// ordered by database and name, columns in ordinal order. Views carry no
// primary key (the configuration supplies one); views MySQL reports as not
// updatable are NoWrite. Sequences are skipped.
//
// Type mapping (COLUMN_TYPE decides signedness and tinyint(1)):
//
//	tinyint(1), bool           Boolean
//	tinyint, smallint          Int16 (tinyint unsigned too)
//	smallint unsigned, mediumint, int   Int32
//	int unsigned, bigint       Int64
//	bigint unsigned            Decimal(20,0) (values beyond Int64 exist)
//	decimal(p,s)               Decimal(p,s)
//	float, double              Single, Double
//	char(n), varchar(n)        String(n) (char: FixedChar)
//	tinytext … longtext        String
//	json, enum, set            String, with a Note
//	uuid (MariaDB)             Guid
//	inet4, inet6 (MariaDB)     String, with a Note
//	date                       Date
//	datetime(n)                DateTimeOffset, LocalTime (in the model zone)
//	timestamp(n)               DateTimeOffset (UTC: the session zone is pinned)
//	time(n)                    TimeOfDay (values outside 00:00–24:00 cannot be read)
//	year                       Int16, with a Note
//	binary(n), varbinary(n), tinyblob … longblob   Binary
//
// Everything else (bit, geometry types, vector…) gets an Unsupported reason
// and metadata.Build skips it with a warning. DBType is DATA_TYPE, followed
// by " character set X" for text columns whose character set is not
// utf8mb4 (the dialect converts those before comparing) and by " collate X"
// for text columns whose collation is binary without pad space (the dialect
// compares those as they are).
//
// auto_increment columns are Identity; VIRTUAL/STORED/PERSISTENT
// generated columns are Generated; a default (literal or expression) is
// kept in Default. Comments come from TABLE_COMMENT and COLUMN_COMMENT.
func Introspect(ctx context.Context, db *sql.DB, schemas []string) (metadata.Source, error) {
	var src metadata.Source
	schemas = dedupe(schemas)
	if len(schemas) == 0 {
		return src, nil
	}
	in := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(schemas)), ", ") + ")"
	args := make([]any, len(schemas))
	for i, s := range schemas {
		args[i] = s
	}
	type key struct{ schema, table string }
	byName := map[key]*metadata.Table{}
	var order []key

	rows, err := db.QueryContext(ctx, `
SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, COALESCE(TABLE_COMMENT, '')
FROM information_schema.TABLES
WHERE TABLE_SCHEMA IN `+in+` AND TABLE_TYPE IN ('BASE TABLE', 'VIEW', 'SYSTEM VERSIONED')
  AND TABLE_NAME NOT IN ('odatagw_changes', 'odatagw_tracked')
ORDER BY TABLE_SCHEMA, TABLE_NAME`, args...)
	if err != nil {
		return src, fmt.Errorf("introspect tables: %w", err)
	}
	for rows.Next() {
		t := &metadata.Table{}
		var typ string
		if err := rows.Scan(&t.Schema, &t.Name, &typ, &t.Comment); err != nil {
			rows.Close()
			return src, fmt.Errorf("introspect tables: %w", err)
		}
		t.Kind = metadata.KindTable
		if typ == "VIEW" {
			t.Kind = metadata.KindView
			if t.Comment == "VIEW" { // MySQL's placeholder comment of views
				t.Comment = ""
			}
		}
		k := key{t.Schema, t.Name}
		byName[k] = t
		order = append(order, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return src, fmt.Errorf("introspect tables: %w", err)
	}
	if len(order) == 0 {
		return src, nil
	}

	rows, err = db.QueryContext(ctx, `
SELECT TABLE_SCHEMA, TABLE_NAME, IS_UPDATABLE FROM information_schema.VIEWS WHERE TABLE_SCHEMA IN `+in, args...)
	if err != nil {
		return src, fmt.Errorf("introspect views: %w", err)
	}
	for rows.Next() {
		var k key
		var upd string
		if err := rows.Scan(&k.schema, &k.table, &upd); err != nil {
			rows.Close()
			return src, fmt.Errorf("introspect views: %w", err)
		}
		if t := byName[k]; t != nil && !strings.EqualFold(upd, "YES") {
			t.NoWrite = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return src, fmt.Errorf("introspect views: %w", err)
	}

	rows, err = db.QueryContext(ctx, `
SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, COLUMN_DEFAULT, IS_NULLABLE, DATA_TYPE, COLUMN_TYPE,
       CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION,
       COALESCE(CHARACTER_SET_NAME, ''), COALESCE(COLLATION_NAME, ''), EXTRA, COALESCE(COLUMN_COMMENT, '')
FROM information_schema.COLUMNS
WHERE TABLE_SCHEMA IN `+in+`
ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`, args...)
	if err != nil {
		return src, fmt.Errorf("introspect columns: %w", err)
	}
	for rows.Next() {
		var (
			k                   key
			c                   rawColumn
			def                 sql.NullString
			nullable            string
			maxLen, prec, scale sql.NullInt64
			dtPrec              sql.NullInt64
		)
		if err := rows.Scan(&k.schema, &k.table, &c.name, &def, &nullable, &c.dataType, &c.columnType,
			&maxLen, &prec, &scale, &dtPrec, &c.charset, &c.collation, &c.extra, &c.comment); err != nil {
			rows.Close()
			return src, fmt.Errorf("introspect columns: %w", err)
		}
		t := byName[k]
		if t == nil {
			continue
		}
		c.nullable = nullable == "YES"
		c.def = def.String
		if !def.Valid || def.String == "NULL" {
			c.def = ""
		}
		c.maxLen, c.prec, c.scale, c.dtPrec = int(maxLen.Int64), int(prec.Int64), int(scale.Int64), int(dtPrec.Int64)
		t.Columns = append(t.Columns, mapColumn(c))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return src, fmt.Errorf("introspect columns: %w", err)
	}

	// KEY_COLUMN_USAGE alone: TABLE_CONSTRAINTS shows an account with only
	// SELECT nothing on MariaDB. The primary key is always named PRIMARY.
	rows, err = db.QueryContext(ctx, `
SELECT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME,
       CASE WHEN CONSTRAINT_NAME = 'PRIMARY' THEN 'PRIMARY KEY' ELSE 'FOREIGN KEY' END, COLUMN_NAME,
       COALESCE(REFERENCED_TABLE_SCHEMA, ''), COALESCE(REFERENCED_TABLE_NAME, ''), COALESCE(REFERENCED_COLUMN_NAME, '')
FROM information_schema.KEY_COLUMN_USAGE
WHERE TABLE_SCHEMA IN `+in+` AND (CONSTRAINT_NAME = 'PRIMARY' OR REFERENCED_TABLE_NAME IS NOT NULL)
ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION`, args...)
	if err != nil {
		return src, fmt.Errorf("introspect keys: %w", err)
	}
	fks := map[key]map[string]*metadata.ForeignKeySource{}
	for rows.Next() {
		var k key
		var name, typ, col, refSchema, refTable, refCol string
		if err := rows.Scan(&k.schema, &k.table, &name, &typ, &col, &refSchema, &refTable, &refCol); err != nil {
			rows.Close()
			return src, fmt.Errorf("introspect keys: %w", err)
		}
		t := byName[k]
		if t == nil || t.Kind != metadata.KindTable {
			continue
		}
		if typ == "PRIMARY KEY" {
			t.PrimaryKey = append(t.PrimaryKey, col)
			continue
		}
		if fks[k] == nil {
			fks[k] = map[string]*metadata.ForeignKeySource{}
		}
		fk := fks[k][name]
		if fk == nil {
			fk = &metadata.ForeignKeySource{Name: name, RefSchema: refSchema, RefTable: refTable}
			fks[k][name] = fk
		}
		fk.Columns = append(fk.Columns, col)
		fk.RefColumns = append(fk.RefColumns, refCol)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return src, fmt.Errorf("introspect keys: %w", err)
	}
	for _, k := range order {
		t := byName[k]
		// ORDER BY CONSTRAINT_NAME: appended in name order below.
		var names []string
		for n := range fks[k] {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			t.ForeignKeys = append(t.ForeignKeys, *fks[k][n])
		}
		src.Tables = append(src.Tables, *t)
	}
	return src, nil
}

func dedupe(ss []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range ss {
		if s == "" || seen[s] || isSystemSchema(s) {
			continue
		}
		seen[s] = true
		out = append(out, s)
	}
	return out
}

func isSystemSchema(s string) bool {
	switch strings.ToLower(s) {
	case "information_schema", "mysql", "performance_schema", "sys":
		return true
	}
	return false
}

type rawColumn struct {
	name, dataType, columnType, charset, collation, extra, comment, def string
	nullable                                                            bool
	maxLen, prec, scale, dtPrec                                         int
}

// mapColumn maps one information_schema column (see Introspect).
func mapColumn(c rawColumn) metadata.Column {
	col := metadata.Column{Name: c.name, Nullable: c.nullable, Comment: c.comment, DBType: strings.ToLower(c.dataType)}
	ct := strings.ToLower(c.columnType)
	unsigned := strings.Contains(ct, "unsigned")
	extra := strings.ToLower(c.extra)
	switch {
	case strings.Contains(extra, "virtual generated"), strings.Contains(extra, "stored generated"),
		strings.Contains(extra, "persistent generated"):
		col.Generated = true
	default:
		col.Default = c.def
	}
	if strings.Contains(extra, "auto_increment") {
		col.Identity = true
	}
	switch col.DBType {
	case "tinyint":
		switch {
		case strings.HasPrefix(ct, "tinyint(1)") && !unsigned:
			col.Type = metadata.Boolean
		default:
			col.Type = metadata.Int16
		}
	case "smallint":
		col.Type = metadata.Int16
		if unsigned {
			col.Type = metadata.Int32
		}
	case "mediumint":
		col.Type = metadata.Int32
	case "int", "integer":
		col.Type = metadata.Int32
		if unsigned {
			col.Type = metadata.Int64
		}
	case "bigint":
		col.Type = metadata.Int64
		if unsigned {
			col.Type = metadata.Decimal
			col.Precision, col.Scale = 20, 0
			col.Note = "bigint unsigned mapped to Edm.Decimal (values beyond Int64)"
		}
	case "decimal", "numeric":
		col.Type = metadata.Decimal
		col.Precision, col.Scale = c.prec, c.scale
	case "float":
		col.Type = metadata.Single
	case "double", "real":
		col.Type = metadata.Double
	case "char":
		col.Type, col.FixedChar, col.MaxLength = metadata.String, true, c.maxLen
	case "varchar":
		col.Type, col.MaxLength = metadata.String, c.maxLen
	case "tinytext", "text", "mediumtext", "longtext":
		col.Type = metadata.String
	case "json":
		col.Type, col.Note = metadata.String, "json mapped to Edm.String (JSON text)"
	case "enum":
		col.Type, col.Note = metadata.String, "enum mapped to Edm.String"
	case "set":
		col.Type, col.Note = metadata.String, "set mapped to Edm.String"
	case "uuid":
		col.Type = metadata.Guid
	case "inet4", "inet6":
		col.Type, col.Note = metadata.String, col.DBType+" mapped to Edm.String"
	case "date":
		col.Type = metadata.Date
	case "datetime":
		col.Type, col.LocalTime, col.Precision = metadata.DateTimeOffset, true, c.dtPrec
	case "timestamp":
		col.Type, col.Precision = metadata.DateTimeOffset, c.dtPrec
	case "time":
		col.Type, col.Precision = metadata.TimeOfDay, c.dtPrec
		col.Note = "time mapped to Edm.TimeOfDay (values outside 00:00-24:00 cannot be read)"
	case "year":
		col.Type, col.Note = metadata.Int16, "year mapped to Edm.Int16"
	case "binary", "varbinary":
		col.Type, col.MaxLength = metadata.Binary, c.maxLen
		if col.DBType == "binary" {
			col.Note = "binary(n) mapped to Edm.Binary (values are zero-padded to n bytes)"
		}
	case "tinyblob", "blob", "mediumblob", "longblob":
		col.Type = metadata.Binary
	default:
		col.Unsupported = "type " + ct + " has no Edm mapping"
		return col
	}
	if strings.Contains(ct, "zerofill") {
		col.Note = "zerofill is display only: the value is returned as a number"
	}
	if col.Type == metadata.String && c.charset != "" && c.charset != "utf8mb4" {
		col.DBType += " character set " + c.charset
	}
	if col.Type == metadata.String && (strings.HasSuffix(c.collation, "_nopad_bin") || strings.HasSuffix(c.collation, "_0900_bin")) {
		// Already exact: the dialect compares the raw column, so that its
		// indexes serve key lookups, keyset pages and order.
		col.DBType += " collate " + c.collation
	}
	return col
}
