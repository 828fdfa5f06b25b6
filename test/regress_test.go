package test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/pgtest"
)

// TestEmptyIsNotNull: an empty string or empty bytea right after a NULL (or
// as the first row) must come back as "" — database/sql leaves a nil
// destination nil when it copies an empty value. It also made a keyset walk
// over such rows repeat the same row forever.
func TestEmptyIsNotNull(t *testing.T) {
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `
CREATE TABLE e (id int PRIMARY KEY, name text, flag boolean, b bytea);
INSERT INTO e VALUES (1, '', NULL, '\x'), (2, NULL, NULL, NULL), (3, '', true, '\x'), (4, 'x', false, '\x01'),
                     (5, NULL, NULL, NULL), (6, '', NULL, '\x');`)
	g := start(t, baseConfig(dsn))
	g.expect(t, g.do("GET", "/odata/e", nil), 200,
		`{"@odata.context":"BASE/odata/$metadata#e","value":[{"id":1,"name":"","flag":null,"b":""},{"id":2,"name":null,"flag":null,"b":null},{"id":3,"name":"","flag":true,"b":""},{"id":4,"name":"x","flag":false,"b":"AQ=="},{"id":5,"name":null,"flag":null,"b":null},{"id":6,"name":"","flag":null,"b":""}]}`)
	// The walk the reviewer saw looping: one row per page, ordered by a
	// nullable column then the empty strings.
	var ids []string
	next := "/odata/e?$select=id&$filter=name%20eq%20''&$orderby=flag%20desc,name"
	for n := 0; next != ""; n++ {
		if n > 10 {
			t.Fatalf("walk does not end: %v", ids)
		}
		p := g.getPage(t, next, "Prefer", "odata.maxpagesize=1")
		for _, r := range p.rows {
			ids = append(ids, fmt.Sprint(r["id"]))
		}
		next = p.Next
	}
	if got := strings.Join(ids, ","); got != "3,1,6" {
		t.Fatalf("walk = %s, want 3,1,6", got)
	}
}
