package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/metadata"
)

// Change capture on SQLite: three triggers per tracked table append the
// key of each changed row (a JSON object of the key columns) to
// odatagw_changes. SQLite has one writer at a time and AUTOINCREMENT never
// reuses a number, so the sequence number is the position: a poll lists
// the changes numbered at or after the previous poll's position, the next
// number the sequence was to hand out (a write in progress then has it or
// a later one).

const changeLogDDL = `CREATE TABLE IF NOT EXISTS odatagw_changes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  tbl TEXT NOT NULL,
  key TEXT NOT NULL,
  at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS odatagw_changes_tbl_seq ON odatagw_changes (tbl, seq);
CREATE INDEX IF NOT EXISTS odatagw_changes_at ON odatagw_changes (at);`

var (
	_ adapters.ChangeTracker = (*DB)(nil)
	_ adapters.TrackAdmin    = (*DB)(nil)
)

func triggerNames(set *metadata.EntitySet) [3]string {
	return [3]string{"odatagw_track_i_" + set.Table, "odatagw_track_u_" + set.Table, "odatagw_track_d_" + set.Table}
}

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// keyJSON is the SQL of the JSON key of row (NEW or OLD).
func keyJSON(set *metadata.EntitySet, row string) string {
	var b strings.Builder
	b.WriteString("json_object(")
	for i, p := range set.Key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(literal(p.Column) + ", " + row + "." + sqlgen.QuoteIdent(p.Column))
	}
	b.WriteString(")")
	return b.String()
}

// InstallTracking implements adapters.TrackAdmin: idempotent.
func (d *DB) InstallTracking(ctx context.Context, sets []*metadata.EntitySet, done func(*metadata.EntitySet)) error {
	for _, s := range sets {
		if why := adapters.Trackable(s); why != "" {
			return fmt.Errorf("%s cannot be tracked: %s", s.Name, why)
		}
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, changeLogDDL); err != nil {
		return fmt.Errorf("creating the change log: %w", err)
	}
	for _, s := range sets {
		t, tbl, names := sqlgen.QuoteIdent(s.Table), literal(s.Table), triggerNames(s)
		insert := "INSERT INTO odatagw_changes (tbl, key) VALUES (" + tbl + ", "
		stmts := []string{
			"DROP TRIGGER IF EXISTS " + sqlgen.QuoteIdent(names[0]),
			"DROP TRIGGER IF EXISTS " + sqlgen.QuoteIdent(names[1]),
			"DROP TRIGGER IF EXISTS " + sqlgen.QuoteIdent(names[2]),
			"CREATE TRIGGER " + sqlgen.QuoteIdent(names[0]) + " AFTER INSERT ON " + t + " BEGIN " +
				insert + keyJSON(s, "NEW") + "); END",
			"CREATE TRIGGER " + sqlgen.QuoteIdent(names[1]) + " AFTER UPDATE ON " + t + " BEGIN " +
				"INSERT INTO odatagw_changes (tbl, key) SELECT " + tbl + ", " + keyJSON(s, "OLD") +
				" WHERE " + keyJSON(s, "OLD") + " IS NOT " + keyJSON(s, "NEW") + "; " +
				insert + keyJSON(s, "NEW") + "); END",
			"CREATE TRIGGER " + sqlgen.QuoteIdent(names[2]) + " AFTER DELETE ON " + t + " BEGIN " +
				insert + keyJSON(s, "OLD") + "); END",
		}
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("installing the triggers on %s: %w", s.Name, err)
			}
		}
		if done != nil {
			done(s)
		}
	}
	return tx.Commit()
}

