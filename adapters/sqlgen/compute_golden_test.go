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

// $compute: the computed properties are extra SELECT columns (aliases that
// name no column of the set), rendered like $filter's values; $filter and
// $orderby on an alias repeat the expression.
func TestComputeGolden(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tzdata")
	}
	dialects := []sqlgen.Dialect{postgres.Dialect(berlin), sqlite.Dialect(), mysql.Dialect(mysql.MariaDB, berlin)}
	m := applyModel(t)
	codec := semantic.NewTokenCodec([]byte("k"))
	cases := []struct {
		name, query string
		page        int64 // offset of a later page
		count       bool
	}{
		{"compute_select", "$compute=Total mul 2 as T2,concat(Status,'!') as S,Customer/Country as C,Status as St,Qty gt 1 as Big" +
			"&$select=OrderID,T2,S,C,St,Big", 0, false},
		{"compute_filter_orderby", "$compute=Total mul Qty as A,length(Status) as N&$filter=A gt 10 and N ne 3&$orderby=A desc&$top=5", 3, false},
		{"compute_orderby_path", "$compute=Customer/Country as C&$select=C&$orderby=C", 0, false},
		{"compute_count", "$compute=Total mul Qty as A&$filter=A gt 10", 0, true},
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
