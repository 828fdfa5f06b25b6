package test

import (
	"database/sql"
	"slices"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/internal/mytest"
	"github.com/odatagw/odatagw/server/app"
	"github.com/odatagw/odatagw/server/auth"
)

// $compute end-to-end: computed values are compared with hand-written SQL
// on the same database (PostgreSQL and MariaDB), walks by a computed alias
// are exact, and whole responses show the JSON shape.

var computeCases = []applyCase{
	{name: "decimal arithmetic", query: "Orders?$compute=Total mul 2 as T2,Total sub 10.5 as T3,Total div 4 as T4&$select=OrderID,T2,T3,T4",
		cols: []string{"OrderID", "T2", "T3", "T4"},
		pg:   `SELECT "OrderID", "Total" * 2, "Total" - 10.5, "Total" / 4 FROM "Orders"`},
	{name: "string functions", query: "Customers?$compute=toupper(Name) as U,length(Name) as L,concat(CustomerID,'-x') as C,substring(Name,1,3) as S,indexof(Name,'a') as I",
		cols: []string{"CustomerID", "U", "L", "C", "S", "I"},
		pg:   `SELECT "CustomerID", upper("Name"), char_length("Name"), "CustomerID" || '-x', substr("Name", 2, 3), strpos("Name", 'a') - 1 FROM "Customers"`,
		my:   `SELECT "CustomerID", upper("Name"), char_length("Name"), CONCAT("CustomerID", '-x'), substr("Name", 2, 3), LOCATE('a', "Name" COLLATE utf8mb4_bin) - 1 FROM "Customers"`},
	{name: "date parts", query: "Orders?$compute=year(OrderDate) as Y,month(OrderDate) as M,day(OrderDate) as D&$select=OrderID,Y,M,D",
		cols: []string{"OrderID", "Y", "M", "D"},
		pg:   `SELECT "OrderID", EXTRACT(YEAR FROM "OrderDate"), EXTRACT(MONTH FROM "OrderDate"), EXTRACT(DAY FROM "OrderDate") FROM "Orders"`,
		my:   `SELECT "OrderID", YEAR("OrderDate"), MONTH("OrderDate"), DAY("OrderDate") FROM "Orders"`},
	{name: "to-one path and a comparison", query: "Orders?$compute=Customer/Name as CN,Total gt 200 as Big&$select=OrderID,CN,Big",
		cols: []string{"OrderID", "CN", "Big"},
		pg:   `SELECT o."OrderID", c."Name", CASE WHEN o."Total" > 200 THEN 'true' ELSE 'false' END FROM "Orders" o JOIN "Customers" c ON c."CustomerID" = o."CustomerID"`},
	{name: "filter on an alias", query: "order_lines?$compute=quantity mul 10 as Q10&$filter=Q10 ge 30&$select=order_id,line_no,Q10",
		cols: []string{"order_id", "line_no", "Q10"},
		pg:   `SELECT order_id, line_no, quantity * 10 FROM order_lines WHERE quantity * 10 >= 30`},
}

// computeWalk: ordered by a computed alias (ties broken by the key), in
// pages of 1 and 2 rows, the walk is exactly the SQL's sequence.
func computeWalk(t *testing.T, g *gateway, db *sql.DB) {
	t.Helper()
	q := "Orders?$compute=Total mul 2 as T2&$filter=T2 gt 100&$orderby=T2 desc&$select=OrderID,T2"
	want := sqlGet(t, db, `SELECT "OrderID", "Total" * 2 FROM "Orders" WHERE "Total" * 2 > 100 ORDER BY 2 DESC, 1`)
	if len(want) < 3 {
		t.Fatalf("want %v: too few rows to walk", want)
	}
	for _, size := range []string{"1", "2"} {
		got := applyGet(t, g, q, []string{"OrderID", "T2"}, "Prefer", "odata.maxpagesize="+size)
		if !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("pages of %s: %v, want %v", size, got, want)
		}
	}
	// With $top and $skip across pages.
	got := applyGet(t, g, q+"&$skip=1&$top=2", []string{"OrderID", "T2"}, "Prefer", "odata.maxpagesize=1")
	if !slices.EqualFunc(got, want[1:3], slices.Equal) {
		t.Errorf("$skip=1&$top=2: %v, want %v", got, want[1:3])
	}
	// The nextLink keeps $compute; a token does not carry over to another.
	r := g.do("GET", "/odata/"+q, nil, "Prefer", "odata.maxpagesize=1")
	next, _ := r.json(t)["@odata.nextLink"].(string)
	if !strings.Contains(next, "$compute=Total%20mul%202%20as%20T2") {
		t.Fatalf("nextLink %q without $compute", next)
	}
	if r := g.doURL("GET", strings.Replace(next, "mul%202", "mul%203", 1), nil); r.Status != 400 {
		t.Errorf("token of another $compute: %d %s", r.Status, r.Body)
	}
}

