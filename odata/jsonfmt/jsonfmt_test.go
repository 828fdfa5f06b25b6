package jsonfmt

import (
	"bytes"
	"encoding/json"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

func prop(name string, t metadata.Type) *metadata.Property {
	return &metadata.Property{Name: name, Type: t}
}

func TestAppendValue(t *testing.T) {
	ts := time.Date(2024, 1, 15, 10, 30, 0, 123456000, time.UTC)
	cases := []struct {
		name string
		t    metadata.Type
		v    edm.Value
		ieee bool
		want string
	}{
		{"null", metadata.String, edm.Value{Null: true}, false, `null`},
		{"bool", metadata.Boolean, edm.Value{Bool: true}, false, `true`},
		{"int32", metadata.Int32, edm.Value{Int: -2147483648}, false, `-2147483648`},
		{"int64 number", metadata.Int64, edm.Value{Int: math.MaxInt64}, false, `9223372036854775807`},
		{"int64 ieee754", metadata.Int64, edm.Value{Int: math.MaxInt64}, true, `"9223372036854775807"`},
		{"decimal exact", metadata.Decimal, edm.Value{Text: []byte("3.14159265358979323846264338327950288")}, false, `3.14159265358979323846264338327950288`},
		{"decimal trailing zeros kept", metadata.Decimal, edm.Value{Text: []byte("12.50")}, false, `12.50`},
		{"decimal ieee754", metadata.Decimal, edm.Value{Text: []byte("-0.001")}, true, `"-0.001"`},
		{"decimal NaN", metadata.Decimal, edm.Value{Text: []byte("NaN")}, false, `"NaN"`},
		{"decimal Infinity", metadata.Decimal, edm.Value{Text: []byte("-Infinity")}, false, `"-INF"`},
		{"double", metadata.Double, edm.Value{Float: 0.1}, false, `0.1`},
		{"double exp", metadata.Double, edm.Value{Float: -1e300}, false, `-1e+300`},
		{"double NaN", metadata.Double, edm.Value{Float: math.NaN()}, false, `"NaN"`},
		{"double INF", metadata.Double, edm.Value{Float: math.Inf(1)}, false, `"INF"`},
		{"single", metadata.Single, edm.Value{Float: float64(float32(1.1))}, false, `1.1`},
		{"string escapes", metadata.String, edm.Value{Text: []byte("a\"b\\c\n\t\x01é日\u2028")}, false, `"a\"b\\c\n\t\u0001é日\u2028"`},
		{"string invalid utf8", metadata.String, edm.Value{Text: []byte{'a', 0xff, 'b'}}, false, `"a\ufffdb"`},
		{"guid", metadata.Guid, edm.Value{Text: []byte("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")}, false, `"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
		{"binary base64url", metadata.Binary, edm.Value{Text: []byte{0xfb, 0xff, 0x10}}, false, `"-_8Q"`},
		{"date", metadata.Date, edm.Value{Time: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}, false, `"2024-02-29"`},
		{"datetime micro", metadata.DateTimeOffset, edm.Value{Time: ts}, false, `"2024-01-15T10:30:00.123456Z"`},
		{"datetime whole", metadata.DateTimeOffset, edm.Value{Time: ts.Truncate(time.Second)}, false, `"2024-01-15T10:30:00Z"`},
		{"datetime to UTC", metadata.DateTimeOffset, edm.Value{Time: ts.In(time.FixedZone("", 3600))}, false, `"2024-01-15T10:30:00.123456Z"`},
		{"time of day", metadata.TimeOfDay, edm.Value{Dur: 23*time.Hour + 59*time.Minute + 59*time.Second + 999999*time.Microsecond}, false, `"23:59:59.999999"`},
		{"duration", metadata.Duration, edm.Value{Dur: 26*time.Hour + 3*time.Minute + 4500*time.Millisecond}, false, `"P1DT2H3M4.5S"`},
		{"negative duration", metadata.Duration, edm.Value{Dur: -time.Hour}, false, `"-PT1H0M0S"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWriter(io.Discard, Options{IEEE754Compatible: tc.ieee})
			got := string(w.AppendValue(nil, prop("p", tc.t), &tc.v))
			if got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
			var x any
			if err := json.Unmarshal([]byte(got), &x); err != nil {
				t.Fatalf("not valid JSON: %s: %v", got, err)
			}
		})
	}
}

