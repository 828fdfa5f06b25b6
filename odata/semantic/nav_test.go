package semantic

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/edm"
)

// lambdaModel has relationships:
//
//	Customers(CustomerID) <- Orders(OrderID, CustomerID nullable) <- Lines(OrderID, LineNo)
//	Lines <- Notes(NoteID, OrderID+LineNo nullable, composite)
//	Employees(ID, ManagerID nullable) -> Employees (self-reference)
func lambdaModel() *metadata.Model {
	prop := func(name string, t metadata.Type, nullable bool) *metadata.Property {
		return &metadata.Property{Name: name, Column: strings.ToLower(name), Type: t, Nullable: nullable}
	}
	cid := prop("CustomerID", metadata.String, false)
	customers := &metadata.EntitySet{Name: "Customers", Table: "customers", Kind: metadata.KindTable,
		Properties: []*metadata.Property{cid, prop("Name", metadata.String, false), prop("Country", metadata.String, true),
			prop("Secret", metadata.String, true), prop("Limit", metadata.Decimal, true)},
		Key: []*metadata.Property{cid}}
	oid, ocid := prop("OrderID", metadata.Int64, false), prop("CustomerID", metadata.String, true)
	orders := &metadata.EntitySet{Name: "Orders", Table: "orders", Kind: metadata.KindTable,
		Properties: []*metadata.Property{oid, ocid, prop("Total", metadata.Decimal, false), prop("Status", metadata.String, false),
			prop("Rush", metadata.Boolean, true), prop("Blob", metadata.Binary, true)},
		Key: []*metadata.Property{oid}}
	loid, lno := prop("OrderID", metadata.Int64, false), prop("LineNo", metadata.Int16, false)
	lines := &metadata.EntitySet{Name: "Lines", Table: "lines", Kind: metadata.KindTable,
		Properties: []*metadata.Property{loid, lno, prop("Qty", metadata.Int32, false)},
		Key:        []*metadata.Property{loid, lno}}
	nid, noid, nlno := prop("NoteID", metadata.Int32, false), prop("OrderID", metadata.Int64, true), prop("LineNo", metadata.Int16, true)
	notes := &metadata.EntitySet{Name: "Notes", Table: "notes", Kind: metadata.KindTable,
		Properties: []*metadata.Property{nid, noid, nlno, prop("Text", metadata.String, false)},
		Key:        []*metadata.Property{nid}}
	eid, mgr := prop("ID", metadata.Int32, false), prop("ManagerID", metadata.Int32, true)
	employees := &metadata.EntitySet{Name: "Employees", Table: "employees", Kind: metadata.KindTable,
		Properties: []*metadata.Property{eid, mgr, prop("Name", metadata.String, false)},
		Key:        []*metadata.Property{eid}}
	link := func(from *metadata.EntitySet, one string, local []*metadata.Property, to *metadata.EntitySet, many string, remote []*metadata.Property) {
		nullable := slices.ContainsFunc(local, func(p *metadata.Property) bool { return p.Nullable })
		from.Navigations = append(from.Navigations, &metadata.Navigation{Name: one, Target: to, Nullable: nullable, Partner: many, Local: local, Remote: remote})
		to.Navigations = append(to.Navigations, &metadata.Navigation{Name: many, Target: from, Many: true, Partner: one, Local: remote, Remote: local})
	}
	link(orders, "Customer", []*metadata.Property{ocid}, customers, "Orders", []*metadata.Property{cid})
	link(lines, "Order", []*metadata.Property{loid}, orders, "Lines", []*metadata.Property{oid})
	link(notes, "Line", []*metadata.Property{noid, nlno}, lines, "Notes", []*metadata.Property{loid, lno})
	link(employees, "Manager", []*metadata.Property{mgr}, employees, "Reports", []*metadata.Property{eid})
	return metadata.NewModel("test", nil, customers, orders, lines, notes, employees)
}

