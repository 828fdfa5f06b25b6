package test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/pgtest"
)

// pagingDSN is a database with 5,000 rows whose sort columns have NULLs,
// duplicates, a composite key, every common type and wide text.
func pagingDSN(t testing.TB) string {
	dsn := pgtest.NewDB(t)
	pgtest.MustExec(t, dsn, `
CREATE TABLE items (
  region   text NOT NULL,
  id       integer NOT NULL,
  grp      integer,
  name     varchar(40),
  price    numeric(10,2),
  day      date,
  at       timestamptz,
  flag     boolean,
  uid      uuid,
  wide     text,
  PRIMARY KEY (region, id)
);
INSERT INTO items
SELECT CASE WHEN i % 3 = 0 THEN 'EU' WHEN i % 3 = 1 THEN 'US' ELSE 'O''X' END,
       i,
       CASE WHEN i % 7 = 0 THEN NULL ELSE i % 11 END,
       CASE WHEN i % 13 = 0 THEN NULL ELSE 'n' || (i % 97) END,
       CASE WHEN i % 17 = 0 THEN NULL ELSE round((i % 500)::numeric / 3, 2) END,
       CASE WHEN i % 19 = 0 THEN NULL ELSE date '2024-01-01' + (i % 400) END,
       CASE WHEN i % 23 = 0 THEN NULL ELSE timestamptz '2024-01-01 00:00:00+00' + (i % 900) * interval '1 minute 0.000123 second' END,
       CASE WHEN i % 29 = 0 THEN NULL ELSE i % 2 = 0 END,
       CASE WHEN i % 31 = 0 THEN NULL ELSE md5(i::text)::uuid END,
       repeat('x', 900 + i % 100)
FROM generate_series(1, 5000) AS i;`)
	return dsn
}

type page struct {
	Count    *int64            `json:"@odata.count"`
	Next     string            `json:"@odata.nextLink"`
	Value    []json.RawMessage `json:"value"`
	rows     []map[string]any
	bytes    int
	status   int
	response *response
}

func (g *gateway) getPage(t testing.TB, u string, headers ...string) page {
	t.Helper()
	var r *response
	if strings.HasPrefix(u, "http") {
		r = g.doURL("GET", u, nil, headers...)
	} else {
		r = g.do("GET", u, nil, headers...)
	}
	p := page{status: r.Status, bytes: len(r.Body), response: r}
	if r.Status != 200 {
		return p
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("%s: %v\n%.500s", u, err, r.Body)
	}
	for _, raw := range p.Value {
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			t.Fatal(err)
		}
		p.rows = append(p.rows, m)
	}
	return p
}

// walk follows nextLinks from u to the end and returns every row's key
// ("region/id") in order, checking the page invariants on the way.
func (g *gateway) walk(t testing.TB, u string, maxRows, maxBytes int, wantCount int64, headers ...string) []string {
	t.Helper()
	var keys []string
	seen := map[string]bool{}
	for n := 0; u != ""; n++ {
		if n > 1000 {
			t.Fatal("walk does not end")
		}
		p := g.getPage(t, u, headers...)
		if p.status != 200 {
			t.Fatalf("page %d: status %d: %s", n, p.status, p.response.Body)
		}
		if len(p.rows) > maxRows {
			t.Fatalf("page %d has %d rows (max %d)", n, len(p.rows), maxRows)
		}
		if p.bytes > maxBytes {
			t.Fatalf("page %d has %d bytes (max %d)", n, p.bytes, maxBytes)
		}
		if wantCount >= 0 && (p.Count == nil || *p.Count != wantCount) {
			t.Fatalf("page %d: @odata.count = %v, want %d on every page", n, p.Count, wantCount)
		}
		for _, r := range p.rows {
			k := fmt.Sprint(r["region"], "/", r["id"])
			if seen[k] {
				t.Fatalf("page %d repeats %s", n, k)
			}
			seen[k] = true
			keys = append(keys, k)
		}
		if p.Next != "" {
			if !strings.HasPrefix(p.Next, g.base+"/odata/") {
				t.Fatalf("nextLink is not absolute on the service: %s", p.Next)
			}
			if len(p.rows) == 0 {
				t.Fatalf("page %d is empty but has a nextLink", n)
			}
		}
		u = p.Next
	}
	return keys
}

