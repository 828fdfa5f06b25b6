package odata

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestParsePath(t *testing.T) {
	cases := []struct {
		path    string
		kind    PathKind
		set     string
		key     string // "name=value;..." of the key parts, value printed
		rest    []string
		errAt   int
		errText string
	}{
		{path: "", kind: PathServiceRoot, errAt: ok},
		{path: "/", kind: PathServiceRoot, errAt: ok},
		{path: "/$metadata", kind: PathMetadata, errAt: ok},
		{path: "/$batch", kind: PathBatch, errAt: ok},
		{path: "/Customers", kind: PathEntitySet, set: "Customers", errAt: ok},
		{path: "Customers", kind: PathEntitySet, set: "Customers", errAt: ok},
		{path: "/Customers/", kind: PathEntitySet, set: "Customers", errAt: ok},
		{path: "/Customers/$count", kind: PathCount, set: "Customers", errAt: ok},
		{path: "/Orders(10248)", kind: PathEntity, set: "Orders", key: "=10248", errAt: ok},
		{path: "/Orders(-1)", kind: PathEntity, set: "Orders", key: "=-1", errAt: ok},
		{path: "/Customers('ALFKI')", kind: PathEntity, set: "Customers", key: "='ALFKI'", errAt: ok},
		{path: "/Customers('O''Brien')", kind: PathEntity, set: "Customers", key: "='O''Brien'", errAt: ok},
		{path: "/Customers('O%27%27Brien')", kind: PathEntity, set: "Customers", key: "='O''Brien'", errAt: ok},
		{path: "/Customers(%27O%27%27Brien%27)", kind: PathEntity, set: "Customers", key: "='O''Brien'", errAt: ok},
		{path: "/Customers('a+b')", kind: PathEntity, set: "Customers", key: "='a+b'", errAt: ok},
		{path: "/Customers('a%2Fb')", kind: PathEntity, set: "Customers", key: "='a/b'", errAt: ok},
		{path: "/Customers('a%20b')", kind: PathEntity, set: "Customers", key: "='a b'", errAt: ok},
		{path: "/order_lines(order_id=1,line_no=2)", kind: PathEntity, set: "order_lines", key: "order_id=1;line_no=2", errAt: ok},
		{path: "/Things(01234567-89ab-cdef-0123-456789abcdef)", kind: PathEntity, set: "Things", key: "=01234567-89ab-cdef-0123-456789abcdef", errAt: ok},
		{path: "/Days(2024-01-15)", kind: PathEntity, set: "Days", key: "=2024-01-15", errAt: ok},
		{path: "/Customers(@k)", kind: PathEntity, set: "Customers", key: "=@k", errAt: ok},
		{path: "/Customers('x')/Name", kind: PathEntity, set: "Customers", key: "='x'", rest: []string{"Name"}, errAt: ok},
		{path: "/Customers('x')/$count", kind: PathEntity, set: "Customers", key: "='x'", rest: []string{"$count"}, errAt: ok},
		{path: "/Customers/Name/$value", kind: PathEntitySet, set: "Customers", rest: []string{"Name", "$value"}, errAt: ok},
		{path: "/Customers('x", errAt: 10, errText: "unterminated"},
		{path: "/Customers('x'", errAt: 13},
		{path: "/Customers()", errAt: 10},
		{path: "/Customers('x')y", errAt: 14},
		{path: "/Customers('a','b')", errAt: 13},
		{path: "/Lines(a=1,a=2)", errAt: 10, errText: "duplicate"},
		{path: "/Lines(a=1,2)", errAt: 10},
		{path: "/Lines(1,a=2)", errAt: 7},
		{path: "/Lines(a=b)", errAt: 8},
		{path: "/Lines(a=1 eq 1)", errAt: 10},
		{path: "/Customers%zz", errAt: 10, errText: "percent"},
		{path: "/Customers//x", errAt: 11, errText: "empty"},
		{path: "/1abc", errAt: 0},
		{path: "/Cust.omers", errAt: 4},
		{path: "/$metadata/x", errAt: 9},
		{path: "/$crossjoin(A,B)", errAt: -2},
		{path: "/$all", errAt: -2},
		// Any other $-name names nothing: an entity set the binder will not find (404).
		{path: "/$foo", kind: PathEntitySet, set: "$foo", errAt: ok},
	}
	for _, c := range cases {
		req, err := ParseRequest(c.path, "")
		if c.errAt == -2 {
			var ue *UnsupportedError
			if !errors.As(err, &ue) {
				t.Errorf("%q: want *UnsupportedError, got %v", c.path, err)
			}
			continue
		}
		if c.errAt != ok {
			checkErr(t, c.path, err, c.errAt, c.errText, "path")
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.path, err)
			continue
		}
		p := req.Path
		var keys []string
		for _, k := range p.Key {
			keys = append(keys, k.Name+"="+k.Value.String())
		}
		if p.Kind != c.kind || p.Set != c.set || strings.Join(keys, ";") != c.key || !reflect.DeepEqual(p.Rest, c.rest) {
			t.Errorf("%q: got kind %d set %q key %q rest %q, want %d %q %q %q", c.path, p.Kind, p.Set, strings.Join(keys, ";"), p.Rest, c.kind, c.set, c.key, c.rest)
		}
	}
	req, err := ParseRequest("/Customers('O%27%27Brien')", "")
	if err != nil {
		t.Fatal(err)
	}
	if lit := req.Path.Key[0].Value.(*Literal); lit.Value != "O'Brien" || lit.Kind != StringLit {
		t.Errorf("key literal %+v", lit)
	}
	if req.Path.KeySpan != (Span{9, 21}) {
		t.Errorf("key span %v", req.Path.KeySpan)
	}
	req, err = ParseRequest("/Customers(@k)", "@k='x'")
	if err != nil {
		t.Fatal(err)
	}
	if a := req.Path.Key[0].Value.(*Alias); a.Value == nil || a.Value.(*Literal).Value != "x" {
		t.Errorf("key alias %+v", a)
	}
}

