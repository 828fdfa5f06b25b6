package postgres

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
)

// Change capture on PostgreSQL: a row trigger (odatagw_track) on each
// tracked table appends the key of every inserted, updated or deleted row
// to odatagw.changes, with the writing transaction's id (xid8). Whoever
// writes, the ERP included, is captured; the trigger function (one per
// table: it reads the key columns directly) runs as its owner (SECURITY
// DEFINER), so writers need no rights on the log.
//
// Nothing is lost between polls: positions are snapshots, not sequence
// numbers (which are taken at write time and commit out of order).
// ChangePosition is the current snapshot (pg_current_snapshot: xmin, xmax
// and the transactions in progress), and a poll lists the changes of the
// transactions that snapshot did not see. A transaction that was open
// during a poll is not visible in that poll's position, so the next poll
// lists it once it has committed. A change that commits between taking
// the position and reading the log may be listed by two polls (with the
// row's current state both times); none is missed.

const captureDDL = `
CREATE SCHEMA IF NOT EXISTS odatagw;
CREATE TABLE IF NOT EXISTS odatagw.changes (
  seq bigserial PRIMARY KEY,
  xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  tbl text NOT NULL,
  key jsonb NOT NULL,
  at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS changes_tbl_xid ON odatagw.changes (tbl, xid);
CREATE INDEX IF NOT EXISTS changes_at ON odatagw.changes USING brin (at);
COMMENT ON TABLE odatagw.changes IS 'odatagw change log (odatagw track install); rows are purged after track_retention';
`

// captureFunction is the trigger function of one table: it builds the key
// from the key columns directly (no conversion of the whole row), so that a
// tracked write costs one small insert into the log. It runs as its owner
// (SECURITY DEFINER, fixed search_path): writers need no rights on the log.
func captureFunction(set *metadata.EntitySet) string {
	var kn, ko, changed string
	for i, p := range set.Key {
		if i > 0 {
			kn, ko, changed = kn+", ", ko+", ", changed+" OR "
		}
		col := pq.QuoteIdentifier(p.Column)
		kn += pq.QuoteLiteral(p.Column) + ", NEW." + col
		ko += pq.QuoteLiteral(p.Column) + ", OLD." + col
		changed += "NEW." + col + " IS DISTINCT FROM OLD." + col
	}
	tbl := pq.QuoteLiteral(logName(set))
	return `CREATE OR REPLACE FUNCTION ` + functionName(set) + `() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $f$
BEGIN
  IF TG_OP = 'DELETE' OR TG_OP = 'UPDATE' AND (` + changed + `) THEN
    INSERT INTO odatagw.changes (tbl, key) VALUES (` + tbl + `, jsonb_build_object(` + ko + `));
  END IF;
  IF TG_OP <> 'DELETE' THEN
    INSERT INTO odatagw.changes (tbl, key) VALUES (` + tbl + `, jsonb_build_object(` + kn + `));
  END IF;
  RETURN NULL;
END
$f$;
REVOKE ALL ON FUNCTION ` + functionName(set) + `() FROM PUBLIC`
}

// functionName is the trigger function of set's table: odatagw.capture_
// and a hash of the table's name (names of any length and spelling).
func functionName(set *metadata.EntitySet) string {
	h := sha256.Sum256([]byte(logName(set)))
	return "odatagw.capture_" + hex.EncodeToString(h[:8])
}

const triggerName = "odatagw_track"

func logName(set *metadata.EntitySet) string { return set.Schema + "." + set.Table }

func tableName(set *metadata.EntitySet) string {
	return pq.QuoteIdentifier(set.Schema) + "." + pq.QuoteIdentifier(set.Table)
}

var (
	_ adapters.ChangeTracker = (*DB)(nil)
	_ adapters.TrackAdmin    = (*DB)(nil)
)

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
	if _, err := tx.ExecContext(ctx, captureDDL); err != nil {
		return fmt.Errorf("creating the change log: %w", err)
	}
	for _, s := range sets {
		stmt := captureFunction(s) + `;
DROP TRIGGER IF EXISTS ` + triggerName + ` ON ` + tableName(s) + `;
CREATE TRIGGER ` + triggerName + ` AFTER INSERT OR UPDATE OR DELETE ON ` + tableName(s) +
			` FOR EACH ROW EXECUTE FUNCTION ` + functionName(s) + `()`
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("installing the trigger on %s: %w", s.Name, err)
		}
		if done != nil {
			done(s)
		}
	}
	return tx.Commit()
}

