package postgres

import (
	"strings"
	"testing"
)

// TestSessionDSNApplicationName: sessions are named odatagw unless the DSN
// names them, in both DSN forms.
func TestSessionDSNApplicationName(t *testing.T) {
	for _, tc := range []struct{ dsn, want, not string }{
		{"postgres://u@db.example/erp", "application_name=odatagw", ""},
		{"postgres://u@db.example/erp?application_name=erp-sync", "application_name=erp-sync", "odatagw"},
		{"host=db.example dbname=erp", " application_name=odatagw", ""},
		{"host=db.example dbname=erp application_name=erp-sync", "application_name=erp-sync", "odatagw"},
	} {
		got, err := sessionDSN(tc.dsn, 0)
		if err != nil {
			t.Fatalf("%s: %v", tc.dsn, err)
		}
		if !strings.Contains(got, tc.want) || tc.not != "" && strings.Contains(got, tc.not) {
			t.Errorf("sessionDSN(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}
