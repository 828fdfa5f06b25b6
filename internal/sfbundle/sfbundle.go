// Package sfbundle writes a Salesforce DX source-format bundle that connects
// a Salesforce org to an odatagw service: a NamedCredential holding the
// service URL and the authentication protocol, and an ExternalDataSource of
// type OData4 that calls through it (endpoint "callout:<Name>"), configured
// for what the service supports (server-driven paging, row counts, search,
// writes, CSRF, request compression).
//
// Secrets are never written: the bundle names the protocol only, and the
// README tells the admin to enter the credentials in the org after deploying.
// The package writes only below the directory it is given.
package sfbundle

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/odatagw/odatagw/metadata/salesforce"
)

// Auth values of Options.Auth.
const (
	AuthPassword  = "password"  // HTTP Basic: Named Principal, Password Authentication
	AuthOAuth     = "oauth"     // Bearer tokens: Named Principal, OAuth 2.0 via an Auth. Provider
	AuthAnonymous = "anonymous" // no Authorization header
)

// APIVersion is the Metadata API version written into sfdx-project.json.
const APIVersion = "62.0"

// DefaultTimeout is Salesforce's default (and maximum) connection timeout in seconds.
const DefaultTimeout = 120

// Options describe the data source to generate.
type Options struct {
	Name             string // API name of both components, e.g. "ERP" (valid Salesforce API name)
	Label            string // shown in Setup; defaults to Name
	URL              string // absolute service root, e.g. "https://erp.example.com/odata"
	Auth             string // AuthPassword, AuthOAuth or AuthAnonymous ("" = password)
	AuthProvider     string // OAuth only: API name of the org's Auth. Provider (optional)
	Writable         bool   // Writable External Objects
	ServerPaging     bool   // Server Driven Pagination (follow @odata.nextLink)
	Search           bool   // Enable Search (and free-text $search)
	RequestRowCounts bool   // $count=true on every query
	CSRF             bool   // CSRF Protection
	CSRFName         string // anti-CSRF header name; default "X-CSRF-Token"
	Compress         bool   // gzip request bodies
	Timeout          int    // seconds, 1..120; 0 = DefaultTimeout
}

// normalize validates o and fills defaults.
func (o Options) normalize() (Options, error) {
	var errs []error
	if msgs := salesforce.CheckName(o.Name); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("name %q: %s", o.Name, strings.Join(msgs, "; ")))
	}
	if o.Label == "" {
		o.Label = o.Name
	}
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "":
		errs = append(errs, errors.New("url: the service root URL is required"))
	case err != nil:
		errs = append(errs, fmt.Errorf("url: %v", err))
	case u.Scheme != "https" && u.Scheme != "http" || u.Host == "":
		errs = append(errs, fmt.Errorf("url %q: must be an absolute http(s) URL", o.URL))
	case u.User != nil:
		errs = append(errs, errors.New("url: must not contain credentials"))
	case u.RawQuery != "" || u.Fragment != "":
		errs = append(errs, errors.New("url: must be the service root without query or fragment"))
	}
	o.URL = strings.TrimRight(o.URL, "/")
	switch o.Auth {
	case "":
		o.Auth = AuthPassword
	case AuthPassword, AuthOAuth, AuthAnonymous:
	default:
		errs = append(errs, fmt.Errorf("auth %q: want %s, %s or %s", o.Auth, AuthPassword, AuthOAuth, AuthAnonymous))
	}
	if o.AuthProvider != "" && o.Auth != AuthOAuth {
		errs = append(errs, errors.New("auth provider is only used with oauth"))
	}
	if o.CSRFName == "" {
		o.CSRFName = "X-CSRF-Token"
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Timeout < 1 || o.Timeout > DefaultTimeout {
		errs = append(errs, fmt.Errorf("timeout %d: must be 1..%d seconds", o.Timeout, DefaultTimeout))
	}
	return o, errors.Join(errs...)
}

// File is one generated file: a slash-separated path relative to the bundle
// root and its content.
type File struct {
	Path    string
	Content string
}

// Files returns the bundle's files in a stable order without writing them.
// It fails when o is invalid (bad name, URL, auth or timeout).
func Files(o Options) ([]File, error) {
	o, err := o.normalize()
	if err != nil {
		return nil, err
	}
	return []File{
		{"sfdx-project.json", project(o)},
		{"force-app/main/default/namedCredentials/" + o.Name + ".namedCredential-meta.xml", namedCredential(o)},
		{"force-app/main/default/dataSources/" + o.Name + ".dataSource-meta.xml", dataSource(o)},
		{"README.txt", readme(o)},
	}, nil
}

