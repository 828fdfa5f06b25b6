package semantic

import (
	"errors"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// expandModel: customers ← orders ← order_lines (composite key) ← line_notes
// (composite, nullable foreign key note_line).
func expandModel(t testing.TB) *metadata.Model {
	t.Helper()
	col := func(name string, typ metadata.Type, nullable bool) metadata.Column {
		return metadata.Column{Name: name, DBType: "x", Type: typ, Nullable: nullable}
	}
	fk := func(name string, cols []string, ref string, refCols ...string) []metadata.ForeignKeySource {
		return []metadata.ForeignKeySource{{Name: name, Columns: cols, RefTable: ref, RefColumns: refCols}}
	}
	src := metadata.Source{Tables: []metadata.Table{
		{Name: "customers", Kind: metadata.KindTable, PrimaryKey: []string{"customer_id"},
			Columns: []metadata.Column{col("customer_id", metadata.String, false), col("name", metadata.String, true),
				col("secret", metadata.String, true)}},
		{Name: "orders", Kind: metadata.KindTable, PrimaryKey: []string{"order_id"},
			Columns: []metadata.Column{col("order_id", metadata.Int64, false), col("customer_id", metadata.String, true),
				col("total", metadata.Decimal, false), col("margin", metadata.Decimal, true)},
			ForeignKeys: fk("orders_customer", []string{"customer_id"}, "customers", "customer_id")},
		{Name: "order_lines", Kind: metadata.KindTable, PrimaryKey: []string{"order_id", "line_no"},
			Columns:     []metadata.Column{col("order_id", metadata.Int64, false), col("line_no", metadata.Int16, false), col("sku", metadata.String, false)},
			ForeignKeys: fk("lines_order", []string{"order_id"}, "orders", "order_id")},
		{Name: "line_notes", Kind: metadata.KindTable, PrimaryKey: []string{"note_id"},
			Columns: []metadata.Column{col("note_id", metadata.Int64, false),
				col("order_id", metadata.Int64, true), col("line_no", metadata.Int16, true), col("note", metadata.String, false)},
			ForeignKeys: fk("note_line", []string{"order_id", "line_no"}, "order_lines", "order_id", "line_no")},
		{Name: "staff", Kind: metadata.KindTable, PrimaryKey: []string{"id"},
			Columns:     []metadata.Column{col("id", metadata.Int64, false), col("manager_id", metadata.Int64, true), col("name", metadata.String, false)},
			ForeignKeys: fk("staff_manager", []string{"manager_id"}, "staff", "id")},
	}}
	m, _, err := metadata.Build(src, metadata.Overlay{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// expandAccess hides margin on orders, restricts orders to total > 0 and
// refuses line_notes when deny is set.
type expandAccess struct {
	deny    bool
	reached []string
}

var errExpandDenied = errors.New("denied")

func (a *expandAccess) Reach(set *metadata.EntitySet) (Expr, map[string]bool, error) {
	a.reached = append(a.reached, set.Name)
	switch set.Name {
	case "orders":
		zero := Const{T: metadata.Decimal, V: "0"}
		return &Compare{Op: Gt, L: &Prop{P: set.Property("total")}, R: &zero}, map[string]bool{"margin": true}, nil
	case "line_notes":
		if a.deny {
			return nil, nil, errExpandDenied
		}
	}
	return nil, nil, nil
}

func bindURL(t *testing.T, m *metadata.Model, path, query string, opt Options) (*Query, error) {
	t.Helper()
	req, err := odata.ParseRequest(path, query)
	if err != nil {
		t.Fatalf("parse %s?%s: %v", path, query, err)
	}
	return Bind(m, req, opt)
}

func propList(ps []*metadata.Property) string {
	var n []string
	for _, p := range ps {
		n = append(n, p.Name)
	}
	return strings.Join(n, ",")
}

func TestBindExpand(t *testing.T) {
	m := expandModel(t)
	acc := &expandAccess{}
	q, err := bindURL(t, m, "/customers", "$expand=orders($filter=total gt 5;$orderby=total desc;$top=2;$skip=1;$count=true;"+
		"$select=order_id;$expand=order_lines($expand=line_notes($select=note))),*", Options{Access: acc})
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Expand) != 1 {
		t.Fatalf("%d expand items (customers has one navigation: * adds nothing new)", len(q.Expand))
	}
	e := q.Expand[0]
	n := e.Query
	if e.Nav.Name != "orders" || !e.Nav.Many || n.Set.Name != "orders" {
		t.Fatalf("nav %s many=%v set %s", e.Nav.Name, e.Nav.Many, n.Set.Name)
	}
	if n.Filter == nil || n.Restrict == nil || len(n.OrderBy) != 1 || !n.OrderBy[0].Desc || *n.Top != 2 || n.Skip != 1 || !n.Count {
		t.Errorf("nested query %+v", n)
	}
	if got := propList(n.Select); got != "order_id" || !n.SelectExplicit {
		t.Errorf("select %s", got)
	}
	if len(n.Expand) != 1 || n.Expand[0].Nav.Name != "order_lines" {
		t.Fatalf("nested expand %+v", n.Expand)
	}
	lines := n.Expand[0].Query
	if propList(lines.Select) != "order_id,line_no,sku" || lines.SelectExplicit {
		t.Errorf("order_lines select %s explicit=%v", propList(lines.Select), lines.SelectExplicit)
	}
	notes := lines.Expand[0]
	if notes.Nav.Name != "line_notes" || propList(notes.Query.Select) != "note" {
		t.Errorf("line_notes: %s %s", notes.Nav.Name, propList(notes.Query.Select))
	}
	if strings.Join(acc.reached, ",") != "orders,order_lines,line_notes" {
		t.Errorf("Access.Reach called for %v", acc.reached)
	}

	// Default projection without hidden properties; the context lists them.
	q, err = bindURL(t, m, "/customers", "$expand=orders", Options{Access: acc})
	if err != nil {
		t.Fatal(err)
	}
	if got := propList(q.Expand[0].Query.Select); got != "order_id,customer_id,total" || !q.Expand[0].Query.SelectExplicit {
		t.Errorf("default select with hidden margin: %s", got)
	}

	// To-one, $ref, star, 4.01 names without '$'.
	q, err = bindURL(t, m, "/line_notes", "expand=note_line($expand=order($select=total;expand=customer/$ref))", Options{})
	if err != nil {
		t.Fatal(err)
	}
	one := q.Expand[0]
	if one.Nav.Many || one.Nav.Name != "note_line" || len(one.Nav.Local) != 2 {
		t.Errorf("note_line: many=%v local=%d", one.Nav.Many, len(one.Nav.Local))
	}
	ref := one.Query.Expand[0].Query.Expand[0]
	if !ref.Ref || propList(ref.Query.Select) != "customer_id" {
		t.Errorf("customer/$ref: ref=%v select %s", ref.Ref, propList(ref.Query.Select))
	}
	q, err = bindURL(t, m, "/orders", "$expand=*", Options{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range q.Expand {
		names = append(names, e.Nav.Name)
	}
	if strings.Join(names, ",") != "customer,order_lines" {
		t.Errorf("* expands %v", names)
	}
	// Single entity.
	q, err = bindURL(t, m, "/orders(1)", "$expand=customer($select=name)", Options{})
	if err != nil || len(q.Expand) != 1 {
		t.Fatalf("single entity: %v", err)
	}
}

func TestBindExpandErrors(t *testing.T) {
	m := expandModel(t)
	cases := []struct {
		path, query string
		lim         Limits
		kind        ErrorKind
		span        int // start of the span in the $expand value (-1: don't check)
		msg         string
	}{
		{"/customers", "$expand=Orders", Limits{}, BadRequest, 0, "customers has no navigation property Orders; did you mean orders?"},
		{"/customers", "$expand=name", Limits{}, BadRequest, 0, "name is a property of customers, not a navigation property"},
		{"/orders", "$expand=customer,nope", Limits{}, BadRequest, 9, "orders has no navigation property nope"},
		{"/customers", "$expand=orders($filter=nope eq 1)", Limits{}, BadRequest, 15, "$filter of orders: orders has no property nope"},
		{"/customers", "$expand=orders($filter=margin gt 1)", Limits{}, BadRequest, 15, "orders has no property margin"},
		{"/customers", "$expand=orders($select=margin)", Limits{}, BadRequest, 15, "orders has no property margin"},
		{"/customers", "$expand=orders($orderby=margin)", Limits{}, BadRequest, 16, "orders has no property margin"},
		{"/customers", "$expand=orders($expand=order_lines($filter=sku eq 1))", Limits{}, BadRequest, 35, "$filter of order_lines"},
		{"/customers", "$expand=orders($expand=order_lines($expand=line_notes($expand=note_line)))", Limits{}, LimitExceeded, -1, "maximum depth of 3"},
		{"/customers", "$expand=orders($expand=order_lines)", Limits{MaxExpandDepth: 1}, LimitExceeded, 15, "maximum depth of 1"},
		{"/orders", "$expand=customer,order_lines", Limits{MaxExpandItems: 1}, LimitExceeded, -1, "maximum of 1 expanded"},
		{"/orders", "$expand=customer($top=1)", Limits{}, BadRequest, -1, "to-one navigation): $top does not apply"},
		{"/orders", "$expand=customer/$count", Limits{}, BadRequest, -1, "/$count does not apply"},
		{"/customers", "$expand=orders($levels=2)", Limits{}, BadRequest, -1, "$levels applies to a recursive navigation"},
		{"/staff", "$expand=manager($levels=4)", Limits{}, LimitExceeded, -1, "maximum depth of 3 levels ($levels=4)"},
		{"/staff", "$expand=manager($expand=staff($levels=3))", Limits{}, LimitExceeded, -1, "maximum depth of 3 levels ($levels=3)"},
		{"/staff", "$expand=*($levels=2)", Limits{}, NotImplemented, -1, "$levels with *"},
		{"/customers", "$expand=orders,orders", Limits{}, BadRequest, -1, "expanded twice"},
		{"/customers", "$expand=orders/order_lines", Limits{}, BadRequest, -1, "nest $expand"},
		{"/customers", "$expand=Model.Vip/orders", Limits{}, NotImplemented, -1, "type casts"},
		{"/customers", "$expand=$value", Limits{}, BadRequest, -1, "no stream property"},
		{"/customers", "$expand=orders&$deltatoken=x", Limits{}, NotImplemented, -1, "$deltatoken"},
	}
	for _, tc := range cases {
		_, err := bindURL(t, m, tc.path, tc.query, Options{Access: &expandAccess{}, Limits: tc.lim})
		var be *Error
		if !errors.As(err, &be) {
			t.Errorf("%s?%s: %v, want a binding error", tc.path, tc.query, err)
			continue
		}
		if be.Kind != tc.kind || !strings.Contains(be.Msg, tc.msg) || be.Option != "$expand" || tc.span >= 0 && be.Span.Start != tc.span {
			t.Errorf("%s?%s: kind %d option %s span %v %q; want kind %d span %d %q", tc.path, tc.query, be.Kind, be.Option, be.Span, be.Msg, tc.kind, tc.span, tc.msg)
		}
	}
	// An Access error fails the request as it is.
	_, err := bindURL(t, m, "/order_lines", "$expand=line_notes", Options{Access: &expandAccess{deny: true}})
	if !errors.Is(err, errExpandDenied) {
		t.Errorf("denied target: %v", err)
	}
}

func TestValuesIn(t *testing.T) {
	m := expandModel(t)
	lines := m.Set("order_lines")
	one := Const{T: metadata.Int64, V: int64(1)}
	two := Const{T: metadata.Int16, V: int64(2)}
	e := ValuesIn(lines.Key, [][]Const{{one, two}, {one, one}})
	lg, ok := e.(*Logical)
	if !ok || !lg.Or {
		t.Fatalf("ValuesIn of a composite = %T", e)
	}
	if in, ok := ValuesIn(lines.Key[:1], [][]Const{{one}}).(*In); !ok || len(in.Values) != 1 {
		t.Errorf("ValuesIn of one property is not an In")
	}
}

// TestBindExpandLevels: $levels=n is n nested expansions of the same
// navigation, each with the item's other options; max goes as deep as the
// depth limit allows from where it stands.
func TestBindExpandLevels(t *testing.T) {
	m := expandModel(t)
	depth := func(e []*Expand) (n int, sel []string) {
		for len(e) == 1 {
			n++
			var names []string
			for _, p := range e[0].Query.Select {
				names = append(names, p.Name)
			}
			sel = append(sel, strings.Join(names, ","))
			if e[0].Nav.Name != "manager" || e[0].Query.Top != nil {
				t.Fatalf("level %d expands %s", n, e[0].Nav.Name)
			}
			e = e[0].Query.Expand
		}
		return n, sel
	}
	cases := []struct {
		query string
		want  int
	}{
		{"$expand=manager($levels=1)", 1},
		{"$expand=manager($levels=3;$select=name)", 3},
		{"$expand=manager($levels=max;$select=name)", 3},
		{"$expand=manager($levels=max)", 3},
	}
	for _, tc := range cases {
		q, err := bindURL(t, m, "/staff", tc.query, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.query, err)
		}
		n, sel := depth(q.Expand)
		if n != tc.want {
			t.Errorf("%s: %d levels, want %d", tc.query, n, tc.want)
		}
		if strings.Contains(tc.query, "$select=name") {
			for i, s := range sel {
				if s != "name" {
					t.Errorf("%s: level %d selects %s, want name", tc.query, i+1, s)
				}
			}
		}
	}
	// max one level down: only what the limit leaves.
	q, err := bindURL(t, m, "/staff", "$expand=staff($expand=manager($levels=max))", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := depth(q.Expand[0].Query.Expand); n != 2 {
		t.Errorf("max below one level: %d levels, want 2", n)
	}
}
