package sfbundle

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/golden"
)

// goldenCases cover every auth mode on the 4.01 adapter with and without
// Private Connect, and on the 4.0 adapter (which Private Connect does not
// support).
func goldenCases() []struct {
	name string
	opts Options
} {
	base := map[string]Options{
		"basic": {Name: "ERP", Label: "ERP (odatagw)", URL: "https://erp.example.com/odata/",
			Writable: true, ServerPaging: true, Search: true, RequestRowCounts: true},
		"basic_header": {Name: "ERP", URL: "https://erp.example.com/odata", Auth: AuthBasicHeader,
			Writable: true, ServerPaging: true, RequestRowCounts: true},
		"oauth": {Name: "ERP_Prod", URL: "https://erp.example.com/odata", Auth: AuthClientCredentials,
			TokenURL: "https://idp.example.com/oauth2/token", Scope: "odata.read odata.write",
			CSRF: true, Compress: true, Timeout: 60, RequestRowCounts: true},
		"jwt_bearer": {Name: "ERP_Prod", URL: "https://erp.example.com/odata", Auth: AuthJWTBearer,
			TokenURL: "https://idp.example.com/oauth2/token", SigningCert: "Salesforce_JWT",
			JWTIssuer: "0oa123client", JWTSubject: "salesforce", JWTAudience: "https://idp.example.com",
			ServerPaging: true},
		"api_key": {Name: "Orders", URL: "https://api.example.com/odata", Auth: AuthAPIKey, APIKeyHeader: "X-Api-Key",
			ServerPaging: true, Search: true},
		"anonymous": {Name: "Demo", Label: "Demo <R&D>", URL: "https://demo.example.com/odata", Auth: AuthAnonymous},
	}
	var out []struct {
		name string
		opts Options
	}
	for _, auth := range []string{"basic", "basic_header", "oauth", "jwt_bearer", "api_key", "anonymous"} {
		o := base[auth]
		add := func(suffix string, o Options) {
			out = append(out, struct {
				name string
				opts Options
			}{auth + suffix, o})
		}
		add("_401", o)
		pc := o
		pc.PrivateConnect = "ERP_VPC"
		add("_401_private", pc)
		o.Adapter = Adapter40
		add("_40", o)
	}
	return out
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := Write(dir, tc.opts); err != nil {
				t.Fatal(err)
			}
			files, err := Files(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != 6 {
				t.Fatalf("%d files, want 6", len(files))
			}
			for _, f := range files {
				got, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
				if err != nil {
					t.Fatal(err)
				}
				golden.Assert(t, filepath.Join("testdata", tc.name, filepath.FromSlash(f.Path)), got)
			}
		})
	}
}

type xmlParam struct {
	Certificate               string `xml:"certificate"`
	ExternalCredential        string `xml:"externalCredential"`
	OutboundNetworkConnection string `xml:"outboundNetworkConnection"`
	Group                     string `xml:"parameterGroup"`
	Name                      string `xml:"parameterName"`
	Type                      string `xml:"parameterType"`
	Value                     string `xml:"parameterValue"`
	Seq                       int    `xml:"sequenceNumber"`
}

type bundle struct {
	ec struct {
		XMLName  xml.Name   `xml:"http://soap.sforce.com/2006/04/metadata ExternalCredential"`
		Protocol string     `xml:"authenticationProtocol"`
		Params   []xmlParam `xml:"externalCredentialParameters"`
		Label    string     `xml:"label"`
	}
	nc struct {
		XMLName      xml.Name   `xml:"http://soap.sforce.com/2006/04/metadata NamedCredential"`
		MergeBody    bool       `xml:"allowMergeFieldsInBody"`
		MergeHeader  bool       `xml:"allowMergeFieldsInHeader"`
		Status       string     `xml:"calloutStatus"`
		GenerateAuth bool       `xml:"generateAuthorizationHeader"`
		Label        string     `xml:"label"`
		Params       []xmlParam `xml:"namedCredentialParameters"`
		Type         string     `xml:"namedCredentialType"`
	}
	ps struct {
		XMLName  xml.Name `xml:"http://soap.sforce.com/2006/04/metadata PermissionSet"`
		Accesses []struct {
			Enabled   bool   `xml:"enabled"`
			Principal string `xml:"externalCredentialPrincipal"`
		} `xml:"externalCredentialPrincipalAccesses"`
		Label string `xml:"label"`
	}
	ds struct {
		XMLName  xml.Name `xml:"http://soap.sforce.com/2006/04/metadata ExternalDataSource"`
		Config   string   `xml:"customConfiguration"`
		Endpoint string   `xml:"endpoint"`
		Writable bool     `xml:"isWritable"`
		Type     string   `xml:"type"`
	}
	ncRaw, readme string
}