func TestParseQuery(t *testing.T) {
	type want struct {
		filter, orderby, sel, search string
		top, skip                    string
		count, skiptoken, format     string
		unsupported                  string
		custom                       string
	}
	cases := []struct {
		query   string
		want    want
		errOpt  string
		errAt   int
		errText string
	}{
		{query: "$filter=Country eq 'USA'&$top=26", want: want{filter: "Country eq 'USA'", top: "26"}, errAt: ok},
		{query: "$filter=Country%20eq%20%27USA%27", want: want{filter: "Country eq 'USA'"}, errAt: ok},
		{query: "$filter=Country+eq+%27USA%27", want: want{filter: "Country eq 'USA'"}, errAt: ok},
		{query: "$filter=Name+eq+'a%2Bb'", want: want{filter: "Name eq 'a+b'"}, errAt: ok},
		{query: "$filter=Name eq 'Tom%26Jerry'", want: want{filter: "Name eq 'Tom&Jerry'"}, errAt: ok},
		{query: "$top=26&$count=true&$select=CustomerID,Name&$orderby=Name desc&$skip=26", want: want{top: "26", skip: "26", count: "true", sel: "CustomerID,Name", orderby: "Name desc"}, errAt: ok},
		{query: "$count=false", want: want{count: "false"}, errAt: ok},
		{query: "$count=TRUE", want: want{count: "true"}, errAt: ok},
		{query: "$FILTER=a eq 1&$Top=5", want: want{filter: "a eq 1", top: "5"}, errAt: ok},
		{query: "$search=ACME-01", want: want{search: "ACME-01"}, errAt: ok},
		{query: "$search=Sales+Marketing", want: want{search: "Sales AND Marketing"}, errAt: ok},
		{query: "$skiptoken=ab%2Bc&$format=application/json;odata.metadata=minimal", want: want{skiptoken: "ab+c", format: "application/json;odata.metadata=minimal"}, errAt: ok},
		{query: "$expand=Orders&$index=1", want: want{unsupported: "$index"}, errAt: ok},
		{query: "$filter=Name eq @p&@p='x'", want: want{filter: "Name eq @p"}, errAt: ok},
		{query: "$orderby=@o&@o=Name", want: want{orderby: "@o"}, errAt: ok},
		{query: "search=phrase&x=1&x=2", want: want{search: "phrase", custom: "x=1"}, errAt: ok},
		// OData 4.01: system query options without '$', in any case.
		{query: "top=2&Select=Name&FILTER=a eq 1&count=true&orderBy=Name", want: want{top: "2", sel: "Name", filter: "a eq 1", count: "true", orderby: "Name"}, errAt: ok},
		{query: "skiptoken=t&format=json&compute=x", errOpt: "$compute", errAt: 1, errText: "as"},
		{query: "top=1&$top=2", errOpt: "$top", errAt: 0, errText: "duplicate"},
		{query: "&&$top=1&", want: want{top: "1"}, errAt: ok},
		{query: "id=5&x=2", want: want{custom: "x=2,id=5"}, errAt: ok}, // not $id: a client's own parameter
		{query: "$top=0", want: want{top: "0"}, errAt: ok},
		{query: "$top=1&$TOP=2", errOpt: "$top", errAt: 0, errText: "duplicate"},
		{query: "$filter=a eq 1&$filter=b eq 1", errOpt: "$filter", errAt: 0, errText: "duplicate"},
		{query: "@p=1&@p=2", errOpt: "@p", errAt: 0, errText: "duplicate"},
		{query: "$foo=1", errOpt: "$foo", errAt: 0, errText: "unknown system query option"},
		{query: "$inlinecount=allpages", errOpt: "$inlinecount", errAt: 0, errText: "unknown system query option"},
		{query: "$top=-1", errOpt: "$top", errAt: 0},
		{query: "$top=12x", errOpt: "$top", errAt: 2},
		{query: "$top=", errOpt: "$top", errAt: 0},
		{query: "$top=99999999999999999999", errOpt: "$top", errAt: 0, errText: "range"},
		{query: "$skip=1.5", errOpt: "$skip", errAt: 1},
		{query: "$count=yes", errOpt: "$count", errAt: 0},
		{query: "$filter=Name eq 'x", errOpt: "$filter", errAt: 8},
		{query: "$filter=a eq @p&@p=1 eq", errOpt: "@p", errAt: 4},
		{query: "$orderby=Name up", errOpt: "$orderby", errAt: 5},
		{query: "$select=Name,", errOpt: "$select", errAt: 5},
		{query: "$search=\"abc", errOpt: "$search", errAt: 0},
		{query: "$filter=a%zz", errOpt: "$filter", errAt: 1, errText: "percent"},
		{query: "%zz=1", errOpt: "query", errAt: 0},
		{query: "=1", errOpt: "query", errAt: 0},
		{query: "@=1", errOpt: "@", errAt: 1},
	}
	for _, c := range cases {
		req, err := ParseRequest("/Customers", c.query)
		if c.errAt != ok {
			checkErr(t, c.query, err, c.errAt, c.errText, c.errOpt)
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.query, err)
			continue
		}
		o := req.Options
		got := want{format: o.Format, skiptoken: o.SkipToken, unsupported: strings.Join(o.Unsupported, ",")}
		if o.Filter != nil {
			got.filter = o.Filter.String()
		}
		if o.OrderBy != nil {
			got.orderby = FormatOrderBy(o.OrderBy)
		}
		if o.HasSelect {
			got.sel = FormatSelect(o.Select)
		}
		if o.Search != nil {
			got.search = o.Search.String()
		}
		if o.Top != nil {
			got.top = itoa(*o.Top)
		}
		if o.Skip != nil {
			got.skip = itoa(*o.Skip)
		}
		if o.Count != nil {
			got.count = map[bool]string{true: "true", false: "false"}[*o.Count]
		}
		var custom []string
		for _, name := range []string{"search", "x", "id"} {
			if v, found := o.Custom[name]; found {
				custom = append(custom, name+"="+v)
			}
		}
		got.custom = strings.Join(custom, ",")
		if got != c.want {
			t.Errorf("%q:\n got %+v\nwant %+v", c.query, got, c.want)
		}
	}
}

