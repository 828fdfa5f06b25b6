package server

import (
	"strings"
	"testing"
	"time"

	"github.com/odatagw/odatagw/metadata"
)

func TestCheckDecimal(t *testing.T) {
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
		{pv, "1e900", "", ""},
		{p18, "abc", "", "expects a decimal"},
		{p18, "1.", "", "expects a decimal"},
	}
	for _, tc := range cases {
		start := time.Now()
		got, msg := checkDecimal(tc.p, tc.in)
		if time.Since(start) > 50*time.Millisecond {
			t.Errorf("%s took %v", tc.in, time.Since(start))
		}
		if tc.errSubstr != "" {
			if !strings.Contains(msg, tc.errSubstr) {
				t.Errorf("%s: msg %q, want %q", tc.in, msg, tc.errSubstr)
			}
			continue
		}
		if msg != "" || (tc.want != "" && got != tc.want) {
			t.Errorf("%s: got %q %q, want %q", tc.in, got, msg, tc.want)
		}
	}
}
