package semantic

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/odatagw/odatagw/metadata"
)

func TestParseValue(t *testing.T) {
	utc := func(y int, mo time.Month, d, h, mi, s, ns int) time.Time {
		return time.Date(y, mo, d, h, mi, s, ns, time.UTC)
	}
	tests := []struct {
		text string
		t    metadata.Type
		want any
	}{
		{"true", metadata.Boolean, true},
		{"FALSE", metadata.Boolean, false},
		{"255", metadata.Byte, int64(255)},
		{"-128", metadata.SByte, int64(-128)},
		{"+7", metadata.Int32, int64(7)},
		{"-9223372036854775808", metadata.Int64, int64(math.MinInt64)},
		{"1.000", metadata.Int16, int64(1)},
		{"1e2", metadata.Int32, int64(100)},
		{"+12.50", metadata.Decimal, "12.50"},
		{"-0.0", metadata.Decimal, "0.0"},
		{"007.10", metadata.Decimal, "7.10"},
		{"-1.25e1", metadata.Decimal, "-12.5"},
		{"5e-3", metadata.Decimal, "0.005"},
		{"12", metadata.Decimal, "12"},
		{"1.5", metadata.Double, 1.5},
		{"1E10", metadata.Double, 1e10},
		{"INF", metadata.Double, math.Inf(1)},
		{"-INF", metadata.Single, math.Inf(-1)},
		{"2024-02-29", metadata.Date, utc(2024, 2, 29, 0, 0, 0, 0)},
		{"2024-02-29T23:59:59-01:00", metadata.Date, utc(2024, 3, 1, 0, 0, 0, 0)},
		{"2024-01-15", metadata.DateTimeOffset, utc(2024, 1, 15, 0, 0, 0, 0)},
		{"2024-01-15T10:30:00Z", metadata.DateTimeOffset, utc(2024, 1, 15, 10, 30, 0, 0)},
		{"2024-01-15t10:30:00.5z", metadata.DateTimeOffset, utc(2024, 1, 15, 10, 30, 0, 500000000)},
		{"2024-01-15T10:30:00.123456Z", metadata.DateTimeOffset, utc(2024, 1, 15, 10, 30, 0, 123456000)},
		{"2024-01-15T10:30:00.999999999999+05:30", metadata.DateTimeOffset, utc(2024, 1, 15, 5, 0, 0, 999999999)},
		{"2024-01-15T10:30:00 05:30", metadata.DateTimeOffset, utc(2024, 1, 15, 5, 0, 0, 0)},
		{"12345-01-01T00:00:00Z", metadata.DateTimeOffset, utc(12345, 1, 1, 0, 0, 0, 0)},
		{"00:00", metadata.TimeOfDay, time.Duration(0)},
		{"23:59:59.999999999", metadata.TimeOfDay, 24*time.Hour - 1},
		// A non-zero tail beyond nanoseconds keeps the value finer than a
		// microsecond without changing its microsecond truncation.
		{"00:00:00.000000000001", metadata.TimeOfDay, time.Duration(1)},
		{"00:00:00.000001000001", metadata.TimeOfDay, time.Microsecond + 1},
		{"00:00:00.000001000000", metadata.TimeOfDay, time.Microsecond},
		{"00:00:00.000001500009", metadata.TimeOfDay, time.Microsecond + 500},
		{"2024-01-15T10:30:00.000000000900Z", metadata.DateTimeOffset, utc(2024, 1, 15, 10, 30, 0, 1)},
		{"P1DT2H3M4.5S", metadata.Duration, 26*time.Hour + 3*time.Minute + 4500*time.Millisecond},
		{"duration'PT0.000001S'", metadata.Duration, time.Microsecond},
		{"-P2D", metadata.Duration, -48 * time.Hour},
		{"pt1m", metadata.Duration, time.Minute},
		{"PT36H", metadata.Duration, 36 * time.Hour},
		{"ABCDEF01-2345-6789-ABCD-EF0123456789", metadata.Guid, "abcdef01-2345-6789-abcd-ef0123456789"},
		{"AAEC", metadata.Binary, []byte{0, 1, 2}},
		{"+/8=", metadata.Binary, []byte{0xfb, 0xff}},
		{"-_8", metadata.Binary, []byte{0xfb, 0xff}},
		{"binary'AAEC'", metadata.Binary, []byte{0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(string(tt.t)+"/"+tt.text, func(t *testing.T) {
			got, err := parseValue(tt.text, tt.t)
			if err != nil {
				t.Fatalf("parseValue(%q, %s): %v", tt.text, tt.t, err)
			}
			switch w := tt.want.(type) {
			case time.Time:
				g, ok := got.(time.Time)
				if !ok || !g.Equal(w) || g.Location() != time.UTC {
					t.Errorf("got %v, want %v (UTC)", got, w)
				}
			case []byte:
				if !bytes.Equal(got.([]byte), w) {
					t.Errorf("got %v, want %v", got, w)
				}
			case float64:
				if got.(float64) != w {
					t.Errorf("got %v, want %v", got, w)
				}
			default:
				if got != tt.want {
					t.Errorf("got %#v, want %#v", got, tt.want)
				}
			}
		})
	}
	nan, err := parseValue("NaN", metadata.Double)
	if err != nil || !math.IsNaN(nan.(float64)) {
		t.Errorf("NaN: got %v, %v", nan, err)
	}
}

func TestParseValueErrors(t *testing.T) {
	tests := []struct {
		text           string
		t              metadata.Type
		notRepresented bool // errNotRepresentable rather than invalid
	}{
		{"yes", metadata.Boolean, false},
		{"256", metadata.Byte, true},
		{"-129", metadata.SByte, true},
		{"40000", metadata.Int16, true},
		{"1.5", metadata.Int32, true},
		{"9223372036854775808", metadata.Int64, true},
		{"INF", metadata.Int32, true},
		{"NaN", metadata.Decimal, true},
		{"1e5000", metadata.Decimal, true},
		{"1e400", metadata.Single, true},
		{"1e400", metadata.Double, false},
		{"1.", metadata.Decimal, false},
		{".5", metadata.Decimal, false},
		{"0x10", metadata.Int32, false},
		{"1_000", metadata.Int32, false},
		{"12a", metadata.Double, false},
		{"2024-13-01", metadata.Date, false},
		{"2024-02-30", metadata.Date, false},
		{"24-01-01", metadata.Date, false},
		{"02024-01-01", metadata.Date, false},
		{"2024-01-15T24:00:00Z", metadata.DateTimeOffset, false},
		{"2024-01-15T10:30:00", metadata.DateTimeOffset, false},
		{"2024-01-15T10:30:00.1234567890123Z", metadata.DateTimeOffset, false},
		{"2024-01-15T10:30:00+25:00", metadata.DateTimeOffset, false},
		{"2024-01-15T10:30:00Zjunk", metadata.DateTimeOffset, false},
		{"24:00", metadata.TimeOfDay, false},
		{"10:60", metadata.TimeOfDay, false},
		{"10", metadata.TimeOfDay, false},
		{"P", metadata.Duration, false},
		{"PT", metadata.Duration, false},
		{"P1H", metadata.Duration, false},
		{"PT1D", metadata.Duration, false},
		{"PT1S2M", metadata.Duration, false},
		{"P1.5D", metadata.Duration, false},
		{"P1DT", metadata.Duration, false},
		{"P999999999D", metadata.Duration, false},
		{"1234", metadata.Guid, false},
		{"0123456789ab-cdef-0123-4567-89abcdef", metadata.Guid, false},
		{"01234567-89ab-cdef-0123-456789abcdeg", metadata.Guid, false},
		{"!!", metadata.Binary, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.t)+"/"+tt.text, func(t *testing.T) {
			v, err := parseValue(tt.text, tt.t)
			if err == nil {
				t.Fatalf("parseValue(%q, %s) = %v, want error", tt.text, tt.t, v)
			}
			if got := err == errNotRepresentable; got != tt.notRepresented {
				t.Errorf("err = %v; not-representable = %v, want %v", err, got, tt.notRepresented)
			}
		})
	}
}

func TestFormatRoundTrip(t *testing.T) {
	durations := []time.Duration{0, time.Nanosecond, -time.Nanosecond, 26*time.Hour + 3*time.Minute + 4500*time.Millisecond,
		-48 * time.Hour, math.MaxInt64, math.MinInt64 + 1, math.MinInt64}
	for _, d := range durations {
		s := formatDuration(d)
		got, err := parseDuration(s)
		if err != nil || got != d {
			t.Errorf("duration %d printed %q parsed back %d, %v", d, s, got, err)
		}
	}
	for _, d := range []time.Duration{0, time.Nanosecond, 10*time.Hour + 30*time.Minute + 500*time.Millisecond, 24*time.Hour - 1} {
		s := formatTimeOfDay(d)
		got, err := parseTimeOfDay(s)
		if err != nil || got != d {
			t.Errorf("time of day %d printed %q parsed back %d, %v", d, s, got, err)
		}
	}
	for _, f := range []float64{0, 1.5, -2.25e-300, 1e21, math.MaxFloat64, math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1)} {
		s := formatFloat(f)
		got, err := parseNumber(s, metadata.Double)
		if err != nil || got.(float64) != f {
			t.Errorf("float %v printed %q parsed back %v, %v", f, s, got, err)
		}
	}
}
