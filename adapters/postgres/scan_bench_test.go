package postgres

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

// BenchmarkScanRows reads 2,000 rows of W1's column types (bigint, text,
// date, text, numeric) through database/sql and lib/pq into edm.Values with
// the adapter's scanner: the row path below the JSON writer. cpu-ns/op is
// this process's CPU per 2,000 rows (PostgreSQL's excluded).
func BenchmarkScanRows(b *testing.B) {
	dsn := pgtest.NewDB(b)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	cols := []*metadata.Property{{Name: "order_id", Type: metadata.Int64}, {Name: "customer_id", Type: metadata.String},
		{Name: "order_date", Type: metadata.Date}, {Name: "status", Type: metadata.String}, {Name: "total", Type: metadata.Decimal}}
	const q = `SELECT g::int8, 'C' || lpad((g % 100000)::text, 7, '0'), date '2018-01-01' + g % 2900, 'Open',
  round((g % 20000)::numeric / 7, 2) FROM generate_series(1, 2000) g`
	ctx := context.Background()
	vals := make([]edm.Value, len(cols))
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		sc := newScanner(cols, time.UTC)
		n := 0
		for rows.Next() {
			if err := rows.Scan(sc.Dest()...); err != nil {
				b.Fatal(err)
			}
			if err := sc.Convert(vals); err != nil {
				b.Fatal(err)
			}
			n++
		}
		if err := rows.Err(); err != nil || n != 2000 {
			b.Fatalf("%d rows, %v", n, err)
		}
		rows.Close()
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
