package mysql

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/internal/mytest"
	"github.com/odatagw/odatagw/metadata"
)

// keysSince lists the keys (as text) of set changed at or after pos.
func keysSince(t *testing.T, d *DB, set *metadata.EntitySet, pos string) []string {
	t.Helper()
	var out []string
	after := ""
	for {
		ch, err := d.Changes(context.Background(), set, pos, after, 2) // small pages: the cursor is exercised
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range ch {
			var parts []string
			for _, k := range c.Key {
				parts = append(parts, fmt.Sprint(k.V))
			}
			out = append(out, strings.Join(parts, "/"))
			after = c.Cursor
		}
		if len(ch) < 2 {
			return out
		}
	}
}

// seqOf is the number of the newest log entry of key, as q sees it.
func seqOf(t *testing.T, d *DB, q interface {
	QueryRow(string, ...any) *sql.Row
}, key string) uint64 {
	t.Helper()
	changes, _ := d.logTables()
	var seq uint64
	if err := q.QueryRow("SELECT max(seq) FROM "+changes+" WHERE k LIKE ?", "%"+key+"%").Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

// TestChangeTracking: positions never skip a change that commits after a
// later one (sequence numbers commit out of order), gaps left by rollbacks
// hold a position only briefly, keys are exact (case, composite), and the
// log never shows up as an entity set.
func TestChangeTracking(t *testing.T) {
	t.Parallel()
	defer func(g time.Duration) { gapGrace = g }(gapGrace)
	gapGrace = 300 * time.Millisecond
	dsn := mytest.NewDB(t)
	mytest.MustExec(t, dsn, `
CREATE TABLE items (id int PRIMARY KEY, v varchar(10));
CREATE TABLE codes (code varchar(10) COLLATE utf8mb4_bin PRIMARY KEY, grp int NOT NULL, UNIQUE (grp, code));
CREATE TABLE pairs (a varchar(5), b int, PRIMARY KEY (a, b))`)
	ctx := context.Background()
	d, err := Open(ctx, Options{DSN: dsn})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m, _, err := d.Model(ctx, metadata.Overlay{})
	if err != nil {
		t.Fatal(err)
	}
	items, codes, pairs := m.Set("items"), m.Set("codes"), m.Set("pairs")
	if err := d.InstallTracking(ctx, []*metadata.EntitySet{items, codes, pairs}, nil); err != nil {
		t.Fatal(err)
	}
	if err := d.InstallTracking(ctx, []*metadata.EntitySet{items}, nil); err != nil { // idempotent
		t.Fatal(err)
	}
	if m2, _, err := d.Model(ctx, metadata.Overlay{}); err != nil || len(m2.Sets) != 3 {
		t.Fatalf("the change log is exposed: %v %v", m2.Sets, err)
	}
	tracked, err := d.TrackedSets(ctx, m.Sets)
	if err != nil || !tracked["items"] || !tracked["codes"] || !tracked["pairs"] {
		t.Fatalf("TrackedSets = %v, %v", tracked, err)
	}

	p0, err := d.ChangePosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// A transaction in progress takes a lower number than one that
	// commits first.
	w1, w2 := mytest.Open(t, dsn), mytest.Open(t, dsn)
	tx, err := w1.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() }) // an open transaction would block dropping the database
	if _, err := tx.Exec("INSERT INTO items VALUES (1, 'slow')"); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Exec("INSERT INTO items VALUES (2, 'fast')"); err != nil {
		t.Fatal(err)
	}
	p1, err := d.ChangePosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysSince(t, d, items, p0); !slices.Equal(got, []string{"2"}) {
		t.Errorf("changes since p0 = %v, want [2] (1 is not committed)", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := keysSince(t, d, items, p1); !slices.Contains(got, "1") {
		t.Errorf("changes since p1 = %v: the slow transaction's change is lost", got)
	}

	// A rolled-back insert leaves a gap that holds the position for
	// gapGrace only.
	tx, err = w1.Begin()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	if _, err := tx.Exec("INSERT INTO items VALUES (3, 'undone')"); err != nil {
		t.Fatal(err)
	}
	gap := seqOf(t, d, tx, `3}`) // only the transaction itself sees its entry
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := w2.Exec("INSERT INTO items VALUES (4, 'after')"); err != nil {
		t.Fatal(err)
	}
	p2, err := d.ChangePosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.ParseUint(p2, 10, 64); n > gap {
		t.Errorf("position %d passed the fresh gap %d", n, gap)
	}
	time.Sleep(2 * gapGrace)
	p3, err := d.ChangePosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := keysSince(t, d, items, p3); len(got) != 0 {
		t.Errorf("after the gap settled, changes since %s = %v, want none", p3, got)
	}

	// Updates log the old and the new key, deletes the old; keys are exact
	// under a case-insensitive column collation; composite keys.
	for _, stmt := range []string{
		"INSERT INTO codes VALUES ('abc', 1), ('ABC', 2)",
		"UPDATE codes SET code = 'Abc' WHERE code = 'abc' COLLATE utf8mb4_bin",
		"UPDATE codes SET grp = 3 WHERE code = 'ABC' COLLATE utf8mb4_bin",
		"INSERT INTO pairs VALUES ('x', 1), ('x', 2)",
		"DELETE FROM pairs WHERE b = 1",
		"UPDATE items SET v = 'same' WHERE id = 4",
	} {
		if _, err := w2.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if got := keysSince(t, d, codes, p3); !slices.Equal(got, []string{"ABC", "Abc", "abc"}) {
		t.Errorf("codes changed: %v", got)
	}
	if got := keysSince(t, d, pairs, p3); !slices.Equal(got, []string{"x/1", "x/2"}) {
		t.Errorf("pairs changed: %v", got)
	}
	if got := keysSince(t, d, items, p3); !slices.Equal(got, []string{"4"}) {
		t.Errorf("items changed: %v", got)
	}

	if _, err := d.Changes(ctx, items, "not-a-position", "", 10); adapters.KindOf(err) != adapters.Invalid {
		t.Errorf("a foreign position: %v, want Invalid", err)
	}
	status, err := d.TrackingStatus(ctx, []*metadata.EntitySet{items})
	if err != nil || len(status) != 1 || !status[0].Installed || status[0].Entries < 4 ||
		time.Since(status[0].Oldest) > time.Minute {
		t.Errorf("status %+v, %v", status, err)
	}
	if n, err := d.PurgeChanges(ctx, time.Now().Add(time.Hour)); err != nil || n == 0 {
		t.Errorf("purge: %d, %v", n, err)
	}
	if err := d.RemoveTracking(ctx, []*metadata.EntitySet{items, codes, pairs}, nil); err != nil {
		t.Fatal(err)
	}
	if tracked, err := d.TrackedSets(ctx, m.Sets); err != nil || len(tracked) != 0 {
		t.Errorf("after remove: %v %v", tracked, err)
	}
	var triggersLeft int
	if err := d.db.QueryRow("SELECT count(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()").Scan(&triggersLeft); err != nil || triggersLeft != 0 {
		t.Errorf("triggers left: %d %v", triggersLeft, err)
	}
	if _, err := w2.Exec("INSERT INTO items VALUES (5, 'untracked')"); err != nil {
		t.Errorf("a write after remove: %v", err)
	}
}
