package server

import (
	"net/http"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Tracing (OpenTelemetry, off unless the composition root passes a tracer
// provider): one span per request, continuing the caller's W3C traceparent,
// with child spans for the stages of the pipeline: parse, bind, sql (each
// database call) and stream (writing a page). The trace id goes into the
// access log. No global state: each Server has its own provider.

const tracerName = "github.com/odatagw/odatagw/server"

// propagator reads an incoming traceparent/tracestate.
var propagator = propagation.TraceContext{}

func tracerOf(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer(tracerName)
}

// traceRequests starts the request's span and records its trace id.
func (s *Server) traceRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := propagator.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		ctx, span := s.tracer.Start(ctx, "odatagw "+r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("url.path", r.URL.EscapedPath())))
		ri := requestInfo(r)
		if sc := span.SpanContext(); sc.HasTraceID() {
			ri.traceID = sc.TraceID().String()
		}
		defer func() {
			span.SetAttributes(attribute.Int("http.response.status_code", ri.status))
			if ri.status >= 500 {
				span.SetStatus(codes.Error, ri.errMsg)
			}
			span.End()
		}()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// stage starts a child span of r's request span for one pipeline stage;
// the returned function ends it with the stage's error.
func (s *Server) stage(r *http.Request, name string) func(error) {
	_, span := s.tracer.Start(r.Context(), name)
	return func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}
