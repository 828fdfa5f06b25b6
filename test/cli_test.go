package test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/server/app"
)

func noEnv(string) string { return "" }

func TestIntrospectCommand(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	var out, errb bytes.Buffer
	code := app.Main([]string{"introspect", "--db", dsn}, nil, &out, &errb, noEnv)
	text := out.String()
	// Errors (the sanitised Name__x column is fine; keyless_view is skipped) decide the exit code.
	if code != 0 && code != 1 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{
		"Customers__x", "CustomerID__c", "Text(10)", // set and field API names, Text(n)
		"Text(128)",    // a text column without MaxLength
		"keyless_view", // skipped, and said so
		"Weird_Name_Table",
		// foreign keys become lookup relationships to define after sync
		"LOOKUP CustomerID__c -> External Lookup Relationship to Customers__x (foreign key Orders_CustomerID_fkey)",
		"LOOKUP order_id__c -> External Lookup Relationship to Orders__x",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("introspect output lacks %q:\n%s", want, text)
		}
	}
	out.Reset()
	app.Main([]string{"introspect", "--db", dsn, "--json"}, nil, &out, &errb, noEnv)
	var reports []map[string]any
	if err := json.Unmarshal(out.Bytes(), &reports); err != nil || len(reports) < 5 {
		t.Fatalf("introspect --json: %v (%d sets)\n%s", err, len(reports), out.String())
	}
}

func TestSalesforceBundleCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := app.Main([]string{"salesforce-bundle", "--out", dir, "--url", "https://erp.example.com", "--name", "ERP", "--csrf"}, nil, &out, &errb, noEnv)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	ds, err := os.ReadFile(filepath.Join(dir, "force-app/main/default/dataSources/ERP.dataSource-meta.xml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"OData4", "callout:ERP", "csrfTokenEnabled"} {
		if !strings.Contains(string(ds), want) {
			t.Errorf("data source lacks %q:\n%s", want, ds)
		}
	}
	nc, err := os.ReadFile(filepath.Join(dir, "force-app/main/default/namedCredentials/ERP.namedCredential-meta.xml"))
	if err != nil || !strings.Contains(string(nc), "https://erp.example.com/odata") {
		t.Fatalf("named credential: %v\n%s", err, nc)
	}
	if code := app.Main([]string{"salesforce-bundle", "--out", dir, "--url", "ftp://x"}, nil, &out, &errb, noEnv); code == 0 {
		t.Fatal("a bad URL was accepted")
	}
}
