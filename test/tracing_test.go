package test

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// collector is an in-process OTLP/HTTP trace receiver.
type collector struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans = append(c.spans, ss.Spans...)
		}
	}
	c.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

// TestTracing: with otlp_endpoint, a request continues the caller's trace
// (W3C traceparent) with one server span and child spans for parse, bind,
// sql and stream, exported over OTLP/HTTP; the access log names the trace.
func TestTracing(t *testing.T) {
	t.Parallel()
	col := &collector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	c := fixtureConfig(fixtureDSN(t))
	c.OTLPEndpoint = srv.URL + "/v1/traces"
	g := start(t, c)
	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	r := g.do("GET", "/odata/Customers?$select=CustomerID&$top=2", nil, "traceparent", "00-"+traceID+"-"+parentID+"-01")
	if r.Status != 200 {
		t.Fatalf("%d %s", r.Status, r.Body)
	}
	if err := g.g.FlushTraces(context.Background()); err != nil {
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	var root *tracepb.Span
	children := map[string]string{} // name -> parent span id
	for _, s := range col.spans {
		if hex.EncodeToString(s.TraceId) != traceID {
			continue
		}
		if s.Name == "odatagw GET" {
			root = s
		}
	}
	if root == nil {
		t.Fatalf("no server span in trace %s among %d spans", traceID, len(col.spans))
	}
	if hex.EncodeToString(root.ParentSpanId) != parentID || root.Kind != tracepb.Span_SPAN_KIND_SERVER {
		t.Errorf("server span: parent %x kind %v", root.ParentSpanId, root.Kind)
	}
	for _, s := range col.spans {
		if hex.EncodeToString(s.TraceId) == traceID && s != root {
			children[s.Name] = hex.EncodeToString(s.ParentSpanId)
		}
	}
	var names []string
	for n, p := range children {
		names = append(names, n)
		if p != hex.EncodeToString(root.SpanId) {
			t.Errorf("span %s is not a child of the server span", n)
		}
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "bind,parse,sql,stream" {
		t.Errorf("child spans %v, want bind, parse, sql, stream", names)
	}
	if !strings.Contains(g.logs(), `"trace_id":"`+traceID+`"`) {
		t.Errorf("access log without the trace id")
	}
}
