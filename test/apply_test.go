package test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/mytest"
	"github.com/odatagw/odatagw/server/app"
	"github.com/odatagw/odatagw/server/auth"
)

// $apply end-to-end: every query of applyCases is answered by the gateway
// and by a hand-written SQL statement on the same database, and the two
// results must be the same rows (compared as sorted multisets, numbers to
// 15 significant digits so that a Double average matches the engine's
// numeric text). Whole responses are asserted for a few, and the paging,
// row filter and error cases run against PostgreSQL and MariaDB.

type applyCase struct {
	name   string
	query  string   // the OData query string on /odata/<set>
	cols   []string // the result's property paths, in the SQL's column order
	pg     string   // hand-written SQL (PostgreSQL; also MariaDB unless my is set)
	my     string   // MariaDB's SQL when it differs
	pgOnly bool     // the MariaDB fixture lacks the columns
}

var applyCases = []applyCase{
	{name: "sum by customer", query: "Orders?$apply=groupby((CustomerID),aggregate(Total with sum as S))",
		cols: []string{"CustomerID", "S"},
		pg:   `SELECT "CustomerID", SUM("Total") FROM "Orders" GROUP BY 1`},
	{name: "every method, no grouping",
		query: "Orders?$apply=aggregate(Total with sum as S,Total with average as A,Total with min as Lo,Total with max as Hi," +
			"CustomerID with countdistinct as N,$count as C,OrderDate with max as Last,Status with min as First)",
		cols: []string{"S", "A", "Lo", "Hi", "N", "C", "Last", "First"},
		pg: `SELECT SUM("Total"), AVG("Total"), MIN("Total"), MAX("Total"), COUNT(DISTINCT "CustomerID"), COUNT(*),
			MAX("OrderDate")::text, MIN("Status") FROM "Orders"`,
		my: `SELECT SUM("Total"), AVG("Total"), MIN("Total"), MAX("Total"), COUNT(DISTINCT "CustomerID"), COUNT(*),
			CAST(MAX("OrderDate") AS CHAR), MIN("Status") FROM "Orders"`},
	{name: "count by status", query: "Orders?$apply=groupby((Status),aggregate($count as C))",
		cols: []string{"Status", "C"},
		pg:   `SELECT "Status", COUNT(*) FROM "Orders" GROUP BY 1`},
	{name: "groupby only", query: "Orders?$apply=groupby((CustomerID,Status))",
		cols: []string{"CustomerID", "Status"},
		pg:   `SELECT DISTINCT "CustomerID", "Status" FROM "Orders"`},
	{name: "group over a to-one path", query: "Orders?$apply=groupby((Customer/City),aggregate(Total with sum as S))",
		cols: []string{"Customer/City", "S"},
		pg:   `SELECT c."City", SUM(o."Total") FROM "Orders" o LEFT JOIN "Customers" c ON c."CustomerID" = o."CustomerID" GROUP BY 1`},
	{name: "paths and own property", query: "Orders?$apply=groupby((Customer/Country,Customer/City,Status),aggregate($count as C))",
		cols: []string{"Customer/Country", "Customer/City", "Status", "C"},
		pg: `SELECT c."Country", c."City", o."Status", COUNT(*) FROM "Orders" o
			LEFT JOIN "Customers" c ON c."CustomerID" = o."CustomerID" GROUP BY 1, 2, 3`, pgOnly: true},
	{name: "filter first", query: "Orders?$apply=filter(Total gt 50)/groupby((CustomerID),aggregate(Total with average as A))",
		cols: []string{"CustomerID", "A"},
		pg:   `SELECT "CustomerID", AVG("Total") FROM "Orders" WHERE "Total" > 50 GROUP BY 1`},
	{name: "filter over a to-one path first", query: "Orders?$apply=filter(Customer/City eq 'Berlin')/groupby((Status),aggregate(Total with sum as S))",
		cols: []string{"Status", "S"},
		pg: `SELECT o."Status", SUM(o."Total") FROM "Orders" o JOIN "Customers" c ON c."CustomerID" = o."CustomerID"
			WHERE c."City" = 'Berlin' GROUP BY 1`},
	{name: "filter with a lambda first", query: "Orders?$apply=filter(order_lines/any(l: l/quantity ge 2))/aggregate($count as C,Total with max as M)",
		cols: []string{"C", "M"},
		pg: `SELECT COUNT(*), MAX("Total") FROM "Orders" o
			WHERE EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = o."OrderID" AND l.quantity >= 2)`},
	{name: "filter after (having)", query: "Orders?$apply=groupby((CustomerID),aggregate($count as C))/filter(C gt 1)",
		cols: []string{"CustomerID", "C"},
		pg:   `SELECT "CustomerID", COUNT(*) FROM "Orders" GROUP BY 1 HAVING COUNT(*) > 1`},
	{name: "outer $filter on an alias", query: "Orders?$apply=groupby((CustomerID),aggregate(Total with sum as S))&$filter=S gt 100 and CustomerID ne 'SALES'",
		cols: []string{"CustomerID", "S"},
		pg:   `SELECT "CustomerID", SUM("Total") FROM "Orders" WHERE "CustomerID" <> 'SALES' GROUP BY 1 HAVING SUM("Total") > 100`},
	{name: "lines: integer sum and average, decimal max",
		query: "order_lines?$apply=groupby((order_id),aggregate(quantity with sum as Q,quantity with average as QA,unit_price with max as P))",
		cols:  []string{"order_id", "Q", "QA", "P"},
		pg:    `SELECT order_id, SUM(quantity), AVG(quantity), MAX(unit_price) FROM order_lines GROUP BY 1`, pgOnly: true},
	{name: "lines: integer sum and average over a path",
		query: "order_lines?$apply=groupby((order/Status),aggregate(quantity with sum as Q,quantity with average as QA,sku with max as M))",
		cols:  []string{"order/Status", "Q", "QA", "M"},
		pg: `SELECT o."Status", SUM(l.quantity), AVG(l.quantity), MAX(l.sku)::text FROM order_lines l
			LEFT JOIN "Orders" o ON o."OrderID" = l.order_id GROUP BY 1`,
		my: `SELECT o."Status", SUM(l.quantity), AVG(CAST(l.quantity AS DOUBLE)), MAX(l.sku) FROM order_lines l
			LEFT JOIN "Orders" o ON o."OrderID" = l.order_id GROUP BY 1`},
	{name: "lines: expression over a path",
		query: "order_lines?$apply=groupby((order/CustomerID,order/Status),aggregate(quantity mul unit_price with sum as Amount))",
		cols:  []string{"order/CustomerID", "order/Status", "Amount"},
		pg: `SELECT o."CustomerID", o."Status", SUM(l.quantity * l.unit_price) FROM order_lines l
			LEFT JOIN "Orders" o ON o."OrderID" = l.order_id GROUP BY 1, 2`, pgOnly: true},
	{name: "customers: nulls in groups and sums",
		query: "Customers?$apply=groupby((City),aggregate(CreditLimit with sum as S,CreditLimit with average as A,$count as C))",
		cols:  []string{"City", "S", "A", "C"},
		pg:    `SELECT "City", SUM("CreditLimit"), AVG("CreditLimit"), COUNT(*) FROM "Customers" GROUP BY 1`},
	{name: "empty input", query: "Orders?$apply=filter(Total gt 1000000)/aggregate(Total with sum as S,$count as C)",
		cols: []string{"S", "C"},
		pg:   `SELECT SUM("Total"), COUNT(*) FROM "Orders" WHERE "Total" > 1000000`},
}

