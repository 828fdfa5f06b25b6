package postgres

import (
	"context"
	"strings"
	"testing"
)

// TestCatalogProbe: PostgreSQL has every optional catalog column; the
// introspection queries leave out the ones an engine lacks (and still run
// on PostgreSQL, where the columns are simply not asked for).
func TestCatalogProbe(t *testing.T) {
	db := introspectFixtureDB(t)
	ctx := context.Background()
	cat, warns, err := probeCatalog(ctx, db)
	if err != nil || len(warns) != 0 || cat != (catalog{relispartition: true, attidentity: true, attgenerated: true}) {
		t.Fatalf("probe on PostgreSQL: %+v %v %v", cat, warns, err)
	}
	cases := []struct {
		cat                   catalog
		relations, columns    []string // must contain
		notRelations, notCols []string // must not contain
	}{
		{catalog{true, true, true}, []string{"relispartition"}, []string{"attidentity", "attgenerated"}, nil, nil},
		{catalog{}, nil, nil, []string{"relispartition"}, []string{"attidentity", "attgenerated"}},
		{catalog{attgenerated: true}, nil, []string{"attgenerated"}, []string{"relispartition"}, []string{"attidentity"}},
	}
	for _, tc := range cases {
		rel, col := introspectRelationsSQL(tc.cat), introspectColumnsSQL(tc.cat)
		for _, w := range tc.relations {
			if !strings.Contains(rel, w) {
				t.Errorf("%+v: relations query lacks %s", tc.cat, w)
			}
		}
		for _, w := range tc.notRelations {
			if strings.Contains(rel, w) {
				t.Errorf("%+v: relations query uses %s", tc.cat, w)
			}
		}
		for _, w := range tc.columns {
			if !strings.Contains(col, w) {
				t.Errorf("%+v: columns query lacks %s", tc.cat, w)
			}
		}
		for _, w := range tc.notCols {
			if strings.Contains(col, w) {
				t.Errorf("%+v: columns query uses %s", tc.cat, w)
			}
		}
		// Every variant is valid SQL that runs.
		if _, err := introspectRelations(ctx, db, tc.cat, true, nil); err != nil {
			t.Errorf("%+v: relations: %v", tc.cat, err)
		}
		if _, err := introspectColumns(ctx, db, tc.cat, []int64{1259}); err != nil {
			t.Errorf("%+v: columns: %v", tc.cat, err)
		}
	}
}
