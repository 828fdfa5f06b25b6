package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/jsonfmt"
	"github.com/odatagw/odatagw/odata/semantic"
	"github.com/odatagw/odatagw/server/auth"
)

// Error codes in OData error bodies. They are stable; clients may rely on them.
//
//	InvalidSyntax        400  malformed URL, query option, literal or JSON body
//	InvalidQuery         400  well-formed but does not fit the model (unknown property, type mismatch)
//	LimitExceeded        400  a configured size limit ($filter depth, in-list length, ...)
//	InvalidValue         400  a write with values that do not fit the model (see details)
//	ConstraintViolation  400  the database rejected a value (check, not-null, range)
//	Unauthorized         401  missing or invalid credentials
//	Forbidden            403  not permitted (permissions, row filters, CSRF)
//	NotFound             404  unknown entity set or key
//	MethodNotAllowed     405  method not valid for the resource (read-only sets)
//	NotAcceptable        406  a response format the gateway does not produce
//	Conflict             409  unique or foreign-key violation
//	PreconditionFailed   412  If-Match did not match the entity's ETag
//	PayloadTooLarge      413  request body over the limit
//	URITooLong           414  request URL over the limit
//	UnsupportedMediaType 415  request body not JSON
//	TooManyRequests      429  per-principal rate limit
//	InternalError        500  a bug or unexpected failure (details are only in the log)
//	NotImplemented       501  valid OData the gateway does not implement
//	Unavailable          503  database unreachable or saturated; retry later
//	Timeout              504  the query exceeded the statement timeout
//	OutcomeUnknown       504  the database connection broke during a commit and
//	                          the outcome could not be found out: check before retrying
//	Gone                 410  a delta link older than the change log keeps, or of
//	                          a set no longer tracked: start tracking again
//	FailedDependency     424  a $batch request not run (or rolled back) because
//	                          another it depends on failed
const (
	codeInvalidSyntax        = "InvalidSyntax"
	codeInvalidQuery         = "InvalidQuery"
	codeLimitExceeded        = "LimitExceeded"
	codeInvalidValue         = "InvalidValue"
	codeConstraint           = "ConstraintViolation"
	codeUnauthorized         = "Unauthorized"
	codeForbidden            = "Forbidden"
	codeNotFound             = "NotFound"
	codeMethodNotAllowed     = "MethodNotAllowed"
	codeNotAcceptable        = "NotAcceptable"
	codeConflict             = "Conflict"
	codePreconditionFailed   = "PreconditionFailed"
	codePayloadTooLarge      = "PayloadTooLarge"
	codeURITooLong           = "URITooLong"
	codeUnsupportedMediaType = "UnsupportedMediaType"
	codeTooManyRequests      = "TooManyRequests"
	codeInternal             = "InternalError"
	codeNotImplemented       = "NotImplemented"
	codeUnavailable          = "Unavailable"
	codeTimeout              = "Timeout"
	codeOutcomeUnknown       = "OutcomeUnknown"
	codeFailedDependency     = "FailedDependency"
	codeGone                 = "Gone"
)

// httpError is an error the server itself raises, already shaped for HTTP.
type httpError struct {
	status  int
	code    string
	msg     string
	target  string
	details []jsonfmt.ErrorDetail
	header  http.Header
}

func (e *httpError) Error() string { return e.msg }

