package semantic

import (
	"math"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

func body(t *testing.T, text string) *odata.Entity {
	t.Helper()
	ent, err := odata.ParseEntity([]byte(text))
	if err != nil {
		t.Fatalf("ParseEntity(%s): %v", text, err)
	}
	return ent
}

// TestBindEntityValues converts one property at a time and checks the
// constant, or the error message and its target.
func TestBindEntityValues(t *testing.T) {
	things := testModel().Set("Things")
	day := time.Date(2024, 1, 15, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		json    string // one member of a body that has every required property
		prop    string
		want    any    // V of the constant; nil with wantErr
		wantErr string // substring of the message
	}{
		{`"Flag":true`, "Flag", true, ""},
		{`"Flag":"true"`, "Flag", nil, "expects true or false (Edm.Boolean), got a string"},
		{`"I32":42`, "I32", int64(42), ""},
		{`"I32":"42"`, "I32", int64(42), ""},               // IEEE754Compatible clients
		{`"I32":4.0`, "I32", int64(4), ""},                 // an integer-valued number
		{`"I32":1e2`, "I32", int64(100), ""},               // exponent form
		{`"I32":4.5`, "I32", nil, "expects an integer"},    // a fraction
		{`"I32":"four"`, "I32", nil, "expects an integer"}, // not a number
		{`"I32":true`, "I32", nil, "got a boolean"},        // wrong JSON kind
		{`"I16":40000`, "I16", nil, "out of range for Edm.Int16"},
		{`"B":-1`, "B", nil, "out of range for Edm.Byte"},
		{`"SB":-128`, "SB", int64(-128), ""},
		{`"I64":"9223372036854775807"`, "I64", int64(math.MaxInt64), ""},
		{`"I64":9223372036854775808`, "I64", nil, "out of range"},
		{`"Price":12.50`, "Price", "12.5", ""}, // canonical: trailing zeros dropped
		{`"Price":"1.5E+2"`, "Price", "150", ""},
		{`"Price":1.234`, "Price", nil, "decimal places"},
		{`"Price":12345678901234567.0`, "Price", nil, "integer digits"},
		{`"Price":"abc"`, "Price", nil, "expects a decimal number"},
		{`"Score":0.1`, "Score", 0.1, ""},
		{`"Score":"-INF"`, "Score", math.Inf(-1), ""},
		{`"Ratio":1e39`, "Ratio", nil, "out of range for Edm.Single"},
		{`"Name":"O'Brien"`, "Name", "O'Brien", ""},
		{`"Name":5`, "Name", nil, "expects a string (Edm.String), got a number"},
		{`"Code":"ELEVENCHARS"`, "Code", nil, "11 characters exceed MaxLength 10"},
		{`"Code":"日本語日本語日本語日"`, "Code", "日本語日本語日本語日", ""}, // MaxLength counts characters
		{`"Born":"2024-01-15"`, "Born", day, ""},
		{`"Born":"2024-01-15T23:30:00-02:00"`, "Born", day.AddDate(0, 0, 1), ""}, // Salesforce sends date-times: the UTC date
		{`"Born":"2024-02-30"`, "Born", nil, `"2024-02-30" is not a valid date`},
		{`"Created":"2024-01-15T10:30:00.25+02:00"`, "Created", day.Add(8*time.Hour + 30*time.Minute + 250*time.Millisecond), ""},
		{`"Created":"2024-01-15"`, "Created", day, ""},
		{`"Created":"yesterday"`, "Created", nil, "not a valid date-time"},
		{`"Created":"2024-01-15T23:59:60Z"`, "Created", day.Add(24 * time.Hour), ""}, // a leap second, as in $filter
		{`"At":"10:30"`, "At", 10*time.Hour + 30*time.Minute, ""},
		{`"At":"10:30:15.5"`, "At", 10*time.Hour + 30*time.Minute + 15500*time.Millisecond, ""},
		{`"At":"24:00:00"`, "At", nil, "not a valid time of day"},
		{`"At":1030`, "At", nil, "expects a time of day"},
		{`"Dur":"P1DT2H"`, "Dur", 26 * time.Hour, ""},
		{`"Dur":"P"`, "Dur", nil, "not a valid duration"},
		{`"UID":"A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"`, "UID", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", ""},
		{`"UID":"not-a-guid"`, "UID", nil, "not a valid GUID"},
		{`"Blob":"AAEC"`, "Blob", []byte{0, 1, 2}, ""},
		{`"Blob":"-_8="`, "Blob", []byte{0xfb, 0xff}, ""},
		{`"Blob":"***"`, "Blob", nil, "not a valid base64"},
		{`"Name":null`, "Name", nil, ""}, // nullable: a null constant
		{`"Name":{"a":1}`, "Name", nil, "got an object"},
	}
	for _, tc := range cases {
		text := thingsBody(tc.prop, tc.json)
		got, err := BindEntity(things, body(t, text), Create, nil, BodyOptions{})
		if tc.wantErr != "" {
			e, ok := err.(*Error)
			if !ok || e.Kind != InvalidValue || !strings.Contains(e.Msg, tc.wantErr) || e.Target != tc.prop {
				t.Errorf("%s: error %v (target %v), want %q on %s", tc.json, err, targetOf(err), tc.wantErr, tc.prop)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.json, err)
			continue
		}
		c, ok := got[things.Property(tc.prop)]
		if !ok {
			t.Errorf("%s: %s not bound", tc.json, tc.prop)
			continue
		}
		if tc.want == nil {
			if !c.Null {
				t.Errorf("%s: got %v, want null", tc.json, c.V)
			}
			continue
		}
		if !c.Equal(Const{T: c.T, V: tc.want}) {
			t.Errorf("%s: got %#v, want %#v", tc.json, c.V, tc.want)
		}
	}
}

// TestBindEntityInvalidText: string values that json.Unmarshal would alter
// (invalid UTF-8, unpaired surrogate escapes) are refused with the property
// as target, also when the body did not come from odata.ParseEntity (which
// refuses them first).
func TestBindEntityInvalidText(t *testing.T) {
	things := testModel().Set("Things")
	for _, raw := range []string{"\"bad \xff byte\"", "\"\xed\xa0\x80\"", `"\ud800"`, `"x\udfff"`} {
		ent := body(t, thingsBody("Name", `"Name":"placeholder"`))
		for i := range ent.Members {
			if ent.Members[i].Name == "Name" {
				ent.Members[i].Value = []byte(raw)
			}
		}
		_, err := BindEntity(things, ent, Create, nil, BodyOptions{})
		e, ok := err.(*Error)
		if !ok || e.Kind != InvalidValue || e.Target != "Name" || !strings.Contains(e.Msg, "property Name: the value") {
			t.Errorf("%q: error %v (target %v), want InvalidValue on Name", raw, err, targetOf(err))
		}
	}
	// Valid text, a surrogate pair included, binds unchanged.
	got, err := BindEntity(things, body(t, thingsBody("Name", `"Name":"\ud83d\ude00 日本"`)), Create, nil, BodyOptions{})
	if err != nil || got[things.Property("Name")].V != "😀 日本" {
		t.Errorf("valid text: %v %v", got[things.Property("Name")].V, err)
	}
}

// thingsBody is a valid Things body (its required properties ID, Code, I64
// and Created) with member in place of prop's own.
func thingsBody(prop, member string) string {
	members := []string{`"ID":1`, `"Code":"c"`, `"I64":1`, `"Created":"2024-01-01T00:00:00Z"`}
	for i, m := range members {
		if strings.HasPrefix(m, `"`+prop+`"`) {
			members = append(members[:i], members[i+1:]...)
			break
		}
	}
	return "{" + strings.Join(append(members, member), ",") + "}"
}

func targetOf(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Target
	}
	return ""
}

// TestBindEntityRules covers the rules across properties: modes, keys,
// read-only and generated properties, required ones, annotations, and the
// one-error-per-property report.
func TestBindEntityRules(t *testing.T) {
	m := testModel()
	lines := m.Set("Lines")
	things := m.Set("Things")
	gen := &metadata.Property{Name: "Total", Type: metadata.Int32, Nullable: true, Generated: true, ReadOnly: true}
	ro := &metadata.Property{Name: "Audit", Type: metadata.String, Nullable: true, ReadOnly: true}
	ident := &metadata.Property{Name: "N", Type: metadata.Int64, Identity: true, ReadOnly: true}
	dflt := &metadata.Property{Name: "Status", Type: metadata.String, Default: "'new'"}
	gset := &metadata.EntitySet{Name: "G", Table: "g", Kind: metadata.KindTable,
		Properties: []*metadata.Property{ident, gen, ro, dflt}, Key: []*metadata.Property{ident}}
	metadata.NewModel("g", nil, gset) // indexes the properties
	key := []Const{{T: metadata.Int32, V: int64(7)}, {T: metadata.Int16, V: int64(2)}}
	cases := []struct {
		name    string
		set     *metadata.EntitySet
		mode    WriteMode
		key     []Const
		json    string
		targets []string // in order; nil means success
		msg     string   // substring of the top-level message
	}{
		{"create complete", lines, Create, nil, `{"OrderID":7,"LineNo":2,"Qty":1}`, nil, ""},
		{"annotations skipped", lines, Create, nil, `{"@odata.type":"#x","OrderID":7,"LineNo":2,"Qty":1,"Qty@odata.type":"Int32"}`, nil, ""},
		{"missing key not generated", lines, Create, nil, `{"OrderID":7,"Qty":1}`, []string{"LineNo"}, "key property LineNo is required"},
		{"missing required", lines, Create, nil, `{"OrderID":7,"LineNo":2}`, []string{"Qty"}, "property Qty is required"},
		{"patch needs nothing", lines, Patch, key, `{}`, nil, ""},
		{"patch repeats the key", lines, Patch, key, `{"OrderID":7,"LineNo":2.0,"Qty":3}`, nil, ""},
		{"patch changes the key", lines, Patch, key, `{"LineNo":3}`, []string{"LineNo"}, "cannot be changed"},
		{"put takes the key from the URL", lines, Replace, key, `{"Qty":3}`, nil, ""},
		{"put misses a required property", lines, Replace, key, `{"Note":"x"}`, []string{"Qty"}, "required"},
		{"null into non-nullable", lines, Patch, key, `{"Qty":null}`, []string{"Qty"}, "cannot be null"},
		{"unknown property", lines, Patch, key, `{"Nope":1}`, []string{"Nope"}, `Lines has no property "Nope"`},
		{"case-different property", lines, Patch, key, `{"qty":1}`, []string{"qty"}, `did you mean "Qty"`},
		{"generated", gset, Create, nil, `{"Total":1}`, []string{"Total"}, "computed by the database"},
		{"read-only", gset, Create, nil, `{"Audit":"x"}`, []string{"Audit"}, "is read-only"},
		{"identity key and default not required", gset, Create, nil, `{}`, nil, ""},
		{"identity key may not be sent", gset, Create, nil, `{"N":5}`, []string{"N"}, "read-only"},
		{"several problems", things, Create, nil, `{"ID":1,"Name":5,"Flag":1,"Nope":true}`,
			[]string{"Name", "Flag", "Nope", "Code", "I64", "Created"}, "6 invalid properties"},
	}
	for _, tc := range cases {
		got, err := BindEntity(tc.set, body(t, tc.json), tc.mode, tc.key, BodyOptions{})
		if tc.targets == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		e, ok := err.(*Error)
		if !ok || e.Kind != InvalidValue {
			t.Errorf("%s: got %v (%v), want an InvalidValue error", tc.name, err, got)
			continue
		}
		if !strings.Contains(e.Msg, tc.msg) {
			t.Errorf("%s: message %q, want %q", tc.name, e.Msg, tc.msg)
		}
		var targets []string
		for _, d := range e.Details {
			targets = append(targets, d.Target)
		}
		if strings.Join(targets, ",") != strings.Join(tc.targets, ",") {
			t.Errorf("%s: targets %v, want %v", tc.name, targets, tc.targets)
		}
		if len(tc.targets) == 1 && e.Target != tc.targets[0] {
			t.Errorf("%s: top-level target %q, want %q", tc.name, e.Target, tc.targets[0])
		}
	}
}

// TestBodyAndFilterAgree: a value a body accepts is the value the same text
// means in $filter, since both go through one parser.
func TestBodyAndFilterAgree(t *testing.T) {
	m := testModel()
	things := m.Set("Things")
	for _, tc := range []struct{ prop, literal, jsonText string }{
		{"Created", "2024-01-15T10:30:59.5Z", `"2024-01-15T10:30:59.5Z"`},
		{"Created", "2024-01-15T23:59:60Z", `"2024-01-15T23:59:60Z"`},
		{"Born", "2024-02-29", `"2024-02-29"`},
		{"At", "23:59:59.123456", `"23:59:59.123456"`},
		{"Price", "12.5", `12.50`},
		{"I32", "-2147483648", `-2147483648`},
		{"UID", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", `"A0EEBC99-9c0b-4ef8-bb6d-6bb9bd380a11"`},
		{"Dur", "duration'PT1H30M'", `"PT1H30M"`},
	} {
		q, err := Bind(m, request(t, odata.Path{Kind: odata.PathEntitySet, Set: "Things"}, "$filter", tc.prop+" eq "+tc.literal), Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.literal, err)
		}
		cmp, ok := q.Filter.(*Compare)
		if !ok {
			t.Fatalf("%s: filter %s", tc.prop, Format(q.Filter))
		}
		lit := cmp.R.(*Const)
		got, err := BindEntity(things, body(t, thingsBody(tc.prop, `"`+tc.prop+`":`+tc.jsonText)), Create, nil, BodyOptions{})
		if err != nil {
			t.Errorf("%s: body refused what $filter accepts: %v", tc.prop, err)
			continue
		}
		if c := got[things.Property(tc.prop)]; !c.Equal(*lit) {
			t.Errorf("%s: body %v, $filter %v", tc.prop, c.V, lit.V)
		}
	}
}

// TestFitDecimal checks precision and scale on the digits as text; the
// work must stay small whatever the exponent (a 9-byte "1e-999999" must not
// cost megabytes of big-number arithmetic), so each case's allocation is
// bounded instead of timed.
func TestFitDecimal(t *testing.T) {
	p18 := &metadata.Property{Name: "D", Type: metadata.Decimal, Precision: 18, Scale: 2}
	pv := &metadata.Property{Name: "V", Type: metadata.Decimal, Variable: true}
	cases := []struct {
		p         *metadata.Property
		in, want  string
		errSubstr string
	}{
		{p18, "12.5", "12.5", ""},
		{p18, "12.50", "12.5", ""},
		{p18, "-0.01", "-0.01", ""},
		{p18, "0", "0", ""},
		{p18, "-0.00", "0", ""},
		{p18, "1e3", "1000", ""},
		{p18, "1.5E+2", "150", ""},
		{p18, "2500.00", "2500", ""},
		{p18, "1234567890123456.78", "1234567890123456.78", ""},
		{p18, "12345678901234567.0", "", "integer digits"},
		{p18, "1.234", "", "decimal places"},
		{p18, "1e-3", "", "decimal places"},
		{pv, "3.14159265358979323846", "3.14159265358979323846", ""},
		{pv, "1e-5", "0.00001", ""},
		{pv, "-12e-1", "-1.2", ""},
		{pv, "1e-999999", "", "out of range"},
		{pv, "1e999999", "", "out of range"},
		{pv, "1e900", "1" + strings.Repeat("0", 900), ""},
		{p18, "abc", "", "expects a decimal"},
		{p18, "1.", "", "expects a decimal"},
	}
	for _, tc := range cases {
		var got, msg string
		if bytes := allocated(func() { got, msg = fitDecimal(tc.p, tc.in) }); bytes > 64<<10 {
			t.Errorf("%s allocated %d bytes", tc.in, bytes)
		}
		if tc.errSubstr != "" {
			if !strings.Contains(msg, tc.errSubstr) {
				t.Errorf("%s: msg %q, want %q", tc.in, msg, tc.errSubstr)
			}
			continue
		}
		if msg != "" || got != tc.want {
			t.Errorf("%s: got %q %q, want %q", tc.in, got, msg, tc.want)
		}
	}
}

// allocated is the number of bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestConstEqual(t *testing.T) {
	at := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		a, b Const
		want bool
	}{
		{Const{T: metadata.Decimal, V: "1.50"}, Const{T: metadata.Decimal, V: "1.5"}, true},
		{Const{T: metadata.String, V: "1.50"}, Const{T: metadata.String, V: "1.5"}, false},
		{Const{T: metadata.DateTimeOffset, V: at}, Const{T: metadata.DateTimeOffset, V: at.In(time.FixedZone("x", 3600))}, true},
		{Const{T: metadata.Binary, V: []byte{1}}, Const{T: metadata.Binary, V: []byte{1}}, true},
		{Const{T: metadata.Int32, Null: true}, Const{T: metadata.Int32, Null: true}, true},
		{Const{T: metadata.Int32, Null: true}, Const{T: metadata.Int32, V: int64(0)}, false},
		{Const{T: metadata.Int32, V: int64(3)}, Const{T: metadata.Int32, V: int64(3)}, true},
	}
	for _, tc := range cases {
		if got := tc.a.Equal(tc.b); got != tc.want {
			t.Errorf("%v.Equal(%v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestConstLiteral: the one URL literal of a typed value parses and binds
// back to the same value.
func TestConstLiteral(t *testing.T) {
	m := testModel()
	for _, tc := range []struct {
		prop string
		c    Const
		want string
	}{
		{"Flag", Const{T: metadata.Boolean, V: false}, "false"},
		{"I64", Const{T: metadata.Int64, V: int64(math.MinInt64)}, "-9223372036854775808"},
		{"Price", Const{T: metadata.Decimal, V: "-12.50"}, "-12.50"},
		{"Score", Const{T: metadata.Double, V: math.Inf(1)}, "INF"},
		{"Score", Const{T: metadata.Double, V: 1e-7}, "1e-07"},
		{"Name", Const{T: metadata.String, V: "O'Brien & Co"}, "'O''Brien & Co'"},
		{"Born", Const{T: metadata.Date, V: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}, "2024-02-29"},
		{"Created", Const{T: metadata.DateTimeOffset, V: time.Date(2024, 2, 29, 10, 0, 0, 123000, time.UTC)}, "2024-02-29T10:00:00.000123Z"},
		{"At", Const{T: metadata.TimeOfDay, V: 9*time.Hour + 5*time.Millisecond}, "09:00:00.005"},
		{"Dur", Const{T: metadata.Duration, V: -(26*time.Hour + time.Second)}, "duration'-P1DT2H1S'"},
		{"UID", Const{T: metadata.Guid, V: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"}, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"Blob", Const{T: metadata.Binary, V: []byte{0xfb, 0xff, 0}}, "binary'-_8A'"},
		{"Name", Const{T: metadata.String, Null: true}, "null"},
	} {
		lit := tc.c.Literal().String()
		if lit != tc.want {
			t.Errorf("%s: literal %s, want %s", tc.prop, lit, tc.want)
		}
		if tc.c.Null {
			continue
		}
		q, err := Bind(m, request(t, setPath("Things"), "$filter", tc.prop+" eq "+lit), Options{})
		if err != nil {
			t.Errorf("%s: %s does not bind: %v", tc.prop, lit, err)
			continue
		}
		cmp, ok := q.Filter.(*Compare)
		if !ok || !cmp.R.(*Const).Equal(tc.c) {
			t.Errorf("%s: %s binds to %s", tc.prop, lit, Format(q.Filter))
		}
	}
}
