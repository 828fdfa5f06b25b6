package test

import (
	"io"
	"net/http"
	"testing"

	"github.com/odatagw/odatagw/internal/pgtest"
)

// BenchmarkReadPage measures the gateway end to end (HTTP, SQL on a real
// PostgreSQL, streaming JSON) for W1 of the load benchmark: a 2,000-row page
// of orders with 5 columns, filtered and ordered. Run with -cpuprofile to see
// where the time goes; rows/s is reported, and cpu-ns/op: the CPU time of
// this process (the gateway and the HTTP client, not PostgreSQL) per page.
func BenchmarkReadPage(b *testing.B) {
	dsn := pgtest.NewDB(b)
	pgtest.MustExec(b, dsn, `
CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id text NOT NULL, order_date date NOT NULL,
  status text NOT NULL, total numeric(14,2) NOT NULL, shipped_at timestamptz, notes text);
INSERT INTO orders SELECT i, 'C' || lpad((i % 100000)::text, 7, '0'), date '2018-01-01' + (i % 2900),
  (ARRAY['Draft','Open','Shipped','Invoiced','Cancelled'])[1 + i % 5], round((i % 20000)::numeric / 7, 2),
  NULL, NULL FROM generate_series(1, 100000) AS i;
ANALYZE orders;`)
	c := baseConfig(dsn)
	c.LogLevel = "warn"
	g := start(b, c)
	url := g.base + "/odata/orders?$select=order_id,customer_id,order_date,status,total&$filter=status%20eq%20'Open'&$orderby=order_id"
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n < 100000 {
			b.Fatalf("status %d, %d bytes", resp.StatusCode, n)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N*2000)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkKeyLookup measures W2 of the load benchmark in process: one
// entity by key over HTTP from a real PostgreSQL (run with -cpuprofile).
func BenchmarkKeyLookup(b *testing.B) {
	dsn := pgtest.NewDB(b)
	pgtest.MustExec(b, dsn, `
CREATE TABLE customers (customer_id text PRIMARY KEY, name text NOT NULL, city text, country char(2) NOT NULL,
  email text, created_at timestamptz NOT NULL, credit_limit numeric(12,2) NOT NULL, active boolean NOT NULL);
INSERT INTO customers SELECT 'C' || lpad(i::text, 7, '0'), 'Name ' || i, 'City', 'DE', 'x@example.com', now(), 12.5, true
FROM generate_series(1, 20000) AS i;`)
	c := baseConfig(dsn)
	c.LogLevel = "info"
	g := start(b, c)
	url := g.base + "/odata/customers('C0012345')"
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		resp, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}