func TestCollectionDocument(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf, Options{})
	cols := []*metadata.Property{prop("ID", metadata.Int64), prop("Name", metadata.String)}
	n := int64(2)
	w.BeginCollection("https://h/odata/$metadata#S(ID,Name)", &n)
	w.Entity(cols, []edm.Value{{Int: 1}, {Text: []byte("a")}}, "")
	size := w.EncodeEntity(cols, []edm.Value{{Int: 2}, {Null: true}}, `W/"x"`)
	if size <= 0 || buf.Len() != int(w.Written()) {
		t.Fatalf("EncodeEntity wrote early or sized %d", size)
	}
	w.WriteEncoded()
	w.EndCollection("https://h/odata/S?$skiptoken=abc")
	want := `{"@odata.context":"https://h/odata/$metadata#S(ID,Name)","@odata.count":2,"value":[{"ID":1,"Name":"a"},{"@odata.etag":"W/\"x\"","ID":2,"Name":null}],"@odata.nextLink":"https://h/odata/S?$skiptoken=abc"}` + "\n"
	if buf.String() != want {
		t.Fatalf("got  %s\nwant %s", buf.String(), want)
	}
	if w.Written() != int64(len(want)) {
		t.Fatalf("Written %d, want %d", w.Written(), len(want))
	}
}

func TestError(t *testing.T) {
	got := string(AppendError(nil, "InvalidValue", "2 invalid", "", []ErrorDetail{{Code: "InvalidValue", Message: "bad \"x\"", Target: "x"}}, "rid1"))
	want := `{"error":{"code":"InvalidValue","message":"2 invalid","details":[{"code":"InvalidValue","message":"bad \"x\"","target":"x"}],"innererror":{"requestId":"rid1"}}}` + "\n"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// BenchmarkWriteRows measures the writer on a Salesforce list-view shaped
// page (5 columns: Int64 key, string, date, decimal, nullable timestamp).
// Reports rows/s; allocs/op is per page of 2,000 rows.
func BenchmarkWriteRows(b *testing.B) {
	cols := []*metadata.Property{prop("order_id", metadata.Int64), prop("status", metadata.String),
		prop("order_date", metadata.Date), prop("total", metadata.Decimal), prop("shipped_at", metadata.DateTimeOffset)}
	rows := make([][]edm.Value, 2000)
	for i := range rows {
		rows[i] = []edm.Value{{Int: int64(100000 + i)}, {Text: []byte("Open")},
			{Time: time.Date(2024, 1, 1+i%28, 0, 0, 0, 0, time.UTC)}, {Text: []byte("12345.67")},
			{Null: i%2 == 0, Time: time.Date(2024, 2, 1, 8, 0, 0, 123000, time.UTC)}}
	}
	w := NewWriter(io.Discard, Options{})
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		w = NewWriter(io.Discard, Options{})
		n := int64(len(rows))
		w.BeginCollection("https://h/odata/$metadata#orders(order_id,status,order_date,total,shipped_at)", &n)
		for _, r := range rows {
			w.Entity(cols, r, "")
		}
		w.EndCollection("")
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(b.N*len(rows))/b.Elapsed().Seconds(), "rows/s")
	if strings.Contains(string(w.buf), "panic") {
		b.Fatal("unreachable")
	}
}

