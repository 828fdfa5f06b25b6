package sqlite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	sqlitedrv "modernc.org/sqlite"

	"github.com/odatagw/odatagw/metadata"
)

// demoCommits counts, per directory, the commits of the SQLite connections
// opened on files in it, and those made while a rollback journal existed. A
// connection hook, registered once for the test binary, installs a commit
// hook on each connection whose file lies in a watched directory.
var demoCommits = struct {
	once sync.Once
	mu   sync.Mutex
	dirs map[string]*demoWork
}{dirs: map[string]*demoWork{}}

type demoWork struct {
	commits, journaled atomic.Int32
}

// watchCommits counts the commits of connections to files in dir.
func watchCommits(t *testing.T, dir string) *demoWork {
	t.Helper()
	demoCommits.once.Do(func() {
		sqlitedrv.RegisterConnectionHook(func(c sqlitedrv.ExecQuerierContext, dsn string) error {
			demoCommits.mu.Lock()
			w := demoCommits.dirs[filepath.Dir(dsn)]
			demoCommits.mu.Unlock()
			if w == nil {
				return nil
			}
			hooks, ok := c.(sqlitedrv.HookRegisterer)
			if !ok {
				return fmt.Errorf("the sqlite driver's connection %T has no commit hook", c)
			}
			hooks.RegisterCommitHook(func() int32 {
				w.commits.Add(1)
				if _, err := os.Stat(dsn + "-journal"); err == nil {
					w.journaled.Add(1)
				}
				return 0 // commit
			})
			return nil
		})
	})
	w := &demoWork{}
	demoCommits.mu.Lock()
	demoCommits.dirs[dir] = w
	demoCommits.mu.Unlock()
	t.Cleanup(func() {
		demoCommits.mu.Lock()
		delete(demoCommits.dirs, dir)
		demoCommits.mu.Unlock()
	})
	return w
}

// demoOpen creates the demo database in a fresh directory and opens it.
func demoOpen(t *testing.T) (string, *sqlx.DB) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "demo.db")
	work := watchCommits(t, dir)
	start := time.Now()
	if err := CreateDemo(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	t.Logf("CreateDemo took %v (%d commits)", time.Since(start), work.commits.Load())
	// CreateDemo is fast (about 3 s for some 42,000 rows on a quiet
	// machine) because it writes every row in one transaction without a
	// rollback journal; row-by-row commits take minutes. That is checked
	// here by counting, not timing: one commit for the rows and one for
	// ANALYZE, neither with a journal.
	if n := work.commits.Load(); n < 1 || n > 2 {
		t.Errorf("CreateDemo committed %d times, want the rows in one transaction (plus ANALYZE)", n)
	}
	if n := work.journaled.Load(); n != 0 {
		t.Errorf("CreateDemo wrote a rollback journal for %d commits, want none (journal_mode OFF)", n)
	}
	db, err := sqlx.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return path, db
}

