package server

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// canceledQuery answers every query the way lib/pq does when the request's
// context ends during a statement: the database's "canceling statement"
// error, which the PostgreSQL adapter classifies as a timeout.
type canceledQuery struct{ adapters.Adapter }

func (canceledQuery) Query(context.Context, *semantic.Query, int64) (adapters.Rows, error) {
	return nil, adapters.Errorf(adapters.Timeout, nil, "the query took too long and was canceled")
}

// TestCanceledRequestAnswers: a request whose context the shutdown canceled
// is answered 503 with Retry-After and Connection: close; one whose client
// went away is logged as 499 (not as a 504 timeout) and answered nothing.
func TestCanceledRequestAnswers(t *testing.T) {
	id := &metadata.Property{Name: "id", Column: "id", Type: metadata.Int32}
	set := &metadata.EntitySet{Name: "t", Table: "t", Kind: metadata.KindTable,
		Properties: []*metadata.Property{id}, Key: []*metadata.Property{id}}
	var logs bytes.Buffer
	s := New(Config{TokenKey: []byte("0123456789abcdef0123456789abcdef")}, Deps{
		Adapter: canceledQuery{}, Model: metadata.NewModel("test", nil, set), Log: zerolog.New(&logs),
	})

	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(ErrShutdown)
	w := httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/odata/t", nil).WithContext(ctx))
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || w.Header().Get("Connection") != "close" {
		t.Errorf("shutdown: %d %v %s", w.Code, w.Header(), w.Body)
	}

	ctx, stop := context.WithCancel(context.Background())
	stop()
	logs.Reset()
	w = httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/odata/t", nil).WithContext(ctx))
	if w.Body.Len() != 0 || !strings.Contains(logs.String(), `"status":499`) {
		t.Errorf("client gone: answered %d %s; log %s", w.Code, w.Body, logs.String())
	}

	// A cancellation of the gateway's own (the long-lane watchdog) is not
	// taken for a client that left.
	ctx, cancel = context.WithCancelCause(context.Background())
	cancel(errLongLaneFull)
	w = httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/odata/t", nil).WithContext(ctx))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("long lane full: %d %s", w.Code, w.Body)
	}

	// A live request still gets the timeout.
	w = httptest.NewRecorder()
	s.Handler().ServeHTTP(w, httptest.NewRequest("GET", "/odata/t", nil))
	if w.Code != http.StatusGatewayTimeout {
		t.Errorf("live request: %d %s", w.Code, w.Body)
	}
}