func TestContextURL(t *testing.T) {
	a := &metadata.Property{Name: "A"}
	b := &metadata.Property{Name: "B"}
	cases := []struct {
		selected []*metadata.Property
		entity   bool
		want     string
	}{
		{nil, false, "http://h/odata/$metadata#Orders"},
		{nil, true, "http://h/odata/$metadata#Orders/$entity"},
		{[]*metadata.Property{a, b}, false, "http://h/odata/$metadata#Orders(A,B)"},
		{[]*metadata.Property{a}, true, "http://h/odata/$metadata#Orders(A)/$entity"},
	}
	for _, tc := range cases {
		if got := ContextURL("http://h/odata/", "Orders", tc.selected, tc.entity); got != tc.want {
			t.Errorf("ContextURL(%v, %v) = %s, want %s", tc.selected, tc.entity, got, tc.want)
		}
	}
}

func TestSingleValueAndRaw(t *testing.T) {
	var buf bytes.Buffer
	p := &metadata.Property{Name: "Total", Type: metadata.Decimal}
	NewWriter(&buf, Options{}).SingleValue("http://h/odata/$metadata#Orders(1)/Total", p, &edm.Value{Text: []byte("12.50")})
	if got := buf.String(); got != `{"@odata.context":"http://h/odata/$metadata#Orders(1)/Total","value":12.50}`+"\n" {
		t.Errorf("SingleValue = %s", got)
	}
	for _, tc := range []struct {
		t    metadata.Type
		v    edm.Value
		want string
	}{
		{metadata.String, edm.Value{Text: []byte(`a "quoted" text`)}, `a "quoted" text`},
		{metadata.Decimal, edm.Value{Text: []byte("12.50")}, "12.50"},
		{metadata.Int64, edm.Value{Int: -5}, "-5"},
		{metadata.Boolean, edm.Value{Bool: true}, "true"},
		{metadata.Date, edm.Value{Time: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}, "2024-02-29"},
		{metadata.DateTimeOffset, edm.Value{Time: time.Date(2024, 2, 29, 10, 0, 0, 0, time.UTC)}, "2024-02-29T10:00:00Z"},
		{metadata.Binary, edm.Value{Text: []byte{0, 0xff}}, "\x00\xff"},
		{metadata.Double, edm.Value{Float: math.Inf(1)}, "INF"},
	} {
		if got := string(AppendRaw(nil, &metadata.Property{Type: tc.t}, &tc.v)); got != tc.want {
			t.Errorf("AppendRaw %s = %q, want %q", tc.t, got, tc.want)
		}
	}
}

func TestMetadataLevels(t *testing.T) {
	cols := []*metadata.Property{prop("ID", metadata.Int64), prop("Name", metadata.String), prop("Price", metadata.Decimal), prop("Gone", metadata.Date)}
	vals := []edm.Value{{Int: 7}, {Text: []byte("x")}, {Text: []byte("1.50")}, {Null: true}}
	cases := []struct {
		level Level
		want  string
	}{
		{Minimal, `{"@odata.context":"C","@odata.count":1,"value":[{"@odata.etag":"W/\"e\"","ID":7,"Name":"x","Price":1.50,"Gone":null}],"@odata.nextLink":"N"}`},
		{Full, `{"@odata.context":"C","@odata.count":1,"value":[{"@odata.type":"#ns.T","@odata.id":"I","@odata.etag":"W/\"e\"","@odata.editLink":"I",` +
			`"ID@odata.type":"#Int64","ID":7,"Name":"x","Price@odata.type":"#Decimal","Price":1.50,"Gone":null}],"@odata.nextLink":"N"}`},
		{None, `{"@odata.count":1,"value":[{"ID":7,"Name":"x","Price":1.50,"Gone":null}],"@odata.nextLink":"N"}`},
	}
	for _, tc := range cases {
		var buf bytes.Buffer
		w := NewWriter(&buf, Options{Metadata: tc.level, TypeName: "ns.T"})
		n := int64(1)
		w.BeginCollection("C", &n)
		w.EntityID("I")
		w.Entity(cols, vals, `W/"e"`)
		w.EndCollection("N")
		if got := strings.TrimSpace(buf.String()); got != tc.want {
			t.Errorf("level %d:\n got %s\nwant %s", tc.level, got, tc.want)
		}
		buf.Reset()
		w = NewWriter(&buf, Options{Metadata: tc.level, TypeName: "ns.T"})
		w.EntityID("I")
		w.SingleEntity("C", cols[:1], vals[:1], "")
		want := map[Level]string{Minimal: `{"@odata.context":"C","ID":7}`, None: `{"ID":7}`,
			Full: `{"@odata.context":"C","@odata.type":"#ns.T","@odata.id":"I","@odata.editLink":"I","ID@odata.type":"#Int64","ID":7}`}[tc.level]
		if got := strings.TrimSpace(buf.String()); got != want {
			t.Errorf("single entity, level %d:\n got %s\nwant %s", tc.level, got, want)
		}
	}
}