// parse unmarshals every generated file, failing on XML or JSON that is not
// well-formed (the decoder checks the whole document, not only the fields read).
func parse(t *testing.T, files []File) bundle {
	t.Helper()
	var b bundle
	for _, f := range files {
		if strings.HasSuffix(f.Path, ".xml") {
			d := xml.NewDecoder(strings.NewReader(f.Content))
			for {
				_, err := d.Token()
				if err != nil {
					if !errors.Is(err, io.EOF) {
						t.Fatalf("%s: not well-formed: %v", f.Path, err)
					}
					break
				}
			}
		}
		var err error
		switch {
		case strings.HasSuffix(f.Path, ".externalCredential-meta.xml"):
			err = xml.Unmarshal([]byte(f.Content), &b.ec)
		case strings.HasSuffix(f.Path, ".namedCredential-meta.xml"):
			err = xml.Unmarshal([]byte(f.Content), &b.nc)
			b.ncRaw = f.Content
		case strings.HasSuffix(f.Path, ".permissionset-meta.xml"):
			err = xml.Unmarshal([]byte(f.Content), &b.ps)
		case strings.HasSuffix(f.Path, ".dataSource-meta.xml"):
			err = xml.Unmarshal([]byte(f.Content), &b.ds)
		case f.Path == "sfdx-project.json":
			var p map[string]any
			err = json.Unmarshal([]byte(f.Content), &p)
		case f.Path == "README.txt":
			b.readme = f.Content
		}
		if err != nil {
			t.Fatalf("%s: %v", f.Path, err)
		}
	}
	return b
}

func findParam(ps []xmlParam, typ string) (xmlParam, bool) {
	for _, p := range ps {
		if p.Type == typ {
			return p, true
		}
	}
	return xmlParam{}, false
}

