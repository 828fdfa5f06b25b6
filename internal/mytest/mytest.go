// Package mytest gives tests a real, empty MySQL/MariaDB database.
//
// The server is found through ODATAGW_TEST_MYSQL_DSN, else
// mysql://root@127.0.0.1:3306/test. `make test` (scripts/with-mariadb.sh)
// guarantees one: it starts a throwaway MariaDB (mariadb-install-db +
// mariadbd in a temp dir, on a free port) when none answers, and sets
// ODATAGW_REQUIRE_MYSQL=1 so that an unreachable server fails the test
// instead of skipping it.
package mytest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql" // driver "mysql"
)

// BaseDSN is the URL of the server tests use (mysql://…, the gateway's form).
func BaseDSN() string {
	if dsn := os.Getenv("ODATAGW_TEST_MYSQL_DSN"); dsn != "" {
		return dsn
	}
	return "mysql://root@127.0.0.1:3306/test"
}

// DriverDSN turns a mysql:// URL into go-sql-driver's DSN form, with
// multiStatements on (for fixtures) and the session the gateway pins
// (ANSI_QUOTES, strict, UTC).
func DriverDSN(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	user := ""
	if p.User != nil {
		user = p.User.Username()
		if pw, ok := p.User.Password(); ok {
			user += ":" + pw
		}
		user += "@"
	}
	host := p.Host
	if host == "" {
		host = "127.0.0.1:3306"
	}
	q := url.Values{}
	q.Set("multiStatements", "true")
	q.Set("parseTime", "true")
	q.Set("charset", "utf8mb4")
	q.Set("time_zone", "'+00:00'")
	q.Set("sql_mode", "'STRICT_ALL_TABLES,ANSI_QUOTES,NO_BACKSLASH_ESCAPES,NO_UNSIGNED_SUBTRACTION,NO_ENGINE_SUBSTITUTION'")
	return user + "tcp(" + host + ")" + p.Path + "?" + q.Encode()
}

var (
	reachOnce sync.Once
	reachErr  error
)

func reachable() error {
	reachOnce.Do(func() {
		db, err := sql.Open("mysql", DriverDSN(WithDatabase(BaseDSN(), "")))
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

// NewDB creates a fresh database (utf8mb4) for the test, drops it when the
// test ends, and returns its mysql:// URL. It skips the test when no
// server is reachable, unless ODATAGW_REQUIRE_MYSQL is set (as `make test`
// does), in which case it fails.
func NewDB(tb testing.TB) string {
	tb.Helper()
	if err := reachable(); err != nil {
		if os.Getenv("ODATAGW_REQUIRE_MYSQL") != "" {
			tb.Fatalf("mytest: MySQL/MariaDB at %s unreachable: %v", redact(BaseDSN()), err)
		}
		tb.Skipf("mytest: no MySQL/MariaDB (set ODATAGW_TEST_MYSQL_DSN or run make test): %v", err)
	}
	admin, err := sql.Open("mysql", DriverDSN(WithDatabase(BaseDSN(), "")))
	if err != nil {
		tb.Fatal(err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "odatagw_t_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"); err != nil {
		admin.Close()
		tb.Fatalf("mytest: create database: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name)
	})
	return WithDatabase(BaseDSN(), name)
}

// WithDatabase returns the URL with its database replaced.
func WithDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn
	}
	u.Path = "/" + name
	return u.String()
}

// Open opens dsn (a mysql:// URL) with the test session (see DriverDSN).
func Open(tb testing.TB, dsn string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("mysql", DriverDSN(dsn))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// MustExec runs SQL scripts (several statements each) against dsn.
func MustExec(tb testing.TB, dsn string, scripts ...string) {
	tb.Helper()
	db, err := sql.Open("mysql", DriverDSN(dsn))
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	for _, s := range scripts {
		if strings.TrimSpace(s) == "" {
			continue
		}
		if _, err := db.Exec(s); err != nil {
			tb.Fatalf("mytest: %v\n%s", err, s)
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
