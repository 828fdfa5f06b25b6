package test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// chromium finds a headless-capable Chromium (Debian package chromium,
// installed by scripts/install-test-deps.sh). Without one the browser test
// skips, unless ODATAGW_REQUIRE_CHROMIUM is set.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ODATAGW_REQUIRE_CHROMIUM") != "" {
		t.Fatal("no chromium found and ODATAGW_REQUIRE_CHROMIUM is set (apt-get install chromium, or scripts/install-test-deps.sh)")
	}
	t.Skip("no chromium found: the console's browser test needs headless Chromium (apt-get install chromium, or scripts/install-test-deps.sh)")
	return ""
}

// browse loads url in headless Chromium and returns the DOM after the page's
// scripts ran and what the page logged to its console (CSP violations,
// failed loads and script errors are all logged there). With shot set it
// takes a screenshot into that file instead of dumping the DOM.
func browse(t *testing.T, bin, url, shot string) (dom string, console []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0", "--window-size=1280,1000"}
	if shot != "" {
		args = append(args, "--screenshot="+shot, "--hide-scrollbars")
	} else {
		args = append(args, "--dump-dom")
	}
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, stderr.String())
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			console = append(console, line)
		}
	}
	return stdout.String(), console
}

// TestConsoleBrowser drives the console on the demo in headless Chromium:
// every page loads its embedded stylesheet and script under the strict CSP
// without a single console message (no violation, no failed load, no
// script error), shows its content, and the script ran (it reveals the
// controls it enhances). It keeps a screenshot of the Objects page
// (ODATAGW_ARTIFACTS names a directory to keep it in).
func TestConsoleBrowser(t *testing.T) {
	t.Parallel()
	bin := chromium(t)
	g := start(t, demoConfig(t))
	// Salesforce would make requests like this one: it must show under Traffic.
	if r := g.do("GET", "/odata/orders?$top=3&$orderby=order_id desc", nil); r.Status != 200 {
		t.Fatalf("API: %d %s", r.Status, r.Body)
	}
	if r := noRedirect(t, g, "POST", "/console/check", "Origin", g.base); r.Status != http.StatusSeeOther {
		t.Fatalf("run check: %d %s", r.Status, r.Body)
	}
	pages := []struct {
		path string
		want []string
	}{
		// The copy button is revealed by the script (navigator.clipboard
		// exists on a loopback origin).
		{"/console/", []string{"Connect Salesforce", g.base + "/odata", `data-copy="service-url">Copy</button>`}},
		{"/console/objects", []string{"customers__x", "orders__x", "order_lines__x", "products__x"}},
		{"/console/objects/customers", []string{"customer_id__c", "First 5 rows", "C0000001"}},
		{"/console/check", []string{`id="check-summary"`, "passed</span>", "<strong>customers</strong>"}},
		// The auto-refresh switch is revealed by the script.
		{"/console/traffic", []string{"/odata/orders?$top=3&amp;$orderby=order_id%20desc", `<input type="checkbox" id="auto-refresh">`}},
	}
	for _, p := range pages {
		dom, logged := browse(t, bin, g.base+p.path, "")
		for _, l := range logged {
			t.Errorf("%s: the page logged: %s", p.path, l)
		}
		for _, s := range p.want {
			if !strings.Contains(dom, s) {
				t.Errorf("%s: the rendered page lacks %q", p.path, s)
			}
		}
		if strings.Contains(dom, "<h1>Error</h1>") {
			t.Errorf("%s: error page", p.path)
		}
	}
	dir := os.Getenv("ODATAGW_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "console-objects.png")
	if _, logged := browse(t, bin, g.base+"/console/objects", shot); len(logged) > 0 {
		t.Errorf("objects page (screenshot) logged: %v", logged)
	}
	png, err := os.ReadFile(shot)
	if err != nil || len(png) < 1000 || !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("screenshot %s: %v, %d bytes", shot, err, len(png))
	}
	t.Logf("screenshot of the Objects page: %s", shot)
}
