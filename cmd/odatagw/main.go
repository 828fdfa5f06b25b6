// Command odatagw is an OData 4.0 gateway for Salesforce Connect in front of
// PostgreSQL (or an embedded SQLite demo database).
//
//	odatagw serve [flags]              run the gateway
//	odatagw config [flags]             print the effective configuration (secrets masked)
//	odatagw introspect [flags] [--json]  show the Salesforce field types and warnings of the model
//	odatagw check URL [flags]          validate any OData 4 service against Salesforce's needs
//	odatagw salesforce-bundle [flags]  write Salesforce metadata (External Data Source, Named Credential)
//	odatagw hash-password              read a password on stdin, print its bcrypt hash
//	odatagw hash-api-key               read an API key on stdin, print its SHA-256 hash
//	odatagw version                    print the version
package main

import (
	"os"

	"github.com/odatagw/odatagw/server/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}
