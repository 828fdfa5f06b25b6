// Package adapters declares what a storage backend provides to the server:
// reads of bound queries as streamed rows, counts, and writes, plus the error
// kinds every backend classifies its failures into. Concrete backends live in
// adapters/postgres, adapters/mysql and adapters/sqlite; only the composition root knows them.
//
// Adapters never parse URLs and never log; they return typed errors.
package adapters

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Adapter is one storage backend.
type Adapter interface {
	// Model introspects the database and builds the model with the overlay.
	Model(ctx context.Context, ov metadata.Overlay) (*metadata.Model, []metadata.Warning, error)
	// Query runs q and streams its rows. Each row holds the values of
	// Rows.Columns (q.Select followed by any extra order/key columns the
	// adapter needed for the keyset). The caller must Close the rows.
	// Rows beyond limit (0 = no limit) are not fetched: pass page size + 1 to
	// detect a next page without counting.
	Query(ctx context.Context, q *semantic.Query, limit int64) (Rows, error)
	// Count returns the number of rows matching q's filter, search and
	// restriction, ignoring paging, $top and $skip, following the set's
	// count strategy (metadata.Count): exact, or the planner's estimate.
	Count(ctx context.Context, q *semantic.Query) (Count, error)
	// Writer's methods each run as one transaction of their own.
	Writer
	// Atomic runs fn with a Writer whose writes share one transaction (an
	// OData change set): committed when fn returns nil, rolled back when
	// it returns an error, which Atomic then returns. checked asks for the
	// isolation of writes with an If-Match precondition. fn may run a
	// second time, from the start, when the first attempt certainly did not
	// commit (a serialization failure, or the connection broke before the
	// commit); a commit whose answer was lost is resolved as for single
	// writes (nil when it committed, OutcomeUnknown when that cannot be
	// told).
	Atomic(ctx context.Context, checked bool, fn func(w Writer) error) error
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the connection pool.
	Close() error
}

// Writer changes rows.
type Writer interface {
	// Insert creates a row and returns it as stored (all properties).
	Insert(ctx context.Context, w *Write) (Row, error)
	// Update changes the row addressed by w.Key and returns it as stored.
	// It returns an Error of kind NotFound when no row matches.
	Update(ctx context.Context, w *Write) (Row, error)
	// Delete removes the row addressed by w.Key (NotFound when absent).
	Delete(ctx context.Context, w *Write) error
}

// Reader runs reads. The Adapter is one; so is the Writer of a change set
// (Atomic), whose reads see the change set's own writes.
type Reader interface {
	Query(ctx context.Context, q *semantic.Query, limit int64) (Rows, error)
}

// Rows is a forward-only stream of rows.
type Rows interface {
	// Columns are the properties of each row's values, in order.
	Columns() []*metadata.Property
	// Count is the number of matching rows (filter, search and
	// restriction; no paging) when the query asked for it (q.Count), read in
	// the same snapshot as the rows; N is -1 otherwise. A count that runs
	// past the backend's count bound never fails the rows: it becomes the
	// planner's estimate, or none.
	Count() Count
	Next() bool
	// Row returns the current row; it is only valid until the next call to
	// Next (byte slices are reused).
	Row() []edm.Value
	Err() error
	Close() error
}

// Count is a count of matching rows and how it was taken.
type Count struct {
	N        int64 // -1: no count
	Estimate bool  // N is the planner's estimate, not a count
	TimedOut bool  // the exact count ran past its bound
}

// NoCount is the Count of rows that were not counted.
var NoCount = Count{N: -1}

// Row is one materialised row (write results, key lookups).
type Row struct {
	Columns []*metadata.Property
	Values  []edm.Value
}

// Write is one insert, update or delete.
type Write struct {
	Set *metadata.EntitySet
	// Key addresses the row (update, delete); values in Set.Key order.
	Key []semantic.Const
	// Values to write, by property. For Replace, properties of the set not
	// present become null or their default.
	Values map[*metadata.Property]semantic.Const
	// Replace is a PUT: full replacement.
	Replace bool
	// Upsert: create the row when an update finds none.
	Upsert bool
	// Restrict is the caller's row filter: the row must match it before and
	// after the write, else NotFound (update/delete) or Forbidden (insert).
	Restrict semantic.Expr
	// Via (update, delete) is a condition the row must match before the
	// write, not after, else NotFound: the relationship of a navigation path
	// the row is addressed through (Customers('A')/Orders(1)), which the
	// write itself may change or remove.
	Via semantic.Expr
	// IfMatch, when non-empty, is the ETag the row must currently have
	// (PreconditionFailed otherwise); "*" matches any existing row.
	IfMatch string
	// ETagKey keys hash ETags (see ETag).
	ETagKey []byte
}

// ErrorKind classifies backend failures.
type ErrorKind int

