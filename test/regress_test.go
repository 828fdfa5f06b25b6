package test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/pgtest"
	"github.com/odatagw/odatagw/server/app"
	"github.com/odatagw/odatagw/server/auth"
)

// TestEmptyIsNotNull: an empty string or empty bytea right after a NULL (or
// as the first row) must come back as "" — database/sql leaves a nil
// destination nil when it copies an empty value. It also made a keyset walk
// over such rows repeat the same row forever.
func TestEmptyIsNotNull(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `
CREATE TABLE e (id int PRIMARY KEY, name text, flag boolean, b bytea);
INSERT INTO e VALUES (1, '', NULL, '\x'), (2, NULL, NULL, NULL), (3, '', true, '\x'), (4, 'x', false, '\x01'),
                     (5, NULL, NULL, NULL), (6, '', NULL, '\x');`)
	g := start(t, baseConfig(dsn))
	g.expect(t, g.do("GET", "/odata/e", nil), 200,
		`{"@odata.context":"BASE/odata/$metadata#e","value":[{"id":1,"name":"","flag":null,"b":""},{"id":2,"name":null,"flag":null,"b":null},{"id":3,"name":"","flag":true,"b":""},{"id":4,"name":"x","flag":false,"b":"AQ=="},{"id":5,"name":null,"flag":null,"b":null},{"id":6,"name":"","flag":null,"b":""}]}`)
	// The walk the reviewer saw looping: one row per page, ordered by a
	// nullable column then the empty strings.
	var ids []string
	next := "/odata/e?$select=id&$filter=name%20eq%20''&$orderby=flag%20desc,name"
	for n := 0; next != ""; n++ {
		if n > 10 {
			t.Fatalf("walk does not end: %v", ids)
		}
		p := g.getPage(t, next, "Prefer", "odata.maxpagesize=1")
		for _, r := range p.rows {
			ids = append(ids, fmt.Sprint(r["id"]))
		}
		next = p.Next
	}
	if got := strings.Join(ids, ","); got != "3,1,6" {
		t.Fatalf("walk = %s, want 3,1,6", got)
	}
}

// TestHashETagIsKeyed: a hash ETag is an HMAC with the server's key, so a
// principal cannot test guesses of a hidden value against it offline; two
// gateways with different keys therefore disagree on the same row.
func TestHashETagIsKeyed(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	c1 := fixtureConfig(dsn)
	c1.Sets["Customers"] = app.SetConfig{ETagHash: true}
	c2 := c1
	c2.TokenKey = "another-key-0123456789abcdef0123"
	e1 := start(t, c1).do("GET", "/odata/Customers('ALFKI')", nil).Header.Get("ETag")
	e2 := start(t, c2).do("GET", "/odata/Customers('ALFKI')", nil).Header.Get("ETag")
	if e1 == "" || e1 == e2 {
		t.Fatalf("ETags %q and %q: not keyed", e1, e2)
	}
}

// TestFailedLoginsAreThrottled: failed authentications from one address are
// limited (burst, then 429 before any password check); working credentials
// from that address are unaffected while the budget lasts.
func TestFailedLoginsAreThrottled(t *testing.T) {
	t.Parallel()
	c := fixtureConfig(fixtureDSN(t))
	c.Auth.Basic = []auth.BasicUser{{Name: "sf", Hash: secHash(t, "right-password")}}
	c.Policy.Sets = map[string]auth.SetRules{"*": {Grants: []auth.Grant{{To: []string{"user:sf"}, Ops: []string{"all"}}}}}
	c.Guard.AuthFailPerSecond, c.Guard.AuthFailBurst = 0.01, 3
	g := start(t, c)
	good := basicHeader("sf", "right-password")
	if r := g.do("GET", "/odata/Customers?$top=1", nil, "Authorization", good); r.Status != 200 {
		t.Fatalf("valid login: %d", r.Status)
	}
	var statuses []int
	for i := 0; i < 5; i++ {
		statuses = append(statuses, g.do("GET", "/odata/Customers?$top=1", nil, "Authorization", basicHeader("sf", fmt.Sprint("wrong", i))).Status)
	}
	if fmt.Sprint(statuses) != "[401 401 401 429 429]" {
		t.Fatalf("failed logins: %v", statuses)
	}
	r := g.do("GET", "/odata/Customers?$top=1", nil, "Authorization", basicHeader("sf", "wrong-again"))
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("throttled: %d %v", r.Status, r.Header)
	}
}

