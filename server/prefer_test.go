package server

import (
	"net/http"
	"testing"
)

func TestPreferences(t *testing.T) {
	cases := []struct {
		headers []string
		want    prefer
	}{
		{nil, prefer{}},
		{[]string{"odata.maxpagesize=100"}, prefer{maxPageSize: 100}},
		{[]string{"return=minimal, odata.maxpagesize=50"}, prefer{maxPageSize: 50, ret: "minimal"}},
		{[]string{"Return=Representation", "maxpagesize=7"}, prefer{maxPageSize: 7, ret: "representation"}},
		{[]string{`odata.maxpagesize="25"`}, prefer{maxPageSize: 25}},
		{[]string{"odata.maxpagesize=0, odata.maxpagesize=-3, odata.maxpagesize=x, odata.maxpagesize=9"}, prefer{maxPageSize: 9}},
		{[]string{"odata.maxpagesize=10", "odata.maxpagesize=20"}, prefer{maxPageSize: 10}},
		{[]string{"return=minimal;foo=bar", "return=representation"}, prefer{ret: "minimal"}},
		{[]string{"odata.track-changes, respond-async, wait=10"}, prefer{trackChanges: true}},
		{[]string{",,=,odata.maxpagesize"}, prefer{}},
		{[]string{"odata.continue-on-error"}, prefer{continueOnError: true}},
		{[]string{"Continue-On-Error=true, return=minimal"}, prefer{continueOnError: true, ret: "minimal"}},
		{[]string{"odata.continue-on-error=false"}, prefer{}},
	}
	for _, tc := range cases {
		r, _ := http.NewRequest("GET", "/", nil)
		for _, h := range tc.headers {
			r.Header.Add("Prefer", h)
		}
		if got := preferences(r); got != tc.want {
			t.Errorf("Prefer %q: %+v, want %+v", tc.headers, got, tc.want)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for h, want := range map[string]bool{
		"": false, "gzip": true, "deflate, gzip;q=0.5": true, "gzip;q=0": false, "GZIP": true, "br": false, "gzip;q=x": false,
	} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set("Accept-Encoding", h)
		if got := acceptsGzip(r); got != want {
			t.Errorf("Accept-Encoding %q: %v, want %v", h, got, want)
		}
	}
}