func itoa(n int64) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// TestQueryOrderIndependent checks that shuffling the options changes nothing.
func TestQueryOrderIndependent(t *testing.T) {
	parts := []string{"$filter=Name eq @p", "@p='x'", "$top=26", "$count=true", "$select=Name,City", "$orderby=City desc", "custom=1"}
	ref, err := ParseRequest("/Customers", strings.Join(parts, "&"))
	if err != nil {
		t.Fatal(err)
	}
	perms := [][]int{{6, 5, 4, 3, 2, 1, 0}, {1, 0, 3, 2, 5, 4, 6}, {3, 6, 1, 4, 0, 2, 5}}
	for _, perm := range perms {
		shuffled := make([]string, len(parts))
		for i, j := range perm {
			shuffled[i] = parts[j]
		}
		req, err := ParseRequest("/Customers", strings.Join(shuffled, "&"))
		if err != nil {
			t.Fatal(err)
		}
		if req.Options.Filter.String() != ref.Options.Filter.String() ||
			findAlias(req.Options.Filter, "p").Value.String() != "'x'" ||
			*req.Options.Top != *ref.Options.Top || *req.Options.Count != *ref.Options.Count ||
			FormatSelect(req.Options.Select) != FormatSelect(ref.Options.Select) ||
			FormatOrderBy(req.Options.OrderBy) != FormatOrderBy(ref.Options.OrderBy) ||
			!reflect.DeepEqual(req.Options.Raw, ref.Options.Raw) ||
			!reflect.DeepEqual(req.Options.Custom, ref.Options.Custom) {
			t.Errorf("order %v changed the result", perm)
		}
	}
	wantRaw := map[string]string{"$filter": "Name eq @p", "@p": "'x'", "$top": "26", "$count": "true", "$select": "Name,City", "$orderby": "City desc", "custom": "1"}
	if !reflect.DeepEqual(ref.Options.Raw, wantRaw) {
		t.Errorf("Raw = %v", ref.Options.Raw)
	}
}