// lambdaAccess restricts and hides per set name and records what was asked.
type lambdaAccess struct {
	m        *metadata.Model
	restrict map[string]string // set -> row filter text
	hidden   map[string][]string
	deny     map[string]bool
	asked    []string
}

var errDenied = errors.New("denied")

func (a *lambdaAccess) Reach(set *metadata.EntitySet) (Expr, map[string]bool, error) {
	a.asked = append(a.asked, set.Name)
	if a.deny[set.Name] {
		return nil, nil, errDenied
	}
	var r Expr
	if text, ok := a.restrict[set.Name]; ok {
		e, err := odata.ParseFilter(text)
		if err != nil {
			return nil, nil, err
		}
		if r, err = BindFilter(set, e, Limits{}, nil); err != nil {
			return nil, nil, err
		}
	}
	h := map[string]bool{}
	for _, n := range a.hidden[set.Name] {
		h[n] = true
	}
	return r, h, nil
}

func navBind(t *testing.T, access Access, set string, kv ...string) (*Query, error) {
	t.Helper()
	return Bind(lambdaModel(), request(t, setPath(set), kv...), Options{Access: access})
}

func TestBindNavigation(t *testing.T) {
	tests := []struct{ name, set, filter, want string }{
		{"any", "Customers", "Orders/any(o: o/Total gt 100)", "Orders/any((Total gt 100:Decimal))"},
		{"any empty", "Customers", "Orders/any()", "Orders/any()"},
		{"all", "Customers", "Orders/all(o: o/Status eq 'Open')", "Orders/all((Status eq 'Open':String))"},
		{"not any", "Customers", "not Orders/any()", "(not Orders/any())"},
		{"nested", "Customers", "Orders/any(o: o/Lines/any(l: l/Qty gt 5))", "Orders/any(Lines/any((Qty gt 5:Int32)))"},
		{"outer variable", "Customers", "Orders/any(o: o/Lines/any(l: l/Qty gt 5 and o/Total gt 1))",
			"Orders/any(Lines/any(((Qty gt 5:Int32) and (^1.Total gt 1:Decimal))))"},
		{"$it in body", "Customers", "Orders/any(o: o/Total gt $it/Limit)", "Orders/any((Total gt ^1.Limit))"},
		{"bare name is $it", "Customers", "Orders/any(o: o/Total gt Limit)", "Orders/any((Total gt ^1.Limit))"},
		{"$it deep", "Customers", "Orders/any(o: o/Lines/any(l: $it/Name eq 'x'))", "Orders/any(Lines/any((^2.Name eq 'x':String)))"},
		{"$it at top", "Customers", "$it/Name eq 'x'", "(Name eq 'x':String)"},
		{"lambda through to-one", "Orders", "Customer/Orders/any(o: o/Total gt 5)", "Customer/any(Orders/any((Total gt 5:Decimal)))"},
		{"all through to-one", "Orders", "Customer/Orders/all(o: o/Total gt 5)", "Customer/all(Orders/all((Total gt 5:Decimal)))"},
		{"lambda from outer variable", "Customers", "Orders/any(o: $it/Orders/any(p: p/Total gt o/Total))", "Orders/any(^1.Orders/any((Total gt ^1.Total)))"},
		{"composite nested", "Orders", "Lines/any(l: l/Notes/any(n: contains(n/Text, 'gift')))", "Lines/any(Notes/any(contains(Text,'gift':String):Boolean))"},
		{"self reference", "Employees", "Reports/any(r: r/Name eq $it/Name)", "Reports/any((Name eq ^1.Name))"},
		{"to-one path", "Orders", "Customer/Country eq 'Germany'", "(Customer/Country eq 'Germany':String)"},
		{"to-one path null", "Orders", "Customer/Country eq null", "(Customer/Country eq null)"},
		{"multi-hop", "Lines", "Order/Customer/Country ne 'x'", "(Order/Customer/Country ne 'x':String)"},
		{"path in lambda", "Lines", "Notes/any(n: n/Line/Qty gt 1)", "Notes/any((Line/Qty gt 1:Int32))"},
		{"path from $it in lambda", "Orders", "Lines/any(l: l/Qty gt 1 and $it/Customer/Country eq 'x')", "Lines/any(((Qty gt 1:Int32) and (^1.Customer/Country eq 'x':String)))"},
		{"function of path", "Orders", "startswith(Customer/Name, 'A')", "startswith(Customer/Name,'A':String):Boolean"},
		{"lambda eq true", "Customers", "Orders/any() eq true", "(Orders/any() eq true:Boolean)"},
		{"null body", "Customers", "Orders/any(o: null)", "Orders/any(null:Boolean)"},
		{"self path", "Employees", "Manager/Manager/Name eq 'Boss'", "(Manager/Manager/Name eq 'Boss':String)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := navBind(t, nil, tt.set, "$filter", tt.filter)
			if err != nil {
				t.Fatalf("%s: %v", tt.filter, err)
			}
			if got := Format(q.Filter); got != tt.want {
				t.Errorf("%s:\n got  %s\n want %s", tt.filter, got, tt.want)
			}
		})
	}
}