// TestAlwaysGeneratedKey: a GENERATED ALWAYS identity key is never written
// by clients: a client value is a 400 naming it (not a 500), and PUT/PATCH on
// a missing key does not try to upsert it.
func TestAlwaysGeneratedKey(t *testing.T) {
	t.Parallel()
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `CREATE TABLE gen (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, label text NOT NULL);
INSERT INTO gen (label) VALUES ('a');`)
	c := baseConfig(dsn)
	c.Upsert = true
	g := start(t, c)
	e := assertODataError(t, g.do("POST", "/odata/gen", []byte(`{"id":99,"label":"x"}`)), 400)
	if !strings.Contains(fmt.Sprint(e["message"]), "id") {
		t.Errorf("message %v does not name id", e["message"])
	}
	r := g.do("POST", "/odata/gen", []byte(`{"label":"x"}`))
	if r.Status != 201 || !strings.Contains(string(r.Body), `"id":2`) {
		t.Fatalf("generated key: %d %s", r.Status, r.Body)
	}
	assertODataError(t, g.do("PUT", "/odata/gen(777)", []byte(`{"label":"up"}`)), 404)
	assertODataError(t, g.do("PATCH", "/odata/gen(777)", []byte(`{"label":"up"}`)), 404)
}

// TestReloadKeepsPolicy: a reload whose model no longer fits the policy (a
// protected column renamed) keeps serving the old model instead of dropping
// the protection.
func TestReloadKeepsPolicy(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	c := fixtureConfig(dsn)
	c.Auth.Basic = []auth.BasicUser{{Name: "sf", Hash: secHash(t, "pw-0123456789"), Roles: []string{"sales"}}}
	c.Policy.Sets = map[string]auth.SetRules{"Customers": {
		Grants:     []auth.Grant{{To: []string{"role:sales"}, Ops: []string{"read"}}},
		Properties: []auth.PropertyRule{{Names: []string{"CreditLimit"}, Read: []string{"role:finance"}, Write: []string{"role:finance"}}},
	}}
	g := start(t, c)
	hdr := basicHeader("sf", "pw-0123456789")
	if r := g.do("GET", "/odata/Customers('ALFKI')", nil, "Authorization", hdr); strings.Contains(string(r.Body), "CreditLimit") || r.Status != 200 {
		t.Fatalf("hidden property shown: %d %s", r.Status, r.Body)
	}
	pgtest.MustExec(t, dsn, `ALTER TABLE "Customers" RENAME COLUMN "CreditLimit" TO "CreditLimit2"`)
	if err := g.g.Reload(context.Background()); err == nil {
		t.Fatal("reload accepted a model that no longer fits the policy")
	}
	r := g.do("GET", "/odata/Customers('ALFKI')?$select=CustomerID,Name", nil, "Authorization", hdr)
	if strings.Contains(string(r.Body), "CreditLimit2") {
		t.Fatalf("renamed protected column exposed: %s", r.Body)
	}
}

// TestReviewEdgeCases covers small protocol points found in review.
func TestReviewEdgeCases(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	// A path that merely starts with the root is not under it.
	assertODataError(t, g.do("GET", "/odataCustomers", nil), 404)
	// q=0 in any spelling refuses a media type; $format is case-insensitive.
	assertODataError(t, g.do("GET", "/odata/Customers", nil, "Accept", "application/json;q=0.0"), 406)
	if r := g.do("GET", "/odata/Customers?$top=1&$format=JSON", nil); r.Status != 200 {
		t.Errorf("$format=JSON: %d", r.Status)
	}
	if r := g.do("GET", "/odata/Customers?$top=1", nil, "Accept-Encoding", "gzip;q=0.000"); r.Header.Get("Content-Encoding") == "gzip" {
		t.Error("gzip;q=0.000 still got gzip")
	}
	// If-Match: * needs an existing entity (RFC 7232): 412, not 404.
	assertODataError(t, g.do("PATCH", "/odata/Orders(1)", []byte(`{"Status":"x"}`), "If-Match", "*"), 412)
	assertODataError(t, g.do("DELETE", "/odata/Orders(1)", nil, "If-Match", "*"), 412)
	if r := g.do("PATCH", "/odata/Orders(10248)", []byte(`{"Status":"x"}`), "If-Match", "*"); r.Status != 204 {
		t.Errorf("If-Match * on an existing entity: %d", r.Status)
	}
	// 405 on $count names what is allowed.
	r := g.do("POST", "/odata/Customers/$count", []byte(`{}`))
	assertODataError(t, r, 405)
	if r.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow = %q", r.Header.Get("Allow"))
	}
	// Unknown methods do not create metrics series.
	g.do("XMETHOD1", "/odata/", nil)
	m := g.do("GET", "/metrics", nil)
	if strings.Contains(string(m.Body), "XMETHOD1") || !strings.Contains(string(m.Body), `method="OTHER"`) {
		t.Errorf("metrics label for an unknown method:\n%s", m.Body)
	}
}

