package adapters

import (
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// KeyFromJSON reads a change log's key, a JSON object of set's key
// columns by storage name, into values in Set.Key order.
func KeyFromJSON(set *metadata.EntitySet, text string) ([]semantic.Const, error) {
	var cols map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &cols); err != nil {
		return nil, fmt.Errorf("change log key of %s: %w", set.Name, err)
	}
	key := make([]semantic.Const, len(set.Key))
	for i, p := range set.Key {
		raw, ok := cols[p.Column]
		if !ok {
			return nil, fmt.Errorf("change log key of %s lacks column %s", set.Name, p.Column)
		}
		c, err := semantic.JSONConst(p, raw)
		if err != nil {
			return nil, fmt.Errorf("change log key of %s: %w", set.Name, err)
		}
		key[i] = c
	}
	return key, nil
}

// Trackable reports why set's changes cannot be tracked ("" when they
// can): a view has no rows of its own to capture, and key values must
// read back from JSON.
func Trackable(set *metadata.EntitySet) string {
	if set.Kind != metadata.KindTable {
		return "it is not a table"
	}
	for _, p := range set.Key {
		switch p.Type {
		case metadata.String, metadata.Guid, metadata.Byte, metadata.SByte, metadata.Int16, metadata.Int32,
			metadata.Int64, metadata.Decimal, metadata.Date:
		default:
			return "its key property " + p.Name + " has type " + string(p.Type) + ", which the change log cannot carry"
		}
	}
	return ""
}

// ScanChanges reads a change listing whose one column is the key's JSON
// (also the cursor) and closes rows; classify maps the driver's errors.
func ScanChanges(rows *sql.Rows, set *metadata.EntitySet, classify func(error) error) ([]Change, error) {
	defer rows.Close()
	var out []Change
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			return nil, classify(err)
		}
		key, err := KeyFromJSON(set, text)
		if err != nil {
			return nil, Errorf(Internal, err, "unreadable change log entry")
		}
		out = append(out, Change{Key: key, Cursor: text})
	}
	return out, classify(rows.Err())
}
