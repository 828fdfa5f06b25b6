package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/odatagw/odatagw/adapters"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
	"github.com/odatagw/odatagw/server/guard"
)

// panicking is an adapter whose every call panics: the stand-in for a bug
// anywhere below a handler. (It simulates no database behaviour; the real
// backends are tested against real databases.)
type panicking struct{ adapters.Adapter }

func (panicking) Query(context.Context, *semantic.Query, int64) (adapters.Rows, error) {
	panic("bug in Query")
}
func (panicking) Count(context.Context, *semantic.Query) (adapters.Count, error) {
	panic("bug in Count")
}
func (panicking) Insert(context.Context, *adapters.Write) (adapters.Row, error) {
	panic("bug in Insert")
}
func (panicking) Delete(context.Context, *adapters.Write) error { panic("bug in Delete") }

// TestPanicReleasesTheSlot: a handler that panics after taking the only
// database slot answers 500 and gives the slot back, so the next request
// is served (500 again here), not refused with 503 for ever.
func TestPanicReleasesTheSlot(t *testing.T) {
	id := &metadata.Property{Name: "id", Column: "id", Type: metadata.Int32}
	name := &metadata.Property{Name: "name", Column: "name", Type: metadata.String, Nullable: true}
	set := &metadata.EntitySet{Name: "t", Table: "t", Kind: metadata.KindTable,
		Properties: []*metadata.Property{id, name}, Key: []*metadata.Property{id}}
	limiter := guard.NewLimiter(1, 0, time.Second)
	s := New(Config{TokenKey: []byte("0123456789abcdef0123456789abcdef")}, Deps{
		Adapter: panicking{}, Model: metadata.NewModel("test", nil, set), Log: zerolog.Nop(), DBLimiter: limiter,
	})
	requests := []struct{ method, path, body string }{
		{"GET", "/odata/t", ""},
		{"GET", "/odata/t(1)", ""},
		{"GET", "/odata/t/$count", ""},
		{"POST", "/odata/t", `{"id":1}`},
		{"DELETE", "/odata/t(1)", ""},
		{"GET", "/odata/t", ""},
	}
	for _, rq := range requests {
		req := httptest.NewRequest(rq.method, rq.path, strings.NewReader(rq.body))
		if rq.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		w := httptest.NewRecorder()
		s.Handler().ServeHTTP(w, req)
		if w.Code != http.StatusInternalServerError {
			t.Errorf("%s %s: %d %s, want 500", rq.method, rq.path, w.Code, w.Body)
		}
		if in, _ := limiter.Stats(); in != 0 {
			t.Fatalf("%s %s: %d slots still held after the answer", rq.method, rq.path, in)
		}
	}
}
