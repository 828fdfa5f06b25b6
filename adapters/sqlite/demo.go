package sqlite

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // driver "sqlite"
)

// Demo data sizes (order lines vary per order: 1 to 5, about 3 on average).
const (
	DemoCustomers = 1000
	DemoProducts  = 200
	DemoOrders    = 10000
)

// DemoQuoteCustomerID is the demo customer whose key contains a quote.
const DemoQuoteCustomerID = "C'QUOTE1"

// demoSchema is the demo ERP schema, written in the storage conventions that
// Introspect documents (declared types drive the Edm mapping).
const demoSchema = `
CREATE TABLE customers (
  customer_id  VARCHAR(10)   NOT NULL PRIMARY KEY,
  name         VARCHAR(100)  NOT NULL,
  city         VARCHAR(60),
  country      CHAR(2)       NOT NULL,
  email        VARCHAR(120),
  created_at   TIMESTAMP     NOT NULL,
  credit_limit NUMERIC(12,2) NOT NULL DEFAULT 0,
  active       BOOLEAN       NOT NULL DEFAULT 1
);
CREATE TABLE products (
  product_id   INTEGER       PRIMARY KEY,
  sku          VARCHAR(20)   NOT NULL UNIQUE,
  name         VARCHAR(100)  NOT NULL,
  category     VARCHAR(40)   NOT NULL,
  unit_price   NUMERIC(10,2) NOT NULL,
  discontinued BOOLEAN       NOT NULL DEFAULT 0
);
CREATE TABLE orders (
  order_id     INTEGER       PRIMARY KEY,
  customer_id  VARCHAR(10)   NOT NULL REFERENCES customers (customer_id),
  order_date   DATE          NOT NULL,
  status       VARCHAR(20)   NOT NULL DEFAULT 'Draft',
  total        NUMERIC(14,2) NOT NULL DEFAULT 0,
  shipped_at   TIMESTAMP,
  notes        VARCHAR(200)
);
CREATE TABLE order_lines (
  order_id     BIGINT        NOT NULL REFERENCES orders (order_id),
  line_no      SMALLINT      NOT NULL,
  product_id   BIGINT        NOT NULL REFERENCES products (product_id),
  quantity     INTEGER       NOT NULL,
  unit_price   NUMERIC(10,2) NOT NULL,
  PRIMARY KEY (order_id, line_no)
);
CREATE INDEX orders_customer_id ON orders (customer_id);
CREATE INDEX orders_order_date ON orders (order_date);
CREATE INDEX order_lines_product_id ON order_lines (product_id);
`