func runComputeDiff(t *testing.T, g *gateway, db *sql.DB, mysql bool) {
	t.Helper()
	for _, c := range computeCases {
		stmt := c.pg
		if mysql && c.my != "" {
			stmt = c.my
		}
		want := sortedRows(sqlGet(t, db, stmt))
		if len(want) == 0 {
			t.Errorf("%s: the hand-written SQL returns no rows", c.name)
		}
		if got := sortedRows(applyGet(t, g, c.query, c.cols)); !slices.EqualFunc(got, want, slices.Equal) {
			t.Errorf("%s: $compute differs from SQL\n$compute: %v\n     SQL: %v", c.name, got, want)
		}
	}
}

// computeErrors: 400 for what is wrong, 501 for what is not implemented.
func computeErrors(t *testing.T, g *gateway) {
	t.Helper()
	cases := []struct {
		query  string
		status int
		msg    string
	}{
		{"Orders?$compute=Total mul 2 as Status", 400, "alias Status collides with a property of Orders"},
		{"Orders?$compute=Total as Customer", 400, "collides with a navigation property"},
		{"Orders?$compute=Total as A,Total as A", 400, "collides with another computed property"},
		{"Orders?$compute=Nope add 1 as A", 400, "Nope"},
		{"Orders?$compute=Total mul 2", 400, "expected \\\"as\\\""},
		{"Orders?$compute=Total as A.B", 400, "expected an alias (a simple identifier), found \\\"A.B\\\""},
		{"Orders?$compute=null as A", 400, "null has none"},
		{"Orders?$compute=Total as A&$select=B", 400, "no property B"},
		{"Orders?$compute=Total as A&$apply=aggregate($count as C)", 501, "$compute together with $apply is not supported"},
		{"Customers?$expand=Orders($compute=Total as A)", 501, "$compute inside $expand"},
		{"Orders(10248)/Status?$compute=Total as A", 400, "drop $compute"},
	}
	for _, c := range cases {
		r := g.do("GET", "/odata/"+c.query, nil)
		if r.Status != c.status || !strings.Contains(string(r.Body), c.msg) {
			t.Errorf("%s: %d %s, want %d %q", c.query, r.Status, r.Body, c.status, c.msg)
		}
	}
}

func TestComputePostgres(t *testing.T) {
	t.Parallel()
	g := startFixture(t)
	db, err := sql.Open("postgres", g.g.Config.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	runComputeDiff(t, g, db, false)
	computeWalk(t, g, db)
	computeErrors(t, g)

	// Whole responses. Without $select the computed properties follow the
	// entity's; with $select only those named, listed in the context URL.
	r := g.do("GET", "/odata/Orders?$compute=Total mul 2 as T2,year(OrderDate) as Y,concat(Status,'!') as S&$top=1", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders","value":[{"OrderID":10248,"CustomerID":"ALFKI","OrderDate":"2024-01-15","Total":100.50,"Status":"Open",`+
		`"T2@odata.type":"#Decimal","T2":201,"Y@odata.type":"#Int32","Y":2024,"S":"Open!"}]}`)
	r = g.do("GET", "/odata/Orders?$compute=Total mul 2 as T2,year(OrderDate) as Y&$select=OrderID,T2&$top=1", nil,
		"Accept", "application/json;odata.metadata=minimal;IEEE754Compatible=true")
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,T2)","value":[{"OrderID":"10248","T2@odata.type":"#Decimal","T2":"201"}]}`)
	r = g.do("GET", "/odata/Orders(10248)?$compute=Total gt 100 as Big,Customer/City as City&$select=OrderID,Big,City", nil,
		"Accept", "application/json;odata.metadata=full")
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,Big,City)/$entity","@odata.type":"#odatagw.Orders",`+
		`"@odata.id":"BASE/odata/Orders(10248)","@odata.editLink":"BASE/odata/Orders(10248)","OrderID@odata.type":"#Int64","OrderID":10248,"Big":true,"City":"Berlin"}`)
	r = g.do("GET", "/odata/Orders?$compute=Total mul 2 as T2&$select=T2&$top=1", nil, "Accept", "application/json;odata.metadata=none")
	g.expect(t, r, 200, `{"value":[{"T2":201}]}`)
	// $select=* has them too; with $expand.
	r = g.do("GET", "/odata/Customers('ALFKI')?$compute=length(Name) as L&$select=CustomerID,L&$expand=Orders($select=OrderID;$top=1)", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,L,Orders(OrderID))/$entity","CustomerID":"ALFKI","L@odata.type":"#Int32","L":19,"Orders":[{"OrderID":10248}]}`)
	r = g.do("GET", "/odata/order_lines?$compute=quantity add 1 as Q&$select=*&$top=1", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#order_lines","value":[{"order_id":10248,"line_no":1,"sku":"SKU-0001","quantity":2,"unit_price":25.25,"Q@odata.type":"#Int64","Q":3}]}`)
}

