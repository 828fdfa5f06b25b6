package sfbundle

import (
	"fmt"
	"strings"
)

func readme(o Options) string {
	ec, ps := o.ExternalCredentialName(), o.PermissionSetName()
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	adapter := "OData 4.01 (type OData401)"
	if o.Adapter == Adapter40 {
		adapter = "OData 4.0 (type OData4)"
	}
	w("Salesforce Connect bundle for %s (%s)\n\n", o.Label, o.URL)
	w("Contents (Salesforce DX source format, in deployment order):\n")
	w("  1. externalCredentials/%s.externalCredential-meta.xml\n", ec)
	w("     how Salesforce authenticates (%s), principal %s\n", authSummary(o), Principal)
	w("  2. namedCredentials/%s.namedCredential-meta.xml\n", o.Name)
	if o.PrivateConnect != "" {
		w("     the service URL, type PrivateEndpoint through outbound network connection %s\n", o.PrivateConnect)
	} else {
		w("     the service URL, type SecuredEndpoint, uses %s\n", ec)
	}
	w("  3. permissionsets/%s.permissionset-meta.xml\n", ps)
	w("     grants the principal %s-%s\n", ec, Principal)
	w("  4. dataSources/%s.dataSource-meta.xml\n", o.Name)
	w("     %s external data source, URL callout:%s\n\n", adapter, o.Name)

	if o.PrivateConnect != "" {
		w("Before deploying: the outbound network connection %s must exist and be\n", o.PrivateConnect)
		w("provisioned (Setup > Private Connect > Outbound Connections, status Ready).\n")
		w("With AWS: put the gateway behind a Network Load Balancer and a VPC endpoint\n")
		w("service; add the IAM role Salesforce lists for your region (Setup > Private\n")
		w("Connect > AWS Regions) to the endpoint service's allowed principals; create\n")
		w("the outbound connection in Setup with the endpoint service name; Provision\n")
		w("it; accept the endpoint connection in AWS if the service requires acceptance;\n")
		w("wait for Ready. The named credential's URL host must resolve to the gateway\n")
		w("through that endpoint service (a TLS certificate valid for that host).\n\n")
	}
	w("Deploy with the Salesforce CLI from this directory:\n\n")
	w("  sf org login web --alias myorg\n")
	w("  sf project deploy start -d force-app --target-org myorg\n\n")
	w("One deployment should order the four types itself (not confirmed in the\n")
	w("public documentation). If it reports a missing external credential, deploy\n")
	w("them one after the other:\n\n")
	w("  sf project deploy start -m ExternalCredential:%s --target-org myorg\n", ec)
	w("  sf project deploy start -m NamedCredential:%s --target-org myorg\n", o.Name)
	w("  sf project deploy start -m PermissionSet:%s --target-org myorg\n", ps)
	w("  sf project deploy start -m ExternalDataSource:%s --target-org myorg\n\n", o.Name)

	w("Credentials are never written to these files. After deploying:\n\n")
	w("  1. Setup > Named Credentials > External Credentials > %s > Principals >\n", ec)
	w("     %s > Edit, and enter:\n", Principal)
	switch o.Auth {
	case AuthBasic:
		w("       Username and Password of the gateway user (auth.basic).\n")
		w("     Salesforce sends Authorization: Basic base64(user:password).\n")
	case AuthBasicHeader:
		w("       two Authentication Parameters named Username and Password (the gateway\n")
		w("       user of auth.basic). The external credential's Authorization header\n")
		w("       formula builds Basic base64(Username:Password) from them.\n")
	case AuthClientCredentials:
		w("       Client ID and Client Secret of the client registered at your identity\n")
		w("       provider. Salesforce gets a token from %s\n", o.TokenURL)
		w("       (client credentials) and sends Authorization: Bearer <token>.\n")
	case AuthJWTBearer:
		w("       nothing secret: the principal only needs to exist. Check on the external\n")
		w("       credential that the Signing Certificate (Setup > Certificate and Key\n")
		w("       Management) and the JWT claims iss, sub and aud are what your identity\n")
		w("       provider expects, and register that certificate there.\n")
		w("     Salesforce signs a JWT, exchanges it at %s\n", o.TokenURL)
		w("     and sends Authorization: Bearer <token>.\n")
	case AuthAPIKey:
		w("       an Authentication Parameter named ApiKey holding the key (its SHA-256\n")
		w("       is in the gateway's auth.api_keys). Salesforce sends it as %s.\n", o.APIKeyHeader)
	case AuthAnonymous:
		w("       nothing: the service is called without a credential. Only for demo data\n")
		w("       on a private network.\n")
	}
	w("  2. Setup > Permission Sets > %s > Manage Assignments: assign it to\n", ps)
	w("     every user who reads or writes the external objects (and to yourself\n")
	w("     before Validate and Sync). Without it Salesforce sends no credential.\n")
	w("  3. Setup > External Data Sources > %s > Validate and Sync, pick the tables.\n", o.Name)
	w("     Then give the same permission set access to the new external objects.\n")
	if o.Search {
		w("  4. Edit the data source and tick \"Use Free-Text Search Expressions\" so that\n")
		w("     search sends $search (the Metadata API has no key for it).\n")
	}
	w("\nRun `odatagw introspect` first to see the field types and warnings Salesforce will get,\n")
	w("and `odatagw check %s` to test the service the way Salesforce calls it.\n\n", o.URL)

	w("Data source settings in this bundle:\n")
	w("  Adapter                       %s\n", adapter)
	w("  Writable External Objects     %s\n", yesNo(o.Writable))
	w("  Server Driven Pagination      %s\n", yesNo(o.ServerPaging))
	if o.Adapter == Adapter401 {
		w("  Request Row Counts            %s (the 4.01 adapter sends $count=true on every query anyway)\n", yesNo(o.RequestRowCounts))
	} else {
		w("  Request Row Counts            %s\n", yesNo(o.RequestRowCounts))
	}
	w("  Enable Search                 %s\n", yesNo(o.Search))
	w("  CSRF Protection               %s\n", csrf(o))
	w("  Compress Requests             %s\n", yesNo(o.Compress))
	w("  Connection Timeout            %d s\n", o.Timeout)
	if o.Adapter == Adapter401 && o.Writable {
		w("\nOn the 4.01 adapter every write is a synchronous callout: Database.insertAsync,\n")
		w("updateAsync, deleteAsync and upsertAsync are not supported (Salesforce KB 005390577);\n")
		w("use the Immediate variants or DML.\n")
	}

	w("\nNot confirmed by public Salesforce documentation (check on a sandbox):\n")
	for _, s := range uncertain(o) {
		w("  - %s\n", s)
	}
	return b.String()
}

