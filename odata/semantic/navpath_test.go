package semantic

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// navModel is the fixture's relationships without a database:
//
//	Customers(CustomerID) <- Orders(OrderID, CustomerID null) <- Lines(OrderID, LineNo)
//	<- Notes(NoteID, OrderID null, LineNo null), a composite nullable foreign key
//
// with the navigations Orders.Customer / Customers.Orders, Lines.Order /
// Orders.Lines and Notes.Line / Lines.Notes.
func navModel() *metadata.Model {
	prop := func(name string, t metadata.Type, nullable bool) *metadata.Property {
		return &metadata.Property{Name: name, Column: strings.ToLower(name), Type: t, Nullable: nullable}
	}
	cid := prop("CustomerID", metadata.String, false)
	customers := &metadata.EntitySet{Name: "Customers", Table: "customers", Kind: metadata.KindTable,
		Properties: []*metadata.Property{cid, prop("Name", metadata.String, true)}, Key: []*metadata.Property{cid}}
	oid, ocid := prop("OrderID", metadata.Int32, false), prop("CustomerID", metadata.String, true)
	orders := &metadata.EntitySet{Name: "Orders", Table: "orders", Kind: metadata.KindTable,
		Properties: []*metadata.Property{oid, ocid, prop("Total", metadata.Decimal, true)}, Key: []*metadata.Property{oid}}
	// Lines.OrderID is an Int64 referencing the Int32 Orders.OrderID.
	lid, lno := prop("OrderID", metadata.Int64, false), prop("LineNo", metadata.Int16, false)
	lines := &metadata.EntitySet{Name: "Lines", Table: "lines", Kind: metadata.KindTable,
		Properties: []*metadata.Property{lid, lno, prop("Qty", metadata.Int32, false)}, Key: []*metadata.Property{lid, lno}}
	nid, nline, norder := prop("NoteID", metadata.Int32, false), prop("LineNo", metadata.Int16, true), prop("OrderID", metadata.Int64, true)
	notes := &metadata.EntitySet{Name: "Notes", Table: "notes", Kind: metadata.KindTable,
		Properties: []*metadata.Property{nid, nline, norder, prop("Text", metadata.String, true)}, Key: []*metadata.Property{nid}}
	link := func(from *metadata.EntitySet, one string, to *metadata.EntitySet, many string, local, remote []*metadata.Property) {
		from.Navigations = append(from.Navigations, &metadata.Navigation{Name: one, Target: to, Nullable: local[0].Nullable,
			Partner: many, Local: local, Remote: remote})
		to.Navigations = append(to.Navigations, &metadata.Navigation{Name: many, Target: from, Many: true,
			Partner: one, Local: remote, Remote: local})
	}
	link(orders, "Customer", customers, "Orders", []*metadata.Property{ocid}, []*metadata.Property{cid})
	link(lines, "Order", orders, "Lines", []*metadata.Property{lid}, []*metadata.Property{oid})
	// The composite key in the other order than the target's key.
	link(notes, "Line", lines, "Notes", []*metadata.Property{nline, norder}, []*metadata.Property{lno, lid})
	return metadata.NewModel("test", nil, customers, orders, lines, notes)
}

// describe renders a bound path: hops, target set, key and flags.
func describe(q *Query) string {
	var b strings.Builder
	for _, h := range q.Path {
		b.WriteString(h.Set.Name)
		if h.Key != nil {
			b.WriteString("(" + keyText(h.Key) + ")")
		}
		b.WriteString("/" + h.Nav.Name + " ")
	}
	b.WriteString("-> " + q.Set.Name)
	if q.Key != nil {
		b.WriteString("(" + keyText(q.Key) + ")")
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{q.Single, "single"}, {q.CountOnly, "count"}, {q.Ref, "ref"}, {q.RawValue, "raw"}} {
		if f.on {
			b.WriteString(" " + f.name)
		}
	}
	if q.Property != nil {
		b.WriteString(" prop=" + q.Property.Name)
	}
	if q.Ref {
		b.WriteString(" select=" + propNames(q))
	}
	return b.String()
}