// applyGet reads a $apply result through every nextLink and returns its
// rows as the values at paths, normalised.
func applyGet(t *testing.T, g *gateway, query string, paths []string, headers ...string) [][]string {
	t.Helper()
	var out [][]string
	next := "/odata/" + query
	for pages := 0; next != ""; pages++ {
		if pages > 100 {
			t.Fatalf("%s: more than 100 pages", query)
		}
		var r *response
		if strings.HasPrefix(next, "http") {
			r = g.doURL("GET", next, nil, headers...)
		} else {
			r = g.do("GET", next, nil, headers...)
		}
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", next, r.Status, r.Body)
		}
		body := r.json(t)
		for _, raw := range body["value"].([]any) {
			row := raw.(map[string]any)
			var vals []string
			for _, p := range paths {
				var v any = row
				for _, seg := range strings.Split(p, "/") {
					m, ok := v.(map[string]any)
					if !ok {
						t.Fatalf("%s: %s is not an object in %v", query, seg, row)
					}
					if v, ok = m[seg]; !ok {
						t.Fatalf("%s: no %s in %v", query, p, row)
					}
				}
				vals = append(vals, normValue(v))
			}
			out = append(out, vals)
		}
		next, _ = body["@odata.nextLink"].(string)
	}
	return out
}

