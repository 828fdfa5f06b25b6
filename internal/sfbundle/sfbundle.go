// Package sfbundle writes a Salesforce DX source-format bundle that connects
// a Salesforce org to an odatagw service with today's credential model:
//
//   - an ExternalCredential (how Salesforce authenticates: Basic, OAuth 2.0
//     client credentials or JWT bearer, a custom header, or nothing) with one
//     named principal,
//   - a NamedCredential of type SecuredEndpoint (PrivateEndpoint with
//     --private-connect) holding the service URL and referencing it,
//   - a PermissionSet granting access to that principal, and
//   - an ExternalDataSource of type OData401 (or OData4) whose endpoint is
//     "callout:<Name>", configured for what the service supports
//     (server-driven paging, row counts, search, writes, CSRF, compression).
//
// No legacy Named Credential field (principalType, protocol, username,
// password, endpoint, authProvider on the NamedCredential) is written, and
// secrets never are: the README tells the admin what to enter in the org
// after deploying. The package writes only below the directory it is given.
//
// Field names and enumeration values come from the Salesforce Metadata API
// Developer Guide, API 66/67 (Spring/Summer '26), and companion references:
//
//   - ExternalCredential: https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_externalcredential.htm
//     (authenticationProtocol Basic|Custom|Oauth|...; ExternalCredentialParameter
//     parameterGroup/parameterName/parameterType/parameterValue/sequenceNumber/certificate;
//     parameterType AuthHeader, AuthParameter, AuthProtocolVariant, AuthProviderUrl,
//     JwtBodyClaim, NamedPrincipal, SigningCertificate)
//   - Tooling API ExternalCredential (Basic = "static username and password"):
//     https://developer.salesforce.com/docs/atlas.en-us.260.0.api_tooling.meta/api_tooling/tooling_api_objects_externalcredential.htm
//   - ConnectApi.CredentialAuthenticationProtocolVariant (ClientCredentialsClientSecret, JwtBearer):
//     https://developer.salesforce.com/docs/platform/apex-ref/references/apex-ref/apex-connectapi-output-external-credential.html
//   - NamedCredential: https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_namedcredential.htm
//     (namedCredentialType SecuredEndpoint|PrivateEndpoint; NamedCredentialParameter
//     parameterType Url|Authentication|OutboundNetworkConnection with the
//     externalCredential and outboundNetworkConnection lookup fields; calloutStatus;
//     endpoint/principalType/protocol/username/password are Legacy-only)
//   - PermissionSet externalCredentialPrincipalAccesses (enabled, externalCredentialPrincipal
//     "<ExternalCredential>-<Principal>"): https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_permissionset.htm
//   - ExternalDataSource type OData401 ("OData 4.01 adapter"): Tooling API / Object Reference
//     ExternalDataSource, https://developer.salesforce.com/docs/atlas.en-us.api_tooling.meta/api_tooling/tooling_api_objects_externaldatasource.htm
//   - Generate Authorization Header "is required if you reference the named credential from an
//     external data source"; merge fields in header/body "aren't available" then:
//     https://developer.salesforce.com/docs/atlas.en-us.262.0.apexcode.meta/apexcode/apex_callouts_named_credentials_custom_headers_bodies.htm
//   - Private Connect outbound (OData 4.01 adapter only):
//     https://help.salesforce.com/s/articleView?id=xcloud.private_connect_considerations.htm and
//     https://help.salesforce.com/s/articleView?id=xcloud.private_connect_outbound_aws.htm
//   - Basic in the new model: https://help.salesforce.com/s/articleView?id=xcloud.nc_create_edit_basic_auth_ext_cred.htm
//     (Basic protocol) and xcloud.nc_custom_headers_basic_auth.htm (Custom protocol + header formula).
//
// Inferred, not stated by those pages (also listed in the README and in
// docs/salesforce.md): the parameterName values of the AuthProtocolVariant
// ("Oauth"), AuthProviderUrl ("AuthProviderUrl") and Scope parameters; that
// the OData401 type takes the same customConfiguration keys as OData4; that a
// Custom credential with only a principal is the "no authentication" form for
// a data source; that PrivateEndpoint (not SecuredEndpoint) is the type to
// use with an outbound network connection (the NamedCredential page says the
// OutboundNetworkConnection parameter is "used when namedCredentialType is
// PrivateEndpoint"); and that one deployment orders the four types itself.
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
	AuthBasic             = "basic"        // ExternalCredential protocol Basic: Salesforce sends Authorization: Basic
	AuthBasicHeader       = "basic-header" // protocol Custom, Authorization header built by a formula from Username/Password
	AuthClientCredentials = "oauth"        // OAuth 2.0 client credentials (client secret): Bearer tokens from your IdP
	AuthJWTBearer         = "jwt-bearer"   // OAuth 2.0 JWT bearer flow: Salesforce signs a JWT, your IdP returns a Bearer token
	AuthAPIKey            = "api-key"      // protocol Custom, API key in a custom header
	AuthAnonymous         = "anonymous"    // protocol Custom with no header: no credential is sent
	authPasswordAlias     = "password"     // earlier name of AuthBasic
	authClientCredsAlias  = "oauth-client-credentials"
)

