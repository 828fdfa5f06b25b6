package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// allowed lists, per project package, the project packages it may import
// (architecture: request -> syntax tree -> bound query -> SQL plan -> rows -> JSON).
// These rules are the code's; docs/architecture.md states them in its package
// table, and TestArchitectureDocMatchesRules keeps the two equal. Packages not
// listed may not exist.
var allowed = map[string][]string{
	"metadata":            {},
	"metadata/csdl":       {"metadata"},
	"metadata/salesforce": {"metadata"},
	"odata":               {},
	"odata/edm":           {"metadata"},
	"odata/semantic":      {"odata", "odata/edm", "metadata"},
	"odata/jsonfmt":       {"odata/edm", "metadata"},
	"adapters":            {"odata/semantic", "odata/edm", "metadata"},
	"adapters/sqlgen":     {"adapters", "odata/semantic", "metadata"},
	"adapters/sqlexec":    {"adapters", "adapters/sqlgen", "odata/semantic", "odata/edm", "metadata"},
	"adapters/postgres":   {"adapters", "adapters/sqlgen", "adapters/sqlexec", "odata/semantic", "odata/edm", "metadata"},
	"adapters/sqlite":     {"adapters", "adapters/sqlgen", "adapters/sqlexec", "odata/semantic", "odata/edm", "metadata"},
	"adapters/mysql":      {"adapters", "adapters/sqlgen", "adapters/sqlexec", "odata/semantic", "odata/edm", "metadata"},
	"adapters/replica":    {"adapters", "odata/semantic", "metadata"},
	"server/guard":        {},
	"server/console":      {"metadata", "metadata/salesforce", "internal/sfbundle", "internal/conformance"},
	"server/auth":         {"odata", "odata/semantic", "metadata"},
	"server": {"odata", "odata/semantic", "odata/edm", "odata/jsonfmt", "metadata", "metadata/csdl", "adapters",
		"server/auth", "server/guard", "server/console"},
	"server/app":           {"*"},
	"cmd/odatagw":          {"server/app"},
	"internal/pgtest":      {},
	"internal/mytest":      {},
	"internal/golden":      {},
	"internal/faultproxy":  {},
	"internal/progress":    {},
	"internal/sfbundle":    {"metadata/salesforce", "metadata"},
	"internal/conformance": {"metadata/csdl", "metadata/salesforce", "metadata"},
	"test":                 {"*"},
}

// thirdParty lists, per package, the non-standard-library modules it may use.
var thirdParty = map[string][]string{
	"adapters/postgres": {"github.com/jmoiron/sqlx", "github.com/lib/pq"},
	"adapters/sqlite":   {"github.com/jmoiron/sqlx", "modernc.org/sqlite"},
	"adapters/mysql":    {"github.com/go-sql-driver/mysql"},
	"server":            {"github.com/gorilla/mux", "github.com/rs/zerolog", "github.com/prometheus/client_golang", "go.opentelemetry.io/otel"},
	"server/auth":       {"github.com/golang-jwt/jwt/v5", "golang.org/x/crypto"},
	"server/app":        {"*"},
	"internal/pgtest":   {"github.com/lib/pq"},
	"internal/mytest":   {"github.com/go-sql-driver/mysql"},
	"test":              {"*"},
}

func TestImportRules(t *testing.T) {
	t.Parallel()
	const mod = "github.com/odatagw/odatagw"
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "./...")
	cmd.Dir = repoRoot()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkgPath, imports, _ := strings.Cut(line, ":")
		pkg := strings.TrimPrefix(strings.TrimPrefix(pkgPath, mod), "/")
		if pkg == "" {
			pkg = "."
		}
		rules, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s has no import rule: add it to allowed (and to the architecture)", pkg)
			continue
		}
		seen++
		for _, imp := range strings.Fields(imports) {
			if strings.HasPrefix(imp, mod+"/") {
				dep := strings.TrimPrefix(imp, mod+"/")
				if !contains(rules, "*") && !contains(rules, dep) {
					t.Errorf("%s imports %s, which the architecture does not allow", pkg, dep)
				}
				continue
			}
			first := strings.Split(imp, "/")[0]
			if !strings.Contains(first, ".") {
				continue // standard library
			}
			tp := thirdParty[pkg]
			if contains(tp, "*") {
				continue
			}
			okDep := false
			for _, p := range tp {
				if imp == p || strings.HasPrefix(imp, p+"/") {
					okDep = true
				}
			}
			if !okDep {
				t.Errorf("%s imports third-party %s, which is not allowed for it", pkg, imp)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("only %d packages checked; go list output:\n%s", seen, out)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestArchitectureDocMatchesRules: the package table of docs/architecture.md
// ("may import" column) says exactly what allowed enforces, so the map a new
// contributor reads is the one the build checks.
func TestArchitectureDocMatchesRules(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(repoRoot(), "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string][]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 5 {
			t.Fatalf("architecture.md: package row with too few columns: %s", line)
		}
		pkg := strings.Trim(strings.TrimSpace(cells[1]), "`")
		deps := []string{}
		switch imports := strings.TrimSpace(cells[3]); imports {
		case "—":
		case "*":
			deps = []string{"*"}
		default:
			for _, d := range strings.Split(imports, ",") {
				deps = append(deps, strings.Trim(strings.TrimSpace(d), "`"))
			}
		}
		doc[pkg] = deps
	}
	for pkg, rules := range allowed {
		got, ok := doc[pkg]
		if !ok {
			t.Errorf("docs/architecture.md has no row for package %s", pkg)
			continue
		}
		a, b := append([]string(nil), rules...), append([]string(nil), got...)
		sort.Strings(a)
		sort.Strings(b)
		if strings.Join(a, ",") != strings.Join(b, ",") {
			t.Errorf("%s: architecture.md says it may import %v, the rules say %v", pkg, b, a)
		}
	}
	for pkg := range doc {
		if _, ok := allowed[pkg]; !ok {
			t.Errorf("docs/architecture.md lists %s, which has no import rule", pkg)
		}
	}
}