// Every case: well-formed XML, no legacy Named Credential field, the named
// credential points at the external credential, and the permission set grants
// exactly that principal.
func TestCredentialModel(t *testing.T) {
	legacy := regexp.MustCompile(`<(principalType|protocol|username|password|endpoint|authProvider|oauthToken|oauthRefreshToken|certificate)>`)
	wantProtocol := map[string]string{AuthBasic: "Basic", AuthBasicHeader: "Custom", AuthClientCredentials: "Oauth",
		AuthJWTBearer: "Oauth", AuthAPIKey: "Custom", AuthAnonymous: "Custom"}
	for _, tc := range goldenCases() {
		t.Run(tc.name, func(t *testing.T) {
			files, err := Files(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			b := parse(t, files)
			o, _ := tc.opts.normalize()
			ec := o.ExternalCredentialName()
			if m := legacy.FindString(b.ncRaw); m != "" {
				t.Errorf("named credential has the legacy field %s", m)
			}
			if b.ec.Protocol != wantProtocol[o.Auth] {
				t.Errorf("authenticationProtocol %q, want %q", b.ec.Protocol, wantProtocol[o.Auth])
			}
			if p, ok := findParam(b.ec.Params, "NamedPrincipal"); !ok || p.Name != Principal || p.Seq != 1 {
				t.Errorf("named principal: %+v %v", p, ok)
			}
			wantType := "SecuredEndpoint"
			if o.PrivateConnect != "" {
				wantType = "PrivateEndpoint"
			}
			if b.nc.Type != wantType || b.nc.Status != "Enabled" || !b.nc.GenerateAuth || b.nc.MergeBody || b.nc.MergeHeader {
				t.Errorf("named credential: %+v", b.nc)
			}
			if p, _ := findParam(b.nc.Params, "Url"); p.Value != o.URL || p.Name != "Url" {
				t.Errorf("Url parameter %+v, want %s", p, o.URL)
			}
			if p, _ := findParam(b.nc.Params, "Authentication"); p.ExternalCredential != ec {
				t.Errorf("Authentication parameter %+v, want %s", p, ec)
			}
			p, ok := findParam(b.nc.Params, "OutboundNetworkConnection")
			if ok != (o.PrivateConnect != "") || p.OutboundNetworkConnection != o.PrivateConnect {
				t.Errorf("OutboundNetworkConnection parameter %+v (present %v), want %q", p, ok, o.PrivateConnect)
			}
			if len(b.ps.Accesses) != 1 || !b.ps.Accesses[0].Enabled || b.ps.Accesses[0].Principal != ec+"-"+Principal {
				t.Errorf("permission set accesses %+v", b.ps.Accesses)
			}
			wantDS := map[string]string{Adapter401: "OData401", Adapter40: "OData4"}[o.Adapter]
			if b.ds.Type != wantDS || b.ds.Endpoint != "callout:"+o.Name {
				t.Errorf("data source type %q endpoint %q, want %q callout:%s", b.ds.Type, b.ds.Endpoint, wantDS, o.Name)
			}
			switch o.Auth {
			case AuthClientCredentials, AuthJWTBearer:
				v, _ := findParam(b.ec.Params, "AuthProtocolVariant")
				u, _ := findParam(b.ec.Params, "AuthProviderUrl")
				want := map[string]string{AuthClientCredentials: "ClientCredentialsClientSecret", AuthJWTBearer: "JwtBearer"}[o.Auth]
				if v.Value != want || u.Value != o.TokenURL {
					t.Errorf("oauth parameters: variant %+v url %+v", v, u)
				}
			case AuthAPIKey, AuthBasicHeader:
				h, ok := findParam(b.ec.Params, "AuthHeader")
				if !ok || !strings.Contains(h.Value, "$Credential."+ec+".") {
					t.Errorf("auth header %+v", h)
				}
			}
		})
	}
}

// The data source's configuration is JSON holding exactly the keys of
// reference §1.7 with string values.
func TestDataSourceConfiguration(t *testing.T) {
	o := Options{Name: "ERP", URL: "https://erp.example.com/odata", ServerPaging: true, CSRF: true, Writable: true}
	files, err := Files(o)
	if err != nil {
		t.Fatal(err)
	}
	b := parse(t, files)
	if b.ds.Endpoint != "callout:ERP" || !b.ds.Writable || b.ds.Type != "OData401" {
		t.Errorf("data source: %+v", b.ds)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(b.ds.Config), &cfg); err != nil {
		t.Fatalf("customConfiguration %q: %v", b.ds.Config, err)
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
	o := Options{Name: "ERP", URL: "https://erp.example.com/odata", PrivateConnect: "ERP_VPC", Writable: true}
	files, err := Files(o)
	if err != nil {
		t.Fatal(err)
	}
	secret := regexp.MustCompile(`(?i)<(password|username|oauthToken|oauthRefreshToken|clientSecret)>`)
	for _, f := range files {
		if secret.MatchString(f.Content) {
			t.Errorf("%s contains a credential element", f.Path)
		}
	}
	readme := html.UnescapeString(parse(t, files).readme)
	for _, want := range []string{
		"sf project deploy start -d force-app", "never written",
		"External Credentials > ERP_Gateway > Principals", "Permission Sets > ERP_Gateway_Access",
		"Validate and Sync", "ERP_VPC must exist", "KB 005390577",
		"ExternalCredential:ERP_Gateway", "NamedCredential:ERP", "PermissionSet:ERP_Gateway_Access", "ExternalDataSource:ERP",
	} {
		if !strings.Contains(readme, want) {
			t.Errorf("README lacks %q", want)
		}
	}
	// Deployment order: external credential, named credential, permission set, data source.
	last := -1
	for _, s := range []string{"externalCredentials/", "namedCredentials/", "permissionsets/", "dataSources/"} {
		i := strings.Index(readme, s)
		if i < last {
			t.Errorf("README lists %s out of deployment order", s)
		}
		last = i
	}
}

func TestAliases(t *testing.T) {
	for alias, want := range map[string]string{"password": AuthBasic, "": AuthBasic, "oauth-client-credentials": AuthClientCredentials} {
		o := Options{Name: "ERP", URL: "https://erp.example.com/odata", Auth: alias}
		if want == AuthClientCredentials {
			o.TokenURL = "https://idp.example.com/token"
		}
		n, err := o.normalize()
		if err != nil || n.Auth != want {
			t.Errorf("auth %q: got %q, %v; want %q", alias, n.Auth, err, want)
		}
	}
	for in, want := range map[string]string{"": Adapter401, "4.01": Adapter401, "OData401": Adapter401, "4.0": Adapter40, "OData4": Adapter40} {
		n, err := Options{Name: "ERP", URL: "https://erp.example.com/odata", Adapter: in}.normalize()
		if err != nil || n.Adapter != want {
			t.Errorf("adapter %q: got %q, %v; want %q", in, n.Adapter, err, want)
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
		{"http url", func(o *Options) { o.URL = "http://erp.example.com/odata" }, "https"},
		{"url with user", func(o *Options) { o.URL = "https://u:p@erp.example.com/odata" }, "credentials"},
		{"url with query", func(o *Options) { o.URL = "https://erp.example.com/odata?x=1" }, "query"},
		{"bad auth", func(o *Options) { o.Auth = "kerberos" }, "kerberos"},
		{"bad adapter", func(o *Options) { o.Adapter = "2.0" }, "adapter"},
		{"oauth without token url", func(o *Options) { o.Auth = AuthClientCredentials }, "token url"},
		{"jwt with http token url", func(o *Options) { o.Auth, o.TokenURL = AuthJWTBearer, "http://idp/token" }, "https"},
		{"scope without oauth", func(o *Options) { o.Scope = "x" }, "only used with oauth"},
		{"claims without jwt", func(o *Options) { o.JWTIssuer = "x" }, "only used with jwt-bearer"},
		{"api key header without api-key", func(o *Options) { o.APIKeyHeader = "X-Key" }, "only used with api-key"},
		{"api key in Authorization", func(o *Options) { o.Auth, o.APIKeyHeader = AuthAPIKey, "Authorization" }, "api key header"},
		{"bad private connect", func(o *Options) { o.PrivateConnect = "my vpc" }, "private connect"},
		{"private connect on 4.0", func(o *Options) { o.PrivateConnect, o.Adapter = "ERP_VPC", Adapter40 }, "4.01 adapter only"},
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