// TestAppendDateTimeMatchesFormat: the digit-by-digit date and time writers
// answer what time.AppendFormat does, for every year and fraction.
func TestAppendDateTimeMatchesFormat(t *testing.T) {
	times := []time.Time{
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 6, 15, 12, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 8, 5, 9, 123000000, time.FixedZone("x", -7*3600)),
		time.Date(1970, 1, 1, 0, 0, 0, 1, time.UTC),
	}
	seed := uint64(42)
	for i := 0; i < 2000; i++ {
		seed = seed*6364136223846793005 + 1442695040888963407
		times = append(times, time.Unix(int64(seed>>33)-1<<30, int64(seed%1e9)*int64(i%3)).In(time.FixedZone("z", int(seed%50000)-25000)))
	}
	for _, tm := range times {
		if got, want := string(AppendDateTime(nil, tm)), tm.UTC().Format("2006-01-02T15:04:05.999999999Z07:00"); got != want {
			t.Errorf("AppendDateTime(%v) = %s, want %s", tm, got, want)
		}
		if got, want := string(AppendDate(nil, tm)), tm.UTC().Format("2006-01-02"); got != want {
			t.Errorf("AppendDate(%v) = %s, want %s", tm, got, want)
		}
	}
}

// TestDynamicProperties: computed properties ($compute) carry their type at
// minimal metadata too, unless JSON tells it or the value is null; none at
// odata.metadata=none.
func TestDynamicProperties(t *testing.T) {
	dyn := func(name string, typ metadata.Type) *metadata.Property {
		p := prop(name, typ)
		p.Dynamic = true
		return p
	}
	cols := []*metadata.Property{prop("ID", metadata.Int32), dyn("T", metadata.Decimal), dyn("S", metadata.String), dyn("Y", metadata.Int32), dyn("N", metadata.Date)}
	// The computed decimal's trailing fractional zeros go (engines choose
	// different scales for the same value).
	vals := []edm.Value{{Int: 7}, {Text: []byte("2.50")}, {Text: []byte("x")}, {Int: 2024}, {Null: true}}
	want := map[Level]string{
		Minimal: `{"ID":7,"T@odata.type":"#Decimal","T":"2.5","S":"x","Y@odata.type":"#Int32","Y":2024,"N":null}`,
		None:    `{"ID":7,"T":"2.5","S":"x","Y":2024,"N":null}`,
		Full:    `{"ID@odata.type":"#Int32","ID":7,"T@odata.type":"#Decimal","T":"2.5","S":"x","Y@odata.type":"#Int32","Y":2024,"N":null}`,
	}
	for level, w := range want {
		var buf bytes.Buffer
		NewWriter(&buf, Options{Metadata: level, IEEE754Compatible: true}).SingleEntity("", cols, vals, "")
		got := strings.TrimSpace(buf.String())
		got = strings.Replace(got, `"@odata.context":"",`, "", 1)
		if got != w {
			t.Errorf("level %d:\n got %s\nwant %s", level, got, w)
		}
	}
}

func TestTrimFraction(t *testing.T) {
	for in, want := range map[string]string{
		"201.000000000000000000000000000000": "201", "0.50": "0.5", "-1.250": "-1.25", "12": "12",
		"100": "100", "0.000": "0", "1e10": "1e10", "1.50E3": "1.50E3", "": "",
	} {
		if got := string(trimFraction([]byte(in))); got != want {
			t.Errorf("trimFraction(%q) = %q, want %q", in, got, want)
		}
	}
}
