package edm

import (
	"math"
	"testing"
	"time"

	"github.com/odatagw/odatagw/metadata"
)

// The ETag text format is part of every ETag ever issued: these values were
// produced by the implementation before it moved here and must not change.
func TestETagFormatIsStable(t *testing.T) {
	props := []*metadata.Property{
		{Name: "b", Type: metadata.Boolean}, {Name: "i", Type: metadata.Int64}, {Name: "f", Type: metadata.Double},
		{Name: "d", Type: metadata.Decimal}, {Name: "s", Type: metadata.String}, {Name: "g", Type: metadata.Guid},
		{Name: "x", Type: metadata.Binary}, {Name: "dt", Type: metadata.Date}, {Name: "ts", Type: metadata.DateTimeOffset},
		{Name: "tod", Type: metadata.TimeOfDay}, {Name: "dur", Type: metadata.Duration}, {Name: "n", Type: metadata.String, Nullable: true},
	}
	vals := []Value{{Bool: true}, {Int: -42}, {Float: math.Inf(-1)}, {Text: []byte("12.50")}, {Text: []byte("a=b;c")},
		{Text: []byte("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")}, {Text: []byte{0xfb, 0xff}}, {Time: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)},
		{Time: time.Date(2024, 2, 29, 10, 30, 0, 123456000, time.UTC)}, {Dur: 10*time.Hour + 5*time.Microsecond}, {Dur: -90 * time.Minute}, {Null: true}}

	for i, p := range props {
		p.Index = i // as in a built model (metadata.NewModel)
	}
	hash := &metadata.EntitySet{Name: "S", Properties: props, ETagHash: true}
	if got, want := ETag([]byte("key"), hash, props, vals), `W/"hXiSUQAKhubsQleY"`; got != want {
		t.Errorf("hash ETag = %s, want %s", got, want)
	}
	if got := ETag([]byte("other key"), hash, props, vals); got == `W/"hXiSUQAKhubsQleY"` {
		t.Errorf("hash ETag does not depend on the key")
	}
	wantVersion := []string{`W/"true"`, `W/"-42"`, `W/"-Inf"`, `W/"12.50"`, `W/"a=b;c"`,
		`W/"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`, `W/"-_8"`, `W/"2024-02-29T00:00:00Z"`,
		`W/"2024-02-29T10:30:00.123456Z"`, `W/"36000000005000"`, `W/"-5400000000000"`, `W/"null"`}
	for i, p := range props {
		set := &metadata.EntitySet{Name: "S", Properties: props, ETag: p}
		if got := ETag(nil, set, props, vals); got != wantVersion[i] {
			t.Errorf("row-version ETag on %s = %s, want %s", p.Name, got, wantVersion[i])
		}
		if got := ETag(nil, set, props[:0], nil); got != "" {
			t.Errorf("row-version ETag without its column = %q, want empty", got)
		}
	}
	if got := ETag(nil, &metadata.EntitySet{Name: "S", Properties: props}, props, vals); got != "" {
		t.Errorf("set without concurrency control has ETag %s", got)
	}
}

func TestETagMatches(t *testing.T) {
	for _, tc := range []struct {
		header, etag string
		want         bool
	}{
		{`W/"abc"`, `W/"abc"`, true},
		{`"abc"`, `W/"abc"`, true}, // weak comparison
		{`W/"x", W/"abc"`, `W/"abc"`, true},
		{` W/"x" ,	W/"abc"	`, `W/"abc"`, true},
		{`W/"abcd"`, `W/"abc"`, false},
		{`W/"x"`, `W/"abc"`, false},
		{``, `W/"abc"`, false},
	} {
		if got := ETagMatches(tc.header, tc.etag); got != tc.want {
			t.Errorf("ETagMatches(%q, %q) = %v", tc.header, tc.etag, got)
		}
	}
}
