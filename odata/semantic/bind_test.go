package semantic

import (
	"errors"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/odata"
)

func propNames(q *Query) string {
	names := make([]string, len(q.Select))
	for i, p := range q.Select {
		names[i] = p.Name
	}
	return strings.Join(names, ",")
}

func keyText(cs []Const) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = FormatConst(c)
	}
	return strings.Join(parts, ",")
}

func lit(kind odata.LiteralKind, raw string) *odata.Literal {
	v := raw
	if kind == odata.StringLit {
		v = strings.ReplaceAll(raw[1:len(raw)-1], "''", "'")
	}
	return &odata.Literal{Kind: kind, Raw: raw, Value: v}
}

func entityPath(set string, parts ...odata.KeyPart) odata.Path {
	return odata.Path{Kind: odata.PathEntity, Set: set, Key: parts, KeySpan: odata.Span{Start: len(set), End: len(set) + 5}}
}

func TestBindPathAndKey(t *testing.T) {
	m := testModel()
	tests := []struct {
		name    string
		path    odata.Path
		wantKey string
		err     *wantErr
	}{
		{"int64 key", entityPath("Orders", odata.KeyPart{Value: lit(odata.IntLit, "10248")}), "10248:Int64", nil},
		{"string key with quote", entityPath("Customers", odata.KeyPart{Value: lit(odata.StringLit, "'O''Brien'")}), "'O''Brien':String", nil},
		{"named single key", entityPath("Orders", odata.KeyPart{Name: "OrderID", Value: lit(odata.IntLit, "1")}), "1:Int64", nil},
		{"composite key in key order", entityPath("Lines",
			odata.KeyPart{Name: "LineNo", Value: lit(odata.IntLit, "3")},
			odata.KeyPart{Name: "OrderID", Value: lit(odata.IntLit, "10248")}), "10248:Int32,3:Int16", nil},
		{"guid key from string", entityPath("Tokens", odata.KeyPart{Value: lit(odata.StringLit, "'01234567-89AB-cdef-0123-456789abcdef'")}), "01234567-89ab-cdef-0123-456789abcdef:Guid", nil},
		{"alias key", entityPath("Orders", odata.KeyPart{Value: &odata.Alias{Name: "k", Value: lit(odata.IntLit, "7")}}), "7:Int64", nil},

		{"unknown set", setPath("Nope"), "", &wantErr{NotFound, "path", "entity set Nope not found", nil, "Nope"}},
		{"set case hint", setPath("orders"), "", &wantErr{NotFound, "path", "did you mean Orders?", nil, "orders"}},
		{"string for int key", entityPath("Orders", odata.KeyPart{Value: lit(odata.StringLit, "'x'")}), "", &wantErr{BadRequest, "path", "key property OrderID has type Edm.Int64", nil, "OrderID"}},
		{"int for string key", entityPath("Customers", odata.KeyPart{Value: lit(odata.IntLit, "42")}), "", &wantErr{BadRequest, "path", "key property CustomerID has type Edm.String", nil, "CustomerID"}},
		{"int key out of range", entityPath("Lines",
			odata.KeyPart{Name: "OrderID", Value: lit(odata.IntLit, "1")},
			odata.KeyPart{Name: "LineNo", Value: lit(odata.IntLit, "70000")}), "", &wantErr{BadRequest, "path", "does not fit key property LineNo of type Edm.Int16", nil, "LineNo"}},
		{"fraction for int key", entityPath("Orders", odata.KeyPart{Value: lit(odata.DecimalLit, "1.5")}), "", &wantErr{BadRequest, "path", "does not fit", nil, ""}},
		{"unnamed composite", entityPath("Lines", odata.KeyPart{Value: lit(odata.IntLit, "1")}), "", &wantErr{BadRequest, "path", "key of 2 properties (OrderID, LineNo)", sp(5, 10), ""}},
		{"missing part", entityPath("Lines", odata.KeyPart{Name: "OrderID", Value: lit(odata.IntLit, "1")}), "", &wantErr{BadRequest, "path", "key property LineNo is missing", nil, "LineNo"}},
		{"wrong name", entityPath("Lines",
			odata.KeyPart{Name: "orderid", Value: lit(odata.IntLit, "1")},
			odata.KeyPart{Name: "LineNo", Value: lit(odata.IntLit, "1")}), "", &wantErr{BadRequest, "path", "did you mean OrderID?", nil, "orderid"}},
		{"twice", entityPath("Lines",
			odata.KeyPart{Name: "OrderID", Value: lit(odata.IntLit, "1")},
			odata.KeyPart{Name: "OrderID", Value: lit(odata.IntLit, "2")}), "", &wantErr{BadRequest, "path", "given twice", nil, "OrderID"}},
		{"too many", entityPath("Orders",
			odata.KeyPart{Name: "OrderID", Value: lit(odata.IntLit, "1")},
			odata.KeyPart{Name: "Total", Value: lit(odata.IntLit, "2")}), "", &wantErr{BadRequest, "path", "Total is not a key property of Orders", nil, "Total"}},
		{"null key", entityPath("Orders", odata.KeyPart{Value: lit(odata.NullLit, "null")}), "", &wantErr{BadRequest, "path", "cannot be null", nil, ""}},
		{"bad guid key", entityPath("Tokens", odata.KeyPart{Value: lit(odata.StringLit, "'zz'")}), "", &wantErr{BadRequest, "path", "not a valid Edm.Guid", nil, ""}},
		// Set(key)/Property and /$value are bound (TestBindPropertyPath);
		// only $value may follow a property, nothing $value.
		{"segment after a property", odata.Path{Kind: odata.PathEntity, Set: "Orders", Key: []odata.KeyPart{{Value: lit(odata.IntLit, "1")}}, Rest: []string{"Total", "x"}}, "", &wantErr{BadRequest, "path", "only $value may follow the property Total", nil, "x"}},
		{"segment after $value", odata.Path{Kind: odata.PathEntity, Set: "Orders", Key: []odata.KeyPart{{Value: lit(odata.IntLit, "1")}}, Rest: []string{"Total", "$value", "x"}}, "", &wantErr{BadRequest, "path", "nothing may follow Total/$value", nil, "x"}},
		{"unknown $ segment", odata.Path{Kind: odata.PathEntity, Set: "Orders", Key: []odata.KeyPart{{Value: lit(odata.IntLit, "1")}}, Rest: []string{"$links"}}, "", &wantErr{NotImplemented, "path", "path segment $links is not supported", nil, "$links"}},
		{"unknown segment", odata.Path{Kind: odata.PathEntity, Set: "Orders", Key: []odata.KeyPart{{Value: lit(odata.IntLit, "1")}}, Rest: []string{"Customer"}}, "", &wantErr{NotFound, "path", "Orders has no property or navigation property Customer", nil, "Customer"}},
		{"metadata path", odata.Path{Kind: odata.PathMetadata}, "", &wantErr{BadRequest, "path", "does not address an entity set", nil, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := Bind(m, &odata.Request{Path: tt.path}, Options{})
			if tt.err != nil {
				checkErr(t, tt.name, err, *tt.err)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if got := keyText(q.Key); got != tt.wantKey {
				t.Errorf("key = %s, want %s", got, tt.wantKey)
			}
			if q.Set.Name != tt.path.Set {
				t.Errorf("set = %s", q.Set.Name)
			}
		})
	}
}

func TestBindOptions(t *testing.T) {
	m := testModel()
	q, err := Bind(m, request(t, setPath("Things"),
		"$select", "Price,ID,Name", "$top", "26", "$skip", "10", "$count", "true",
		"$orderby", "Name desc,tolower(Code),ID", "$search", `blue "big box" OR NOT red`,
		"$filter", "Price gt 5"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := propNames(q); got != "ID,Name,Price" {
		t.Errorf("select = %s, want set order ID,Name,Price", got)
	}
	if !q.SelectExplicit {
		t.Error("SelectExplicit = false")
	}
	if q.Top == nil || *q.Top != 26 || q.Skip != 10 || !q.Count || q.CountOnly {
		t.Errorf("top/skip/count = %v/%d/%v/%v", q.Top, q.Skip, q.Count, q.CountOnly)
	}
	var order []string
	for _, o := range q.OrderBy {
		s := Format(o.Expr)
		if o.Desc {
			s += " desc"
		}
		order = append(order, s)
	}
	if got := strings.Join(order, ", "); got != "Name desc, tolower(Code):String, ID" {
		t.Errorf("orderby = %s", got)
	}
	if got := FormatSearch(q.Search); got != `(("blue" AND "big box") OR (NOT "red"))` {
		t.Errorf("search = %s", got)
	}
	term := q.Search.(*SearchOr).R.(*SearchNot).X.(*SearchTerm)
	if len(term.Props) != 2 || term.Props[0].Name != "Name" || term.Props[1].Name != "Descr" {
		t.Errorf("search props = %v", term.Props)
	}
	if Format(q.Filter) != "(Price gt 5:Decimal)" {
		t.Errorf("filter = %s", Format(q.Filter))
	}
}

func TestBindSelect(t *testing.T) {
	m := testModel()
	tests := []struct {
		sel, want string
		explicit  bool
		err       *wantErr
	}{
		{"", "CustomerID,Name,City", false, nil},
		{"*", "CustomerID,Name,City", false, nil},
		{"City,CustomerID,City", "CustomerID,City", true, nil},
		{"Name,*", "CustomerID,Name,City", false, nil},
		{"Nmae", "", false, &wantErr{BadRequest, "$select", "Customers has no property Nmae", sp(0, 4), "Nmae"}},
		{"city", "", false, &wantErr{BadRequest, "$select", "did you mean City?", nil, "city"}},
		{"Name/First", "", false, &wantErr{BadRequest, "$select", "select path Name/First is not supported", nil, "Name/First"}},
	}
	for _, tt := range tests {
		t.Run(tt.sel, func(t *testing.T) {
			var kv []string
			if tt.sel != "" {
				kv = []string{"$select", tt.sel}
			}
			q, err := Bind(m, request(t, setPath("Customers"), kv...), Options{})
			if tt.err != nil {
				checkErr(t, tt.sel, err, *tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := propNames(q); got != tt.want || q.SelectExplicit != tt.explicit {
				t.Errorf("select = %s (explicit %v), want %s (%v)", got, q.SelectExplicit, tt.want, tt.explicit)
			}
		})
	}
}

func TestBindOrderByErrors(t *testing.T) {
	tests := []struct {
		orderby string
		want    wantErr
	}{
		{"Blob", wantErr{BadRequest, "$orderby", "cannot order by Edm.Binary", sp(0, 4), "Blob"}},
		{"Name,Nope desc", wantErr{BadRequest, "$orderby", "Things has no property Nope", sp(5, 9), "Nope"}},
		{"null", wantErr{BadRequest, "$orderby", "cannot order by null", nil, ""}},
		{"Name add 1", wantErr{BadRequest, "$orderby", "operator add is not defined", nil, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.orderby, func(t *testing.T) {
			_, err := Bind(testModel(), request(t, setPath("Things"), "$orderby", tt.orderby), Options{})
			checkErr(t, tt.orderby, err, tt.want)
		})
	}
}

func TestBindCountAndUnsupported(t *testing.T) {
	m := testModel()
	q, err := Bind(m, request(t, odata.Path{Kind: odata.PathCount, Set: "Orders"}, "$filter", "Total gt 1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !q.CountOnly || q.Filter == nil {
		t.Errorf("CountOnly = %v, filter = %v", q.CountOnly, q.Filter)
	}
	_, err = Bind(m, request(t, setPath("Orders"), "$apply", "x"), Options{})
	checkErr(t, "$apply", err, wantErr{NotImplemented, "$apply", "system query option $apply is not supported", nil, ""})

	neg := int64(-1)
	r := request(t, setPath("Orders"))
	r.Options.Top = &neg
	_, err = Bind(m, r, Options{})
	checkErr(t, "$top=-1", err, wantErr{BadRequest, "$top", "must not be negative", nil, ""})

	_, err = Bind(m, request(t, setPath("Orders"), "$skiptoken", "abc"), Options{})
	checkErr(t, "no codec", err, wantErr{BadRequest, "$skiptoken", "not accepted", nil, ""})
}

func TestTotalOrder(t *testing.T) {
	m := testModel()
	tests := []struct {
		set, orderby string
		want         string
		keyset       bool
	}{
		{"Orders", "", "OrderID", true},
		{"Orders", "Total desc", "Total desc, OrderID", true},
		{"Orders", "OrderID desc", "OrderID desc", true},
		{"Lines", "", "OrderID, LineNo", true},
		{"Lines", "LineNo desc,Note", "LineNo desc, Note, OrderID", true},
		{"Lines", "tolower(Note)", "tolower(Note):String, OrderID, LineNo", false},
	}
	for _, tt := range tests {
		t.Run(tt.set+"/"+tt.orderby, func(t *testing.T) {
			var kv []string
			if tt.orderby != "" {
				kv = []string{"$orderby", tt.orderby}
			}
			q, err := Bind(m, request(t, setPath(tt.set), kv...), Options{})
			if err != nil {
				t.Fatal(err)
			}
			items, keyset := TotalOrder(q)
			var parts []string
			for _, o := range items {
				s := Format(o.Expr)
				if o.Desc {
					s += " desc"
				}
				parts = append(parts, s)
			}
			if got := strings.Join(parts, ", "); got != tt.want || keyset != tt.keyset {
				t.Errorf("TotalOrder = %s (keyset %v), want %s (%v)", got, keyset, tt.want, tt.keyset)
			}
			if len(q.OrderBy) != len(kv)/2*len(strings.Split(tt.orderby, ",")) {
				t.Errorf("TotalOrder changed q.OrderBy: %d items", len(q.OrderBy))
			}
		})
	}
}

// TestBindParsedURLs runs whole request URLs through odata.ParseRequest and
// Bind, including the shapes Salesforce Connect sends.
func TestBindParsedURLs(t *testing.T) {
	m := testModel()
	tests := []struct {
		path, query string
		want        string // key | select | filter | orderby
		err         *wantErr
	}{
		{"/Customers('O%27%27Brien')", "", "'O''Brien':String | CustomerID,Name,City |  | ", nil},
		{"/Lines(OrderID=10248,LineNo=2)", "$select=Qty", "10248:Int32,2:Int16 | Qty |  | ", nil},
		{"/Orders(@k)", "@k=10248", "10248:Int64 | OrderID,CustomerID,OrderDate,Total |  | ", nil},
		{"/Customers", "$select=CustomerID&$count=true&$top=26", " | CustomerID |  | ", nil},
		{"/Customers", "$orderby=City&$select=City,CustomerID&$filter=Name+eq+%27USA%27&$count=true&$top=26",
			" | CustomerID,City | (Name eq 'USA':String) | City", nil},
		{"/Orders", "$filter=OrderDate%20ge%202024-01-01T00:00:00Z%20and%20CustomerID%20eq%20%27ALFKI%27&$orderby=OrderDate%20desc",
			" | OrderID,CustomerID,OrderDate,Total | ((OrderDate ge 2024-01-01:Date) and (CustomerID eq 'ALFKI':String)) | OrderDate desc", nil},
		{"/Orders", "$filter=Total%20ge%20@min&@min=100.5", " | OrderID,CustomerID,OrderDate,Total | (Total ge 100.5:Decimal) | ", nil},
		{"/Orders/$count", "$filter=Total%20gt%200", " | OrderID,CustomerID,OrderDate,Total | (Total gt 0:Decimal) | ", nil},
		{"/orders", "", "", &wantErr{NotFound, "path", "did you mean Orders?", nil, "orders"}},
		{"/Orders/10248", "", "10248:Int64 | OrderID,CustomerID,OrderDate,Total |  | ", nil},
		{"/Customers/O'Brien", "$select=Name", "'O''Brien':String | Name |  | ", nil},
		{"/Orders/x", "", "", &wantErr{BadRequest, "path", `key segment 'x' is not a valid Edm.Int64`, nil, "OrderID"}},
		{"/Lines/1", "", "", &wantErr{BadRequest, "path", "Lines is a collection: address one entity by its key before 1", nil, "1"}},
		{"/Orders(10248)", "$top=1", "", &wantErr{BadRequest, "$top", "$top applies to collections", nil, ""}},
		{"/Orders/10248", "$filter=Total gt 1", "", &wantErr{BadRequest, "$filter", "single entity", nil, ""}},
		{"/Orders('x')", "", "", &wantErr{BadRequest, "path", "key property OrderID has type Edm.Int64", nil, "OrderID"}},
		{"/Orders", "$expand=Customer", "", &wantErr{BadRequest, "$expand", "Orders has no navigation property Customer (it has none)", sp(0, 8), "Customer"}},
		{"/Orders", "$filter=OrderDate%20eq%20true", "", &wantErr{BadRequest, "$filter", "cannot compare Edm.Date with Edm.Boolean", sp(0, 17), ""}},
	}
	for _, tt := range tests {
		t.Run(tt.path+"?"+tt.query, func(t *testing.T) {
			req, err := odata.ParseRequest(tt.path, tt.query)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			q, err := Bind(m, req, Options{})
			if tt.err != nil {
				checkErr(t, tt.path, err, *tt.err)
				return
			}
			if err != nil {
				t.Fatalf("Bind: %v", err)
			}
			filter := ""
			if q.Filter != nil {
				filter = Format(q.Filter)
			}
			var order []string
			for _, o := range q.OrderBy {
				s := Format(o.Expr)
				if o.Desc {
					s += " desc"
				}
				order = append(order, s)
			}
			got := keyText(q.Key) + " | " + propNames(q) + " | " + filter + " | " + strings.Join(order, ",")
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestBindPropertyPath(t *testing.T) {
	m := testModel()
	for _, tc := range []struct {
		path, query string
		prop        string
		raw         bool
		errOption   string
	}{
		{"/Orders(1)/Total", "", "Total", false, ""},
		{"/Orders(1)/Total/$value", "", "Total", true, ""},
		{"/Orders/1/OrderDate", "", "OrderDate", false, ""},
		{"/Orders(1)/Total", "$select=Total", "", false, "$select"},
		{"/Orders(1)/Total", "$top=1", "", false, "$top"},
	} {
		req, err := odata.ParseRequest(tc.path, tc.query)
		if err != nil {
			t.Fatal(err)
		}
		q, err := Bind(m, req, Options{})
		if tc.errOption != "" {
			var e *Error
			if !errors.As(err, &e) || e.Option != tc.errOption {
				t.Errorf("%s?%s: %v, want an error on %s", tc.path, tc.query, err, tc.errOption)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
		if q.Property == nil || q.Property.Name != tc.prop || q.RawValue != tc.raw || len(q.Select) != 1 || q.Select[0] != q.Property || q.Key == nil {
			t.Errorf("%s: property %v raw %v select %v", tc.path, q.Property, q.RawValue, q.Select)
		}
	}
}