// demoHash hashes every row of every demo table in key order.
func demoHash(t *testing.T, db *sqlx.DB) string {
	t.Helper()
	h := sha256.New()
	for _, q := range []string{
		"SELECT * FROM customers ORDER BY customer_id",
		"SELECT * FROM products ORDER BY product_id",
		"SELECT * FROM orders ORDER BY order_id",
		"SELECT * FROM order_lines ORDER BY order_id, line_no",
	} {
		rows, err := db.Queryx(q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals, err := rows.SliceScan()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(h, "%T:%v|", v, v)
			}
			h.Write([]byte{'\n'})
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	return hex.EncodeToString(h.Sum(nil))
}

func demoCount(t *testing.T, db *sqlx.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.Get(&n, q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func TestCreateDemo(t *testing.T) {
	path, db := demoOpen(t)

	t.Run("counts", func(t *testing.T) {
		tests := []struct {
			query    string
			min, max int
		}{
			{"SELECT count(*) FROM customers", DemoCustomers, DemoCustomers},
			{"SELECT count(*) FROM products", DemoProducts, DemoProducts},
			{"SELECT count(*) FROM orders", DemoOrders, DemoOrders},
			{"SELECT count(*) FROM order_lines", 27000, 33000},
			{"SELECT count(*) FROM customers WHERE city = 'O''Fallon'", 1, DemoCustomers},
			{"SELECT count(*) FROM customers WHERE customer_id = 'C''QUOTE1'", 1, 1},
			{"SELECT count(*) FROM orders WHERE customer_id = 'C''QUOTE1'", 1, DemoOrders},
			{"SELECT count(*) FROM customers WHERE city IN ('São Paulo', 'Zürich')", 1, DemoCustomers},
			{"SELECT count(*) FROM customers WHERE email IS NULL", 1, DemoCustomers - 1},
			{"SELECT count(*) FROM customers WHERE city IS NULL", 1, DemoCustomers - 1},
			{"SELECT count(*) FROM orders WHERE shipped_at IS NULL", 1, DemoOrders - 1},
			{"SELECT count(*) FROM orders WHERE notes IS NULL", 1, DemoOrders - 1},
			{"SELECT count(*) FROM products WHERE discontinued = 1", 1, DemoProducts - 1},
			{"SELECT count(*) FROM customers WHERE active NOT IN (0, 1)", 0, 0},
			// Storage conventions the dialect relies on.
			{"SELECT count(*) FROM customers WHERE created_at NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]Z'", 0, 0},
			{"SELECT count(*) FROM orders WHERE order_date NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'", 0, 0},
			{"SELECT count(*) FROM orders WHERE typeof(total) NOT IN ('integer', 'real')", 0, 0},
			// Orders' totals are the sums of their lines.
			{`SELECT count(*) FROM orders o WHERE abs(o.total - (SELECT sum(quantity * unit_price)
			   FROM order_lines l WHERE l.order_id = o.order_id)) > 0.005`, 0, 0},
			{"SELECT count(*) FROM pragma_foreign_key_check", 0, 0},
		}
		for _, tt := range tests {
			if n := demoCount(t, db, tt.query); n < tt.min || n > tt.max {
				t.Errorf("%s = %d, want [%d, %d]", tt.query, n, tt.min, tt.max)
			}
		}
	})

	t.Run("introspects", func(t *testing.T) {
		src, err := Introspect(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		m, warns, err := metadata.Build(src, metadata.Overlay{})
		if err != nil {
			t.Fatal(err)
		}
		if len(warns) != 0 {
			t.Errorf("warnings: %v", warns)
		}
		var sets []string
		for _, s := range m.Sets {
			sets = append(sets, s.Name)
			for _, p := range s.Properties {
				if p.Type == metadata.String && p.MaxLength == 0 {
					t.Errorf("%s.%s: String without MaxLength", s.Name, p.Name)
				}
			}
		}
		if !reflect.DeepEqual(sets, []string{"customers", "order_lines", "orders", "products"}) {
			t.Errorf("sets %q", sets)
		}
		props := []struct {
			set, prop string
			typ       metadata.Type
			check     func(p *metadata.Property) bool
		}{
			{"customers", "customer_id", metadata.String, func(p *metadata.Property) bool { return p.MaxLength == 10 && !p.Nullable }},
			{"customers", "country", metadata.String, func(p *metadata.Property) bool { return p.FixedChar && p.MaxLength == 2 }},
			{"customers", "email", metadata.String, func(p *metadata.Property) bool { return p.Nullable }},
			{"customers", "created_at", metadata.DateTimeOffset, func(p *metadata.Property) bool { return p.Precision == 6 && !p.LocalTime }},
			{"customers", "credit_limit", metadata.Decimal, func(p *metadata.Property) bool { return p.Precision == 12 && p.Scale == 2 }},
			{"customers", "active", metadata.Boolean, func(p *metadata.Property) bool { return p.Default == "1" }},
			{"products", "product_id", metadata.Int64, func(p *metadata.Property) bool { return p.Identity }},
			{"orders", "order_id", metadata.Int64, func(p *metadata.Property) bool { return p.Identity && p.ServerGenerated() }},
			{"orders", "order_date", metadata.Date, func(p *metadata.Property) bool { return !p.Nullable }},
			{"orders", "shipped_at", metadata.DateTimeOffset, func(p *metadata.Property) bool { return p.Nullable }},
			{"order_lines", "order_id", metadata.Int64, func(p *metadata.Property) bool { return !p.Identity }},
			{"order_lines", "line_no", metadata.Int16, func(p *metadata.Property) bool { return true }},
		}
		for _, tt := range props {
			s := m.Set(tt.set)
			if s == nil {
				t.Fatalf("set %s missing", tt.set)
			}
			p := s.Property(tt.prop)
			if p == nil || p.Type != tt.typ || !tt.check(p) {
				t.Errorf("%s.%s: %+v, want type %s and facets", tt.set, tt.prop, p, tt.typ)
			}
		}
		ol := m.Set("order_lines")
		if len(ol.Key) != 2 || ol.Key[0].Name != "order_id" || ol.Key[1].Name != "line_no" {
			t.Errorf("order_lines key %+v", ol.Key)
		}
		if len(ol.ForeignKeys) != 2 || len(m.Set("orders").ForeignKeys) != 1 {
			t.Errorf("foreign keys: order_lines %+v orders %+v", ol.ForeignKeys, m.Set("orders").ForeignKeys)
		}
	})

	t.Run("generated key", func(t *testing.T) {
		tx, err := db.Beginx()
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		res, err := tx.Exec(`INSERT INTO orders (customer_id, order_date) VALUES ('C0000001', '2024-01-01')`)
		if err != nil {
			t.Fatal(err)
		}
		if id, err := res.LastInsertId(); err != nil || id != DemoOrders+1 {
			t.Errorf("generated order_id %d (%v), want %d", id, err, DemoOrders+1)
		}
	})

	t.Run("rerun is a no-op", func(t *testing.T) {
		before, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		h1 := demoHash(t, db)
		if err := CreateDemo(context.Background(), path); err != nil {
			t.Fatal(err)
		}
		after, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if !os.SameFile(before, after) || !after.ModTime().Equal(before.ModTime()) || after.Size() != before.Size() {
			t.Error("second CreateDemo replaced or changed the file")
		}
		if h2 := demoHash(t, db); h1 != h2 {
			t.Error("content changed on re-run")
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("temporary file left behind: %s", e.Name())
			}
		}
	})

	t.Run("deterministic", func(t *testing.T) {
		_, db2 := demoOpen(t)
		if h1, h2 := demoHash(t, db), demoHash(t, db2); h1 != h2 {
			t.Errorf("two builds differ: %s vs %s", h1, h2)
		}
	})
}

func TestCreateDemoFailureLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "demo.db")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := CreateDemo(ctx, path); err == nil {
		t.Fatal("CreateDemo with a canceled context succeeded")
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("files left after a failed build: %v", entries)
	}
	if err := CreateDemo(context.Background(), filepath.Join(dir, "missing", "demo.db")); err == nil {
		t.Error("CreateDemo into a missing directory succeeded")
	}
}

func TestFormatDecimalExactness(t *testing.T) {
	p := &metadata.Property{Name: "d", Type: metadata.Decimal, Precision: 10, Scale: 4}
	for f, want := range map[float64]string{
		12.5:                "12.5000",
		0.1:                 "0.1000",
		0.30000000000000004: "0.30000000000000004", // beyond the declared scale: every digit, never rounded
		-2:                  "-2.0000",
	} {
		if got := string(formatDecimal(f, 0, false, p)); got != want {
			t.Errorf("formatDecimal(%v) = %s, want %s", f, got, want)
		}
	}
}
