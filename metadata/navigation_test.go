package metadata_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
)

func fk(name string, cols []string, ref string, refCols ...string) metadata.ForeignKeySource {
	return metadata.ForeignKeySource{Name: name, Columns: cols, RefSchema: "erp", RefTable: ref, RefColumns: refCols}
}

// navSource is an ERP: orders → customers, order_lines → orders and
// products, invoices → customers twice (bill to, ship to), a composite foreign
// key (line_notes → order_lines), a self reference (employees.manager_id),
// a key column named "id" and a to-one name that collides with a property.
func navSource() metadata.Source {
	src := metadata.Source{Tables: []metadata.Table{
		table("erp", "customers", metadata.KindTable, []string{"customer_id"}, col("customer_id"), col("name")),
		table("erp", "orders", metadata.KindTable, []string{"order_id"}, intCol("order_id"), col("customer_id")),
		table("erp", "order_lines", metadata.KindTable, []string{"order_id", "line_no"},
			intCol("order_id"), intCol("line_no"), intCol("product_id")),
		table("erp", "products", metadata.KindTable, []string{"product_id"}, intCol("product_id")),
		table("erp", "invoices", metadata.KindTable, []string{"id"}, intCol("id"), col("bill_to_id"), col("ship_to_id"), col("bill_to")),
		table("erp", "line_notes", metadata.KindTable, []string{"note_id"}, intCol("note_id"), intCol("ord"), intCol("line")),
		table("erp", "employees", metadata.KindTable, []string{"id"}, intCol("id"), intCol("manager_id")),
	}}
	fks := map[string][]metadata.ForeignKeySource{
		"orders":      {fk("orders_customer_fk", []string{"customer_id"}, "customers", "customer_id")},
		"order_lines": {fk("lines_order", []string{"order_id"}, "orders", "order_id"), fk("lines_product", []string{"product_id"}, "products", "product_id")},
		"invoices":    {fk("inv_bill", []string{"bill_to_id"}, "customers", "customer_id"), fk("inv_ship", []string{"ship_to_id"}, "customers", "customer_id")},
		"line_notes":  {fk("note_line", []string{"ord", "line"}, "order_lines", "order_id", "line_no")},
		"employees":   {fk("emp_manager", []string{"manager_id"}, "employees", "id")},
	}
	for i := range src.Tables {
		src.Tables[i].ForeignKeys = fks[src.Tables[i].Name]
	}
	return src
}

// navString lists a set's navigations as "name:Target(1|*)~partner[local=remote,…]".
func navString(s *metadata.EntitySet) string {
	var parts []string
	for _, n := range s.Navigations {
		card := "1"
		if n.Many {
			card = "*"
		} else if n.Nullable {
			card = "0..1"
		}
		var join []string
		for i, p := range n.Local {
			join = append(join, p.Name+"="+n.Remote[i].Name)
		}
		parts = append(parts, fmt.Sprintf("%s:%s(%s)~%s[%s]", n.Name, n.Target.Name, card, n.Partner, strings.Join(join, ",")))
	}
	return strings.Join(parts, " ")
}

func TestNavigations(t *testing.T) {
	tests := []struct {
		name string
		ov   map[string]metadata.SetOverlay
		want map[string]string // set → navString
		err  string
	}{
		{name: "derived", want: map[string]string{
			"customers": "invoices_bill_to:invoices(*)~bill_to_2[customer_id=bill_to_id] invoices_ship_to:invoices(*)~ship_to[customer_id=ship_to_id] orders:orders(*)~customer[customer_id=customer_id]",
			"orders":    "customer:customers(0..1)~orders[customer_id=customer_id] order_lines:order_lines(*)~order[order_id=order_id]",
			"order_lines": "line_notes:line_notes(*)~note_line[order_id=ord,line_no=line] " +
				"order:orders(1)~order_lines[order_id=order_id] product:products(1)~order_lines[product_id=product_id]",
			"products":   "order_lines:order_lines(*)~product[product_id=product_id]",
			"invoices":   "bill_to_2:customers(0..1)~invoices_bill_to[bill_to_id=customer_id] ship_to:customers(0..1)~invoices_ship_to[ship_to_id=customer_id]",
			"line_notes": "note_line:order_lines(1)~line_notes[ord=order_id,line=line_no]",
			"employees":  "employees:employees(*)~manager[id=manager_id] manager:employees(1)~employees[manager_id=id]",
		}},
		{name: "renamed and hidden", ov: map[string]metadata.SetOverlay{
			"orders":    {Navigation: map[string]metadata.NavigationOverlay{"customer": {Name: "buyer"}, "order_lines": {Hide: true}}},
			"customers": {Navigation: map[string]metadata.NavigationOverlay{"orders": {Name: "purchases"}}},
		}, want: map[string]string{
			"customers":   "invoices_bill_to:invoices(*)~bill_to_2[customer_id=bill_to_id] invoices_ship_to:invoices(*)~ship_to[customer_id=ship_to_id] purchases:orders(*)~buyer[customer_id=customer_id]",
			"orders":      "buyer:customers(0..1)~purchases[customer_id=customer_id]",
			"order_lines": "line_notes:line_notes(*)~note_line[order_id=ord,line_no=line] order:orders(1)~[order_id=order_id] product:products(1)~order_lines[product_id=product_id]",
		}},
		{name: "unknown navigation", ov: map[string]metadata.SetOverlay{
			"orders": {Navigation: map[string]metadata.NavigationOverlay{"client": {Name: "buyer"}}},
		}, err: `navigation "client" matches no foreign key`},
		{name: "bad name", ov: map[string]metadata.SetOverlay{
			"orders": {Navigation: map[string]metadata.NavigationOverlay{"customer": {Name: "the buyer"}}},
		}, err: "not a valid name"},
		{name: "collides with a property", ov: map[string]metadata.SetOverlay{
			"orders": {Navigation: map[string]metadata.NavigationOverlay{"customer": {Name: "customer_id"}}},
		}, err: "collides"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, err := metadata.Build(navSource(), metadata.Overlay{Sets: tt.ov})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for set, want := range tt.want {
				if got := navString(m.Set(set)); got != want {
					t.Errorf("%s:\n got %s\nwant %s", set, got, want)
				}
			}
			for _, s := range m.Sets {
				for _, n := range s.Navigations {
					if s.Navigation(n.Name) != n {
						t.Errorf("%s.Navigation(%q) does not find it", s.Name, n.Name)
					}
				}
			}
		})
	}
}

func TestNoNavigation(t *testing.T) {
	m, _, err := metadata.Build(navSource(), metadata.Overlay{NoNavigation: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range m.Sets {
		if len(s.Navigations) != 0 {
			t.Errorf("%s has navigations %s", s.Name, navString(s))
		}
	}
}
