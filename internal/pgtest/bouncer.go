package pgtest

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BouncerBin finds the pgbouncer binary (PATH, /usr/sbin, /usr/bin).
func BouncerBin() (string, error) {
	if p, err := exec.LookPath("pgbouncer"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/bin/pgbouncer", "/usr/local/bin/pgbouncer"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no pgbouncer on PATH or in /usr/sbin (Debian/Ubuntu: apt-get install pgbouncer; `make test` installs it when it runs as root)")
}

// BouncerVersion is pgbouncer --version's first line (e.g. "PgBouncer 1.18.0").
func BouncerVersion(bin string) string {
	out, _ := exec.Command(bin, "--version").Output()
	line, _, _ := bytes.Cut(out, []byte("\n"))
	return string(line)
}

// Bouncer is a PgBouncer the test started in front of a PostgreSQL
// server, on a free loopback port, stopped when the test ends.
type Bouncer struct {
	Port int
	dir  string
	cmd  *exec.Cmd
	log  *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// StartBouncer starts PgBouncer with pool_mode mode in front of the server
// at host:port: every database name is passed through (a "*" entry), user
// postgres with trust authentication. settings are more lines of the
// [pgbouncer] section. It skips the test when pgbouncer is not installed,
// unless ODATAGW_REQUIRE_PGBOUNCER is set.
func StartBouncer(tb testing.TB, host string, port int, mode string, settings ...string) *Bouncer {
	tb.Helper()
	bin, err := BouncerBin()
	if err != nil {
		if os.Getenv("ODATAGW_REQUIRE_PGBOUNCER") != "" {
			tb.Fatalf("pgtest: %v", err)
		}
		tb.Skipf("pgtest: %v", err)
	}
	dir, err := os.MkdirTemp("", "odatagw-pgbouncer.")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	var cred *syscall.Credential
	if os.Geteuid() == 0 { // pgbouncer refuses to run as root
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
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := os.WriteFile(filepath.Join(dir, "users.txt"), []byte(`"postgres" ""`+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	b := &Bouncer{dir: dir, log: &lockedBuffer{}}
	for attempt := 0; ; attempt++ {
		b.Port = FreePort(tb)
		ini := fmt.Sprintf(`[databases]
* = host=%s port=%d

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = %s
max_client_conn = 200
default_pool_size = 4
`, host, port, b.Port, filepath.Join(dir, "users.txt"), mode)
		for _, s := range settings {
			ini += s + "\n"
		}
		path := filepath.Join(dir, "pgbouncer.ini")
		if err := os.WriteFile(path, []byte(ini), 0o644); err != nil {
			tb.Fatal(err)
		}
		b.cmd = exec.Command(bin, path)
		b.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		b.cmd.Stdout, b.cmd.Stderr = b.log, b.log
		if err := b.cmd.Start(); err != nil {
			tb.Fatalf("pgtest: start pgbouncer: %v", err)
		}
		exited := make(chan struct{})
		go func() { _ = b.cmd.Wait(); close(exited) }()
		if b.waitListening(exited) {
			tb.Cleanup(func() {
				_ = b.cmd.Process.Kill()
				<-exited
			})
			return b
		}
		_ = b.cmd.Process.Kill()
		<-exited
		if attempt == 2 {
			tb.Fatalf("pgtest: pgbouncer did not start:\n%s", b.log.String())
		}
	}
}

func (b *Bouncer) waitListening(exited chan struct{}) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", b.Port), time.Second); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// DSN is the address of database db through the bouncer.
func (b *Bouncer) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", b.Port, db)
}

// Log is what pgbouncer logged so far.
func (b *Bouncer) Log() string { return b.log.String() }