func TestComputeMariaDB(t *testing.T) {
	t.Parallel()
	g, dsn := startMySQL(t)
	db := mytest.Open(t, dsn)
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("SET SESSION div_precision_increment = 30"); err != nil {
		t.Fatal(err)
	}
	runComputeDiff(t, g, db, true)
	computeWalk(t, g, db)
	computeErrors(t, g)
	r := g.do("GET", "/odata/Orders?$compute=Total mul 2 as T2,year(OrderDate) as Y,Customer/Name as CN&$select=OrderID,T2,Y,CN&$top=1", nil,
		"Accept", "application/json;odata.metadata=minimal;IEEE754Compatible=true")
	// MariaDB multiplies by the literal as DECIMAL(65,30): the same value
	// with the scale of the product.
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Orders(OrderID,T2,Y,CN)","value":[{"OrderID":"10248","T2@odata.type":"#Decimal","T2":"201","Y@odata.type":"#Int32","Y":2024,"CN":"Alfreds Futterkiste"}]}`)
}

// TestComputeHidden: a property hidden from the caller is unknown inside
// $compute, directly or through navigation, as in $filter.
func TestComputeHidden(t *testing.T) {
	t.Parallel()
	g := startFixture(t, func(c *app.Config) {
		secJWT(c)
		c.Policy = auth.PolicyConfig{Sets: map[string]auth.SetRules{
			"Orders":    {Grants: []auth.Grant{{To: []string{"*"}, Ops: []string{"read"}}}},
			"Customers": {Grants: []auth.Grant{{To: []string{"*"}, Ops: []string{"read"}}}, Properties: []auth.PropertyRule{{Names: []string{"CreditLimit"}, Read: []string{"role:boss"}}}},
		}}
	})
	clerk, boss := secRoles(t, "clerk"), secRoles(t, "boss")
	for _, q := range []string{
		"Customers?$compute=CreditLimit mul 2 as X&$select=CustomerID",
		"Customers?$compute=CreditLimit as X",
		"Orders?$compute=Customer/CreditLimit as X",
	} {
		if r := g.do("GET", "/odata/"+q, nil, clerk...); r.Status != 400 || !strings.Contains(string(r.Body), "has no property CreditLimit") {
			t.Errorf("clerk %s: %d %s", q, r.Status, r.Body)
		}
		if r := g.do("GET", "/odata/"+q, nil, boss...); r.Status != 200 {
			t.Errorf("boss %s: %d %s", q, r.Status, r.Body)
		}
	}
	// Without $select, the clerk's default projection leaves CreditLimit
	// out and keeps the computed property (listed in the context URL).
	r := g.do("GET", "/odata/Customers('ALFKI')?$compute=length(Name) as L", nil, clerk...)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#Customers(CustomerID,Name,City,Country,CreatedAt,Active,L)/$entity",`+
		`"CustomerID":"ALFKI","Name":"Alfreds Futterkiste","City":"Berlin","Country":"Germany","CreatedAt":"2019-03-01T10:15:30.123456Z","Active":true,"L@odata.type":"#Int32","L":19}`)
}

// TestComputeDemo: the SQLite demo computes what SQLite evaluates exactly
// and refuses decimal arithmetic, as in $filter.
func TestComputeDemo(t *testing.T) {
	t.Parallel()
	g := start(t, demoConfig(t))
	r := g.do("GET", "/odata/orders?$compute=year(order_date) as Y,concat(status,'!') as S,customer/name as CN&$select=order_id,Y,S,CN&$orderby=order_id&$top=1", nil)
	g.expect(t, r, 200, `{"@odata.context":"BASE/odata/$metadata#orders(order_id,Y,S,CN)","value":[{"order_id":1,"Y@odata.type":"#Int32","Y":2020,"S":"Cancelled!","CN":"Vandelay AG 79"}]}`)
	r = g.do("GET", "/odata/order_lines?$compute=quantity mul 2 as Q&$filter=Q ge 40&$orderby=Q desc&$select=Q&$top=2", nil)
	if r.Status != 200 || !strings.Contains(string(r.Body), `"Q@odata.type":"#Int64"`) {
		t.Errorf("order by an alias: %d %s", r.Status, r.Body)
	}
	r = g.do("GET", "/odata/orders?$compute=total mul 2 as T", nil)
	if r.Status != 501 || !strings.Contains(string(r.Body), "decimal arithmetic is not supported on SQLite") {
		t.Errorf("decimal arithmetic: %d %s", r.Status, r.Body)
	}
}
