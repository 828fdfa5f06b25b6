package test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/server/app"
)

// runMain runs the command line with env as the environment.
func runMain(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = app.Main(args, nil, &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// `odatagw check` shows its progress on stderr only when asked (a test's
// stderr is no terminal): --progress draws a live line erased before the
// report, ODATAGW_PROGRESS=plain prints plain lines; stdout stays the same.
func TestCheckProgress(t *testing.T) {
	t.Parallel()
	c := baseConfig("")
	c.DB, c.DemoPath, c.LogLevel = "", filepath.Join(t.TempDir(), "demo.sqlite"), "warn"
	g := start(t, c)
	args := []string{"check", g.base + "/odata", "--sets", "customers,products", "--max-rows", "300"}

	code, quiet, stderr := runMain(t, nil, args...)
	if code != 0 || stderr != "" || !strings.Contains(quiet, "\ncustomers\n") {
		t.Fatalf("check: exit %d, stderr %q\n%s", code, stderr, quiet)
	}

	code, out, stderr := runMain(t, nil, append(args, "--progress")...)
	if code != 0 || out != quiet {
		t.Errorf("--progress changed stdout (exit %d):\n%s\nwant:\n%s", code, out, quiet)
	}
	for _, want := range []string{"\rcheck 0\x1b[K", "\rcheck [####################] 3/3\x1b[K"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("live progress lacks %q: %q", want, stderr)
		}
	}
	if !strings.HasSuffix(stderr, "\r\x1b[K") || strings.Contains(stderr, "\n") {
		t.Errorf("live progress must end erased, without newlines: %q", stderr)
	}

	code, out, stderr = runMain(t, map[string]string{"ODATAGW_PROGRESS": "plain"}, args...)
	if code != 0 || out != quiet {
		t.Errorf("plain progress changed stdout (exit %d):\n%s", code, out)
	}
	if !strings.HasPrefix(stderr, "check 0\n") || !strings.Contains(stderr, "check: done, 3/3 in ") || strings.ContainsAny(stderr, "\r\x1b") {
		t.Errorf("plain progress: %q", stderr)
	}

	// the flag wins over the environment; a bad mode is a usage error
	if _, _, stderr = runMain(t, map[string]string{"ODATAGW_PROGRESS": "plain"}, append(args, "--progress=off")...); stderr != "" {
		t.Errorf("--progress=off printed %q", stderr)
	}
	if code, _, stderr = runMain(t, nil, append(args, "--progress=loud")...); code != 2 || !strings.Contains(stderr, "--progress") {
		t.Errorf("--progress=loud: exit %d, %q", code, stderr)
	}
}

// `odatagw track install|remove` count the sets done on a live line when
// asked, and print exactly what they printed before on stdout.
func TestTrackProgress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	demo, cfg := filepath.Join(dir, "demo.sqlite"), filepath.Join(dir, "track.yaml")
	if err := os.WriteFile(cfg, []byte("sets:\n  orders: {track_changes: true}\n  customers: {track_changes: true}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := func(verb string, more ...string) []string {
		return append([]string{"track", verb, "--config", cfg, "--demo-path", demo}, more...)
	}
	code, quiet, stderr := runMain(t, nil, args("install")...)
	if code != 0 || stderr != "" || !strings.Contains(quiet, "SET") {
		t.Fatalf("track install: exit %d, stderr %q\n%s", code, stderr, quiet)
	}
	code, out, stderr := runMain(t, nil, args("install", "--progress")...)
	if code != 0 || out != quiet {
		t.Errorf("--progress changed stdout (exit %d):\n%s\nwant:\n%s", code, out, quiet)
	}
	if !strings.HasPrefix(stderr, "\rtrack install [--------------------] 0/2\x1b[K") ||
		!strings.Contains(stderr, "[####################] 2/2 ") || !strings.HasSuffix(stderr, "\r\x1b[K") {
		t.Errorf("track install progress: %q", stderr)
	}
	code, _, stderr = runMain(t, map[string]string{"ODATAGW_PROGRESS": "plain"}, args("remove")...)
	if code != 0 || !strings.HasPrefix(stderr, "track remove 0/2\n") || !strings.Contains(stderr, "track remove: done, 2/2 in ") {
		t.Errorf("track remove plain progress (exit %d): %q", code, stderr)
	}
}