func newHTTPError(status int, code, format string, args ...any) *httpError {
	return &httpError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// problem is the response for one error.
type problem struct {
	status   int
	code     string
	msg      string
	target   string
	details  []jsonfmt.ErrorDetail
	header   http.Header
	internal bool // log at error level, answer generically
}

// classify is the one table mapping every error kind of every stage to an
// HTTP status and an OData error code.
func classify(err error) problem {
	var (
		he *httpError
		se *odata.SyntaxError
		ue *odata.UnsupportedError
		be *semantic.Error
		ae *adapters.Error
		ce *auth.Error
	)
	switch {
	case errors.As(err, &he):
		return problem{status: he.status, code: he.code, msg: he.msg, target: he.target, details: he.details, header: he.header}
	case errors.As(err, &se):
		return problem{status: http.StatusBadRequest, code: codeInvalidSyntax, msg: se.Error(), target: se.Option}
	case errors.As(err, &ue):
		return problem{status: http.StatusNotImplemented, code: codeNotImplemented, msg: ue.Error(), target: ue.Option}
	case errors.As(err, &be):
		p := problem{msg: be.Error(), target: be.Target}
		if p.target == "" {
			p.target = be.Option
		}
		switch be.Kind {
		case semantic.NotFound:
			p.status, p.code = http.StatusNotFound, codeNotFound
		case semantic.NotImplemented:
			p.status, p.code = http.StatusNotImplemented, codeNotImplemented
		case semantic.LimitExceeded:
			p.status, p.code = http.StatusBadRequest, codeLimitExceeded
		case semantic.InvalidValue:
			p.status, p.code = http.StatusBadRequest, codeInvalidValue
			for _, d := range be.Details {
				p.details = append(p.details, jsonfmt.ErrorDetail{Code: codeInvalidValue, Message: d.Msg, Target: d.Target})
			}
		default:
			p.status, p.code = http.StatusBadRequest, codeInvalidQuery
		}
		return p
	case errors.As(err, &ce):
		p := problem{status: ce.Status, code: codeUnauthorized, msg: ce.Msg}
		if ce.Status == http.StatusForbidden {
			p.code = codeForbidden
		}
		if ce.Challenge != "" {
			p.header = http.Header{"Www-Authenticate": {ce.Challenge}}
		}
		return p
	case errors.As(err, &ae):
		p := problem{msg: ae.Msg, target: ae.Target}
		switch ae.Kind {
		case adapters.Invalid:
			p.status, p.code = http.StatusBadRequest, codeInvalidValue
		case adapters.OutcomeUnknown:
			p.status, p.code = http.StatusGatewayTimeout, codeOutcomeUnknown
		case adapters.NotFound:
			p.status, p.code = http.StatusNotFound, codeNotFound
		case adapters.Conflict:
			p.status, p.code = http.StatusConflict, codeConflict
		case adapters.Constraint:
			p.status, p.code = http.StatusBadRequest, codeConstraint
		case adapters.Forbidden:
			p.status, p.code = http.StatusForbidden, codeForbidden
		case adapters.PreconditionFailed:
			p.status, p.code = http.StatusPreconditionFailed, codePreconditionFailed
		case adapters.Timeout:
			p.status, p.code = http.StatusGatewayTimeout, codeTimeout
		case adapters.Unavailable:
			p.status, p.code = http.StatusServiceUnavailable, codeUnavailable
			p.header = http.Header{"Retry-After": {"2"}}
		case adapters.NotImplemented:
			p.status, p.code = http.StatusNotImplemented, codeNotImplemented
		case adapters.Canceled:
			p.status, p.code = 499, "Canceled"
		default:
			p.status, p.code, p.internal = http.StatusInternalServerError, codeInternal, true
		}
		return p
	}
	return problem{status: http.StatusInternalServerError, code: codeInternal, internal: true}
}

// writeError answers err as an OData error body. Internal errors are logged
// in full and answered with a generic message and the request id.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(context.Cause(r.Context()), errLongLaneFull) {
		// The query failed because the gateway canceled it, not the client.
		e := newHTTPError(http.StatusServiceUnavailable, codeUnavailable,
			"the gateway is busy with long-running queries; retry shortly")
		e.header = http.Header{"Retry-After": {"5"}}
		err = e
	}
	p := classify(err)
	switch {
	case errors.Is(context.Cause(r.Context()), ErrShutdown):
		// Canceled by the shutdown (whatever the adapter made of the
		// canceled query), not by the client: it is still there.
		p = problem{status: http.StatusServiceUnavailable, code: codeUnavailable,
			msg:    "the gateway is shutting down; retry",
			header: http.Header{"Retry-After": {"1"}, "Connection": {"close"}}}
	case errors.Is(context.Cause(r.Context()), context.Canceled) && !p.internal:
		// The client went away (the request's context ends with its
		// connection, without a cause of the gateway's own). lib/pq reports
		// the canceled statement like a timed-out one; log and count it as
		// what it is, and answer nobody.
		p.status, p.code = 499, "Canceled"
	}
	info := requestInfo(r)
	if p.internal {
		p.msg = "Internal error. Quote request id " + info.id + " to the operator."
		s.log.Error().Str("request_id", info.id).Err(err).Msg("internal error")
	} else if p.status >= 500 && p.status != 501 {
		s.log.Warn().Str("request_id", info.id).Err(err).Int("status", p.status).Msg("request failed")
	}
	// Authentication and authorization failures answer a generic message;
	// the reason (never a credential, see auth.Error) goes to the log so
	// that operators can tell an expired token from a wrong audience.
	var ae *auth.Error
	if errors.As(err, &ae) && ae.Reason != "" {
		s.log.Info().Str("request_id", info.id).Int("status", ae.Status).Str("reason", ae.Reason).Msg("access denied")
	}
	if info != nil {
		info.errMsg, info.err = p.code, err
	}
	if p.status == 499 { // client went away: nothing to answer
		info.status = 499
		return
	}
	for k, vs := range p.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	body := jsonfmt.AppendError(nil, p.code, p.msg, p.target, p.details, info.id)
	h := w.Header()
	h.Set("Content-Type", "application/json;odata.metadata=minimal")
	h.Set("Content-Language", "en") // the language of the message (OData JSON Format §21.1)
	h.Set("OData-Version", "4.0")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Del("Content-Encoding")
	w.WriteHeader(p.status)
	_, _ = w.Write(body)
}
