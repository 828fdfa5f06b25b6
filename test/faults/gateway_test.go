//go:build faults

package faults

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/odatagw/odatagw/internal/pgtest"
)

// gateway is the odatagw binary run as a subprocess, so that SIGTERM and
// SIGKILL are real.
type gateway struct {
	bin    string // the built binary
	config string // its YAML configuration
	log    string // stdout and stderr, appended across restarts
	addr   string // host:port, the same across restarts
	drain  time.Duration
	cmd    *exec.Cmd
	exited chan error
}

// buildGateway builds ./cmd/odatagw into dir.
func buildGateway(dir string) (string, error) {
	bin := filepath.Join(dir, "odatagw")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/odatagw")
	cmd.Dir = repoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

func repoRoot() string {
	wd, _ := os.Getwd()
	return filepath.Join(wd, "..", "..")
}

// newGateway writes the configuration: the defaults the issue measured,
// except the per-principal rate limit (every load client is the same
// anonymous principal) and the drain period.
func newGateway(dir, bin, dsn string, drain time.Duration) (*gateway, error) {
	port, err := pgtest.Port()
	if err != nil {
		return nil, err
	}
	g := &gateway{bin: bin, addr: fmt.Sprintf("127.0.0.1:%d", port), drain: drain,
		config: filepath.Join(dir, "odatagw.yaml"), log: filepath.Join(dir, "odatagw.log")}
	return g, g.configure(dsn)
}

// configure (re)writes the configuration with database dsn; it applies at
// the next start.
func (g *gateway) configure(dsn string) error {
	yaml := fmt.Sprintf(`listen: %q
db: %q
schemas: [public]
token_key: faults-harness-token-key-0123456789
log_level: %s
log_format: json
shutdown_timeout: %s
guard:
  rate_per_second: -1
`, g.addr, dsn, cmp.Or(os.Getenv("FAULTS_LOG_LEVEL"), "warn"), g.drain)
	return os.WriteFile(g.config, []byte(yaml), 0o600)
}

func (g *gateway) base() string { return "http://" + g.addr }

// start runs the binary and waits until it is ready.
func (g *gateway) start() error {
	logf, err := os.OpenFile(g.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	g.cmd = exec.Command(g.bin, "serve", "--config", g.config)
	g.cmd.Stdout, g.cmd.Stderr = logf, logf
	if err := g.cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	g.exited = make(chan error, 1)
	go func(cmd *exec.Cmd) {
		g.exited <- cmd.Wait()
		logf.Close()
	}(g.cmd)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-g.exited:
			return fmt.Errorf("gateway exited at start: %v (log %s)", err, g.log)
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", g.base()+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Leave the goroutines' stacks in the log (SIGQUIT) for the post-mortem.
	_, _, _ = g.signal(syscall.SIGQUIT, 10*time.Second)
	return fmt.Errorf("gateway not ready after 60 s (goroutine dump in %s)", g.log)
}

func (g *gateway) pid() int { return g.cmd.Process.Pid }

// signal sends sig and waits up to limit for the process to exit; it
// returns how long the exit took, whether it exited, and its exit error.
func (g *gateway) signal(sig syscall.Signal, limit time.Duration) (time.Duration, bool, error) {
	start := time.Now()
	_ = g.cmd.Process.Signal(sig)
	select {
	case err := <-g.exited:
		return time.Since(start), true, err
	case <-time.After(limit):
		return time.Since(start), false, nil
	}
}

// stop ends the gateway for good (SIGKILL if it does not stop in time).
func (g *gateway) stop() {
	if g.cmd == nil || g.cmd.Process == nil {
		return
	}
	if _, ok, _ := g.signal(syscall.SIGTERM, 40*time.Second); !ok {
		_, _, _ = g.signal(syscall.SIGKILL, 10*time.Second)
	}
}

// status reads a field of /proc/PID/status in kB (VmHWM, VmRSS).
func procStatusKB(pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}

// resetPeakRSS resets the process's VmHWM (Linux clear_refs 5); it reports
// whether that worked.
func resetPeakRSS(pid int) bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0o200) == nil
}

// metric returns a Prometheus gauge or counter of the gateway, -1 if absent.
func (g *gateway) metric(name string) float64 {
	resp, err := http.Get(g.base() + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}
