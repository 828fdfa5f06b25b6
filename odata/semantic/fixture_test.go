package semantic

import (
	"strconv"
	"strings"
	"testing"

	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
)

// testModel has every Edm type (nullable and not), a composite key, a
// char(n) property and a LocalTime property.
//
//	Things(ID Int64 key) with one property per type
//	Lines(OrderID Int32, LineNo Int16) composite key
//	Customers(CustomerID String key, char(10))
//	Orders(OrderID Int64 key, OrderDate Date, ...)
func testModel() *metadata.Model {
	prop := func(name string, t metadata.Type, nullable bool) *metadata.Property {
		return &metadata.Property{Name: name, Column: strings.ToLower(name), Type: t, Nullable: nullable}
	}
	id := prop("ID", metadata.Int64, false)
	code := prop("Code", metadata.String, false)
	code.FixedChar, code.MaxLength, code.DBType = true, 10, "bpchar"
	local := prop("LocalTs", metadata.DateTimeOffset, true)
	local.LocalTime, local.DBType = true, "timestamp"
	price := prop("Price", metadata.Decimal, true)
	price.Precision, price.Scale = 18, 2
	name := prop("Name", metadata.String, true)
	descr := prop("Descr", metadata.String, true)
	things := &metadata.EntitySet{
		Name: "Things", Table: "things", Kind: metadata.KindTable,
		Properties: []*metadata.Property{
			id, name, code, descr,
			prop("Flag", metadata.Boolean, true),
			prop("B", metadata.Byte, true),
			prop("SB", metadata.SByte, true),
			prop("I16", metadata.Int16, true),
			prop("I32", metadata.Int32, true),
			prop("I64", metadata.Int64, false),
			price,
			prop("Ratio", metadata.Single, true),
			prop("Score", metadata.Double, true),
			prop("Born", metadata.Date, true),
			prop("Created", metadata.DateTimeOffset, false),
			local,
			prop("At", metadata.TimeOfDay, true),
			prop("Dur", metadata.Duration, true),
			prop("UID", metadata.Guid, true),
			prop("Blob", metadata.Binary, true),
		},
		Key:        []*metadata.Property{id},
		Searchable: []*metadata.Property{name, descr},
	}
	oid := prop("OrderID", metadata.Int32, false)
	line := prop("LineNo", metadata.Int16, false)
	lines := &metadata.EntitySet{
		Name: "Lines", Table: "lines", Kind: metadata.KindTable,
		Properties: []*metadata.Property{oid, line, prop("Qty", metadata.Int32, false), prop("Note", metadata.String, true)},
		Key:        []*metadata.Property{oid, line},
	}
	cid := prop("CustomerID", metadata.String, false)
	cid.FixedChar, cid.MaxLength = true, 10
	cname := prop("Name", metadata.String, true)
	customers := &metadata.EntitySet{
		Name: "Customers", Table: "customers", Kind: metadata.KindTable,
		Properties: []*metadata.Property{cid, cname, prop("City", metadata.String, true)},
		Key:        []*metadata.Property{cid},
		Searchable: []*metadata.Property{cid, cname},
	}
	ordID := prop("OrderID", metadata.Int64, false)
	orders := &metadata.EntitySet{
		Name: "Orders", Table: "orders", Kind: metadata.KindTable,
		Properties: []*metadata.Property{ordID, prop("CustomerID", metadata.String, true), prop("OrderDate", metadata.Date, true), prop("Total", metadata.Decimal, true)},
		Key:        []*metadata.Property{ordID},
	}
	guidKey := prop("Key", metadata.Guid, false)
	tokens := &metadata.EntitySet{
		Name: "Tokens", Table: "tokens", Kind: metadata.KindTable,
		Properties: []*metadata.Property{guidKey, prop("Day", metadata.Date, false)},
		Key:        []*metadata.Property{guidKey},
	}
	return metadata.NewModel("test", nil, things, lines, customers, orders, tokens)
}

// request builds a parsed request for an entity set from option pairs
// ("$filter", "Name eq 'x'", "@p", "5", ...) with the odata parser.
func request(t testing.TB, path odata.Path, kv ...string) *odata.Request {
	t.Helper()
	if len(kv)%2 != 0 {
		t.Fatalf("request: odd number of option arguments")
	}
	r := &odata.Request{Path: path, Options: odata.Options{Raw: map[string]string{}}}
	aliases := map[string]string{}
	for i := 0; i < len(kv); i += 2 {
		r.Options.Raw[kv[i]] = kv[i+1]
		if strings.HasPrefix(kv[i], "@") {
			aliases[kv[i]] = kv[i+1]
		}
	}
	var err error
	for i := 0; i < len(kv); i += 2 {
		k, v := kv[i], kv[i+1]
		switch k {
		case "$filter":
			r.Options.Filter, err = odata.ParseExpr(v, aliases)
		case "$orderby":
			r.Options.OrderBy, err = odata.ParseOrderBy(v)
		case "$select":
			r.Options.HasSelect = true
			r.Options.Select, err = odata.ParseSelect(v)
		case "$top", "$skip":
			var n int64
			n, err = strconv.ParseInt(v, 10, 64)
			if k == "$top" {
				r.Options.Top = &n
			} else {
				r.Options.Skip = &n
			}
		case "$count":
			c := v == "true"
			r.Options.Count = &c
		case "$skiptoken":
			r.Options.SkipToken = v
		case "$search":
			r.Options.Search, err = odata.ParseSearch(v)
		case "$expand":
			r.Options.Expand, err = odata.ParseExpand(v, aliases)
		case "$apply":
			r.Options.Unsupported = append(r.Options.Unsupported, k)
		}
		if err != nil {
			t.Fatalf("parse %s=%q: %v", k, v, err)
		}
	}
	return r
}

func setPath(name string) odata.Path { return odata.Path{Kind: odata.PathEntitySet, Set: name} }

// bindFilter binds a $filter against a set of testModel the way Bind does.
func bindFilter(t testing.TB, set, filter string, aliases ...string) (Expr, error) {
	t.Helper()
	kv := append([]string{"$filter", filter}, aliases...)
	q, err := Bind(testModel(), request(t, setPath(set), kv...), Options{})
	if err != nil {
		return nil, err
	}
	return q.Filter, nil
}