// normValue prints a value for comparison: null as NULL, numbers to 15
// significant digits, everything else as its text.
func normValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case json.Number:
		return normNumber(string(x))
	case string:
		return normNumber(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

func normNumber(s string) string {
	if f, err := strconv.ParseFloat(s, 64); err == nil && s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9') {
		return strconv.FormatFloat(f, 'g', 15, 64)
	}
	return s
}

// sqlGet runs a hand-written statement and returns its rows normalised.
func sqlGet(t *testing.T, db *sql.DB, stmt string) [][]string {
	t.Helper()
	rows, err := db.Query(stmt)
	if err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out [][]string
	for rows.Next() {
		raw := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range raw {
			dest[i] = &raw[i]
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		vals := make([]string, len(cols))
		for i, v := range raw {
			vals[i] = "NULL"
			if v.Valid {
				vals[i] = normNumber(v.String)
			}
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sortedRows(rows [][]string) [][]string {
	out := slices.Clone(rows)
	slices.SortFunc(out, func(a, b []string) int { return slices.Compare(a, b) })
	return out
}

// runApplyDiff compares every case of applyCases on g with db.
func runApplyDiff(t *testing.T, g *gateway, db *sql.DB, mysql bool) {
	for _, c := range applyCases {
		if mysql && c.pgOnly {
			continue
		}
		stmt := c.pg
		if mysql && c.my != "" {
			stmt = c.my
		}
		got := sortedRows(applyGet(t, g, c.query, c.cols))
		want := sortedRows(sqlGet(t, db, stmt))
		if len(want) == 0 {
			t.Errorf("%s: the hand-written SQL returns no rows: the case checks nothing", c.name)
		}
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: $apply differs from SQL\n$apply: %v\n   SQL: %v", c.name, got, want)
		}
		// Paged one row at a time, the walk returns the same rows.
		if paged := sortedRows(applyGet(t, g, c.query, c.cols, "Prefer", "odata.maxpagesize=1")); !slices.EqualFunc(paged, want, slices.Equal) {
			t.Errorf("%s: paged walk differs from SQL\n walk: %v\n  SQL: %v", c.name, paged, want)
		}
	}
}

func TestApplyPostgres(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	db, err := sql.Open("postgres", g.g.Config.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runApplyDiff(t, g, db, false)
	applyResponses(t, g)
	applyPaging(t, g)
	applyErrors(t, g)
}

func TestApplyMariaDB(t *testing.T) {
	t.Parallel()
	g, dsn := startMySQL(t)
	db := mytest.Open(t, dsn)
	// The gateway's sessions divide decimals to 30 places (the adapter's
	// div_precision_increment); so does the hand-written SQL's one session.
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("SET SESSION div_precision_increment = 30"); err != nil {
		t.Fatal(err)
	}
	runApplyDiff(t, g, db, true)
	applyPaging(t, g)
	applyErrors(t, g)
	// MariaDB averages an integer column in DOUBLE, like PostgreSQL's
	// numeric average read as a Double (not DECIMAL with 4 digits).
	r := g.do("GET", "/odata/order_lines?$apply=aggregate(quantity with average as QA)", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#order_lines(QA)","value":[{"QA":4.333333333333333}]}`)
}

// applyResponses asserts whole responses (PostgreSQL).
func applyResponses(t *testing.T, g *gateway) {
	t.Helper()
	r := g.do("GET", "/odata/Orders?$apply=groupby((Customer/Country),aggregate(Total with sum as S,$count as C))&$orderby=S desc&$top=2&$count=true", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(Customer(Country),S,C)","@odata.count":4,"value":[`+
		`{"Customer":{"Country":"USA"},"S@odata.type":"#Decimal","S":1500.75,"C@odata.type":"#Int64","C":1},`+
		`{"Customer":{"Country":"Germany"},"S@odata.type":"#Decimal","S":392.50,"C@odata.type":"#Int64","C":3}]}`)

	r = g.do("GET", "/odata/Orders?$apply=groupby((Status),aggregate(Total with sum as S))&$orderby=Status&$skip=1&$top=2", nil,
		"Accept", "application/json;odata.metadata=minimal;IEEE754Compatible=true")
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(Status,S)","value":[`+
		`{"Status":"Invoiced","S@odata.type":"#Decimal","S":"1500.75"},{"Status":"Open","S@odata.type":"#Decimal","S":"242.49"}]}`)

	r = g.do("GET", "/odata/Orders?$apply=filter(Status eq 'Open')/aggregate(Total with average as A,CustomerID with countdistinct as N)", nil,
		"Accept", "application/json;odata.metadata=full")
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(A,N)","value":[`+
		`{"@odata.id":null,"A@odata.type":"#Decimal","A":80.8300000000000000,"N@odata.type":"#Int64","N":2}]}`)

	// Over a navigation path: the aggregation sees the related rows only.
	r = g.do("GET", "/odata/Customers('ALFKI')/Orders?$apply=aggregate(Total with sum as S,$count as C)", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(S,C)","value":[{"S@odata.type":"#Decimal","S":392.50,"C@odata.type":"#Int64","C":3}]}`)
	r = g.do("GET", "/odata/Orders(10248)/Customer?$apply=aggregate($count as C)", nil)
	if r.Status != 400 {
		t.Errorf("$apply on a to-one path: %d %s", r.Status, r.Body)
	}

	// A $apply of filters only returns the set's entities.
	r = g.do("GET", "/odata/Orders?$apply=filter(Total gt 1000)&$select=OrderID", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID)","value":[{"OrderID":10252}]}`)

	// $count of an aggregated result counts its rows.
	r = g.do("GET", "/odata/Orders/$count?$apply=groupby((CustomerID))", nil)
	if r.Status != 200 || string(r.Body) != "4" {
		t.Errorf("$count: %d %s", r.Status, r.Body)
	}

	// $metadata advertises what $apply supports.
	r = g.do("GET", "/odata/$metadata", nil)
	if !strings.Contains(string(r.Body), `<Annotation Term="Aggregation.ApplySupported"><Record><PropertyValue Property="Transformations"><Collection><String>filter</String><String>groupby</String><String>aggregate</String></Collection>`) {
		t.Errorf("$metadata without Aggregation.ApplySupported")
	}
}

// applyPaging walks a grouped result a page at a time, with $top and
// $skip, and checks it against the whole result.
func applyPaging(t *testing.T, g *gateway) {
	t.Helper()
	q := "Orders?$apply=groupby((OrderDate,CustomerID),aggregate(Total with sum as S))&$orderby=S desc"
	cols := []string{"OrderDate", "CustomerID", "S"}
	whole := applyGet(t, g, q, cols)
	if len(whole) < 3 {
		t.Fatalf("whole result %v, want at least 3 groups", whole)
	}
	n := json.Number(strconv.Itoa(len(whole)))
	for size := 1; size <= 3; size++ {
		pref := "odata.maxpagesize=" + strconv.Itoa(size)
		if got := applyGet(t, g, q, cols, "Prefer", pref); !slices.EqualFunc(got, whole, slices.Equal) {
			t.Errorf("pages of %d: %v, want %v", size, got, whole)
		}
		if got := applyGet(t, g, q+"&$skip=1&$top=2", cols, "Prefer", pref); !slices.EqualFunc(got, whole[1:3], slices.Equal) {
			t.Errorf("pages of %d with $skip=1&$top=2: %v, want %v", size, got, whole[1:3])
		}
	}
	// The nextLink keeps $apply, and @odata.count stays on later pages.
	r := g.do("GET", "/odata/"+q+"&$count=true", nil, "Prefer", "odata.maxpagesize=2")
	body := r.json(t)
	next, _ := body["@odata.nextLink"].(string)
	if !strings.Contains(next, "$apply=groupby((OrderDate,CustomerID),aggregate(Total%20with%20sum%20as%20S))") || body["@odata.count"] != n {
		t.Fatalf("first page: %s", r.Body)
	}
	r = g.doURL("GET", next, nil, "Prefer", "odata.maxpagesize=2")
	if b := r.json(t); r.Status != 200 || b["@odata.count"] != n || len(b["value"].([]any)) == 0 {
		t.Errorf("second page: %d %s", r.Status, r.Body)
	}
	// A token does not carry over to another $apply.
	other := strings.Replace(next, "as%20S", "as%20T", 1)
	if r := g.doURL("GET", other, nil); r.Status != 400 {
		t.Errorf("token of another $apply: %d %s", r.Status, r.Body)
	}
}

// applyErrors: 501 for what is not implemented, 400 for what is wrong.
func applyErrors(t *testing.T, g *gateway) {
	t.Helper()
	cases := []struct {
		query  string
		status int
		msg    string
	}{
		{"Orders?$apply=compute(Total mul 2 as T)", 501, "transformation compute is not supported"},
		{"Orders?$apply=topcount(2,Total)", 501, "transformation topcount is not supported"},
		{"Orders?$apply=concat(identity,aggregate($count as C))", 501, "transformation concat"},
		{"Orders?$apply=groupby((rollup(CustomerID,Status)))", 501, "rollup"},
		{"Orders?$apply=aggregate(Total with Custom.median as M)", 501, "custom aggregation method Custom.median"},
		{"Orders?$apply=groupby((Status))/groupby((Status))", 501, "groupby after an aggregation"},
		{"Customers?$apply=groupby((Orders/Status))", 501, "to-many navigation Orders"},
		{"Orders?$apply=groupby((Status))&$select=Status", 501, "$select together"},
		{"Orders?$apply=groupby((Status))&$search=x", 501, "$search together"},
		{"Orders?$apply=groupby((Status))&$expand=Customer", 501, "$expand together"},
		{"Orders?$apply=groupby((Nope))", 400, "Orders has no property Nope"},
		{"Orders?$apply=groupby((Customer/Nope))", 400, "Customers has no property Nope"},
		{"Orders?$apply=aggregate(Total with sum as Status)", 400, "alias Status collides"},
		{"Orders?$apply=aggregate(Status with sum as S)", 400, "sum needs a numeric expression"},
		{"Orders?$apply=groupby((Status))&$orderby=Total", 400, "Total is not a property of the $apply result"},
		{"Orders?$apply=groupby(Status)", 400, "expected '(' starting the list of grouping properties"},
		{"Orders?$apply=aggregate(Total with sum)", 400, `and an alias`},
		{"Orders?$apply=frobnicate(1)", 400, "unknown transformation"},
		{"Orders(10248)?$apply=aggregate($count as C)", 400, "applies to collections"},
	}
	for _, c := range cases {
		r := g.do("GET", "/odata/"+c.query, nil)
		if r.Status != c.status || !strings.Contains(string(r.Body), c.msg) || !strings.Contains(string(r.Body), `"error"`) {
			t.Errorf("%s: %d %s, want %d with %q", c.query, r.Status, r.Body, c.status, c.msg)
		}
	}
}

// TestApplyRowFilter: the caller's row filter on Orders applies before the
// aggregation (the aggregates change), the row filter on Customers applies
// to the grouping path (customers the caller cannot read group as null),
// and a hidden property can neither be grouped nor aggregated.
func TestApplyRowFilter(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) {
		secJWT(c)
		c.Policy = auth.PolicyConfig{Sets: map[string]auth.SetRules{
			"Orders": {
				Grants:     []auth.Grant{{To: []string{"*"}, Ops: []string{"read"}}},
				RowFilters: []auth.RowFilter{{To: []string{"role:clerk"}, Filter: "Status eq 'Open'"}},
			},
			"Customers": {
				Grants:     []auth.Grant{{To: []string{"*"}, Ops: []string{"read"}}},
				RowFilters: []auth.RowFilter{{To: []string{"role:clerk"}, Filter: "Country eq 'Germany'"}},
				Properties: []auth.PropertyRule{{Names: []string{"CreditLimit", "City"}, Read: []string{"role:boss"}}},
			},
		}}
	})
	clerk, boss := secRoles(t, "clerk"), secRoles(t, "boss")
	db, err := sql.Open("postgres", g.g.Config.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	q := "Orders?$apply=groupby((CustomerID),aggregate(Total with sum as S,$count as C))"
	cols := []string{"CustomerID", "S", "C"}
	all := sortedRows(sqlGet(t, db, `SELECT "CustomerID", SUM("Total"), COUNT(*) FROM "Orders" GROUP BY 1`))
	open := sortedRows(sqlGet(t, db, `SELECT "CustomerID", SUM("Total"), COUNT(*) FROM "Orders" WHERE "Status" = 'Open' GROUP BY 1`))
	if slices.EqualFunc(all, open, slices.Equal) {
		t.Fatal("the row filter does not change the aggregates: the test checks nothing")
	}
	if got := sortedRows(applyGet(t, g, q, cols, boss...)); !slices.EqualFunc(got, all, slices.Equal) {
		t.Errorf("boss: %v, want %v", got, all)
	}
	if got := sortedRows(applyGet(t, g, q, cols, clerk...)); !slices.EqualFunc(got, open, slices.Equal) {
		t.Errorf("clerk: %v, want %v (the row filter before the aggregation)", got, open)
	}
	// Also in $count and paged.
	r := g.do("GET", "/odata/Orders/$count?$apply=groupby((CustomerID))", nil, clerk...)
	if string(r.Body) != "2" {
		t.Errorf("clerk $count: %s", r.Body)
	}

	// Through the navigation: the clerk sees only German customers.
	q = "Orders?$apply=groupby((Customer/Country),aggregate($count as C))"
	want := sortedRows(sqlGet(t, db, `SELECT c."Country", COUNT(*) FROM "Orders" o
		LEFT JOIN "Customers" c ON c."CustomerID" = o."CustomerID" AND c."Country" = 'Germany'
		WHERE o."Status" = 'Open' GROUP BY 1`))
	if got := sortedRows(applyGet(t, g, q, []string{"Customer/Country", "C"}, clerk...)); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("clerk by country: %v, want %v", got, want)
	}
	if len(want) != 2 {
		t.Errorf("want %v: expected Germany and null", want)
	}
	for _, q := range []string{
		"Orders?$apply=groupby((Customer/City))",
		"Customers?$apply=aggregate(CreditLimit with sum as S)",
		"Customers?$apply=groupby((City))",
		"Orders?$apply=filter(Customer/City eq 'Berlin')/aggregate($count as C)",
	} {
		if r := g.do("GET", "/odata/"+q, nil, clerk...); r.Status != 400 || !strings.Contains(string(r.Body), "has no property") {
			t.Errorf("clerk %s: %d %s", q, r.Status, r.Body)
		}
		if r := g.do("GET", "/odata/"+q, nil, boss...); r.Status != 200 {
			t.Errorf("boss %s: %d %s", q, r.Status, r.Body)
		}
	}
}

// TestApplyHiddenJoin: grouping through a navigation that joins on a
// property hidden from the caller would reveal it, on the first hop or a
// later one (order_lines → order → Customer reads Orders.CustomerID).
func TestApplyHiddenJoin(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) {
		secJWT(c)
		c.Policy = auth.PolicyConfig{Sets: map[string]auth.SetRules{
			"*":      {Grants: []auth.Grant{{To: []string{"*"}, Ops: []string{"read"}}}},
			"Orders": {Properties: []auth.PropertyRule{{Names: []string{"CustomerID"}, Read: []string{"role:boss"}}}},
		}}
	})
	clerk, boss := secRoles(t, "clerk"), secRoles(t, "boss")
	for _, q := range []string{
		"order_lines?$apply=groupby((order/Customer/Name),aggregate($count as C))",
		"order_lines?$apply=groupby((order/OrderID,order/Customer/CustomerID))",
		"Orders?$apply=groupby((Customer/Name))",
	} {
		if r := g.do("GET", "/odata/"+q, nil, clerk...); r.Status != 400 || !strings.Contains(string(r.Body), "has no ") {
			t.Errorf("clerk %s: %d %s", q, r.Status, r.Body)
		}
		if r := g.do("GET", "/odata/"+q, nil, boss...); r.Status != 200 {
			t.Errorf("boss %s: %d %s", q, r.Status, r.Body)
		}
	}
	// The first hop's own foreign key is visible: grouping through it works.
	if r := g.do("GET", "/odata/order_lines?$apply=groupby((order/Status))", nil, clerk...); r.Status != 200 {
		t.Errorf("clerk order/Status: %d %s", r.Status, r.Body)
	}
}