// Error kinds, each mapped to one HTTP status by the server.
const (
	Internal           ErrorKind = iota // 500
	NotFound                            // 404
	Conflict                            // 409: unique or foreign-key violation
	Constraint                          // 400: check or not-null violation, bad value for the column
	Forbidden                           // 403
	PreconditionFailed                  // 412
	Timeout                             // 504: statement timeout
	Unavailable                         // 503: connection failure, serialization failure after retry
	NotImplemented                      // 501
	Canceled                            // the client went away
	Invalid                             // 400: a value this backend cannot store or compare (Target names the property)
	OutcomeUnknown                      // 504: the connection broke during a commit and the outcome could not be found out
)

// Error is a classified backend error. Msg is safe to show to clients (no SQL
// text, no driver internals); Cause is for the log only.
type Error struct {
	Kind       ErrorKind
	Msg        string
	Constraint string // the violated constraint's name, when known
	Target     string // the property the error is about, when known
	Cause      error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("%s: %v", e.Msg, e.Cause)
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Cause }

// Errorf builds an Error of the given kind.
func Errorf(kind ErrorKind, cause error, format string, args ...any) *Error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...), Cause: cause}
}

// KindOf returns the kind of err (Internal when it is not an *Error).
func KindOf(err error) ErrorKind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	if errors.Is(err, context.Canceled) {
		return Canceled
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return Timeout
	}
	return Internal
}

// ChangeTracker is implemented by adapters that can read a change log of
// the tables' rows (installed with `odatagw track install`), for OData delta
// links. Positions are the backend's own opaque, non-empty strings.
type ChangeTracker interface {
	// TrackedSets reports which of sets have change capture installed (by
	// set name). It needs no DDL rights.
	TrackedSets(ctx context.Context, sets []*metadata.EntitySet) (map[string]bool, error)
	// ChangePosition is the change log's current position: a change is
	// "after" it when a read started at this call might not have seen it.
	ChangePosition(ctx context.Context) (string, error)
	// Changes lists the rows of set changed after position since, each row
	// once (by key), in cursor order after cursor after ("": from the
	// start), at most limit. A position that is not the backend's own is an
	// Error of kind Invalid.
	Changes(ctx context.Context, set *metadata.EntitySet, since, after string, limit int) ([]Change, error)
	// PurgeChanges removes change-log entries recorded before before.
	PurgeChanges(ctx context.Context, before time.Time) (int64, error)
}

// Change is one changed row of a change log: its key (the row may since
// have been deleted) and its place in the listing.
type Change struct {
	Key    []semantic.Const // values in Set.Key order
	Cursor string
}

// TrackAdmin prepares and removes change capture (`odatagw track`); it
// needs DDL rights, which serving never does. Install and remove run in
// one transaction and call done (when not nil) after each set's
// statements, for the command line's progress.
type TrackAdmin interface {
	InstallTracking(ctx context.Context, sets []*metadata.EntitySet, done func(*metadata.EntitySet)) error
	RemoveTracking(ctx context.Context, sets []*metadata.EntitySet, done func(*metadata.EntitySet)) error
	TrackingStatus(ctx context.Context, sets []*metadata.EntitySet) ([]TrackStatus, error)
}

// TrackStatus is what `odatagw track status` shows for one set.
type TrackStatus struct {
	Set       string
	Installed bool
	Entries   int64     // change-log entries for the set
	Oldest    time.Time // of the oldest entry (zero when none)
}

// primaryKey marks a context whose reads must see the primary's latest
// state (see OnPrimary).
type primaryKey struct{}

// OnPrimary marks ctx's reads as needing the primary database, not a read
// replica that may lag: reads tied to a change-log position (delta links),
// whose rows must be at least as recent as that position.
func OnPrimary(ctx context.Context) context.Context {
	return context.WithValue(ctx, primaryKey{}, true)
}

// IsOnPrimary reports whether ctx was marked with OnPrimary.
func IsOnPrimary(ctx context.Context) bool {
	b, _ := ctx.Value(primaryKey{}).(bool)
	return b
}

// CountColumn is the column an expansion's read (semantic.Query.Within with
// Count) adds after the others: the number of the parent's matching rows.
var CountColumn = &metadata.Property{Name: "@odata.count", Column: "odatagw_count", Type: metadata.Int64}

// RowNumberColumn is the column an expansion's read with Count and Skip
// adds after CountColumn: the row's number within its parent's rows (rows
// numbered Skip or less only carry the count).
var RowNumberColumn = &metadata.Property{Name: "@rn", Column: "odatagw_rn", Type: metadata.Int64}

// EmptyRows is the result of a read that cannot have rows ($top=0): no
// columns, no rows, and the count that was asked for.
type EmptyRows struct{ N Count }

func (EmptyRows) Columns() []*metadata.Property { return nil }
func (e EmptyRows) Count() Count                { return e.N }
func (EmptyRows) Next() bool                    { return false }
func (EmptyRows) Row() []edm.Value              { return nil }
func (EmptyRows) Err() error                    { return nil }
func (EmptyRows) Close() error                  { return nil }

var _ Rows = EmptyRows{}