// Adapter values of Options.Adapter.
const (
	Adapter401 = "4.01" // ExternalDataSource type OData401 (the default)
	Adapter40  = "4.0"  // ExternalDataSource type OData4
)

// APIVersion is the Metadata API version written into sfdx-project.json. The
// Basic external-credential protocol appears in the API 66 references (it is
// absent from the API 62 Metadata API guide).
const APIVersion = "66.0"

// DefaultTimeout is Salesforce's default (and maximum) connection timeout in seconds.
const DefaultTimeout = 120

// Principal is the name of the named principal of the external credential.
const Principal = "ODataGateway"

// Options describe the data source to generate.
type Options struct {
	Name             string // API name of the Named Credential and External Data Source, e.g. "ERP"
	Label            string // shown in Setup; defaults to Name
	URL              string // absolute https service root, e.g. "https://erp.example.com/odata"
	Adapter          string // Adapter401 or Adapter40 ("" = 4.01)
	Auth             string // one of the Auth constants ("" = basic)
	TokenURL         string // oauth, jwt-bearer: the identity provider's token endpoint
	Scope            string // oauth, jwt-bearer: optional scope
	SigningCert      string // jwt-bearer: optional API name of the org certificate that signs the JWT
	JWTIssuer        string // jwt-bearer: optional iss claim
	JWTSubject       string // jwt-bearer: optional sub claim
	JWTAudience      string // jwt-bearer: optional aud claim
	APIKeyHeader     string // api-key: header name; default "X-API-Key"
	PrivateConnect   string // API name of an outbound network connection (Private Connect); "" = public internet
	Writable         bool   // Writable External Objects
	ServerPaging     bool   // Server Driven Pagination (follow @odata.nextLink)
	Search           bool   // Enable Search (and free-text $search)
	RequestRowCounts bool   // $count=true on every query (4.0; 4.01 always asks)
	CSRF             bool   // CSRF Protection
	CSRFName         string // anti-CSRF header name; default "X-CSRF-Token"
	Compress         bool   // gzip request bodies
	Timeout          int    // seconds, 1..120; 0 = DefaultTimeout
}

// ExternalCredentialName is the API name of the bundle's external credential.
func (o Options) ExternalCredentialName() string { return o.Name + "_Gateway" }

// PermissionSetName is the API name of the bundle's permission set.
func (o Options) PermissionSetName() string { return o.Name + "_Gateway_Access" }

func (o Options) oauth() bool { return o.Auth == AuthClientCredentials || o.Auth == AuthJWTBearer }