// TestApplySQLite runs a few aggregations on the embedded demo database
// (the composition root booted without a database URL).
func TestApplySQLite(t *testing.T) {
	t.Parallel()
	c := demoConfig(t)
	g := start(t, c)
	db, err := sql.Open("sqlite", c.DemoPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cases := []applyCase{
		{query: "orders?$apply=groupby((status),aggregate($count as n,customer_id with countdistinct as c))",
			cols: []string{"status", "n", "c"},
			pg:   `SELECT status, COUNT(*), COUNT(DISTINCT customer_id) FROM orders GROUP BY 1`},
		{query: "orders?$apply=groupby((customer/country),aggregate(total with sum as s,total with max as m))&$filter=s gt 1000",
			cols: []string{"customer/country", "s", "m"},
			pg: `SELECT c.country, SUM(o.total), MAX(o.total) FROM orders o LEFT JOIN customers c ON c.customer_id = o.customer_id
				GROUP BY 1 HAVING SUM(o.total) > 1000`},
		{query: "order_lines?$apply=filter(quantity gt 2)/groupby((product/category),aggregate(quantity with sum as q,quantity with average as a))",
			cols: []string{"product/category", "q", "a"},
			pg: `SELECT p.category, SUM(l.quantity), AVG(l.quantity) FROM order_lines l LEFT JOIN products p ON p.product_id = l.product_id
				WHERE l.quantity > 2 GROUP BY 1`},
	}
	for _, c := range cases {
		got := sortedRows(applyGet(t, g, c.query, c.cols, "Prefer", "odata.maxpagesize=7"))
		want := sortedRows(sqlGet(t, db, c.pg))
		if len(want) == 0 || !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s:\n$apply: %v\n   SQL: %v", c.query, got, want)
		}
	}
}
