package sqlexec

import (
	"context"
	"database/sql"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/odata/semantic"
)

// Atomic implements adapters.Adapter: fn's writes share one transaction.
func (b *Backend) Atomic(ctx context.Context, checked bool, fn func(w adapters.Writer) error) error {
	return b.inTx(ctx, checked, func(tx *sql.Tx) error {
		return fn(txWriter{b: b, tx: tx})
	})
}

// txWriter writes inside one transaction of Atomic. Its errors are
// classified (they reach handlers) and keep their cause, so that inTx still
// sees a serialization failure or a lost connection and retries.
type txWriter struct {
	b  *Backend
	tx *sql.Tx
}

// Query reads inside the transaction: the change set's own writes are
// visible (adapters.Reader). The rows must be closed before the next
// statement of the change set.
func (t txWriter) Query(ctx context.Context, q *semantic.Query, limit int64) (adapters.Rows, error) {
	return t.b.query(ctx, t.tx, q, limit)
}

func (t txWriter) Insert(ctx context.Context, w *adapters.Write) (adapters.Row, error) {
	row, err := t.b.insert(ctx, t.tx, w)
	return row, t.b.classify(err)
}

func (t txWriter) Update(ctx context.Context, w *adapters.Write) (adapters.Row, error) {
	row, err := t.b.update(ctx, t.tx, w)
	return row, t.b.classify(err)
}

func (t txWriter) Delete(ctx context.Context, w *adapters.Write) error {
	return t.b.classify(t.b.delete(ctx, t.tx, w))
}