// RemoveTracking implements adapters.TrackAdmin.
func (d *DB) RemoveTracking(ctx context.Context, sets []*metadata.EntitySet, done func(*metadata.EntitySet)) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	logExists, err := changeLogExists(ctx, tx)
	if err != nil {
		return err
	}
	for _, s := range sets {
		for _, n := range triggerNames(s) {
			if _, err := tx.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+sqlgen.QuoteIdent(n)); err != nil {
				return err
			}
		}
		if logExists {
			if _, err := tx.ExecContext(ctx, "DELETE FROM odatagw_changes WHERE tbl = ?", s.Table); err != nil {
				return err
			}
		}
		if done != nil {
			done(s)
		}
	}
	var left int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'odatagw\_track\_%' ESCAPE '\'`).Scan(&left); err != nil {
		return err
	}
	if left == 0 && logExists {
		if _, err := tx.ExecContext(ctx, "DROP TABLE odatagw_changes"); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func changeLogExists(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'odatagw_changes'`).Scan(&n)
	return n > 0, err
}

// TrackingStatus implements adapters.TrackAdmin.
func (d *DB) TrackingStatus(ctx context.Context, sets []*metadata.EntitySet) ([]adapters.TrackStatus, error) {
	tracked, err := d.TrackedSets(ctx, sets)
	if err != nil {
		return nil, err
	}
	out := make([]adapters.TrackStatus, 0, len(sets))
	for _, s := range sets {
		st := adapters.TrackStatus{Set: s.Name, Installed: tracked[s.Name]}
		if st.Installed {
			var oldest sql.NullString
			if err := d.db.QueryRowContext(ctx, "SELECT count(*), min(at) FROM odatagw_changes WHERE tbl = ?", s.Table).
				Scan(&st.Entries, &oldest); err != nil {
				return nil, err
			}
			if oldest.Valid {
				st.Oldest, _ = time.Parse("2006-01-02T15:04:05.999Z", oldest.String)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// TrackedSets implements adapters.ChangeTracker.
func (d *DB) TrackedSets(ctx context.Context, sets []*metadata.EntitySet) (map[string]bool, error) {
	out := map[string]bool{}
	ok, err := changeLogExists(ctx, d.db)
	if err != nil || !ok {
		return out, classify(err)
	}
	rows, err := d.db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'trigger'`)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, classify(err)
		}
		have[n] = true
	}
	for _, s := range sets {
		n := triggerNames(s)
		if have[n[0]] && have[n[1]] && have[n[2]] && adapters.Trackable(s) == "" {
			out[s.Name] = true
		}
	}
	return out, classify(rows.Err())
}

// ChangePosition implements adapters.ChangeTracker: the next sequence
// number.
func (d *DB) ChangePosition(ctx context.Context) (string, error) {
	var n int64
	err := d.db.QueryRowContext(ctx, `SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'odatagw_changes'), 0) + 1`).Scan(&n)
	if err != nil {
		return "", classify(err)
	}
	return strconv.FormatInt(n, 10), nil
}

// Changes implements adapters.ChangeTracker; the cursor is the key's JSON
// text.
func (d *DB) Changes(ctx context.Context, set *metadata.EntitySet, since, after string, limit int) ([]adapters.Change, error) {
	seq, err := strconv.ParseInt(since, 10, 64)
	if err != nil || seq < 1 {
		return nil, adapters.Errorf(adapters.Invalid, err, "invalid change-log position")
	}
	rows, err := d.db.QueryContext(ctx, `SELECT key FROM (SELECT DISTINCT key FROM odatagw_changes
		WHERE tbl = ? AND seq >= ? AND key > ?) ORDER BY key LIMIT ?`, set.Table, seq, after, limit)
	if err != nil {
		return nil, classify(err)
	}
	return adapters.ScanChanges(rows, set, classify)
}

// PurgeChanges implements adapters.ChangeTracker.
func (d *DB) PurgeChanges(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.db.ExecContext(ctx, "DELETE FROM odatagw_changes WHERE at < ?", before.UTC().Format("2006-01-02T15:04:05.000Z"))
	if err != nil {
		return 0, classify(err)
	}
	return res.RowsAffected()
}
