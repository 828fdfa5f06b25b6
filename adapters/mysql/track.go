package mysql

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	drv "github.com/go-sql-driver/mysql"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
)

// Change capture on MySQL and MariaDB: three row triggers per tracked
// table append the key of every inserted, updated or deleted row (a JSON
// object of the key columns) to the change log odatagw_changes, numbered by
// an AUTO_INCREMENT sequence. The log and odatagw_tracked (the tracked
// tables, so that the serving user needs no TRIGGER privilege to find them)
// live in the database of the connection URL; introspection never exposes
// them. Triggers run with their definer's rights (the administrator who ran
// `odatagw track install`), so writers need no rights on the log.
//
// Sequence numbers are taken at write time and commit out of order, and
// MySQL has no snapshot to compare with (PostgreSQL's positions are
// snapshots). So a position is the lowest sequence number that may still
// become visible: ChangePosition reads the log twice from the last
// position it handed out, first with dirty reads (READ UNCOMMITTED: the
// entries of transactions still in progress are there too), then
// committed (READ COMMITTED). A number seen dirty but not committed belongs
// to a transaction in progress; a number in neither is a gap: rolled back
// for good, or taken by an insert that has not reached the index yet. A
// gap is settled once an entry numbered above it is older than gapGrace
// (numbers are handed out in increasing order, so the gap's insert started
// before that entry's); until then it holds the position as well. The
// position is the lowest number in progress or in an unsettled gap, else
// one past the highest number read; a poll lists the entries numbered at
// or above it. A change that commits while a poll runs may be listed by
// two polls (with the row's current state both times); none is missed.

// gapGrace is how long a gap in the sequence may be an insert in flight
// (an AUTO_INCREMENT value is taken just before the row reaches the index).
var gapGrace = 2 * time.Second

// logTables are the change log's and the tracked tables' names, qualified.
func (d *DB) logTables() (changes, tracked string) {
	return quote(d.logDB()) + ".`odatagw_changes`", quote(d.logDB()) + ".`odatagw_tracked`"
}

// logDB is the database holding the change log: the connection URL's.
func (d *DB) logDB() string {
	if d.dbName == "" && len(d.opt.Schemas) > 0 {
		return d.opt.Schemas[0]
	}
	return d.dbName
}

func (d *DB) captureDDL() []string {
	changes, tracked := d.logTables()
	return []string{"CREATE TABLE IF NOT EXISTS " + changes + " (" +
		"seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY, " +
		"tbl VARBINARY(512) NOT NULL, " +
		"k VARBINARY(3072) NOT NULL, " +
		"at_us BIGINT NOT NULL, " +
		"KEY changes_tbl_seq (tbl, seq), KEY changes_at (at_us)" +
		") ENGINE=InnoDB COMMENT='odatagw change log (odatagw track install); rows are purged after track_retention'",
		"CREATE TABLE IF NOT EXISTS " + tracked + " (tbl VARBINARY(512) NOT NULL PRIMARY KEY) ENGINE=InnoDB " +
			"COMMENT='tables whose changes odatagw captures (odatagw track install)'",
	}
}

// nowMicros is the time of the call (SYSDATE, not the statement's start)
// in microseconds since the epoch, whatever the session's time zone.
const nowMicros = "CAST(UNIX_TIMESTAMP(SYSDATE(6)) * 1000000 AS SIGNED)"

func logName(set *metadata.EntitySet) string { return set.Schema + "." + set.Table }

func quote(s string) string { return "`" + strings.ReplaceAll(s, "`", "``") + "`" }

func tableName(set *metadata.EntitySet) string { return quote(set.Schema) + "." + quote(set.Table) }

func literal(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'" // the session has NO_BACKSLASH_ESCAPES
}

// triggerNames are the insert, update and delete triggers of set's table:
// odatagw_ and a hash of the table's name (trigger names are at most 64
// characters).
func triggerNames(set *metadata.EntitySet) [3]string {
	h := sha256.Sum256([]byte(logName(set)))
	base := "odatagw_" + hex.EncodeToString(h[:8])
	return [3]string{base + "_i", base + "_u", base + "_d"}
}

// keyJSON is the SQL of the JSON key of row (NEW or OLD).
func keyJSON(set *metadata.EntitySet, row string) string {
	var b strings.Builder
	b.WriteString("JSON_OBJECT(")
	for i, p := range set.Key {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(literal(p.Column) + ", " + row + "." + quote(p.Column))
	}
	b.WriteString(")")
	return b.String()
}

