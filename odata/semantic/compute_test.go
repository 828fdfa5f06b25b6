package semantic

import (
	"errors"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

func computeNames(ps []*metadata.Property) string {
	n := make([]string, len(ps))
	for i, p := range ps {
		n[i] = p.Name
	}
	return strings.Join(n, ",")
}

func TestBindCompute(t *testing.T) {
	m := applyModel(t)
	all := "order_id,customer_id,status,total,qty,big,score,ratio,flag,day,blob"
	cases := []struct {
		query    string
		types    string // alias:type of each computed property
		sel      string // Select's names
		explicit bool
	}{
		{"$compute=total mul 2 as t2,qty add 1 as q1,big add qty as b,score div 2 as h,ratio add 1 as r",
			"t2:Edm.Decimal,q1:Edm.Int64,b:Edm.Int64,h:Edm.Double,r:Edm.Single", all + ",t2,q1,b,h,r", false},
		{"$compute=concat(status,'x') as s,length(status) as n,year(day) as y,total gt 5 as g,customer/country as c",
			"s:Edm.String,n:Edm.Int32,y:Edm.Int32,g:Edm.Boolean,c:Edm.String", all + ",s,n,y,g,c", false},
		{"$compute=cast(qty,Edm.Int64) as i,day as d,1 as one", "i:Edm.Int64,d:Edm.Date,one:Edm.Int32", all + ",i,d,one", false},
		// $select names them, or "*" has them all.
		{"$compute=total mul 2 as t2,qty add 1 as q1&$select=order_id,q1", "t2:Edm.Decimal,q1:Edm.Int64", "order_id,q1", true},
		{"$compute=total mul 2 as t2,qty add 1 as q1&$select=q1,t2", "t2:Edm.Decimal,q1:Edm.Int64", "t2,q1", true},
		{"$compute=total mul 2 as t2&$select=status", "t2:Edm.Decimal", "status", true},
		{"$compute=total mul 2 as t2&$select=*", "t2:Edm.Decimal", all + ",t2", false},
	}
	for _, c := range cases {
		q, err := bindApplyURL(t, m, nil, c.query)
		if err != nil {
			t.Errorf("%s: %v", c.query, err)
			continue
		}
		var types []string
		for _, cp := range q.Compute {
			types = append(types, cp.Alias+":"+cp.Out.Type.FullName())
			if !cp.Out.Dynamic || cp.Out.Name != cp.Alias || q.Set.Property(cp.Alias) != nil {
				t.Errorf("%s: out %+v", c.query, cp.Out)
			}
			if q.Computed(cp.Out) != cp {
				t.Errorf("%s: Computed(%s) does not find it", c.query, cp.Alias)
			}
		}
		if got := strings.Join(types, ","); got != c.types {
			t.Errorf("%s: types %s, want %s", c.query, got, c.types)
		}
		if got := computeNames(q.Select); got != c.sel || q.SelectExplicit != c.explicit {
			t.Errorf("%s: select %s (explicit %v), want %s (%v)", c.query, got, q.SelectExplicit, c.sel, c.explicit)
		}
	}
	// A plain property keeps its storage facts; the value of a decimal
	// expression has a variable scale.
	q, err := bindApplyURL(t, m, nil, "$compute=total as t,total mul 2 as t2")
	if err != nil {
		t.Fatal(err)
	}
	if p := q.Compute[0].Out; p.Scale != 2 || p.Variable || p == q.Set.Property("total") {
		t.Errorf("copy of total: %+v", p)
	}
	if p := q.Compute[1].Out; !p.Variable || !p.Nullable {
		t.Errorf("total mul 2: %+v", p)
	}
}

// Aliases in $filter and $orderby stand for their expressions.
func TestBindComputeInFilterOrderBy(t *testing.T) {
	m := applyModel(t)
	q, err := bindApplyURL(t, m, nil, "$compute=total mul 2 as t2,status as s&$filter=t2 gt 10 and s eq 'x'&$orderby=t2 desc,s")
	if err != nil {
		t.Fatal(err)
	}
	and := q.Filter.(*Logical)
	if cmp := and.L.(*Compare); cmp.L != q.Compute[0].Expr {
		t.Errorf("filter left %#v, want the computed expression", cmp.L)
	}
	if cmp := and.R.(*Compare); cmp.L != q.Compute[1].Expr {
		t.Errorf("filter right %#v", cmp.R)
	}
	if q.OrderBy[0].Expr != q.Compute[0].Expr || !q.OrderBy[0].Desc || q.OrderBy[1].Expr.(*Prop).P != q.Set.Property("status") {
		t.Errorf("orderby %+v", q.OrderBy)
	}
	// An order by an expression pages by offset; by an alias of a plain
	// property, by keyset.
	if _, keyset := TotalOrder(q); keyset {
		t.Errorf("order by t2 keyset")
	}
	q, err = bindApplyURL(t, m, nil, "$compute=status as s&$orderby=s")
	if err != nil {
		t.Fatal(err)
	}
	if _, keyset := TotalOrder(q); !keyset {
		t.Errorf("order by an alias of status: no keyset")
	}
	// Through a to-one path: a carried column like customer/country.
	q, err = bindApplyURL(t, m, &applyAccess{}, "$compute=customer/country as c&$orderby=c")
	if err != nil {
		t.Fatal(err)
	}
	if q.OrderBy[0].Carry == nil {
		t.Errorf("order by a path alias: no carry")
	}
}

func TestBindComputeErrors(t *testing.T) {
	m := applyModel(t)
	cases := []struct {
		query  string
		kind   ErrorKind
		option string
		msg    string
	}{
		{"$compute=total as status", BadRequest, "$compute", "alias status collides with a property of orders"},
		{"$compute=total as customer", BadRequest, "$compute", "collides with a navigation property"},
		{"$compute=total as a,qty as a", BadRequest, "$compute", "collides with another computed property"},
		{"$compute=nope add 1 as a", BadRequest, "$compute", "no property nope"},
		{"$compute=null as a", BadRequest, "$compute", "null has none"},
		{"$compute=status add 1 as a", BadRequest, "$compute", ""},
		{"$compute=total as a,a add 1 as b", BadRequest, "$compute", "no property a"}, // aliases do not see each other
		{"$compute=total as a&$select=b", BadRequest, "$select", "no property b"},
		{"$compute=total as a&$select=a/x", BadRequest, "$select", ""},
		{"$compute=total as a&$filter=a/x eq 1", BadRequest, "$filter", "computed property"},
		{"$compute=total as a&$filter=a eq 'x'", BadRequest, "$filter", ""},
		{"$compute=blob as a&$orderby=a", BadRequest, "$orderby", "cannot order by"},
		{"$compute=total as a&$apply=aggregate($count as n)", NotImplemented, "$compute", "$compute together with $apply"},
		{"$compute=total as a&$filter=customer/orders/any(o: a gt 1)", NotImplemented, "$filter", "inside a lambda"},
	}
	for _, c := range cases {
		_, err := bindApplyURL(t, m, nil, c.query)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: want *Error, got %v", c.query, err)
			continue
		}
		if e.Kind != c.kind || e.Option != c.option || !strings.Contains(e.Msg, c.msg) {
			t.Errorf("%s: %v (kind %d, option %s), want kind %d %s %q", c.query, e, e.Kind, e.Option, c.kind, c.option, c.msg)
		}
	}
	// Through navigation, the caller's hidden properties are unknown.
	_, err := bindApplyURL(t, m, &applyAccess{hidden: map[string]bool{"secret": true}}, "$compute=customer/secret as s")
	if err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("hidden through navigation: %v", err)
	}
	// $compute on a property path and on $ref.
	for _, path := range []string{"/orders(1)/status", "/orders/$ref"} {
		req, err := odata.ParseRequest(path, "$compute=total%20as%20a")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Bind(m, req, Options{}); err == nil || !strings.Contains(err.Error(), "$compute") {
			t.Errorf("%s: %v", path, err)
		}
	}
}

// A token of one $compute does not carry over to another.
func TestComputeFingerprint(t *testing.T) {
	parse := func(q string) *odata.Request {
		req, err := odata.ParseRequest("/orders", q)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	a := Fingerprint("orders", parse("$compute=total%20mul%202%20as%20t&$orderby=t"))
	b := Fingerprint("orders", parse("$compute=total%20mul%203%20as%20t&$orderby=t"))
	if a == b {
		t.Errorf("fingerprints equal for different computed expressions")
	}
}