// TestSalesforceRequests parses request shapes Salesforce Connect sends.
func TestSalesforceRequests(t *testing.T) {
	cases := []string{
		"$select=CustomerID&$count=true&$top=26",
		"$orderby=City&$select=City,CustomerID&$filter=Country%20eq%20%27USA%27&$count=true&$top=26",
		"$orderby=City&$select=City,CustomerID&$filter=Country+eq+%27USA%27&$count=true&$top=26",
		"$select=CustomerID,Name&$count=false&$top=26",
		"$count=true&$select=CustomerID,OrderID,RequiredDate,ShippedDate&$top=301&$skiptoken=10447",
		"$filter=CustomerID%20eq%20%27ALFKI%27&$select=CustomerID,Name,City,Country,CreatedAt,CreditLimit,Active&$count=true&$top=1",
		"$filter=OrderDate%20ge%202024-01-15T00%3A00%3A00Z%20and%20Status%20eq%20%27Open%27&$top=26",
		"$filter=contains(Name,%27red%27)%20or%20contains(City,%27red%27)&$top=26",
		"$search=MyProspect%20OR%20John%20Smith&$top=26",
	}
	for _, q := range cases {
		if _, err := ParseRequest("/Customers", q); err != nil {
			t.Errorf("%q: %v", q, err)
		}
	}
}

func TestParsePathSegments(t *testing.T) {
	cases := []struct {
		path string
		want string // name[key]|... ; "!" marks a segment whose key did not parse
	}{
		{"/Customers('ALFKI')/Orders", "Orders"},
		{"/Customers('ALFKI')/Orders(10248)/order_lines", "Orders[=10248]|order_lines"},
		{"/Customers('ALFKI')/Orders/$count", "Orders|$count"},
		{"/Orders(1)/Customer/$ref", "Customer|$ref"},
		{"/order_lines(order_id=10248,line_no=1)/line_notes(note_id=@n)", "line_notes[note_id=@n]"},
		{"/Customers/ALFKI/Orders", "ALFKI|Orders"},
		{"/Customers('A')/Orders(", "Orders!"},
		{"/Customers('A')/Orders(1,2)", "Orders!"},
		{"/Customers('A')/Orders(1)x", "Orders!"},
		{"/Customers('A')/1x(2)", "1x(2)"},
		{"/Customers('A')/Name/$value", "Name|$value"},
	}
	for _, c := range cases {
		req, err := ParseRequest(c.path, "@n=1")
		if err != nil {
			t.Errorf("%q: %v", c.path, err)
			continue
		}
		if len(req.Path.Segments) != len(req.Path.Rest) {
			t.Errorf("%q: %d segments for %d rest", c.path, len(req.Path.Segments), len(req.Path.Rest))
		}
		var parts []string
		for _, s := range req.Path.Segments {
			part := s.Name
			if s.Key != nil {
				var keys []string
				for _, k := range s.Key {
					keys = append(keys, k.Name+"="+k.Value.String())
				}
				part += "[" + strings.Join(keys, ",") + "]"
			}
			if s.Err != nil {
				part += "!"
			}
			parts = append(parts, part)
		}
		if got := strings.Join(parts, "|"); got != c.want {
			t.Errorf("%q: segments %s, want %s", c.path, got, c.want)
		}
	}
}