func TestBindNavigationTypes(t *testing.T) {
	q, err := navBind(t, nil, "Lines", "$filter", "Order/Customer/Limit gt 5")
	if err != nil {
		t.Fatal(err)
	}
	r := q.Filter.(*Compare).L.(*ToOne)
	if r.Type() != metadata.Decimal || r.Nav.Name != "Order" || r.Up != 0 {
		t.Errorf("related %+v type %s", r, r.Type())
	}
	inner := r.X.(*ToOne)
	if inner.Nav.Name != "Customer" || inner.X.(*Prop).P.Name != "Limit" {
		t.Errorf("inner %+v", inner)
	}
	q, err = navBind(t, nil, "Customers", "$filter", "Orders/all(o: o/Lines/any(l: l/Qty gt 1))")
	if err != nil {
		t.Fatal(err)
	}
	x := q.Filter.(*Exists)
	if !x.All || x.Nav.Target.Name != "Orders" || x.Type() != metadata.Boolean {
		t.Errorf("exists %+v", x)
	}
	if in := x.Cond.(*Exists); in.All || in.Nav.Target.Name != "Lines" {
		t.Errorf("inner exists %+v", in)
	}
}

func TestBindNavigationErrors(t *testing.T) {
	tests := []struct {
		name, set, option, expr string
		want                    wantErr
	}{
		{"unknown navigation", "Customers", "$filter", "Invoices/any()", wantErr{BadRequest, "$filter", "Customers has no property Invoices", nil, "Invoices"}},
		{"any over property", "Customers", "$filter", "Name/any(n: n eq 'x')", wantErr{BadRequest, "$filter", "lambda operator any applies to a collection; Name is a primitive property of type Edm.String", nil, "Name"}},
		{"any over to-one", "Orders", "$filter", "Customer/any()", wantErr{BadRequest, "$filter", "lambda operator any applies to a collection; Customer is a single Customers entity", nil, "Customer"}},
		{"any over variable", "Customers", "$filter", "Orders/any(o: o/any())", wantErr{BadRequest, "$filter", "applies to a collection-valued navigation property, not to o", nil, ""}},
		{"collection as value", "Customers", "$filter", "Orders/Total gt 1", wantErr{BadRequest, "$filter", "Orders is a collection of Orders: use Orders/any(x: ...)", nil, "Orders/Total"}},
		{"collection through collection", "Customers", "$filter", "Orders/Lines/any()", wantErr{BadRequest, "$filter", "Orders is a collection of Orders: nest lambda operators, e.g. Orders/any(x: x/Lines/any(...))", nil, "Orders/Lines"}},
		{"navigation as value", "Orders", "$filter", "Customer eq null", wantErr{BadRequest, "$filter", "Customer is a navigation property (a Customers entity): use one of its properties, e.g. Customer/CustomerID", nil, "Customer"}},
		{"variable as value", "Customers", "$filter", "Orders/any(o: o eq null)", wantErr{BadRequest, "$filter", "lambda variable o stands for an entity of Orders; use one of its properties, e.g. o/OrderID", nil, ""}},
		{"variable reused", "Customers", "$filter", "Orders/any(o: o/Lines/any(o: o/Qty gt 1))", wantErr{BadRequest, "$filter", "lambda variable o is already in use", nil, "o"}},
		{"variable out of scope", "Customers", "$filter", "Orders/any(o: true) and o/Total gt 1", wantErr{BadRequest, "$filter", "Customers has no property o", nil, "o"}},
		{"body property of $it", "Customers", "$filter", "Orders/any(o: Total gt 1)", wantErr{BadRequest, "$filter", "Customers has no property Total; did you mean o/Total?", nil, "Total"}},
		{"body not boolean", "Customers", "$filter", "Orders/any(o: o/Total)", wantErr{BadRequest, "$filter", "the body of lambda operator any must be a Boolean expression, not Edm.Decimal", nil, ""}},
		{"unknown target property", "Customers", "$filter", "Orders/any(o: o/Totl gt 1)", wantErr{BadRequest, "$filter", "Orders has no property Totl", nil, "Totl"}},
		{"case hint in target", "Customers", "$filter", "Orders/any(o: o/total gt 1)", wantErr{BadRequest, "$filter", "Orders has no property total; did you mean Total?", nil, "total"}},
		{"path past a property", "Orders", "$filter", "Customer/Name/Length eq 1", wantErr{BadRequest, "$filter", "property path Customer/Name/Length is not supported", nil, "Customer/Name/Length"}},
		{"type mismatch through path", "Orders", "$filter", "Customer/Name eq 1", wantErr{BadRequest, "$filter", "cannot compare Edm.String with Edm.Int32", nil, ""}},
		{"nav $count", "Customers", "$filter", "Orders/$count gt 1", wantErr{NotImplemented, "$filter", "$count of a navigation path (Orders/$count) is not supported", nil, ""}},
		{"depth", "Customers", "$filter", "Orders/any(o: o/Lines/any(l: l/Notes/any(n: n/Line/Order/Lines/any())))", wantErr{LimitExceeded, "$filter", "$filter exceeds the maximum lambda nesting depth of 3", nil, ""}},
		{"path hops", "Employees", "$filter", strings.Repeat("Manager/", 9) + "Name eq 'x'", wantErr{LimitExceeded, "$filter", "exceeds the maximum of 8 navigation segments", nil, ""}},
		{"orderby collection", "Customers", "$orderby", "Orders/Total", wantErr{BadRequest, "$orderby", "Orders is a collection", nil, "Orders/Total"}},
		{"orderby binary path", "Lines", "$orderby", "Order/Blob", wantErr{BadRequest, "$orderby", "cannot order by Edm.Binary", nil, ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := navBind(t, nil, tt.set, tt.option, tt.expr)
			checkErr(t, tt.expr, err, tt.want)
		})
	}
}

