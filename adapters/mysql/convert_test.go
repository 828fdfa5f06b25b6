package mysql

import (
	"testing"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/edm"
)

// TestConvert: driver values of both protocols (text: []byte; binary:
// int64, uint64, float32, float64, time.Time) become the edm.Value the
// JSON writer expects.
func TestConvert(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	p := func(typ metadata.Type) *metadata.Property { return &metadata.Property{Name: "p", Type: typ} }
	local := &metadata.Property{Name: "p", Type: metadata.DateTimeOffset, LocalTime: true}
	fixed := &metadata.Property{Name: "p", Type: metadata.String, FixedChar: true}
	wall := time.Date(2024, 7, 1, 12, 0, 0, 500000000, time.UTC)
	cases := []struct {
		name string
		prop *metadata.Property
		zone *time.Location
		raw  any
		want edm.Value
		err  bool
	}{
		{"null", p(metadata.Int32), time.UTC, nil, edm.Value{Null: true}, false},
		{"bool text", p(metadata.Boolean), time.UTC, []byte("1"), edm.Value{Bool: true}, false},
		{"bool other non-zero", p(metadata.Boolean), time.UTC, int64(2), edm.Value{Bool: true}, false},
		{"bool zero", p(metadata.Boolean), time.UTC, int64(0), edm.Value{}, false},
		{"zerofill text", p(metadata.Int64), time.UTC, []byte("000042"), edm.Value{Int: 42}, false},
		{"unsigned binary", p(metadata.Int64), time.UTC, uint64(4294967295), edm.Value{Int: 4294967295}, false},
		{"unsigned beyond Int64", p(metadata.Int64), time.UTC, uint64(1 << 63), edm.Value{}, true},
		{"float32 shortest", p(metadata.Single), time.UTC, float32(0.1), edm.Value{Float: 0.1}, false},
		{"double text", p(metadata.Double), time.UTC, []byte("-1e300"), edm.Value{Float: -1e300}, false},
		{"decimal text", p(metadata.Decimal), time.UTC, []byte("12.3400"), edm.Value{Text: []byte("12.3400")}, false},
		{"bigint unsigned as decimal", p(metadata.Decimal), time.UTC, uint64(18446744073709551615), edm.Value{Text: []byte("18446744073709551615")}, false},
		{"date", p(metadata.Date), time.UTC, time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC), edm.Value{Time: time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}, false},
		{"timestamp", p(metadata.DateTimeOffset), berlin, wall, edm.Value{Time: wall}, false},
		{"datetime in UTC", local, time.UTC, wall, edm.Value{Time: wall}, false},
		{"datetime in Berlin (CEST)", local, berlin, wall, edm.Value{Time: wall.Add(-2 * time.Hour)}, false},
		{"time", p(metadata.TimeOfDay), time.UTC, []byte("23:59:59.999999"), edm.Value{Dur: 24*time.Hour - time.Microsecond}, false},
		{"time without fraction", p(metadata.TimeOfDay), time.UTC, []byte("01:02:03"), edm.Value{Dur: time.Hour + 2*time.Minute + 3*time.Second}, false},
		{"time beyond a day", p(metadata.TimeOfDay), time.UTC, []byte("25:00:00"), edm.Value{}, true},
		{"negative time", p(metadata.TimeOfDay), time.UTC, []byte("-01:00:00"), edm.Value{}, true},
		{"char trimmed", fixed, time.UTC, []byte("ab  "), edm.Value{Text: []byte("ab")}, false},
		{"string keeps spaces", p(metadata.String), time.UTC, []byte(" ab "), edm.Value{Text: []byte(" ab ")}, false},
		{"binary", p(metadata.Binary), time.UTC, []byte{0, 0xff}, edm.Value{Text: []byte{0, 0xff}}, false},
		{"bad int", p(metadata.Int32), time.UTC, []byte("x"), edm.Value{}, true},
		{"date of wrong type", p(metadata.Date), time.UTC, []byte("2024-01-01"), edm.Value{}, true},
	}
	for _, tc := range cases {
		var v edm.Value
		err := convert(tc.prop, tc.raw, &v, tc.zone)
		if (err != nil) != tc.err {
			t.Errorf("%s: error %v", tc.name, err)
			continue
		}
		if tc.err {
			continue
		}
		if v.Null != tc.want.Null || v.Bool != tc.want.Bool || v.Int != tc.want.Int || v.Float != tc.want.Float ||
			string(v.Text) != string(tc.want.Text) || !v.Time.Equal(tc.want.Time) || v.Dur != tc.want.Dur {
			t.Errorf("%s: got %+v, want %+v", tc.name, v, tc.want)
		}
	}
}
