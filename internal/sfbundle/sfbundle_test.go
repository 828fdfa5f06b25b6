package sfbundle

import (
	"encoding/json"
	"encoding/xml"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/golden"
)

func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"password", Options{
			Name: "ERP", Label: "ERP (odatagw)", URL: "https://erp.example.com/odata/",
			Writable: true, ServerPaging: true, Search: true, RequestRowCounts: true,
		}},
		{"oauth_csrf", Options{
			Name: "ERP_Prod", URL: "https://erp.example.com/odata", Auth: AuthOAuth, AuthProvider: "Okta",
			CSRF: true, Compress: true, Timeout: 60, RequestRowCounts: true,
		}},
		{"anonymous", Options{
			Name: "Demo", Label: "Demo <R&D>", URL: "http://localhost:8080/odata", Auth: AuthAnonymous,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Write(dir, tc.opts); err != nil {
				t.Fatal(err)
			}
			want := filepath.Join("testdata", tc.name)
			files, err := Files(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
				if err != nil {
					t.Fatal(err)
				}
				golden.Assert(t, filepath.Join(want, filepath.FromSlash(f.Path)), got)
			}
		})
	}
}

// The generated XML is well-formed, and the data source's configuration is
// JSON holding exactly the keys of reference §1.7 with string values.
func TestDataSourceContent(t *testing.T) {
	o := Options{Name: "ERP", URL: "https://erp.example.com/odata", ServerPaging: true, CSRF: true, Writable: true}
	files, err := Files(o)
	if err != nil {
		t.Fatal(err)
	}
	var ds struct {
		XMLName       xml.Name `xml:"ExternalDataSource"`
		Config        string   `xml:"customConfiguration"`
		Endpoint      string   `xml:"endpoint"`
		Writable      bool     `xml:"isWritable"`
		Type          string   `xml:"type"`
		PrincipalType string   `xml:"principalType"`
	}
	var nc struct {
		XMLName   xml.Name `xml:"NamedCredential"`
		Endpoint  string   `xml:"endpoint"`
		Protocol  string   `xml:"protocol"`
		Principal string   `xml:"principalType"`
	}
	for _, f := range files {
		switch {
		case strings.HasSuffix(f.Path, ".dataSource-meta.xml"):
			if err := xml.Unmarshal([]byte(f.Content), &ds); err != nil {
				t.Fatal(err)
			}
		case strings.HasSuffix(f.Path, ".namedCredential-meta.xml"):
			if err := xml.Unmarshal([]byte(f.Content), &nc); err != nil {
				t.Fatal(err)
			}
		case f.Path == "sfdx-project.json":
			var p map[string]any
			if err := json.Unmarshal([]byte(f.Content), &p); err != nil {
				t.Fatal(err)
			}
		}
	}
	if ds.Endpoint != "callout:ERP" || !ds.Writable || ds.Type != "OData4" || ds.PrincipalType != "Anonymous" {
		t.Errorf("data source: %+v", ds)
	}
	if nc.Endpoint != "https://erp.example.com/odata" || nc.Protocol != "Password" || nc.Principal != "NamedUser" {
		t.Errorf("named credential: %+v", nc)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(ds.Config), &cfg); err != nil {
		t.Fatalf("customConfiguration %q: %v", ds.Config, err)
	}
	want := map[string]string{
		"format": "JSON", "inlineCountEnabled": "false", "pagination": "SERVER", "searchEnabled": "false",
		"csrfTokenEnabled": "true", "csrfTokenName": "X-CSRF-Token", "requestCompression": "false",
		"noIdMapping": "false", "compatibility": "DEFAULT", "timeout": "120",
	}
	if len(cfg) != len(want) {
		t.Errorf("customConfiguration has %d keys, want %d: %v", len(cfg), len(want), cfg)
	}
	for k, v := range want {
		if cfg[k] != v {
			t.Errorf("customConfiguration[%s] = %v, want %q", k, cfg[k], v)
		}
	}
}

func TestNoSecretsAndReadme(t *testing.T) {
	files, err := Files(Options{Name: "ERP", URL: "https://erp.example.com/odata"})
	if err != nil {
		t.Fatal(err)
	}
	secret := regexp.MustCompile(`(?i)<(password|username|oauthToken|oauthRefreshToken)>`)
	for _, f := range files {
		if secret.MatchString(f.Content) {
			t.Errorf("%s contains a credential element", f.Path)
		}
		if f.Path == "README.txt" {
			for _, want := range []string{"sf project deploy start -d force-app", "never written", "Named Credentials > ERP"} {
				if !strings.Contains(html.UnescapeString(f.Content), want) {
					t.Errorf("README lacks %q", want)
				}
			}
		}
	}
}

func TestInvalidOptions(t *testing.T) {
	ok := Options{Name: "ERP", URL: "https://erp.example.com/odata"}
	tests := []struct {
		name   string
		mutate func(*Options)
		want   string
	}{
		{"bad name", func(o *Options) { o.Name = "erp-prod" }, "name"},
		{"long name", func(o *Options) { o.Name = strings.Repeat("E", 41) }, "41 characters"},
		{"no url", func(o *Options) { o.URL = "" }, "required"},
		{"relative url", func(o *Options) { o.URL = "/odata" }, "absolute"},
		{"url with user", func(o *Options) { o.URL = "https://u:p@erp.example.com/odata" }, "credentials"},
		{"url with query", func(o *Options) { o.URL = "https://erp.example.com/odata?x=1" }, "query"},
		{"bad auth", func(o *Options) { o.Auth = "kerberos" }, "kerberos"},
		{"provider without oauth", func(o *Options) { o.AuthProvider = "Okta" }, "only used with oauth"},
		{"timeout too long", func(o *Options) { o.Timeout = 300 }, "timeout 300"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := ok
			tc.mutate(&o)
			dir := t.TempDir()
			err := Write(dir, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("files written despite the error")
			}
		})
	}
	if _, err := Files(ok); err != nil {
		t.Fatalf("valid options rejected: %v", err)
	}
}