func TestBindNavigationDepthLimit(t *testing.T) {
	req := request(t, setPath("Customers"), "$filter", "Orders/any(o: o/Lines/any())")
	if _, err := Bind(lambdaModel(), req, Options{Limits: Limits{MaxLambdaDepth: 1}}); err == nil || !strings.Contains(err.Error(), "maximum lambda nesting depth of 1") {
		t.Errorf("depth 2 with limit 1: %v", err)
	}
	if _, err := Bind(lambdaModel(), req, Options{Limits: Limits{MaxLambdaDepth: 2}}); err != nil {
		t.Errorf("depth 2 with limit 2: %v", err)
	}
	// Three nested lambdas fit the default.
	req = request(t, setPath("Customers"), "$filter", "Orders/any(o: o/Lines/any(l: l/Notes/any(n: n/Text eq 'x')))")
	if _, err := Bind(lambdaModel(), req, Options{}); err != nil {
		t.Errorf("depth 3: %v", err)
	}
}

func TestBindLambdaAccess(t *testing.T) {
	m := lambdaModel()
	a := &lambdaAccess{m: m, restrict: map[string]string{"Orders": "Status ne 'Secret'", "Customers": "Country eq 'DE'"},
		hidden: map[string][]string{"Orders": {"Total"}, "Customers": {"Secret"}, "Lines": {"OrderID"}}}

	q, err := navBind(t, a, "Customers", "$filter", "Orders/any(o: o/Status eq 'Open') and Orders/all(o: o/Status ne 'x')")
	if err != nil {
		t.Fatal(err)
	}
	want := "(Orders/any([(Status ne 'Secret':String)] (Status eq 'Open':String)) and Orders/all([(Status ne 'Secret':String)] (Status ne 'x':String)))"
	if got := Format(q.Filter); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	if !slices.Equal(a.asked, []string{"Orders"}) {
		t.Errorf("Access asked %v, want once for Orders", a.asked)
	}

	q, err = navBind(t, a, "Orders", "$orderby", "Customer/Name desc")
	if err != nil {
		t.Fatal(err)
	}
	if got := Format(q.OrderBy[0].Expr); got != "Customer[(Country eq 'DE':String)]/Name" {
		t.Errorf("orderby %s", got)
	}

	errs := []struct{ set, filter, msg, target string }{
		{"Customers", "Orders/any(o: o/Total gt 1)", "Orders has no property Total", "Total"},
		{"Orders", "Customer/Secret eq 'x'", "Customers has no property Secret", "Secret"},
		// No case hint towards a hidden property.
		{"Orders", "Customer/secret eq 'x'", "Customers has no property secret", "secret"},
		// Navigations whose join reads a hidden property are unknown.
		{"Orders", "Lines/any()", "Orders has no property Lines", "Lines"},
		{"Customers", "Orders/any(o: o/Lines/any())", "Orders has no property Lines", "Lines"},
	}
	for _, e := range errs {
		_, err := navBind(t, a, e.set, "$filter", e.filter)
		var be *Error
		if !errors.As(err, &be) || be.Kind != BadRequest || be.Msg != e.msg || be.Target != e.target {
			t.Errorf("%s: got %v, want 400 %q (target %s)", e.filter, err, e.msg, e.target)
		}
	}

	a.deny = map[string]bool{"Orders": true}
	if _, err := navBind(t, a, "Customers", "$filter", "Orders/any()"); !errors.Is(err, errDenied) {
		t.Errorf("denied set: %v", err)
	}
}

