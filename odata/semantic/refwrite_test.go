package semantic

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// TestBindRefID: $id binds only on the references of a collection (DELETE
// …/$ref?$id=…); elsewhere it stays unsupported.
func TestBindRefID(t *testing.T) {
	m := navModel()
	for _, tt := range []struct {
		path, query string
		ok          bool
	}{
		{"/Customers('A')/Orders/$ref", "$id=Orders(1)", true},
		{"/Orders/$ref", "$id=Orders(1)", true},
		{"/Customers('A')/Orders(1)/$ref", "$id=Orders(1)", false},
		{"/Orders(1)/Customer/$ref", "$id=Customers('A')", false},
		{"/Customers('A')/Orders", "$id=Orders(1)", false},
		{"/Orders(1)", "$id=Orders(1)", false},
	} {
		req, err := odata.ParseRequest(tt.path, tt.query)
		if err != nil {
			t.Fatalf("%s?%s: %v", tt.path, tt.query, err)
		}
		if req.Options.ID != "Orders(1)" && req.Options.ID != "Customers('A')" {
			t.Errorf("%s?%s: Options.ID = %q", tt.path, tt.query, req.Options.ID)
		}
		_, err = Bind(m, req, Options{})
		var e *Error
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s?%s: %v", tt.path, tt.query, err)
		case !tt.ok && (!errors.As(err, &e) || e.Kind != NotImplemented || e.Option != "$id"):
			t.Errorf("%s?%s: got %v, want NotImplemented $id", tt.path, tt.query, err)
		}
	}
}

func TestRefKey(t *testing.T) {
	m := navModel()
	refs := func(ref string) (string, bool) {
		switch {
		case strings.HasPrefix(ref, "http://svc/odata/"):
			return strings.TrimPrefix(ref, "http://svc/odata/"), true
		case strings.Contains(ref, "://"):
			return "", false
		}
		return ref, true
	}
	customer := m.Set("Orders").Navigation("Customer")
	line := m.Set("Notes").Navigation("Line")
	orders := m.Set("Customers").Navigation("Orders")
	for _, tt := range []struct {
		nav       *metadata.Navigation
		ref, want string // want: the key, or an error substring
	}{
		{customer, "Customers('ALFKI')", "'ALFKI'"},
		{customer, "http://svc/odata/Customers('ALFKI')", "'ALFKI'"},
		{customer, "Customers/ALFKI", "'ALFKI'"},
		{line, "Lines(OrderID=10248,LineNo=2)", "10248,2"},
		{line, "Lines(LineNo=2,OrderID=10248)", "10248,2"},
		{orders, "Orders(7)", "7"},
		{customer, "Orders(7)", `error: Customer leads to Customers: "Orders(7)" is not an entity of Customers`},
		{customer, "Customers", `error: "Customers" does not address one entity of Customers by its key`},
		{customer, "Customers('A')/Orders", `error: does not address one entity of Customers by its key`},
		{customer, "Customers('A')/$ref", `error: does not address one entity`},
		{customer, "http://other/odata/Customers('A')", `error: "http://other/odata/Customers('A')" is not a URL of this service`},
		{line, "Lines(OrderID=1)", `error: "Lines(OrderID=1)" does not address one entity of Lines`},
		{orders, "Orders('x')", `error: does not address one entity of Orders`},
		{orders, "Orders(", `error: "Orders(" is not an entity URL`},
	} {
		key, err := RefKey(tt.nav, tt.ref, "@odata.id", refs)
		got := ""
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind != InvalidValue || e.Target != "@odata.id" {
				t.Errorf("%s: error %#v", tt.ref, err)
			}
			got = "error: " + err.Error()
		} else {
			parts := make([]string, len(key))
			for i, c := range key {
				parts[i] = c.Literal().String()
			}
			got = strings.Join(parts, ",")
		}
		if !strings.HasPrefix(tt.want, "error: ") && got != tt.want || strings.HasPrefix(tt.want, "error: ") && !strings.Contains(got, strings.TrimPrefix(tt.want, "error: ")) {
			t.Errorf("%s %s: got %s, want %s", tt.nav.Name, tt.ref, got, tt.want)
		}
	}
}

