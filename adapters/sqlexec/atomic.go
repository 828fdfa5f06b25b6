package sqlexec

import (
	"context"
	"database/sql"

	"github.com/odatagw/odatagw/adapters"
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
