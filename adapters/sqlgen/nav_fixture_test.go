package sqlgen_test

import (
	"slices"
	"time"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// The relationship fixture: five tables with foreign keys, for lambdas and
// navigation paths.
//
//	Customers(CustomerID text)            <- Orders(OrderID, CustomerID nullable; dangling values too)
//	Orders                                <- Lines(OrderID, LineNo)   composite key
//	Lines                                 <- Notes(NoteID, OrderID+LineNo nullable, composite FK)
//	Employees(ID, ManagerID nullable)     -> Employees                self-reference
//
// The tables have no foreign-key constraints, so that an order can name a
// customer that does not exist: its navigation is null like a null key.
type relModel struct {
	m                                     *metadata.Model
	customers, orders, lines, notes, emps *metadata.EntitySet
}

func newRelModel(schema, empTable string) *relModel {
	cid := prop("CustomerID", "customer_id", metadata.String, false)
	customers := &metadata.EntitySet{Name: "Customers", Schema: schema, Table: "customers", Kind: metadata.KindTable,
		Properties: []*metadata.Property{cid, prop("Name", "name", metadata.String, false), prop("Country", "country", metadata.String, true),
			prop("Limit", "credit_limit", metadata.Decimal, true), prop("Active", "active", metadata.Boolean, true)},
		Key: []*metadata.Property{cid}}
	oid, ocid := prop("OrderID", "order_id", metadata.Int64, false), prop("CustomerID", "customer_id", metadata.String, true)
	total := prop("Total", "total", metadata.Decimal, true)
	total.Precision, total.Scale = 10, 2
	orders := &metadata.EntitySet{Name: "Orders", Schema: schema, Table: "orders", Kind: metadata.KindTable,
		Properties: []*metadata.Property{oid, ocid, total, prop("Status", "status", metadata.String, false), prop("Rush", "rush", metadata.Boolean, true)},
		Key:        []*metadata.Property{oid}}
	loid, lno := prop("OrderID", "order_id", metadata.Int64, false), prop("LineNo", "line_no", metadata.Int32, false)
	lines := &metadata.EntitySet{Name: "Lines", Schema: schema, Table: "lines", Kind: metadata.KindTable,
		Properties: []*metadata.Property{loid, lno, prop("Qty", "qty", metadata.Int32, true)},
		Key:        []*metadata.Property{loid, lno}}
	nid, noid, nlno := prop("NoteID", "note_id", metadata.Int64, false), prop("OrderID", "order_id", metadata.Int64, true), prop("LineNo", "line_no", metadata.Int32, true)
	notes := &metadata.EntitySet{Name: "Notes", Schema: schema, Table: "notes", Kind: metadata.KindTable,
		Properties: []*metadata.Property{nid, noid, nlno, prop("Text", "note", metadata.String, false)},
		Key:        []*metadata.Property{nid}}
	eid, mgr := prop("ID", "id", metadata.Int64, false), prop("ManagerID", "manager_id", metadata.Int64, true)
	emps := &metadata.EntitySet{Name: "Employees", Schema: schema, Table: empTable, Kind: metadata.KindTable,
		Properties: []*metadata.Property{eid, mgr, prop("Name", "name", metadata.String, false)},
		Key:        []*metadata.Property{eid}}
	link := func(from *metadata.EntitySet, one string, local []*metadata.Property, to *metadata.EntitySet, many string, remote []*metadata.Property) {
		nullable := slices.ContainsFunc(local, func(p *metadata.Property) bool { return p.Nullable })
		from.Navigations = append(from.Navigations, &metadata.Navigation{Name: one, Target: to, Nullable: nullable, Partner: many, Local: local, Remote: remote})
		to.Navigations = append(to.Navigations, &metadata.Navigation{Name: many, Target: from, Many: true, Partner: one, Local: remote, Remote: local})
	}
	link(orders, "Customer", []*metadata.Property{ocid}, customers, "Orders", []*metadata.Property{cid})
	link(lines, "Order", []*metadata.Property{loid}, orders, "Lines", []*metadata.Property{oid})
	link(notes, "Line", []*metadata.Property{noid, nlno}, lines, "Notes", []*metadata.Property{loid, lno})
	link(emps, "Manager", []*metadata.Property{mgr}, emps, "Reports", []*metadata.Property{eid})
	m := metadata.NewModel("test", time.UTC, customers, orders, lines, notes, emps)
	return &relModel{m: m, customers: customers, orders: orders, lines: lines, notes: notes, emps: emps}
}

const relDDL = `CREATE TABLE customers (customer_id varchar(10) PRIMARY KEY, name varchar(50) NOT NULL, country varchar(20),
	credit_limit decimal(10,2), active BOOLTYPE);
CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id varchar(10), total decimal(10,2), status varchar(10) NOT NULL, rush BOOLTYPE);
CREATE TABLE "lines" (order_id bigint NOT NULL, line_no int NOT NULL, qty int, PRIMARY KEY (order_id, line_no));
CREATE TABLE notes (note_id bigint PRIMARY KEY, order_id bigint, line_no int, note varchar(50) NOT NULL);
CREATE TABLE employees (id bigint PRIMARY KEY, manager_id bigint, name varchar(20) NOT NULL)`

// relRows is the fixture's data, by table, in column order of the model.
var relRows = map[string][][]any{
	"customers": {
		{"ALFKI", "Alfreds", "Germany", "1000.00", true},
		{"ANATR", "Ana", "Mexico", "50.00", true},
		{"BERGS", "Berglunds", nil, nil, false},
		{"DUPE1", "Same Name", "Germany", "10.00", nil},
		{"DUPE2", "Same Name", "France", "20.00", true},
		{"EMPTY", "No Orders", "Spain", "0.00", true},
	},
	"orders": {
		{int64(1), "ALFKI", "100.50", "Open", true},
		{int64(2), "ALFKI", "250.00", "Shipped", false},
		{int64(3), "ANATR", "99.99", "Open", nil},
		{int64(4), "BERGS", nil, "Open", nil}, // null Total: all(Total gt 0) is false for BERGS
		{int64(5), "BERGS", "300.00", "Open", true},
		{int64(6), nil, "5.00", "Open", nil},        // null customer
		{int64(7), "GHOST", "7.00", "Shipped", nil}, // dangling customer: null navigation
		{int64(8), "DUPE1", "80.00", "Open", false},
		{int64(9), "DUPE2", "90.00", "Shipped", true},
		{int64(10), "DUPE2", "0.00", "Open", nil},
	},
	"lines": {
		{int64(1), int64(1), int64(2)},
		{int64(1), int64(2), int64(10)},
		{int64(2), int64(1), int64(6)},
		{int64(3), int64(1), nil},
		{int64(5), int64(1), int64(1)},
		{int64(8), int64(1), int64(7)},
		{int64(8), int64(2), int64(3)},
	},
	"notes": {
		{int64(1), int64(1), int64(1), "gift wrap"},
		{int64(2), int64(1), int64(1), "noon"},
		{int64(3), int64(2), int64(1), "fragile"},
		{int64(4), nil, nil, "unassigned"},
		{int64(5), int64(1), nil, "half a key"}, // composite FK with a null part: no line
		{int64(6), int64(8), int64(2), "fragile"},
		{int64(7), int64(9), int64(1), "no such line"},
	},
	"employees": {
		{int64(1), nil, "Boss"},
		{int64(2), int64(1), "Ann"},
		{int64(3), int64(1), "Bob"},
		{int64(4), int64(2), "Cid"},
		{int64(5), int64(4), "Ann"},
		{int64(6), int64(99), "Lost"},
	},
}

func (r *relModel) sets() []*metadata.EntitySet {
	return []*metadata.EntitySet{r.customers, r.orders, r.lines, r.notes, r.emps}
}

// relValues maps a fixture row of set to typed constants.
func relValues(set *metadata.EntitySet, row []any) map[*metadata.Property]semantic.Const {
	out := map[*metadata.Property]semantic.Const{}
	for i, p := range set.Properties {
		out[p] = c(p.Type, row[i])
	}
	return out
}