func TestBindNavigationPaths(t *testing.T) {
	m := navModel()
	tests := []struct {
		path, query string
		want        string
		err         *wantErr
	}{
		{"/Orders(1)/Customer", "", "Orders(1:Int32)/Customer -> Customers single", nil},
		{"/Orders(1)/Customer/Name", "", "Orders(1:Int32)/Customer -> Customers single prop=Name", nil},
		{"/Orders(1)/Customer/Name/$value", "", "Orders(1:Int32)/Customer -> Customers single raw prop=Name", nil},
		{"/Orders(1)/Customer/$ref", "", "Orders(1:Int32)/Customer -> Customers single ref select=CustomerID", nil},
		{"/Customers('ALFKI')/Orders", "$filter=Total gt 5&$top=2&$count=true&$orderby=Total&$select=Total&$search=x",
			"Customers('ALFKI':String)/Orders -> Orders", nil},
		{"/Customers('ALFKI')/Orders/$count", "$filter=Total gt 5", "Customers('ALFKI':String)/Orders -> Orders count", nil},
		{"/Customers('ALFKI')/Orders/$ref", "$top=1", "Customers('ALFKI':String)/Orders -> Orders ref select=OrderID", nil},
		{"/Customers('ALFKI')/Orders(10248)", "", "Customers('ALFKI':String)/Orders -> Orders(10248:Int32)", nil},
		{"/Customers('ALFKI')/Orders/10248", "", "Customers('ALFKI':String)/Orders -> Orders(10248:Int32)", nil},
		{"/Customers/ALFKI/Orders", "", "Customers('ALFKI':String)/Orders -> Orders", nil},
		{"/Customers('ALFKI')/Orders(10248)/$ref", "", "Customers('ALFKI':String)/Orders -> Orders(10248:Int32) ref select=OrderID", nil},
		{"/Customers('ALFKI')/Orders(10248)/Lines", "", "Customers('ALFKI':String)/Orders Orders(10248:Int32)/Lines -> Lines", nil},
		{"/Lines(OrderID=1,LineNo=2)/Notes", "", "Lines(1:Int64,2:Int16)/Notes -> Notes", nil},
		{"/Notes(4)/Line", "", "Notes(4:Int32)/Line -> Lines single", nil},
		{"/Notes(4)/Line/Order/Customer/Orders", "", "Notes(4:Int32)/Line Lines/Order Orders/Customer Customers/Orders -> Orders", nil},
		{"/Orders(1)/Customer/Orders(2)/Customer", "", "Orders(1:Int32)/Customer Customers/Orders Orders(2:Int32)/Customer -> Customers single", nil},
		{"/Customers('A')/Orders(@k)", "@k=7", "Customers('A':String)/Orders -> Orders(7:Int32)", nil},

		// errors
		{"/Orders(1)/Customr", "", "", &wantErr{NotFound, "path", "Orders has no property or navigation property Customr", nil, "Customr"}},
		{"/Orders(1)/customer", "", "", &wantErr{NotFound, "path", "did you mean Customer?", nil, "customer"}},
		{"/Orders(1)/Nope(2)", "", "", &wantErr{NotFound, "path", "no property or navigation property Nope", nil, "Nope"}},
		{"/Orders(1)/Customer('A')", "", "", &wantErr{BadRequest, "path", "Customer is a single-valued navigation property (to one Customers): it takes no key", nil, "Customer"}},
		{"/Orders(1)/Customer/$value", "", "", &wantErr{BadRequest, "path", "$value addresses the raw value of a property", nil, "$value"}},
		{"/Orders(1)/Customer/$count", "", "", &wantErr{BadRequest, "path", "$count applies to collections", nil, "$count"}},
		{"/Customers('A')/Orders/$value", "", "", &wantErr{BadRequest, "path", "$value cannot follow the collection Orders", nil, "$value"}},
		{"/Customers('A')/Orders/Customer", "", "", &wantErr{BadRequest, "path", "the navigation Orders is a collection: address one entity by its key before Customer", nil, "Customer"}},
		{"/Customers/Orders", "", "", &wantErr{BadRequest, "path", "Customers is a collection", nil, "Orders"}},
		{"/Customers('A')/Orders('x')", "", "", &wantErr{BadRequest, "path", "key property OrderID has type Edm.Int32", nil, "OrderID"}},
		{"/Customers('A')/Orders(1)/Lines(1)", "", "", &wantErr{BadRequest, "path", "Lines has a key of 2 properties", nil, ""}},
		{"/Customers('A')/Orders/$ref/x", "", "", &wantErr{BadRequest, "path", "cannot follow the collection", nil, "$ref"}},
		{"/Orders(1)/Customer/$ref/x", "", "", &wantErr{BadRequest, "path", "nothing may follow $ref", nil, "x"}},
		{"/Orders(1)/Customer/Name/x", "", "", &wantErr{BadRequest, "path", "only $value may follow the property Name", nil, "x"}},
		{"/Orders(1)/Customer", "$top=1", "", &wantErr{BadRequest, "$top", "$top applies to collections; the path addresses a single entity", nil, ""}},
		{"/Orders(1)/Customer/$ref", "$filter=Name eq 'x'", "", &wantErr{BadRequest, "$filter", "applies to collections", nil, ""}},
		{"/Customers('A')/Orders/$ref", "$select=Total", "", &wantErr{BadRequest, "$select", "$select does not apply to entity references", nil, ""}},
		{"/Customers('A')/Orders", "$filter=Name eq 'x'", "", &wantErr{BadRequest, "$filter", "Orders has no property Name", nil, ""}},
		{"/Customers('A')/Orders", "$expand=Customer", "Customers('A':String)/Orders -> Orders", nil},
		{"/Orders(1)/Customer/Orders(1)/$links", "", "", &wantErr{NotImplemented, "path", "path segment $links is not supported", nil, "$links"}},
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
				t.Fatalf("unexpected error %v", err)
			}
			if got := describe(q); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// The key predicate of a navigation segment that does not parse is a
// syntax error where a navigation is expected.
func TestBindNavigationSyntax(t *testing.T) {
	req, err := odata.ParseRequest("/Customers('A')/Orders(1,2)", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Bind(navModel(), req, Options{})
	var se *odata.SyntaxError
	if !errors.As(err, &se) {
		t.Fatalf("error %T %v, want *odata.SyntaxError", err, err)
	}
}

// fakeAccess hides properties and restricts rows per set, or refuses one.
type fakeAccess struct {
	hidden  map[string]map[string]bool
	refuse  string
	reached []string
}

func (a *fakeAccess) Reach(set *metadata.EntitySet) (Expr, map[string]bool, error) {
	a.reached = append(a.reached, set.Name)
	if set.Name == a.refuse {
		return nil, nil, fmt.Errorf("you may not read %s", set.Name)
	}
	restrict := &Compare{Op: Eq, L: &Prop{P: set.Key[0]}, R: &Const{T: set.Key[0].Type, V: "r-" + set.Name}}
	return restrict, a.hidden[set.Name], nil
}

func TestBindNavigationAccess(t *testing.T) {
	m := navModel()
	bind := func(path string, acc Access) (*Query, error) {
		req, err := odata.ParseRequest(path, "")
		if err != nil {
			t.Fatal(err)
		}
		return Bind(m, req, Options{Access: acc})
	}
	acc := &fakeAccess{}
	q, err := bind("/Customers('A')/Orders(1)/Lines", acc)
	if err != nil {
		t.Fatal(err)
	}
	// Every set the path passes through is reached (the target is the
	// server's own to authorize), and its row filter goes with its hop.
	if got := strings.Join(acc.reached, ","); got != "Customers,Orders" {
		t.Errorf("reached %s, want Customers,Orders", got)
	}
	for _, h := range q.Path {
		if h.Restrict == nil || !strings.Contains(Format(h.Restrict), "r-"+h.Set.Name) {
			t.Errorf("hop %s: restrict %v", h.Set.Name, h.Restrict)
		}
	}

	// A set the caller may not read fails the request with Reach's error.
	if _, err := bind("/Customers('A')/Orders(1)/Lines", &fakeAccess{refuse: "Orders"}); err == nil || err.Error() != "you may not read Orders" {
		t.Errorf("refused set: error %v", err)
	}
	// A navigation joining on a hidden property does not exist for the
	// caller: on the source side ...
	_, err = bind("/Orders(1)/Customer", &fakeAccess{hidden: map[string]map[string]bool{"Orders": {"CustomerID": true}}})
	checkErr(t, "hidden local", err, wantErr{NotFound, "path", "Orders has no navigation property Customer", nil, "Customer"})
	// ... and on the target side of the hop before.
	_, err = bind("/Customers('A')/Orders(1)/Lines", &fakeAccess{hidden: map[string]map[string]bool{"Orders": {"CustomerID": true}}})
	checkErr(t, "hidden remote", err, wantErr{NotFound, "path", "Orders has no navigation property Lines", nil, "Lines"})
	// Hidden properties elsewhere do not matter.
	if _, err := bind("/Orders(1)/Customer", &fakeAccess{hidden: map[string]map[string]bool{"Orders": {"Total": true}}}); err != nil {
		t.Errorf("hidden Total: %v", err)
	}
}

func TestHopReadAndRelated(t *testing.T) {
	m := navModel()
	notes, lines := m.Set("Notes"), m.Set("Lines")
	nav := notes.Navigation("Line")
	h := Hop{Set: notes, Key: []Const{{T: metadata.Int32, V: int64(4)}}, Nav: nav,
		Restrict: &IsNull{X: &Prop{P: notes.Property("Text")}, Not: true}}
	via := &Compare{Op: Eq, L: &Prop{P: notes.Property("NoteID")}, R: &Const{T: metadata.Int32, V: int64(9)}}
	hq := h.Read(via)
	if hq.Set != notes || keyText(hq.Key) != "4:Int32" || propNames(hq) != "LineNo,OrderID" {
		t.Errorf("Read: set %s key %s select %s", hq.Set.Name, keyText(hq.Key), propNames(hq))
	}
	if got := Format(hq.Restrict); got != "((Text ne null) and (NoteID eq 9:Int32))" {
		t.Errorf("Read restrict = %s", got)
	}
	// Local (LineNo, OrderID) = Remote (LineNo, OrderID) of Lines.
	vals := []Const{{T: metadata.Int16, V: int64(2)}, {T: metadata.Int64, V: int64(10248)}}
	e, ok := Related(nav, vals)
	if !ok || Format(e) != "((LineNo eq 2:Int16) and (OrderID eq 10248:Int64))" {
		t.Errorf("Related = %v, %v", Format(e), ok)
	}
	if key := RelatedKey(nav, vals); keyText(key) != "10248:Int64,2:Int16" {
		t.Errorf("RelatedKey = %s, want the Lines key order", keyText(key))
	}
	null := []Const{{T: metadata.Int16, Null: true}, {T: metadata.Int64, V: int64(1)}}
	if _, ok := Related(nav, null); ok {
		t.Error("Related with a null value: ok")
	}
	if RelatedKey(nav, null) != nil {
		t.Error("RelatedKey with a null value")
	}
	// A foreign key of another integer width takes the Remote type.
	order := lines.Navigation("Order")
	e, _ = Related(order, []Const{{T: metadata.Int64, V: int64(7)}})
	if Format(e) != "(OrderID eq 7:Int32)" {
		t.Errorf("retyped Related = %s", Format(e))
	}
	// To-many: the target's key is not the join.
	if RelatedKey(m.Set("Customers").Navigation("Orders"), []Const{{T: metadata.String, V: "A"}}) != nil {
		t.Error("RelatedKey of a to-many navigation")
	}
	if And(nil, nil) != nil || And(e, nil) != e || And(nil, e) != e {
		t.Error("And with nil")
	}
}

func TestQueryResource(t *testing.T) {
	m := navModel()
	for path, want := range map[string]string{
		"/Customers":                       "Customers",
		"/Customers('O''B')/Orders":        "Customers('O''B')/Orders",
		"/Customers('A')/Orders(1)/Lines":  "Customers('A')/Orders(1)/Lines",
		"/Lines(OrderID=1,LineNo=2)/Notes": "Lines(OrderID=1,LineNo=2)/Notes",
		"/Notes(4)/Line/Notes":             "Notes(4)/Line/Notes",
	} {
		req, err := odata.ParseRequest(strings.ReplaceAll(path, "'", "%27"), "")
		if err != nil {
			t.Fatal(err)
		}
		q, err := Bind(m, req, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if got := q.Resource(); got != want {
			t.Errorf("%s: Resource = %s, want %s", path, got, want)
		}
	}
}

// A $skiptoken is bound to the navigation path it was issued for.
func TestNavigationSkipToken(t *testing.T) {
	m := navModel()
	codec := NewTokenCodec([]byte("0123456789abcdef0123456789abcdef"))
	bind := func(path, query string) (*Query, error) {
		req, err := odata.ParseRequest(path, query)
		if err != nil {
			t.Fatal(err)
		}
		return Bind(m, req, Options{Tokens: codec})
	}
	q, err := bind("/Customers('A')/Orders", "")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := odata.ParseRequest("/Customers('A')/Orders", "")
	tok := codec.Encode(Fingerprint(q.Resource(), req), Keyset{Values: []Const{{T: metadata.Int32, V: int64(5)}}, Returned: 1})
	q, err = bind("/Customers('A')/Orders", "$skiptoken="+tok)
	if err != nil {
		t.Fatal(err)
	}
	if q.After == nil || keyText(q.After.Values) != "5:Int32" {
		t.Errorf("After = %+v", q.After)
	}
	if _, err := bind("/Customers('B')/Orders", "$skiptoken="+tok); err == nil {
		t.Error("a token of Customers('A')/Orders accepted for Customers('B')/Orders")
	}
	if _, err := bind("/Orders", "$skiptoken="+tok); err == nil {
		t.Error("a token of Customers('A')/Orders accepted for Orders")
	}
}

func TestBindEntityBindings(t *testing.T) {
	m := navModel()
	orders, lines, customers := m.Set("Orders"), m.Set("Lines"), m.Set("Customers")
	root := "https://h/odata/"
	refs := func(ref string) (string, bool) {
		switch {
		case strings.HasPrefix(ref, root):
			return ref[len(root):], true
		case strings.Contains(ref, "://"):
			return "", false
		}
		return ref, true
	}
	line := []Const{{T: metadata.Int64, V: int64(1)}, {T: metadata.Int16, V: int64(2)}}
	tests := []struct {
		name string
		set  *metadata.EntitySet
		mode WriteMode
		key  []Const
		json string
		want string // property=value, sorted by property order
		err  *wantErr
		impl bool // NotImplemented
	}{
		{"relative", orders, Create, nil, `{"OrderID":1,"Customer@odata.bind":"Customers('ALFKI')"}`, "OrderID=1:Int32 CustomerID='ALFKI':String", nil, false},
		{"absolute", orders, Patch, []Const{{T: metadata.Int32, V: int64(1)}}, `{"Customer@odata.bind":"https://h/odata/Customers('ALFKI')"}`, "CustomerID='ALFKI':String", nil, false},
		{"percent-encoded", orders, Patch, []Const{{T: metadata.Int32, V: int64(1)}}, `{"Customer@odata.bind":"Customers(%27AL%20KI%27)"}`, "CustomerID='AL KI':String", nil, false},
		{"key segment", orders, Patch, []Const{{T: metadata.Int32, V: int64(1)}}, `{"Customer@odata.bind":"Customers/ALFKI"}`, "CustomerID='ALFKI':String", nil, false},
		{"4.01 @id", orders, Patch, []Const{{T: metadata.Int32, V: int64(1)}}, `{"Customer":{"@id":"Customers('B')"}}`, "CustomerID='B':String", nil, false},
		{"unbind with null", orders, Patch, []Const{{T: metadata.Int32, V: int64(1)}}, `{"Customer@odata.bind":null}`, "CustomerID=null:String", nil, false},
		{"same value in the body", orders, Create, nil, `{"OrderID":1,"CustomerID":"A","Customer@odata.bind":"Customers('A')"}`, "OrderID=1:Int32 CustomerID='A':String", nil, false},
		{"other annotations skipped", orders, Create, nil, `{"@odata.type":"#test.Orders","OrderID":1,"Total@odata.type":"#Decimal"}`, "OrderID=1:Int32", nil, false},
		{"composite to an Int64 key", m.Set("Notes"), Create, nil, `{"NoteID":1,"Line@odata.bind":"Lines(OrderID=10248,LineNo=1)"}`, "NoteID=1:Int32 LineNo=1:Int16 OrderID=10248:Int64", nil, false},
		{"bind part of the key, same value", lines, Patch, line, `{"Order@odata.bind":"Orders(1)"}`, "", nil, false},

		{"unknown navigation", orders, Create, nil, `{"OrderID":1,"Custmer@odata.bind":"Customers('A')"}`, "",
			&wantErr{InvalidValue, "", "Orders has no navigation property \"Custmer\"", nil, "Custmer@odata.bind"}, false},
		{"case hint", orders, Create, nil, `{"OrderID":1,"customer@odata.bind":"Customers('A')"}`, "",
			&wantErr{InvalidValue, "", "did you mean \"Customer\"?", nil, "customer@odata.bind"}, false},
		{"a property bound", orders, Create, nil, `{"OrderID":1,"Total@odata.bind":"Customers('A')"}`, "",
			&wantErr{InvalidValue, "", "Total is a property, not a navigation property", nil, "Total@odata.bind"}, false},
		{"another set", orders, Create, nil, `{"OrderID":1,"Customer@odata.bind":"Orders(1)"}`, "",
			&wantErr{InvalidValue, "", `Customer leads to Customers: "Orders(1)" is not an entity of Customers`, nil, "Customer@odata.bind"}, false},
		{"another service", orders, Create, nil, `{"OrderID":1,"Customer@odata.bind":"https://x/odata/Customers('A')"}`, "",
			&wantErr{InvalidValue, "", "is not a URL of this service", nil, "Customer@odata.bind"}, false},
		{"not an entity", orders, Create, nil, `{"OrderID":1,"Customer@odata.bind":"Customers"}`, "",
			&wantErr{InvalidValue, "", "does not address one entity of Customers by its key", nil, "Customer@odata.bind"}, false},
		{"a navigation path", orders, Create, nil, `{"OrderID":1,"Customer@odata.bind":"Customers('A')/Orders"}`, "",
			&wantErr{InvalidValue, "", "does not address one entity", nil, "Customer@odata.bind"}, false},
		{"bad key", orders, Create, nil, `{"OrderID":1,"Customer@odata.bind":"Customers(1)"}`, "",
			&wantErr{InvalidValue, "", "does not address one entity", nil, "Customer@odata.bind"}, false},
		{"not a string", orders, Create, nil, `{"OrderID":1,"Customer@odata.bind":5}`, "",
			&wantErr{InvalidValue, "", "expects an entity reference", nil, "Customer@odata.bind"}, false},
		{"contradicts the body", orders, Create, nil, `{"OrderID":1,"CustomerID":"B","Customer@odata.bind":"Customers('A')"}`, "",
			&wantErr{InvalidValue, "", "Customer@odata.bind sets CustomerID to 'A', but the body gives 'B'", nil, "Customer@odata.bind"}, false},
		{"changes the key", lines, Patch, line, `{"Order@odata.bind":"Orders(2)"}`, "",
			&wantErr{InvalidValue, "", "would change the key property OrderID", nil, "Order@odata.bind"}, false},
		{"null for a required key", m.Set("Lines"), Create, nil, `{"LineNo":1,"Qty":1,"Order@odata.bind":null}`, "",
			&wantErr{InvalidValue, "", "Order@odata.bind cannot be null: property OrderID is required", nil, "Order@odata.bind"}, false},

		{"to-many bind", customers, Create, nil, `{"CustomerID":"A","Orders@odata.bind":["Orders(1)"]}`, "",
			&wantErr{NotImplemented, "", "collection-valued navigation property Orders is not supported", nil, "Orders@odata.bind"}, true},
		{"deep insert", orders, Create, nil, `{"OrderID":1,"Customer":{"CustomerID":"N"}}`, "",
			&wantErr{NotImplemented, "", "deep insert", nil, "Customer"}, true},
		{"deep insert to-many", customers, Create, nil, `{"CustomerID":"A","Orders":[{"OrderID":1}]}`, "",
			&wantErr{NotImplemented, "", "deep insert", nil, "Orders"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BindEntity(tt.set, body(t, tt.json), tt.mode, tt.key, BodyOptions{Refs: refs})
			if tt.err != nil {
				checkErr(t, tt.name, err, *tt.err)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			var parts []string
			for _, p := range tt.set.Properties {
				if c, ok := got[p]; ok {
					parts = append(parts, p.Name+"="+FormatConst(c))
				}
			}
			if s := strings.Join(parts, " "); s != tt.want {
				t.Errorf("got  %s\nwant %s", s, tt.want)
			}
		})
	}
}

// An entity created through a navigation gets the parent's join values.
func TestBindEntityVia(t *testing.T) {
	m := navModel()
	orders := m.Set("Orders")
	via := m.Set("Customers").Navigation("Orders")
	opt := BodyOptions{Via: via, ViaValues: []Const{{T: metadata.String, V: "ALFKI"}}}
	got, err := BindEntity(orders, body(t, `{"OrderID":1}`), Create, nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	if c := got[orders.Property("CustomerID")]; FormatConst(c) != "'ALFKI':String" {
		t.Errorf("CustomerID = %s", FormatConst(c))
	}
	if _, err := BindEntity(orders, body(t, `{"OrderID":1,"CustomerID":"ALFKI"}`), Create, nil, opt); err != nil {
		t.Errorf("the same value repeated: %v", err)
	}
	_, err = BindEntity(orders, body(t, `{"OrderID":1,"CustomerID":"BONAP"}`), Create, nil, opt)
	checkErr(t, "conflict", err, wantErr{InvalidValue, "", "property CustomerID is 'BONAP', but the entity is created through the navigation Orders, which sets it to 'ALFKI'", nil, "CustomerID"})
	_, err = BindEntity(orders, body(t, `{"OrderID":1,"Customer@odata.bind":"Customers('BONAP')"}`), Create, nil, opt)
	checkErr(t, "conflicting bind", err, wantErr{InvalidValue, "", "which sets it to 'ALFKI'", nil, "CustomerID"})
	// A composite relationship whose Local types differ (Int32 key, Int64 foreign key).
	lines := m.Set("Lines")
	got, err = BindEntity(lines, body(t, `{"LineNo":1,"Qty":2}`), Create, nil,
		BodyOptions{Via: orders.Navigation("Lines"), ViaValues: []Const{{T: metadata.Int32, V: int64(10248)}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := got[lines.Property("OrderID")]; FormatConst(c) != "10248:Int64" {
		t.Errorf("OrderID = %s", FormatConst(c))
	}
}
