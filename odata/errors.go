package odata

import "fmt"

// SyntaxError is a malformed URL or request body: the option (e.g.
// "$filter", "path" for the resource path, "body" for a JSON request body),
// the byte offset within the option's decoded value or the body (0-based;
// printed 1-based as a column, except for bodies) and what was expected.
// The server answers it with 400.
type SyntaxError struct {
	Option string
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	if e.Option == "body" { // JSON has no lines worth counting
		return fmt.Sprintf("request body, byte %d: %s", e.Offset, e.Msg)
	}
	return fmt.Sprintf("%s:1:%d: %s", e.Option, e.Offset+1, e.Msg)
}

// UnsupportedError is valid OData syntax the gateway does not implement;
// the server answers it with 501.
type UnsupportedError struct {
	Option  string // where it occurred ("$expand", "$filter", "path")
	Feature string // what is not supported, e.g. "$expand" or "lambda operator any"
}

func (e *UnsupportedError) Error() string {
	if e.Option == "" || e.Option == e.Feature {
		return e.Feature + " is not supported"
	}
	return fmt.Sprintf("%s: %s is not supported", e.Option, e.Feature)
}
