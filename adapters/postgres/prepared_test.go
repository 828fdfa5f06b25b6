package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// TestPreparedStatementCacheIsBounded: each query shape is prepared once
// and reused; the cache keeps at most StatementCache statements, and a
// statement evicted earlier is simply prepared again.
func TestPreparedStatementCacheIsBounded(t *testing.T) {
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `CREATE TABLE t (id int PRIMARY KEY, a int, b text);
INSERT INTO t SELECT g, g % 10, 'v' || g FROM generate_series(1, 100) g;`)
	ctx := context.Background()
	// One connection, so that the server-side statements can be seen.
	db, err := Open(ctx, Options{DSN: dsn, Schemas: []string{"public"}, PreparedStatements: true, StatementCache: 3, MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, _, err := db.Model(ctx, metadata.Overlay{})
	if err != nil {
		t.Fatal(err)
	}
	set := m.Set("t")
	a := set.Property("a")
	// Five shapes: key lookup and filters on a, each twice with other values.
	shapes := []func(n int64) *semantic.Query{
		func(n int64) *semantic.Query {
			return &semantic.Query{Set: set, Select: set.Properties, Key: []semantic.Const{{T: metadata.Int32, V: n}}}
		},
		func(n int64) *semantic.Query { return filtered(set, a, semantic.Eq, n) },
		func(n int64) *semantic.Query { return filtered(set, a, semantic.Gt, n) },
		func(n int64) *semantic.Query { return filtered(set, a, semantic.Lt, n) },
		func(n int64) *semantic.Query { return filtered(set, a, semantic.Ne, n) },
	}
	want := []int{1, 10, 40, 50, 90} // rows for n = 5 (key 5; a = 5, > 5, < 5, <> 5)
	for round := 0; round < 2; round++ {
		for i, shape := range shapes {
			rows, err := db.Query(ctx, shape(5), 0)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				n++
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			rows.Close()
			if n != want[i] {
				t.Errorf("round %d, shape %d: %d rows, want %d", round, i, n, want[i])
			}
			if c := db.CachedStatements(); c > 3 || c == 0 {
				t.Fatalf("%d cached statements, bound 3", c)
			}
		}
	}
	// The statements really are prepared on the server, and the evicted
	// ones closed there (in the background, soon after their eviction).
	var n int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n <= 3 || time.Now().After(deadline) {
			break
		}
	}
	if n == 0 || n > 3 {
		t.Errorf("%d statements prepared on the connection, want 1..3", n)
	}
}

func filtered(set *metadata.EntitySet, p *metadata.Property, op semantic.CmpOp, n int64) *semantic.Query {
	return &semantic.Query{Set: set, Select: set.Properties,
		Filter: &semantic.Compare{Op: op, L: &semantic.Prop{P: p}, R: &semantic.Const{T: metadata.Int32, V: n}}}
}

// TestWritesDoNotWaitForASecondConnection: a write's statements run in its
// transaction, which holds a pool connection; a statement not yet prepared
// must not take a second connection to be prepared, or writes that hold
// every connection (a burst after a restart, the cache empty) wait for
// each other forever. Here the pool has one connection: each write must
// complete, and its statements are prepared in the background meanwhile.
func TestWritesDoNotWaitForASecondConnection(t *testing.T) {
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `CREATE TABLE w (id int PRIMARY KEY, label text NOT NULL)`)
	ctx := context.Background()
	db, err := Open(ctx, Options{DSN: dsn, Schemas: []string{"public"}, PreparedStatements: true, MaxOpenConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	m, _, err := db.Model(ctx, metadata.Overlay{})
	if err != nil {
		t.Fatal(err)
	}
	set := m.Set("w")
	id, label := set.Property("id"), set.Property("label")
	key := []semantic.Const{{T: metadata.Int32, V: int64(1)}}
	writes := []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"insert", func(ctx context.Context) error {
			_, err := db.Insert(ctx, &adapters.Write{Set: set, Values: map[*metadata.Property]semantic.Const{
				id: key[0], label: {T: metadata.String, V: "one"}}})
			return err
		}},
		{"update", func(ctx context.Context) error {
			_, err := db.Update(ctx, &adapters.Write{Set: set, Key: key, Values: map[*metadata.Property]semantic.Const{
				label: {T: metadata.String, V: "uno"}}})
			return err
		}},
		{"delete with If-Match *", func(ctx context.Context) error {
			return db.Delete(ctx, &adapters.Write{Set: set, Key: key, IfMatch: "*"})
		}},
	}
	for _, w := range writes {
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := w.run(wctx)
		cancel()
		if err != nil {
			t.Fatalf("%s with one pool connection: %v", w.name, err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for db.CachedStatements() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if db.CachedStatements() == 0 {
		t.Error("the writes' statements were never prepared")
	}
}
