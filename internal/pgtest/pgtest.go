// Package pgtest gives tests a real, empty PostgreSQL database.
//
// The server is found through ODATAGW_TEST_DSN, else postgres://postgres@127.0.0.1:5432/test.
// `make test` (scripts/with-postgres.sh) guarantees one: it starts a throwaway
// cluster with initdb/pg_ctl when none runs, and sets ODATAGW_REQUIRE_PG=1 so
// that an unreachable server fails the test instead of skipping it.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/lib/pq" // driver
)

// BaseDSN is the DSN of the server tests use (not of a test database).
func BaseDSN() string {
	if dsn := os.Getenv("ODATAGW_TEST_DSN"); dsn != "" {
		return dsn
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	reachOnce sync.Once
	reachErr  error
)

func reachable() error {
	reachOnce.Do(func() {
		db, err := sql.Open("postgres", BaseDSN())
		if err != nil {
			reachErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		reachErr = db.PingContext(ctx)
	})
	return reachErr
}

// NewDB creates a fresh database for the test, drops it when the test ends,
// and returns its DSN. It skips the test when no server is reachable, unless
// ODATAGW_REQUIRE_PG is set (as `make test` does), in which case it fails.
func NewDB(tb testing.TB) string {
	tb.Helper()
	if err := reachable(); err != nil {
		if os.Getenv("ODATAGW_REQUIRE_PG") != "" {
			tb.Fatalf("pgtest: PostgreSQL at %s unreachable: %v", redact(BaseDSN()), err)
		}
		tb.Skipf("pgtest: no PostgreSQL (set ODATAGW_TEST_DSN or run make test): %v", err)
	}
	admin, err := sql.Open("postgres", BaseDSN())
	if err != nil {
		tb.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "odatagw_t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		admin.Close()
		tb.Fatalf("pgtest: create database: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	return WithDatabase(BaseDSN(), name)
}

// WithDatabase returns dsn with its database name replaced.
func WithDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		// key=value form
		return dsn + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}

// MustExec runs SQL statements against dsn, failing the test on error.
func MustExec(tb testing.TB, dsn string, stmts ...string) {
	tb.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			tb.Fatalf("pgtest: %v\n%s", err, s)
		}
	}
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