func TestBindFilterRefusesNavigation(t *testing.T) {
	m := lambdaModel()
	for _, text := range []string{"Orders/any()", "Customer/Name eq 'x'"} {
		set := m.Set("Customers")
		if strings.HasPrefix(text, "Customer/") {
			set = m.Set("Orders")
		}
		e, err := odata.ParseFilter(text)
		if err != nil {
			t.Fatal(err)
		}
		_, err = BindFilter(set, e, Limits{}, nil)
		var be *Error
		if !errors.As(err, &be) || be.Kind != NotImplemented {
			t.Errorf("%s: %v, want NotImplemented", text, err)
		}
	}
}

func TestOwnProps(t *testing.T) {
	tests := []struct{ set, filter, want string }{
		{"Customers", "Name eq 'x' and Orders/any(o: o/Total gt Limit and o/Lines/any(l: $it/Country eq 'x'))", "Name CustomerID(Orders) Limit Country"},
		{"Orders", "Customer/Name eq 'x'", "CustomerID(Customer)"},
		{"Customers", "Orders/any(o: o/Customer/Name eq 'x')", "CustomerID(Orders)"},
		{"Employees", "Reports/any(r: r/Name eq Name)", "ID(Reports) Name"},
	}
	for _, tt := range tests {
		q, err := navBind(t, nil, tt.set, "$filter", tt.filter)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		OwnProps(q.Filter, func(p *metadata.Property, via *metadata.Navigation) {
			s := p.Name
			if via != nil {
				s += "(" + via.Name + ")"
			}
			got = append(got, s)
		})
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%s: got %v want %s", tt.filter, got, tt.want)
		}
	}
}