func sqlKeys(t testing.TB, dsn, query string) []string {
	t.Helper()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%v\n%s", err, query)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var region string
		var id int
		if err := rows.Scan(&region, &id); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(region, "/", id))
	}
	return out
}

func equalKeys(t testing.TB, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("walk returned %d rows, SQL %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("row %d: walk %s, SQL %s", i, got[i], want[i])
		}
	}
}

func TestPagingWalksEqualSQL(t *testing.T) {
	t.Parallel()
	dsn := pagingDSN(t)
	g := start(t, baseConfig(dsn))
	q := func(s string) string { return strings.ReplaceAll(url.PathEscape(s), "%2C", ",") }
	cases := []struct {
		name, query, sql string
		count            int64
	}{
		{"key order", "$select=region,id&$count=true", `SELECT region, id FROM items ORDER BY region, id`, 5000},
		{"nullable int desc", "$select=region,id,grp&$orderby=" + q("grp desc"),
			`SELECT region, id FROM items ORDER BY grp DESC NULLS LAST, region, id`, -1},
		{"string asc with nulls, then decimal desc", "$select=region,id&$orderby=" + q("name,price desc") + "&$count=true",
			`SELECT region, id FROM items ORDER BY name COLLATE "C" NULLS FIRST, price DESC NULLS LAST, region, id`, 5000},
		{"date and timestamp", "$select=region,id&$orderby=" + q("day desc,at"),
			`SELECT region, id FROM items ORDER BY day DESC NULLS LAST, at NULLS FIRST, region, id`, -1},
		{"bool and guid", "$select=region,id&$orderby=" + q("flag,uid desc"),
			`SELECT region, id FROM items ORDER BY flag NULLS FIRST, uid DESC NULLS LAST, region, id`, -1},
		{"key desc", "$select=region,id&$orderby=" + q("region desc,id desc"),
			`SELECT region, id FROM items ORDER BY region DESC, id DESC`, -1},
		{"filtered", "$select=region,id&$filter=" + q("grp eq 3 or grp eq null") + "&$count=true",
			`SELECT region, id FROM items WHERE grp = 3 OR grp IS NULL ORDER BY region, id`, 1104},
		{"expression order (offset tokens)", "$select=region,id&$orderby=" + q("id mod 10,region desc"),
			`SELECT region, id FROM items ORDER BY id % 10, region DESC, id`, -1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			want := sqlKeys(t, dsn, tc.sql)
			if tc.count >= 0 && int64(len(want)) != tc.count {
				t.Fatalf("fixture: SQL has %d rows, test expects count %d", len(want), tc.count)
			}
			got := g.walk(t, "/odata/items?"+tc.query, 2000, 8<<20, tc.count)
			equalKeys(t, got, want)
		})
	}
}