// TestSmallPageBytes: the minimum page_bytes still yields full pages (the
// room kept for the nextLink follows the request, not a fixed 70 KiB).
func TestSmallPageBytes(t *testing.T) {
	t.Parallel()
	dsn := pagingDSN(t)
	c := baseConfig(dsn)
	c.PageBytes = 64 << 10
	g := start(t, c)
	p := g.getPage(t, "/odata/items?$select=region,id,name")
	if len(p.rows) < 500 || p.bytes > 64<<10 || p.Next == "" {
		t.Fatalf("page of %d rows, %d bytes, next %q", len(p.rows), p.bytes, p.Next)
	}
}

// TestMaskedPropertyKeepsTheETag: a hidden property named in $select comes
// back as null, but the entity's ETag is still computed over the stored row,
// so the ETag of a collection row equals the entity's (an If-Match taken from
// a list view must not fail with 412).
func TestMaskedPropertyKeepsTheETag(t *testing.T) {
	t.Parallel()
	dsn := fixtureDSN(t)
	c := fixtureConfig(dsn)
	c.Sets["Customers"] = app.SetConfig{ETagHash: true}
	c.Auth.Basic = []auth.BasicUser{{Name: "sf", Hash: secHash(t, "pw-0123456789"), Roles: []string{"sales"}}}
	c.Policy.Sets = map[string]auth.SetRules{"Customers": {
		Grants:     []auth.Grant{{To: []string{"role:sales"}, Ops: []string{"read", "write"}}},
		Properties: []auth.PropertyRule{{Names: []string{"CreditLimit"}, Read: []string{"role:finance"}}},
	}}
	g := start(t, c)
	hdr := []string{"Authorization", basicHeader("sf", "pw-0123456789")}
	entity := g.do("GET", "/odata/Customers('ALFKI')", nil, hdr...)
	etag := entity.Header.Get("ETag")
	if entity.Status != 200 || etag == "" {
		t.Fatalf("entity: %d %v", entity.Status, entity.Header)
	}
	// Every property named (Salesforce selects every synced field): the
	// query needs no extra column for the ETag, and the masked value must
	// not leak into it.
	all := "CustomerID,Name,City,Country,CreatedAt,CreditLimit,Active"
	for _, sel := range []string{all, "CustomerID,Name,CreditLimit", "CustomerID,CreditLimit", ""} {
		path := "/odata/Customers?$filter=CustomerID eq 'ALFKI'"
		if sel != "" {
			path += "&$select=" + sel
		}
		r := g.do("GET", path, nil, hdr...)
		rows, _ := r.json(t)["value"].([]any)
		if r.Status != 200 || len(rows) != 1 {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
		row := rows[0].(map[string]any)
		if got := row["@odata.etag"]; got != etag {
			t.Errorf("$select=%s: row ETag %v, entity ETag %s", sel, got, etag)
		}
		if v, ok := row["CreditLimit"]; ok && v != nil {
			t.Errorf("$select=%s: hidden CreditLimit shown: %v", sel, v)
		}
	}
	// The ETag works as a precondition.
	if r := g.do("PATCH", "/odata/Customers('ALFKI')", []byte(`{"City":"Bonn"}`), append(hdr, "If-Match", etag)...); r.Status != 204 {
		t.Fatalf("If-Match with the row's ETag: %d %s", r.Status, r.Body)
	}
}

// TestCORSVaryWithGzip: a gzipped page varies on both Origin (CORS) and
// Accept-Encoding; neither header replaces the other.
func TestCORSVaryWithGzip(t *testing.T) {
	t.Parallel()
	c := fixtureConfig(fixtureDSN(t))
	c.CORSOrigins = []string{"https://app.example.com"}
	g := start(t, c)
	r := g.do("GET", "/odata/Customers?$top=1", nil, "Origin", "https://app.example.com", "Accept-Encoding", "gzip")
	if r.Status != 200 || r.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("%d %v", r.Status, r.Header)
	}
	vary := strings.Join(r.Header.Values("Vary"), ",")
	for _, want := range []string{"Origin", "Accept-Encoding"} {
		if !strings.Contains(vary, want) {
			t.Errorf("Vary %q lacks %s", vary, want)
		}
	}
}