func TestNavigates(t *testing.T) {
	for filter, want := range map[string]bool{
		"Name eq 'x'":  false,
		"Orders/any()": true,
		"not (Name eq 'a' or Orders/all(o: o/Total gt 1))": true,
	} {
		q, err := navBind(t, nil, "Customers", "$filter", filter)
		if err != nil {
			t.Fatal(err)
		}
		if got := Navigates(q.Filter); got != want {
			t.Errorf("%s: %v", filter, got)
		}
	}
	q, err := navBind(t, nil, "Orders", "$filter", "Customer/Name eq 'x'")
	if err != nil || !Navigates(q.Filter) {
		t.Errorf("path: %v %v", err, err == nil && Navigates(q.Filter))
	}
}

// TestNavigationOrderByIsKeysetPaged: an order item that is a to-one path
// to a property carries its value in a column of its own (Carry: a copy of
// the target property, nullable, distinct from it), so that the walk pages
// by keyset; other expressions page by offset.
func TestNavigationOrderByIsKeysetPaged(t *testing.T) {
	m := lambdaModel()
	tests := []struct {
		set, orderby string
		keyset       bool
		carried      []string // target property of each item's Carry ("" none)
	}{
		{"Orders", "Customer/Name desc,OrderID", true, []string{"Customers.Name", ""}},
		{"Orders", "Customer/Country,Total desc", true, []string{"Customers.Country", "", ""}},
		{"Lines", "Order/Customer/Limit desc", true, []string{"Customers.Limit", "", ""}},
		{"Employees", "Manager/Name,Name", true, []string{"Employees.Name", "", ""}},
		{"Orders", "length(Customer/Name)", false, []string{"", ""}},
		{"Customers", "Orders/any()", false, []string{"", ""}},
	}
	for _, tt := range tests {
		q, err := Bind(m, request(t, setPath(tt.set), "$orderby", tt.orderby), Options{})
		if err != nil {
			t.Fatal(err)
		}
		order, keyset := TotalOrder(q)
		if keyset != tt.keyset || len(order) != len(tt.carried) {
			t.Errorf("%s %s: %d items keyset %v, want %d %v", tt.set, tt.orderby, len(order), keyset, len(tt.carried), tt.keyset)
			continue
		}
		for i, o := range order {
			leaf := PathLeaf(o.Expr)
			switch {
			case tt.carried[i] == "" && o.Carry != nil:
				t.Errorf("%s %s: item %d carried", tt.set, tt.orderby, i)
			case tt.carried[i] == "":
			case o.Carry == nil || leaf == nil:
				t.Errorf("%s %s: item %d not carried", tt.set, tt.orderby, i)
			default:
				want := m.Set(strings.Split(tt.carried[i], ".")[0]).Property(strings.Split(tt.carried[i], ".")[1])
				c := *o.Carry
				c.Nullable = want.Nullable
				if leaf != want || o.Carry == want || c != *want || !o.Carry.Nullable {
					t.Errorf("%s %s: item %d carries %+v for %+v", tt.set, tt.orderby, i, o.Carry, want)
				}
				for _, p := range q.Set.Properties {
					if p == o.Carry {
						t.Errorf("%s %s: Carry is a property of the set", tt.set, tt.orderby)
					}
				}
			}
		}
	}
}

