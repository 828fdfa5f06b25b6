package odata

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestParseBatch(t *testing.T) {
	mp := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	cases := []struct {
		name, ct, body string
		want           string // "method url id group body" per request, ";"-joined
		err            string
	}{
		{"multipart with a change set", "multipart/mixed; boundary=b", mp(`--b
Content-Type: application/http
Content-Transfer-Encoding: binary

GET Customers?$top=1 HTTP/1.1
Accept: application/json


--b
Content-Type: multipart/mixed; boundary=cs

--cs
Content-Type: application/http
Content-ID: 1

post Customers HTTP/1.1
Content-Type: application/json

{"a":1}
--cs
Content-Type: application/http

PATCH $1 HTTP/1.1
Content-ID: 2
Content-Type: application/json

{"b":2}
--cs--
--b--
`), `GET Customers?$top=1 - - -;POST Customers 1 changeset1 {"a":1};PATCH $1 2 changeset1 {"b":2}`, ""},
		{"JSON", "application/json", `{"requests":[{"id":"1","method":"get","url":"A"},{"id":"2","atomicityGroup":"g","method":"POST","url":"A","body":{"x":"y"}},{"id":"3","dependsOn":["g"],"method":"PUT","url":"A(1)","headers":{"Content-Type":"text/plain"},"body":"raw text"}]}`,
			`GET A 1 - -;POST A 2 g {"x":"y"};PUT A(1) 3 - raw text`, ""},
		{"bad media type", "text/plain", "", "", "needs Content-Type"},
		{"no boundary", "multipart/mixed", "", "", "without a boundary"},
		{"not application/http", "multipart/mixed; boundary=b", mp("--b\nContent-Type: text/plain\n\nx\n--b--\n"), "", "must be application/http"},
		{"bad request line", "multipart/mixed; boundary=b", mp("--b\nContent-Type: application/http\n\nGET\n--b--\n"), "", "malformed request line"},
		{"GET in change set", "multipart/mixed; boundary=b", mp("--b\nContent-Type: multipart/mixed; boundary=c\n\n--c\nContent-Type: application/http\n\nGET A HTTP/1.1\n\n\n--c--\n--b--\n"), "", "only changes"},
		{"empty change set", "multipart/mixed; boundary=b", mp("--b\nContent-Type: multipart/mixed; boundary=c\n\n--c--\n--b--\n"), "", "empty change set"},
		{"duplicate ids", "application/json", `{"requests":[{"id":"1","method":"GET","url":"A"},{"id":"1","method":"GET","url":"A"}]}`, "", "the id \"1\""},
		{"missing id", "application/json", `{"requests":[{"method":"GET","url":"A"}]}`, "", "has no id"},
		{"no requests", "application/json", `{}`, "", `{"requests":[...]}`},
		{"GET in atomicity group", "application/json", `{"requests":[{"id":"1","atomicityGroup":"g","method":"GET","url":"A"}]}`, "", "only changes"},
		{"forward dependency", "application/json", `{"requests":[{"id":"1","dependsOn":["2"],"method":"GET","url":"A"},{"id":"2","method":"GET","url":"A"}]}`, "", "not an earlier"},
		{"malformed JSON", "application/json", `{"requests":[`, "", "malformed JSON"},
	}
	for _, tc := range cases {
		reqs, err := ParseBatch(tc.ct, []byte(tc.body), 10)
		if tc.err != "" {
			var be *BatchError
			if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want BatchError containing %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		var got []string
		for _, r := range reqs {
			f := []string{r.Method, r.URL, r.ID, r.Group, string(r.Body)}
			for i, v := range f {
				if v == "" {
					f[i] = "-"
				}
			}
			got = append(got, strings.Join(f, " "))
		}
		if g := strings.Join(got, ";"); g != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, g, tc.want)
		}
	}
	many := `{"requests":[` + strings.TrimSuffix(strings.Repeat(`{"id":"x","method":"GET","url":"A"},`, 11), ",") + `]}`
	var tl *BatchTooLarge
	if _, err := ParseBatch("application/json", []byte(many), 10); !errors.As(err, &tl) || tl.Max != 10 {
		t.Errorf("11 requests with a limit of 10: %v", err)
	}
}

func FuzzParseBatch(f *testing.F) {
	f.Add("multipart/mixed; boundary=b", "--b\r\nContent-Type: application/http\r\n\r\nGET A HTTP/1.1\r\n\r\n\r\n--b--\r\n")
	f.Add("application/json", `{"requests":[{"id":"1","method":"GET","url":"A"}]}`)
	f.Fuzz(func(t *testing.T, ct, body string) {
		reqs, err := ParseBatch(ct, []byte(body), 100)
		if err == nil && len(reqs) > 100 {
			t.Fatalf("%d requests past the limit", len(reqs))
		}
	})
}

func TestBatchWriter(t *testing.T) {
	q1 := &BatchRequest{ID: "1", Method: "POST", URL: "A", Group: "g"}
	ok := &BatchResponse{Request: q1, Status: 201, Reason: "Created",
		Header: map[string][]string{"Content-Type": {"application/json"}, "Content-Length": {"7"}}, Body: []byte(`{"a":1}` + "\n")}
	bad := &BatchResponse{Status: 503, Reason: "Service Unavailable", Header: map[string][]string{"Retry-After": {"2"}}}

	var b strings.Builder
	w := NewBatchWriter(false)
	boundary := strings.TrimPrefix(w.ContentType(), "multipart/mixed; boundary=")
	w.Begin(&b)
	w.Unit([]*BatchResponse{ok}, true)
	w.Unit([]*BatchResponse{bad}, true) // a failed change set: its one answer, not nested
	w.End()
	got := b.String()
	got = strings.ReplaceAll(got, boundary, "B")
	got = regexp.MustCompile(`changesetresponse_[0-9a-f]+`).ReplaceAllString(got, "C")
	want := "--B\r\nContent-Type: multipart/mixed; boundary=C\r\n\r\n" +
		"--C\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 1\r\n\r\n" +
		"HTTP/1.1 201 Created\r\nContent-Length: 7\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\n\r\n--C--\r\n" +
		"--B\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 2\r\n\r\n\r\n--B--\r\n"
	if got != want {
		t.Errorf("multipart:\n%q\nwant\n%q", got, want)
	}

	b.Reset()
	w = NewBatchWriter(true)
	w.Begin(&b)
	w.Unit([]*BatchResponse{ok}, true)
	w.Unit([]*BatchResponse{bad}, false)
	w.End()
	want = `{"responses":[{"id":"1","atomicityGroup":"g","status":201,"headers":{"content-type":"application/json"},"body":{"a":1}},` +
		`{"status":503,"headers":{"retry-after":"2"}}]}` + "\n"
	if w.ContentType() != "application/json" || b.String() != want {
		t.Errorf("JSON:\n%s\nwant\n%s", b.String(), want)
	}
}
