package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// TestCountAndPageOnOneConnection: a page with $count=true reads its rows in
// the transaction that counted them (one snapshot, one connection). With a
// pool of one connection, a page read anywhere else would wait forever for
// the connection the count's transaction holds.
func TestCountAndPageOnOneConnection(t *testing.T) {
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `CREATE TABLE t (id int PRIMARY KEY, a int);
INSERT INTO t SELECT g, g % 10 FROM generate_series(1, 100) g;`)
	for _, prepared := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		db, err := Open(ctx, Options{DSN: dsn, Schemas: []string{"public"}, PreparedStatements: prepared, MaxOpenConns: 1})
		if err != nil {
			t.Fatal(err)
		}
		m, _, err := db.Model(ctx, metadata.Overlay{})
		if err != nil {
			t.Fatal(err)
		}
		set := m.Set("t")
		q := &semantic.Query{Set: set, Select: set.Properties, Count: true}
		rows, err := db.Query(ctx, q, 0)
		if err != nil {
			t.Fatalf("prepared %v: %v", prepared, err)
		}
		n := 0
		for rows.Next() {
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("prepared %v: %v", prepared, err)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if c := rows.Count(); n != 100 || c.N != 100 {
			t.Errorf("prepared %v: %d rows, count %d; want 100, 100", prepared, n, c.N)
		}
		db.Close()
		cancel()
	}
}