func authSummary(o Options) string {
	switch o.Auth {
	case AuthBasic:
		return "protocol Basic"
	case AuthBasicHeader:
		return "protocol Custom, Authorization header formula for HTTP Basic"
	case AuthClientCredentials:
		return "OAuth 2.0 client credentials with client secret"
	case AuthJWTBearer:
		return "OAuth 2.0 JWT bearer flow"
	case AuthAPIKey:
		return "protocol Custom, API key in " + o.APIKeyHeader
	}
	return "protocol Custom without a header: no authentication"
}

// uncertain lists what the bundle infers rather than reads from Salesforce's
// documentation, for the options in use.
func uncertain(o Options) []string {
	var out []string
	switch o.Auth {
	case AuthBasic:
		out = append(out, "the Basic protocol needs a recent org (it is in the API 66 references, not in API 62);"+
			" on an org that rejects it, use --auth basic-header")
	case AuthBasicHeader, AuthAPIKey:
		out = append(out, "the header formula on the external credential is evaluated for external data source"+
			" callouts with Allow Formulas in HTTP Header (allowMergeFieldsInHeader) off; if the header arrives"+
			" empty or literal, tick it on the named credential")
	case AuthClientCredentials, AuthJWTBearer:
		out = append(out, "the parameter names Oauth (AuthProtocolVariant), AuthProviderUrl and Scope come from"+
			" retrieved orgs, not from the Metadata API guide")
	case AuthAnonymous:
		out = append(out, "a Custom external credential with only a principal as the \"no authentication\" form")
	}
	if o.Adapter == Adapter401 {
		out = append(out, "type OData401 taking the same customConfiguration keys as OData4")
	}
	if o.PrivateConnect != "" {
		out = append(out, "namedCredentialType PrivateEndpoint with both the external credential and the"+
			" outbound network connection (the Metadata API ties OutboundNetworkConnection to PrivateEndpoint)")
	}
	return out
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
