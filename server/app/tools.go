package app

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/internal/conformance"
	"github.com/odatagw/odatagw/internal/sfbundle"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/metadata/salesforce"
)

// takeFlag removes a boolean flag (--name or -name) from args.
func takeFlag(args []string, name string) ([]string, bool) {
	out := args[:0:0]
	found := false
	for _, a := range args {
		if a == "--"+name || a == "-"+name || a == "--"+name+"=true" {
			found = true
			continue
		}
		out = append(out, a)
	}
	return out, found
}

// introspect prints the Salesforce view of the model.
func introspect(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	args, asJSON := takeFlag(args, "json")
	c, _, err := Load("introspect", Sources{Args: args, Env: getenv, Stderr: stderr})
	if err != nil {
		fmt.Fprintln(stderr, "odatagw:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ad, model, warns, code := openModel(ctx, c, stderr)
	if code != 0 {
		return code
	}
	defer ad.Close()
	reports := salesforce.Report(model)
	if asJSON {
		err = salesforce.WriteJSON(stdout, reports)
	} else {
		for _, w := range warns {
			fmt.Fprintf(stdout, "skipped or renamed: %s\n", w)
		}
		if len(warns) > 0 {
			fmt.Fprintln(stdout)
		}
		err = salesforce.WriteText(stdout, reports)
	}
	if err != nil {
		fmt.Fprintln(stderr, "odatagw:", err)
		return 1
	}
	if errs, _ := salesforce.Problems(reports); errs > 0 {
		return 1
	}
	return 0
}

// check validates a remote OData service.
func runCheck(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	args, bar, err := takeProgress(args, stderr, getenv)
	if err != nil {
		fmt.Fprintln(stderr, "odatagw check:", err)
		return 2
	}
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o conformance.Options
	fs.StringVar(&o.User, "user", getenv("ODATAGW_CHECK_USER"), "Basic user (env ODATAGW_CHECK_USER)")
	fs.StringVar(&o.Password, "password", "", "Basic password (env ODATAGW_CHECK_PASSWORD; prefer the env var)")
	fs.StringVar(&o.Bearer, "bearer", "", "Bearer token (env ODATAGW_CHECK_BEARER; prefer the env var)")
	fs.BoolVar(&o.Writes, "writes", false, "also create, update and delete a scratch row per writable set")
	fs.BoolVar(&o.JSON, "json", false, "print the results as JSON")
	fs.IntVar(&o.MaxRows, "max-rows", 20000, "cap on rows walked per set")
	fs.DurationVar(&o.Timeout, "timeout", 60*time.Second, "per-request timeout")
	var sets string
	fs.StringVar(&sets, "sets", "", "comma-separated entity sets to check (default all)")
	// Accept the URL before or after the flags.
	var url string
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		url, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if url == "" && fs.NArg() > 0 {
		url = fs.Arg(0)
	}
	if url == "" {
		fmt.Fprintln(stderr, "usage: odatagw check SERVICE-URL [--user U --password P | --bearer T] [--writes] [--json] [--progress[=on|plain|off]]")
		return 2
	}
	o.URL = url
	if o.Password == "" {
		o.Password = getenv("ODATAGW_CHECK_PASSWORD")
	}
	if o.Bearer == "" {
		o.Bearer = getenv("ODATAGW_CHECK_BEARER")
	}
	if sets != "" {
		o.Sets = append(o.Sets, splitList(sets)...)
	}
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer cancel()
	bar.Start("check", 0)
	defer bar.Done()
	o.Progress = func(s conformance.Step) {
		bar.SetTotal(s.Total)
		switch {
		case s.Check == "":
			bar.Update(s.Done, "")
			bar.Done() // before the report
		case s.Set == "":
			bar.Update(s.Done, s.Check)
		default:
			bar.Update(s.Done, s.Set+": "+s.Check)
		}
	}
	failed, err := conformance.Run(ctx, o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "odatagw check:", err)
		return 2
	}
	if failed {
		return 1
	}
	return 0
}

func splitList(s string) []string {
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// bundle writes the Salesforce metadata bundle.
func bundle(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("salesforce-bundle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o sfbundle.Options
	dir := fs.String("out", "salesforce", "directory to write the bundle into")
	fs.StringVar(&o.Name, "name", "ERP", "API name of the Named Credential and External Data Source (the External Credential is NAME_Gateway, the permission set NAME_Gateway_Access)")
	fs.StringVar(&o.Label, "label", "", "label shown in Salesforce Setup (default: the name)")
	fs.StringVar(&o.URL, "url", getenv("ODATAGW_PUBLIC_URL"), "public https service root URL, e.g. https://erp.example.com/odata (env ODATAGW_PUBLIC_URL, then /odata is appended when missing)")
	fs.StringVar(&o.Adapter, "adapter", sfbundle.Adapter401, "Salesforce Connect adapter: 4.01 (type OData401) or 4.0 (type OData4)")
	fs.StringVar(&o.Auth, "auth", sfbundle.AuthBasic, "External Credential protocol: basic (alias password), basic-header, oauth (client credentials), jwt-bearer, api-key or anonymous")
	fs.StringVar(&o.TokenURL, "token-url", "", "oauth, jwt-bearer: the identity provider's token endpoint (https)")
	fs.StringVar(&o.Scope, "scope", "", "oauth, jwt-bearer: scope to request")
	fs.StringVar(&o.SigningCert, "signing-certificate", "", "jwt-bearer: API name of the org certificate that signs the JWT")
	fs.StringVar(&o.JWTIssuer, "jwt-issuer", "", "jwt-bearer: iss claim")
	fs.StringVar(&o.JWTSubject, "jwt-subject", "", "jwt-bearer: sub claim")
	fs.StringVar(&o.JWTAudience, "jwt-audience", "", "jwt-bearer: aud claim")
	fs.StringVar(&o.APIKeyHeader, "api-key-header", "", "api-key: header that carries the key (default X-API-Key)")
	fs.StringVar(&o.PrivateConnect, "private-connect", "", "API name of a provisioned Private Connect outbound network connection (4.01 adapter only)")
	fs.BoolVar(&o.Writable, "writable", true, "Writable External Objects")
	fs.BoolVar(&o.ServerPaging, "server-paging", true, "Server Driven Pagination")
	fs.BoolVar(&o.Search, "search", true, "Enable Search with free-text search expressions")
	fs.BoolVar(&o.RequestRowCounts, "row-counts", true, "Request Row Counts")
	fs.BoolVar(&o.CSRF, "csrf", false, "CSRF Protection (enable csrf in the gateway too)")
	fs.StringVar(&o.CSRFName, "csrf-header", "X-CSRF-Token", "anti-CSRF header name")
	fs.BoolVar(&o.Compress, "compress", false, "Compress Requests (gzip bodies)")
	fs.IntVar(&o.Timeout, "timeout", 120, "connection timeout in seconds (at most 120)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if o.URL != "" && !hasPathAfterHost(o.URL) {
		o.URL = o.URL + "/odata"
	}
	if err := sfbundle.Write(*dir, o); err != nil {
		fmt.Fprintln(stderr, "odatagw salesforce-bundle:", err)
		return 2
	}
	fmt.Fprintf(stdout, "wrote %s (deploy with: sf project deploy start -d %s/force-app)\n", *dir, *dir)
	return 0
}

func hasPathAfterHost(u string) bool {
	rest := u
	if i := strings.Index(u, "://"); i >= 0 {
		rest = u[i+3:]
	}
	i := strings.Index(rest, "/")
	return i >= 0 && i < len(rest)-1
}

// openModel opens the configured database and introspects it, for the
// commands that work on the model (introspect, track); on failure it says
// why on stderr and returns the exit code (0 on success). The caller closes
// the adapter.
func openModel(ctx context.Context, c Config, stderr io.Writer) (adapters.Adapter, *metadata.Model, []metadata.Warning, int) {
	c.LogLevel = "warn"
	ad, err := OpenAdapter(ctx, c, NewLogger(c, stderr))
	if err != nil {
		fmt.Fprintln(stderr, "odatagw:", err)
		return nil, nil, nil, 1
	}
	ov, err := c.Overlay()
	if err != nil {
		ad.Close()
		fmt.Fprintln(stderr, "odatagw:", err)
		return nil, nil, nil, 2
	}
	model, warns, err := ad.Model(ctx, ov)
	if err != nil {
		ad.Close()
		fmt.Fprintln(stderr, "odatagw:", err)
		return nil, nil, nil, 1
	}
	return ad, model, warns, 0
}