// CreateDemo creates the demo ERP database at path unless a file already
// exists there (then it does nothing and returns nil; the file is not
// checked). The database is built in a temporary file in the same directory
// and renamed into place only when complete, so a crash never leaves a
// half-built database at path.
//
// The content is deterministic (fixed-seed generator, no clock): DemoCustomers
// customers (C0000001…, plus DemoQuoteCustomerID), DemoProducts products,
// DemoOrders orders and about three lines per order; it includes the city
// "O'Fallon", non-ASCII names (São Paulo, Zürich) and NULLs. Timestamps are
// stored as TEXT "YYYY-MM-DDTHH:MM:SS.ffffffZ", dates as "YYYY-MM-DD",
// booleans as 0/1 and decimals with NUMERIC affinity.
func CreateDemo(ctx context.Context, path string) (err error) {
	if _, err := os.Stat(path); err == nil {
		return nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("demo database: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("demo database: %w", err)
	}
	tmp := f.Name()
	f.Close()
	defer func() {
		if err != nil {
			os.Remove(tmp)
			os.Remove(tmp + "-journal")
		}
	}()

	if err := demoBuild(ctx, tmp); err != nil {
		return fmt.Errorf("demo database: %w", err)
	}
	// The build ran with synchronous=OFF: flush before publishing the file.
	if f, err = os.OpenFile(tmp, os.O_RDWR, 0); err != nil {
		return fmt.Errorf("demo database: %w", err)
	}
	serr := f.Sync()
	if cerr := f.Close(); serr == nil {
		serr = cerr
	}
	if serr != nil {
		return fmt.Errorf("demo database: %w", serr)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("demo database: %w", err)
	}
	return nil
}

func demoBuild(ctx context.Context, file string) error {
	db, err := sqlx.Open("sqlite", file)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// The file is private until renamed: no journal, no fsync per commit.
	for _, p := range []string{"PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF", "PRAGMA foreign_keys = ON"} {
		if _, err := db.ExecContext(ctx, p); err != nil {
			return err
		}
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // no-op after Commit
	if _, err := tx.ExecContext(ctx, demoSchema); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	if err := demoInsert(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "ANALYZE")
	return err
}

// demoRand is SplitMix64: tiny, fast and fixed forever, so that the demo
// content never changes with the Go version.
type demoRand uint64

func (r *demoRand) next() uint64 {
	*r += 0x9e3779b97f4a7c15
	z := uint64(*r)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n).
func (r *demoRand) intn(n int) int { return int(r.next() % uint64(n)) }

var (
	demoCities = []struct{ city, country string }{
		{"Berlin", "DE"}, {"Paris", "FR"}, {"Tokyo", "JP"}, {"São Paulo", "BR"},
		{"Zürich", "CH"}, {"New York", "US"}, {"Lagos", "NG"}, {"Mumbai", "IN"},
		{"Sydney", "AU"}, {"Toronto", "CA"}, {"O'Fallon", "US"}, {"Kraków", "PL"},
	}
	demoCompanies = []string{"Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne",
		"Hooli", "Vandelay", "Müller & Söhne", "Søren's", "Café Olé", "Tyrell"}
	demoForms      = []string{"Corp", "GmbH", "Ltd", "S.A.", "Inc", "KK", "BV", "AG"}
	demoCategories = []string{"Hardware", "Software", "Services", "Spare Parts", "Consumables"}
	demoAdjectives = []string{"Compact", "Heavy-Duty", "Smart", "Classic", "Eco", "Pro", "Ultra", "Mini"}
	demoNouns      = []string{"Drill", "Router", "Licence", "Valve", "Sensor", "Cable", "Pump", "Filter", "Gear", "Panel"}
	demoStatuses   = []string{"Draft", "Open", "Shipped", "Invoiced", "Cancelled"}
	demoEpoch      = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	demoOrderEpoch = time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC)
)

const (
	demoTimestamp = "2006-01-02T15:04:05.000000Z"
	demoDate      = "2006-01-02"
)

func demoCents(c int64) float64 { return float64(c) / 100 }

func demoBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

func demoInsert(ctx context.Context, tx *sqlx.Tx) error {
	r := demoRand(20240611)

	insC, err := tx.PrepareContext(ctx, `INSERT INTO customers
		(customer_id, name, city, country, email, created_at, credit_limit, active) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insC.Close()
	customerIDs := make([]string, 0, DemoCustomers)
	for i := 1; i <= DemoCustomers; i++ {
		id := fmt.Sprintf("C%07d", i)
		name := fmt.Sprintf("%s %s %d", demoCompanies[r.intn(len(demoCompanies))], demoForms[r.intn(len(demoForms))], i)
		loc := demoCities[r.intn(len(demoCities))]
		city := any(loc.city)
		email := any(fmt.Sprintf("buyer%d@example.com", i))
		switch {
		case i == 2:
			loc = demoCities[10] // O'Fallon, always present
			city = loc.city
		case i == DemoCustomers:
			id, name = DemoQuoteCustomerID, "Quote's Customer"
		}
		if i%13 == 0 {
			email = nil
		}
		if i%29 == 0 {
			city = nil
		}
		created := demoEpoch.Add(time.Duration(i) * (47*time.Minute + 13*time.Second + 123456*time.Microsecond))
		_, err := insC.ExecContext(ctx, id, name, city, loc.country, email,
			created.Format(demoTimestamp), demoCents(int64(r.intn(10_000_000))), demoBool(i%17 != 0))
		if err != nil {
			return fmt.Errorf("customers: %w", err)
		}
		customerIDs = append(customerIDs, id)
	}

	insP, err := tx.PrepareContext(ctx, `INSERT INTO products
		(product_id, sku, name, category, unit_price, discontinued) VALUES (?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insP.Close()
	prices := make([]int64, DemoProducts+1)
	for i := 1; i <= DemoProducts; i++ {
		prices[i] = 100 + int64(r.intn(99_900))
		name := fmt.Sprintf("%s %s %d", demoAdjectives[r.intn(len(demoAdjectives))], demoNouns[r.intn(len(demoNouns))], i)
		_, err := insP.ExecContext(ctx, i, fmt.Sprintf("SKU-%06d", i), name,
			demoCategories[r.intn(len(demoCategories))], demoCents(prices[i]), demoBool(i%23 == 0))
		if err != nil {
			return fmt.Errorf("products: %w", err)
		}
	}

	insO, err := tx.PrepareContext(ctx, `INSERT INTO orders
		(order_id, customer_id, order_date, status, total, shipped_at, notes) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insO.Close()
	insL, err := tx.PrepareContext(ctx, `INSERT INTO order_lines
		(order_id, line_no, product_id, quantity, unit_price) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insL.Close()
	type line struct {
		product, qty int
	}
	var lines []line
	for o := 1; o <= DemoOrders; o++ {
		cust := customerIDs[r.intn(len(customerIDs))]
		if o%997 == 0 {
			cust = DemoQuoteCustomerID
		}
		date := demoOrderEpoch.AddDate(0, 0, r.intn(2900))
		status := demoStatuses[r.intn(len(demoStatuses))]
		lines = lines[:0]
		var total int64
		for n := 1 + r.intn(5); n > 0; n-- {
			l := line{product: 1 + r.intn(DemoProducts), qty: 1 + r.intn(20)}
			total += prices[l.product] * int64(l.qty)
			lines = append(lines, l)
		}
		var shipped, notes any
		if status == "Shipped" || status == "Invoiced" {
			shipped = date.Add(time.Duration(8+r.intn(72))*time.Hour + time.Duration(r.intn(3600_000_000))*time.Microsecond).Format(demoTimestamp)
		}
		switch {
		case o%9 == 0:
			notes = "Rush order; call before delivery"
		case o%50 == 1:
			notes = "Lieferung über Zürich – bitte „vorsichtig“ behandeln"
		case o%77 == 0:
			notes = "Customer said: \"it's 50% off\" (C:\\path_with_underscore)"
		}
		if _, err := insO.ExecContext(ctx, o, cust, date.Format(demoDate), status, demoCents(total), shipped, notes); err != nil {
			return fmt.Errorf("orders: %w", err)
		}
		for i, l := range lines {
			if _, err := insL.ExecContext(ctx, o, i+1, l.product, l.qty, demoCents(prices[l.product])); err != nil {
				return fmt.Errorf("order_lines: %w", err)
			}
		}
	}
	return nil
}
