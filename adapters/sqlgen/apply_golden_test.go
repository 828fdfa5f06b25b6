package sqlgen_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/odatagw/odatagw/adapters/mysql"
	"github.com/odatagw/odatagw/adapters/postgres"
	"github.com/odatagw/odatagw/adapters/sqlgen"
	"github.com/odatagw/odatagw/adapters/sqlite"
	"github.com/odatagw/odatagw/metadata"
	"github.com/odatagw/odatagw/odata"
	"github.com/odatagw/odatagw/odata/semantic"
)

// applyModel: Customers <- Orders (to-one navigation Customer) for the
// golden SQL of $apply.
func applyModel(t *testing.T) *metadata.Model {
	t.Helper()
	col := func(name, db string, typ metadata.Type, nullable bool) metadata.Column {
		return metadata.Column{Name: name, DBType: db, Type: typ, Nullable: nullable}
	}
	total := col("Total", "numeric", metadata.Decimal, true)
	total.Precision, total.Scale = 14, 2
	src := metadata.Source{Tables: []metadata.Table{
		{Name: "Customers", Kind: metadata.KindTable, PrimaryKey: []string{"CustomerID"},
			Columns: []metadata.Column{col("CustomerID", "varchar", metadata.String, false), col("Country", "varchar", metadata.String, true)}},
		{Name: "Orders", Kind: metadata.KindTable, PrimaryKey: []string{"OrderID"},
			Columns: []metadata.Column{col("OrderID", "int8", metadata.Int64, false), col("CustomerID", "varchar", metadata.String, true),
				col("Status", "varchar", metadata.String, false), total, col("Qty", "int4", metadata.Int32, true)},
			ForeignKeys: []metadata.ForeignKeySource{{Name: "fk", Columns: []string{"CustomerID"}, RefTable: "Customers", RefColumns: []string{"CustomerID"}}}},
	}}
	m, _, err := metadata.Build(src, metadata.Overlay{})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// countryDE is a caller's row filter on Customers (Access.Reach).
type countryDE struct{}

func (countryDE) Reach(set *metadata.EntitySet) (semantic.Expr, map[string]bool, error) {
	return &semantic.Compare{Op: semantic.Ne, L: &semantic.Prop{P: set.Property("Country")}, R: &semantic.Const{T: metadata.String, V: "FR"}}, nil, nil
}

func TestApplyGolden(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	dialects := []sqlgen.Dialect{postgres.Dialect(berlin), sqlite.Dialect(), mysql.Dialect(mysql.MariaDB, berlin)}
	m := applyModel(t)
	codec := semantic.NewTokenCodec([]byte("k"))
	cases := []struct {
		name, query string
		count       bool
		restrict    bool // the caller's row filter on Orders
		page        int64
	}{
		{"apply_groupby_sum", "$apply=groupby((CustomerID),aggregate(Total with sum as S))", false, false, 0},
		{"apply_aggregate_all", "$apply=aggregate(Total with sum as S,Total with average as A,Qty with average as QA,Qty with sum as QS," +
			"CustomerID with countdistinct as N,$count as C,Status with min as Lo,Total with max as Hi)", false, false, 0},
		{"apply_navigation", "$apply=groupby((Customer/Country,Status),aggregate(Total with sum as S))&$orderby=S desc", false, true, 0},
		{"apply_filters", "$apply=filter(Qty gt 1)/groupby((Status),aggregate($count as N))/filter(N ge 2)" +
			"&$filter=Status ne 'x'&$orderby=N desc&$top=3&$skip=1", false, true, 4},
		{"apply_count", "$apply=filter(Qty gt 1)/groupby((Customer/Country))&$filter=Customer/Country ne null", true, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			req, err := odata.ParseRequest("/Orders", v.Encode())
			if err != nil {
				t.Fatal(err)
			}
			q, err := semantic.Bind(m, req, semantic.Options{Access: countryDE{}, Tokens: codec})
			if err != nil {
				t.Fatal(err)
			}
			if tc.restrict {
				q.Restrict = &semantic.Compare{Op: semantic.Eq, L: &semantic.Prop{P: q.Set.Property("Status")}, R: &semantic.Const{T: metadata.String, V: "mine"}}
			}
			if tc.page > 0 {
				q.After = &semantic.Keyset{Offset: tc.page}
			}
			assertGolden(t, tc.name, dialects, func(d sqlgen.Dialect) (sqlgen.Statement, []*metadata.Property, error) {
				if tc.count {
					st, err := sqlgen.Count(d, q)
					return st, nil, err
				}
				return sqlgen.Select(d, q, 11)
			})
		})
	}
}
