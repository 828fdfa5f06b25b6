package semantic

import (
	"net/url"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// applyModel: customers <- orders, with a navigation orders.customer.
func applyModel(t *testing.T) *metadata.Model {
	t.Helper()
	col := func(name string, typ metadata.Type, nullable bool) metadata.Column {
		return metadata.Column{Name: name, DBType: "x", Type: typ, Nullable: nullable}
	}
	dec := col("total", metadata.Decimal, true)
	dec.Precision, dec.Scale = 14, 2
	src := metadata.Source{Tables: []metadata.Table{
		{Name: "customers", Kind: metadata.KindTable, PrimaryKey: []string{"customer_id"},
			Columns: []metadata.Column{col("customer_id", metadata.String, false), col("country", metadata.String, true),
				col("secret", metadata.String, true)}},
		{Name: "orders", Kind: metadata.KindTable, PrimaryKey: []string{"order_id"},
			Columns: []metadata.Column{col("order_id", metadata.Int64, false), col("customer_id", metadata.String, true),
				col("status", metadata.String, false), dec, col("qty", metadata.Int32, true), col("big", metadata.Int64, true),
				col("score", metadata.Double, true), col("ratio", metadata.Single, true), col("flag", metadata.Boolean, true),
				col("day", metadata.Date, true), col("blob", metadata.Binary, true)},
			ForeignKeys: []metadata.ForeignKeySource{{Name: "orders_customer", Columns: []string{"customer_id"},
				RefTable: "customers", RefColumns: []string{"customer_id"}}}},
	}}
	m, _, err := metadata.Build(src, metadata.Overlay{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type applyAccess struct {
	reached []string
	hidden  map[string]bool
	deny    bool
}

func (a *applyAccess) Reach(set *metadata.EntitySet) (Expr, map[string]bool, error) {
	a.reached = append(a.reached, set.Name)
	if a.deny {
		return nil, nil, &Error{Kind: BadRequest, Msg: "denied " + set.Name}
	}
	r := &Compare{Op: Eq, L: &Prop{P: set.Property("country")}, R: &Const{T: metadata.String, V: "DE"}}
	return r, a.hidden, nil
}

func bindApplyURL(t *testing.T, m *metadata.Model, acc Access, query string) (*Query, error) {
	t.Helper()
	v, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	req, err := odata.ParseRequest("/orders", v.Encode())
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return Bind(m, req, Options{Access: acc, Tokens: NewTokenCodec([]byte("k"))})
}

func TestBindApply(t *testing.T) {
	m := applyModel(t)
	type col struct {
		name string
		t    metadata.Type
	}
	cases := []struct {
		query string
		cols  []col
		joins int
	}{
		{"$apply=groupby((status))", []col{{"status", metadata.String}}, 0},
		{"$apply=aggregate(total with sum as s,total with average as a,qty with sum as qs,qty with average as qa," +
			"big with sum as bs,score with sum as ds,ratio with sum as rs,ratio with average as ra,status with countdistinct as n," +
			"$count as c,total with min as lo,day with max as hi,status with max as ms)",
			[]col{{"s", metadata.Decimal}, {"a", metadata.Decimal}, {"qs", metadata.Int64}, {"qa", metadata.Double},
				{"bs", metadata.Decimal}, {"ds", metadata.Double}, {"rs", metadata.Single}, {"ra", metadata.Double},
				{"n", metadata.Int64}, {"c", metadata.Int64}, {"lo", metadata.Decimal}, {"hi", metadata.Date}, {"ms", metadata.String}}, 0},
		{"$apply=groupby((customer/country,status,customer/customer_id),aggregate(qty mul 2 with sum as q))",
			[]col{{"country", metadata.String}, {"customer_id", metadata.String}, {"status", metadata.String}, {"q", metadata.Decimal}}, 1}, // qty mul 2 is Int64
	}
	for _, c := range cases {
		acc := &applyAccess{}
		q, err := bindApplyURL(t, m, acc, c.query)
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		a := q.Apply
		if a == nil || len(a.Columns) != len(c.cols) || len(q.Select) != len(c.cols) || len(a.Joins) != c.joins {
			t.Errorf("%s: apply %+v", c.query, a)
			continue
		}
		for i, w := range c.cols {
			if p := a.Columns[i]; p.Name != w.name || p.Type != w.t {
				t.Errorf("%s: column %d = %s %s, want %s %s", c.query, i, p.Name, p.Type, w.name, w.t)
			}
		}
		if len(acc.reached) != c.joins {
			t.Errorf("%s: Reach called for %v, want %d sets", c.query, acc.reached, c.joins)
		}
		for _, j := range a.Joins {
			if j.Restrict == nil {
				t.Errorf("%s: join %s without the row filter of its target", c.query, j.Path)
			}
		}
	}
}

// TestBindApplyNavigationInSteps: paths in filter() steps and aggregate
// expressions ask Access like paths in $filter (no row filter is skipped).
func TestBindApplyNavigationInSteps(t *testing.T) {
	m := applyModel(t)
	acc := &applyAccess{}
	q, err := bindApplyURL(t, m, acc, "$apply=filter(customer/country eq 'DE')/groupby((status),aggregate(qty with sum as q))")
	if err != nil {
		t.Fatal(err)
	}
	if len(acc.reached) == 0 || acc.reached[0] != "customers" || len(q.Apply.Where) != 1 || len(q.Apply.Joins) != 0 {
		t.Errorf("reached %v, apply %+v", acc.reached, q.Apply)
	}
	// What the aggregation reads of the set includes the navigation's join column.
	var reads []string
	for _, p := range q.Apply.Reads() {
		reads = append(reads, p.Name)
	}
	if got := strings.Join(reads, ","); got != "status,customer_id,qty" {
		t.Errorf("Reads = %s", got)
	}
	_, err = bindApplyURL(t, m, &applyAccess{hidden: map[string]bool{"country": true}}, "$apply=filter(customer/country eq 'DE')/aggregate($count as n)")
	checkErr(t, "hidden in a filter step", err, wantErr{BadRequest, "$apply", "no property country", nil, ""})
}

func TestBindApplyCombined(t *testing.T) {
	m := applyModel(t)
	q, err := bindApplyURL(t, m, nil, "$apply=filter(qty gt 1)/groupby((customer/country),aggregate(total with sum as s))/filter(s gt 10)"+
		"&$filter=customer/country ne null and s lt 1000&$orderby=s desc,customer/country&$top=5&$skip=1&$count=true")
	if err != nil {
		t.Fatal(err)
	}
	a := q.Apply
	if len(a.Where) != 1 || len(a.Having) != 1 || q.Filter == nil || len(q.OrderBy) != 2 || *q.Top != 5 || q.Skip != 1 || !q.Count {
		t.Fatalf("query %+v, apply %+v", q, a)
	}
	if p := q.OrderBy[0].Expr.(*Prop).P; p != a.Aggregates[0].Out {
		t.Errorf("order by %v, want the alias column", p)
	}
	order, keyset := TotalOrder(q)
	if keyset || len(order) != 2 {
		t.Errorf("total order %v keyset %v: want $orderby only (the group is in it), by offset", order, keyset)
	}
	// A $apply of filter steps only is the set's own entities, filtered.
	q, err = bindApplyURL(t, m, nil, "$apply=filter(qty gt 1)/filter(status eq 'x')&$filter=qty lt 9")
	if err != nil || q.Apply != nil || q.Filter == nil || len(q.Select) != len(m.Set("orders").Properties) {
		t.Fatalf("filter-only apply: %+v %v", q, err)
	}
	if _, ok := q.Filter.(*Logical); !ok {
		t.Errorf("filter = %#v", q.Filter)
	}
}

func TestBindApplyErrors(t *testing.T) {
	m := applyModel(t)
	cases := []struct {
		query string
		acc   Access
		want  wantErr
	}{
		{"$apply=groupby((nope))", nil, wantErr{BadRequest, "$apply", "orders has no property nope", sp(9, 13), "nope"}},
		{"$apply=groupby((Status))", nil, wantErr{BadRequest, "$apply", "did you mean status?", nil, "Status"}},
		{"$apply=groupby((customer/nope))", nil, wantErr{BadRequest, "$apply", "customers has no property nope", nil, ""}},
		{"$apply=groupby((status/x))", nil, wantErr{BadRequest, "$apply", "status is a primitive property", nil, ""}},
		{"$apply=groupby((customer))", nil, wantErr{NotImplemented, "$apply", "grouping by the navigation property customer", nil, ""}},
		{"$apply=groupby((status,status))", nil, wantErr{BadRequest, "$apply", "given twice", nil, ""}},
		{"$apply=groupby((customer/secret))", &applyAccess{hidden: map[string]bool{"secret": true}},
			wantErr{BadRequest, "$apply", "customers has no property secret", nil, "customer/secret"}},
		{"$apply=groupby((customer/country))", &applyAccess{deny: true}, wantErr{BadRequest, "", "denied customers", nil, ""}},
		{"$apply=aggregate(total with sum as status)", nil, wantErr{BadRequest, "$apply", "alias status collides with a property", nil, "status"}},
		{"$apply=aggregate(total with sum as customer)", nil, wantErr{BadRequest, "$apply", "alias customer collides", nil, ""}},
		{"$apply=aggregate(total with sum as s,qty with sum as s)", nil, wantErr{BadRequest, "$apply", "alias s is given twice", nil, ""}},
		{"$apply=aggregate(status with sum as s)", nil, wantErr{BadRequest, "$apply", "sum needs a numeric expression; status is Edm.String", nil, ""}},
		{"$apply=aggregate(day with average as s)", nil, wantErr{BadRequest, "$apply", "average needs a numeric", nil, ""}},
		{"$apply=aggregate(flag with max as s)", nil, wantErr{BadRequest, "$apply", "max needs an expression with a totally ordered domain", nil, ""}},
		{"$apply=aggregate(blob with countdistinct as s)", nil, wantErr{BadRequest, "$apply", "countdistinct needs", nil, ""}},
		{"$apply=aggregate(null with sum as s)", nil, wantErr{BadRequest, "$apply", "cannot aggregate null", nil, ""}},
		{"$apply=filter(qty)", nil, wantErr{BadRequest, "$apply", "must be a Boolean expression", nil, ""}},
		{"$apply=aggregate($count as n)/filter(status eq 'x')", nil, wantErr{BadRequest, "$apply", "status is not a property of the $apply result (it has: n)", nil, "status"}},
		{"$apply=groupby((status))&$filter=qty gt 1", nil, wantErr{BadRequest, "$filter", "qty is not a property of the $apply result (it has: status)", nil, "qty"}},
		{"$apply=groupby((status))&$orderby=qty", nil, wantErr{BadRequest, "$orderby", "qty is not a property", nil, ""}},
		{"$apply=groupby((status))/groupby((status))", nil, wantErr{NotImplemented, "$apply", "groupby after an aggregation", nil, ""}},
		{"$apply=aggregate($count as n)/aggregate($count as m)", nil, wantErr{NotImplemented, "$apply", "aggregate after an aggregation", nil, ""}},
		{"$apply=groupby((status),filter(qty gt 1))", nil, wantErr{NotImplemented, "$apply", "inside groupby only aggregate", nil, ""}},
		{"$apply=groupby((status))&$select=status", nil, wantErr{NotImplemented, "$select", "$select together with an aggregating $apply", nil, ""}},
		{"$apply=groupby((status))&$search=x", nil, wantErr{NotImplemented, "$search", "$search together", nil, ""}},
		{"$apply=groupby((status))&$expand=customer", nil, wantErr{NotImplemented, "$expand", "$expand together with $apply", nil, ""}},
		{"$apply=groupby((status))&$skiptoken=abc", nil, wantErr{BadRequest, "$skiptoken", "invalid", nil, ""}},
	}
	for _, c := range cases {
		_, err := bindApplyURL(t, m, c.acc, c.query)
		checkErr(t, c.query, err, c.want)
	}
	// $apply addresses collections, not one entity.
	req, err := odata.ParseRequest("/orders(1)", "$apply=aggregate($count%20as%20n)")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Bind(m, req, Options{})
	checkErr(t, "key + $apply", err, wantErr{BadRequest, "$apply", "applies to collections", nil, ""})
}

// TestApplyPaging: tokens of an aggregated result are offsets bound to the
// $apply (a token of another $apply is refused).
func TestApplyPaging(t *testing.T) {
	m := applyModel(t)
	codec := NewTokenCodec([]byte("k"))
	parse := func(q string) *odata.Request {
		req, err := odata.ParseRequest("/orders", q)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	req := parse("$apply=groupby((status),aggregate($count%20as%20n))")
	if q, err := Bind(m, req, Options{Tokens: codec}); err != nil || q.Apply == nil {
		t.Fatal(q, err)
	}
	tok := codec.Encode(Fingerprint("orders", req), Keyset{Offset: 4, Returned: 4})
	q, err := Bind(m, parse(req.Options.Encode()+"&$skiptoken="+tok), Options{Tokens: codec})
	if err != nil || q.After == nil || q.After.Offset != 4 || q.After.Values != nil {
		t.Fatalf("after %+v, %v", q, err)
	}
	other := parse("$apply=groupby((status),aggregate($count%20as%20m))&$skiptoken=" + tok)
	if _, err := Bind(m, other, Options{Tokens: codec}); err == nil || !strings.Contains(err.Error(), "$skiptoken") {
		t.Errorf("a token of another $apply: %v", err)
	}
}