// Write creates the bundle below dir (created if missing), overwriting the
// files it generates and touching nothing else.
func Write(dir string, o Options) error {
	files, err := Files(o)
	if err != nil {
		return err
	}
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(f.Content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func project(o Options) string {
	v := map[string]any{
		"name":               strings.ToLower(o.Name) + "-odatagw",
		"namespace":          "",
		"packageDirectories": []map[string]any{{"path": "force-app", "default": true}},
		"sfdcLoginUrl":       "https://login.salesforce.com",
		"sourceApiVersion":   APIVersion,
	}
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b) + "\n"
}

const xmlHeader = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

func namedCredential(o Options) string {
	principal, protocol := "NamedUser", "Password"
	switch o.Auth {
	case AuthOAuth:
		protocol = "Oauth"
	case AuthAnonymous:
		principal, protocol = "Anonymous", "NoAuthentication"
	}
	var b strings.Builder
	b.WriteString(xmlHeader)
	b.WriteString(`<NamedCredential xmlns="http://soap.sforce.com/2006/04/metadata">` + "\n")
	elem(&b, "allowMergeFieldsInBody", "false")
	elem(&b, "allowMergeFieldsInHeader", "false")
	if o.AuthProvider != "" {
		elem(&b, "authProvider", o.AuthProvider)
	}
	elem(&b, "endpoint", o.URL)
	elem(&b, "generateAuthorizationHeader", strconv.FormatBool(o.Auth != AuthAnonymous))
	elem(&b, "label", o.Label)
	elem(&b, "principalType", principal)
	elem(&b, "protocol", protocol)
	b.WriteString("</NamedCredential>\n")
	return b.String()
}

// customConfiguration is the data source's JSON configuration (reference
// §1.7); Salesforce stores every value as a string.
func customConfiguration(o Options) string {
	pagination := "CLIENT"
	if o.ServerPaging {
		pagination = "SERVER"
	}
	csrfName := ""
	if o.CSRF {
		csrfName = o.CSRFName
	}
	cfg := map[string]string{ // encoding/json sorts the keys
		"format":             "JSON",
		"inlineCountEnabled": strconv.FormatBool(o.RequestRowCounts),
		"pagination":         pagination,
		"searchEnabled":      strconv.FormatBool(o.Search),
		"csrfTokenEnabled":   strconv.FormatBool(o.CSRF),
		"csrfTokenName":      csrfName,
		"requestCompression": strconv.FormatBool(o.Compress),
		"noIdMapping":        "false",
		"compatibility":      "DEFAULT",
		"timeout":            strconv.Itoa(o.Timeout),
	}
	b, _ := json.Marshal(cfg)
	return string(b)
}

func dataSource(o Options) string {
	var b strings.Builder
	b.WriteString(xmlHeader)
	b.WriteString(`<ExternalDataSource xmlns="http://soap.sforce.com/2006/04/metadata">` + "\n")
	elem(&b, "customConfiguration", customConfiguration(o))
	elem(&b, "endpoint", "callout:"+o.Name)
	elem(&b, "isWritable", strconv.FormatBool(o.Writable))
	elem(&b, "label", o.Label)
	elem(&b, "principalType", "Anonymous")
	elem(&b, "protocol", "NoAuthentication")
	elem(&b, "type", "OData4")
	b.WriteString("</ExternalDataSource>\n")
	return b.String()
}

func elem(b *strings.Builder, name, text string) {
	fmt.Fprintf(b, "    <%s>%s</%s>\n", name, escape(text), name)
}

// escape escapes XML character data the way Salesforce's retrieve does.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}

func readme(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Salesforce Connect bundle for %s (%s)\n\n", o.Label, o.URL)
	b.WriteString("Contents (Salesforce DX source format):\n")
	fmt.Fprintf(&b, "  force-app/main/default/namedCredentials/%s.namedCredential-meta.xml  service URL and auth protocol\n", o.Name)
	fmt.Fprintf(&b, "  force-app/main/default/dataSources/%s.dataSource-meta.xml            OData 4.0 external data source (endpoint callout:%s)\n\n", o.Name, o.Name)
	b.WriteString("Deploy with the Salesforce CLI from this directory:\n\n")
	b.WriteString("  sf org login web --alias myorg\n")
	b.WriteString("  sf project deploy start -d force-app --target-org myorg\n\n")
	b.WriteString("Credentials are never written to these files. After deploying:\n")
	switch o.Auth {
	case AuthPassword:
		fmt.Fprintf(&b, "  Setup > Named Credentials > %s > Edit: enter the gateway user name and password\n", o.Name)
		b.WriteString("  (Password Authentication, sent as HTTP Basic).\n")
	case AuthOAuth:
		fmt.Fprintf(&b, "  Setup > Named Credentials > %s > Edit: choose the Authentication Provider", o.Name)
		if o.AuthProvider != "" {
			fmt.Fprintf(&b, " (%s)", o.AuthProvider)
		}
		b.WriteString(",\n  then Start Authentication Flow on Save; the gateway receives Bearer tokens.\n")
	case AuthAnonymous:
		b.WriteString("  nothing to enter: the service is called without authentication.\n")
		b.WriteString("  Only do this for demo data on a private network.\n")
	}
	b.WriteString("\nThen: Setup > External Data Sources > " + o.Name + " > Validate and Sync, and pick the tables.\n")
	b.WriteString("Run `odatagw introspect` first to see the field types and warnings Salesforce will get,\n")
	b.WriteString("and `odatagw check " + o.URL + "` to test the service the way Salesforce calls it.\n\n")
	b.WriteString("Data source settings in this bundle:\n")
	fmt.Fprintf(&b, "  Writable External Objects     %s\n", yesNo(o.Writable))
	fmt.Fprintf(&b, "  Server Driven Pagination      %s\n", yesNo(o.ServerPaging))
	fmt.Fprintf(&b, "  Request Row Counts            %s\n", yesNo(o.RequestRowCounts))
	fmt.Fprintf(&b, "  Enable Search                 %s\n", yesNo(o.Search))
	fmt.Fprintf(&b, "  CSRF Protection               %s\n", csrf(o))
	fmt.Fprintf(&b, "  Compress Requests             %s\n", yesNo(o.Compress))
	fmt.Fprintf(&b, "  Connection Timeout            %d s\n", o.Timeout)
	if o.Search {
		b.WriteString("\nTurn on \"Use Free-Text Search Expressions\" on the data source so that search uses $search.\n")
	}
	return b.String()
}

func yesNo(v bool) string {
	if v {
		return "on"
	}
	return "off"
}

func csrf(o Options) string {
	if !o.CSRF {
		return "off"
	}
	return "on (" + o.CSRFName + ")"
}