// RemoveTracking implements adapters.TrackAdmin: drops the triggers of
// sets and their log entries; the change log itself when no trigger is
// left.
func (d *DB) RemoveTracking(ctx context.Context, sets []*metadata.EntitySet, done func(*metadata.EntitySet)) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var logExists bool
	if err := tx.QueryRowContext(ctx, `SELECT to_regclass('odatagw.changes') IS NOT NULL`).Scan(&logExists); err != nil {
		return err
	}
	for _, s := range sets {
		if _, err := tx.ExecContext(ctx, `DROP TRIGGER IF EXISTS `+triggerName+` ON `+tableName(s)+`;
DROP FUNCTION IF EXISTS `+functionName(s)+`()`); err != nil {
			return fmt.Errorf("dropping the trigger on %s: %w", s.Name, err)
		}
		if logExists {
			if _, err := tx.ExecContext(ctx, `DELETE FROM odatagw.changes WHERE tbl = $1`, logName(s)); err != nil {
				return err
			}
		}
		if done != nil {
			done(s)
		}
	}
	var left int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM pg_trigger WHERE tgname = $1`, triggerName).Scan(&left); err != nil {
		return err
	}
	if left == 0 {
		if _, err := tx.ExecContext(ctx, `DROP SCHEMA IF EXISTS odatagw CASCADE`); err != nil {
			return err
		}
	}
	return tx.Commit()
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
			var oldest sql.NullTime
			if err := d.db.QueryRowContext(ctx, `SELECT count(*), min(at) FROM odatagw.changes WHERE tbl = $1`,
				logName(s)).Scan(&st.Entries, &oldest); err != nil {
				return nil, err
			}
			st.Oldest = oldest.Time
		}
		out = append(out, st)
	}
	return out, nil
}

// TrackedSets implements adapters.ChangeTracker: sets whose table has the
// trigger, when the change log exists and the gateway's role may read it.
func (d *DB) TrackedSets(ctx context.Context, sets []*metadata.EntitySet) (map[string]bool, error) {
	out := map[string]bool{}
	var exists, readable bool
	err := d.db.QueryRowContext(ctx, `SELECT to_regnamespace('odatagw') IS NOT NULL AND to_regclass('odatagw.changes') IS NOT NULL,
		has_schema_privilege(current_user, 'odatagw', 'USAGE') AND has_table_privilege('odatagw.changes', 'SELECT')`).Scan(&exists, &readable)
	if err != nil && exists {
		return nil, classify(err)
	}
	if !exists {
		return out, nil
	}
	if !readable {
		return nil, errors.New("the change log odatagw.changes exists but the gateway's role may not read it: " +
			"GRANT USAGE ON SCHEMA odatagw TO <role>; GRANT SELECT, DELETE ON odatagw.changes TO <role>")
	}
	rows, err := d.db.QueryContext(ctx, `SELECT n.nspname, c.relname FROM pg_trigger t
		JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE t.tgname = $1 AND t.tgenabled <> 'D'`, triggerName)
	if err != nil {
		return nil, classify(err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var schema, table string
		if err := rows.Scan(&schema, &table); err != nil {
			return nil, classify(err)
		}
		have[schema+"."+table] = true
	}
	for _, s := range sets {
		if have[logName(s)] && adapters.Trackable(s) == "" {
			out[s.Name] = true
		}
	}
	return out, classify(rows.Err())
}

// ChangePosition implements adapters.ChangeTracker: the current snapshot
// as text (xmin:xmax:xip,...).
func (d *DB) ChangePosition(ctx context.Context) (string, error) {
	var text string
	if err := d.db.QueryRowContext(ctx, `SELECT pg_current_snapshot()::text`).Scan(&text); err != nil {
		return "", classify(err)
	}
	return text, nil
}

// Changes implements adapters.ChangeTracker. The cursor is the key's
// jsonb text; keys are listed in jsonb order.
func (d *DB) Changes(ctx context.Context, set *metadata.EntitySet, since, after string, limit int) ([]adapters.Change, error) {
	const unseen = `tbl = $1 AND xid >= pg_snapshot_xmin($2::pg_snapshot) AND NOT pg_visible_in_snapshot(xid, $2::pg_snapshot)`
	// Listed in jsonb order, the order of the cursor comparison: the output
	// column is named cursor, not key, so that ORDER BY k.key cannot mean the
	// text (where {"id": 10} sorts before {"id": 9} and paging would skip).
	q := `SELECT k.key::text AS cursor FROM (SELECT DISTINCT key FROM odatagw.changes WHERE ` + unseen + `) k
		ORDER BY k.key LIMIT $3`
	args := []any{logName(set), since, limit}
	if after != "" {
		q = `SELECT k.key::text AS cursor FROM (SELECT DISTINCT key FROM odatagw.changes WHERE ` + unseen + `
			AND key > $4::jsonb) k ORDER BY k.key LIMIT $3`
		args = append(args, after)
	}
	rows, err := d.db.QueryContext(ctx, q, args...)
	if err != nil {
		var pe *pq.Error
		if errors.As(err, &pe) && pe.Code == "22P02" { // a position or cursor that is not ours
			return nil, adapters.Errorf(adapters.Invalid, err, "invalid change-log position")
		}
		return nil, classify(err)
	}
	return adapters.ScanChanges(rows, set, classify)
}

// PurgeChanges implements adapters.ChangeTracker.
func (d *DB) PurgeChanges(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.db.ExecContext(ctx, `DELETE FROM odatagw.changes WHERE at < $1`, before)
	if err != nil {
		return 0, classify(err)
	}
	return res.RowsAffected()
}
