package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"testing"
	"time"
)

// Cluster is a throwaway PostgreSQL server the test started itself (initdb
// or pg_basebackup in a temp dir, on a free loopback port), stopped and
// removed when the test ends. Tests that need what the shared server may
// not allow (replication, stopping it) use one.
type Cluster struct {
	Port int
	dir  string   // temp dir: data/, the socket, the log
	bin  string   // directory of initdb, pg_ctl, pg_basebackup
	as   []string // runuser prefix when running as root (initdb refuses root)
	tb   testing.TB
}

// Bin finds the PostgreSQL server binaries: initdb on PATH (symlinks
// resolved), else the newest /usr/lib/postgresql/*/bin.
func Bin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if _, err := os.Stat(filepath.Join(filepath.Dir(real), "pg_ctl")); err == nil {
				return filepath.Dir(real), nil
			}
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d, nil
		}
	}
	return "", fmt.Errorf("no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin")
}

// FreePort is a loopback TCP port free at the time of the call.
func FreePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newCluster prepares an empty temp dir owned by the user the server runs as.
func newCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin, err := Bin()
	if err != nil {
		if os.Getenv("ODATAGW_REQUIRE_PG") != "" {
			tb.Fatalf("pgtest: %v", err)
		}
		tb.Skipf("pgtest: %v", err)
	}
	dir, err := os.MkdirTemp("", "odatagw-cluster.")
	if err != nil {
		tb.Fatal(err)
	}
	c := &Cluster{bin: bin, dir: dir, tb: tb}
	if os.Geteuid() == 0 {
		name := "postgres"
		u, err := user.Lookup(name)
		if err != nil {
			name = "nobody"
			if u, err = user.Lookup(name); err != nil {
				tb.Fatalf("pgtest: running as root, and no postgres or nobody user: %v", err)
			}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			tb.Fatal(err)
		}
		c.as = []string{"runuser", "-u", name, "--"}
	}
	tb.Cleanup(c.remove)
	return c
}

// StartPrimary initdb's and starts a cluster that streaming replicas can
// be taken from (wal_level=replica, trusted replication on loopback).
func StartPrimary(tb testing.TB) *Cluster {
	tb.Helper()
	c := newCluster(tb)
	if out, err := c.run("initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"); err != nil {
		tb.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	hba := "host replication postgres 127.0.0.1/32 trust\n"
	f, err := os.OpenFile(filepath.Join(c.data(), "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		tb.Fatal(err)
	}
	_, err = f.WriteString(hba)
	f.Close()
	if err != nil {
		tb.Fatal(err)
	}
	c.start("-c wal_level=replica -c max_wal_senders=5")
	return c
}

// StartStandby takes a base backup of primary (pg_basebackup -R: the copy
// streams from primary once started) and starts it as a hot standby.
func (primary *Cluster) StartStandby(tb testing.TB) *Cluster {
	tb.Helper()
	c := newCluster(tb)
	if out, err := c.run("pg_basebackup", "-R", "-X", "stream", "-c", "fast", "-D", c.data(),
		"-h", "127.0.0.1", "-p", strconv.Itoa(primary.Port), "-U", "postgres"); err != nil {
		tb.Fatalf("pgtest: pg_basebackup: %v\n%s", err, out)
	}
	c.start("-c hot_standby=on -c hot_standby_feedback=on -c wal_receiver_status_interval=1s")
	return c
}

// start starts the server on a free port (retrying when another process
// takes the port between FreePort and the bind).
func (c *Cluster) start(opts string) {
	c.tb.Helper()
	var out []byte
	var err error
	for range 3 {
		c.Port = FreePort(c.tb)
		o := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100 %s", c.Port, c.dir, opts)
		if out, err = c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "pg.log"), "-w", "-t", "60", "-o", o, "start"); err == nil {
			return
		}
	}
	log, _ := os.ReadFile(filepath.Join(c.dir, "pg.log"))
	c.tb.Fatalf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, log)
}

// Stop stops the server (fast shutdown); Restart starts it again on the
// same port.
func (c *Cluster) Stop() {
	c.tb.Helper()
	if out, err := c.run("pg_ctl", "-D", c.data(), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		c.tb.Fatalf("pgtest: pg_ctl stop: %v\n%s", err, out)
	}
}

// Restart starts a stopped server again on its port.
func (c *Cluster) Restart() {
	c.tb.Helper()
	o := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", c.Port, c.dir)
	if out, err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "pg.log"), "-w", "-t", "60", "-o", o, "start"); err != nil {
		c.tb.Fatalf("pgtest: pg_ctl start: %v\n%s", err, out)
	}
}

// DSN is the address of database db on the cluster.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// Log is the server's log so far.
func (c *Cluster) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.dir, "pg.log"))
	return string(b)
}

func (c *Cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) run(tool string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, c.as...), filepath.Join(c.bin, tool)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// remove stops the server (immediately) and deletes its directory.
func (c *Cluster) remove() {
	if _, err := os.Stat(filepath.Join(c.data(), "postmaster.pid")); err == nil {
		_, _ = c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
	}
	_ = os.RemoveAll(c.dir)
}

// WaitReplay waits until standby has replayed everything primary has
// written so far.
func WaitReplay(tb testing.TB, primary, standby string) {
	tb.Helper()
	p, err := sql.Open("postgres", primary)
	if err != nil {
		tb.Fatal(err)
	}
	defer p.Close()
	s, err := sql.Open("postgres", standby)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	var lsn string
	if err := p.QueryRow(`SELECT pg_current_wal_insert_lsn()::text`).Scan(&lsn); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		var done bool
		err := s.QueryRowContext(ctx, `SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn`, lsn).Scan(&done)
		if err == nil && done {
			return
		}
		if ctx.Err() != nil {
			tb.Fatalf("pgtest: standby did not replay up to %s: %v", lsn, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