func TestLink(t *testing.T) {
	m := navModel()
	orders, notes, lines := m.Set("Orders"), m.Set("Notes"), m.Set("Lines")
	i32 := func(v int64) Const { return Const{T: metadata.Int32, V: v} }
	i64 := func(v int64) Const { return Const{T: metadata.Int64, V: v} }
	i16 := func(v int64) Const { return Const{T: metadata.Int16, V: v} }
	str := func(v string) Const { return Const{T: metadata.String, V: v} }
	for _, tt := range []struct {
		name string
		nav  *metadata.Navigation
		from *metadata.EntitySet
		key  []Const // of the entity holding the foreign key
		vals []Const
		want string // Set: Name=value…, or an error substring
	}{
		{"to-one set", orders.Navigation("Customer"), orders, []Const{i32(1)}, []Const{str("ALFKI")}, "Orders: CustomerID='ALFKI'"},
		{"to-one remove", orders.Navigation("Customer"), orders, []Const{i32(1)}, nil, "Orders: CustomerID=null"},
		{"to-many add", m.Set("Customers").Navigation("Orders"), m.Set("Customers"), []Const{i32(7)}, []Const{str("ANATR")}, "Orders: CustomerID='ANATR'"},
		{"to-many remove", m.Set("Customers").Navigation("Orders"), m.Set("Customers"), []Const{i32(7)}, nil, "Orders: CustomerID=null"},
		// Composite, the other order than the target's key, integer widths retyped.
		{"composite set", notes.Navigation("Line"), notes, []Const{i32(4)}, []Const{i16(2), i64(10248)}, "Notes: LineNo=2:Int16 OrderID=10248:Int64"},
		{"composite remove", notes.Navigation("Line"), notes, []Const{i32(4)}, nil, "Notes: LineNo=null OrderID=null"},
		{"composite add from the parent", lines.Navigation("Notes"), lines, []Const{i32(4)}, []Const{i16(2), i64(10248)}, "Notes: LineNo=2:Int16 OrderID=10248:Int64"},
		{"retype", orders.Navigation("Lines"), orders, []Const{i64(1), i16(2)}, []Const{i32(1)}, "Lines: "},
		{"null referenced value", orders.Navigation("Customer"), orders, []Const{i32(1)}, []Const{{T: metadata.String, Null: true}}, "the referenced entity has no value for the relationship Customer"},
		{"not null", lines.Navigation("Order"), lines, []Const{i64(1), i16(2)}, nil, "cannot remove the relationship Order of Lines(OrderID=1,LineNo=2): its foreign key OrderID is part of the key"},
		{"key part moves", orders.Navigation("Lines"), orders, []Const{i64(1), i16(2)}, []Const{i32(3)}, "cannot set the relationship Lines of Lines(OrderID=1,LineNo=2): its foreign key OrderID is part of the key of Lines"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			values, err := Link(tt.nav, tt.from, tt.key, tt.vals)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Kind != InvalidValue || e.Target == "" || !strings.Contains(e.Msg, tt.want) {
					t.Errorf("got %v, want %s", err, tt.want)
				}
				return
			}
			holder, _ := LinkSide(tt.nav, tt.from)
			var parts []string
			for p, v := range values {
				s := p.Name + "=" + v.Literal().String()
				if v.T != metadata.String && !v.Null {
					s += ":" + strings.TrimPrefix(string(v.T), "Edm.")
				}
				parts = append(parts, s)
			}
			sort.Strings(parts)
			if got := holder.Name + ": " + strings.Join(parts, " "); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	// A not-null foreign key outside the key.
	ocid := orders.Property("CustomerID")
	ocid.Nullable = false
	defer func() { ocid.Nullable = true }()
	if _, err := Link(orders.Navigation("Customer"), orders, []Const{i32(1)}, nil); err == nil ||
		!strings.Contains(err.Error(), "the relationship Customer cannot be removed: Orders.CustomerID cannot be null; reference another Customers instead") {
		t.Errorf("not null: %v", err)
	}
	ocid.ReadOnly = true
	defer func() { ocid.ReadOnly = false }()
	if _, err := Link(orders.Navigation("Customer"), orders, []Const{i32(1)}, []Const{str("A")}); err == nil ||
		!strings.Contains(err.Error(), "its foreign key CustomerID is read-only") {
		t.Errorf("read-only: %v", err)
	}
}