func TestPagingTopAndPageSize(t *testing.T) {
	t.Parallel()
	dsn := pagingDSN(t)
	g := start(t, baseConfig(dsn))
	// $top larger than a page: 2,000 then 500, then no nextLink.
	p := g.getPage(t, "/odata/items?$select=region,id&$count=true&$top=2500")
	if len(p.rows) != 2000 || p.Next == "" || *p.Count != 5000 {
		t.Fatalf("first page: %d rows, next %q, count %v", len(p.rows), p.Next, p.Count)
	}
	for _, opt := range []string{"$select=region,id", "$count=true", "$top=2500", "$skiptoken="} {
		if !strings.Contains(p.Next, opt) {
			t.Errorf("nextLink %s lacks %s", p.Next, opt)
		}
	}
	p2 := g.getPage(t, p.Next)
	if len(p2.rows) != 500 || p2.Next != "" || *p2.Count != 5000 {
		t.Fatalf("second page: %d rows, next %q, count %v", len(p2.rows), p2.Next, p2.Count)
	}
	// $top within a page: no nextLink; the Salesforce probe.
	p = g.getPage(t, "/odata/items?$select=region,id&$count=true&$top=26")
	if len(p.rows) != 26 || p.Next != "" {
		t.Fatalf("$top=26: %d rows, next %q", len(p.rows), p.Next)
	}
	// $top equal to the page size: exactly one page.
	p = g.getPage(t, "/odata/items?$select=region,id&$top=2000")
	if len(p.rows) != 2000 || p.Next != "" {
		t.Fatalf("$top=2000: %d rows, next %q", len(p.rows), p.Next)
	}
	// $top=1: no nextLink.
	p = g.getPage(t, "/odata/items?$top=1")
	if len(p.rows) != 1 || p.Next != "" {
		t.Fatalf("$top=1: %d rows, next %q", len(p.rows), p.Next)
	}
	// $skip with server paging: the skip is applied once.
	keys := g.walk(t, "/odata/items?$select=region,id&$skip=4990", 2000, 8<<20, -1)
	equalKeys(t, keys, sqlKeys(t, dsn, `SELECT region, id FROM items ORDER BY region, id OFFSET 4990`))
	// Prefer: odata.maxpagesize.
	p = g.getPage(t, "/odata/items?$select=region,id", "Prefer", "odata.maxpagesize=100")
	if len(p.rows) != 100 || p.Next == "" || p.response.Header.Get("Preference-Applied") != "odata.maxpagesize=100" {
		t.Fatalf("maxpagesize: %d rows, next %q, %v", len(p.rows), p.Next, p.response.Header)
	}
	keys = g.walk(t, "/odata/items?$select=region,id&$top=450", 100, 8<<20, -1, "Prefer", "odata.maxpagesize=100")
	equalKeys(t, keys, sqlKeys(t, dsn, `SELECT region, id FROM items ORDER BY region, id LIMIT 450`))
}

func TestPagingByteCap(t *testing.T) {
	t.Parallel()
	dsn := pagingDSN(t)
	c := baseConfig(dsn)
	c.PageBytes = 256 << 10
	g := start(t, c)
	// Rows are about 1 KB wide: pages end by bytes long before 2,000 rows.
	keys := g.walk(t, "/odata/items?$count=true", 2000, 256<<10, 5000)
	equalKeys(t, keys, sqlKeys(t, dsn, `SELECT region, id FROM items ORDER BY region, id`))
	p := g.getPage(t, "/odata/items")
	if len(p.rows) >= 2000 || len(p.rows) < 100 || p.Next == "" {
		t.Fatalf("byte-capped page has %d rows (next %q)", len(p.rows), p.Next)
	}
	// The same with gzip: the cap applies to the uncompressed body.
	p = g.getPage(t, "/odata/items", "Accept-Encoding", "gzip")
	if p.response.Header.Get("Content-Encoding") != "gzip" || p.bytes > 256<<10 {
		t.Fatalf("gzip page: %v, %d bytes", p.response.Header, p.bytes)
	}
}