// normalize validates o and fills defaults.
func (o Options) normalize() (Options, error) {
	var errs []error
	if msgs := salesforce.CheckName(o.Name); len(msgs) > 0 {
		errs = append(errs, fmt.Errorf("name %q: %s", o.Name, strings.Join(msgs, "; ")))
	}
	if o.Label == "" {
		o.Label = o.Name
	}
	if err := checkURL("url", o.URL, true); err != nil {
		errs = append(errs, err)
	}
	o.URL = strings.TrimRight(o.URL, "/")
	switch o.Adapter {
	case "", "4.01", "401", "OData401":
		o.Adapter = Adapter401
	case "4.0", "4", "40", "OData4":
		o.Adapter = Adapter40
	default:
		errs = append(errs, fmt.Errorf("adapter %q: want 4.01 or 4.0", o.Adapter))
	}
	switch o.Auth {
	case "", authPasswordAlias:
		o.Auth = AuthBasic
	case authClientCredsAlias:
		o.Auth = AuthClientCredentials
	case AuthBasic, AuthBasicHeader, AuthClientCredentials, AuthJWTBearer, AuthAPIKey, AuthAnonymous:
	default:
		errs = append(errs, fmt.Errorf("auth %q: want %s, %s, %s, %s, %s or %s", o.Auth,
			AuthBasic, AuthBasicHeader, AuthClientCredentials, AuthJWTBearer, AuthAPIKey, AuthAnonymous))
	}
	if o.oauth() {
		if o.TokenURL == "" {
			errs = append(errs, fmt.Errorf("token url: required with --auth %s (the identity provider's token endpoint)", o.Auth))
		} else if err := checkURL("token url", o.TokenURL, false); err != nil {
			errs = append(errs, err)
		}
	} else if o.TokenURL != "" || o.Scope != "" {
		errs = append(errs, errors.New("token url and scope are only used with oauth and jwt-bearer"))
	}
	if o.Auth != AuthJWTBearer && (o.SigningCert != "" || o.JWTIssuer != "" || o.JWTSubject != "" || o.JWTAudience != "") {
		errs = append(errs, errors.New("signing certificate and JWT claims are only used with jwt-bearer"))
	}
	if o.SigningCert != "" {
		if msgs := salesforce.CheckName(o.SigningCert); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("signing certificate %q: %s", o.SigningCert, strings.Join(msgs, "; ")))
		}
	}
	if o.Auth == AuthAPIKey {
		if o.APIKeyHeader == "" {
			o.APIKeyHeader = "X-API-Key"
		}
		if !validHeaderName(o.APIKeyHeader) || strings.EqualFold(o.APIKeyHeader, "Authorization") {
			errs = append(errs, fmt.Errorf("api key header %q: want a header name other than Authorization", o.APIKeyHeader))
		}
	} else if o.APIKeyHeader != "" {
		errs = append(errs, errors.New("api key header is only used with api-key"))
	}
	if o.PrivateConnect != "" {
		if msgs := salesforce.CheckName(o.PrivateConnect); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("private connect %q: %s", o.PrivateConnect, strings.Join(msgs, "; ")))
		}
		// "Considerations for Private Connect with AWS" lists the OData 4.01
		// adapter among the supported outbound features, and not 4.0.
		if o.Adapter == Adapter40 {
			errs = append(errs, errors.New("private connect: Salesforce supports outbound Private Connect for the OData 4.01 adapter only; drop --adapter 4.0"))
		}
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

// checkURL validates an absolute https URL (a named credential's URL "must
// begin with https://" and has no query string).
func checkURL(what, s string, serviceRoot bool) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return fmt.Errorf("%s: required", what)
	case err != nil:
		return fmt.Errorf("%s: %v", what, err)
	case u.Scheme == "" || u.Host == "":
		return fmt.Errorf("%s %q: must be an absolute https URL", what, s)
	case u.Scheme != "https":
		return fmt.Errorf("%s %q: must be an absolute https URL (Salesforce named credentials call https only)", what, s)
	case u.User != nil:
		return fmt.Errorf("%s: must not contain credentials", what)
	case serviceRoot && (u.RawQuery != "" || u.Fragment != ""):
		return fmt.Errorf("%s: must be the service root without query or fragment", what)
	}
	return nil
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// File is one generated file: a slash-separated path relative to the bundle
// root and its content.
type File struct {
	Path    string
	Content string
}

