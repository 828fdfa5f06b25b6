package pgtest

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
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
	p, err := Port()
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// Port is FreePort without a test.
func Port() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// newCluster prepares an empty temp dir owned by the user the server runs as.
func newCluster(tb testing.TB) *Cluster {
	tb.Helper()
	c, err := prepare()
	if err != nil {
		if errors.Is(err, errNoBin) && os.Getenv("ODATAGW_REQUIRE_PG") == "" {
			tb.Skipf("pgtest: %v", err)
		}
		tb.Fatalf("pgtest: %v", err)
	}
	c.tb = tb
	tb.Cleanup(c.Remove)
	return c
}

var errNoBin = errors.New("no PostgreSQL server binaries")

// prepare finds the binaries and makes the cluster's temp dir, owned by the
// user the server will run as (initdb refuses root: as root, postgres or
// nobody).
func prepare() (*Cluster, error) {
	bin, err := Bin()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errNoBin, err)
	}
	dir, err := os.MkdirTemp("", "odatagw-cluster.")
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		name := "postgres"
		u, err := user.Lookup(name)
		if err != nil {
			name = "nobody"
			if u, err = user.Lookup(name); err != nil {
				_ = os.RemoveAll(dir)
				return nil, fmt.Errorf("running as root, and no postgres or nobody user: %v", err)
			}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			_ = os.RemoveAll(dir)
			return nil, err
		}
		c.as = []string{"runuser", "-u", name, "--"}
	}
	return c, nil
}

func (c *Cluster) initdb() error {
	if out, err := c.run("initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return nil
}

// StartCluster initdb's and starts a throwaway cluster without a test to
// own it (the fault harness): opts are extra server options
// ("-c max_connections=300"). The caller removes it (Remove).
func StartCluster(opts string) (*Cluster, error) {
	c, err := prepare()
	if err != nil {
		return nil, err
	}
	if err := c.initdb(); err != nil {
		c.Remove()
		return nil, err
	}
	if err := c.startErr(opts); err != nil {
		c.Remove()
		return nil, err
	}
	return c, nil
}

// StartPrimary initdb's and starts a cluster that streaming replicas can
// be taken from (wal_level=replica, trusted replication on loopback).
func StartPrimary(tb testing.TB) *Cluster {
	tb.Helper()
	c := newCluster(tb)
	if err := c.initdb(); err != nil {
		tb.Fatalf("pgtest: %v", err)
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
// takes the port between choosing it and the bind).
func (c *Cluster) start(opts string) {
	c.tb.Helper()
	if err := c.startErr(opts); err != nil {
		c.tb.Fatalf("pgtest: %v", err)
	}
}

func (c *Cluster) startErr(opts string) error {
	var out []byte
	var err error
	for range 3 {
		if c.Port, err = Port(); err != nil {
			return err
		}
		o := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100 %s", c.Port, c.dir, opts)
		if out, err = c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "pg.log"), "-w", "-t", "60", "-o", o, "start"); err == nil {
			return nil
		}
	}
	return fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, c.Log())
}

// Stop stops the server (fast shutdown); Restart starts it again on the
// same port.
func (c *Cluster) Stop() {
	c.tb.Helper()
	if out, err := c.run("pg_ctl", "-D", c.data(), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		c.tb.Fatalf("pgtest: pg_ctl stop: %v\n%s", err, out)
	}
}

// RestartMode restarts a running server: mode "fast" (clean shutdown,
// sessions terminated) or "immediate" (a crash: no checkpoint, recovery on
// start).
func (c *Cluster) RestartMode(mode string) error {
	out, err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "pg.log"), "-w", "-t", "120", "-m", mode, "restart")
	if err != nil {
		return fmt.Errorf("pg_ctl restart -m %s: %v\n%s", mode, err, out)
	}
	return nil
}

// Addr is the server's host:port.
func (c *Cluster) Addr() string { return fmt.Sprintf("127.0.0.1:%d", c.Port) }

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

// Remove stops the server (immediately) and deletes its directory (done
// by the test's cleanup for clusters a test started).
func (c *Cluster) Remove() {
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