func TestPagingTokens(t *testing.T) {
	t.Parallel()
	dsn := pagingDSN(t)
	g := start(t, baseConfig(dsn))
	p := g.getPage(t, "/odata/items?$select=region,id&$filter=grp%20eq%203", "Prefer", "odata.maxpagesize=50")
	if p.Next == "" {
		t.Fatal("no nextLink")
	}
	u, _ := url.Parse(p.Next)
	token := u.Query().Get("$skiptoken")
	bad := []string{
		// Replayed on another query (different filter).
		"/odata/items?$select=region,id&$filter=grp%20eq%204&$skiptoken=" + token,
		// Another set.
		"/odata/Customers?$skiptoken=" + token,
		// Edited by hand: flip one character.
		"/odata/items?$select=region,id&$filter=grp%20eq%203&$skiptoken=" + flip(token),
		// Garbage.
		"/odata/items?$skiptoken=10447",
	}
	for _, b := range bad {
		r := g.do("GET", b, nil)
		if r.Status == 404 && strings.Contains(b, "Customers") {
			continue // no Customers set in this database: also not served
		}
		e := assertODataError(t, r, 400)
		if !strings.Contains(fmt.Sprint(e["message"]), "$skiptoken") {
			t.Errorf("%s: message %v", b, e["message"])
		}
	}
	// Two gateways sharing the key serve alternate pages of one walk.
	g2 := start(t, baseConfig(dsn))
	var keys []string
	next := "/odata/items?$select=region,id"
	for i := 0; next != ""; i++ {
		gw := g
		if i%2 == 1 {
			gw = g2
			next = strings.Replace(next, g.base, g2.base, 1)
		} else {
			next = strings.Replace(next, g2.base, g.base, 1)
		}
		p := gw.getPage(t, next)
		if p.status != 200 {
			t.Fatalf("page %d on gateway %d: %d %s", i, i%2, p.status, p.response.Body)
		}
		for _, r := range p.rows {
			keys = append(keys, fmt.Sprint(r["region"], "/", r["id"]))
		}
		next = p.Next
	}
	equalKeys(t, keys, sqlKeys(t, dsn, `SELECT region, id FROM items ORDER BY region, id`))
}

func flip(s string) string {
	if s == "" {
		return "x"
	}
	b := []byte(s)
	i := len(b) / 2
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

func TestPagingStableUnderInserts(t *testing.T) {
	t.Parallel()
	dsn := pagingDSN(t)
	g := start(t, baseConfig(dsn))
	before := sqlKeys(t, dsn, `SELECT region, id FROM items ORDER BY region, id`)
	var got []string
	next := "/odata/items?$select=region,id"
	inserted := 0
	for i := 0; next != ""; i++ {
		p := g.getPage(t, next)
		for _, r := range p.rows {
			got = append(got, fmt.Sprint(r["region"], "/", r["id"]))
		}
		next = p.Next
		// Insert rows before and after the current position between pages.
		pgtest.MustExec(t, dsn, fmt.Sprintf(
			`INSERT INTO items (region, id) VALUES ('AA', %d), ('ZZ', %d), ('EU', %d)`, 100000+i, 100000+i, 100000+i))
		inserted += 3
	}
	seen := map[string]int{}
	for _, k := range got {
		seen[k]++
		if seen[k] > 1 {
			t.Fatalf("duplicate %s", k)
		}
	}
	for _, k := range before {
		if seen[k] != 1 {
			t.Fatalf("existing row %s skipped", k)
		}
	}
	if inserted == 0 {
		t.Fatal("no inserts happened")
	}
}

func TestPagingOnSQLite(t *testing.T) {
	t.Parallel()
	c := demoConfig(t)
	g := start(t, c)
	var ids []string
	next := "/odata/orders?$select=order_id,status&$filter=status%20eq%20'Open'&$orderby=total%20desc&$count=true"
	var count int64 = -1
	for next != "" {
		p := g.getPage(t, next)
		if p.status != 200 {
			t.Fatalf("%d %s", p.status, p.response.Body)
		}
		if len(p.rows) > 2000 {
			t.Fatalf("page of %d rows", len(p.rows))
		}
		if count < 0 {
			count = *p.Count
		} else if *p.Count != count {
			t.Fatalf("count changed: %d then %d", count, *p.Count)
		}
		for _, r := range p.rows {
			ids = append(ids, fmt.Sprint(r["order_id"]))
		}
		next = p.Next
	}
	if int64(len(ids)) != count || count < 1000 {
		t.Fatalf("walked %d rows, count %d", len(ids), count)
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if seen[id] {
			t.Fatalf("duplicate %s", id)
		}
		seen[id] = true
	}
}
