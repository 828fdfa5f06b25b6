package test

import (
	"database/sql"
	"reflect"
	"sort"
	"testing"
)

// Fault and abuse end-to-end tests (issue 11): what clients and operators
// see when things go wrong.

// sessionNames lists the application_name of every session connected to
// db's database other than db's own, sorted and without duplicates.
func sessionNames(t testing.TB, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT DISTINCT application_name FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	return names
}

// TestApplicationName: every database session of the gateway carries
// application_name=odatagw, so that operators can find (and terminate) them
// in pg_stat_activity; an application_name in the DSN wins.
func TestApplicationName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ suffix, want string }{
		{"", "odatagw"},
		{"&application_name=erp-gateway", "erp-gateway"},
	} {
		dsn := fixtureDSN(t)
		g := start(t, fixtureConfig(dsn+tc.suffix))
		if r := g.do("GET", "/odata/Customers?$top=1", nil); r.Status != 200 {
			t.Fatalf("read: %d %s", r.Status, r.Body)
		}
		db, err := sql.Open("postgres", dsn)
		if err != nil {
			t.Fatal(err)
		}
		got := sessionNames(t, db)
		db.Close()
		if !reflect.DeepEqual(got, []string{tc.want}) {
			t.Errorf("DSN suffix %q: sessions named %q, want only %q", tc.suffix, got, tc.want)
		}
	}
}
