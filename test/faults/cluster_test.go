//go:build faults

package faults

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
	"time"

	_ "github.com/lib/pq" // driver
)

// cluster is a throwaway PostgreSQL cluster (initdb in a temp dir, on a
// free loopback port), the way scripts/with-postgres.sh makes one when no
// server runs, but owned by the harness so that it can restart and crash it.
type cluster struct {
	bin  string   // directory of initdb, pg_ctl
	dir  string   // temp dir: data/, pg.log, the socket
	port int      // loopback port
	as   []string // runuser prefix when running as root (initdb refuses root)
}

// pgBin finds initdb and pg_ctl: on PATH (symlinks resolved), else the
// newest /usr/lib/postgresql/*/bin.
func pgBin() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			if real, err := filepath.EvalSymlinks(p); err == nil {
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

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startCluster() (*cluster, error) {
	bin, err := pgBin()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "odatagw-faults-pg.")
	if err != nil {
		return nil, err
	}
	c := &cluster{bin: bin, dir: dir}
	if os.Geteuid() == 0 {
		name := "postgres"
		u, err := user.Lookup(name)
		if err != nil {
			name = "nobody"
			if u, err = user.Lookup(name); err != nil {
				return nil, fmt.Errorf("running as root, and no postgres or nobody user: %v", err)
			}
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
		c.as = []string{"runuser", "-u", name, "--"}
	}
	if c.port, err = freePort(); err != nil {
		return nil, err
	}
	if out, err := c.run("initdb", "-D", c.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"); err != nil {
		c.remove()
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	// fsync=off: the faults are process crashes (the kernel keeps what was
	// written), not power losses; it spares the shared machine's disk.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300", c.port, dir)
	if out, err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(dir, "pg.log"), "-w", "-t", "60", "-o", opts, "start"); err != nil {
		c.remove()
		return nil, fmt.Errorf("pg_ctl start: %v\n%s", err, out)
	}
	return c, nil
}

func (c *cluster) data() string { return filepath.Join(c.dir, "data") }

func (c *cluster) run(tool string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, c.as...), filepath.Join(c.bin, tool)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// restart restarts the server: mode "fast" (clean shutdown, sessions
// terminated) or "immediate" (a crash: no checkpoint, recovery on start).
func (c *cluster) restart(mode string) error {
	out, err := c.run("pg_ctl", "-D", c.data(), "-l", filepath.Join(c.dir, "pg.log"), "-w", "-t", "120", "-m", mode, "restart")
	if err != nil {
		return fmt.Errorf("pg_ctl restart -m %s: %v\n%s", mode, err, out)
	}
	return nil
}

// remove stops the server (immediately) and deletes the cluster.
func (c *cluster) remove() {
	_, _ = c.run("pg_ctl", "-D", c.data(), "-m", "immediate", "-w", "stop")
	_ = os.RemoveAll(c.dir)
}

// dsn is the address of database db on the cluster, direct (no proxy).
func (c *cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

func (c *cluster) addr() string { return fmt.Sprintf("127.0.0.1:%d", c.port) }

// admin opens a direct pool on db for the harness's own queries (not named
// odatagw, so that terminating the gateway's sessions spares it).
func (c *cluster) admin(db string) (*sql.DB, error) {
	pool, err := sql.Open("postgres", c.dsn(db)+"&application_name=faults-harness")
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return pool, pool.PingContext(ctx)
}

// execRetry runs a statement on db, retrying any failure (the server may
// be restarting) until limit has passed.
func execRetry(db *sql.DB, limit time.Duration, query string, args ...any) error {
	deadline := time.Now().Add(limit)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), limit)
		_, err := db.ExecContext(ctx, query, args...)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
