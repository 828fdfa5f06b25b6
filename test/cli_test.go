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
	read := func(dir, rel string) string {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(dir, "force-app/main/default", rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	contains := func(what, text string, wants ...string) {
		t.Helper()
		for _, want := range wants {
			if !strings.Contains(text, want) {
				t.Errorf("%s lacks %q:\n%s", what, want, text)
			}
		}
	}

	// Defaults: the 4.01 adapter, Basic external credential, SecuredEndpoint.
	dir := t.TempDir()
	var out, errb bytes.Buffer
	code := app.Main([]string{"salesforce-bundle", "--out", dir, "--url", "https://erp.example.com", "--name", "ERP", "--csrf"}, nil, &out, &errb, noEnv)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	contains("data source", read(dir, "dataSources/ERP.dataSource-meta.xml"), "<type>OData401</type>", "callout:ERP", "csrfTokenEnabled")
	nc := read(dir, "namedCredentials/ERP.namedCredential-meta.xml")
	contains("named credential", nc, "<namedCredentialType>SecuredEndpoint</namedCredentialType>",
		"<parameterValue>https://erp.example.com/odata</parameterValue>", "<externalCredential>ERP_Gateway</externalCredential>")
	for _, legacy := range []string{"<principalType>", "<protocol>", "<username>", "<password>", "<endpoint>"} {
		if strings.Contains(nc, legacy) {
			t.Errorf("named credential has the legacy field %s", legacy)
		}
	}
	contains("external credential", read(dir, "externalCredentials/ERP_Gateway.externalCredential-meta.xml"),
		"<authenticationProtocol>Basic</authenticationProtocol>", "<parameterType>NamedPrincipal</parameterType>")
	contains("permission set", read(dir, "permissionsets/ERP_Gateway_Access.permissionset-meta.xml"),
		"<externalCredentialPrincipal>ERP_Gateway-ODataGateway</externalCredentialPrincipal>")

	// 4.0 adapter with OAuth client credentials; 4.01 with Private Connect.
	dir = t.TempDir()
	code = app.Main([]string{"salesforce-bundle", "--out", dir, "--url", "https://erp.example.com/odata", "--adapter", "4.0",
		"--auth", "oauth", "--token-url", "https://idp.example.com/token", "--scope", "odata"}, nil, &out, &errb, noEnv)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	contains("data source", read(dir, "dataSources/ERP.dataSource-meta.xml"), "<type>OData4</type>")
	contains("external credential", read(dir, "externalCredentials/ERP_Gateway.externalCredential-meta.xml"),
		"<authenticationProtocol>Oauth</authenticationProtocol>", "<parameterValue>ClientCredentialsClientSecret</parameterValue>",
		"<parameterValue>https://idp.example.com/token</parameterValue>")
	dir = t.TempDir()
	code = app.Main([]string{"salesforce-bundle", "--out", dir, "--url", "https://erp.internal/odata", "--adapter", "4.01",
		"--auth", "api-key", "--private-connect", "ERP_VPC"}, nil, &out, &errb, noEnv)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	contains("named credential", read(dir, "namedCredentials/ERP.namedCredential-meta.xml"),
		"<namedCredentialType>PrivateEndpoint</namedCredentialType>", "<outboundNetworkConnection>ERP_VPC</outboundNetworkConnection>")

	for _, bad := range [][]string{
		{"--url", "ftp://x"},
		{"--url", "http://erp.example.com/odata"},
		{"--url", "https://erp.example.com/odata", "--auth", "oauth"}, // no --token-url
		{"--url", "https://erp.example.com/odata", "--adapter", "4.0", "--private-connect", "ERP_VPC"},
	} {
		if code := app.Main(append([]string{"salesforce-bundle", "--out", t.TempDir()}, bad...), nil, &out, &errb, noEnv); code == 0 {
			t.Errorf("%v was accepted", bad)
		}
	}
}