const srcDir = "force-app/main/default/"

// Files returns the bundle's files in deployment order without writing them.
// It fails when o is invalid (bad name, URL, adapter, auth or timeout).
func Files(o Options) ([]File, error) {
	o, err := o.normalize()
	if err != nil {
		return nil, err
	}
	return []File{
		{"sfdx-project.json", project(o)},
		{srcDir + "externalCredentials/" + o.ExternalCredentialName() + ".externalCredential-meta.xml", externalCredential(o)},
		{srcDir + "namedCredentials/" + o.Name + ".namedCredential-meta.xml", namedCredential(o)},
		{srcDir + "permissionsets/" + o.PermissionSetName() + ".permissionset-meta.xml", permissionSet(o)},
		{srcDir + "dataSources/" + o.Name + ".dataSource-meta.xml", dataSource(o)},
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

// param is one ExternalCredentialParameter or NamedCredentialParameter; the
// fields are written in alphabetical order, as Salesforce retrieves them.
type param struct {
	certificate, externalCredential, outboundNetworkConnection string
	group, name, typ, value                                    string
	seq                                                        int
}

func (p param) write(b *strings.Builder, elem string) {
	fmt.Fprintf(b, "    <%s>\n", elem)
	field := func(name, text string) {
		if text != "" {
			fmt.Fprintf(b, "        <%s>%s</%s>\n", name, escape(text), name)
		}
	}
	field("certificate", p.certificate)
	field("externalCredential", p.externalCredential)
	field("outboundNetworkConnection", p.outboundNetworkConnection)
	field("parameterGroup", p.group)
	field("parameterName", p.name)
	field("parameterType", p.typ)
	field("parameterValue", p.value)
	if p.seq > 0 {
		field("sequenceNumber", strconv.Itoa(p.seq))
	}
	fmt.Fprintf(b, "    </%s>\n", elem)
}

// protocol returns the external credential's authenticationProtocol.
func protocol(o Options) string {
	switch o.Auth {
	case AuthBasic:
		return "Basic"
	case AuthClientCredentials, AuthJWTBearer:
		return "Oauth"
	}
	return "Custom"
}

func externalCredential(o Options) string {
	ec := o.ExternalCredentialName()
	var ps []param
	switch o.Auth {
	case AuthBasicHeader:
		ps = append(ps, param{group: "DefaultGroup", name: "Authorization", typ: "AuthHeader", seq: 1,
			value: "{!'Basic ' & BASE64ENCODE(BLOB($Credential." + ec + ".Username & ':' & $Credential." + ec + ".Password))}"})
	case AuthAPIKey:
		ps = append(ps, param{group: "DefaultGroup", name: o.APIKeyHeader, typ: "AuthHeader", seq: 1,
			value: "{!$Credential." + ec + ".ApiKey}"})
	case AuthClientCredentials, AuthJWTBearer:
		variant := "ClientCredentialsClientSecret"
		if o.Auth == AuthJWTBearer {
			variant = "JwtBearer"
		}
		ps = append(ps,
			param{group: "DefaultGroup", name: "Oauth", typ: "AuthProtocolVariant", value: variant},
			param{group: "DefaultGroup", name: "AuthProviderUrl", typ: "AuthProviderUrl", value: o.TokenURL})
		if o.Scope != "" {
			ps = append(ps, param{group: "DefaultGroup", name: "Scope", typ: "AuthParameter", value: o.Scope})
		}
		if o.SigningCert != "" {
			ps = append(ps, param{certificate: o.SigningCert, group: "DefaultGroup", name: "SigningCertificate", typ: "SigningCertificate"})
		}
		for _, c := range []struct{ k, v string }{{"iss", o.JWTIssuer}, {"sub", o.JWTSubject}, {"aud", o.JWTAudience}} {
			if c.v != "" {
				ps = append(ps, param{group: "DefaultGroup", name: c.k, typ: "JwtBodyClaim", value: c.v})
			}
		}
	}
	ps = append(ps, param{group: Principal, name: Principal, typ: "NamedPrincipal", seq: 1})

	var b strings.Builder
	b.WriteString(xmlHeader)
	b.WriteString(`<ExternalCredential xmlns="http://soap.sforce.com/2006/04/metadata">` + "\n")
	elem(&b, "authenticationProtocol", protocol(o))
	elem(&b, "description", "How Salesforce authenticates to odatagw at "+o.URL+" (written by odatagw salesforce-bundle; secrets are entered in Setup)")
	for _, p := range ps {
		p.write(&b, "externalCredentialParameters")
	}
	elem(&b, "label", o.Label+" gateway")
	b.WriteString("</ExternalCredential>\n")
	return b.String()
}

func namedCredential(o Options) string {
	typ := "SecuredEndpoint"
	if o.PrivateConnect != "" {
		typ = "PrivateEndpoint"
	}
	var b strings.Builder
	b.WriteString(xmlHeader)
	b.WriteString(`<NamedCredential xmlns="http://soap.sforce.com/2006/04/metadata">` + "\n")
	// Merge fields are not available to external data sources, and the
	// authorization header is required for them (Apex Developer Guide).
	elem(&b, "allowMergeFieldsInBody", "false")
	elem(&b, "allowMergeFieldsInHeader", "false")
	elem(&b, "calloutStatus", "Enabled")
	elem(&b, "description", "odatagw OData service for the External Data Source "+o.Name)
	elem(&b, "generateAuthorizationHeader", "true")
	elem(&b, "label", o.Label)
	param{name: "Url", typ: "Url", value: o.URL}.write(&b, "namedCredentialParameters")
	param{externalCredential: o.ExternalCredentialName(), name: "ExternalCredential", typ: "Authentication"}.write(&b, "namedCredentialParameters")
	if o.PrivateConnect != "" {
		param{outboundNetworkConnection: o.PrivateConnect, name: "OutboundNetworkConnection", typ: "OutboundNetworkConnection"}.write(&b, "namedCredentialParameters")
	}
	elem(&b, "namedCredentialType", typ)
	b.WriteString("</NamedCredential>\n")
	return b.String()
}

func permissionSet(o Options) string {
	var b strings.Builder
	b.WriteString(xmlHeader)
	b.WriteString(`<PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata">` + "\n")
	elem(&b, "description", "Lets users of the "+o.Name+" external objects call odatagw through the "+o.ExternalCredentialName()+" external credential.")
	b.WriteString("    <externalCredentialPrincipalAccesses>\n")
	b.WriteString("        <enabled>true</enabled>\n")
	fmt.Fprintf(&b, "        <externalCredentialPrincipal>%s</externalCredentialPrincipal>\n", escape(o.ExternalCredentialName()+"-"+Principal))
	b.WriteString("    </externalCredentialPrincipalAccesses>\n")
	elem(&b, "hasActivationRequired", "false")
	elem(&b, "label", truncate(o.Label+" gateway access", 80))
	b.WriteString("</PermissionSet>\n")
	return b.String()
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// customConfiguration is the data source's JSON configuration (reference
// §1.7); Salesforce stores every value as a string. The Metadata API
// documents these keys for OData and OData4; OData401 is assumed to take the
// same ones.
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

func dataSourceType(o Options) string {
	if o.Adapter == Adapter40 {
		return "OData4"
	}
	return "OData401"
}

func dataSource(o Options) string {
	var b strings.Builder
	b.WriteString(xmlHeader)
	b.WriteString(`<ExternalDataSource xmlns="http://soap.sforce.com/2006/04/metadata">` + "\n")
	elem(&b, "customConfiguration", customConfiguration(o))
	elem(&b, "endpoint", "callout:"+o.Name)
	elem(&b, "isWritable", strconv.FormatBool(o.Writable))
	elem(&b, "label", o.Label)
	// The named credential authenticates; the data source itself does not.
	elem(&b, "principalType", "Anonymous")
	elem(&b, "protocol", "NoAuthentication")
	elem(&b, "type", dataSourceType(o))
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