func triggers(set *metadata.EntitySet, logTable string) []string {
	names, tbl := triggerNames(set), literal(logName(set))
	insert := func(row string) string {
		return "INSERT INTO " + logTable + " (tbl, k, at_us) VALUES (" + tbl + ", " + keyJSON(set, row) + ", " + nowMicros + ")"
	}
	var same []string
	for _, p := range set.Key {
		same = append(same, "NEW."+quote(p.Column)+" <=> OLD."+quote(p.Column))
	}
	return []string{
		"CREATE TRIGGER " + quote(set.Schema) + "." + quote(names[0]) + " AFTER INSERT ON " + tableName(set) +
			" FOR EACH ROW " + insert("NEW"),
		"CREATE TRIGGER " + quote(set.Schema) + "." + quote(names[1]) + " AFTER UPDATE ON " + tableName(set) +
			" FOR EACH ROW BEGIN IF NOT (" + strings.Join(same, " AND ") + ") THEN " + insert("OLD") + "; END IF; " +
			insert("NEW") + "; END",
		"CREATE TRIGGER " + quote(set.Schema) + "." + quote(names[2]) + " AFTER DELETE ON " + tableName(set) +
			" FOR EACH ROW " + insert("OLD"),
	}
}

var (
	_ adapters.ChangeTracker = (*DB)(nil)
	_ adapters.TrackAdmin    = (*DB)(nil)
)

// InstallTracking implements adapters.TrackAdmin: idempotent. MySQL
// commits DDL implicitly, so a failure half-way leaves what was done; a
// second run completes it.
func (d *DB) InstallTracking(ctx context.Context, sets []*metadata.EntitySet, done func(*metadata.EntitySet)) error {
	for _, s := range sets {
		if why := adapters.Trackable(s); why != "" {
			return fmt.Errorf("%s cannot be tracked: %s", s.Name, why)
		}
	}
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	changes, tracked := d.logTables()
	for _, stmt := range d.captureDDL() {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("creating the change log: %w", err)
		}
	}
	for _, s := range sets {
		var stmts []string
		for _, n := range triggerNames(s) {
			stmts = append(stmts, "DROP TRIGGER IF EXISTS "+quote(s.Schema)+"."+quote(n))
		}
		stmts = append(stmts, triggers(s, changes)...)
		stmts = append(stmts, "INSERT IGNORE INTO "+tracked+" (tbl) VALUES ("+literal(logName(s))+")")
		for _, stmt := range stmts {
			if _, err := conn.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("installing the triggers on %s: %w", s.Name, err)
			}
		}
		if done != nil {
			done(s)
		}
	}
	return nil
}

// RemoveTracking implements adapters.TrackAdmin: drops the triggers of
// sets and their log entries; the change log when no table is left
// tracked.
func (d *DB) RemoveTracking(ctx context.Context, sets []*metadata.EntitySet, done func(*metadata.EntitySet)) error {
	changes, tracked := d.logTables()
	exists, err := d.logExists(ctx)
	if err != nil {
		return err
	}
	for _, s := range sets {
		for _, n := range triggerNames(s) {
			if _, err := d.db.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+quote(s.Schema)+"."+quote(n)); err != nil {
				return fmt.Errorf("dropping the triggers on %s: %w", s.Name, err)
			}
		}
		if exists {
			for _, stmt := range []string{"DELETE FROM " + tracked + " WHERE tbl = ?", "DELETE FROM " + changes + " WHERE tbl = ?"} {
				if _, err := d.db.ExecContext(ctx, stmt, logName(s)); err != nil {
					return err
				}
			}
		}
		if done != nil {
			done(s)
		}
	}
	if !exists {
		return nil
	}
	var left int
	if err := d.db.QueryRowContext(ctx, "SELECT count(*) FROM "+tracked).Scan(&left); err != nil {
		return err
	}
	if left == 0 {
		_, err = d.db.ExecContext(ctx, "DROP TABLE IF EXISTS "+changes+", "+tracked)
	}
	return err
}