// TestPagePathKeyset: a walk ordered by paths keeps the paths' values from
// their Carry columns (nulls included), and its tokens round-trip them.
func TestPagePathKeyset(t *testing.T) {
	codec := NewTokenCodec([]byte("k"))
	q, err := navBind(t, nil, "Orders", "$orderby", "Customer/Name desc,Customer/Limit,OrderID desc")
	if err != nil {
		t.Fatal(err)
	}
	order, _ := TotalOrder(q)
	name, limit, oid := order[0].Carry, order[1].Carry, q.Set.Key[0]
	// The page's columns: the selected ones, then the paths' (as sqlgen
	// returns them).
	cols := append(append([]*metadata.Property(nil), q.Set.Properties...), name, limit)
	row := func(id int64, n, l *string) []edm.Value {
		r := make([]edm.Value, len(cols))
		r[0].Int = id
		r[len(cols)-2], r[len(cols)-1] = edm.Value{Null: true}, edm.Value{Null: true}
		if n != nil {
			r[len(cols)-2] = edm.Value{Text: []byte(*n)}
		}
		if l != nil {
			r[len(cols)-1] = edm.Value{Text: []byte(*l)}
		}
		return r
	}
	str := func(s string) *string { return &s }
	for _, tc := range []struct {
		row  []edm.Value
		want string
	}{
		{row(7, str("Same Name"), str("10.00")), "['Same Name':String 10.00:Decimal 7:Int64]"},
		{row(6, nil, nil), "[null:String null:Decimal 6:Int64]"},
		{row(3, str("Ana"), nil), "['Ana':String null:Decimal 3:Int64]"},
	} {
		p := NewPage(q, 2, 0)
		p.Columns(cols)
		p.Keep(row(1, str("Zed"), str("1")))
		buf := append([]edm.Value(nil), tc.row...)
		p.Keep(buf)
		for i := range buf { // the adapter reuses its buffers
			buf[i].Text = append(buf[i].Text[:0], "overwritten"...)
		}
		ks := p.Next(2, true)
		if ks == nil || ks.Values == nil {
			t.Fatalf("next %+v: want a keyset", ks)
		}
		var got []string
		for _, v := range ks.Values {
			got = append(got, FormatConst(v))
		}
		if s := "[" + strings.Join(got, " ") + "]"; s != tc.want {
			t.Errorf("next %s, want %s", s, tc.want)
		}
		back, err := codec.Decode("fp", codec.Encode("fp", *ks), order)
		if err != nil {
			t.Fatalf("%s: %v", tc.want, err)
		}
		for i := range ks.Values {
			if !sameConst(back.Values[i], ks.Values[i]) {
				t.Errorf("%s: value %d decodes as %#v", tc.want, i, back.Values[i])
			}
		}
	}
	// The token is typed by the paths' targets: a value of another type, or
	// another number of values, is refused.
	for _, vals := range [][]Const{
		{{T: metadata.Int64, V: int64(1)}, {T: metadata.Decimal, Null: true}, {T: metadata.Int64, V: int64(1)}},
		{{T: metadata.String, V: "a"}, {T: metadata.Int64, V: int64(1)}},
	} {
		if _, err := codec.Decode("fp", codec.Encode("fp", Keyset{Values: vals}), order); !isInvalidToken(err) {
			t.Errorf("%v: %v", vals, err)
		}
	}
	// An offset token (issued when such orders paged by offset) still
	// finds its page; the page after it is a keyset.
	k, err := codec.Decode("fp", codec.Encode("fp", Keyset{Offset: 4, Returned: 4}), order)
	if err != nil || k.Values != nil || k.Offset != 4 {
		t.Fatalf("offset token: %+v %v", k, err)
	}
	q.After = k
	p := NewPage(q, 2, 0)
	p.Columns(cols)
	p.Keep(row(5, str("B"), nil))
	if ks := p.Next(1, true); ks == nil || len(ks.Values) != 3 || ks.Returned != 5 {
		t.Errorf("after an offset token: %+v", ks)
	}
	// A plain order still refuses offset tokens.
	if _, err := codec.Decode("fp", codec.Encode("fp", Keyset{Offset: 4}), []Order{{Expr: &Prop{P: oid}}}); !isInvalidToken(err) {
		t.Errorf("offset token on a plain order: %v", err)
	}
}
