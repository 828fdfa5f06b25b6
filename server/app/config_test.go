package app

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/server/auth"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("listen: 127.0.0.1:1000\nschemas: [a, b]\npage_size: 500\nstatement_timeout: 30s\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		env  map[string]string
		want func(c Config) string
	}{
		{"defaults", nil, nil, func(c Config) string {
			return c.Listen + " " + strings.Join(c.Schemas, ",") + " " + c.Root + " " + c.StatementTimeout.String()
		}},
		{"file", []string{"--config", file}, nil, func(c Config) string {
			return c.Listen + " " + strings.Join(c.Schemas, ",") + " " + c.StatementTimeout.String()
		}},
		{"env over file", []string{"--config", file}, map[string]string{"ODATAGW_LISTEN": "127.0.0.1:2000", "ODATAGW_SCHEMAS": "erp"}, func(c Config) string {
			return c.Listen + " " + strings.Join(c.Schemas, ",")
		}},
		{"flag over env", []string{"--config", file, "--listen", "127.0.0.1:3000"}, map[string]string{"ODATAGW_LISTEN": "127.0.0.1:2000"}, func(c Config) string {
			return c.Listen
		}},
		{"config from env", nil, map[string]string{"ODATAGW_CONFIG": file}, func(c Config) string { return c.Listen }},
	}
	want := []string{"127.0.0.1:8080 public /odata 1m50s", "127.0.0.1:1000 a,b 30s", "127.0.0.1:2000 erp", "127.0.0.1:3000", "127.0.0.1:1000"}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Load("serve", Sources{Args: tc.args, Env: env(tc.env)})
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.want(c); got != want[i] {
				t.Fatalf("got %q, want %q", got, want[i])
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("listen: x\nlisten_typo: 1\n"), 0o600)
	badCount := filepath.Join(dir, "count.yaml")
	os.WriteFile(badCount, []byte("sets:\n  erp.orders:\n    count: fuzzy\n"), 0o600)
	negBelow := filepath.Join(dir, "below.yaml")
	os.WriteFile(negBelow, []byte("count_exact_below: -1\n"), 0o600)
	cases := []struct {
		name string
		args []string
		env  map[string]string
		msg  string
	}{
		{"unknown key", []string{"--config", bad}, nil, "listen_typo"},
		{"count strategy", []string{"--config", badCount}, nil, "sets.erp.orders.count"},
		{"negative count threshold", []string{"--config", negBelow}, nil, "count_exact_below"},
		{"bad count timeout", []string{"--count-timeout", "soon"}, nil, "duration"},
		{"missing file", []string{"--config", filepath.Join(dir, "none.yaml")}, nil, "no such file"},
		{"page size over 2000", []string{"--page-size", "2500"}, nil, "page_size"},
		{"bad duration", []string{"--statement-timeout", "soon"}, nil, "duration"},
		{"zero shutdown timeout", []string{"--shutdown-timeout", "0s"}, nil, "shutdown_timeout"},
		{"bad zone", nil, map[string]string{"ODATAGW_TIME_ZONE": "Mars/Olympus"}, "time_zone"},
		{"bad log level", []string{"--log-level", "loud"}, nil, "log_level"},
		{"unknown flag", []string{"--nope"}, nil, "nope"},
		{"bad basic users", nil, map[string]string{"ODATAGW_BASIC_USERS": "nohash"}, "ODATAGW_BASIC_USERS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			_, _, err := Load("serve", Sources{Args: tc.args, Env: env(tc.env), Stderr: &stderr})
			if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.msg) {
				t.Fatalf("err = %v (stderr %q), want mention of %q", err, stderr.String(), tc.msg)
			}
		})
	}
}

func TestPrintMasksSecrets(t *testing.T) {
	c, _, err := Load("config", Sources{
		Args: []string{"--db", "postgres://gw:s3cret@db:5432/erp", "--token-key", "tokensecret-0123456789"},
		Env: env(map[string]string{
			"ODATAGW_READ_DB":          "postgres://gw:r1secret@r1:5432/erp,postgres://gw:r2secret@r2:5432/erp",
			"ODATAGW_JWT_HS256_SECRET": "jwtsecret-0123456789-0123456789-01",
			"ODATAGW_BASIC_USERS":      "sf:$2a$10$abcdefghijklmnopqrstuuCyYV1hqI8qJGkBqS6Qd1qXkqM0lK3uO",
		}),
	})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := c.Print(&out); err != nil {
		t.Fatal(err)
	}
	s := out.String()
	for _, secret := range []string{"s3cret", "tokensecret", "jwtsecret", "abcdefghijklmnop", "r1secret", "r2secret"} {
		if strings.Contains(s, secret) {
			t.Errorf("printed config leaks %q:\n%s", secret, s)
		}
	}
	for _, want := range []string{"postgres://gw:*****@db:5432/erp", "postgres://gw:*****@r2:5432/erp", "listen: 127.0.0.1:8080", "name: sf"} {
		if !strings.Contains(s, want) {
			t.Errorf("printed config lacks %q:\n%s", want, s)
		}
	}
}

func TestMaskDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://u:p@h/db":                                "postgres://u:*****@h/db",
		"postgres://u@h/db":                                  "postgres://u@h/db",
		"host=h user=u password=p dbname=d":                  "host=h user=u password=***** dbname=d",
		"host=h user=u password='hunter 2' dbname=x":         "host=h user=u password=***** dbname=x",
		"postgres://u@h/db?sslmode=disable&password=hunter2": "postgres://u@h/db?password=*****&sslmode=disable",
		"data/demo.sqlite":                                   "data/demo.sqlite",
	} {
		if got := maskDSN(in); got != want {
			t.Errorf("maskDSN(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMainVersionAndUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if code := Main([]string{"version"}, nil, &out, &errb, env(nil)); code != 0 || !strings.HasPrefix(out.String(), "odatagw ") {
		t.Fatalf("version: %d %q", code, out.String())
	}
	out.Reset()
	if code := Main(nil, nil, &out, &errb, env(nil)); code != 2 || !strings.Contains(errb.String(), "serve") {
		t.Fatalf("no args: %d %q", code, errb.String())
	}
	errb.Reset()
	if code := Main([]string{"frobnicate"}, nil, &out, &errb, env(nil)); code != 2 || !strings.Contains(errb.String(), "unknown command") {
		t.Fatalf("unknown: %d %q", code, errb.String())
	}
	out.Reset()
	if code := Main([]string{"hash-api-key"}, strings.NewReader("k1\n"), &out, &errb, env(nil)); code != 0 || len(strings.TrimSpace(out.String())) != 64 {
		t.Fatalf("hash-api-key: %d %q", code, out.String())
	}
	_ = time.Second
}

func TestLoadReadDB(t *testing.T) {
	file := filepath.Join(t.TempDir(), "r.yaml")
	yml := "db: postgres://gw@primary/erp\nread_db:\n  - postgres://gw@r1/erp\n  - postgres://gw@r2/erp\nread_max_lag: 5s\n"
	if err := os.WriteFile(file, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string // read_db joined with |, then read_max_lag
	}{
		{"default", []string{"--db", "postgres://gw@primary/erp"}, nil, " 30s"},
		{"yaml list", []string{"--config", file}, nil, "postgres://gw@r1/erp|postgres://gw@r2/erp 5s"},
		{"env comma-separated", []string{"--config", file}, map[string]string{"ODATAGW_READ_DB": "postgres://gw@r3/erp, postgres://gw@r4/erp", "ODATAGW_READ_MAX_LAG": "2s"},
			"postgres://gw@r3/erp|postgres://gw@r4/erp 2s"},
		{"flag over env", []string{"--config", file, "--read-db", "postgres://gw@r5/erp"}, map[string]string{"ODATAGW_READ_DB": "postgres://gw@r3/erp"},
			"postgres://gw@r5/erp 5s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := Load("serve", Sources{Args: tc.args, Env: env(tc.env)})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(c.ReadDB, "|") + " " + c.ReadMaxLag.String(); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"replica of SQLite", []string{"--db", "demo.sqlite", "--read-db", "postgres://gw@r1/erp"}, "read_db: read replicas need a PostgreSQL db"},
		{"zero lag", []string{"--db", "postgres://gw@p/erp", "--read-max-lag", "0s"}, "read_max_lag, read_check_interval: must be positive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			_, _, err := Load("serve", Sources{Args: tc.args, Env: env(nil), Stderr: &stderr})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestConsoleConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "c.yaml")
	if err := os.WriteFile(file, []byte("listen: 0.0.0.0:8080\nconsole: {enabled: true, path: /ops/console, role: operators}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withKey := func(c *Config) { c.Auth.APIKeys = []auth.APIKey{{Name: "k", Hash: auth.HashAPIKey("k")}} }
	cases := []struct {
		name string
		args []string
		env  map[string]string
		auth bool
		want string // enabled path role
	}{
		{"demo: loopback, no auth", nil, nil, false, "true /console admin"},
		{"localhost", []string{"--listen", "localhost:9000"}, nil, false, "true /console admin"},
		{"ipv6 loopback", []string{"--listen", "[::1]:9000"}, nil, false, "true /console admin"},
		{"all interfaces", []string{"--listen", "0.0.0.0:8080"}, nil, false, "false /console admin"},
		{"no host", []string{"--listen", ":8080"}, nil, false, "false /console admin"},
		{"auth on", nil, nil, true, "false /console admin"},
		{"flag alone", []string{"--listen", "0.0.0.0:8080", "--console"}, nil, true, "true /console admin"},
		{"flag false", []string{"--console=false"}, nil, false, "false /console admin"},
		{"env", []string{"--listen", ":1"}, map[string]string{"ODATAGW_CONSOLE": "true"}, false, "true /console admin"},
		{"file", []string{"--config", file}, nil, true, "true /ops/console operators"},
	}
	for _, tc := range cases {
		c, _, err := Load("serve", Sources{Args: tc.args, Env: env(tc.env)})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if tc.auth {
			withKey(&c)
		}
		got := fmt.Sprintf("%v %s %s", c.ConsoleOn(), c.Console.Path, c.Console.Role)
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	for _, bad := range [][]string{{"--console=maybe"}} {
		if _, _, err := Load("serve", Sources{Args: bad}); err == nil {
			t.Errorf("%v: accepted", bad)
		}
	}
	for _, yaml := range []string{"console: {path: /odata}", "console: {path: /odata/x}", "console: {path: /}", "console: {path: metrics}",
		"console: {path: /metrics}", "console: {role: ''}", "root: /api\nconsole: {path: /api}"} {
		f := filepath.Join(dir, "bad.yaml")
		if err := os.WriteFile(f, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Load("serve", Sources{Args: []string{"--config", f}}); err == nil || !strings.Contains(err.Error(), "console.") {
			t.Errorf("%q: %v", yaml, err)
		}
	}
	// Booleans may be given alone (--csrf), like --console.
	c, _, err := Load("serve", Sources{Args: []string{"--csrf", "--read-only"}})
	if err != nil || !c.CSRF.Enabled || !c.ReadOnly {
		t.Errorf("bare boolean flags: %v %v %v", err, c.CSRF.Enabled, c.ReadOnly)
	}
}