func (d *DB) logExists(ctx context.Context) (bool, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.TABLES
		WHERE TABLE_SCHEMA = ? AND TABLE_NAME IN ('odatagw_changes', 'odatagw_tracked')`, d.logDB()).Scan(&n)
	return n == 2, classify(err)
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
			var oldest sql.NullInt64
			changes, _ := d.logTables()
			if err := d.db.QueryRowContext(ctx, "SELECT count(*), min(at_us) FROM "+changes+" WHERE tbl = ?",
				logName(s)).Scan(&st.Entries, &oldest); err != nil {
				return nil, classify(err)
			}
			if oldest.Valid {
				st.Oldest = time.UnixMicro(oldest.Int64).UTC()
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// TrackedSets implements adapters.ChangeTracker: sets listed in
// odatagw_tracked, when the change log exists and the gateway's user may
// read it.
func (d *DB) TrackedSets(ctx context.Context, sets []*metadata.EntitySet) (map[string]bool, error) {
	out := map[string]bool{}
	exists, err := d.logExists(ctx)
	if err != nil || !exists {
		return out, err
	}
	_, tracked := d.logTables()
	rows, err := d.db.QueryContext(ctx, "SELECT tbl FROM "+tracked)
	if err != nil {
		var me *drv.MySQLError
		if errors.As(err, &me) && (me.Number == 1142 || me.Number == 1143 || me.Number == 1044) {
			return nil, errors.New("the change log odatagw_changes exists but the gateway's user may not read it: " +
				"GRANT SELECT, DELETE ON <db>.odatagw_changes TO <user>; GRANT SELECT ON <db>.odatagw_tracked TO <user>")
		}
		return nil, classify(err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, classify(err)
		}
		have[t] = true
	}
	for _, s := range sets {
		if have[logName(s)] && adapters.Trackable(s) == "" {
			out[s.Name] = true
		}
	}
	return out, classify(rows.Err())
}

// tracker is the adapter's memory of the last position it handed out, so
// that ChangePosition reads the log only from there.
type tracker struct {
	mu    sync.Mutex
	floor uint64
}

// ChangePosition implements adapters.ChangeTracker (see the comment at the
// top of the file).
func (d *DB) ChangePosition(ctx context.Context) (string, error) {
	d.track.mu.Lock()
	defer d.track.mu.Unlock()
	changes, _ := d.logTables()
	pos, err := position(ctx, d.db, changes, d.track.floor)
	if err != nil {
		return "", err
	}
	if pos > d.track.floor {
		d.track.floor = pos
	}
	return strconv.FormatUint(pos, 10), nil
}

// position computes a position from floor (a position handed out earlier,
// or 0).
func position(ctx context.Context, db *sql.DB, logTable string, floor uint64) (uint64, error) {
	type entry struct {
		seq uint64
		old bool // older than gapGrace
	}
	read := func(level sql.IsolationLevel, withAge bool, upTo uint64) ([]entry, error) {
		tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: level, ReadOnly: true})
		if err != nil {
			return nil, classify(err)
		}
		defer tx.Rollback()
		q := "SELECT seq, at_us < " + nowMicros + " - ? FROM " + logTable + " WHERE seq >= ?"
		args := []any{gapGrace.Microseconds(), floor}
		if !withAge {
			q = "SELECT seq, 0 FROM " + logTable + " WHERE seq >= ? AND seq <= ?"
			args = []any{floor, upTo}
		}
		rows, err := tx.QueryContext(ctx, q+" ORDER BY seq", args...)
		if err != nil {
			return nil, classify(err)
		}
		defer rows.Close()
		var out []entry
		for rows.Next() {
			var e entry
			if err := rows.Scan(&e.seq, &e.old); err != nil {
				return nil, classify(err)
			}
			out = append(out, e)
		}
		return out, classify(rows.Err())
	}
	dirty, err := read(sql.LevelReadUncommitted, true, 0)
	if err != nil {
		return 0, err
	}
	if len(dirty) == 0 {
		if floor > 0 {
			return floor, nil
		}
		// An empty log: the next number it will hand out.
		var next sql.NullInt64
		err := db.QueryRowContext(ctx, "SELECT max(seq) + 1 FROM "+logTable).Scan(&next)
		if err != nil || !next.Valid {
			return 1, classify(err)
		}
		return uint64(next.Int64), nil
	}
	top := dirty[len(dirty)-1].seq
	committed, err := read(sql.LevelReadCommitted, false, top)
	if err != nil {
		return 0, err
	}
	done := make(map[uint64]bool, len(committed))
	for _, e := range committed {
		done[e.seq] = true
	}
	// Gaps below the highest old entry are settled.
	var settled uint64
	for _, e := range dirty {
		if e.old {
			settled = e.seq
		}
	}
	pos := top + 1
	next := floor
	if next == 0 {
		next = 1
	}
	for _, e := range dirty {
		if e.seq > next { // a gap: next .. e.seq-1
			lo := max(next, settled+1)
			if lo < e.seq {
				pos = lo
				break
			}
		}
		if !done[e.seq] { // in progress
			pos = e.seq
			break
		}
		next = e.seq + 1
	}
	return pos, nil
}

// Changes implements adapters.ChangeTracker. The cursor is the key's JSON
// text, listed in byte order (the order of the comparison).
func (d *DB) Changes(ctx context.Context, set *metadata.EntitySet, since, after string, limit int) ([]adapters.Change, error) {
	seq, err := strconv.ParseUint(since, 10, 64)
	if err != nil || seq < 1 {
		return nil, adapters.Errorf(adapters.Invalid, err, "invalid change-log position")
	}
	logTable, _ := d.logTables()
	rows, err := d.db.QueryContext(ctx, "SELECT CAST(k AS CHAR CHARACTER SET utf8mb4) FROM (SELECT DISTINCT k FROM "+logTable+
		" WHERE tbl = ? AND seq >= ? AND k > ?) t ORDER BY k LIMIT ?", logName(set), seq, after, limit)
	if err != nil {
		return nil, classify(err)
	}
	return adapters.ScanChanges(rows, set, classify)
}

// PurgeChanges implements adapters.ChangeTracker.
func (d *DB) PurgeChanges(ctx context.Context, before time.Time) (int64, error) {
	logTable, _ := d.logTables()
	res, err := d.db.ExecContext(ctx, "DELETE FROM "+logTable+" WHERE at_us < ?", before.UnixMicro())
	if err != nil {
		return 0, classify(err)
	}
	return res.RowsAffected()
}
